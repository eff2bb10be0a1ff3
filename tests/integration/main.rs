//! The one integration test binary: drives the real `orchestra` executable.
//!
//! `support.rs` holds the builder; each other module covers one command or
//! concern.

mod cli;
mod fixtures;
mod json_schema;
mod plan;
mod robustness;
mod support;
