//! The witness page in a real browser: Debian's headless Chromium opens
//! `/` while officers present their cards, and the same page (never
//! reloaded) shows the progress go from 0 of 3 to 3 of 3 by server-sent
//! events. Screenshots and the page text are kept in
//! `target/ci-artifacts/` for CI.
//!
//! Chromium is driven over its DevTools protocol, which is JSON over a
//! WebSocket; the few lines of WebSocket client it needs are below.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::ceremony::Ceremony;
use crate::service::Server;

/// Where CI collects the files a run leaves for people to look at.
fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ci-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_witness_page_follows_the_quorum_live_in_chromium() {
    let ceremony = Ceremony::new("soft", "3");
    let server = Server::start(&ceremony, &[]);
    let mut browser = Browser::launch();
    let mut page = browser.open(&format!("{}/", server.url));
    let text = page.wait_for_text("0 of 3", Duration::from_secs(20));
    assert!(text.contains("HSM sealed"), "{text}");
    let ksr = ceremony.make_ksr(1);
    let id = server.submit(&ksr);
    let admin = server.spawn_confirm(&id, &ceremony.path("skr-1.xml"));
    let text = page.wait_for_text(&format!("{id} confirmed"), Duration::from_secs(20));
    assert!(text.contains("0 of 3"), "{text}");
    page.screenshot(&artifacts().join("witness-0-of-3.png"));

    for (count, officer) in ["CO-1", "CO-3", "CO-4"].iter().enumerate() {
        server.present(officer).expect_code(0);
        page.wait_for_text(&format!("{} of 3", count + 1), Duration::from_secs(20));
    }
    assert_eq!(crate::service::finish(admin).code, 0);
    let text = page.wait_for_text("Signing done", Duration::from_secs(20));
    page.screenshot(&artifacts().join("witness-3-of-3.png"));
    std::fs::write(artifacts().join("witness-page.txt"), &text).unwrap();

    // One page load saw every step, in order: the history the page keeps
    // of what it was sent.
    let history = page.eval("Array.from(document.querySelectorAll('#history li')).map(li => li.textContent).join('\\n')");
    let steps: Vec<&str> = ["0 of 3", "1 of 3", "2 of 3", "3 of 3"]
        .into_iter()
        .filter(|step| history.contains(step))
        .collect();
    assert_eq!(
        steps.len(),
        4,
        "the page did not see every step live:\n{history}"
    );
    let positions: Vec<usize> = steps
        .iter()
        .map(|step| history.find(step).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{history}"
    );
    assert!(history.contains("CO-1, CO-3, CO-4"), "{history}");
    // The "write this down" panel: the whole head, the SHA-256 of a line of
    // the log (hashed here), and its 32 PGP words.
    let head = page.eval("document.getElementById('head').textContent");
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    let hashes: Vec<String> = log
        .lines()
        .map(|line| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(line.as_bytes())))
        .collect();
    assert!(hashes.contains(&head.trim().to_owned()), "{head}");
    let words = page.eval("document.getElementById('head-words').textContent");
    assert_eq!(words.split_whitespace().count(), 32, "{words}");
    let minutes = page.eval("document.getElementById('minutes').textContent");
    assert!(minutes.contains("Write this down"), "{minutes}");
    assert!(text.contains("signed"), "{text}");
    // The large headline is what the room reads.
    let size = page.eval("getComputedStyle(document.getElementById('cards')).fontSize");
    assert!(
        size.trim_end_matches("px").parse::<f64>().unwrap() >= 48.0,
        "{size}"
    );
    drop(page);
}

//------------ Chromium over the DevTools protocol --------------------------

struct Browser {
    child: Child,
    socket: WebSocket,
    next_id: u64,
    _profile: tempfile::TempDir,
}

struct Page<'a> {
    browser: &'a mut Browser,
    session: String,
}

impl Browser {
    fn launch() -> Self {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // The test CA is not in the browser's store.
                "--ignore-certificate-errors",
                "--remote-debugging-port=0",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium runs; the test command installs Debian's chromium");
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && text.lines().count() >= 2
            {
                break text;
            }
            assert!(
                Instant::now() < deadline,
                "chromium did not open its DevTools port"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut lines = text.lines();
        let port = lines.next().unwrap().trim().to_owned();
        let path = lines.next().unwrap().trim().to_owned();
        let socket = WebSocket::connect(&format!("127.0.0.1:{port}"), &path);
        Self {
            child,
            socket,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Sends a command (to a page session, or the browser) and waits for
    /// its answer, skipping events.
    fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: serde_json::Value,
    ) -> serde_json::Value {
        self.next_id += 1;
        let mut message =
            serde_json::json!({"id": self.next_id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = session.into();
        }
        self.socket.send(&message.to_string());
        loop {
            let answer: serde_json::Value = serde_json::from_str(&self.socket.receive()).unwrap();
            if answer["id"] == self.next_id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    fn open(&mut self, url: &str) -> Page<'_> {
        let target = self.call(None, "Target.createTarget", serde_json::json!({"url": url}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            serde_json::json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        Page {
            browser: self,
            session,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Page<'_> {
    fn eval(&mut self, expression: &str) -> String {
        let result = self.browser.call(
            Some(&self.session),
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true}),
        );
        result["result"]["value"].as_str().unwrap_or("").to_owned()
    }

    /// Polls the page's text until it contains `needle`.
    fn wait_for_text(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = self.eval("document.body ? document.body.innerText : ''");
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "the page never showed {needle:?}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&mut self, path: &Path) {
        let result = self.browser.call(
            Some(&self.session),
            "Page.captureScreenshot",
            serde_json::json!({"format": "png"}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(result["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).unwrap();
    }
}

//------------ A minimal WebSocket client (RFC 6455) -------------------------

/// Text frames only, as the DevTools protocol uses; client frames masked.
struct WebSocket {
    stream: BufReader<TcpStream>,
}

impl WebSocket {
    fn connect(address: &str, path: &str) -> Self {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: Y2VyZW1vbnktdGVzdHMtMQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut stream = BufReader::new(stream);
        let mut status = String::new();
        stream.read_line(&mut status).unwrap();
        assert!(status.contains(" 101 "), "no WebSocket upgrade: {status}");
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        Self { stream }
    }

    fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mask = [0x5a, 0x17, 0xc3, 0x88];
        let mut frame = vec![0x81];
        match payload.len() {
            length @ 0..=125 => frame.push(0x80 | u8::try_from(length).unwrap()),
            length @ 126..=65_535 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&u16::try_from(length).unwrap().to_be_bytes());
            }
            length => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(length as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(
            payload
                .iter()
                .enumerate()
                .map(|(index, byte)| byte ^ mask[index % 4]),
        );
        self.stream.get_mut().write_all(&frame).unwrap();
    }

    /// The next text message, reassembled from its frames.
    fn receive(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut head = [0; 2];
            self.stream.read_exact(&mut head).unwrap();
            let length = match head[1] & 0x7f {
                126 => {
                    let mut bytes = [0; 2];
                    self.stream.read_exact(&mut bytes).unwrap();
                    u64::from(u16::from_be_bytes(bytes))
                }
                127 => {
                    let mut bytes = [0; 8];
                    self.stream.read_exact(&mut bytes).unwrap();
                    u64::from_be_bytes(bytes)
                }
                short => u64::from(short),
            };
            let mut payload = vec![0; usize::try_from(length).unwrap()];
            self.stream.read_exact(&mut payload).unwrap();
            match head[0] & 0x0f {
                0x9 | 0xa => continue, // ping, pong
                0x8 => panic!("chromium closed the DevTools connection"),
                _ => message.extend_from_slice(&payload),
            }
            if head[0] & 0x80 != 0 {
                return String::from_utf8(message).unwrap();
            }
        }
    }
}
