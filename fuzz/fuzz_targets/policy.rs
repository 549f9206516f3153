//! Fuzzes `fuzzing::policy`: see its documentation for the laws asserted.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::policy(data));
