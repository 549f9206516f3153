//! `ceremony intake`: the online intake (no HSM, no cards) and the media
//! hops (DESIGN.md, "Where each part runs"), and `intake pin` on the
//! signer, the quorum operation that pins the intake's key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use signer::intake::{CreateRequest, Intake};
use signer::tls::{self, TlsDir};

use super::quorum::{self, QuorumArgs};
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;

/// The `intake` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make the online intake in a new folder: a copy of the ceremony's
    /// policy, its last SKR, an Ed25519 intake key (IDIR/intake.pub, to
    /// carry to the signer and pin there), and the TLS PKI for the ZSK
    /// operator's client certificate.
    #[command(
        after_help = "Where it runs: on the intake machine, on the production network (no HSM,
no cards). Carry IDIR/intake.pub to the signer and pin it there with a
quorum (ceremony intake pin), comparing the fingerprint printed here.

Example:
  ceremony intake init --dir /srv/intake --policy ceremony.toml --previous-skr skr-q1.xml \\
      --host intake.example.net"
    )]
    Init(InitArgs),
    /// Serve the intake over mutually authenticated TLS: the ZSK operator
    /// submits KSRs (ceremony ksr submit --server), reads their states at
    /// https://ADDR/ and fetches SKRs (ceremony skr fetch --server).
    #[command(
        after_help = "Where it runs: on the intake machine, on the production network.

Example:
  ceremony intake serve --dir /srv/intake --listen 0.0.0.0:8444"
    )]
    Serve(ServeArgs),
    /// Write a submitted KSR to removable media as a transfer set:
    /// MEDIA/<ID>/ with the KSR, the intake's last SKR, manifest.json and
    /// manifest.sig; synced and read back before it says so.
    #[command(
        after_help = "Where it runs: on the intake machine, with the medium inserted.

Example:
  ceremony intake export --dir /srv/intake ksr-0a1b2c3d4e5f --to /media/usb"
    )]
    Export(ExportArgs),
    /// Import a transfer set the signer added the SKR to: it must answer
    /// that KSR, be signed by the policy's KSKs and follow the previous
    /// SKR; then the ZSK operator can fetch it and it becomes the
    /// intake's last SKR.
    #[command(
        after_help = "Where it runs: on the intake machine, with the medium back from the signer.

Example:
  ceremony intake import --dir /srv/intake /media/usb/ksr-0a1b2c3d4e5f"
    )]
    Import(ImportArgs),
    /// On the signer: pin the intake key (IDIR/intake.pub) with a quorum;
    /// every transfer set must then be signed by it.
    #[command(after_help = "Where it runs: on the offline signer, with the officers.

Example:
  ceremony --config c/ceremony.toml intake pin /media/usb/intake.pub")]
    Pin(PinArgs),
    /// Replace the intake's copy of the ceremony's policy with the one
    /// carried from the signer (after keygen or ksk promote changed it):
    /// the SKRs coming back are then checked against the KSKs it pins.
    /// Recorded in the intake's log with both hashes.
    #[command(after_help = "Example:\n  ceremony intake policy --dir intake signer-policy.toml")]
    Policy(PolicyArgs),
}

/// Arguments of `intake init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The new intake folder.
    #[arg(long, value_name = "IDIR")]
    dir: PathBuf,
    /// The ceremony's policy (its ceremony.toml, carried from the signer).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The zone's last SKR: submitted KSRs chain to it. Without it, the
    /// first KSR is a first quarter.
    #[arg(long, value_name = "SKR")]
    previous_skr: Option<PathBuf>,
    /// More names for the intake's server certificate.
    #[arg(long, value_name = "NAME")]
    host: Vec<String>,
    /// Validity of the certificates, in days.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    tls_days: u32,
}

/// Arguments of `intake serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The intake folder.
    #[arg(long, value_name = "IDIR")]
    dir: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8444", value_name = "ADDR")]
    listen: SocketAddr,
    #[command(flatten)]
    limits: crate::service::LimitArgs,
}

/// Arguments of `intake export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The intake folder.
    #[arg(long, value_name = "IDIR")]
    dir: PathBuf,
    /// The KSR's id (ksr-…).
    id: String,
    /// The medium's folder: MEDIA/<ID>/ is made in it (never overwritten).
    #[arg(long, value_name = "MEDIA")]
    to: PathBuf,
}

/// Arguments of `intake import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The intake folder.
    #[arg(long, value_name = "IDIR")]
    dir: PathBuf,
    /// The transfer set on the medium, with the SKR (MEDIA/<ID>).
    set: PathBuf,
}

/// Arguments of `intake policy`.
#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    /// The intake folder.
    #[arg(long, value_name = "IDIR")]
    dir: PathBuf,
    /// The signer's policy file (its DIR/ceremony.toml, carried over).
    policy: PathBuf,
}

/// Arguments of `intake pin`.
#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// The intake's public key file (IDIR/intake.pub).
    key: PathBuf,
    #[command(flatten)]
    quorum: QuorumArgs,
}

/// Runs an `intake` command.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Init(args) => init(args, context),
        Command::Serve(args) => serve(args, context),
        Command::Export(args) => {
            let intake = open(&args.dir, context, "intake export")?;
            let (path, manifest) = intake.export(&args.id, &args.to, context.now()?)?;
            if context.json {
                render::json(
                    &serde_json::json!({"dir": path.display().to_string(), "manifest": manifest}),
                )?;
            } else {
                out(format!(
                    "transfer set {} written to {} and read back: carry it to the signer (ceremony sign --media {})",
                    manifest.id,
                    path.display(),
                    path.display()
                ))?;
                for line in render::hash_lines("KSR", &manifest.ksr_sha256) {
                    out(line)?;
                }
                for finding in &manifest.findings {
                    out(format!(
                        "{} {}: {}",
                        finding.severity, finding.code, finding.message
                    ))?;
                }
            }
            Ok(Outcome::Success)
        }
        Command::Import(args) => {
            let intake = open(&args.dir, context, "intake import")?;
            let record = intake.import(&args.set)?;
            if context.json {
                render::json(&record)?;
            } else {
                out(format!(
                    "{}: SKR imported; it answers the KSR, every bundle is signed by a KSK the policy pins; the ZSK operator can fetch it (ceremony skr fetch)",
                    record.id
                ))?;
                for line in render::hash_lines("SKR", record.skr_sha256.as_deref().unwrap_or("")) {
                    out(line)?;
                }
                if let Some(manifest) = &record.skr_manifest {
                    out(
                        "manifest-skr.json states (unsigned: compare with the ceremony's minutes):",
                    )?;
                    out(format!("  activated by {}", manifest.officers.join(", ")))?;
                    for line in
                        render::hash_lines("  the signer's audit head", &manifest.audit_head)
                    {
                        out(line)?;
                    }
                }
            }
            Ok(Outcome::Success)
        }
        Command::Policy(args) => {
            let intake = open(&args.dir, context, "intake policy")?;
            let replaced = intake.replace_policy(&args.policy)?;
            if context.json {
                render::json(&replaced)?;
            } else {
                out(format!(
                    "the intake's policy is now the signer's ({}); it was {} ({})",
                    replaced.new_ksks.join(", "),
                    replaced.old_ksks.join(", "),
                    render::short(&replaced.old_sha256)
                ))?;
                for line in render::hash_lines("policy", &replaced.new_sha256) {
                    out(line)?;
                }
            }
            Ok(Outcome::Success)
        }
        Command::Pin(args) => {
            let now = context.now()?;
            let secrets = Secrets::new(args.quorum.pin_file.as_deref())?;
            let mut ceremony = context.open_ceremony("intake pin")?;
            let prepared = signer::prepare_pin(&ceremony, &args.key, now)?;
            let done = quorum::run(&mut ceremony, prepared, &args.quorum, secrets, context)?;
            if context.json {
                render::json(&done.output)?;
            } else {
                out(format!(
                    "intake key {} pinned: every transfer set must be signed by it",
                    done.output.fingerprint
                ))?;
                render::closing(&done.audit_head, &done.after)?;
            }
            Ok(Outcome::Success)
        }
    }
}

fn open(dir: &std::path::Path, context: &Context, command: &str) -> Result<Intake, CliError> {
    Ok(Intake::open(
        dir,
        context.clock(),
        &format!("process {}: ceremony {command}", std::process::id()),
    )?)
}

fn init(args: &InitArgs, context: &Context) -> Result<Outcome, CliError> {
    let created = Intake::create(
        &CreateRequest {
            dir: &args.dir,
            policy: &args.policy,
            previous: args.previous_skr.as_deref(),
            hosts: &args.host,
            days: args.tls_days,
            now: context.now()?,
        },
        context.clock(),
    )?;
    if context.json {
        render::json(&created)?;
        return Ok(Outcome::Success);
    }
    out(format!("intake made in {}", created.dir))?;
    out(format!(
        "intake key in {}: carry it to the signer and pin it (ceremony intake pin {})",
        created.public_key, created.public_key
    ))?;
    for line in render::hash_lines("intake key fingerprint", &created.fingerprint) {
        out(line)?;
    }
    for client in &created.tls.clients {
        out(format!(
            "{:<14} {:<13} {}",
            client.name,
            client.role.as_str(),
            client.fingerprint
        ))?;
    }
    Ok(Outcome::Success)
}

fn serve(args: &ServeArgs, context: &Context) -> Result<Outcome, CliError> {
    let intake = open(&args.dir, context, "intake serve")?;
    let tls_dir = intake.tls_dir();
    let tls_dir = TlsDir(&tls_dir);
    let server_tls =
        tls::server_config(&tls_dir.ca(), &tls_dir.server_cert(), &tls_dir.server_key())?;
    let allow = tls::AllowList::read(&tls_dir.allow_list())?;
    let serving = web::Serving {
        tls: server_tls,
        allow,
        listen: args.listen,
        limits: args.limits.limits(),
    };
    let now = context
        .now_given()
        .then(|| context.now())
        .transpose()?
        .map(|now| now.time);
    let intake = Arc::new(intake);
    web::run_intake(
        Arc::clone(&intake),
        context.clock(),
        now,
        serving,
        |address| {
            let _ = if context.json {
                render::json(&serde_json::json!({"listening": format!("https://{address}/")}))
            } else {
                out(format!(
                    "intake listening on https://{address}/ (the ZSK operator's page; Ctrl-C stops)"
                ))
            };
        },
    )?;
    if !context.json {
        render::audit_head(&intake.audit_head()?)?;
    }
    Ok(Outcome::Success)
}
