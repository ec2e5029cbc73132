//! Criterion benchmarks of the detection engine on seeded generated series
//! (statistically sound timings with confidence intervals; throughput in
//! points). Run: `cargo bench --bench criterion_engine`.
//! Shapes: a daily store with a weekly expiry job (3 years), a 6-hourly
//! store (1 year), a noisy store (3 years, 3x noise), and one whole small
//! estate (200 series, 3 years) on all cores.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shrinkwatch::detect::{detect, DetectParams};
use shrinkwatch::generate::{generate, GenOptions};

type Series = (Vec<i64>, Vec<f64>, Vec<f64>);

fn estate(opts: GenOptions) -> Vec<Series> {
    generate(&opts).per_series()
}

fn engine(c: &mut Criterion) {
    let p = DetectParams::default();
    let mut g = c.benchmark_group("engine");
    let shapes = [
        (
            "daily, weekly job, 3 years",
            GenOptions {
                seed: 7,
                series: Some(8),
                days: 1095,
                weekly_jobs: true,
                ..Default::default()
            },
        ),
        (
            "6-hourly, 1 year",
            GenOptions {
                seed: 8,
                series: Some(8),
                days: 365,
                interval_hours: Some(6),
                ..Default::default()
            },
        ),
        (
            "noise x3, 3 years",
            GenOptions {
                seed: 9,
                series: Some(8),
                days: 1095,
                noise: 3.0,
                ..Default::default()
            },
        ),
    ];
    for (name, opts) in shapes {
        let set = estate(opts);
        let points: usize = set.iter().map(|s| s.0.len()).sum();
        g.throughput(Throughput::Elements(points as u64));
        g.bench_with_input(BenchmarkId::new("one thread", name), &set, |b, set| {
            b.iter(|| {
                set.iter()
                    .map(|s| detect(&s.0, &s.1, Some(&s.2), &[], &p).detections.len())
                    .sum::<usize>()
            })
        });
    }
    let set = estate(GenOptions {
        seed: 42,
        series: Some(200),
        days: 1095,
        ..Default::default()
    });
    let points: usize = set.iter().map(|s| s.0.len()).sum();
    g.throughput(Throughput::Elements(points as u64));
    g.bench_function("200 series, all cores", |b| {
        use rayon::prelude::*;
        b.iter(|| {
            set.par_iter()
                .map(|s| detect(&s.0, &s.1, Some(&s.2), &[], &p).detections.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = engine
}
criterion_main!(benches);
