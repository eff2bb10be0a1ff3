//! Byte offsets → line and column, for telling where a task was declared.

/// Line starts of a source text, found once so each lookup is a binary search
/// (a plan may hold 100k tasks).
#[derive(Debug)]
pub(crate) struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    /// 1-based line and column of `offset`; the column counts characters
    /// (Unicode scalar values), as editors do. Offsets past the end or inside
    /// a character are clamped.
    pub(crate) fn locate(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_in_characters() {
        let lines = Lines::new("ab\néc d\n");
        assert_eq!(lines.locate(0), (1, 1));
        assert_eq!(lines.locate(1), (1, 2));
        assert_eq!(lines.locate(3), (2, 1));
        // `d` is at byte 7 but character 4 of its line.
        assert_eq!(lines.locate(7), (2, 4));
        assert_eq!(lines.locate(99), (3, 1));
    }
}
