//! Herald publishes the scheduled posts of many corporate social accounts.
//!
//! Data flows one way: [`queue`] (post files) → [`guidelines`] (the checks) →
//! [`schedule`] (when) → [`store`] (delivery state in sled) → [`platform`]
//! (the API call) → [`store`] → [`queue`] (the outcome folder). [`daemon`]
//! wires these together; [`cli`] renders what admins and owners ask for.

pub mod alerts;
pub mod audit;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod guidelines;
pub mod logging;
pub mod metrics;
pub mod platform;
pub mod queue;
pub mod schedule;
pub mod source;
pub mod store;
pub(crate) mod terminal;
