//! [`Config`] → [`Model`]: every rule that needs the whole file.
//!
//! Each concern has its own file and pushes diagnostics into one list, so a
//! single run reports every mistake: duplicate names (`names.rs`), unknown
//! references with suggestions (`references.rs`), dependency cycles
//! (`cycles.rs`), parts that would lower to the same task address
//! (`addresses.rs`), pipelines that would drop a milestone's phases
//! (`pipelines.rs`), a rule's files (`rules.rs`), template variables
//! (`templates.rs`) and programs missing from PATH (`programs.rs`).

mod addresses;
mod cycles;
mod names;
mod pipelines;
mod programs;
mod references;
mod rules;
mod templates;

use crate::diagnostic::Diagnostic;
use crate::model::{Config, Model};

/// What validation should look at beyond the file itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Look programs up on PATH (off for tests of pure rules).
    pub(crate) check_programs: bool,
}

/// Validates `config`. `source` is the file text (for exact spans inside
/// string literals); `fallback_name` names the project when it has no
/// `project` node. The model is returned only when there are no errors;
/// warnings come back either way.
pub(crate) fn validate(
    config: Config,
    source: &str,
    fallback_name: &str,
    options: Options,
) -> (Option<Model>, Vec<Diagnostic>) {
    let name = config
        .project
        .name
        .as_ref()
        .map_or_else(|| fallback_name.to_owned(), |n| n.value.clone());
    // Built before the checks so they can look names up; handed out only
    // when nothing is wrong.
    let model = Model::new(config, name);
    let mut diagnostics = Vec::new();
    names::check(&model, &mut diagnostics);
    references::check(&model, source, &mut diagnostics);
    cycles::check(&model, &mut diagnostics);
    addresses::check(&model, &mut diagnostics);
    pipelines::check(&model, &mut diagnostics);
    rules::check(&model, &mut diagnostics);
    templates::check(&model, source, &mut diagnostics);
    if options.check_programs {
        programs::check(&model, source, &mut diagnostics);
    }
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    (ok.then_some(model), diagnostics)
}

/// The span of a few characters inside a string literal whose whole span is
/// `literal`: exact for plain quoted and bare strings, the whole literal for
/// strings with escapes or raw and multi-line forms.
pub(crate) fn inner_span(
    source: &str,
    literal: crate::model::Span,
    value: &str,
    offset: usize,
    len: usize,
) -> crate::model::Span {
    let text = source
        .get(literal.offset()..literal.offset() + literal.len())
        .unwrap_or("");
    let start = if text.starts_with("\"\"\"") || text.starts_with('#') || text.contains('\\') {
        None
    } else if text.starts_with('"') {
        Some(1)
    } else {
        Some(0)
    };
    // A value that is not its literal as written (a template's `{param}`
    // filled in by a `use`) has no inner place to point at.
    let as_written = |start: usize| text.get(start..start + value.len()) == Some(value);
    match start {
        Some(start) if start + offset + len <= text.len() && as_written(start) => {
            (literal.offset() + start + offset, len).into()
        }
        _ => literal,
    }
}
