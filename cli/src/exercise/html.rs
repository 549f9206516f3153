//! The transcript as one self-contained, printable HTML page: no script,
//! no outside resource; hex in unbreakable groups of eight; each step
//! kept on one page where it fits.

use std::fmt::Write as _;

use super::transcript::{Hash, Transcript};

const STYLE: &str = r#"
:root { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; color: #111; }
body { max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; border-bottom: 1px solid #999; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td, th { border: 1px solid #bbb; padding: .25rem .4rem; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #eee; }
.score { font-size: 1.3rem; font-weight: bold; padding: .5rem .8rem; border: 2px solid #333; display: inline-block; }
.ok { color: #0a6b1f; font-weight: bold; }
.bad { color: #a40000; font-weight: bold; }
.step { border: 1px solid #999; border-radius: 4px; padding: .5rem .8rem; margin: .8rem 0; break-inside: avoid; }
.step.bad-step { border: 2px solid #a40000; }
.step h3 { margin: .1rem 0 .4rem; font-size: 1.05rem; }
.hex { font-family: "DejaVu Sans Mono", monospace; display: flex; flex-wrap: wrap; gap: .1rem .5rem; }
.hex > span { white-space: nowrap; }
.words { font-style: italic; overflow-wrap: anywhere; }
pre { background: #f4f4f4; padding: .4rem; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 8.5pt; max-height: none; }
code { font-family: "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.signature { margin-top: 2rem; display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
.signature div { border-top: 1px solid #333; padding-top: .2rem; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 9.5pt; }
  pre { font-size: 7.5pt; }
  h2 { break-after: avoid; }
}
"#;

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A hash: hex in groups of eight that never break, then the words.
fn hash(hash: &Hash) -> String {
    let groups: String = hash
        .sha256
        .as_bytes()
        .chunks(8)
        .map(|group| format!("<span>{}</span>", escape(&String::from_utf8_lossy(group))))
        .collect();
    format!(
        "<div class=\"hex\">{groups}</div><div class=\"words\">{}</div>",
        escape(&hash.pgp_words)
    )
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "<span class=\"ok\">✔ as expected</span>"
    } else {
        "<span class=\"bad\">✘ not as expected</span>"
    }
}

/// The page.
pub fn page(transcript: &Transcript) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Exercise: {}</title><style>{STYLE}</style></head><body>",
        escape(&transcript.title)
    );
    let _ = write!(
        html,
        "<h1>Exercise: {}</h1><p>{}</p>",
        escape(&transcript.title),
        escape(&transcript.about)
    );
    let score = &transcript.score;
    let _ = write!(
        html,
        "<p class=\"score\" id=\"score\">Score: {} of {} ({}%)</p>\
         <p>{} of {} steps as expected; {} of {} faults detected as expected.</p>",
        score.points,
        score.possible,
        score.percent,
        score.steps_as_expected,
        transcript.steps.len(),
        score.faults_as_expected,
        transcript.faults.len()
    );
    let _ = write!(
        html,
        "<table><tr><th style=\"width:25%\">scenario</th><td><code>{}</code> ({})</td></tr>\
         <tr><th>ceremony</th><td>{}</td></tr><tr><th>directory</th><td><code>{}</code></td></tr>\
         <tr><th>time</th><td>{} to {}</td></tr></table>",
        escape(&transcript.scenario),
        transcript.mode,
        escape(&transcript.ceremony),
        escape(&transcript.dir),
        escape(&transcript.started),
        escape(&transcript.finished)
    );
    if let Some(head) = &transcript.audit_head {
        let _ = write!(
            html,
            "<h2>Audit head at the end</h2><div id=\"audit-head\">{}</div>",
            hash(head)
        );
    }
    html.push_str(
        "<h2>Participants</h2><table><tr><th style=\"width:25%\">role</th><th>person</th></tr>",
    );
    for (role, person) in &transcript.people {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(role),
            escape(person)
        );
    }
    html.push_str("</table>");
    if !transcript.faults.is_empty() {
        html.push_str(
            "<h2>Faults</h2><table id=\"faults\"><tr><th style=\"width:16%\">fault</th>\
             <th style=\"width:9%\">injected</th><th style=\"width:25%\">expected</th><th>reaction</th></tr>",
        );
        for fault in &transcript.faults {
            let _ = write!(
                html,
                "<tr><td>{}{}</td><td>step {}</td><td>step {}: <code>{}</code> by {}</td><td>{} {}</td></tr>",
                escape(fault.fault),
                fault
                    .officer
                    .as_ref()
                    .map(|officer| format!(" ({})", escape(officer)))
                    .unwrap_or_default(),
                fault.injected_at,
                fault.expected_at,
                escape(&fault.expected_sign),
                escape(fault.expected_by.as_deref().unwrap_or("anyone")),
                mark(fault.as_expected),
                escape(&fault.verdict)
            );
        }
        html.push_str("</table>");
    }
    html.push_str("<h2>Steps</h2>");
    for step in &transcript.steps {
        let roles: Vec<String> = step
            .roles
            .iter()
            .map(|(role, person)| format!("{} ({})", escape(role), escape(person)))
            .collect();
        let _ = write!(
            html,
            "<section class=\"step{}\" id=\"step-{}\"><h3>{}. {} — {}</h3><p>{}</p>",
            if step.as_expected { "" } else { " bad-step" },
            step.number,
            step.number,
            escape(step.action),
            roles.join(", "),
            escape(&step.say)
        );
        let _ = write!(
            html,
            "<p>{} at {} ({:.2} s){}. Expected: {}. Observed: {}.</p>",
            mark(step.as_expected),
            escape(&step.time),
            step.seconds,
            step.fault
                .map(|fault| format!("; fault injected: <b>{}</b>", escape(fault)))
                .unwrap_or_default(),
            escape(&step.expected),
            escape(&step.observed)
        );
        if !step.decisions.is_empty() {
            html.push_str("<ul>");
            for decision in &step.decisions {
                let _ = write!(html, "<li>{}</li>", escape(decision));
            }
            html.push_str("</ul>");
        }
        for (what, value) in &step.hashes {
            let _ = write!(html, "<p><b>{}</b></p>{}", escape(what), hash(value));
        }
        if !step.signals.is_empty() {
            let signals: Vec<String> = step
                .signals
                .iter()
                .map(|signal| {
                    format!(
                        "<code>{}</code> by {}",
                        escape(&signal.sign),
                        escape(&signal.by)
                    )
                })
                .collect();
            let _ = write!(html, "<p>Signals: {}</p>", signals.join(", "));
        }
        for command in &step.commands {
            let exit = match (command.killed, command.exit) {
                (true, _) => "killed".to_owned(),
                (false, Some(code)) => format!("exit {code}"),
                (false, None) => "no exit code".to_owned(),
            };
            let _ = write!(
                html,
                "<pre>$ {}\n{}[{}]</pre>",
                escape(&command.line),
                escape(&command.output),
                exit
            );
        }
        if !step.audit.is_empty() {
            html.push_str("<table><tr><th style=\"width:9%\">log</th><th style=\"width:7%\">#</th><th style=\"width:22%\">event</th><th>details</th></tr>");
            for line in &step.audit {
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    line.log,
                    line.seq,
                    escape(&line.event),
                    escape(&line.details)
                );
            }
            html.push_str("</table>");
        }
        html.push_str("</section>");
    }
    html.push_str(
        "<div class=\"signature\"><div>Ceremony Administrator: name, signature, date</div>\
         <div>Internal Witness: name, signature, date</div></div></body></html>\n",
    );
    html
}
