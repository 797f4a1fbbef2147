//! The hook tools against the contract (docs/juju-contract.md §2), table-driven and
//! in-process: flags, formats, exit codes, error texts, leader and databag permissions,
//! read-your-writes, and commit-on-success.

use std::collections::BTreeMap;

use indico_substrate::hook_tools::{
    ActionInfo, BagOwner, HookContext, HookInfo, ToolOutput, ToolRequest, run_tool,
};
use indico_substrate::model::{ActionRecord, AppKind, CharmMeta, Model};

const INDICO: &str = "name: indico\npeers:\n  indico-peers: {interface: indico-instance}\nrequires:\n  database: {interface: postgresql_client, limit: 1}\n";
const CONFIG: &str = "options:\n  site_url: {type: string, default: ''}\n  workers: {type: int, default: 4}\n  debug: {type: boolean, default: false}\n  nothing: {type: string}\n";
const ACTIONS: &str = "add-admin:\n  params:\n    email: {type: string}\n  required: [email]\n";
const PG: &str = "name: postgresql\nprovides:\n  database: {interface: postgresql_client}\n";

/// indico (2 units, indico/0 leads) related to postgresql (1 unit) on relation 1; peer
/// relation 0; both indico units have joined each other and postgresql/0.
fn model() -> Model {
    let mut m = Model::new("test");
    let meta = CharmMeta::parse(INDICO, Some(CONFIG), Some(ACTIONS)).unwrap();
    m.add_application("indico", AppKind::Charm { dir: ".".into() }, meta, 2)
        .unwrap();
    m.add_application(
        "postgresql",
        AppKind::Provider {
            provider: "postgresql".into(),
        },
        CharmMeta::parse(PG, None, None).unwrap(),
        1,
    )
    .unwrap();
    assert_eq!(m.add_peer_relations("indico").unwrap(), [0]);
    assert_eq!(m.integrate("indico", "postgresql").unwrap(), 1);
    let rel = m.relations.get_mut(&1).unwrap();
    rel.app_bags.insert(
        "postgresql".into(),
        BTreeMap::from([
            ("database".into(), "indico".into()),
            ("endpoints".into(), "10.0.0.1:5432".into()),
        ]),
    );
    rel.unit_bags.insert(
        "postgresql/0".into(),
        BTreeMap::from([("private-address".into(), "10.0.0.1".into())]),
    );
    rel.app_bags.insert(
        "indico".into(),
        BTreeMap::from([("database".into(), "indico".into())]),
    );
    let peers = m.relations.get_mut(&0).unwrap();
    peers.app_bags.insert(
        "indico".into(),
        BTreeMap::from([("secret-id".into(), "s".into())]),
    );
    for (unit, other) in [("indico/0", "indico/1"), ("indico/1", "indico/0")] {
        let u = m.unit_mut(unit).unwrap();
        u.joined.insert(0, [other.to_owned()].into());
        u.joined.insert(1, ["postgresql/0".to_owned()].into());
    }
    m
}

fn relation_hook(kind: &str, remote_unit: Option<&str>) -> HookInfo {
    HookInfo {
        hook_name: format!("database-relation-{kind}"),
        relation_id: Some(1),
        remote_unit: remote_unit.map(str::to_owned),
        remote_app: Some("postgresql".into()),
        ..HookInfo::default()
    }
}

fn ctx(unit: &str, info: HookInfo) -> HookContext {
    HookContext::new(format!("{unit}-ctx"), unit, info)
}

fn request(line: &str, stdin: Option<&str>) -> ToolRequest {
    let mut words = line.split(' ').map(str::to_owned);
    let tool = words.next().unwrap();
    ToolRequest {
        context_id: String::new(),
        tool,
        args: words.collect(),
        cwd: "/".into(),
        stdin: stdin.map(|s| s.as_bytes().to_vec()),
        files: BTreeMap::new(),
    }
}

fn run(ctx: &mut HookContext, model: &mut Model, line: &str) -> ToolOutput {
    run_tool(ctx, model, &request(line, None))
}

/// (unit, in relation hook?, command line, exit code, stdout, stderr)
const TABLE: &[(&str, bool, &str, i32, &str, &str)] = &[
    // config-get
    (
        "indico/0",
        false,
        "config-get --format=json",
        0,
        "{\"debug\":false,\"site_url\":\"\",\"workers\":4}\n",
        "",
    ),
    (
        "indico/0",
        false,
        "config-get --format=json --all",
        0,
        "{\"debug\":false,\"nothing\":null,\"site_url\":\"\",\"workers\":4}\n",
        "",
    ),
    ("indico/0", false, "config-get workers", 0, "4\n", ""),
    (
        "indico/0",
        false,
        "config-get nothing --format=json",
        0,
        "null\n",
        "",
    ),
    ("indico/0", false, "config-get nothing", 0, "", ""),
    (
        "indico/0",
        false,
        "config-get site_url -a",
        2,
        "",
        "ERROR cannot use argument --all together with key \"site_url\"\n",
    ),
    (
        "indico/0",
        false,
        "config-get a b",
        2,
        "",
        "ERROR unrecognized args: [\"b\"]\n",
    ),
    (
        "indico/0",
        false,
        "config-get --format=xml",
        2,
        "",
        "ERROR invalid value \"xml\" for option --format: unknown format \"xml\"\n",
    ),
    (
        "indico/0",
        false,
        "config-get --bogus",
        2,
        "",
        "ERROR option provided but not defined: --bogus\n",
    ),
    // relation-ids
    (
        "indico/0",
        false,
        "relation-ids database --format=json",
        0,
        "[\"database:1\"]\n",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-ids nope --format=json",
        0,
        "[]\n",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-ids",
        2,
        "",
        "ERROR no endpoint name specified\n",
    ),
    ("indico/0", true, "relation-ids", 0, "database:1\n", ""),
    // relation-list
    (
        "indico/0",
        false,
        "relation-list -r database:1 --format=json",
        0,
        "[\"postgresql/0\"]\n",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-list --relation=0 --format=json",
        0,
        "[\"indico/1\"]\n",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-list -r1 --app --format=json",
        0,
        "\"postgresql\"\n",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-list --format=json",
        2,
        "",
        "ERROR no relation id specified\n",
    ),
    (
        "indico/0",
        false,
        "relation-list -r one",
        2,
        "",
        "ERROR invalid value \"one\" for option -r: invalid relation id\n",
    ),
    (
        "indico/0",
        false,
        "relation-list -r 7",
        2,
        "",
        "ERROR invalid value \"7\" for option -r: relation not found\n",
    ),
    (
        "indico/0",
        false,
        "relation-list --relation=db:7",
        2,
        "",
        "ERROR invalid value \"db:7\" for option --relation: relation not found\n",
    ),
    (
        "indico/0",
        false,
        "relation-list -r",
        2,
        "",
        "ERROR option needs an argument: -r\n",
    ),
    // relation-get
    (
        "indico/0",
        false,
        "relation-get --format=json -r database:1 --app - postgresql",
        0,
        "{\"database\":\"indico\",\"endpoints\":\"10.0.0.1:5432\"}\n",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-get --format=json -r 1 missing postgresql/0",
        0,
        "null\n",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-get -r 1 missing postgresql/0",
        0,
        "",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-get -r 1 private-address postgresql/0",
        0,
        "10.0.0.1\n",
        "",
    ),
    (
        "indico/0",
        false,
        "relation-get -r 1 - postgresql",
        2,
        "",
        "ERROR expected unit name, got application name \"postgresql\"\n",
    ),
    (
        "indico/0",
        false,
        "relation-get -r 1 - Bad_Name",
        2,
        "",
        "ERROR invalid unit name \"Bad_Name\"\n",
    ),
    (
        "indico/0",
        false,
        "relation-get -r 1",
        2,
        "",
        "ERROR no unit or application specified\n",
    ),
    (
        "indico/0",
        false,
        "relation-get -r 1 - bad/0",
        1,
        "",
        "ERROR unknown unit bad/0\n",
    ),
    (
        "indico/0",
        false,
        "relation-get -r 1 a b c",
        2,
        "",
        "ERROR unrecognized args: [\"c\"]\n",
    ),
    (
        "indico/0",
        true,
        "relation-get --format=json",
        0,
        "{\"private-address\":\"10.0.0.1\"}\n",
        "",
    ),
    (
        "indico/0",
        true,
        "relation-get --app database --format=json",
        0,
        "\"indico\"\n",
        "",
    ),
    // own app bag: leader yes; non-leader no (but yes on peers)
    (
        "indico/0",
        false,
        "relation-get --format=json -r 1 --app - indico",
        0,
        "{\"database\":\"indico\"}\n",
        "",
    ),
    (
        "indico/1",
        false,
        "relation-get --format=json -r 1 --app - indico",
        1,
        "",
        "ERROR permission denied\n",
    ),
    (
        "indico/1",
        false,
        "relation-get --format=json -r 0 --app - indico",
        0,
        "{\"secret-id\":\"s\"}\n",
        "",
    ),
    // relation-set errors
    (
        "indico/0",
        false,
        "relation-set -r 1 haha",
        2,
        "",
        "ERROR expected \"key=value\", got \"haha\"\n",
    ),
    (
        "indico/0",
        false,
        "relation-set -r 1 =haha",
        2,
        "",
        "ERROR expected \"key=value\", got \"=haha\"\n",
    ),
    (
        "indico/0",
        false,
        "relation-set -r 1 k=1 k=2",
        2,
        "",
        "ERROR key \"k\" specified more than once\n",
    ),
    (
        "indico/1",
        false,
        "relation-set -r 1 --app k=v",
        1,
        "",
        "ERROR cannot write relation settings\n",
    ),
    (
        "indico/0",
        false,
        "relation-set -r 1 --format=json k=v",
        0,
        "",
        "--format flag deprecated for command \"relation-set\"\n",
    ),
    (
        "indico/0",
        false,
        "relation-set k=v",
        2,
        "",
        "ERROR no relation id specified\n",
    ),
    // is-leader
    (
        "indico/0",
        false,
        "is-leader --format=json",
        0,
        "true\n",
        "",
    ),
    ("indico/1", false, "is-leader", 0, "False\n", ""),
    // status
    (
        "indico/0",
        false,
        "status-set",
        2,
        "",
        "ERROR invalid args, require <status> [message]\n",
    ),
    (
        "indico/0",
        false,
        "status-set error boom",
        2,
        "",
        "ERROR invalid status \"error\", expected one of [maintenance blocked waiting active]\n",
    ),
    (
        "indico/0",
        false,
        "status-set active a b",
        2,
        "",
        "ERROR unrecognized args: [\"b\"]\n",
    ),
    (
        "indico/1",
        false,
        "status-set --application active",
        1,
        "",
        "ERROR this unit is not the leader\n",
    ),
    (
        "indico/1",
        false,
        "status-get --application --include-data --format=json",
        1,
        "",
        "ERROR finding application status: this unit is not the leader\n",
    ),
    ("indico/0", false, "status-get", 0, "waiting\n", ""),
    (
        "indico/0",
        false,
        "status-get --format=json",
        0,
        "{\"status\":\"waiting\"}\n",
        "",
    ),
    (
        "indico/0",
        false,
        "application-version-set",
        2,
        "",
        "ERROR no version specified\n",
    ),
    // state
    (
        "indico/0",
        false,
        "state-get --format=json",
        0,
        "null\n",
        "",
    ),
    (
        "indico/0",
        false,
        "state-get five --format=json",
        0,
        "\"\"\n",
        "",
    ),
    ("indico/0", false, "state-get five", 0, "", ""),
    (
        "indico/0",
        false,
        "state-get five --strict",
        1,
        "",
        "ERROR \"five\" not found\n",
    ),
    ("indico/0", false, "state-delete nope", 0, "", ""),
    // ports
    (
        "indico/0",
        false,
        "open-port 8080-8090",
        1,
        "",
        "ERROR port ranges are not supported for k8s applications, please specify a single port\n",
    ),
    (
        "indico/0",
        false,
        "open-port 80/sctp",
        2,
        "",
        "ERROR invalid protocol \"sctp\", expected \"tcp\", \"udp\", or \"icmp\"\n",
    ),
    (
        "indico/0",
        false,
        "open-port 90-80",
        2,
        "",
        "ERROR invalid port range 90-80/tcp\n",
    ),
    (
        "indico/0",
        false,
        "open-port 70000",
        2,
        "",
        "ERROR port range bounds must be between 0 and 65535, got 70000-70000\n",
    ),
    (
        "indico/0",
        false,
        "open-port",
        2,
        "",
        "ERROR no port or range specified\n",
    ),
    (
        "indico/0",
        false,
        "opened-ports --format=json",
        0,
        "[]\n",
        "",
    ),
    // juju-log, actions outside actions
    (
        "indico/0",
        false,
        "juju-log",
        2,
        "",
        "ERROR no message specified\n",
    ),
    (
        "indico/0",
        false,
        "juju-log --log-level WARNING -- hello",
        0,
        "",
        "",
    ),
    (
        "indico/0",
        false,
        "action-get --format=json",
        1,
        "",
        "ERROR not running an action\n",
    ),
    (
        "indico/0",
        false,
        "action-set a=b",
        1,
        "",
        "ERROR not running an action\n",
    ),
    // secrets
    (
        "indico/0",
        false,
        "secret-ids --format=json",
        0,
        "null\n",
        "",
    ),
    (
        "indico/0",
        false,
        "secret-get",
        2,
        "",
        "ERROR require either a secret URI or label\n",
    ),
    (
        "indico/0",
        false,
        "secret-get --label=x --peek --refresh",
        2,
        "",
        "ERROR specify one of --peek or --refresh but not both\n",
    ),
    (
        "indico/0",
        false,
        "secret-get --label=x",
        1,
        "",
        "ERROR secret with label \"x\" not found\n",
    ),
    (
        "indico/0",
        false,
        "secret-get secret:nope",
        2,
        "",
        "ERROR secret URI \"secret:nope\" not valid\n",
    ),
    (
        "indico/0",
        false,
        "secret-add",
        2,
        "",
        "ERROR missing secret value or filename\n",
    ),
    (
        "indico/0",
        false,
        "secret-add --rotate=often key=value",
        2,
        "",
        "ERROR rotate policy \"often\" not valid\n",
    ),
    (
        "indico/0",
        false,
        "secret-add --owner=me key=value",
        2,
        "",
        "ERROR secret owner \"me\" not valid\n",
    ),
    (
        "indico/0",
        false,
        "secret-add --expire=-1h key=value",
        2,
        "",
        "ERROR negative expire duration \"-1h\" not valid\n",
    ),
    (
        "indico/0",
        false,
        "secret-add Key=value",
        2,
        "",
        "ERROR key \"Key\" not valid\n",
    ),
    (
        "indico/1",
        false,
        "secret-add key=value",
        1,
        "",
        "ERROR this unit is not the leader\n",
    ),
    (
        "indico/0",
        false,
        "secret-info-get",
        2,
        "",
        "ERROR require either a secret URI or label\n",
    ),
    (
        "indico/0",
        false,
        "secret-grant",
        2,
        "",
        "ERROR missing secret URI\n",
    ),
    // network-get, goal-state, unknown tool
    (
        "indico/0",
        false,
        "network-get",
        2,
        "",
        "ERROR no arguments specified\n",
    ),
    (
        "indico/0",
        false,
        "network-get nope",
        1,
        "",
        "ERROR undefined for unit charm: endpoint \"nope\" not valid\n",
    ),
    (
        "indico/0",
        false,
        "network-get database --primary-address --bind-address",
        1,
        "",
        "ERROR --primary-address must be the only flag specified\n",
    ),
    (
        "indico/0",
        false,
        "network-get database --ingress-address --format=json",
        0,
        "\"127.0.0.1\"\n",
        "",
    ),
    (
        "indico/0",
        false,
        "leader-set a=b",
        1,
        "",
        "ERROR bad request: unknown command: leader-set\n",
    ),
];

#[test]
fn every_row_of_the_contract_table() {
    let mut failures = Vec::new();
    for (unit, in_relation, line, code, stdout, stderr) in TABLE {
        let mut m = model();
        let info = if *in_relation {
            relation_hook("changed", Some("postgresql/0"))
        } else {
            HookInfo {
                hook_name: "config-changed".into(),
                ..HookInfo::default()
            }
        };
        let mut c = ctx(unit, info);
        let out = run(&mut c, &mut m, line);
        if out.code != *code || out.stdout_text() != *stdout || out.stderr_text() != *stderr {
            failures.push(format!(
                "{unit}: {line}\n  want {code} {stdout:?} {stderr:?}\n  got  {} {:?} {:?}",
                out.code,
                out.stdout_text(),
                out.stderr_text()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn relation_set_reads_its_own_writes_and_commits_only_when_asked() {
    let mut m = model();
    let before = m.clone();
    let mut c = ctx("indico/0", relation_hook("changed", Some("postgresql/0")));
    let stdin = r#"{"database": "indico", "requested-secrets": "[\"username\", \"password\"]", "blank": "  x  "}"#;
    let out = run_tool(
        &mut c,
        &mut m,
        &request("relation-set -r database:1 --app --file -", Some(stdin)),
    );
    assert_eq!(out.code, 0, "{}", out.stderr_text());
    assert_eq!(
        run(&mut c, &mut m, "relation-set -r 1 host=\t10.1.1.1\t").code,
        0
    );
    // Read-your-writes: the hook sees its pending bags...
    let own = run(
        &mut c,
        &mut m,
        "relation-get --format=json -r 1 --app - indico",
    );
    assert_eq!(
        own.stdout_text(),
        "{\"blank\":\"  x  \",\"database\":\"indico\",\"requested-secrets\":\"[\\\"username\\\", \\\"password\\\"]\"}\n"
    );
    let unit = run(
        &mut c,
        &mut m,
        "relation-get --format=json -r 1 host indico/0",
    );
    assert_eq!(
        unit.stdout_text(),
        "\"10.1.1.1\"\n",
        "positional values are trimmed"
    );
    // ...but the model does not, until commit.
    assert_eq!(m, before);
    // An empty value deletes.
    assert_eq!(
        run(&mut c, &mut m, "relation-set -r 1 --app blank=").code,
        0
    );
    let report = c.commit(&mut m);
    let rel = &m.relations[&1];
    assert_eq!(rel.app_bags["indico"].get("blank"), None);
    assert_eq!(rel.unit_bags["indico/0"]["host"], "10.1.1.1");
    assert!(
        report
            .changed_bags
            .contains(&(1, BagOwner::App("indico".into())))
    );
    assert!(
        report
            .changed_bags
            .contains(&(1, BagOwner::Unit("indico/0".into())))
    );
}

#[test]
fn a_dropped_context_changes_nothing_but_status_is_immediate() {
    let mut m = model();
    let mut c = ctx(
        "indico/0",
        HookInfo {
            hook_name: "start".into(),
            ..HookInfo::default()
        },
    );
    for line in [
        "relation-set -r 1 a=b",
        "state-set k=v",
        "open-port 8080",
        "secret-add --label=key value=abc",
        "status-set active -- ready",
        "application-version-set 3.2.9",
    ] {
        let out = run(&mut c, &mut m, line);
        assert_eq!(out.code, 0, "{line}: {}", out.stderr_text());
    }
    assert_eq!(run(&mut c, &mut m, "state-get k").stdout_text(), "v\n");
    // opened-ports does not show pending changes.
    assert_eq!(
        run(&mut c, &mut m, "opened-ports --format=json").stdout_text(),
        "[]\n"
    );
    drop(c); // the hook failed: nothing buffered is kept
    let unit = m.unit("indico/0").unwrap();
    assert!(unit.state.is_empty() && unit.ports.is_empty());
    assert!(m.secrets.is_empty());
    assert!(!m.relations[&1].unit_bags.contains_key("indico/0"));
    assert_eq!(unit.workload.current.status, "active");
    assert_eq!(unit.workload.current.message, "ready");
    assert_eq!(m.app("indico").unwrap().workload_version, "3.2.9");
}

#[test]
fn is_leader_false_sticks_for_the_hook() {
    let mut m = model();
    let mut c = ctx("indico/1", HookInfo::default());
    assert_eq!(
        run(&mut c, &mut m, "is-leader --format=json").stdout_text(),
        "false\n"
    );
    m.app_mut("indico").unwrap().leader = Some("indico/1".into());
    assert_eq!(
        run(&mut c, &mut m, "is-leader --format=json").stdout_text(),
        "false\n"
    );
    let mut fresh = ctx("indico/1", HookInfo::default());
    assert_eq!(
        run(&mut fresh, &mut m, "is-leader --format=json").stdout_text(),
        "true\n"
    );
}

#[test]
fn secrets_from_creation_to_grant_and_consumer_tracking() {
    let mut m = model();
    let mut c = ctx("indico/0", HookInfo::default());
    let mut req = request(
        "secret-add --label=db-creds --owner=application username#file=/tmp/u password#file=/tmp/p",
        None,
    );
    req.files.insert("/tmp/u".into(), b"indico".to_vec());
    req.files.insert("/tmp/p".into(), b"s3cr3t\n".to_vec());
    let out = run_tool(&mut c, &mut m, &req);
    assert_eq!(out.code, 0, "{}", out.stderr_text());
    let uri = out.stdout_text().trim().to_owned();
    assert!(uri.starts_with(&format!("secret://{}/", m.uuid)), "{uri}");
    // Read-your-writes inside the hook; file values keep their exact bytes.
    let got = run(&mut c, &mut m, &format!("secret-get {uri} --format=json"));
    assert_eq!(
        got.stdout_text(),
        "{\"password\":\"s3cr3t\\n\",\"username\":\"indico\"}\n"
    );
    let by_label = run(&mut c, &mut m, "secret-get --label=db-creds password");
    assert_eq!(
        by_label.stdout_text(),
        "|\n  s3cr3t\n",
        "default format is yaml"
    );
    let ids = run(&mut c, &mut m, "secret-ids --format=json").stdout_text();
    let xid = uri.rsplit('/').next().unwrap();
    assert_eq!(ids, format!("[\"{xid}\"]\n"));
    let info = run(
        &mut c,
        &mut m,
        &format!("secret-info-get {uri} --format=json"),
    )
    .stdout_text();
    assert_eq!(
        info,
        format!(
            "{{\"{xid}\":{{\"label\":\"db-creds\",\"owner\":\"application\",\"revision\":1}}}}\n"
        )
    );
    assert_eq!(
        run(&mut c, &mut m, &format!("secret-grant {uri} -r 1")).code,
        0
    );
    c.commit(&mut m);
    assert_eq!(m.secrets[xid].grants[0].target, "postgresql");

    // Another unit of the owner app reads it; a non-leader cannot change it.
    let mut other = ctx("indico/1", HookInfo::default());
    assert_eq!(
        run(&mut other, &mut m, &format!("secret-set {uri} password=x")).stderr_text(),
        "ERROR this unit is not the leader\n"
    );

    // A new revision: the owner sees it, a consumer keeps its tracked revision until
    // --refresh, --peek reads the latest once.
    m.secrets
        .get_mut(xid)
        .unwrap()
        .grants
        .push(indico_substrate::model::Grant {
            target: "indico".into(),
            relation_id: 0,
        });
    let mut owner = ctx("indico/0", HookInfo::default());
    assert_eq!(
        run(
            &mut owner,
            &mut m,
            &format!("secret-set {uri} password=two")
        )
        .code,
        0
    );
    let report = owner.commit(&mut m);
    assert!(report.new_revisions.contains(xid));
    assert_eq!(m.secrets[xid].latest(), 2);
}

#[test]
fn consumers_track_a_revision_until_refresh() {
    let mut m = model();
    // postgresql owns a secret granted to indico.
    let mut secret = indico_substrate::model::Secret {
        xid: "cn7gu0mdsd8c7ag2nmv0".into(),
        owner: indico_substrate::model::SecretOwner::Application("postgresql".into()),
        label: None,
        description: None,
        rotate: None,
        expire: None,
        revisions: BTreeMap::from([(
            1,
            BTreeMap::from([("password".to_owned(), "b25l".to_owned())]),
        )]),
        grants: vec![indico_substrate::model::Grant {
            target: "indico".into(),
            relation_id: 1,
        }],
        consumers: BTreeMap::new(),
    };
    m.secrets.insert(secret.xid.clone(), secret.clone());
    let uri = "secret:cn7gu0mdsd8c7ag2nmv0";
    let mut c = ctx("indico/0", HookInfo::default());
    assert_eq!(
        run(
            &mut c,
            &mut m,
            &format!("secret-get {uri} password --label=db")
        )
        .stdout_text(),
        "one\n"
    );
    c.commit(&mut m);
    secret = m.secrets[&secret.xid].clone();
    secret.revisions.insert(
        2,
        BTreeMap::from([("password".to_owned(), "dHdv".to_owned())]),
    );
    m.secrets.insert(secret.xid.clone(), secret);
    let mut c = ctx("indico/0", HookInfo::default());
    assert_eq!(
        run(&mut c, &mut m, "secret-get --label=db password").stdout_text(),
        "one\n"
    );
    assert_eq!(
        run(&mut c, &mut m, "secret-get --label=db password --peek").stdout_text(),
        "two\n"
    );
    assert_eq!(
        run(&mut c, &mut m, "secret-get --label=db password").stdout_text(),
        "one\n"
    );
    assert_eq!(
        run(&mut c, &mut m, "secret-get --label=db password --refresh").stdout_text(),
        "two\n"
    );
    assert_eq!(
        run(&mut c, &mut m, "secret-get --label=db password").stdout_text(),
        "two\n"
    );
    // A unit of an application without a grant is refused.
    let mut stranger_model = m.clone();
    stranger_model
        .secrets
        .values_mut()
        .for_each(|s| s.grants.clear());
    let mut s = ctx("indico/1", HookInfo::default());
    assert_eq!(
        run(&mut s, &mut stranger_model, &format!("secret-get {uri}")).stderr_text(),
        "ERROR permission denied\n"
    );
}

#[test]
fn actions_get_params_and_collect_nested_results() {
    let mut m = model();
    m.actions.insert(
        7,
        ActionRecord {
            id: 7,
            unit: "indico/0".into(),
            name: "add-admin".into(),
            params: BTreeMap::from([("email".into(), serde_json::json!("a@b.c"))]),
            status: "running".into(),
            message: String::new(),
            results: BTreeMap::new(),
            log: Vec::new(),
        },
    );
    let info = HookInfo {
        action: Some(ActionInfo {
            id: 7,
            name: "add-admin".into(),
        }),
        ..HookInfo::default()
    };
    let mut c = ctx("indico/0", info);
    assert_eq!(
        run(&mut c, &mut m, "action-get --format=json").stdout_text(),
        "{\"email\":\"a@b.c\"}\n"
    );
    assert_eq!(
        run(&mut c, &mut m, "action-get email").stdout_text(),
        "a@b.c\n"
    );
    assert_eq!(
        run(&mut c, &mut m, "action-get nope --format=json").stdout_text(),
        "null\n"
    );
    assert_eq!(
        run(
            &mut c,
            &mut m,
            "action-set user.email=a@b.c user.id=1 output=done"
        )
        .code,
        0
    );
    assert_eq!(
        run(&mut c, &mut m, "action-set stdout=x").stderr_text(),
        "ERROR cannot set reserved action key \"stdout\"\n"
    );
    assert_eq!(run(&mut c, &mut m, "action-set Bad=x").code, 2);
    assert_eq!(
        run(&mut c, &mut m, "action-set noequals").stderr_text(),
        "ERROR argument \"noequals\" must be of the form key...=value\n"
    );
    assert_eq!(run(&mut c, &mut m, "action-log working on it").code, 0);
    assert_eq!(run(&mut c, &mut m, "action-fail").code, 0);
    assert_eq!(
        c.action_results["user"],
        serde_json::json!({"email": "a@b.c", "id": "1"})
    );
    assert_eq!(
        c.action_failed.as_deref(),
        Some("action failed without reason given, check action for errors")
    );
    assert_eq!(m.actions[&7].log, ["working on it"]);
}

#[test]
fn an_injected_fault_fails_one_call_with_exit_1() {
    let mut m = model();
    m.faults.push(indico_substrate::model::Fault {
        tool: "relation-get".into(),
        unit: Some("indico/0".into()),
        count: 1,
    });
    let mut c = ctx("indico/0", relation_hook("changed", Some("postgresql/0")));
    let first = run(&mut c, &mut m, "relation-get --format=json");
    assert_eq!(
        (first.code, first.stderr_text().as_str()),
        (1, "ERROR injected fault: relation-get\n")
    );
    assert_eq!(run(&mut c, &mut m, "relation-get --format=json").code, 0);
    assert!(m.faults.is_empty());
}

#[test]
fn relation_ids_leaves_out_the_broken_relation_and_logs_carry_the_relation() {
    let mut m = model();
    let mut info = relation_hook("broken", None);
    info.broken = true;
    info.remote_app = Some("postgresql".into());
    let mut c = ctx("indico/0", info);
    assert_eq!(
        run(&mut c, &mut m, "relation-ids database --format=json").stdout_text(),
        "[]\n"
    );
    run(&mut c, &mut m, "juju-log -l debug -- bye");
    let logs = c.take_logs();
    assert_eq!(logs[0].level, "DEBUG");
    assert_eq!(logs[0].message, "database:1: bye");
}
