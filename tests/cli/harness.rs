//! Running the binary with a deadline, and the shared test vectors.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of `ceremony` gave.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// How long it took.
    #[allow(dead_code, reason = "shown by Debug when an assertion fails")]
    pub elapsed: Duration,
}

impl Run {
    /// The run of a finished child process.
    pub fn from_output(output: std::process::Output, elapsed: Duration) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed,
        }
    }

    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that stdout contains a text.
    #[track_caller]
    pub fn expect_stdout(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that stderr contains a text.
    #[track_caller]
    pub fn expect_stderr(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout))
    }
}

/// Runs `ceremony` with arguments and standard input, killing it if it
/// runs past `deadline` (a hang is a failure, not a slow test).
pub fn run_with(args: &[&str], stdin: &[u8], deadline: Duration) -> Run {
    run_in(args, stdin, deadline, &[])
}

/// Runs `ceremony` with extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &Path)]) -> Run {
    run_in(args, b"", Duration::from_secs(120), env)
}

fn run_in(args: &[&str], stdin: &[u8], deadline: Duration, env: &[(&str, &Path)]) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(args)
        .envs(env.iter().map(|(key, value)| (*key, *value)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .ok();
    // Both pipes are drained while the child runs: an output larger than
    // a pipe's buffer would otherwise stall it until the deadline.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as _));
    let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as _));
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting works") {
            break status;
        }
        if start.elapsed() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("ceremony {args:?} did not end within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().expect("stdout is readable"),
        stderr: stderr.join().expect("stderr is readable"),
    };
    Run::from_output(output, start.elapsed())
}

/// Runs `ceremony` with arguments, with a generous deadline.
pub fn run(args: &[&str]) -> Run {
    run_with(args, b"", Duration::from_secs(60))
}

/// Returns the path of a shared vector; the folder sits beside the
/// repository, in CI too.
pub fn vector(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(name);
    assert!(path.exists(), "missing vector {}", path.display());
    path
}

/// Returns a vector's text.
pub fn vector_text(name: &str) -> String {
    std::fs::read_to_string(vector(name)).expect("vectors are UTF-8")
}

/// Returns the base64 public key of the key with this identifier in a
/// vector (the root KSKs are public).
pub fn vector_public_key(name: &str, identifier: &str) -> String {
    let text = vector_text(name);
    let key = &text[text
        .find(&format!("keyIdentifier=\"{identifier}\""))
        .expect("the key is in the vector")..];
    let start = key.find("<PublicKey>").expect("a Key has a PublicKey") + "<PublicKey>".len();
    let end = key.find("</PublicKey>").expect("PublicKey is closed");
    key[start..end].to_owned()
}

/// Turns a path into an argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The three KSR vectors.
pub const KSRS: [&str; 3] = [
    "ksr-root-2010-q1-0.xml",
    "ksr-root-2016-q3-0.xml",
    "ksr-root-2017-q2-0.xml",
];
/// The three SKR vectors.
pub const SKRS: [&str; 3] = [
    "skr-root-2017-q1-0.xml",
    "skr-root-2017-q2-0.xml",
    "skr-root-2017-q3-0-c_to_d.xml",
];

/// Starts a server (`serve`, `intake serve`) whose first line on stdout
/// names the URL it listens on; answers the child and the URL (without a
/// trailing slash).
pub fn spawn_listening(command: &mut Command) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("the server says where it listens");
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (child, url)
}

/// Stops a server with SIGTERM, as an operator would, and waits for it
/// (killed after ten seconds).
pub fn stop(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// This machine's clock now, in RFC 3339 UTC (for `--now` where the
/// ceremony must judge by the real clock).
pub fn clock_now() -> String {
    let output = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}
