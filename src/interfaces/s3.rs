//! `s3` (interface `s3`, provider e.g. s3-integrator through data_platform_libs `s3` v0): the
//! bucket this charm asks for, and the provider's credentials turned into Indico's S3 storage
//! backend (the `storage_s3` plugin of indico-plugins), which becomes the attachment storage.
//!
//! Requirer application bag (leader): `bucket`. Provider application bag: `access-key`,
//! `secret-key`, `bucket`, and optionally `endpoint`, `region`, `path`, `s3-uri-style`,
//! `storage-class`, `s3-api-version`, `tls-ca-chain` and `attributes` (the last two JSON
//! lists). `access-key` and `secret-key` are the library's required options.
//!
//! The backend is one string, `s3:key=value,...`, so no value may hold `,` or `=`.
//! `region`, `path`, `storage-class` and `tls-ca-chain` have no storage_s3 option and are not
//! used (the endpoint URL carries the region for S3-compatible stores).
//!
//! Removing the relation returns new attachments to the filesystem backend. Files already in
//! the bucket stay there; Indico reads them again once `s3` is related again, because each
//! file records the backend name (`s3`) it was stored under. While S3 was used and is no longer
//! related, the leader's record of the bucket ([`BUCKET_IN_USE_KEY`] in the peer application
//! bag) keeps a warning in the status.

use thiserror::Error;

use super::{Availability, Databag, RelationSnapshot};
use crate::sensitive::Sensitive;

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "s3";
/// Indico's name for the S3 backend in `STORAGE_BACKENDS` (recorded with every stored file).
pub const BACKEND_NAME: &str = "s3";
/// The filesystem backend Indico uses without S3 (indico.conf's default).
pub const FILESYSTEM_BACKEND: &str = "fs:/srv/indico/archive";
/// The indico-plugins plugin that provides the `s3:` backend.
pub const PLUGIN: &str = "storage_s3";
/// Peer application key: the bucket Indico stored attachments in, kept after the relation goes.
pub const BUCKET_IN_USE_KEY: &str = "s3-bucket-in-use";

/// The provider's answer is unusable. Names the relation and the key, never the value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("relation s3: key {key} is not valid: {reason}")]
pub struct S3Error {
    /// The databag key.
    pub key: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

/// The application bag this charm writes (leader only): the bucket it asks for, named after
/// the application.
pub fn request(app: &str) -> Databag {
    Databag::from([("bucket".to_owned(), app.to_owned())])
}

/// A usable S3 bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Storage {
    /// The bucket.
    pub bucket: String,
    /// The access key (an identifier, but treated as a credential all the same).
    pub access_key: Sensitive<String>,
    /// The secret key.
    pub secret_key: Sensitive<String>,
    /// The endpoint URL, when not AWS.
    pub endpoint: Option<String>,
    /// `path` or `virtual` addressing, when the provider says.
    pub addressing_style: Option<&'static str>,
}

impl S3Storage {
    /// The storage_s3 backend string (holds the keys).
    pub fn backend(&self) -> Sensitive<String> {
        let mut backend = format!(
            "s3:bucket={},access_key={},secret_key={},proxy=true",
            self.bucket,
            self.access_key.expose(),
            self.secret_key.expose()
        );
        if let Some(endpoint) = &self.endpoint {
            backend.push_str(&format!(",host={endpoint}"));
        }
        if let Some(style) = self.addressing_style {
            backend.push_str(&format!(",addressing_style={style}"));
        }
        Sensitive::new(backend)
    }

    /// `INDICO_STORAGE_BACKENDS` (JSON: the filesystem backend stays, so files stored before S3
    /// remain readable) and `INDICO_ATTACHMENT_STORAGE`.
    pub fn variables(&self) -> [(&'static str, String); 2] {
        let backends = serde_json::json!({
            "default": FILESYSTEM_BACKEND,
            BACKEND_NAME: self.backend().expose(),
        });
        [
            ("INDICO_STORAGE_BACKENDS", backends.to_string()),
            ("INDICO_ATTACHMENT_STORAGE", BACKEND_NAME.to_owned()),
        ]
    }
}

/// A value that fits in the backend string: no `,` or `=`, no whitespace or control character.
fn backend_value(bag: &Databag, key: &'static str) -> Result<Option<String>, S3Error> {
    let Some(value) = bag.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value
        .chars()
        .any(|c| matches!(c, ',' | '=') || c.is_whitespace() || c.is_control())
    {
        return Err(S3Error {
            key,
            reason: "contains a comma, equals sign or whitespace",
        });
    }
    Ok(Some(value.to_owned()))
}

/// Reads the provider's application bag. Without `bucket`, `access-key` and `secret-key` the
/// provider has not answered yet.
pub fn parse(relation: Option<&RelationSnapshot>) -> Result<Availability<S3Storage>, S3Error> {
    let Some(relation) = relation else {
        return Ok(Availability::NotRelated);
    };
    let bag = &relation.app_data;
    let bucket = backend_value(bag, "bucket")?;
    let access_key = backend_value(bag, "access-key")?;
    let secret_key = backend_value(bag, "secret-key")?;
    let endpoint = backend_value(bag, "endpoint")?;
    let (Some(bucket), Some(access_key), Some(secret_key)) = (bucket, access_key, secret_key)
    else {
        return Ok(Availability::Pending);
    };
    if !valid_bucket(&bucket) {
        return Err(S3Error {
            key: "bucket",
            reason: "not an S3 bucket name (3 to 63 lower-case letters, digits, dots, hyphens)",
        });
    }
    if let Some(endpoint) = &endpoint {
        match url::Url::parse(endpoint) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => {
                return Err(S3Error {
                    key: "endpoint",
                    reason: "not an http(s) URL",
                });
            }
        }
    }
    let addressing_style = match bag.get("s3-uri-style").map(|v| v.trim()) {
        None | Some("") => None,
        Some("path") => Some("path"),
        Some("host") | Some("virtual") => Some("virtual"),
        Some(_) => {
            return Err(S3Error {
                key: "s3-uri-style",
                reason: "not path or host",
            });
        }
    };
    Ok(Availability::Ready(S3Storage {
        bucket,
        access_key: Sensitive::new(access_key),
        secret_key: Sensitive::new(secret_key),
        endpoint,
        addressing_style,
    }))
}

/// S3's bucket naming rules, as far as they matter here.
fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// The status warning while attachments written to S3 are out of reach.
pub fn detached_warning(bucket: &str) -> String {
    format!(
        "s3 relation removed: new attachments go to the filesystem; files in bucket {bucket} \
         stay there and come back when s3 is related again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use juju_runtime::RelationId;

    /// Shaped as s3-integrator writes it through `S3Provider.update_connection_info`.
    fn relation(pairs: &[(&str, &str)]) -> RelationSnapshot {
        RelationSnapshot {
            remote_app: Some("s3-integrator".into()),
            app_data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..RelationSnapshot::new(RelationId::new(ENDPOINT, 12))
        }
    }

    const ANSWER: &[(&str, &str)] = &[
        ("access-key", "AKIAINDICOEXAMPLE"),
        ("secret-key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("bucket", "indico-attachments"),
        ("endpoint", "https://s3.eu-west-1.example.com"),
        ("region", "eu-west-1"),
        ("path", "/indico"),
        ("s3-uri-style", "path"),
        ("tls-ca-chain", "[]"),
        ("data", r#"{"bucket": "indico"}"#),
    ];

    #[test]
    fn the_request_names_the_application_bucket() {
        assert_eq!(request("indico")["bucket"], "indico");
    }

    #[test]
    fn credentials_become_the_attachment_backend_beside_the_filesystem() {
        let Availability::Ready(storage) = parse(Some(&relation(ANSWER))).unwrap() else {
            panic!("expected ready")
        };
        assert_eq!(
            storage.backend().expose(),
            "s3:bucket=indico-attachments,access_key=AKIAINDICOEXAMPLE,\
             secret_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY,proxy=true,\
             host=https://s3.eu-west-1.example.com,addressing_style=path"
        );
        let [(backends_var, backends), (attachments_var, attachments)] = storage.variables();
        assert_eq!(backends_var, "INDICO_STORAGE_BACKENDS");
        let backends: serde_json::Value = serde_json::from_str(&backends).unwrap();
        assert_eq!(backends["default"], "fs:/srv/indico/archive");
        assert!(backends["s3"].as_str().unwrap().starts_with("s3:bucket="));
        assert_eq!(
            (attachments_var, attachments.as_str()),
            ("INDICO_ATTACHMENT_STORAGE", "s3")
        );
        assert!(!format!("{storage:?}").contains("wJalrXUtnFEMI"));
    }

    #[test]
    fn missing_credentials_wait_and_bad_values_name_the_key() {
        assert_eq!(parse(None).unwrap(), Availability::NotRelated);
        assert_eq!(
            parse(Some(&relation(&[("bucket", "indico")]))).unwrap(),
            Availability::Pending
        );
        let with = |key: &'static str, value: &'static str| {
            let mut pairs: Vec<(&str, &str)> =
                ANSWER.iter().filter(|(k, _)| *k != key).copied().collect();
            pairs.push((key, value));
            parse(Some(&relation(&pairs))).unwrap_err()
        };
        let err = with("secret-key", "abc,host=evil");
        assert_eq!(
            err.to_string(),
            "relation s3: key secret-key is not valid: contains a comma, equals sign or whitespace"
        );
        assert!(!err.to_string().contains("evil"));
        assert_eq!(with("bucket", "Indico_Bucket").key, "bucket");
        assert_eq!(with("bucket", "ab").key, "bucket");
        assert_eq!(with("endpoint", "s3.example.com").key, "endpoint");
        assert_eq!(with("endpoint", "ftp://s3.example.com").key, "endpoint");
        assert_eq!(with("s3-uri-style", "sideways").key, "s3-uri-style");
    }

    #[test]
    fn without_an_endpoint_the_backend_is_aws() {
        let aws = relation(&[
            ("access-key", "AKIA"),
            ("secret-key", "secret"),
            ("bucket", "indico"),
        ]);
        let Availability::Ready(storage) = parse(Some(&aws)).unwrap() else {
            panic!("expected ready")
        };
        assert_eq!(
            storage.backend().expose(),
            "s3:bucket=indico,access_key=AKIA,secret_key=secret,proxy=true"
        );
    }
}
