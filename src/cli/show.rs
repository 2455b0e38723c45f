//! `herald show DELIVERY`: everything about one delivery — its file, text,
//! findings, attempts with the platform's answers, link and audit entries.

use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask, human, load, print_json, text, utc_second};
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The delivery id (or an unambiguous beginning of it).
    pub delivery: String,
    #[arg(long)]
    pub json: bool,
}

pub fn run(config_path: &Path, args: ShowArgs) -> ExitCode {
    let config = match load(config_path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (d, _) = match ask(
        &config,
        Request::Show {
            delivery: args.delivery,
        },
    ) {
        Ok(v) => v,
        Err(code) => return code,
    };
    if args.json {
        print_json(&d);
        return ExitCode::SUCCESS;
    }
    println!("delivery   {}", text(&d["id"]));
    println!("account    {}", text(&d["account"]));
    println!(
        "file       {} ({})",
        text(&d["file_path"]),
        if d["file_exists"] == true {
            "present"
        } else {
            "not found"
        }
    );
    println!("state      {}", text(&d["state"]));
    if !d["reason"].is_null() {
        println!("why        {}", text(&d["reason"]));
    }
    println!("kind       {}    verdict {}", text(&d["kind"]), text(&d["verdict"]));
    println!("scheduled  {}    due {}", human(&d["scheduled_for"]), human(&d["due"]));
    if let Some(p) = d["published"].as_object() {
        println!("published  {} {}", human(&p["at"]), text(&p["url"]));
    }
    for (i, part) in d["text"].as_array().into_iter().flatten().enumerate() {
        println!("\n--- part {} ---\n{}", i + 1, text(part));
    }
    let findings = d["findings"].as_array().cloned().unwrap_or_default();
    if !findings.is_empty() {
        println!("\nfindings:");
        for f in &findings {
            println!(
                "  [{}] {} {} (part {}, line {}, column {}: \"{}\")",
                text(&f["severity"]),
                text(&f["rule"]),
                text(&f["message"]),
                f["part"].as_u64().unwrap_or(0) + 1,
                f["line"],
                f["column"],
                text(&f["matched"])
            );
        }
    }
    let attempts = d["attempts"].as_array().cloned().unwrap_or_default();
    if !attempts.is_empty() {
        println!("\nattempts:");
        for a in &attempts {
            println!(
                "  {}  {} → {}  {}",
                a["n"],
                human(&a["started_at"]),
                human(&a["finished_at"]),
                text(&a["outcome"])
            );
        }
    }
    let entries = d["audit"].as_array().cloned().unwrap_or_default();
    if !entries.is_empty() {
        println!("\naudit:");
        for e in &entries {
            let actor = match &e["actor"] {
                serde_json::Value::String(s) => s.clone(),
                a => text(&a["name"]),
            };
            println!(
                "  {}  {:<22} {actor}  {}",
                utc_second(&e["at"]),
                text(&e["event"]),
                e["detail"]
            );
        }
    }
    ExitCode::SUCCESS
}
