//! Secrets given by `${VAR}` or `*_file` reach the server and never any output.

use crate::harness::{API_KEY, AUTH_TOKEN, HttpServer, hbmon};

const PASSWORD: &str = "pa55w0rd-from-file";

fn assert_hidden(what: &str, out: &crate::harness::Output) {
    for secret in [AUTH_TOKEN, API_KEY, PASSWORD] {
        assert!(
            !out.all().contains(secret),
            "{what}: `{secret}` leaked:\n{}",
            out.all()
        );
    }
}

#[test]
fn secrets_reach_the_server_but_no_output() {
    let srv = HttpServer::start();
    let yaml = format!(
        r#"version: 1
monitors:
  - name: env-token
    http:
      url: "{auth}"
      bearer_token: "${{API_TOKEN}}"
      headers: {{ X-Api-Key: "${{API_KEY}}" }}
  - name: file-token
    http:
      url: "{auth}"
      bearer_token_file: token.txt
      headers: {{ X-Api-Key: "${{API_KEY}}" }}
  - name: basic
    http:
      url: "{fail}"
      basic_auth: {{ username: ops, password_file: password.txt }}
      headers: {{ X-Api-Key: "${{API_KEY}}" }}
  - name: token-in-url
    http: {{ url: "{fail}?token=${{API_TOKEN}}" }}
"#,
        auth = srv.url("/auth"),
        fail = srv.url("/status/500"),
    );
    let run = |args: &[&str]| {
        hbmon()
            .file("token.txt", &format!("{AUTH_TOKEN}\n"))
            .file("password.txt", PASSWORD)
            .env("API_TOKEN", AUTH_TOKEN)
            .env("API_KEY", API_KEY)
            .config(&yaml)
            .args(args.iter().copied())
            .run()
    };
    let human = run(&["check", "-vvv"]);
    // The server only answers 200 when both secrets arrived intact.
    let row = |name: &str| {
        human
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(row("env-token").contains(" UP "), "{}", human.stdout);
    assert!(row("file-token").contains(" UP "), "{}", human.stdout);
    assert!(row("basic").contains(" DOWN "), "{}", human.stdout);
    assert_hidden("human report with -vvv", &human);
    assert_hidden("json report", &run(&["check", "--format", "json", "-vvv"]));
    assert_hidden("validate", &run(&["validate", "-vvv"]));
}

#[test]
fn secrets_stay_hidden_in_config_errors() {
    // Each secret lands where the schema or the semantic checks reject it.
    let yaml = r#"version: 1
monitors:
  - name: a
    tcp: { host: h, port: "${API_TOKEN}" }
  - name: b
    http: { url: "${API_KEY}" }
  - name: c
    interval: "${API_TOKEN}"
    http: { url: "http://127.0.0.1/", headers: { "X-Key": "${BAD_HEADER}" } }
"#;
    let out = hbmon()
        .env("API_TOKEN", AUTH_TOKEN)
        .env("API_KEY", API_KEY)
        .env("BAD_HEADER", &format!("{PASSWORD}\n"))
        .config(yaml)
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(out.stderr.contains("4 problems"), "{}", out.stderr);
    assert_hidden("config errors", &out);
}

/// `--help` of every command, with every environment variable hbmon reads set to a
/// secret-looking value: no value is printed (a `postgres://` URL in `HBMON_DB` carries a
/// password; `HBMON_URL` and `DOCKER_HOST` may carry credentials too).
#[test]
fn help_never_prints_an_environment_value() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        for arg in cmd.get_arguments() {
            if let Some(env) = arg.get_env() {
                out.push((path.clone(), env.to_string_lossy().into_owned()));
            }
        }
        for sub in cmd.get_subcommands() {
            path.push(sub.get_name().to_owned());
            out.push((path.clone(), String::new()));
            walk(sub, path, out);
            path.pop();
        }
    }
    let mut found = Vec::new();
    walk(&hbmon::cli::Cli::command(), &mut Vec::new(), &mut found);
    let vars: std::collections::BTreeSet<String> = found
        .iter()
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
        .collect();
    assert!(vars.len() >= 8, "{vars:?}");
    let mut commands: std::collections::BTreeSet<Vec<String>> =
        found.into_iter().map(|(p, _)| p).collect();
    commands.insert(Vec::new());
    for path in &commands {
        let mut run = hbmon();
        for var in &vars {
            // A value each parser takes, with a secret in it.
            let value = match var.as_str() {
                "NO_COLOR" | "CI" => "true".to_owned(),
                "HBMON_LOG_FORMAT" => "json".to_owned(),
                _ => format!("postgres://hbmon:{var}-s3cret-value@db/x"),
            };
            run = run.env(var, &value);
        }
        let mut args = path.clone();
        args.push("--help".into());
        let out = run.args(&args).run();
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(
            !out.all().contains("s3cret-value"),
            "hbmon {}: an environment value is printed:\n{}",
            args.join(" "),
            out.all()
        );
    }
}

/// Every secret kind in one config (`${VAR}` and `*_file`: probe tokens, headers, basic
/// auth, a token in a probe URL, the listener's and a heartbeat's tokens, the page's
/// password, notifier URLs, headers, bot token, routing key and token, a command's
/// environment), and every channel hbmon writes to checked for each of them: `watch`'s
/// JSON log at the most verbose level, the store's files, `/api/status`, `/metrics`, the
/// status page, the alert bodies, `check` in every format, `status` and `history`, and
/// the argv of every process on the machine while a command probe and an exec notifier
/// run (secrets go to them through the environment, never argv).
#[test]
#[allow(clippy::too_many_lines)] // one config with every secret, then every channel
fn no_secret_reaches_any_output_channel() {
    use std::io::Read as _;
    use wiremock::{Mock, ResponseTemplate};
    const SECRETS: [(&str, &str); 12] = [
        ("API_TOKEN", "sekret-api-token-1"),
        ("API_KEY", "sekret-api-key-2"),
        ("URL_TOKEN", "sekret-url-token-3"),
        ("LISTEN_TOKEN", "sekret-listen-token-4"),
        ("HOOK_TOKEN", "sekret-hook-token-5"),
        ("SLACK_PATH", "sekret-slack-path-6"),
        ("PD_KEY", "sekret-pd-key-7"),
        ("CMD_TOKEN", "sekret-cmd-token-8"),
        ("FILE_PASSWORD", "sekret-file-password-9"),
        ("FILE_BOT", "sekret-file-bot-10"),
        ("FILE_HB", "sekret-file-hb-11"),
        ("FILE_URL", "sekret-file-url-12"),
    ];
    let secret = |name: &str| SECRETS.iter().find(|(n, _)| *n == name).unwrap().1;
    let leaks = |what: &str, text: &str| {
        for (name, value) in SECRETS {
            assert!(
                !text.contains(value),
                "{what}: the secret {name} leaked:\n{text}"
            );
        }
    };
    let srv = HttpServer::start();
    let switch = crate::watch::Switch::start();
    let rx = crate::notify::Receiver::start();
    rx.mount(Mock::given(wiremock::matchers::any()).respond_with(ResponseTemplate::new(200)));
    let port = crate::harness::closed_port();
    let yaml = format!(
        r#"version: 1
listen:
  address: "127.0.0.1:{port}"
  token: "${{LISTEN_TOKEN}}"
  basic_auth: {{ username: ops, password_file: page-password.txt }}
defaults: {{ interval: 2s, timeout: 1500ms, failure_threshold: 1, notify: [hook, slack, telegram, pagerduty, run] }}
notifiers:
  hook: {{ type: webhook, url_file: hook-url.txt, headers: {{ Authorization: "Bearer ${{HOOK_TOKEN}}" }} }}
  slack: {{ type: slack, webhook_url: "{rx}/slack/${{SLACK_PATH}}" }}
  telegram: {{ type: telegram, bot_token_file: bot.txt, chat_id: "42", api_url: "{rx}" }}
  pagerduty: {{ type: pagerduty, routing_key: "${{PD_KEY}}", api_url: "{rx}" }}
  run: {{ type: exec, run: [sh, -c, "sleep 1; cat > alert.txt"] }}
monitors:
  - name: api
    http:
      url: "http://127.0.0.1:{switch}/health?token=${{URL_TOKEN}}"
      bearer_token: "${{API_TOKEN}}"
      headers: {{ X-Api-Key: "${{API_KEY}}" }}
  - name: basic
    http: {{ url: "{fail}", basic_auth: {{ username: ops, password_file: page-password.txt }} }}
  - name: cmd
    command: {{ run: [sh, -c, "sleep 1; test -n \"$TOKEN\""], env: {{ TOKEN: "${{CMD_TOKEN}}" }} }}
  - name: job
    heartbeat: {{ period: 1h, token_file: hb.txt }}
"#,
        rx = rx.url(),
        fail = srv.url("/status/500"),
        switch = switch.port,
    );
    let files = [
        ("page-password.txt", secret("FILE_PASSWORD").to_owned()),
        ("bot.txt", secret("FILE_BOT").to_owned()),
        ("hb.txt", secret("FILE_HB").to_owned()),
        (
            "hook-url.txt",
            format!("{}/hook?key={}", rx.url(), secret("FILE_URL")),
        ),
    ];
    let mut run = hbmon().file("hbmon.yaml", &yaml);
    for (name, text) in &files {
        run = run.file(name, text);
    }
    let env: Vec<(&str, &str)> = SECRETS.to_vec();
    let mut d = crate::watch::Daemon::start_with_env(run.dir(), &["-vv"], &env);
    d.observed("api", "up");
    switch.set(false);
    d.observed("api", "down");
    // While the command probe and the exec notifier run: every process's argv.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut saw_children = false;
    while std::time::Instant::now() < until && !saw_children {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let mut argv = Vec::new();
            if std::fs::File::open(entry.path().join("cmdline"))
                .and_then(|mut f| f.read_to_end(&mut argv))
                .is_ok()
            {
                let argv = String::from_utf8_lossy(&argv).replace('\0', " ");
                leaks("a process's argv", &argv);
                saw_children |= argv.contains("cat > alert.txt");
            }
        }
    }
    assert!(saw_children, "the exec notifier never ran");
    crate::notify::delivered(&mut d, 5);
    // The listener: a ping with the heartbeat's token, then every read-only endpoint.
    let hb = secret("FILE_HB");
    let (code, _) =
        crate::heartbeat::request(port, "GET", &format!("/ping/job?token={hb}"), &[], b"");
    assert_eq!(code, 200);
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("ops:{}", secret("FILE_PASSWORD")))
    };
    let auth = format!("Basic {basic}");
    for path in ["/api/status", "/metrics", "/", "/healthz"] {
        let (code, body) =
            crate::heartbeat::request(port, "GET", path, &[("Authorization", &auth)], b"");
        assert_eq!(code, 200, "{path}: {body}");
        leaks(path, &body);
    }
    d.signal(nix::sys::signal::Signal::SIGTERM);
    let (code, lines) = d.exit_with_log();
    assert_eq!(code, 0);
    let log = lines
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(log.contains("alert delivered"), "{log}");
    leaks("watch's log", &log);
    // The alerts' bodies (their URLs and headers carry secrets by design, and PagerDuty's
    // body its routing key).
    for (_, _, body) in rx.received() {
        let own_key = format!("\"routing_key\":\"{}\"", secret("PD_KEY"));
        leaks("an alert's body", &body.replace(&own_key, ""));
    }
    leaks(
        "the exec notifier's stdin",
        &std::fs::read_to_string(run.dir().join("alert.txt")).unwrap(),
    );
    // The store's files, bytes and all.
    for name in ["hbmon.db", "hbmon.db-wal"] {
        if let Ok(bytes) = std::fs::read(run.dir().join(name)) {
            leaks(name, &String::from_utf8_lossy(&bytes));
        }
    }
    // The one-shot commands, in every format.
    let with = |args: &[&str]| {
        let mut r = hbmon().file("hbmon.yaml", &yaml);
        for (name, text) in &files {
            r = r.file(name, text);
        }
        for (k, v) in SECRETS {
            r = r.env(k, v);
        }
        std::fs::copy(run.dir().join("hbmon.db"), r.dir().join("hbmon.db")).unwrap();
        r.args(["-c", "hbmon.yaml"])
            .args(args.iter().copied())
            .run()
    };
    for format in ["human", "json", "junit", "tap", "nagios", "prometheus"] {
        let out = with(&["check", "-vvv", "--format", format, "--only", "api"]);
        leaks(&format!("check --format {format}"), &out.all());
    }
    for args in [
        &["status", "--db", "hbmon.db"][..],
        &["status", "--db", "hbmon.db", "--format", "json"],
        &["history", "api", "--db", "hbmon.db", "--format", "json"],
        &["history", "api", "--db", "hbmon.db"],
        &["validate", "-vvv"],
        &["notify", "preview", "api", "down"],
    ] {
        let out = with(args);
        leaks(&args.join(" "), &out.all());
    }
}

/// A secret file that is a device, a pipe, huge or several lines, and a token with a line
/// break: each a config error naming it, found by `validate` at once (`/dev/zero` used to
/// eat gigabytes, a FIFO to hang forever, a two-line token to fail only at probe time).
#[test]
fn secret_files_that_cannot_hold_a_secret_are_config_errors() {
    let run = hbmon();
    let dir = run.dir().to_owned();
    nix::unistd::mkfifo(
        &dir.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    std::fs::write(dir.join("two-lines"), "a\nb\n").unwrap();
    std::fs::write(dir.join("huge"), "x".repeat(100_000)).unwrap();
    let zero = "/dev/zero";
    let yaml = format!(
        "version: 1\nmonitors:\n  - {{ name: a, http: {{ url: \"http://127.0.0.1:1/\", bearer_token_file: {zero} }} }}\n  - {{ name: b, http: {{ url: \"http://127.0.0.1:1/\", bearer_token_file: fifo }} }}\n  - {{ name: c, http: {{ url: \"http://127.0.0.1:1/\", bearer_token_file: two-lines }} }}\n  - {{ name: d, http: {{ url: \"http://127.0.0.1:1/\", bearer_token_file: huge }} }}\n  - {{ name: e, http: {{ url: \"http://127.0.0.1:1/\", bearer_token: \"${{BADTOK}}\" }} }}\n"
    );
    let out = run
        .file("hbmon.yaml", &yaml)
        .env("BADTOK", &format!("{AUTH_TOKEN}\nX"))
        .args(["validate", "-c", "hbmon.yaml"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    for want in [
        "`/dev/zero`: not a regular file",
        "fifo`: not a regular file",
        "two-lines` holds more than one line",
        "huge`: larger than 64 KiB",
        "the token contains characters HTTP does not allow",
        "5 problems",
    ] {
        assert!(out.stderr.contains(want), "{want}: {}", out.stderr);
    }
    assert_hidden("secret file errors", &out);
}

/// Commands that never notify (`check`, `status`, `history`, `ack`, `run`, `healthcheck`)
/// do not read the notifiers' settings or the upstream's URL: an operator without the
/// service's secrets can still run them. `validate` and `notify` read everything.
#[test]
fn commands_that_never_notify_need_no_notifier_secrets() {
    let srv = HttpServer::start();
    let yaml = format!(
        r#"version: 1
store: {{ path: state.db }}
notifiers:
  slack:
    type: slack
    webhook_url: "${{SLACK_WEBHOOK_URL}}"
  mail:
    type: email
    smtp: "smtp://localhost:25"
    from: hbmon@example.com
    to: [ops@example.com]
    username: hbmon
    password_file: /nonexistent/smtp-password
upstream:
  url: "${{UPSTREAM_URL}}"
defaults:
  notify: [slack, mail]
monitors:
  - name: web
    http: {{ url: "{ok}" }}
"#,
        ok = srv.url("/status/200"),
    );
    let cmd = |args: &[&str]| hbmon().config(&yaml).args(args.iter().copied()).run();
    let quiet = |what: &str, out: &crate::harness::Output| {
        assert!(
            !out.stderr.contains("SLACK_WEBHOOK_URL")
                && !out.stderr.contains("UPSTREAM_URL")
                && !out.stderr.contains("smtp-password"),
            "{what} read a notifier's secret:\n{}",
            out.all()
        );
    };
    let check = cmd(&["check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    quiet("check", &check);
    for args in [
        &["status"][..],
        &["history", "web"],
        &["ack", "web", "--note", "looking"],
        &["healthcheck"],
        &["run", "web", "--", "true"],
    ] {
        let out = cmd(args);
        assert_ne!(out.code, 78, "{args:?}:\n{}", out.all());
        quiet(&format!("{args:?}"), &out);
    }
    // Where a command does notify, or checks the whole file, the secrets are needed.
    for args in [&["validate"][..], &["notify", "test", "slack"]] {
        let out = cmd(args);
        assert_eq!(out.code, 78, "{args:?}:\n{}", out.all());
        assert!(out.stderr.contains("SLACK_WEBHOOK_URL"), "{}", out.stderr);
        assert!(out.stderr.contains("UPSTREAM_URL"), "{}", out.stderr);
    }
    // The names are still checked where monitors refer to them.
    let typo = yaml.replace("notify: [slack, mail]", "notify: [slak]");
    let out = hbmon().config(&typo).args(["check"]).run();
    assert_eq!(out.code, 78, "{}", out.all());
    assert!(
        out.stderr.contains("did you mean `slack`?"),
        "{}",
        out.stderr
    );
}

/// An SMTP password file that cannot be read is one problem, said in words: not also
/// "`username` and `password` go together" (the password was given), and no "os error".
#[test]
fn an_unreadable_password_file_is_one_problem_in_words() {
    let out = hbmon()
        .config("version: 1\nnotifiers:\n  mail: { type: email, smtp: \"smtp://127.0.0.1:2525\", username: hbmon, password_file: /nonexistent/smtp-pass, from: hbmon@example.com, to: [ops@example.com] }\nmonitors:\n  - { name: a, command: { run: [\"true\"] } }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{}", out.all());
    assert!(
        out.stderr
            .contains("cannot read `/nonexistent/smtp-pass`: not found"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("go together"), "{}", out.stderr);
    assert!(!out.stderr.contains("os error"), "{}", out.stderr);
    assert!(out.stderr.contains("1 problem"), "{}", out.stderr);
}
