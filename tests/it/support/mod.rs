//! What the integration tests share: the fake Discord, the `serve` launcher,
//! a throwaway PostgreSQL, direct access to the bot's database, and small
//! file helpers.

pub mod bot;
pub mod database;
pub mod fake_discord;
pub mod history;
pub mod postgres;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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

/// The embedding cache every test shares, warmed before the first use: the
/// first caller embeds the shipped knowledge's training texts (a minute or
/// more in a debug build), the others wait for it, so no test's deadline
/// runs against a cold embedding or against several at once.
pub fn embedding_cache() -> &'static Path {
    static WARM: OnceLock<PathBuf> = OnceLock::new();
    WARM.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("embeddings.cache");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_transition-bot"))
            .args(["--knowledge", knowledge_dir().to_str().expect("utf-8 path"), "check"])
            .env(EMBEDDING_CACHE, &path)
            .output()
            .expect("run transition-bot check to warm the embedding cache");
        assert!(path.exists(), "check did not write the embedding cache: {}", String::from_utf8_lossy(&output.stderr));
        path
    })
}

const EMBEDDING_CACHE: &str = "TRANSITION_BOT_ANSWER__EMBEDDING_CACHE";

/// Answer settings for snapshots built in the test process, with the shared,
/// warm embedding cache (`embedding_cache`).
pub fn answer_settings() -> transition_bot::engine::settings::AnswerSettings {
    transition_bot::engine::settings::AnswerSettings::default().with_embedding_cache(embedding_cache().to_path_buf())
}

/// The bot's binary, ready to run. Every process the tests start shares one
/// embedding cache (`embedding_cache`), so only the first to build a
/// knowledge base embeds its texts (otherwise each would, next to its own
/// throwaway database).
pub fn bot_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_transition-bot"));
    command.env(EMBEDDING_CACHE, embedding_cache());
    command
}
