//! Where herald's log goes, and in which shape.
//!
//! Exactly one destination at a time, so no line is written twice:
//! - under systemd (`$JOURNAL_STREAM` names our stderr), the journal, with
//!   the event's fields as journal fields: `ACCOUNT=`, `DELIVERY=`, `RULE=`,
//!   `STATE=`… (`journalctl -u herald ACCOUNT=tokyo-news`);
//! - otherwise human-readable lines on stderr (colour only on a terminal);
//! - `--log-format json`: one JSON object per line on stderr, for collectors.
//!
//! `HERALD_LOG` filters (`info` by default; `debug`, `herald=trace`, …).

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// The journal under systemd, else human-readable on stderr.
    #[default]
    Auto,
    /// Human-readable lines on stderr.
    Human,
    /// One JSON object per line on stderr.
    Json,
    /// The systemd journal, with structured fields.
    Journal,
}

/// Where the log went, for a first line that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Human,
    Json,
    Journal,
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Whether `$JOURNAL_STREAM` ("device:inode") names the file stderr is,
/// as systemd.exec(5) says to check: a child whose stderr was redirected
/// elsewhere must not log to the journal.
pub fn stderr_is_journal(journal_stream: Option<&str>) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some((dev, ino)) = journal_stream.and_then(parse_journal_stream) else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(m) => m.dev() == dev && m.ino() == ino,
        Err(_) => false,
    }
}

/// "8:12345" → (8, 12345).
pub fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.trim().split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// Installs the global subscriber. Returns where logs go; if the journal
/// was asked for but cannot be reached, logs go to stderr and a warning
/// says why.
pub fn init(format: LogFormat) -> Destination {
    let want_journal = match format {
        LogFormat::Journal => true,
        LogFormat::Auto => stderr_is_journal(std::env::var("JOURNAL_STREAM").ok().as_deref()),
        LogFormat::Human | LogFormat::Json => false,
    };
    let mut journal_error = None;
    if want_journal {
        match tracing_journald::layer() {
            Ok(layer) => {
                // Field names as they are (ACCOUNT=, not F_ACCOUNT=).
                // info is syslog's "informational" (6), as journalctl -p expects.
                let priorities = tracing_journald::PriorityMappings {
                    info: tracing_journald::Priority::Informational,
                    debug: tracing_journald::Priority::Debug,
                    ..tracing_journald::PriorityMappings::new()
                };
                let layer = layer
                    .with_field_prefix(None)
                    .with_syslog_identifier("herald".into())
                    .with_priority_mappings(priorities);
                if tracing_subscriber::registry()
                    .with(filter())
                    .with(layer)
                    .try_init()
                    .is_ok()
                {
                    return Destination::Journal;
                }
            }
            Err(e) => journal_error = Some(e),
        }
    }
    let destination = if format == LogFormat::Json {
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .try_init();
        Destination::Json
    } else {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(|| OneLinePerEvent)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .try_init();
        Destination::Human
    };
    if let Some(e) = journal_error {
        tracing::warn!("cannot log to the journal ({e}); logging to stderr instead");
    }
    destination
}

/// stderr for the human log, one line per event whatever the fields hold
/// (see [`crate::terminal::safe_log_event`]). The formatter hands over each
/// event whole, in one `write_all`.
struct OneLinePerEvent;

impl std::io::Write for OneLinePerEvent {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let event = crate::terminal::safe_log_event(&String::from_utf8_lossy(buf));
        std::io::stderr().lock().write_all(event.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_is_device_colon_inode() {
        assert_eq!(parse_journal_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_journal_stream(" 0:1\n"), Some((0, 1)));
        assert_eq!(parse_journal_stream("8"), None);
        assert_eq!(parse_journal_stream("a:b"), None);
    }

    #[test]
    fn a_journal_stream_naming_another_file_is_not_ours() {
        assert!(!stderr_is_journal(None));
        assert!(!stderr_is_journal(Some("0:0")));
        assert!(!stderr_is_journal(Some("garbage")));
    }
}
