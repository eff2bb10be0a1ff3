//! No input makes orchestra panic.
//!
//! Inputs: every byte prefix of the language example (many split a UTF-8
//! character or a token), and files mutated from every fixture by a small
//! deterministic generator (lines deleted, duplicated or swapped, tokens
//! swapped, bytes and non-UTF-8 sequences inserted, numbers and strings
//! replaced by extreme values). The bulk goes through the library in this
//! process — load, validate, render, list — which is fast; a few hundred go
//! through the real binary, which must exit 0 or 2, never 101 or by a signal.
//! A failure names the case and prints the input, so it can become a fixture.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{Rng, binary, fixtures};

/// Values that stress the decoder where a number or string stood.
const NUMBERS: &[&str] = &[
    "99999999999999999999999",
    "-99999999999999999999999999999999999999999",
    "-1",
    "0",
    "4294967296",
    "1.5",
    "1e400",
    "#nan",
    "#inf",
    "#-inf",
    "#null",
    "0x7fffffffffffffffffffffffffffffff",
    "\"\"",
    "#true",
];

const STRINGS: &[&str] = &[
    "\"\"",
    "\" \"",
    "\"{\"",
    "\"}\"",
    "\"{{\"",
    "\"{}\"",
    "\"{a b}\"",
    "\"{entity}\"",
    "\"a/b\"",
    "\"/\"",
    "\"a//b\"",
    "\"é{ü}\"",
    "\"\\u{202e}\"",
    "\"\\t\"",
    "\"99999999999999999999999s\"",
    "\"-1s\"",
    "\"999999999999999999d\"",
    "\"ms\"",
    "\"scaffold\"",
    "\"verify\"",
    "\"M1-catalog/schema\"",
    "\"entities/product/generate\"",
    "#\"raw {x}\"#",
    "\"\"\"\n  multi {x}\n  \"\"\"",
    "0",
    "#false",
];

/// Bytes and snippets to insert: KDL punctuation, broken UTF-8, controls.
const INSERTS: &[&[u8]] = &[
    b"{",
    b"}",
    b"\"",
    b"=",
    b";",
    b"/-",
    b"//",
    b"/*",
    b"(",
    b")",
    b"#",
    b"\\",
    b"\n",
    b"\r",
    b"\t",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xf0\x9f\x8e",
    b"\xed\xa0\x80",
    "é".as_bytes(),
    "\u{feff}".as_bytes(),
    b" x=1",
    b" \"arg\"",
    b" {}",
    b"(ty)",
    b" depends-on",
    b" needs \"x\"",
];

/// Byte ranges of each maximal run matching `keep`.
fn runs(text: &[u8], keep: impl Fn(u8) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in text.iter().enumerate() {
        match (keep(b), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

fn replace(text: &[u8], (start, end): (usize, usize), with: &[u8]) -> Vec<u8> {
    [&text[..start], with, &text[end..]].concat()
}

/// Byte ranges of the double-quoted strings on each line (no escapes).
fn quoted(text: &[u8]) -> Vec<(usize, usize)> {
    let quotes: Vec<usize> = text
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'"')
        .map(|(i, _)| i)
        .collect();
    quotes
        .chunks_exact(2)
        .map(|pair| (pair[0], pair[1] + 1))
        .filter(|&(a, b)| !text[a..b].contains(&b'\n'))
        .collect()
}

/// One random mutation of `text`.
fn mutate(rng: &mut Rng, text: &[u8]) -> Vec<u8> {
    let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
    match rng.below(10) {
        // Delete, duplicate or swap lines.
        0 | 1 if !lines.is_empty() => {
            let mut lines = lines;
            let i = rng.below(lines.len());
            if rng.below(2) == 0 {
                lines.remove(i);
            } else {
                lines.insert(i, lines[i]);
            }
            lines.concat()
        }
        2 if lines.len() > 1 => {
            let mut lines = lines;
            let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(i, j);
            lines.concat()
        }
        // Swap two whitespace-separated tokens.
        3 => {
            let tokens = runs(text, |b| !b.is_ascii_whitespace());
            if tokens.len() < 2 {
                return text.to_vec();
            }
            let (a, b) = (*rng.pick(&tokens), *rng.pick(&tokens));
            let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
            if first == second {
                return text.to_vec();
            }
            [
                &text[..first.0],
                &text[second.0..second.1],
                &text[first.1..second.0],
                &text[first.0..first.1],
                &text[second.1..],
            ]
            .concat()
        }
        // Insert punctuation, broken UTF-8 or a random byte anywhere.
        4 | 5 => {
            let at = rng.below(text.len() + 1);
            let random = [u8::try_from(rng.below(256)).expect("a byte")];
            let pick: &&[u8] = rng.pick(INSERTS);
            let insert: &[u8] = if rng.below(4) == 0 { &random } else { pick };
            replace(text, (at, at), insert)
        }
        // Replace a number by an extreme value.
        6 => {
            let numbers = runs(text, |b| b.is_ascii_digit());
            if numbers.is_empty() {
                return text.to_vec();
            }
            let range = *rng.pick(&numbers);
            replace(text, range, rng.pick(NUMBERS).as_bytes())
        }
        // Replace a quoted string by a tricky one.
        7 | 8 => {
            let strings = quoted(text);
            if strings.is_empty() {
                return text.to_vec();
            }
            let range = *rng.pick(&strings);
            replace(text, range, rng.pick(STRINGS).as_bytes())
        }
        // Cut a random range out.
        _ => {
            let start = rng.below(text.len() + 1);
            let end = (start + rng.below(40)).min(text.len());
            replace(text, (start, end), b"")
        }
    }
}

/// Every fixture — valid, invalid, and the fuzzer's findings — as a base
/// for mutation.
fn bases() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for folder in ["valid", "invalid", "warnings", "fuzz"] {
        let mut paths: Vec<_> = std::fs::read_dir(fixtures().join(folder))
            .expect("fixtures folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
            .collect();
        paths.sort();
        for path in paths {
            let name = format!(
                "{folder}/{}",
                path.file_name().expect("name").to_string_lossy()
            );
            out.push((name, std::fs::read(&path).expect("read fixture")));
        }
    }
    out
}

/// The mutated inputs: `per_base` per fixture, 1–3 mutations each.
fn mutants(per_base: u64) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (index, (name, base)) in (0u64..).zip(bases()) {
        for case in 0..per_base {
            let seed = index * 1000 + case;
            let mut rng = Rng::new(seed);
            let mut text = base.clone();
            for _ in 0..=rng.below(3) {
                text = mutate(&mut rng, &text);
            }
            out.push((format!("{name} mutated with seed {seed}"), text));
        }
    }
    out
}

/// Everything the front-end does with a file, in this process. Returns what
/// went wrong: a panic, or a diagnostic miette could not draw.
fn front_end(dir: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(dir.join("orchestra.kdl"), bytes).expect("write input");
    let outcome = catch_unwind(AssertUnwindSafe(|| orchestra::facade::front_end(dir)));
    match outcome {
        Ok(result) => result,
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

/// Runs every case through [`front_end`] (split across the machine's
/// cores, each with its own directory), then fails listing the first few
/// bad cases with their input.
fn assert_front_end_survives(cases: &[(String, Vec<u8>)]) {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = cases.len().div_ceil(threads).max(1);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = cases
            .chunks(chunk)
            .map(|cases| {
                scope.spawn(move || {
                    let dir = tempfile::tempdir().expect("temporary directory");
                    let mut failures = Vec::new();
                    for (name, bytes) in cases {
                        if let Err(why) = front_end(dir.path(), bytes) {
                            failures.push(format!(
                                "{name}: {why}\n--- input ---\n{}\n",
                                String::from_utf8_lossy(bytes)
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} inputs failed; the first:\n{}",
        failures.len(),
        cases.len(),
        failures.iter().take(3).cloned().collect::<String>()
    );
}

/// Every byte prefix of `file`: most end mid-token, and in a file with
/// multi-byte characters many split one.
fn prefixes(file: &str) -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read(fixtures().join(file)).expect("fixture");
    (0..=text.len())
        .map(|n| (format!("{file} cut after {n} bytes"), text[..n].to_vec()))
        .collect()
}

#[test]
fn every_prefix_of_the_language_example_is_handled() {
    assert_front_end_survives(&prefixes("valid/language-example.kdl"));
}

#[test]
fn every_prefix_of_a_unicode_file_is_handled() {
    let cases = prefixes("valid/unicode.kdl");
    let split = cases
        .iter()
        .filter(|(_, bytes)| std::str::from_utf8(bytes).is_err())
        .count();
    assert!(split > 20, "only {split} prefixes split a character");
    assert_front_end_survives(&cases);
}

#[test]
fn mutated_fixtures_are_handled() {
    // A deeper search, when hunting: ORCHESTRA_MUTANTS=5000 cargo test mutated
    let per_base = std::env::var("ORCHESTRA_MUTANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    assert_front_end_survives(&mutants(per_base));
}

#[test]
fn the_binary_exits_0_or_2_on_broken_input() {
    let mut cases: Vec<(String, Vec<u8>)> = prefixes("valid/language-example.kdl")
        .into_iter()
        .step_by(23)
        .chain(prefixes("valid/unicode.kdl").into_iter().step_by(7))
        .collect();
    cases.extend(mutants(2));
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut failures = Vec::new();
    for (i, (name, bytes)) in cases.iter().enumerate() {
        std::fs::write(dir.path().join("orchestra.kdl"), bytes).expect("write input");
        let args: &[&str] = if i % 3 == 0 {
            &["list", "--json"]
        } else {
            &["check"]
        };
        let output = Command::new(binary())
            // CI turns gate fixes off; tests set it when they mean it.
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .args(args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env_remove("COLUMNS")
            .stdin(Stdio::null())
            .output()
            .expect("run orchestra");
        match output.status.code() {
            Some(0 | 2) => {}
            code => failures.push(format!(
                "{name}: `orchestra {}` ended with {code:?}\n{}\n--- input ---\n{}\n",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr),
                String::from_utf8_lossy(bytes)
            )),
        }
    }
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "ran the binary on {} broken inputs", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} runs failed; the first:\n{}",
        failures.len(),
        cases.len(),
        failures.iter().take(3).cloned().collect::<String>()
    );
}

/// The fuzzer's findings against the binary decoders (docs/fuzzing.md),
/// replayed: each must decode as a miss or as empty, never panic.
#[test]
fn the_decoder_findings_of_the_fuzzer_are_replayed() {
    let dir = fixtures().join("fuzz/decoders");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/decoders") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read finding");
        let outcome = catch_unwind(|| orchestra::facade::fuzz_decoders(&bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        replayed += 1;
    }
    assert!(replayed > 0);
}

/// The fuzzer's findings against the front-end, replayed in-process (the
/// mutation tests also run them through the binary).
#[test]
fn the_front_end_findings_of_the_fuzzer_are_replayed() {
    for entry in std::fs::read_dir(fixtures().join("fuzz")).expect("fuzz") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "kdl") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read finding");
        let outcome = catch_unwind(|| orchestra::facade::fuzz_front_end(&bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}
