#!/usr/bin/env python3
"""Writes the monitoring-export fixtures of tests/sources.rs (see README.md
here for where each shape comes from). Deterministic: run it again and the
files do not change."""
import json, math, os
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
DAYS = 140
LOSS_DAY = 100  # South Yorkshire Police loses 30 % on this day

SERIES = [
    ("South Yorkshire Police", "Body-worn video", 2.0e12, LOSS_DAY),
    ("Avon and Somerset Police", "Evidence store", 5.0e11, None),
]

def level(si, d, base, loss):
    jitter = (((d * 7919 + si * 104729) % 11) - 5) * 1e-4
    v = base * (1.001 + jitter) ** d
    if loss is not None and d >= loss:
        v *= 0.7
    return round(v)

def ts(d, h=0):
    return START + timedelta(days=d, hours=h)

def unix(t):
    return int(t.timestamp())

def write(name, text):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        f.write(text)

# Prometheus query_range response (HTTP API), daily step; Avon has no
# sample on day 50 (a gap) and NaN on day 60 (rejected).
def prom(labels_of):
    result = []
    for si, (force, system, base, loss) in enumerate(SERIES):
        values = []
        for d in range(DAYS):
            if si == 1 and d == 50:
                continue
            v = "NaN" if (si == 1 and d == 60) else str(level(si, d, base, loss))
            values.append([unix(ts(d)), v])
        result.append({"metric": labels_of(force, system), "values": values})
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}},
                      separators=(",", ":"))

write("prometheus_query_range.json", prom(lambda f, s: {
    "__name__": "storage_used_bytes", "force": f, "instance": "exporter:9100", "job": "storage", "system": s}))
write("prometheus_job_mountpoint.json", prom(lambda f, s: {
    "__name__": "node_filesystem_size_bytes", "instance": "nas01:9100", "job": f, "mountpoint": s}))

# az monitor metrics list --metrics UsedCapacity BlobCount --interval PT1H
# --output json: hourly, timestamps as the CLI prints them (+00:00); one
# hour with no average (a gap).
def azure():
    accounts = [("rg-syp", "sypbwv", 2.0e12, 4), ("rg-avon", "avonevidence", 5.0e11, None)]
    metrics = []
    for name, unit, local, scale in [("UsedCapacity", "Bytes", "Used capacity", 1.0),
                                     ("BlobCount", "Count", "Blob Count", 1e-6)]:
        for ai, (rg, acct, base, loss_day) in enumerate(accounts):
            data = []
            for h in range(24 * 8):
                t = ts(0, h)
                point = {"timeStamp": t.strftime("%Y-%m-%dT%H:%M:%S+00:00")}
                if not (ai == 1 and h == 30):
                    v = base * (1 + 0.0001 * h)
                    if loss_day is not None and h >= loss_day * 24:
                        v *= 0.7
                    point["average"] = round(v * scale) if name == "BlobCount" else v + 0.5
                data.append(point)
            rid = (f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{rg}"
                   f"/providers/Microsoft.Storage/storageAccounts/{acct}")
            if name == "BlobCount":
                rid += "/blobServices/default"
            metrics.append({
                "displayDescription": f"The amount of storage used ({name}).",
                "errorCode": "Success",
                "id": rid + f"/providers/Microsoft.Insights/metrics/{name}",
                "name": {"localizedValue": local, "value": name},
                "resourceGroup": rg,
                "timeseries": [{"data": data, "metadatavalues": []}],
                "type": "Microsoft.Insights/metrics",
                "unit": unit,
            })
    out = {
        "cost": 0,
        "interval": "PT1H",
        "namespace": "Microsoft.Storage/storageAccounts",
        "resourceregion": "uksouth",
        "timespan": f"{ts(0).strftime('%Y-%m-%dT%H:%M:%SZ')}/{ts(8).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "value": metrics,
    }
    return json.dumps(out, indent=2) + "\n"
write("azure_monitor_metrics.json", azure())

# aws cloudwatch get-metric-data, two pages saved one after the other
# (--no-paginate with --next-token); BucketSizeBytes per StorageType plus
# NumberOfObjects (AllStorageTypes); timestamps descending as the API
# returns them by default; Label names the series (key=value pairs).
def cloudwatch():
    buckets = [("South Yorkshire Police", "syp-bwv", SERIES[0]), ("Avon and Somerset Police", "avon-evidence", SERIES[1])]
    results = []
    for bi, (force, bucket, (_, _, base, loss)) in enumerate(buckets):
        classes = [("StandardStorage", 0.6), ("StandardIAStorage", 0.3), ("GlacierStorage", 0.1)]
        for ci, (cls, share) in enumerate(classes):
            stamps, values = [], []
            for d in reversed(range(DAYS)):
                if bi == 1 and cls == "StandardIAStorage" and d == 70:
                    continue  # one class missing one day: the bucket's day is a gap
                stamps.append(ts(d).strftime("%Y-%m-%dT%H:%M:%S+00:00"))
                values.append(float(round(level(bi, d, base, loss) * share)))
            results.append({"Id": f"b{bi}c{ci}",
                            "Label": f"force={force},BucketName={bucket},StorageType={cls},MetricName=BucketSizeBytes",
                            "Timestamps": stamps, "Values": values, "StatusCode": "Complete"})
        stamps = [ts(d).strftime("%Y-%m-%dT%H:%M:%S+00:00") for d in reversed(range(DAYS))]
        values = [float(round(level(bi, d, base, loss) / 1e6)) for d in reversed(range(DAYS))]
        results.append({"Id": f"o{bi}",
                        "Label": f"force={force},BucketName={bucket},StorageType=AllStorageTypes,MetricName=NumberOfObjects",
                        "Timestamps": stamps, "Values": values, "StatusCode": "Complete"})
    page1 = {"MetricDataResults": results[:4], "NextToken": "eyJwYWdlIjoyfQ==", "Messages": []}
    page2 = {"MetricDataResults": results[4:], "Messages": []}
    return json.dumps(page1, indent=4) + "\n" + json.dumps(page2, indent=4) + "\n"
write("cloudwatch_get_metric_data.json", cloudwatch())

# Grafana panel CSV, "Series joined by time" + "Formatted data": quoted
# header, CRLF, formatted times (dashboard in UTC) and values with units
# (decbytes: TB/GB); an empty cell is a gap; a blank line ends the frame.
def units(v):
    for u, m in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6)]:
        if v >= m:
            return f"{v / m:.3f} {u}"
    return f"{v:.0f} B"

def grafana_formatted():
    names = [f'storage_used_bytes{{force="{f}", system="{s}"}}' for f, s, _, _ in SERIES]
    lines = ['"Time",' + ",".join('"' + n.replace('"', '""') + '"' for n in names)]
    for d in range(DAYS):
        cells = [ts(d).strftime("%Y-%m-%d %H:%M:%S")]
        for si, (_, _, base, loss) in enumerate(SERIES):
            cells.append("" if (si == 1 and d == 50) else units(level(si, d, base, loss)))
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n\r\n"
write("grafana_formatted.csv", grafana_formatted())

# Grafana "Download for Excel" of raw data (formatted off), frames not
# joined: `sep=,`, then one frame per series (legend {{force}}/{{system}}),
# each with its own header, epoch milliseconds and raw numbers.
def grafana_raw():
    out = ["sep=,"]
    for si, (force, system, base, loss) in enumerate(SERIES):
        out.append(f'"Time","{force}/{system}"')
        for d in range(DAYS):
            if si == 1 and d == 50:
                continue
            out.append(f"{unix(ts(d)) * 1000},{level(si, d, base, loss)}")
        out.append("")
    return "\r\n".join(out) + "\r\n"
write("grafana_raw.csv", grafana_raw())

# The same estate as the long table, for comparison.
def long_csv():
    out = ["timestamp,force,system,bytes"]
    for si, (force, system, base, loss) in enumerate(SERIES):
        for d in range(DAYS):
            if si == 1 and d == 50:
                continue
            out.append(f"{ts(d).strftime('%Y-%m-%d')},{force},{system},{level(si, d, base, loss)}")
    return "\n".join(out) + "\n"
write("estate_long.csv", long_csv())
