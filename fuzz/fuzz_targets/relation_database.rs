//! The `database` relation parser (postgresql_client) and the `secret-user` secret reader.
//!
//! Invariants: the password never changes the Debug output of what is parsed (value or
//! error); the SQLAlchemy URI built from a parsed offer is a URI whose parts decode back to
//! the host, port, database, user and password.
#![no_main]

use indico_charm::interfaces::Availability;
use indico_charm::interfaces::database::{
    self, Credentials, DatabaseConnection, DatabaseOffer, credentials_from_secret,
};
use indico_charm::sensitive::Sensitive;
use indico_charm_fuzz::{RelationInput, assert_same_debug, other_secret};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use std::net::IpAddr;

fn check_uri(offer: &DatabaseOffer, username: &str, password: &Sensitive<String>) {
    let connection = DatabaseConnection::new(offer, username.to_owned(), password.clone());
    let uri = connection.uri();
    let url = url::Url::parse(uri.expose()).expect("the connection URI is a URI");
    let decode = |s: &str| percent_decode_str(s).decode_utf8().map(|s| s.into_owned());
    assert_eq!(url.scheme(), "postgresql");
    assert_eq!(decode(url.username()).ok().as_deref(), Some(username));
    assert_eq!(
        url.password().map(decode).and_then(Result::ok).as_ref(),
        Some(password.expose())
    );
    let host = url.host_str().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    // The URL parser writes IPv6 addresses in their canonical form.
    let same_address = match (host.parse::<IpAddr>(), offer.host.parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    assert!(
        same_address || host.eq_ignore_ascii_case(&offer.host),
        "{host} != {}",
        offer.host
    );
    assert_eq!(url.port(), Some(offer.port));
    let database = url
        .path()
        .strip_prefix('/')
        .map(decode)
        .and_then(Result::ok);
    assert_eq!(database.as_ref(), Some(&offer.database));
    let other = Sensitive::new(other_secret(password.expose()).to_owned());
    let other = DatabaseConnection::new(offer, username.to_owned(), other);
    assert_same_debug(&connection, &other, "the password of a connection");
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = RelationInput::from_json(data, database::ENDPOINT, 3) else {
        return;
    };
    let parsed = database::parse(Some(&input.snapshot));
    if let Some(other) = input.with_other_app_secret("password") {
        assert_same_debug(&parsed, &database::parse(Some(&other.snapshot)), "password");
    }
    let Ok(Availability::Ready(offer)) = parsed else {
        return;
    };
    assert_ne!(offer.port, 0);
    match &offer.credentials {
        Credentials::Inline { username, password } => check_uri(&offer, username, password),
        Credentials::InSecret(_) => {
            let credentials = credentials_from_secret(&input.secret);
            if let Some(password) = input.secret.get("password").filter(|p| !p.is_empty()) {
                let mut other = input.secret.clone();
                other.insert("password".into(), other_secret(password).into());
                assert_same_debug(&credentials, &credentials_from_secret(&other), "password");
            }
            if let Ok((username, password)) = credentials {
                assert!(!username.is_empty() && username.trim() == username);
                check_uri(&offer, &username, &password);
            }
        }
    }
});
