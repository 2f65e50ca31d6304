//! Full-text search over knowledge units with tantivy, plus a confidence measure.
//!
//! The index lives in RAM and is rebuilt from the units. Questions are never
//! handed to tantivy's query parser: they are cleaned (Discord mentions,
//! emoji, URLs), split into words, stripped of stop words, expanded with the
//! knowledge base's synonyms, corrected against the indexed vocabulary when a
//! word is unknown (typos), stemmed, and turned into a boolean query of term
//! queries with per-field boosts. No input can make a search fail.
//!
//! BM25 ranks; it cannot say whether anything answers the question at all.
//! That is `coverage`: the share of the question's informative words (each
//! weighted by its inverse document frequency, unknown words weighing most
//! unless they are common English) that a hit contains. An off-topic question leaves most of its weight
//! unexplained, whatever its BM25 score.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, TantivyError, Term};

use crate::engine::knowledge::{Knowledge, Unit, UnitKind};
use crate::engine::settings::FieldBoosts;
use crate::engine::words::{is_common_english, is_stop_word, MAX_WORD_LEN};

/// Share of an unknown word's weight kept when the word is common English.
const COMMON_UNKNOWN_SHARE: f32 = 0.3;

/// Least weight of a known word in `coverage`, whatever its idf.
const TOPIC_WEIGHT_FLOOR: f32 = 1.5;

/// How many candidates BM25 hands to the coverage re-ranking.
const CANDIDATES: usize = 12;

/// One search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Index into `Knowledge::units`.
    pub unit: usize,
    /// Ranking score: BM25 scaled by coverage, so a passage that explains
    /// more of the question beats one that repeats a single word.
    pub score: f32,
    /// Share (0 to 1) of the question's weight this unit contains.
    pub(crate) coverage: f32,
}

/// One informative word of a question, with the index terms that count as it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QueryTerm {
    pub(crate) word: String,
    /// Stems that match this word: its own, a typo correction, synonyms.
    pub(crate) stems: Vec<String>,
    /// Inverse document frequency: how much this word says.
    pub(crate) weight: f32,
}

/// A tantivy index over one `Knowledge`, with the statistics coverage needs.
pub struct SearchIndex {
    searcher: Searcher,
    fields: [Field; 4],
    /// Each segment's `unit` column, opened once here rather than per hit.
    unit_columns: Vec<Column<u64>>,
    boosts: FieldBoosts,
    stemmer: TextAnalyzer,
    statistics: Statistics,
    /// Surface words bucketed by length in chars, so correction scans few.
    words_by_length: Vec<LengthBucket>,
    synonyms: HashMap<String, Vec<String>>,
    // Kept so the searcher's segments stay alive with this index.
    _reader: IndexReader,
}

const STEM_TOKENIZER: &str = "bot_en_stem";

impl SearchIndex {
    /// Indexes every unit of `knowledge`.
    pub fn build(knowledge: &Knowledge, boosts: FieldBoosts) -> tantivy::Result<SearchIndex> {
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(STEM_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let text = TextOptions::default().set_indexing_options(indexing);
        let title = schema.add_text_field("title", text.clone());
        let keywords = schema.add_text_field("keywords", text.clone());
        let body = schema.add_text_field("body", text.clone());
        let asked = schema.add_text_field("asked", text);
        let unit = schema.add_u64_field("unit", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(STEM_TOKENIZER, stem_analyzer());

        // The statistics coverage needs come from the units, not the index:
        // computing them while tantivy indexes puts the second core to work.
        let (statistics, searcher_and_reader) = std::thread::scope(|scope| {
            let statistics = scope.spawn(|| Statistics::compute(knowledge));
            let indexed = index_units(&index, knowledge, [title, keywords, body, asked], unit);
            (statistics.join(), indexed)
        });
        let (searcher, reader) = searcher_and_reader?;
        let statistics =
            statistics.map_err(|_| TantivyError::SystemError("computing word statistics failed".into()))?;
        let unit_columns = searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.fast_fields().u64("unit"))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let stemmer = TextAnalyzer::builder(RawTokenizer::default()).filter(Stemmer::default()).build();
        let mut sorted_words: Vec<Vec<String>> = Vec::new();
        for word in statistics.vocabulary.keys() {
            let length = word.chars().count();
            if sorted_words.len() <= length {
                sorted_words.resize(length + 1, Vec::new());
            }
            sorted_words[length].push(word.clone());
        }
        let words_by_length = sorted_words
            .into_iter()
            .map(|mut words| {
                words.sort();
                LengthBucket { masks: words.iter().map(|word| char_mask(word)).collect(), words }
            })
            .collect();
        let synonyms =
            knowledge.synonyms.iter().map(|(word, expansions)| (word.to_lowercase(), expansions.clone())).collect();
        Ok(SearchIndex {
            searcher,
            fields: [title, keywords, body, asked],
            unit_columns,
            boosts,
            stemmer,
            statistics,
            words_by_length,
            synonyms,
            _reader: reader,
        })
    }

    /// Splits a question into weighted terms (see the module docs).
    pub(crate) fn analyze(&self, question: &str) -> Vec<QueryTerm> {
        let mut stemmer = self.stemmer.clone();
        let mut terms: Vec<QueryTerm> = Vec::new();
        for word in words(&strip_discord_markup(question)) {
            if is_stop_word(&word) || terms.iter().any(|term| term.word == word) {
                continue;
            }
            let mut stems = Vec::new();
            let known = self.statistics.stem_of(&word).map(str::to_string).or_else(|| {
                let stem = stem_word(&mut stemmer, &word);
                self.statistics.doc_freq(&stem).is_some().then_some(stem)
            });
            match known {
                Some(stem) => stems.push(stem),
                None => match self.correct(&word) {
                    // A misspelt filler word ("dose" for "does") is still filler.
                    Some(corrected) if is_stop_word(&corrected) => continue,
                    Some(corrected) => stems.extend(self.statistics.stem_of(&corrected).map(str::to_string)),
                    None => {}
                },
            }
            for expansion in self.synonyms.get(&word).into_iter().flatten() {
                for synonym in words(expansion).filter(|w| !is_stop_word(w)) {
                    let stem = stem_word(&mut stemmer, &synonym);
                    if !stems.contains(&stem) {
                        stems.push(stem);
                    }
                }
            }
            let weight = stems
                .iter()
                .filter_map(|stem| self.statistics.doc_freq(stem))
                .map(|df| self.idf(df))
                .fold(None, |max: Option<f32>, idf| Some(max.map_or(idf, |m| m.max(idf))));
            // Unknown words weigh most: they are what the knowledge base does not
            // cover. Words it uses everywhere ("AI", "engineer") rank nothing,
            // but they still show the question is on topic, hence the floor.
            // An unknown word that is common English ("putting", "scared") is more
            // likely chat than the subject of the question ("salary", "pizza").
            let unknown = if is_common_english(&word) { self.idf(0) * COMMON_UNKNOWN_SHARE } else { self.idf(0) };
            let weight = weight.map_or(unknown, |idf| idf.max(TOPIC_WEIGHT_FLOOR));
            terms.push(QueryTerm { word, stems, weight });
        }
        terms
    }

    /// The best units for `question`, best first, at most `limit`.
    pub(crate) fn search(&self, question: &str, limit: usize) -> Vec<Hit> {
        let terms = self.analyze(question);
        self.search_terms(&terms, limit)
    }

    /// Like `search`, for an already analyzed question.
    pub(crate) fn search_terms(&self, terms: &[QueryTerm], limit: usize) -> Vec<Hit> {
        let total_weight: f32 = terms.iter().map(|term| term.weight).sum();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let boosts = [self.boosts.title, self.boosts.keywords, self.boosts.body, self.boosts.asked];
        for term in terms {
            for stem in &term.stems {
                for (field, boost) in self.fields.iter().zip(boosts) {
                    let query = TermQuery::new(Term::from_field_text(*field, stem), IndexRecordOption::WithFreqs);
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(query), boost))));
                }
            }
        }
        if clauses.is_empty() || total_weight <= 0.0 || limit == 0 {
            return Vec::new();
        }
        let query = BooleanQuery::new(clauses);
        let Ok(top) = self.searcher.search(&query, &TopDocs::with_limit(CANDIDATES.max(limit)).order_by_score()) else {
            return Vec::new();
        };
        // Stems no unit contains cannot count towards coverage; the others are
        // looked up once here rather than once per hit.
        let term_stem_ids: Vec<Vec<u32>> = terms
            .iter()
            .map(|term| {
                term.stems.iter().filter_map(|stem| self.statistics.stem_ids.get(stem.as_str()).copied()).collect()
            })
            .collect();
        let mut hits: Vec<Hit> = top
            .into_iter()
            .filter_map(|(score, address)| {
                let unit = self.unit_of(address)?;
                let stems = self.statistics.unit_stems.get(unit)?;
                let covered: f32 = terms
                    .iter()
                    .zip(&term_stem_ids)
                    .filter(|(_, ids)| ids.iter().any(|id| stems.binary_search(id).is_ok()))
                    .map(|(term, _)| term.weight)
                    .sum();
                let coverage = covered / total_weight;
                Some(Hit { unit, score: score * coverage, coverage })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.unit.cmp(&b.unit)));
        hits.truncate(limit);
        hits
    }

    fn unit_of(&self, address: DocAddress) -> Option<usize> {
        let column = self.unit_columns.get(address.segment_ord as usize)?;
        column.first(address.doc_id).map(|unit| unit as usize)
    }

    fn idf(&self, doc_freq: u32) -> f32 {
        let units = self.statistics.unit_stems.len() as f32;
        let doc_freq = doc_freq as f32;
        (1.0 + (units - doc_freq + 0.5) / (doc_freq + 0.5)).ln()
    }

    /// The indexed word closest to an unknown `word`, if one is within a typo
    /// or two: distance 1 for words of 5 to 7 letters (only a swap of two
    /// letters for four-letter words), 2 from 8 letters.
    /// Ties go to the more common word.
    fn correct(&self, word: &str) -> Option<String> {
        let length = word.chars().count();
        let max_distance = match length {
            0..=3 => return None,
            4..=7 => 1,
            _ => 2,
        };
        let word_chars = CharBuffer::new(word)?;
        let word_mask = char_mask(word);
        let mut best: Option<(usize, u32, &String)> = None;
        for bucket in self.words_by_length.iter().take(length + max_distance + 1).skip(length - max_distance) {
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
                let frequency =
                    self.statistics.stem_of(candidate).and_then(|stem| self.statistics.doc_freq(stem)).unwrap_or(0);
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

/// Adds every unit to a fresh writer and commits, returning the searcher.
fn index_units(
    index: &Index,
    knowledge: &Knowledge,
    [title, keywords, body, asked]: [Field; 4],
    unit: Field,
) -> tantivy::Result<(Searcher, IndexReader)> {
    // One indexing thread and one commit; 15 MB is tantivy's minimum budget.
    let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
    for (position, unit_data) in knowledge.units.iter().enumerate() {
        let mut document = TantivyDocument::default();
        // Only a section's lead passage carries its heading at title weight:
        // a question matching just the heading is best answered by the lead.
        let lead = position == 0
            || unit_data.kind != UnitKind::Section
            || knowledge.units[position - 1].title != unit_data.title;
        let title_field = if lead { title } else { keywords };
        document.add_text(title_field, &unit_data.title);
        // Aliases are questions this very unit answers: they count like a title.
        document.add_text(title, unit_data.aliases.join(" \n "));
        document.add_text(keywords, unit_data.keywords.join(" \n "));
        let (statements, questions) = split_asked(&unit_data.text);
        document.add_text(body, statements);
        document.add_text(asked, questions);
        document.add_u64(unit, position as u64);
        writer.add_document(document)?;
    }
    writer.commit()?;
    let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
    Ok((reader.searcher(), reader))
}

/// What coverage and typo correction know of the indexed words. Stems are
/// interned as ids: per-unit sets of strings took most of the memory of a
/// large knowledge base and much of its build time.
struct Statistics {
    /// Every indexed surface word with the id of its stem.
    vocabulary: HashMap<String, u32>,
    /// Stems by id.
    stems: Vec<String>,
    stem_ids: HashMap<String, u32>,
    /// Number of units containing each stem, by id.
    doc_freqs: Vec<u32>,
    /// The stem ids of each unit, all fields together, sorted and distinct.
    unit_stems: Vec<Box<[u32]>>,
}

impl Statistics {
    fn compute(knowledge: &Knowledge) -> Statistics {
        let mut stemmer = TextAnalyzer::builder(RawTokenizer::default()).filter(Stemmer::default()).build();
        let mut statistics = Statistics {
            vocabulary: HashMap::new(),
            stems: Vec::new(),
            stem_ids: HashMap::new(),
            doc_freqs: Vec::new(),
            unit_stems: Vec::with_capacity(knowledge.units.len()),
        };
        let mut lowercase;
        let mut ids = Vec::new();
        for unit in &knowledge.units {
            ids.clear();
            for word in unit_raw_words(unit) {
                // Most words are lowercase ASCII already; only the others are
                // copied (with `to_lowercase`, exactly as `words` does).
                let word = if word.is_ascii() && !word.bytes().any(|byte| byte.is_ascii_uppercase()) {
                    word
                } else {
                    lowercase = word.to_lowercase();
                    lowercase.as_str()
                };
                let id = match statistics.vocabulary.get(word) {
                    Some(&id) => id,
                    None => {
                        let stem = stem_word(&mut stemmer, word);
                        let id = statistics.intern(stem);
                        statistics.vocabulary.insert(word.to_string(), id);
                        id
                    }
                };
                ids.push(id);
            }
            ids.sort_unstable();
            ids.dedup();
            for &id in &ids {
                statistics.doc_freqs[id as usize] += 1;
            }
            statistics.unit_stems.push(ids.as_slice().into());
        }
        statistics
    }

    fn intern(&mut self, stem: String) -> u32 {
        if let Some(&id) = self.stem_ids.get(&stem) {
            return id;
        }
        let id = self.stems.len() as u32;
        self.stems.push(stem.clone());
        self.stem_ids.insert(stem, id);
        self.doc_freqs.push(0);
        id
    }

    /// The stem of an indexed surface word.
    fn stem_of(&self, word: &str) -> Option<&str> {
        self.vocabulary.get(word).map(|&id| self.stems[id as usize].as_str())
    }

    /// Number of units containing `stem`; `None` when no unit does.
    fn doc_freq(&self, stem: &str) -> Option<u32> {
        self.stem_ids.get(stem).map(|&id| self.doc_freqs[id as usize])
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

/// The analyzer used for indexing; `words` + `stem_word` reproduce it for questions.
fn stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_LEN))
        .filter(LowerCaser)
        .filter(Stemmer::default())
        .build()
}

fn stem_word(stemmer: &mut TextAnalyzer, word: &str) -> String {
    let mut stream = stemmer.token_stream(word);
    let mut stem = word.to_string();
    stream.process(&mut |token| stem = token.text.clone());
    stem
}

/// Lowercased words as tantivy's `SimpleTokenizer` + `LowerCaser` split them.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && word.len() < MAX_WORD_LEN)
        .map(str::to_lowercase)
}

/// `words` before lowercasing, borrowed from the text.
fn raw_words(text: &str) -> impl Iterator<Item = &str> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty() && word.len() < MAX_WORD_LEN)
}

fn unit_raw_words(unit: &Unit) -> impl Iterator<Item = &str> + '_ {
    raw_words(&unit.title)
        .chain(unit.keywords.iter().chain(&unit.aliases).flat_map(|keyword| raw_words(keyword)))
        .chain(raw_words(&unit.text))
}

/// Removes what Discord puts in messages but is not the question: user, role
/// and channel mentions (`<@123>`, `<@&1>`, `<#1>`), custom emoji
/// (`<:name:1>`), timestamps (`<t:1:R>`) and links.
pub(crate) fn strip_discord_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match tail.find('>') {
            Some(end) if end <= 100 && is_discord_token(&tail[1..end]) => {
                out.push(' ');
                rest = &tail[end + 1..];
            }
            _ => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace()
        .filter(|word| !word.starts_with("http://") && !word.starts_with("https://"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_discord_token(inner: &str) -> bool {
    let id = inner.trim_start_matches(['@', '#', '!', '&']);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if inner.len() != id.len() {
        return all_digits(id);
    }
    // `:name:id`, `a:name:id` (emoji) and `t:123:R` (timestamps).
    inner.starts_with(':') || inner.starts_with("a:") || inner.starts_with("t:")
}

/// Splits text into its statements and the questions it asks itself.
fn split_asked(text: &str) -> (String, String) {
    let (mut statements, mut questions) = (String::new(), String::new());
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        let ends = matches!(ch, '.' | '?' | '!') && chars.peek().is_none_or(|(_, next)| next.is_whitespace());
        if ends || chars.peek().is_none() {
            let end = at + ch.len_utf8();
            let sentence = &text[start..end];
            let target = if ch == '?' { &mut questions } else { &mut statements };
            target.push_str(sentence);
            target.push(' ');
            start = end;
        }
    }
    (statements, questions)
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

    #[test]
    fn typo_correction_finds_the_closest_most_common_word() {
        let sources = vec![(
            "kb.md".to_string(),
            "# Notes\n\n## Transition plans\n\nA transition takes time. Each transition needs a plan and a portfolio.\n\n\
             ## Translation\n\nTranslation of a transaction.\n"
                .to_string(),
        )];
        let (knowledge, diagnostics) = crate::engine::knowledge::parse_sources(&sources);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let index = SearchIndex::build(&knowledge, FieldBoosts::default()).expect("index builds");
        assert_eq!(index.correct("transiton").as_deref(), Some("transition"));
        assert_eq!(index.correct("portfolo").as_deref(), Some("portfolio"));
        assert_eq!(index.correct("xyzzyxyzzy"), None);
        let terms = index.analyze("how lnog is a transtion?");
        assert!(terms.iter().any(|term| term.word == "transtion" && term.stems == ["transit"]), "{terms:?}");
    }
}

#[cfg(test)]
mod split_tests {
    use super::split_asked;

    #[test]
    fn questions_the_text_asks_are_set_apart() {
        let (statements, questions) = split_asked("Should I move? Am I late?\n\nYes. It is fine! v1.2 works");
        assert_eq!(questions.split_whitespace().collect::<Vec<_>>(), ["Should", "I", "move?", "Am", "I", "late?"]);
        assert_eq!(statements.split_whitespace().collect::<Vec<_>>().join(" "), "Yes. It is fine! v1.2 works");
    }
}
