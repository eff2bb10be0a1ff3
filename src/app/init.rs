//! `orchestra init`: a commented starter `orchestra.kdl`, chosen from what
//! the directory holds (`Cargo.toml`, `package.json`, `pyproject.toml`, a
//! `Makefile`) or named (`--blueprint NAME`; `--list` shows them). The
//! texts are built here by pure functions, so each is tested to pass
//! `check`; the one write refuses to replace a file without `--force` and
//! never writes through a link.

use std::fmt::Write as _;
use std::path::Path;

use super::write_stdout;
use crate::cli::InitArgs;
use crate::error::Error;
use crate::workspace::fs::{self, Kind};

/// A built-in blueprint: its name, what it is for, and how its text is made
/// from the directory (a detected one reads the file it detects).
struct Blueprint {
    name: &'static str,
    about: &'static str,
    /// The file whose presence selects it, if detected.
    detects: Option<&'static str>,
    /// Its text, for the project directory and the file's name there.
    text: fn(&Path, &str) -> String,
}

const BLUEPRINTS: &[Blueprint] = &[
    Blueprint {
        name: "rust",
        about: "a Cargo project: build, then a `verify` gate of fmt, clippy and test",
        detects: Some("Cargo.toml"),
        text: |_, _| RUST.to_owned(),
    },
    Blueprint {
        name: "node",
        about: "an npm project: a task per `scripts` entry of package.json",
        detects: Some("package.json"),
        text: |dir, _| node(dir),
    },
    Blueprint {
        name: "python",
        about: "a Python project: a `verify` gate of ruff, mypy and pytest",
        detects: Some("pyproject.toml"),
        text: |_, _| PYTHON.to_owned(),
    },
    Blueprint {
        name: "make",
        about: "a Makefile: a task per target",
        detects: Some("Makefile"),
        text: |dir, _| make(dir),
    },
    Blueprint {
        name: "saas-starter",
        about: "five milestones of a SaaS product (foundation, billing, dashboard, notifications, launch), each phase done when its deliverable exists",
        detects: None,
        text: |_, _| SAAS.to_owned(),
    },
    Blueprint {
        name: "starter",
        about: "one task, one gate and a target, every setting explained",
        detects: None,
        // Its task reads the file itself, whatever `-f` named it.
        text: |_, file| STARTER.replace("\"orchestra.kdl\"", &quoted(file)),
    },
];

/// `orchestra init`, in `start`: writes `file` (`-f`), by default
/// `orchestra.kdl`; the directory it goes in is the project's.
pub(super) fn init(start: &Path, file: Option<&Path>, args: &InitArgs) -> Result<(), Error> {
    if args.list {
        let mut text = String::new();
        for b in BLUEPRINTS {
            let detects = b
                .detects
                .map(|f| format!(" (chosen when {f} is here)"))
                .unwrap_or_default();
            let _ = writeln!(text, "{:<13} {}{detects}", b.name, b.about);
        }
        return write_stdout(&text);
    }
    let blueprint = match &args.blueprint {
        Some(name) => Some(BLUEPRINTS.iter().find(|b| b.name == name).ok_or_else(|| {
            let names = BLUEPRINTS.iter().map(|b| b.name);
            let hint = crate::words::suggest(name, names)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            Error::Usage {
                message: format!("no blueprint `{name}`: {hint}`orchestra init --list` shows them"),
            }
        })?),
        None => None,
    };
    let shown = file.map_or_else(
        || crate::load::FILE_NAME.to_owned(),
        |f| f.display().to_string(),
    );
    let path = start.join(file.unwrap_or(Path::new(crate::load::FILE_NAME)));
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Error::Usage {
            message: format!("`{shown}` is not a file name"),
        });
    };
    let name = name.to_string_lossy().into_owned();
    let blueprint = blueprint.unwrap_or_else(|| detected(dir));
    match Kind::of(&path) {
        Ok(Kind::Missing) => {}
        Ok(Kind::File) if args.force => {}
        Ok(Kind::File) => {
            return Err(Error::Usage {
                message: format!("`{shown}` exists; `orchestra init --force` replaces it"),
            });
        }
        Ok(kind) => {
            return Err(Error::Unsafe {
                message: format!(
                    "`{shown}` is {}; orchestra does not follow or replace it",
                    kind.described()
                ),
            });
        }
        Err(source) => {
            return Err(Error::Io {
                action: "look at",
                path,
                source,
            });
        }
    }
    let text = (blueprint.text)(dir, &name);
    // A file for people and tools to read: 0644, not a temporary file's 0600.
    fs::write_atomic_mode(dir, &name, text.as_bytes(), true, Some(0o644)).map_err(|source| {
        Error::Io {
            action: "write",
            path: path.clone(),
            source,
        }
    })?;
    write_stdout(&format!(
        "wrote {shown} from the `{}` blueprint: {}\nnext: `orchestra check`, then `orchestra build`\n",
        blueprint.name, blueprint.about
    ))
}

/// The blueprint for what `dir` holds: the first whose file is there.
fn detected(dir: &Path) -> &'static Blueprint {
    BLUEPRINTS
        .iter()
        .find(|b| b.detects.is_some_and(|f| dir.join(f).is_file()))
        .or_else(|| BLUEPRINTS.iter().find(|b| b.name == "starter"))
        .expect("the starter blueprint")
}

/// A script or target name as a task name: no `/`, no spaces.
fn task_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '/' || c.is_whitespace() || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect()
}

/// A KDL string literal.
fn quoted(text: &str) -> String {
    crate::config::kdl_string(text)
}

/// A command for `run`: `program NAME` with the name one shell word, and
/// braces doubled so that nothing in it reads as a template.
fn command_for(program: &str, name: &str) -> String {
    let word = crate::compile::shell_quote(name);
    format!("{program} {word}")
        .replace('{', "{{")
        .replace('}', "}}")
}

/// Scripts and targets that are not build steps: lifecycle hooks, servers
/// and watchers that never end, cleaning, publishing. They are listed in a
/// comment rather than made tasks that `orchestra build` would run at once.
const NOT_TASKS: &[&str] = &[
    "start",
    "dev",
    "serve",
    "watch",
    "deploy",
    "publish",
    "release",
    "prepare",
    "preinstall",
    "install",
    "postinstall",
    "uninstall",
    "clean",
    "distclean",
];

/// The names to make tasks of, and the ones left out; `pre`/`post` hooks
/// of another name run inside it (`npm run build` runs `prebuild`).
fn split_names(names: &[String]) -> (Vec<String>, Vec<String>) {
    let hook = |n: &str| {
        ["pre", "post"].iter().any(|p| {
            n.strip_prefix(p)
                .is_some_and(|base| names.iter().any(|other| other == base))
        })
    };
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .cloned()
        .partition(|n| !NOT_TASKS.contains(&n.as_str()) && !hook(n))
}

/// Tasks named `names`, each running `command(name)`, and a `ci` target of
/// the ones named in `ci_wants` that exist (unless a task is named `ci`).
fn tasks_and_target(header: &str, names: &[String], program: &str, ci_wants: &[&str]) -> String {
    let (names, left_out) = split_names(names);
    let wanted: Vec<String> = ci_wants
        .iter()
        .filter(|w| names.iter().any(|n| n == *w))
        .map(|w| quoted(w))
        .collect();
    let target = !wanted.is_empty() && !names.iter().any(|n| task_name(n) == "ci");
    let mut text = header.to_owned();
    if target {
        // A bare `orchestra build` builds `ci`, not every task at once.
        text.push_str("project {\n    default \"ci\"\n}\n\n");
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            text,
            "// Not made tasks (servers, hooks, cleaning, publishing): {}.\n",
            left_out.join(", ")
        );
    }
    let mut taken: Vec<String> = Vec::new();
    for name in &names {
        // `a/b` and `a-b` would both be `a-b`: the second gets a suffix.
        let mut task = task_name(name);
        let base = task.clone();
        let mut n = 2;
        while taken.contains(&task) {
            task = format!("{base}-{n}");
            n += 1;
        }
        taken.push(task.clone());
        let _ = writeln!(
            text,
            "task {} {{\n    run {}\n}}\n",
            quoted(&task),
            quoted(&command_for(program, name))
        );
    }
    if target {
        let _ = writeln!(
            text,
            "// `orchestra build ci` in CI: what must pass.\ntarget \"ci\" {{\n    needs {}\n}}",
            wanted.join(" ")
        );
    }
    text
}

/// package.json's `scripts`, a task each.
fn node(dir: &Path) -> String {
    let parsed = std::fs::read(dir.join("package.json"))
        .map(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string()));
    if let Ok(Err(e)) = &parsed {
        say!("warning: package.json is not valid JSON ({e}): its scripts are not read");
    }
    let names: Vec<String> = parsed
        .ok()
        .and_then(Result::ok)
        .and_then(|v| {
            v.get("scripts")?
                .as_object()
                .map(|s| s.keys().cloned().collect())
        })
        .unwrap_or_default();
    let header = "// orchestra.kdl for an npm project, written by `orchestra init`.\n\
        // One task per `scripts` entry of package.json. Give a task `inputs` and\n\
        // `outputs` and orchestra skips it while its inputs are unchanged, and\n\
        // restores its outputs from the cache (docs/cache.md); `needs` orders\n\
        // tasks. Reference: docs/language.md.\n\n";
    if names.is_empty() {
        return format!(
            "{header}task \"install\" {{\n    inputs \"package.json\"\n    run \"npm install\"\n}}\n"
        );
    }
    tasks_and_target(
        header,
        &names,
        "npm run",
        &["lint", "typecheck", "test", "build"],
    )
}

/// The Makefile's targets, a task each.
fn make(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("Makefile")).unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with(['\t', ' ', '#', '.']) {
            continue;
        }
        let Some((target, rest)) = line.split_once(':') else {
            continue;
        };
        // `a := b` and `a ::= b` are assignments, not rules.
        if rest.starts_with('=') || rest.starts_with(":=") || target.contains(['=', '$', '%']) {
            continue;
        }
        for name in target.split_whitespace() {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    let header = "// orchestra.kdl for a Makefile, written by `orchestra init`.\n\
        // One task per target; make still decides what is up to date inside\n\
        // each. Tasks of independent targets run in parallel (-j): add\n\
        // `needs` where one target must come first. Reference: docs/language.md.\n\n";
    if names.is_empty() {
        return format!("{header}task \"all\" {{\n    run \"make\"\n}}\n");
    }
    tasks_and_target(header, &names, "make", &["all", "check", "test", "lint"])
}

const RUST: &str = r#"// orchestra.kdl for a Cargo project, written by `orchestra init`.
// `orchestra build` builds; `orchestra build ci` builds, then verifies.
// Reference: docs/language.md.

project {
    // Where CI jobs with `--cache-url` share outputs: docs/cache.md.
    // cache-url "http://cache.internal:8080/orchestra"
}

// Skipped while nothing it reads changed.
task "build" {
    inputs "Cargo.toml" "Cargo.lock" "src/**"
    run "cargo build --locked"
}

// Checks run in order; a failing one stops the gate. Outside CI a check
// with a `fix` is repaired and checked again.
gate "verify" {
    check "fmt" "cargo fmt --check" fix="cargo fmt"
    check "clippy" "cargo clippy --all-targets --locked -- -D warnings"
    check "test" "cargo test --locked"
}

target "ci" {
    needs "build" "verify"
}
"#;

const PYTHON: &str = r#"// orchestra.kdl for a Python project, written by `orchestra init`.
// `orchestra build ci` runs the checks; one whose program is not installed
// is skipped with a warning (`optional=#true`). Reference: docs/language.md.

gate "verify" {
    check "ruff" "ruff check ." fix="ruff check --fix ." optional=#true
    check "mypy" "mypy ." optional=#true
    check "pytest" "pytest"
}

target "ci" {
    needs "verify"
}
"#;

const STARTER: &str = r#"// orchestra.kdl, written by `orchestra init`. Reference: docs/language.md.
// `orchestra check` explains any mistake at its line; `orchestra plan`
// shows the task graph; `orchestra build` runs it.

project {
    // Tasks at once; `-j N` overrides. Default: one per CPU.
    // jobs 4
}

// A make-like task: it runs when an input changed or an output is missing.
task "hello" {
    inputs "orchestra.kdl"
    outputs "build/hello.txt"
    run "mkdir -p build"
    run "echo 'hello from {project}' > build/hello.txt"
}

// Ordered checks; each may name a `fix` and the gate `retries`.
gate "verify" {
    check "greeting" "grep -q hello build/hello.txt"
}

// `orchestra build ci`: everything CI must see pass.
target "ci" {
    needs "hello" "verify"
}
"#;

const SAAS: &str = r#"// orchestra.kdl from the `saas-starter` blueprint, written by `orchestra init`.
// Five milestones, each a sequence of phases. A phase is done when its
// deliverable exists: replace each `test -e` with the command that builds it
// (or keep it, and let people do the work). Milestones start once the ones
// they need are done; `orchestra build M3-dashboard` builds what it needs
// first. Reference: docs/language.md (milestones, phases, pipelines, gates).

gate "reviewed" {
    // Replace with your test suite or linters.
    check "deliverables" "test -d docs"
}

milestone "M1-foundation" {
    description "data model, authentication, API skeleton"
    phase "schema" {
        outputs "db/schema.sql"
        run "test -e db/schema.sql"
    }
    phase "auth" {
        outputs "src/auth"
        run "test -e src/auth"
    }
    phase "api" gate="reviewed" {
        outputs "src/api"
        run "test -e src/api"
    }
}

milestone "M2-billing" {
    needs "M1-foundation"
    description "plans, subscriptions, payment webhooks"
    phase "plans" {
        outputs "src/billing/plans"
        run "test -e src/billing/plans"
    }
    phase "webhooks" gate="reviewed" {
        outputs "src/billing/webhooks"
        run "test -e src/billing/webhooks"
    }
}

milestone "M3-dashboard" {
    needs "M1-foundation"
    description "the signed-in user's dashboard"
    phase "layout" {
        outputs "web/dashboard"
        run "test -e web/dashboard"
    }
    phase "usage" gate="reviewed" {
        outputs "web/dashboard/usage"
        run "test -e web/dashboard/usage"
    }
}

milestone "M4-notifications" {
    needs "M2-billing"
    description "email and in-app notifications"
    phase "email" {
        outputs "src/notify/email"
        run "test -e src/notify/email"
    }
    phase "in-app" gate="reviewed" {
        outputs "src/notify/in-app"
        run "test -e src/notify/in-app"
    }
}

milestone "M5-launch" {
    needs "M3-dashboard" "M4-notifications"
    description "CI/CD, monitoring, the launch checklist"
    phase "pipeline" {
        outputs ".github/workflows/ci.yml"
        run "test -e .github/workflows/ci.yml"
    }
    phase "monitoring" gate="reviewed" {
        outputs "ops/monitoring"
        run "test -e ops/monitoring"
    }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every blueprint's text (detected ones from a sample directory) loads
    /// and validates without an error.
    #[test]
    fn every_blueprint_passes_check() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"scripts": {"build": "tsc", "test:unit": "vitest", "lint": "eslint .", "prebuild": "x", "dev": "vite", "with space": "x", "br{ace}": "x", "a/b": "x", "a-b": "x", "": "x", "bell\u0007\"q\\": "x"}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("Makefile"),
            "CC := cc\nall: app\napp: main.o\n\tcc -o app main.o\n.PHONY: all\nclean:\n\trm -f app\n",
        )
        .unwrap();
        for blueprint in BLUEPRINTS {
            // Panics with the diagnostics, warnings included.
            let model =
                crate::compile::testing::model(&(blueprint.text)(dir.path(), "orchestra.kdl"));
            let plan = crate::compile::compile(&model, &crate::compile::Selection::default());
            assert!(plan.is_ok(), "{}: {plan:?}", blueprint.name);
        }
        let make = make(dir.path());
        assert!(make.contains("task \"app\""), "{make}");
        assert!(
            make.contains("Not made tasks (servers, hooks, cleaning, publishing): clean"),
            "{make}"
        );
        assert!(make.contains("default \"ci\""), "{make}");
        assert!(
            !make.contains("\"CC\""),
            "an assignment is not a target:\n{make}"
        );
        let node = node(dir.path());
        assert!(node.contains("npm run test:unit"), "{node}");
        assert!(node.contains("npm run 'with space'"), "{node}");
        assert!(node.contains("task \"a-b-2\""), "{node}");
        assert!(
            !node.contains("task \"dev\"") && !node.contains("task \"prebuild\""),
            "{node}"
        );
        assert!(node.contains("needs \"lint\" \"build\""), "{node}");
    }

    #[test]
    fn the_directory_chooses_the_blueprint() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(detected(dir.path()).name, "starter");
        std::fs::write(dir.path().join("pyproject.toml"), "").unwrap();
        assert_eq!(detected(dir.path()).name, "python");
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        assert_eq!(detected(dir.path()).name, "rust");
    }
}
