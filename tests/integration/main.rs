//! The one integration test binary: drives the real `orchestra` executable.
//!
//! `support.rs` holds the builder; each other module covers one command or
//! concern.

mod affected;
mod args;
mod build;
mod build_output;
mod cache;
mod ci;
mod cli;
mod completions;
mod compose;
mod depfile;
mod dotenv;
mod durable;
mod example;
mod fixtures;
mod fmt;
mod incremental;
mod init;
mod insight;
mod interactive;
mod jobserver;
mod json_schema;
mod locks;
mod plan;
mod report;
mod robustness;
mod rules;
mod secrets;
mod servers;
mod support;
mod watch;
mod workspace;
