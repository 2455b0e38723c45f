//! The delivery record and its state machine.
//!
//! ```text
//! scheduled ──► publishing ──► published ──► retracted
//!    │  ▲            │
//!    │  └── (retry) ─┤──► failed
//!    │               └──► rejected (the platform refused it)
//!    ├──► held ──► scheduled (approved) / rejected / cancelled
//!    ├──► cancelled (file deleted or edited)
//!    └──► expired (later than its max lateness)
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::guidelines::{Finding, Verdict};
use crate::queue::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Scheduled,
    Held,
    Publishing,
    Published,
    Failed,
    Rejected,
    Cancelled,
    Expired,
    Retracted,
}

impl State {
    pub const ALL: [State; 9] = [
        State::Scheduled,
        State::Held,
        State::Publishing,
        State::Published,
        State::Failed,
        State::Rejected,
        State::Cancelled,
        State::Expired,
        State::Retracted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Scheduled => "scheduled",
            State::Held => "held",
            State::Publishing => "publishing",
            State::Published => "published",
            State::Failed => "failed",
            State::Rejected => "rejected",
            State::Cancelled => "cancelled",
            State::Expired => "expired",
            State::Retracted => "retracted",
        }
    }

    /// States that still need herald to do something.
    pub fn is_pending(self) -> bool {
        matches!(self, State::Scheduled | State::Held | State::Publishing)
    }
}

/// One try at publishing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attempt {
    pub n: u32,
    /// Sent to platforms that deduplicate (Mastodon's Idempotency-Key, a
    /// Bluesky rkey); stable across the attempts of one delivery.
    pub idempotency_key: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the platform answered, in words; None while the outcome is unknown.
    pub outcome: Option<String>,
    /// The newest remote id herald had recorded for the account when this
    /// attempt started: a post this attempt made is newer, so looking for
    /// it later reads the account's posts after this id (X's `since_id`)
    /// rather than after a clock reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_id: Option<String>,
}

/// An attached file, as the post file names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MediaRef {
    pub path: String,
    pub alt: Option<String>,
}

/// Where a delivery was published.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Publication {
    pub at: DateTime<Utc>,
    pub url: Option<String>,
    /// The platform's ids of the posts, one per thread part.
    pub remote_ids: Vec<String>,
}

/// One publication of a post at one instant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    pub v: u32,
    pub id: String,
    pub account: String,
    /// The post file's name in the account's folder.
    pub file: String,
    pub content_hash: String,
    /// For recurring posts, the occurrence this delivery is for.
    pub occurrence: Option<DateTime<Utc>>,
    pub kind: Kind,
    /// The post's own max lateness, when it overrides the account's.
    #[serde(default)]
    pub max_lateness_secs: Option<u64>,
    /// The text of each part, kept for history and retraction.
    pub text: Vec<String>,
    /// Each part's media, relative to the account's folder.
    #[serde(default)]
    pub media: Vec<Vec<MediaRef>>,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    /// When it was meant to go out (the post's own time).
    pub scheduled_for: DateTime<Utc>,
    /// When it may go out, after quiet hours, pacing and retries.
    pub due: DateTime<Utc>,
    pub state: State,
    /// Why it is in its state, in words an owner can read.
    pub reason: Option<String>,
    pub attempts: Vec<Attempt>,
    pub published: Option<Publication>,
    /// Remote ids of the thread parts already published, in order, recorded
    /// one by one as they succeed so that a retry resumes after them.
    #[serde(default)]
    pub parts_done: Vec<String>,
    /// When the attempt whose outcome is unknown (timeout after sending, a
    /// crash mid-request) started; the next attempt reconciles first.
    #[serde(default)]
    pub unsure_since: Option<DateTime<Utc>>,
    /// When an admin last told herald to publish it now (approve, retry):
    /// its lateness counts from that instant, not from its own time, so
    /// that an approved late post is not held again as stale.
    #[serde(default)]
    pub released_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A delivery's id: short, stable, and derived from what identifies it (the
/// account, the file and the content or occurrence), so that a restart finds
/// the same delivery instead of making a second one.
pub fn delivery_id(account: &str, file: &str, discriminator: &str) -> String {
    let mut h = Sha256::new();
    for part in [account, file, discriminator] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("d{}", &hex::encode(h.finalize())[..12])
}

/// A file's content hash.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Delivery {
    /// Whether something of it may be live on the platform: thread parts
    /// already published, or an attempt whose outcome is unknown.
    pub fn may_be_live(&self) -> bool {
        !self.parts_done.is_empty() || self.unsure_since.is_some()
    }

    /// Moves to a new state with a reason, stamping the time.
    pub fn transition(&mut self, state: State, reason: Option<String>, now: DateTime<Utc>) {
        self.state = state;
        self.reason = reason;
        self.updated_at = now;
    }
}
