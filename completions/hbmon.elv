
use builtin;
use str;

set edit:completion:arg-completer[hbmon] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'hbmon'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'hbmon'= {
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check 'Run every selected monitor once, print a report, exit with the worst status'
            cand watch 'Run forever: probe on schedule, debounce, keep state in the store (a systemd unit)'
            cand status 'Show every monitor''s state from the store: since when, last reason, uptime, open incidents'
            cand history 'Show one monitor''s incidents and recent observations from the store'
            cand ack 'Acknowledge a monitor''s open incident: reminders and escalation stop, and its notifiers hear who took it on. Applied by the running `watch` (through the store)'
            cand simulate 'Feed made-up observations through the real scheduler and state machine with a virtual clock, and print which alerts would fire when'
            cand notify 'Send a test alert through a notifier, or show what an alert would say'
            cand run 'Run a command as a heartbeat job: ping start, run it, ping its exit code with the tail of its output; exit with its code (a cron wrapper)'
            cand validate 'Load and check the configuration without probing; report every problem at once'
            cand init 'Write a starter configuration for this machine from what runs on it: disks, listening TCP services, running containers, systemd timers (as heartbeats)'
            cand healthcheck 'Ask a running `watch` whether it is healthy (its listener''s `/healthz`): exit 0 when it answers 200, 1 when not. A container HEALTHCHECK that needs no shell'
            cand schema 'Print the JSON schema of the configuration file, or the configuration reference made from it (`--format markdown` or `man`, as in `hbmon.yaml(5)`)'
            cand completions 'Print shell completions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hbmon;check'= {
            cand --only 'Run only these monitors: names or glob patterns (`api-*`), comma-separated or repeated'
            cand --tag 'Run only monitors carrying one of these tags (comma-separated or repeated)'
            cand --exclude 'Leave out these monitors: names or glob patterns, comma-separated or repeated (a shared config in CI without the monitors of another environment)'
            cand --skip-tag 'Leave out monitors carrying any of these tags (comma-separated or repeated)'
            cand --format 'Report format'
            cand -o 'Write the report to this file (atomically: a reader never sees half a report) instead of standard output'
            cand --output 'Write the report to this file (atomically: a reader never sees half a report) instead of standard output'
            cand --concurrency 'How many probes may run at the same time'
            cand --per-host 'How many probes may run at the same time against one host'
            cand --timeout 'Override every monitor''s timeout (`5s`, `500ms`)'
            cand --retries 'Probe a failing monitor up to N more times, with backoff, before reporting it'
            cand --wait 'Keep re-probing failing monitors, with backoff, until all pass or this long has passed (a deploy gate: "wait until the new version answers")'
            cand --deadline 'Stop the whole run after this long; monitors not finished by then are unknown'
            cand --fail-on 'Which status counts as failing for `--retries`, `--wait` and the JUnit and TAP reports; the exit code always follows the exit-code table'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --ci 'Behave as in CI: never show a progress indicator (set by most CI systems)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;watch'= {
            cand --concurrency 'How many probes may run at the same time'
            cand --per-host 'How many probes may run at the same time against one host'
            cand --drain-timeout 'On SIGTERM or SIGINT, wait this long for running probes before exiting'
            cand --flush-interval 'How often observations are written to the store, in one transaction'
            cand --region 'Where this instance probes from, when several share a PostgreSQL store: its observations are tagged with it, and the leader alerts on a quorum of regions'
            cand --listen 'Listen here, whatever the config''s `listen.address` says, and even when the config has no `listen:` and no heartbeat (a container publishes `0.0.0.0:8471`)'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;status'= {
            cand --format 'Output format'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;history'= {
            cand --limit 'How many recent observations to show'
            cand --format 'Output format'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;ack'= {
            cand --note 'A note for the people alerted ("restarting the database")'
            cand --for 'The acknowledgment lapses after this long and reminders resume (default: when the incident resolves)'
            cand --by 'Who acknowledges (default: `$SUDO_USER`, else `$USER`, with the host name)'
            cand --wait 'How long to wait for the running `watch` to apply it'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;simulate'= {
            cand -f 'Read timelines from this file, one per line (`#` starts a comment)'
            cand --file 'Read timelines from this file, one per line (`#` starts a comment)'
            cand --start 'The virtual clock''s start (RFC 3339), for schedules and windows'
            cand --format 'Output format'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --fresh 'Start as after a fresh install (the state found first is recorded, not alerted) instead of from a monitor known to be up'
            cand --ad-hoc 'Allow timelines for names the config lacks: each becomes a monitor made of the config''s `defaults:` (the built-in defaults without a config), to try a policy'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;notify'= {
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand test 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver''s answer. Exit 0 when delivered, 74 when not'
            cand preview 'Render the alert a monitor''s notifiers would send for an event, without sending'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hbmon;notify;test'= {
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;notify;preview'= {
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;notify;help'= {
            cand test 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver''s answer. Exit 0 when delivered, 74 when not'
            cand preview 'Render the alert a monitor''s notifiers would send for an event, without sending'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hbmon;notify;help;test'= {
        }
        &'hbmon;notify;help;preview'= {
        }
        &'hbmon;notify;help;help'= {
        }
        &'hbmon;run'= {
            cand --url 'The hbmon listener to ping (default: the config''s `listen` address)'
            cand --token 'The ping token (default: the heartbeat''s or the listener''s from the config)'
            cand --timeout 'How long to keep trying to deliver the finishing ping when the listener is down or busy (a `systemctl restart hbmon` during the job), with backoff from 250 ms'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;validate'= {
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;init'= {
            cand --http-port 'Also try HTTP on these ports (comma-separated or repeated), besides the usual ones (80, 443, 3000, 5000, 8000, 8008, 8080, 8081, 8443, 8888, 9090, 9100)'
            cand --unit-dirs 'For tests: read systemd timer units from these directories (colon-separated) instead of /etc/systemd/system, /usr/lib/systemd/system and /lib/systemd/system'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --dry-run 'Print the configuration on standard output and write nothing'
            cand --force 'Replace the file named by `--config` if it exists'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;healthcheck'= {
            cand --url 'The listener to ask (`http://127.0.0.1:8471`; default: `--listen`, else the config''s `listen` address, on loopback when it listens on every address)'
            cand --listen 'The address `watch` was told to listen on with `--listen` (`HBMON_LISTEN`)'
            cand --timeout 'How long to wait for the answer'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;schema'= {
            cand --format 'What to print: the JSON schema, or the reference as Markdown or a man page'
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;completions'= {
            cand -c 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --config 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)'
            cand --docker-host 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)'
            cand --log-format 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)'
            cand --db 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)'
            cand --no-color 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
            cand -q 'Print only problems: failing monitors and errors'
            cand --quiet 'Print only problems: failing monitors and errors'
            cand -v 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand --verbose 'Log more about what hbmon does (repeat for more detail), on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hbmon;help'= {
            cand check 'Run every selected monitor once, print a report, exit with the worst status'
            cand watch 'Run forever: probe on schedule, debounce, keep state in the store (a systemd unit)'
            cand status 'Show every monitor''s state from the store: since when, last reason, uptime, open incidents'
            cand history 'Show one monitor''s incidents and recent observations from the store'
            cand ack 'Acknowledge a monitor''s open incident: reminders and escalation stop, and its notifiers hear who took it on. Applied by the running `watch` (through the store)'
            cand simulate 'Feed made-up observations through the real scheduler and state machine with a virtual clock, and print which alerts would fire when'
            cand notify 'Send a test alert through a notifier, or show what an alert would say'
            cand run 'Run a command as a heartbeat job: ping start, run it, ping its exit code with the tail of its output; exit with its code (a cron wrapper)'
            cand validate 'Load and check the configuration without probing; report every problem at once'
            cand init 'Write a starter configuration for this machine from what runs on it: disks, listening TCP services, running containers, systemd timers (as heartbeats)'
            cand healthcheck 'Ask a running `watch` whether it is healthy (its listener''s `/healthz`): exit 0 when it answers 200, 1 when not. A container HEALTHCHECK that needs no shell'
            cand schema 'Print the JSON schema of the configuration file, or the configuration reference made from it (`--format markdown` or `man`, as in `hbmon.yaml(5)`)'
            cand completions 'Print shell completions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hbmon;help;check'= {
        }
        &'hbmon;help;watch'= {
        }
        &'hbmon;help;status'= {
        }
        &'hbmon;help;history'= {
        }
        &'hbmon;help;ack'= {
        }
        &'hbmon;help;simulate'= {
        }
        &'hbmon;help;notify'= {
            cand test 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver''s answer. Exit 0 when delivered, 74 when not'
            cand preview 'Render the alert a monitor''s notifiers would send for an event, without sending'
        }
        &'hbmon;help;notify;test'= {
        }
        &'hbmon;help;notify;preview'= {
        }
        &'hbmon;help;run'= {
        }
        &'hbmon;help;validate'= {
        }
        &'hbmon;help;init'= {
        }
        &'hbmon;help;healthcheck'= {
        }
        &'hbmon;help;schema'= {
        }
        &'hbmon;help;completions'= {
        }
        &'hbmon;help;help'= {
        }
    ]
    $completions[$command]
}
