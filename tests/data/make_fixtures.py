#!/usr/bin/env python3
"""Writes the small hand-made fixtures in tests/data/ (deterministic, no
dependencies). The integration tests assert exact outcomes on them, so what
each series holds is spelled out here.

simple.csv (daily, 2023-01-02 .. 2023-05-31, 150 days; rows day-major):
  Kent Police / Body-worn video    growth, a 10 % loss (12,000 files) on day 110 (2023-04-22)
  Kent Police / Custody            growth, a routine 2 % deletion every Sunday,
                                   a zero reading on day 95 (2023-04-07), back next day,
                                   a 20 % planned disposal on day 130 (2023-05-12)
  Essex Police / Records management  growth, a 60 % upward step on day 40,
                                   a slow 12 % decline over days 60..120: no findings
six_hourly.csv: one series sampled every 6 hours for 120 days, a 5 % loss at
  2023-04-11T12:00:00Z.
"""
import math, datetime as dt

T0 = dt.date(2023, 1, 2)  # a Monday

def day(i):
    return (T0 + dt.timedelta(days=i)).isoformat()

def wiggle(i, a):
    return 1.0 + a * math.sin(i * 1.7) * math.cos(i * 0.31)

def series_bwv(n=150):
    level, files, out = 4.0e14, 2_000_000, []
    for i in range(n):
        wd = i % 7
        level *= 1.004 if wd < 5 else 1.0015
        files += 9000 if wd < 5 else 3000
        if i == 110:
            level *= 0.90
            files -= 12_000
        out.append((day(i), round(level * wiggle(i, 0.0004)), files))
    return out

def series_custody(n=150):
    level, out = 8.0e11, []
    for i in range(n):
        wd = i % 7
        level *= 1.002 if wd < 5 else 1.0005
        if wd == 6:
            level *= 0.98
        if i == 130:
            level *= 0.80
        v = level * wiggle(i, 0.0003)
        if i == 95:
            v = 0
        out.append((day(i), round(v), ""))
    return out

def series_records(n=150):
    level, out = 2.0e12, []
    for i in range(n):
        level *= 1.0015
        if i == 40:
            level *= 1.6
        if 60 <= i < 120:
            k = i - 60
            level *= math.exp(-(-math.log(0.88)) / 60 * (1 - math.cos(2 * math.pi * k / 60)))
        out.append((day(i), round(level * wiggle(i, 0.0003)), ""))
    return out

def write_simple():
    s = {("Kent Police", "Body-worn video"): series_bwv(),
         ("Kent Police", "Custody"): series_custody(),
         ("Essex Police", "Records management"): series_records()}
    with open("simple.csv", "w") as f:
        f.write("timestamp,force,system,bytes,objects\n")
        for i in range(150):
            for (force, system), rows in s.items():
                t, b, o = rows[i]
                f.write(f"{t},{force},{system},{b},{o}\n")
    with open("planned_simple.csv", "w") as f:
        f.write("force,system,start,end,expected_drop_pct,reason\n")
        f.write("Kent Police,Custody,2023-05-10,2023-05-14,20,MoPI review disposal\n")
        f.write("Kent Police,*,2023-04-20,2023-04-24,0,Evidence store migration (no loss expected)\n")
    with open("planned_too_small.csv", "w") as f:
        f.write("force,system,start,end,expected_drop_pct,reason\n")
        f.write("Kent Police,Custody,2023-05-10,2023-05-14,5,MoPI review disposal\n")
    with open("labels_simple.csv", "w") as f:
        f.write("force,system,timestamp,kind,end\n")
        f.write("Kent Police,Body-worn video,2023-04-22,loss,2023-04-22\n")
        f.write("Kent Police,Custody,2023-04-07,transient,2023-04-07\n")
        f.write("Kent Police,Custody,2023-05-12,planned,2023-05-12\n")
        f.write("Essex Police,Records management,2023-02-11,step_up,2023-02-11\n")
        f.write("Essex Police,Records management,2023-03-03,gradual,2023-05-01\n")

def write_six_hourly():
    level = 5.0e13
    with open("six_hourly.csv", "w") as f:
        f.write("timestamp,force,system,bytes\n")
        for k in range(120 * 4):
            t = dt.datetime(2023, 1, 2) + dt.timedelta(hours=6 * k)
            h = t.hour
            level *= 1.0012 if 6 <= h <= 18 else 1.0003
            if t == dt.datetime(2023, 4, 11, 12):
                level *= 0.95
            f.write(f"{t.isoformat()}Z,Police Scotland,ANPR,{round(level * wiggle(k, 0.0002))}\n")

def write_bad_rows():
    rows = series_bwv(60)
    with open("bad_rows.csv", "w") as f:
        f.write("timestamp,force,system,bytes,objects\n")
        for i, (t, b, o) in enumerate(rows):
            f.write(f"{t},Kent Police,Body-worn video,{b},{o}\n")
        # line 62: exact duplicate of the last row (kept once, counted)
        t, b, o = rows[-1]
        f.write(f"{t},Kent Police,Body-worn video,{b},{o}\n")
        f.write("2023-02-30,Kent Police,Body-worn video,100,1\n")         # line 63 impossible date
        f.write("yesterday,Kent Police,Body-worn video,100,1\n")          # line 64 unparsable
        f.write("2023-03-10,Kent Police,Body-worn video,-5,1\n")          # line 65 negative
        f.write("2023-03-11,Kent Police,Body-worn video,12.5,1\n")        # line 66 fractional
        f.write("2023-03-12,,Body-worn video,100,1\n")                    # line 67 empty key
        f.write("2023-03-13,Kent Police,Body-worn video,1e9,1\n")         # line 68 exponent
        f.write("2023-01-05,Kent Police,Body-worn video,999,1\n")         # line 69 conflicts with line 5

write_simple()
write_six_hourly()
write_bad_rows()
with open("missing_column.csv", "w") as f:
    f.write("timestamp,force,system,objects\n2023-01-02,Kent Police,Custody,5\n")
