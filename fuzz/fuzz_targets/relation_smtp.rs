//! The `smtp` relation parser (smtp-integrator) and the `password_id` secret reader.
//!
//! Invariants: the password (inline or in the secret) never changes the Debug output of what
//! is parsed; a parsed offer has a valid host and port, a login exactly when it
//! authenticates, and gives Indico variables that carry them.
#![no_main]

use indico_charm::interfaces::Availability;
use indico_charm::interfaces::smtp::{self, SmtpPassword, SmtpSettings, password_from_secret};
use indico_charm_fuzz::{RelationInput, assert_same_debug, other_secret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = RelationInput::from_json(data, smtp::ENDPOINT, 9) else {
        return;
    };
    let parsed = smtp::parse(Some(&input.snapshot));
    if let Some(other) = input.with_other_app_secret("password") {
        assert_same_debug(&parsed, &smtp::parse(Some(&other.snapshot)), "password");
    }
    let secret = password_from_secret(&input.secret);
    if let Some(password) = input.secret.get("password").filter(|p| !p.is_empty()) {
        let mut other = input.secret.clone();
        other.insert("password".into(), other_secret(password).into());
        assert_same_debug(
            &secret,
            &password_from_secret(&other),
            "the secret's password",
        );
    }
    let Ok(Availability::Ready(offer)) = parsed else {
        return;
    };
    assert_ne!(offer.port, 0);
    assert_eq!(
        offer.login.is_some(),
        !matches!(offer.password, SmtpPassword::None)
    );
    let password = match &offer.password {
        SmtpPassword::None => None,
        SmtpPassword::Inline(password) => Some(password.clone()),
        SmtpPassword::InSecret(_) => secret.ok(),
    };
    let settings = SmtpSettings::new(offer.clone(), password.clone());
    let variables = settings.variables();
    assert_eq!(variables["INDICO_SMTP_SERVER"], offer.host);
    assert_eq!(
        variables["INDICO_SMTP_PORT"].parse::<u16>().ok(),
        Some(offer.port)
    );
    assert_eq!(variables.get("INDICO_SMTP_LOGIN"), offer.login.as_ref());
    assert_eq!(
        variables.get("INDICO_SMTP_PASSWORD"),
        password.as_ref().map(|p| p.expose())
    );
});
