//! Template tests: strictness, and the rendered nginx.conf served by a real nginx.

use super::*;

#[test]
fn strict_undefined_makes_a_missing_value_an_error() {
    #[derive(Serialize)]
    struct Partial {
        site_https: bool,
    }
    let err = render(NGINX_CONF, Partial { site_https: true }).unwrap_err();
    assert_eq!(err.template, "nginx.conf.j2");
}

// ---- the rendered nginx.conf, served by Debian's nginx ----

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A stand-in for uWSGI: answers every request with the request head it received.
fn echo_upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                head.len()
            );
            let _ = stream.write_all(response.as_bytes());
            let _ = stream.write_all(&head);
        }
    });
    port
}

/// nginx running the rendered configuration; stopped (gracefully, workers included) on drop.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn start_nginx(dir: &Path, context: &NginxContext) -> Nginx {
    let conf = nginx_conf(context).unwrap().replace(
        "pid /run/nginx.pid;",
        &format!("pid {}/nginx.pid;", dir.display()),
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx must be installed (Debian package nginx)");
    let nginx = Nginx(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", context.web_port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    nginx
}

struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn get(address: &str, path: &str, extra_headers: &str) -> Response {
    get_as(address, "events.example.com", path, extra_headers)
}

/// `get` with the given `Host` header.
fn get_as(address: &str, host: &str, path: &str, extra_headers: &str) -> Response {
    let mut stream = TcpStream::connect(address).expect("connect");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra_headers}\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    Response {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

fn write_static(root: &Path, relative: &str, content: &[u8]) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn real_nginx_serves_static_files_proxies_with_forwarded_headers_and_exposes_stub_status() {
    let dir = tempfile::tempdir().unwrap();
    let static_dir = dir.path().join("static");
    write_static(&static_dir, "images/logo.png", b"PNG");
    let css = "body { color: black; }\n".repeat(100);
    write_static(&static_dir, "dist/css/main.0123abcd.css", css.as_bytes());
    write_static(&static_dir, "robots.txt", b"User-agent: *\n");
    // nginx's workers run as www-data: the tree must be world-readable, as in the image.
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(dir.path())
        .status()
        .unwrap();
    let context = NginxContext {
        site_https: true,
        static_dir: static_dir.display().to_string(),
        upstream: format!("127.0.0.1:{}", echo_upstream()),
        web_port: free_port(),
        status_port: free_port(),
    };
    let _nginx = start_nginx(dir.path(), &context);
    let web = format!("127.0.0.1:{}", context.web_port);

    let health = get(&web, "/health", "");
    assert_eq!(health.status, 204);
    assert_eq!(
        get(&format!("[::1]:{}", context.web_port), "/health", "").status,
        204
    );

    let logo = get(&web, "/images/logo__v1a2b3c.png", "");
    assert_eq!(
        (logo.status, logo.body.as_slice()),
        (200, b"PNG".as_slice())
    );
    assert_eq!(logo.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(logo.header("X-Frame-Options"), Some("SAMEORIGIN"));
    assert!(logo.header("Strict-Transport-Security").is_some());
    let styles = get(
        &web,
        "/dist/css/main.0123abcd.css",
        "Accept-Encoding: gzip\r\n",
    );
    assert_eq!(styles.status, 200);
    assert_eq!(styles.header("Content-Encoding"), Some("gzip"));
    assert_eq!(get(&web, "/robots.txt", "").body, b"User-agent: *\n");
    assert_eq!(get(&web, "/images/missing.png", "").status, 404);

    let proxied = get(&web, "/event/1/manage/", "");
    assert_eq!(proxied.status, 200);
    let upstream_saw = String::from_utf8_lossy(&proxied.body).to_lowercase();
    for expected in [
        "host: events.example.com",
        "x-forwarded-for: 127.0.0.1",
        "x-forwarded-host: events.example.com",
        "x-forwarded-proto: http",
    ] {
        assert!(
            upstream_saw.contains(expected),
            "{expected} not in {upstream_saw}"
        );
    }
    assert!(proxied.header("Strict-Transport-Security").is_some());
    let behind_ingress = get(
        &web,
        "/category/0/",
        "X-Forwarded-Proto: https\r\nX-Forwarded-Host: events.example.org\r\n",
    );
    let upstream_saw = String::from_utf8_lossy(&behind_ingress.body).to_lowercase();
    for expected in [
        "x-forwarded-proto: https",
        "x-forwarded-host: events.example.org",
    ] {
        assert!(
            upstream_saw.contains(expected),
            "{expected} not in {upstream_saw}"
        );
    }
    // A site_url with a port: Indico compares the forwarded host with host:port, so the
    // port the client sent must reach it (without it, Indico answers 404 to everything).
    let with_port = get_as(&web, "events.example.com:8443", "/category/0/", "");
    let upstream_saw = String::from_utf8_lossy(&with_port.body).to_lowercase();
    assert!(
        upstream_saw.contains("x-forwarded-host: events.example.com:8443"),
        "{upstream_saw}"
    );

    let status = format!("127.0.0.1:{}", context.status_port);
    let stub = get(&status, "/stub_status", "");
    assert_eq!(stub.status, 200);
    assert!(String::from_utf8_lossy(&stub.body).contains("Active connections"));
    assert_eq!(get(&status, "/", "").status, 404);
    assert!(
        TcpStream::connect(("::1", context.status_port)).is_err(),
        "stub_status must stay on IPv4 loopback"
    );
}

#[test]
fn plain_http_sites_get_no_hsts() {
    let dir = tempfile::tempdir().unwrap();
    Command::new("chmod")
        .args(["a+rx"])
        .arg(dir.path())
        .status()
        .unwrap();
    let context = NginxContext {
        site_https: false,
        static_dir: dir.path().display().to_string(),
        upstream: format!("127.0.0.1:{}", echo_upstream()),
        web_port: free_port(),
        status_port: free_port(),
    };
    let _nginx = start_nginx(dir.path(), &context);
    let response = get(&format!("127.0.0.1:{}", context.web_port), "/", "");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("X-Frame-Options"), Some("SAMEORIGIN"));
    assert!(response.header("Strict-Transport-Security").is_none());
}
