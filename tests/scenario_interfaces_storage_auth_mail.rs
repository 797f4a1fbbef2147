//! Scenario tests of the optional relations that configure Indico itself: `s3` (attachment
//! storage), `saml` (login) and `smtp` (mail). Each is related, answered with a databag shaped
//! as the real provider charm's library writes it, removed (relation-broken), and fed malformed
//! data, through the real charm code in the in-memory harness.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use charm_scenario::{Output, Relation, ScenarioEvent, Secret, State};
use fixtures::*;
use juju_runtime::Status;

fn indico_env(out: &Output) -> std::collections::BTreeMap<String, String> {
    service_environment(out, "indico", "indico")
}

/// The converged leader after `relation`'s created and changed hooks.
fn related(base: State, relation: &Relation) -> Output {
    let ctx = context();
    let created = ctx
        .run(ScenarioEvent::relation_created(relation), base)
        .unwrap();
    ctx.run(
        ScenarioEvent::relation_changed(relation, Some(0)),
        created.state,
    )
    .unwrap()
}

fn relation_sets(out: &Output) -> Vec<String> {
    out.calls_to("relation-set")
        .iter()
        .map(|c| format!("{c:?}"))
        .collect()
}

#[test]
fn s3_becomes_the_attachment_storage_and_its_removal_returns_to_the_filesystem() {
    let ctx = context();
    let base = ready_leader_state().with_relation(s3_relation());
    let created = ctx
        .run(ScenarioEvent::relation_created(&s3_relation()), base)
        .unwrap();
    let bag = &created.state.relation(S3_ID).unwrap().local_app_data;
    assert_eq!(
        bag.get("bucket").map(String::as_str),
        Some("indico"),
        "the bucket request"
    );

    let out = ctx
        .run(
            ScenarioEvent::relation_changed(&s3_relation(), Some(0)),
            created.state,
        )
        .unwrap();
    assert_eq!(out.state.unit_status, Some(Status::Active));
    let env = indico_env(&out);
    assert_eq!(env["INDICO_ATTACHMENT_STORAGE"], "s3");
    let backends: serde_json::Value =
        serde_json::from_str(&env["INDICO_STORAGE_BACKENDS"]).unwrap();
    assert_eq!(backends["default"], "fs:/srv/indico/archive");
    assert_eq!(
        backends["s3"],
        format!(
            "s3:bucket=indico-attachments,access_key=AKIAINDICOEXAMPLE,secret_key={S3_SECRET_KEY},proxy=true,host=https://s3.example.com,addressing_style=path"
        )
    );
    assert!(env["INDICO_PLUGINS"].split(',').any(|p| p == "storage_s3"));
    let celery = service_environment(&out, "indico-celery", "indico-celery");
    assert_eq!(celery["INDICO_ATTACHMENT_STORAGE"], "s3");
    assert!(
        !visible_text(&out).contains(S3_SECRET_KEY),
        "the S3 key leaked"
    );

    // A later hook that is not about s3 still sees it (the leader's record) and changes nothing.
    let again = ctx
        .run(ScenarioEvent::update_status(), out.state.clone())
        .unwrap();
    assert!(
        again.pebble_writes().is_empty(),
        "{:#?}",
        again.pebble_writes()
    );
    assert!(
        again.calls_to("relation-set").is_empty(),
        "{:?}",
        relation_sets(&again)
    );
    assert_eq!(again.state.unit_status, Some(Status::Active));

    // Removal: back to the filesystem, with a warning naming the bucket left behind.
    let broken = ctx
        .run(ScenarioEvent::relation_broken(&s3_relation()), out.state)
        .unwrap();
    let env = indico_env(&broken);
    assert!(!env.contains_key("INDICO_STORAGE_BACKENDS"));
    assert!(!env.contains_key("INDICO_ATTACHMENT_STORAGE"));
    assert!(!env.contains_key("INDICO_PLUGINS") || !env["INDICO_PLUGINS"].contains("storage_s3"));
    assert_eq!(
        broken.restarted_services().len(),
        2,
        "indico and celery restart with the new storage: {:?}",
        broken.restarted_services()
    );
    let warning = Status::ActiveWithMessage(
        "s3 relation removed: new attachments go to the filesystem; files in bucket \
         indico-attachments stay there and come back when s3 is related again"
            .into(),
    );
    assert_eq!(broken.state.unit_status, Some(warning.clone()));
    let after = ctx
        .run(
            ScenarioEvent::update_status(),
            broken.state.without_relation(S3_ID),
        )
        .unwrap();
    assert_eq!(after.state.unit_status, Some(warning), "the warning stays");
    assert!(after.pebble_writes().is_empty());
}

#[test]
fn saml_builds_the_auth_and_identity_providers_and_removal_drops_them() {
    let ctx = context();
    let base = ready_leader_state()
        .with_config("site_url", "https://events.example.com")
        .with_relation(saml_relation());
    let out = related(base, &saml_relation());
    assert_eq!(out.state.unit_status, Some(Status::Active));
    let env = indico_env(&out);
    let auth: serde_json::Value = serde_json::from_str(&env["INDICO_AUTH_PROVIDERS"]).unwrap();
    let config = &auth["saml"]["saml_config"];
    assert_eq!(config["sp"]["entityId"], "https://events.example.com");
    assert_eq!(config["idp"]["entityId"], "https://login.example.com");
    assert_eq!(config["idp"]["x509cert"], CERT);
    assert_eq!(
        config["idp"]["singleSignOnService"]["binding"],
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    );
    assert_eq!(
        config["idp"]["singleLogoutService"]["url"],
        "https://login.example.com/+logout"
    );
    let identity: serde_json::Value =
        serde_json::from_str(&env["INDICO_IDENTITY_PROVIDERS"]).unwrap();
    assert_eq!(identity["saml"]["type"], "saml");

    let broken = ctx
        .run(ScenarioEvent::relation_broken(&saml_relation()), out.state)
        .unwrap();
    let env = indico_env(&broken);
    assert!(!env.contains_key("INDICO_AUTH_PROVIDERS"));
    assert!(!env.contains_key("INDICO_IDENTITY_PROVIDERS"));
    assert_eq!(broken.state.unit_status, Some(Status::Active));
}

#[test]
fn smtp_reads_the_password_from_its_secret_and_removal_clears_the_settings() {
    let ctx = context();
    let base = ready_leader_state()
        .with_relation(smtp_relation())
        .with_secret(smtp_secret());
    let out = related(base, &smtp_relation());
    assert_eq!(out.state.unit_status, Some(Status::Active));
    let env = indico_env(&out);
    assert_eq!(env["INDICO_SMTP_SERVER"], "smtp.example.com");
    assert_eq!(env["INDICO_SMTP_PORT"], "587");
    assert_eq!(env["INDICO_SMTP_LOGIN"], "indico");
    assert_eq!(env["INDICO_SMTP_PASSWORD"], SMTP_PASSWORD);
    assert_eq!(env["INDICO_SMTP_USE_TLS"], "true");
    assert_eq!(env["INDICO_NO_REPLY_EMAIL"], "events@example.com");
    assert!(
        !visible_text(&out).contains(SMTP_PASSWORD),
        "the password leaked"
    );

    let broken = ctx
        .run(ScenarioEvent::relation_broken(&smtp_relation()), out.state)
        .unwrap();
    let env = indico_env(&broken);
    for name in [
        "INDICO_SMTP_SERVER",
        "INDICO_SMTP_PORT",
        "INDICO_SMTP_LOGIN",
        "INDICO_SMTP_PASSWORD",
        "INDICO_SMTP_USE_TLS",
    ] {
        assert!(!env.contains_key(name), "{name} stayed");
    }
    assert_eq!(env["INDICO_NO_REPLY_EMAIL"], "noreply@mydomain.local");
}

#[test]
fn an_smtp_secret_not_granted_yet_leaves_mail_unconfigured_without_blocking() {
    let base = ready_leader_state().with_relation(smtp_relation());
    let out = related(base, &smtp_relation());
    assert_eq!(out.state.unit_status, Some(Status::Active));
    assert!(!indico_env(&out).contains_key("INDICO_SMTP_SERVER"));
}

/// Runs `<relation>-relation-changed` on the converged leader related to `good`, after the
/// provider set `key` to `value`; checks that only the status changed, to `expected`.
fn assert_only_status(
    good: Relation,
    key: &str,
    value: &str,
    extra: Option<Secret>,
    expected: &str,
) {
    let mut base = ready_leader_state().with_relation(good.clone());
    if let Some(secret) = extra {
        base = base.with_secret(secret);
    }
    let mut input = related(base, &good).state;
    let relation = input.relation_mut(good.id).unwrap();
    relation
        .remote_app_data
        .insert(key.to_owned(), value.to_owned());
    let bad = relation.clone();
    let out = context()
        .run(
            ScenarioEvent::relation_changed(&bad, Some(0)),
            input.clone(),
        )
        .unwrap_or_else(|e| panic!("{expected}: the hook must exit 0, got {e}"));
    let status = Status::Blocked(expected.to_owned());
    assert_eq!(out.state.unit_status.as_ref(), Some(&status));
    assert!(
        out.pebble_writes().is_empty(),
        "{expected}: {:#?}",
        out.pebble_writes()
    );
    assert!(out.service_transitions.is_empty(), "{expected}");
    assert!(
        out.calls_to("relation-set").is_empty(),
        "{:?}",
        relation_sets(&out)
    );
    let mut expected_state = input;
    expected_state.unit_status = Some(status);
    assert_eq!(
        out.state, expected_state,
        "{expected}: something besides the status changed"
    );
    let text = visible_text(&out);
    assert!(!text.contains(S3_SECRET_KEY) && !text.contains(SMTP_PASSWORD));
}

#[test]
fn malformed_s3_saml_and_smtp_data_block_naming_relation_and_key_and_change_nothing_else() {
    assert_only_status(
        s3_relation(),
        "secret-key",
        &format!("{S3_SECRET_KEY},host=evil"),
        None,
        "relation s3: key secret-key is not valid: contains a comma, equals sign or whitespace",
    );
    assert_only_status(
        s3_relation(),
        "endpoint",
        "s3.example.com:443",
        None,
        "relation s3: key endpoint is not valid: not an http(s) URL",
    );
    assert_only_status(
        saml_relation(),
        "x509certs",
        "{\"pem\": \"☃\"}",
        None,
        "relation saml: key x509certs is not valid: not a comma-separated list of base64 certificates",
    );
    assert_only_status(
        saml_relation(),
        "single_sign_on_service_redirect_url",
        "javascript:alert(1)",
        None,
        "relation saml: key single_sign_on_service_redirect_url is not valid: not an http(s) URL",
    );
    assert_only_status(
        smtp_relation(),
        "port",
        "five-eight-seven",
        Some(smtp_secret()),
        "relation smtp: key port is not valid: not a TCP port",
    );
    assert_only_status(
        smtp_relation(),
        "transport_security",
        "tls",
        Some(smtp_secret()),
        "relation smtp: key transport_security is not valid: Indico speaks STARTTLS only; use starttls or none",
    );
}

#[test]
fn the_no_op_hook_cost_of_s3_saml_and_smtp() {
    let ctx = context();
    let core = ctx
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap();
    let core_calls = ctx
        .run(ScenarioEvent::update_status(), core.state.clone())
        .unwrap()
        .hook_tool_calls
        .len();
    let mut state = core.state.with_secret(smtp_secret());
    for relation in [s3_relation(), saml_relation(), smtp_relation()] {
        state = related(state.with_relation(relation.clone()), &relation).state;
    }
    let noop = ctx.run(ScenarioEvent::update_status(), state).unwrap();
    assert_quiet_noop(&noop);
    let calls = noop.hook_tool_calls.len();
    println!(
        "no-op update-status: {core_calls} hook-tool calls with the core relations, {calls} with \
         s3, saml and smtp (password in a secret) related too"
    );
    // Per endpoint: relation-ids, the remote app's name, its bag; smtp's secret-get.
    assert_eq!(calls, core_calls + 3 * 3 + 1, "{:#?}", noop.hook_tool_calls);
}
