//! Front-end cost against a bare KDL parse of the same file.
//!
//! `cargo bench --bench front_end -- FILE [RUNS]` parses FILE with the kdl
//! crate alone, then runs orchestra's whole front-end (parse, decode,
//! validate, PATH lookups), and reports the best of RUNS for each stage and
//! what decoding and validation add to the parse. Generate a file with
//! `bench/gen_config.py`.

use std::time::{Duration, Instant};

use orchestra::facade as bench;

fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; skip flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(path) = args.first() else {
        eprintln!("usage: cargo bench --bench front_end -- FILE [RUNS]");
        std::process::exit(2);
    };
    let runs = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let text = std::fs::read_to_string(path).expect("read the file");
    let parse = best(runs, || {
        let document = kdl::KdlDocument::parse(&text).expect("valid KDL");
        std::hint::black_box(document);
    });
    let document = kdl::KdlDocument::parse(&text).expect("valid KDL");
    let decode = best(runs, || {
        std::hint::black_box(bench::decode(&document, &text));
    });
    let validation = best(runs, || {
        let (model, diagnostics) = bench::decode_and_validate(&document, &text);
        assert!(diagnostics == 0 && model, "the file must be valid");
    });
    let validate_only = validation.saturating_sub(decode);
    let added = decode + validate_only;
    println!("file            {path} ({} bytes)", text.len());
    println!("kdl parse       {:8.2} ms", ms(parse));
    println!("decode          {:8.2} ms", ms(decode));
    println!("validate        {:8.2} ms", ms(validate_only));
    println!(
        "added to parse  {:8.2} ms ({:.1}%)",
        ms(added),
        100.0 * added.as_secs_f64() / parse.as_secs_f64()
    );
}
