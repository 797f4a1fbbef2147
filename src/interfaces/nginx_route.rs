//! `nginx-route` (interface `nginx-route`, provider nginx-ingress-integrator through its
//! `nginx_route` library v0): the route this charm asks for. The provider answers nothing.
//!
//! Requirer application bag (leader), as `provide_nginx_route` writes it: `service-hostname`,
//! `service-name`, `service-port` and `service-namespace`, every value a plain string, and any
//! other key removed (the library clears keys it no longer sets).

use super::Databag;

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "nginx-route";

/// The application bag this charm wants: route `hostname` to the Kubernetes service `app`
/// (Juju names it after the application) on `port` in namespace `model`.
pub fn request(hostname: &str, app: &str, port: u16, model: &str) -> Databag {
    Databag::from([
        ("service-hostname".to_owned(), hostname.to_owned()),
        ("service-name".to_owned(), app.to_owned()),
        ("service-port".to_owned(), port.to_string()),
        ("service-namespace".to_owned(), model.to_owned()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interfaces::bag_changes;

    #[test]
    fn the_request_replaces_whatever_else_the_bag_held() {
        let wanted = request("events.example.com", "indico", 8080, "events");
        assert_eq!(wanted["service-port"], "8080");
        let current = Databag::from([
            ("service-hostname".into(), "old.example.com".into()),
            ("service-name".into(), "indico".into()),
            ("limit-rps".into(), "10".into()),
        ]);
        let changes = bag_changes(&current, &wanted);
        assert_eq!(changes["service-hostname"], "events.example.com");
        assert_eq!(changes["limit-rps"], "", "a stale key is deleted");
        assert!(
            !changes.contains_key("service-name"),
            "unchanged keys are not rewritten"
        );
        assert!(bag_changes(&wanted, &wanted).is_empty());
    }
}
