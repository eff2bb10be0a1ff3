//! The domain model: what `orchestra.kdl` says, free of KDL.
//!
//! Two stages live here, each with its own type:
//!
//! - [`Config`] is what the decoder (`crate::config`) produced: every node kind
//!   as a struct, every value [`Spanned`] so later stages can point back into
//!   the file. Names in it are still plain strings and may not resolve.
//! - [`Model`] is a [`Config`] that passed validation (`crate::validate`):
//!   every reference resolves, there are no cycles, every template variable
//!   exists. It can only be built by validation, so code that holds a `Model`
//!   may index and look up without checking.
//!
//! Nothing in this module or below imports `kdl`.

mod address;
pub(crate) mod cache;
mod command;
mod config;
mod duration;
mod namespace;
mod rules;
mod spanned;
pub(crate) mod template;
mod waves;

pub(crate) use address::{Address, AddressError};
pub(crate) use command::{Command, CommandKind, shell_program};
pub(crate) use config::{
    Body, Check, Config, Entity, EntityGroup, EnvVar, Foreach, Gate, Jobserver, Milestone, Phase,
    Pipeline, PipelineItem, Pool, Project, Rule, Stage, Step, Target, Task, Var,
};
pub(crate) use duration::{format_duration, parse_duration};
pub(crate) use namespace::{Item, Model};
pub(crate) use rules::{RULE_VARS, RuleFile, rule_files};
pub(crate) use spanned::{Span, Spanned};
pub(crate) use waves::{entity_waves, relation_indices};
