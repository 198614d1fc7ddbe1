//! Log lines for people (`--log-format human`): one event is one line, whatever the
//! strings in it came from. A monitor's name in a URL, a peer's request or a command's
//! output may hold a newline or a terminal escape; written raw, it would forge a line in
//! the journal (or rewrite the terminal). The JSON format escapes by itself.

use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;

/// Standard error, with the control characters of each log line escaped as `\n`, `\r`
/// or `\x1b`, except the newline ending it and, when hbmon colours its own output, the
/// escape character that starts a colour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Escaped {
    pub(crate) colours: bool,
}

impl<'a> MakeWriter<'a> for Escaped {
    type Writer = Escaped;

    fn make_writer(&'a self) -> Escaped {
        *self
    }
}

impl Write for Escaped {
    /// The subscriber writes each event whole, so its end is the buffer's end.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr()
            .lock()
            .write_all(&escape(buf, self.colours))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `line` with its control characters escaped (see `Escaped`).
pub(crate) fn escape(line: &[u8], colours: bool) -> Vec<u8> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let mut out = Vec::with_capacity(line.len() + 8);
    let mut i = 0;
    while i < body.len() {
        // The Unicode line ends some tools split on: NEL, LINE and PARAGRAPH SEPARATOR.
        let unicode_break = matches!(body[i], 0xc2 | 0xe2)
            .then(|| {
                [&b"\xc2\x85"[..], b"\xe2\x80\xa8", b"\xe2\x80\xa9"]
                    .into_iter()
                    .find(|seq| body[i..].starts_with(seq))
            })
            .flatten();
        if let Some(seq) = unicode_break {
            let c = std::str::from_utf8(seq).ok().and_then(|s| s.chars().next());
            let _ = write!(out, "\\u{{{:x}}}", c.map_or(0, u32::from));
            i += seq.len();
            continue;
        }
        let b = body[i];
        i += 1;
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.push(b),
            0x1b if colours => out.push(b),
            0..=0x1f | 0x7f => {
                let _ = write!(out, "\\x{b:02x}");
            }
            _ => out.push(b),
        }
    }
    if body.len() < line.len() {
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn a_line_stays_one_line_whatever_it_carries() {
        let forged = b"WARN refused monitor=a\n2026-12-05 ERROR fake\r\x1b[2J\x07 end\n";
        let out = String::from_utf8(escape(forged, false)).unwrap();
        assert_eq!(
            out,
            "WARN refused monitor=a\\n2026-12-05 ERROR fake\\r\\x1b[2J\\x07 end\n"
        );
        assert_eq!(out.lines().count(), 1);
        // hbmon's own colours survive on a terminal; other control characters do not.
        let coloured = escape(b"\x1b[33mWARN\x1b[0m a\nb\n", true);
        assert_eq!(coloured, b"\x1b[33mWARN\x1b[0m a\\nb\n");
        // Unicode line ends are escaped too.
        let unicode = escape("a\u{85}b\u{2028}c\u{2029}d\n".as_bytes(), false);
        assert_eq!(unicode, b"a\\u{85}b\\u{2028}c\\u{2029}d\n");
        // UTF-8 passes untouched; a line without its newline gets none.
        assert_eq!(escape("café ✓".as_bytes(), false), "café ✓".as_bytes());
    }
}
