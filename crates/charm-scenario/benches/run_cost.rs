//! Prints what one in-memory dispatch costs (no assertions): a charm that only sets a
//! status, and one that reads config and two relations, adds a layer to a container and
//! replans (first run) or finds nothing to do (repeat run).

use std::hint::black_box;
use std::time::{Duration, Instant};

use charm_scenario::{
    CharmFailure, CharmSpec, Container, Context, HookRun, Relation, ScenarioEvent, State,
};
use juju_runtime::{Bag, HookTools, RelationId, Scope, Status};
use pebble_client::{Layer, Pebble};

const METADATA: &str = "name: bench\ncontainers: {web: {resource: img}}\nrequires:\n  db: {interface: pgsql}\n  cache: {interface: redis}\n";
const CONFIG: &str = "options: {port: {type: int, default: 8080}}\n";
const LAYER: &str = "services: {web: {override: replace, command: /bin/web, startup: enabled}}\n";

fn fail(e: impl std::fmt::Display) -> CharmFailure {
    CharmFailure::from_error(&e)
}

fn status_only(run: &HookRun<'_>) -> Result<(), CharmFailure> {
    run.hook_tools()
        .status_set(Scope::Unit, &Status::Active)
        .map_err(fail)
}

fn reconcile(run: &HookRun<'_>) -> Result<(), CharmFailure> {
    let tools = run.hook_tools();
    tools.config_get().map_err(fail)?;
    for (endpoint, id, app) in [("db", 1, "postgresql"), ("cache", 2, "redis")] {
        tools
            .relation_get(&RelationId::new(endpoint, id), &Bag::App(app.into()))
            .map_err(fail)?;
    }
    let layer = Layer::from_yaml(LAYER).map_err(fail)?;
    let pebble = run.pebble("web");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(fail)?;
    runtime
        .block_on(async {
            if !pebble.plan().await?.satisfies(&layer) {
                pebble.add_layer("bench", &layer, true).await?;
                pebble.replan().await?;
            }
            Ok::<_, pebble_client::Error>(())
        })
        .map_err(fail)?;
    tools.status_set(Scope::Unit, &Status::Active).map_err(fail)
}

fn measure(name: &str, iterations: u32, mut f: impl FnMut()) {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per_run: Duration = start.elapsed() / iterations;
    println!("{name:<40} {per_run:>12.2?} per run ({iterations} runs)");
}

fn main() {
    let spec = CharmSpec::parse(METADATA, Some(CONFIG), None).expect("bench metadata");
    let state = State::new()
        .with_relation(Relation::new("db", 1, "postgresql").with_remote_app_data([("k", "v")]))
        .with_relation(Relation::new("cache", 2, "redis"))
        .with_container("web", Container::new());

    let ctx = Context::new(spec.clone(), status_only);
    measure("status-set only", 2000, || {
        black_box(
            ctx.run(ScenarioEvent::update_status(), state.clone())
                .expect("run"),
        );
    });

    let ctx = Context::new(spec, reconcile);
    measure("reconcile, first run (add layer, replan)", 1000, || {
        black_box(
            ctx.run(ScenarioEvent::config_changed(), state.clone())
                .expect("run"),
        );
    });
    let converged = ctx
        .run(ScenarioEvent::config_changed(), state.clone())
        .expect("run")
        .state;
    measure("reconcile, repeat run (nothing to do)", 1000, || {
        black_box(
            ctx.run(ScenarioEvent::update_status(), converged.clone())
                .expect("run"),
        );
    });
}
