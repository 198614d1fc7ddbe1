#!/usr/bin/env python3
"""Rebuild fuzz/seeds/<target>/ from examples/*.yaml, the config snippets in
tests/cli/*.rs and the templates, timelines and cron expressions the tests use.
Run from the repository root: python3 fuzz/make_seeds.py"""

import hashlib
import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"
LIMIT = 40  # files per target at most


def rust_literals(src):
    """Rust string literals (raw `r#"..."#` and escaped `"..."`), unescaped."""
    out = []
    i = 0
    while i < len(src):
        m = re.compile(r'r(#*)"').match(src, i)
        if m and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            end = src.find('"' + m.group(1), m.end())
            if end < 0:
                break
            out.append(src[m.end():end])
            i = end + 1 + len(m.group(1))
            continue
        if src[i] == "'" and i + 2 < len(src) and src[i + 2] == "'":
            i += 3  # a char literal such as '"'
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = len(src) if j < 0 else j
            continue
        if src[i] == '"':
            j = i + 1
            buf = []
            while j < len(src) and src[j] != '"':
                if src[j] == "\\" and j + 1 < len(src):
                    c = src[j + 1]
                    if c == "\n":
                        j += 2
                        while j < len(src) and src[j] in " \t":
                            j += 1
                        continue
                    buf.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "\\": "\\", "'": "'"}.get(c, "\\" + c))
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            out.append("".join(buf))
            i = j + 1
            continue
        i += 1
    return out


def unformat(s):
    """A `format!` string's text: `{name}` placeholders filled in, `{{`/`}}` undoubled."""
    if "{{" not in s and not re.search(r"\{[a-zA-Z_0-9][a-zA-Z0-9_]*\}|\{\}", s):
        return s
    s = re.sub(r"(?<![{$])\{([a-zA-Z_][a-zA-Z0-9_]*|[0-9]+)?(:[^{}]*)?\}(?!\})", "8080", s)
    return s.replace("{{", "{").replace("}}", "}")


def write(target, items):
    d = SEEDS / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    seen = set()
    for data in items:
        if isinstance(data, str):
            data = data.encode()
        h = hashlib.sha1(data).hexdigest()[:16]
        if h in seen:
            continue
        seen.add(h)
        (d / h).write_bytes(data)
        if len(seen) >= LIMIT:
            break
    print(f"{target}: {len(seen)} seeds")


def main():
    tests = sorted((ROOT / "tests" / "cli").glob("*.rs"))
    literals = [lit for t in tests for lit in rust_literals(t.read_text())]

    # config: the examples, then the tests' configs, shortest first for variety.
    configs = [p.read_text() for p in sorted((ROOT / "examples").glob("*.yaml"))]
    snippets = sorted({unformat(l) for l in literals if "version: 1" in l}, key=len)
    step = max(1, len(snippets) // (LIMIT - len(configs)))
    configs += snippets[::step]
    write("config", configs)

    # timeline: what `hbmon simulate` is given in the tests, and the dialect's corners.
    timelines = [l for l in literals if re.fullmatch(r"[a-z][a-z0-9-]*: [a-z0-9 *@/\-]+", l)]
    timelines += [
        "api: ok fail*3 ack/2h ok @ 30s",
        "x: - - unknown warn down up @ 1m",
        "é: ok*100000",
        "api: ack fail ack/10y ok @ 10y",
        "a:b: ok",
    ]
    write("timeline", timelines)

    # units: <control byte>duration-or-cron \n duration-or-zone \n time \n days
    crons = sorted({l for l in literals if re.fullmatch(r"(@[a-z]+|[0-9*/,LW#?A-Za-z-]+( [0-9*/,LW#?A-Za-z-]+){4,5})", l)})
    units = []
    for n, c in enumerate(crons):
        units.append(bytes([n * 7 % 256]) + f"{c}\nEurope/Berlin\n09:00\nmon-fri".encode())
    units += [
        b"\x00" + b"30s\n5m\n09:00\n17:30",
        b"\x09" + b"1h30m\n10s\nmon-fri\n24:00",
        b"\x12" + b"10y\n1ns\nfri-mon\n23:59:59",
        b"\x1b" + b"mon,wed,sun\n22:00\n06:00\ndaily",
        b"\x24" + b"0 0 30 2 *\nAmerica/New_York\n00:00\nsat,sun",
        b"\x2d" + b"15W\n0 9 15W * *\n12:00\n*",
    ]
    write("units", units)

    # template: <control byte>source \0 values
    src = (ROOT / "src" / "notify" / "template.rs").read_text()
    templates = [l for l in rust_literals(src) if "{{" in l or "{%" in l]
    templates += [l for l in literals if ("{{ " in l or "{%" in l) and "version: 1" not in l and len(l) < 400]
    templates += [
        "{% for i in range(3) %}{{ i }}{% endfor %}",
        "{{ result.latency_ms | round | int }} {{ incident.downtime_s | duration }}",
        "{{ now | datetime('%A %-d %B %Y %H:%M %Z') }}",
        "{{ monitor.name | markdown_escape }} {{ 'x' * 3 }}",
    ]
    items = [bytes([n * 37 % 256]) + t.encode() + b"\0" + bytes(range(n % 24, 24)) for n, t in enumerate(templates[: LIMIT - 1])]
    items.append(b"\x80" + (ROOT / "src" / "status_page.html.j2").read_bytes() + b"\0")
    write("template", items)

    # listener: <control><peer> path \0 query \0 headers \0 body
    # control: bits 0-2 method (0 GET, 2 POST, 4 HEAD, 5 PUT, 6 OPTIONS, 7 other),
    # 0x08 listener token, 0x10 page auth, 0x20 loop stuck, 0x40 a peer address,
    # 0x80 acks applied.
    listener = [
        b"\x00\x10/ping/backup\0\0\0",
        b"\x02\x10/ping/backup/fail\0rid=abc\0Content-Type: text/plain\0exit 1: disk full",
        b"\x02\x01/ping/own/start\0token=own-token\0\0",
        b"\x00\x01/ping/own/0\0\0Authorization: Bearer own-token\0",
        b"\x4a\x05/ping/own/255\0token=wrong\0\0",
        b"\x48\x02/ping/nope\0\0Authorization: Bearer s3cret\0",
        b"\x00\x00/ping/%C3%A9%20x%2F%25\0\0\0",
        b"\x00\x00/ping/%ff%fe\0\0\0",
        b"\x00\x00/ping/a/%zz\0%zz=%ff\0\0",
        b"\x04\x00/ping/backup/log\0\0\0",
        b"\x05\x00/ping/backup\0\0\0",
        b"\x00\x00/healthz\0\0\0",
        b"\x20\x00/healthz\0\0\0",
        b"\x00\x00/metrics\0\0\0",
        b"\x00\x00/api/status\0\0\0",
        b"\x10\x00/api/status\0\0Authorization: Basic YWRtaW46cHc=\0",
        b"\x50\x03/\0\0Authorization: Basic d3Jvbmc6d3Jvbmc=\0",
        b"\x00\x00/\0\0\0",
        b"\x8a\x00/api/ack/backup\0token=s3cret\0Content-Type: application/json\0{\"note\": \"on it\", \"for\": \"2h\", \"by\": \"alice\"}",
        b"\x0a\x00/api/ack/api\0\0Authorization: Bearer s3cret\0{\"for\": \"11y\"}",
        b"\x0a\x00/api/ack/api\0token=s3cret\0\0{\"unknown\": 1}",
        b"\x02\x00/api/ack/backup\0\0\0",
        b"\x00\x00/api/ack/backup\0\0\0",
        b"\x06\x00/nowhere\0a=1&a=2&token\0\0",
        b"\x07\x00//ping//backup\0\0\0",
    ]
    write("listener", listener)


main()
