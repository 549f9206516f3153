//! `ceremony sign`: a KSR in, an SKR out, once a quorum of officers has
//! presented their cards (DESIGN.md, "The main job"); with `--server`, the
//! administrator's confirmation of a KSR submitted to the service.

use std::path::PathBuf;

use ksr::Timestamp;
use serde::Serialize;
use signer::oob::Heard;
use signer::{
    Accepted, Confirmation, Document, MediaSignRequest, MediaSource, OutputFormat, Previous,
    Refused, SignRequest, prepare_sign, prepare_sign_media,
};

use super::quorum::{self, QuorumArgs};
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;
use crate::service::client::RemoteArgs;

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Where it runs: on the offline signer, the machine with the HSM, which is on
no network (or, with --server, at the administrator's terminal in the
ceremony room). The KSR comes on removable media as the transfer set the
intake exported (ceremony intake export): --media checks the set's files,
the intake key's signature, the chain to this signer's last SKR, and then
asks for the KSR's words at four positions as the ZSK operator reads them
over the phone; the SKR and manifest-skr.json go back into the set. A KSR
file (without --media) is for rehearsals only.

Examples:
  ceremony --config c/ceremony.toml sign --media /media/usb/ksr-0a1b2c3d4e5f
  ceremony --config c/ceremony.toml sign --media /media/usb/ksr-0a1b2c3d4e5f --no-previous-skr
  ceremony --config c/ceremony.toml sign --media m/ksr-0a1b2c3d4e5f --oob-words heard.txt \\
      --cards c/cards/CO-1.card c/cards/CO-3.card c/cards/CO-5.card --pin-file pins.toml
  ceremony sign --media m/ksr-0a1b2c3d4e5f --server https://signer:8443 --tls-dir tls --as admin
  ceremony --config c/ceremony.toml sign ksr.xml --previous-skr skr-q1.xml -o skr-q2.xml
  ceremony --config c/ceremony.toml sign ksr.xml --no-previous-skr -o skr.xml \\
      --cards c/cards/CO-1.card c/cards/CO-3.card --pin-file pins.toml --yes
"
)]
pub struct Args {
    /// The KSR to sign (IANA XML or Knot DNS / BIND text), in a rehearsal;
    /// a production ceremony signs only from --media.
    #[arg(required_unless_present = "media", conflicts_with = "media")]
    ksr: Option<PathBuf>,
    /// The transfer set on the medium (MEDIA/<ID>, as the intake exported
    /// it): verified, chained to this signer's last SKR, confirmed by the
    /// words read over the phone; the SKR goes into it.
    #[arg(long, value_name = "DIR", conflicts_with = "previous_skr")]
    media: Option<PathBuf>,
    /// With --media: the KSR's 32 PGP words as they were read over the
    /// phone, in order (scripted runs: tests, exercises); every word is
    /// compared. Without it the words at four positions are asked.
    #[arg(long, value_name = "FILE", requires = "media")]
    oob_words: Option<PathBuf>,
    /// With --media: write the SKR this signer signed from that set, and
    /// its manifest-skr.json, into the set again from the signer's own
    /// copies (a medium that failed or lost them after the signing). No
    /// quorum: nothing is signed.
    #[arg(long, requires = "media", conflicts_with_all = ["server", "oob_words", "cards", "pin_file"])]
    rewrite: bool,
    /// The SKR of the previous quarter: the chain and safety checks run
    /// against it.
    #[arg(long, value_name = "SKR", conflicts_with = "server")]
    previous_skr: Option<PathBuf>,
    /// Sign without the previous SKR (a first quarter); recorded in the
    /// audit log and shown before the confirmation.
    #[arg(long, conflicts_with = "previous_skr")]
    no_previous_skr: bool,
    /// Where to write the SKR (never overwritten); with --media it goes
    /// into the transfer set, and with --server --media this is a copy.
    #[arg(short, long, value_name = "SKR")]
    out: Option<PathBuf>,
    /// Load the transfer set (--media) into this ceremony room's service,
    /// as its administrator, confirm it with the words read over the
    /// phone, and follow the signing; the SKR goes into the set (needs
    /// --tls-dir and --as).
    #[arg(long, value_name = "URL", requires_all = ["tls_dir", "name", "media"], conflicts_with_all = ["cards", "pin_file"])]
    server: Option<String>,
    /// With --server: the directory `ceremony serve --init-tls` made.
    #[arg(long, value_name = "DIR", requires = "server")]
    tls_dir: Option<PathBuf>,
    /// With --server: whose certificate to show (admin).
    #[arg(long = "as", value_name = "NAME", requires = "server")]
    name: Option<String>,
    /// The signing schema: normal, pre-publish, rollover, revoke, publish+,
    /// rollover+, revoke+, or one of the policy's.
    #[arg(long, default_value = "normal", value_name = "NAME")]
    schema: String,
    #[command(flatten)]
    quorum: QuorumArgs,
    /// The SKR's format: knot or bind (text, for a text KSR) or iana (XML,
    /// for an XML KSR) [default: the KSR's, in the requester's dialect].
    #[arg(long, value_enum, conflicts_with = "server")]
    format: Option<FormatArg>,
    /// For a text KSR: the end of the last bundle's span (BIND's -e), in
    /// RFC 3339 UTC; re-signing bundles are made up to it. Without it the
    /// last bundle is signed once, at its time.
    #[arg(long, value_name = "RFC3339", conflicts_with = "server")]
    end: Option<String>,
    /// Also sign, in the same activation, an emergency SKR for the same KSR
    /// that rolls to this standby KSK at once (a KSK of the policy, e.g.
    /// its ksk_next): every bundle publishes it, publishes the current KSK
    /// revoked, and is signed by both. Kept for a compromise of the current
    /// KSK; the parent must list the standby's DS already.
    #[arg(long, value_name = "LABEL", conflicts_with_all = ["server", "rewrite"])]
    emergency_standby: Option<String>,
    /// Where the emergency SKR goes (never overwritten) [default: beside
    /// the SKR, NAME.emergency-LABEL.EXT].
    #[arg(long, value_name = "FILE", requires = "emergency_standby")]
    emergency_out: Option<PathBuf>,
}

/// The format an SKR is written in (`sign --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Text, Unix seconds in headers (Knot DNS).
    Knot,
    /// Text, `YYYYMMDDhhmmss` in headers (BIND 9.20).
    Bind,
    /// IANA XML.
    Iana,
}

/// What `sign` reports in JSON.
#[derive(Serialize)]
struct Report<'a> {
    skr: &'a str,
    skr_sha256: &'a str,
    skr_pgp_words: String,
    ksr: String,
    skr_manifest: Option<String>,
    ksr_sha256: &'a str,
    schema: &'a str,
    bundles: usize,
    signers: &'a [u16],
    emergency: Option<&'a signer::EmergencySigned>,
    accepted: &'a [Accepted],
    refused: &'a [Refused],
    warnings: &'a [String],
    waivers: &'a [String],
    audit_head: &'a str,
}

/// Runs `sign`.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    if args.server.is_some() && args.quorum.exercise_fault.is_some() {
        // The service's flow has no fault hook: refused, not ignored.
        return Err(CliError::Value {
            option: "exercise-fault",
            value: String::new(),
            expected: "a signing at this terminal: the room's service takes no exercise fault",
        });
    }
    if let (Some(server), Some(tls_dir), Some(name)) = (&args.server, &args.tls_dir, &args.name) {
        let remote = RemoteArgs {
            server: server.clone(),
            tls_dir: tls_dir.clone(),
            name: name.clone(),
        };
        let confirm = crate::service::client::Confirm {
            schema: args.schema.clone(),
            no_previous_skr: args.no_previous_skr,
            heard: args
                .oob_words
                .as_deref()
                .map(Heard::read_file)
                .transpose()?,
        };
        let media = args.media.clone().unwrap_or_default();
        return crate::service::client::load_and_follow(
            &remote,
            &media,
            &confirm,
            args.out.as_deref(),
            context,
        );
    }
    let end = end(args)?;
    if let (Some(media), true) = (&args.media, args.rewrite) {
        let ceremony = context.open_ceremony("sign --rewrite")?;
        let path = signer::rewrite_media(&ceremony, media)?;
        if context.json {
            render::json(&serde_json::json!({"skr_manifest": path.display().to_string()}))?;
        } else {
            out(format!(
                "the SKR and {} written to the medium again from the signer's copies: carry it to the intake",
                path.display()
            ))?;
        }
        return Ok(Outcome::Success);
    }
    if let Some(media) = &args.media {
        if args.out.is_some() {
            return Err(CliError::Value {
                option: "out",
                value: String::new(),
                expected: "no -o with --media: the SKR goes into the transfer set, beside its KSR",
            });
        }
        return sign_media(args, media, end, context);
    }
    let ksr = args.ksr.clone().unwrap_or_default();
    let output = args.out.clone().ok_or(CliError::Value {
        option: "out",
        value: String::new(),
        expected: "give -o SKR: where the SKR is written",
    })?;
    let previous = match (&args.previous_skr, args.no_previous_skr) {
        (Some(path), _) => Previous::Given(Document::read(path)?),
        (None, true) => Previous::Waived,
        (None, false) => return Err(CliError::PreviousChoice),
    };
    let request = SignRequest {
        ksr: Document::read(&ksr)?,
        previous,
        output,
        schema: args.schema.clone(),
        format: format(args),
        end,
        now: context.now()?,
        emergency: emergency(args),
    };
    let secrets = Secrets::new(args.quorum.pin_file.as_deref())?;
    let mut ceremony = context.open_ceremony("sign")?;
    let prepared = prepare_sign(&ceremony, request)?;
    let done = quorum::run(&mut ceremony, prepared, &args.quorum, secrets, context)?;
    report(&done, &ksr.display().to_string(), None, context)
}

/// `sign --media`: the transfer set verified, the words heard, the quorum,
/// the SKR and its manifest into the set.
fn sign_media(
    args: &Args,
    media: &std::path::Path,
    end: Option<Timestamp>,
    context: &Context,
) -> Result<Outcome, CliError> {
    let heard = args
        .oob_words
        .as_deref()
        .map(Heard::read_file)
        .transpose()?;
    let request = MediaSignRequest {
        source: MediaSource::Dir(media.to_owned()),
        first_quarter: args.no_previous_skr,
        output: None,
        schema: args.schema.clone(),
        format: format(args),
        end,
        now: context.now()?,
        emergency: emergency(args),
    };
    let secrets = Secrets::new(args.quorum.pin_file.as_deref())?;
    let mut ceremony = context.open_ceremony("sign")?;
    let awaiting = prepare_sign_media(&ceremony, request)?;
    if !context.json {
        render::summary_with(awaiting.summary(), true)?;
    }
    let transfer = awaiting.transfer().clone();
    let positions = awaiting.positions().clone();
    let heard = match heard {
        Some(heard) => heard,
        None => match crate::terminal::ask_words(positions.as_slice()) {
            Ok(Some(heard)) => heard,
            Ok(None) => return Err(awaiting.decline(&ceremony).into()),
            Err(err) => {
                let _ = awaiting.decline(&ceremony);
                return Err(err);
            }
        },
    };
    let prepared = awaiting.hear(&ceremony, &positions, &heard, None)?;
    if !context.json
        && let signer::Detail::Sign(sign) = &prepared.summary().detail
    {
        out("the words read over the phone match the KSR on the medium:")?;
        for line in render::hash_lines("KSR", &sign.ksr.sha256) {
            out(line)?;
        }
    }
    let done = quorum::run_confirmed(
        &mut ceremony,
        prepared,
        Confirmation::Words,
        &args.quorum,
        secrets,
        context,
    )?;
    let manifest = signer::write_to_media(&ceremony, &transfer, &done)?;
    report(
        &done,
        &transfer.ksr.path.display().to_string(),
        Some(&manifest),
        context,
    )
}

fn end(args: &Args) -> Result<Option<Timestamp>, CliError> {
    args.end
        .as_deref()
        .map(|text| {
            Timestamp::parse_document(text).map_err(|source| CliError::Now {
                text: text.to_owned(),
                source,
            })
        })
        .transpose()
}

fn emergency(args: &Args) -> Option<signer::EmergencyRequest> {
    args.emergency_standby
        .as_ref()
        .map(|standby| signer::EmergencyRequest {
            standby: standby.clone(),
            output: args.emergency_out.clone(),
        })
}

fn format(args: &Args) -> Option<OutputFormat> {
    args.format.map(|format| match format {
        FormatArg::Knot => OutputFormat::Knot,
        FormatArg::Bind => OutputFormat::Bind,
        FormatArg::Iana => OutputFormat::Iana,
    })
}

/// What a signing prints.
fn report(
    done: &signer::Done<signer::Signed>,
    ksr: &str,
    manifest: Option<&std::path::Path>,
    context: &Context,
) -> Result<Outcome, CliError> {
    let signed = &done.output;
    let words = ksr::pgp_words(&hex::decode(&signed.skr_sha256).unwrap_or_default());
    if context.json {
        render::after_warnings(&done.after);
        render::json(&Report {
            skr: &signed.skr,
            skr_sha256: &signed.skr_sha256,
            skr_pgp_words: words,
            ksr: ksr.to_owned(),
            skr_manifest: manifest.map(|path| path.display().to_string()),
            ksr_sha256: &signed.ksr_sha256,
            schema: &signed.schema,
            bundles: signed.bundles,
            signers: &signed.signers,
            emergency: signed.emergency.as_ref(),
            accepted: &done.accepted,
            refused: &done.refused,
            warnings: &done.summary.warnings,
            waivers: &done.summary.waivers,
            audit_head: &done.audit_head,
        })?;
        return Ok(Outcome::Success);
    }
    out(format!(
        "SKR written: {} ({} bundles, signed by {})",
        signed.skr,
        signed.bundles,
        tags(&signed.signers)
    ))?;
    render::table(&signed.table, &signed.ksks)?;
    if let Some(manifest) = manifest {
        out(format!(
            "SKR and {} written to the medium and read back: carry it to the intake (ceremony intake import)",
            manifest.display()
        ))?;
    }
    for line in render::hash_lines("SKR", &signed.skr_sha256) {
        out(line)?;
    }
    if let Some(emergency) = &signed.emergency {
        out(format!(
            "emergency SKR written: {} ({} bundles, rolls to {} at once, signed by {}); keep it apart, for a compromise of the current KSK only",
            emergency.skr,
            emergency.bundles,
            emergency.standby,
            tags(&emergency.signers)
        ))?;
        for line in render::hash_lines("emergency SKR", &emergency.skr_sha256) {
            out(line)?;
        }
    }
    out("HSM sealed")?;
    render::closing(&done.audit_head, &done.after)?;
    Ok(Outcome::Success)
}

/// Key tags, comma-separated.
fn tags(tags: &[u16]) -> String {
    tags.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
