//! Azure Monitor storage metrics as `az monitor metrics list --output json`
//! writes them (the Metrics - List REST response, learn.microsoft.com
//! "Metrics - List"): `{"interval":"PT1H","value":[{"name":{"value":
//! "UsedCapacity"},"unit":"Bytes","resourceGroup":…,"timeseries":[{
//! "metadatavalues":[…],"data":[{"timeStamp":…,"average":…}]}]}]}`.
//! Capacity metrics (`UsedCapacity`, `BlobCapacity`, …, in bytes) fill
//! bytes, count metrics (`BlobCount`, …) fill objects. The value is the
//! `average` (else `total`, `maximum`, `minimum`); a point with none is a
//! gap. Times carry `Z` or an offset. Labels: `resourceGroup`, `account`
//! (the storage account, from the resource id), `subscription`, `metric`
//! and every dimension in `metadatavalues`; by default `force` is the
//! resource group and `system` the storage account.

use super::{timestamp_of, KeyMap, Metric, SourceOptions, Table, Val};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Response {
    value: Vec<AzMetric>,
}

#[derive(Debug, Deserialize)]
struct Name {
    value: String,
}

#[derive(Debug, Deserialize)]
struct AzMetric {
    #[serde(default)]
    id: Option<String>,
    name: Name,
    #[serde(default)]
    unit: Option<String>,
    #[serde(rename = "resourceGroup", default)]
    resource_group: Option<String>,
    #[serde(rename = "errorCode", default)]
    error_code: Option<String>,
    #[serde(rename = "errorMessage", default)]
    error_message: Option<String>,
    #[serde(default)]
    timeseries: Vec<TimeSeries>,
}

#[derive(Debug, Deserialize)]
struct TimeSeries {
    #[serde(default)]
    metadatavalues: Vec<Meta>,
    #[serde(default)]
    data: Vec<Point>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    name: Name,
    value: String,
}

#[derive(Debug, Deserialize)]
struct Point {
    #[serde(rename = "timeStamp")]
    time_stamp: String,
    average: Option<f64>,
    total: Option<f64>,
    maximum: Option<f64>,
    minimum: Option<f64>,
}

const BYTES: &[&str] = &[
    "UsedCapacity",
    "BlobCapacity",
    "FileCapacity",
    "TableCapacity",
    "QueueCapacity",
];
const COUNTS: &[&str] = &[
    "BlobCount",
    "FileCount",
    "TableEntityCount",
    "QueueMessageCount",
];

/// The segment after `name` in a resource id (`…/storageAccounts/ACCOUNT/…`).
fn segment_after<'a>(id: &'a str, name: &str) -> Option<&'a str> {
    let mut it = id.split('/');
    while let Some(s) = it.next() {
        if s.eq_ignore_ascii_case(name) {
            return it.next().filter(|v| !v.is_empty());
        }
    }
    None
}

/// Reads `az monitor metrics list` output.
pub fn read(bytes: &[u8], cols: &[String], opts: &SourceOptions) -> Result<Table, String> {
    let resp: Response = serde_json::from_slice(bytes)
        .map_err(|e| format!("not `az monitor metrics list` output: {e}"))?;
    let map = KeyMap::new(cols, opts, &|c| match c {
        "force" => vec!["resourceGroup"],
        "system" => vec!["account"],
        _ => Vec::new(),
    });
    let mut table = Table::new(map);
    let mut record = 0u64;
    for m in &resp.value {
        let name = m.name.value.as_str();
        if let Some(code) = m.error_code.as_deref().filter(|c| *c != "Success") {
            return Err(format!(
                "metric `{name}` has errorCode `{code}`: {}",
                m.error_message.as_deref().unwrap_or("(no message)")
            ));
        }
        let metric = if BYTES.iter().any(|b| b.eq_ignore_ascii_case(name)) {
            Metric::Bytes
        } else if COUNTS.iter().any(|b| b.eq_ignore_ascii_case(name)) {
            Metric::Objects
        } else {
            return Err(format!(
                "metric `{name}` is not a storage capacity metric (expected one of {} in bytes, or {})",
                BYTES.join(", "),
                COUNTS.join(", ")
            ));
        };
        if let (Metric::Bytes, Some(u)) = (metric, m.unit.as_deref()) {
            if !u.eq_ignore_ascii_case("Bytes") {
                return Err(format!("metric `{name}` has unit `{u}`, expected `Bytes`"));
            }
        }
        let id = m.id.as_deref().unwrap_or("");
        let mut base: Vec<(String, String)> = Vec::new();
        let rg = m
            .resource_group
            .as_deref()
            .or_else(|| segment_after(id, "resourceGroups"));
        if let Some(rg) = rg {
            base.push(("resourceGroup".into(), rg.to_string()));
        }
        if let Some(a) = segment_after(id, "storageAccounts") {
            base.push(("account".into(), a.to_string()));
        }
        if let Some(s) = segment_after(id, "subscriptions") {
            base.push(("subscription".into(), s.to_string()));
        }
        base.push(("metric".into(), name.to_string()));
        for ts in &m.timeseries {
            let mut labels = base.clone();
            for d in &ts.metadatavalues {
                labels.push((d.name.value.clone(), d.value.clone()));
            }
            let sid = table.series_of(&labels);
            for p in &ts.data {
                record += 1;
                let Some(v) = p.average.or(p.total).or(p.maximum).or(p.minimum) else {
                    continue; // no value in that hour: a gap
                };
                table.put(
                    sid,
                    timestamp_of(&p.time_stamp),
                    metric,
                    Val::Num(v),
                    record,
                    false,
                );
            }
        }
    }
    Ok(table)
}
