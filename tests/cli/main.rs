//! End-to-end tests of the `ceremony` binary.
