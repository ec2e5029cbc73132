//! Reading storage figures where they already live: monitoring exports
//! recognised by content (fixtures in `tests/data/sources/`, shapes as the
//! tools write them) and a live Prometheus server (Debian's `prometheus`
//! and `promtool`, started here on a loopback port with history written by
//! `promtool tsdb create-blocks-from openmetrics`; `.ci/run` installs them).

mod common;

use common::{read_csv, run};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sources")
        .join(name)
        .display()
        .to_string()
}

/// `scan` of `args` into `out` (its own state, no charts).
fn scan(args: &[&str], out: &Path) -> (i32, String, String) {
    let mut a: Vec<String> = vec!["scan".into()];
    a.extend(args.iter().map(|s| s.to_string()));
    a.extend([
        "--out".into(),
        out.display().to_string(),
        "--state".into(),
        out.with_extension("state.json").display().to_string(),
        "--no-charts".into(),
    ]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    run(&refs, &[])
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

/// The findings as comparable rows (what was found, not when the run was).
fn findings(out: &Path, with_system: bool) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = read_csv(&out.join("findings.csv"))
        .into_iter()
        .map(|r| {
            let mut cols = vec!["force", "kind", "start", "end"];
            if with_system {
                cols.extend(["system", "drop_bytes", "objects_lost"]);
            }
            cols.iter().map(|c| r[*c].clone()).collect()
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn daily_exports_give_the_findings_of_the_long_table() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("long");
    let (code, o, e) = scan(&["--input", &fixture("estate_long.csv")], &base);
    assert_eq!(code, 1, "{o}{e}");
    let expected = findings(&base, false);
    assert!(
        expected
            .iter()
            .any(|r| r[0] == "South Yorkshire Police" && r[1] == "loss" && r[2] == "2024-04-10"),
        "{expected:?}"
    );
    for (file, format) in [
        ("prometheus_query_range.json", "prometheus-query-range-json"),
        (
            "cloudwatch_get_metric_data.json",
            "cloudwatch-get-metric-data-json",
        ),
        ("grafana_formatted.csv", "grafana-csv"),
        ("grafana_raw.csv", "grafana-csv"),
    ] {
        let out = dir.path().join(file);
        let (code, o, e) = scan(&["--input", &fixture(file)], &out);
        assert_eq!(code, 1, "{file}: {o}{e}");
        assert_eq!(findings(&out, false), expected, "{file}");
        let m = manifest(&out);
        assert_eq!(m["inputs"][0]["format"], format, "{file}");
        assert_eq!(m["counts"]["series"], 2, "{file}");
    }
}

#[test]
fn prometheus_file_gaps_are_gaps_and_bad_values_are_rejected_with_their_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, o, e) = scan(&["--input", &fixture("prometheus_query_range.json")], &out);
    assert_eq!(code, 1, "{o}{e}");
    let c = &manifest(&out)["counts"];
    // 2 × 140 days, one step absent (a gap, no row), one "NaN" (rejected)
    assert_eq!(c["rows_read"], 279);
    assert_eq!(c["rows_kept"], 278);
    assert_eq!(c["rejected"], 1);
    let rej = read_csv(&out.join("rejected.csv"));
    assert_eq!(rej.len(), 1);
    assert!(rej[0]["file"].ends_with("prometheus_query_range.json"));
    assert_eq!(rej[0]["line"], "200"); // the 200th point of the file
    assert_eq!(rej[0]["column"], "bytes");
    assert_eq!(rej[0]["value"], "NaN");
    assert_eq!(rej[0]["reason"], "not a number");
}

#[test]
fn labels_map_to_key_columns_by_name_or_by_key_labels() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("prometheus_job_mountpoint.json");
    let (code, _, e) = scan(&["--input", &file], &dir.path().join("a"));
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("prometheus_job_mountpoint.json"), "{e}");
    assert!(e.contains("key column `force`"), "{e}");
    assert!(e.contains("job, mountpoint"), "{e}");
    assert!(e.contains("--key-labels"), "{e}");
    let out = dir.path().join("b");
    let (code, o, e) = scan(
        &[
            "--input",
            &file,
            "--key-labels",
            "force=job,system=mountpoint",
        ],
        &out,
    );
    assert_eq!(code, 1, "{o}{e}");
    let f = read_csv(&out.join("findings.csv"));
    assert!(f
        .iter()
        .any(|r| r["force"] == "South Yorkshire Police" && r["system"] == "Body-worn video"));
    let (code, _, e) = run(&["scan", "--input", &file, "--key-labels", "force"], &[]);
    assert_eq!(code, 2);
    assert!(e.contains("COLUMN=LABEL"), "{e}");
}

#[test]
fn azure_hourly_capacity_and_blob_count() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, o, e) = scan(&["--input", &fixture("azure_monitor_metrics.json")], &out);
    assert_eq!(code, 0, "{o}{e}");
    assert!(o.contains("data until 2024-01-08T23:00:00Z"), "{o}");
    let m = manifest(&out);
    assert_eq!(m["inputs"][0]["format"], "azure-monitor-metrics-json");
    // 2 accounts × 192 hours, one hour without a value (a gap, not a zero);
    // BlobCount joined to UsedCapacity on account and hour
    assert_eq!(m["counts"]["rows_read"], 383);
    assert_eq!(m["counts"]["rows_kept"], 383);
    assert_eq!(m["counts"]["series"], 2);
    let explain = dir.path().join("explain.csv");
    let (code, o, e) = run(
        &[
            "scan",
            "--input",
            &fixture("azure_monitor_metrics.json"),
            "--explain-all",
            explain.to_str().unwrap(),
        ],
        &[],
    );
    assert!(code == 0 || code == 1, "{o}{e}");
}

#[test]
fn cloudwatch_storage_classes_are_summed_or_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("cloudwatch_get_metric_data.json");
    let out = dir.path().join("sum");
    let (code, o, e) = scan(&["--input", &file], &out);
    assert_eq!(code, 1, "{o}{e}");
    let c = &manifest(&out)["counts"];
    // one series per bucket; Avon's day with a storage class missing is a gap
    assert_eq!(c["series"], 2);
    assert_eq!(c["rows_kept"], 279);
    assert_eq!(c["rejected"], 0);
    let f = read_csv(&out.join("findings.csv"));
    let syp = f
        .iter()
        .find(|r| r["system"] == "syp-bwv" && r["kind"] == "loss")
        .expect("the loss in the summed bucket");
    assert_eq!(syp["force"], "South Yorkshire Police");
    assert!(!syp["objects_lost"].is_empty(), "NumberOfObjects joined");
    let out = dir.path().join("apart");
    let (code, o, e) = scan(&["--input", &file, "--keep-storage-classes"], &out);
    assert!(code == 0 || code == 1, "{o}{e}");
    let m = manifest(&out);
    assert_eq!(m["counts"]["series"], 6);
    let f = read_csv(&out.join("findings.csv"));
    assert!(
        f.iter()
            .any(|r| r["system"] == "syp-bwv (StandardStorage)" && r["kind"] == "loss"),
        "{f:?}"
    );
}

#[test]
fn unrecognised_exports_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("something.json");
    std::fs::write(&bad, r#"{"hello": "world"}"#).unwrap();
    let (code, _, e) = run(&["scan", "--input", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("something.json"), "{e}");
    assert!(
        e.contains("expected a Prometheus query_range response"),
        "{e}"
    );
    assert!(e.contains("az monitor metrics list"), "{e}");
    // a Prometheus error saved to a file: the server's message
    let err = dir.path().join("error.json");
    std::fs::write(
        &err,
        r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#,
    )
    .unwrap();
    let (code, _, e) = run(&["scan", "--input", err.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("unclosed left parenthesis"), "{e}");
    // an instant query is not a range
    let inst = dir.path().join("instant.json");
    std::fs::write(
        &inst,
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
    )
    .unwrap();
    let (code, _, e) = run(&["scan", "--input", inst.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("expected a `matrix`"), "{e}");
    // the long table with a `Time` column stays the long table
    let long = dir.path().join("long.csv");
    std::fs::write(
        &long,
        "Time,force,system,bytes\n2024-01-01,A,B,10\n2024-01-02,A,B,10\n",
    )
    .unwrap();
    let out = dir.path().join("long");
    let (code, o, e) = scan(
        &["--input", long.to_str().unwrap(), "--time-col", "Time"],
        &out,
    );
    assert_eq!(code, 0, "{o}{e}");
    assert!(manifest(&out)["inputs"][0].get("format").is_none());
}

// ---------------------------------------------------------------------------
// Live Prometheus

/// A server that is killed when dropped.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{name}` not found: these tests need a real Prometheus server. Install the Debian package `prometheus` (apt-get install prometheus; .ci/run does it)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Escapes an OpenMetrics label value.
fn om_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Time, bytes and objects of one row.
type Sample = (i64, String, String);

/// The long CSV as OpenMetrics text (`shrinkwatch_bytes`, `shrinkwatch_objects`).
fn openmetrics(csv_path: &Path) -> String {
    let rows = read_csv(csv_path);
    let mut series: HashMap<(String, String), Vec<Sample>> = HashMap::new();
    for r in rows {
        let t = chrono::NaiveDate::parse_from_str(&r["timestamp"][..10], "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        series
            .entry((r["force"].clone(), r["system"].clone()))
            .or_default()
            .push((t, r["bytes"].clone(), r["objects"].clone()));
    }
    let mut keys: Vec<_> = series.keys().cloned().collect();
    keys.sort();
    let mut out = String::new();
    for (metric, col) in [("shrinkwatch_bytes", 1), ("shrinkwatch_objects", 2)] {
        out.push_str(&format!("# TYPE {metric} gauge\n"));
        for k in &keys {
            let mut pts = series[k].clone();
            pts.sort();
            pts.dedup_by_key(|p| p.0);
            for (t, b, o) in pts {
                let v = if col == 1 { b } else { o };
                if v.is_empty() {
                    continue;
                }
                out.push_str(&format!(
                    "{metric}{{force=\"{}\",system=\"{}\"}} {v} {t}\n",
                    om_escape(&k.0),
                    om_escape(&k.1)
                ));
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Generates an estate (12 series, 200 days, with losses) into `dir` and
/// starts Prometheus over it on a free loopback port.
fn prometheus_with_estate(dir: &Path) -> (Server, PathBuf) {
    let prometheus = tool("prometheus");
    let promtool = tool("promtool");
    let (code, o, e) = run(
        &[
            "generate",
            "--series",
            "12",
            "--days",
            "200",
            "--format",
            "csv",
            "--out",
            dir.join("estate").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{o}{e}");
    let csv_path = dir.join("estate/observations.csv");
    let om = dir.join("estate.om");
    std::fs::write(&om, openmetrics(&csv_path)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let st = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg("--max-block-duration=8760h")
        .arg(&om)
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let config = data.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1h\n").unwrap();
    let port = free_port();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.path().display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let server = Server {
        child,
        url: url.clone(),
        _dir: data,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .build()
        .into();
    let t = Instant::now();
    loop {
        if let Ok(r) = agent.get(format!("{url}/-/ready")).call() {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "Prometheus did not become ready on {url}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    (server, csv_path)
}

#[test]
fn live_prometheus_gives_the_findings_of_the_same_estate_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (server, csv_path) = prometheus_with_estate(dir.path());
    let file_out = dir.path().join("file");
    let (code, o, e) = scan(&["--input", csv_path.to_str().unwrap()], &file_out);
    assert_eq!(code, 1, "{o}{e}");
    let expected = findings(&file_out, true);
    assert!(expected.iter().any(|r| r[1] == "loss"), "{expected:?}");
    let live = |out: &Path, step: &str| {
        scan(
            &[
                "--prometheus",
                &server.url,
                "--query",
                "shrinkwatch_bytes",
                "--count-query",
                "shrinkwatch_objects",
                "--query-end",
                "2021-07-20",
                "--lookback",
                "210d",
                "--step",
                step,
            ],
            out,
        )
    };
    // hourly steps: 5,040 points per series, one request per query
    let out = dir.path().join("live");
    let (code, o, e) = live(&out, "1h");
    assert_eq!(code, 1, "{o}{e}");
    assert_eq!(findings(&out, true), expected);
    let m = manifest(&out);
    let input = &m["inputs"][0];
    assert_eq!(input["format"], "prometheus-api");
    assert_eq!(input["path"], format!("{}/api/v1/query_range", server.url));
    assert_eq!(input["query"], "shrinkwatch_bytes");
    assert_eq!(input["count_query"], "shrinkwatch_objects");
    assert!(input["range"].as_str().unwrap().ends_with("step 3600s"));
    // 15-minute steps: 20,160 points per series, over the server's limit
    // of 11,000 in one request; the chunks give the same findings
    let out = dir.path().join("chunked");
    let (code, o, e) = live(&out, "15m");
    assert_eq!(code, 1, "{o}{e}");
    assert_eq!(findings(&out, true), expected);

    // a query error: the server's message
    let (code, _, e) = scan(
        &[
            "--prometheus",
            &server.url,
            "--query",
            "sum(shrinkwatch_bytes",
        ],
        &dir.path().join("bad"),
    );
    assert_eq!(code, 2, "{e}");
    assert!(e.contains(&server.url), "{e}");
    assert!(e.contains("HTTP 400"), "{e}");
    assert!(e.contains("parse error"), "{e}");
    // an empty result
    let (code, _, e) = scan(
        &[
            "--prometheus",
            &server.url,
            "--query",
            "no_such_metric",
            "--query-end",
            "2021-07-20",
        ],
        &dir.path().join("empty"),
    );
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("returned no data"), "{e}");
    // labels that are not the key columns
    let (code, _, e) = scan(
        &[
            "--prometheus",
            &server.url,
            "--query",
            "sum by (system) (shrinkwatch_bytes)",
            "--query-end",
            "2021-07-20",
        ],
        &dir.path().join("nolabel"),
    );
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("key column `force`"), "{e}");
}

#[test]
fn prometheus_down_is_a_clear_error() {
    let port = free_port(); // nothing listens there now
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let (code, _, e) = scan(
        &[
            "--prometheus",
            &url,
            "--query",
            "x",
            "--prometheus-retries",
            "1",
        ],
        &dir.path().join("r"),
    );
    assert_eq!(code, 2, "{e}");
    assert!(e.contains(&url), "{e}");
    assert!(e.contains("cannot connect"), "{e}");
    assert!(e.contains("tried 2 times"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // accept and hold connections, never answer
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let (code, _, e) = scan(
        &[
            "--prometheus",
            &url,
            "--query",
            "x",
            "--prometheus-timeout",
            "1s",
            "--prometheus-retries",
            "0",
        ],
        &dir.path().join("r"),
    );
    assert_eq!(code, 2, "{e}");
    assert!(e.contains(&url), "{e}");
    assert!(e.contains("no answer within 1 s"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(20));
}

#[test]
fn the_bearer_token_is_sent_from_a_file_and_never_recorded() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let mut s = s.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
            }
            let body = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"force":"F","system":"S"},"values":[[1704067200,"100"],[1704153600,"100"]]}]}}"#;
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tx.send(String::from_utf8_lossy(&req).into_owned());
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let out = dir.path().join("r");
    let (code, o, e) = scan(
        &[
            "--prometheus",
            &url,
            "--query",
            "storage_bytes",
            "--bearer-token-file",
            token.to_str().unwrap(),
            "--query-end",
            "2024-01-03",
            "--lookback",
            "3d",
        ],
        &out,
    );
    assert_eq!(code, 0, "{o}{e}");
    let req = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(req.starts_with("GET /api/v1/query_range?"), "{req}");
    assert!(req.contains("query=storage_bytes"), "{req}");
    assert!(req.contains("step=3600s"), "{req}");
    assert!(req.contains("Bearer s3cret-token"), "{req}");
    let manifest_text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(!manifest_text.contains("s3cret"), "{manifest_text}");
    assert!(!o.contains("s3cret") && !e.contains("s3cret"));
    // the token is not a flag
    let (code, _, e) = run(
        &[
            "scan",
            "--prometheus",
            &url,
            "--query",
            "x",
            "--bearer-token",
            "t",
        ],
        &[],
    );
    assert_eq!(code, 2, "{e}");
}
