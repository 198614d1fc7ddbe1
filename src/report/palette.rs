//! The status page's and badges' colours, light and dark, and the contrast every pair of
//! them that people read keeps (WCAG 2: 4.5:1 for text, 3:1 for coloured marks).

use serde_json::{Value, json};

/// `(name, light, dark)`: the page's CSS variables (`--name`). A state's colour is the
/// background of its label, whose text is `on-state`.
pub const COLOURS: &[(&str, &str, &str)] = &[
    ("bg", "#ffffff", "#0d1117"),
    ("card", "#f6f8fa", "#161b22"),
    ("text", "#1f2328", "#e6edf3"),
    ("muted", "#57606a", "#8d96a0"),
    ("border", "#d0d7de", "#30363d"),
    ("link", "#0550ae", "#4493f8"),
    ("on-state", "#ffffff", "#0d1117"),
    ("up", "#1a7f37", "#3fb950"),
    ("degraded", "#9a6700", "#d29922"),
    ("down", "#cf222e", "#f85149"),
    ("unknown", "#6e7781", "#8d96a0"),
    ("pending", "#6e7781", "#8d96a0"),
    ("paused", "#0969da", "#58a6ff"),
    ("maintenance", "#8250df", "#bc8cff"),
];

/// The states a label or a history cell can show.
pub const STATES: [&str; 7] = [
    "up",
    "degraded",
    "down",
    "unknown",
    "pending",
    "paused",
    "maintenance",
];

/// The colour named `name` in the light scheme (badges are drawn in it).
#[must_use]
pub fn light(name: &str) -> &'static str {
    COLOURS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or("#6e7781", |(_, l, _)| l)
}

/// The variables for the page: `light` and `dark`, each a list of `{name, value}`.
#[must_use]
pub fn css() -> Value {
    let scheme = |dark: bool| {
        COLOURS
            .iter()
            .map(|(n, l, d)| json!({ "name": n, "value": if dark { d } else { l } }))
            .collect::<Vec<_>>()
    };
    json!({ "light": scheme(false), "dark": scheme(true) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG 2 contrast ratio of two `#rrggbb` colours.
    fn contrast(a: &str, b: &str) -> f64 {
        fn luminance(hex: &str) -> f64 {
            let hex = hex.trim_start_matches('#');
            let channel = |i: usize| {
                let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
                if c <= 0.039_28 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
        }
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    fn get(name: &str, dark: bool) -> &'static str {
        let (_, l, d) = COLOURS.iter().find(|(n, _, _)| *n == name).unwrap();
        if dark { d } else { l }
    }

    #[test]
    fn text_and_marks_keep_their_contrast_in_both_schemes() {
        for dark in [false, true] {
            for bg in ["bg", "card"] {
                for text in ["text", "muted", "link"] {
                    let c = contrast(get(text, dark), get(bg, dark));
                    assert!(c >= 4.5, "{text} on {bg} (dark: {dark}): {c:.2}");
                }
                for state in STATES {
                    // A history cell or a bar is a mark, not text: 3:1.
                    let c = contrast(get(state, dark), get(bg, dark));
                    assert!(c >= 3.0, "{state} cell on {bg} (dark: {dark}): {c:.2}");
                }
            }
            for state in STATES {
                let c = contrast(get("on-state", dark), get(state, dark));
                assert!(c >= 4.5, "label text on {state} (dark: {dark}): {c:.2}");
            }
        }
    }

    #[test]
    fn contrast_is_the_wcag_ratio() {
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        assert!((contrast("#777777", "#777777") - 1.0).abs() < 1e-9);
        // WebAIM's figure for #767676 on white.
        assert!((contrast("#767676", "#ffffff") - 4.54).abs() < 0.01);
    }
}
