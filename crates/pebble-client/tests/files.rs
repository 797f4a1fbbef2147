//! Files against the real daemon: push with modes, ownership and make-dirs, pull, list
//! (pattern, itself), make-dirs, remove, and per-file errors that Pebble sends inside an
//! HTTP 200 surfacing as `Error::File`.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use pebble_client::{Error, FileType, MakeDirOptions, PushOptions};
use support::Daemon;

fn path_str(path: &std::path::Path) -> String {
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn push_then_pull_and_list_with_modes_and_owner() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let root = daemon.scratch("push");
    let target = root.join("a/b/secret.conf");
    let content: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    let options = PushOptions {
        make_dirs: true,
        permissions: Some(0o600),
        user_id: Some(0),
        group_id: Some(0),
        ..PushOptions::default()
    };
    client
        .push(&path_str(&target), &content, &options)
        .await
        .unwrap();

    let on_disk = std::fs::metadata(&target).unwrap();
    assert_eq!(on_disk.permissions().mode() & 0o777, 0o600);
    assert_eq!(on_disk.uid(), 0);
    assert_eq!(std::fs::read(&target).unwrap(), content);
    assert_eq!(client.pull(&path_str(&target)).await.unwrap(), content);

    let listed = client
        .list_files(&path_str(&root.join("a/b")), None, false)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let info = &listed[0];
    assert_eq!(info.name, "secret.conf");
    assert_eq!(info.path, path_str(&target));
    assert_eq!(info.file_type, FileType::File);
    assert_eq!(info.permissions, 0o600);
    assert_eq!(info.size, Some(200_000));
    assert_eq!(info.user_id, Some(0));

    // Parent directories made by make-dirs get 0755.
    let dir = client
        .list_files(&path_str(&root.join("a")), None, true)
        .await
        .unwrap();
    assert_eq!(dir.len(), 1);
    assert_eq!(dir[0].file_type, FileType::Directory);
    assert_eq!(dir[0].permissions, 0o755);
}

#[tokio::test]
async fn push_overwrites_and_default_mode_is_644() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let target = path_str(&daemon.scratch("over").join("f.txt"));
    client
        .push(&target, b"first", &PushOptions::default())
        .await
        .unwrap();
    client
        .push(&target, b"second", &PushOptions::default())
        .await
        .unwrap();
    assert_eq!(client.pull(&target).await.unwrap(), b"second");
    let info = client.list_files(&target, None, false).await.unwrap();
    assert_eq!(info[0].permissions, 0o644);
    // Ownership by name.
    let by_name = PushOptions {
        user: Some("root".into()),
        group: Some("root".into()),
        ..PushOptions::default()
    };
    client.push(&target, b"named", &by_name).await.unwrap();
    let info = client.list_files(&target, None, false).await.unwrap();
    assert_eq!(info[0].user.as_deref(), Some("root"));
    assert_eq!(info[0].group.as_deref(), Some("root"));
    assert_eq!(info[0].group_id, Some(0));
    // An empty file is pushed and pulled too.
    client
        .push(&target, b"", &PushOptions::default())
        .await
        .unwrap();
    assert_eq!(client.pull(&target).await.unwrap(), b"");
}

#[tokio::test]
async fn list_filters_by_pattern() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let root = daemon.scratch("list");
    for name in ["a.txt", "b.txt", "c.conf"] {
        std::fs::write(root.join(name), name).unwrap();
    }
    let mut names: Vec<String> = client
        .list_files(&path_str(&root), Some("*.txt"), false)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    names.sort();
    assert_eq!(names, ["a.txt", "b.txt"]);
    assert_eq!(
        client
            .list_files(&path_str(&root), None, false)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn per_file_errors_are_typed_even_though_pebble_answers_200() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let root = daemon.scratch("errors");

    // Push into a missing directory without make-dirs.
    let missing_parent = path_str(&root.join("nodir/x.txt"));
    let err = client
        .push(&missing_parent, b"x", &PushOptions::default())
        .await
        .unwrap_err();
    match &err {
        Error::File {
            path,
            kind,
            message,
        } => {
            assert_eq!(path, &missing_parent);
            assert_eq!(kind.as_deref(), Some("not-found"));
            assert!(message.contains("no such file or directory"), "{message}");
        }
        other => panic!("expected File, got {other:?}"),
    }
    assert!(err.is_not_found());

    // Pull of a missing file.
    let missing = path_str(&root.join("missing"));
    let err = client.pull(&missing).await.unwrap_err();
    assert!(
        matches!(&err, Error::File { kind: Some(k), .. } if k == "not-found"),
        "{err:?}"
    );

    // Pull of a directory.
    let err = client.pull(&path_str(&root)).await.unwrap_err();
    assert!(matches!(err, Error::File { .. }), "{err:?}");

    // A bad ownership combination: a group without a user.
    let err = client
        .push(
            &path_str(&root.join("g.txt")),
            b"x",
            &PushOptions {
                group_id: Some(0),
                ..PushOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::File { .. }), "{err:?}");

    // List of a missing path is a top-level 404.
    let err = client.list_files(&missing, None, false).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");
}

#[tokio::test]
async fn make_dir_and_remove() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let root = daemon.scratch("dirs");
    let deep = path_str(&root.join("x/y/z"));

    let err = client
        .make_dir(&deep, &MakeDirOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::File { kind: Some(k), .. } if k == "not-found"),
        "{err:?}"
    );
    client
        .make_dir(
            &deep,
            &MakeDirOptions {
                make_parents: true,
                permissions: Some(0o750),
                ..MakeDirOptions::default()
            },
        )
        .await
        .unwrap();
    let mode = std::fs::metadata(&deep).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o750);

    let top = path_str(&root.join("x"));
    let err = client.remove_path(&top, false).await.unwrap_err();
    match &err {
        Error::File { kind, message, .. } => {
            assert_eq!(kind.as_deref(), Some("generic-file-error"));
            assert!(message.contains("directory not empty"), "{message}");
        }
        other => panic!("expected File, got {other:?}"),
    }
    client.remove_path(&top, true).await.unwrap();
    assert!(!root.join("x").exists());
    // Removing a missing path recursively is fine.
    client.remove_path(&top, true).await.unwrap();
}

#[tokio::test]
async fn bad_paths_are_rejected_before_sending() {
    let daemon = Daemon::start();
    let client = daemon.client();
    for bad in ["relative/path", "/with\"quote", "/line\nbreak"] {
        let err = client.pull(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err:?}");
    }
    let err = client
        .push(
            "/tmp/x",
            b"",
            &PushOptions {
                permissions: Some(0o1777),
                ..PushOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("permissions"), "{err}");
}
