//! Round-trip times of the calls a hook makes, against a real `pebble run --hold`.
//!
//! `cargo bench -p pebble-client` prints min / median / p95 per call as a table and as one
//! JSON line. One client (one keep-alive connection) is reused, as a hook does.

#[path = "../tests/support/mod.rs"]
mod support;

use std::future::Future;
use std::time::{Duration, Instant};

use pebble_client::{Client, ExecRequest, Layer, PushOptions};

const ITERATIONS: usize = 200;
const EXEC_ITERATIONS: usize = 50;

struct Figures {
    name: &'static str,
    iterations: usize,
    min: Duration,
    median: Duration,
    p95: Duration,
}

async fn measure<F, Fut>(name: &'static str, iterations: usize, mut call: F) -> Figures
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    call(usize::MAX).await; // warm-up (connection set up, first-call allocations)
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let started = Instant::now();
        call(i).await;
        samples.push(started.elapsed());
    }
    samples.sort();
    Figures {
        name,
        iterations,
        min: samples[0],
        median: samples[iterations / 2],
        p95: samples[(iterations * 95).div_ceil(100) - 1],
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn run(client: &Client, scratch: &str) -> Vec<Figures> {
    let layer = Layer::from_yaml(
        "services: {web: {override: replace, command: /bin/sleep 1000, startup: enabled, environment: {A: '1'}}}\n\
         checks: {up: {override: replace, level: ready, tcp: {port: 8080}}}",
    )
    .expect("bench layer");
    let small = vec![b'x'; 512];
    let target = format!("{scratch}/small.conf");
    let options = PushOptions {
        permissions: Some(0o600),
        ..PushOptions::default()
    };
    vec![
        measure("system-info", ITERATIONS, |_| async {
            client.system_info().await.expect("system-info");
        })
        .await,
        measure("layer add (combine)", ITERATIONS, |_| async {
            client
                .add_layer("bench", &layer, true)
                .await
                .expect("add layer");
        })
        .await,
        measure("plan read", ITERATIONS, |_| async {
            let plan = client.plan().await.expect("plan");
            assert!(plan.satisfies(&layer));
        })
        .await,
        measure("push 512 B", ITERATIONS, |_| async {
            client.push(&target, &small, &options).await.expect("push");
        })
        .await,
        measure("pull 512 B", ITERATIONS, |_| async {
            client.pull(&target).await.expect("pull");
        })
        .await,
        measure("services", ITERATIONS, |_| async {
            client.services(&[]).await.expect("services");
        })
        .await,
        measure("exec true", EXEC_ITERATIONS, |_| async {
            client
                .exec(&ExecRequest::new(["true"]))
                .await
                .expect("exec");
        })
        .await,
    ]
}

fn main() {
    let daemon = support::Daemon::start();
    let client = daemon.client();
    let scratch = daemon.scratch("bench");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let figures = runtime.block_on(run(&client, scratch.to_str().expect("utf-8 temp path")));

    println!("Pebble round trips over the Unix socket (µs), one keep-alive client");
    println!(
        "{:<22} {:>5} {:>10} {:>10} {:>10}",
        "call", "n", "min", "median", "p95"
    );
    for f in &figures {
        println!(
            "{:<22} {:>5} {:>10.0} {:>10.0} {:>10.0}",
            f.name,
            f.iterations,
            micros(f.min),
            micros(f.median),
            micros(f.p95)
        );
    }
    let results: Vec<serde_json::Value> = figures
        .iter()
        .map(|f| {
            serde_json::json!({
                "call": f.name,
                "n": f.iterations,
                "min_us": micros(f.min).round() as u64,
                "median_us": micros(f.median).round() as u64,
                "p95_us": micros(f.p95).round() as u64,
            })
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({"bench": "pebble-roundtrip", "results": results})
    );
}
