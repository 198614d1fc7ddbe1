# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_hbmon_global_optspecs
    string join \n c/config= no-color q/quiet docker-host= v/verbose log-format= db= h/help V/version
end

function __fish_hbmon_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_hbmon_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_hbmon_using_subcommand
    set -l cmd (__fish_hbmon_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c hbmon -n "__fish_hbmon_needs_command" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_needs_command" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_needs_command" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_needs_command" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_needs_command" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_needs_command" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_needs_command" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_needs_command" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_needs_command" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "check" -d 'Run every selected monitor once, print a report, exit with the worst status'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "watch" -d 'Run forever: probe on schedule, debounce, keep state in the store (a systemd unit)'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "status" -d 'Show every monitor\'s state from the store: since when, last reason, uptime, open incidents'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "history" -d 'Show one monitor\'s incidents and recent observations from the store'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "ack" -d 'Acknowledge a monitor\'s open incident: reminders and escalation stop, and its notifiers hear who took it on. Applied by the running `watch` (through the store)'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "simulate" -d 'Feed made-up observations through the real scheduler and state machine with a virtual clock, and print which alerts would fire when'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "notify" -d 'Send a test alert through a notifier, or show what an alert would say'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "run" -d 'Run a command as a heartbeat job: ping start, run it, ping its exit code with the tail of its output; exit with its code (a cron wrapper)'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "validate" -d 'Load and check the configuration without probing; report every problem at once'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "init" -d 'Write a starter configuration for this machine from what runs on it: disks, listening TCP services, running containers, systemd timers (as heartbeats)'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "healthcheck" -d 'Ask a running `watch` whether it is healthy (its listener\'s `/healthz`): exit 0 when it answers 200, 1 when not. A container HEALTHCHECK that needs no shell'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "schema" -d 'Print the JSON schema of the configuration file, or the configuration reference made from it (`--format markdown` or `man`, as in `hbmon.yaml(5)`)'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c hbmon -n "__fish_hbmon_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l only -d 'Run only these monitors: names or glob patterns (`api-*`), comma-separated or repeated' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l tag -d 'Run only monitors carrying one of these tags (comma-separated or repeated)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l exclude -d 'Leave out these monitors: names or glob patterns, comma-separated or repeated (a shared config in CI without the monitors of another environment)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l skip-tag -d 'Leave out monitors carrying any of these tags (comma-separated or repeated)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l format -d 'Report format' -r -f -a "human\t'A table for people; colour on a terminal'
json\t'One JSON document with stable field names (see the README)'
junit\t'JUnit XML, for GitLab, Jenkins and GitHub test reports'
tap\t'TAP version 13'
nagios\t'One Nagios plugin status line with performance data'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector'"
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -s o -l output -d 'Write the report to this file (atomically: a reader never sees half a report) instead of standard output' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l concurrency -d 'How many probes may run at the same time' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l per-host -d 'How many probes may run at the same time against one host' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l timeout -d 'Override every monitor\'s timeout (`5s`, `500ms`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l retries -d 'Probe a failing monitor up to N more times, with backoff, before reporting it' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l wait -d 'Keep re-probing failing monitors, with backoff, until all pass or this long has passed (a deploy gate: "wait until the new version answers")' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l deadline -d 'Stop the whole run after this long; monitors not finished by then are unknown' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l fail-on -d 'Which status counts as failing for `--retries`, `--wait` and the JUnit and TAP reports; the exit code always follows the exit-code table' -r -f -a "warning\t'Degraded, unknown and down monitors fail'
critical\t'Unknown and down monitors fail'"
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l ci -d 'Behave as in CI: never show a progress indicator (set by most CI systems)'
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hbmon -n "__fish_hbmon_using_subcommand check" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l concurrency -d 'How many probes may run at the same time' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l per-host -d 'How many probes may run at the same time against one host' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l drain-timeout -d 'On SIGTERM or SIGINT, wait this long for running probes before exiting' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l flush-interval -d 'How often observations are written to the store, in one transaction' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l region -d 'Where this instance probes from, when several share a PostgreSQL store: its observations are tagged with it, and the leader alerts on a quorum of regions' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l listen -d 'Listen here, whatever the config\'s `listen.address` says, and even when the config has no `listen:` and no heartbeat (a container publishes `0.0.0.0:8471`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand watch" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -l format -d 'Output format' -r -f -a "human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand status" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -l limit -d 'How many recent observations to show' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -l format -d 'Output format' -r -f -a "human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand history" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -l note -d 'A note for the people alerted ("restarting the database")' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -l for -d 'The acknowledgment lapses after this long and reminders resume (default: when the incident resolves)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -l by -d 'Who acknowledges (default: `$SUDO_USER`, else `$USER`, with the host name)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -l wait -d 'How long to wait for the running `watch` to apply it' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand ack" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -s f -l file -d 'Read timelines from this file, one per line (`#` starts a comment)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -l start -d 'The virtual clock\'s start (RFC 3339), for schedules and windows' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -l format -d 'Output format' -r -f -a "human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -l fresh -d 'Start as after a fresh install (the state found first is recorded, not alerted) instead of from a monitor known to be up'
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -l ad-hoc -d 'Allow timelines for names the config lacks: each becomes a monitor made of the config\'s `defaults:` (the built-in defaults without a config), to try a policy'
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand simulate" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -f -a "test" -d 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver\'s answer. Exit 0 when delivered, 74 when not'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -f -a "preview" -d 'Render the alert a monitor\'s notifiers would send for an event, without sending'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and not __fish_seen_subcommand_from test preview help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from preview" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "test" -d 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver\'s answer. Exit 0 when delivered, 74 when not'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "preview" -d 'Render the alert a monitor\'s notifiers would send for an event, without sending'
complete -c hbmon -n "__fish_hbmon_using_subcommand notify; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -l url -d 'The hbmon listener to ping (default: the config\'s `listen` address)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -l token -d 'The ping token (default: the heartbeat\'s or the listener\'s from the config)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -l timeout -d 'How long to keep trying to deliver the finishing ping when the listener is down or busy (a `systemctl restart hbmon` during the job), with backoff from 250 ms' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand run" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand validate" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -l http-port -d 'Also try HTTP on these ports (comma-separated or repeated), besides the usual ones (80, 443, 3000, 5000, 8000, 8008, 8080, 8081, 8443, 8888, 9090, 9100)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -l unit-dirs -d 'For tests: read systemd timer units from these directories (colon-separated) instead of /etc/systemd/system, /usr/lib/systemd/system and /lib/systemd/system' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -l dry-run -d 'Print the configuration on standard output and write nothing'
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -l force -d 'Replace the file named by `--config` if it exists'
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand init" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -l url -d 'The listener to ask (`http://127.0.0.1:8471`; default: `--listen`, else the config\'s `listen` address, on loopback when it listens on every address)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -l listen -d 'The address `watch` was told to listen on with `--listen` (`HBMON_LISTEN`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -l timeout -d 'How long to wait for the answer' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand healthcheck" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -l format -d 'What to print: the JSON schema, or the reference as Markdown or a man page' -r -f -a "json\t''
markdown\t''
man\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand schema" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -s c -l config -d 'Path of the configuration file (default: `hbmon.yaml` in the working directory, else `/etc/hbmon/hbmon.yaml`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -l docker-host -d 'Docker API for docker probes without their own `socket` (a unix socket: `unix:///var/run/docker.sock`)' -r
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -l log-format -d 'Log lines for people (`human`), one JSON object per line (`json`), or human on a terminal and JSON otherwise (`auto`)' -r -f -a "auto\t''
human\t''
json\t''"
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -l db -d 'The store of `watch`, `status`, `history` and `ack`: a SQLite file, or a `postgres://` URL (overrides `store.path` and `store.url`; default `$STATE_DIRECTORY/hbmon.db`, else `hbmon.db`)' -r -F
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -l no-color -d 'Never colour the output (colour is only used on a terminal anyway). `NO_COLOR` set to anything but empty, `0`, `false`, `no` or `off` means the same'
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -s q -l quiet -d 'Print only problems: failing monitors and errors'
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -s v -l verbose -d 'Log more about what hbmon does (repeat for more detail), on stderr'
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -s h -l help -d 'Print help'
complete -c hbmon -n "__fish_hbmon_using_subcommand completions" -s V -l version -d 'Print version'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "check" -d 'Run every selected monitor once, print a report, exit with the worst status'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "watch" -d 'Run forever: probe on schedule, debounce, keep state in the store (a systemd unit)'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "status" -d 'Show every monitor\'s state from the store: since when, last reason, uptime, open incidents'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "history" -d 'Show one monitor\'s incidents and recent observations from the store'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "ack" -d 'Acknowledge a monitor\'s open incident: reminders and escalation stop, and its notifiers hear who took it on. Applied by the running `watch` (through the store)'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "simulate" -d 'Feed made-up observations through the real scheduler and state machine with a virtual clock, and print which alerts would fire when'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "notify" -d 'Send a test alert through a notifier, or show what an alert would say'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "run" -d 'Run a command as a heartbeat job: ping start, run it, ping its exit code with the tail of its output; exit with its code (a cron wrapper)'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "validate" -d 'Load and check the configuration without probing; report every problem at once'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "init" -d 'Write a starter configuration for this machine from what runs on it: disks, listening TCP services, running containers, systemd timers (as heartbeats)'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "healthcheck" -d 'Ask a running `watch` whether it is healthy (its listener\'s `/healthz`): exit 0 when it answers 200, 1 when not. A container HEALTHCHECK that needs no shell'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "schema" -d 'Print the JSON schema of the configuration file, or the configuration reference made from it (`--format markdown` or `man`, as in `hbmon.yaml(5)`)'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "completions" -d 'Print shell completions'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and not __fish_seen_subcommand_from check watch status history ack simulate notify run validate init healthcheck schema completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "test" -d 'Render a test alert and send it through one notifier now (not through the outbox); print the receiver\'s answer. Exit 0 when delivered, 74 when not'
complete -c hbmon -n "__fish_hbmon_using_subcommand help; and __fish_seen_subcommand_from notify" -f -a "preview" -d 'Render the alert a monitor\'s notifiers would send for an event, without sending'
