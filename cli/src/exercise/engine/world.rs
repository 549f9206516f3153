//! What each action of a scenario does: the command lines of a real
//! ceremony, with the cards, PINs, media and words the room holds, and
//! the faults a step injects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use zeroize::Zeroizing;

use super::files::{choose_pins, read, set_ksr, set_skr, write_new, write_over, write_pins};
use super::processes::{KillOnDrop, Server, drain};
use super::{Card, Observed, QUARTER, World};
use crate::error::CliError;
use crate::exercise::people::People;
use crate::exercise::scenario::{Action, Fault, Step};
use crate::exercise::transcript::{CommandRecord, Hash, Signal};
use crate::render::out;

impl World {
    pub(super) fn ceremony(&self) -> PathBuf {
        self.dir.join("ceremony")
    }

    pub(super) fn intake(&self) -> PathBuf {
        self.dir.join("intake")
    }

    pub(super) fn zsk(&self) -> PathBuf {
        self.dir.join("zsk")
    }

    pub(super) fn config(&self) -> String {
        self.ceremony().join("ceremony.toml").display().to_string()
    }

    /// The quarter's instant: the first ceremony's day, then 90 days on
    /// per quarter.
    pub(super) fn now(&self) -> String {
        let quarter = self.quarter.max(1) - 1;
        let seconds = quarter.saturating_mul(QUARTER);
        self.start
            .checked_add(seconds)
            .unwrap_or(self.start)
            .to_document()
    }

    /// One step.
    pub(super) fn act(
        &mut self,
        step: &Step,
        people: &mut dyn People,
        observed: &mut Observed,
    ) -> Result<(), CliError> {
        let now = self.now();
        let config = self.config();
        match step.action {
            Action::Init => self.init(people, observed)?,
            Action::IntakeInit => {
                let policy = config.clone();
                let intake = self.intake().display().to_string();
                // The intake's TLS certificates start now, by the
                // machine's clock, which its clients check.
                self.command(
                    observed,
                    &["intake", "init", "--dir", &intake, "--policy", &policy],
                )?;
            }
            Action::IntakePolicy => {
                let intake = self.intake().display().to_string();
                self.command(observed, &["intake", "policy", "--dir", &intake, &config])?;
            }
            Action::IntakePin => {
                let key = self.intake().join("intake.pub").display().to_string();
                let mut args = vec!["--now", &now, "--config", &config, "intake", "pin", &key];
                let quorum = self.quorum(step, people, observed)?;
                args.extend(quorum.iter().map(String::as_str));
                self.command(observed, &args)?;
            }
            Action::MakeKsr => {
                self.quarter += 1;
                self.ksr_id = None;
                self.set = None;
                self.phone = None;
                std::fs::create_dir_all(self.zsk()).map_err(CliError::Output)?;
                let now = self.now();
                let out = self.zsk().join(format!("ksr-{}.xml", self.quarter));
                let out_text = out.display().to_string();
                let zsk = self.zsk().display().to_string();
                let zone = self.scenario.ceremony.zone.clone();
                let mut args = vec![
                    "--now", &now, "--config", &config, "zsk", "make-ksr", "--dir", &zsk,
                    "--domain", &zone, "--out", &out_text,
                ];
                let previous = self.previous_skr();
                if let Some(previous) = &previous {
                    args.extend(["--previous-skr", previous]);
                }
                self.command(observed, &args)?;
                if observed.exit == Some(0) {
                    self.ksr = Some(out);
                }
            }
            Action::Submit => {
                let ksr = self.need_ksr()?;
                self.ksr_id = self.submit(&ksr, observed)?;
            }
            Action::Export => {
                let id = self
                    .ksr_id
                    .clone()
                    .ok_or_else(|| missing(step, "a KSR the intake took (a submit step first)"))?;
                self.set = self.export(&id, observed)?;
                if let Some(set) = &self.set {
                    let ksr = set_ksr(set)?;
                    observed
                        .hashes
                        .push(("KSR on the medium".into(), Hash::of(&read(&ksr)?)));
                }
            }
            Action::ReadWords => {
                let ksr = self.need_ksr()?;
                let text = ksr.display().to_string();
                self.command(observed, &["hash", &text])?;
                let hash = Hash::of(&read(&ksr)?);
                self.phone = Some(hash.pgp_words.split(' ').map(str::to_owned).collect());
                observed
                    .hashes
                    .push(("KSR, read over the phone".into(), hash));
            }
            Action::TamperKsr => {
                let set = self.need_set(step)?;
                let ksr = set_ksr(&set)?;
                let mut bytes = read(&ksr)?;
                // The file's last digit, moved by one: the file keeps its
                // form, its hash changes.
                if let Some(digit) = bytes.iter().rposition(u8::is_ascii_digit)
                    && let Some(byte) = bytes.get_mut(digit)
                {
                    *byte = if *byte == b'9' { b'0' } else { *byte + 1 };
                }
                write_over(&ksr, &bytes)?;
                observed.decisions.push(format!(
                    "one digit of {} changed on the medium",
                    ksr.display()
                ));
                observed
                    .hashes
                    .push(("KSR on the medium, altered".into(), Hash::of(&bytes)));
                observed.exit = Some(0);
            }
            Action::SwapKsr => self.swap(step, observed)?,
            Action::Sign => self.sign(step, people, observed)?,
            Action::Import => {
                let set = self.need_set(step)?.display().to_string();
                let intake = self.intake().display().to_string();
                self.command(
                    observed,
                    &["--now", &now, "intake", "import", "--dir", &intake, &set],
                )?;
            }
            Action::Fetch => {
                let id = self
                    .ksr_id
                    .clone()
                    .ok_or_else(|| missing(step, "a KSR the intake took"))?;
                let out = self.zsk().join(format!("skr-{}.xml", self.quarter));
                let mut server = self.intake_server()?;
                let out_text = out.display().to_string();
                let tls = self.intake().join("tls").display().to_string();
                let result = self.over_the_network(
                    observed,
                    &[
                        "--now",
                        &now,
                        "skr",
                        "fetch",
                        &id,
                        "-o",
                        &out_text,
                        "--server",
                        &server.url,
                        "--tls-dir",
                        &tls,
                        "--as",
                        "zsk-operator",
                    ],
                );
                server.stop();
                result?;
                if observed.exit == Some(0) {
                    observed.hashes.push((
                        "SKR fetched by the ZSK operator".into(),
                        Hash::of(&read(&out)?),
                    ));
                    self.fetched.insert(self.quarter, out);
                }
            }
            Action::SkrCheck => {
                let skr = self
                    .skrs
                    .last()
                    .cloned()
                    .ok_or_else(|| missing(step, "an SKR (a sign step first)"))?;
                let ksr = self.need_ksr()?;
                let (skr, ksr) = (skr.display().to_string(), ksr.display().to_string());
                self.command(
                    observed,
                    &[
                        "--now", &now, "--config", &config, "skr", "check", &skr, "--ksr", &ksr,
                    ],
                )?;
            }
            Action::AuditVerify => {
                self.command(observed, &["--config", &config, "audit", "verify"])?;
            }
            Action::Inventory => {
                self.command(observed, &["--now", &now, "--config", &config, "inventory"])?;
            }
            Action::Keygen => {
                self.ksks += 1;
                let label = format!("ksk-{}", self.ksks);
                let algorithm = self.scenario.ceremony.algorithm.clone();
                let mut args = vec![
                    "--now",
                    &now,
                    "--config",
                    &config,
                    "keygen",
                    "--algorithm",
                    &algorithm,
                    "--label",
                    &label,
                ];
                let quorum = self.quorum(step, people, observed)?;
                args.extend(quorum.iter().map(String::as_str));
                self.command(observed, &args)?;
            }
            Action::Promote => {
                let revoke = self
                    .skrs
                    .last()
                    .cloned()
                    .ok_or_else(|| missing(step, "the revoke quarter's SKR"))?
                    .display()
                    .to_string();
                let mut args = vec![
                    "--now",
                    &now,
                    "--config",
                    &config,
                    "ksk",
                    "promote",
                    "--revoke-skr",
                    &revoke,
                ];
                let quorum = self.quorum(step, people, observed)?;
                args.extend(quorum.iter().map(String::as_str));
                self.command(observed, &args)?;
            }
            Action::Reshare | Action::Rekey => self.new_cards(step, people, observed)?,
            Action::CardVerify => self.card_verify(step, people, observed)?,
            Action::CardUnblock => self.card_unblock(step, people, observed)?,
            Action::LoseCard => {
                let officer = step.officer.clone().unwrap_or_default();
                let card = self
                    .cards
                    .remove(&officer)
                    .ok_or_else(|| missing(step, "the officer's card"))?;
                let lost_dir = self.dir.join("lost");
                std::fs::create_dir_all(&lost_dir).map_err(CliError::Output)?;
                let lost = lost_dir.join(format!("{officer}.card"));
                std::fs::rename(&card.path, &lost).map_err(CliError::Output)?;
                observed.decisions.push(format!(
                    "{officer}'s card is lost: it is out of the room ({}); {officer} is absent until a new card set",
                    lost.display()
                ));
                self.lost.insert(officer, Card { path: lost, ..card });
                observed.exit = Some(0);
            }
        }
        Ok(())
    }

    /// `init --rehearsal` with PINs the engine chose and tells each
    /// officer.
    pub(super) fn init(
        &mut self,
        people: &mut dyn People,
        observed: &mut Observed,
    ) -> Result<(), CliError> {
        let parameters = self.scenario.ceremony.clone();
        let officers: Vec<String> = (1..=parameters.officers)
            .map(|n| format!("CO-{n}"))
            .collect();
        let pins = choose_pins(&officers, people)?;
        let pin_file = self.dir.join("pins-1.toml");
        write_pins(&pin_file, &pins, None)?;
        let puk_file = self.dir.join("puks-1.toml");
        let (ceremony, now) = (self.ceremony().display().to_string(), self.now());
        let (n, k) = (
            parameters.officers.to_string(),
            parameters.threshold.to_string(),
        );
        let (pin_text, puk_text) = (
            pin_file.display().to_string(),
            puk_file.display().to_string(),
        );
        let mut args = vec![
            "--now",
            &now,
            "init",
            "--rehearsal",
            "--dir",
            &ceremony,
            "--cards",
            &n,
            "--threshold",
            &k,
            "--algorithm",
            &parameters.algorithm,
            "--domain",
            &parameters.zone,
            "--pin-file",
            &pin_text,
            "--puk-file",
            &puk_text,
            "--kdf",
            "light",
        ];
        let softhsm = self.softhsm_args()?;
        args.extend(softhsm.iter().map(String::as_str));
        self.command(observed, &args)?;
        if observed.exit != Some(0) {
            return Ok(());
        }
        // The PUKs init wrote, read as every pin file is.
        let puks = signer::PinFile::read(&puk_file)?;
        for officer in &officers {
            self.cards.insert(
                officer.clone(),
                Card {
                    path: self
                        .ceremony()
                        .join("cards")
                        .join(format!("{officer}.card")),
                    pin: pins.get(officer).cloned().unwrap_or_default(),
                    puk: puks.get(signer::PinTable::Puks, officer)?,
                },
            );
        }
        if self.serve.is_some() {
            let tls = self.room_tls().display().to_string();
            let config = self.config();
            self.command(
                observed,
                &["--config", &config, "serve", "--init-tls", &tls],
            )?;
        }
        observed.decisions.push(format!(
            "each officer chose their card's PIN ({}); the PUKs are in {}",
            pin_file.display(),
            puk_file.display()
        ));
        Ok(())
    }

    /// `--backend pkcs11 …` for a scenario on SoftHSM2: a token of the
    /// exercise's own, made with softhsm2-util.
    pub(super) fn softhsm_args(&self) -> Result<Vec<String>, CliError> {
        if self.scenario.ceremony.backend != "softhsm2" {
            return Ok(Vec::new());
        }
        let tokens = self.dir.join("softhsm2");
        std::fs::create_dir_all(&tokens).map_err(CliError::Output)?;
        let conf = self.dir.join("softhsm2.conf");
        write_new(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            )
            .as_bytes(),
        )?;
        let so_pin = signer::random_digits(8).as_str().to_owned();
        let so_pin_file = self.dir.join("so-pin");
        write_new(&so_pin_file, so_pin.as_bytes())?;
        let user_pin = signer::random_digits(8).as_str().to_owned();
        let status = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                "ceremony",
                "--so-pin",
                &so_pin,
                "--pin",
                &user_pin,
            ])
            .stdout(Stdio::null())
            .status()
            .map_err(CliError::Output)?;
        if !status.success() {
            return Err(CliError::Output(std::io::Error::other(
                "softhsm2-util --init-token failed",
            )));
        }
        Ok(vec![
            "--backend".into(),
            "pkcs11".into(),
            "--module".into(),
            "/usr/lib/softhsm/libsofthsm2.so".into(),
            "--token".into(),
            "ceremony".into(),
            "--so-pin-file".into(),
            so_pin_file.display().to_string(),
        ])
    }

    /// The quorum arguments of a step: each officer's card, in order, and
    /// the PINs they typed; the step's fault on its officer's card.
    pub(super) fn quorum(
        &mut self,
        step: &Step,
        people: &mut dyn People,
        observed: &mut Observed,
    ) -> Result<Vec<String>, CliError> {
        let mut cards = Vec::new();
        let mut pins = BTreeMap::new();
        for (officer, card) in self.presented(step, observed)? {
            let typed = self.typed_pin(step, &officer, &card, people, observed)?;
            pins.insert(officer, typed);
            cards.push(card.path.display().to_string());
        }
        let pin_file = self.scratch("pins-typed.toml");
        write_pins(&pin_file, &pins, None)?;
        let mut args = vec![
            "--pin-file".to_owned(),
            pin_file.display().to_string(),
            "--yes".to_owned(),
        ];
        let rehearsal_fault = match step.fault {
            Some(Fault::HsmSelfTest) => Some(signer::RehearsalFault::HsmSelfTest),
            Some(Fault::AttemptExpires) => Some(signer::RehearsalFault::AttemptExpires),
            Some(Fault::PowerCut) => Some(signer::RehearsalFault::PowerCut),
            _ => None,
        };
        if let Some(fault) = rehearsal_fault {
            args.extend(["--exercise-fault".to_owned(), fault.name().to_owned()]);
        }
        args.push("--cards".into());
        args.extend(cards);
        Ok(args)
    }

    /// The card each officer of a step presents, in order: their own, or
    /// the foreign or retired one the step's fault gives them.
    pub(super) fn presented(
        &mut self,
        step: &Step,
        observed: &mut Observed,
    ) -> Result<Vec<(String, Card)>, CliError> {
        let mut presented = Vec::new();
        for officer in &step.officers {
            let concerned = step.officer.as_deref() == Some(officer.as_str());
            let card = match step.fault {
                Some(Fault::ForeignCard) if concerned => {
                    observed
                        .decisions
                        .push(format!("{officer} presents a card of another ceremony"));
                    self.foreign_card(officer)?
                }
                Some(Fault::ForgedCard) if concerned => {
                    observed.decisions.push(format!(
                        "a card made to look like {officer}'s (its serial, another key) is presented"
                    ));
                    self.forged_card(officer, step)?
                }
                Some(Fault::RetiredCard) if concerned => {
                    observed.decisions.push(format!(
                        "{officer} presents their card of a retired card set"
                    ));
                    self.retired.get(officer).cloned().ok_or_else(|| {
                        missing(
                            step,
                            "a retired card of that officer (a card-set change first)",
                        )
                    })?
                }
                _ => self
                    .cards
                    .get(officer)
                    .cloned()
                    .ok_or_else(|| missing(step, "that officer's card"))?,
            };
            presented.push((officer.clone(), card));
        }
        Ok(presented)
    }

    /// The PIN an officer types for the card they present (a wrong one
    /// when the step's fault says so, or when they mistype).
    pub(super) fn typed_pin(
        &self,
        step: &Step,
        officer: &str,
        card: &Card,
        people: &mut dyn People,
        observed: &mut Observed,
    ) -> Result<Zeroizing<String>, CliError> {
        let drill = step.officer.as_deref() == Some(officer) && step.fault == Some(Fault::WrongPin);
        let typed = people.pin(officer, &card.pin, drill)?;
        if typed != card.pin {
            observed
                .decisions
                .push(format!("{officer} typed a PIN that is not the card's"));
        }
        Ok(typed)
    }

    /// A forgery of `officer`'s card: a blank simulated card personalized
    /// with the real card's serial, holder and generation, and the real
    /// PIN (the forger watched it typed), but a key made on it and a
    /// share of no one's. Only the roster's enrolled card key tells it
    /// from the real one.
    pub(super) fn forged_card(&mut self, officer: &str, step: &Step) -> Result<Card, CliError> {
        use smartcard_sim::{CardClient, FileStorage, KdfParams, Personalization, SimulatedCard};
        let real = self
            .cards
            .get(officer)
            .cloned()
            .ok_or_else(|| missing(step, "that officer's card, to copy"))?;
        let status = signer::LocalCard::open(&real.path)
            .map_err(|err| CliError::Exercise(format!("{}: {err}", real.path.display())))?
            .status()
            .clone();
        let forged_dir = self.dir.join("forged");
        std::fs::create_dir_all(&forged_dir).map_err(CliError::Output)?;
        let path = forged_dir.join(format!("{officer}-{}.card", step.number));
        let fail =
            |err: &dyn std::fmt::Display| CliError::Exercise(format!("the forged card: {err}"));
        let card = SimulatedCard::blank(FileStorage::new(&path), KdfParams::LIGHT)
            .map_err(|err| fail(&err))?;
        let mut client = CardClient::new(card);
        client.select().map_err(|err| fail(&err))?;
        let pin =
            smartcard_sim::Pin::new(real.pin.as_str().to_owned()).map_err(|err| fail(&err))?;
        let puk = smartcard_sim::Puk::new(signer::random_digits(12).as_str().to_owned())
            .map_err(|err| fail(&err))?;
        let fields = Personalization {
            serial: status.serial.clone(),
            holder: status.holder.clone(),
            role: status.role.clone(),
            generation: status.generation,
        };
        client
            .begin_personalization(&fields, &pin, &puk)
            .map_err(|err| fail(&err))?;
        // A share of the right form and no one's value.
        let mut share = vec![1_u8];
        share.extend(
            signer::random_digits(32)
                .as_str()
                .bytes()
                .map(|digit| digit - b'0'),
        );
        client
            .finish_personalization(&share)
            .map_err(|err| fail(&err))?;
        Ok(Card {
            path,
            pin: real.pin,
            puk: Zeroizing::new(String::new()),
        })
    }

    /// A card of another ceremony for `officer` (made once).
    pub(super) fn foreign_card(&mut self, officer: &str) -> Result<Card, CliError> {
        let foreign = self.dir.join("foreign");
        if self.foreign.is_none() {
            let parameters = self.scenario.ceremony.clone();
            let pins: BTreeMap<String, Zeroizing<String>> = (1..=parameters.officers)
                .map(|n| {
                    (
                        format!("CO-{n}"),
                        Zeroizing::new(signer::random_digits(6).as_str().to_owned()),
                    )
                })
                .collect();
            let pin_file = self.dir.join("foreign-pins.toml");
            write_pins(&pin_file, &pins, None)?;
            let output = Command::new(&self.program)
                .args(["--now", &self.now(), "init", "--rehearsal", "--dir"])
                .arg(&foreign)
                .args(["--cards", &parameters.officers.to_string()])
                .args(["--threshold", &parameters.threshold.to_string()])
                .args([
                    "--algorithm",
                    &parameters.algorithm,
                    "--domain",
                    &parameters.zone,
                    "--kdf",
                    "light",
                ])
                .arg("--pin-file")
                .arg(&pin_file)
                .arg("--puk-file")
                .arg(self.dir.join("foreign-puks.toml"))
                .stdin(Stdio::null())
                .output()
                .map_err(CliError::Output)?;
            if !output.status.success() {
                return Err(CliError::Output(std::io::Error::other(format!(
                    "the foreign ceremony could not be made: {}",
                    String::from_utf8_lossy(&output.stderr)
                ))));
            }
            self.foreign = Some(pins);
        }
        // The officer knows this card's PIN: it is theirs, elsewhere.
        let pin = self
            .foreign
            .as_ref()
            .and_then(|pins| pins.get(officer))
            .cloned()
            .unwrap_or_default();
        Ok(Card {
            path: foreign.join("cards").join(format!("{officer}.card")),
            pin,
            puk: Zeroizing::new(String::new()),
        })
    }

    /// `ksr submit` to the intake, which the step starts and stops.
    pub(super) fn submit(
        &mut self,
        ksr: &Path,
        observed: &mut Observed,
    ) -> Result<Option<String>, CliError> {
        let mut server = self.intake_server()?;
        let (now, ksr_text) = (self.now(), ksr.display().to_string());
        let tls = self.intake().join("tls").display().to_string();
        let args = [
            "--now",
            &now,
            "--json",
            "ksr",
            "submit",
            &ksr_text,
            "--server",
            &server.url,
            "--tls-dir",
            &tls,
            "--as",
            "zsk-operator",
        ];
        let result = self.over_the_network(observed, &args);
        server.stop();
        result?;
        // stdout comes first in the record: the JSON report.
        let id = observed.commands.last().and_then(|command| {
            let value = serde_json::Deserializer::from_str(&command.output)
                .into_iter::<serde_json::Value>()
                .next()?
                .ok()?;
            value.pointer("/ksr/id")?.as_str().map(str::to_owned)
        });
        Ok(id)
    }

    /// `intake export` onto a new medium.
    pub(super) fn export(
        &mut self,
        id: &str,
        observed: &mut Observed,
    ) -> Result<Option<PathBuf>, CliError> {
        self.media += 1;
        let media = self.dir.join(format!("media-{}", self.media));
        std::fs::create_dir_all(&media).map_err(CliError::Output)?;
        let (now, intake, media_text) = (
            self.now(),
            self.intake().display().to_string(),
            media.display().to_string(),
        );
        self.command(
            observed,
            &[
                "--now",
                &now,
                "intake",
                "export",
                "--dir",
                &intake,
                id,
                "--to",
                &media_text,
            ],
        )?;
        Ok((observed.exit == Some(0)).then(|| media.join(id)))
    }

    /// The swap: another KSR, submitted and exported as a real one
    /// would be, takes the place of the medium in hand.
    pub(super) fn swap(&mut self, step: &Step, observed: &mut Observed) -> Result<(), CliError> {
        let genuine = self.need_set(step)?;
        let (now, config) = (self.now(), self.config());
        let other = self.dir.join(format!("other-ksr-{}.xml", self.quarter));
        let (other_text, zsk) = (
            other.display().to_string(),
            self.zsk().display().to_string(),
        );
        let zone = self.scenario.ceremony.zone.clone();
        let mut args = vec![
            "--now",
            &now,
            "--config",
            &config,
            "zsk",
            "make-ksr",
            "--dir",
            &zsk,
            "--domain",
            &zone,
            "--out",
            &other_text,
        ];
        let previous = self.previous_skr();
        if let Some(previous) = &previous {
            args.extend(["--previous-skr", previous]);
        }
        self.command(observed, &args)?;
        let Some(id) = self.submit(&other, observed)? else {
            return Ok(());
        };
        let Some(set) = self.export(&id, observed)? else {
            return Ok(());
        };
        observed.decisions.push(format!(
            "the medium carrying {} was swapped for one carrying {}",
            genuine.display(),
            set.display()
        ));
        observed.hashes.push((
            "KSR on the swapped medium".into(),
            Hash::of(&read(&set_ksr(&set)?)?),
        ));
        self.set = Some(set);
        Ok(())
    }

    /// `sign --media`, after the CA compared the words.
    pub(super) fn sign(
        &mut self,
        step: &Step,
        people: &mut dyn People,
        observed: &mut Observed,
    ) -> Result<(), CliError> {
        let set = self.need_set(step)?;
        let phone = self.phone.clone().ok_or_else(|| {
            missing(
                step,
                "the words read over the phone (a read-words step first)",
            )
        })?;
        let screen_hash = Hash::of(&read(&set_ksr(&set)?)?);
        let screen: Vec<String> = screen_hash
            .pgp_words
            .split(' ')
            .map(str::to_owned)
            .collect();
        observed.hashes.push((
            "KSR on the medium, on the signer's screen".into(),
            screen_hash,
        ));
        let person = self.scenario.people.get("CA").cloned().unwrap_or_default();
        let matched = people.words_match(&format!("CA ({person})"), &phone, &screen)?;
        if !matched {
            observed.decisions.push(
                "CA: the words on the screen differ from those read over the phone; the KSR is refused, nothing signed".into(),
            );
            observed.signals.push(Signal {
                sign: "OOB-WORDS".into(),
                by: "CA".into(),
            });
            // Refused before any card, as the tool would (exit 3).
            observed.exit = Some(3);
            return Ok(());
        }
        observed
            .decisions
            .push("CA: the words on the screen match those read over the phone".into());
        let heard = self.scratch("heard.txt");
        let text: String = phone
            .iter()
            .enumerate()
            .map(|(index, word)| format!("{}: {word}\n", index + 1))
            .collect();
        write_over(&heard, text.as_bytes())?;
        let now = if step.fault == Some(Fault::ClockSkew) {
            // A signer whose clock is more than a year off.
            let now = ksr::Timestamp::parse_document(&self.now())
                .ok()
                .and_then(|now| now.checked_add(400 * 86_400))
                .map_or_else(|| self.now(), ksr::Timestamp::to_document);
            observed
                .decisions
                .push(format!("the signer's clock says {now}"));
            now
        } else {
            self.now()
        };
        let (config, set_text, heard_text) = (
            self.config(),
            set.display().to_string(),
            heard.display().to_string(),
        );
        let mut args = vec![
            "--now",
            &now,
            "--config",
            &config,
            "sign",
            "--media",
            &set_text,
            "--oob-words",
            &heard_text,
        ];
        if !self.signed {
            args.push("--no-previous-skr");
        }
        if let Some(schema) = &step.schema {
            args.extend(["--schema", schema]);
        }
        // The rehearsal's own faults strike the terminal's flow.
        let served = self.serve.clone().filter(|_| {
            !matches!(
                step.fault,
                Some(Fault::HsmSelfTest | Fault::PowerCut | Fault::AttemptExpires)
            )
        });
        if let Some(listen) = served {
            self.sign_served(step, people, observed, &args, (&listen, &now))?;
        } else {
            let quorum = self.quorum(step, people, observed)?;
            args.extend(quorum.iter().map(String::as_str));
            self.command(observed, &args)?;
        }
        if observed.exit == Some(0)
            && let Some(skr) = set_skr(&set)
        {
            self.signed = true;
            observed
                .hashes
                .push(("SKR written to the medium".into(), Hash::of(&read(&skr)?)));
            self.skrs.push(skr);
        }
        Ok(())
    }

    /// The signing through the room's service: `serve` starts on the
    /// ceremony, the administrator loads the medium and confirms it with
    /// the words (`sign --server`, which follows the signing), and each
    /// officer presents from their own terminal (`present`): on autopilot
    /// the exercise runs it for them; interactively it tells each officer
    /// the command to type at their terminal and waits.
    pub(super) fn sign_served(
        &mut self,
        step: &Step,
        people: &mut dyn People,
        observed: &mut Observed,
        local: &[&str],
        (listen, now): (&str, &str),
    ) -> Result<(), CliError> {
        // The service judges by its own clock: the signer's, as the step
        // has it.
        let mut server = self.room_server(listen, now)?;
        let tls = self.room_tls().display().to_string();
        // `sign --media SET …` as the administrator, remotely: the same
        // arguments, with the service's.
        let mut admin: Vec<String> = local.iter().map(|arg| (*arg).to_owned()).collect();
        admin.extend(
            ["--server", &server.url, "--tls-dir", &tls, "--as", "admin"].map(str::to_owned),
        );
        let admin_line = format!("ceremony {}", admin.join(" "));
        let mut child = Command::new(&self.program)
            .args(&admin)
            .env("SOFTHSM2_CONF", self.dir.join("softhsm2.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(CliError::Output)?;
        let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as _));
        let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as _));
        let mut child = KillOnDrop(child);
        let opened = self.wait_for_attempt(&server.url, &tls, &mut child.0);
        if !opened {
            // Refused before any card (it has ended), or no attempt
            // opened in a minute: it is not waited for.
            let _ = child.0.kill();
        }
        if opened {
            for (officer, card) in self.presented(step, observed)? {
                let card_text = card.path.display().to_string();
                if self.interactive {
                    out(format!(
                        "{officer}: at your terminal, present your card:\n  ceremony present --server {} --tls-dir {tls} --as {officer} --card {card_text}",
                        server.url
                    ))?;
                    continue;
                }
                let typed = self.typed_pin(step, &officer, &card, people, observed)?;
                let pin_file = self.scratch("pins-typed.toml");
                write_pins(&pin_file, &BTreeMap::from([(officer.clone(), typed)]), None)?;
                let pin_text = pin_file.display().to_string();
                self.command(
                    observed,
                    &[
                        "present",
                        "--server",
                        &server.url,
                        "--tls-dir",
                        &tls,
                        "--as",
                        &officer,
                        "--card",
                        &card_text,
                        "--pin-file",
                        &pin_text,
                        "--yes",
                    ],
                )?;
            }
        }
        let status = child.0.wait().map_err(CliError::Output)?;
        server.stop();
        let output = format!(
            "{}{}",
            stdout.join().unwrap_or_default(),
            stderr.join().unwrap_or_default()
        );
        // The administrator's command is the step's: first, with its exit.
        observed.commands.insert(
            0,
            CommandRecord {
                line: admin_line,
                exit: status.code(),
                killed: false,
                output,
            },
        );
        observed.exit = status.code();
        observed.killed = false;
        Ok(())
    }

    /// Waits until the room's service has an attempt open for the
    /// administrator's operation: false if the administrator's command
    /// ended first (refused before any card) or a minute passed.
    pub(super) fn wait_for_attempt(&self, url: &str, tls: &str, admin: &mut Child) -> bool {
        for _ in 0..600 {
            if let Ok(Some(_)) = admin.try_wait() {
                return false;
            }
            let status = Command::new(&self.program)
                .args([
                    "--json",
                    "session",
                    "status",
                    "--server",
                    url,
                    "--tls-dir",
                    tls,
                ])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output();
            if let Ok(output) = status
                && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&output.stdout)
                && value.get("phase").and_then(serde_json::Value::as_str) == Some("collecting")
            {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        false
    }

    /// The room's TLS folder (`serve --init-tls`).
    pub(super) fn room_tls(&self) -> PathBuf {
        self.dir.join("room-tls")
    }

    /// Starts the room's service on the ceremony, showing the exercise on
    /// its witness page.
    pub(super) fn room_server(&self, listen: &str, now: &str) -> Result<Server, CliError> {
        let mut command = Command::new(&self.program);
        command
            .args([
                "--now",
                now,
                "--config",
                &self.config(),
                "serve",
                "--tls-dir",
            ])
            .arg(self.room_tls())
            .args(["--listen", listen]);
        if let Some(status) = &self.status {
            command.arg("--exercise").arg(status);
        }
        self.spawn_server(&mut command, "the room's service")
    }

    /// `reshare` or `rekey`: new cards for every officer, new PINs told
    /// to each; the cards not presented (and lost ones) are retired.
    pub(super) fn new_cards(
        &mut self,
        step: &Step,
        people: &mut dyn People,
        observed: &mut Observed,
    ) -> Result<(), CliError> {
        let parameters = self.scenario.ceremony.clone();
        let generation = self.generation + 1;
        let officers: Vec<String> = (1..=parameters.officers)
            .map(|n| format!("CO-{n}"))
            .collect();
        let pins = choose_pins(&officers, people)?;
        let new_pins = self.dir.join(format!("pins-{generation}.toml"));
        write_pins(&new_pins, &pins, None)?;
        let puk_file = self.dir.join(format!("puks-{generation}.toml"));
        let (now, config) = (self.now(), self.config());
        let (n, k) = (
            parameters.officers.to_string(),
            parameters.threshold.to_string(),
        );
        let (new_pins_text, puk_text) = (
            new_pins.display().to_string(),
            puk_file.display().to_string(),
        );
        let verb = if step.action == Action::Rekey {
            "rekey"
        } else {
            "reshare"
        };
        let mut args = vec![
            "--now",
            &now,
            "--config",
            &config,
            verb,
            "--new-cards",
            &n,
            "--threshold",
            &k,
            "--new-pin-file",
            &new_pins_text,
            "--puk-file",
            &puk_text,
            "--kdf",
            "light",
        ];
        let quorum = self.quorum(step, people, observed)?;
        args.extend(quorum.iter().map(String::as_str));
        self.command(observed, &args)?;
        if observed.exit != Some(0) {
            return Ok(());
        }
        self.generation = generation;
        let puks = signer::PinFile::read(&puk_file)?;
        let folder = self
            .ceremony()
            .join("cards")
            .join(format!("generation-{generation}"));
        for officer in &officers {
            let old = self
                .cards
                .remove(officer)
                .or_else(|| self.lost.remove(officer));
            if let Some(old) = old
                && old.path.exists()
            {
                self.retired.insert(officer.clone(), old);
            }
            self.cards.insert(
                officer.clone(),
                Card {
                    path: folder.join(format!("{officer}.card")),
                    pin: pins.get(officer).cloned().unwrap_or_default(),
                    puk: puks.get(signer::PinTable::Puks, officer)?,
                },
            );
        }
        self.lost.clear();
        observed.decisions.push(format!(
            "card set {generation} issued; each officer chose their new PIN ({})",
            new_pins.display()
        ));
        Ok(())
    }

    /// The officer a card step concerns, and their card.
    pub(super) fn officer_card(&self, step: &Step) -> Result<(String, Card), CliError> {
        let officer = step.officer.clone().unwrap_or_default();
        let card = self
            .cards
            .get(&officer)
            .cloned()
            .ok_or_else(|| missing(step, "that officer's card"))?;
        Ok((officer, card))
    }

    /// `card verify`: once, or three times wrong until the card blocks.
    pub(super) fn card_verify(
        &mut self,
        step: &Step,
        people: &mut dyn People,
        observed: &mut Observed,
    ) -> Result<(), CliError> {
        let (officer, card) = self.officer_card(step)?;
        let tries = if step.fault == Some(Fault::BlockedCard) {
            smartcard_sim::PIN_TRIES
        } else {
            1
        };
        let drill = matches!(step.fault, Some(Fault::WrongPin | Fault::BlockedCard));
        let path = card.path.display().to_string();
        for _ in 0..tries {
            let typed = people.pin(&officer, &card.pin, drill)?;
            let pin_file = self.scratch("pins-typed.toml");
            write_pins(&pin_file, &BTreeMap::from([(officer.clone(), typed)]), None)?;
            let pin_text = pin_file.display().to_string();
            self.command(
                observed,
                &["card", "verify", &path, "--pin-file", &pin_text],
            )?;
        }
        Ok(())
    }

    /// `card unblock` with the PUK and a new PIN, told to the officer.
    pub(super) fn card_unblock(
        &mut self,
        step: &Step,
        people: &mut dyn People,
        observed: &mut Observed,
    ) -> Result<(), CliError> {
        let (officer, card) = self.officer_card(step)?;
        let new_pin = people.choose_pin(&officer)?;
        let pin_file = self.scratch("puk-typed.toml");
        write_pins(
            &pin_file,
            &BTreeMap::new(),
            Some((&officer, &card.puk, &new_pin)),
        )?;
        let (path, pin_text) = (
            card.path.display().to_string(),
            pin_file.display().to_string(),
        );
        self.command(
            observed,
            &["card", "unblock", &path, "--pin-file", &pin_text],
        )?;
        if observed.exit == Some(0)
            && let Some(card) = self.cards.get_mut(&officer)
        {
            card.pin = new_pin;
            observed
                .decisions
                .push(format!("{officer} chose a new PIN after the PUK"));
        }
        Ok(())
    }

    pub(super) fn previous_skr(&self) -> Option<String> {
        let previous = self.quarter.checked_sub(1)?;
        self.fetched
            .get(&previous)
            .or_else(|| self.skrs.last())
            .map(|path| path.display().to_string())
    }

    pub(super) fn need_ksr(&self) -> Result<PathBuf, CliError> {
        self.ksr.clone().ok_or_else(|| {
            CliError::Exercise(format!(
                "no KSR this quarter (quarter {}): a make-ksr step must come first",
                self.quarter
            ))
        })
    }

    pub(super) fn need_set(&self, step: &Step) -> Result<PathBuf, CliError> {
        self.set
            .clone()
            .ok_or_else(|| missing(step, "a medium (an export step first)"))
    }

    /// At the end: the PINs typed are removed; PINs people chose (an
    /// interactive run) and the PUKs with them too. An autopilot's random
    /// PINs stay, with the cards they open, for whoever explores the
    /// exercise's ceremony afterwards.
    pub(super) fn forget_pins(&self) -> Result<(), CliError> {
        let typed = self.dir.join("typed");
        if typed.exists() {
            std::fs::remove_dir_all(&typed).map_err(CliError::Output)?;
        }
        if self.interactive {
            for entry in std::fs::read_dir(&self.dir)
                .map_err(CliError::Output)?
                .flatten()
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                let secret = (name.starts_with("pins-") || name.starts_with("puks-"))
                    && name.ends_with(".toml");
                if secret {
                    durable::remove(&entry.path()).map_err(CliError::Output)?;
                }
            }
        }
        Ok(())
    }

    /// A file the engine rewrites for each command (PINs typed, words
    /// heard), mode 0600 in the exercise's own folder.
    pub(super) fn scratch(&self, name: &str) -> PathBuf {
        self.dir.join("typed").join(name)
    }
}

/// A step that needs something an earlier step should have made.
pub(super) fn missing(step: &Step, what: &str) -> CliError {
    CliError::Exercise(format!(
        "step {} ({}) needs {what}",
        step.number,
        step.action.name()
    ))
}
