//! Masking secrets: every value of an environment variable named by
//! `secret` is replaced by `****` in everything orchestra prints or writes.

use std::borrow::Cow;

pub(crate) const MASK: &str = "****";

/// Replaces secret values in text. Built once per run from the environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Masker {
    /// Longest first, so a secret containing another is masked whole.
    values: Vec<String>,
}

impl Masker {
    /// Masks the given values; empty ones are ignored (masking "" would
    /// garble every string).
    pub(crate) fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Self { values }
    }

    /// The values of the named variables in this process's environment.
    pub(crate) fn from_env<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self::new(names.into_iter().filter_map(|n| std::env::var(n).ok()))
    }

    /// This masker, also masking each value as `escape` writes it: for text
    /// escaped after the values went in (HTML, XML), where `p&ss` appears
    /// as `p&amp;ss`.
    #[must_use]
    pub(crate) fn also_escaped(&self, escape: impl Fn(&str) -> String) -> Self {
        Self::new(
            self.values
                .iter()
                .flat_map(|v| [v.clone(), escape(v)])
                .collect::<Vec<_>>(),
        )
    }

    /// This masker, also masking `values` (secrets from a dotenv file).
    #[must_use]
    pub(crate) fn with(&self, values: impl IntoIterator<Item = String>) -> Self {
        Self::new(self.values.iter().cloned().chain(values))
    }

    /// The values masked (for `::add-mask::` under GitHub Actions).
    pub(crate) fn values(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(String::as_str)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub(crate) fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.values.iter().any(|v| text.contains(v.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), MASK);
            }
        }
        Cow::Owned(out)
    }

    /// The length in bytes of the longest secret (0 without secrets): how
    /// much of a stream must be held back so a secret split between two
    /// reads is still seen whole.
    pub(crate) fn longest(&self) -> usize {
        self.values.first().map_or(0, String::len)
    }

    /// Where to cut `bytes`, at or before `cut`, so no secret is split: the
    /// start of the earliest secret that begins before `cut` and runs past
    /// it, whether it is all in `bytes` or only begins there (the rest not
    /// read yet, as a PEM key's later lines).
    pub(crate) fn safe_cut(&self, bytes: &[u8], cut: usize) -> usize {
        let from = cut.saturating_sub(self.longest().saturating_sub(1));
        (from..cut)
            .find(|&at| {
                let rest = &bytes[at..];
                self.values.iter().any(|secret| {
                    let secret = secret.as_bytes();
                    let crosses = at + secret.len() > cut;
                    crosses && (rest.starts_with(secret) || secret.starts_with(rest))
                })
            })
            .unwrap_or(cut)
    }

    /// Masks `text` that is JSON: each secret in its plain form and in the
    /// form JSON escapes it to (a quote, backslash or tab inside a secret
    /// changes its bytes in JSON).
    pub(crate) fn mask_json<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let escaped = self.values.iter().filter_map(|v| {
            let quoted = serde_json::to_string(v).ok()?;
            let inner = &quoted[1..quoted.len() - 1];
            (inner != v).then(|| inner.to_owned())
        });
        let both = Masker::new(self.values.iter().cloned().chain(escaped));
        match both.mask(text) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(masked) => Cow::Owned(masked),
        }
    }

    /// Masks bytes that may not be UTF-8 (command output): secrets are
    /// matched as byte strings.
    pub(crate) fn mask_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut current: Cow<'a, [u8]> = Cow::Borrowed(bytes);
        for value in &self.values {
            let needle = value.as_bytes();
            if find(&current, needle).is_none() {
                continue;
            }
            let mut out = Vec::with_capacity(current.len());
            let mut rest: &[u8] = &current;
            while let Some(at) = find(rest, needle) {
                out.extend_from_slice(&rest[..at]);
                out.extend_from_slice(MASK.as_bytes());
                rest = &rest[at + needle.len()..];
            }
            out.extend_from_slice(rest);
            current = Cow::Owned(out);
        }
        current
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_escaped_secret_is_masked_too() {
        let masker = Masker::new(["p&ss<1>".to_owned()]).also_escaped(|t| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        });
        assert_eq!(
            masker.mask("a p&amp;ss&lt;1&gt; b p&ss<1>"),
            "a **** b ****"
        );
    }

    #[test]
    fn masks_every_occurrence_longest_first() {
        let m = Masker::new(["abc".to_owned(), "abcdef".to_owned(), String::new()]);
        assert_eq!(m.mask("x abcdef y abc"), "x **** y ****");
        assert_eq!(m.mask("nothing here"), "nothing here");
        assert!(matches!(m.mask("clean"), Cow::Borrowed(_)));
    }

    #[test]
    fn masks_bytes_that_are_not_utf8() {
        let m = Masker::new(["s3cr3t".to_owned()]);
        let input = b"\xff token=s3cr3t\n s3cr3ts3cr3t";
        assert_eq!(&*m.mask_bytes(input), b"\xff token=****\n ********");
    }

    #[test]
    fn a_cut_never_falls_inside_a_secret() {
        let m = Masker::new(["s3cret!".to_owned(), "ab\ncd".to_owned()]);
        let text = b"xxxxs3cret!yy";
        // Inside the secret: back to its start; before or after it: as is.
        for cut in 5..=10 {
            assert_eq!(m.safe_cut(text, cut), 4, "cut {cut}");
        }
        assert_eq!(m.safe_cut(text, 4), 4);
        assert_eq!(m.safe_cut(text, 11), 11);
        // A secret only begun (the rest not read yet) is held back too.
        assert_eq!(m.safe_cut(b"key ab\n", 7), 4);
        assert_eq!(m.safe_cut(b"key ax\n", 7), 7);
        assert_eq!(Masker::default().safe_cut(text, 6), 6);
    }

    #[test]
    fn masks_json_escaped_forms_too() {
        let secret = "a\"b\\c\td".to_owned();
        let m = Masker::new([secret.clone()]);
        let json = serde_json::to_string(&serde_json::json!({ "v": secret })).unwrap();
        assert_eq!(m.mask_json(&json), r#"{"v":"****"}"#);
    }

    #[test]
    fn an_empty_masker_changes_nothing() {
        let m = Masker::new(Vec::<String>::new());
        assert!(m.is_empty());
        assert_eq!(m.mask("a"), "a");
    }
}
