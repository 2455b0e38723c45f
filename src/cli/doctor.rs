//! `herald doctor`: checks the installation and says what to fix.

use std::path::Path;
use std::process::ExitCode;

use super::ask::{ask, print_json, text};
use crate::control::Request;

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    #[arg(long)]
    pub json: bool,
}

pub fn run(config_path: &Path, args: DoctorArgs) -> ExitCode {
    let config = match crate::config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            if args.json {
                print_json(
                    &serde_json::json!({"healthy": false, "checks": [{"check": "config", "status": "fail", "detail": e.to_string()}]}),
                );
            } else {
                println!("FAIL  config  {e}");
            }
            return ExitCode::from(1);
        }
    };
    let (v, _) = match ask(&config, Request::Doctor) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if args.json {
        print_json(&v);
    } else {
        for c in v["checks"].as_array().into_iter().flatten() {
            println!(
                "{:<5} {:<28} {}",
                text(&c["status"]).to_uppercase(),
                text(&c["check"]),
                text(&c["detail"])
            );
        }
    }
    if v["healthy"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
