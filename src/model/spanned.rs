//! A value and the place in `orchestra.kdl` it came from.

use std::ops::Deref;

/// Byte offset and length in the source file (what miette wants).
pub type Span = miette::SourceSpan;

/// A decoded value that remembers its span, so every later stage can point a
/// diagnostic at the exact characters the user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned::new(f(self.value), self.span)
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}
