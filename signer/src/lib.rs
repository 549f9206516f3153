//! The signer system of a KSK ceremony (the DNSSEC Practice Statement's
//! "signer system"): the ceremony directory and its files, and every quorum
//! operation as one typed flow that the terminal and the service both
//! drive.
//!
//! No terminal, no HTTP, no clock: the binary asks the people, speaks HTTP
//! and gives the time ([`Clock`]); everything it decides goes through here.

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod audit;
mod backup;
mod cards;
mod ceremony;
mod clock;
mod document;
mod error;
mod flow;
mod init;
mod inspect;
pub mod intake;
mod issue;
mod keys;
mod layout;
pub mod media;
pub mod oob;
mod ops;
mod pins;
mod policy;
mod process;
mod records;
mod rehearsal;
mod report;
pub mod service;
mod state;
mod summary;
pub mod tls;
mod zsk;

pub use audit::{
    AbortHandle, CardRef, Client, Event, OpenOperation, OperationKind, Outcome, transfer_event,
};
pub use backup::{
    BACKUP_MANIFEST, BackedUp, Backup, BackupKey, BackupManifest, Restore, Restored, Staged,
    prepare_backup, prepare_restore, stage_restore,
};
pub use cards::{CardCommand, LocalCard, run_command};
pub use ceremony::{Ceremony, Recovery};
pub use clock::{Clock, Now};
pub use document::{Document, join};
pub use error::Error;
pub use flow::{
    ACTIVATION_TIME, Accepted, Activated, Active, Confirmation, Confirmed, Done, Officers,
    Operation, Prepared, Presenting, Refused,
};
pub use init::{Backend, FIRST_KSK, InitRequest, Initialized, PreparedInit, prepare_init};
pub use inspect::{
    Anchor, EmergencyShape, KsrChecked, SkrCheck, SkrChecked, check_ksr, check_skr,
    emergency_record, emergency_shape,
};
pub use issue::{PukDelivery, PukHandout, PukSlip, check_officers};
pub use keys::{AnchorFormat, KeyEntry, UNVERIFIED};
pub use layout::Layout;
pub use ops::{
    Approve, Approved, AwaitingWords, EmergencyRequest, EmergencySigned, Generation,
    GenerationRequest, Keygen, KeygenRequest, KskOrigin, MediaSignRequest, MediaSource, NewCards,
    NewKsk, OutputFormat, Pin, Pinned, Previous, Promote, Promoted, Sign, SignRequest, Signed,
    prepare_approve, prepare_generation, prepare_keygen, prepare_pin, prepare_promote,
    prepare_sign, prepare_sign_media, rewrite_media, skr_manifest, write_to_media,
};
pub use pins::{PinFile, PinTable};
pub use policy::Policy;
pub use process::forbid_core_dumps;
pub use records::{dnskey_record, ds_record, random_digits, uuid};
pub use rehearsal::RehearsalFault;
pub use report::{Files, JsonReport, Report};
pub use state::{Chain, LastSkr, STATE_FILE, State, StateError, parse_state_file};
pub use summary::{
    BundleRow, Detail, FileRef, KskColumn, KskUse, RosterRef, SignDetail, Summary, TransferRef,
    bundle_table,
};
pub use zsk::{KsrRequest, MadeKsr, make_ksr};
