//! The application's secret key (Indico `SECRET_KEY`): created once by the leader from the OS
//! CSPRNG, kept in an application-owned Juju secret whose id the peer app data publishes (or,
//! on Juju without secrets, in the peer app data itself), read by every unit, never regenerated.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use juju_runtime::hook_tools::SecretOwner;
use juju_runtime::{
    Databag, HookToolError, HookTools, JujuVersion, Scope, SecretAddOptions, SecretContent,
    SecretGetOptions, SecretRef,
};
use thiserror::Error;

use crate::interfaces::peers::{PeerAppData, Peers, SECRET_ID_KEY, SECRET_KEY_KEY};
use crate::sensitive::Sensitive;
use crate::state::SecretKeyState;

/// Bytes of randomness in a key (512 bits; Flask signs sessions with it).
pub const KEY_BYTES: usize = 64;
/// The secret's content key.
pub const CONTENT_KEY: &str = "secret-key";
/// The secret's owner label.
pub const LABEL: &str = "indico-secret-key";

/// Reading or creating the secret key failed.
#[derive(Debug, Error)]
pub enum SecretKeyError {
    /// The OS CSPRNG failed.
    #[error("cannot generate the secret key: {0}")]
    Random(getrandom::Error),
    /// A hook tool failed.
    #[error("cannot store or read the secret key: {0}")]
    HookTool(#[from] HookToolError),
    /// The published secret has no `secret-key` field.
    #[error("the secret named by peer key secret-id has no {CONTENT_KEY} field")]
    MissingField,
}

/// Whether this Juju has secrets (`secret-add` & co.): 3.0.3 and later.
pub fn juju_has_secrets(version: &JujuVersion) -> bool {
    version.at_least(3, 0, 3)
}

/// A new key: 64 bytes from the OS CSPRNG, URL-safe base64 without padding (86 characters).
pub fn generate() -> Result<Sensitive<String>, SecretKeyError> {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(SecretKeyError::Random)?;
    Ok(Sensitive::new(URL_SAFE_NO_PAD.encode(bytes)))
}

/// Reads the published key: from the Juju secret named by `secret-id`, else from the peer
/// app data (Juju without secrets), else [`SecretKeyState::Missing`].
pub fn read(
    tools: &impl HookTools,
    published: &PeerAppData,
) -> Result<SecretKeyState, SecretKeyError> {
    if let Some(uri) = &published.secret_id {
        let content =
            tools.secret_get(&SecretRef::Uri(uri.clone()), SecretGetOptions::default())?;
        let key = content
            .get(CONTENT_KEY)
            .filter(|k| !k.is_empty())
            .ok_or(SecretKeyError::MissingField)?;
        return Ok(SecretKeyState::Available(Sensitive::new(key.to_owned())));
    }
    if let Some(key) = &published.inline_secret_key {
        return Ok(SecretKeyState::Available(key.clone()));
    }
    Ok(SecretKeyState::Missing)
}

/// Creates and publishes the key (leader only, when [`read`] found none): an application-owned
/// secret plus its id in the peer app data, or the key itself there without secret support.
/// Both writes are committed by Juju only if the hook succeeds, so a failed hook leaves nothing
/// half-published.
pub fn create(
    tools: &impl HookTools,
    peers: &Peers,
    has_secrets: bool,
) -> Result<Sensitive<String>, SecretKeyError> {
    let key = generate()?;
    let published = if has_secrets {
        let content = SecretContent::new([(CONTENT_KEY, key.expose().as_str())]).map_err(|e| {
            HookToolError::InvalidArgument {
                tool: "secret-add",
                reason: e.to_string(),
            }
        })?;
        let options = SecretAddOptions {
            owner: SecretOwner::Application,
            label: Some(LABEL.to_owned()),
            description: Some("Indico SECRET_KEY".to_owned()),
            ..SecretAddOptions::default()
        };
        let uri = tools.secret_add(&content, &options)?;
        Databag::from([(SECRET_ID_KEY.to_owned(), uri.as_str().to_owned())])
    } else {
        Databag::from([(SECRET_KEY_KEY.to_owned(), key.expose().clone())])
    };
    tools.relation_set(&peers.relation_id, Scope::App, &published)?;
    tracing::info!("created the application secret key and published it to the peers");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_url_safe_and_different_each_time() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.expose().len(), 86);
        assert!(
            a.expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_need_juju_3_0_3() {
        let v = |major, minor, patch| JujuVersion {
            major,
            minor,
            patch,
            tag: None,
            build: 0,
        };
        assert!(juju_has_secrets(&v(3, 6, 0)));
        assert!(juju_has_secrets(&v(3, 0, 3)));
        assert!(!juju_has_secrets(&v(3, 0, 2)));
        assert!(!juju_has_secrets(&v(2, 9, 46)));
    }
}
