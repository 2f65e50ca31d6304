//! Measuring answer quality and speed: question sets (`eval`), fitting the
//! answer decision on them (`fit`), benchmarks (`bench`) and synthetic
//! knowledge bases (`generate`).
//!
//! Uses `engine` and `config`; nothing here serves members.

pub mod bench;
pub(crate) mod eval;
pub(crate) mod fit;
pub mod generate;

use std::path::PathBuf;

/// What can go wrong measuring: files, formats, bad arguments, bad content.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot read question file {path}: {source}")]
    ReadQuestions { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("knowledge folder {dir} has {error}")]
    Knowledge { dir: PathBuf, error: crate::engine::snapshot::SnapshotError },
}

impl QualityError {
    pub(crate) fn read(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> QualityError + '_ {
        move |source| QualityError::Read { path: path.to_path_buf(), source }
    }

    pub(crate) fn read_questions(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> QualityError + '_ {
        move |source| QualityError::ReadQuestions { path: path.to_path_buf(), source }
    }

    pub(crate) fn write(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> QualityError + '_ {
        move |source| QualityError::Write { path: path.to_path_buf(), source }
    }
}
