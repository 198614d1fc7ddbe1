//! The starter configuration as text, from a [`Discovery`]: a pure function, so that the
//! property "whatever was found, the file validates" is tested on made-up discoveries.
//!
//! Values that come from the machine (paths, process and container names, command lines)
//! are only ever written as double-quoted YAML strings with `$` doubled (so `${...}` in a
//! mount point is not read as a variable), or in comments with control characters
//! removed; monitor names are made valid and unique here.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use super::{Discovery, ServiceKind, Timer};

/// A disk's levels, in percent used.
const DISK_WARNING: f64 = 90.0;
const DISK_CRITICAL: f64 = 98.0;

/// The longest monitor name written (the schema allows 128 characters).
const MAX_NAME: usize = 64;

/// The configuration file for `d`.
pub(crate) fn render(d: &Discovery) -> String {
    let mut out = String::new();
    let mut names = Names::default();
    header(&mut out, d);
    out.push_str(concat!(
        "version: 1\n\n",
        "# The listener: heartbeat pings (`hbmon run`), /healthz, /metrics and a status page\n",
        "# at http://127.0.0.1:8471/. Heartbeats need it, and a store (`--db`, `store.path`,\n",
        "# else `$STATE_DIRECTORY/hbmon.db` under systemd, else ./hbmon.db).\n",
        "listen:\n  address: \"127.0.0.1:8471\"\n\n",
        "# Every monitor inherits these unless it sets its own.\n",
        "defaults:\n",
        "  interval: 1m           # how often `watch` runs a monitor\n",
        "  timeout: 10s           # a probe slower than this fails\n",
        "  failure_threshold: 3   # consecutive failures before a monitor is down\n",
        "  # notify: [ops]        # where alerts go: a notifier at the end of this file\n\n",
        "monitors:\n",
        "  # This machine's memory, in percent used.\n",
        "  - name: memory\n    tags: [system]\n    system:\n",
        "      memory: { warning: 95, critical: 99 }\n",
    ));
    names.taken.insert("memory".to_owned());
    disks(&mut out, d, &mut names);
    services(&mut out, d, &mut names);
    containers(&mut out, d, &mut names);
    timers(&mut out, d, &mut names);
    out.push_str(concat!(
        "\n# Where alerts go. Secrets (webhook URLs, tokens, passwords) belong in the\n",
        "# environment, written as ${VAR}; under systemd put them in an `EnvironmentFile=`\n",
        "# (mode 0600) with `systemctl edit hbmon`.\n",
        "# notifiers:\n",
        "#   ops:\n",
        "#     type: slack\n",
        "#     webhook_url: \"${SLACK_WEBHOOK_URL}\"\n",
    ));
    out
}

fn header(out: &mut String, d: &Discovery) {
    let config = comment(&d.config_path);
    let _ = write!(
        out,
        concat!(
            "# yaml-language-server: $schema=/usr/share/hbmon/hbmon.schema.json\n",
            "#\n",
            "# A starter configuration written by `hbmon init` from what runs on this machine:\n",
            "# its disks, listening TCP services, running containers and systemd timers. Each\n",
            "# monitor says why it is here; remove what you do not care about and tune the\n",
            "# rest. Every key is in `man 5 hbmon.yaml`.\n",
            "#\n",
            "#   hbmon validate -c {config}   # after every edit: all problems at once\n",
            "#   hbmon check -c {config}      # run every monitor once, now\n",
            "#   hbmon watch -c {config}      # probe on schedule and alert (dist/hbmon.service)\n",
            "#\n",
            "# Secrets never go in this file as they are: write ${{VAR}} and set VAR in the\n",
            "# environment `hbmon` runs in.\n",
        ),
        config = config,
    );
}

fn disks(out: &mut String, d: &Discovery, names: &mut Names) {
    if d.disks.is_empty() {
        return;
    }
    out.push_str(
        "\n  # Mounted file systems, in percent used: degraded at `warning`, down at `critical`.\n",
    );
    for disk in &d.disks {
        let base = if disk.mount == "/" {
            "root-disk".to_owned()
        } else {
            format!("disk-{}", disk.mount.trim_matches('/'))
        };
        let name = names.unique(&base, "disk");
        let used = match disk.used_percent {
            Some(p) => format!(", {p:.0}% used at init"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  - name: {name}  # {} on {}{used}",
            comment(&disk.fs_type),
            comment(&disk.source),
        );
        if disk.used_percent.is_some_and(|p| p >= DISK_WARNING) {
            out.push_str(
                "    # Already past `warning`: degraded (or down) until it has room again.\n",
            );
        }
        let _ = writeln!(
            out,
            "    tags: [system, disk]\n    system:\n      disk: {{ path: {}, warning: {DISK_WARNING}, critical: {DISK_CRITICAL} }}",
            quote(&disk.mount),
        );
    }
}

fn services(out: &mut String, d: &Discovery, names: &mut Names) {
    if d.services.is_empty() {
        return;
    }
    out.push_str("\n  # Listening TCP services, probed where this machine reaches them.\n");
    if d.services.iter().any(|s| s.kind != ServiceKind::Tcp) {
        out.push_str(concat!(
            "  # An `http` monitor answered `GET /` at init time; point `url` at a health\n",
            "  # endpoint if there is one.\n",
        ));
    }
    for s in &d.services {
        let who = s.process.as_deref().unwrap_or("tcp");
        let name = names.unique(&format!("{who}-{}", s.port), "tcp");
        let owner = match &s.process {
            Some(p) => format!("`{}`", comment(p)),
            None => "a process hbmon may not see".to_owned(),
        };
        let _ = writeln!(
            out,
            "  - name: {name}  # {owner} listening on port {} ({})",
            s.port,
            comment(&s.bound)
        );
        if let Some(why) = &s.why {
            let _ = writeln!(out, "    # {}", comment(why));
        }
        let host = if s.host.contains(':') {
            format!("[{}]", s.host)
        } else {
            s.host.clone()
        };
        match s.kind {
            ServiceKind::Tcp => {
                let _ = writeln!(
                    out,
                    "    tags: [service]\n    tcp: {{ host: {}, port: {} }}",
                    quote(&s.host),
                    s.port
                );
            }
            ServiceKind::Http => {
                let _ = writeln!(
                    out,
                    "    tags: [service, http]\n    http: {{ url: {} }}",
                    quote(&format!("http://{host}:{}/", s.port))
                );
            }
            ServiceKind::Https => {
                let _ = writeln!(
                    out,
                    concat!(
                        "    tags: [service, http]\n",
                        "    # Reached on a loopback address, so the certificate's names cannot match:\n",
                        "    # put the public name in `url` and drop `verify_tls: false` (expiry is\n",
                        "    # checked either way).\n",
                        "    http: {{ url: {}, verify_tls: false }}",
                    ),
                    quote(&format!("https://{host}:{}/", s.port))
                );
            }
        }
    }
}

fn containers(out: &mut String, d: &Discovery, names: &mut Names) {
    if d.containers.is_empty() {
        return;
    }
    out.push_str(concat!(
        "\n  # Running containers: each must keep running (and pass its health check when it\n",
        "  # has one); `max_restarts` or `min_uptime` catch a crash loop.\n",
    ));
    for c in &d.containers {
        let name = names.unique(&format!("container-{}", c.name), "container");
        let health = if c.health_check {
            ", with a health check"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  - name: {name}  # image {}{health}\n    tags: [container]",
            comment(&c.image)
        );
        match &d.docker_socket {
            Some(socket) => {
                let _ = writeln!(
                    out,
                    "    docker: {{ socket: {}, container: {} }}",
                    quote(socket),
                    quote(&c.name)
                );
            }
            None => {
                let _ = writeln!(out, "    docker: {{ container: {} }}", quote(&c.name));
            }
        }
    }
}

fn timers(out: &mut String, d: &Discovery, names: &mut Names) {
    if d.timers.is_empty() {
        return;
    }
    out.push_str(concat!(
        "\n  # systemd timers, as heartbeats: each run of the service reports to hbmon through\n",
        "  # `hbmon run NAME -- COMMAND` (a start ping, then its exit code and the tail of its\n",
        "  # output). They are paused until their service is wrapped: do that (as shown), remove\n",
        "  # `paused: true`, and `systemctl reload hbmon`. `period` and `grace` come from the\n",
        "  # timer (its randomized delay and accuracy are in the grace); check them.\n",
    ));
    for t in &d.timers {
        let name = names.unique(&t.name, "timer");
        timer(out, d, t, &name);
    }
}

fn timer(out: &mut String, d: &Discovery, t: &Timer, name: &str) {
    let schedule: Vec<String> = t.schedule.iter().map(|s| comment(s)).collect();
    let _ = writeln!(
        out,
        "  - name: {name}  # {}.timer: {}",
        comment(&t.name),
        schedule.join(", ")
    );
    if !t.understood {
        out.push_str(
            "    # The schedule was not understood: this period is a guess; set it (or `cron`).\n",
        );
    }
    let service = comment(&t.service);
    let config = comment(&d.config_abs);
    match t.exec_start.as_slice() {
        [one] if !one.starts_with('@') && !one.trim().is_empty() => {
            let prefix: String = one
                .chars()
                .take_while(|c| matches!(c, '-' | ':' | '+' | '!'))
                .collect();
            let command = comment(one[prefix.len()..].trim());
            let _ = write!(
                out,
                concat!(
                    "    # Wrap it: `systemctl edit {service}`, then\n",
                    "    #   [Service]\n",
                    "    #   ExecStart=\n",
                    "    #   ExecStart={prefix}/usr/bin/hbmon run -c {config} {name} -- {command}\n",
                ),
                service = service,
                prefix = prefix,
                config = config,
                name = name,
                command = command,
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "    # Wrap {service}'s command as `/usr/bin/hbmon run -c {config} {name} -- COMMAND`\n    # (`systemctl edit {service}`: an empty `ExecStart=`, then the wrapped one)."
            );
        }
    }
    let _ = writeln!(
        out,
        "    tags: [timer]\n    paused: true\n    heartbeat: {{ period: {}, grace: {} }}",
        duration(t.period),
        duration(t.grace)
    );
}

/// Monitor names: valid (`[A-Za-z0-9][A-Za-z0-9._-]*`, at most [`MAX_NAME`]) and unique.
#[derive(Default)]
struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    fn unique(&mut self, wanted: &str, fallback: &str) -> String {
        let mut base = sanitize(wanted);
        if base.is_empty() {
            fallback.clone_into(&mut base);
        }
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains(&name) {
            let suffix = format!("-{n}");
            let keep = base.len().min(MAX_NAME - suffix.len());
            name = format!("{}{suffix}", &base[..keep]);
            n += 1;
        }
        self.taken.insert(name.clone());
        plain_or_quoted(name)
    }
}

/// A name as written: plain when YAML reads it as that string, quoted when it would be a
/// number or a boolean (`8080`, `1e3`, `no`).
fn plain_or_quoted(name: String) -> String {
    let special = ["true", "false", "yes", "no", "on", "off", "null", "y", "n"];
    if name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !special.contains(&name.to_ascii_lowercase().as_str())
    {
        name
    } else {
        format!("\"{name}\"")
    }
}

/// `text` as a monitor name: other characters become `-`, runs of them one, and it
/// starts with a letter or digit.
fn sanitize(text: &str) -> String {
    let mut name = String::new();
    for c in text.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if c == '-' && name.ends_with('-') {
            continue;
        }
        name.push(c);
    }
    let name = name.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let name = name.trim_end_matches('-');
    name.chars().take(MAX_NAME).collect()
}

/// A double-quoted YAML string (JSON's escapes are YAML's), `$` doubled against
/// interpolation.
fn quote(text: &str) -> String {
    let json = serde_json::Value::String(text.replace('$', "$$")).to_string();
    // JSON leaves these as they are; YAML reads them as line breaks.
    json.replace('\u{85}', "\\u0085")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Text from the machine made safe inside a `#` comment: one line, no control characters.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A duration as the config writes it: `1d`, `13h13m`, `90s`.
pub(crate) fn duration(d: Duration) -> String {
    let mut secs = d.as_secs().max(1);
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            let _ = write!(out, "{}{unit}", secs / size);
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests;
