//! Output formats of the hook tools (juju/cmd `output.go`): `smart`, `json` and `yaml`,
//! with their rules for nil, empty strings, lists and booleans.

use serde_json::Value;

/// The formats a tool may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Strings verbatim, lists one per line, booleans `True`/`False`, nil as nothing,
    /// anything else as YAML.
    Smart,
    /// `json.Marshal` plus a newline; nil is `null`.
    Json,
    /// YAML with one trailing newline; nil is nothing.
    Yaml,
}

impl Format {
    /// Parses `--format`'s value among the `allowed` formats; the error is the text
    /// gnuflag puts after `invalid value "<v>" for option --format: `.
    pub fn parse(text: &str, allowed: &[Format]) -> Result<Self, String> {
        let format = match text {
            "smart" => Self::Smart,
            "json" => Self::Json,
            "yaml" => Self::Yaml,
            _ => return Err(format!("unknown format {text:?}")),
        };
        if allowed.contains(&format) {
            Ok(format)
        } else {
            Err(format!("unknown format {text:?}"))
        }
    }
}

/// A value a tool prints. Lists of strings and Go nil have their own smart rules, so they
/// are kept apart from general JSON values.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Go nil (a missing key, a nil map or list).
    Nil,
    /// A string.
    Text(String),
    /// A list of strings.
    List(Vec<String>),
    /// A boolean.
    Bool(bool),
    /// Any other value (maps, numbers, nested data).
    Value(Value),
}

impl From<Value> for Output {
    fn from(value: Value) -> Self {
        match value {
            Value::Null => Self::Nil,
            Value::String(s) => Self::Text(s),
            Value::Bool(b) => Self::Bool(b),
            other => Self::Value(other),
        }
    }
}

impl Output {
    fn to_json(&self) -> Value {
        match self {
            Self::Nil => Value::Null,
            Self::Text(s) => Value::String(s.clone()),
            Self::List(items) => Value::from(items.clone()),
            Self::Bool(b) => Value::Bool(*b),
            Self::Value(v) => v.clone(),
        }
    }

    /// The bytes the tool prints in `format`.
    pub fn render(&self, format: Format) -> Vec<u8> {
        let body = match format {
            Format::Json => {
                // A serde_json::Value always serialises.
                serde_json::to_string(&self.to_json()).unwrap_or_default()
            }
            Format::Yaml => match self {
                Self::Nil => String::new(),
                other => yaml(&other.to_json()),
            },
            Format::Smart => match self {
                Self::Nil => String::new(),
                Self::Text(s) => s.clone(),
                Self::List(items) => items.join("\n"),
                Self::Bool(true) => "True".to_owned(),
                Self::Bool(false) => "False".to_owned(),
                Self::Value(v) => yaml(v),
            },
        };
        let mut bytes = body.into_bytes();
        if !bytes.is_empty() {
            bytes.push(b'\n');
        }
        bytes
    }
}

/// YAML of `value` without its trailing newlines.
fn yaml(value: &Value) -> String {
    // yaml.v2 writes the empty string with double quotes.
    if value.as_str() == Some("") {
        return "\"\"".to_owned();
    }
    let text = serde_yaml::to_string(value).unwrap_or_default();
    text.trim_end_matches('\n').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_formats_follow_juju_cmd() {
        let cases: &[(Output, &str, &str, &str)] = &[
            (Output::Nil, "", "null\n", ""),
            (Output::Text(String::new()), "", "\"\"\n", "\"\"\n"),
            (
                Output::Text("pew\npew\n".into()),
                "pew\npew\n\n",
                "\"pew\\npew\\n\"\n",
                "|\n  pew\n  pew\n",
            ),
            (Output::List(vec![]), "", "[]\n", "[]\n"),
            (
                Output::List(vec!["a/0".into(), "a/1".into()]),
                "a/0\na/1\n",
                "[\"a/0\",\"a/1\"]\n",
                "- a/0\n- a/1\n",
            ),
            (Output::Bool(true), "True\n", "true\n", "true\n"),
            (
                Output::Value(serde_json::json!({"b": "2", "a": "1"})),
                "a: '1'\nb: '2'\n",
                "{\"a\":\"1\",\"b\":\"2\"}\n",
                "a: '1'\nb: '2'\n",
            ),
        ];
        for (output, smart, json, yaml) in cases {
            assert_eq!(
                String::from_utf8(output.render(Format::Smart)).unwrap(),
                *smart,
                "{output:?}"
            );
            assert_eq!(
                String::from_utf8(output.render(Format::Json)).unwrap(),
                *json,
                "{output:?}"
            );
            assert_eq!(
                String::from_utf8(output.render(Format::Yaml)).unwrap(),
                *yaml,
                "{output:?}"
            );
        }
    }

    #[test]
    fn formats_are_checked_against_the_allowed_set() {
        assert_eq!(
            Format::parse("json", &[Format::Json, Format::Yaml]),
            Ok(Format::Json)
        );
        assert!(Format::parse("smart", &[Format::Json, Format::Yaml]).is_err());
        assert_eq!(
            Format::parse("xml", &[Format::Json]).unwrap_err(),
            "unknown format \"xml\""
        );
    }
}
