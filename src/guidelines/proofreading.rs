//! `proofreading`: the house style kept in prh dictionaries (表記揺れ, product
//! spellings, fixed expressions). Each hit is a finding whose suggestion is
//! prh's replacement, so the owner sees exactly what to write instead.

use std::sync::Arc;

use super::prh::Dictionary;
use super::{Draft, Finding, Rule, RuleSetup};

pub struct Proofreading {
    setup: RuleSetup,
    dictionaries: Vec<Arc<Dictionary>>,
}

impl Proofreading {
    pub fn new(setup: RuleSetup, dictionaries: Vec<Arc<Dictionary>>) -> Proofreading {
        Proofreading { setup, dictionaries }
    }
}

impl Rule for Proofreading {
    fn id(&self) -> &str {
        &self.setup.id
    }

    fn check(&self, draft: &Draft<'_>, out: &mut Vec<Finding>) {
        for (i, part) in draft.parts.iter().enumerate() {
            for dict in &self.dictionaries {
                for hit in dict.check(&part.text) {
                    let why = hit
                        .description
                        .as_deref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default();
                    let message = match &self.setup.message {
                        Some(template) => template
                            .replace("{term}", &hit.matched)
                            .replace("{expected}", &hit.replacement),
                        None => format!(
                            "the house style writes \"{}\", not \"{}\"{why}.",
                            hit.replacement, hit.matched
                        ),
                    };
                    let suggestion = Some(format!("Write \"{}\".", hit.replacement));
                    out.push(
                        self.setup
                            .finding(i, hit.start, hit.end, &hit.matched, message, suggestion),
                    );
                }
            }
        }
    }
}
