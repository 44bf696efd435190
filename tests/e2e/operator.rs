//! What an operator sees: a progress bar at a terminal and nowhere else (never in `--json`),
//! profiles that explain themselves, the manual page and shell completions.

use std::path::Path;

use crate::harness::*;

const BAR: &str = "pages \u{b7} document";

/// Runs a shell command line under a pseudo-terminal (`script`), so stdin/stdout/stderr are a
/// terminal; returns the exit status and everything the terminal showed.
fn in_terminal(command: &str) -> (Option<i32>, String) {
    let out = tool("script", &["-qec", command, "/dev/null"]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.display())
}

#[test]
fn progress_shows_at_a_terminal_only() {
    let keydir = TempDir::new("progress-keys");
    let keys = keygen(keydir.path());
    let bin = quoted(Path::new(BIN));
    let demo = quoted(&project("testdata/demo-batch"));
    let key = quoted(&keys.private);

    let archive = TempDir::new("progress-tty");
    let (code, screen) = in_terminal(&format!(
        "{bin} ingest {demo} --archive {} --key {key} --profile image-only",
        quoted(archive.path())
    ));
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains(BAR), "no progress bar at a terminal:\n{screen}");
    assert!(
        screen.contains("5/5 pages") && screen.contains("document 3/3"),
        "{screen}"
    );

    let archive = TempDir::new("progress-quiet");
    let (code, screen) = in_terminal(&format!(
        "{bin} --quiet ingest {demo} --archive {} --key {key} --profile image-only",
        quoted(archive.path())
    ));
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains(BAR), "--quiet still drew a bar:\n{screen}");
    assert!(screen.contains("published batch"), "{screen}");

    let archive = TempDir::new("progress-pipe");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", "image-only"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains(BAR),
        "a bar on a stderr that is no terminal"
    );

    // run --json at a terminal: the bar goes to the terminal, the JSON to stdout untouched.
    let inbox = TempDir::new("progress-inbox");
    copy_tree(&project("testdata/demo-batch"), &inbox.join("b1"));
    let archive = TempDir::new("progress-run");
    let json = inbox.join("summary.json.out");
    let (code, screen) = in_terminal(&format!(
        "{bin} run --inbox {} --archive {} --key {key} --profile image-only --settle-seconds 0 --json > {}",
        quoted(inbox.path()),
        quoted(archive.path()),
        quoted(&json)
    ));
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains(BAR), "no bar in run at a terminal:\n{screen}");
    let summary = std::fs::read_to_string(&json).unwrap();
    assert!(!summary.contains(BAR), "{summary}");
    let parsed: serde_json::Value =
        serde_json::from_str(&summary).unwrap_or_else(|e| panic!("{e}: {summary}"));
    assert_eq!(parsed["batches"][0]["status"], "published", "{parsed}");
}

#[test]
fn a_shown_profile_is_a_start_for_ones_own() {
    let dir = TempDir::new("profile-show");
    let out = scanwerk(&["profiles", "show", "standard"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(
        shown.contains("\n[quality]\n") && shown.contains("\nqa_sample_percent = 3.0\n"),
        "{shown}"
    );
    // An administrator's own profile, derived from it.
    let own = shown
        .replace("id = \"standard\"", "id = \"bauakten\"")
        .replace("min_dpi = 200.0", "min_dpi = 250.0");
    let path = dir.join("bauakten.toml");
    std::fs::write(&path, &own).unwrap();
    let keys = keygen(&dir.join("keys"));
    let archive = TempDir::new("profile-show-archive");
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", path.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let protocol: serde_json::Value =
        serde_json::from_slice(&std::fs::read(archive.join("demo-2026-001/data/protocol.json")).unwrap())
            .unwrap();
    assert_eq!(protocol["profile"]["id"], "bauakten");
    // The bundled profiles shown and a file shown agree.
    let again = scanwerk(&["profiles", "show", path.to_str().unwrap()]);
    assert!(
        String::from_utf8(again.stdout)
            .unwrap()
            .contains("min_dpi = 250.0")
    );
    // Three mistakes, three lines, one run.
    let broken = own
        .replace("enabled = true", "enabled = \"yes\"")
        .replace("min_dpi = 250.0", "min_dpi = 20")
        .replace("[seal]\n", "[seal]\nalgorithm = \"rsa\"\n");
    std::fs::write(&path, &broken).unwrap();
    let out = ingest(
        &project("testdata/demo-batch"),
        archive.path(),
        &keys.private,
        &["--profile", path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let line_of = |needle: &str| broken.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    for expected in [
        format!(
            "bauakten.toml:{}: ocr.enabled: must be true or false",
            line_of("enabled")
        ),
        format!(
            "bauakten.toml:{}: unknown key seal.algorithm",
            line_of("algorithm")
        ),
    ] {
        assert!(err.contains(&expected), "{expected:?} not in\n{err}");
    }
}

#[test]
fn manual_page_and_completions_come_from_the_command_line_definition() {
    let man = scanwerk(&["man"]);
    assert!(man.status.success());
    let man = String::from_utf8(man.stdout).unwrap();
    for command in [
        "ingest",
        "verify",
        "run",
        "watch",
        "profiles",
        "keygen",
        "completions",
    ] {
        assert!(
            man.contains(&format!(".TH scanwerk-{command} ")),
            "no section for {command}"
        );
    }
    assert!(
        man.starts_with(".ie") || man.contains(".TH scanwerk 1"),
        "{}",
        &man[..200]
    );
    // groff renders it (an independent reader of roff).
    let dir = TempDir::new("man");
    std::fs::write(dir.join("scanwerk.1"), &man).unwrap();
    let rendered = tool(
        "groff",
        &["-man", "-Tutf8", dir.join("scanwerk.1").to_str().unwrap()],
    );
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        text.contains("Replacement scanning") && text.contains("scanwerk-ingest(1)"),
        "{text:.500}"
    );

    for (shell, marker) in [
        ("bash", "complete -F _scanwerk"),
        ("zsh", "#compdef scanwerk"),
        ("fish", "complete -c scanwerk"),
    ] {
        let out = scanwerk(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains(marker) && script.contains("ingest"),
            "{shell}: {script:.300}"
        );
    }
    let bash = tool(
        "bash",
        &[
            "-n",
            "-c",
            &String::from_utf8(scanwerk(&["completions", "bash"]).stdout).unwrap(),
        ],
    );
    assert!(
        bash.status.success(),
        "bash rejects the completion script: {}",
        stderr(&bash)
    );
}
