//! Notices against the real daemon: custom notices from `pebble notify` listed with `types`,
//! `keys` and `after`, fetched by id, change-update notices, and the long poll.

mod support;

use std::time::{Duration, Instant};

use pebble_client::{Layer, NoticeType, NoticesQuery};
use support::Daemon;

#[tokio::test]
async fn custom_notices_are_listed_filtered_and_fetched_by_id() {
    let daemon = Daemon::start();
    let client = daemon.client();
    daemon.cli(&["notify", "example.com/indico/reindex", "reason=config"]);
    daemon.cli(&["notify", "example.com/indico/other"]);

    let custom = NoticesQuery {
        types: vec![NoticeType::Custom],
        ..NoticesQuery::default()
    };
    let notices = client.notices(&custom).await.unwrap();
    assert_eq!(notices.len(), 2, "{notices:?}");
    let first = &notices[0];
    assert_eq!(first.notice_type, NoticeType::Custom);
    assert_eq!(first.key, "example.com/indico/reindex");
    assert_eq!(first.occurrences, 1);
    assert_eq!(first.last_data["reason"], "config");

    let by_id = client.notice(&first.id).await.unwrap();
    assert_eq!(&by_id, first);

    let by_key = client
        .notices(&NoticesQuery {
            keys: vec!["example.com/indico/other".into()],
            ..NoticesQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_key.len(), 1);
    assert_eq!(by_key[0].key, "example.com/indico/other");

    // `after` is strict: only notices repeated later than the first one.
    let after = client
        .notices(&NoticesQuery {
            after: Some(first.last_repeated.clone()),
            all_users: true,
            ..custom.clone()
        })
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].key, "example.com/indico/other");

    // A repeat bumps the occurrences of the same notice.
    daemon.cli(&["notify", "example.com/indico/reindex", "reason=again"]);
    let again = client.notice(&first.id).await.unwrap();
    assert_eq!(again.occurrences, 2);
    assert_eq!(again.last_data["reason"], "again");
}

#[tokio::test]
async fn changes_raise_change_update_notices() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let layer = Layer::from_yaml(
        "services: {s: {override: replace, startup: enabled, command: /bin/sleep 1000, kill-delay: 1s}}",
    )
    .unwrap();
    client.add_layer("s", &layer, false).await.unwrap();
    client.replan().await.unwrap();
    let notices = client
        .notices(&NoticesQuery {
            types: vec![NoticeType::ChangeUpdate],
            ..NoticesQuery::default()
        })
        .await
        .unwrap();
    let replan = notices
        .iter()
        .find(|n| n.last_data.get("kind").map(String::as_str) == Some("replan"))
        .unwrap_or_else(|| panic!("no replan change-update in {notices:?}"));
    let change = client.change(&replan.key).await.unwrap();
    assert_eq!(change.kind, "replan");
    assert_eq!(change.status, "Done");
}

#[tokio::test]
async fn long_poll_waits_for_a_notice_or_its_timeout() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let query = NoticesQuery {
        types: vec![NoticeType::Custom],
        timeout: Some(Duration::from_millis(700)),
        ..NoticesQuery::default()
    };
    let started = Instant::now();
    assert!(client.notices(&query).await.unwrap().is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "did not wait"
    );

    let notify = {
        let socket = daemon.socket().to_owned();
        let binary = support::pebble_binary();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            std::process::Command::new(binary)
                .args(["notify", "example.com/wake/up"])
                .env("PEBBLE_SOCKET", socket)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap()
        })
    };
    let woke = client
        .notices(&NoticesQuery {
            timeout: Some(Duration::from_secs(10)),
            ..query
        })
        .await
        .unwrap();
    assert!(notify.join().unwrap().success());
    assert_eq!(woke.len(), 1);
    assert_eq!(woke[0].key, "example.com/wake/up");
}
