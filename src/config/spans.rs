//! Where each node of the YAML document sits in the source text.
//!
//! serde gives values without positions, and the JSON schema validator reports JSON
//! pointers (`/monitors/2/http/url`). This module walks the YAML events once
//! (saphyr-parser keeps spans) and records, for every pointer, the byte range of the key
//! and of the value, so that any error can be shown with `file:line:col` and a caret.

use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, Span};

/// Position of one node.
#[derive(Debug, Clone)]
pub struct NodeSpan {
    /// The key's bytes, for a mapping entry.
    pub key: Option<Range<usize>>,
    /// The value's bytes (for a mapping or sequence: where it starts).
    pub value: Range<usize>,
}

/// Pointer -> position, plus what is needed to turn byte offsets into lines.
#[derive(Debug, Default)]
pub struct SpanMap {
    nodes: HashMap<String, NodeSpan>,
    line_starts: Vec<usize>,
    /// Keys written twice in one mapping: (pointer, the second key's bytes).
    duplicates: Vec<(String, Range<usize>)>,
    /// Whether `nodes` is filled (not for `duplicate_keys`, which needs only the keys).
    record_nodes: bool,
}

/// Keys written twice in one mapping, as (pointer, the repeated key's bytes). YAML parsers
/// keep the last silently: a second `monitors:` would drop every monitor of the first.
#[must_use]
pub fn duplicate_keys(src: &str) -> Vec<(String, Range<usize>)> {
    SpanMap::walk(src, false).duplicates
}

enum Frame {
    Seq {
        pointer: String,
        next: usize,
    },
    Map {
        pointer: String,
        key: Option<(String, Range<usize>)>,
        /// The keys so far, to find one written twice.
        seen: std::collections::HashSet<String>,
    },
    /// A collection used as a mapping key: nothing inside it is addressable.
    Opaque,
}

impl SpanMap {
    /// Build the map. A document saphyr cannot parse yields the spans read so far
    /// (the serde parse reports the syntax error itself).
    #[must_use]
    pub fn build(src: &str) -> SpanMap {
        SpanMap::walk(src, true)
    }

    fn walk(src: &str, record_nodes: bool) -> SpanMap {
        let line_starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut map = SpanMap {
            nodes: HashMap::new(),
            line_starts,
            duplicates: Vec::new(),
            record_nodes,
        };
        let mut stack: Vec<Frame> = Vec::new();
        let mut opaque_depth = 0usize;
        for item in Parser::new_from_str(src) {
            let Ok((event, span)) = item else { break };
            let range = map.range(src, span);
            match event {
                Event::Scalar(text, ..) => {
                    if opaque_depth > 0 {
                        continue;
                    }
                    if let Some(Frame::Map {
                        key: key @ None,
                        seen,
                        pointer,
                    }) = stack.last_mut()
                    {
                        if !seen.insert(text.to_string()) {
                            map.duplicates
                                .push((format!("{pointer}/{}", escape(&text)), range.clone()));
                        }
                        *key = Some((text.into_owned(), range));
                        continue;
                    }
                    map.record(&mut stack, range);
                }
                Event::Alias(_) if opaque_depth == 0 => {
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = stack.last_mut()
                    {
                        *key = Some(("*alias".to_owned(), range));
                        continue;
                    }
                    map.record(&mut stack, range);
                }
                Event::SequenceStart(..) | Event::MappingStart(..) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    if opaque_depth > 0
                        || matches!(stack.last(), Some(Frame::Map { key: None, .. }))
                    {
                        opaque_depth += 1;
                        stack.push(Frame::Opaque);
                        continue;
                    }
                    let pointer = map.record(&mut stack, range);
                    stack.push(if is_map {
                        Frame::Map {
                            pointer,
                            key: None,
                            seen: std::collections::HashSet::new(),
                        }
                    } else {
                        Frame::Seq { pointer, next: 0 }
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some(Frame::Opaque) = stack.pop() {
                        opaque_depth -= 1;
                        // The opaque collection was a key; what follows is its value.
                        if opaque_depth == 0
                            && let Some(Frame::Map { key, .. }) = stack.last_mut()
                        {
                            *key = Some(("?".to_owned(), 0..0));
                        }
                    }
                }
                Event::DocumentEnd => break,
                _ => {}
            }
        }
        map
    }

    /// Record a value node under the current frame; returns its pointer.
    fn record(&mut self, stack: &mut [Frame], value: Range<usize>) -> String {
        let (pointer, key) = match stack.last_mut() {
            None => (String::new(), None),
            Some(Frame::Seq { pointer, next }) => {
                let p = format!("{pointer}/{next}");
                *next += 1;
                (p, None)
            }
            Some(Frame::Map { pointer, key, .. }) => {
                let (name, span) = key.take().unwrap_or_default();
                (format!("{pointer}/{}", escape(&name)), Some(span))
            }
            Some(Frame::Opaque) => return String::new(),
        };
        if self.record_nodes {
            self.nodes.insert(pointer.clone(), NodeSpan { key, value });
        }
        pointer
    }

    fn range(&self, src: &str, span: Span) -> Range<usize> {
        let start = self.offset(src, span.start.line(), span.start.col());
        let end = self.offset(src, span.end.line(), span.end.col()).max(start);
        start..end
    }

    /// Byte offset of a 1-based line and 0-based character column.
    fn offset(&self, src: &str, line: usize, col: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return src.len();
        };
        let rest = &src[start..];
        let line_len = rest.find('\n').unwrap_or(rest.len());
        start
            + rest[..line_len]
                .char_indices()
                .nth(col)
                .map_or(line_len, |(i, _)| i)
    }

    /// The span for `pointer`, or for its nearest recorded ancestor (values under an
    /// alias have no position of their own). `key` prefers the key over the value.
    #[must_use]
    pub fn find(&self, pointer: &str, key: bool) -> Option<Range<usize>> {
        let mut p = pointer;
        loop {
            if let Some(node) = self.nodes.get(p) {
                return Some(if key {
                    node.key.clone().unwrap_or_else(|| node.value.clone())
                } else {
                    node.value.clone()
                });
            }
            p = &p[..p.rfind('/')?];
        }
    }

    /// 1-based line and column of a byte offset (what the tests check positions with).
    #[cfg(test)]
    #[must_use]
    pub fn line_col(&self, src: &str, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = src.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }
}

/// Escape one JSON-pointer segment (RFC 6901).
#[must_use]
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Turn a JSON pointer into the path people read: `/monitors/2/http/url` ->
/// `monitors[2].http.url`.
#[must_use]
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&seg);
            out.push(']');
        } else if seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !seg.is_empty()
        {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&serde_json::to_string(&seg).unwrap_or_default());
        }
    }
    if out.is_empty() {
        "(top level)".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "version: 1\nmonitors:\n  - name: api\n    http:\n      url: \"https://x\"\n  - name: db\n    tcp: { port: 5432 }\n";

    fn text<'a>(r: Option<Range<usize>>) -> &'a str {
        &DOC[r.unwrap()]
    }

    #[test]
    fn records_keys_values_and_positions() {
        let m = SpanMap::build(DOC);
        assert_eq!(text(m.find("/version", false)), "1");
        assert_eq!(text(m.find("/monitors/0/name", true)), "name");
        assert_eq!(text(m.find("/monitors/0/http/url", false)), "\"https://x\"");
        assert_eq!(text(m.find("/monitors/1/tcp/port", false)), "5432");
        let off = m.find("/monitors/1/tcp/port", false).unwrap().start;
        assert_eq!(m.line_col(DOC, off), (7, 18));
    }

    #[test]
    fn unknown_pointers_fall_back_to_the_nearest_ancestor() {
        let m = SpanMap::build(DOC);
        assert_eq!(
            m.find("/monitors/1/tcp/nope", false),
            m.find("/monitors/1/tcp", false)
        );
    }

    #[test]
    fn display_paths_read_like_code() {
        assert_eq!(display_path("/monitors/2/http/url"), "monitors[2].http.url");
        assert_eq!(display_path("/hosts/a.b/address"), "hosts.\"a.b\".address");
        assert_eq!(display_path(""), "(top level)");
    }
}
