//! `intake pin`: the intake key whose signature every transfer set needs.
//! Whoever chooses that key chooses which KSRs reach the officers, so it is
//! sealed and changed only with a quorum, which is shown the key's
//! fingerprint to compare with the one the intake printed.

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::OperationKind;
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::error::Error;
use crate::flow::{Active, Operation, Prepared};
use crate::media::IntakeKey;
use crate::summary::Detail;

use super::{details, summary};

/// The key to pin.
pub struct Pin {
    key: IntakeKey,
}

/// What was pinned.
#[derive(Clone, Debug, Serialize)]
pub struct Pinned {
    /// The key's fingerprint, hex.
    pub fingerprint: String,
    /// The fingerprint of the key it replaced.
    pub replaced: Option<String>,
}

/// Prepares the pinning of the intake key in `file` (`IDIR/intake.pub`).
///
/// # Errors
///
/// The file is not an intake key, the key is pinned already, or the log
/// fails.
pub fn prepare_pin(ceremony: &Ceremony, file: &Path, now: Now) -> Result<Prepared<Pin>, Error> {
    let mut begin = Map::new();
    begin.insert("file".into(), file.display().to_string().into());
    let open = ceremony.begin(OperationKind::IntakePin, begin)?;
    let checked = (|| {
        let key = IntakeKey::read(file)?;
        let replaces = ceremony.chain().intake_key;
        if replaces == Some(key) {
            return Err(Error::Key(format!(
                "{}: this intake key (fingerprint {}) is the one pinned already",
                file.display(),
                key.fingerprint()
            )));
        }
        let summary = summary(
            ceremony,
            OperationKind::IntakePin,
            now,
            Detail::IntakePin {
                fingerprint: key.fingerprint(),
                file: file.display().to_string(),
                replaces: replaces.map(|key| key.fingerprint()),
            },
            Vec::new(),
            Vec::new(),
        )?;
        Ok((key, summary))
    })();
    match checked {
        Ok((key, summary)) => Ok(Prepared::new(Pin { key }, summary, open)),
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

impl Operation for Pin {
    type Output = Pinned;

    /// The key goes into the chain, which the flow seals once this
    /// returns.
    fn run(
        self,
        active: &mut Active<'_>,
        _progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Pinned, Error> {
        let mut chain = active.ceremony().chain().clone();
        let replaced = chain
            .intake_key
            .replace(self.key)
            .map(|key| key.fingerprint());
        active.ceremony_mut().set_chain(chain);
        Ok(Pinned {
            fingerprint: self.key.fingerprint(),
            replaced,
        })
    }

    fn closing(output: &Pinned) -> Map<String, Value> {
        details([
            ("intake_key", output.fingerprint.clone().into()),
            (
                "replaced",
                output.replaced.clone().map_or(Value::Null, Value::from),
            ),
        ])
    }
}
