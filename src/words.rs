//! Small word helpers every layer shares: plurals and near-miss
//! suggestions. A ground-floor module, so the model and the plan can word
//! things without reaching up into diagnostics or errors.

/// `1 task`, `3 tasks`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
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
    }
}
