//! Full-text search over knowledge units with tantivy, plus a confidence measure.
//!
//! The index lives in RAM and is rebuilt from the units. Questions are never
//! handed to tantivy's query parser: they are cleaned (Discord mentions,
//! emoji, URLs), split into words, stripped of stop words, expanded with
//! chat shorthand ("yrs", "k8s") and the knowledge base's synonyms, corrected
//! against the indexed vocabulary when a word is unknown (typos), stemmed,
//! and turned into a boolean query of term queries with per-field boosts. No
//! input can make a search fail.
//!
//! The pieces live beside this file: `analysis` (words, stems, markup),
//! `typos` (correction), `statistics` (document frequencies, unit stems).
//!
//! BM25 ranks; it cannot say whether anything answers the question at all.
//! That is `coverage`: the share of the question's informative words (each
//! weighted by its inverse document frequency, unknown words weighing most
//! unless they are common English) that a hit contains. An off-topic question leaves most of its weight
//! unexplained, whatever its BM25 score.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::{RawTokenizer, Stemmer, TextAnalyzer};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, TantivyError, Term};

use crate::engine::knowledge::{Knowledge, UnitKind};
use crate::engine::policy::SearchPolicy;
use crate::engine::settings::FieldBoosts;
use crate::engine::vectors;
use crate::engine::words::{is_common_english, is_stop_word, shorthand};

pub(crate) mod analysis;
mod statistics;
mod typos;

use analysis::{split_asked, stem_analyzer, stem_word};
pub(crate) use analysis::{strip_discord_markup, words};
use statistics::Statistics;
use typos::Typos;

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
    /// Whether the knowledge base uses the word (or its correction, or a synonym).
    pub(crate) known: bool,
}

/// A tantivy index over one `Knowledge`, with the statistics coverage needs.
pub struct SearchIndex {
    searcher: Searcher,
    fields: [Field; 4],
    /// Each segment's `unit` column, opened once here rather than per hit.
    unit_columns: Vec<Column<u64>>,
    boosts: FieldBoosts,
    /// The tuned numbers of word weights, phrases and candidates (`policy.toml`'s `[search]`).
    policy: SearchPolicy,
    stemmer: TextAnalyzer,
    statistics: Statistics,
    typos: Typos,
    synonyms: HashMap<String, Vec<String>>,
    /// The stems of indexed words with their word vectors, to bridge unknown words.
    neighbours: Vec<(String, [i8; vectors::DIMS])>,
    /// Share of units without hand-written keywords or aliases (see `uncurated`).
    uncurated: f32,
    // Kept so the searcher's segments stay alive with this index.
    _reader: IndexReader,
}

const STEM_TOKENIZER: &str = "bot_en_stem";

impl SearchIndex {
    /// Indexes every unit of `knowledge`.
    pub fn build(
        knowledge: &Knowledge,
        boosts: FieldBoosts,
        policy: SearchPolicy,
        word_vectors: bool,
    ) -> tantivy::Result<SearchIndex> {
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
        let typos = Typos::new(statistics.vocabulary.keys());
        let neighbours = if word_vectors { bridgeable_words(&statistics) } else { Vec::new() };
        let plain = knowledge.units.iter().filter(|unit| unit.keywords.is_empty() && unit.aliases.is_empty()).count();
        let uncurated = plain as f32 / knowledge.units.len().max(1) as f32;
        let mut synonyms: HashMap<String, Vec<String>> = shorthand()
            .map(|(word, expansions)| (word.to_string(), expansions.map(str::to_string).collect()))
            .collect();
        synonyms.extend(knowledge.synonyms.iter().map(|(word, expansions)| (word.to_lowercase(), expansions.clone())));
        Ok(SearchIndex {
            searcher,
            fields: [title, keywords, body, asked],
            unit_columns,
            boosts,
            policy,
            stemmer,
            statistics,
            typos,
            synonyms,
            neighbours,
            uncurated,
            _reader: reader,
        })
    }

    /// Splits a question into weighted terms (see the module docs).
    pub(crate) fn analyze(&self, question: &str) -> Vec<QueryTerm> {
        let mut stemmer = self.stemmer.clone();
        let mut terms: Vec<QueryTerm> = Vec::new();
        // Shorthand for filler ("ppl" is "people") is filler too.
        let filler = |expansions: &Vec<String>| expansions.iter().all(|e| words(e).all(|w| is_stop_word(&w)));
        for word in words(&strip_discord_markup(question)) {
            if is_stop_word(&word)
                || terms.iter().any(|term| term.word == word)
                || self.synonyms.get(&word).is_some_and(filler)
            {
                continue;
            }
            let mut stems = Vec::new();
            let known = self.statistics.stem_of(&word).map(str::to_string).or_else(|| {
                let stem = stem_word(&mut stemmer, &word);
                self.statistics.doc_freq(&stem).is_some().then_some(stem)
            });
            match known {
                Some(stem) => stems.push(stem),
                None => match self.typos.correct(&word, &self.statistics) {
                    // A misspelt filler word ("dose" for "does") is still filler.
                    Some(corrected) if is_stop_word(&corrected) => continue,
                    // A common word is a word, not a typo: "match" is not "math".
                    Some(_) if is_common_english(&word) => {}
                    Some(corrected) => stems.extend(self.statistics.stem_of(&corrected).map(str::to_string)),
                    None => stems.extend(self.nearest_in_meaning(&word)),
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
            // An expansion no unit uses ("artificial intelligence" for "ai")
            // cannot match: querying it would only cost time.
            stems.retain(|stem| self.statistics.doc_freq(stem).is_some());
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
            let unknown =
                if is_common_english(&word) { self.idf(0) * self.policy.common_unknown_share } else { self.idf(0) };
            let known = weight.is_some();
            let weight = weight.map_or(unknown, |idf| idf.max(self.policy.topic_weight_floor));
            terms.push(QueryTerm { word, stems, weight, known });
        }
        terms
    }

    /// `text` with its misspelt words corrected to the indexed words they
    /// are a typo of, as `analyze` corrects them ("which skils matter" reads
    /// "which skills matter"), for readers that do not correct typos
    /// themselves (the semantic matcher's tokenizer splits "skils" into
    /// pieces that mean nothing). Everything else is kept as written.
    pub(crate) fn spelled(&self, text: &str) -> String {
        let mut stemmer = self.stemmer.clone();
        let mut out = String::with_capacity(text.len());
        for token in text.split_inclusive(char::is_whitespace) {
            let start = token.find(char::is_alphanumeric);
            let end =
                token.rfind(char::is_alphanumeric).map(|at| at + token[at..].chars().next().map_or(1, char::len_utf8));
            let (Some(start), Some(end)) = (start, end) else {
                out.push_str(token);
                continue;
            };
            let word = token[start..end].to_lowercase();
            let plain = word.chars().all(|c| c.is_alphabetic());
            let known = self.statistics.stem_of(&word).is_some()
                || self.statistics.doc_freq(&stem_word(&mut stemmer, &word)).is_some();
            let corrected = (plain && !known && !is_stop_word(&word) && !is_common_english(&word))
                .then(|| self.typos.correct(&word, &self.statistics))
                .flatten()
                .filter(|corrected| !is_stop_word(corrected));
            match corrected {
                Some(corrected) => {
                    out.push_str(&token[..start]);
                    out.push_str(&corrected);
                    out.push_str(&token[end..]);
                }
                None => out.push_str(token),
            }
        }
        out
    }

    /// The best units for analyzed `terms`, best first, at most `limit`.
    pub(crate) fn search_terms(&self, terms: &[QueryTerm], limit: usize) -> Vec<Hit> {
        let total_weight: f32 = terms.iter().map(|term| term.weight).sum();
        if total_weight <= 0.0 || limit == 0 {
            return Vec::new();
        }
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
        // Two of the member's words side by side in a passage ("new models",
        // "models as services") say more than the same words apart: each neighbouring
        // pair is also a phrase query that allows a few words in between. Not
        // in `asked`: the questions a passage asks itself weigh too little
        // for a phrase there to change a ranking, and each query costs time.
        for pair in terms.windows(2).filter(|pair| pair[0].known && pair[1].known) {
            let (Some(first), Some(second)) = (pair[0].stems.first(), pair[1].stems.first()) else { continue };
            // `fields` and `boosts` end with `asked`.
            for (field, boost) in self.fields[..3].iter().zip(boosts) {
                let phrase = vec![Term::from_field_text(*field, first), Term::from_field_text(*field, second)];
                let mut query = PhraseQuery::new(phrase);
                query.set_slop(self.policy.phrase_slop);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), boost * self.policy.phrase_boost)),
                ));
            }
        }
        if clauses.is_empty() {
            return Vec::new();
        }
        let query = BooleanQuery::new(clauses);
        let Ok(top) =
            self.searcher.search(&query, &TopDocs::with_limit(self.policy.candidates.max(limit)).order_by_score())
        else {
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

    /// The stems of the indexed words closest in meaning to `word`, which the
    /// knowledge base does not use: at most the policy's `neighbours`, each
    /// at least its `min_similarity` close.
    fn nearest_in_meaning(&self, word: &str) -> Vec<String> {
        let Some(vector) = vectors::vector(word) else { return Vec::new() };
        let mut best: Vec<(f32, &str)> = Vec::new();
        for (stem, candidate) in &self.neighbours {
            let similarity = vectors::cosine(&vector, candidate);
            if similarity >= self.policy.min_similarity && !best.iter().any(|(_, known)| known == stem) {
                best.push((similarity, stem));
                best.sort_by(|a, b| b.0.total_cmp(&a.0));
                best.truncate(self.policy.neighbours);
            }
        }
        best.into_iter().map(|(_, stem)| stem.to_string()).collect()
    }

    /// Share (0 to 1) of the units without hand-written keywords or aliases:
    /// how plain the knowledge base is, which the answer decision weighs.
    pub(crate) fn uncurated(&self) -> f32 {
        self.uncurated
    }

    /// The largest idf in this index (a word no unit contains): the scale of its scores.
    pub(crate) fn max_idf(&self) -> f32 {
        self.idf(0)
    }

    fn idf(&self, doc_freq: u32) -> f32 {
        let units = self.statistics.unit_stems.len() as f32;
        let doc_freq = doc_freq as f32;
        (1.0 + (units - doc_freq + 0.5) / (doc_freq + 0.5)).ln()
    }
}

/// Every indexed word that has a vector (stop words aside), with its stem.
fn bridgeable_words(statistics: &Statistics) -> Vec<(String, [i8; vectors::DIMS])> {
    let mut words: Vec<(&String, &u32)> = statistics.vocabulary.iter().collect();
    // Sorted, so that ties between equally near words resolve the same way on every build.
    words.sort();
    words
        .into_iter()
        .filter(|(word, _)| word.len() >= 3 && !is_stop_word(word))
        .filter_map(|(word, &id)| Some((statistics.stems[id as usize].clone(), vectors::vector(word)?)))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_shorthand_expands_unless_the_knowledge_base_says_otherwise() {
        let notes =
            "# Notes\n\n## Learning\n\nPlan ten hours a week.\n\n## Hiring\n\nHiring managers read portfolios.\n";
        let terms_of = |sources: &[(&str, &str)], word: &str| {
            let sources: Vec<(String, String)> =
                sources.iter().map(|(name, text)| (name.to_string(), text.to_string())).collect();
            let (knowledge, diagnostics) = crate::engine::knowledge::parse_sources(&sources);
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
            let index = SearchIndex::build(&knowledge, FieldBoosts::default(), SearchPolicy::default(), false)
                .expect("index builds");
            index.analyze(word)
        };
        let stems_of = |sources: &[(&str, &str)], word: &str| {
            terms_of(sources, word).into_iter().flat_map(|term| term.stems).collect::<Vec<_>>()
        };
        // "ppl" is "people", a stop word: it is not an unknown word of the question.
        assert_eq!(terms_of(&[("kb.md", notes)], "ppl"), []);
        let expanded = stems_of(&[("kb.md", notes)], "hrs");
        assert!(expanded.contains(&"hour".to_string()), "{expanded:?}");
        let synonyms = "+++\nkind = \"synonyms\"\n+++\n- hrs = hiring\n";
        let replaced = stems_of(&[("kb.md", notes), ("syn.md", synonyms)], "hrs");
        assert!(replaced.contains(&"hire".to_string()) && !replaced.contains(&"hour".to_string()), "{replaced:?}");
    }
    #[test]
    fn typo_correction_finds_the_closest_most_common_word() {
        let sources = vec![(
            "kb.md".to_string(),
            "# Notes\n\n## Transition plans\n\nA transition takes time. Each transition needs a plan and a portfolio.\n\n\
             ## Translation\n\nTranslation of a transaction.\n\n## Math\n\nMath matters.\n"
                .to_string(),
        )];
        let (knowledge, diagnostics) = crate::engine::knowledge::parse_sources(&sources);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let index = SearchIndex::build(&knowledge, FieldBoosts::default(), SearchPolicy::default(), true)
            .expect("index builds");
        assert_eq!(index.typos.correct("transiton", &index.statistics).as_deref(), Some("transition"));
        assert_eq!(index.typos.correct("portfolo", &index.statistics).as_deref(), Some("portfolio"));
        assert_eq!(index.typos.correct("xyzzyxyzzy", &index.statistics), None);
        let terms = index.analyze("how lnog is a transtion?");
        assert!(terms.iter().any(|term| term.word == "transtion" && term.stems == ["transit"]), "{terms:?}");
        // "match" is one letter from the indexed "math", but it is common English,
        // a word of its own: it is not corrected into another.
        let terms = index.analyze("anyone watching the match tonight?");
        assert!(terms.iter().all(|term| !term.stems.iter().any(|stem| stem == "math")), "{terms:?}");
        assert!(index.analyze("any maht tips").iter().any(|term| term.stems == ["math"]));
    }
}
