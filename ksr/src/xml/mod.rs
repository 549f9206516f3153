//! The IANA root-zone XML format of KSRs and SKRs (`ksr-skr-format.md`
//! §1, §2, §4).

mod parse;
mod tree;
mod write;

pub use parse::{parse_ksr, parse_skr};
pub use tree::MAX_DOCUMENT_SIZE;
pub(crate) use write::sort_as_written;
pub use write::{escape, write_ksr, write_skr};
