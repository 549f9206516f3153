//! The document both pages are made of: facts, tables, and numbered steps
//! with their roles, the command to type, the values to compare and the
//! boxes for initials and times. `script` fills it from the ceremony's
//! parameters and leaves the boxes blank; `record` fills the same steps
//! from the audit log. One model, one renderer (`html`), two fillings.

use std::fmt;

//------------ Kind ----------------------------------------------------------

/// Which of the two pages a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Printed before the ceremony: blank boxes to fill in by hand.
    Script,
    /// Filled from the audit log after it, to sign and archive.
    Record,
}

impl Kind {
    /// Its name, in the JSON report and the page.
    pub fn name(self) -> &'static str {
        match self {
            Self::Script => "script",
            Self::Record => "record",
        }
    }
}

//------------ Role ----------------------------------------------------------

/// Who does a step: the roles of the root KSK ceremonies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Ceremony Administrator: leads, and types the signer's commands.
    Administrator,
    /// Internal Witness: watches, compares, initials every step.
    Witness,
    /// A crypto officer, by the roster's name (CO-1 …).
    Officer(String),
    /// System Administrator: the machines and the media.
    SystemAdministrator,
    /// A Safe Security Controller (SSC-1, SSC-2).
    SafeController(u8),
    /// The ZSK operator, on the phone.
    ZskOperator,
}

impl Role {
    /// The role's full name.
    pub fn title(&self) -> String {
        match self {
            Self::Administrator => "Ceremony Administrator".into(),
            Self::Witness => "Internal Witness".into(),
            Self::Officer(name) => format!("Crypto Officer {name}"),
            Self::SystemAdministrator => "System Administrator".into(),
            Self::SafeController(number) => format!("Safe Security Controller {number}"),
            Self::ZskOperator => "ZSK operator (by phone)".into(),
        }
    }
}

impl fmt::Display for Role {
    /// The short form printed on every step: CA, IW, CO-1, SA, SSC-1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Administrator => f.write_str("CA"),
            Self::Witness => f.write_str("IW"),
            Self::Officer(name) => f.write_str(name),
            Self::SystemAdministrator => f.write_str("SA"),
            Self::SafeController(number) => write!(f, "SSC-{number}"),
            Self::ZskOperator => f.write_str("ZSK"),
        }
    }
}

//------------ Value ---------------------------------------------------------

/// A value on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Plain text.
    Text(String),
    /// Monospace text: a serial, a path, an id.
    Code(String),
    /// A SHA-256 in hex, shown in groups of eight digits that never
    /// break, and with `words` also as numbered PGP words.
    Hash {
        /// The 64 hex digits.
        hex: String,
        /// Whether the PGP words are shown too.
        words: bool,
    },
    /// A box to write in by hand.
    Blank(Blank),
}

impl Value {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// Monospace text.
    pub fn code(text: impl Into<String>) -> Self {
        Self::Code(text.into())
    }

    /// A hash shown in hex and as PGP words, to read aloud.
    pub fn spoken(hex: impl Into<String>) -> Self {
        Self::Hash {
            hex: hex.into(),
            words: true,
        }
    }

    /// A hash shown in hex only.
    pub fn hex(hex: impl Into<String>) -> Self {
        Self::Hash {
            hex: hex.into(),
            words: false,
        }
    }

    /// An optional hash, or a dash.
    pub fn hex_or_none(hex: Option<&str>, none: &str) -> Self {
        hex.map_or_else(|| Self::text(none), Self::hex)
    }
}

/// What a hand-filled box is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blank {
    /// A line of text.
    Line,
    /// A SHA-256: eight boxes of eight hex digits.
    Hash,
}

/// A labelled value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// What it is.
    pub label: String,
    /// The value.
    pub value: Value,
}

impl Field {
    /// A field.
    pub fn new(label: impl Into<String>, value: Value) -> Self {
        Self {
            label: label.into(),
            value,
        }
    }
}

//------------ Step ----------------------------------------------------------

/// Which step a step is, so that the record knows which log entries
/// belong to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKey {
    /// The room opened, attendance.
    Open,
    /// The safes opened, the cards and the signer taken out.
    Safe,
    /// The offline signer started.
    Boot,
    /// The audit log's chain and head checked.
    AuditHead,
    /// The HSM's keys shown.
    Inventory,
    /// The medium loaded and the transfer set verified.
    Load,
    /// The KSR's words read over the phone and compared.
    Words,
    /// One officer's card.
    Card(String),
    /// The HSM activated, the SKR signed and written, the HSM sealed.
    Signed,
    /// The closing entry and the audit head written down.
    Head,
    /// The SKR on the medium, back to the intake.
    Media,
    /// The cards and the signer back into the safes.
    Return,
    /// The end: signatures.
    Close,
}

/// Where a hand-written value of a step goes, so that the record can fill
/// it from the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The SKR's SHA-256 as the signer printed it.
    SkrSha256,
    /// The audit log's head after the closing entry.
    AuditHead,
}

/// A value to compare, or to write down, in a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compare {
    /// The value.
    pub field: Field,
    /// For a value written down by hand: which, for the record to fill.
    pub slot: Option<Slot>,
}

/// What the audit log says of a step, in the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    /// How the step went.
    pub status: Status,
    /// The time of its first entry.
    pub time: Option<String>,
    /// The sequence numbers of its entries.
    pub entries: Vec<u64>,
    /// What the entries record, line by line.
    pub notes: Vec<String>,
}

/// How a step went, as the log tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Recorded, and it went as planned.
    Done,
    /// Recorded with a refusal or a failure.
    Refused,
    /// Not reached: the operation ended before it.
    NotReached,
    /// Nothing the signer records: the initialled script is the record.
    NotLogged,
    /// An officer who presented no card in this operation.
    NotPresented,
}

impl Status {
    /// Its words on the page.
    pub fn text(self) -> &'static str {
        match self {
            Self::Done => "in the log",
            Self::Refused => "refused or failed: see the log",
            Self::NotReached => "not reached",
            Self::NotLogged => "not in the audit log: the initialled script is its record",
            Self::NotPresented => "no card presented",
        }
    }

    /// Its class in the page's style.
    pub fn class(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Refused => "refused",
            Self::NotReached | Self::NotPresented => "missing",
            Self::NotLogged => "manual",
        }
    }
}

/// One numbered step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Which step.
    pub key: StepKey,
    /// Who does it.
    pub roles: Vec<Role>,
    /// Its title.
    pub title: String,
    /// What to do.
    pub instruction: String,
    /// The command to type, if any.
    pub command: Option<String>,
    /// The values to compare or write down.
    pub compare: Vec<Compare>,
    /// What the log says (the record only).
    pub logged: Option<Logged>,
}

//------------ Document ------------------------------------------------------

/// A section of facts or a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Its heading.
    pub heading: String,
    /// A sentence under the heading.
    pub note: Option<String>,
    /// Its content.
    pub body: Body,
}

/// What a section holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// Labelled values.
    Fields(Vec<Field>),
    /// A table; `widths` are the columns' shares of the page, in percent.
    Table {
        /// The column headings.
        columns: Vec<String>,
        /// The columns' widths in percent.
        widths: Vec<u8>,
        /// The rows.
        rows: Vec<Vec<Value>>,
    },
}

/// A whole page: the sections before the steps, the steps, the sections
/// after them, and the signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Script or record.
    pub kind: Kind,
    /// The title.
    pub title: String,
    /// The line under it.
    pub subtitle: String,
    /// A rehearsal says so at the top.
    pub rehearsal: bool,
    /// Before the steps.
    pub before: Vec<Section>,
    /// The steps.
    pub steps: Vec<Step>,
    /// After the steps.
    pub after: Vec<Section>,
    /// Who signs at the end.
    pub signatures: Vec<Role>,
}
