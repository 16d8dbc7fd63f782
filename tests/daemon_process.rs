//! `ssbguard::daemon::run` as a real process (this test binary re-executed): systemd
//! notifications over a real `$NOTIFY_SOCKET`, SIGHUP reload (valid and invalid), SIGTERM
//! ordered shutdown with exit 0, and exit 64 with every problem listed for a bad config.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const CHILD_ENV: &str = "SSBGUARD_TEST_CHILD_CONFIG";
const T: Duration = Duration::from_secs(30);

/// Entry point of the re-executed child: runs the daemon when `CHILD_ENV` names a config;
/// otherwise does nothing (it is the child's `main`, not a test of its own).
#[test]
fn child_entry_point() {
    if let Some(p) = std::env::var_os(CHILD_ENV) {
        let code = match ssbguard::daemon::run(Some(PathBuf::from(p))) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("ssbguard: {e}");
                e.exit_code()
            }
        };
        std::process::exit(code);
    }
}

fn spawn(config: &Path, notify: Option<&Path>) -> Child {
    let mut c = Command::new(std::env::current_exe().expect("exe"));
    c.args([
        "--exact",
        "child_entry_point",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, config)
    .env("WATCHDOG_USEC", "300000")
    .env_remove("WATCHDOG_PID")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    match notify {
        Some(n) => c.env("NOTIFY_SOCKET", n),
        None => c.env_remove("NOTIFY_SOCKET"),
    };
    c.spawn().expect("spawn child")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -{sig}");
}

fn wait_exit(child: &mut Child) -> i32 {
    poll(T, "child exit", || child.try_wait().expect("wait"))
        .code()
        .unwrap_or(-1)
}

fn dir(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("proc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn config_text(scenario: &Path, clear_m: u32) -> String {
    format!(
        "[source]\ntype = \"synth\"\nscenario = {:?}\n[http]\nbind = \"127.0.0.1:0\"\n\
         [log]\nformat = \"json\"\n[alert]\nclear_m = {clear_m}\n[shutdown]\ndeadline_s = 5\n",
        scenario.display().to_string()
    )
}

#[test]
fn systemd_notify_sighup_and_sigterm() {
    let d = dir("signals");
    let scenario = d.join("scn.toml");
    std::fs::write(&scenario, SCENARIO).expect("write");
    let cfg = d.join("ssbguard.toml");
    std::fs::write(&cfg, config_text(&scenario, 4)).expect("write");
    let sock_path = d.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");

    let mut child = spawn(&cfg, Some(&sock_path));
    // The address comes from the JSON log line "ssbguard started".
    let stderr = child.stderr.take().expect("stderr");
    let (addr_tx, addr_rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["message"] == "ssbguard started"
                && let Some(a) = v["addr"].as_str()
            {
                let _ = addr_tx.send(a.to_owned());
            }
        }
    });
    let addr: std::net::SocketAddr = addr_rx
        .recv_timeout(T)
        .expect("started line")
        .parse()
        .expect("addr");

    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    poll(T, "READY=1 then WATCHDOG=1", || {
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        let ready = got.iter().position(|m| m == "READY=1")?;
        got[ready..].iter().any(|m| m == "WATCHDOG=1").then_some(())
    });
    assert!(got.iter().any(|m| m.starts_with("STATUS=")), "{got:?}");
    assert_eq!(get(addr, "/readyz", None).0, 200);

    // SIGHUP with a changed [alert]: applied without a restart.
    std::fs::write(&cfg, config_text(&scenario, 9)).expect("write");
    signal(&child, "HUP");
    poll(T, "clear_m reloaded", || {
        (get_json(addr, "/api/v1/status", None)["alert"]["clear_m"] == 9).then_some(())
    });
    // SIGHUP with an invalid file: rejected, counted, still running.
    std::fs::write(&cfg, "[alert]\nclear_m = 0\n").expect("write");
    signal(&child, "HUP");
    poll(T, "invalid reload counted", || {
        let m = scrape(addr);
        (m.value("ssbguard_config_reloads_total", &[("result", "invalid")])? == 1.0).then_some(())
    });
    assert_eq!(
        get_json(addr, "/api/v1/status", None)["alert"]["clear_m"],
        9
    );
    assert_eq!(get(addr, "/healthz", None).0, 200);

    let t0 = Instant::now();
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child), 0);
    assert!(
        t0.elapsed() < Duration::from_secs(6),
        "within the 5 s deadline"
    );
    poll(T, "STOPPING=1", || {
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got.iter().any(|m| m == "STOPPING=1").then_some(())
    });
}

#[test]
fn bad_config_exits_64_listing_every_problem() {
    let d = dir("badcfg");
    let cfg = d.join("bad.toml");
    std::fs::write(&cfg, "[alert]\nraise_k = 0\n[capture]\nqueue_blocks = 0\n").expect("write");
    let child = spawn(&cfg, None);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("capture.queue_blocks") && err.contains("alert.raise_k"),
        "{err}"
    );
}
