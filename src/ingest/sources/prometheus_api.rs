//! A live Prometheus range query over the HTTP API (`GET
//! /api/v1/query_range`, prometheus.io "HTTP API"), cut into chunks of at
//! most [`CHUNK_POINTS`] steps so that a long history stays under the
//! server's limit of 11,000 points per series. Optional bearer token (read
//! from a file or the environment, never the command line), TLS with the
//! system's roots or a given CA file, a timeout per request and retries of
//! failures that may pass (no answer, 5xx), with errors that name the URL
//! and carry the server's message.

use super::prometheus::{self, Response};
use super::{Metric, SourceOptions, Table};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;

/// Steps per request: below Prometheus' 11,000 points per series.
pub const CHUNK_POINTS: i64 = 10_000;

/// Environment variable that may hold the bearer token.
pub const TOKEN_ENV: &str = "SHRINKWATCH_PROMETHEUS_TOKEN";

/// A live range query.
#[derive(Clone)]
pub struct Live {
    /// Base URL of the server (`http://prometheus:9090`).
    pub url: String,
    /// PromQL giving bytes per series.
    pub query: String,
    /// PromQL giving object counts per series, if any.
    pub count_query: Option<String>,
    /// Resolution, seconds.
    pub step: i64,
    /// How far back from `end`, seconds.
    pub lookback: i64,
    /// End of the range (Unix seconds); now when `None`.
    pub end: Option<i64>,
    /// Bearer token from the environment, if any.
    pub token: Option<String>,
    /// File holding the bearer token (wins over the environment).
    pub token_file: Option<PathBuf>,
    /// CA certificates (PEM) to trust instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Further attempts after a failure that may pass.
    pub retries: u32,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("url", &self.display_url())
            .field("query", &self.query)
            .field("count_query", &self.count_query)
            .field("step", &self.step)
            .field("lookback", &self.lookback)
            .field("end", &self.end)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("token_file", &self.token_file)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// What a fetch read, for the manifest.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Response bytes.
    pub size: u64,
    /// SHA-256 of the responses, in order.
    pub sha256: String,
    /// First and last step of the range (Unix seconds).
    pub start: i64,
    /// Last step.
    pub end: i64,
    /// Requests made.
    pub requests: u64,
}

impl Live {
    /// The server's base URL without user name or password and without a
    /// trailing `/api/v1/…`.
    pub fn base(&self) -> String {
        let mut u = self.url.trim().trim_end_matches('/').to_string();
        for suffix in ["/api/v1/query_range", "/api/v1/query", "/api/v1"] {
            if let Some(s) = u.strip_suffix(suffix) {
                u = s.to_string();
                break;
            }
        }
        u
    }

    /// The base URL as shown (user information removed).
    pub fn display_url(&self) -> String {
        let b = self.base();
        match b.split_once("://") {
            Some((scheme, rest)) => {
                let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                let host = auth.rsplit('@').next().unwrap_or(auth);
                format!("{scheme}://{host}{path}")
            }
            None => b,
        }
    }

    /// The range endpoint as shown in messages and the manifest.
    pub fn endpoint(&self) -> String {
        format!("{}/api/v1/query_range", self.display_url())
    }

    /// The steps `(start, end)` of the whole range, aligned to the step.
    pub fn range(&self, now: i64) -> (i64, i64) {
        let end = self.end.unwrap_or(now).div_euclid(self.step) * self.step;
        let start = (end - self.lookback + self.step - 1).div_euclid(self.step) * self.step;
        (start, end)
    }
}

/// The chunks `(start, end)` of a range, each at most [`CHUNK_POINTS`] steps, not overlapping.
pub fn chunks(start: i64, end: i64, step: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut s = start;
    while s <= end {
        let e = (s + (CHUNK_POINTS - 1) * step).min(end);
        out.push((s, e));
        s = e + step;
    }
    out
}

fn agent(live: &Live) -> Result<ureq::Agent, String> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let roots = match &live.ca_file {
        Some(p) => {
            let pem = crate::ingest::read_small(p, 4 << 20, "CA file")
                .map_err(|e| format!("--ca-file {}: {e}", p.display()))?;
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|i| match i {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.to_owned()),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!(
                    "--ca-file {}: no PEM certificate found in it",
                    p.display()
                ));
            }
            RootCerts::new_with_certs(&certs)
        }
        None if live.base().starts_with("https:") => {
            let found = rustls_native_certs::load_native_certs();
            let certs: Vec<Certificate<'static>> = found
                .certs
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                .collect();
            if certs.is_empty() {
                RootCerts::WebPki
            } else {
                RootCerts::new_with_certs(&certs)
            }
        }
        None => RootCerts::WebPki,
    };
    Ok(ureq::Agent::config_builder()
        .timeout_global(Some(live.timeout))
        .http_status_as_error(false)
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build()
        .into())
}

/// One request's outcome: the body, or why not and whether trying again may help.
enum Failure {
    Retry(String),
    Final(String),
}

fn server_message(body: &[u8]) -> String {
    match serde_json::from_slice::<Response>(body) {
        Ok(r) => format!(
            "{}{}",
            r.error_type.map_or(String::new(), |t| format!("{t}: ")),
            r.error.unwrap_or_else(|| "(no message)".into())
        ),
        Err(_) => {
            let t = String::from_utf8_lossy(body);
            let t = t.trim();
            let short: String = t.chars().take(300).collect();
            if short.is_empty() {
                "(empty answer)".into()
            } else {
                crate::fmt::term(&short).into_owned()
            }
        }
    }
}

fn get_once(
    agent: &ureq::Agent,
    live: &Live,
    token: Option<&str>,
    query: &str,
    (start, end): (i64, i64),
) -> Result<Vec<u8>, Failure> {
    let mut req = agent
        .get(format!("{}/api/v1/query_range", live.base()))
        .query("query", query)
        .query("start", start.to_string())
        .query("end", end.to_string())
        .query("step", format!("{}s", live.step));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Timeout(_)) => {
            return Err(Failure::Retry(format!(
                "no answer within {} s (--prometheus-timeout)",
                live.timeout.as_secs_f64()
            )))
        }
        Err(ureq::Error::Io(e)) => return Err(Failure::Retry(format!("cannot connect: {e}"))),
        Err(ureq::Error::HostNotFound) => return Err(Failure::Final("host not found".into())),
        Err(ureq::Error::ConnectionFailed) => return Err(Failure::Retry("cannot connect".into())),
        Err(e @ ureq::Error::Tls(_)) | Err(e @ ureq::Error::Rustls(_)) => {
            return Err(Failure::Final(format!("TLS: {e}")))
        }
        Err(e) => return Err(Failure::Retry(e.to_string())),
    };
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(4 << 30)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => Failure::Retry(format!(
                "no complete answer within {} s (--prometheus-timeout)",
                live.timeout.as_secs_f64()
            )),
            e => Failure::Retry(format!("reading the answer: {e}")),
        })?;
    match status {
        200..=299 => Ok(body),
        401 | 403 => Err(Failure::Final(format!(
            "HTTP {status} (not authorised: check --bearer-token-file or {TOKEN_ENV}): {}",
            server_message(&body)
        ))),
        400..=499 => Err(Failure::Final(format!(
            "HTTP {status}: {}",
            server_message(&body)
        ))),
        _ => Err(Failure::Retry(format!(
            "HTTP {status}: {}",
            server_message(&body)
        ))),
    }
}

/// Runs the range query (and the count query) chunk by chunk into a table.
pub fn fetch(
    live: &Live,
    cols: &[String],
    opts: &SourceOptions,
    now: i64,
) -> Result<(Table, Fetched), String> {
    let agent = agent(live)?;
    let token = match &live.token_file {
        Some(p) => {
            let t = crate::ingest::read_small(p, 64 << 10, "token file")
                .map_err(|e| format!("--bearer-token-file {}: {e}", p.display()))?;
            let t = String::from_utf8(t)
                .map_err(|_| format!("--bearer-token-file {}: not UTF-8 text", p.display()))?;
            let t = t.trim().to_string();
            if t.is_empty() {
                return Err(format!(
                    "--bearer-token-file {}: the file is empty",
                    p.display()
                ));
            }
            Some(t)
        }
        None => live.token.clone(),
    };
    let (start, end) = live.range(now);
    if start > end {
        return Err(format!(
            "the range is empty (--lookback {} s is shorter than --step {} s)",
            live.lookback, live.step
        ));
    }
    let mut table = Table::new(prometheus::key_map(cols, opts));
    let mut hash = Sha256::new();
    let mut size = 0u64;
    let mut requests = 0u64;
    let mut record = 0u64;
    let mut queries = vec![(live.query.as_str(), Metric::Bytes)];
    if let Some(q) = &live.count_query {
        queries.push((q.as_str(), Metric::Objects));
    }
    let parts = chunks(start, end, live.step);
    for (query, metric) in queries {
        for &part in &parts {
            let mut attempt = 0u32;
            let body = loop {
                requests += 1;
                match get_once(&agent, live, token.as_deref(), query, part) {
                    Ok(b) => break b,
                    Err(Failure::Retry(why)) if attempt < live.retries => {
                        crate::log::debug(format!("{}: {why}; trying again", live.endpoint()));
                        std::thread::sleep(Duration::from_millis(500 << attempt.min(5)));
                        attempt += 1;
                    }
                    Err(Failure::Retry(why)) => {
                        return Err(format!(
                            "{why} (tried {} times; query `{query}`)",
                            attempt + 1
                        ))
                    }
                    Err(Failure::Final(why)) => return Err(format!("{why} (query `{query}`)")),
                }
            };
            size += body.len() as u64;
            hash.update(&body);
            let resp: Response = serde_json::from_slice(&body)
                .map_err(|e| format!("the answer is not a Prometheus API response: {e}"))?;
            let data = prometheus::check(&resp).map_err(|e| format!("{e} (query `{query}`)"))?;
            for w in &resp.warnings {
                crate::log::warn(format!("Prometheus warned: {}", crate::fmt::term(w)));
            }
            prometheus::add(&mut table, data, metric, &mut record);
        }
    }
    if table.points == 0 {
        return Err(format!(
            "the query `{}` returned no data between {} and {} (step {} s): check the query, the labels and the range (--lookback, --query-end)",
            live.query,
            crate::ingest::timestamp::format(start, false),
            crate::ingest::timestamp::format(end, false),
            live.step
        ));
    }
    let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((
        table,
        Fetched {
            size,
            sha256,
            start,
            end,
            requests,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(url: &str) -> Live {
        Live {
            url: url.into(),
            query: "q".into(),
            count_query: None,
            step: 3600,
            lookback: 120 * 86_400,
            end: None,
            token: None,
            token_file: None,
            ca_file: None,
            timeout: Duration::from_secs(1),
            retries: 0,
        }
    }

    #[test]
    fn chunking() {
        let c = chunks(0, 25_000 * 60, 60);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0], (0, 9_999 * 60));
        assert_eq!(c[1].0, 10_000 * 60);
        assert_eq!(c[2].1, 25_000 * 60);
        for (s, e) in &c {
            assert!((e - s) / 60 < CHUNK_POINTS);
        }
        assert_eq!(chunks(0, 0, 60), vec![(0, 0)]);
    }

    #[test]
    fn urls() {
        assert_eq!(live("http://p:9090/").base(), "http://p:9090");
        assert_eq!(
            live("http://p:9090/api/v1/query_range").base(),
            "http://p:9090"
        );
        assert_eq!(
            live("https://u:secret@p:9090").display_url(),
            "https://p:9090"
        );
        let (s, e) = live("x").range(1_000_000 * 3600 + 17);
        assert_eq!(e, 1_000_000 * 3600);
        assert_eq!(s, e - 120 * 86_400);
    }
}
