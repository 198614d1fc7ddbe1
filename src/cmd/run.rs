//! `hbmon run <heartbeat> -- <command...>`: the cron wrapper. Pings `/start`, runs the
//! command with its output passed through (and the last 10 KiB kept), then pings its exit
//! code with that tail, and exits with the command's code. A ping that cannot be sent is a
//! warning, never a reason not to run the job: a monitoring outage must not stop a backup.

use std::io::Write;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::cli::{GlobalArgs, RunArgs};
use crate::error::Error;
use crate::exit;

/// Output kept for the finishing ping.
const TAIL: usize = 10 * 1024;
const PING_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<u8, Error> {
    let (base, token) = target(global, args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let client = crate::notify::send::client().map_err(Error::Internal)?;
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
        ping(&client, &url("/start"), String::new(), &args.heartbeat).await;
        let (code, tail) = Box::pin(execute(&args.command)).await;
        ping(&client, &url(&format!("/{code}")), tail, &args.heartbeat).await;
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
    let plan = match crate::plan::load(&global.config) {
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
                crate::plan::Probe::Heartbeat(hb) => hb.token.clone(),
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

async fn ping(client: &reqwest::Client, url: &str, body: String, name: &str) {
    let sent = client
        .post(url)
        .body(body)
        .timeout(PING_TIMEOUT)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => {}
        // The URL carries the token: it is never printed.
        Ok(r) => tracing::warn!("ping for `{name}` refused: HTTP {}", r.status().as_u16()),
        Err(e) => tracing::warn!(
            "ping for `{name}` not sent: {}",
            if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "request failed"
            }
        ),
    }
}

/// Run the command, passing its output through and keeping the tail; its exit code
/// (128 + the signal for a killed one, 127 when it cannot start).
async fn execute(command: &[String]) -> (u8, String) {
    let Some((program, rest)) = command.split_first() else {
        return (exit::USAGE, String::new());
    };
    let mut child = match tokio::process::Command::new(program)
        .args(rest)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            let msg = format!(
                "hbmon run: cannot run `{program}`: {}",
                crate::probe::io_reason(&e)
            );
            eprintln!("{msg}");
            return (127, msg);
        }
    };
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let tail = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let pump = |reader: Option<Box<dyn AsyncRead + Unpin + Send>>, to_stderr: bool| {
        let tail = std::sync::Arc::clone(&tail);
        async move {
            let Some(mut reader) = reader else { return };
            let mut buf = [0u8; 8192];
            loop {
                let n = match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let _ = if to_stderr {
                    std::io::stderr().write_all(&buf[..n])
                } else {
                    std::io::stdout().write_all(&buf[..n])
                };
                let mut t = tail
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(TAIL);
                t.drain(..excess);
            }
        }
    };
    let out: Option<Box<dyn AsyncRead + Unpin + Send>> = out.map(|o| Box::new(o) as _);
    let err: Option<Box<dyn AsyncRead + Unpin + Send>> = err.map(|e| Box::new(e) as _);
    let ((), (), status) = tokio::join!(pump(out, false), pump(err, true), child.wait());
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
    let tail = tail
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (code, String::from_utf8_lossy(&tail).into_owned())
}
