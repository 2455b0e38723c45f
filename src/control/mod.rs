//! The admin protocol between the `herald` CLI and a running daemon, and the
//! admin functions both sides share.
//!
//! The daemon listens on a Unix socket (`[daemon] socket`, default
//! `<state_dir>/herald.sock`, mode 0660: its user and its group). A
//! connection carries one exchange, each message one JSON line:
//!
//! 1. the client says `{"hello": {"protocol": 1, "client": "herald 0.1.0"}}`;
//! 2. the daemon answers `{"welcome": {...}}`, or `{"refused": {"message"}}`
//!    when the versions differ (within [`HANDSHAKE_TIMEOUT`], or it hangs up);
//! 3. the client sends one [`Request`], the daemon answers one [`Response`].
//!
//! When no daemon runs, the CLI opens the store itself and calls the same
//! [`admin::handle`] (DESIGN.md invariant 7, "one writer").

pub mod admin;
pub mod client;
mod doctor;
pub mod server;
pub mod stops;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use stops::{disaster_hold, Stop};

/// The protocol version. Bump it when a request or response changes shape.
pub const PROTOCOL: u32 = 1;

/// How long either side waits for the other's handshake line.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The client's first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hello {
    Hello { protocol: u32, client: String },
}

/// The daemon's answer to [`Hello`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Welcome {
    Welcome { protocol: u32, daemon: String, pid: u32 },
    Refused { message: String },
}

/// What an admin asks. Times are UTC instants; the CLI turns what people
/// type into them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum Request {
    Status,
    Accounts {
        id: Option<String>,
    },
    Queue {
        account: Option<String>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    History {
        account: Option<String>,
        since: Option<DateTime<Utc>>,
        state: Option<String>,
        /// 1-based.
        page: usize,
        per_page: usize,
    },
    Show {
        delivery: String,
    },
    Pause {
        account: String,
        reason: String,
    },
    Resume {
        account: String,
    },
    Freeze {
        reason: String,
    },
    Thaw,
    DisasterHold {
        /// `Some(reason)` declares, `None` lifts.
        declare: Option<String>,
        /// One account's hold; `None` is the company-wide hold.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        /// Set when herald's disaster feed asks (the JMA message: EventID,
        /// link, title): it is audited, such a declaration never replaces
        /// one a person made, and such a lift never lifts one a person made.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<serde_json::Value>,
    },
    Approve {
        delivery: String,
    },
    Reject {
        delivery: String,
        reason: String,
    },
    Cancel {
        delivery: String,
        reason: Option<String>,
    },
    Retry {
        delivery: String,
    },
    Retract {
        delivery: String,
        reason: String,
    },
    Audit {
        since: Option<DateTime<Utc>>,
        verify: bool,
    },
    Doctor,
}

impl Request {
    /// Whether the request changes anything (logged at info, answered
    /// only once durable).
    pub fn mutates(&self) -> bool {
        !matches!(
            self,
            Request::Status
                | Request::Accounts { .. }
                | Request::Queue { .. }
                | Request::History { .. }
                | Request::Show { .. }
                | Request::Audit { .. }
                | Request::Doctor
        )
    }

    /// The request's name, as the CLI spells the subcommand.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Accounts { .. } => "accounts",
            Request::Queue { .. } => "queue",
            Request::History { .. } => "history",
            Request::Show { .. } => "show",
            Request::Pause { .. } => "pause",
            Request::Resume { .. } => "resume",
            Request::Freeze { .. } => "freeze",
            Request::Thaw => "thaw",
            Request::DisasterHold { .. } => "disaster-hold",
            Request::Approve { .. } => "approve",
            Request::Reject { .. } => "reject",
            Request::Cancel { .. } => "cancel",
            Request::Retry { .. } => "retry",
            Request::Retract { .. } => "retract",
            Request::Audit { .. } => "audit",
            Request::Doctor => "doctor",
        }
    }
}

/// The daemon's answer. `data` is the subcommand's `--json` document, whose
/// shape docs/admin.md documents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Response {
    Ok { data: serde_json::Value },
    Error { message: String },
}

impl Response {
    pub fn error(message: impl Into<String>) -> Response {
        Response::Error {
            message: message.into(),
        }
    }
}
