//! The ceremony as a service, through the binary: `serve` in a child
//! process, officers presenting from separate `present` processes, the ZSK
//! operator and the administrator as `ksr submit` / `sign --server` /
//! `skr fetch`, the SKR validated by dnspython; a witness page in headless
//! Chromium; hostile and slow clients; a bounded load test.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use p256::ecdsa::Signature;
use quorum::{Challenge, SealedShare, Share};
use smartcard_sim::{CardClient, FileStorage, Pin, SimulatedCard};

use crate::ceremony::{Ceremony, dnspython, now_for};
use crate::harness::Run;

/// A running `ceremony serve`; stopped (SIGTERM) when dropped. The KSRs
/// come through an intake the ceremony pinned, on a medium in
/// `CEREMONY/media`.
pub struct Server<'a> {
    ceremony: &'a Ceremony,
    child: Child,
    pub url: String,
    intake: std::cell::RefCell<crate::airgap::Intake<'a>>,
}

impl<'a> Server<'a> {
    /// Makes the ceremony's TLS directory (once) and starts the service,
    /// judging as of the first quarter.
    pub fn start(ceremony: &'a Ceremony, extra: &[&str]) -> Self {
        Self::start_at(ceremony, extra, Some(&now_for(1)))
    }

    /// The same, as of `now` (the clock without it).
    pub fn start_at(ceremony: &'a Ceremony, extra: &[&str], now: Option<&str>) -> Self {
        let tls = ceremony.path("tls");
        if !Path::new(&tls).exists() {
            init_tls(ceremony, &tls)
                .expect_code(0)
                .expect_stdout("admin");
        }
        let mut intake = if Path::new(&ceremony.path("intake")).exists() {
            crate::airgap::Intake::existing(ceremony, "intake")
        } else {
            let intake = crate::airgap::Intake::init(ceremony, "intake", None);
            intake.pin();
            intake
        };
        let clock = now.map_or_else(crate::harness::clock_now, str::to_owned);
        intake.start(&clock);
        let mut command = Command::new(env!("CARGO_BIN_EXE_ceremony"));
        command
            .args(["--config", &ceremony.path("c/ceremony.toml")])
            .args(now.map(|now| vec!["--now", now]).unwrap_or_default())
            .args(["serve", "--tls-dir", &tls, "--listen", "127.0.0.1:0"])
            .args(extra);
        if let Some(conf) = &ceremony.softhsm {
            command.env("SOFTHSM2_CONF", conf);
        }
        let (child, url) = crate::harness::spawn_listening(&mut command);
        Self {
            ceremony,
            child,
            url,
            intake: std::cell::RefCell::new(intake),
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn remote(&self, name: &str) -> Vec<String> {
        [
            "--server",
            &self.url,
            "--tls-dir",
            &self.ceremony.path("tls"),
            "--as",
            name,
        ]
        .map(String::from)
        .to_vec()
    }

    /// `ceremony present` as the card's own officer, started, not waited for.
    pub fn spawn_present(&self, officer: &str) -> Child {
        self.spawn_present_from(officer, &self.ceremony.path("tls"))
    }

    /// The same with the TLS files of `tls` (the whole directory, or the
    /// officer's own folder of it).
    pub fn spawn_present_from(&self, officer: &str, tls: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_ceremony"))
            .arg("present")
            .args(["--server", &self.url, "--tls-dir", tls, "--as", officer])
            .args([
                "--card",
                &self.ceremony.card(officer),
                "--pin-file",
                &self.ceremony.path("pins.toml"),
                "--yes",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("present starts")
    }

    pub fn present(&self, officer: &str) -> Run {
        finish(self.spawn_present(officer))
    }

    /// The ZSK operator submits a KSR to the intake, which exports it to
    /// the medium; returns the id. The words the ZSK operator reads out are
    /// in `CEREMONY/media/ID.words`.
    pub fn submit(&self, ksr: &str) -> String {
        let intake = self.intake.borrow();
        let id = intake.submit(ksr);
        let set = self.set(&id);
        if !Path::new(&set).exists() {
            intake.export(&id, &self.ceremony.path("media"));
        }
        let ksr = ["ksr.xml", "ksr.txt"]
            .iter()
            .map(|name| format!("{set}/{name}"))
            .find(|path| Path::new(path).exists())
            .unwrap();
        crate::airgap::words_file(self.ceremony, &ksr, &self.words(&id));
        id
    }

    /// The intake the KSRs come through.
    pub fn intake(&self) -> std::cell::Ref<'_, crate::airgap::Intake<'a>> {
        self.intake.borrow()
    }

    /// The transfer set of a KSR on the medium.
    pub fn set(&self, id: &str) -> String {
        self.ceremony.path(&format!("media/{id}"))
    }

    /// The words of a KSR as read over the phone.
    pub fn words(&self, id: &str) -> String {
        self.ceremony.path(&format!("media/{id}.words"))
    }

    /// The administrator loads a KSR's transfer set and confirms it with
    /// the words (a first quarter, a copy of the SKR to `out`), started and
    /// not waited for; returns once the service shows the operation
    /// confirmed, so officers can present for it.
    pub fn spawn_confirm(&self, id: &str, out: &str) -> Child {
        let mut args = vec![
            "sign".to_owned(),
            "--media".into(),
            self.set(id),
            "--oob-words".into(),
            self.words(id),
            "--no-previous-skr".into(),
            "-o".into(),
            out.to_owned(),
        ];
        args.extend(self.remote("admin"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_ceremony"));
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = command.spawn().unwrap();
        let id = id.to_owned();
        wait_for(self, |status| status["confirmed"] == id.as_str());
        child
    }

    /// The ceremony binary with a client's remote arguments after `args`.
    pub fn client(&self, name: &str, args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend(self.remote(name));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        self.ceremony.run(&all)
    }

    /// An HTTPS agent that trusts the ceremony's CA, with a client
    /// certificate or without.
    pub fn agent(&self, name: Option<&str>) -> ureq::Agent {
        agent(&PathBuf::from(self.ceremony.path("tls")), name)
    }

    pub fn status(&self) -> serde_json::Value {
        let mut response = self
            .agent(None)
            .get(format!("{}/status", self.url))
            .call()
            .unwrap();
        assert_eq!(response.status(), 200);
        response.body_mut().read_json().unwrap()
    }

    fn audit(&self) -> String {
        std::fs::read_to_string(self.ceremony.path("c/audit.log")).unwrap()
    }
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        crate::harness::stop(&mut self.child);
    }
}

/// `serve --init-tls DIR` for the ceremony's roster.
fn init_tls(ceremony: &Ceremony, dir: &str) -> Run {
    ceremony.run(&[
        "--config",
        &ceremony.path("c/ceremony.toml"),
        "serve",
        "--init-tls",
        dir,
    ])
}

/// Waits for a client started with piped output.
pub fn finish(child: Child) -> Run {
    let start = Instant::now();
    Run::from_output(
        child.wait_with_output().expect("the client ends"),
        start.elapsed(),
    )
}

pub fn agent(tls: &Path, name: Option<&str>) -> ureq::Agent {
    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
    let ca = std::fs::read(tls.join("ca.pem")).unwrap();
    let mut config = TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&[
            Certificate::from_pem(&ca).unwrap()
        ]))
        .unversioned_rustls_crypto_provider(
            Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        );
    if let Some(name) = name {
        let cert = std::fs::read(tls.join(format!("clients/{name}/{name}.pem"))).unwrap();
        let key = std::fs::read(tls.join(format!("clients/{name}/{name}.key"))).unwrap();
        config = config.client_cert(Some(ClientCert::new_with_certs(
            &[Certificate::from_pem(&cert).unwrap().to_owned()],
            PrivateKey::from_pem(&key).unwrap().to_owned(),
        )));
    }
    ureq::Agent::config_builder()
        .tls_config(config.build())
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// The JSON of an answer, and its status.
pub fn answer(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> (u16, serde_json::Value) {
    let mut response = result.unwrap();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
    )
}

//------------ The main job over the network ---------------------------------

fn end_to_end(backend: &str) {
    let ceremony = Ceremony::new(backend, "3");
    let server = Server::start(&ceremony, &[]);
    assert_eq!(server.status()["presented"], 0);
    // Nobody can present before an operation is confirmed.
    server
        .present("CO-1")
        .expect_code(2)
        .expect_stderr("no operation awaits the quorum");

    // The ZSK operator uploads; the administrator confirms, which opens
    // the attempt for that KSR's signing.
    let ksr = ceremony.make_ksr(1);
    let id = server.submit(&ksr);
    let skr = ceremony.path("skr-1.xml");
    let admin = server.spawn_confirm(&id, &skr);

    // Three officers, three processes, at the same time; CO-5 has only the
    // folder --init-tls made for it (the CA certificate, its own key).
    let own = tempfile::tempdir().unwrap();
    for file in ["ca.pem", "CO-5.pem", "CO-5.key"] {
        std::fs::copy(
            ceremony.path(&format!("tls/clients/CO-5/{file}")),
            own.path().join(file),
        )
        .unwrap();
    }
    assert!(
        !Path::new(&ceremony.path("tls/ca.key")).exists(),
        "the CA key is not kept"
    );
    let officers = ["CO-2", "CO-4", "CO-5"];
    let children: Vec<_> = officers
        .iter()
        .map(|officer| match *officer {
            "CO-5" => server.spawn_present_from(officer, &own.path().display().to_string()),
            _ => server.spawn_present(officer),
        })
        .collect();
    for (officer, child) in officers.iter().zip(children) {
        let run = finish(child);
        assert_eq!(run.code, 0, "{officer}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("accepted:"), "{}", run.stdout);
        // Each officer was shown what the card authorizes.
        assert!(
            run.stdout.contains(&format!("ksr-{}", &id[4..]))
                && run.stdout.contains("operation digest"),
            "{}",
            run.stdout
        );
    }
    let signed = finish(admin);
    assert_eq!(signed.code, 0, "{}{}", signed.stdout, signed.stderr);
    assert!(signed.stdout.contains("SKR written"), "{}", signed.stdout);
    // The SKR went into the set on the medium; back at the intake, the
    // ZSK operator fetches it.
    assert_eq!(
        std::fs::read(&skr).unwrap(),
        std::fs::read(format!("{}/skr.xml", server.set(&id))).unwrap()
    );
    let intake = server.intake();
    intake.import(&server.set(&id)).expect_code(0);
    let fetched = ceremony.path("fetched.xml");
    intake.fetch(&id, &fetched).expect_code(0);
    assert_eq!(
        std::fs::read(&skr).unwrap(),
        std::fs::read(&fetched).unwrap()
    );
    // With the policy, the fetch anchors every bundle to its pinned KSK.
    let anchored = ceremony.path("fetched-anchored.xml");
    intake
        .client(&[
            "--config",
            &ceremony.path("c/ceremony.toml"),
            "skr",
            "fetch",
            &id,
            "-o",
            &anchored,
        ])
        .expect_code(0)
        .expect_stdout(&format!(
            "every bundle signed by a KSK the policy pins ({})",
            ceremony.ksk_tags()[0]
        ));
    drop(intake);
    dnspython(&[&skr], &ceremony.ksk_tags());

    // After signing the HSM is sealed and no operation awaits.
    let status = server.status();
    assert_eq!(status["phase"], "done", "{status}");
    assert_eq!(status["hsm_active"], false);
    assert_eq!(status["presented"], 0);

    // Every remote action is in the chained log with the client's subject.
    let audit = server.audit();
    for (event, subject) in [
        ("card-accepted", "CN=CO-2"),
        ("card-accepted", "CN=CO-4"),
        ("card-accepted", "CN=CO-5"),
        ("transfer-loaded", "CN=admin"),
        ("oob-checked", "CN=admin"),
        ("sign-confirmed", "CN=admin"),
    ] {
        assert!(
            audit
                .lines()
                .any(|line| line.contains(&format!("\"event\":\"{event}\""))
                    && line.contains(subject)),
            "{event} by {subject} not in the audit log"
        );
    }
    assert!(audit.contains("\"event\":\"skr-written\""));
    assert!(audit.contains("\"event\":\"sign-done\""));
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
}

#[test]
fn three_officers_present_remotely_and_the_skr_validates_soft() {
    end_to_end("soft");
}

#[test]
fn three_officers_present_remotely_and_the_skr_validates_pkcs11() {
    end_to_end("pkcs11");
}

#[test]
fn confirming_first_signs_when_the_quorum_arrives() {
    let ceremony = Ceremony::new("soft", "2");
    let server = Server::start(&ceremony, &[]);
    let ksr = ceremony.make_ksr(1);
    let id = server.submit(&ksr);
    let (set, words) = (server.set(&id), server.words(&id));
    let sign = |extra: &[&str]| {
        let mut args = vec!["sign", "--media", &set];
        args.extend_from_slice(extra);
        server.client("admin", &args)
    };
    // The administrator must type the words heard; none, nothing signs,
    // and the KSR's hash is not on the screen to copy from.
    let run = sign(&["--no-previous-skr"]);
    run.expect_code(1).expect_stderr("not confirmed");
    let heard: Vec<String> = std::fs::read_to_string(&words)
        .unwrap()
        .split_whitespace()
        .filter(|token| !token.ends_with(':'))
        .map(str::to_owned)
        .collect();
    assert!(
        !run.stdout.contains(&heard[..4].join(" ")),
        "{}",
        run.stdout
    );
    // Nor does the service give the hash away before the words are
    // checked: not in the status the projector shows, not in the record.
    let status = server.status();
    assert_eq!(status["ksrs"][0]["id"], id.as_str(), "{status}");
    assert_eq!(status["ksrs"][0]["ksr_pgp_words"], "", "{status}");
    assert_eq!(status["ksrs"][0]["ksr_sha256"], "", "{status}");
    let sha256 = {
        let hash = ceremony.run(&["--json", "hash", &format!("{set}/ksr.xml")]);
        hash.json()[0]["file_sha256"].as_str().unwrap().to_owned()
    };
    // A confirmation names the hash it read: another hash signs nothing.
    let (status, wrong) = answer(
        server
            .agent(Some("admin"))
            .post(format!("{}/ksrs/{id}/sign", server.url))
            .send(
                serde_json::json!({
                    "ksr_sha256": "00".repeat(32),
                    "no_previous_skr": true,
                    "heard": {"all": heard},
                })
                .to_string(),
            ),
    );
    assert_eq!(status, 409, "{wrong}");
    assert!(!wrong.to_string().contains(&sha256), "{wrong}");
    // A wrong word: refused, recorded, before anyone presents.
    let mut bad = heard.clone();
    bad[31] = if bad[31] == "adroitness" {
        "adviser".into()
    } else {
        "adroitness".into()
    };
    let bad_words = ceremony.path("bad-words.txt");
    std::fs::write(&bad_words, bad.join("\n")).unwrap();
    sign(&["--no-previous-skr", "--oob-words", &bad_words])
        .expect_code(3)
        .expect_stdout("OOB-WORDS");
    assert!(server.audit().contains("word 32"));
    // Without a previous SKR anywhere the administrator must waive the chain.
    sign(&["--oob-words", &words])
        .expect_code(3)
        .expect_stdout("MEDIA-CHAIN");
    // A schema that does not exist is refused before anyone presents.
    sign(&[
        "--oob-words",
        &words,
        "--no-previous-skr",
        "--schema",
        "nonsense",
    ])
    .expect_code(2)
    .expect_stderr("SIGN-SCHEMA");
    let skr = ceremony.path("skr-1.xml");
    let admin = server.spawn_confirm(&id, &skr);
    assert_eq!(server.status()["ksrs"][0]["state"], "confirmed");
    // A second confirmation while one awaits the quorum: one at a time.
    sign(&["--oob-words", &words, "--no-previous-skr"])
        .expect_code(2)
        .expect_stderr("one KSR at a time");
    server.present("CO-1").expect_code(0);
    server.present("CO-3").expect_code(0);
    let signed = finish(admin);
    assert_eq!(signed.code, 0, "{}{}", signed.stdout, signed.stderr);
    dnspython(&[&skr], &ceremony.ksk_tags());
    // The set signed is not signed again: it holds its SKR now.
    sign(&["--oob-words", &words, "--no-previous-skr"])
        .expect_code(3)
        .expect_stderr("MEDIA-REPLAY");
}

#[test]
fn a_failing_ksr_is_refused_with_its_findings_and_not_stored() {
    let ceremony = Ceremony::new("soft", "2");
    let server = Server::start(&ceremony, &[]);
    let ksr = ceremony.make_ksr(1);
    // The KSR of another zone: the policy's domain is example.
    let text = std::fs::read_to_string(&ksr)
        .unwrap()
        .replace("domain=\"example.\"", "domain=\"example.org.\"");
    let bad = ceremony.path("bad.xml");
    std::fs::write(&bad, text).unwrap();
    let refused = server.intake().client(&["--json", "ksr", "submit", &bad]);
    refused.expect_code(3);
    let codes: Vec<String> = refused.json()["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        codes.iter().any(|code| code.starts_with("KSR-DOMAIN")),
        "{codes:?}"
    );
    assert_eq!(server.status()["ksrs"].as_array().unwrap().len(), 0);
    assert!(
        server
            .intake()
            .audit()
            .contains("\"event\":\"ksr-refused\"")
    );
    // In a browser the same findings are a page.
    let intake = server.intake();
    let mut response = agent(
        &PathBuf::from(format!("{}/tls", intake.dir)),
        Some("zsk-operator"),
    )
    .post(format!("{}/ksrs", intake.url()))
    .header("Accept", "text/html")
    .send(std::fs::read(&bad).unwrap())
    .unwrap();
    assert_eq!(response.status(), 422);
    let page = response.body_mut().read_to_string().unwrap();
    assert!(
        page.contains("<table>") && page.contains("KSR-DOMAIN"),
        "{page}"
    );
}

#[test]
fn an_attempt_that_expires_closes_its_operation() {
    let ceremony = Ceremony::new("soft", "2");
    let server = Server::start(&ceremony, &["--activation-timeout", "2"]);
    let ksr = ceremony.make_ksr(1);
    let id = server.submit(&ksr);
    let admin = server.spawn_confirm(&id, &ceremony.path("skr-1.xml"));
    server.present("CO-1").expect_code(0);
    assert_eq!(server.status()["presented"], 1);
    // The attempt runs out: the operation is refused, the KSR can be
    // confirmed again, nothing was signed.
    let run = finish(admin);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("expired"), "{}", run.stderr);
    let status = server.status();
    assert_eq!(status["presented"], 0, "{status}");
    assert_eq!(status["ksrs"][0]["state"], "accepted", "{status}");
    let audit = server.audit();
    assert!(audit.contains("activation-expired"), "{audit}");
    assert!(audit.contains("\"event\":\"sign-refused\""), "{audit}");
    assert!(!Path::new(&ceremony.path("skr-1.xml")).exists());
}

/// Polls the status until `done` says so (at most 30 seconds).
fn wait_for(server: &Server<'_>, done: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = server.status();
        if done(&status) {
            return;
        }
        assert!(Instant::now() < deadline, "{status}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

//------------ Hostile, slow and racing clients ------------------------------

/// A presentation built here from the card itself, as `present` would, so
/// that it can be sent twice.
fn presentation(server: &Server<'_>, officer: &str, pin: &str) -> String {
    let (_, offer) = answer(
        server
            .agent(Some(officer))
            .get(format!("{}/session", server.url))
            .call(),
    );
    let nonce: [u8; 32] = hex::decode(offer["nonce"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let session_key = hex::decode(offer["session_key"].as_str().unwrap()).unwrap();
    let challenge = Challenge {
        nonce,
        generation: offer["generation"].as_u64().unwrap(),
        roster_digest: hex::decode(offer["roster_digest"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
        operation: serde_json::from_value::<signer::Summary>(offer["summary"].clone())
            .unwrap()
            .digest(),
        channel: session_key.clone(),
    };
    let card = SimulatedCard::open(
        FileStorage::locked(Path::new(&server.ceremony.card(officer))).unwrap(),
    )
    .unwrap();
    let mut card = CardClient::new(card);
    card.select().unwrap();
    let status = card.status().unwrap();
    card.verify(&Pin::new(pin.to_owned()).unwrap()).unwrap();
    let share = Share::from_bytes(&card.read_share().unwrap()).unwrap();
    let signature = Signature::from_slice(
        &card
            .authenticate(&challenge.message(share.index()))
            .unwrap(),
    )
    .unwrap();
    let sealed = SealedShare::seal(&share, &session_key, &challenge, &status.serial).unwrap();
    serde_json::json!({
        "nonce": hex::encode(nonce),
        "card_serial": status.serial,
        "generation": status.generation,
        "signature": hex::encode(signature.to_bytes()),
        "ephemeral_key": hex::encode(&sealed.ephemeral),
        "sealed_share": hex::encode(&sealed.ciphertext),
    })
    .to_string()
}

#[test]
fn a_replayed_presentation_counts_in_no_other_attempt() {
    let ceremony = Ceremony::new("soft", "3");
    let server = Server::start(&ceremony, &[]);
    let ksr = ceremony.make_ksr(1);
    let id = server.submit(&ksr);
    let skr = ceremony.path("skr-1.xml");
    let admin = server.spawn_confirm(&id, &skr);
    let body = presentation(&server, "CO-1", "111111");
    let post = |body: &str| {
        answer(
            server
                .agent(Some("CO-1"))
                .post(format!("{}/present", server.url))
                .content_type("application/json")
                .send(body),
        )
    };
    // CO-1's card under CO-2's certificate: refused before anything else.
    let (status, borrowed) = answer(
        server
            .agent(Some("CO-2"))
            .post(format!("{}/present", server.url))
            .content_type("application/json")
            .send(&body),
    );
    assert_eq!(status, 403, "{borrowed}");
    assert!(
        borrowed["error"]
            .as_str()
            .unwrap()
            .contains("certificate of CO-2"),
        "{borrowed}"
    );
    assert_eq!(server.status()["presented"], 0);
    let (status, first) = post(&body);
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["presented"], 1);
    // The same bytes again in the same attempt: a duplicate.
    let (status, again) = post(&body);
    assert_eq!(status, 409);
    assert!(
        again["refusal"]
            .as_str()
            .unwrap()
            .contains("already presented"),
        "{again}"
    );
    // The administrator resets (the operation is withdrawn) and confirms
    // again; the recording is useless in the new attempt.
    server.client("admin", &["session", "reset"]).expect_code(0);
    assert_eq!(finish(admin).code, 1);
    assert!(server.audit().contains("\"event\":\"sign-aborted\""));
    let admin = server.spawn_confirm(&id, &skr);
    let (status, replayed) = post(&body);
    assert_eq!(status, 409, "{replayed}");
    assert!(
        replayed["refusal"]
            .as_str()
            .unwrap()
            .contains("stale nonce"),
        "{replayed}"
    );
    assert_eq!(replayed["presented"], 0);
    // Even with the new nonce pasted in, the share does not open (it was
    // sealed to the old attempt's key) and the signature is for the old one.
    let (_, offer) = answer(
        server
            .agent(Some("CO-1"))
            .get(format!("{}/session", server.url))
            .call(),
    );
    let mut forged: serde_json::Value = serde_json::from_str(&body).unwrap();
    forged["nonce"] = offer["nonce"].clone();
    let (status, refused) = post(&forged.to_string());
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["refusal"]
            .as_str()
            .unwrap()
            .contains("does not open"),
        "{refused}"
    );
    assert_eq!(server.status()["presented"], 0);
    server.client("admin", &["session", "reset"]).expect_code(0);
    assert_eq!(finish(admin).code, 1);
}

#[test]
fn hostile_clients_change_nothing() {
    let ceremony = Ceremony::new("soft", "3");
    // CO-5's certificate is made by our CA but taken off the allow-list.
    let server = {
        let first = Server::start(&ceremony, &[]);
        drop(first);
        let list = ceremony.path("tls/allow-list.toml");
        let text = std::fs::read_to_string(&list).unwrap();
        let start = text.find("[clients.\"CO-5\"]").unwrap();
        let end = start + text[start..].find("\n\n").unwrap() + 2;
        std::fs::write(&list, format!("{}{}", &text[..start], &text[end..])).unwrap();
        Server::start(&ceremony, &["--client-timeout", "2"])
    };
    let url = &server.url;
    let officer = server.agent(Some("CO-1"));

    // No certificate, or one not on the allow-list: only the public pages.
    let anonymous = server.agent(None);
    assert_eq!(
        answer(anonymous.get(format!("{url}/session")).call()).0,
        401
    );
    assert_eq!(
        answer(anonymous.post(format!("{url}/transfers")).send("{}")).0,
        401
    );
    // The room's service takes no KSR from anyone: there is no such route.
    assert_eq!(
        answer(
            server
                .agent(Some("admin"))
                .post(format!("{url}/ksrs"))
                .send("<x/>")
        )
        .0,
        404
    );
    assert_eq!(
        answer(anonymous.post(format!("{url}/present")).send("{}")).0,
        401
    );
    assert_eq!(answer(anonymous.get(format!("{url}/")).call()).0, 200);
    let unlisted = server.agent(Some("CO-5"));
    let (status, body) = answer(unlisted.get(format!("{url}/session")).call());
    assert_eq!(status, 403);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not on the allow-list"),
        "{body}"
    );
    // An access refusal is not an activation refusal (exit 2, not 4).
    server
        .present("CO-5")
        .expect_code(2)
        .expect_stderr("allow-list");
    // An officer may not load a transfer set, the administrator may not
    // present.
    assert_eq!(
        answer(officer.post(format!("{url}/transfers")).send("{}")).0,
        403
    );
    assert_eq!(
        answer(
            server
                .agent(Some("admin"))
                .get(format!("{url}/session"))
                .call()
        )
        .0,
        403
    );
    assert_eq!(
        answer(officer.post(format!("{url}/session/reset")).send("")).0,
        403
    );
    // A certificate from another CA fails the handshake.
    let stranger = tempfile::tempdir().unwrap();
    init_tls(&ceremony, &stranger.path().join("t").display().to_string()).expect_code(0);
    let foreign = stranger.path().join("t");
    std::fs::copy(ceremony.path("tls/ca.pem"), foreign.join("ca.pem")).unwrap();
    assert!(
        agent(&foreign, Some("CO-1"))
            .get(format!("{url}/session"))
            .call()
            .is_err()
    );

    // Malformed JSON and XML, wrong field types, an upload over the limit.
    for body in [
        "",
        "{",
        "[]",
        "{\"nonce\": 5}",
        "{\"nonce\":\"zz\",\"card_serial\":\"x\",\"generation\":1,\"signature\":\"\",\"ephemeral_key\":\"\",\"sealed_share\":\"\"}",
    ] {
        let (status, answer) = answer(
            officer
                .post(format!("{url}/present"))
                .content_type("application/json")
                .send(body),
        );
        assert_eq!(status, 400, "{body:?}: {answer}");
    }
    let admin = server.agent(Some("admin"));
    for (body, expected) in [
        ("", 400),
        ("{", 400),
        ("{\"name\":\"x\",\"files\":{\"ksr.xml\":\"zz\"}}", 400),
        ("{\"name\":\"../x\",\"files\":{}}", 400),
        ("{\"name\":\"x\",\"files\":{\"evil.sh\":\"00\"}}", 422),
        (
            "{\"name\":\"x\",\"files\":{\"ksr.xml\":\"3c4b53522f3e\"}}",
            422,
        ),
    ] {
        let (status, answer) = answer(
            admin
                .post(format!("{url}/transfers"))
                .content_type("application/json")
                .send(body),
        );
        assert_eq!(status, expected, "{body:?}: {answer}");
    }
    // Past the limit the server answers 413 at once, without reading the
    // rest; the client may see the answer or a closed connection.
    let huge = vec![b' '; 5 * ksr_max() + 1];
    match admin.post(format!("{url}/transfers")).send(&huge[..]) {
        Ok(response) => assert_eq!(response.status(), 413),
        Err(err) => assert!(matches!(err, ureq::Error::Io(_)), "{err}"),
    }
    assert_eq!(server.status()["ksrs"].as_array().unwrap().len(), 0);

    // A client that sends one byte a second: dropped after the timeout,
    // while others are served at once.
    let slow = std::thread::spawn({
        let url = url.clone();
        move || trickle(&url)
    });
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(answer(anonymous.get(format!("{url}/status")).call()).0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "status took {:?}",
        started.elapsed()
    );
    let closed_after = slow.join().unwrap();
    assert!(
        closed_after < Duration::from_secs(8),
        "the trickling client was kept {closed_after:?}"
    );
    // A body that trickles over a good TLS connection: 408 after the
    // timeout (the client, still writing, may only see the close).
    let started = Instant::now();
    match officer
        .post(format!("{url}/present"))
        .content_type("application/json")
        .send(ureq::SendBody::from_reader(&mut Trickle { sent: 0 }))
    {
        Ok(response) => assert_eq!(response.status(), 408),
        Err(err) => assert!(matches!(err, ureq::Error::Io(_)), "{err}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the trickled body was read for {:?}",
        started.elapsed()
    );
    // From here on an operation awaits the quorum.
    let ksr = ceremony.make_ksr(1);
    let id = server.submit(&ksr);
    let admin = server.spawn_confirm(&id, &ceremony.path("skr-1.xml"));
    // A client that disconnects in the middle of its presentation.
    let body = presentation(&server, "CO-1", "111111");
    let cut = officer
        .post(format!("{url}/present"))
        .content_type("application/json")
        .header("Content-Length", body.len().to_string())
        .send(ureq::SendBody::from_reader(&mut Cut {
            body: body.as_bytes(),
            at: body.len() / 2,
        }));
    assert!(cut.is_err() || cut.unwrap().status() != 200);
    assert_eq!(server.status()["presented"], 0);

    // Two officers race for the last slot: exactly one counts.
    server.present("CO-1").expect_code(0);
    server.present("CO-2").expect_code(0);
    let racers = [server.spawn_present("CO-3"), server.spawn_present("CO-4")];
    let codes: Vec<i32> = racers.into_iter().map(|child| finish(child).code).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 4], "{codes:?}");
    // The quorum was complete: the server, still whole, signed.
    let run = finish(admin);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let status = server.status();
    assert_eq!(status["phase"], "done", "{status}");
    dnspython(&[&ceremony.path("skr-1.xml")], &ceremony.ksk_tags());
    ceremony
        .run(&["audit", "verify", &ceremony.path("c/audit.log")])
        .expect_code(0);
}

pub fn ksr_max() -> usize {
    1 << 20
}

/// Opens a TCP connection and sends a byte a second (never a complete TLS
/// handshake); returns how long the server kept it.
fn trickle(url: &str) -> Duration {
    let address = url.trim_start_matches("https://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut buffer = [0; 64];
    while start.elapsed() < Duration::from_secs(15) {
        if stream.write_all(&[0x16]).is_err() {
            break;
        }
        if let Ok(0) = stream.read(&mut buffer) {
            break;
        }
        std::thread::sleep(Duration::from_millis(800));
    }
    start.elapsed()
}

/// A body that gives one byte a second, forever.
struct Trickle {
    sent: usize,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.sent > 30 {
            return Err(std::io::Error::other("gave up"));
        }
        std::thread::sleep(Duration::from_secs(1));
        buffer[0] = b' ';
        self.sent += 1;
        Ok(1)
    }
}

/// A body that stops halfway with an error: the connection is dropped.
struct Cut<'a> {
    body: &'a [u8],
    at: usize,
}

impl std::io::Read for Cut<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.at == 0 {
            return Err(std::io::Error::other("the client went away"));
        }
        let count = buffer.len().min(self.at);
        buffer[..count].copy_from_slice(&self.body[..count]);
        self.body = &self.body[count..];
        self.at -= count;
        Ok(count)
    }
}

//------------ Both front ends, one flow -------------------------------------

#[test]
fn a_knot_ksr_signed_through_the_service_is_the_skr_signed_at_one_terminal() {
    // Ed25519 signatures are deterministic (RFC 8032 §5.1.6): the same
    // KSR, cards and clock give the same SKR, byte for byte, whichever
    // front end drives the flow.
    let ceremony = Ceremony::with("soft", "2", "ed25519", "example.com.", None);
    let conf = crate::knot::knot(&PathBuf::from(ceremony.path("zsk")), "ed25519");
    let ksr = ceremony.path("ksr.txt");
    crate::knot::knot_ksr(&conf, &ksr);
    let now = crate::harness::clock_now();
    // Through the service first (a KSR signed is not signed again from a
    // medium), then at one terminal from the file, as a rehearsal may.
    let remote = ceremony.path("remote.txt");
    {
        let server = Server::start_at(&ceremony, &[], Some(&now));
        let id = server.submit(&ksr);
        let admin = server.spawn_confirm(&id, &remote);
        assert_eq!(server.status()["ksrs"][0]["format"], "Knot DNS text");
        server.present("CO-1").expect_code(0);
        server.present("CO-2").expect_code(0);
        let run = finish(admin);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    }
    let local = ceremony.path("local.txt");
    let config = ceremony.path("c/ceremony.toml");
    let (one, two, pins) = (
        ceremony.card("CO-1"),
        ceremony.card("CO-2"),
        ceremony.path("pins.toml"),
    );
    ceremony
        .run(&[
            "--config",
            &config,
            "--now",
            &now,
            "sign",
            &ksr,
            "--no-previous-skr",
            "-o",
            &local,
            "--pin-file",
            &pins,
            "--yes",
            "--cards",
            &one,
            &two,
        ])
        .expect_code(0);

    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(&remote).unwrap(),
        "the two front ends signed differently"
    );
    dnspython(&[&remote], &ceremony.ksk_tags());
    let (code, stdout, stderr) = crate::knot::keymgr(&conf, &["import-skr", &remote]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
}

#[test]
fn an_skr_planted_in_the_service_folder_is_not_served() {
    let ceremony = Ceremony::new("soft", "2");
    let ksr = ceremony.make_ksr(1);
    let id = {
        let server = Server::start(&ceremony, &[]);
        let id = server.submit(&ksr);
        let admin = server.spawn_confirm(&id, &ceremony.path("skr-1.xml"));
        server.present("CO-1").expect_code(0);
        server.present("CO-2").expect_code(0);
        assert_eq!(finish(admin).code, 0);
        id
    };
    // While the service is stopped, an insider alters the stored SKR: one
    // signature's first character.
    let stored = ceremony.path(&format!("c/service/{id}.skr.xml"));
    let text = std::fs::read_to_string(&stored).unwrap();
    let at = text.find("<SignatureData>").unwrap() + "<SignatureData>".len();
    let first = &text[at..=at];
    let mut altered = text.clone();
    altered.replace_range(at..=at, if first == "A" { "B" } else { "A" });
    std::fs::write(&stored, altered).unwrap();
    let server = Server::start(&ceremony, &[]);
    let record = server.status()["ksrs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(record["state"], "failed", "{record}");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("planted or altered"),
        "{record}"
    );
    let fetched = ceremony.path("fetched.xml");
    let run = server.client("zsk-operator", &["skr", "fetch", &id, "-o", &fetched]);
    assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!Path::new(&fetched).exists());
}

#[test]
fn an_officer_who_does_not_confirm_the_operation_presents_nothing() {
    use std::io::Write as _;
    let ceremony = Ceremony::new("soft", "2");
    let server = Server::start(&ceremony, &[]);
    let ksr = ceremony.make_ksr(1);
    let id = server.submit(&ksr);
    let admin = server.spawn_confirm(&id, &ceremony.path("skr-1.xml"));
    wait_for(&server, |status| status["phase"] == "collecting");
    let card = ceremony.card("CO-1");
    let before = std::fs::read(&card).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .arg("present")
        .args(server.remote("CO-1"))
        .args(["--card", &card, "--pin-file", &ceremony.path("pins.toml")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"no\n").unwrap();
    let declined = finish(child);
    assert_eq!(declined.code, 1, "{}{}", declined.stdout, declined.stderr);
    assert!(
        declined.stderr.contains("Type yes to present it"),
        "{}",
        declined.stderr
    );
    assert!(
        declined.stdout.contains(&id[4..]),
        "the summary was not shown: {}",
        declined.stdout
    );
    assert_eq!(std::fs::read(&card).unwrap(), before, "the card was read");
    assert_eq!(server.status()["presented"], 0);
    drop(server);
    let _ = finish(admin);
}
