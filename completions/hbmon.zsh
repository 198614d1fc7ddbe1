#compdef hbmon

autoload -U is-at-least

_hbmon() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-c+[Path of the configuration file]:FILE:_files' \
'--config=[Path of the configuration file]:FILE:_files' \
'--no-color[Never colour the output (colour is only used on a terminal anyway)]' \
'(-v --verbose)-q[Print only problems\: failing monitors and errors]' \
'(-v --verbose)--quiet[Print only problems\: failing monitors and errors]' \
'*-v[Log more about what hbmon does (repeat for more detail), on stderr]' \
'*--verbose[Log more about what hbmon does (repeat for more detail), on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_hbmon_commands" \
"*::: :->hbmon" \
&& ret=0
    case $state in
    (hbmon)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:hbmon-command-$line[1]:"
        case $line[1] in
            (check)
_arguments "${_arguments_options[@]}" : \
'*--only=[Run only these monitors\: names or glob patterns (\`api-*\`), comma-separated or repeated]:NAME|GLOB:_default' \
'*--tag=[Run only monitors carrying one of these tags (comma-separated or repeated)]:TAG:_default' \
'--format=[Report format]:FORMAT:((human\:"A table for people; colour on a terminal"
json\:"One JSON document with stable field names (see the README)"))' \
'--concurrency=[How many probes may run at the same time]:N:_default' \
'--timeout=[Override every monitor'\''s timeout (\`5s\`, \`500ms\`)]:DURATION:_default' \
'-c+[Path of the configuration file]:FILE:_files' \
'--config=[Path of the configuration file]:FILE:_files' \
'--no-color[Never colour the output (colour is only used on a terminal anyway)]' \
'(-v --verbose)-q[Print only problems\: failing monitors and errors]' \
'(-v --verbose)--quiet[Print only problems\: failing monitors and errors]' \
'*-v[Log more about what hbmon does (repeat for more detail), on stderr]' \
'*--verbose[Log more about what hbmon does (repeat for more detail), on stderr]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
'-c+[Path of the configuration file]:FILE:_files' \
'--config=[Path of the configuration file]:FILE:_files' \
'--no-color[Never colour the output (colour is only used on a terminal anyway)]' \
'(-v --verbose)-q[Print only problems\: failing monitors and errors]' \
'(-v --verbose)--quiet[Print only problems\: failing monitors and errors]' \
'*-v[Log more about what hbmon does (repeat for more detail), on stderr]' \
'*--verbose[Log more about what hbmon does (repeat for more detail), on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(schema)
_arguments "${_arguments_options[@]}" : \
'-c+[Path of the configuration file]:FILE:_files' \
'--config=[Path of the configuration file]:FILE:_files' \
'--no-color[Never colour the output (colour is only used on a terminal anyway)]' \
'(-v --verbose)-q[Print only problems\: failing monitors and errors]' \
'(-v --verbose)--quiet[Print only problems\: failing monitors and errors]' \
'*-v[Log more about what hbmon does (repeat for more detail), on stderr]' \
'*--verbose[Log more about what hbmon does (repeat for more detail), on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'-c+[Path of the configuration file]:FILE:_files' \
'--config=[Path of the configuration file]:FILE:_files' \
'--no-color[Never colour the output (colour is only used on a terminal anyway)]' \
'(-v --verbose)-q[Print only problems\: failing monitors and errors]' \
'(-v --verbose)--quiet[Print only problems\: failing monitors and errors]' \
'*-v[Log more about what hbmon does (repeat for more detail), on stderr]' \
'*--verbose[Log more about what hbmon does (repeat for more detail), on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':shell -- The shell to print completions for:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_hbmon__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:hbmon-help-command-$line[1]:"
        case $line[1] in
            (check)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(schema)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_hbmon_commands] )) ||
_hbmon_commands() {
    local commands; commands=(
'check:Run every selected monitor once, print a report, exit with the worst status' \
'validate:Load and check the configuration without probing; report every problem at once' \
'schema:Print the JSON schema of the configuration file' \
'completions:Print shell completions' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'hbmon commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__check_commands] )) ||
_hbmon__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon check commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__completions_commands] )) ||
_hbmon__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon completions commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__help_commands] )) ||
_hbmon__subcmd__help_commands() {
    local commands; commands=(
'check:Run every selected monitor once, print a report, exit with the worst status' \
'validate:Load and check the configuration without probing; report every problem at once' \
'schema:Print the JSON schema of the configuration file' \
'completions:Print shell completions' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'hbmon help commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__help__subcmd__check_commands] )) ||
_hbmon__subcmd__help__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon help check commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__help__subcmd__completions_commands] )) ||
_hbmon__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon help completions commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__help__subcmd__help_commands] )) ||
_hbmon__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon help help commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__help__subcmd__schema_commands] )) ||
_hbmon__subcmd__help__subcmd__schema_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon help schema commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__help__subcmd__validate_commands] )) ||
_hbmon__subcmd__help__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon help validate commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__schema_commands] )) ||
_hbmon__subcmd__schema_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon schema commands' commands "$@"
}
(( $+functions[_hbmon__subcmd__validate_commands] )) ||
_hbmon__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'hbmon validate commands' commands "$@"
}

if [ "$funcstack[1]" = "_hbmon" ]; then
    _hbmon "$@"
else
    compdef _hbmon hbmon
fi
