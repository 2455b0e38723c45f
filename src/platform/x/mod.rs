//! X (Twitter) API v2. So far: X's weighted text length, exactly as
//! twitter-text 3.1.0 counts it, and the OAuth 1.0a request signer. The
//! client itself (posting, threads, media, rate limits) is not built yet.

pub mod length;
pub mod oauth1;

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
