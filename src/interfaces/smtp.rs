//! `smtp` (interface `smtp`, provider smtp-integrator through its `smtp` library v0): the
//! provider's application bag becomes Indico's SMTP settings. This charm writes nothing.
//!
//! Provider application bag (`SmtpRelationData.to_relation_data`): `host`, `port`, `auth_type`
//! (`none`, `not_provided`, `plain`), `transport_security` (`none`, `starttls`, `tls`),
//! `skip_ssl_verify` (`True`/`False`), and when set `user`, `domain`, `smtp_sender`,
//! `recipients`, and either `password` or `password_id` (a Juju secret whose key `password`
//! holds it; gather reads it with secret-get).
//!
//! Indico's mailer (`SMTP_USE_TLS`) speaks STARTTLS only, so `transport_security: tls`
//! (implicit TLS, usually port 465) is refused with a status rather than silently failing
//! every mail. `skip_ssl_verify` and `domain` have no Indico setting and are ignored.

use std::collections::BTreeMap;

use juju_runtime::SecretUri;
use thiserror::Error;

use super::{Availability, Databag, RelationSnapshot, valid_host};
use crate::sensitive::Sensitive;

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "smtp";

/// The provider's answer is unusable. Names the relation and the key, never the value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("relation smtp: key {key} is not valid: {reason}")]
pub struct SmtpError {
    /// The databag key (or secret content key).
    pub key: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

fn invalid(key: &'static str, reason: &'static str) -> SmtpError {
    SmtpError { key, reason }
}

/// Where the SMTP password is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpPassword {
    /// No authentication.
    None,
    /// In the databag (`password`).
    Inline(Sensitive<String>),
    /// In the Juju secret named by `password_id`; gather reads its key `password`.
    InSecret(SecretUri),
}

/// What the provider offers, before a `password_id` secret is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpOffer {
    /// The relay host.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The SMTP AUTH user, when the relay wants authentication.
    pub login: Option<String>,
    /// The password, or where it is.
    pub password: SmtpPassword,
    /// STARTTLS.
    pub use_tls: bool,
    /// The sender address the provider asks for (`smtp_sender`).
    pub sender: Option<String>,
}

/// Indico's SMTP settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    /// `INDICO_SMTP_SERVER`.
    pub host: String,
    /// `INDICO_SMTP_PORT`.
    pub port: u16,
    /// `INDICO_SMTP_LOGIN` (absent: no authentication).
    pub login: Option<String>,
    /// `INDICO_SMTP_PASSWORD`.
    pub password: Option<Sensitive<String>>,
    /// `INDICO_SMTP_USE_TLS` (STARTTLS).
    pub use_tls: bool,
    /// The sender for automatic mails, overriding `indico_no_reply_email`.
    pub sender: Option<String>,
}

impl SmtpSettings {
    /// The settings once the password is known (`None` when there is no authentication).
    pub fn new(offer: SmtpOffer, password: Option<Sensitive<String>>) -> Self {
        Self {
            host: offer.host,
            port: offer.port,
            login: offer.login,
            password,
            use_tls: offer.use_tls,
            sender: offer.sender,
        }
    }

    /// The `INDICO_SMTP_*` variables. The password is exposed here and only here: the result
    /// goes straight into a layer.
    pub fn variables(&self) -> BTreeMap<&'static str, String> {
        let mut env = BTreeMap::from([
            ("INDICO_SMTP_SERVER", self.host.clone()),
            ("INDICO_SMTP_PORT", self.port.to_string()),
            (
                "INDICO_SMTP_USE_TLS",
                if self.use_tls { "true" } else { "false" }.to_owned(),
            ),
        ]);
        if let Some(login) = &self.login {
            env.insert("INDICO_SMTP_LOGIN", login.clone());
        }
        if let Some(password) = &self.password {
            env.insert("INDICO_SMTP_PASSWORD", password.expose().clone());
        }
        env
    }
}

/// Reads the provider's application bag. Missing required keys mean it has not answered.
pub fn parse(relation: Option<&RelationSnapshot>) -> Result<Availability<SmtpOffer>, SmtpError> {
    let Some(relation) = relation else {
        return Ok(Availability::NotRelated);
    };
    let bag: &Databag = &relation.app_data;
    let get = |key: &str| bag.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let (Some(host), Some(port), Some(auth_type), Some(security)) = (
        get("host"),
        get("port"),
        get("auth_type"),
        get("transport_security"),
    ) else {
        return Ok(Availability::Pending);
    };
    if !valid_host(host) {
        return Err(invalid("host", "not a host name or address"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or(invalid("port", "not a TCP port"))?;
    let use_tls = match security {
        "none" => false,
        "starttls" => true,
        "tls" => {
            return Err(invalid(
                "transport_security",
                "Indico speaks STARTTLS only; use starttls or none",
            ));
        }
        _ => return Err(invalid("transport_security", "not none, starttls or tls")),
    };
    let authenticates = match auth_type {
        "none" | "not_provided" => false,
        "plain" => true,
        _ => return Err(invalid("auth_type", "not none, not_provided or plain")),
    };
    let sender = match get("smtp_sender") {
        Some(sender) if is_plausible_address(sender) => Some(sender.to_owned()),
        Some(_) => return Err(invalid("smtp_sender", "not an email address")),
        None => None,
    };
    let (login, password) = if authenticates {
        let Some(user) = get("user") else {
            return Err(invalid("user", "required when auth_type is plain"));
        };
        let password = if let Some(id) = get("password_id") {
            SmtpPassword::InSecret(
                id.parse()
                    .map_err(|_| invalid("password_id", "not a secret URI"))?,
            )
        } else if let Some(password) = bag.get("password").filter(|p| !p.is_empty()) {
            SmtpPassword::Inline(Sensitive::new(password.clone()))
        } else {
            return Ok(Availability::Pending);
        };
        (Some(user.to_owned()), password)
    } else {
        (None, SmtpPassword::None)
    };
    Ok(Availability::Ready(SmtpOffer {
        host: host.to_owned(),
        port,
        login,
        password,
        use_tls,
        sender,
    }))
}

/// Takes the password out of the content of the `password_id` secret.
pub fn password_from_secret(content: &Databag) -> Result<Sensitive<String>, SmtpError> {
    content
        .get("password")
        .filter(|p| !p.is_empty())
        .map(|p| Sensitive::new(p.clone()))
        .ok_or(invalid(
            "password_id",
            "the secret it names has no key password",
        ))
}

/// One `@` with something on both sides and no whitespace.
fn is_plausible_address(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use juju_runtime::RelationId;

    /// Shaped as smtp-integrator writes it (`SmtpRelationData.to_relation_data`).
    fn relation(pairs: &[(&str, &str)]) -> RelationSnapshot {
        RelationSnapshot {
            remote_app: Some("smtp-integrator".into()),
            app_data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..RelationSnapshot::new(RelationId::new(ENDPOINT, 9))
        }
    }

    const PLAIN_STARTTLS: &[(&str, &str)] = &[
        ("host", "smtp.example.com"),
        ("port", "587"),
        ("auth_type", "plain"),
        ("transport_security", "starttls"),
        ("skip_ssl_verify", "False"),
        ("domain", "example.com"),
        ("user", "indico"),
        ("password", "m@il-s3cret"),
        ("smtp_sender", "events@example.com"),
    ];

    #[test]
    fn plain_auth_with_starttls_becomes_indicos_settings() {
        let Availability::Ready(offer) = parse(Some(&relation(PLAIN_STARTTLS))).unwrap() else {
            panic!("expected ready")
        };
        let SmtpPassword::Inline(password) = offer.password.clone() else {
            panic!("expected an inline password")
        };
        let settings = SmtpSettings::new(offer, Some(password));
        let env = settings.variables();
        assert_eq!(env["INDICO_SMTP_SERVER"], "smtp.example.com");
        assert_eq!(env["INDICO_SMTP_PORT"], "587");
        assert_eq!(env["INDICO_SMTP_LOGIN"], "indico");
        assert_eq!(env["INDICO_SMTP_PASSWORD"], "m@il-s3cret");
        assert_eq!(env["INDICO_SMTP_USE_TLS"], "true");
        assert_eq!(settings.sender.as_deref(), Some("events@example.com"));
        assert!(!format!("{settings:?}").contains("m@il-s3cret"));
    }

    #[test]
    fn password_id_names_a_secret_and_no_auth_means_no_login() {
        let mut pairs: Vec<(&str, &str)> = PLAIN_STARTTLS
            .iter()
            .filter(|(k, _)| *k != "password")
            .copied()
            .collect();
        pairs.push(("password_id", "secret://f00/cs1k2v3b4n5m6l7k8j9h"));
        let Availability::Ready(offer) = parse(Some(&relation(&pairs))).unwrap() else {
            panic!("expected ready")
        };
        assert_eq!(
            offer.password,
            SmtpPassword::InSecret("secret://f00/cs1k2v3b4n5m6l7k8j9h".parse().unwrap())
        );
        let content = Databag::from([("password".into(), "from-secret".into())]);
        assert_eq!(
            password_from_secret(&content).unwrap().expose(),
            "from-secret"
        );
        assert_eq!(
            password_from_secret(&Databag::new())
                .unwrap_err()
                .to_string(),
            "relation smtp: key password_id is not valid: the secret it names has no key password"
        );

        let open = relation(&[
            ("host", "10.0.0.25"),
            ("port", "25"),
            ("auth_type", "none"),
            ("transport_security", "none"),
            ("user", "ignored"),
        ]);
        let Availability::Ready(offer) = parse(Some(&open)).unwrap() else {
            panic!("expected ready")
        };
        let env = SmtpSettings::new(offer, None).variables();
        assert_eq!(env["INDICO_SMTP_USE_TLS"], "false");
        assert!(!env.contains_key("INDICO_SMTP_LOGIN"));
        assert!(!env.contains_key("INDICO_SMTP_PASSWORD"));
    }

    #[test]
    fn partial_answers_wait_and_bad_values_name_the_key() {
        assert_eq!(parse(None).unwrap(), Availability::NotRelated);
        assert_eq!(parse(Some(&relation(&[]))).unwrap(), Availability::Pending);
        let no_password: Vec<(&str, &str)> = PLAIN_STARTTLS
            .iter()
            .filter(|(k, _)| *k != "password")
            .copied()
            .collect();
        assert_eq!(
            parse(Some(&relation(&no_password))).unwrap(),
            Availability::Pending
        );
        let with = |key: &'static str, value: &'static str| {
            let mut pairs: Vec<(&str, &str)> = PLAIN_STARTTLS
                .iter()
                .filter(|(k, _)| *k != key)
                .copied()
                .collect();
            pairs.push((key, value));
            parse(Some(&relation(&pairs))).unwrap_err()
        };
        assert_eq!(with("port", "smtp").key, "port");
        assert_eq!(with("port", "70000").key, "port");
        assert_eq!(with("host", "smtp relay").key, "host");
        assert_eq!(with("auth_type", "login").key, "auth_type");
        assert_eq!(with("transport_security", "ssl").key, "transport_security");
        assert_eq!(
            with("transport_security", "tls").to_string(),
            "relation smtp: key transport_security is not valid: Indico speaks STARTTLS only; use starttls or none"
        );
        assert_eq!(with("smtp_sender", "not-an-address").key, "smtp_sender");
        assert_eq!(with("password_id", "secret-password").key, "password_id");
        let err = with("user", "");
        assert_eq!(
            err.to_string(),
            "relation smtp: key user is not valid: required when auth_type is plain"
        );
        assert!(!err.to_string().contains("m@il-s3cret"));
    }
}
