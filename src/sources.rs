//! The text every span points into: `orchestra.kdl`, each file it
//! includes, and a copy of a template's text for each `use` of it, laid end
//! to end in one offset space.
//!
//! Spans stay plain byte offsets everywhere (`model::Span`); only this type
//! knows which file an offset falls in and on which line. Diagnostics are
//! drawn through it (it is miette's `SourceCode`), so a label in an included
//! file names that file, and a label inside a template's expansion is drawn
//! on the template's own lines while [`Sources::use_sites`] adds the `use`
//! that expanded it.

use std::path::PathBuf;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::model::Span;

/// One stretch of the offset space.
#[derive(Debug, Clone)]
struct Region {
    /// Where it starts in [`Sources::text`].
    start: usize,
    len: usize,
    /// The file's name as messages show it (`orchestra.kdl`, `ci/lint.kdl`).
    name: String,
    /// The file, relative to the project directory; `None` for an expansion.
    path: Option<PathBuf>,
    /// The line (from 0) of the file on which the region's text starts.
    first_line: usize,
    /// For a template's expansion: the `use` and the template's name.
    used_at: Option<(Span, String)>,
}

/// Every file of the project and every template expansion, one after the
/// other.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    text: String,
    regions: Vec<Region>,
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

/// A place in a file, for plain-text and machine-readable reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) file: String,
    /// From 1.
    pub(crate) line: usize,
    /// From 1, in bytes.
    pub(crate) column: usize,
}

impl Sources {
    /// Only the main file.
    pub(crate) fn single(name: impl Into<String>, text: String) -> Self {
        let len = text.len();
        Self {
            text,
            regions: vec![Region {
                start: 0,
                len,
                name: name.into(),
                path: None,
                first_line: 0,
                used_at: None,
            }],
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// Everything, end to end: what spans index.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The main file's text (the first region).
    pub(crate) fn main_text(&self) -> &str {
        self.regions
            .first()
            .map_or("", |r| &self.text[r.start..r.start + r.len])
    }

    /// Whether anything beyond the main file is here (an include or a
    /// template expansion).
    pub(crate) fn is_single(&self) -> bool {
        self.regions.len() <= 1
    }

    /// Appends an included file; returns the offset its spans start at.
    pub(crate) fn add_file(&mut self, name: String, path: PathBuf, text: &str) -> usize {
        self.push(text, name, Some(path), 0, None)
    }

    /// Appends a copy of `span`'s whole lines, for an expansion made at
    /// `used_at` of `template`; returns how far every span inside `span`
    /// moves (add it to them).
    pub(crate) fn add_expansion(&mut self, span: Span, used_at: Span, template: &str) -> usize {
        let (line_start, line_end) = whole_lines(&self.text, span);
        let region = self.region_of(line_start).cloned();
        let (name, first_line) = region.map_or_else(
            || (String::new(), 0),
            |r| {
                let before = &self.text[r.start..line_start];
                (r.name, r.first_line + before.matches('\n').count())
            },
        );
        let copy = self.text[line_start..line_end].to_owned();
        let start = self.push(
            &copy,
            name,
            None,
            first_line,
            Some((used_at, template.to_owned())),
        );
        start - line_start
    }

    fn push(
        &mut self,
        text: &str,
        name: String,
        path: Option<PathBuf>,
        first_line: usize,
        used_at: Option<(Span, String)>,
    ) -> usize {
        // A newline between regions keeps a label at one region's end off
        // the next one's first line.
        self.text.push('\n');
        self.line_starts = std::sync::OnceLock::new();
        let start = self.text.len();
        self.text.push_str(text);
        self.regions.push(Region {
            start,
            len: text.len(),
            name,
            path,
            first_line,
            used_at,
        });
        start
    }

    /// The files other than the main one: each one's path relative to the
    /// project directory and its text.
    pub(crate) fn included(&self) -> impl Iterator<Item = (&PathBuf, &str)> {
        self.included_named().map(|(path, _, text)| (path, text))
    }

    /// [`Sources::included`], with each file's name as messages show it.
    pub(crate) fn included_named(&self) -> impl Iterator<Item = (&PathBuf, &str, &str)> {
        self.regions.iter().skip(1).filter_map(|r| {
            r.path
                .as_ref()
                .map(|p| (p, r.name.as_str(), &self.text[r.start..r.start + r.len]))
        })
    }

    /// Where the file or expansion holding `offset` ends.
    pub(crate) fn region_end(&self, offset: usize) -> usize {
        self.region_of(offset)
            .map_or(self.text.len(), |r| r.start + r.len)
    }

    fn region_of(&self, offset: usize) -> Option<&Region> {
        let i = self.regions.partition_point(|r| r.start <= offset);
        i.checked_sub(1).map(|i| &self.regions[i])
    }

    /// Where `offset` is: file, line and column (in bytes).
    pub(crate) fn place(&self, offset: usize) -> Place {
        let (file, line, start, offset) = self.line_of(offset);
        Place {
            file: file.to_owned(),
            line,
            column: offset - start + 1,
        }
    }

    /// Where `offset` is, the column counted in characters as editors do.
    pub(crate) fn locate(&self, offset: usize) -> (&str, usize, usize) {
        let (file, line, start, offset) = self.line_of(offset);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (file, line, column + 1)
    }

    /// The file, line (from 1), start of that line and the offset clamped
    /// into its region.
    fn line_of(&self, offset: usize) -> (&str, usize, usize, usize) {
        let offset = offset.min(self.text.len());
        let Some(region) = self.region_of(offset) else {
            return ("", 1, 0, 0);
        };
        let offset = offset.min(region.start + region.len);
        // Built once: a plan of 100,000 tasks asks for each one's line.
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset) - 1;
        let first = starts.partition_point(|&s| s <= region.start) - 1;
        let start = starts[line].max(region.start);
        (
            &region.name,
            region.first_line + line - first + 1,
            start,
            offset,
        )
    }

    /// The place of each of `offsets`.
    pub(crate) fn places(&self, offsets: &[usize]) -> Vec<Place> {
        offsets.iter().map(|&o| self.place(o)).collect()
    }

    /// The `use` lines that produced the text at `offset`, innermost
    /// first, each with its template's name.
    pub(crate) fn use_sites(&self, offset: usize) -> Vec<(Span, String)> {
        let mut out = Vec::new();
        let mut at = offset;
        while let Some((span, template)) = self.region_of(at).and_then(|r| r.used_at.clone()) {
            // A region's use lies before it, so this always ends.
            if span.offset() >= at || out.len() > 64 {
                break;
            }
            at = span.offset();
            out.push((span, template));
        }
        out
    }
}

/// The byte range of the whole lines `span` touches.
fn whole_lines(text: &str, span: Span) -> (usize, usize) {
    let start = span.offset().min(text.len());
    let end = (span.offset() + span.len()).min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    (line_start, line_end)
}

impl SourceCode for Sources {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let region = self
            .region_of(span.offset())
            .ok_or(MietteError::OutOfBounds)?;
        let text = &self.text[region.start..region.start + region.len];
        let local_offset = (span.offset() - region.start).min(text.len());
        // A span into the next region is two places, not one: miette asks
        // this when it considers drawing two labels as one snippet.
        if span.len() > text.len() - local_offset + 1 {
            return Err(MietteError::OutOfBounds);
        }
        let local_len = span.len().min(text.len() - local_offset);
        let local = SourceSpan::from((local_offset, local_len));
        let contents = text.read_span(&local, context_lines_before, context_lines_after)?;
        let shown = SourceSpan::from((
            contents.span().offset() + region.start,
            contents.span().len(),
        ));
        Ok(Box::new(MietteSpanContents::new_named(
            region.name.clone(),
            contents.data(),
            shown,
            contents.line() + region.first_line,
            contents.column(),
            contents.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_name_the_file_and_line_of_each_region() {
        let mut sources = Sources::single("orchestra.kdl", "a\nb\n".into());
        let base = sources.add_file("ci/x.kdl".into(), "ci/x.kdl".into(), "one\ntwo");
        assert_eq!(sources.place(2).line, 2);
        assert_eq!(sources.place(2).file, "orchestra.kdl");
        let two = sources.place(base + 5);
        assert_eq!(
            (two.file.as_str(), two.line, two.column),
            ("ci/x.kdl", 2, 2)
        );
        assert_eq!(sources.main_text(), "a\nb\n");
        assert_eq!(sources.included().count(), 1);
        let many = sources.places(&[base + 5, 2, 0]);
        assert_eq!(many[0], two);
        assert_eq!((many[1].line, many[2].line), (2, 1));
    }

    #[test]
    fn columns_count_characters_for_editors() {
        let sources = Sources::single("f", "ab\néc d\n".into());
        assert_eq!(sources.locate(0), ("f", 1, 1));
        assert_eq!(sources.locate(3), ("f", 2, 1));
        // `d` is at byte 7 but character 4 of its line.
        assert_eq!(sources.locate(7), ("f", 2, 4));
        assert_eq!(sources.place(7).column, 5);
        assert_eq!(sources.locate(99), ("f", 3, 1));
    }

    #[test]
    fn an_expansion_shows_the_template_lines_and_leads_to_its_use() {
        let text = "template \"t\" {\n    task \"x\"\n}\nuse \"t\"\n";
        let mut sources = Sources::single("orchestra.kdl", text.into());
        let task = text.find("task").unwrap();
        let used = text.find("use").unwrap();
        let shift = sources.add_expansion((task, 8).into(), (used, 7).into(), "t");
        let place = sources.place(task + shift);
        assert_eq!((place.line, place.column), (2, 5));
        assert_eq!(
            &sources.text()[task + shift..task + shift + 8],
            "task \"x\""
        );
        let sites = sources.use_sites(task + shift);
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].0.offset(), used);
        assert!(sources.use_sites(task).is_empty());
    }
}
