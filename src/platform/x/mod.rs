//! X (Twitter) API v2: X's weighted text length exactly as twitter-text
//! 3.1.0 counts it, OAuth 1.0a signing, OAuth 2.0 (PKCE, rotating refresh
//! tokens), the credentials files, the request bodies, and the client that
//! publishes threads with media.

pub mod client;
pub mod credentials;
pub mod length;
pub mod media;
pub mod oauth1;
pub mod oauth2;
pub mod requests;

pub use client::XClient;

use crate::guidelines::TextMetric;

/// X's weighted length against its 280 limit (CJK characters and emoji
/// count 2, every URL 23).
pub struct XLength;

impl TextMetric for XLength {
    fn platform(&self) -> &str {
        "x"
    }

    fn length(&self, text: &str) -> usize {
        length::weighted_length(text).weighted
    }

    fn limit(&self) -> usize {
        length::X_MAX_WEIGHTED_LENGTH
    }
}
