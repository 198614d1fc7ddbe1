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
