//! Logging: `tracing` events go to `juju-log` at the matching level under Juju (when
//! `JUJU_CONTEXT_ID` is set), and to stderr otherwise.
//!
//! Each forwarded event costs one `juju-log` process, so events are filtered by level
//! *before* formatting (default INFO): a no-op hook's debug lines cost nothing.
//!
//! Rule: never log a secret. Nothing here can tell a password from a host name; the
//! types that carry secrets ([`crate::SecretContent`], [`crate::ActionParams`]) redact
//! their `Debug`, and relation databags must not be logged by value.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::path::PathBuf;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

use crate::error::LoggingError;
use crate::hook_tools::{HookTools, LogLevel, ProcessHookTools};

/// The environment variable whose presence means "running under Juju" (the hook tools
/// need it, so without it `juju-log` cannot work).
pub const CONTEXT_ID_VAR: &str = "JUJU_CONTEXT_ID";

/// The default level: INFO and above are forwarded.
pub const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;

/// The `juju-log` level for a `tracing` level (`WARN` is loggo's `WARNING`).
pub fn juju_level(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warning,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

thread_local! {
    /// Set while this thread is forwarding an event, so that events emitted by the
    /// forwarding itself (the hook-tool runner traces) are not forwarded again.
    static FORWARDING: Cell<bool> = const { Cell::new(false) };
}

/// A `tracing` layer that sends each event to `juju-log --log-level <LEVEL> -- <msg>`.
/// The message is the event's `message` followed by its other fields as `name=value`.
/// If `juju-log` fails, the line goes to stderr instead (Juju records a charm's stderr
/// as WARNING), so nothing is lost silently.
#[derive(Debug, Clone, Default)]
pub struct JujuLogLayer {
    tools: ProcessHookTools,
}

impl JujuLogLayer {
    /// A layer running `juju-log` from `tools_dir`, or from `PATH` when `None`.
    pub fn new(tools_dir: Option<PathBuf>) -> Self {
        Self {
            tools: ProcessHookTools::new(tools_dir),
        }
    }
}

impl<S: Subscriber> Layer<S> for JujuLogLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if FORWARDING.with(|f| f.replace(true)) {
            return;
        }
        let mut line = LineVisitor::default();
        event.record(&mut line);
        let level = juju_level(event.metadata().level());
        if let Err(e) = self.tools.juju_log(level, &line.finish()) {
            // The line itself is already lost to juju-log; say why on stderr, with the
            // line, which Juju keeps at WARNING.
            eprintln!("juju-log failed ({e}): {} {}", level, line.finish());
        }
        FORWARDING.with(|f| f.set(false));
    }
}

/// Formats an event as `message key=value key2=value2`.
#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: String,
}

impl LineVisitor {
    fn finish(&self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message.clone(),
            (true, false) => self.fields.clone(),
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for LineVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            // Writing to a String cannot fail.
            let _ = write!(self.message, "{value:?}");
        } else {
            if !self.fields.is_empty() {
                self.fields.push(' ');
            }
            let _ = write!(self.fields, "{}={value:?}", field.name());
        }
    }
}

/// The subscriber [`init_logging`] installs: [`JujuLogLayer`] when `under_juju`, a
/// plain stderr formatter otherwise, both filtered at `level`.
pub fn subscriber(
    under_juju: bool,
    level: LevelFilter,
    tools_dir: Option<PathBuf>,
) -> Box<dyn Subscriber + Send + Sync> {
    let registry = tracing_subscriber::registry();
    if under_juju {
        Box::new(registry.with(JujuLogLayer::new(tools_dir).with_filter(level)))
    } else {
        Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(level),
            ),
        )
    }
}

/// Installs the global `tracing` subscriber for a dispatch: `juju-log` at `level` when
/// `JUJU_CONTEXT_ID` is set, stderr otherwise. Call once, first thing in `main`.
pub fn init_logging(level: LevelFilter) -> Result<(), LoggingError> {
    let under_juju = std::env::var_os(CONTEXT_ID_VAR).is_some();
    tracing::subscriber::set_global_default(subscriber(under_juju, level, None))?;
    Ok(())
}
