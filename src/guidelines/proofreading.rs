//! `proofreading`: the house style kept in prh dictionaries (表記揺れ, product
//! spellings, fixed expressions). Each hit is a finding whose suggestion is
//! prh's replacement, so the owner sees exactly what to write instead.

use std::sync::Arc;

use super::prh::Dictionary;
use super::{Context, Finding, Lang, Rule, RuleSetup};

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

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (i, part) in cx.draft.parts.iter().enumerate() {
            for dict in &self.dictionaries {
                for hit in dict.check(&part.text) {
                    let why = hit.description.as_deref();
                    let message = match &self.setup.message {
                        Some(template) => template
                            .replace("{term}", &hit.matched)
                            .replace("{expected}", &hit.replacement),
                        None => match cx.lang {
                            Lang::Ja => format!(
                                "表記ルールでは「{}」ではなく「{}」と書きます{}{}",
                                hit.matched,
                                hit.replacement,
                                why.map(|d| format!("（{d}）")).unwrap_or_default(),
                                self.setup.cite(cx.lang)
                            ),
                            Lang::En => format!(
                                "the house style writes \"{}\", not \"{}\"{}{}",
                                hit.replacement,
                                hit.matched,
                                why.map(|d| format!(" ({d})")).unwrap_or_default(),
                                self.setup.cite(cx.lang)
                            ),
                        },
                    };
                    let suggestion = Some(cx.lang.say(
                        format!("「{}」と書いてください。", hit.replacement),
                        format!("Write \"{}\".", hit.replacement),
                    ));
                    let mut f = self
                        .setup
                        .finding(i, hit.start, hit.end, &hit.matched, message, suggestion);
                    f.replacement = Some(hit.replacement.clone());
                    out.push(f);
                }
            }
        }
    }
}
