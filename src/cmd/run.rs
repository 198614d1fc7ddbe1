//! `hbmon run <heartbeat> -- <command...>`: the cron wrapper. Pings `/start`, runs the
//! command with its output passed through (and the last 10 KiB kept, stdout and stderr in
//! the order they arrived), then pings its exit code with that tail, and exits with the
//! command's code. The start ping is tried once (a monitoring outage must not delay a
//! backup); the finishing ping is retried with backoff for up to `--timeout`, so a
//! listener restarting meanwhile does not turn a good run into a missing one. A ping
//! that cannot be sent is a warning, never a reason not to run the job: neither is a
//! config that cannot be read (no `-c` in a crontab, a secret only the service's
//! environment has), which is reported and the job run without pings.

use std::io::Write;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::cli::{GlobalArgs, RunArgs};
use crate::error::Error;
use crate::exit;
use crate::net::ping::Pinger;

/// Output kept for the finishing ping.
const TAIL: usize = 10 * 1024;

pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<u8, Error> {
    let runtime = crate::runtime::build(crate::runtime::Threads::One)?;
    let (base, token) = match target(global, args) {
        Ok(target) => target,
        Err(e) => {
            // The job runs anyway: a backup must not be skipped because its monitoring
            // is misconfigured. What went wrong goes to stderr (cron mails it), and the
            // heartbeat will report the run as missing.
            match &e {
                Error::Config(report) => anstream::eprintln!("{report}"),
                other => anstream::eprintln!("hbmon: error: {other}"),
            }
            eprintln!(
                "hbmon: warning: cannot ping `{}`; running the command without pings",
                args.heartbeat
            );
            let (code, _) = runtime.block_on(Box::pin(execute(&args.command)));
            return Ok(code);
        }
    };
    let client = Pinger::new().map_err(Error::Internal)?;
    let rid = format!("{:x}", u64::from(std::process::id()) ^ now_nanos());
    let url = |what: &str| {
        let mut u = format!(
            "{}/ping/{}{what}?rid={rid}",
            base.trim_end_matches('/'),
            args.heartbeat
        );
        if let Some(t) = &token {
            u.push_str("&token=");
            u.push_str(t);
        }
        u
    };
    runtime.block_on(async {
        client
            .ping(
                &url("/start"),
                String::new(),
                &args.heartbeat,
                Duration::ZERO,
            )
            .await;
        let (code, tail) = Box::pin(execute(&args.command)).await;
        client
            .ping(
                &url(&format!("/{code}")),
                tail,
                &args.heartbeat,
                args.timeout,
            )
            .await;
        Ok(code)
    })
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Where to ping and with which token: flags first, then the config.
fn target(global: &GlobalArgs, args: &RunArgs) -> Result<(String, Option<String>), Error> {
    let plan = match crate::plan::load_without_notifiers(&global.config) {
        Ok(p) => Some(p),
        // Against a remote hbmon the config need not be here.
        Err(Error::ConfigRead { .. }) if args.url.is_some() => None,
        Err(e) => return Err(e),
    };
    let base = match (&args.url, plan.as_ref().and_then(|p| p.listen.as_ref())) {
        (Some(u), _) => u.clone(),
        (None, Some(l)) => format!("http://{}", l.address),
        (None, None) => {
            return Err(Error::Usage(
                "no listener to ping: give --url, or a config with a heartbeat or `listen:`".into(),
            ));
        }
    };
    let token = args.token.clone().or_else(|| {
        let plan = plan.as_ref()?;
        let own = plan
            .monitors
            .iter()
            .find(|m| m.name == args.heartbeat)
            .and_then(|m| match &m.probe {
                crate::model::Probe::Heartbeat(hb) => hb.token.clone(),
                _ => None,
            });
        own.or_else(|| plan.listen.as_ref().and_then(|l| l.token.clone()))
            .map(|s| s.expose().to_owned())
    });
    if let Some(p) = &plan
        && !p.monitors.iter().any(|m| m.name == args.heartbeat)
        && args.url.is_none()
    {
        return Err(Error::Usage(format!(
            "no heartbeat named `{}` in the config",
            args.heartbeat
        )));
    }
    Ok((base, token))
}

/// Run the command, passing its output through and keeping the tail; its exit code
/// (128 + the signal for a killed one, 127 when it cannot start).
async fn execute(command: &[String]) -> (u8, String) {
    let Some((program, rest)) = command.split_first() else {
        return (exit::USAGE, String::new());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest);
    // hbmon's stdout and stderr go to the same place (a terminal, cron's mail,
    // `>log 2>&1`): the command's two streams share one pipe, which keeps their exact
    // order. Otherwise each keeps its own, read by one task as they come.
    let shared = if same_destination() {
        match std::io::pipe().and_then(|(r, w)| Ok((r, w.try_clone()?, w))) {
            Ok((reader, w1, w2)) => {
                cmd.stdout(w1).stderr(w2);
                Some(reader)
            }
            Err(_) => return (exit::IO, "hbmon run: cannot set up the output pipe".into()),
        }
    } else {
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        None
    };
    let spawned = cmd.spawn();
    // The parent's copies of the write ends must close, or the output never ends.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let msg = format!(
                "hbmon run: cannot run `{program}`: {}",
                crate::net::io_reason(&e)
            );
            eprintln!("{msg}");
            return (127, msg);
        }
    };
    let (out, err): (Option<Reader>, Option<Reader>) = match shared {
        Some(reader) => (
            tokio::net::unix::pipe::Receiver::from_owned_fd(std::os::fd::OwnedFd::from(reader))
                .ok()
                .map(|r| Box::new(r) as Reader),
            None,
        ),
        None => (
            child.stdout.take().map(|o| Box::new(o) as Reader),
            child.stderr.take().map(|e| Box::new(e) as Reader),
        ),
    };
    let tail = Box::pin(relay(out, err)).await;
    let status = child.wait().await;
    let code = match status {
        Ok(s) => s.code().map_or_else(
            || {
                use std::os::unix::process::ExitStatusExt;
                128 + s.signal().unwrap_or(0).clamp(0, 127) as u8
            },
            |c| u8::try_from(c).unwrap_or(1),
        ),
        Err(_) => 1,
    };
    (code, String::from_utf8_lossy(&tail).into_owned())
}

type Reader = Box<dyn AsyncRead + Unpin + Send>;

/// Pass the command's output through (`out` to stdout, `err` to stderr) and keep its last
/// `TAIL` bytes, in the order it was read: one task reads both, whichever is ready.
async fn relay(mut out: Option<Reader>, mut err: Option<Reader>) -> Vec<u8> {
    let mut tail = Vec::new();
    let (mut out_buf, mut err_buf) = ([0u8; 8192], [0u8; 8192]);
    loop {
        let (read, is_err) = match (out.as_mut(), err.as_mut()) {
            (Some(stdout), Some(stderr)) => tokio::select! {
                biased;
                n = stdout.read(&mut out_buf) => (n, false),
                n = stderr.read(&mut err_buf) => (n, true),
            },
            (Some(stdout), None) => (stdout.read(&mut out_buf).await, false),
            (None, Some(stderr)) => (stderr.read(&mut err_buf).await, true),
            (None, None) => break,
        };
        match read {
            Ok(n) if n > 0 => {
                let bytes = if is_err { &err_buf[..n] } else { &out_buf[..n] };
                let _ = if is_err {
                    std::io::stderr().write_all(bytes)
                } else {
                    std::io::stdout().write_all(bytes)
                };
                tail.extend_from_slice(bytes);
                let excess = tail.len().saturating_sub(TAIL);
                tail.drain(..excess);
            }
            _ if is_err => err = None,
            _ => out = None,
        }
    }
    tail
}

/// hbmon's stdout and stderr are the same open file.
fn same_destination() -> bool {
    use std::os::fd::AsFd;
    let (Ok(out), Ok(err)) = (
        nix::sys::stat::fstat(std::io::stdout().as_fd()),
        nix::sys::stat::fstat(std::io::stderr().as_fd()),
    ) else {
        return false;
    };
    out.st_dev == err.st_dev && out.st_ino == err.st_ino
}
