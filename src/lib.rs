//! orchestra compiles `orchestra.kdl` into a DAG of tasks and runs it.
//!
//! Data flows one way, one module per arrow: [`config`] parses the file with
//! `kdl` and decodes it into a spanned [`model::Config`]; [`validate`] resolves
//! every name and rejects cycles, yielding a [`model::Model`]; [`diagnostic`]
//! renders every mistake found on the way as a miette report pointing into the
//! file; [`app`] coordinates a command from the CLI ([`cli`]) to its output
//! ([`report`]).

/// `eprintln!` that never panics: a closed or full stderr loses the text,
/// not the run (std's `eprintln!` panics, and a panic exits 101).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// `eprint!` that never panics (see `say!`).
macro_rules! say_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, $($arg)*);
        let _ = stderr.flush();
    }};
}

mod app;
mod cache;
mod cli;
mod codec;
mod compile;
mod config;
mod diagnostic;
mod dotenv;
mod error;
mod freshness;
mod load;
mod model;
mod plan;
mod report;
mod run;
mod secrets;
mod sources;
mod strings;
mod timings;
mod validate;
mod words;
mod workspace;

pub use app::main;

/// The facade for the benches and integration tests outside the crate: the
/// front-end stages one at a time (their cost is measured beside a bare
/// KDL parse) and the whole front-end in-process (the robustness tests run
/// thousands of inputs through it). Nothing else of orchestra is public;
/// the binary is its interface.
pub mod facade {
    /// Decodes a parsed orchestra file; returns how many diagnostics it made.
    pub fn decode(document: &kdl::KdlDocument, text: &str) -> usize {
        crate::config::decode(document, text).1.len()
    }

    /// Decodes and validates (looking programs up on PATH, as `build`
    /// does); returns whether a model came out and how many diagnostics.
    pub fn decode_and_validate(document: &kdl::KdlDocument, text: &str) -> (bool, usize) {
        let (config, mut diagnostics) = crate::config::decode(document, text);
        let (model, more) = crate::validate::validate(
            config,
            text,
            "bench",
            crate::validate::Options {
                check_programs: true,
            },
        );
        diagnostics.extend(more);
        (model.is_some(), diagnostics.len())
    }

    /// The fuzz target for the front-end: arbitrary bytes as
    /// `orchestra.kdl`, parsed, decoded and validated; every diagnostic
    /// rendered; a valid file compiled whole and its plan rendered. It
    /// must return, never panic or abort, whatever the bytes.
    pub fn fuzz_front_end(bytes: &[u8]) {
        use crate::diagnostic::{RenderOptions, render};
        let located = crate::load::Located {
            path: "orchestra.kdl".into(),
            root: "/nonexistent-orchestra-fuzz".into(),
            display: "orchestra.kdl".into(),
        };
        let options = crate::validate::Options {
            check_programs: false,
        };
        let loaded = crate::load::parse(located, bytes.to_vec(), options);
        // `orchestra fmt` on the same text: it may refuse a file that is
        // not KDL, but whatever it writes must be a fixed point of itself,
        // and it must never find that it changed a file's meaning. (Small
        // inputs only: it parses three more times, and the big ones would
        // slow the fuzzer down for little.)
        if let Ok(text) = std::str::from_utf8(bytes)
            && text.len() <= 8 * 1024
        {
            use crate::config::format::{Unformatted, format};
            match format(text) {
                Ok(once) => assert_eq!(format(&once).ok().as_deref(), Some(once.as_str())),
                Err(Unformatted::Changed) => panic!("fmt changed the meaning of {text:?}"),
                Err(Unformatted::Syntax(_)) => {}
            }
        }
        let options = RenderOptions {
            color: false,
            width: 100,
            github: false,
        };
        std::hint::black_box(render(&loaded.diagnostics, &loaded.sources, options));
        let errors = loaded
            .diagnostics
            .iter()
            .any(crate::diagnostic::Diagnostic::is_error);
        if let (Some(model), false) = (&loaded.model, errors) {
            let everything = crate::compile::Selection {
                everything: true,
                ..crate::compile::Selection::default()
            };
            if let Ok(plan) = crate::compile::compile(model, &everything) {
                std::hint::black_box(crate::plan::text::render(&plan));
                std::hint::black_box(crate::plan::json::render(&plan, "orchestra.kdl", &|_| {
                    ("orchestra.kdl", 1, 1)
                }));
                std::hint::black_box(crate::plan::dot::render(&plan));
            }
        }
    }

    /// The fuzz target for the decoders of what orchestra reads back: the
    /// plan cache (keyed by the bytes it claims), the fingerprint store
    /// (every record decoded, and what a record says its task produced), a
    /// journal, and a compiler's depfile. Garbage must decode as a miss, as
    /// empty or as an error, never panic.
    pub fn fuzz_decoders(bytes: &[u8]) {
        let mut key = [0u8; 32];
        if let Some(claimed) = bytes.get(8..40) {
            key.copy_from_slice(claimed);
        }
        std::hint::black_box(crate::plan::cache::lookup(bytes, &key));
        let (entries, stats) = crate::workspace::journal::decode_journal(bytes);
        let stored = crate::workspace::journal::Stored {
            store: Some(bytes.to_vec()),
            store_id: None,
            entries,
            stats,
        };
        let (store, _) = crate::freshness::store::Store::from_stored(stored);
        std::hint::black_box(store.decode_all());
        std::hint::black_box(store.encode());
        std::hint::black_box(crate::freshness::store::produced_of(bytes));
        std::hint::black_box(crate::freshness::store::took_of(bytes));
        let _ = std::hint::black_box(crate::freshness::depfile::parse(bytes));
    }

    /// Everything the front-end does with `dir/orchestra.kdl`, in this
    /// process: locate, load, validate, render every diagnostic, list.
    /// Returns what went wrong besides a panic (which callers catch): a
    /// label that cannot be drawn, or a diagnostic the renderer dropped.
    pub fn front_end(dir: &std::path::Path) -> Result<(), String> {
        use crate::diagnostic::{RenderOptions, render};
        let located = crate::load::locate(dir, None).map_err(|e| e.to_string())?;
        let loaded = crate::load::load(
            located,
            crate::validate::Options {
                check_programs: false,
            },
        )
        .map_err(|e| e.to_string())?;
        let source: &str = loaded.sources.text();
        for diagnostic in &loaded.diagnostics {
            for label in diagnostic.labels() {
                let (start, end) = (label.offset(), label.offset() + label.len());
                if end > source.len()
                    || !source.is_char_boundary(start)
                    || !source.is_char_boundary(end)
                {
                    return Err(format!(
                        "label {start}..{end} of `{}` cannot be drawn in a {}-byte file",
                        diagnostic.message(),
                        source.len()
                    ));
                }
            }
        }
        let options = RenderOptions {
            color: false,
            width: 100,
            github: false,
        };
        let text = render(&loaded.diagnostics, &loaded.sources, options);
        let headers = text
            .lines()
            .filter(|l| {
                // Drawn, or narrated (a line too long to draw).
                l.starts_with("  × ")
                    || l.starts_with("  ⚠ ")
                    || l.starts_with("    Diagnostic severity: ")
            })
            .count();
        // The first `SHOWN` are drawn; the rest are counted.
        let drawn = loaded.diagnostics.len().min(crate::diagnostic::SHOWN);
        if headers != drawn {
            return Err(format!(
                "{} diagnostics ({drawn} to draw) but {headers} rendered:\n{text}",
                loaded.diagnostics.len()
            ));
        }
        if let Some(model) = &loaded.model {
            crate::report::list_text(model);
            crate::report::list_json("orchestra.kdl", model);
            crate::report::check_summary("orchestra.kdl", model, 0);
        }
        Ok(())
    }
}
