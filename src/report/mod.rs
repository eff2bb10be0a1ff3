//! Output for people and machines. Text comes from pure functions so it can
//! be snapshot-tested; the coordinator (`crate::app`) decides where it goes.
//!
//! For `orchestra build`, [`Human`] turns run events into lines ([`lines`])
//! and failure reports ([`failure`]) on a [`Plain`] or [`Progress`] screen;
//! [`DryRun`] lists what would run; [`json`] is the machine summary;
//! [`prompt`] asks for confirmations; [`durable`] words locks, resume and
//! `orchestra status`. Nothing here schedules.

pub(crate) mod diff;
mod dry_run;
pub(crate) mod durable;
pub(crate) mod eta;
pub(crate) mod events;
pub(crate) mod failure;
pub(crate) mod github;
mod human;
mod insight;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod lines;
mod list;
mod plain;
mod progress;
pub(crate) mod prompt;
pub(crate) mod record;
pub(crate) mod timeline;

#[cfg(test)]
mod tests;

pub(crate) use dry_run::DryRun;
pub(crate) use human::Human;
pub(crate) use insight::Insight;
pub(crate) use list::{check_summary, list_json, list_text};
pub(crate) use plain::Plain;
pub(crate) use progress::{Pause, Progress};
pub(crate) use timeline::Timeline;
