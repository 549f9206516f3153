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

//------------ SchemaProfile -------------------------------------------------

/// How a schema is fitted to the server that will serve the SKR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemaProfile {
    /// As written: the root's phases as kskm signs them, where a KSK can be
    /// published a quarter before it signs (pre-publish) and after it
    /// stopped signing (rollover).
    #[default]
    Kskm,
    /// Every KSK a bundle publishes or revokes also signs its DNSKEY RRset.
    /// named (BIND 9.20) cannot serve an offline-KSK bundle in which a
    /// published KSK does not sign (it fails in `add_sigs`, and BIND's own
    /// KSK-roll SKRs fail the same way); a resolver needs only one valid
    /// signature, so the extra one changes nothing for validation.
    Bind,
}

impl SchemaProfile {
    /// The profile for an SKR in `dialect` when the policy does not say:
    /// bind for BIND, kskm for Knot (knotd serves a published KSK that
    /// does not sign).
    pub const fn default_for(dialect: crate::text::Dialect) -> Self {
        match dialect {
            crate::text::Dialect::Bind => Self::Bind,
            crate::text::Dialect::Knot => Self::Kskm,
        }
    }

    /// Its name, as the policy's `text_schema_profile` takes it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Kskm => "kskm",
            Self::Bind => "bind",
        }
    }

    /// `schema` fitted to this profile.
    pub fn apply(self, mut schema: Schema) -> Schema {
        if self == Self::Bind {
            for action in &mut schema {
                let missing: Vec<String> = action
                    .publish
                    .iter()
                    .chain(&action.revoke)
                    .filter(|name| !action.sign.contains(name))
                    .cloned()
                    .collect();
                for name in missing {
                    if !action.sign.contains(&name) {
                        action.sign.push(name);
                    }
                }
            }
        }
        schema
    }
}

impl std::fmt::Display for SchemaProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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
    fn the_bind_profile_makes_every_published_key_sign() {
        for (name, schema) in builtin(9) {
            let fitted = SchemaProfile::Bind.apply(schema.clone());
            for (action, original) in fitted.iter().zip(&schema) {
                assert_eq!(action.publish, original.publish, "{name}");
                assert_eq!(action.revoke, original.revoke, "{name}");
                for key in original.publish.iter().chain(&original.revoke) {
                    assert!(action.sign.contains(key), "{name}: {key} must sign");
                }
                // Nothing that was not published signs.
                for key in &action.sign {
                    assert!(original.names().any(|other| other == key), "{name}");
                }
            }
        }
        let pre_publish = SchemaProfile::Bind.apply(builtin(9)["pre-publish"].clone());
        assert_eq!(pre_publish[0].sign, ["ksk_current"]);
        assert_eq!(pre_publish[1].sign, ["ksk_current", "ksk_next"]);
        let rollover = SchemaProfile::Bind.apply(builtin(9)["rollover"].clone());
        assert_eq!(rollover[1].sign, ["ksk_next", "ksk_current"]);
        assert_eq!(
            SchemaProfile::Kskm.apply(builtin(9)["rollover"].clone()),
            builtin(9)["rollover"]
        );
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
