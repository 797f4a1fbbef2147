//! The hook environment Juju sets for `dispatch`, parsed into a [`JujuContext`]: who
//! this unit is, where the charm lives, the model's proxy settings, and the [`Event`].
//!
//! Juju's side is `docs/juju-contract.md` §1.2 and §1.3. Parsing is strict where Juju is
//! exact (a missing or malformed variable is an error naming it) and lenient where Juju
//! is (empty strings mean "absent", as in ops). An unknown hook name is not an error:
//! it becomes [`Event::Unknown`], which the charm ignores with exit 0.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::ContextError;
use crate::event::{
    ActionEvent, Event, PebbleNotice, RelationEvent, RelationEventKind, SecretEvent,
    SecretEventKind, StorageEvent, StorageEventKind, WorkloadEvent, WorkloadEventKind,
};
use crate::names::{RelationId, SecretUri, UnitName};

/// Everything a charm learns from its environment at the start of a dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JujuContext {
    /// `JUJU_UNIT_NAME`, e.g. `indico/0`.
    pub unit: UnitName,
    /// The application, from the unit name.
    pub app: String,
    /// `JUJU_MODEL_NAME`.
    pub model_name: String,
    /// `JUJU_MODEL_UUID`.
    pub model_uuid: String,
    /// `JUJU_VERSION`.
    pub juju_version: JujuVersion,
    /// `JUJU_CHARM_DIR`: where metadata.yaml and the charm's files are.
    pub charm_dir: PathBuf,
    /// The model's proxy settings for the workload (`JUJU_CHARM_*_PROXY`).
    pub proxy: ProxySettings,
    /// What this dispatch is for.
    pub event: Event,
}

/// The model's `juju-http-proxy` & co., as Juju exports them to the charm. Each is the
/// raw string; an empty or unset variable is `None`. Validation is the charm's job
/// (an invalid proxy is a Blocked status, not a hook failure).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// `JUJU_CHARM_HTTP_PROXY`.
    pub http: Option<String>,
    /// `JUJU_CHARM_HTTPS_PROXY`.
    pub https: Option<String>,
    /// `JUJU_CHARM_FTP_PROXY`.
    pub ftp: Option<String>,
    /// `JUJU_CHARM_NO_PROXY`.
    pub no_proxy: Option<String>,
}

/// A Juju version: `3.6.0`, `3.6-rc1`, `3.6.1.2` (with a build number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JujuVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version (0 for tagged pre-releases such as `3.6-rc1`).
    pub patch: u32,
    /// Pre-release tag and its number, e.g. `("rc", 1)` for `3.6-rc1`.
    pub tag: Option<(String, u32)>,
    /// Build number, 0 when absent.
    pub build: u32,
}

impl JujuVersion {
    /// Whether this version is at least `major.minor.patch` (a pre-release of
    /// `major.minor` counts as before `major.minor.0`).
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        let released = u32::from(self.tag.is_none());
        (self.major, self.minor, self.patch, released) >= (major, minor, patch, 1)
    }
}

impl FromStr for JujuVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |part: &str| {
            part.parse::<u32>()
                .map_err(|_| format!("{part:?} is not a number"))
        };
        let (main, tag) = match s.split_once('-') {
            Some((main, rest)) => (main, Some(rest)),
            None => (s, None),
        };
        let mut parts = main.split('.');
        let major = number(parts.next().unwrap_or_default())?;
        let minor = number(parts.next().ok_or("expected <major>.<minor>")?)?;
        let (patch, tag, build) = match tag {
            None => (
                parts.next().map(number).transpose()?.unwrap_or(0),
                None,
                parts.next().map(number).transpose()?.unwrap_or(0),
            ),
            Some(rest) => {
                // `3.6-rc1` or `3.6-beta2.1`: the tag, its number, then an optional build.
                let (tag, tag_build) = match rest.split_once('.') {
                    Some((tag, b)) => (tag, Some(b)),
                    None => (rest, None),
                };
                let digits_at = tag
                    .find(|c: char| c.is_ascii_digit())
                    .ok_or("the pre-release tag has no number")?;
                let (name, n) = tag.split_at(digits_at);
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase()) {
                    return Err(format!("{tag:?} is not a pre-release tag"));
                }
                let build = tag_build.map(number).transpose()?.unwrap_or(0);
                (0, Some((name.to_owned(), number(n)?)), build)
            }
        };
        if parts.next().is_some() {
            return Err("too many version components".to_owned());
        }
        Ok(Self {
            major,
            minor,
            patch,
            tag,
            build,
        })
    }
}

impl fmt::Display for JujuVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some((tag, n)) => write!(f, "{}.{}-{tag}{n}", self.major, self.minor)?,
            None => write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?,
        }
        if self.build != 0 {
            write!(f, ".{}", self.build)?;
        }
        Ok(())
    }
}

/// The environment being parsed: a snapshot of the variables.
struct Vars(BTreeMap<String, String>);

impl Vars {
    /// The raw value, `None` if unset.
    fn raw(&self, var: &'static str) -> Option<&str> {
        self.0.get(var).map(String::as_str)
    }

    /// The value; unset is an error.
    fn present(&self, var: &'static str) -> Result<&str, ContextError> {
        self.raw(var).ok_or(ContextError::Missing { var })
    }

    /// The value; unset or empty is an error (Juju always fills it).
    fn required(&self, var: &'static str) -> Result<&str, ContextError> {
        match self.present(var)? {
            "" => Err(malformed(var, "", "is empty")),
            value => Ok(value),
        }
    }

    /// The value, with unset and empty both meaning `None`.
    fn optional(&self, var: &'static str) -> Option<&str> {
        self.raw(var).filter(|v| !v.is_empty())
    }

    /// A required value parsed with `FromStr`.
    fn parsed<T: FromStr>(&self, var: &'static str) -> Result<T, ContextError>
    where
        T::Err: fmt::Display,
    {
        let value = self.required(var)?;
        value
            .parse()
            .map_err(|e: T::Err| malformed(var, value, e.to_string()))
    }

    /// An optional unit name.
    fn optional_unit(&self, var: &'static str) -> Result<Option<UnitName>, ContextError> {
        self.optional(var)
            .map(|value| {
                value
                    .parse()
                    .map_err(|e: crate::names::InvalidName| malformed(var, value, e.reason))
            })
            .transpose()
    }
}

fn malformed(var: &'static str, value: &str, reason: impl Into<String>) -> ContextError {
    ContextError::Malformed {
        var,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

impl JujuContext {
    /// Parses this process's environment (what Juju set for `dispatch`).
    pub fn from_env() -> Result<Self, ContextError> {
        // Non-UTF-8 variables are skipped; none of Juju's are.
        Self::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Parses a recorded environment (e.g. from a test, or a harness that imitates Juju).
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ContextError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = Vars(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        let unit: UnitName = vars.parsed("JUJU_UNIT_NAME")?;
        let juju_version = vars.parsed("JUJU_VERSION")?;
        let model_name = vars.required("JUJU_MODEL_NAME")?.to_owned();
        let model_uuid = vars.required("JUJU_MODEL_UUID")?.to_owned();
        let charm_dir = PathBuf::from(vars.required("JUJU_CHARM_DIR")?);
        let proxy = ProxySettings {
            http: vars.optional("JUJU_CHARM_HTTP_PROXY").map(str::to_owned),
            https: vars.optional("JUJU_CHARM_HTTPS_PROXY").map(str::to_owned),
            ftp: vars.optional("JUJU_CHARM_FTP_PROXY").map(str::to_owned),
            no_proxy: vars.optional("JUJU_CHARM_NO_PROXY").map(str::to_owned),
        };
        let event = parse_event(&vars)?;
        Ok(Self {
            app: unit.app().to_owned(),
            unit,
            model_name,
            model_uuid,
            juju_version,
            charm_dir,
            proxy,
            event,
        })
    }
}

/// Finds the event from `JUJU_DISPATCH_PATH` (authoritative, as in ops) and checks
/// `JUJU_HOOK_NAME` against it, then reads the event's own variables.
fn parse_event(vars: &Vars) -> Result<Event, ContextError> {
    const DISPATCH: &str = "JUJU_DISPATCH_PATH";
    const HOOK_NAME: &str = "JUJU_HOOK_NAME";
    let path = vars.required(DISPATCH)?;
    let hook_name = vars.present(HOOK_NAME)?;
    let (dir, name) = path
        .split_once('/')
        .ok_or_else(|| malformed(DISPATCH, path, "expected hooks/<name> or actions/<name>"))?;
    if name.is_empty() || name.contains('/') {
        return Err(malformed(
            DISPATCH,
            path,
            "expected hooks/<name> or actions/<name>",
        ));
    }
    match dir {
        "actions" => {
            if !hook_name.is_empty() {
                return Err(malformed(
                    HOOK_NAME,
                    hook_name,
                    "must be empty for an action",
                ));
            }
            parse_action(vars, name)
        }
        "hooks" => {
            if hook_name != name {
                return Err(malformed(
                    HOOK_NAME,
                    hook_name,
                    format!("does not match {DISPATCH} {path:?}"),
                ));
            }
            parse_hook(vars, name)
        }
        _ => Err(malformed(
            DISPATCH,
            path,
            "expected hooks/<name> or actions/<name>",
        )),
    }
}

fn parse_action(vars: &Vars, name: &str) -> Result<Event, ContextError> {
    const ACTION_NAME: &str = "JUJU_ACTION_NAME";
    let action_name = vars.required(ACTION_NAME)?;
    if action_name != name {
        return Err(malformed(
            ACTION_NAME,
            action_name,
            format!("does not match JUJU_DISPATCH_PATH actions/{name}"),
        ));
    }
    Ok(Event::Action(ActionEvent {
        name: action_name.to_owned(),
        id: vars.required("JUJU_ACTION_UUID")?.to_owned(),
    }))
}

fn parse_hook(vars: &Vars, name: &str) -> Result<Event, ContextError> {
    let simple = match name {
        "install" => Some(Event::Install),
        "start" => Some(Event::Start),
        "stop" => Some(Event::Stop),
        "remove" => Some(Event::Remove),
        "upgrade-charm" => Some(Event::UpgradeCharm),
        "config-changed" => Some(Event::ConfigChanged),
        "update-status" => Some(Event::UpdateStatus),
        "leader-elected" => Some(Event::LeaderElected),
        "leader-settings-changed" => Some(Event::LeaderSettingsChanged),
        _ => None,
    };
    if let Some(event) = simple {
        return Ok(event);
    }
    if let Some(kind) = secret_kind(name) {
        return parse_secret(vars, kind);
    }
    for kind in RelationEventKind::ALL {
        if let Some(endpoint) = prefix_before(name, kind.suffix()) {
            return parse_relation(vars, endpoint, kind).map(Event::Relation);
        }
    }
    for suffix in [
        "pebble-ready",
        "pebble-custom-notice",
        "pebble-check-failed",
        "pebble-check-recovered",
    ] {
        if let Some(container) = prefix_before(name, suffix) {
            return parse_workload(vars, container, suffix).map(Event::Workload);
        }
    }
    for kind in [StorageEventKind::Attached, StorageEventKind::Detaching] {
        if let Some(storage) = prefix_before(name, kind.suffix()) {
            return parse_storage(vars, storage, kind).map(Event::Storage);
        }
    }
    tracing::warn!(hook = name, "unknown hook; nothing to do");
    Ok(Event::Unknown(name.to_owned()))
}

/// `name` minus `-<suffix>`, if it ends so and something is left.
fn prefix_before<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    name.strip_suffix(suffix)?
        .strip_suffix('-')
        .filter(|p| !p.is_empty())
}

/// The secret hook kinds, without their revision (read later).
fn secret_kind(name: &str) -> Option<&'static str> {
    [
        "secret-changed",
        "secret-rotate",
        "secret-expired",
        "secret-remove",
    ]
    .into_iter()
    .find(|k| *k == name)
}

fn parse_secret(vars: &Vars, hook: &str) -> Result<Event, ContextError> {
    let uri: SecretUri = vars.parsed("JUJU_SECRET_ID")?;
    let label = vars.optional("JUJU_SECRET_LABEL").map(str::to_owned);
    let revision = || -> Result<u64, ContextError> {
        const VAR: &str = "JUJU_SECRET_REVISION";
        let value = vars.required(VAR)?;
        match value.parse::<u64>() {
            Ok(r) if r > 0 => Ok(r),
            _ => Err(malformed(VAR, value, "expected a positive integer")),
        }
    };
    let kind = match hook {
        "secret-changed" => SecretEventKind::Changed,
        "secret-rotate" => SecretEventKind::Rotate,
        "secret-expired" => SecretEventKind::Expired {
            revision: revision()?,
        },
        _ => SecretEventKind::Remove {
            revision: revision()?,
        },
    };
    Ok(Event::Secret(SecretEvent { kind, uri, label }))
}

fn parse_relation(
    vars: &Vars,
    endpoint: &str,
    kind: RelationEventKind,
) -> Result<RelationEvent, ContextError> {
    const RELATION: &str = "JUJU_RELATION";
    const RELATION_ID: &str = "JUJU_RELATION_ID";
    let relation_name = vars.required(RELATION)?;
    if relation_name != endpoint {
        return Err(malformed(
            RELATION,
            relation_name,
            format!("does not match the hook's endpoint {endpoint:?}"),
        ));
    }
    let relation: RelationId = vars.parsed(RELATION_ID)?;
    if relation.endpoint != endpoint {
        return Err(malformed(
            RELATION_ID,
            &relation.to_string(),
            format!("does not match the hook's endpoint {endpoint:?}"),
        ));
    }
    // Juju exports JUJU_REMOTE_UNIT and JUJU_REMOTE_APP for every relation hook, empty
    // when there is none; joined and departed always have a remote unit.
    vars.present("JUJU_REMOTE_UNIT")?;
    vars.present("JUJU_REMOTE_APP")?;
    let remote_unit = match kind {
        RelationEventKind::Joined | RelationEventKind::Departed => {
            Some(vars.parsed::<UnitName>("JUJU_REMOTE_UNIT")?)
        }
        _ => vars.optional_unit("JUJU_REMOTE_UNIT")?,
    };
    let departing_unit = match kind {
        RelationEventKind::Departed => Some(vars.parsed::<UnitName>("JUJU_DEPARTING_UNIT")?),
        _ => None,
    };
    let remote_app = match vars.optional("JUJU_REMOTE_APP") {
        Some(app) if crate::names::is_valid_application_name(app) => Some(app.to_owned()),
        Some(app) => {
            return Err(malformed(
                "JUJU_REMOTE_APP",
                app,
                "is not a valid application name",
            ));
        }
        None => remote_unit.as_ref().map(|u| u.app().to_owned()),
    };
    Ok(RelationEvent {
        kind,
        relation,
        remote_app,
        remote_unit,
        departing_unit,
    })
}

fn parse_workload(
    vars: &Vars,
    container: &str,
    suffix: &str,
) -> Result<WorkloadEvent, ContextError> {
    const WORKLOAD: &str = "JUJU_WORKLOAD_NAME";
    let workload = vars.required(WORKLOAD)?;
    if workload != container {
        return Err(malformed(
            WORKLOAD,
            workload,
            format!("does not match the hook's container {container:?}"),
        ));
    }
    let check_name = || vars.required("JUJU_PEBBLE_CHECK_NAME").map(str::to_owned);
    let kind = match suffix {
        "pebble-ready" => WorkloadEventKind::PebbleReady,
        "pebble-custom-notice" => WorkloadEventKind::CustomNotice(PebbleNotice {
            id: vars.required("JUJU_NOTICE_ID")?.to_owned(),
            notice_type: vars.required("JUJU_NOTICE_TYPE")?.to_owned(),
            key: vars.required("JUJU_NOTICE_KEY")?.to_owned(),
        }),
        "pebble-check-failed" => WorkloadEventKind::CheckFailed {
            check_name: check_name()?,
        },
        _ => WorkloadEventKind::CheckRecovered {
            check_name: check_name()?,
        },
    };
    Ok(WorkloadEvent {
        container: container.to_owned(),
        kind,
    })
}

fn parse_storage(
    vars: &Vars,
    storage: &str,
    kind: StorageEventKind,
) -> Result<StorageEvent, ContextError> {
    const STORAGE_ID: &str = "JUJU_STORAGE_ID";
    let storage_id = vars.required(STORAGE_ID)?;
    let matches = storage_id
        .split_once('/')
        .is_some_and(|(name, n)| name == storage && n.parse::<u32>().is_ok());
    if !matches {
        return Err(malformed(
            STORAGE_ID,
            storage_id,
            format!("expected {storage}/<number>"),
        ));
    }
    Ok(StorageEvent {
        kind,
        storage_name: storage.to_owned(),
        storage_id: storage_id.to_owned(),
        location: vars.optional("JUJU_STORAGE_LOCATION").map(str::to_owned),
    })
}
