//! Key hygiene: a private key others may read is refused with `chmod 600`; an encrypted PKCS#8 key
//! (made by openssl) is opened with a password from a file or the environment, a wrong or missing
//! one refused before any page is read; no password or key byte appears in anything a run writes.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::*;

/// scanwerk with extra environment variables.
fn scanwerk_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("SCANWERK_KEY_PASSWORD")
        .env_remove("SCANWERK_KEY_PASSWORD_FILE");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The private scalar of a PEM key as openssl prints it (`priv:` hex), without colons.
fn private_scalar_hex(key: &Path, pass: Option<&str>) -> String {
    let mut args = vec!["pkey", "-in", key.to_str().unwrap(), "-text", "-noout"];
    let passin = pass.map(|p| format!("pass:{p}"));
    if let Some(p) = &passin {
        args.extend(["-passin", p.as_str()]);
    }
    let out = tool("openssl", &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let start = text.find("priv:").unwrap() + 5;
    let end = text.find("pub:").unwrap();
    text[start..end].chars().filter(char::is_ascii_hexdigit).collect()
}

/// `key` encrypted by openssl with `password` (PBES2, AES-256-CBC, PBKDF2) into `out`, mode 0600.
fn encrypt(key: &Path, out: &Path, password: &str) {
    let done = tool(
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            key.to_str().unwrap(),
            "-out",
            out.to_str().unwrap(),
            "-passout",
            &format!("pass:{password}"),
        ],
    );
    assert!(done.status.success(), "{}", stderr(&done));
    chmod(out, 0o600);
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_key_others_may_read_is_refused_and_an_encrypted_one_opens_with_its_password_only() {
    let dir = TempDir::new("keys-hygiene");
    let keys = keygen(&dir.dir("keys"));
    let archive = dir.dir("archive");
    let demo = project("testdata/demo-batch");
    let ingest_args = |key: &Path| {
        vec![
            "ingest".to_string(),
            demo.to_str().unwrap().into(),
            "--archive".into(),
            archive.to_str().unwrap().into(),
            "--key".into(),
            key.to_str().unwrap().into(),
            "--profile".into(),
            "image-only".into(),
        ]
    };
    let run = |key: &Path, env: &[(&str, &str)]| {
        let args = ingest_args(key);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        scanwerk_env(&args, env)
    };

    chmod(&keys.private, 0o644);
    let out = run(&keys.private, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("may be read by others (mode 0644)") && stderr(&out).contains("chmod 600"),
        "{}",
        stderr(&out)
    );
    // Refused before it started, and the audit log says so.
    let log = std::fs::read_to_string(archive.join(".audit/audit.jsonl")).unwrap();
    let refused: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(refused["event"], "ingest-refused");
    assert!(
        refused["details"]["problems"][0]
            .as_str()
            .unwrap()
            .contains("chmod 600"),
        "{refused}"
    );
    chmod(&keys.private, 0o600);

    // The same key, encrypted by openssl (PBES2, AES-256-CBC, PBKDF2).
    let password = "Zeichenkette-7f3a-geheim";
    let encrypted = dir.join("keys/encrypted-key.pem");
    encrypt(&keys.private, &encrypted, password);
    assert!(
        std::fs::read_to_string(&encrypted)
            .unwrap()
            .contains("ENCRYPTED PRIVATE KEY")
    );
    let out = run(&encrypted, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("SCANWERK_KEY_PASSWORD_FILE"),
        "{}",
        stderr(&out)
    );
    let out = run(&encrypted, &[("SCANWERK_KEY_PASSWORD", "falsch")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the password given does not open it"),
        "{}",
        stderr(&out)
    );
    assert!(!archive.join("demo-2026-001").exists(), "nothing published");
    let password_file = dir.join("keys/password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    chmod(&password_file, 0o600);
    let out = run(
        &encrypted,
        &[("SCANWERK_KEY_PASSWORD_FILE", password_file.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = scanwerk(&[
        "verify",
        archive.join("demo-2026-001").to_str().unwrap(),
        "--trust",
        keys.public.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "signed by the same key: {}", stderr(&out));
}

/// Everything a run, verify, receipt, release and the audit commands print or write is searched
/// for the password, the private scalar (hex, either case, and raw bytes) and the key files' base64
/// lines: none of it appears anywhere.
#[test]
fn no_password_or_key_byte_appears_in_any_output() {
    let dir = TempDir::new("keys-grep");
    let keys = keygen_with(&dir.dir("keys"), &["--cert"]);
    let password = "Passwort-91c2-niemals-ausgeben";
    let encrypted = dir.join("keys/encrypted-key.pem");
    encrypt(&keys.private, &encrypted, password);
    let (inbox, archive) = (dir.dir("inbox"), dir.dir("archive"));
    copy_tree(&project("testdata/demo-batch"), &inbox.join("akte"));
    // One batch fails (a damaged file), so error files and error events are searched too.
    copy_tree(&project("testdata/demo-batch"), &inbox.join("kaputt"));
    std::fs::write(inbox.join("kaputt/batch.toml"), "id = \"kaputt\"\n").unwrap();
    std::fs::write(inbox.join("kaputt/bescheid.png"), b"\x89PNG\r\n\x1a\n broken").unwrap();
    let env = [("SCANWERK_KEY_PASSWORD", password)];
    let (i, a, k, c) = (
        inbox.to_str().unwrap(),
        archive.to_str().unwrap(),
        encrypted.to_str().unwrap(),
        keys.cert.to_str().unwrap(),
    );
    let batch = archive.join("demo-2026-001");
    let b = batch.to_str().unwrap();
    let mut outputs: Vec<Vec<u8>> = Vec::new();
    for args in [
        vec![
            "--log-format",
            "json",
            "run",
            "--inbox",
            i,
            "--archive",
            a,
            "--key",
            k,
            "--cert",
            c,
            "--settle-seconds",
            "0",
            "--json",
        ],
        vec!["verify", b, "--json"],
        vec!["verify", b],
        vec!["receipt", b, "--from", "DMS", "--key", k],
        vec!["release", "--archive", a, "--json"],
        vec![
            "release",
            "--archive",
            a,
            "--issue",
            "demo-2026-001",
            "--by",
            "Amt",
            "--key",
            k,
        ],
        vec![
            "audit",
            "show",
            "--batch",
            "demo-2026-001",
            "--archive",
            a,
            "--json",
        ],
        vec!["audit", "verify", "--archive", a, "--json"],
    ] {
        let out = scanwerk_env(&args, &env);
        outputs.push(out.stdout);
        outputs.push(out.stderr);
    }
    assert!(
        batch.is_dir() && archive.join(".releases").is_dir(),
        "the run published and released"
    );
    for root in [archive.clone(), archive.join(".audit"), inbox.clone()] {
        for file in files(&root) {
            outputs.push(std::fs::read(root.join(&file)).unwrap());
        }
    }
    let scalar = private_scalar_hex(&keys.private, None);
    assert_eq!(scalar, private_scalar_hex(&encrypted, Some(password)));
    let mut secrets: Vec<Vec<u8>> = vec![
        password.as_bytes().to_vec(),
        scalar.to_lowercase().into_bytes(),
        scalar.to_uppercase().into_bytes(),
        unhex(&scalar),
    ];
    for key in [&keys.private, &encrypted] {
        for line in std::fs::read_to_string(key)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----"))
        {
            secrets.push(line.as_bytes().to_vec());
        }
    }
    for secret in &secrets {
        for (n, output) in outputs.iter().enumerate() {
            assert!(
                !output.windows(secret.len()).any(|w| w == secret.as_slice()),
                "output {n} holds a secret ({} bytes)",
                secret.len()
            );
        }
    }
    assert!(outputs.len() > 30, "{} outputs searched", outputs.len());
}
