//! The out-of-band check of a KSR from the medium: the ZSK operator reads
//! the KSR's SHA-256 over the phone as 32 PGP words, and the ceremony
//! administrator types the words at four positions the tool chooses (shown
//! by number only, so they cannot be copied from the screen), or, in a
//! scripted run, gives all 32 as they were heard (`--oob-words FILE`),
//! each of which is compared. A mismatch refuses the signing before any
//! card: the KSR on the medium is not the one the ZSK operator sent.

use serde::{Deserialize, Serialize};

/// The words of a SHA-256.
pub const WORDS: usize = 32;
/// How many words are asked for at the terminal.
pub const ASKED: usize = 4;

/// The positions asked for, 1 to 32, distinct and in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Positions(Vec<usize>);

impl Positions {
    /// Four positions drawn from the operating system's random numbers.
    pub fn choose() -> Self {
        let mut chosen: Vec<usize> = Vec::with_capacity(ASKED);
        while chosen.len() < ASKED {
            let [byte] = *crate::records::random::<1>();
            // 224 = 7 · 32: rejecting 224..=255 keeps the draw uniform.
            if byte < 224 {
                let position = usize::from(byte % 32) + 1;
                if !chosen.contains(&position) {
                    chosen.push(position);
                }
            }
        }
        chosen.sort_unstable();
        Self(chosen)
    }

    /// The positions.
    pub fn as_slice(&self) -> &[usize] {
        &self.0
    }
}

/// What the administrator heard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Heard {
    /// The words at the positions asked, in the order asked.
    At(Vec<String>),
    /// All 32 words, in order (a scripted run).
    All(Vec<String>),
}

impl Heard {
    /// Reads the words as they were read over the phone from a file: the
    /// 32 words in order, separated by white space; numbers and group
    /// labels (`1:`, `(2)`) between them are skipped, so the tool's own
    /// numbered groups can be written down as they are.
    ///
    /// # Errors
    ///
    /// Unreadable, or not 32 words.
    pub fn read_file(path: &std::path::Path) -> Result<Self, crate::Error> {
        let bytes = crate::media::read_file(path, 4096, crate::media::Links::Follow)?;
        Self::parse_words(&String::from_utf8_lossy(&bytes))
            .map_err(|why| crate::Error::Oob(format!("{}: {why}", path.display())))
    }

    /// Reads the words of such a file from its text (see
    /// [`Self::read_file`]).
    ///
    /// # Errors
    ///
    /// Not 32 words: how many there are.
    pub fn parse_words(text: &str) -> Result<Self, String> {
        let words: Vec<String> = text
            .split_whitespace()
            .filter(|token| token.chars().any(char::is_alphabetic))
            .map(str::to_owned)
            .collect();
        if words.len() != WORDS {
            return Err(format!(
                "{} words, not the {WORDS} of a SHA-256 read out as PGP words",
                words.len()
            ));
        }
        Ok(Self::All(words))
    }

    /// How the words were given, for the audit log.
    pub fn how(&self) -> &'static str {
        match self {
            Self::At(_) => "typed",
            Self::All(_) => "file",
        }
    }
}

/// Compares what was heard with the words of `sha256`: at `positions`
/// (typed), or every word (a file). Answers the positions compared.
///
/// # Errors
///
/// The first word that differs, by its position (the expected word is not
/// shown: whoever typed it reads it again from the phone).
pub fn compare(
    sha256: &[u8; 32],
    heard: &Heard,
    positions: &Positions,
) -> Result<Vec<usize>, crate::Error> {
    let words = ksr::pgp_words(sha256);
    let expected: Vec<&str> = words.split(' ').collect();
    let pairs: Vec<(usize, &str)> = match heard {
        // All of them: a shorter list would compare only its first words.
        Heard::All(words) if words.len() != WORDS => {
            return Err(crate::Error::Oob(format!(
                "{} words given as all of them, not the {WORDS} of a SHA-256",
                words.len()
            )));
        }
        Heard::All(words) => words
            .iter()
            .enumerate()
            .map(|(index, word)| (index + 1, word.as_str()))
            .collect(),
        Heard::At(words) => {
            if words.len() != positions.0.len() {
                return Err(crate::Error::Oob(format!(
                    "{} words given for the {} positions asked",
                    words.len(),
                    positions.0.len()
                )));
            }
            positions
                .0
                .iter()
                .copied()
                .zip(words.iter().map(String::as_str))
                .collect()
        }
    };
    for (position, word) in &pairs {
        let matches = expected
            .get(position - 1)
            .is_some_and(|expected| expected.eq_ignore_ascii_case(word.trim()));
        if !matches {
            return Err(crate::Error::Oob(format!(
                "word {position} was heard as {:?}, which is not the KSR's word {position}: the KSR on the medium is not the one the ZSK operator read out; nothing is signed",
                word.trim()
            )));
        }
    }
    Ok(pairs.into_iter().map(|(position, _)| position).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_four_distinct_in_range() {
        for _ in 0..200 {
            let positions = Positions::choose();
            assert_eq!(positions.0.len(), ASKED);
            assert!(positions.0.windows(2).all(|pair| pair[0] < pair[1]));
            assert!(positions.0.iter().all(|p| (1..=WORDS).contains(p)));
        }
    }

    fn words_of(sha256: &[u8; 32]) -> Vec<String> {
        ksr::pgp_words(sha256)
            .split(' ')
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_word_counts_and_a_wrong_one_is_named() {
        let sha256 = [7_u8; 32];
        let words: Vec<String> = ksr::pgp_words(&sha256)
            .split(' ')
            .map(str::to_uppercase)
            .collect();
        let positions = Positions(vec![1, 2, 31, 32]);
        assert_eq!(
            compare(&sha256, &Heard::All(words.clone()), &positions)
                .unwrap()
                .len(),
            32
        );
        let at: Vec<String> = [1, 2, 31, 32]
            .iter()
            .map(|p| words[p - 1].clone())
            .collect();
        compare(&sha256, &Heard::At(at.clone()), &positions).unwrap();
        let mut wrong = words;
        wrong[20] = "aardvark".into();
        let err = compare(&sha256, &Heard::All(wrong), &positions).unwrap_err();
        assert!(err.to_string().contains("word 21"), "{err}");
        let mut swapped = at;
        swapped.swap(0, 1);
        let err = compare(&sha256, &Heard::At(swapped), &positions).unwrap_err();
        assert!(err.to_string().contains("word 1 "), "{err}");
        assert!(compare(&sha256, &Heard::At(vec![]), &positions).is_err());
        // "All" of them is all 32: the first four alone compare nothing more.
        let first: Vec<String> = words_of(&sha256).into_iter().take(4).collect();
        let err = compare(&sha256, &Heard::All(first), &positions).unwrap_err();
        assert!(err.to_string().contains("4 words"), "{err}");
    }
}
