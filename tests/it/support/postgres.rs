//! A throwaway PostgreSQL cluster for the tests, from the distribution's
//! packages (`apt-get install postgresql`; `.ci/run` installs it): `initdb`
//! in a temp folder, the server on a free loopback port, stopped and
//! deleted when dropped. PostgreSQL refuses to run as root, so under root
//! the cluster belongs to, and runs as, the `postgres` user.
//!
//! Each test starts its own cluster (about a second), so a test that stops
//! the server disturbs no other.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// TLS is on, with a certificate for 127.0.0.1 signed by `ca.crt`.
    tls: bool,
    /// The user the server runs as, when the tests run as root.
    run_as: Option<&'static str>,
}

impl Postgres {
    /// Creates and starts a cluster; panics, saying what to install, when
    /// PostgreSQL's server programs are missing.
    pub fn start() -> Postgres {
        Postgres::create(false)
    }

    /// Like `start`, with TLS on: the server's certificate, for 127.0.0.1, is
    /// signed by a test CA made here with `openssl` (whose file `ca_file` names).
    pub fn start_with_tls() -> Postgres {
        Postgres::create(true)
    }

    /// The test CA's certificate (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    fn create(tls: bool) -> Postgres {
        let bin = server_bin().unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server programs (initdb, pg_ctl) were not found: install them \
                 (Debian/Ubuntu: apt-get install postgresql) or set PG_BIN to their folder; .ci/run does this"
            )
        });
        let dir = tempfile::Builder::new().prefix("tb-pg-").tempdir().unwrap();
        // SAFETY: geteuid has no preconditions.
        let run_as = (unsafe { libc::geteuid() } == 0).then_some("postgres");
        if tls {
            make_certificates(dir.path());
        }
        if let Some(user) = run_as {
            let id = |flag: &str| -> u32 {
                let out = Command::new("id").args([flag, user]).output().unwrap();
                String::from_utf8_lossy(&out.stdout).trim().parse().expect("the postgres user exists")
            };
            for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
                std::os::unix::fs::chown(entry.path(), Some(id("-u")), Some(id("-g"))).unwrap();
            }
            std::os::unix::fs::chown(dir.path(), Some(id("-u")), Some(id("-g"))).unwrap();
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let postgres = Postgres { dir, bin, port, tls, run_as };
        let data = postgres.data();
        postgres
            .run("initdb", &["-D", &data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        postgres.start_server();
        postgres
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Creates the database `name` in the cluster; returns its URL, as `url`.
    pub fn create_database(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name]);
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server (fast shutdown: connections are closed).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// Starts the server again on the same port, with the same data.
    pub fn start_server(&self) {
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        if self.tls {
            let file = |name: &str| self.dir.path().join(name).display().to_string();
            options +=
                &format!(" -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}", file("server.crt"), file("server.key"));
        }
        let log = self.dir.path().join("server.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-o", &options, "-w", "start"]);
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let program = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        let output = command.args(args).current_dir(self.dir.path()).output().unwrap();
        assert!(
            output.status.success(),
            "{} {args:?} failed: {}{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = match self.run_as {
            Some(user) => Command::new("runuser").args(["-u", user, "--"]).arg(&program).args(args).output(),
            None => Command::new(&program).args(args).output(),
        };
    }
}

/// A test CA, and a certificate for 127.0.0.1 it signs, in `dir` (with `openssl`,
/// which Debian's `postgresql` package brings along).
fn make_certificates(dir: &Path) {
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=transition-bot test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ],
    ];
    for args in steps {
        let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
        assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    // PostgreSQL refuses a key others can read.
    std::fs::set_permissions(dir.join("server.key"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

/// `PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin`, else `initdb` on the `PATH`.
fn server_bin() -> Option<PathBuf> {
    let has_initdb = |dir: &Path| dir.join("initdb").is_file();
    if let Some(dir) = std::env::var_os("PG_BIN").map(PathBuf::from) {
        return has_initdb(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| has_initdb(bin))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).find(|dir| has_initdb(dir)))
}
