//! deploy/install.sh and the unit checks, run into a scratch root
//! (`DESTDIR`) with the binary cargo built for these tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn install(root: &Path, args: &[&str]) -> Output {
    let out = Command::new(repo().join("deploy/install.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_herald")])
        .args(args)
        .env("DESTDIR", root)
        .output()
        .expect("running deploy/install.sh");
    assert!(
        out.status.success(),
        "install.sh {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path.trim_start_matches('/'))).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const SHIPPED: &[&str] = &[
    "usr/bin/herald",
    "usr/sbin/herald-add-account",
    "usr/lib/systemd/system/herald.service",
    "usr/lib/sysusers.d/herald.conf",
    "usr/lib/tmpfiles.d/herald.conf",
    "usr/share/doc/herald/README.md",
    "usr/share/man/man1/herald.1",
    "usr/share/bash-completion/completions/herald",
    "usr/share/zsh/site-functions/_herald",
    "usr/share/fish/vendor_completions.d/herald.fish",
];

#[test]
fn install_is_idempotent_keeps_edited_config_and_uninstall_keeps_data() {
    let root = tempfile::tempdir().unwrap();
    let first = install(root.path(), &[]);
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(said.contains("Next steps"), "{said}");
    assert!(said.contains("nothing was applied to this system"), "{said}");
    for f in SHIPPED {
        assert!(root.path().join(f).exists(), "{f} missing");
    }
    assert!(root.path().join("etc/herald/credentials").is_dir());
    assert!(root.path().join("etc/herald/dictionaries/corporate.yml").is_file());
    let unit = read(root.path(), "/usr/lib/systemd/system/herald.service");
    assert!(unit.contains("ExecStart=/usr/bin/herald run"), "{unit}");
    // The installed config is one herald accepts, once its folders exist.
    let config = read(root.path(), "/etc/herald/herald.toml");
    assert!(config.contains("queue_dir = \"/var/spool/herald\""));

    // An admin edits the config; installing again keeps the edit.
    let edited = format!("{config}\n# edited by ops\n");
    std::fs::write(root.path().join("etc/herald/herald.toml"), &edited).unwrap();
    let second = install(root.path(), &[]);
    assert!(String::from_utf8_lossy(&second.stdout).contains("kept      /etc/herald/herald.toml"));
    assert_eq!(read(root.path(), "/etc/herald/herald.toml"), edited);

    let out = install(root.path(), &["--uninstall"]);
    for f in SHIPPED {
        assert!(!root.path().join(f).exists(), "{f} still there after --uninstall");
    }
    assert_eq!(read(root.path(), "/etc/herald/herald.toml"), edited);
    assert!(String::from_utf8_lossy(&out.stdout).contains("/var/spool/herald (owners' post files)"));
}

#[test]
fn the_unit_names_the_binary_where_the_prefix_put_it() {
    let root = tempfile::tempdir().unwrap();
    install(root.path(), &["--prefix", "/usr/local"]);
    assert!(root.path().join("usr/local/bin/herald").exists());
    let unit = read(root.path(), "/usr/lib/systemd/system/herald.service");
    assert!(unit.contains("ExecStart=/usr/local/bin/herald run"), "{unit}");
}

#[test]
fn the_installed_config_parses_once_the_queue_exists() {
    let root = tempfile::tempdir().unwrap();
    install(root.path(), &[]);
    // The installed file with its paths moved into the scratch root.
    let text = read(root.path(), "/etc/herald/herald.toml")
        .replace("/var/spool/herald", &root.path().join("spool").display().to_string())
        .replace("/var/lib/herald", &root.path().join("lib").display().to_string());
    std::fs::create_dir_all(root.path().join("spool")).unwrap();
    let path = root.path().join("etc/herald/herald.toml");
    let config = herald::config::parse(&path, &text).unwrap_or_else(|e| panic!("installed config: {e}"));
    assert!(config.rulebooks.contains_key("company"));
    assert!(config.accounts.is_empty());
}

/// `systemd-analyze verify` says nothing and `systemd-analyze security`
/// rates the unit 2.0 or lower (deploy/check.sh; CI installs systemd).
#[test]
fn the_unit_passes_systemd_analyze_verify_and_security() {
    let out = Command::new(repo().join("deploy/check.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_herald")])
        .output()
        .expect("running deploy/check.sh");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "deploy/check.sh failed:\n{said}");
    assert!(said.contains("must be <= 2.0"), "{said}");
}

#[test]
fn an_unknown_argument_is_refused_with_the_usage() {
    let out = Command::new(repo().join("deploy/install.sh"))
        .arg("--prefx=/opt")
        .env("DESTDIR", "/nonexistent-herald-test-root")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown argument '--prefx=/opt'"), "{err}");
    assert!(err.contains("--uninstall"), "the usage follows: {err}");
    assert!(!Path::new("/nonexistent-herald-test-root").exists());
}

fn add_account(root: &Path, args: &[&str]) -> Output {
    Command::new(repo().join("deploy/add-account.sh"))
        .args(args)
        .env("DESTDIR", root)
        .output()
        .expect("running deploy/add-account.sh")
}

#[test]
fn add_account_writes_each_line_once_and_refuses_bad_ids() {
    let root = tempfile::tempdir().unwrap();
    assert!(add_account(root.path(), &["tokyo-news", "hanako", "ken"])
        .status
        .success());
    let again = add_account(root.path(), &["tokyo-news", "hanako", "mia"]);
    assert!(again.status.success());
    assert_eq!(
        read(root.path(), "/etc/sysusers.d/herald-accounts.conf"),
        "g herald-tokyo-news -\nm hanako herald-tokyo-news\nm ken herald-tokyo-news\nm mia herald-tokyo-news\n"
    );
    let tmpfiles = read(root.path(), "/etc/tmpfiles.d/herald-accounts.conf");
    assert_eq!(tmpfiles.lines().count(), 2, "{tmpfiles}");
    assert!(tmpfiles.starts_with("d  /var/spool/herald/tokyo-news 2770 herald herald-tokyo-news -\n"));
    assert!(tmpfiles.contains("default:user:herald:rwx"), "{tmpfiles}");
    assert!(
        !tmpfiles.contains('X'),
        "systemd-tmpfiles rejects setfacl's X: {tmpfiles}"
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("id = \"tokyo-news\""));

    for bad in ["Tokyo", ".hidden", "a.b", "a-very-long-account-id-for-a-group"] {
        let out = add_account(root.path(), &[bad]);
        assert_eq!(out.status.code(), Some(2), "{bad} was accepted");
    }
    assert_eq!(add_account(root.path(), &["ok", "Bad User"]).status.code(), Some(2));
}
