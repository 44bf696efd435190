//! A real RFC 3161 time-stamp authority on loopback: `openssl ts -reply` behind a minimal HTTP
//! responder, with its own root CA and a TSA certificate for time stamping (RSA, as most TSAs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{TempDir, stderr};

pub struct TestTsa {
    /// `http://127.0.0.1:PORT/tsr`
    pub url: String,
    /// The TSA's root certificate (PEM), the trust anchor for `openssl ts -verify -CAfile`.
    pub ca: PathBuf,
    pub dir: TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

impl TestTsa {
    pub fn start(name: &str) -> TestTsa {
        let dir = TempDir::new(name);
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "30",
                "-subj",
                "/CN=scanwerk test TSA root",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "tsa.key",
                "-out",
                "tsa.csr",
                "-subj",
                "/CN=scanwerk test TSA",
            ],
        );
        std::fs::write(
            d.join("ext.cnf"),
            "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "tsa.crt",
                "-days",
                "30",
                "-extfile",
                "ext.cnf",
            ],
        );
        std::fs::write(d.join("serial"), "01\n").unwrap();
        std::fs::write(
            d.join("ts.cnf"),
            format!(
                "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = {}\nserial = $dir/serial\n\
                 crypto_device = builtin\nsigner_cert = $dir/tsa.crt\ncerts = $dir/ca.crt\n\
                 signer_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
                 other_policies = 1.2.3.4.5\ndigests = sha256, sha384, sha512\naccuracy = secs:1\n\
                 ordering = yes\ntsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
                d.display()
            ),
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/tsr", listener.local_addr().unwrap());
        let work = d.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                respond(stream, &work);
            }
        });
        TestTsa {
            url,
            ca: d.join("ca.crt"),
            dir,
        }
    }

    /// The reply `openssl ts -reply` gives for `query`, without HTTP.
    pub fn reply(&self, query: &Path) -> Vec<u8> {
        reply(self.dir.path(), &std::fs::read(query).unwrap())
    }
}

fn reply(dir: &Path, query: &[u8]) -> Vec<u8> {
    let (q, r) = (dir.join("query.tsq"), dir.join("reply.tsr"));
    std::fs::write(&q, query).unwrap();
    let q = q.to_str().unwrap();
    let r_str = r.to_str().unwrap();
    openssl(
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            "ts.cnf",
            "-queryfile",
            q,
            "-out",
            r_str,
        ],
    );
    std::fs::read(&r).unwrap()
}

/// Answers one HTTP POST with the time-stamp reply for its body.
fn respond(stream: TcpStream, dir: &Path) {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let answer = reply(dir, &body);
    let mut stream = reader.into_inner();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&answer);
}
