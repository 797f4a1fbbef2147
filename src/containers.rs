//! The pod's workload containers: their names as metadata.yaml declares them, and where the
//! charm container reaches each one's Pebble.

use std::fmt;
use std::path::PathBuf;

/// One workload container of the Indico pod (metadata.yaml `containers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContainerName {
    /// Indico under uWSGI; also runs the database migrations.
    Indico,
    /// The Celery worker (and, on one unit, the beat scheduler).
    IndicoCelery,
    /// nginx in front of uWSGI, serving the static files.
    IndicoNginx,
    /// The nginx Prometheus exporter.
    NginxPrometheusExporter,
}

impl ContainerName {
    /// Every workload container, in a stable order.
    pub const ALL: [ContainerName; 4] = [
        Self::Indico,
        Self::IndicoCelery,
        Self::IndicoNginx,
        Self::NginxPrometheusExporter,
    ];

    /// The name Juju and metadata.yaml use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Indico => "indico",
            Self::IndicoCelery => "indico-celery",
            Self::IndicoNginx => "indico-nginx",
            Self::NginxPrometheusExporter => "nginx-prometheus-exporter",
        }
    }

    /// The container with this metadata name, if it is one of ours.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Where Juju exposes this container's Pebble socket inside the charm container.
    pub fn pebble_socket(self) -> PathBuf {
        PathBuf::from(format!("/charm/containers/{}/pebble.socket", self.as_str()))
    }
}

impl fmt::Display for ContainerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sockets_follow_juju() {
        for c in ContainerName::ALL {
            assert_eq!(ContainerName::from_name(c.as_str()), Some(c));
        }
        assert_eq!(ContainerName::from_name("charm"), None);
        assert_eq!(
            ContainerName::IndicoNginx.pebble_socket(),
            PathBuf::from("/charm/containers/indico-nginx/pebble.socket")
        );
    }
}
