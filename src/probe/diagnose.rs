//! A monitor's diagnosis: the command `diagnose:` names, run once when an outage is
//! confirmed. Like the command probe it runs in its own process group, killed whole at
//! its timeout; unlike it, what it says (stdout and stderr, interleaved as written) is
//! kept, cut at [`OUTPUT_LIMIT`] and made printable, for the alert.

use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Instant;

use tokio::io::AsyncReadExt;

use super::command::Group;
use crate::model::Diagnose;

/// The most output kept, in bytes.
pub const OUTPUT_LIMIT: usize = 16 * 1024;

pub use crate::observation::Diagnosis;

/// Run `d` with `env` added to hbmon's environment. Never fails: a command that cannot
/// be started is a diagnosis saying so.
pub async fn run(d: &Diagnose, env: &[(&str, &str)]) -> Diagnosis {
    let start = Instant::now();
    let mut buf = Vec::new();
    let finished = |output: &[u8], exit_code, timed_out, problem| Diagnosis {
        output: shown(output),
        exit_code,
        duration: start.elapsed(),
        timed_out,
        problem,
    };
    let Some((program, args)) = d.command.split_first() else {
        return finished(&[], None, false, Some("the command is empty".into()));
    };
    let pipe = std::io::pipe().and_then(|(r, w)| Ok((r, w.try_clone()?, w)));
    let Ok((reader, out, err)) = pipe else {
        return finished(&[], None, false, Some("cannot make a pipe".into()));
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true)
        .process_group(0);
    let spawned = cmd.spawn();
    // The command holds the pipe's writing ends: ours must close for the output to end.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "command not found",
                std::io::ErrorKind::PermissionDenied => "permission denied running",
                _ => "cannot run",
            };
            return finished(&[], None, false, Some(format!("{why}: {program}")));
        }
    };
    let mut group = Group(child.id().and_then(|p| i32::try_from(p).ok()));
    let Ok(mut rx) = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(reader)) else {
        return finished(&[], None, false, Some("cannot read the output".into()));
    };
    let work = async {
        // Keep what fits, drain the rest so that the command is never blocked writing.
        let _ = (&mut rx)
            .take(OUTPUT_LIMIT as u64 + 1)
            .read_to_end(&mut buf)
            .await;
        let _ = tokio::io::copy(&mut rx, &mut tokio::io::sink()).await;
        child.wait().await
    };
    match tokio::time::timeout(d.timeout, work).await {
        Ok(Ok(status)) => {
            group.0 = None;
            let problem = status.signal().map(|s| format!("killed by signal {s}"));
            finished(&buf, status.code(), false, problem)
        }
        Ok(Err(_)) => finished(
            &buf,
            None,
            false,
            Some("cannot wait for the command".into()),
        ),
        Err(_) => {
            // Dropping `group` kills what the command started; the child is killed on drop.
            drop(group);
            let why = format!("timed out after {}", crate::humanize::span(d.timeout));
            finished(&buf, None, true, Some(why))
        }
    }
}

/// The output as it is shown: cut at [`OUTPUT_LIMIT`] bytes (on a character boundary),
/// every control character but newlines and tabs escaped.
fn shown(bytes: &[u8]) -> String {
    let cut = bytes.len() > OUTPUT_LIMIT;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(OUTPUT_LIMIT)]);
    let mut out: String = text
        .split('\n')
        .map(|l| crate::humanize::printable(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    if cut {
        out.push_str("\n[output cut at 16 KiB]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cmd(script: &str, timeout: Duration) -> Diagnose {
        Diagnose {
            command: vec!["sh".into(), "-c".into(), script.into()],
            timeout,
        }
    }

    #[tokio::test]
    async fn output_of_both_streams_exit_code_and_environment() {
        let d = cmd(
            "echo one; echo two >&2; printf 'bell\\a\\n'; echo \"$HBMON_MONITOR\"; exit 3",
            Duration::from_secs(10),
        );
        let got = run(&d, &[("HBMON_MONITOR", "web")]).await;
        assert_eq!(got.output, "one\ntwo\nbell\\u{7}\nweb\n");
        assert_eq!(
            (got.exit_code, got.timed_out, got.problem),
            (Some(3), false, None)
        );
    }

    #[tokio::test]
    async fn output_is_capped_and_the_rest_drained() {
        let d = cmd(
            "head -c 100000 /dev/zero | tr '\\0' x",
            Duration::from_secs(10),
        );
        let got = run(&d, &[]).await;
        assert_eq!(got.exit_code, Some(0));
        assert!(got.output.starts_with(&"x".repeat(OUTPUT_LIMIT)));
        assert!(
            got.output.ends_with("\n[output cut at 16 KiB]"),
            "{}",
            got.output.len()
        );
    }

    #[tokio::test]
    async fn a_command_past_its_timeout_is_killed_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!(
            "echo started; sleep 1000 & echo $! > {}; wait",
            pidfile.display()
        );
        let got = run(&cmd(&script, Duration::from_millis(500)), &[]).await;
        assert!(got.timed_out);
        assert_eq!(got.exit_code, None);
        assert_eq!(got.output, "started\n");
        assert_eq!(got.problem.as_deref(), Some("timed out after 500ms"));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild was sent SIGKILL: it is gone (or a zombie) once the kernel has
        // delivered it, which this waits for with a bound.
        let gone = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !gone() && Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
        assert!(gone(), "the command's child {pid} outlived the timeout");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_diagnosis_saying_so() {
        let d = Diagnose {
            command: vec!["/nonexistent/hbmon-diagnose".into()],
            timeout: Duration::from_secs(1),
        };
        let got = run(&d, &[]).await;
        assert_eq!(
            got.problem.as_deref(),
            Some("command not found: /nonexistent/hbmon-diagnose")
        );
    }
}
