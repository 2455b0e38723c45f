//! What no scheduler does on its own (issue 17), as library rooms the
//! daemon wires in (`daemon::alerts`):
//!
//! - [`attestation`]: the yearly re-certification gate — whose attestation
//!   is current, due soon or lapsed;
//! - [`jma`]: the Japan Meteorological Agency's disaster feed — parsing its
//!   XML and deciding whether a message raises the disaster hold;
//! - [`notify`]: telling owners and admins at once, by e-mail and webhook,
//!   through a durable spool with retries;
//! - [`costs`]: what a post costs on X, and the month's spend against the
//!   budgets.

pub mod attestation;
pub mod costs;
pub mod jma;
pub mod notify;
