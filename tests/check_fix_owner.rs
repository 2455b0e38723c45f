//! `herald check --fix` replaces the post file by rename; the new file
//! keeps the original's owner, group and mode, and a user who may not give
//! it that owner gets a refusal, not a file that changed hands. Both need
//! root (to hand files to another uid and to run as one): elsewhere they
//! report a skip, which fails under HERALD_TEST_STRICT=1 (CI).

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use common::{Env, TOKYO};

/// nobody:nogroup on Debian.
const OTHER: u32 = 65534;
const WIDE: &str = "{\"text\": \"ｶﾀﾛｸﾞを公開\"}\n";
const FIXED: &str = "{\"text\": \"カタログを公開\"}\n";

/// Tokyo with the width rule, whose half-width katakana finding is a fix.
fn env() -> Env {
    let env = Env::new(&format!(
        "{TOKYO}rulebooks = [\"style\"]\n\n[rulebooks.style.rules.width]\n"
    ));
    // Another uid must read the config and reach the folder.
    for dir in [env.dir.path(), &env.config.daemon.queue_dir] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env
}

fn fix(env: &Env, file: &std::path::Path, uid: Option<u32>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.args(["check", "--config"])
        .arg(&env.config.path)
        .arg("--fix")
        .arg(file);
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    cmd.output().expect("herald runs")
}

fn names(env: &Env) -> Vec<String> {
    std::fs::read_dir(env.folder("tokyo"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn fixing_someone_elses_file_as_root_keeps_its_owner_group_and_mode() {
    if !common::running_as_root("handing the post file to another uid") {
        return;
    }
    let env = env();
    let f = env.drop_post("tokyo", "p.json", WIDE);
    std::os::unix::fs::chown(&f, Some(OTHER), Some(OTHER)).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = fix(&env, &f, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("fixed 1 place(s)"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), FIXED);
    let meta = std::fs::metadata(&f).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (OTHER, OTHER),
        "the owner's file stays the owner's"
    );
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(names(&env), ["p.json"]);
}

#[test]
fn a_user_who_cannot_keep_the_owner_is_refused_and_the_file_is_unchanged() {
    if !common::running_as_root("running --fix as a second uid") {
        return;
    }
    let env = env();
    // root's file in a folder anyone may write to: nobody could replace it,
    // but the new file would be nobody's.
    std::fs::set_permissions(env.folder("tokyo"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let f = env.drop_post("tokyo", "p.json", WIDE);
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = fix(&env, &f, Some(OTHER));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{}: not fixed:", f.display())), "{stdout}");
    assert!(stdout.contains("belongs to root (uid 0), group root"), "{stdout}");
    assert!(stdout.contains("would change its owner"), "{stdout}");
    assert!(stdout.contains("Run --fix as its owner"), "{stdout}");
    assert!(stdout.contains("the original is unchanged"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), WIDE);
    let meta = std::fs::metadata(&f).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0));
    assert_eq!(names(&env), ["p.json"], "no temporary file is left");
}
