//! Scenario files: a tabletop exercise as TOML (README "Tabletop
//! exercises" documents the format). Everything is checked before the
//! first step runs, and every error names its line and column: a role
//! nobody plays, an action that does not exist, a fault that does not fit
//! its step, an officer who is absent since their card was lost, a step
//! id another step waits for that does not exist.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// The roles of a ceremony, as the root KSK ceremonies name them (the
/// crypto officers are CO-1 … CO-n).
pub const ROLES: &[(&str, &str)] = &[
    ("CA", "Ceremony Administrator"),
    ("IW", "Internal Witness"),
    ("SA", "System Administrator"),
    ("SSC", "Safe Security Controller"),
    ("ZSK", "ZSK operator"),
    ("AUD", "Auditor"),
];

/// The largest scenario file read, and the most steps and officers.
pub const MAX_BYTES: usize = 256 * 1024;
const MAX_STEPS: usize = 500;
const MAX_OFFICERS: u8 = 20;

/// What a step makes the ceremony do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `ceremony init --rehearsal`: the cards, the HSM, the first KSK.
    Init,
    /// `ceremony intake init` on the online side.
    IntakeInit,
    /// `ceremony intake pin` with a quorum: the signer trusts that intake.
    IntakePin,
    /// `ceremony intake policy`: the signer's policy carried to the
    /// intake after a quorum changed it.
    IntakePolicy,
    /// `ceremony zsk make-ksr`: the next quarter's KSR (a new quarter).
    MakeKsr,
    /// `ceremony ksr submit --server` to the intake over mutual TLS.
    Submit,
    /// `ceremony intake export` onto a new medium.
    Export,
    /// The ZSK operator reads the KSR's hash as PGP words over the phone.
    ReadWords,
    /// `ceremony sign --media` with the officers' cards, after the CA
    /// compared the words.
    Sign,
    /// `ceremony intake import` of the medium back online.
    Import,
    /// `ceremony skr fetch --server`: the ZSK operator takes the SKR.
    Fetch,
    /// `ceremony skr check` of the SKR against its KSR.
    SkrCheck,
    /// `ceremony audit verify`.
    AuditVerify,
    /// `ceremony inventory`: keys, tags and the DS for the parent.
    Inventory,
    /// `ceremony keygen` with a quorum: the next KSK.
    Keygen,
    /// `ceremony ksk promote` with a quorum, after the revoke quarter.
    Promote,
    /// `ceremony reshare` with a quorum: a new card set, same secret.
    Reshare,
    /// `ceremony rekey` with a quorum: a new secret and a new card set.
    Rekey,
    /// `ceremony card verify`: an officer checks their PIN.
    CardVerify,
    /// `ceremony card unblock`: the PUK and a new PIN.
    CardUnblock,
    /// A fault: someone alters the KSR on the medium.
    TamperKsr,
    /// A fault: someone swaps the medium for one carrying another KSR.
    SwapKsr,
    /// A fault: an officer's card is lost; the officer is absent until the
    /// next card set.
    LoseCard,
}

impl Action {
    const ALL: [(&'static str, Self); 23] = [
        ("init", Self::Init),
        ("intake-init", Self::IntakeInit),
        ("intake-pin", Self::IntakePin),
        ("intake-policy", Self::IntakePolicy),
        ("make-ksr", Self::MakeKsr),
        ("submit", Self::Submit),
        ("export", Self::Export),
        ("read-words", Self::ReadWords),
        ("sign", Self::Sign),
        ("import", Self::Import),
        ("fetch", Self::Fetch),
        ("skr-check", Self::SkrCheck),
        ("audit-verify", Self::AuditVerify),
        ("inventory", Self::Inventory),
        ("keygen", Self::Keygen),
        ("promote", Self::Promote),
        ("reshare", Self::Reshare),
        ("rekey", Self::Rekey),
        ("card-verify", Self::CardVerify),
        ("card-unblock", Self::CardUnblock),
        ("tamper-ksr", Self::TamperKsr),
        ("swap-ksr", Self::SwapKsr),
        ("lose-card", Self::LoseCard),
    ];

    /// Its name in a scenario.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, action)| *action == self)
            .map_or("?", |(name, _)| name)
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, action)| *action)
    }

    /// Whether k officers present their cards for it.
    pub fn needs_quorum(self) -> bool {
        matches!(
            self,
            Self::IntakePin
                | Self::Sign
                | Self::Keygen
                | Self::Promote
                | Self::Reshare
                | Self::Rekey
        )
    }

    /// Whether it concerns one officer's card.
    fn needs_officer(self) -> bool {
        matches!(self, Self::CardVerify | Self::CardUnblock | Self::LoseCard)
    }

    /// The fault it injects by itself, if it is one.
    pub fn fault(self) -> Option<Fault> {
        match self {
            Self::TamperKsr => Some(Fault::TamperedKsr),
            Self::SwapKsr => Some(Fault::SwappedKsr),
            Self::LoseCard => Some(Fault::LostCard),
            _ => None,
        }
    }
}

/// A fault, injected by a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An officer types a wrong PIN.
    WrongPin,
    /// An officer types wrong PINs until the card blocks.
    BlockedCard,
    /// A card is lost (action `lose-card`).
    LostCard,
    /// The KSR on the medium was altered (action `tamper-ksr`).
    TamperedKsr,
    /// The medium was swapped (action `swap-ksr`).
    SwappedKsr,
    /// An officer presents a card of another ceremony.
    ForeignCard,
    /// Someone presents a card made to look like an officer's: its serial
    /// and holder, its own key and share.
    ForgedCard,
    /// An officer presents their card of a retired card set.
    RetiredCard,
    /// The HSM's self-test fails at activation.
    HsmSelfTest,
    /// The power fails in the middle of signing.
    PowerCut,
    /// The activation attempt expires.
    AttemptExpires,
    /// The signer's clock is far from the KSR's quarter.
    ClockSkew,
}

impl Fault {
    const ALL: [(&'static str, Self); 12] = [
        ("wrong-pin", Self::WrongPin),
        ("blocked-card", Self::BlockedCard),
        ("lost-card", Self::LostCard),
        ("tampered-ksr", Self::TamperedKsr),
        ("swapped-ksr", Self::SwappedKsr),
        ("foreign-card", Self::ForeignCard),
        ("forged-card", Self::ForgedCard),
        ("retired-card", Self::RetiredCard),
        ("hsm-self-test", Self::HsmSelfTest),
        ("power-cut", Self::PowerCut),
        ("attempt-expires", Self::AttemptExpires),
        ("clock-skew", Self::ClockSkew),
    ];

    /// Its name in a scenario and the transcript.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, fault)| *fault == self)
            .map_or("?", |(name, _)| name)
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, fault)| *fault)
    }

    /// The actions a `fault = …` of this kind can modify.
    fn fits(self, action: Action) -> bool {
        match self {
            Self::WrongPin => matches!(action, Action::CardVerify) || action.needs_quorum(),
            Self::BlockedCard => action == Action::CardVerify,
            Self::ForeignCard | Self::ForgedCard | Self::RetiredCard => action.needs_quorum(),
            Self::HsmSelfTest | Self::PowerCut | Self::AttemptExpires => action.needs_quorum(),
            Self::ClockSkew => action == Action::Sign,
            // Only by their own actions.
            Self::LostCard | Self::TamperedKsr | Self::SwappedKsr => false,
        }
    }

    /// Whether the fault names the officer it happens to.
    fn needs_officer(self) -> bool {
        matches!(
            self,
            Self::WrongPin
                | Self::BlockedCard
                | Self::LostCard
                | Self::ForeignCard
                | Self::ForgedCard
                | Self::RetiredCard
        )
    }
}

/// A checked scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name (the built-in's, or the file's stem).
    pub name: String,
    /// Its title.
    pub title: String,
    /// What it rehearses.
    pub about: String,
    /// The ceremony's parameters.
    pub ceremony: Parameters,
    /// Role to person.
    pub people: BTreeMap<String, String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// The ceremony's parameters.
#[derive(Clone, Debug)]
pub struct Parameters {
    /// The zone.
    pub zone: String,
    /// The KSK algorithm (`init --algorithm`).
    pub algorithm: String,
    /// How many officers (cards).
    pub officers: u8,
    /// How many of them activate the HSM.
    pub threshold: u8,
    /// `soft` or `softhsm2`.
    pub backend: String,
    /// The first quarter's ceremony day, RFC 3339 [default: today].
    pub start: Option<ksr::Timestamp>,
}

/// One checked step.
#[derive(Clone, Debug)]
pub struct Step {
    /// 1 for the first.
    pub number: usize,
    /// Its id, if others refer to it.
    pub id: Option<String>,
    /// Who acts.
    pub roles: Vec<String>,
    /// The instruction, as the script prints it.
    pub say: String,
    /// What it makes the ceremony do.
    pub action: Action,
    /// The officers who present their cards, in order.
    pub officers: Vec<String>,
    /// The officer a card step or a fault concerns.
    pub officer: Option<String>,
    /// The signing schema (`sign --schema`).
    pub schema: Option<String>,
    /// The fault injected by this step, if any.
    pub fault: Option<Fault>,
    /// Where and how that fault must be detected.
    pub detection: Option<Detection>,
    /// What must be observed.
    pub expect: Expect,
}

/// The detection of a fault the scenario expects.
#[derive(Clone, Debug)]
pub struct Detection {
    /// The step number it must be detected at.
    pub at: usize,
    /// Who must detect it: a role, or `ceremony` (the tool).
    pub by: Option<String>,
    /// The sign: a refusal code, an audit event, or words of a card's
    /// refusal.
    pub sign: String,
    /// Where, in words ("the out-of-band word check").
    pub check: String,
}

/// What a step must show.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// The exit code [default 0].
    pub exit: i32,
    /// The process is killed (a power cut).
    pub killed: bool,
    /// Signs that must appear: codes, audit events, refusal words.
    pub signs: Vec<String>,
}

/// A scenario that cannot run, with the position of the first problem.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}:{line}:{column}: {message}")]
pub struct ScenarioError {
    /// The file (or built-in name).
    pub source_name: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl ScenarioError {
    /// A file over [`MAX_BYTES`], refused before it is read.
    pub fn too_large(source_name: &str) -> Self {
        Self {
            source_name: source_name.to_owned(),
            line: 1,
            column: 1,
            message: format!("the file is larger than {MAX_BYTES} bytes"),
        }
    }
}

//------------ The file's shape ---------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    title: String,
    #[serde(default)]
    about: String,
    ceremony: Spanned<RawParameters>,
    #[serde(rename = "participant", default)]
    participants: Vec<RawParticipant>,
    #[serde(rename = "step", default)]
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameters {
    #[serde(default = "root")]
    zone: String,
    #[serde(default = "rsasha256")]
    algorithm: Spanned<String>,
    officers: Spanned<u8>,
    threshold: Spanned<u8>,
    #[serde(default = "soft")]
    backend: Spanned<String>,
    start: Option<Spanned<String>>,
}

fn root() -> String {
    ".".into()
}
fn rsasha256() -> Spanned<String> {
    Spanned::new(0..0, "rsasha256".into())
}
fn soft() -> Spanned<String> {
    Spanned::new(0..0, "soft".into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParticipant {
    role: Spanned<String>,
    name: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Option<Spanned<String>>,
    role: Spanned<OneOrMany>,
    say: String,
    action: Spanned<String>,
    #[serde(default)]
    officers: Option<Spanned<Vec<String>>>,
    officer: Option<Spanned<String>>,
    schema: Option<String>,
    fault: Option<Spanned<String>>,
    detected: Option<Spanned<RawDetection>>,
    #[serde(default)]
    expect: Option<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetection {
    at: Option<Spanned<String>>,
    by: Option<Spanned<String>>,
    sign: String,
    #[serde(default)]
    check: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    exit: i32,
    #[serde(default)]
    killed: bool,
    #[serde(default)]
    signs: Vec<String>,
}

//------------ Parsing and checking -----------------------------------------

/// Parses and checks a scenario; `source_name` names it in errors.
///
/// # Errors
///
/// Not TOML, not a scenario, or a step that cannot run as written.
pub fn parse(source_name: &str, name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let at = |span: Range<usize>, message: String| {
        let (line, column) = position(text, span.start);
        ScenarioError {
            source_name: source_name.to_owned(),
            line,
            column,
            message,
        }
    };
    if text.len() > MAX_BYTES {
        return Err(ScenarioError::too_large(source_name));
    }
    let raw: RawScenario = toml::from_str(text)
        .map_err(|err| at(err.span().unwrap_or(0..0), err.message().trim().to_owned()))?;

    // The ceremony.
    let ceremony_span = raw.ceremony.span();
    let parameters = raw.ceremony.into_inner();
    let officers = *parameters.officers.get_ref();
    let threshold = *parameters.threshold.get_ref();
    if officers == 0 || officers > MAX_OFFICERS {
        return Err(at(
            parameters.officers.span(),
            format!("officers must be 1 to {MAX_OFFICERS}"),
        ));
    }
    if threshold == 0 || threshold > officers {
        return Err(at(
            parameters.threshold.span(),
            format!("threshold must be 1 to officers ({officers})"),
        ));
    }
    if !["rsasha256", "ecdsap256sha256", "ed25519"]
        .contains(&parameters.algorithm.get_ref().as_str())
    {
        return Err(at(
            parameters.algorithm.span(),
            format!(
                "unknown algorithm {:?}: rsasha256, ecdsap256sha256 or ed25519",
                parameters.algorithm.get_ref()
            ),
        ));
    }
    if !["soft", "softhsm2"].contains(&parameters.backend.get_ref().as_str()) {
        return Err(at(
            parameters.backend.span(),
            format!(
                "unknown backend {:?}: soft or softhsm2",
                parameters.backend.get_ref()
            ),
        ));
    }
    let start = match &parameters.start {
        None => None,
        Some(start) => Some(
            ksr::Timestamp::parse_document(start.get_ref()).map_err(|err| {
                at(
                    start.span(),
                    format!("start is not an RFC 3339 time such as 2027-01-10T00:00:00Z: {err}"),
                )
            })?,
        ),
    };

    // The participants: each known role at most once, every officer.
    let officer_roles: Vec<String> = (1..=officers).map(|n| format!("CO-{n}")).collect();
    let mut people = BTreeMap::new();
    for participant in raw.participants {
        let role = participant.role.get_ref();
        let known = ROLES.iter().any(|(known, _)| known == role) || officer_roles.contains(role);
        if !known {
            return Err(at(
                participant.role.span(),
                format!(
                    "unknown role {role:?}: {}, or CO-1 … CO-{officers}",
                    ROLES
                        .iter()
                        .map(|(role, _)| *role)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if people
            .insert(role.clone(), participant.name.clone())
            .is_some()
        {
            return Err(at(
                participant.role.span(),
                format!("{role} is played by two participants"),
            ));
        }
    }
    for role in ["CA", "ZSK"]
        .iter()
        .map(|role| (*role).to_owned())
        .chain(officer_roles.iter().cloned())
    {
        if !people.contains_key(&role) {
            return Err(at(
                ceremony_span.clone(),
                format!("nobody plays {role}: add a [[participant]] with role = \"{role}\""),
            ));
        }
    }

    if raw.steps.is_empty() {
        return Err(at(0..0, "the scenario has no [[step]]".into()));
    }
    if raw.steps.len() > MAX_STEPS {
        return Err(at(0..0, format!("more than {MAX_STEPS} steps")));
    }
    // Step ids first: a detection may name a later step.
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for (index, step) in raw.steps.iter().enumerate() {
        if let Some(id) = &step.get_ref().id
            && ids.insert(id.get_ref().clone(), index + 1).is_some()
        {
            return Err(at(
                id.span(),
                format!("two steps have the id {:?}", id.get_ref()),
            ));
        }
    }

    let mut steps = Vec::new();
    // Officers whose card is lost, and the step that lost it.
    let mut absent: BTreeMap<String, usize> = BTreeMap::new();
    let mut order = Order::default();
    let mut initialized = false;
    for (index, spanned) in raw.steps.into_iter().enumerate() {
        let number = index + 1;
        let step_span = spanned.span();
        let raw_step = spanned.into_inner();
        let action = Action::from_name(raw_step.action.get_ref()).ok_or_else(|| {
            at(
                raw_step.action.span(),
                format!(
                    "unknown action {:?}: {}",
                    raw_step.action.get_ref(),
                    Action::ALL
                        .iter()
                        .map(|(name, _)| *name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let role_span = raw_step.role.span();
        let roles = raw_step.role.into_inner().into_vec();
        if roles.is_empty() {
            return Err(at(role_span, "a step needs at least one role".into()));
        }
        for role in &roles {
            if !people.contains_key(role) {
                return Err(at(
                    role_span.clone(),
                    format!("unknown role {role:?}: no participant plays it"),
                ));
            }
            if let Some(lost) = absent.get(role)
                && !matches!(action, Action::Reshare | Action::Rekey)
            {
                return Err(at(
                    role_span.clone(),
                    format!(
                        "{role} is absent: their card was lost at step {lost}, and no new card set was issued since"
                    ),
                ));
            }
        }
        if (action == Action::Init) == initialized {
            return Err(at(
                raw_step.action.span(),
                if initialized {
                    "the ceremony is made once: a second init".into()
                } else {
                    "the first step that uses the ceremony must come after init".into()
                },
            ));
        }
        initialized = true;
        // What the step needs an earlier step to have made.
        if let Some(needed) = order.needs(action) {
            return Err(at(
                raw_step.action.span(),
                format!("{} needs {needed} first", action.name()),
            ));
        }
        order.did(action);

        let check_officer = |name: &str, span: Range<usize>| -> Result<(), ScenarioError> {
            if !officer_roles.iter().any(|role| role == name) {
                return Err(at(
                    span,
                    format!("{name:?} is not an officer of this ceremony (CO-1 … CO-{officers})"),
                ));
            }
            if let Some(lost) = absent.get(name) {
                return Err(at(
                    span,
                    format!(
                        "{name} is absent: their card was lost at step {lost}, and no new card set was issued since"
                    ),
                ));
            }
            Ok(())
        };

        // Who presents.
        let officers_list = match raw_step.officers {
            Some(list) if action.needs_quorum() => {
                let span = list.span();
                let list = list.into_inner();
                if list.is_empty() {
                    return Err(at(span, "officers = [] presents no card".into()));
                }
                let mut seen = BTreeSet::new();
                for name in &list {
                    check_officer(name, span.clone())?;
                    if !seen.insert(name.clone()) {
                        return Err(at(span.clone(), format!("{name} is listed twice")));
                    }
                }
                list
            }
            Some(list) => {
                return Err(at(
                    list.span(),
                    format!("{} takes no officers (it needs no quorum)", action.name()),
                ));
            }
            None if action.needs_quorum() => {
                return Err(at(
                    step_span,
                    format!(
                        "{} needs a quorum: add officers = [\"CO-1\", …] ({threshold} or more)",
                        action.name()
                    ),
                ));
            }
            None => Vec::new(),
        };

        // The fault.
        let fault = match &raw_step.fault {
            Some(name) => {
                if action.fault().is_some() {
                    return Err(at(
                        name.span(),
                        format!(
                            "{} is a fault by itself; it takes no fault =",
                            action.name()
                        ),
                    ));
                }
                let fault = Fault::from_name(name.get_ref()).ok_or_else(|| {
                    at(
                        name.span(),
                        format!(
                            "unknown fault {:?}: {}",
                            name.get_ref(),
                            Fault::ALL
                                .iter()
                                .map(|(name, _)| *name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
                if fault == Fault::RetiredCard && !order.new_cards {
                    return Err(at(
                        name.span(),
                        "retired-card needs a reshare or rekey first: no card set is retired yet"
                            .into(),
                    ));
                }
                if !fault.fits(action) {
                    return Err(at(
                        name.span(),
                        format!(
                            "the fault {} cannot happen in {}",
                            fault.name(),
                            action.name()
                        ),
                    ));
                }
                Some(fault)
            }
            None => action.fault(),
        };
        let officer = match raw_step.officer {
            Some(officer) => {
                check_officer(officer.get_ref(), officer.span())?;
                if action.needs_quorum() && !officers_list.contains(officer.get_ref()) {
                    return Err(at(
                        officer.span(),
                        format!(
                            "{} does not present in this step (officers = …)",
                            officer.get_ref()
                        ),
                    ));
                }
                Some(officer.into_inner())
            }
            None if action.needs_officer() || fault.is_some_and(Fault::needs_officer) => {
                return Err(at(
                    step_span,
                    "this step needs officer = \"CO-…\": whose card it concerns".into(),
                ));
            }
            None => None,
        };
        if action == Action::LoseCard
            && let Some(officer) = &officer
        {
            absent.insert(officer.clone(), number);
        }
        if matches!(action, Action::Reshare | Action::Rekey) {
            absent.clear();
        }

        let detection = match raw_step.detected {
            Some(detected) if fault.is_none() => {
                return Err(at(
                    detected.span(),
                    "detected = … belongs to a step that injects a fault".into(),
                ));
            }
            Some(detected) => {
                let span = detected.span();
                let detected = detected.into_inner();
                check_sign(&detected.sign).map_err(|message| at(span.clone(), message))?;
                let step_at = match &detected.at {
                    None => number,
                    Some(id) => *ids.get(id.get_ref()).ok_or_else(|| {
                        at(id.span(), format!("no step has the id {:?}", id.get_ref()))
                    })?,
                };
                if step_at < number {
                    return Err(at(
                        detected.at.as_ref().map_or(0..0, Spanned::span),
                        "a fault cannot be detected before it is injected".into(),
                    ));
                }
                if let Some(by) = &detected.by
                    && by.get_ref() != "ceremony"
                    && !people.contains_key(by.get_ref())
                {
                    return Err(at(
                        by.span(),
                        format!(
                            "unknown role {:?}: no participant plays it (or \"ceremony\", the tool)",
                            by.get_ref()
                        ),
                    ));
                }
                Some(Detection {
                    at: step_at,
                    by: detected.by.map(Spanned::into_inner),
                    sign: detected.sign,
                    check: detected.check,
                })
            }
            None if fault.is_some() => {
                return Err(at(
                    step_span,
                    "a step that injects a fault says where it must be detected: detected = { sign = \"…\" }".into(),
                ));
            }
            None => None,
        };
        let expect = match raw_step.expect {
            None => Expect::default(),
            Some(expect) => {
                let span = expect.span();
                let expect = expect.into_inner();
                for sign in &expect.signs {
                    check_sign(sign).map_err(|message| at(span.clone(), message))?;
                }
                Expect {
                    exit: expect.exit,
                    killed: expect.killed,
                    signs: expect.signs,
                }
            }
        };
        steps.push(Step {
            number,
            id: raw_step.id.map(Spanned::into_inner),
            roles,
            say: raw_step.say,
            action,
            officers: officers_list,
            officer,
            schema: raw_step.schema,
            fault,
            detection,
            expect,
        });
    }
    Ok(Scenario {
        name: name.to_owned(),
        title: raw.title,
        about: raw.about,
        ceremony: Parameters {
            zone: parameters.zone,
            algorithm: parameters.algorithm.into_inner(),
            officers,
            threshold,
            backend: parameters.backend.into_inner(),
            start,
        },
        people,
        steps,
    })
}

/// What the steps so far have made, for the order of the next one.
#[derive(Default)]
struct Order {
    intake: bool,
    ksr: bool,
    submitted: bool,
    exported: bool,
    words: bool,
    signed: bool,
    keygen: bool,
    new_cards: bool,
}

impl Order {
    /// What `action` needs that no step has made yet.
    fn needs(&self, action: Action) -> Option<&'static str> {
        use Action as A;
        let missing = |made: bool, what| (!made).then_some(what);
        match action {
            A::IntakePin | A::IntakePolicy => missing(self.intake, "an intake-init"),
            A::Submit => {
                missing(self.intake, "an intake-init").or_else(|| missing(self.ksr, "a make-ksr"))
            }
            A::ReadWords => missing(self.ksr, "a make-ksr"),
            A::Export | A::Fetch => missing(self.submitted, "a submit this quarter"),
            A::TamperKsr | A::SwapKsr => missing(self.exported, "an export this quarter"),
            A::Sign => missing(self.exported, "an export this quarter")
                .or_else(|| missing(self.words, "a read-words this quarter")),
            A::Import | A::SkrCheck => missing(self.signed, "a sign step"),
            A::Promote => missing(self.keygen, "a keygen"),
            _ => None,
        }
    }

    /// `action` ran (as far as the order goes: a step that fails at run
    /// time is the scenario's to expect).
    fn did(&mut self, action: Action) {
        match action {
            Action::IntakeInit => self.intake = true,
            Action::MakeKsr => {
                self.ksr = true;
                self.submitted = false;
                self.exported = false;
                self.words = false;
            }
            Action::Submit => self.submitted = true,
            Action::Export => self.exported = true,
            Action::ReadWords => self.words = true,
            Action::Sign => self.signed = true,
            Action::Keygen => self.keygen = true,
            Action::Reshare | Action::Rekey => self.new_cards = true,
            _ => {}
        }
    }
}

/// A sign short enough to match anything is no sign.
fn check_sign(sign: &str) -> Result<(), String> {
    if sign.trim().len() < 4 {
        Err(format!(
            "the sign {sign:?} is too short to mean anything: a code, an event or words of a refusal"
        ))
    } else {
        Ok(())
    }
}

/// The 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "t"
[ceremony]
officers = 3
threshold = 2
[[participant]]
role = "CA"
name = "Ann"
[[participant]]
role = "ZSK"
name = "Zed"
[[participant]]
role = "CO-1"
name = "One"
[[participant]]
role = "CO-2"
name = "Two"
[[participant]]
role = "CO-3"
name = "Three"
[[step]]
role = "CA"
say = "init"
action = "init"
"#;

    fn error(text: &str) -> ScenarioError {
        parse("s.toml", "s", text).unwrap_err()
    }

    #[test]
    fn a_good_scenario_parses() {
        let scenario = parse("s.toml", "s", GOOD).unwrap();
        assert_eq!(scenario.steps.len(), 1);
        assert_eq!(scenario.people["CO-2"], "Two");
    }

    #[test]
    fn errors_name_line_and_column() {
        let bad =
            format!("{GOOD}[[step]]\nrole = \"XX\"\nsay = \"x\"\naction = \"audit-verify\"\n");
        let err = error(&bad);
        assert_eq!((err.line, err.column), (26, 8), "{err}");
        assert!(err.message.contains("unknown role \"XX\""), "{err}");

        let bad = format!("{GOOD}[[step]]\nrole = \"CA\"\nsay = \"x\"\naction = \"dance\"\n");
        let err = error(&bad);
        assert_eq!((err.line, err.column), (28, 10), "{err}");
        assert!(err.message.contains("unknown action"), "{err}");

        let err = error("title = \"t\"\n[ceremony\n");
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn an_absent_officer_cannot_act() {
        let bad = format!(
            "{GOOD}[[step]]\nrole = \"CO-3\"\nsay = \"x\"\naction = \"lose-card\"\nofficer = \"CO-3\"\ndetected = {{ sign = \"generation-committed\" }}\n[[step]]\nrole = \"CA\"\nsay = \"x\"\naction = \"keygen\"\nofficers = [\"CO-1\", \"CO-3\"]\n"
        );
        let err = error(&bad);
        assert_eq!((err.line, err.column), (35, 12), "{err}");
        assert!(err.message.contains("CO-3 is absent"), "{err}");
    }
}
