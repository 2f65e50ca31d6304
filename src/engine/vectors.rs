//! Static word vectors, to bridge a member's words to the text's without
//! hand-written synonyms: a word the knowledge base never uses ("quickly",
//! "gig", "pricey") is matched to the indexed words nearest in meaning.
//!
//! The vectors (`words/vectors.bin`, 38,663 English words × 64 dimensions,
//! int8) were distilled from all-MiniLM-L6-v2 by `scripts/distill_word_vectors.py`
//! (each word embedded alone, mean-pooled, PCA, quantized); the licence is in
//! `words/LICENSE-vectors.txt`. They are parsed once, on first use.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Dimensions of every vector.
pub(crate) const DIMS: usize = 64;

/// The parsed table: each word's offset into the file's bytes.
struct Table {
    offsets: HashMap<&'static str, usize>,
    bytes: &'static [u8],
}

static BYTES: &[u8] = include_bytes!("words/vectors.bin");

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse(BYTES).unwrap_or(Table { offsets: HashMap::new(), bytes: &[] }))
}

/// Reads the `TBWV` format (see the distillation script); `None` if it is not that.
fn parse(bytes: &'static [u8]) -> Option<Table> {
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if bytes.get(..4)? != b"TBWV" || u32_at(4)? != 1 || u32_at(8)? as usize != DIMS {
        return None;
    }
    let count = u32_at(12)? as usize;
    let mut offsets = HashMap::with_capacity(count);
    let mut at = 20;
    for _ in 0..count {
        let length = usize::from(*bytes.get(at)?);
        let word = std::str::from_utf8(bytes.get(at + 1..at + 1 + length)?).ok()?;
        bytes.get(at + 1 + length..at + 1 + length + DIMS)?;
        offsets.insert(word, at + 1 + length);
        at += 1 + length + DIMS;
    }
    Some(Table { offsets, bytes })
}

/// The vector of `word` (lowercase), if the table has it.
pub(crate) fn vector(word: &str) -> Option<[i8; DIMS]> {
    let table = table();
    let at = *table.offsets.get(word)?;
    let mut vector = [0i8; DIMS];
    for (value, byte) in vector.iter_mut().zip(&table.bytes[at..at + DIMS]) {
        *value = *byte as i8;
    }
    Some(vector)
}

/// Cosine similarity of two quantized unit vectors (their scale cancels out).
pub(crate) fn cosine(a: &[i8; DIMS], b: &[i8; DIMS]) -> f32 {
    let (mut dot, mut norm_a, mut norm_b) = (0i32, 0i32, 0i32);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (i32::from(*x), i32::from(*y));
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    if norm_a == 0 || norm_b == 0 {
        return 0.0;
    }
    dot as f32 / ((norm_a as f32).sqrt() * (norm_b as f32).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_loads_and_related_words_are_close() {
        let (salary, wages, pizza) = (vector("salary").unwrap(), vector("wages").unwrap(), vector("pizza").unwrap());
        assert!(cosine(&salary, &wages) > 0.6, "{}", cosine(&salary, &wages));
        assert!(cosine(&salary, &pizza) < cosine(&salary, &wages));
        assert!(vector("xqzzyq").is_none());
        assert!(table().offsets.len() > 30_000);
    }
}
