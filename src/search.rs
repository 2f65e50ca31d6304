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

use std::collections::{HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::knowledge::{Knowledge, Unit, UnitKind};

/// Share of an unknown word's weight kept when the word is common English.
const COMMON_UNKNOWN_SHARE: f32 = 0.3;

/// Least weight of a known word in `coverage`, whatever its idf.
const TOPIC_WEIGHT_FLOOR: f32 = 1.5;

/// How many candidates BM25 hands to the coverage re-ranking.
const CANDIDATES: usize = 12;

/// Relative weight of a match in each field: a word of a title or FAQ
/// question says more about what a unit answers than one in its body.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldBoosts {
    pub title: f32,
    pub keywords: f32,
    pub body: f32,
}

impl Default for FieldBoosts {
    fn default() -> Self {
        FieldBoosts { title: 2.5, keywords: 1.5, body: 1.0 }
    }
}

/// One search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Index into `Knowledge::units`.
    pub unit: usize,
    /// Ranking score: BM25 scaled by coverage, so a passage that explains
    /// more of the question beats one that repeats a single word.
    pub score: f32,
    /// Share (0 to 1) of the question's weight this unit contains.
    pub coverage: f32,
}

/// One informative word of a question, with the index terms that count as it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryTerm {
    pub word: String,
    /// Stems that match this word: its own, a typo correction, synonyms.
    pub stems: Vec<String>,
    /// Inverse document frequency: how much this word says.
    pub weight: f32,
}

/// A tantivy index over one `Knowledge`, with the statistics coverage needs.
pub struct SearchIndex {
    searcher: Searcher,
    fields: [Field; 3],
    unit_field: String,
    boosts: FieldBoosts,
    stemmer: TextAnalyzer,
    /// Every indexed surface word with its stem, for typo correction.
    vocabulary: HashMap<String, String>,
    /// Surface words bucketed by length in chars, so correction scans few.
    words_by_length: Vec<Vec<String>>,
    /// Number of units containing each stem.
    doc_freq: HashMap<String, u32>,
    /// The stems of each unit, all fields together.
    unit_stems: Vec<HashSet<String>>,
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
        let body = schema.add_text_field("body", text);
        let unit = schema.add_u64_field("unit", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(STEM_TOKENIZER, stem_analyzer());

        // One thread and one commit give one segment; 15 MB is tantivy's minimum budget.
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
            // Aliases are questions this unit answers: they count like a title.
            document.add_text(title_field, unit_data.aliases.join(" \n "));
            document.add_text(keywords, unit_data.keywords.join(" \n "));
            document.add_text(body, &unit_data.text);
            document.add_u64(unit, position as u64);
            writer.add_document(document)?;
        }
        writer.commit()?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let searcher = reader.searcher();

        let mut stemmer = TextAnalyzer::builder(RawTokenizer::default()).filter(Stemmer::default()).build();
        let mut vocabulary = HashMap::new();
        let mut doc_freq: HashMap<String, u32> = HashMap::new();
        let mut unit_stems = Vec::with_capacity(knowledge.units.len());
        for unit_data in &knowledge.units {
            let mut stems = HashSet::new();
            for word in unit_words(unit_data) {
                let stem = vocabulary.entry(word).or_insert_with_key(|word| stem_word(&mut stemmer, word));
                stems.insert(stem.clone());
            }
            for stem in &stems {
                *doc_freq.entry(stem.clone()).or_default() += 1;
            }
            unit_stems.push(stems);
        }
        let mut words_by_length: Vec<Vec<String>> = Vec::new();
        for word in vocabulary.keys() {
            let length = word.chars().count();
            if words_by_length.len() <= length {
                words_by_length.resize(length + 1, Vec::new());
            }
            words_by_length[length].push(word.clone());
        }
        for bucket in &mut words_by_length {
            bucket.sort();
        }
        let synonyms =
            knowledge.synonyms.iter().map(|(word, expansions)| (word.to_lowercase(), expansions.clone())).collect();
        Ok(SearchIndex {
            searcher,
            fields: [title, keywords, body],
            unit_field: "unit".to_string(),
            boosts,
            stemmer,
            vocabulary,
            words_by_length,
            doc_freq,
            unit_stems,
            synonyms,
            _reader: reader,
        })
    }

    /// Number of distinct indexed words, for reports.
    pub fn vocabulary_size(&self) -> usize {
        self.vocabulary.len()
    }

    /// Splits a question into weighted terms (see the module docs).
    pub fn analyze(&self, question: &str) -> Vec<QueryTerm> {
        let mut stemmer = self.stemmer.clone();
        let mut terms: Vec<QueryTerm> = Vec::new();
        for word in words(&strip_discord_markup(question)) {
            if is_stop_word(&word) || terms.iter().any(|term| term.word == word) {
                continue;
            }
            let mut stems = Vec::new();
            let known = self.vocabulary.get(&word).cloned().or_else(|| {
                let stem = stem_word(&mut stemmer, &word);
                self.doc_freq.contains_key(&stem).then_some(stem)
            });
            match known {
                Some(stem) => stems.push(stem),
                None => match self.correct(&word) {
                    // A misspelt filler word ("dose" for "does") is still filler.
                    Some(corrected) if is_stop_word(&corrected) => continue,
                    Some(corrected) => stems.push(self.vocabulary[&corrected].clone()),
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
                .filter_map(|stem| self.doc_freq.get(stem))
                .map(|&df| self.idf(df))
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
    pub fn search(&self, question: &str, limit: usize) -> Vec<Hit> {
        let terms = self.analyze(question);
        self.search_terms(&terms, limit)
    }

    /// Like `search`, for an already analyzed question.
    pub fn search_terms(&self, terms: &[QueryTerm], limit: usize) -> Vec<Hit> {
        let total_weight: f32 = terms.iter().map(|term| term.weight).sum();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let boosts = [self.boosts.title, self.boosts.keywords, self.boosts.body];
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
        let mut hits: Vec<Hit> = top
            .into_iter()
            .filter_map(|(score, address)| {
                let unit = self.unit_of(address)?;
                let stems = &self.unit_stems[unit];
                let covered: f32 = terms
                    .iter()
                    .filter(|term| term.stems.iter().any(|stem| stems.contains(stem)))
                    .map(|term| term.weight)
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
        let segment = self.searcher.segment_reader(address.segment_ord);
        let column = segment.fast_fields().u64(&self.unit_field).ok()?;
        column.first(address.doc_id).map(|unit| unit as usize)
    }

    fn idf(&self, doc_freq: u32) -> f32 {
        let units = self.unit_stems.len() as f32;
        let doc_freq = doc_freq as f32;
        (1.0 + (units - doc_freq + 0.5) / (doc_freq + 0.5)).ln()
    }

    /// The indexed word closest to an unknown `word`, if one is within a typo
    /// or two: distance 1 for words of 5 to 7 letters (only a swap of two
    /// letters for four-letter words), 2 from 8 letters.
    /// Ties go to the more common word.
    fn correct(&self, word: &str) -> Option<String> {
        let length = word.chars().count();
        // Short words are too close to too many others ("earn" is one typo from
        // "learn"), so four-letter words only get swapped letters fixed ("lnog").
        let max_distance = match length {
            0..=3 => return None,
            4..=7 => 1,
            _ => 2,
        };
        let mut best: Option<(usize, u32, &String)> = None;
        for bucket in self.words_by_length.iter().take(length + max_distance + 1).skip(length - max_distance) {
            for candidate in bucket {
                let distance = strsim::osa_distance(word, candidate);
                if distance > max_distance || (length == 4 && !is_transposition(word, candidate)) {
                    continue;
                }
                let frequency = self.doc_freq.get(&self.vocabulary[candidate]).copied().unwrap_or(0);
                let better = best.is_none_or(|(d, f, _)| distance < d || (distance == d && frequency > f));
                if better {
                    best = Some((distance, frequency, candidate));
                }
            }
        }
        best.map(|(_, _, word)| word.clone())
    }
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

/// The analyzer used for indexing; `words` + `stem_word` reproduce it for questions.
fn stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
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
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty() && word.len() < 40).map(str::to_lowercase)
}

fn unit_words(unit: &Unit) -> impl Iterator<Item = String> + '_ {
    let extra = unit.keywords.iter().chain(&unit.aliases);
    words(&unit.title).chain(extra.flat_map(|keyword| words(keyword))).chain(words(&unit.text))
}

/// Removes what Discord puts in messages but is not the question: user, role
/// and channel mentions (`<@123>`, `<@&1>`, `<#1>`), custom emoji
/// (`<:name:1>`), timestamps (`<t:1:R>`) and links.
pub fn strip_discord_markup(text: &str) -> String {
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

/// Whether `word` is among the 3,000 most frequent English words (`common_words.txt`).
fn is_common_english(word: &str) -> bool {
    static SET: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    let set = SET.get_or_init(|| {
        include_str!("common_words.txt").lines().filter(|line| !line.starts_with('#') && !line.is_empty()).collect()
    });
    set.contains(word)
}

/// Words that carry no meaning for retrieval, including chat filler.
pub fn is_stop_word(word: &str) -> bool {
    const STOP_WORDS: &[&str] = &[
        "a",
        "about",
        "after",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "anyone",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "for",
        "from",
        "get",
        "getting",
        "go",
        "going",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "know",
        "let",
        "like",
        "me",
        "mine",
        "my",
        "myself",
        "of",
        "on",
        "or",
        "our",
        "ours",
        "s",
        "she",
        "should",
        "so",
        "some",
        "someone",
        "tell",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "whats",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "t",
        "d",
        "ll",
        "m",
        "re",
        "ve",
        "don",
        "doesn",
        "isn",
        "aren",
        "hey",
        "hi",
        "hello",
        "yo",
        "pls",
        "please",
        "plz",
        "thanks",
        "thank",
        "thx",
        "ty",
        "lol",
        "guys",
        "folks",
        "bot",
        "ok",
        "okay",
        "um",
        "uh",
        "hmm",
        "btw",
        "anybody",
        "somebody",
        "question",
        "quick",
        "wondering",
        "wonder",
        "want",
        "wanna",
        "need",
        "im",
        "ive",
        "u",
        "ur",
        "r",
        "pretty",
        "very",
        "much",
        "many",
        "more",
        "most",
        "thing",
        "things",
        "stuff",
        "way",
        "ways",
        "does",
        "etc",
        "here",
        "now",
        "one",
        "ever",
        "same",
        "such",
        "only",
        "own",
        "other",
        "others",
        "each",
        "both",
        "via",
        "per",
        "up",
        "out",
        "over",
        "again",
        // Question frames: they say how something is asked, not what about.
        "people",
        "person",
        "between",
        "while",
        "until",
        "involve",
        "involves",
        "involved",
        "entail",
        "entails",
        "mean",
        "means",
        "meant",
        "basically",
        "exactly",
    ];
    static SET: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect()).contains(word)
}
