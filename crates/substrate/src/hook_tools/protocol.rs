//! The wire format between the `jujuc` binary (in the charm container) and the agent's
//! hook-tool server: one JSON request, then one JSON response, on a fresh Unix-socket
//! connection. Byte strings (stdin, files, output) travel as base64.
//!
//! Juju's jujuc asks the server whether a command needs stdin and sends it in a second
//! round trip; here the client decides itself: it sends stdin only for `--file -`. The
//! agent does not share the charm container's filesystem, so the client also ships the
//! content of the files a call names (`--file <path>`, `key#file=<path>`), read with the
//! charm's own permissions, just as Juju's agent in the same container would read them.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// One hook tool call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRequest {
    /// `JUJU_CONTEXT_ID`.
    pub context_id: String,
    /// The tool name (`basename(argv[0])`).
    pub tool: String,
    /// The arguments after the tool name.
    pub args: Vec<String>,
    /// The caller's working directory (relative file paths resolve against it).
    #[serde(default)]
    pub cwd: String,
    /// Standard input, only for `--file -`.
    #[serde(default, with = "opt_b64")]
    pub stdin: Option<Vec<u8>>,
    /// Files the call names, by the path as written in the arguments.
    #[serde(default, with = "map_b64")]
    pub files: BTreeMap<String, Vec<u8>>,
}

impl ToolRequest {
    /// The content of a file the call names.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// The paths of the files the arguments name (`--file <path>`, `--file=<path>`,
    /// `key#file=<path>`), other than stdin.
    pub fn named_files(args: &[String]) -> Vec<String> {
        let mut paths = Vec::new();
        let mut iter = args.iter().peekable();
        while let Some(arg) = iter.next() {
            if arg == "--" {
                break;
            }
            if arg == "--file" {
                if let Some(path) = iter.next() {
                    paths.push(path.clone());
                }
            } else if let Some(path) = arg.strip_prefix("--file=") {
                paths.push(path.to_owned());
            } else if let Some((_, path)) = arg.split_once("#file=") {
                paths.push(path.to_owned());
            }
        }
        paths.retain(|p| p != "-");
        paths
    }

    /// Whether the call reads stdin (`--file -`).
    pub fn wants_stdin(args: &[String]) -> bool {
        args.windows(2).any(|w| w[0] == "--file" && w[1] == "-")
            || args.iter().any(|a| a == "--file=-")
    }

    /// Resolves `path` against the caller's working directory.
    pub fn resolve(cwd: &str, path: &str) -> String {
        if path.starts_with('/') || cwd.is_empty() {
            path.to_owned()
        } else {
            Path::new(cwd).join(path).to_string_lossy().into_owned()
        }
    }
}

/// The answer to one call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResponse {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    #[serde(with = "b64")]
    pub stdout: Vec<u8>,
    /// Standard error.
    #[serde(with = "b64")]
    pub stderr: Vec<u8>,
}

mod b64 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

mod opt_b64 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(
        bytes: &Option<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| STANDARD.decode(t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

mod map_b64 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(
        map: &BTreeMap<String, Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded: BTreeMap<&String, String> =
            map.iter().map(|(k, v)| (k, STANDARD.encode(v))).collect();
        encoded.serialize(s)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
        let encoded = BTreeMap::<String, String>::deserialize(d)?;
        encoded
            .into_iter()
            .map(|(k, v)| {
                STANDARD
                    .decode(v)
                    .map(|b| (k, b))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn finds_the_files_and_stdin_a_call_needs() {
        let a = args(&[
            "--owner=app",
            "password#file=/tmp/x/p",
            "user=me",
            "--file",
            "in.yaml",
        ]);
        assert_eq!(ToolRequest::named_files(&a), ["/tmp/x/p", "in.yaml"]);
        assert!(!ToolRequest::wants_stdin(&a));
        assert!(ToolRequest::wants_stdin(&args(&["-r", "1", "--file", "-"])));
        assert!(ToolRequest::named_files(&args(&["--file", "-"])).is_empty());
        assert!(ToolRequest::named_files(&args(&["--", "--file", "x"])).is_empty());
    }

    #[test]
    fn bytes_round_trip_through_json() {
        let req = ToolRequest {
            context_id: "c".into(),
            tool: "state-set".into(),
            args: args(&["--file", "-"]),
            cwd: "/".into(),
            stdin: Some(vec![0, 159, 146, 150]),
            files: BTreeMap::from([("f".into(), b"x: y".to_vec())]),
        };
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(serde_json::from_str::<ToolRequest>(&json).unwrap(), req);
    }
}
