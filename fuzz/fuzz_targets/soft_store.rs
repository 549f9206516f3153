//! Fuzzes `fuzzing::soft_store`: see its documentation for the laws asserted.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::soft_store(data));
