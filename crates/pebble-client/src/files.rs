//! Files in the workload container: push (multipart write), pull (multipart read), list,
//! make-dirs and remove, with Pebble's per-path errors (sent inside an HTTP 200) surfaced as
//! [`Error::File`](crate::Error::File).

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};

use crate::client::{Client, check_path, decode, parse_envelope, permissions_text};
use crate::error::Error;

/// Ownership and mode of a pushed file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushOptions {
    /// Create missing parent directories (0755, owned like the file).
    pub make_dirs: bool,
    /// Mode bits, e.g. `0o600` (Pebble's default is `0o644`); at most `0o777`.
    pub permissions: Option<u32>,
    /// Owner UID.
    pub user_id: Option<u32>,
    /// Owner user name (must agree with `user_id`).
    pub user: Option<String>,
    /// Group GID (needs a user).
    pub group_id: Option<u32>,
    /// Group name (needs a user).
    pub group: Option<String>,
}

/// Ownership and mode of a directory made with `make_dir`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MakeDirOptions {
    /// Create missing parents too (and succeed if the directory exists).
    pub make_parents: bool,
    /// Mode bits (Pebble's default is `0o755`); at most `0o777`.
    pub permissions: Option<u32>,
    /// Owner UID.
    pub user_id: Option<u32>,
    /// Owner user name.
    pub user: Option<String>,
    /// Group GID.
    pub group_id: Option<u32>,
    /// Group name.
    pub group: Option<String>,
}

/// One entry of `GET /v1/files?action=list`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileInfo {
    /// Absolute path.
    pub path: String,
    /// Base name.
    pub name: String,
    /// Kind of file.
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// Size in bytes (regular files only).
    #[serde(default)]
    pub size: Option<u64>,
    /// Mode bits, e.g. `0o644`.
    #[serde(deserialize_with = "octal_permissions")]
    pub permissions: u32,
    /// Modification time (RFC 3339, seconds precision).
    pub last_modified: String,
    /// Owner UID, if known.
    #[serde(default)]
    pub user_id: Option<u32>,
    /// Owner name, if known.
    #[serde(default)]
    pub user: Option<String>,
    /// Group GID, if known.
    #[serde(default)]
    pub group_id: Option<u32>,
    /// Group name, if known.
    #[serde(default)]
    pub group: Option<String>,
}

/// The `type` of a listed file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileType {
    /// Regular file.
    File,
    /// Directory.
    Directory,
    /// Symbolic link.
    Symlink,
    /// Unix socket.
    Socket,
    /// FIFO.
    NamedPipe,
    /// Device node.
    Device,
    /// Anything else.
    #[serde(other)]
    Unknown,
}

fn octal_permissions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let text = String::deserialize(d)?;
    u32::from_str_radix(&text, 8)
        .map_err(|_| serde::de::Error::custom(format!("permissions {text:?} are not octal")))
}

/// One path of a write, make-dirs or remove request, with ownership fields.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct PathSpec<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    make_dirs: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    make_parents: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    recursive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
}

impl<'a> PathSpec<'a> {
    fn bare(path: &'a str) -> Self {
        Self {
            path,
            make_dirs: false,
            make_parents: false,
            recursive: false,
            permissions: None,
            user_id: None,
            user: None,
            group_id: None,
            group: None,
        }
    }
}

/// Body of a JSON `POST /v1/files` (and of the `request` part of a write).
#[derive(Serialize)]
struct FilesRequest<'a> {
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<[PathSpec<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dirs: Option<[PathSpec<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paths: Option<[PathSpec<'a>; 1]>,
}

/// One entry of a files result: the path, and an error if that path failed.
#[derive(Deserialize)]
struct PathResult {
    path: String,
    #[serde(default)]
    error: Option<PathError>,
}

#[derive(Deserialize)]
struct PathError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    kind: Option<String>,
}

/// Turns the first per-path error of a files result into [`Error::File`].
fn first_path_error(results: Vec<PathResult>) -> Result<(), Error> {
    match results
        .into_iter()
        .find_map(|r| r.error.map(|e| (r.path, e)))
    {
        Some((path, error)) => Err(Error::File {
            path,
            kind: error.kind,
            message: error.message,
        }),
        None => Ok(()),
    }
}

impl Client {
    /// Writes `content` to `path` (atomically: temp file then rename), as a multipart
    /// `POST /v1/files` with the `request` part first.
    pub async fn push(
        &self,
        path: &str,
        content: &[u8],
        options: &PushOptions,
    ) -> Result<(), Error> {
        check_path(path)?;
        let what = format!("POST /v1/files (write {path})");
        let spec = PathSpec {
            make_dirs: options.make_dirs,
            permissions: options.permissions.map(permissions_text).transpose()?,
            user_id: options.user_id,
            user: options.user.as_deref(),
            group_id: options.group_id,
            group: options.group.as_deref(),
            ..PathSpec::bare(path)
        };
        let metadata = FilesRequest {
            action: "write",
            files: Some([spec]),
            dirs: None,
            paths: None,
        };
        let metadata = serde_json::to_string(&metadata)
            .map_err(|e| Error::invalid("push request", e.to_string()))?;
        // reqwest's boundary is 67 characters (Pebble wants at least 32); parts keep their
        // order; the file name must stay the full path, so no percent-encoding.
        let form = Form::new()
            .percent_encode_noop()
            .part("request", json_part(metadata)?)
            .part("files", file_part(path, content)?);
        let request = self.request(Method::POST, "/v1/files").multipart(form);
        let results: Vec<PathResult> = self.call(&what, request).await?;
        first_path_error(results)
    }

    /// Reads the file at `path` (`GET /v1/files?action=read`, a multipart answer).
    pub async fn pull(&self, path: &str) -> Result<Vec<u8>, Error> {
        check_path(path)?;
        let what = format!("GET /v1/files (read {path})");
        let request = self
            .request(Method::GET, "/v1/files")
            .query(&[("action", "read"), ("path", path)])
            .header(ACCEPT, "multipart/form-data");
        let response = self.send(&what, request).await?;
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !content_type.starts_with("multipart/") {
            // Request-level failures come back as a plain JSON envelope.
            self.read_envelope(&what, response).await?;
            return Err(Error::protocol(
                &what,
                format!("content type {content_type:?} instead of multipart"),
            ));
        }
        let boundary =
            multer::parse_boundary(&content_type).map_err(|e| Error::protocol(&what, e))?;
        let mut multipart = multer::Multipart::new(response.bytes_stream(), boundary);
        let mut content = None;
        let mut envelope = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| Error::protocol(&what, e))?
        {
            let name = field.name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(|e| Error::protocol(&what, e))?;
            match name.as_deref() {
                Some("files") => content = Some(bytes.to_vec()),
                Some("response") => envelope = Some(bytes),
                _ => {}
            }
        }
        let envelope = envelope.ok_or_else(|| {
            Error::protocol(&what, "no \"response\" part in the multipart answer")
        })?;
        let results: Vec<PathResult> = decode_embedded_envelope(&what, &envelope)?;
        first_path_error(results)?;
        content.ok_or_else(|| Error::protocol(&what, "no \"files\" part in the multipart answer"))
    }

    /// `GET /v1/files?action=list`: the entries of directory `path` (or `path` itself with
    /// `itself`, or when it is a file), optionally filtered by a glob on names.
    pub async fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> Result<Vec<FileInfo>, Error> {
        check_path(path)?;
        let what = format!("GET /v1/files (list {path})");
        let mut request = self
            .request(Method::GET, "/v1/files")
            .query(&[("action", "list"), ("path", path)]);
        if let Some(pattern) = pattern {
            request = request.query(&[("pattern", pattern)]);
        }
        if itself {
            request = request.query(&[("itself", "true")]);
        }
        let files: Option<Vec<FileInfo>> = self.call(&what, request).await?;
        Ok(files.unwrap_or_default())
    }

    /// Creates directory `path` (`make-dirs`).
    pub async fn make_dir(&self, path: &str, options: &MakeDirOptions) -> Result<(), Error> {
        check_path(path)?;
        let spec = PathSpec {
            make_parents: options.make_parents,
            permissions: options.permissions.map(permissions_text).transpose()?,
            user_id: options.user_id,
            user: options.user.as_deref(),
            group_id: options.group_id,
            group: options.group.as_deref(),
            ..PathSpec::bare(path)
        };
        let body = FilesRequest {
            action: "make-dirs",
            files: None,
            dirs: Some([spec]),
            paths: None,
        };
        self.files_json(&format!("POST /v1/files (make-dirs {path})"), &body)
            .await
    }

    /// Removes `path` (with `recursive`, a directory and its contents; then a missing path is
    /// not an error).
    pub async fn remove_path(&self, path: &str, recursive: bool) -> Result<(), Error> {
        check_path(path)?;
        let body = FilesRequest {
            action: "remove",
            files: None,
            dirs: None,
            paths: Some([PathSpec {
                recursive,
                ..PathSpec::bare(path)
            }]),
        };
        self.files_json(&format!("POST /v1/files (remove {path})"), &body)
            .await
    }

    async fn files_json(&self, what: &str, body: &FilesRequest<'_>) -> Result<(), Error> {
        let request = self.request(Method::POST, "/v1/files").json(body);
        let results: Vec<PathResult> = self.call(what, request).await?;
        first_path_error(results)
    }
}

/// Reads the JSON envelope carried in the `response` part of a multipart answer.
fn decode_embedded_envelope<T: serde::de::DeserializeOwned>(
    what: &str,
    body: &[u8],
) -> Result<T, Error> {
    let (_, result) = parse_envelope(what, 200, body)?;
    decode(what, result)
}

fn json_part(text: String) -> Result<Part, Error> {
    Part::text(text)
        .mime_str("application/json")
        .map_err(|e| Error::protocol("building the push request", e))
}

fn file_part(path: &str, content: &[u8]) -> Result<Part, Error> {
    Part::bytes(content.to_vec())
        .file_name(path.to_owned())
        .mime_str("application/octet-stream")
        .map_err(|e| Error::protocol("building the push request", e))
}
