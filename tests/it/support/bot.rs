//! `transition-bot serve` as a child process pointed at a fake Discord, the
//! way an operator runs it: only `DISCORD_TOKEN` and
//! `TRANSITION_BOT_DISCORD__PROXY_URL` set, working in its own temp folder
//! that holds a copy of the shipped knowledge base. Killed when dropped; its
//! output goes to files read with `log`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::copy_dir;
use super::fake_discord::FakeDiscord;

pub struct Bot {
    child: Child,
    dir: tempfile::TempDir,
}

impl Bot {
    /// Starts `serve` with extra environment `env` (`RUST_LOG` defaults to info).
    pub fn start(fake: &FakeDiscord, env: &[(&str, &str)]) -> Bot {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"), &dir.path().join("knowledge"));
        Bot { child: spawn(fake, env, dir.path()), dir }
    }

    /// Stops this process and starts `serve` again in the same folder (its
    /// knowledge and database), as after a restart.
    pub fn restart(&mut self, fake: &FakeDiscord, env: &[(&str, &str)]) {
        self.terminate();
        self.child = spawn(fake, env, self.dir.path());
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The bot's working folder (its `knowledge/`, `data/` and logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Everything the bot printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("err.log")).unwrap_or_default()
            + &std::fs::read_to_string(self.path("out.log")).unwrap_or_default()
    }

    /// Waits up to `limit` for the process to end on its own.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends SIGTERM and waits (up to 20 s) for the process to end.
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "serve did not stop after SIGTERM:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve` in `dir`, pointed at `fake`, with output to files there.
fn spawn(fake: &FakeDiscord, env: &[(&str, &str)], dir: &Path) -> Child {
    crate::support::bot_command()
        .arg("serve")
        .current_dir(dir)
        .env("DISCORD_TOKEN", &fake.config().token)
        .env("TRANSITION_BOT_DISCORD__PROXY_URL", fake.base_url())
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("out.log")).unwrap())
        .stderr(std::fs::File::create(dir.join("err.log")).unwrap())
        .spawn()
        .unwrap()
}
