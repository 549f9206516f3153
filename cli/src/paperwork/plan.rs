//! The ceremony's parameters and the steps made of them: what the script
//! prints and the record fills in (`record`).

use super::model::{Body, Compare, Field, Role, Section, Slot, Step, StepKey, Value};

//------------ Parameters ----------------------------------------------------

/// An officer of the roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Officer {
    /// The roster's name (CO-1 …).
    pub name: String,
    /// The roster's role.
    pub role: String,
    /// The card's serial.
    pub serial: String,
}

/// A key of the HSM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// Its label.
    pub label: String,
    /// Its name in the policy, if it has one.
    pub policy_name: Option<String>,
    /// Its key tag.
    pub tag: u16,
    /// Its DS SHA-256 digest.
    pub ds_sha256: String,
}

/// The transfer set the ceremony signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// `ksr-…`.
    pub id: Option<String>,
    /// Its folder on the medium, as given.
    pub dir: String,
    /// The KSR's own id.
    pub ksr_id: Option<String>,
    /// The KSR's format.
    pub ksr_format: Option<String>,
    /// Its bundles.
    pub bundles: Option<usize>,
    /// When the intake exported it.
    pub exported: Option<String>,
    /// The KSR's SHA-256.
    pub ksr_sha256: Option<String>,
    /// The manifest's SHA-256.
    pub manifest_sha256: Option<String>,
    /// The fingerprint of the intake key it verified under.
    pub intake_key: Option<String>,
    /// The SHA-256 of the previous SKR it carries.
    pub previous_skr_sha256: Option<String>,
    /// The intake's findings.
    pub findings: Vec<String>,
}

/// Everything the steps are made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameters {
    /// `--config` as typed.
    pub config: String,
    /// The ceremony directory.
    pub ceremony_dir: String,
    /// A rehearsal.
    pub rehearsal: bool,
    /// The zone.
    pub domain: String,
    /// The policy's SHA-256.
    pub policy_sha256: String,
    /// The roster's generation.
    pub generation: u64,
    /// k.
    pub threshold: usize,
    /// The officers.
    pub officers: Vec<Officer>,
    /// The HSM's keys.
    pub keys: Vec<Key>,
    /// The transfer set.
    pub transfer: Transfer,
    /// The SHA-256 of the signer's own last SKR, as its sealed state
    /// records it.
    pub last_skr_sha256: Option<String>,
    /// A first quarter: no previous SKR anywhere (`--no-previous-skr`).
    pub first_quarter: bool,
    /// The audit head before the ceremony, and the entry it is the hash
    /// of.
    pub previous_head: (String, u64),
}

//------------ Sections ------------------------------------------------------

/// The sections before the steps: the ceremony, its officers, its keys,
/// the transfer set.
pub fn sections(parameters: &Parameters) -> Vec<Section> {
    let transfer = &parameters.transfer;
    let or_dash = |value: &Option<String>| Value::code(value.clone().unwrap_or_else(|| "—".into()));
    let mut ceremony = vec![
        Field::new("Zone", Value::code(&parameters.domain)),
        Field::new("Ceremony directory", Value::code(&parameters.ceremony_dir)),
        Field::new("Policy file", Value::code(&parameters.config)),
        Field::new("Policy SHA-256", Value::hex(&parameters.policy_sha256)),
        Field::new(
            "Quorum",
            Value::text(format!(
                "any {} of the {} crypto officers (card generation {})",
                parameters.threshold,
                parameters.officers.len(),
                parameters.generation
            )),
        ),
        Field::new(
            "Previous audit head",
            Value::spoken(&parameters.previous_head.0),
        ),
        Field::new(
            "It is the hash of",
            Value::text(format!("audit entry {}", parameters.previous_head.1)),
        ),
    ];
    if parameters.rehearsal {
        ceremony.push(Field::new(
            "Kind",
            Value::text("a rehearsal (init --rehearsal): not a production ceremony"),
        ));
    }
    let officers = Body::Table {
        columns: ["Officer", "Role", "Card serial", "Bag number (write)"]
            .map(String::from)
            .to_vec(),
        widths: vec![18, 30, 22, 30],
        rows: parameters
            .officers
            .iter()
            .map(|officer| {
                vec![
                    Value::code(&officer.name),
                    Value::text(&officer.role),
                    Value::code(&officer.serial),
                    Value::Blank(super::model::Blank::Line),
                ]
            })
            .collect(),
    };
    let keys = Body::Table {
        columns: ["Label", "In the policy", "Key tag", "DS SHA-256 digest"]
            .map(String::from)
            .to_vec(),
        widths: vec![14, 16, 10, 60],
        rows: parameters
            .keys
            .iter()
            .map(|key| {
                vec![
                    Value::code(&key.label),
                    Value::text(key.policy_name.clone().unwrap_or_else(|| "—".into())),
                    Value::code(key.tag.to_string()),
                    Value::hex(key.ds_sha256.to_ascii_lowercase()),
                ]
            })
            .collect(),
    };
    let mut set = vec![
        Field::new("Transfer set", or_dash(&transfer.id)),
        Field::new("On the medium", Value::code(&transfer.dir)),
        Field::new("KSR id", or_dash(&transfer.ksr_id)),
        Field::new("KSR format", or_dash(&transfer.ksr_format)),
        Field::new(
            "Bundles",
            Value::text(
                transfer
                    .bundles
                    .map_or_else(|| "—".into(), |bundles| bundles.to_string()),
            ),
        ),
        Field::new("Exported by the intake", or_dash(&transfer.exported)),
        Field::new(
            "KSR SHA-256",
            transfer
                .ksr_sha256
                .as_deref()
                .map_or_else(|| Value::text("—"), Value::spoken),
        ),
        Field::new(
            "Manifest SHA-256",
            Value::hex_or_none(transfer.manifest_sha256.as_deref(), "—"),
        ),
        Field::new(
            "Intake key fingerprint",
            Value::hex_or_none(transfer.intake_key.as_deref(), "—"),
        ),
        Field::new(
            "Previous SKR on the medium",
            Value::hex_or_none(
                transfer.previous_skr_sha256.as_deref(),
                "none (a first quarter)",
            ),
        ),
    ];
    for finding in &transfer.findings {
        set.push(Field::new("Intake finding", Value::text(finding)));
    }
    vec![
        Section {
            heading: "The ceremony".into(),
            note: None,
            body: Body::Fields(ceremony),
        },
        Section {
            heading: "Crypto officers and their cards".into(),
            note: Some(format!(
                "Any {} of them activate the HSM; each card is shown to the IW before it is inserted.",
                parameters.threshold
            )),
            body: officers,
        },
        Section {
            heading: "Keys in the HSM".into(),
            note: Some("As the HSM lists them while sealed (ceremony inventory).".into()),
            body: keys,
        },
        Section {
            heading: "The transfer set".into(),
            note: Some(
                "Verified under the intake key this ceremony pinned, as the signer verifies it."
                    .into(),
            ),
            body: Body::Fields(set),
        },
    ]
}

//------------ Steps ---------------------------------------------------------

/// A step with blank boxes.
fn step(
    key: StepKey,
    roles: Vec<Role>,
    title: &str,
    instruction: String,
    command: Option<String>,
    compare: Vec<Compare>,
) -> Step {
    Step {
        key,
        roles,
        title: title.into(),
        instruction,
        command,
        compare,
        logged: None,
    }
}

/// A value to compare.
fn compare(label: &str, value: Value) -> Compare {
    Compare {
        field: Field::new(label, value),
        slot: None,
    }
}

/// A value to write down, which the record fills from the log.
fn write_down(label: &str, blank: super::model::Blank, slot: Option<Slot>) -> Compare {
    Compare {
        field: Field::new(label, Value::Blank(blank)),
        slot,
    }
}

/// Quotes an argument for a shell when it needs it.
pub fn shell(argument: &str) -> String {
    let plain = !argument.is_empty()
        && argument
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"/._-+=:,@".contains(&byte));
    if plain {
        argument.to_owned()
    } else {
        format!("'{}'", argument.replace('\'', "'\\''"))
    }
}

/// The steps of a signing from a transfer set, in order.
pub fn steps(parameters: &Parameters) -> Vec<Step> {
    use super::model::Blank;
    let config = shell(&parameters.config);
    let media = shell(&parameters.transfer.dir);
    let (ca, iw, sa) = (
        Role::Administrator,
        Role::Witness,
        Role::SystemAdministrator,
    );
    let head = &parameters.previous_head.0;
    let mut sign = format!("ceremony --config {config} sign --media {media}");
    if parameters.first_quarter {
        sign.push_str(" --no-previous-skr");
    }
    let mut steps = vec![
        step(
            StepKey::Open,
            vec![ca.clone(), iw.clone()],
            "Open the ceremony",
            "The CA opens the room and states the ceremony's purpose. The IW writes down everyone present and keeps this script, initialling each step when it is done and writing its time.".into(),
            None,
            vec![write_down("People present", Blank::Line, None)],
        ),
        step(
            StepKey::Safe,
            vec![Role::SafeController(1), Role::SafeController(2), iw.clone()],
            "Open the safes",
            "SSC-1 takes the offline signer out of its safe; SSC-2 takes out the officers' cards in their tamper-evident bags. The IW checks that every bag is intact and that its number is the one written at the last ceremony.".into(),
            None,
            vec![write_down("Bags intact, numbers as written before", Blank::Line, None)],
        ),
        step(
            StepKey::Boot,
            vec![sa.clone(), iw.clone()],
            "Start the offline signer",
            "The SA starts the signer machine and shows that no network interface is up: the signer stays offline.".into(),
            Some("ip -brief link".into()),
            Vec::new(),
        ),
        step(
            StepKey::AuditHead,
            vec![ca.clone(), iw.clone()],
            "Check the audit log",
            "The CA verifies the audit log's chain against the previous audit head printed here. The signer must say that the head is the hash of the entry printed below and that 0 entries followed it: nothing happened since this script was printed.".into(),
            Some(format!("ceremony --config {config} audit verify --head {head}")),
            vec![
                compare("Previous audit head", Value::spoken(head)),
                compare(
                    "It is the hash of",
                    Value::text(format!(
                        "audit entry {}, with 0 entries after it",
                        parameters.previous_head.1
                    )),
                ),
            ],
        ),
        step(
            StepKey::Inventory,
            vec![ca.clone(), iw.clone()],
            "Show the keys in the HSM",
            "The CA lists the keys the sealed HSM holds; the IW compares each key tag and DS digest with the table of keys above.".into(),
            Some(format!("ceremony --config {config} inventory")),
            parameters
                .keys
                .iter()
                .map(|key| {
                    compare(
                        &format!("{} key tag {}", key.label, key.tag),
                        Value::hex(key.ds_sha256.to_ascii_lowercase()),
                    )
                })
                .collect(),
        ),
        step(
            StepKey::Load,
            vec![sa.clone(), ca.clone(), iw.clone()],
            "Load the transfer set",
            "The SA inserts the medium from the intake. The CA starts the signing from the transfer set: the signer verifies its files under the pinned intake key, chains it to its own last SKR and checks the KSR against the policy, all before any card. The IW compares what the screen shows.".into(),
            Some(sign),
            load_values(parameters),
        ),
        step(
            StepKey::Words,
            vec![Role::ZskOperator, ca.clone(), iw.clone()],
            "Compare the KSR's words by phone",
            "The CA calls the ZSK operator, who reads the KSR's SHA-256 as PGP words. The IW compares every word heard with the words printed here; the CA types the words at the four positions the signer asks for. A single different word stops the ceremony.".into(),
            None,
            vec![compare(
                "KSR SHA-256",
                parameters
                    .transfer
                    .ksr_sha256
                    .as_deref()
                    .map_or_else(|| Value::text("—"), Value::spoken),
            )],
        ),
    ];
    let officers = parameters.officers.len();
    for officer in &parameters.officers {
        steps.push(step(
            StepKey::Card(officer.name.clone()),
            vec![Role::Officer(officer.name.clone()), iw.clone()],
            &format!("{} presents card {}", officer.name, officer.serial),
            format!(
                "When the signer asks for a card, {} takes the card out of its bag, shows its serial to the IW, inserts it and types the PIN. Any {} of the {officers} officers present a card; the rows of those who do not stay empty.",
                officer.name, parameters.threshold
            ),
            None,
            vec![compare("Card serial", Value::code(&officer.serial))],
        ));
    }
    steps.extend([
        step(
            StepKey::Signed,
            vec![ca.clone(), iw.clone()],
            "The SKR is signed",
            "At the last card the HSM is activated, signs every bundle, and is sealed again; the SKR is written to the medium and read back. The IW writes down the SKR's SHA-256 as the signer prints it and reads it back aloud.".into(),
            None,
            vec![write_down("SKR SHA-256", Blank::Hash, Some(Slot::SkrSha256))],
        ),
        step(
            StepKey::Head,
            vec![ca.clone(), iw.clone()],
            "Write down the audit head",
            "The signer prints the audit log's head after the signing. The IW writes it down here: it is the previous audit head of the next ceremony, and audit verify --head finds it in the log later.".into(),
            Some(format!("ceremony --config {config} audit verify --head HEAD")),
            vec![write_down("Audit head", Blank::Hash, Some(Slot::AuditHead))],
        ),
        step(
            StepKey::Media,
            vec![sa.clone(), iw.clone()],
            "Take the SKR to the intake",
            "The SA takes the medium out; it carries the SKR and manifest-skr.json. At the intake, the SKR is imported from it and the ZSK operator fetches it.".into(),
            Some(format!("ceremony intake import --dir IDIR {media}")),
            Vec::new(),
        ),
        step(
            StepKey::Return,
            vec![Role::SafeController(1), Role::SafeController(2), iw.clone()],
            "Return the cards and the signer to the safes",
            "Each officer puts the card into a new tamper-evident bag and seals it; SSC-2 locks the bags away, SSC-1 the signer. The IW writes down the new bag numbers in the table of officers.".into(),
            None,
            vec![write_down("Safes closed", Blank::Line, None)],
        ),
        step(
            StepKey::Close,
            vec![ca, iw],
            "Close the ceremony",
            "The IW writes the end time. The CA and the IW sign this page below; it is archived with the audit log.".into(),
            None,
            Vec::new(),
        ),
    ]);
    steps
}

/// The values the signer shows when it loads the set.
fn load_values(parameters: &Parameters) -> Vec<Compare> {
    let transfer = &parameters.transfer;
    let mut values = vec![
        compare(
            "Transfer set",
            Value::code(transfer.id.clone().unwrap_or_else(|| "—".into())),
        ),
        compare("Zone", Value::code(&parameters.domain)),
        compare(
            "Bundles",
            Value::text(
                transfer
                    .bundles
                    .map_or_else(|| "—".into(), |bundles| bundles.to_string()),
            ),
        ),
        compare(
            "Manifest SHA-256",
            Value::hex_or_none(transfer.manifest_sha256.as_deref(), "—"),
        ),
        compare(
            "Intake key fingerprint",
            Value::hex_or_none(transfer.intake_key.as_deref(), "—"),
        ),
    ];
    values.push(compare(
        "Previous SKR (the signer's last)",
        Value::hex_or_none(
            parameters
                .last_skr_sha256
                .as_deref()
                .or(transfer.previous_skr_sha256.as_deref()),
            "none: a first quarter",
        ),
    ));
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_only_when_a_shell_would_split_them() {
        assert_eq!(shell("/media/usb/ksr-0a1b"), "/media/usb/ksr-0a1b");
        assert_eq!(shell("my media/x"), "'my media/x'");
        assert_eq!(shell("it's"), "'it'\\''s'");
        assert_eq!(shell(""), "''");
    }
}
