#![no_main]
//! See `shrinkwatch::fuzzing::config` for the invariants checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| shrinkwatch::fuzzing::config(data));
