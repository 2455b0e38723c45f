//! `herald preview [--format json] FILE`: the exact requests herald would
//! make to publish a post file — method, URL, JSON body — without sending
//! anything and without credentials (the Authorization header is shown
//! redacted). Ids X assigns (media, earlier thread parts) appear as numbered
//! placeholders of X's id shape, listed at the end.
//!
//! Exit status: 0 previewed, 3 the file or the config could not be read or
//! the account does not publish to X.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use crate::config::{Account, Config, PlatformKind};
use crate::platform::x::requests::{plan, PlannedPart};

#[derive(clap::Args, Debug)]
pub struct PreviewArgs {
    /// The account to preview for [default: the file's queue folder].
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// human or json.
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = ["human", "json"])]
    pub format: String,
    /// The post file (.json or .md).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

fn account_for<'c>(config: &'c Config, file: &Path, flag: Option<&str>) -> anyhow::Result<&'c Account> {
    let id = match flag {
        Some(id) => id.to_string(),
        None => file
            .canonicalize()
            .ok()
            .and_then(|p| {
                p.parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_default(),
    };
    config.account(&id).ok_or_else(|| match flag {
        Some(_) => anyhow::anyhow!("there is no account \"{id}\" in {}", config.path.display()),
        None => anyhow::anyhow!(
            "{}: cannot tell which account this file is for: its folder \"{id}\" is not an account. Put it in queue/<account>/ or pass --account.",
            file.display()
        ),
    })
}

pub fn run(config_path: &Path, args: PreviewArgs) -> ExitCode {
    match preview(config_path, &args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(3, &e),
    }
}

fn preview(config_path: &Path, args: &PreviewArgs) -> anyhow::Result<String> {
    let config = crate::config::load(config_path)?;
    let account = account_for(&config, &args.file, args.account.as_deref())?;
    if account.platform != PlatformKind::X {
        anyhow::bail!(
            "account \"{}\" publishes to {}; herald preview shows the requests of X accounts only",
            account.id,
            account.platform.name()
        );
    }
    let folder = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let post = crate::queue::post::read(&args.file, folder, account.time_zone, config.daemon.max_file_bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    // X would refuse this post's media after the uploads: refuse now.
    let file_text = std::fs::read_to_string(&args.file).unwrap_or_default();
    let refused: Vec<String> = crate::platform::media_findings(PlatformKind::X, &post, &file_text)
        .into_iter()
        .filter(|f| f.severity == crate::config::Severity::Block)
        .map(|f| {
            format!(
                "{}:{}:{}: {}{}",
                args.file.display(),
                f.line,
                f.column,
                f.message,
                f.suggestion.map(|s| format!(". {s}")).unwrap_or_default()
            )
        })
        .collect();
    if !refused.is_empty() {
        anyhow::bail!(
            "X would refuse this post, so herald plans no requests for it:\n{}",
            refused.join("\n")
        );
    }
    // What looks like a credential is shown masked (DESIGN.md invariant 6):
    // such a post is blocked by the secret rule and never sent anyway.
    let texts: Vec<String> = post
        .parts
        .iter()
        .map(|p| crate::guidelines::redact::mask_credentials(&p.text))
        .collect();
    let parts: Vec<PlannedPart<'_>> = post
        .parts
        .iter()
        .zip(&texts)
        .map(|(p, text)| PlannedPart {
            text,
            media: p.media.iter().map(|m| (m.path.as_path(), m.alt.as_deref())).collect(),
        })
        .collect();
    let plan = plan(&config.x.api_base, &parts).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    // What X bills for creating it ([costs]).
    let cost = crate::alerts::costs::price(&config.alerts.costs, &texts);
    if args.format == "json" {
        let requests: Vec<_> = plan
            .requests
            .iter()
            .map(|r| {
                let mut headers = json!({"authorization": "<redacted>"});
                if r.body.is_some() {
                    headers["content-type"] = json!("application/json");
                }
                json!({"method": r.method, "url": r.url, "headers": headers, "body": r.body, "note": r.note})
            })
            .collect();
        let placeholders: serde_json::Map<String, serde_json::Value> =
            plan.placeholders.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let out = json!({
            "account": account.id,
            "platform": "x",
            "cost": cost,
            "file": args.file,
            "requests": requests,
            "placeholders": placeholders,
        });
        return Ok(format!("{}\n", serde_json::to_string_pretty(&out)?));
    }
    let mut out = format!(
        "{} request(s) herald would send for {} (account {}); nothing was sent.\n",
        plan.requests.len(),
        args.file.display(),
        account.id
    );
    for (i, r) in plan.requests.iter().enumerate() {
        out.push_str(&format!(
            "\n#{} {} — {}\n{} {}\n",
            i + 1,
            r.method,
            r.note,
            r.method,
            r.url
        ));
        out.push_str("Authorization: <redacted>\n");
        if let Some(body) = &r.body {
            out.push_str("Content-Type: application/json\n\n");
            out.push_str(&serde_json::to_string_pretty(body)?);
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "\n{}\n",
        crate::alerts::costs::describe(&config.alerts.costs, &cost)
    ));
    if !plan.placeholders.is_empty() {
        out.push_str("\nPlaceholders (X assigns these ids when herald sends):\n");
        for (id, what) in &plan.placeholders {
            out.push_str(&format!("  {id}  {what}\n"));
        }
    }
    Ok(out)
}
