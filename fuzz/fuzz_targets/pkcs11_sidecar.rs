//! Fuzzes `fuzzing::pkcs11_sidecar`: see its documentation for the laws asserted.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::pkcs11_sidecar(data));
