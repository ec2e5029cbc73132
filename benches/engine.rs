//! Engine throughput on seeded generated series (no I/O): points per second,
//! single-threaded and across all cores. Run: `cargo bench --bench engine`.
//! Optional arguments: number of series (default 2000), days (default 1095)
//! and a sampling interval in hours for every series (default: the
//! generator's mix of daily and 6-hourly series). The hourly estate of
//! BENCHMARKS.md: `cargo bench --bench engine -- 400 730 1`.

use shrinkwatch::detect::{detect, DetectParams};
use shrinkwatch::generate::{generate, GenOptions};
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let series = args.first().copied().unwrap_or(2000);
    let days = args.get(1).copied().unwrap_or(1095);
    let interval_hours = args.get(2).map(|&h| h as u32);
    let ds = generate(&GenOptions {
        seed: 42,
        series: Some(series),
        days,
        interval_hours,
        ..Default::default()
    });
    let per = ds.per_series();
    let points: usize = per.iter().map(|s| s.0.len()).sum();
    let p = DetectParams::default();
    let run_serial = || {
        per.iter()
            .map(|s| detect(&s.0, &s.1, Some(&s.2), &[], &p).detections.len())
            .sum::<usize>()
    };
    let run_parallel = || {
        use rayon::prelude::*;
        per.par_iter()
            .map(|s| detect(&s.0, &s.1, Some(&s.2), &[], &p).detections.len())
            .sum::<usize>()
    };
    for (name, f) in [
        ("1 thread", &run_serial as &dyn Fn() -> usize),
        ("all cores", &run_parallel),
    ] {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..5 {
            let t = Instant::now();
            found = f();
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[2];
        println!("engine, {name}: {series} series, {points} points, {found} findings: median {:.3} s = {:.1} M points/s", median, points as f64 / median / 1e6);
    }
}
