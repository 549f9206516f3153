//! The one renderer of both pages: a self-contained HTML document with
//! print CSS (A4), no script and no external resource. Every text is
//! escaped with the workspace's one escaping function.

use std::fmt::Write as _;

use super::model::{Blank, Body, Document, Field, Kind, Logged, Section, Step, Value};

/// The page's style.
const STYLE: &str = include_str!("paperwork.css");

/// Escapes text for the page.
fn escape(text: &str) -> String {
    ksr::xml_escape(text)
}

/// The document as one HTML page.
pub fn render(document: &Document) -> String {
    let mut page = String::with_capacity(64 * 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(page, "<title>{}</title>", escape(&document.title));
    let _ = writeln!(page, "<style>\n{STYLE}</style>\n</head>");
    let _ = writeln!(page, "<body class=\"{}\">", document.kind.name());
    let _ = writeln!(page, "<h1>{}</h1>", escape(&document.title));
    let _ = writeln!(
        page,
        "<p class=\"subtitle\">{}</p>",
        escape(&document.subtitle)
    );
    if document.rehearsal {
        page.push_str(
            "<p class=\"banner\">REHEARSAL: an exercise, not a production ceremony.</p>\n",
        );
    }
    for section in &document.before {
        section_html(&mut page, section);
    }
    let _ = writeln!(page, "<section id=\"steps\">\n<h2>Steps</h2>");
    page.push_str(match document.kind {
        Kind::Script => "<p class=\"note\">Do the steps in order. The IW initials each step and writes its time when it is done; a value that differs stops the ceremony until the CA decides, which the IW writes down.</p>\n",
        Kind::Record => "<p class=\"note\">The steps of the script, each with what the audit log recorded of it: the time of its first entry, the entries' numbers (see the entries below) and what they say. The initials are the witness's, by hand.</p>\n",
    });
    for (index, step) in document.steps.iter().enumerate() {
        step_html(&mut page, index + 1, step, document.kind);
    }
    page.push_str("</section>\n");
    for section in &document.after {
        section_html(&mut page, section);
    }
    page.push_str("<section id=\"signatures\">\n<h2>Signatures</h2>\n<div class=\"signatures\">\n");
    for role in &document.signatures {
        let _ = writeln!(
            page,
            "<div class=\"signature\"><b>{} ({})</b><br>Name<span class=\"line\"></span>Signature and date<span class=\"line\"></span></div>",
            escape(&role.title()),
            escape(&role.to_string())
        );
    }
    page.push_str("</div>\n</section>\n");
    let _ = writeln!(
        page,
        "<p class=\"footer\">ceremony {} {} — {} steps.</p>",
        env!("CARGO_PKG_VERSION"),
        document.kind.name(),
        document.steps.len()
    );
    page.push_str("</body>\n</html>\n");
    page
}

/// A section of facts or a table.
fn section_html(page: &mut String, section: &Section) {
    let _ = writeln!(page, "<section>\n<h2>{}</h2>", escape(&section.heading));
    if let Some(note) = &section.note {
        let _ = writeln!(page, "<p class=\"note\">{}</p>", escape(note));
    }
    match &section.body {
        Body::Fields(fields) => fields_html(page, "fields", fields),
        Body::Table {
            columns,
            widths,
            rows,
        } => {
            page.push_str("<table class=\"grid\">\n<colgroup>");
            for width in widths {
                let _ = write!(page, "<col style=\"width: {width}%\">");
            }
            page.push_str("</colgroup>\n<thead><tr>");
            for column in columns {
                let _ = write!(page, "<th>{}</th>", escape(column));
            }
            page.push_str("</tr></thead>\n<tbody>\n");
            for row in rows {
                page.push_str("<tr>");
                for cell in row {
                    let _ = write!(page, "<td>{}</td>", value_html(cell));
                }
                page.push_str("</tr>\n");
            }
            page.push_str("</tbody>\n</table>\n");
        }
    }
    page.push_str("</section>\n");
}

/// Labelled values as a two-column table.
fn fields_html(page: &mut String, class: &str, fields: &[Field]) {
    let _ = writeln!(page, "<table class=\"{class}\">");
    for field in fields {
        let _ = writeln!(
            page,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(&field.label),
            value_html(&field.value)
        );
    }
    page.push_str("</table>\n");
}

/// One step: its number, roles, instruction, command, values, and the
/// boxes for initials and time.
fn step_html(page: &mut String, number: usize, step: &Step, kind: Kind) {
    let _ = writeln!(
        page,
        "<div class=\"step\" id=\"step-{number}\">\n<div class=\"number\">{number}</div>\n<div class=\"body\">"
    );
    page.push_str("<div class=\"roles\">");
    for role in &step.roles {
        let _ = write!(
            page,
            "<span title=\"{}\">{}</span>",
            escape(&role.title()),
            escape(&role.to_string())
        );
    }
    page.push_str("</div>\n");
    let _ = writeln!(page, "<div class=\"title\">{}</div>", escape(&step.title));
    let _ = writeln!(page, "<p>{}</p>", escape(&step.instruction));
    if let Some(command) = &step.command {
        let _ = writeln!(page, "<pre class=\"command\">{}</pre>", escape(command));
    }
    if !step.compare.is_empty() {
        let fields: Vec<Field> = step
            .compare
            .iter()
            .map(|compare| compare.field.clone())
            .collect();
        fields_html(page, "compare", &fields);
    }
    if let Some(logged) = &step.logged {
        logged_html(page, logged);
    }
    page.push_str("</div>\n<div class=\"boxes\">\n");
    let time = match (
        kind,
        step.logged.as_ref().and_then(|logged| logged.time.as_ref()),
    ) {
        (Kind::Record, Some(time)) => format!("<span class=\"filled\">{}</span>", escape(time)),
        _ => String::new(),
    };
    let time_label = match kind {
        Kind::Script => "time",
        Kind::Record => "time (log)",
    };
    let _ = writeln!(
        page,
        "<div class=\"box\">initials</div>\n<div class=\"box\">{time_label}{time}</div>"
    );
    page.push_str("</div>\n</div>\n");
}

/// What the log says of a step.
fn logged_html(page: &mut String, logged: &Logged) {
    let _ = write!(
        page,
        "<div class=\"logged {}\"><span class=\"status\">{}</span>",
        logged.status.class(),
        escape(logged.status.text())
    );
    if !logged.entries.is_empty() {
        let numbers: Vec<String> = logged.entries.iter().map(ToString::to_string).collect();
        let _ = write!(
            page,
            "; audit entries <span class=\"mono\">{}</span>",
            escape(&numbers.join(", "))
        );
    }
    if !logged.notes.is_empty() {
        page.push_str("<ul>");
        for note in &logged.notes {
            let _ = write!(page, "<li>{}</li>", escape(note));
        }
        page.push_str("</ul>");
    }
    page.push_str("</div>\n");
}

/// A value's HTML.
fn value_html(value: &Value) -> String {
    match value {
        Value::Text(text) => escape(text),
        Value::Code(text) => format!("<code>{}</code>", escape(text)),
        Value::Hash { hex, words } => hash_html(hex, *words),
        Value::Blank(Blank::Line) => "<span class=\"blank\"></span>".into(),
        Value::Blank(Blank::Hash) => format!(
            "<span class=\"hexboxes\">{}</span>",
            "<span></span>".repeat(8)
        ),
    }
}

/// A hash in groups of eight hex digits and, when asked, its PGP words in
/// numbered groups of four (as the terminal prints them).
fn hash_html(hex_digest: &str, words: bool) -> String {
    let digits: Vec<char> = hex_digest.chars().collect();
    let groups: Vec<String> = digits
        .chunks(8)
        .map(|group| format!("<span>{}</span>", escape(&group.iter().collect::<String>())))
        .collect();
    let mut html = format!("<span class=\"hex\">{}</span>", groups.join(" "));
    if words && let Ok(bytes) = hex::decode(hex_digest) {
        let spoken = ksr::pgp_words(&bytes);
        let spoken: Vec<&str> = spoken.split_whitespace().collect();
        let numbered: Vec<String> = spoken
            .chunks(4)
            .enumerate()
            .map(|(index, group)| {
                format!(
                    "<span><b>{}.</b> {}</span>",
                    index + 1,
                    escape(&group.join(" "))
                )
            })
            .collect();
        let _ = write!(html, "<span class=\"words\">{}</span>", numbered.join(" "));
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_hashes_are_grouped() {
        assert_eq!(
            value_html(&Value::text("<a & \"b\">")),
            "&lt;a &amp; &quot;b&quot;&gt;"
        );
        let hex = "00".repeat(32);
        let html = value_html(&Value::spoken(&hex));
        assert_eq!(html.matches("<span>00000000</span>").count(), 8);
        assert_eq!(html.matches("<b>").count(), 8);
        assert!(
            html.contains("<b>1.</b> aardvark adroitness aardvark adroitness"),
            "{html}"
        );
    }
}
