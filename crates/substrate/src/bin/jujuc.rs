//! `jujuc`: the hook-tool client, one binary linked under every tool name in the unit's
//! tools directory (`/var/lib/juju/tools/unit-<app>-<n>/relation-get -> jujuc`), as in
//! Juju. It picks the tool from `basename(argv[0])` (or the first argument when run as
//! `jujuc`), sends the call to the unit agent over `JUJU_AGENT_SOCKET_ADDRESS` for
//! context `JUJU_CONTEXT_ID`, then prints the agent's stdout and stderr bytes and exits
//! with its code. All parsing and checking happens in the agent.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use indico_substrate::agent::{RUN_DISPATCH_FLAG, decode_env};
use indico_substrate::hook_tools::{ToolRequest, server};

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "ERROR {message}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let mut argv = std::env::args_os();
    let program = argv.next().unwrap_or_default();
    let mut tool = Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut args = Vec::new();
    for arg in argv {
        match arg.into_string() {
            Ok(text) => args.push(text),
            Err(bad) => return fail(&format!("argument {bad:?} is not valid UTF-8")),
        }
    }
    if tool == "jujuc" && args.first().map(String::as_str) == Some(RUN_DISPATCH_FLAG) {
        return run_dispatch(&args[1..]);
    }
    if tool == "jujuc" {
        if args.is_empty() {
            return fail(
                "usage: jujuc <command> [args...], or run it through a link named after the command",
            );
        }
        tool = args.remove(0);
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(context_id) = env("JUJU_CONTEXT_ID") else {
        return fail("JUJU_CONTEXT_ID not set");
    };
    let Some(socket) = env("JUJU_AGENT_SOCKET_ADDRESS") else {
        return fail("JUJU_AGENT_SOCKET_ADDRESS not set");
    };
    match env("JUJU_AGENT_SOCKET_NETWORK").as_deref() {
        Some("unix") => {}
        Some(other) => return fail(&format!("unsupported agent socket network {other:?}")),
        None => return fail("JUJU_AGENT_SOCKET_NETWORK not set"),
    }
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stdin = if ToolRequest::wants_stdin(&args) {
        let mut buf = Vec::new();
        if let Err(err) = std::io::stdin().read_to_end(&mut buf) {
            return fail(&format!("reading stdin: {err}"));
        }
        Some(buf)
    } else {
        None
    };
    // Files the call names are read here, where the charm's filesystem is; the agent
    // reports a missing one as the tool would.
    let files = ToolRequest::named_files(&args)
        .into_iter()
        .filter_map(|path| {
            let full = ToolRequest::resolve(&cwd, &path);
            std::fs::read(full).ok().map(|bytes| (path, bytes))
        })
        .collect();
    let request = ToolRequest {
        context_id,
        tool,
        args,
        cwd,
        stdin,
        files,
    };
    let response = match server::call(Path::new(&socket), &request) {
        Ok(response) => response,
        Err(err) => return fail(&format!("cannot reach the unit agent at {socket}: {err}")),
    };
    let _ = std::io::stdout().write_all(&response.stdout);
    let _ = std::io::stderr().write_all(&response.stderr);
    let _ = std::io::stdout().flush();
    ExitCode::from(u8::try_from(response.code).unwrap_or(1))
}

/// `jujuc --run-dispatch <path>`: the unit agent's launcher inside the charm container.
/// Reads the hook environment (NUL-separated `KEY=VALUE`) from stdin, then replaces
/// itself with `<path>`: environment exactly that, stdin `/dev/null`, no arguments.
fn run_dispatch(args: &[String]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let [program] = args else {
        return fail("usage: jujuc --run-dispatch <dispatch path>");
    };
    let mut bytes = Vec::new();
    if let Err(err) = std::io::stdin().read_to_end(&mut bytes) {
        return fail(&format!("reading the hook environment: {err}"));
    }
    let env = match decode_env(&bytes) {
        Ok(env) => env,
        Err(err) => return fail(&err),
    };
    let err = std::process::Command::new(program)
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::null())
        .exec();
    fail(&format!("cannot run {program}: {err}"))
}
