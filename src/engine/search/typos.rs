//! Typo correction: the indexed word closest to an unknown one, found
//! without allocating per candidate and skipping most of the vocabulary with
//! a letter-mask lower bound before computing any edit distance.

use crate::engine::search::statistics::Statistics;
use crate::engine::words::MAX_WORD_LEN;

/// The indexed vocabulary, bucketed by length in chars, so correction scans few words.
pub(crate) struct Typos {
    buckets: Vec<LengthBucket>,
}

impl Typos {
    pub(crate) fn new<'a>(vocabulary: impl Iterator<Item = &'a String>) -> Typos {
        let mut sorted_words: Vec<Vec<String>> = Vec::new();
        for word in vocabulary {
            let length = word.chars().count();
            if sorted_words.len() <= length {
                sorted_words.resize(length + 1, Vec::new());
            }
            sorted_words[length].push(word.clone());
        }
        let buckets = sorted_words
            .into_iter()
            .map(|mut words| {
                words.sort();
                LengthBucket { masks: words.iter().map(|word| char_mask(word)).collect(), words }
            })
            .collect();
        Typos { buckets }
    }

    /// The indexed word closest to an unknown `word`, if one is within a typo
    /// or two: distance 1 for words of 5 to 7 letters (only a swap of two
    /// letters for four-letter words), 2 from 8 letters.
    /// Ties go to the more common word.
    pub(crate) fn correct(&self, word: &str, statistics: &Statistics) -> Option<String> {
        let length = word.chars().count();
        let max_distance = match length {
            0..=3 => return None,
            4..=7 => 1,
            _ => 2,
        };
        let word_chars = CharBuffer::new(word)?;
        let word_mask = char_mask(word);
        let mut best: Option<(usize, u32, &String)> = None;
        for bucket in self.buckets.iter().take(length + max_distance + 1).skip(length - max_distance) {
            for (&mask, candidate) in bucket.masks.iter().zip(&bucket.words) {
                // Every distinct letter one word has and the other lacks costs an
                // edit: a cheap lower bound that skips most of the vocabulary.
                if more_bits_than(word_mask & !mask, max_distance) || more_bits_than(mask & !word_mask, max_distance) {
                    continue;
                }
                let Some(candidate_chars) = CharBuffer::new(candidate) else { continue };
                let Some(distance) = bounded_osa_distance(word_chars.chars(), candidate_chars.chars(), max_distance)
                else {
                    continue;
                };
                // Short words are too close to too many others ("earn" is one typo
                // from "learn"), so four-letter words only get swapped letters fixed.
                if length == 4 && !is_transposition(word, candidate) {
                    continue;
                }
                let frequency = statistics.stem_of(candidate).and_then(|stem| statistics.doc_freq(stem)).unwrap_or(0);
                let better = best.is_none_or(|(d, f, _)| distance < d || (distance == d && frequency > f));
                if better {
                    best = Some((distance, frequency, candidate));
                }
            }
        }
        best.map(|(_, _, word)| word.clone())
    }
}

/// Longest word in chars that `words` yields (it keeps words under `MAX_WORD_LEN` bytes).
const MAX_WORD_CHARS: usize = MAX_WORD_LEN;

/// A word's chars on the stack: typo correction compares a question word with
/// thousands of candidates, and must not allocate for each.
struct CharBuffer {
    chars: [char; MAX_WORD_CHARS],
    len: usize,
}

impl CharBuffer {
    /// `None` for words longer than any indexed word.
    fn new(word: &str) -> Option<CharBuffer> {
        let mut buffer = CharBuffer { chars: ['\0'; MAX_WORD_CHARS], len: 0 };
        for ch in word.chars() {
            *buffer.chars.get_mut(buffer.len)? = ch;
            buffer.len += 1;
        }
        Some(buffer)
    }

    fn chars(&self) -> &[char] {
        &self.chars[..self.len]
    }
}

/// Vocabulary words of one length, sorted, with their `char_mask`s apart so
/// the scan that rules most of them out reads one dense array.
#[derive(Clone, Default)]
struct LengthBucket {
    masks: Vec<u64>,
    words: Vec<String>,
}

/// Whether `bits` has more than `limit` (0 to 2) bits set. Clearing the
/// lowest bit `limit` times is cheaper than `count_ones`, which compiles to a
/// slow bit-twiddling loop where the CPU baseline lacks POPCNT.
fn more_bits_than(mut bits: u64, limit: usize) -> bool {
    for _ in 0..limit {
        bits &= bits.wrapping_sub(1);
    }
    bits != 0
}

/// One bit per letter or digit a word contains; other chars share the high
/// bits, which can only weaken (never break) the lower bound built on it.
fn char_mask(word: &str) -> u64 {
    word.chars().fold(0, |mask, ch| {
        let bit = match ch {
            'a'..='z' => ch as u32 - 'a' as u32,
            '0'..='9' => 26 + ch as u32 - '0' as u32,
            _ => 36 + ch as u32 % 28,
        };
        mask | 1 << bit
    })
}

/// Optimal string alignment distance (as `strsim::osa_distance`) when it is at
/// most `max`, else `None`, stopping as soon as no alignment can stay within
/// `max`: two consecutive rows above it make every later row exceed it too.
fn bounded_osa_distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    let width = b.len() + 1;
    if width > MAX_WORD_CHARS + 1 || a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut before_previous = [0usize; MAX_WORD_CHARS + 1];
    let mut previous = [0usize; MAX_WORD_CHARS + 1];
    let mut current = [0usize; MAX_WORD_CHARS + 1];
    for (j, cell) in previous.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    let mut previous_min = 0;
    for (i, &a_char) in a.iter().enumerate() {
        current[0] = i + 1;
        let mut row_min = current[0];
        for (j, &b_char) in b.iter().enumerate() {
            let cost = usize::from(a_char != b_char);
            let mut distance = (current[j] + 1).min(previous[j + 1] + 1).min(previous[j] + cost);
            if i > 0 && j > 0 && a_char != b_char && a_char == b[j - 1] && b_char == a[i - 1] {
                distance = distance.min(before_previous[j - 1] + 1);
            }
            current[j + 1] = distance;
            row_min = row_min.min(distance);
        }
        if row_min > max && previous_min > max {
            return None;
        }
        previous_min = row_min;
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= max).then_some(distance)
}

/// Whether `a` and `b` differ only by swapping two neighbouring letters.
fn is_transposition(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let differ: Vec<usize> = (0..a.len().min(b.len())).filter(|&i| a[i] != b[i]).collect();
    a.len() == b.len()
        && differ.len() == 2
        && differ[1] == differ[0] + 1
        && a[differ[0]] == b[differ[1]]
        && a[differ[1]] == b[differ[0]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chars(word: &str) -> Vec<char> {
        word.chars().collect()
    }

    proptest! {
        /// The bounded distance is strsim's OSA distance wherever it is within
        /// the bound, and `None` exactly where it is not; the letter-mask filter
        /// only ever rejects words that are out of reach.
        #[test]
        fn bounded_distance_and_mask_filter_agree_with_strsim(
            a in "[a-eé0-2]{0,12}",
            b in "[a-eé0-2]{0,12}",
            max in 0usize..3,
        ) {
            check_distance(&a, &b, max)?;
        }

        /// The same over two letters, where most pairs are within reach and
        /// transpositions are common.
        #[test]
        fn bounded_distance_agrees_on_near_words(a in "[ab]{0,8}", b in "[ab]{0,8}", max in 0usize..3) {
            check_distance(&a, &b, max)?;
        }
    }

    fn check_distance(a: &str, b: &str, max: usize) -> Result<(), TestCaseError> {
        let exact = strsim::osa_distance(a, b);
        prop_assert_eq!(bounded_osa_distance(&chars(a), &chars(b), max), (exact <= max).then_some(exact));
        let (mask_a, mask_b) = (char_mask(a), char_mask(b));
        if more_bits_than(mask_a & !mask_b, max) || more_bits_than(mask_b & !mask_a, max) {
            prop_assert!(exact > max, "filter rejected {a:?} / {b:?} at distance {exact}");
        }
        Ok(())
    }

    #[test]
    fn bit_limits() {
        assert!(!more_bits_than(0, 0));
        assert!(more_bits_than(0b1, 0));
        assert!(!more_bits_than(0b101, 2));
        assert!(more_bits_than(0b111, 2));
        assert!(more_bits_than(1 << 63 | 1, 1));
    }
}
