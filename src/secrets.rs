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
