//! The witness page in a real browser: Debian's headless Chromium opens
//! `/` while officers present their cards, and the same page (never
//! reloaded) shows the progress go from 0 of 3 to 3 of 3 by server-sent
//! events, then a lasting "done" panel: who activated, the SKR's words and
//! the audit head to write down. Screenshots at 1024×768 and 1920×1080 and
//! the page text are kept in `target/ci-artifacts/` for CI.
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

/// The screens the page must be readable on: a projector's 1024×768 and a
/// full-HD monitor.
const SCREENS: [(u32, u32); 2] = [(1024, 768), (1920, 1080)];

/// At each screen size: nothing wider than the screen, every hex group of
/// eight digits on one line; then a screenshot, `witness-{name}-{w}x{h}.png`.
fn look(page: &mut Page<'_>, name: &str) -> Vec<PathBuf> {
    let mut shots = Vec::new();
    for (width, height) in SCREENS {
        page.viewport(width, height);
        let inner = page.eval("String(window.innerWidth)");
        assert_eq!(inner, width.to_string(), "the viewport is not {width} wide");
        let overflow = page.eval(
            "String(document.documentElement.scrollWidth - document.documentElement.clientWidth)",
        );
        assert!(
            overflow.parse::<i64>().unwrap() <= 0,
            "{name} at {width}x{height}: the page is {overflow}px wider than the screen"
        );
        // Each group is one box on one line, inside the screen.
        let broken = page.eval(
            "JSON.stringify(Array.from(document.querySelectorAll('.hex > span'))
               .filter(g => g.getClientRects().length > 0)
               .filter(g => g.getClientRects().length !== 1 || g.textContent.length > 8
                            || g.getBoundingClientRect().right > document.documentElement.clientWidth)
               .map(g => g.textContent))",
        );
        assert_eq!(
            broken, "[]",
            "{name} at {width}x{height}: hex groups break or overflow"
        );
        let groups = page.eval(
            "String(Array.from(document.querySelectorAll('.hex > span'))
               .filter(g => g.getClientRects().length > 0).length)",
        );
        assert!(
            groups.parse::<usize>().unwrap() >= 8,
            "{name}: no hex groups shown"
        );
        let path = artifacts().join(format!("witness-{name}-{width}x{height}.png"));
        page.screenshot(&path);
        shots.push(path);
    }
    shots
}

/// The PGP words of a numbered-groups element: the words without the
/// group numbers ("1.", "2.", …).
fn words_of(shown: &str) -> Vec<String> {
    shown
        .split_whitespace()
        .filter(|word| {
            !word
                .trim_end_matches('.')
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .map(str::to_owned)
        .collect()
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
    // The operation panel: the KSR, its domain and bundles, its hash as
    // words in numbered groups of four, above the older records.
    let status = server.status();
    let record = status["ksrs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record["id"] == id.as_str())
        .unwrap()
        .clone();
    let operation = page.eval("document.getElementById('operation').innerText");
    assert!(operation.contains(&id), "{operation}");
    assert!(
        operation.contains(&record["bundles"].to_string()),
        "{operation}"
    );
    assert!(operation.contains("1. "), "{operation}");
    let ksr_words = page.eval("document.getElementById('op-ksr-words').textContent");
    assert_eq!(
        words_of(&ksr_words).join(" "),
        record["ksr_pgp_words"].as_str().unwrap(),
        "{ksr_words}"
    );
    let groups = page.eval("String(document.getElementById('op-ksr-words').children.length)");
    assert_eq!(groups, "8", "{ksr_words}");
    let above = page.eval(
        "String(document.getElementById('operation').getBoundingClientRect().bottom
                <= document.getElementById('ksrs').getBoundingClientRect().top)",
    );
    assert_eq!(
        above, "true",
        "the operation is not above the older records"
    );
    // The attempt counts down for the room, a second at a time.
    let first = page.wait_for_text("the attempt closes in", Duration::from_secs(20));
    let left = |text: &str| -> u32 {
        let after = text.split("the attempt closes in ").nth(1).unwrap();
        let clock: &str = after.split_whitespace().next().unwrap();
        let (minutes, seconds) = clock.split_once(':').unwrap();
        minutes.parse::<u32>().unwrap() * 60 + seconds.parse::<u32>().unwrap()
    };
    let before = left(&first);
    assert!(before <= 900 && before > 800, "{first}");
    std::thread::sleep(Duration::from_millis(2500));
    let later = left(&page.eval("document.body.innerText"));
    assert!(
        later < before,
        "the countdown did not move: {before} then {later}"
    );
    let mut shots = look(&mut page, "0-of-3");

    for (count, officer) in ["CO-1", "CO-3", "CO-4"].iter().enumerate() {
        server.present(officer).expect_code(0);
        page.wait_for_text(&format!("{} of 3", count + 1), Duration::from_secs(20));
        if count == 1 {
            let who = page.eval("document.getElementById('who').innerText");
            assert!(who.contains("CO-1") && who.contains("CO-3"), "{who}");
            shots.extend(look(&mut page, "2-of-3"));
        }
    }
    assert_eq!(crate::service::finish(admin).code, 0);
    let text = page.wait_for_text("Signing done", Duration::from_secs(20));
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
    // Its last step is the signing, not a count gone back to 0.
    let step = history.lines().last().unwrap_or_default();
    assert!(step.contains(&format!("signed {id}")), "{history}");
    assert!(step.contains("CO-1, CO-3, CO-4"), "{history}");
    assert!(!step.contains("0 of 3"), "{history}");

    // After signing, the top of the page is the lasting "done" panel, not
    // a counter gone back to "0 of 3".
    let now = page.eval("document.getElementById('now').innerText");
    assert!(
        !now.contains("0 of 3"),
        "the page went back to 0 of 3:\n{now}"
    );
    let headline = page.eval("document.getElementById('headline').innerText");
    assert!(!headline.contains("0 of 3"), "{headline}");
    assert!(headline.contains("Signing done"), "{headline}");
    let hidden = page.eval("String(document.getElementById('done').hidden)");
    assert_eq!(hidden, "false", "no done panel:\n{now}");
    let done = page.eval("document.getElementById('done').innerText");
    assert!(done.contains(&id), "{done}");
    // Who activated, in order.
    let officers = page.eval("document.getElementById('done-officers').innerText");
    let order: Vec<usize> = ["CO-1", "CO-3", "CO-4"]
        .iter()
        .map(|officer| {
            officers
                .find(officer)
                .unwrap_or_else(|| panic!("{officer}: {done}"))
        })
        .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{officers}");
    // The SKR's words, as the service has them.
    let status = server.status();
    let record = status["ksrs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(record["state"], "signed", "{record}");
    let skr_words = page.eval("document.getElementById('done-skr-words').textContent");
    assert_eq!(
        words_of(&skr_words).join(" "),
        record["skr_pgp_words"].as_str().unwrap(),
        "{skr_words}"
    );
    // The "write this down" panel, inside the done panel: the whole head,
    // the SHA-256 of a line of the log (hashed here), and its 32 PGP words
    // in numbered groups of four.
    let head = page.eval("document.getElementById('head').textContent");
    let log = std::fs::read_to_string(ceremony.path("c/audit.log")).unwrap();
    let hashes: Vec<String> = log
        .lines()
        .map(|line| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(line.as_bytes())))
        .collect();
    assert!(hashes.contains(&head.trim().to_owned()), "{head}");
    let words = page.eval("document.getElementById('head-words').textContent");
    let words = words_of(&words);
    assert_eq!(words.len(), 32, "{words:?}");
    let numbered = page.eval("document.getElementById('head-words').innerText");
    for group in 1..=8 {
        assert!(numbered.contains(&format!("{group}.")), "{numbered}");
    }
    assert!(done.contains("Write this down"), "{done}");
    assert!(
        words.iter().all(|word| done.contains(word.as_str())),
        "{done}"
    );
    let minutes = page.eval("document.getElementById('minutes').textContent");
    assert!(minutes.contains("Write this down"), "{minutes}");
    // The head's hex is shown in groups of eight.
    let head_groups = page.eval("String(document.querySelectorAll('#head > span').length)");
    assert_eq!(head_groups, "8", "{head}");
    assert!(text.contains("signed"), "{text}");
    // The large counter is what the room reads.
    let size = page.eval("getComputedStyle(document.getElementById('cards')).fontSize");
    assert!(
        size.trim_end_matches("px").parse::<f64>().unwrap() >= 48.0,
        "{size}"
    );
    shots.extend(look(&mut page, "done"));
    let size = page.eval("getComputedStyle(document.getElementById('headline')).fontSize");
    assert!(
        size.trim_end_matches("px").parse::<f64>().unwrap() >= 28.0,
        "{size}"
    );
    eprintln!("witness screenshots: {shots:?}");
    drop(page);
}

//------------ Printable pages ----------------------------------------------

/// What printing a page in Chromium gave.
#[derive(Debug)]
pub(crate) struct Printed {
    /// Its pages on A4 (`Page.printToPDF`, the page's own `@page`).
    pub pages: usize,
    /// The PDF, in `target/ci-artifacts/`.
    pub pdf: PathBuf,
    /// A screenshot of the whole page at 1024 wide, beside it.
    pub screenshot: PathBuf,
    /// The page's text as the browser lays it out (`innerText`).
    pub text: String,
}

/// A self-contained page (the printed script and record, an exercise's
/// transcript) checked in headless Chromium: on a 1024-wide screen and
/// at the printable width of A4 with print styles, nothing wider than the
/// page, and every hex group of eight digits (`.hex > span`) on one line
/// inside it; then printed to PDF (pages counted) and photographed, as
/// `NAME.pdf` and `NAME.png` in `target/ci-artifacts/`.
pub(crate) fn check_printable(html: &Path, name: &str) -> Printed {
    let url = format!(
        "file://{}",
        html.canonicalize()
            .unwrap_or_else(|err| panic!("{}: {err}", html.display()))
            .display()
    );
    let mut browser = Browser::launch();
    let mut page = browser.open(&url);
    let deadline = Instant::now() + Duration::from_secs(20);
    while page.eval("String(location.protocol === 'file:' && document.readyState === 'complete')")
        != "true"
    {
        assert!(Instant::now() < deadline, "{name}: the page did not load");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A4 is 210 mm wide: 794 CSS pixels, less the page's margins of
    // 12 mm each side.
    for (media, width) in [("screen", 1024_u32), ("print", 703)] {
        page.media(media);
        page.viewport(width, 768);
        let overflow = page.eval(
            "String(document.documentElement.scrollWidth - document.documentElement.clientWidth)",
        );
        assert!(
            overflow.parse::<i64>().unwrap() <= 0,
            "{name} ({media}, {width} wide): the page is {overflow}px wider than its width"
        );
        let wide = page.eval(
            "JSON.stringify(Array.from(document.querySelectorAll('body *'))
               .filter(e => e.getClientRects().length > 0)
               .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
               .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 40)))",
        );
        assert_eq!(
            wide, "[]",
            "{name} ({media}, {width} wide): elements reach past the page"
        );
        let broken = page.eval(
            "JSON.stringify(Array.from(document.querySelectorAll('.hex > span'))
               .filter(g => g.getClientRects().length > 0)
               .filter(g => g.getClientRects().length !== 1 || g.textContent.length > 8
                            || g.getBoundingClientRect().right > document.documentElement.clientWidth)
               .map(g => g.textContent))",
        );
        assert_eq!(
            broken, "[]",
            "{name} ({media}, {width} wide): hex groups break or overflow"
        );
    }
    page.media("screen");
    page.viewport(1024, 768);
    let text = page.eval("document.body.innerText");
    let height: u32 = page
        .eval("String(Math.ceil(document.documentElement.scrollHeight))")
        .parse()
        .unwrap();
    page.viewport(1024, height.clamp(768, 16_000));
    let screenshot = artifacts().join(format!("{name}.png"));
    page.screenshot(&screenshot);
    let pdf = page.print_to_pdf();
    let pages = pdf_pages(&pdf);
    let pdf_path = artifacts().join(format!("{name}.pdf"));
    std::fs::write(&pdf_path, &pdf).unwrap();
    drop(page);
    Printed {
        pages,
        pdf: pdf_path,
        screenshot,
        text,
    }
}

/// The number of pages of a PDF: its page objects (`/Type /Page`, not
/// `/Pages`), which must agree with the page tree's `/Count`.
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let objects = text
        .match_indices("/Type /Page")
        .filter(|(at, found)| {
            text[at + found.len()..]
                .chars()
                .next()
                .is_none_or(|next| !next.is_ascii_alphanumeric())
        })
        .count();
    // The root of the page tree counts every page; other nodes fewer.
    let counted = text
        .match_indices("/Type /Pages")
        .filter_map(|(at, _)| {
            let node = &text[at..text.len().min(at + 400)];
            let count = node.split("/Count ").nth(1)?;
            count
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<usize>()
                .ok()
        })
        .max();
    if let Some(counted) = counted {
        assert_eq!(
            counted, objects,
            "the PDF's page tree disagrees with its page objects"
        );
    }
    objects
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
            serde_json::json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
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

    /// Lays the page out as on a `width`×`height` screen.
    fn viewport(&mut self, width: u32, height: u32) {
        self.browser.call(
            Some(&self.session),
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": false,
            }),
        );
        // Let the page lay itself out again before it is measured.
        let _ = self.eval(
            "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done('laid out'))))",
        );
    }

    /// Lays the page out for a medium: `screen` or `print`.
    fn media(&mut self, media: &str) {
        self.browser.call(
            Some(&self.session),
            "Emulation.setEmulatedMedia",
            serde_json::json!({"media": media}),
        );
    }

    /// Prints the page as Chromium prints it, with the page's own `@page`
    /// size and margins; answers the PDF.
    fn print_to_pdf(&mut self) -> Vec<u8> {
        let result = self.browser.call(
            Some(&self.session),
            "Page.printToPDF",
            serde_json::json!({"printBackground": true, "preferCSSPageSize": true}),
        );
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(result["data"].as_str().unwrap())
            .unwrap();
        assert!(pdf.starts_with(b"%PDF"), "not a PDF");
        pdf
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

/// The witness page of a rehearsal's service started with `--exercise`
/// shows the exercise's current step and role, and each fault once it
/// was detected; it follows the status file as the exercise writes it.
#[test]
fn the_witness_page_shows_the_exercise_step_and_the_faults_found() {
    let ceremony = Ceremony::new("soft", "3");
    let status = ceremony.path("exercise-status.json");
    let mid = serde_json::json!({
        "scenario": "Everything goes wrong",
        "step": 11,
        "steps": 19,
        "action": "sign",
        "who": "CA (Carla Admin), IW (Ivan Witness), CO-1 (Olga)",
        "say": "The CA compares the words: they differ; nothing is signed.",
        "detected": ["blocked-card: detected at the card's PIN counter, step 8, by ceremony"],
    });
    std::fs::write(&status, mid.to_string()).unwrap();
    let server = Server::start(&ceremony, &["--exercise", &status]);
    let mut browser = Browser::launch();
    let mut page = browser.open(&format!("{}/", server.url));
    let text = page.wait_for_text("Step 11 of 19 (sign)", Duration::from_secs(20));
    assert!(
        text.contains("CA (Carla Admin), IW (Ivan Witness), CO-1 (Olga)"),
        "{text}"
    );
    assert!(text.contains("Exercise: Everything goes wrong"), "{text}");
    assert!(
        text.contains("blocked-card: detected at the card's PIN counter, step 8"),
        "{text}"
    );
    let panel_above = page.eval(
        "String(document.getElementById('exercise').getBoundingClientRect().bottom
                <= document.getElementById('now').getBoundingClientRect().top)",
    );
    assert_eq!(panel_above, "true", "the exercise panel is not at the top");
    let shots = look(&mut page, "exercise");
    // The exercise moves on: the page follows without a reload.
    let exercise = tempfile::tempdir().unwrap();
    let dir = exercise.path().join("x");
    crate::harness::run(&[
        "exercise",
        "run",
        "tampered-ksr",
        "--autopilot",
        "--dir",
        crate::harness::arg(&dir),
    ])
    .expect_code(0);
    let done = std::fs::read(dir.join("exercise-status.json")).unwrap();
    std::fs::write(&status, &done).unwrap();
    let text = page.wait_for_text("The exercise is over", Duration::from_secs(20));
    assert!(
        text.contains("swapped-ksr: detected at the out-of-band word check"),
        "{text}"
    );
    assert!(text.contains("tampered-ksr: detected"), "{text}");
    for shot in shots {
        assert!(shot.is_file());
    }
}
