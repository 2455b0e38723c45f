//! `herald approve|reject|cancel|retry|retract DELIVERY`: an admin decides
//! about one delivery.

use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask, human, load, print_json, text};
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct DeliveryArgs {
    /// The delivery id (or an unambiguous beginning of it).
    pub delivery: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ReasonArgs {
    pub delivery: String,
    /// Why (the owner reads it in the note beside the file; the audit log keeps it).
    #[arg(long)]
    pub reason: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct CancelArgs {
    pub delivery: String,
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub json: bool,
}

fn send(config_path: &Path, request: Request, json: bool, say: impl Fn(&serde_json::Value) -> String) -> ExitCode {
    let config = match load(config_path) {
        Ok(c) => c,
        Err(c) => return c,
    };
    match ask(&config, request) {
        Ok((v, _)) => {
            if json {
                print_json(&v);
            } else {
                println!("{}", say(&v));
            }
            ExitCode::SUCCESS
        }
        Err(c) => c,
    }
}

fn moved(v: &serde_json::Value) -> String {
    match &v["moved_to"] {
        serde_json::Value::String(p) => format!("; the file is now {p}"),
        _ => String::new(),
    }
}

pub fn approve(config_path: &Path, a: DeliveryArgs) -> ExitCode {
    send(config_path, Request::Approve { delivery: a.delivery }, a.json, |v| {
        let d = &v["delivery"];
        format!("approved {}: due {}", text(&d["id"]), human(&d["due"]))
    })
}

pub fn reject(config_path: &Path, a: ReasonArgs) -> ExitCode {
    let request = Request::Reject {
        delivery: a.delivery,
        reason: a.reason,
    };
    send(config_path, request, a.json, |v| {
        format!("rejected {}{}", text(&v["delivery"]["id"]), moved(v))
    })
}

pub fn cancel(config_path: &Path, a: CancelArgs) -> ExitCode {
    let request = Request::Cancel {
        delivery: a.delivery,
        reason: a.reason,
    };
    send(config_path, request, a.json, |v| {
        format!("cancelled {}{}", text(&v["delivery"]["id"]), moved(v))
    })
}

pub fn retry(config_path: &Path, a: DeliveryArgs) -> ExitCode {
    send(config_path, Request::Retry { delivery: a.delivery }, a.json, |v| {
        format!("{} will be tried again now", text(&v["delivery"]["id"]))
    })
}

pub fn retract(config_path: &Path, a: ReasonArgs) -> ExitCode {
    let request = Request::Retract {
        delivery: a.delivery,
        reason: a.reason,
    };
    send(config_path, request, a.json, |v| {
        let d = &v["delivery"];
        format!(
            "retracted {}: deleted {} from the platform; the record stays, marked retracted",
            text(&d["id"]),
            text(&d["url"])
        )
    })
}
