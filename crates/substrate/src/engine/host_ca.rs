//! The host's CA bundle, for hosts whose egress inspects TLS (this one does): builds get
//! it as the `host-ca` secret, and workload containers get it mounted read-only so pip,
//! git and Indico's own requests trust the same CAs as the host. Production images and
//! pods never see it.

use std::path::PathBuf;

/// Environment variable naming the bundle; empty disables it. Default: the system bundle
/// when present.
pub const CA_BUNDLE_ENV: &str = "INDICO_SUBSTRATE_CA_BUNDLE";
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Where workload containers see the bundle (Debian's system bundle path, so git and
/// OpenSSL use it without configuration).
pub const CA_BUNDLE_IN_CONTAINER: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The host CA bundle to hand to builds and pods, if any.
pub fn host_ca_bundle() -> Option<PathBuf> {
    let path = match std::env::var_os(CA_BUNDLE_ENV) {
        Some(p) if p.is_empty() => return None,
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(SYSTEM_CA_BUNDLE),
    };
    path.is_file().then_some(path)
}
