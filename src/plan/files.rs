//! The files the charm pushes into the containers (rendered from `files/` templates) and the
//! content hash each dependent service carries in its environment.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::config::CharmConfig;
use crate::render::{self, NginxContext, RenderError, UwsgiContext};

/// Where nginx reads its configuration in the `indico-nginx` container.
pub const NGINX_CONF_PATH: &str = "/etc/nginx/nginx.conf";
/// Where uWSGI reads its configuration in the `indico` container.
pub const UWSGI_INI_PATH: &str = "/srv/indico/etc/uwsgi.ini";
/// Indico's static files in the nginx image.
pub const STATIC_DIR: &str = "/srv/indico/static";
/// The Indico virtualenv in the indico image.
pub const VENV: &str = "/srv/indico/.venv";
/// Indico's WSGI entry point in the indico image (`files/indico/indico.wsgi`).
pub const WSGI_FILE: &str = "/srv/indico/indico.wsgi";
/// uWSGI's http socket.
pub const UWSGI_SOCKET: &str = "127.0.0.1:8081";
/// nginx's public port.
pub const WEB_PORT: u16 = 8080;
/// nginx's loopback-only stub_status port.
pub const STATUS_PORT: u16 = 9080;

/// One file to push.
#[derive(Clone, PartialEq, Eq)]
pub struct DesiredFile {
    /// Absolute path in the container.
    pub path: String,
    /// The content.
    pub content: Vec<u8>,
    /// Unix permissions.
    pub permissions: u32,
    /// Owner user name.
    pub user: String,
    /// Owner group name.
    pub group: String,
}

impl fmt::Debug for DesiredFile {
    // Content may one day hold secrets; show its size and hash only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DesiredFile")
            .field("path", &self.path)
            .field("bytes", &self.content.len())
            .field("sha256", &content_hash(std::slice::from_ref(self)))
            .field("permissions", &format_args!("{:o}", self.permissions))
            .field("user", &self.user)
            .field("group", &self.group)
            .finish()
    }
}

/// A hash of the files' paths, content and ownership, hex-encoded. A service whose
/// environment carries it is restarted by replan exactly when one of its files changed.
pub fn content_hash(files: &[DesiredFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        for part in [
            file.path.as_bytes(),
            file.user.as_bytes(),
            file.group.as_bytes(),
        ] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        hasher.update(file.permissions.to_be_bytes());
        hasher.update((file.content.len() as u64).to_be_bytes());
        hasher.update(&file.content);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The nginx.conf context for this configuration.
pub fn nginx_context(config: &CharmConfig) -> NginxContext {
    NginxContext {
        site_https: config.site.is_https(),
        static_dir: STATIC_DIR.to_owned(),
        upstream: UWSGI_SOCKET.to_owned(),
        web_port: WEB_PORT,
        status_port: STATUS_PORT,
    }
}

/// The uWSGI context: processes and threads from the config, fixed limits otherwise.
pub fn uwsgi_context(config: &CharmConfig) -> UwsgiContext {
    const MAX_REQUESTS: u32 = 2500;
    // The config allows 1 to 32; never divide by zero whatever reaches this.
    let processes = config.uwsgi_processes.max(1);
    UwsgiContext {
        http_socket: UWSGI_SOCKET.to_owned(),
        processes,
        threads: config.uwsgi_threads.max(1),
        venv: VENV.to_owned(),
        wsgi_file: WSGI_FILE.to_owned(),
        // Touching the ini itself reloads the workers; it always exists.
        reload_file: UWSGI_INI_PATH.to_owned(),
        harakiri: 900,
        max_requests: MAX_REQUESTS,
        // Spread the workers' recycling evenly over one cycle. With the same limit, workers
        // that share the load evenly reach it together, and while both load Indico again
        // (5-10 s each) no request is answered: charm-bench saw 10 s with no response.
        max_requests_delta: MAX_REQUESTS / processes,
        reload_on_rss_mb: 1024,
        evil_reload_on_rss_mb: 2048,
        buffer_size: 32768,
    }
}

/// `/etc/nginx/nginx.conf` for the `indico-nginx` container.
pub fn nginx_conf(config: &CharmConfig) -> Result<DesiredFile, RenderError> {
    Ok(DesiredFile {
        path: NGINX_CONF_PATH.to_owned(),
        content: render::nginx_conf(&nginx_context(config))?.into_bytes(),
        permissions: 0o644,
        user: "root".to_owned(),
        group: "root".to_owned(),
    })
}

/// The uWSGI ini for the `indico` container (readable by the `indico` user, not writable).
pub fn uwsgi_ini(config: &CharmConfig) -> Result<DesiredFile, RenderError> {
    Ok(DesiredFile {
        path: UWSGI_INI_PATH.to_owned(),
        content: render::uwsgi_ini(&uwsgi_context(config))?.into_bytes(),
        permissions: 0o644,
        user: "root".to_owned(),
        group: "indico".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &str) -> DesiredFile {
        DesiredFile {
            path: "/etc/x".into(),
            content: content.as_bytes().to_vec(),
            permissions: 0o644,
            user: "root".into(),
            group: "root".into(),
        }
    }

    #[test]
    fn the_hash_follows_content_and_metadata() {
        let a = content_hash(&[file("a")]);
        assert_eq!(a, content_hash(&[file("a")]));
        assert_eq!(a.len(), 64);
        assert_ne!(a, content_hash(&[file("b")]));
        let mut other_mode = file("a");
        other_mode.permissions = 0o600;
        assert_ne!(a, content_hash(&[other_mode]));
        assert_ne!(content_hash(&[]), a);
    }
}
