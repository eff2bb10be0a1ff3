//! Running a plan: durable state, history, milestone locks, secret masking,
//! and incrementality (input expansion, stat cache, fingerprints, their
//! store). The scheduler and executor join these.

pub mod fingerprint;
pub mod history;
pub mod inputs;
pub mod lock;
pub mod secrets;
pub mod stat_cache;
pub mod state;
pub mod store;
