//! `length`: a part longer than its platform allows is refused by the
//! platform, so herald finds it before the scheduled time.

use super::{Context, Finding, Rule, RuleSetup};

pub struct Length {
    setup: RuleSetup,
}

impl Length {
    pub fn new(setup: RuleSetup) -> Length {
        Length { setup }
    }
}

impl Rule for Length {
    fn id(&self) -> &str {
        "length"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let draft = cx.draft;
        let metric = draft.metric;
        let limit = metric.limit();
        for (i, part) in draft.parts.iter().enumerate() {
            let length = metric.length(&part.text);
            if length <= limit {
                continue;
            }
            // The span starts where the text stops fitting, so the caret
            // shows the owner what would be cut.
            // A prefix's length never decreases as it grows, so a binary
            // search over the character boundaries finds the first prefix
            // over the limit in O(log n) measurements (not O(n)).
            let bounds: Vec<usize> = part
                .text
                .char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(part.text.len()))
                .collect();
            let first_over = bounds.partition_point(|b| metric.length(&part.text[..*b]) <= limit);
            let cut = bounds
                .get(first_over)
                .map(|b| part.text[..*b].char_indices().last().map_or(0, |(p, _)| p))
                .unwrap_or(0);
            let over = length - limit;
            out.push(self.setup.finding(
                i,
                cut,
                part.text.len(),
                &part.text[cut..],
                format!(
                    "part {} is {length} long as {} counts it; the limit is {limit}. Shorten it by {over}, or split it into a thread.",
                    i + 1,
                    metric.platform()
                ),
                Some("Shorten the text or split it into a thread.".to_string()),
            ));
        }
    }
}
