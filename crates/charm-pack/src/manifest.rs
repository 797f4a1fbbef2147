//! The platform the package is built for and the `manifest.yaml` that declares it: the
//! manifest's `bases` make the charm format v2 (juju-contract §3.1) and pick the image of
//! the unit's `charm` container, so the dispatch binary must run on that base's glibc.

use serde::Serialize;

/// One platform: an OS base and a CPU architecture, as `manifest.yaml` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base {
    /// OS name as Juju knows it (`ubuntu`).
    pub name: &'static str,
    /// OS channel (`24.04`).
    pub channel: &'static str,
    /// Juju architecture name (`amd64`).
    pub architecture: &'static str,
    /// The newest glibc the base ships, as (major, minor): the binary may need no newer.
    pub glibc: (u32, u32),
}

/// The platform this charm is packed for: the `charm` container runs
/// `charm-base:ubuntu-24.04`, whose glibc is 2.39.
pub const UBUNTU_24_04_AMD64: Base = Base {
    name: "ubuntu",
    channel: "24.04",
    architecture: "amd64",
    glibc: (2, 39),
};

impl Base {
    /// The platform part of the package's file name, charmcraft's form: `ubuntu-24.04-amd64`.
    pub fn slug(&self) -> String {
        format!("{}-{}-{}", self.name, self.channel, self.architecture)
    }

    /// The package's file name for charm `charm_name`: `<name>_<slug>.charm`.
    pub fn package_file_name(&self, charm_name: &str) -> String {
        format!("{charm_name}_{}.charm", self.slug())
    }

    /// `manifest.yaml` declaring this base, with the analysis attributes charmcraft's
    /// linters would record for a charm that is neither Python nor ops (`unknown`).
    pub fn manifest_yaml(&self) -> String {
        let manifest = Manifest {
            bases: vec![ManifestBase {
                name: self.name,
                channel: self.channel,
                architectures: vec![self.architecture],
            }],
            analysis: Analysis {
                attributes: vec![
                    Attribute {
                        name: "language",
                        result: "unknown",
                    },
                    Attribute {
                        name: "framework",
                        result: "unknown",
                    },
                ],
            },
        };
        // Serializing plain structs of strings cannot fail; a failure would be a bug in
        // serde_yaml, not bad input.
        serde_yaml::to_string(&manifest).expect("a manifest of plain strings serializes")
    }
}

#[derive(Serialize)]
struct Manifest {
    bases: Vec<ManifestBase>,
    analysis: Analysis,
}

#[derive(Serialize)]
struct ManifestBase {
    name: &'static str,
    channel: &'static str,
    architectures: Vec<&'static str>,
}

#[derive(Serialize)]
struct Analysis {
    attributes: Vec<Attribute>,
}

#[derive(Serialize)]
struct Attribute {
    name: &'static str,
    result: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_is_charmcrafts_form() {
        assert_eq!(
            UBUNTU_24_04_AMD64.package_file_name("indico"),
            "indico_ubuntu-24.04-amd64.charm"
        );
    }

    #[test]
    fn manifest_channel_is_a_string_not_a_float() {
        let yaml = UBUNTU_24_04_AMD64.manifest_yaml();
        let value: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(
            value["bases"][0]["channel"],
            serde_yaml::Value::String("24.04".into()),
            "{yaml}"
        );
        assert_eq!(value["bases"][0]["architectures"][0], "amd64");
        assert_eq!(value["analysis"]["attributes"][0]["name"], "language");
    }
}
