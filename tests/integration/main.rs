//! The one integration test binary: drives the real `orchestra` executable.
//!
//! `support.rs` holds the builder; each other module covers one command or
//! concern.

mod build;
mod build_output;
mod example;
mod json_schema;
mod plan;
mod support;

use support::Test;

#[test]
fn check_accepts_the_language_example() {
    Test::new()
        .fixture("valid/language-example.kdl")
        .args(["check"])
        .stdout("orchestra.kdl: ok — 4 entities, 2 milestones, 1 gate, 1 task, 1 target\n")
        .run();
}
