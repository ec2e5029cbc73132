#!/usr/bin/env python3
"""Side by side: ruptures' PELT (a well-known change-point library) and
shrinkwatch on the same series. Optional; not run in CI.

Needs: pip install ruptures numpy. Usage:
    benches/side_by_side.py [DATA_DIR]
DATA_DIR holds observations.csv and labels.csv from `shrinkwatch generate
--format csv` (default: generated with --seed 1, the shipped dataset).

PELT (model "l2", Killick et al. 2012) runs on each series' log level with
a BIC-style penalty scaled by the series' noise (MAD of its changes); a
change point after which the level is at least 1.5 % lower (mean of 3
samples either side) counts as a reported loss. shrinkwatch's numbers come
from `shrinkwatch evaluate` on the same files. Both are scored on the same
labelled losses with the same +-2-sample matching.
"""
import csv, json, math, os, subprocess, sys, tempfile, time
from collections import defaultdict

import numpy as np
import ruptures as rpt

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.join(root, "target", "release", "shrinkwatch")
data = sys.argv[1] if len(sys.argv) > 1 else None
tmp = tempfile.mkdtemp()
if data is None:
    data = os.path.join(tmp, "data")
    subprocess.run([binary, "generate", "--seed", "1", "--format", "csv", "--out", data], check=True, stdout=subprocess.DEVNULL)

def parse_ts(s):
    from datetime import datetime, timezone
    s = s.strip().replace("Z", "")
    fmt = "%Y-%m-%d" if len(s) == 10 else "%Y-%m-%dT%H:%M:%S"
    return int(datetime.strptime(s, fmt).replace(tzinfo=timezone.utc).timestamp())

series = defaultdict(dict)
with open(os.path.join(data, "observations.csv")) as f:
    for r in csv.DictReader(f):
        series[(r["force"], r["system"])][parse_ts(r["timestamp"])] = float(r["bytes"])
labels = defaultdict(list)
with open(os.path.join(data, "labels.csv")) as f:
    for r in csv.DictReader(f):
        if r["kind"] == "loss":
            labels[(r["force"], r["system"])].append(parse_ts(r["timestamp"]))

points = 0
t0 = time.perf_counter()
reported = defaultdict(list)
for key, obs in series.items():
    ts = np.array(sorted(obs))
    y = np.array([obs[t] for t in ts])
    y = np.log(np.maximum(y, 1.0))
    points += len(y)
    d = np.diff(y)
    sigma = 1.4826 * np.median(np.abs(d - np.median(d))) + 1e-12
    algo = rpt.Pelt(model="l2", min_size=2, jump=1).fit(y.reshape(-1, 1))
    cps = algo.predict(pen=10 * sigma**2 * math.log(len(y)))
    for c in cps[:-1]:
        before = y[max(0, c - 3):c].mean()
        after = y[c:c + 3].mean()
        if after < before + math.log(1 - 0.015):
            reported[key].append(ts[c])
pelt_secs = time.perf_counter() - t0

def score(rep):
    tp = fp = 0
    used = set()
    for key, starts in rep.items():
        obs = sorted(series[key])
        idx = {t: i for i, t in enumerate(obs)}
        for s in starts:
            hit = None
            for lt in labels.get(key, []):
                li = idx.get(lt, np.searchsorted(obs, lt))
                if (key, lt) not in used and abs(idx[s] - li) <= 2:
                    hit = lt
                    break
            if hit is None:
                fp += 1
            else:
                used.add((key, hit))
                tp += 1
    n = sum(len(v) for v in labels.values())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / n if n else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)

pp, pr, pf = score(reported)
out = os.path.join(tmp, "ev")
t0 = time.perf_counter()
subprocess.run([binary, "evaluate", "--input", os.path.join(data, "observations.csv"),
                "--planned", os.path.join(data, "planned.csv"), "--labels", os.path.join(data, "labels.csv"),
                "--out", out], check=True, stdout=subprocess.DEVNULL)
sw_secs = time.perf_counter() - t0
ev = json.load(open(os.path.join(out, "evaluation.json")))
k = ev["detector"]["kinds"]["loss"]
det = ev.get("timings", {}).get("detect")
print(f"{len(series)} series, {points} points; labelled losses: {sum(len(v) for v in labels.values())}")
print("| method | loss precision | loss recall | loss F1 | time | points/s |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| ruptures {rpt.__version__} PELT (l2, 1 thread, detection only) | {pp:.3f} | {pr:.3f} | {pf:.3f} | {pelt_secs:.2f} s | {points / pelt_secs:,.0f} |")
print(f"| shrinkwatch evaluate (whole command: CSV read, detection, scoring; 2 threads) | {k['precision']:.3f} | {k['recall']:.3f} | {k['f1']:.3f} | {sw_secs:.2f} s | {points / sw_secs:,.0f} |")
