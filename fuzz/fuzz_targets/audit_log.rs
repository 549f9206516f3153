//! Fuzzes `fuzzing::audit_log`: see its documentation for the laws asserted.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::audit_log(data));
