//! `ceremony`: quorum-authorized DNSSEC KSK signing.
//!
//! This binary parses the command line, asks the people at the terminal,
//! speaks HTTP for the service, and renders results; every decision is the
//! `signer` crate's (and below it `ksr`'s, `quorum`'s, `hsm`'s).

#![forbid(unsafe_code)]

mod commands;
mod context;
mod error;
mod exercise;
mod paperwork;
mod render;
mod secrets;
mod service;
mod terminal;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::exit_code;

/// Quorum-authorized DNSSEC KSK signing: checks Key Signing Requests and
/// Signed Key Responses, and signs a KSR into an SKR once k of n crypto
/// officers have presented their cards, at one terminal or, with `serve`,
/// each at their own.
///
/// Exit codes: 0 success; 1 runtime failure, unreadable input, or not
/// confirmed; 2 usage or configuration; 3 a document failed its checks;
/// 4 activation refused (quorum not met, wrong PIN, blocked, forged or
/// foreign card).
#[derive(Debug, Parser)]
#[command(name = "ceremony", version, propagate_version = true)]
struct Cli {
    /// Print machine-readable JSON on stdout instead of text (errors too).
    #[arg(long, global = true)]
    json: bool,

    /// The policy file, and with it the ceremony directory it is in
    /// [default: ./ceremony.toml if it exists, else the built-in root-zone
    /// policy and no ceremony].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,

    /// The instant every time-dependent check uses, in RFC 3339 UTC such as
    /// 2017-03-20T00:00:00Z [default: the system clock, read once].
    #[arg(long, global = true, value_name = "RFC3339")]
    now: Option<String>,

    #[command(subcommand)]
    command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Start a ceremony: the cards, the HSM with its first KSK, the policy
    /// and the audit log, in a new directory.
    Init(commands::init::Args),
    /// Show or check a Key Signing Request (IANA XML or Knot DNS / BIND
    /// text), or submit it to the ceremony service.
    #[command(subcommand)]
    Ksr(commands::ksr::Command),
    /// Show or check a Signed Key Response, or fetch one from the ceremony
    /// service.
    #[command(subcommand)]
    Skr(commands::skr::Command),
    /// Print the SHA-256 of files in hex and as PGP words, to read aloud.
    Hash(commands::hash::Args),
    /// Make a new KSK (with a quorum); the policy gets it as the next KSK.
    Keygen(commands::keygen::Args),
    /// A second site: back the HSM up, or restore a backup (each with a
    /// quorum).
    #[command(subcommand)]
    Hsm(commands::hsm::Command),
    /// The KSKs of the policy: promote the next one after its roll (with a
    /// quorum).
    #[command(subcommand)]
    Ksk(commands::keygen::KskCommand),
    /// A new set of cards (a quorum of the current cards authorizes it):
    /// a new secret, which the HSM takes, so the old cards open nothing.
    Reshare(commands::reshare::Args),
    /// A new secret and a new set of cards (a quorum of the current cards
    /// authorizes it); the HSM takes the new secret, the old cards stop
    /// working.
    Rekey(commands::reshare::Args),
    /// What the HSM holds: labels, tags, DNSKEYs, DS records, validity (no
    /// quorum needed).
    Inventory(commands::inventory::InventoryArgs),
    /// The policy's KSKs as a trust anchor: RFC 9718 XML, named's
    /// `trust-anchors`, Unbound's file, DNSKEY or DS records.
    TrustAnchor(commands::inventory::Args),
    /// Sign a KSR once a quorum of officers has presented their cards.
    Sign(commands::sign::Args),
    /// Print DS records for DNSKEY records given in zone-file form.
    Ds(commands::ds::Args),
    /// The audit log: show it, or verify its hash chain.
    #[command(subcommand)]
    Audit(commands::audit::Command),
    /// A crypto officer's card: status, PIN check, PIN change, unblock.
    #[command(subcommand)]
    Card(commands::card::Command),
    /// Print the effective policy as TOML.
    #[command(subcommand)]
    Policy(commands::policy::Command),
    /// The ceremony room's service, on the offline signer and the room's
    /// own network: the administrator loads a transfer set from the medium
    /// and confirms it, officers present their cards for it from their own
    /// terminals, witnesses watch https://ADDR/.
    Serve(service::Args),
    /// The online KSR intake (no HSM, no cards) and the media hops:
    /// init, serve, export to media, import from media; and, on the
    /// signer, pin the intake's key.
    #[command(subcommand)]
    Intake(commands::intake::Command),
    /// Present a card to the service from an officer's terminal.
    Present(commands::present::Args),
    /// The service's activation attempt: status, or reset (administrator).
    #[command(subcommand)]
    Session(commands::present::SessionCommand),
    /// The ZSK operator's side, for exercises and tests.
    #[command(subcommand)]
    Zsk(commands::zsk::Command),
    /// Run a whole tabletop ceremony on the embedded soft HSM: the
    /// autopilot run of the normal-quarter exercise.
    Demo(commands::demo::Args),
    /// Tabletop exercises: scripted ceremonies with roles, injected faults
    /// and a scored transcript.
    #[command(subcommand)]
    Exercise(commands::exercise::Command),
    /// Print the script of the coming ceremony from its real parameters:
    /// numbered steps, roles, commands, the values to compare, boxes for
    /// initials and times.
    Script(commands::paperwork::ScriptArgs),
    /// Fill the ceremony's script from its audit log: who did what when,
    /// every hash and every refusal, ready to sign and archive.
    Record(commands::paperwork::RecordArgs),
}

fn main() -> ExitCode {
    // Before anything is read: a core dump while the HSM is active would
    // hold its keys.
    if let Err(err) = signer::forbid_core_dumps() {
        eprintln!("error: {err}");
        return ExitCode::from(1);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with 0, usage errors to stderr
            // with 2 (DESIGN.md).
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    // The service stops on a signal by itself: it finishes a signing job
    // and withdraws a confirmed operation.
    if !matches!(
        cli.command,
        Command::Serve(_) | Command::Intake(commands::intake::Command::Serve(_))
    ) {
        terminal::install_signal_handler();
    }
    let context = context::Context::new(cli.json, cli.config, cli.now);
    let result = match cli.command {
        Command::Init(args) => commands::init::run(&args, &context),
        Command::Ksr(command) => commands::ksr::run(command, &context),
        Command::Skr(command) => commands::skr::run(command, &context),
        Command::Hash(args) => commands::hash::run(&args, &context),
        Command::Ds(args) => commands::ds::run(&args, &context),
        Command::Sign(args) => commands::sign::run(&args, &context),
        Command::Keygen(args) => commands::keygen::run(&args, &context),
        Command::Hsm(command) => commands::hsm::run(&command, &context),
        Command::Ksk(command) => commands::keygen::run_ksk(&command, &context),
        Command::Inventory(args) => commands::inventory::inventory(&args, &context),
        Command::TrustAnchor(args) => commands::inventory::trust_anchor(&args, &context),
        Command::Reshare(args) => commands::reshare::run(args, &context, false),
        Command::Rekey(args) => commands::reshare::run(args, &context, true),
        Command::Policy(command) => commands::policy::run(&command, &context),
        Command::Card(command) => commands::card::run(command, &context),
        Command::Audit(command) => commands::audit::run(&command, &context),
        Command::Demo(args) => commands::demo::run(&args, &context),
        Command::Exercise(command) => commands::exercise::run(&command, &context),
        Command::Script(args) => commands::paperwork::script(&args, &context),
        Command::Record(args) => commands::paperwork::record(&args, &context),
        Command::Zsk(command) => commands::zsk::run(&command, &context),
        Command::Serve(args) => service::run(&args, &context),
        Command::Intake(command) => commands::intake::run(&command, &context),
        Command::Present(args) => commands::present::run(&args, &context),
        Command::Session(command) => commands::present::run_session(&command, &context),
    };
    if let Err(err) = &result {
        render::report_error(err, &context);
    }
    ExitCode::from(exit_code(&result))
}
