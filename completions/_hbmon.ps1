
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'hbmon' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'hbmon'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'hbmon' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Run every selected monitor once, print a report, exit with the worst status')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Run forever: probe on schedule, debounce, keep state in the store (a systemd unit)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every monitor''s state from the store: since when, last reason, uptime, open incidents')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show one monitor''s incidents and recent observations from the store')
            [CompletionResult]::new('ack', 'ack', [CompletionResultType]::ParameterValue, 'Acknowledge a monitor''s open incident: reminders and escalation stop, and its notifiers hear who took it on. Applied by the running `watch` (through the store)')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Feed made-up observations through the real scheduler and state machine with a virtual clock, and print which alerts would fire when')
            [CompletionResult]::new('notify', 'notify', [CompletionResultType]::ParameterValue, 'Send a test alert through a notifier, or show what an alert would say')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command as a heartbeat job: ping start, run it, ping its exit code with the tail of its output; exit with its code (a cron wrapper)')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Load and check the configuration without probing; report every problem at once')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a starter configuration for this machine from what runs on it: disks, listening TCP services, running containers, systemd timers (as heartbeats)')
            [CompletionResult]::new('healthcheck', 'healthcheck', [CompletionResultType]::ParameterValue, 'Ask a running `watch` whether it is healthy (its listener''s `/healthz`): exit 0 when it answers 200, 1 when not. A container HEALTHCHECK that needs no shell')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON schema of the configuration file, or the configuration reference made from it (`--format markdown` or `man`, as in `hbmon.yaml(5)`)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hbmon;check' {
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Run only these monitors: names or glob patterns (`api-*`), comma-separated or repeated')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Run only monitors carrying one of these tags (comma-separated or repeated)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out these monitors: names or glob patterns, comma-separated or repeated (a shared config in CI without the monitors of another environment)')
            [CompletionResult]::new('--skip-tag', '--skip-tag', [CompletionResultType]::ParameterName, 'Leave out monitors carrying any of these tags (comma-separated or repeated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to this file (atomically: a reader never sees half a report) instead of standard output')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to this file (atomically: a reader never sees half a report) instead of standard output')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many probes may run at the same time')
            [CompletionResult]::new('--per-host', '--per-host', [CompletionResultType]::ParameterName, 'How many probes may run at the same time against one host')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Override every monitor''s timeout (`5s`, `500ms`)')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Probe a failing monitor up to N more times, with backoff, before reporting it')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Keep re-probing failing monitors, with backoff, until all pass or this long has passed (a deploy gate: "wait until the new version answers")')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Stop the whole run after this long; monitors not finished by then are unknown')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which status counts as failing for `--retries`, `--wait` and the JUnit and TAP reports; the exit code always follows the exit-code table')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--ci', '--ci', [CompletionResultType]::ParameterName, 'Behave as in CI: never show a progress indicator (set by most CI systems)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;watch' {
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many probes may run at the same time')
            [CompletionResult]::new('--per-host', '--per-host', [CompletionResultType]::ParameterName, 'How many probes may run at the same time against one host')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'On SIGTERM or SIGINT, wait this long for running probes before exiting')
            [CompletionResult]::new('--flush-interval', '--flush-interval', [CompletionResultType]::ParameterName, 'How often observations are written to the store, in one transaction')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Where this instance probes from, when several share a PostgreSQL store: its observations are tagged with it, and the leader alerts on a quorum of regions')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Listen here, whatever the config''s `listen.address` says, and even when the config has no `listen:` and no heartbeat (a container publishes `0.0.0.0:8471`)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;status' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;history' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many recent observations to show')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;ack' {
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'A note for the people alerted ("restarting the database")')
            [CompletionResult]::new('--for', '--for', [CompletionResultType]::ParameterName, 'The acknowledgment lapses after this long and reminders resume (default: when the incident resolves)')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Who acknowledges (default: `$SUDO_USER`, else `$USER`, with the host name)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for the running `watch` to apply it')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;simulate' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read timelines from this file, one per line (`#` starts a comment)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read timelines from this file, one per line (`#` starts a comment)')
            [CompletionResult]::new('--start', '--start', [CompletionResultType]::ParameterName, 'The virtual clock''s start (RFC 3339), for schedules and windows')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--fresh', '--fresh', [CompletionResultType]::ParameterName, 'Start as after a fresh install (the state found first is recorded, not alerted) instead of from a monitor known to be up')
            [CompletionResult]::new('--ad-hoc', '--ad-hoc', [CompletionResultType]::ParameterName, 'Allow timelines for names the config lacks: each becomes a monitor made of the config''s `defaults:` (the built-in defaults without a config), to try a policy')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;notify' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver''s answer. Exit 0 when delivered, 74 when not')
            [CompletionResult]::new('preview', 'preview', [CompletionResultType]::ParameterValue, 'Render the alert a monitor''s notifiers would send for an event, without sending')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hbmon;notify;test' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;notify;preview' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;notify;help' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver''s answer. Exit 0 when delivered, 74 when not')
            [CompletionResult]::new('preview', 'preview', [CompletionResultType]::ParameterValue, 'Render the alert a monitor''s notifiers would send for an event, without sending')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hbmon;notify;help;test' {
            break
        }
        'hbmon;notify;help;preview' {
            break
        }
        'hbmon;notify;help;help' {
            break
        }
        'hbmon;run' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'The hbmon listener to ping (default: the config''s `listen` address)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The ping token (default: the heartbeat''s or the listener''s from the config)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to keep trying to deliver the finishing ping when the listener is down or busy (a `systemctl restart hbmon` during the job), with backoff from 250 ms')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;validate' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;init' {
            [CompletionResult]::new('--http-port', '--http-port', [CompletionResultType]::ParameterName, 'Also try HTTP on these ports (comma-separated or repeated), besides the usual ones (80, 443, 3000, 5000, 8000, 8008, 8080, 8081, 8443, 8888, 9090, 9100)')
            [CompletionResult]::new('--unit-dirs', '--unit-dirs', [CompletionResultType]::ParameterName, 'For tests: read systemd timer units from these directories (colon-separated) instead of /etc/systemd/system, /usr/lib/systemd/system and /lib/systemd/system')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the configuration on standard output and write nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the file named by `--config` if it exists')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;healthcheck' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'The listener to ask (`http://127.0.0.1:8471`; default: `--listen`, else the config''s `listen` address, on loopback when it listens on every address)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'The address `watch` was told to listen on with `--listen` (`HBMON_LISTEN`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the answer')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;schema' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'What to print: the JSON schema, or the reference as Markdown or a man page')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;completions' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)')
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only problems: failing monitors and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more about what hbmon does (repeat for more detail), on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hbmon;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Run every selected monitor once, print a report, exit with the worst status')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Run forever: probe on schedule, debounce, keep state in the store (a systemd unit)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show every monitor''s state from the store: since when, last reason, uptime, open incidents')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show one monitor''s incidents and recent observations from the store')
            [CompletionResult]::new('ack', 'ack', [CompletionResultType]::ParameterValue, 'Acknowledge a monitor''s open incident: reminders and escalation stop, and its notifiers hear who took it on. Applied by the running `watch` (through the store)')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Feed made-up observations through the real scheduler and state machine with a virtual clock, and print which alerts would fire when')
            [CompletionResult]::new('notify', 'notify', [CompletionResultType]::ParameterValue, 'Send a test alert through a notifier, or show what an alert would say')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command as a heartbeat job: ping start, run it, ping its exit code with the tail of its output; exit with its code (a cron wrapper)')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Load and check the configuration without probing; report every problem at once')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a starter configuration for this machine from what runs on it: disks, listening TCP services, running containers, systemd timers (as heartbeats)')
            [CompletionResult]::new('healthcheck', 'healthcheck', [CompletionResultType]::ParameterValue, 'Ask a running `watch` whether it is healthy (its listener''s `/healthz`): exit 0 when it answers 200, 1 when not. A container HEALTHCHECK that needs no shell')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON schema of the configuration file, or the configuration reference made from it (`--format markdown` or `man`, as in `hbmon.yaml(5)`)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hbmon;help;check' {
            break
        }
        'hbmon;help;watch' {
            break
        }
        'hbmon;help;status' {
            break
        }
        'hbmon;help;history' {
            break
        }
        'hbmon;help;ack' {
            break
        }
        'hbmon;help;simulate' {
            break
        }
        'hbmon;help;notify' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver''s answer. Exit 0 when delivered, 74 when not')
            [CompletionResult]::new('preview', 'preview', [CompletionResultType]::ParameterValue, 'Render the alert a monitor''s notifiers would send for an event, without sending')
            break
        }
        'hbmon;help;notify;test' {
            break
        }
        'hbmon;help;notify;preview' {
            break
        }
        'hbmon;help;run' {
            break
        }
        'hbmon;help;validate' {
            break
        }
        'hbmon;help;init' {
            break
        }
        'hbmon;help;healthcheck' {
            break
        }
        'hbmon;help;schema' {
            break
        }
        'hbmon;help;completions' {
            break
        }
        'hbmon;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
