//! Wiping secrets, and the test hook that proves it happened.
//!
//! Every type of this crate that holds secret bytes keeps them in a fixed
//! array and calls [`wipe`] from its `Drop`. In this crate's own tests the
//! hook records, after the wipe and before the memory is freed, whether
//! every byte is zero; nothing reads freed memory.

use zeroize::Zeroize;

/// Overwrites the bytes with zeros (a write the compiler may not elide) and,
/// in tests, records what kind of secret was wiped and whether it is zero.
pub(crate) fn wipe(kind: &'static str, bytes: &mut [u8]) {
    bytes.zeroize();
    #[cfg(test)]
    log::record(kind, bytes.iter().all(|byte| *byte == 0));
    #[cfg(not(test))]
    let _ = kind;
}

#[cfg(test)]
pub(crate) mod log {
    use std::cell::RefCell;

    thread_local! {
        static WIPED: RefCell<Vec<(&'static str, bool)>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn record(kind: &'static str, zero: bool) {
        WIPED.with(|wiped| wiped.borrow_mut().push((kind, zero)));
    }

    /// Returns and clears what this thread wiped so far.
    pub(crate) fn take() -> Vec<(&'static str, bool)> {
        WIPED.with(|wiped| std::mem::take(&mut *wiped.borrow_mut()))
    }
}
