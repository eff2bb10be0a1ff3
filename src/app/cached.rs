//! The compiled plan for `plan` and `build`, from the workspace's plan cache
//! when orchestra.kdl, the selection and orchestra's version are what they
//! were (`crate::plan::cache`) and every rule's `foreach` matches the same
//! files, else by loading and compiling — and then
//! caching it for next time.
//!
//! A hit never parses: the source text is kept only so a failing task can
//! still be labelled in orchestra.kdl.

use super::{compile_masked, require_model, selection};
use crate::cli::SelectArgs;
use crate::diagnostic::RenderOptions;
use crate::error::Error;
use crate::load::{self, Loaded, Located};
use crate::plan::cache::Lookup;
use crate::plan::{self, Plan};
use crate::secrets::Masker;
use crate::timings::measure;
use crate::validate::Options;
use crate::workspace::{CacheFile, Workspace};

/// The loaded file (without a model on a cache hit) and its plan; `save`
/// writes the cache after a miss (not for a dry run, which writes nothing);
/// `check_programs` looks commands' programs up on PATH while validating.
pub(super) fn compiled(
    located: Located,
    select: &SelectArgs,
    render: RenderOptions,
    save: bool,
    check_programs: bool,
) -> Result<(Loaded, Plan), Error> {
    let bytes = measure("read", || load::read(&located))?;
    let chosen = selection(select)?;
    // Notes about unusable cache files are not worth a warning here: the
    // cache is rebuilt either way, and `build` reports the workspace's state.
    let workspace = Workspace::new(&located.root, Masker::default());
    let unchecked = measure("plan cache key", || {
        plan::cache::key(&bytes, &chosen.key(), &load::directory_name(&located.root))
    });
    // A plan validated with PATH lookups is valid without them too, so
    // `plan` may use `build`'s, but never the other way round.
    let mut checked_input = unchecked.to_vec();
    checked_input.extend_from_slice(b"programs checked");
    let checked = *blake3::hash(&checked_input).as_bytes();
    let mut tries = vec![(CacheFile::Checked, checked)];
    if !check_programs {
        tries.push((CacheFile::Unchecked, unchecked));
    }
    let hit = measure("plan cache", || {
        tries.iter().find_map(|(file, key)| {
            match plan::cache::lookup(&workspace.read_cache(*file)?, key) {
                Lookup::Hit(plan) => Some(*plan),
                Lookup::Miss => None,
                Lookup::Corrupt => {
                    say!(
                        "warning: ignoring a garbled plan cache under `.orchestra/`; compiling orchestra.kdl again"
                    );
                    None
                }
            }
        })
    });
    // A rule's tasks are the files its patterns match: a plan compiled
    // when they matched other files is stale.
    let hit = hit.filter(|plan| {
        measure("foreach", || {
            plan.foreach.iter().all(|(pattern, digest)| {
                plan::matched_digest(&load::foreach_files(&located.root, pattern)) == *digest
            })
        })
    });
    if let Some(plan) = hit {
        mask_for_github(plan.secrets.iter().map(String::as_str), render);
        // Only a valid file was cached, so it is UTF-8 (and converting
        // takes the buffer over instead of copying megabytes).
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let loaded = Loaded {
            sources: crate::sources::Sources::single(located.display.clone(), text),
            located,
            model: None,
            diagnostics: Vec::new(),
        };
        return Ok((loaded, plan));
    }
    let loaded = load::parse(located, bytes, Options { check_programs });
    if let Some(model) = &loaded.model {
        let secrets = &model.config().project.secrets;
        mask_for_github(secrets.iter().map(|s| s.value.as_str()), render);
    }
    let model = require_model(&loaded, render)?;
    let plan = compile_masked(model, &chosen)?;
    // A var set from a secret (`--set token=…`) puts its value in commands;
    // such a plan is never written to disk. Nor is one read from more than
    // orchestra.kdl: the key covers only its bytes, and a project split
    // into files or templates is small enough to compile each time.
    if save && loaded.sources.is_single() && !holds_secret(&plan) {
        // A cache that cannot be written is only a slower next run.
        let (file, key) = tries.pop().expect("one cache to try");
        let _ = measure("save plan cache", || {
            workspace.write_cache(file, &plan::cache::encode_cached(&key, &plan))
        });
    }
    Ok((loaded, plan))
}

/// Under GitHub Actions, `::add-mask::` for the values of the project's
/// `secret` variables, before anything else is printed.
fn mask_for_github<'a>(names: impl Iterator<Item = &'a str>, render: RenderOptions) {
    if render.github {
        let masker = Masker::from_env(names);
        if !masker.is_empty() {
            say_part!("{}", crate::report::github::masks(masker.values()));
        }
    }
}

/// Whether a secret's value appears anywhere in `plan` (checked only when
/// the project names secrets and one is set, so usually free).
fn holds_secret(plan: &Plan) -> bool {
    let masker = Masker::from_env(plan.secrets.iter().map(String::as_str));
    !masker.is_empty()
        && matches!(
            masker.mask_json(&format!("{plan:?}")),
            std::borrow::Cow::Owned(_)
        )
}
