//! [`Str`], the plan's string for what every task has (address, inputs,
//! outputs, commands): a slice of one shared text. A compiled plan gives
//! each string its own; a plan read from the cache slices them all from
//! the cache file's one string table, so loading 20,000 tasks allocates
//! no string per task. Immutable, and equal, ordered and hashed as the
//! text it holds.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

#[derive(Clone)]
pub(crate) struct Str(Repr);

#[derive(Clone)]
enum Repr {
    /// Its own text (a compiled plan: made from the `String` templating
    /// produced, without a copy).
    Own(Box<str>),
    /// `start..end` of a shared text (a plan read from the cache).
    Shared(Arc<str>, u32, u32),
}

impl Str {
    /// `range` of `text`, when it is one (within it, on character
    /// boundaries, below 4 GiB).
    pub(crate) fn slice(text: &Arc<str>, range: Range<usize>) -> Option<Self> {
        text.get(range.clone())?;
        Some(Self(Repr::Shared(
            Arc::clone(text),
            u32::try_from(range.start).ok()?,
            u32::try_from(range.end).ok()?,
        )))
    }

    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Own(text) => text,
            // Checked when made: the range is within the text, on boundaries.
            Repr::Shared(text, start, end) => {
                text.get(*start as usize..*end as usize).unwrap_or_default()
            }
        }
    }
}

impl Default for Str {
    fn default() -> Self {
        Self::from("")
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Self(Repr::Own(s.into()))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Self(Repr::Own(s.into_boxed_str()))
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<Str> for String {
    fn from(s: Str) -> Self {
        s.as_str().to_owned()
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<std::path::Path> for Str {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(self.as_str())
    }
}

impl AsRef<std::ffi::OsStr> for Str {
    fn as_ref(&self) -> &std::ffi::OsStr {
        std::ffi::OsStr::new(self.as_str())
    }
}

impl std::borrow::Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Str> for String {
    fn eq(&self, other: &Str) -> bool {
        self == other.as_str()
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_checked_and_compare_as_their_text() {
        let text: Arc<str> = Arc::from("copy/a.txté");
        let copy = Str::slice(&text, 0..4).unwrap();
        assert_eq!(copy, "copy");
        assert_eq!(copy, Str::from("copy"));
        assert_eq!(Str::slice(&text, 5..10).unwrap().as_str(), "a.txt");
        assert!(Str::slice(&text, 0..11).is_none(), "inside `é`");
        assert!(Str::slice(&text, 0..40).is_none(), "beyond the text");
        assert!(Str::slice(&text, 5..6).unwrap() < Str::slice(&text, 0..1).unwrap());
        assert_eq!(format!("{copy} {copy:?}"), "copy \"copy\"");
        assert!(size_of::<Str>() <= 32, "{}", size_of::<Str>());
    }
}
