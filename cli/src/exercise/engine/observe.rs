//! What a step showed, and whether it was what the scenario expects:
//! the signs in the audit entries it added, each step judged, each fault
//! found or missed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{Observed, World};
use crate::exercise::scenario::{Scenario, Step};
use crate::exercise::transcript::{AuditLine, FaultRecord, Hash, Signal, StepRecord};

/// Whether a step showed what the scenario expects, and both in words.
pub(super) fn judge(step: &Step, observed: &Observed) -> (bool, String, String) {
    let expect = &step.expect;
    let mut expected = if expect.killed {
        "the process killed".to_owned()
    } else {
        format!("exit {}", expect.exit)
    };
    if !expect.signs.is_empty() {
        expected.push_str(&format!(", showing {}", expect.signs.join(", ")));
    }
    let exit_ok = if expect.killed {
        observed.killed
    } else {
        !observed.killed && observed.exit == Some(expect.exit)
    };
    let missing: Vec<&String> = expect
        .signs
        .iter()
        .filter(|sign| !observed.signals.iter().any(|signal| shows(signal, sign)))
        .collect();
    let mut text = match (observed.killed, observed.exit) {
        (true, _) => "the process killed".to_owned(),
        (false, Some(code)) => format!("exit {code}"),
        (false, None) => "nothing run".to_owned(),
    };
    if !missing.is_empty() {
        text.push_str(&format!(
            ", without {}",
            missing
                .iter()
                .map(|sign| sign.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    (exit_ok && missing.is_empty(), expected, text)
}

/// Whether a signal is the sign: the same code or event, a code of that
/// family (`KSR-POLICY-SIG-HORIZON` for `KSR-POLICY-SIG-HORIZON.2`), or,
/// for a sign of several words, those words in a refusal's reason. (The
/// scenario check refuses signs too short to mean anything.)
pub(super) fn shows(signal: &Signal, sign: &str) -> bool {
    signal.sign == sign
        || signal
            .sign
            .strip_prefix(sign)
            .is_some_and(|rest| rest.starts_with('.'))
        || (sign.contains(' ') && signal.sign.contains(sign))
}

/// Each fault, found or missed where the scenario expects it.
pub(super) fn judge_faults(scenario: &Scenario, records: &[StepRecord]) -> Vec<FaultRecord> {
    let mut faults = Vec::new();
    for step in &scenario.steps {
        let (Some(fault), Some(detection)) = (step.fault, &step.detection) else {
            continue;
        };
        let by_ok = |signal: &Signal| detection.by.as_ref().is_none_or(|by| &signal.by == by);
        let at = records.get(detection.at - 1);
        let found = at.and_then(|record| {
            record
                .signals
                .iter()
                .find(|signal| shows(signal, &detection.sign) && by_ok(signal))
        });
        // Anyone who found it, anywhere after the injection.
        let anyone = records.iter().skip(step.number - 1).find_map(|record| {
            record
                .signals
                .iter()
                .find(|signal| shows(signal, &detection.sign))
                .map(|signal| (record.number, signal.by.clone()))
        });
        let name = fault.name();
        let check = if detection.check.is_empty() {
            detection.sign.clone()
        } else {
            detection.check.clone()
        };
        let (as_expected, detected, verdict) = match (found, anyone) {
            (Some(signal), _) => (
                true,
                Some((detection.at, signal.by.clone())),
                format!(
                    "{name}: detected at {check}, step {}, by {}",
                    detection.at, signal.by
                ),
            ),
            (None, Some((number, by))) => (
                false,
                Some((number, by.clone())),
                format!(
                    "{name}: missed by {} at step {}; {check} caught it at step {number}, by {by}",
                    detection.by.as_deref().unwrap_or("everyone"),
                    detection.at
                ),
            ),
            (None, None) => (
                false,
                None,
                format!(
                    "{name}: never detected ({check} expected at step {})",
                    detection.at
                ),
            ),
        };
        faults.push(FaultRecord {
            fault: name,
            injected_at: step.number,
            officer: step.officer.clone(),
            expected_at: detection.at,
            expected_by: detection.by.clone(),
            expected_sign: detection.sign.clone(),
            check,
            detected,
            as_expected,
            verdict,
        });
    }
    faults
}

/// The signals in one audit entry: its event, the codes it names, a
/// card's refusal.
pub(super) fn signals_of((line, entry): &(AuditLine, hsm::Entry)) -> Vec<Signal> {
    let tool = |sign: String| Signal {
        sign,
        by: "ceremony".into(),
    };
    let mut signals = vec![tool(line.event.clone())];
    for key in ["codes", "code"] {
        match entry.details.get(key) {
            Some(serde_json::Value::Array(codes)) => signals.extend(
                codes
                    .iter()
                    .filter_map(|code| code.as_str().map(|code| tool(code.to_owned()))),
            ),
            Some(serde_json::Value::String(code)) => signals.push(tool(code.clone())),
            _ => {}
        }
    }
    if let Some(serde_json::Value::String(reason)) = entry.details.get("reason") {
        signals.push(tool(reason.clone()));
    }
    if line.event == "wrong-pin"
        && entry
            .details
            .get("tries_left")
            .and_then(serde_json::Value::as_u64)
            == Some(0)
    {
        signals.push(tool("card-blocked".into()));
    }
    signals
}

impl World {
    /// How far each log reached before a step.
    pub(super) fn audit_marks(&self) -> [u64; 2] {
        // A log not made yet starts at 0; one that cannot be read credits
        // the step with none of its entries.
        let last = |path: PathBuf| {
            if !path.exists() {
                return 0;
            }
            hsm::read_audit_log(&path).map_or(u64::MAX, |entries| {
                entries.last().map_or(0, |entry| entry.seq)
            })
        };
        [
            last(self.ceremony().join("audit.log")),
            last(self.intake().join("audit.log")),
        ]
    }

    /// The entries each log gained since.
    pub(super) fn audit_since(&self, marks: &[u64; 2]) -> Vec<(AuditLine, hsm::Entry)> {
        let mut lines = Vec::new();
        for ((log, path), mark) in [
            ("signer", self.ceremony().join("audit.log")),
            ("intake", self.intake().join("audit.log")),
        ]
        .into_iter()
        .zip(marks)
        {
            let Ok(entries) = hsm::read_audit_log(&path) else {
                continue;
            };
            for entry in entries.into_iter().filter(|entry| entry.seq > *mark) {
                let mut details: Vec<String> = entry
                    .details
                    .iter()
                    .map(|(key, value)| match value {
                        serde_json::Value::String(text) => format!("{key}={text}"),
                        other => format!("{key}={other}"),
                    })
                    .collect();
                if let Some(actor) = &entry.actor {
                    details.insert(0, format!("card {} ({})", actor.card, actor.officer));
                }
                lines.push((
                    AuditLine {
                        log,
                        seq: entry.seq,
                        event: entry.event.clone(),
                        details: details.join(" "),
                    },
                    entry,
                ));
            }
        }
        lines
    }

    /// The signer's audit head, by `audit verify`.
    pub(super) fn audit_head(&self) -> Option<Hash> {
        let output = Command::new(&self.program)
            .args(["--json", "--config", &self.config(), "audit", "verify"])
            .stdin(Stdio::null())
            .output()
            .ok()?;
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
        Hash::from_hex(value.get("head")?.as_str()?)
    }
}
