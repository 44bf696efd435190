//! The review page: a small HTTP server on loopback (tiny_http) that serves one batch's review to
//! a browser. Everything is served by scanwerk itself (no CDN). Every URL starts with a random
//! token printed at start, so another local user who finds the port cannot read pages or post
//! verdicts; requests without it get 403. Verdicts go through [`Area::decide`], so the browser,
//! `review decide` and a second server all append to the same locked log.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use serde_json::json;

use super::{Area, Decision, ReviewError, image};
use crate::protocol::review::{PageState, REASONS, ReviewRecord};

const PAGE: &str = include_str!("page.html");

/// A running review server.
pub struct Server {
    http: tiny_http::Server,
    token: String,
    area: Area,
}

/// A verdict as the page posts it.
#[derive(Debug, Deserialize)]
struct Posted {
    reviewer: String,
    document: String,
    page: u32,
    version: u32,
    accept: bool,
    #[serde(default)]
    reason: Option<String>,
}

impl Server {
    /// Binds `bind` (e.g. `127.0.0.1:0` for a free port) with a fresh token.
    pub fn start(area: Area, bind: &str) -> Result<Server, ReviewError> {
        let http = tiny_http::Server::http(bind)
            .map_err(|e| ReviewError::Refused(format!("cannot listen on {bind}: {e}")))?;
        let mut bytes = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| ReviewError::Refused("no random numbers for the access token".into()))?;
        let token = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Server { http, token, area })
    }

    /// The address to open, token included.
    pub fn url(&self) -> String {
        let addr = self
            .http
            .server_addr()
            .to_ip()
            .map_or_else(|| "?".into(), |a| a.to_string());
        format!("http://{addr}/{}/", self.token)
    }

    /// Answers requests until `stop` is set.
    pub fn run(&self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            match self.http.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(Some(request)) => self.answer(request),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "review server");
                    return;
                }
            }
        }
    }

    fn answer(&self, mut request: tiny_http::Request) {
        let url = request.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let Some(route) = path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(self.token.as_str()))
            .filter(|_| !self.token.is_empty())
        else {
            return respond(
                request,
                403,
                "text/plain",
                b"forbidden: open the address scanwerk printed; it carries the access token".to_vec(),
            );
        };
        let param = |name: &str| query_param(query, name);
        let result = match (request.method(), route) {
            (tiny_http::Method::Get, "/") => Ok((200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec())),
            (tiny_http::Method::Get, "/api/state") => self.state(&param("reviewer").unwrap_or_default()),
            (tiny_http::Method::Get, "/image") => self.image(
                &param("document").unwrap_or_default(),
                &param("page").unwrap_or_default(),
            ),
            (tiny_http::Method::Get, "/text") => self.text(
                &param("document").unwrap_or_default(),
                &param("page").unwrap_or_default(),
            ),
            (tiny_http::Method::Post, "/api/verdict") => {
                let mut body = String::new();
                let _ = request.as_reader().take(64 * 1024).read_to_string(&mut body);
                self.verdict(&body)
            }
            _ => Ok((404, "text/plain", b"not found".to_vec())),
        };
        match result {
            Ok((status, kind, body)) => respond(request, status, kind, body),
            Err(e) => {
                let body = serde_json::to_vec(&json!({ "error": e.to_string() })).expect("serialises");
                respond(request, 409, "application/json", body)
            }
        }
    }

    /// The pages for `reviewer`: under four eyes, others' verdicts only on pages they decided.
    fn state(&self, reviewer: &str) -> Answer {
        let record = self.area.record()?;
        let reviewer = reviewer.trim();
        let blind = record.reviewers_required > 1;
        let mut mine_count = 0;
        let mut open = 0;
        let mut pages = Vec::new();
        for p in &record.pages {
            let version = record.version_of(&p.document, p.page);
            let state = p.state(version, record.reviewers_required);
            let current: Vec<_> = p.verdicts.iter().filter(|v| v.version == version).collect();
            let mine = current.iter().find(|v| v.reviewer == reviewer);
            mine_count += usize::from(mine.is_some());
            open += usize::from(state != PageState::Accepted);
            let shown_state = match (&state, blind && mine.is_none()) {
                (PageState::Rejected { .. }, _) | (_, false) => state.name(),
                (_, true) => "pending",
            };
            let others: Vec<_> = if blind && mine.is_none() {
                Vec::new()
            } else {
                current.iter().filter(|v| v.reviewer != reviewer).collect()
            };
            let page = self.area.page_record(&record, &p.document, p.page).ok();
            pages.push(json!({
                "document": p.document,
                "page": p.page,
                "version": version,
                "why": p.why,
                "state": shown_state,
                "mine": mine,
                "others": others,
                "record": page,
            }));
        }
        let body = json!({
            "batch": self.area.batch,
            "mode": record.mode,
            "reviewers_required": record.reviewers_required,
            "reasons": REASONS,
            "pages": pages,
            "decided_by_me": mine_count,
            "open": open,
        });
        Ok((
            200,
            "application/json",
            serde_json::to_vec(&body).expect("serialises"),
        ))
    }

    fn image(&self, document: &str, page: &str) -> Answer {
        let record = self.area.record()?;
        let page = page_number(page)?;
        let png = image::page_png(&self.area, &record, document, page, image::REVIEW_IMAGE_SIZE)?;
        Ok((200, "image/png", png))
    }

    fn text(&self, document: &str, page: &str) -> Answer {
        let record: ReviewRecord = self.area.record()?;
        let text = image::page_text(&self.area, &record, document, page_number(page)?)?;
        Ok((200, "text/plain; charset=utf-8", text.into_bytes()))
    }

    fn verdict(&self, body: &str) -> Answer {
        let posted: Posted = serde_json::from_str(body).map_err(|e| {
            ReviewError::Refused(format!(
                "a verdict needs reviewer, document, page, version, accept: {e}"
            ))
        })?;
        let verdict = self.area.decide(&Decision {
            document: posted.document.clone(),
            page: posted.page,
            reviewer: posted.reviewer,
            accept: posted.accept,
            reason: posted.reason,
            version: Some(posted.version),
        })?;
        tracing::info!(batch = %self.area.batch, document = %posted.document, page = posted.page,
            reviewer = %verdict.reviewer, verdict = %verdict.verdict, "verdict recorded");
        Ok((
            200,
            "application/json",
            serde_json::to_vec(&verdict).expect("serialises"),
        ))
    }
}

type Answer = Result<(u16, &'static str, Vec<u8>), ReviewError>;

fn page_number(text: &str) -> Result<u32, ReviewError> {
    text.parse()
        .map_err(|_| ReviewError::Refused(format!("{text:?} is not a page number")))
}

fn respond(request: tiny_http::Request, status: u16, kind: &str, body: Vec<u8>) {
    let header = |name: &str, value: &str| {
        tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
    };
    let response = tiny_http::Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", kind))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
        ));
    let _ = request.respond(response);
}

/// The value of `name` in a query string, percent-decoded.
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(
            query_param("a=1&reviewer=Anna%20M%C3%BCller", "reviewer").as_deref(),
            Some("Anna Müller")
        );
        assert_eq!(query_param("document=x%2", "document").as_deref(), Some("x%2"));
        assert_eq!(query_param("page=3", "reviewer"), None);
    }
}
