//! orchestra compiles `orchestra.kdl` into a DAG of tasks and runs it.
//!
//! Data flows one way, one module per arrow: [`config`] parses the file with
//! `kdl` and decodes it into a spanned [`model::Config`]; [`validate`] resolves
//! every name and rejects cycles, yielding a [`model::Model`]; [`diagnostic`]
//! renders every mistake found on the way as a miette report pointing into the
//! file; [`app`] coordinates a command from the CLI ([`cli`]) to its output
//! ([`report`]).

pub mod app;
pub mod cli;
pub mod codec;
pub mod compile;
pub mod config;
pub mod diagnostic;
pub mod error;
pub mod load;
pub mod model;
pub mod plan;
pub mod report;
pub mod run;
pub mod timings;
pub mod validate;
