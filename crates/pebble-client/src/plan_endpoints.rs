//! The endpoints that change and read the plan: `POST /v1/layers` and `GET /v1/plan`.

use reqwest::Method;
use serde::Serialize;

use crate::client::Client;
use crate::error::Error;
use crate::layer::Layer;
use crate::plan::Plan;

/// Body of `POST /v1/layers`.
#[derive(Serialize)]
struct AddLayer<'a> {
    action: &'static str,
    combine: bool,
    label: &'a str,
    format: &'static str,
    layer: &'a str,
}

impl Client {
    /// `POST /v1/layers`: adds `layer` as `label` (with `combine`, merges it into the existing
    /// layer of that label). Nothing starts or stops until a replan.
    pub async fn add_layer(&self, label: &str, layer: &Layer, combine: bool) -> Result<(), Error> {
        let what = format!("POST /v1/layers (label {label:?})");
        if label.is_empty() {
            return Err(Error::invalid("layer label", "must not be empty"));
        }
        let yaml = layer
            .to_yaml()
            .map_err(|e| Error::invalid(format!("layer {label:?}"), e.to_string()))?;
        let body = AddLayer {
            action: "add",
            combine,
            label,
            format: "yaml",
            layer: &yaml,
        };
        let _: serde_json::Value = self
            .call(&what, self.request(Method::POST, "/v1/layers").json(&body))
            .await?;
        Ok(())
    }

    /// `GET /v1/plan?format=yaml`, parsed into the typed model.
    pub async fn plan(&self) -> Result<Plan, Error> {
        let what = "GET /v1/plan";
        let request = self
            .request(Method::GET, "/v1/plan")
            .query(&[("format", "yaml")]);
        let yaml: String = self.call(what, request).await?;
        Plan::from_yaml(&yaml).map_err(|e| Error::protocol(what, e))
    }
}
