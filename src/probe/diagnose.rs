//! A monitor's diagnosis: the command `diagnose:` names, run once when an outage is
//! confirmed. It starts as the command probe's commands do (`command::spawn`: its own
//! process group, killed at its timeout, when it exits leaving something behind, and with
//! hbmon); unlike them, what it says (stdout and stderr, interleaved as written) is kept
//! for the alert: its beginning and its end, which says most, made readable.

use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Instant;

use std::fmt::Write as _;

use tokio::io::AsyncReadExt;

use super::command::{finish, spawn};
use crate::model::Diagnose;

/// The most output kept, in bytes: [`HEAD`] from its beginning, the rest from its end.
pub const OUTPUT_LIMIT: usize = 16 * 1024;
/// The beginning kept of a longer output.
const HEAD: usize = 4 * 1024;

pub use crate::observation::Diagnosis;

/// Run `d` with `env` added to hbmon's environment. Never fails: a command that cannot
/// be started is a diagnosis saying so.
pub async fn run(d: &Diagnose, env: &[(&str, &str)]) -> Diagnosis {
    let start = Instant::now();
    let mut kept = Kept::default();
    let finished = |kept: &Kept, exit_code, timed_out, problem| Diagnosis {
        output: kept.shown(),
        exit_code,
        duration: start.elapsed(),
        timed_out,
        problem,
    };
    let Some((program, args)) = d.command.split_first() else {
        return finished(&kept, None, false, Some("the command is empty".into()));
    };
    let pipe = std::io::pipe().and_then(|(r, w)| Ok((r, w.try_clone()?, w)));
    let Ok((reader, out, err)) = pipe else {
        return finished(&kept, None, false, Some("cannot make a pipe".into()));
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    let spawned = spawn(&mut cmd, program);
    // The command holds the pipe's writing ends: ours must close for the output to end.
    drop(cmd);
    let (mut child, mut group) = match spawned {
        Ok(c) => c,
        Err(why) => return finished(&kept, None, false, Some(why)),
    };
    let Ok(mut rx) = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(reader)) else {
        return finished(&kept, None, false, Some("cannot read the output".into()));
    };
    let work = finish(&mut child, &mut group, async {
        let mut chunk = vec![0; 8192];
        while let Ok(n @ 1..) = rx.read(&mut chunk).await {
            kept.push(&chunk[..n]);
        }
    });
    match tokio::time::timeout(d.timeout, work).await {
        Ok(Ok(status)) => {
            let problem = status.signal().map(|s| format!("killed by signal {s}"));
            finished(&kept, status.code(), false, problem)
        }
        Ok(Err(_)) => finished(
            &kept,
            None,
            false,
            Some("cannot wait for the command".into()),
        ),
        Err(_) => {
            // Dropping `group` kills what the command started; the child is killed on drop.
            drop(group);
            let why = format!("timed out after {}", crate::humanize::span(d.timeout));
            finished(&kept, None, true, Some(why))
        }
    }
}

/// What is kept of an output: all of it up to [`OUTPUT_LIMIT`]; past that its first
/// [`HEAD`] bytes and its last bytes, and how many were left out between.
#[derive(Debug, Default)]
struct Kept {
    bytes: Vec<u8>,
    /// Bytes left out after the first `HEAD`.
    cut: u64,
}

impl Kept {
    fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        // Trimmed in steps, not at every read: at most twice the limit is held.
        if self.bytes.len() > 2 * OUTPUT_LIMIT {
            let drop_to = self.bytes.len() - (OUTPUT_LIMIT - HEAD);
            self.cut += (drop_to - HEAD) as u64;
            self.bytes.drain(HEAD..drop_to);
        }
    }

    /// The output as shown: past the limit, its beginning up to a line's end, a line
    /// saying how much was left out, and its end from a line's start; readable (see
    /// `readable`).
    fn shown(&self) -> String {
        let b = &self.bytes;
        let over = b.len().saturating_sub(OUTPUT_LIMIT);
        if self.cut == 0 && over == 0 {
            return readable(b);
        }
        let mut head = &b[..HEAD];
        let mut tail = &b[HEAD + over..];
        if let Some(i) = head.iter().rposition(|&c| c == b'\n') {
            head = &head[..=i];
        }
        if let Some(i) = tail.iter().position(|&c| c == b'\n')
            && i + 1 < tail.len()
        {
            tail = &tail[i + 1..];
        }
        let left_out = self.cut + (b.len() - head.len() - tail.len()) as u64;
        let mut out = readable(head);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "[… {} of output left out …]",
            crate::humanize::size(left_out)
        );
        out.push_str(&readable(tail));
        out
    }
}

/// Bytes as text for an alert: invalid UTF-8 (a sequence cut at either end included)
/// dropped, colour and other terminal escape sequences removed, `\r\n` as `\n` and a
/// lone `\r` (a progress line) as `\n`, and any other control character (bidirectional
/// overrides too) shown escaped: `\x07`, `\u{202e}`.
fn readable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut chars = bytes
        .utf8_chunks()
        .flat_map(|c| c.valid().chars())
        .peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI (`ESC [ ... final`) and OSC (`ESC ] ... BEL or ESC \\`) sequences,
                // or the one character after a lone ESC.
                match chars.next() {
                    Some('[') => {
                        for c in chars.by_ref() {
                            if ('\u{40}'..='\u{7e}').contains(&c) {
                                break;
                            }
                        }
                    }
                    Some(']') => {
                        while let Some(c) = chars.next() {
                            if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some())
                            {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
            }
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.extend(c.escape_unicode());
            }
            c => out.push(c),
        }
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
        assert_eq!(got.output, "one\ntwo\nbell\\x07\nweb\n");
        assert_eq!(
            (got.exit_code, got.timed_out, got.problem),
            (Some(3), false, None)
        );
    }

    #[tokio::test]
    async fn a_long_output_keeps_its_beginning_and_end_by_whole_lines() {
        // 100,000 numbered lines of 6 bytes or more: the first and the last survive.
        let d = cmd("seq 100000 | sed 's/$/ line/'", Duration::from_secs(10));
        let got = run(&d, &[]).await;
        assert_eq!(got.exit_code, Some(0));
        let out = &got.output;
        assert!(out.len() <= OUTPUT_LIMIT + 100, "{}", out.len());
        assert!(out.starts_with("1 line\n2 line\n"), "{out}");
        assert!(out.ends_with("99999 line\n100000 line\n"), "{out}");
        let lines: Vec<&str> = out.lines().collect();
        let marker = lines.iter().position(|l| l.starts_with("[…")).unwrap();
        assert!(
            lines[marker].ends_with("of output left out …]"),
            "{}",
            lines[marker]
        );
        // Whole lines on both sides of the marker.
        for l in lines.iter().filter(|l| !l.starts_with("[…")) {
            let (n, rest) = l.split_once(' ').unwrap();
            assert!(n.parse::<u32>().is_ok() && rest == "line", "{l:?}");
        }
    }

    #[test]
    fn output_is_made_readable() {
        // Colours go; other controls are escaped; CRLF and progress lines are lines.
        let text =
            b"\x1b[1;31mFAILED\x1b[0m unit\r\nbell\x07 \x1b]0;title\x07ok\r50%\rdone \xe2\x80\xae";
        assert_eq!(
            readable(text),
            "FAILED unit\nbell\\x07 ok\n50%\ndone \\u{202e}"
        );
        // A multi-byte character cut by the limit is dropped, not a replacement character.
        let mut k = Kept::default();
        let long = "é".repeat(OUTPUT_LIMIT);
        k.push(long.as_bytes());
        let shown = k.shown();
        assert!(
            !shown.contains('\u{fffd}'),
            "a cut character shows as U+FFFD"
        );
        assert!(shown.starts_with("éé") && shown.ends_with("éé"));
        assert!(shown.contains("of output left out"));
        // Short outputs are kept whole.
        let mut k = Kept::default();
        k.push(b"a\nb\n");
        assert_eq!(k.shown(), "a\nb\n");
    }

    #[tokio::test]
    async fn a_background_process_left_running_does_not_make_it_time_out() {
        let d = cmd("echo checked; sleep 1000 & exit 2", Duration::from_secs(30));
        let got = run(&d, &[]).await;
        assert_eq!(
            (got.output.as_str(), got.exit_code, got.timed_out),
            ("checked\n", Some(2), false),
            "{got:?}"
        );
        assert!(got.duration < Duration::from_secs(30));
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
