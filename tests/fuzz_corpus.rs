//! Replays the fuzzers' seed corpus and every input that ever crashed a
//! fuzz target (`fuzz/regressions/<target>/`) through the same harnesses
//! (`shrinkwatch::fuzzing`), so a fixed crash stays fixed. Fuzzing itself:
//! see fuzz/README.md.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    // the committed seeds (the fuzzer's own additions are not committed),
    // then every crash input
    for (dir, seeds_only) in [
        (root.join("corpus").join(target), true),
        (root.join("regressions").join(target), false),
    ] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with('.') || (seeds_only && !name.starts_with("seed-")) {
                continue;
            }
            let data = std::fs::read(&f).unwrap();
            let r = std::panic::catch_unwind(|| run(&data));
            assert!(r.is_ok(), "{target}: {} panics", f.display());
            n += 1;
        }
    }
    n
}

#[test]
fn csv_ingest_corpus() {
    assert!(replay("csv_ingest", shrinkwatch::fuzzing::csv_ingest) >= 10);
}

#[test]
fn planned_corpus() {
    assert!(replay("planned", shrinkwatch::fuzzing::planned) >= 3);
}

#[test]
fn config_corpus() {
    assert!(replay("config", shrinkwatch::fuzzing::config) >= 2);
}

#[test]
fn engine_corpus() {
    assert!(replay("engine", shrinkwatch::fuzzing::engine) >= 4);
}
