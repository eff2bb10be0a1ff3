//! Output for people and machines. Text comes from pure functions so it can
//! be snapshot-tested; the coordinator (`crate::app`) decides where it goes.
//!
//! For `orchestra build`, [`Human`] turns run events into lines ([`lines`])
//! and failure reports ([`failure`]) on a [`Plain`] or [`Progress`] screen;
//! [`DryRun`] lists what would run; [`json`] is the machine summary;
//! [`prompt`] asks for confirmations; [`durable`] words locks, resume and
//! `orchestra status`. Nothing here schedules.

mod dry_run;
pub mod durable;
pub mod failure;
mod human;
pub mod json;
pub mod lines;
mod list;
mod plain;
mod progress;
pub mod prompt;

#[cfg(test)]
mod tests;

pub use dry_run::DryRun;
pub use human::{Human, Screen};
pub use list::{check_summary, list_json, list_text};
pub use plain::Plain;
pub use progress::Progress;
