//! What the integration tests share: the fake Discord, the `serve` launcher,
//! a throwaway PostgreSQL, direct access to the bot's database, and small
//! file helpers.

pub mod bot;
pub mod database;
pub mod fake_discord;
pub mod postgres;

use std::path::{Path, PathBuf};

/// The knowledge base the project ships.
pub fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

/// Copies a folder recursively (test fixtures are small).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// The bot's binary, ready to run. Every process the tests start shares one
/// embedding cache, so only the first to build a knowledge base embeds its
/// texts (otherwise each would, next to its own throwaway database).
pub fn bot_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_transition-bot"));
    command
        .env("TRANSITION_BOT_ANSWER__EMBEDDING_CACHE", Path::new(env!("CARGO_TARGET_TMPDIR")).join("embeddings.cache"));
    command
}
