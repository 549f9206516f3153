//! `ceremony sign`: a KSR in, an SKR out, once a quorum of officers has
//! presented their cards (DESIGN.md, "The main job").

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use hsm::Hsm;
use ksr::{BundleSigner, DocumentRole, Severity, Timestamp};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::ceremony::Layout;
use crate::ceremony::activation::{self, Accepted, Refused};
use crate::ceremony::audit::Audit;
use crate::ceremony::request::{Format, Loaded};
use crate::error::{CliError, Outcome};
use crate::render::{self, Context, Files, out};
use crate::secrets::Secrets;
use crate::service::client::RemoteArgs;

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The KSR to sign; with --server, the service's identifier of a
    /// submitted KSR (ksr-…).
    ksr: PathBuf,
    /// The SKR of the previous quarter: the chain and safety checks run
    /// against it.
    #[arg(
        long,
        value_name = "SKR",
        required_unless_present_any = ["no_previous_skr", "server"],
        conflicts_with = "server"
    )]
    previous_skr: Option<PathBuf>,
    /// Sign without the previous SKR (a first quarter); recorded in the
    /// audit log. With --server: confirm although the service has no
    /// previous SKR.
    #[arg(long, conflicts_with = "previous_skr")]
    no_previous_skr: bool,
    /// Where to write the SKR (never overwritten); with --server, where to
    /// download it once signed.
    #[arg(short, long, value_name = "SKR", required_unless_present = "server")]
    out: Option<PathBuf>,
    /// Confirm a KSR submitted to this ceremony service, as its
    /// administrator, and follow the signing (needs --tls-dir and --as).
    #[arg(long, value_name = "URL", requires_all = ["tls_dir", "name"], conflicts_with_all = ["cards", "pin_file"])]
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
    /// The officers' card files, in the order they are presented (for
    /// scripted runs); without it the cards are asked for one by one.
    #[arg(long, num_args = 1.., value_name = "CARD")]
    cards: Vec<PathBuf>,
    /// The PINs (TOML: officer = "PIN"); without it each PIN is asked.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// Do not ask for confirmation (tests and exercises; recorded).
    #[arg(long)]
    yes: bool,
    /// The SKR's format: knot or bind (text, for a text KSR) or iana (XML,
    /// for an XML KSR) [default: the KSR's, in the requester's dialect].
    #[arg(long, value_enum, conflicts_with = "server")]
    format: Option<Format>,
    /// For a text KSR: the end of the last bundle's span (BIND's -e), in
    /// RFC 3339 UTC; re-signing bundles are made up to it. Without it the
    /// last bundle is signed once, at its time.
    #[arg(long, value_name = "RFC3339", conflicts_with = "server")]
    end: Option<String>,
}

/// What `sign` reports in JSON.
#[derive(Serialize)]
struct Signed {
    skr: Option<String>,
    sha256: Option<String>,
    pgp_words: Option<String>,
    ksr: String,
    ksr_sha256: String,
    schema: String,
    accepted: Vec<Accepted>,
    refused: Vec<Refused>,
}

/// Runs `sign`.
#[allow(
    clippy::too_many_lines,
    reason = "the ceremony's steps, in order, read best in one place"
)]
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    if let (Some(server), Some(tls_dir), Some(name)) = (&args.server, &args.tls_dir, &args.name) {
        let remote = RemoteArgs {
            server: server.clone(),
            tls_dir: tls_dir.clone(),
            name: name.clone(),
        };
        let id = args.ksr.to_string_lossy();
        let confirm = super::remote::Confirm {
            schema: args.schema.clone(),
            no_previous_skr: args.no_previous_skr,
            yes: args.yes,
        };
        return super::remote::sign(&remote, &id, &confirm, args.out.as_deref(), context);
    }
    let out_path = args
        .out
        .as_deref()
        .ok_or_else(|| CliError::Usage("give -o SKR".into()))?;
    let (config, config_path) = context.config()?;
    let config_path = config_path.ok_or_else(|| {
        CliError::Usage(
            "sign needs the ceremony's policy: --config DIR/ceremony.toml, or run it in DIR".into(),
        )
    })?;
    let layout = Layout::of_config(&config_path);
    let (now, _) = context.now()?;
    let secrets = Secrets::new(args.pin_file.as_deref())?;

    // 1. The documents and every check that needs no HSM. The KSR is read
    // once: the bytes hashed for the officers are the bytes parsed. Its
    // format (IANA XML, or Knot DNS / BIND text) is read from the file.
    let mut audit = Audit::open(&layout)?;
    let files = Files::with_previous(&args.ksr, args.previous_skr.as_deref());
    let (ksr_bytes, loaded) = Loaded::read(&args.ksr, args.previous_skr.as_deref())?;
    let ksr_sha256 = Sha256::digest(&ksr_bytes);
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(mut findings) => {
            audit.record(
                "ksr-refused",
                None,
                serde_json::json!({"ksr": args.ksr.display().to_string(), "codes": findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>()}),
            )?;
            return render::findings(context, &files, &mut findings, "not readable");
        }
    };
    let end = args
        .end
        .as_deref()
        .map(|text| {
            Timestamp::parse_document(text)
                .map_err(|err| CliError::Usage(format!("--end {text:?}: {err}")))
        })
        .transpose()?;
    if end.is_some() && loaded.zsk_set_sha256().is_none() {
        return Err(CliError::Usage(
            "--end is for a text KSR: an XML KSR gives each bundle its own end".into(),
        ));
    }
    let checked = match loaded.check(&config, now, end) {
        Ok(checked) => checked,
        Err(mut findings) => {
            audit.record(
                "ksr-refused",
                None,
                serde_json::json!({
                    "ksr": args.ksr.display().to_string(),
                    "ksr_sha256": hex::encode(ksr_sha256),
                    "codes": findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.code.as_str()).collect::<Vec<_>>(),
                }),
            )?;
            let summary = format!("KSR {} refused: nothing was signed", loaded.id());
            return render::findings(context, &files, &mut findings, &summary);
        }
    };
    // What would only fail after the officers presented their cards is
    // checked now.
    checked.preflight(&config, &args.schema, args.format)?;
    if out_path.exists() {
        return Err(CliError::Usage(format!(
            "{} exists; an SKR is never overwritten",
            out_path.display()
        )));
    }
    let say =
        |line: String| -> Result<(), CliError> { if context.json { Ok(()) } else { out(line) } };
    for finding in checked.findings() {
        if finding.severity == Severity::Warning {
            say(render::finding_line(
                &files_of(args, finding.document),
                finding,
            ))?;
        }
    }
    let ksr_hex = hex::encode(ksr_sha256);
    say(format!(
        "KSR {} ({} bundles, {} SKR bundles) for {}, checked as of {now}",
        loaded.id(),
        loaded.bundles(),
        checked.skr_bundles(),
        loaded.domain()
    ))?;
    say(format!("KSR SHA-256 {ksr_hex}"))?;
    say(format!("  {}", ksr::pgp_words(&ksr_sha256)))?;
    if let Some(zsks) = loaded.zsk_set_sha256() {
        say(format!("ZSK set SHA-256 {}", hex::encode(zsks)))?;
        say(format!("  {}", ksr::pgp_words(&zsks)))?;
    }
    audit.record(
        "ksr-checked",
        None,
        serde_json::json!({
            "ksr": args.ksr.display().to_string(),
            "ksr_id": loaded.id(),
            "ksr_sha256": ksr_hex,
            "zsk_set_sha256": loaded.zsk_set_sha256().map(hex::encode),
            "previous_skr": args.previous_skr.as_ref().map(|path| path.display().to_string()),
            "previous_skr_waived": args.no_previous_skr,
            "now": now.to_string(),
            "warnings": checked.findings().iter().filter(|f| f.severity == Severity::Warning).map(|f| f.code.as_str()).collect::<Vec<_>>(),
        }),
    )?;
    if args.yes {
        audit.record(
            "confirmation-skipped",
            None,
            serde_json::json!({"by": "--yes"}),
        )?;
    } else if !confirm()? {
        audit.record("confirmation-refused", None, serde_json::json!({}))?;
        return Err(CliError::Usage("not confirmed: nothing was signed".into()));
    }

    // 2. Activation by the quorum.
    let quorum =
        activation::activate_hsm(&layout, &args.cards, &secrets, context.json, &mut audit)?;
    if !quorum.activated {
        let failure = quorum.failure();
        if context.json {
            render::json(&Signed {
                skr: None,
                sha256: None,
                pgp_words: None,
                ksr: args.ksr.display().to_string(),
                ksr_sha256: ksr_hex,
                schema: args.schema.clone(),
                accepted: quorum.accepted,
                refused: quorum.refused,
            })?;
        }
        return Err(failure);
    }
    // The secret is not needed once the HSM is active: wiped now.
    drop(quorum.secret);
    let mut hsm = quorum.hsm;

    // 3. Signing, writing, reading back.
    let signer = Progress {
        hsm: hsm.as_ref(),
        signed: AtomicUsize::new(0),
        bundles: checked.skr_bundles(),
        quiet: context.json,
    };
    let built = checked.build(&args.schema, &signer, args.format, now);
    hsm.deactivate();
    audit.record("hsm-deactivated", None, serde_json::json!({}))?;
    let built = match built {
        Ok(built) => built,
        Err(ksr::BuildError::Rejected(mut findings)) => {
            audit.record(
                "signing-refused",
                None,
                serde_json::json!({"codes": findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>()}),
            )?;
            let summary = format!("KSR {}: no SKR (schema {})", loaded.id(), args.schema);
            return render::findings(context, &files, &mut findings, &summary);
        }
        Err(err) => {
            audit.record(
                "signing-failed",
                None,
                serde_json::json!({"error": err.to_string()}),
            )?;
            return Err(CliError::Runtime(err.to_string()));
        }
    };
    built.write(out_path)?;
    let skr_sha256 = Sha256::digest(built.text().as_bytes());
    let skr_hex = hex::encode(skr_sha256);
    audit.record(
        "skr-written",
        None,
        serde_json::json!({
            "skr": out_path.display().to_string(),
            "skr_sha256": skr_hex,
            "ksr_sha256": ksr_hex,
            "schema": args.schema,
            "bundles": built.bundles(),
            "signers": built.signers(),
        }),
    )?;
    let words = ksr::pgp_words(&skr_sha256);
    if context.json {
        render::json(&Signed {
            skr: Some(out_path.display().to_string()),
            sha256: Some(skr_hex),
            pgp_words: Some(words),
            ksr: args.ksr.display().to_string(),
            ksr_sha256: ksr_hex,
            schema: args.schema.clone(),
            accepted: quorum.accepted,
            refused: quorum.refused,
        })?;
    } else {
        out(format!("SKR written: {}", out_path.display()))?;
        out(format!("SKR SHA-256 {skr_hex}"))?;
        out(format!("  {words}"))?;
        out(format!("HSM deactivated; audit head {}", audit.head()))?;
    }
    Ok(Outcome::Success)
}

/// The file of a finding's document.
fn files_of(args: &Args, role: DocumentRole) -> String {
    match (role, &args.previous_skr) {
        (DocumentRole::PreviousSkr, Some(path)) => path.display().to_string(),
        _ => args.ksr.display().to_string(),
    }
}

/// Asks the operator to type `yes` (TOOL-CONFIRM).
pub fn confirm() -> Result<bool, CliError> {
    render::ask("Read the hash aloud and compare it out of band. Type yes to go on: ")
        .map(|answer| answer == "yes")
}

/// The HSM as the builder's signer, saying which bundle it signs.
struct Progress<'a> {
    hsm: &'a dyn Hsm,
    signed: AtomicUsize,
    bundles: usize,
    quiet: bool,
}

impl ksr::KeySource for Progress<'_> {
    fn public_key(&self, label: &str) -> Result<ksr::Dnskey, ksr::SignerError> {
        hsm::Signer(self.hsm).public_key(label)
    }
}

impl BundleSigner for Progress<'_> {
    fn sign(&self, label: &str, data: &[u8]) -> Result<Vec<u8>, ksr::SignerError> {
        let signature = hsm::Signer(self.hsm).sign(label, data)?;
        let count = self.signed.fetch_add(1, Ordering::SeqCst) + 1;
        if !self.quiet {
            let _ = writeln!(
                std::io::stdout(),
                "  signed with {label}: {count} signature(s), {} bundles",
                self.bundles
            );
        }
        Ok(signature)
    }
}
