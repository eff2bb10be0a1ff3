//! The one integration test binary: drives the real `orchestra` executable.
//!
//! `support.rs` holds the builder; each other module covers one command or
//! concern.

mod build;
mod build_output;
mod cli;
mod example;
mod fixtures;
mod incremental;
mod json_schema;
mod plan;
mod robustness;
mod support;
