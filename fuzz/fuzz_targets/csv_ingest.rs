#![no_main]
//! See `shrinkwatch::fuzzing::csv_ingest` for the invariants checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| shrinkwatch::fuzzing::csv_ingest(data));
