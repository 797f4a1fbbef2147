//! Command-line parsing as juju/gnuflag does it for the hook tools: `-r 3`, `-r3`,
//! `--relation 3`, `--relation=3`, boolean `--app[=true|false|1|0|True|False]`, several
//! one-letter flags after one dash, flags interleaved with positional arguments, `--` to
//! end options, and gnuflag's error texts.

use std::collections::BTreeMap;

/// One flag a tool accepts.
#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    /// The long name (also the key in [`Parsed`]); empty when the flag only has a
    /// one-letter name.
    pub long: &'static str,
    /// The one-letter name.
    pub short: Option<char>,
    /// Whether it takes a value (otherwise it is a boolean).
    pub takes_value: bool,
}

impl FlagSpec {
    /// A flag with a value.
    pub const fn value(long: &'static str, short: Option<char>) -> Self {
        Self {
            long,
            short,
            takes_value: true,
        }
    }

    /// A boolean flag.
    pub const fn boolean(long: &'static str, short: Option<char>) -> Self {
        Self {
            long,
            short,
            takes_value: false,
        }
    }

    fn key(&self) -> String {
        if self.long.is_empty() {
            self.short.map(String::from).unwrap_or_default()
        } else {
            self.long.to_owned()
        }
    }
}

/// The parsed command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Value flags by long name: the last value given, and how it was spelled
    /// (`-r` or `--relation`) for error messages.
    values: BTreeMap<String, (String, String)>,
    /// Boolean flags by long name.
    bools: BTreeMap<String, bool>,
    /// Positional arguments in order.
    pub positional: Vec<String>,
}

impl Parsed {
    /// The value of flag `long`, if given.
    pub fn value(&self, long: &str) -> Option<&str> {
        self.values.get(long).map(|(v, _)| v.as_str())
    }

    /// The value and the spelling used (`-r`/`--relation`), for error messages.
    pub fn value_spelled(&self, long: &str) -> Option<(&str, &str)> {
        self.values.get(long).map(|(v, s)| (v.as_str(), s.as_str()))
    }

    /// Whether boolean flag `long` is set.
    pub fn flag(&self, long: &str) -> bool {
        self.bools.get(long).copied().unwrap_or(false)
    }
}

/// Parses `args` against `specs`. The error is gnuflag's message (a usage error: exit 2).
pub fn parse(specs: &[FlagSpec], args: &[String]) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        index += 1;
        if arg == "--" {
            parsed.positional.extend(args[index..].iter().cloned());
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let spelled = format!("--{name}");
            let spec = specs
                .iter()
                .find(|s| !s.long.is_empty() && s.long == name)
                .ok_or_else(|| format!("option provided but not defined: {spelled}"))?;
            index = take(spec, &spelled, inline, args, index, &mut parsed)?;
        } else if let Some(body) = arg.strip_prefix('-').filter(|b| !b.is_empty()) {
            let chars: Vec<char> = body.chars().collect();
            let mut at = 0;
            while at < chars.len() {
                let c = chars[at];
                at += 1;
                let spelled = format!("-{c}");
                let spec = specs
                    .iter()
                    .find(|s| s.short == Some(c))
                    .ok_or_else(|| format!("option provided but not defined: {spelled}"))?;
                if spec.takes_value {
                    let rest: String = chars[at..].iter().collect();
                    let inline = if rest.is_empty() {
                        None
                    } else {
                        Some(rest.strip_prefix('=').unwrap_or(&rest).to_owned())
                    };
                    index = take(spec, &spelled, inline, args, index, &mut parsed)?;
                    break;
                }
                let inline = if chars.get(at) == Some(&'=') {
                    let rest: String = chars[at + 1..].iter().collect();
                    at = chars.len();
                    Some(rest)
                } else {
                    None
                };
                take(spec, &spelled, inline, args, index, &mut parsed)?;
            }
        } else {
            parsed.positional.push(arg.clone());
        }
    }
    Ok(parsed)
}

/// Records one flag occurrence; returns the index of the next argument.
fn take(
    spec: &FlagSpec,
    spelled: &str,
    inline: Option<String>,
    args: &[String],
    index: usize,
    parsed: &mut Parsed,
) -> Result<usize, String> {
    if spec.takes_value {
        let (value, next) = match inline {
            Some(v) => (v, index),
            None => match args.get(index) {
                Some(v) => (v.clone(), index + 1),
                None => return Err(format!("option needs an argument: {spelled}")),
            },
        };
        parsed
            .values
            .insert(spec.key(), (value, spelled.to_owned()));
        Ok(next)
    } else {
        let value = match inline.as_deref() {
            None => true,
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => true,
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => false,
            Some(other) => {
                return Err(format!(
                    "invalid boolean option {}: strconv.ParseBool: parsing {other:?}: invalid syntax",
                    spec.key()
                ));
            }
        };
        parsed.bools.insert(spec.key(), value);
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[FlagSpec] = &[
        FlagSpec::value("relation", Some('r')),
        FlagSpec::boolean("app", None),
        FlagSpec::boolean("all", Some('a')),
        FlagSpec::value("format", None),
    ];

    fn args(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_gnuflag_spelling_parses() {
        for form in [
            &["-r", "3"][..],
            &["-r3"],
            &["--relation", "3"],
            &["--relation=3"],
            &["-r=3"],
        ] {
            let p = parse(SPECS, &args(form)).unwrap();
            assert_eq!(p.value("relation"), Some("3"), "{form:?}");
        }
        let p = parse(SPECS, &args(&["key", "--app", "unit/0", "--format=json"])).unwrap();
        assert!(p.flag("app"));
        assert_eq!(p.positional, ["key", "unit/0"]);
        let p = parse(SPECS, &args(&["--app=false", "--", "-x", "--app"])).unwrap();
        assert!(!p.flag("app"));
        assert_eq!(p.positional, ["-x", "--app"]);
        let p = parse(SPECS, &args(&["-ar", "4"])).unwrap();
        assert!(p.flag("all"));
        assert_eq!(p.value("relation"), Some("4"));
        let p = parse(SPECS, &args(&["--app=True", "-"])).unwrap();
        assert!(p.flag("app"));
        assert_eq!(p.positional, ["-"]);
    }

    #[test]
    fn errors_read_as_gnuflag_writes_them() {
        assert_eq!(
            parse(SPECS, &args(&["--foo"])).unwrap_err(),
            "option provided but not defined: --foo"
        );
        assert_eq!(
            parse(SPECS, &args(&["-x"])).unwrap_err(),
            "option provided but not defined: -x"
        );
        assert_eq!(
            parse(SPECS, &args(&["-r"])).unwrap_err(),
            "option needs an argument: -r"
        );
        assert!(
            parse(SPECS, &args(&["--app=maybe"]))
                .unwrap_err()
                .starts_with("invalid boolean option app: ")
        );
        // A single dash and several letters is several one-letter flags.
        assert_eq!(
            parse(SPECS, &args(&["-app"])).unwrap_err(),
            "option provided but not defined: -p"
        );
    }
}
