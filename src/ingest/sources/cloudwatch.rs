//! Amazon S3 storage metrics as `aws cloudwatch get-metric-data --output
//! json` writes them (the GetMetricData response, docs.aws.amazon.com
//! CloudWatch API Reference "GetMetricData" / "MetricDataResult"):
//! `{"MetricDataResults":[{"Id":…,"Label":…,"Timestamps":[…],"Values":[…],
//! "StatusCode":"Complete"}],"Messages":[],"NextToken":…}`; several pages
//! (saved one after another in one file) are read in turn. The response
//! has no dimensions, so each result's `Label` names its series: either
//! `name=value` pairs separated by commas (`force=…,BucketName=…,
//! StorageType=…,MetricName=…`), or the dynamic label
//! `${PROP('MetricName')} ${PROP('Dim.BucketName')} ${PROP('Dim.StorageType')}`
//! (words in any order). `BucketSizeBytes` fills bytes, `NumberOfObjects`
//! objects (else the `Id` starting with `bytes` or `objects` says which).
//! The storage classes of a bucket are summed into one series per bucket
//! (a day on which a class the bucket holds is missing is a gap, not a
//! smaller sum), or kept apart with `--keep-storage-classes`.

use super::{timestamp_of, KeyMap, Metric, SourceOptions, Table, Val};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(rename = "MetricDataResults", default)]
    results: Vec<Result_>,
    #[serde(rename = "NextToken", default)]
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Result_ {
    #[serde(rename = "Id", default)]
    id: String,
    #[serde(rename = "Label", default)]
    label: Option<String>,
    #[serde(rename = "Timestamps", default)]
    timestamps: Vec<Stamp>,
    #[serde(rename = "Values", default)]
    values: Vec<f64>,
    #[serde(rename = "StatusCode", default)]
    status: Option<String>,
    #[serde(rename = "Messages", default)]
    messages: Vec<Message>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Stamp {
    Secs(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "Value", default)]
    value: Option<String>,
}

/// True for an S3 `StorageType` dimension value.
fn is_storage_type(s: &str) -> bool {
    s.ends_with("Storage")
        || s.ends_with("Overhead")
        || s == "AllStorageTypes"
        || s == "ExpressOneZone"
}

/// The labels a result's `Label` carries.
fn labels_of(label: &str) -> Vec<(String, String)> {
    let parts: Vec<&str> = if label.contains('=') || label.contains(',') {
        label.split(',').collect()
    } else {
        label.split_whitespace().collect()
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        if let Some((k, v)) = p.split_once('=') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        } else if p == "BucketSizeBytes" || p == "NumberOfObjects" {
            out.push(("MetricName".into(), p.to_string()));
        } else if is_storage_type(p) {
            out.push(("StorageType".into(), p.to_string()));
        } else if !out.iter().any(|(k, _)| k == "BucketName") {
            out.push(("BucketName".into(), p.to_string()));
        } else {
            out.push((format!("word{}", out.len() + 1), p.to_string()));
        }
    }
    out
}

fn label<'a>(labels: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    labels
        .iter()
        .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
        .map(|(_, v)| v.as_str())
}

/// Points of one bucket and storage class: time → (value, record).
type ClassPoints = BTreeMap<i64, (Val, u64)>;

/// Reads `aws cloudwatch get-metric-data` output (one page or several).
pub fn read(bytes: &[u8], cols: &[String], opts: &SourceOptions) -> Result<Table, String> {
    let map = KeyMap::new(cols, opts, &|c| match c {
        "force" => vec!["account", "AccountId"],
        "system" => vec!["BucketName", "bucket"],
        _ => Vec::new(),
    });
    let mut table = Table::new(map);
    let mut record = 0u64;
    // bucket key → storage class → points (bytes), summed at the end
    let mut classes: BTreeMap<Vec<String>, BTreeMap<String, ClassPoints>> = BTreeMap::new();
    let mut skipped_counts = 0u64;
    let mut last_token: Option<String> = None;
    let mut pages = 0;
    for page in serde_json::Deserializer::from_slice(bytes).into_iter::<Page>() {
        let page = page.map_err(|e| {
            format!(
                "not `aws cloudwatch get-metric-data` output (page {}): {e}",
                pages + 1
            )
        })?;
        pages += 1;
        last_token = page.next_token.filter(|t| !t.is_empty());
        for r in &page.results {
            let lab = r.label.as_deref().unwrap_or("");
            let what = || format!("result `{}` (Label `{lab}`)", r.id);
            match r.status.as_deref() {
                None | Some("Complete") | Some("PartialData") => {}
                Some(s) => {
                    let msgs: Vec<String> = r
                        .messages
                        .iter()
                        .map(|m| {
                            format!(
                                "{}: {}",
                                m.code.as_deref().unwrap_or("?"),
                                m.value.as_deref().unwrap_or("")
                            )
                        })
                        .collect();
                    return Err(format!(
                        "{} has StatusCode `{s}` ({})",
                        what(),
                        if msgs.is_empty() {
                            "no message".to_string()
                        } else {
                            msgs.join("; ")
                        }
                    ));
                }
            }
            if r.timestamps.len() != r.values.len() {
                return Err(format!(
                    "{} has {} Timestamps but {} Values",
                    what(),
                    r.timestamps.len(),
                    r.values.len()
                ));
            }
            let labels = labels_of(lab);
            let id = r.id.to_ascii_lowercase();
            let metric = match label(&labels, &["MetricName", "metric"]) {
                Some("BucketSizeBytes") => Metric::Bytes,
                Some("NumberOfObjects") => Metric::Objects,
                _ if id.starts_with("bytes") || id.starts_with("size") => Metric::Bytes,
                _ if id.starts_with("objects") || id.starts_with("count") => Metric::Objects,
                _ => {
                    return Err(format!(
                        "{}: cannot tell BucketSizeBytes from NumberOfObjects; put the metric name in the Label (${{PROP('MetricName')}}) or start the Id with `bytes` or `objects`",
                        what()
                    ))
                }
            };
            let class = label(&labels, &["StorageType"])
                .unwrap_or("StandardStorage")
                .to_string();
            let key_labels: Vec<(String, String)> = labels
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("StorageType"))
                .cloned()
                .collect();
            let mut key = table.key_of(&key_labels);
            if metric == Metric::Objects && opts.keep_storage_classes {
                skipped_counts += r.values.len() as u64;
                record += r.values.len() as u64;
                continue;
            }
            if opts.keep_storage_classes {
                if let Some(last) = key.last_mut() {
                    *last = format!("{last} ({class})");
                }
            }
            for (t, v) in r.timestamps.iter().zip(&r.values) {
                record += 1;
                let time = match t {
                    Stamp::Secs(s) if s.is_finite() => Ok(s.floor() as i64),
                    Stamp::Secs(s) => Err(s.to_string()),
                    Stamp::Text(s) => timestamp_of(s),
                };
                let val = Val::Num(*v);
                match (metric, time) {
                    (Metric::Bytes, Ok(ts)) if !opts.keep_storage_classes => {
                        let pts = classes
                            .entry(key.clone())
                            .or_default()
                            .entry(class.clone())
                            .or_default();
                        match pts.get(&ts) {
                            Some((old, _)) if *old != val => {
                                let Val::Num(o) = old else { continue };
                                pts.insert(
                                    ts,
                                    (
                                        Val::Bad(format!("{o} and {v} (two results disagree)")),
                                        record,
                                    ),
                                );
                            }
                            Some(_) => {}
                            None => {
                                pts.insert(ts, (val, record));
                            }
                        }
                    }
                    (m, time) => {
                        let sid = table.series(key.clone());
                        table.put(sid, time, m, val, record, false);
                    }
                }
            }
        }
    }
    if pages == 0 {
        return Err("empty file (expected `aws cloudwatch get-metric-data` output)".into());
    }
    // One series per bucket: the sum of its storage classes at each time
    // every class it holds then has a value.
    let mut partial = 0u64;
    for (key, by_class) in classes {
        let sid = table.series(key);
        let spans: Vec<(i64, i64)> = by_class
            .values()
            .map(|p| {
                (
                    p.keys().next().copied().unwrap_or(0),
                    p.keys().last().copied().unwrap_or(0),
                )
            })
            .collect();
        let mut times: Vec<i64> = by_class.values().flat_map(|p| p.keys().copied()).collect();
        times.sort_unstable();
        times.dedup();
        for t in times {
            let mut sum = Val::Num(0.0);
            let mut rec = u64::MAX;
            let mut complete = true;
            for (pts, (first, last)) in by_class.values().zip(&spans) {
                match pts.get(&t) {
                    Some((v, r)) => {
                        sum = sum.add(v);
                        rec = rec.min(*r);
                    }
                    None if *first <= t && t <= *last => complete = false,
                    None => {}
                }
            }
            if complete {
                table.put(sid, Ok(t), Metric::Bytes, sum, rec, false);
            } else {
                partial += 1;
            }
        }
    }
    if partial > 0 {
        crate::log::warn(format!(
            "{partial} bucket-days left as gaps: a storage class the bucket holds has no value that day, so the sum would be too small"
        ));
    }
    if skipped_counts > 0 {
        crate::log::warn(format!(
            "{skipped_counts} NumberOfObjects values not used: object counts are per bucket, not per storage class (--keep-storage-classes)"
        ));
    }
    if let Some(t) = last_token {
        crate::log::warn(format!(
            "the last page ends with a NextToken (`{}`): the export is incomplete; fetch the remaining pages with --next-token and append them to the file",
            crate::fmt::term(&t)
        ));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::labels_of;

    #[test]
    fn labels() {
        let l = labels_of("BucketSizeBytes my-bucket StandardIAStorage");
        assert!(l.contains(&("MetricName".into(), "BucketSizeBytes".into())));
        assert!(l.contains(&("BucketName".into(), "my-bucket".into())));
        assert!(l.contains(&("StorageType".into(), "StandardIAStorage".into())));
        let l =
            labels_of("force=South Yorkshire Police,BucketName=syp-bwv,StorageType=GlacierStorage");
        assert!(l.contains(&("force".into(), "South Yorkshire Police".into())));
        assert!(l.contains(&("BucketName".into(), "syp-bwv".into())));
    }
}
