//! Signing schemas: for each bundle number, which KSKs are published,
//! revoked and signing (`ksr-skr-format.md` §2.1). The seven built-in
//! schemas are those of the root zone's KSK rollover phases, as IANA's kskm
//! configures them, over the key names `ksk_current` and `ksk_next`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::policy::Config;

//------------ Action --------------------------------------------------------

/// What one bundle does with the KSKs, by their configured names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Action {
    /// KSKs published with Flags 257.
    pub publish: Vec<String>,
    /// KSKs published revoked, with Flags 385 (RFC 5011).
    pub revoke: Vec<String>,
    /// KSKs that sign the bundle's DNSKEY RRset.
    pub sign: Vec<String>,
}

impl Action {
    fn new(publish: &[&str], revoke: &[&str], sign: &[&str]) -> Self {
        let names = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        Self {
            publish: names(publish),
            revoke: names(revoke),
            sign: names(sign),
        }
    }

    /// Every key name the action uses.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.publish
            .iter()
            .chain(&self.revoke)
            .chain(&self.sign)
            .map(String::as_str)
    }
}

//------------ KskRole -------------------------------------------------------

/// The two KSK names the built-in schemas use, as kskm names them: the
/// policy's `[keys.ksk_current]` and `[keys.ksk_next]`. A KSK roll moves
/// the next key to the current role (`ceremony ksk promote`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KskRole {
    /// The KSK that signs now: `ksk_current`.
    #[serde(rename = "ksk_current")]
    Current,
    /// The KSK being rolled in: `ksk_next`.
    #[serde(rename = "ksk_next")]
    Next,
}

impl KskRole {
    /// Its name under `[keys]` and in the schemas.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Current => "ksk_current",
            Self::Next => "ksk_next",
        }
    }
}

impl std::fmt::Display for KskRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

//------------ Schema --------------------------------------------------------

/// A schema: the action of each bundle, bundle 1 first.
pub type Schema = Vec<Action>;

/// Returns the built-in schemas for a KSR of `bundles` bundles: normal,
/// pre-publish, rollover, revoke, publish+, rollover+ and revoke+. The
/// published schemas have 9 bundles; for another count, the first bundle
/// keeps its role, the last keeps its role, and the middle ones repeat
/// bundle 2's.
pub fn builtin(bundles: usize) -> BTreeMap<&'static str, Schema> {
    const CURRENT: &str = KskRole::Current.name();
    const NEXT: &str = KskRole::Next.name();
    let both = [CURRENT, NEXT];
    let shape = |first: Action, middle: Action, last: Action| -> Schema {
        (0..bundles.max(1))
            .map(|index| match index {
                0 => first.clone(),
                i if i + 1 == bundles => last.clone(),
                _ => middle.clone(),
            })
            .collect()
    };
    let normal = Action::new(&[CURRENT], &[], &[CURRENT]);
    let published = Action::new(&both, &[], &[CURRENT]);
    let rolled = Action::new(&both, &[], &[NEXT]);
    let revoking = Action::new(&[NEXT], &[CURRENT], &both);
    let next_only = Action::new(&[NEXT], &[], &[NEXT]);
    BTreeMap::from([
        (
            "normal",
            shape(normal.clone(), normal.clone(), normal.clone()),
        ),
        (
            "pre-publish",
            shape(normal, published.clone(), published.clone()),
        ),
        (
            "rollover",
            shape(published.clone(), rolled.clone(), rolled.clone()),
        ),
        (
            "revoke",
            shape(rolled.clone(), revoking.clone(), next_only.clone()),
        ),
        (
            "publish+",
            shape(published.clone(), published.clone(), published),
        ),
        ("rollover+", shape(rolled.clone(), rolled.clone(), rolled)),
        ("revoke+", shape(next_only.clone(), revoking, next_only)),
    ])
}

/// Returns the schema of this name for a KSR of `bundles` bundles: the
/// configuration's own if it defines one, else a built-in one. Every
/// bundle needs an action with a signing key, and every key name must be
/// configured under `[keys]` (`SIGN-SCHEMA`).
///
/// # Errors
///
/// What is wrong, in a sentence.
pub fn resolve(config: &Config, name: &str, bundles: usize) -> Result<Schema, String> {
    let schema: Schema = match config.schemas.get(name) {
        Some(actions) => (1..=bundles)
            .map(|number| {
                actions
                    .get(&number.to_string())
                    .cloned()
                    .ok_or_else(|| format!("schema {name:?} has no action for bundle {number}"))
            })
            .collect::<Result<_, _>>()?,
        None => builtin(bundles).remove(name).ok_or_else(|| {
            let mut known: Vec<String> = builtin(bundles)
                .keys()
                .map(|name| (*name).to_owned())
                .collect();
            known.extend(config.schemas.keys().cloned());
            format!("no schema {name:?}; known: {}", known.join(", "))
        })?,
    };
    for (index, action) in schema.iter().enumerate() {
        if let Some(unknown) = action.names().find(|key| !config.keys.contains_key(*key)) {
            return Err(format!(
                "schema {name:?} names key {unknown:?} in bundle {}, which is not under [keys]",
                index + 1
            ));
        }
        if action.sign.is_empty() {
            return Err(format!(
                "schema {name:?} has no signing key in bundle {}",
                index + 1
            ));
        }
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revoke_schema_revokes_in_bundles_2_to_8() {
        let revoke = &builtin(9)["revoke"];
        assert_eq!(revoke.len(), 9);
        assert!(revoke[0].revoke.is_empty() && revoke[0].sign == ["ksk_next"]);
        for action in &revoke[1..8] {
            assert_eq!(action.revoke, ["ksk_current"]);
            assert_eq!(action.sign, ["ksk_current", "ksk_next"]);
        }
        assert_eq!(revoke[8], Action::new(&["ksk_next"], &[], &["ksk_next"]));
    }

    #[test]
    fn pre_publish_adds_the_next_key_from_bundle_2() {
        let schema = &builtin(9)["pre-publish"];
        assert_eq!(schema[0].publish, ["ksk_current"]);
        assert!(
            schema[1..]
                .iter()
                .all(|action| action.publish == ["ksk_current", "ksk_next"]
                    && action.sign == ["ksk_current"])
        );
    }
}
