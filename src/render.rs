//! Rendering the configuration files the charm pushes (nginx.conf, the uWSGI ini) from the
//! Jinja templates under `files/`, embedded in the binary so the charm is self-contained.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use thiserror::Error;

const NGINX_CONF: (&str, &str) = (
    "nginx.conf.j2",
    include_str!("../files/nginx/nginx.conf.j2"),
);
const UWSGI_INI: (&str, &str) = (
    "indico.ini.j2",
    include_str!("../files/uwsgi/indico.ini.j2"),
);

/// A template failed to render (a bug in a template or its context, never user input).
#[derive(Debug, Error)]
#[error("cannot render {template}: {source}")]
pub struct RenderError {
    /// The template name.
    pub template: &'static str,
    /// What minijinja reported.
    #[source]
    pub source: minijinja::Error,
}

/// Values of the nginx.conf template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NginxContext {
    /// Send HSTS (the public site is https).
    pub site_https: bool,
    /// Where the image keeps Indico's static files.
    pub static_dir: String,
    /// uWSGI's address, `host:port`.
    pub upstream: String,
    /// The web port (IPv4 and IPv6).
    pub web_port: u16,
    /// The loopback-only stub_status port.
    pub status_port: u16,
}

/// Values of the uWSGI ini template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UwsgiContext {
    /// `host:port` of the http socket.
    pub http_socket: String,
    /// Worker processes.
    pub processes: u32,
    /// Threads per worker.
    pub threads: u32,
    /// The Python virtualenv holding Indico.
    pub venv: String,
    /// Indico's WSGI entry point file.
    pub wsgi_file: String,
    /// Touching this file reloads the workers.
    pub reload_file: String,
    /// Seconds before a request is killed.
    pub harakiri: u32,
    /// Requests before a worker is recycled.
    pub max_requests: u32,
    /// Worker `i` is recycled after `max_requests + i * max_requests_delta` requests, so
    /// the workers never reload (and stop answering) all at once.
    pub max_requests_delta: u32,
    /// RSS (MiB) above which a worker is reloaded gracefully.
    pub reload_on_rss_mb: u32,
    /// RSS (MiB) above which a worker is killed.
    pub evil_reload_on_rss_mb: u32,
    /// Request header buffer (bytes).
    pub buffer_size: u32,
}

fn render(
    template: (&'static str, &'static str),
    context: impl Serialize,
) -> Result<String, RenderError> {
    let mut env = Environment::new();
    // A missing context value is a bug: fail loudly instead of rendering an empty string.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let error = |source| RenderError {
        template: template.0,
        source,
    };
    env.add_template(template.0, template.1).map_err(error)?;
    env.get_template(template.0)
        .and_then(|t| t.render(context))
        .map_err(error)
}

/// Renders `/etc/nginx/nginx.conf`.
pub fn nginx_conf(context: &NginxContext) -> Result<String, RenderError> {
    render(NGINX_CONF, context)
}

/// Renders the uWSGI ini.
pub fn uwsgi_ini(context: &UwsgiContext) -> Result<String, RenderError> {
    render(UWSGI_INI, context)
}

#[cfg(test)]
mod tests;
