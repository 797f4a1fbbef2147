//! `files/indico/indico.conf` as Indico itself loads it: the real `load_config()` of
//! Indico 3.2.9 inside the indico image, fed environments the charm could produce.
//! Catches: a variable read under the wrong name or type, loose boolean parsing, JSON that
//! is not an object, a missing required setting that would start Indico half-configured.
//!
//! Needs the indico image (built or rebuilt here if its inputs changed), so root and
//! podman: `cargo test -p indico-substrate --test indico_conf -- --ignored`.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use indico_substrate::engine::{BaseImage, Engine, WorkloadImages};
use serde_json::{Value, json};

/// Loads the config once per case in one container; prints one JSON result per case.
const LOADER: &str = r#"
import json, os, sys
from indico.core.config import load_config
KEYS = ['SQLALCHEMY_DATABASE_URI', 'SECRET_KEY', 'BASE_URL', 'CELERY_BROKER', 'REDIS_CACHE_URL',
        'ENABLE_ROOMBOOKING', 'CUSTOMIZATION_DEBUG', 'CUSTOMIZATION_DIR', 'STORAGE_BACKENDS',
        'ATTACHMENT_STORAGE', 'AUTH_PROVIDERS', 'IDENTITY_PROVIDERS', 'SMTP_SERVER', 'SMTP_LOGIN',
        'SMTP_PASSWORD', 'SMTP_USE_TLS', 'PLUGINS', 'USE_PROXY', 'SYSTEM_NOTICES_URL', 'LOG_DIR',
        'NO_REPLY_EMAIL', 'SUPPORT_EMAIL', 'PUBLIC_SUPPORT_EMAIL', 'LOGGING_CONFIG_FILE']
base = {k: v for k, v in os.environ.items() if not k.startswith('INDICO_') or k == 'INDICO_CONFIG'}
results = []
for env in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(base)
    os.environ.update(env)
    try:
        config = load_config()
        results.append({'ok': {k: sorted(config[k]) if isinstance(config[k], (set, frozenset)) else config[k]
                               for k in KEYS}})
    except Exception as exc:
        results.append({'error': f'{type(exc).__name__}: {exc}'})
print(json.dumps(results))
"#;

fn required() -> serde_json::Map<String, Value> {
    let mut env = serde_json::Map::new();
    for (k, v) in [
        (
            "INDICO_SQLALCHEMY_DATABASE_URI",
            "postgresql://u:p@db:5432/indico",
        ),
        ("INDICO_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ("INDICO_BASE_URL", "https://events.example.com/"),
        ("INDICO_CELERY_BROKER", "redis://broker:6379/0"),
        ("INDICO_REDIS_CACHE_URL", "redis://cache:6379/1"),
    ] {
        env.insert(k.into(), v.into());
    }
    env
}

fn with(pairs: &[(&str, &str)]) -> Value {
    let mut env = required();
    for (k, v) in pairs {
        env.insert((*k).into(), (*v).into());
    }
    Value::Object(env)
}

fn without(key: &str) -> Value {
    let mut env = required();
    env.remove(key);
    Value::Object(env)
}

fn run_cases(cases: &[Value]) -> Vec<Value> {
    let engine = Engine::open_default().expect("engine");
    BaseImage::default().ensure(&engine).expect("base image");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let image = WorkloadImages::from_repo(&repo)
        .expect("specs")
        .indico
        .build(&engine)
        .expect("indico image");
    let mut child = engine
        .podman()
        .command()
        .args([
            "run",
            "--rm",
            "-i",
            "--pull=never",
            "--network",
            "none",
            "--user",
            "indico",
        ])
        .args([
            "--entrypoint",
            "/srv/indico/.venv/bin/python",
            image.reference.as_str(),
            "-c",
            LOADER,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("podman run");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::Array(cases.to_vec()).to_string().as_bytes())
        .expect("write cases");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "loader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("loader output is JSON");
    assert_eq!(results.len(), cases.len());
    results
}

fn error_of(result: &Value) -> &str {
    result["error"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error, got {result}"))
}

#[test]
#[ignore = "needs the indico image: root and podman (seconds when the image is built)"]
fn indico_conf_reads_typed_settings_from_the_environment() {
    let cases = [
        // 0: only the required settings: defaults apply
        Value::Object(required()),
        // 1: everything the charm may set
        with(&[
            ("INDICO_ENABLE_ROOMBOOKING", "true"),
            ("INDICO_CUSTOMIZATION_DEBUG", "true"),
            ("INDICO_CUSTOMIZATION_DIR", "/srv/indico/custom/site"),
            (
                "INDICO_STORAGE_BACKENDS",
                r#"{"default": "fs:/srv/indico/archive", "s3": "s3:bucket=b"}"#,
            ),
            ("INDICO_ATTACHMENT_STORAGE", "s3"),
            (
                "INDICO_AUTH_PROVIDERS",
                r#"{"saml": {"type": "saml", "title": "SSO"}}"#,
            ),
            (
                "INDICO_IDENTITY_PROVIDERS",
                r#"{"saml": {"type": "saml", "trusted_email": true}}"#,
            ),
            ("INDICO_SMTP_SERVER", "mail.example.com"),
            ("INDICO_SMTP_PORT", "587"),
            ("INDICO_SMTP_LOGIN", "indico"),
            ("INDICO_SMTP_PASSWORD", "pw"),
            ("INDICO_SMTP_USE_TLS", "true"),
            ("INDICO_PLUGINS", "storage_s3, payment_manual,,autocreate"),
            ("INDICO_USE_PROXY", "false"),
            ("INDICO_NO_REPLY_EMAIL", "noreply@example.com"),
        ]),
        // 2..: bad input
        with(&[("INDICO_ENABLE_ROOMBOOKING", "False")]),
        with(&[("INDICO_CUSTOMIZATION_DEBUG", "1")]),
        without("INDICO_SECRET_KEY"),
        with(&[(
            "INDICO_STORAGE_BACKENDS",
            "{\"default\": \"fs:/x\", secret-key-in-here",
        )]),
        with(&[("INDICO_AUTH_PROVIDERS", "[1, 2]")]),
        with(&[("INDICO_SMTP_PORT", "25x")]),
        // 8: empty optional values count as unset
        with(&[
            ("INDICO_ENABLE_ROOMBOOKING", ""),
            ("INDICO_PLUGINS", ""),
            ("INDICO_SMTP_LOGIN", ""),
        ]),
    ];
    let results = run_cases(&cases);

    let defaults = &results[0]["ok"];
    assert_eq!(defaults["ENABLE_ROOMBOOKING"], json!(false));
    assert_eq!(defaults["CUSTOMIZATION_DEBUG"], json!(false));
    assert_eq!(defaults["CUSTOMIZATION_DIR"], json!("/srv/indico/custom"));
    assert_eq!(
        defaults["STORAGE_BACKENDS"],
        json!({"default": "fs:/srv/indico/archive"})
    );
    assert_eq!(defaults["ATTACHMENT_STORAGE"], json!("default"));
    assert_eq!(defaults["SMTP_SERVER"], json!(["localhost", 25]));
    assert_eq!(defaults["SMTP_LOGIN"], Value::Null);
    assert_eq!(
        defaults["PLUGINS"],
        json!(["anonymize", "autocreate"]),
        "the image's CLI plugins are always on"
    );
    assert_eq!(defaults["USE_PROXY"], json!(true));
    assert_eq!(defaults["SYSTEM_NOTICES_URL"], Value::Null);
    assert_eq!(defaults["LOG_DIR"], json!("/srv/indico/log"));
    assert_eq!(
        defaults["BASE_URL"],
        json!("https://events.example.com"),
        "Indico strips the slash"
    );
    assert_eq!(
        defaults["SQLALCHEMY_DATABASE_URI"],
        json!("postgresql://u:p@db:5432/indico")
    );
    assert_eq!(defaults["CELERY_BROKER"], json!("redis://broker:6379/0"));
    assert_eq!(defaults["REDIS_CACHE_URL"], json!("redis://cache:6379/1"));

    let full = &results[1]["ok"];
    assert_eq!(full["ENABLE_ROOMBOOKING"], json!(true));
    assert_eq!(full["CUSTOMIZATION_DEBUG"], json!(true));
    assert_eq!(full["CUSTOMIZATION_DIR"], json!("/srv/indico/custom/site"));
    assert_eq!(full["STORAGE_BACKENDS"]["s3"], json!("s3:bucket=b"));
    assert_eq!(full["ATTACHMENT_STORAGE"], json!("s3"));
    assert_eq!(full["AUTH_PROVIDERS"]["saml"]["title"], json!("SSO"));
    assert_eq!(
        full["IDENTITY_PROVIDERS"]["saml"]["trusted_email"],
        json!(true)
    );
    assert_eq!(full["SMTP_SERVER"], json!(["mail.example.com", 587]));
    assert_eq!(full["SMTP_LOGIN"], json!("indico"));
    assert_eq!(full["SMTP_PASSWORD"], json!("pw"));
    assert_eq!(full["SMTP_USE_TLS"], json!(true));
    assert_eq!(
        full["PLUGINS"],
        json!(["anonymize", "autocreate", "payment_manual", "storage_s3"])
    );
    assert_eq!(full["USE_PROXY"], json!(false));
    assert_eq!(full["NO_REPLY_EMAIL"], json!("noreply@example.com"));

    let e = error_of(&results[2]);
    assert!(
        e.contains("INDICO_ENABLE_ROOMBOOKING") && e.contains("\"true\" or \"false\""),
        "{e}"
    );
    let e = error_of(&results[3]);
    assert!(e.contains("INDICO_CUSTOMIZATION_DEBUG"), "{e}");
    let e = error_of(&results[4]);
    assert!(
        e.contains("INDICO_SECRET_KEY") && e.contains("required"),
        "{e}"
    );
    let e = error_of(&results[5]);
    assert!(
        e.contains("INDICO_STORAGE_BACKENDS") && e.contains("not valid JSON"),
        "{e}"
    );
    assert!(
        !e.contains("secret-key-in-here"),
        "the error must not echo the value: {e}"
    );
    let e = error_of(&results[6]);
    assert!(
        e.contains("INDICO_AUTH_PROVIDERS") && e.contains("JSON object"),
        "{e}"
    );
    let e = error_of(&results[7]);
    assert!(
        e.contains("INDICO_SMTP_PORT") && e.contains("integer"),
        "{e}"
    );

    let empty = &results[8]["ok"];
    assert_eq!(empty["ENABLE_ROOMBOOKING"], json!(false));
    assert_eq!(empty["PLUGINS"], json!(["anonymize", "autocreate"]));
    assert_eq!(empty["SMTP_LOGIN"], Value::Null);
}
