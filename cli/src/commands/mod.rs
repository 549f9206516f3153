//! One module per command, mirroring the command tree.

pub mod audit;
pub mod card;
pub mod demo;
pub mod ds;
pub mod exercise;
pub mod hash;
pub mod hsm;
pub mod init;
pub mod intake;
pub mod inventory;
pub mod keygen;
pub mod ksr;
pub mod paperwork;
pub mod policy;
pub mod present;
pub mod quorum;
pub mod reshare;
pub mod sign;
pub mod skr;
pub mod zsk;

mod show;
