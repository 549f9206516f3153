//! The processes an exercise runs: each command line, the servers it
//! starts and stops, and the guards that reap them on every way out.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};

use super::{Observed, World};
use crate::error::CliError;
use crate::exercise::transcript::CommandRecord;

impl World {
    /// A command of the ZSK operator's over the network: when it is not
    /// refused (3) but does not get through (1), they try again once, as
    /// a person would; both tries are recorded.
    pub(super) fn over_the_network(
        &self,
        observed: &mut Observed,
        args: &[&str],
    ) -> Result<(), CliError> {
        self.command(observed, args)?;
        if observed.exit == Some(1) {
            std::thread::sleep(std::time::Duration::from_secs(1));
            self.command(observed, args)?;
        }
        Ok(())
    }

    /// Runs one command line of this binary and records it.
    pub(super) fn command(&self, observed: &mut Observed, args: &[&str]) -> Result<(), CliError> {
        let line = format!("ceremony {}", args.join(" "));
        let mut child = Command::new(&self.program)
            .args(args)
            .env("SOFTHSM2_CONF", self.dir.join("softhsm2.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(CliError::Output)?;
        let reader = drain(child.stdout.take().map(|pipe| Box::new(pipe) as _));
        // stderr is read line by line: the power cut is announced there.
        let mut errors = String::new();
        let mut killed = false;
        if let Some(stderr) = child.stderr.take() {
            let mut lines = BufReader::new(stderr);
            let mut line = Vec::new();
            while lines.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                let text = String::from_utf8_lossy(&line);
                if !killed && text.contains(crate::commands::quorum::POWER_CUT_LINE) {
                    // The power fails: SIGKILL, nothing flushed or closed.
                    let _ = child.kill();
                    killed = true;
                }
                errors.push_str(&text);
                line.clear();
            }
        }
        let status = child.wait().map_err(CliError::Output)?;
        let stdout = reader.join().unwrap_or_default();
        let exit = status.code();
        if killed {
            errors.push_str("[the power failed: the process was killed with SIGKILL]\n");
        }
        observed.commands.push(CommandRecord {
            line,
            exit,
            killed,
            output: format!("{stdout}{errors}"),
        });
        observed.exit = exit;
        observed.killed = killed;
        Ok(())
    }

    /// Starts the intake's server for the quarter.
    pub(super) fn intake_server(&self) -> Result<Server, CliError> {
        let mut command = Command::new(&self.program);
        command
            .args(["--now", &self.now(), "intake", "serve", "--dir"])
            .arg(self.intake())
            .args(["--listen", "127.0.0.1:0"]);
        self.spawn_server(&mut command, "the intake")
    }

    /// Starts a server whose first line names its URL.
    pub(super) fn spawn_server(
        &self,
        command: &mut Command,
        what: &str,
    ) -> Result<Server, CliError> {
        let mut child = command
            .env("SOFTHSM2_CONF", self.dir.join("softhsm2.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(CliError::Output)?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(CliError::Output)?;
        }
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("https://"))
            .map(|url| url.trim_end_matches('/').to_owned());
        let mut server = Server {
            child,
            url: String::new(),
        };
        match url {
            Some(url) => {
                server.url = url;
                Ok(server)
            }
            None => {
                server.stop();
                Err(CliError::Exercise(format!(
                    "{what} did not start: it said {line:?}"
                )))
            }
        }
    }
}

/// A child process killed (and reaped) when the exercise leaves it: an
/// error on the way does not leave it running.
pub(super) struct KillOnDrop(pub(super) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// An intake server for one step.
pub(super) struct Server {
    child: Child,
    pub(super) url: String,
}

impl Server {
    /// Stops it with SIGTERM, as an operator would (killed if it lingers).
    pub(super) fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Reads a child's pipe to its end on a thread of its own.
pub(super) fn drain(
    pipe: Option<Box<dyn std::io::Read + Send>>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}
