//! The tasks of a `rule`: one per matched file, named after the file.
//!
//! A file's task is `rule/member`, where the member is the file's path
//! below the pattern's literal directory, without its extension:
//! `foreach "src/*.c"` makes `src/main.c` the task `cc/main`, and
//! `foreach "src/**/*.c"` makes `src/net/http.c` the task `cc/net/http`.
//! The template variables a rule's body may use besides the project's are
//! [`RULE_VARS`].

use super::Rule;

/// `{in}` (the file), `{out}` (the outputs, space-separated), `{stem}`,
/// `{dir}` and `{name}` (parts of the file's path).
pub(crate) const RULE_VARS: &[&str] = &["in", "out", "stem", "dir", "name"];

/// One file a rule matched, and the name of its task within the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleFile {
    /// Relative to the project root, `/`-separated.
    pub(crate) path: String,
    pub(crate) member: String,
}

impl RuleFile {
    /// `{name}`: the file name, `main.c`.
    pub(crate) fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// `{stem}`: the file name without its last extension, `main`.
    pub(crate) fn stem(&self) -> &str {
        strip_extension(self.name())
    }

    /// `{dir}`: the directory the file is in, `src`; `.` at the root.
    pub(crate) fn dir(&self) -> &str {
        self.path.rsplit_once('/').map_or(".", |(dir, _)| dir)
    }
}

/// The files of `rule` in the order its patterns name them (each pattern's
/// files sorted), a file matched twice kept once. Patterns that did not
/// expand add nothing; validation reports them.
pub(crate) fn rule_files(rule: &Rule) -> Vec<RuleFile> {
    let mut out: Vec<RuleFile> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for foreach in &rule.foreach {
        let Ok(files) = &foreach.matched else {
            continue;
        };
        for path in files {
            if seen.insert(path.as_str()) {
                out.push(RuleFile {
                    path: path.clone(),
                    member: member(&foreach.pattern, path),
                });
            }
        }
    }
    out
}

/// The task name of `path`, matched by `pattern`: the path below the
/// pattern's literal directory, without the file's extension.
fn member(pattern: &str, path: &str) -> String {
    let pattern = pattern.trim_start_matches("./");
    let literal: Vec<&str> = pattern
        .split('/')
        .take_while(|c| !c.contains(['*', '?', '[', '{']))
        .collect();
    let base = literal.join("/");
    let below = match path.strip_prefix(&base) {
        Some(rest) if !base.is_empty() && rest.starts_with('/') => &rest[1..],
        // A literal pattern names the file itself: keep its name.
        Some("") => path.rsplit('/').next().unwrap_or(path),
        _ if base.is_empty() => path,
        _ => path.rsplit('/').next().unwrap_or(path),
    };
    let (dir, name) = below.rsplit_once('/').map_or(("", below), |(d, n)| (d, n));
    let stem = strip_extension(name);
    if dir.is_empty() {
        stem.to_owned()
    } else {
        format!("{dir}/{stem}")
    }
}

/// `main.c` → `main`, `a.tar.gz` → `a.tar`; a leading dot is no extension
/// (`.env` stays).
fn strip_extension(name: &str) -> &str {
    match name.rfind('.') {
        Some(at) if at > 0 => &name[..at],
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_member_is_the_path_below_the_literal_directory_without_extension() {
        assert_eq!(member("src/*.c", "src/main.c"), "main");
        assert_eq!(member("./src/*.c", "src/main.c"), "main");
        assert_eq!(member("src/**/*.c", "src/net/http.c"), "net/http");
        assert_eq!(member("*.c", "main.c"), "main");
        assert_eq!(member("**/*.c", "a/b.c"), "a/b");
        assert_eq!(member("src/main.c", "src/main.c"), "main");
        assert_eq!(member("src", "src/lib/x.c"), "lib/x");
        assert_eq!(member("s*/*.c", "src/x.c"), "src/x");
        assert_eq!(member("docs/*", "docs/.env"), ".env");
    }

    #[test]
    fn file_parts() {
        let f = RuleFile {
            path: "src/net/http.tar.c".into(),
            member: String::new(),
        };
        assert_eq!(
            (f.name(), f.stem(), f.dir()),
            ("http.tar.c", "http.tar", "src/net")
        );
        let f = RuleFile {
            path: "main.c".into(),
            member: String::new(),
        };
        assert_eq!((f.name(), f.stem(), f.dir()), ("main.c", "main", "."));
    }
}
