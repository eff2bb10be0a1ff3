//! Running a plan: durable state, history, milestone locks and secret
//! masking (the scheduler and executor join these).

pub mod history;
pub mod lock;
pub mod secrets;
pub mod state;
