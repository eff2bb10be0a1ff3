//! A unified diff of two texts (`orchestra fmt --check`): the lines that
//! differ with three lines of context, in the form `patch` and `git apply`
//! read.

use std::fmt::Write;

/// Above this many line pairs the longest common subsequence is not
/// searched: the whole file is shown replaced.
const MAX_CELLS: usize = 16_000_000;
const CONTEXT: usize = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Removed,
    Added,
}

/// `old` → `new` as a unified diff of `name`; empty when they are equal.
pub(crate) fn unified(name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    // Lines with their endings: a file that differs only in `\r\n` or in
    // its last newline differs here too.
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = script(&a, &b);
    let mut out = format!("--- {name}\n+++ {name} (formatted)\n");
    // Walk the script, cutting it into hunks around the changes.
    let mut i = 0;
    while i < ops.len() {
        let Some(first) = ops[i..].iter().position(|(op, _, _)| *op != Op::Same) else {
            break;
        };
        let start = (i + first).saturating_sub(CONTEXT);
        // The hunk ends after CONTEXT lines of context past the last change
        // that is not separated from the next by more than 2 * CONTEXT.
        let mut end = i + first;
        let mut same_run = 0;
        let mut j = end;
        while j < ops.len() {
            if ops[j].0 == Op::Same {
                same_run += 1;
                if same_run > 2 * CONTEXT {
                    break;
                }
            } else {
                same_run = 0;
                end = j;
            }
            j += 1;
        }
        let stop = (end + 1 + CONTEXT).min(ops.len());
        let hunk = &ops[start..stop];
        let (a_start, b_start) = (hunk[0].1, hunk[0].2);
        let a_len = hunk.iter().filter(|(op, _, _)| *op != Op::Added).count();
        let b_len = hunk.iter().filter(|(op, _, _)| *op != Op::Removed).count();
        let _ = writeln!(
            out,
            "@@ -{},{a_len} +{},{b_len} @@",
            a_start + usize::from(a_len > 0),
            b_start + usize::from(b_len > 0)
        );
        for (op, ai, bi) in hunk {
            let (mark, line) = match op {
                Op::Same => (' ', a[*ai]),
                Op::Removed => ('-', a[*ai]),
                Op::Added => ('+', b[*bi]),
            };
            out.push(mark);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
        i = stop;
    }
    out
}

/// The edit script: each step with the index it stands at in `a` and `b`.
#[allow(clippy::many_single_char_names)] // the textbook names of the LCS table
fn script(a: &[&str], b: &[&str]) -> Vec<(Op, usize, usize)> {
    let (n, m) = (a.len(), b.len());
    let mut out = Vec::with_capacity(n + m);
    if n.saturating_mul(m) > MAX_CELLS {
        out.extend((0..n).map(|i| (Op::Removed, i, 0)));
        out.extend((0..m).map(|j| (Op::Added, n, j)));
        return out;
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i] == b[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push((Op::Same, i, j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            out.push((Op::Removed, i, j));
            i += 1;
        } else {
            out.push((Op::Added, i, j));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn a_changed_line_is_shown_with_its_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified("f.kdl", old, new),
            "--- f.kdl\n+++ f.kdl (formatted)\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
        assert_eq!(unified("f.kdl", old, old), "");
    }

    #[test]
    fn line_endings_and_a_missing_last_newline_are_differences() {
        assert_eq!(
            unified("f", "a\r\nb", "a\nb\n"),
            "--- f\n+++ f (formatted)\n@@ -1,2 +1,2 @@\n-a\r\n-b\n\\ No newline at end of file\n+a\n+b\n"
        );
    }

    #[test]
    fn changes_far_apart_are_separate_hunks() {
        let old: String = (0..30).map(|i| i.to_string() + "\n").collect();
        let new = old.replacen("2\n", "two\n", 1).replacen("25\n", "", 1);
        let diff = unified("f", &old, &new);
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("-25\n"), "{diff}");
    }
}
