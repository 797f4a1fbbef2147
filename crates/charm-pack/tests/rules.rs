//! Every package rule fails when it should: the repository's own package (with this test
//! executable, a host-built x86-64 ELF, standing in for the release binary) passes, and each
//! mutation that breaks one rule of juju-contract §3 is refused with a violation naming the
//! file and the key. The last test proves the pack writes nothing when a rule is broken.

use std::path::{Path, PathBuf};

use charm_pack::manifest::{Base, UBUNTU_24_04_AMD64};
use charm_pack::rules::{self, Violations};
use charm_pack::{CharmContents, PackError, pack};
use serde_yaml::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The package of this repository, with the running test executable as `dispatch`.
fn contents() -> CharmContents {
    let binary = std::env::current_exe().unwrap();
    CharmContents::from_repository(&repo(), &binary, &UBUNTU_24_04_AMD64).unwrap()
}

fn edit_yaml(contents: &mut CharmContents, file: &str, edit: impl FnOnce(&mut Value)) {
    let entry = contents.get_mut(file).unwrap();
    let mut value: Value = serde_yaml::from_slice(&entry.data).unwrap();
    edit(&mut value);
    entry.data = serde_yaml::to_string(&value).unwrap().into_bytes();
}

fn violations(contents: &CharmContents) -> Violations {
    rules::check(contents, &UBUNTU_24_04_AMD64).expect_err("a broken rule must be reported")
}

fn assert_violation(contents: &CharmContents, file: &str, needle: &str) {
    let found = violations(contents);
    assert!(
        found.mentions(file, needle),
        "expected {file}: ..{needle}.. in\n{found}"
    );
}

#[test]
fn repository_package_passes_every_rule() {
    let contents = contents();
    assert_eq!(
        contents.paths(),
        [
            "README.md",
            "actions.yaml",
            "config.yaml",
            "dispatch",
            "icon.svg",
            "manifest.yaml",
            "metadata.yaml"
        ]
    );
    if let Err(found) = rules::check(&contents, &UBUNTU_24_04_AMD64) {
        panic!("the repository's package breaks rules:\n{found}");
    }
    assert_eq!(rules::charm_name(&contents).as_deref(), Some("indico"));
}

#[test]
fn every_required_file_is_named_when_missing() {
    let mut contents = contents();
    for file in rules::REQUIRED_FILES {
        contents.remove(file);
    }
    let found = violations(&contents);
    for file in rules::REQUIRED_FILES {
        assert!(
            found.mentions(file, "required file missing"),
            "{file}: {found}"
        );
    }
}

#[test]
fn dispatch_must_be_0755_and_other_files_0644() {
    let mut contents = contents();
    contents.get_mut("dispatch").unwrap().mode = 0o644;
    contents.get_mut("metadata.yaml").unwrap().mode = 0o600;
    assert_violation(&contents, "dispatch", "mode is 0644, must be 0755");
    assert_violation(&contents, "metadata.yaml", "mode is 0600, must be 0644");
}

#[test]
fn dispatch_must_be_an_executable_for_the_base() {
    let mut contents = contents();
    contents.get_mut("dispatch").unwrap().data = b"just text".to_vec();
    assert_violation(
        &contents,
        "dispatch",
        "neither an ELF executable nor a `#!` script",
    );

    // A wrapper script is allowed.
    contents.get_mut("dispatch").unwrap().data =
        b"#!/bin/sh\nexec \"$(dirname \"$0\")/bin/indico-charm\"\n".to_vec();
    rules::check(&contents, &UBUNTU_24_04_AMD64).unwrap();
}

#[test]
fn binary_needing_a_newer_glibc_than_the_base_is_refused() {
    // This host's binaries need at least glibc 2.2.5-era symbols and, from Rust's std, 2.3+;
    // a base claiming glibc 2.1 is older than anything they need.
    let ancient = Base {
        glibc: (2, 1),
        ..UBUNTU_24_04_AMD64
    };
    let found = rules::check(&contents(), &ancient).unwrap_err();
    assert!(
        found.mentions("dispatch", "needs GLIBC_2.") && found.mentions("dispatch", "has glibc 2.1"),
        "{found}"
    );
}

#[test]
fn binary_for_another_architecture_is_refused() {
    let arm = Base {
        architecture: "arm64",
        ..UBUNTU_24_04_AMD64
    };
    let mut contents = contents();
    contents.insert("manifest.yaml", 0o644, arm.manifest_yaml().into_bytes());
    let found = rules::check(&contents, &arm).unwrap_err();
    assert!(
        found.mentions("dispatch", "(amd64), the package is for arm64"),
        "{found}"
    );
}

#[test]
fn format_v1_keys_are_refused() {
    let mut contents = contents();
    edit_yaml(&mut contents, "metadata.yaml", |meta| {
        meta["series"] = Value::Sequence(vec!["jammy".into()]);
        meta["min-juju-version"] = "3.1.0".into();
    });
    assert_violation(&contents, "metadata.yaml", "series is a format v1 key");
    assert_violation(
        &contents,
        "metadata.yaml",
        "min-juju-version is a format v1 key",
    );
}

#[test]
fn containers_must_reference_oci_image_resources() {
    let mut contents = contents();
    edit_yaml(&mut contents, "metadata.yaml", |meta| {
        meta["containers"]["indico"]["resource"] = "no-such-image".into();
        meta["resources"]["indico-nginx-image"]["type"] = "file".into();
        meta["containers"]["indico-celery"]
            .as_mapping_mut()
            .unwrap()
            .remove("resource");
    });
    assert_violation(
        &contents,
        "metadata.yaml",
        "container indico: referenced resource \"no-such-image\" not found",
    );
    assert_violation(
        &contents,
        "metadata.yaml",
        "container indico-nginx: referenced resource \"indico-nginx-image\" is not a oci-image",
    );
    assert_violation(
        &contents,
        "metadata.yaml",
        "container indico-celery: no resource",
    );
}

#[test]
fn a_sidecar_charm_needs_a_container() {
    let mut contents = contents();
    edit_yaml(&mut contents, "metadata.yaml", |meta| {
        meta.as_mapping_mut().unwrap().remove("containers");
    });
    assert_violation(&contents, "metadata.yaml", "no containers");
}

#[test]
fn container_mounts_and_reserved_ids() {
    let mut contents = contents();
    edit_yaml(&mut contents, "metadata.yaml", |meta| {
        meta["containers"]["indico"]["uid"] = 1500.into();
        meta["containers"]["indico"]["mounts"] =
            serde_yaml::from_str("[{storage: data}, {location: /x}]").unwrap();
    });
    let found = violations(&contents);
    for needle in [
        "container indico: uid 1500 is in Juju's reserved range",
        "container indico: mount storage \"data\" is not declared",
        "container indico: a mount has no location",
        "container indico: a mount has no storage",
    ] {
        assert!(found.mentions("metadata.yaml", needle), "{needle}: {found}");
    }
}

#[test]
fn endpoint_names_are_unique_and_not_reserved() {
    let mut contents = contents();
    edit_yaml(&mut contents, "metadata.yaml", |meta| {
        meta["provides"]["database"] = serde_yaml::from_str("{interface: x}").unwrap();
        meta["provides"]["juju-info"] = serde_yaml::from_str("{interface: juju-info}").unwrap();
        meta["provides"]["no-interface"] = serde_yaml::from_str("{limit: 1}").unwrap();
    });
    let found = violations(&contents);
    assert!(
        found.mentions("metadata.yaml", "database: endpoint name used twice"),
        "{found}"
    );
    assert!(
        found.mentions("metadata.yaml", "provides.juju-info: endpoint names juju"),
        "{found}"
    );
    assert!(
        found.mentions("metadata.yaml", "provides.no-interface: interface missing"),
        "{found}"
    );
}

#[test]
fn metadata_needs_name_summary_description() {
    let mut contents = contents();
    edit_yaml(&mut contents, "metadata.yaml", |meta| {
        meta["name"] = "Indico_Charm".into();
        meta["summary"] = " ".into();
        meta.as_mapping_mut().unwrap().remove("description");
    });
    let found = violations(&contents);
    assert!(
        found.mentions(
            "metadata.yaml",
            "\"Indico_Charm\" is not a valid charm name"
        ),
        "{found}"
    );
    assert!(
        found.mentions("metadata.yaml", "summary missing or empty"),
        "{found}"
    );
    assert!(
        found.mentions("metadata.yaml", "description missing or empty"),
        "{found}"
    );
}

#[test]
fn manifest_must_declare_the_platform() {
    let mut contents = contents();
    edit_yaml(&mut contents, "manifest.yaml", |manifest| {
        manifest["bases"][0]["channel"] = "22.04".into();
        manifest["bases"][0]["architectures"] = serde_yaml::from_str("[amd64, sparc]").unwrap();
    });
    assert_violation(
        &contents,
        "manifest.yaml",
        "architecture \"sparc\" is not supported",
    );
    assert_violation(
        &contents,
        "manifest.yaml",
        "no base covers the package's platform ubuntu 24.04 amd64",
    );

    edit_yaml(&mut contents, "manifest.yaml", |manifest| {
        manifest["bases"] = Value::Sequence(vec![]);
        manifest.as_mapping_mut().unwrap().remove("analysis");
    });
    assert_violation(&contents, "manifest.yaml", "bases missing or empty");
    assert_violation(&contents, "manifest.yaml", "analysis.attributes missing");
}

#[test]
fn config_option_types_and_defaults() {
    let mut contents = contents();
    edit_yaml(&mut contents, "config.yaml", |config| {
        config["options"]["site_url"]["type"] = "url".into();
        config["options"]["enable_roombooking"]["default"] = "yes".into();
        config["options"]["workers"] = serde_yaml::from_str("{type: int, default: 2.5}").unwrap();
        config["options"]["ratio"] = serde_yaml::from_str("{type: float, default: 2}").unwrap();
    });
    let found = violations(&contents);
    assert!(
        found.mentions("config.yaml", "option site_url: type must be one of"),
        "{found}"
    );
    assert!(
        found.mentions(
            "config.yaml",
            "option enable_roombooking: default is not a boolean"
        ),
        "{found}"
    );
    assert!(
        found.mentions("config.yaml", "option workers: default is not a int"),
        "{found}"
    );
    assert!(
        !found.mentions("config.yaml", "option ratio"),
        "an integer is a valid float: {found}"
    );
}

#[test]
fn action_names_keys_and_required_params() {
    let mut contents = contents();
    edit_yaml(&mut contents, "actions.yaml", |actions| {
        actions["Add_Admin"] = serde_yaml::from_str("{description: x}").unwrap();
        actions["juju-run"] = serde_yaml::from_str("{description: x}").unwrap();
        actions["add-admin"]["required"] = serde_yaml::from_str("[email, token]").unwrap();
        actions["anonymize-user"]["params"]["email"]["$ref"] = "#/x".into();
        actions["refresh-external-resources"]["timeout"] = 5.into();
    });
    let found = violations(&contents);
    for needle in [
        "action name \"Add_Admin\" must match",
        "action juju-run: names juju and juju-* are reserved",
        "action add-admin: required parameter \"token\" is not in params",
        "action anonymize-user: $ref and $schema are prohibited",
        "action refresh-external-resources: unknown key \"timeout\"",
    ] {
        assert!(found.mentions("actions.yaml", needle), "{needle}: {found}");
    }
}

#[test]
fn unparsable_yaml_is_named_not_a_panic() {
    let mut contents = contents();
    contents.get_mut("config.yaml").unwrap().data = b"options: [unclosed".to_vec();
    contents.get_mut("actions.yaml").unwrap().data = b"- a list".to_vec();
    assert_violation(&contents, "config.yaml", "not valid YAML");
    assert_violation(&contents, "actions.yaml", "the top level must be a mapping");
}

#[test]
fn pack_refuses_to_write_a_package_that_breaks_a_rule() {
    let repo_copy = tempfile::tempdir().unwrap();
    for (source, _) in charm_pack::contents::REPOSITORY_FILES {
        let target = repo_copy.path().join(source);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(source), &target).unwrap();
    }
    let metadata = repo_copy.path().join("metadata.yaml");
    let mut text = std::fs::read_to_string(&metadata).unwrap();
    text.push_str("series: [jammy]\n");
    std::fs::write(&metadata, text).unwrap();

    let out = tempfile::tempdir().unwrap();
    let binary = std::env::current_exe().unwrap();
    match pack(repo_copy.path(), &binary, &UBUNTU_24_04_AMD64, out.path()) {
        Err(PackError::Rules(found)) => {
            assert!(found.mentions("metadata.yaml", "series"), "{found}")
        }
        other => panic!("expected a rules error, got {other:?}"),
    }
    let written: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert!(written.is_empty(), "nothing may be written: {written:?}");
}
