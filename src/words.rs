//! Small word helpers every layer shares: plurals and near-miss
//! suggestions. A ground-floor module, so the model and the plan can word
//! things without reaching up into diagnostics or errors.

/// `1 task`, `3 tasks`, `2 entities`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        return format!("{n} {word}");
    }
    match word.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{n} {stem}ies"),
        _ => format!("{n} {word}s"),
    }
}

/// The name a habit from another tool stands for: `deps`, `depends` or
/// `requires` (make, go-task, npm) mean `needs` where `needs` is allowed.
pub(crate) fn habit<'a>(name: &str, expected: &[&'a str]) -> Option<&'a str> {
    let meant = match name {
        "deps" | "depends" | "requires" | "require" | "dependencies" | "after" | "depends_on" => {
            "needs"
        }
        "dependsOn" => "depends-on",
        _ => return None,
    };
    expected.iter().copied().find(|e| *e == meant)
}

/// The near miss among `candidates` for `name`, the way clap finds one:
/// the most similar by Jaro, above 0.7.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::jaro(name, c), c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let names = ["verify", "scaffold", "ci"];
        assert_eq!(suggest("verfy", names), Some("verify".into()));
        assert_eq!(suggest("scafold", names), Some("scaffold".into()));
        assert_eq!(suggest("zzz", names), None);
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "task"), "1 task");
        assert_eq!(plural(0, "task"), "0 tasks");
        assert_eq!(plural(2, "entity"), "2 entities");
        assert_eq!(plural(2, "key"), "2 keys");
    }

    #[test]
    fn habits_from_other_tools_point_at_needs() {
        assert_eq!(habit("deps", &["run", "needs"]), Some("needs"));
        assert_eq!(habit("requires", &["needs"]), Some("needs"));
        assert_eq!(habit("deps", &["run"]), None, "only where needs is allowed");
        assert_eq!(habit("color", &["needs"]), None);
    }
}
