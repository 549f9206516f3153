//! `policy approve`: the policy file, changed, becomes the approved one.
//! The policy decides what an honest quorum signs (schemas, KSK roles,
//! limits), so a change takes a quorum, which is shown the difference
//! between the approved policy and the file, line by line.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::audit::OperationKind;
use crate::ceremony::Ceremony;
use crate::clock::Now;
use crate::error::Error;
use crate::flow::{Active, Operation, Prepared};
use crate::summary::Detail;

use super::{details, summary};

/// The approval to make.
pub struct Approve;

/// What was approved.
#[derive(Clone, Debug, Serialize)]
pub struct Approved {
    /// The SHA-256 of the policy approved before.
    pub previous_sha256: String,
    /// The SHA-256 of the policy approved now.
    pub policy_sha256: String,
}

/// Prepares the approval: the file is a valid policy (it was read when the
/// ceremony opened) and differs from the approved one.
///
/// # Errors
///
/// Nothing to approve, no sealed state, or the log fails.
pub fn prepare_approve(ceremony: &Ceremony, now: Now) -> Result<Prepared<Approve>, Error> {
    let open = ceremony.begin(OperationKind::Approve, Map::new())?;
    let checked = (|| {
        let approved = ceremony.sealed()?.state().clone();
        let file = ceremony.policy();
        if approved.policy_sha256 == hex::encode(file.sha256()) {
            return Err(Error::NothingToApprove);
        }
        summary(
            ceremony,
            OperationKind::Approve,
            now,
            Detail::Policy {
                approved_sha256: approved.policy_sha256,
                difference: difference(&approved.policy, file.text()),
            },
            Vec::new(),
            Vec::new(),
        )
    })();
    match checked {
        Ok(summary) => Ok(Prepared::new(Approve, summary, open)),
        Err(err) => Err(ceremony.fail(open, err)),
    }
}

impl Operation for Approve {
    type Output = Approved;

    /// Nothing to do with the keys: the flow seals the state, with the
    /// file as the approved policy, once this returns.
    fn run(
        self,
        active: &mut Active<'_>,
        _progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Approved, Error> {
        let previous = active.ceremony().sealed()?.state().clone();
        Ok(Approved {
            previous_sha256: previous.policy_sha256,
            policy_sha256: hex::encode(active.ceremony().policy().sha256()),
        })
    }

    fn closing(output: &Approved) -> Map<String, Value> {
        details([
            ("previous_sha256", output.previous_sha256.clone().into()),
            ("policy_sha256", output.policy_sha256.clone().into()),
        ])
    }
}

/// The lines that differ between two texts, as a unified diff's body:
/// `-` for a line only in `old`, `+` for one only in `new`, and the
/// unchanged lines next to a change with a space, so that a reader sees
/// which table a changed key is in. A longest common subsequence of lines;
/// policies are short.
pub(crate) fn difference(old: &str, new: &str) -> Vec<String> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    // lcs(i, j): the longest common subsequence of old[i..] and new[j..],
    // in a flat table of (old.len() + 1) × (new.len() + 1).
    let width = new.len() + 1;
    let mut table = vec![0_usize; (old.len() + 1) * width];
    let lcs = |table: &[usize], i: usize, j: usize| table.get(i * width + j).copied().unwrap_or(0);
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            let value = if old.get(i) == new.get(j) {
                lcs(&table, i + 1, j + 1) + 1
            } else {
                lcs(&table, i + 1, j).max(lcs(&table, i, j + 1))
            };
            if let Some(cell) = table.get_mut(i * width + j) {
                *cell = value;
            }
        }
    }
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                lines.push((' ', a));
                i += 1;
                j += 1;
            }
            (Some(a), Some(_)) if lcs(&table, i + 1, j) >= lcs(&table, i, j + 1) => {
                lines.push(('-', a));
                i += 1;
            }
            (_, Some(b)) => {
                lines.push(('+', b));
                j += 1;
            }
            (Some(a), None) => {
                lines.push(('-', a));
                i += 1;
            }
            (None, None) => break,
        }
    }
    // Unchanged lines only next to a change, as context.
    let changed: Vec<bool> = lines.iter().map(|(mark, _)| *mark != ' ').collect();
    lines
        .iter()
        .enumerate()
        .filter(|(index, (mark, _))| {
            *mark != ' '
                || changed.get(index.wrapping_sub(1)).copied().unwrap_or(false)
                || changed.get(index + 1).copied().unwrap_or(false)
        })
        .map(|(_, (mark, line))| format!("{mark} {line}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn the_difference_shows_removed_and_added_lines_with_context() {
        let old = "[a]\nx = 1\ny = 2\n[b]\nz = 3\n";
        let new = "[a]\nx = 1\ny = 5\n[b]\nz = 3\nw = 4\n";
        assert_eq!(
            difference(old, new),
            [
                "  x = 1", "- y = 2", "+ y = 5", "  [b]", "  z = 3", "+ w = 4"
            ]
        );
        assert!(difference(old, old).is_empty());
    }
}
