//! `grafana-dashboard` (interface `grafana_dashboard`, consumer grafana-k8s through its
//! `grafana_dashboard` library v0, `GrafanaDashboardProvider` on our side): the dashboards this
//! charm ships, in the application bag (leader).
//!
//! `dashboards` is JSON `{"templates": {"file:<name>": {"charm", "content", "juju_topology",
//! "inject_dropdowns"}}, "uuid": ...}` where `content` is the dashboard JSON compressed as
//! Python's `lzma.compress` does (an xz stream) and base64-encoded. The library puts a random
//! `uuid` there to force a relation-changed; ours is derived from the templates, so the bag
//! changes exactly when a dashboard does and a repeated hook writes nothing.

use std::io::Write;

use base64::Engine as _;
use lzma_rust2::{XzOptions, XzWriter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Databag, JujuTopology};

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "grafana-dashboard";
/// The dashboards: template id (`file:` + file stem) and JSON.
pub const DASHBOARDS: [(&str, &str); 1] = [(
    "file:indico-overview",
    include_str!("../../files/observability/grafana_dashboards/indico-overview.json"),
)];

/// `text` as an xz stream, base64-encoded (the library's `LZMABase64.compress`).
pub fn compress(text: &str) -> std::io::Result<String> {
    let mut writer = XzWriter::new(Vec::new(), XzOptions::with_preset(6))?;
    writer.write_all(text.as_bytes())?;
    let compressed = writer.finish()?;
    Ok(base64::engine::general_purpose::STANDARD.encode(compressed))
}

/// The application bag (leader).
pub fn app_data(topology: &JujuTopology) -> std::io::Result<Databag> {
    let mut templates = serde_json::Map::new();
    for (id, dashboard) in DASHBOARDS {
        templates.insert(
            id.to_owned(),
            json!({
                "charm": topology.charm_name,
                "content": compress(dashboard)?,
                "juju_topology": {
                    "model": topology.model,
                    "model_uuid": topology.model_uuid,
                    "application": topology.application,
                    "unit": topology.unit,
                },
                "inject_dropdowns": true,
            }),
        );
    }
    let templates = Value::Object(templates);
    let digest = Sha256::digest(templates.to_string().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    let dashboards = json!({"templates": templates, "uuid": uuid});
    Ok(Databag::from([(
        "dashboards".to_owned(),
        dashboards.to_string(),
    )]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interfaces::metrics_endpoint::tests::topology;
    use std::io::Read;

    /// Decodes a template's `content` as the grafana library does (base64, then xz).
    fn decompress(content: &str) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content)
            .unwrap();
        let mut text = String::new();
        lzma_rust2::XzReader::new(bytes.as_slice(), false)
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn the_payload_decompresses_to_the_dashboard_json() {
        let bag = app_data(&topology()).unwrap();
        let dashboards: Value = serde_json::from_str(&bag["dashboards"]).unwrap();
        let template = &dashboards["templates"]["file:indico-overview"];
        assert_eq!(template["charm"], "indico");
        assert_eq!(template["inject_dropdowns"], true);
        let content = template["content"].as_str().unwrap();
        let dashboard: Value = serde_json::from_str(&decompress(content)).unwrap();
        assert_eq!(dashboard["title"], "Indico overview");
        let exprs: Vec<String> = dashboard["panels"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
            .map(|t| t["expr"].as_str().unwrap().to_owned())
            .collect();
        for metric in [
            "nginx_up",
            "nginx_http_requests_total",
            "flower_worker_online",
            "flower_events_total",
            "indico-nginx",
        ] {
            assert!(
                exprs.iter().any(|e| e.contains(metric)),
                "no panel uses {metric}"
            );
        }
        assert!(
            content.len() < decompress(content).len(),
            "the content is compressed"
        );
    }

    #[test]
    fn the_payload_is_stable_so_a_repeated_hook_writes_nothing() {
        assert_eq!(
            app_data(&topology()).unwrap(),
            app_data(&topology()).unwrap()
        );
        let mut other = topology();
        other.unit = "indico/3".into();
        assert_ne!(app_data(&topology()).unwrap(), app_data(&other).unwrap());
    }

    /// The payload decodes with Python's lzma module, which the grafana charm decodes it with.
    #[test]
    fn python_lzma_reads_the_payload() {
        let content = compress("{\"title\": \"x\"}").unwrap();
        let script = "import base64,lzma,sys,json;print(json.loads(lzma.decompress(base64.b64decode(sys.stdin.read())))['title'])";
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is installed (tests/host-setup)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(content.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "x");
    }
}
