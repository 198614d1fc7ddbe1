//! `exec`: a command per alert.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::Sent;
use crate::template::Message;

/// `exec`: the message on stdin, details in the environment; exit 0 is delivered.
pub(super) async fn send(
    run: &[String],
    timeout: Duration,
    msg: &Message,
    delivery_id: &str,
) -> Sent {
    let Some((program, args)) = run.split_first() else {
        return Sent::Failed {
            reason: "no command".into(),
        };
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env("HBMON_EVENT", &msg.event)
        .env("HBMON_MONITOR", &msg.monitor)
        .env("HBMON_STATUS", &msg.status)
        .env("HBMON_TITLE", &msg.title)
        .env("HBMON_MESSAGE", &msg.text)
        .env("HBMON_DELIVERY_ID", delivery_id)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Sent::Failed {
                reason: format!("cannot run `{program}`: {}", crate::net::io_reason(&e)),
            };
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(msg.text.as_bytes()).await;
    }
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Sent::Retry {
            reason: format!("timeout after {}", crate::humanize::latency(timeout)),
            after: None,
        },
        Ok(Err(e)) => Sent::Retry {
            reason: crate::net::io_reason(&e),
            after: None,
        },
        Ok(Ok(out)) if out.status.success() => Sent::Delivered {
            status: 0,
            response: String::from_utf8_lossy(&out.stdout)
                .chars()
                .take(200)
                .collect(),
        },
        Ok(Ok(out)) => Sent::Retry {
            reason: format!(
                "exit code {}: {}",
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
            ),
            after: None,
        },
    }
}
