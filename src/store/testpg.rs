//! A throwaway PostgreSQL server for tests: `initdb` into a temporary directory, the
//! server on a free loopback port (as the `postgres` user when the tests run as root, which
//! PostgreSQL refuses to run as), stopped by drop. Without PostgreSQL's binaries the caller
//! skips, except in CI, which must have them (`.ci/run` installs them).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server; stopped (and its directory removed) on drop.
pub struct TestPg {
    child: Child,
    #[allow(dead_code)] // read by `restart`
    dir: tempfile::TempDir,
    #[allow(dead_code)] // read by `restart`
    bin: PathBuf,
    pub port: u16,
}

/// Where `initdb` and `postgres` are.
fn bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("postgres").exists() {
            return Some(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("postgres").exists())
        .collect();
    found.sort();
    found.pop()
}

/// Run a PostgreSQL program, as `postgres` when we are root (`setpriv` execs it, so the
/// child's pid is the server's own).
fn command(bin: &std::path::Path) -> Command {
    if nix::unistd::Uid::effective().is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ])
        .arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

impl TestPg {
    /// Start one, or `None` (skip) where PostgreSQL is not installed outside CI.
    pub fn start() -> Option<TestPg> {
        let Some(bin) = bindir() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have PostgreSQL (.ci/run installs postgresql)"
            );
            eprintln!("skipped: PostgreSQL is not installed");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        if nix::unistd::Uid::effective().is_root() {
            let pg = nix::unistd::User::from_name("postgres").unwrap().unwrap();
            for p in [dir.path(), data.as_path()] {
                nix::unistd::chown(p, Some(pg.uid), Some(pg.gid)).unwrap();
            }
        }
        let out = command(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "hbmon", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = spawn(&bin, &data, dir.path(), port);
        Some(TestPg {
            child,
            dir,
            bin,
            port,
        })
    }

    /// Stop the server (a fast shutdown, as a restart under load does) and start it again
    /// on the same port with the same data.
    #[allow(dead_code)] // the integration tests use it; the unit tests do not
    pub fn restart(&mut self) {
        self.stop();
        let data = self.dir.path().join("data");
        self.child = spawn(&self.bin, &data, self.dir.path(), self.port);
    }

    fn stop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGINT,
            );
        }
        let _ = self.child.wait();
    }

    /// The URL of a database on it.
    #[must_use]
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://hbmon@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// A new empty database; its URL.
    pub fn database(&self, name: &str) -> String {
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        self.url(name)
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Start the server and wait until its log says it is ready (read on a thread, waited for
/// with a deadline).
fn spawn(bin: &std::path::Path, data: &std::path::Path, dir: &std::path::Path, port: u16) -> Child {
    let mut child = command(&bin.join("postgres"))
        .arg("-D")
        .arg(data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("ready to accept connections") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("PostgreSQL did not start within 30 s");
    child
}
