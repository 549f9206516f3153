//! `ceremony serve`: the ceremony room's service, HTTPS over the `signer`
//! crate's service, on the room's own network (never the production
//! network: the ZSK operator talks to the intake). The administrator loads
//! the transfer set from the medium and confirms it with the words read
//! over the phone (`ceremony sign --server --media`), the officers present
//! their cards for it from their own terminals (`ceremony present`), and
//! witnesses watch `/` on a projector.

pub mod client;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use signer::service::{Service, Settings};
use signer::tls::{self, TlsDir};

use crate::context::Context;
use crate::error::{CliError, Outcome};
use crate::render::{self, out};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Where it runs: on the offline signer (the machine with the HSM), listening
on the ceremony room's own network only, for the officers' terminals, the
administrator's and the witnesses' projector. It takes no KSR from a ZSK
operator: the administrator loads the transfer set from the medium
(ceremony sign --server URL --media MEDIA/<ID>); the ZSK operator talks to
the online intake (ceremony intake serve) on another machine.

Examples:
  ceremony --config c/ceremony.toml serve --init-tls tls --host signer.room
  ceremony --config c/ceremony.toml serve --tls-dir tls --listen 10.0.0.1:8443"
)]
pub struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
    listen: SocketAddr,
    /// Make the private CA, the server certificate and a client
    /// certificate for each officer and the administrator in the new
    /// directory DIR, print their fingerprints, write
    /// DIR/allow-list.toml, and stop.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["tls_dir", "tls_cert"])]
    init_tls: Option<PathBuf>,
    /// More names for the server certificate made by --init-tls (DNS names
    /// or IP addresses; localhost and 127.0.0.1 are always in it).
    #[arg(long, value_name = "NAME", requires = "init_tls")]
    host: Vec<String>,
    /// Validity of the certificates made by --init-tls, in days.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    tls_days: u32,
    /// The directory --init-tls made: ca.pem, server.pem, server.key,
    /// allow-list.toml.
    #[arg(long, value_name = "DIR", required_unless_present_any = ["init_tls", "tls_cert"])]
    tls_dir: Option<PathBuf>,
    /// The server certificate (PEM chain) instead of DIR/server.pem.
    #[arg(long, value_name = "FILE", requires_all = ["tls_key", "client_ca", "allow_list"])]
    tls_cert: Option<PathBuf>,
    /// The server key (PEM) instead of DIR/server.key.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The CA that issues client certificates, instead of DIR/ca.pem.
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// The clients and their roles, instead of DIR/allow-list.toml.
    #[arg(long, value_name = "FILE")]
    allow_list: Option<PathBuf>,
    /// How long an activation attempt stays open, in seconds.
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    activation_timeout: u64,
    /// Show a rehearsal's exercise on the witness page: its current step
    /// and role, and the faults found so far, from the status file
    /// `ceremony exercise run` keeps (DIR/exercise-status.json).
    #[arg(long, value_name = "FILE")]
    exercise: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// How a server treats its clients (`serve`, `intake serve`).
#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// How long a client has for the TLS handshake, its request headers
    /// and its request body, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    client_timeout: u64,
    /// Connections served at once.
    #[arg(long, default_value_t = 512, value_name = "N")]
    max_connections: usize,
}

impl LimitArgs {
    /// The limits, each at least 1.
    pub fn limits(&self) -> web::Limits {
        web::Limits {
            client_timeout: Duration::from_secs(self.client_timeout.max(1)),
            max_connections: self.max_connections.max(1),
        }
    }
}

/// Runs `serve`.
pub fn run(args: &Args, context: &Context) -> Result<Outcome, CliError> {
    if let Some(dir) = &args.init_tls {
        let officers: Vec<String> =
            signer::Ceremony::read_roster(&context.ceremony_dir()?, &context.clock())?
                .officers()
                .iter()
                .map(|officer| officer.name.clone())
                .collect();
        let issued = tls::init_tls(
            dir,
            tls::Place::Room,
            &officers,
            &args.host,
            args.tls_days,
            context.now()?.time,
        )?;
        if context.json {
            render::json(&issued.clients)?;
        } else {
            out(format!(
                "private CA, server and {} client certificates in {} ({})",
                issued.clients.len(),
                issued.dir,
                issued.valid
            ))?;
            for client in &issued.clients {
                out(format!(
                    "{:<14} {:<13} {}",
                    client.name,
                    client.role.as_str(),
                    client.fingerprint
                ))?;
            }
        }
        return Ok(Outcome::Success);
    }
    let tls_dir = args.tls_dir.as_deref().map(TlsDir);
    let server_tls = tls::server_config(
        &pick(args.client_ca.as_ref(), tls_dir.as_ref().map(TlsDir::ca))?,
        &pick(
            args.tls_cert.as_ref(),
            tls_dir.as_ref().map(TlsDir::server_cert),
        )?,
        &pick(
            args.tls_key.as_ref(),
            tls_dir.as_ref().map(TlsDir::server_key),
        )?,
    )?;
    let allow = tls::AllowList::read(&pick(
        args.allow_list.as_ref(),
        tls_dir.as_ref().map(TlsDir::allow_list),
    )?)?;
    let ceremony = context.open_ceremony("serve")?;
    let witness = web::Witness::new();
    let service = Service::start(
        ceremony,
        Settings {
            activation_timeout: Duration::from_secs(args.activation_timeout),
            now: context
                .now_given()
                .then(|| context.now())
                .transpose()?
                .map(|now| now.time),
            exercise: args.exercise.clone(),
        },
        witness.publisher(),
    )?;
    let serving = web::Serving {
        tls: server_tls,
        allow,
        listen: args.listen,
        limits: args.limits.limits(),
    };
    let stopped = std::sync::Arc::clone(&service);
    web::run(service, &witness, serving, |address| {
        let _ = if context.json {
            render::json(&serde_json::json!({"listening": format!("https://{address}/")}))
        } else {
            out(format!(
                "listening on https://{address}/ (witness page; Ctrl-C stops)"
            ))
        };
    })?;
    // The service stopped (its last entry written): the head for the
    // witnesses' minutes.
    if !context.json {
        render::audit_head(&stopped.audit_head())?;
    }
    Ok(Outcome::Success)
}

/// A TLS file given on its own, or the one in the TLS directory.
fn pick(given: Option<&PathBuf>, in_dir: Option<PathBuf>) -> Result<PathBuf, CliError> {
    given.cloned().or(in_dir).ok_or(CliError::Value {
        option: "tls-dir",
        value: String::new(),
        expected: "give --tls-dir, or each TLS file",
    })
}
