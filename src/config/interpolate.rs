//! `${VAR}` interpolation in string values.
//!
//! Forms: `${VAR}` (an error when unset), `${VAR:-default}` (default when unset or empty),
//! `${VAR-default}` (default when unset), `${VAR:?message}` / `${VAR?message}` (an error
//! with the message), and `$$` for a literal `$`. A `$` not followed by `{` or `$` is
//! kept as it is. Only values are interpolated, never keys, and after YAML parsing, so a
//! variable can never change the document's structure. A value that is exactly one
//! `${VAR}` becomes a number or boolean where the schema expects one (see `load`).

/// Why a string could not be interpolated. The messages name the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpError {
    Unset { name: String },
    Required { name: String, message: String },
    Unterminated,
    BadName { name: String },
}

impl InterpError {
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            InterpError::Unset { name } => format!("environment variable `{name}` is not set"),
            InterpError::Required { name, message } if message.is_empty() => {
                format!("environment variable `{name}` is required")
            }
            InterpError::Required { name, message } => {
                format!("environment variable `{name}` is required: {message}")
            }
            InterpError::Unterminated => "`${` is not closed by `}`".to_owned(),
            InterpError::BadName { name } => format!("`{name}` is not a variable name"),
        }
    }

    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            InterpError::Unset { name } => Some(format!(
                "export it, or give a default with `${{{name}:-default}}`"
            )),
            InterpError::Unterminated | InterpError::BadName { .. } => Some(
                "write `${NAME}`, `${NAME:-default}` or `${NAME:?message}`; `$$` is a literal `$`"
                    .to_owned(),
            ),
            InterpError::Required { .. } => None,
        }
    }
}

/// The outcome of interpolating one string.
#[derive(Debug, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    /// The input was exactly one `${...}` expression.
    pub whole: bool,
    /// At least one `${...}` expression was replaced.
    pub changed: bool,
}

/// Interpolate `input`, looking variables up with `env`.
pub fn expand(input: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Expanded, InterpError> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    let mut changed = false;
    let mut exprs = 0;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or(InterpError::Unterminated)?;
            out.push_str(&resolve(&body[..end], env)?);
            changed = true;
            exprs += 1;
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    let whole = exprs == 1 && input.starts_with("${") && input.ends_with('}') && {
        // exactly one expression spanning the whole input
        input[2..].find('}') == Some(input.len() - 3)
    };
    Ok(Expanded {
        text: out,
        whole,
        changed,
    })
}

fn resolve(expr: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, InterpError> {
    let name_end = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let (name, op) = expr.split_at(name_end);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(InterpError::BadName {
            name: expr.to_owned(),
        });
    }
    let value = env(name);
    let (op, arg) = if let Some(a) = op.strip_prefix(":-") {
        (":-", a)
    } else if let Some(a) = op.strip_prefix(":?") {
        (":?", a)
    } else if let Some(a) = op.strip_prefix('-') {
        ("-", a)
    } else if let Some(a) = op.strip_prefix('?') {
        ("?", a)
    } else if op.is_empty() {
        ("", "")
    } else {
        return Err(InterpError::BadName {
            name: expr.to_owned(),
        });
    };
    let set_and_non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    match (op, value) {
        (":-", _) if !set_and_non_empty => Ok(arg.to_owned()),
        ("-", None) => Ok(arg.to_owned()),
        (":?", _) if !set_and_non_empty => Err(InterpError::Required {
            name: name.to_owned(),
            message: arg.to_owned(),
        }),
        ("?", None) => Err(InterpError::Required {
            name: name.to_owned(),
            message: arg.to_owned(),
        }),
        ("", None) => Err(InterpError::Unset {
            name: name.to_owned(),
        }),
        (_, Some(v)) => Ok(v),
        (_, None) => unreachable!("every operator without a value is handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.internal".into()),
            "EMPTY" => Some(String::new()),
            "PORT" => Some("5432".into()),
            _ => None,
        }
    }

    fn ok(input: &str) -> String {
        expand(input, &env).unwrap().text
    }

    fn err(input: &str) -> InterpError {
        expand(input, &env).unwrap_err()
    }

    #[test]
    fn table() {
        let cases = [
            ("plain text", "plain text"),
            ("${HOST}", "db.internal"),
            ("http://${HOST}:${PORT}/x", "http://db.internal:5432/x"),
            ("${MISSING:-fallback}", "fallback"),
            ("${EMPTY:-fallback}", "fallback"),
            ("${EMPTY-fallback}", ""),
            ("${MISSING-fallback}", "fallback"),
            ("${MISSING:-}", ""),
            ("$$HOME and $HOME", "$HOME and $HOME"),
            ("cost: 5$", "cost: 5$"),
            ("${HOST:-x}", "db.internal"),
        ];
        for (input, want) in cases {
            assert_eq!(ok(input), want, "input {input:?}");
        }
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(
            err("x ${NOPE} y"),
            InterpError::Unset {
                name: "NOPE".into()
            }
        );
        assert_eq!(
            err("${NOPE:?set the token}"),
            InterpError::Required {
                name: "NOPE".into(),
                message: "set the token".into()
            }
        );
        assert!(matches!(err("${EMPTY:?}"), InterpError::Required { .. }));
        assert_eq!(err("${HOST"), InterpError::Unterminated);
        assert!(matches!(err("${1X}"), InterpError::BadName { .. }));
        assert!(matches!(err("${}"), InterpError::BadName { .. }));
        assert!(matches!(err("${A B}"), InterpError::BadName { .. }));
        assert!(err("${NOPE}").message().contains("NOPE"));
    }

    #[test]
    fn whole_means_one_expression_and_nothing_else() {
        assert!(expand("${PORT}", &env).unwrap().whole);
        assert!(!expand("${PORT}x", &env).unwrap().whole);
        assert!(!expand("${PORT}${PORT}", &env).unwrap().whole);
        assert!(!expand("plain", &env).unwrap().changed);
    }
}
