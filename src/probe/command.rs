//! The command probe: run a program that follows the Nagios plugin convention (exit 0
//! up, 1 degraded, 2 down, anything else unknown) and take the first line of its output
//! as the reason. The program runs in its own process group so that a timeout kills
//! everything it started, not just the direct child.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use super::{Outcome, timed_out};
use crate::model::CommandProbe;
use crate::status::Status;

/// Reasons are cut to this many characters.
const REASON_LIMIT: usize = 200;

/// The most of each of stdout and stderr read; the rest is drained (never buffered).
const OUTPUT_LIMIT: usize = 64 * 1024;

pub async fn probe(p: &CommandProbe, timeout: Duration) -> Outcome {
    let mut cmd = tokio::process::Command::new(&p.program);
    cmd.args(&p.args)
        .envs(&p.env)
        .current_dir(&p.working_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (mut child, mut group) = match spawn(&mut cmd, &p.program) {
        Ok(c) => c,
        Err(why) => return Outcome::new(Status::Unknown, why),
    };
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let work = finish(&mut child, &mut group, async {
        tokio::join!(read_capped(out, &mut stdout), read_capped(err, &mut stderr));
    });
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(status)) => classify(status, &stdout, &stderr),
        Ok(Err(e)) => Outcome::new(Status::Unknown, format!("cannot wait for the command: {e}")),
        Err(_) => timed_out(timeout),
    }
}

/// Start `cmd` (named `program` in errors) as every command hbmon runs: stdin from
/// `/dev/null`, in a process group of its own (so that killing the group reaches all it
/// started), killed when its handle is dropped, and on Linux killed when hbmon dies, even
/// by SIGKILL (so that a crashed `watch` leaves no command running). The error is the
/// reason to show: "command not found: <program>".
pub(super) fn spawn(
    cmd: &mut tokio::process::Command,
    program: &str,
) -> Result<(tokio::process::Child, Group), String> {
    cmd.stdin(Stdio::null()).kill_on_drop(true).process_group(0);
    die_with_parent(cmd);
    match cmd.spawn() {
        Ok(child) => {
            let group = Group(child.id().and_then(|p| i32::try_from(p).ok()));
            Ok((child, group))
        }
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "command not found",
                std::io::ErrorKind::PermissionDenied => "permission denied running",
                _ => "cannot run",
            };
            Err(format!("{why}: {program}"))
        }
    }
}

/// The parent-death signal: the kernel sends the command SIGKILL when the thread that
/// started it ends (a runtime's worker, which lives as long as hbmon does).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut tokio::process::Command) {
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes one prctl(2) system call and
    // allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut tokio::process::Command) {}

/// Wait for `child` to exit while `read` reads its output; then kill what it left
/// running in its group (a background process holding the output open would otherwise
/// keep the reading, and the wait, going until the timeout) and finish reading.
pub(super) async fn finish(
    child: &mut tokio::process::Child,
    group: &mut Group,
    read: impl std::future::Future<Output = ()>,
) -> std::io::Result<std::process::ExitStatus> {
    let mut read = std::pin::pin!(read);
    let mut read_all = false;
    let status = tokio::select! {
        s = child.wait() => s,
        () = &mut read => {
            read_all = true;
            child.wait().await
        }
    };
    if status.is_ok() {
        group.kill();
    }
    if !read_all {
        read.await;
    }
    status
}

/// Read `from` into `into`, keeping at most `OUTPUT_LIMIT` bytes and draining the rest,
/// so that the command is never blocked writing.
async fn read_capped(from: Option<impl tokio::io::AsyncRead + Unpin>, into: &mut Vec<u8>) {
    use tokio::io::AsyncReadExt as _;
    let Some(mut from) = from else { return };
    let _ = (&mut from)
        .take(OUTPUT_LIMIT as u64)
        .read_to_end(into)
        .await;
    let _ = tokio::io::copy(&mut from, &mut tokio::io::sink()).await;
}

/// A running command's process group, killed when dropped (at a timeout, or when `watch`
/// abandons the probe: the child itself is killed on drop; this reaches what it started).
pub(super) struct Group(Option<i32>);

impl Group {
    /// Kill the group now (once).
    pub(super) fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

fn classify(status: std::process::ExitStatus, stdout: &[u8], stderr: &[u8]) -> Outcome {
    let line = first_line(stdout).or_else(|| first_line(stderr));
    let Some(code) = status.code() else {
        let sig = status.signal().unwrap_or_default();
        return Outcome::new(Status::Unknown, format!("killed by signal {sig}"));
    };
    let st = match code {
        0 => Status::Up,
        1 => Status::Degraded,
        2 => Status::Down,
        _ => Status::Unknown,
    };
    let reason = match (line, code) {
        (Some(l), 0..=2) => l,
        (Some(l), _) => format!("exit code {code}: {l}"),
        (None, _) => format!("exit code {code}"),
    };
    Outcome::new(st, reason).measure("exit_code", f64::from(code))
}

/// The first non-empty line, without Nagios performance data (after `|`), cut short.
fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.split('|').next().unwrap_or(line).trim();
    if line.is_empty() {
        return None;
    }
    let mut out: String = line.chars().take(REASON_LIMIT).collect();
    if line.chars().count() > REASON_LIMIT {
        out.push('…');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(code: i32) -> std::process::ExitStatus {
        std::process::ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn nagios_exit_codes() {
        let cases = [
            (0, "OK - fine | load=1", Status::Up, "OK - fine"),
            (1, "WARNING - high", Status::Degraded, "WARNING - high"),
            (2, "CRITICAL - gone", Status::Down, "CRITICAL - gone"),
            (
                3,
                "UNKNOWN - what",
                Status::Unknown,
                "exit code 3: UNKNOWN - what",
            ),
            (127, "", Status::Unknown, "exit code 127"),
        ];
        for (code, out, status, reason) in cases {
            let o = classify(exit(code), out.as_bytes(), b"");
            assert_eq!(
                (o.status, o.reason.as_str()),
                (status, reason),
                "exit {code}"
            );
        }
    }

    #[tokio::test]
    async fn a_background_process_left_running_neither_holds_the_probe_nor_outlives_it() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let p = CommandProbe {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                format!(
                    "sleep 1000 & echo $! > {}; echo 'WARNING - slow'; exit 1",
                    pidfile.display()
                ),
            ],
            env: std::collections::BTreeMap::new(),
            working_dir: dir.path().to_owned(),
        };
        let o = probe(&p, Duration::from_secs(60)).await;
        assert_eq!(
            (o.status, o.reason.as_str()),
            (Status::Degraded, "WARNING - slow")
        );
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let gone = || {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !gone() && std::time::Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
        assert!(gone(), "the background process {pid} outlived the probe");
    }

    #[test]
    fn stderr_is_the_reason_when_stdout_is_empty_and_signals_are_unknown() {
        assert_eq!(classify(exit(2), b"\n\n", b"boom\n").reason, "boom");
        let killed = classify(std::process::ExitStatus::from_raw(9), b"", b"");
        assert_eq!(
            (killed.status, killed.reason.as_str()),
            (Status::Unknown, "killed by signal 9")
        );
    }
}
