//! Keys in hardware: a SoftHSM2 token, initialised by the test in a folder of its own
//! (`SOFTHSM2_CONF`), holds the seal key. scanwerk makes the key and its certificate there, signs a
//! batch with it, and independent checkers accept every signature: pyHanko on each PDF against the
//! token's certificate, openssl on `manifest.sig` and `hashtree.sig` with the public key that
//! OpenSC's `pkcs11-tool` reads out of the token. A wrong PIN stops the run before any page is read,
//! naming the token and never the PIN; no output of any run holds the PIN.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::*;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "739154-geheim";
const BATCH: &str = "demo-2026-001";

/// A SoftHSM2 token labelled `scanwerk` in a temp folder, its PIN in a file of mode 0600.
struct Token {
    dir: TempDir,
    conf: PathBuf,
    pin_file: PathBuf,
}

impl Token {
    fn new(name: &str) -> Token {
        let dir = TempDir::new(name);
        let tokens = dir.dir("tokens");
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let pin_file = dir.join("pin");
        std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
        let token = Token { dir, conf, pin_file };
        let init = token
            .command("softhsm2-util")
            .args([
                "--init-token",
                "--free",
                "--label",
                "scanwerk",
                "--pin",
                PIN,
                "--so-pin",
                "8642-so",
            ])
            .output()
            .expect("softhsm2-util is installed by scripts/setup.sh");
        assert!(init.status.success(), "{}", stderr(&init));
        token
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("SOFTHSM2_CONF", &self.conf)
            .env("SCANWERK_PKCS11_MODULE", MODULE)
            .env("SCANWERK_PKCS11_PIN_FILE", &self.pin_file)
            .env_remove("SCANWERK_PKCS11_PIN");
        command
    }

    /// scanwerk with the token's configuration and PIN file.
    fn scanwerk(&self, args: &[&str]) -> Output {
        self.command(BIN).args(args).output().unwrap()
    }

    /// The public key of `label` as OpenSC's pkcs11-tool reads it out of the token, as PEM: from
    /// the public key object, else (pkcs11-tool 0.23 cannot turn a P-384 key object into an
    /// OpenSSL key) from the certificate object beside it.
    fn exported_public_key(&self, label: &str) -> PathBuf {
        let pem = self.dir.join(&format!("{label}.pub.pem"));
        for (kind, convert) in [
            ("pubkey", &["pkey", "-pubin"][..]),
            ("cert", &["x509", "-pubkey", "-noout"][..]),
        ] {
            let der = self.dir.join(&format!("{label}.{kind}.der"));
            let out = self
                .command("pkcs11-tool")
                .args([
                    "--module",
                    MODULE,
                    "--read-object",
                    "--type",
                    kind,
                    "--label",
                    label,
                    "-o",
                ])
                .arg(&der)
                .output()
                .expect("pkcs11-tool (opensc) is installed by scripts/setup.sh");
            if !out.status.success() {
                continue;
            }
            let mut args = convert.to_vec();
            args.extend([
                "-inform",
                "DER",
                "-in",
                der.to_str().unwrap(),
                "-out",
                pem.to_str().unwrap(),
            ]);
            if tool("openssl", &args).status.success() {
                return pem;
            }
        }
        panic!("pkcs11-tool cannot read the public key of {label}");
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out))
}

/// The bytes of a signed PDF outside its signature value (`/ByteRange` [0 a b c]): what must be
/// equal when the same batch is signed twice by a token whose ECDSA is randomised.
fn signed_ranges(pdf: &Path) -> Vec<u8> {
    let bytes = std::fs::read(pdf).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let at = text.rfind("/ByteRange").expect("a signed PDF") + "/ByteRange".len();
    let open = text[at..].find('[').unwrap() + at + 1;
    let close = text[open..].find(']').unwrap() + open;
    let range: Vec<usize> = text[open..close]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(range.len(), 4, "{}", &text[open..close]);
    [
        &bytes[range[0]..range[0] + range[1]],
        &bytes[range[2]..range[2] + range[3]],
    ]
    .concat()
}

#[test]
fn a_key_made_in_softhsm_seals_a_batch_and_independent_checkers_accept_every_signature() {
    let token = Token::new("token-p256");
    let keys = token.dir.dir("keys");
    let uri = "pkcs11:token=scanwerk;object=seal-2026";
    let made = token.scanwerk(&[
        "keygen",
        "--pkcs11",
        uri,
        "--cert",
        "--name",
        "Erika Mustermann",
        "--out",
        keys.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", text(&made));
    let cert = keys.join("signing-cert.pem");
    assert!(
        !keys.join("signing-key.pem").exists(),
        "the private key stays in the token"
    );
    let listed = token.scanwerk(&["keys", "list", "--pkcs11", "pkcs11:token=scanwerk", "--pem"]);
    assert!(listed.status.success(), "{}", text(&listed));
    for expected in ["private key", "public key", "certificate", "seal-2026", "P-256"] {
        assert!(text(&listed).contains(expected), "{}", text(&listed));
    }

    let mut published = Vec::new();
    for run in ["first", "second"] {
        let archive = token.dir.dir(run);
        let out = token.scanwerk(&[
            "ingest",
            project("testdata/demo-batch").to_str().unwrap(),
            "--archive",
            archive.to_str().unwrap(),
            "--key",
            uri,
            "--cert",
            cert.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!text(&out).contains(PIN));
        collect_pdfs(&archive);
        validate_bags(&archive);
        published.push(archive.join(BATCH));
    }
    let batch = &published[0];
    let verified = token.scanwerk(&[
        "verify",
        batch.to_str().unwrap(),
        "--trust",
        keys.join("signing-key.pub.pem").to_str().unwrap(),
    ]);
    assert!(verified.status.success(), "{}", text(&verified));

    let exported = token.exported_public_key("seal-2026");
    let files = payload(batch);
    for (sig, file) in [
        ("manifest.sig", "manifest.json"),
        ("hashtree.sig", "hashtree.json"),
    ] {
        let checked = openssl_verify(&exported, &files.join(sig), &files.join(file));
        assert!(checked.status.success(), "openssl on {sig}: {}", text(&checked));
    }
    for doc in ["akte", "antrag", "bescheid"] {
        let pdf = files.join(format!("documents/{doc}.pdf"));
        let hanko = pyhanko_validate(&pdf, &cert);
        assert!(
            String::from_utf8_lossy(&hanko.stdout).contains(":INTACT:TRUSTED,UNTOUCHED"),
            "pyHanko on {doc}: {}",
            text(&hanko)
        );
        // SoftHSM's ECDSA is randomised: the signature values differ between the runs, every
        // byte they sign is the same.
        let again = payload(&published[1]).join(format!("documents/{doc}.pdf"));
        assert_eq!(
            signed_ranges(&pdf),
            signed_ranges(&again),
            "{doc}: signed bytes differ"
        );
    }

    // The receipt and the audit checkpoints are signed by the token as well, and verify.
    let receipt = token.scanwerk(&["receipt", batch.to_str().unwrap(), "--from", "DMS", "--key", uri]);
    assert!(receipt.status.success(), "{}", text(&receipt));
    let audit = token.scanwerk(&[
        "audit",
        "verify",
        "--archive",
        token.dir.join("first").to_str().unwrap(),
    ]);
    assert!(audit.status.success(), "{}", text(&audit));
    assert!(text(&audit).contains("checkpoint"), "{}", text(&audit));

    for entry in walk(token.dir.path()) {
        if entry.starts_with(token.dir.join("tokens")) || entry == token.pin_file {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(PIN.len()).any(|w| w == PIN.as_bytes()),
            "{} holds the PIN",
            entry.display()
        );
    }
}

/// A P-384 key named in the profile (`seal.key` as a URI, `seal.pkcs11_module`) signs with
/// SHA-384; a wrong PIN stops the run before any page is read, naming the token, not the PIN.
#[test]
fn a_p384_token_key_from_the_profile_signs_and_a_wrong_pin_stops_before_any_page() {
    let token = Token::new("token-p384");
    let keys = token.dir.dir("keys");
    let uri = "pkcs11:token=scanwerk;object=seal-384";
    let made = token.scanwerk(&[
        "keygen",
        "--pkcs11",
        uri,
        "--curve",
        "p384",
        "--cert",
        "--out",
        keys.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", text(&made));
    let profile = token.dir.join("p384.toml");
    std::fs::write(
        &profile,
        format!(
            "id = \"token-p384\"\nversion = \"1\"\n[seal]\nsignature = \"ecdsa-p384\"\nkey = \"{uri}\"\npkcs11_module = \"{MODULE}\"\n"
        ),
    )
    .unwrap();
    let archive = token.dir.dir("archive");
    let demo = project("testdata/demo-batch");
    let run = |extra: &[(&str, &str)]| {
        let mut command = token.command(BIN);
        command.env_remove("SCANWERK_PKCS11_MODULE");
        for (k, v) in extra {
            command.env(k, v);
        }
        command
            .args([
                "ingest",
                demo.to_str().unwrap(),
                "--archive",
                archive.to_str().unwrap(),
                "--profile",
            ])
            .arg(&profile)
            .output()
            .unwrap()
    };
    let wrong_pin = token.dir.join("wrong-pin");
    std::fs::write(&wrong_pin, "000000\n").unwrap();
    let refused = run(&[("SCANWERK_PKCS11_PIN_FILE", wrong_pin.to_str().unwrap())]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("token \"scanwerk\" does not accept the PIN"),
        "{}",
        text(&refused)
    );
    assert!(
        !text(&refused).contains("000000") && !text(&refused).contains(PIN),
        "{}",
        text(&refused)
    );
    assert!(
        !text(&refused).contains("page"),
        "no page was read: {}",
        text(&refused)
    );
    assert!(!archive.join(BATCH).exists());

    let out = run(&[]);
    assert!(out.status.success(), "{}", text(&out));
    collect_pdfs(&archive);
    validate_bags(&archive);
    let files = payload(archive.join(BATCH));
    let manifest = std::fs::read_to_string(files.join("manifest.json")).unwrap();
    assert!(manifest.contains("ecdsa-p384-sha384"), "{manifest}");
    let exported = token.exported_public_key("seal-384");
    let checked = openssl_verify_with(
        "-sha384",
        &exported,
        &files.join("manifest.sig"),
        &files.join("manifest.json"),
    );
    assert!(checked.status.success(), "{}", text(&checked));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
