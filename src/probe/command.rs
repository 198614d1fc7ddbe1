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

pub async fn probe(p: &CommandProbe, timeout: Duration) -> Outcome {
    let mut cmd = tokio::process::Command::new(&p.program);
    cmd.args(&p.args)
        .envs(&p.env)
        .current_dir(&p.working_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "command not found",
                std::io::ErrorKind::PermissionDenied => "permission denied running",
                _ => "cannot run",
            };
            return Outcome::new(Status::Unknown, format!("{why}: {}", p.program));
        }
    };
    // Until the command has finished, its whole group is killed if this probe ends: at
    // the timeout, or when `watch` stops and abandons it (the child itself is killed on
    // drop; this reaches what it started).
    let mut group = Group(child.id().and_then(|p| i32::try_from(p).ok()));
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            group.0 = None;
            classify(out.status, &out.stdout, &out.stderr)
        }
        Ok(Err(e)) => Outcome::new(
            Status::Unknown,
            format!("cannot read the command's output: {e}"),
        ),
        Err(_) => timed_out(timeout),
    }
}

/// A running command's process group, killed when dropped.
pub(super) struct Group(pub(super) Option<i32>);

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
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
