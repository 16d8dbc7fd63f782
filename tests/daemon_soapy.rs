//! The SoapySDR source against a real SoapySDR device module built here from
//! `tests/soapy/ssbtest_module.cpp` and loaded via `SOAPY_SDR_PLUGIN_PATH`: open,
//! configure with readback, stream at the set rate, overflow, timeout, device loss and
//! reopen with backoff, all seen through the daemon's HTTP.
#![cfg(feature = "soapy")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use ssbguard::daemon::config::{self, SoapyConfig, SourceConfig};
use ssbguard::daemon::{Daemon, Processor, StartOptions};
use ssbguard::source::soapy::SoapySource;
use ssbguard::source::{IqSource, SourceError, SourceInfo};

const T: Duration = Duration::from_secs(30);

fn build_module() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("soapy-module");
    std::fs::create_dir_all(&dir).expect("module dir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/soapy/ssbtest_module.cpp");
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "SoapySDR"])
        .output()
        .expect("pkg-config (apt-get install pkg-config libsoapysdr-dev)");
    assert!(flags.status.success(), "pkg-config SoapySDR failed");
    let flags = String::from_utf8_lossy(&flags.stdout).into_owned();
    let out = dir.join("libssbtest.so");
    let st = Command::new("g++")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .args(flags.split_whitespace())
        .status()
        .expect("g++");
    assert!(st.success(), "building the test SoapySDR module failed");
    dir
}

fn soapy_cfg(args: &str, rate: f64) -> SoapyConfig {
    SoapyConfig {
        args: args.to_owned(),
        channel: 0,
        antenna: Some("CAL".into()),
        sample_rate_hz: rate,
        center_freq_hz: 3.5e9,
        gain_db: Some(70.0),
        agc: false,
        bandwidth_hz: None,
        timeout: Duration::from_millis(100),
        reopen_initial: Duration::from_millis(20),
        reopen_max: Duration::from_millis(200),
    }
}

/// One test: the plugin path must be set before SoapySDR first loads its modules, and
/// nothing else in this binary may touch the environment meanwhile.
#[test]
fn soapy_device_open_configure_stream_faults_and_reopen() {
    let module_dir = build_module();
    // SAFETY: the only test in this binary; no other thread reads the environment yet.
    unsafe { std::env::set_var("SOAPY_SDR_PLUGIN_PATH", &module_dir) };

    // A rate the device cannot set: readback catches it, fatal.
    let mut s = SoapySource::new(soapy_cfg("driver=ssbtest", 30.72e6));
    match s.open() {
        Err(SourceError::Unsatisfied {
            setting, actual, ..
        }) => {
            assert_eq!(setting, "sample_rate_hz");
            assert_eq!(actual, "20000000");
        }
        Err(e) => panic!("expected a readback error, got {e}"),
        Ok(()) => panic!("expected a readback error"),
    }
    // No such device: recoverable (retried with backoff).
    let mut s = SoapySource::new(soapy_cfg("driver=nonexistent_ssb", 2e6));
    let mut buf = vec![num_complex::Complex32::new(0.0, 0.0); 1024];
    let e = s.read(&mut buf).expect_err("no device");
    assert!(e.is_recoverable(), "{e}");

    let lost =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ssbtest-lost-{}", std::process::id()));
    let _ = std::fs::remove_file(&lost);
    let args = format!(
        "driver=ssbtest,overflow_every=40,timeout_at=10,lost_file={}",
        lost.display()
    );
    let mut c =
        config::parse_str("[http]\nbind = \"127.0.0.1:0\"\n[capture]\nblock_samples = 8192\n")
            .expect("config");
    c.source = SourceConfig::Soapy(soapy_cfg(&args, 2e6));
    let d = Daemon::start(
        c,
        StartOptions {
            processor: Some(Box::new(|info: &SourceInfo| {
                Ok(
                    Box::new(PowerDetector::new(info.sample_rate_hz, POWER_THRESHOLD))
                        as Box<dyn Processor>,
                )
            })),
            ..StartOptions::default()
        },
    )
    .expect("start");
    let addr = d.local_addr();
    poll(T, "/readyz 200 with the device streaming", || {
        (get(addr, "/readyz", None).0 == 200).then_some(())
    });
    // Readback: the gain was clamped to 60 dB by the device, the antenna set.
    let st = get_json(addr, "/api/v1/status", None);
    let info = &st["source"]["info"];
    assert_eq!(info["kind"], "soapy");
    assert_eq!(info["gain_db"], 60.0);
    assert_eq!(info["antenna"], "CAL");
    assert_eq!(info["sample_rate_hz"], 2e6);
    assert_eq!(info["center_freq_hz"], 3.5e9);
    poll(T, "overflows and timeouts counted", || {
        let m = scrape(addr);
        (m.value("ssbguard_capture_overflows_total", &[])? >= 1.0
            && m.value("ssbguard_capture_timeouts_total", &[])? >= 1.0
            && m.value("ssbguard_pipeline_discontinuities_total", &[])? >= 1.0)
            .then_some(())
    });

    // Unplug: not ready, counted, reopen attempts fail; replug: streaming again.
    std::fs::write(&lost, b"").expect("unplug");
    let body = poll(T, "/readyz 503 after device loss", || {
        let (code, body) = get(addr, "/readyz", None);
        (code == 503).then_some(body)
    });
    assert!(body.contains("reopening"), "{body}");
    assert_eq!(get(addr, "/healthz", None).0, 200, "the process stays up");
    std::fs::remove_file(&lost).expect("replug");
    poll(T, "/readyz 200 after reopen", || {
        (get(addr, "/readyz", None).0 == 200).then_some(())
    });
    let m = scrape(addr);
    assert!(m.value("ssbguard_source_losses_total", &[]).unwrap_or(0.0) >= 1.0);
    assert!(m.value("ssbguard_source_reopens_total", &[]).unwrap_or(0.0) >= 1.0);

    let r = d.shutdown();
    assert!(r.in_time, "{r:?}");
    assert_eq!(r.captured, r.processed + r.dropped_queue_full, "{r:?}");
}
