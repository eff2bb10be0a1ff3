//! Output for people and machines. Text comes from pure functions so it can
//! be snapshot-tested; the coordinator (`crate::app`) decides where it goes.

mod list;

pub use list::{check_summary, list_json, list_text};
