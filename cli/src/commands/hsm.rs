//! `ceremony hsm backup|restore`: a second site, opened only by a quorum of
//! the same cards.

use std::path::PathBuf;

use super::quorum::{self, QuorumArgs};
use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};
use crate::secrets::Secrets;

/// The `hsm` commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Copy the ceremony for a second site, once a quorum has opened the
    /// store: the soft HSM's sealed key store, the sealed state, the
    /// policy, the audit log and the signer's SKR copies, with a manifest
    /// (labels, DS records, epoch, card set, each file's SHA-256). The
    /// copy is sealed as the original is: only a quorum of the same cards
    /// opens it. A PKCS#11 token's keys do not leave it: refused, saying
    /// what to do instead.
    #[command(after_help = "Example:
  ceremony --config c/ceremony.toml hsm backup --to /media/site-b/backup-2030-q1 \\
      --cards c/cards/CO-1.card c/cards/CO-2.card")]
    Backup {
        /// The backup's folder (new, or empty; never written over).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        #[command(flatten)]
        quorum: QuorumArgs,
    },
    /// Lay a backup out at a second site as a ceremony of its own, opened
    /// by a quorum of the same cards before it counts: every file checked
    /// against the manifest first; other cards, cards of a later card set,
    /// or cards that have seen a later epoch (the backup is older than
    /// what they know) are refused before any PIN, and nothing is left.
    #[command(after_help = "Example:
  ceremony hsm restore --from /media/site-b/backup-2030-q1 --dir site-b \\
      --cards /media/co-1/CO-1.card /media/co-3/CO-3.card")]
    Restore {
        /// The backup's folder.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The new ceremony folder at this site (new, or empty).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[command(flatten)]
        quorum: QuorumArgs,
    },
}

/// Runs an `hsm` command.
pub fn run(command: &Command, context: &Context) -> Result<Outcome, CliError> {
    match command {
        Command::Backup { to, quorum: args } => {
            let now = context.now()?;
            let secrets = Secrets::new(args.pin_file.as_deref())?;
            let mut ceremony = context.open_ceremony("hsm backup")?;
            let prepared = signer::prepare_backup(&ceremony, to, now)?;
            let done = quorum::run(&mut ceremony, prepared, args, secrets, context)?;
            let backup = &done.output;
            if context.json {
                render::json(backup)?;
                return Ok(Outcome::Success);
            }
            out(format!(
                "backup written to {} and read back: epoch {}, card set {}",
                backup.dir, backup.epoch, backup.generation
            ))?;
            for key in &backup.keys {
                out(format!("  {key}"))?;
            }
            for line in render::hash_lines("backup manifest", &backup.manifest_sha256) {
                out(line)?;
            }
            out(
                "carry it to the second site; only a quorum of these cards opens it (ceremony hsm restore)",
            )?;
            render::closing(&done.audit_head, &done.after)?;
            Ok(Outcome::Success)
        }
        Command::Restore {
            from,
            dir,
            quorum: args,
        } => {
            let now = context.now()?;
            let secrets = Secrets::new(args.pin_file.as_deref())?;
            let created = !dir.exists();
            let staged = signer::stage_restore(from, dir)?;
            // Until a quorum has opened it here, the copy is no ceremony:
            // any refusal or failure removes what was laid out.
            let restored = (|| {
                let mut ceremony = context.open_ceremony_in(dir, "hsm restore")?;
                let prepared = signer::prepare_restore(&ceremony, staged, now)?;
                quorum::run(&mut ceremony, prepared, args, secrets, context)
            })();
            let done = match restored {
                Ok(done) => done,
                Err(err) => {
                    if created {
                        let _ = std::fs::remove_dir_all(dir);
                    } else if let Ok(entries) = std::fs::read_dir(dir) {
                        for entry in entries.flatten() {
                            let path = entry.path();
                            let _ = if path.is_dir() {
                                std::fs::remove_dir_all(&path)
                            } else {
                                std::fs::remove_file(&path)
                            };
                        }
                    }
                    return Err(err);
                }
            };
            let restored = &done.output;
            if context.json {
                render::json(restored)?;
                return Ok(Outcome::Success);
            }
            out(format!(
                "the backup of epoch {} is a ceremony in {}, opened by this quorum",
                restored.epoch, restored.dir
            ))?;
            for key in &restored.keys {
                out(format!("  {key}"))?;
            }
            out(format!(
                "use it with --config {}/ceremony.toml; sign at one site at a time (the cards remember the newest epoch, and refuse the other site's older state)",
                restored.dir
            ))?;
            render::closing(&done.audit_head, &done.after)?;
            Ok(Outcome::Success)
        }
    }
}
