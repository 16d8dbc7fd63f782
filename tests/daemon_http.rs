//! The daemon in-process over real HTTP on an ephemeral loopback port: metrics, status,
//! alerts, SSE, webhooks, JSONL, readiness, bearer token, backpressure and faults.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use num_complex::Complex32;
use ssbguard::daemon::config::{self, Config};
use ssbguard::daemon::{Daemon, Processor, ProcessorFactory, StartOptions};
use ssbguard::events::Event;
use ssbguard::pipeline::PipelineStatus;
use ssbguard::source::synth::SynthSource;
use ssbguard::source::{IqSource, SourceError, SourceInfo, SourceRead};
use ssbguard::synth::Scenario;

const T: Duration = Duration::from_secs(30);

fn scenario() -> Scenario {
    Scenario::from_toml(SCENARIO).expect("test scenario")
}

fn cfg(extra: &str) -> Config {
    config::parse_str(&format!(
        "[http]\nbind = \"127.0.0.1:0\"\n[alert]\nraise_k = 3\nraise_n = 4\nclear_m = 4\n{extra}"
    ))
    .expect("test config")
}

fn power_detector() -> ProcessorFactory {
    Box::new(|info: &SourceInfo| {
        Ok(
            Box::new(PowerDetector::new(info.sample_rate_hz, POWER_THRESHOLD))
                as Box<dyn Processor>,
        )
    })
}

fn synth(looping: bool, realtime: bool) -> Box<dyn IqSource> {
    Box::new(
        SynthSource::new(scenario(), "test scenario", looping, false, realtime).expect("synth"),
    )
}

#[test]
fn synth_jammer_raises_and_clears_through_every_output() {
    let dir = tempdir("e2e");
    let jsonl = dir.join("events.jsonl");
    let hook = WebhookServer::start(200, false);
    let am = WebhookServer::start(200, false);
    let c = cfg(&format!(
        "[sinks.jsonl]\npath = {:?}\n[[sinks.webhook]]\nurl = \"http://{}/hook\"\n\
         [[sinks.webhook]]\nurl = \"http://{}/api/v2/alerts\"\nformat = \"alertmanager\"\n",
        jsonl.display().to_string(),
        hook.addr,
        am.addr
    ));
    let d = Daemon::start(
        c,
        StartOptions {
            source: Some(synth(true, true)),
            processor: Some(power_detector()),
            ..StartOptions::default()
        },
    )
    .expect("start");
    let addr = d.local_addr();
    let events = sse(addr, None);

    poll(T, "/readyz 200", || {
        (get(addr, "/readyz", None).0 == 200).then_some(())
    });
    assert_eq!(get(addr, "/healthz", None).0, 200);

    // SSE: decisions flow, and an alert is raised then cleared.
    let mut seen_decision = false;
    let mut states = Vec::new();
    poll(T, "SSE alert raised and cleared", || {
        while let Ok((ev, data)) = events.try_recv() {
            let v: serde_json::Value = serde_json::from_str(&data).expect("SSE data is JSON");
            assert_eq!(v["type"], ev.as_str(), "event name matches the JSON type");
            match ev.as_str() {
                "decision" => {
                    seen_decision = true;
                    assert!(v["score"].as_f64().is_some() && v["jammed"].is_boolean());
                }
                "alert" => states.push(v["state"].as_str().unwrap_or("").to_owned()),
                _ => {}
            }
        }
        (seen_decision
            && states.iter().any(|s| s == "raised")
            && states.iter().any(|s| s == "cleared"))
        .then_some(())
    });

    // /api/v1/alerts: newest first, bounded, both states.
    let a = get_json(addr, "/api/v1/alerts", None);
    let list = a["alerts"].as_array().expect("alerts list");
    assert!(list.len() >= 2);
    let t: Vec<f64> = list
        .iter()
        .map(|x| x["time_s"].as_f64().unwrap_or(-1.0))
        .collect();
    assert!(t.windows(2).all(|w| w[0] >= w[1]), "newest first: {t:?}");
    let raised = list
        .iter()
        .find(|x| x["state"] == "raised")
        .expect("a raised alert");
    assert_eq!(raised["pci"], 500);
    assert_eq!(raised["severity"], "critical", "SJNR 3 dB is critical");
    // The jammer is on from 0.3 to 0.6 s of each 1 s loop (+1 sample per loop gap).
    let onset = raised["time_s"].as_f64().expect("time") % 1.0;
    assert!(
        (0.3..0.45).contains(&onset),
        "raised {onset} s into the loop"
    );

    // Webhooks: the plain JSON one and the Alertmanager one.
    let (head, body) = hook.bodies.recv_timeout(T).expect("webhook POST");
    assert!(head.starts_with("POST /hook "), "{head}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(v["type"], "alert");
    assert_eq!(v["state"], "raised");
    assert!(v["wall_time"].as_str().is_some_and(|s| s.ends_with('Z')));
    let (_, body) = am.bodies.recv_timeout(T).expect("alertmanager POST");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(v[0]["labels"]["alertname"], "SsbJamming");
    assert_eq!(v[0]["labels"]["pci"], "500");
    assert!(v[0]["startsAt"].is_string());

    // Metrics over HTTP, parsed.
    let m = scrape(addr);
    for name in [
        "ssbguard_capture_samples_total",
        "ssbguard_capture_dropped_samples_total",
        "ssbguard_ssb_decisions_total",
        "ssbguard_jamming_score",
        "ssbguard_jamming_alert",
        "ssbguard_sjnr_estimate_db",
        "ssbguard_epnre_db",
        "ssbguard_alerts_total",
        "ssbguard_pipeline_latency_seconds",
        "ssbguard_inference_duration_seconds",
        "ssbguard_build_info",
    ] {
        assert!(m.help.iter().any(|h| h == name), "no HELP for {name}");
    }
    assert!(
        m.value("ssbguard_alerts_total", &[("pci", "500")])
            .unwrap_or(0.0)
            >= 1.0
    );
    assert!(
        m.value(
            "ssbguard_ssb_decisions_total",
            &[("pci", "500"), ("verdict", "jammed")]
        )
        .unwrap_or(0.0)
            >= 3.0
    );
    assert!(
        m.value(
            "ssbguard_ssb_decisions_total",
            &[("pci", "500"), ("verdict", "clean")]
        )
        .unwrap_or(0.0)
            >= 4.0
    );
    assert!(
        m.value("ssbguard_capture_samples_total", &[])
            .unwrap_or(0.0)
            > 0.0
    );
    assert!(
        m.value("ssbguard_pipeline_latency_seconds_count", &[])
            .unwrap_or(0.0)
            > 0.0
    );
    assert_eq!(m.value("ssbguard_ready", &[]), Some(1.0));
    // Every pci label is a number or "none": bounded.
    for (_, labels, _) in &m.samples {
        for (k, v) in labels {
            if k == "pci" {
                assert!(
                    v == "none" || v.parse::<u16>().is_ok_and(|p| p <= 1007),
                    "pci={v}"
                );
            }
        }
    }

    let st = get_json(addr, "/api/v1/status", None);
    assert_eq!(st["source"]["info"]["kind"], "synth");
    assert_eq!(st["sample_rate_hz"], 3.84e6);
    assert_eq!(st["source"]["state"], "streaming");
    let (code, page) = get(addr, "/", None);
    assert_eq!(code, 200);
    assert!(page.contains("EventSource(\"/api/v1/events\""));

    let r = d.shutdown();
    assert!(r.in_time, "{r:?}");
    assert_eq!(r.captured, r.processed + r.dropped_queue_full, "{r:?}");

    // The JSONL sink got the alerts (flushed at shutdown), one JSON object per line.
    let text = std::fs::read_to_string(&jsonl).expect("jsonl written");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|v| v["type"] == "alert" && v["state"] == "raised")
    );
    assert!(
        lines.iter().all(|v| v["type"] != "decision"),
        "decisions off by default"
    );
}

/// A source that waits for the test before its first read, then renders a short
/// non-looping scenario.
struct GatedSource {
    inner: Box<dyn IqSource>,
    gate: Option<crossbeam_channel::Receiver<()>>,
}

impl IqSource for GatedSource {
    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }
    fn read(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        if let Some(g) = &self.gate {
            match g.recv_timeout(Duration::from_millis(50)) {
                Ok(()) | Err(crossbeam_channel::RecvTimeoutError::Disconnected) => self.gate = None,
                Err(_) => return Err(SourceError::Timeout { timeout_s: 0.05 }),
            }
        }
        self.inner.read(buf)
    }
}

#[test]
fn readyz_follows_the_source_and_the_token_guards_the_api() {
    let (open, gate) = crossbeam_channel::bounded(1);
    let c = config::parse_str("[http]\nbind = \"127.0.0.1:0\"\nbearer_token = \"s3cret\"\n")
        .expect("config");
    let d = Daemon::start(
        c,
        StartOptions {
            source: Some(Box::new(GatedSource {
                inner: synth(false, true),
                gate: Some(gate),
            })),
            processor: Some(power_detector()),
            ..StartOptions::default()
        },
    )
    .expect("start");
    let addr = d.local_addr();
    let (code, body) = get(addr, "/readyz", None);
    assert_eq!(code, 503);
    assert!(body.contains("source starting"), "{body}");
    assert_eq!(get(addr, "/healthz", None).0, 200);
    // Token: /api needs it, /metrics and probes do not.
    assert_eq!(get(addr, "/api/v1/status", None).0, 401);
    assert_eq!(get(addr, "/api/v1/status", Some("wrong")).0, 401);
    assert_eq!(get(addr, "/api/v1/status?access_token=s3cret", None).0, 200);
    assert_eq!(get(addr, "/api/v1/alerts", Some("s3cret")).0, 200);
    assert_eq!(get(addr, "/metrics", None).0, 200);

    open.send(()).expect("open gate");
    poll(T, "/readyz 200 once samples flow", || {
        (get(addr, "/readyz", None).0 == 200).then_some(())
    });
    // One second of signal, paced: then the source ends and readiness goes.
    let body = poll(T, "/readyz 503 after the source ended", || {
        let (c, b) = get(addr, "/readyz", None);
        (c == 503).then_some(b)
    });
    assert!(body.contains("source ended"), "{body}");
    let st = get_json(addr, "/api/v1/status", Some("s3cret"));
    assert_eq!(st["source"]["state"], "ended");
    assert_eq!(st["samples"]["captured"], 3_840_000);
    let r = d.shutdown();
    assert_eq!(
        (r.captured, r.processed, r.dropped_queue_full),
        (3_840_000, 3_840_000, 0)
    );
}

/// Blocks in its first push until released: the capture channel fills and overflows.
struct SlowProcessor {
    gate: Option<crossbeam_channel::Receiver<()>>,
    seen: Arc<Mutex<Vec<(u64, usize)>>>,
    inner: PowerDetector,
}

impl Processor for SlowProcessor {
    fn push(&mut self, first: u64, samples: &[Complex32], out: &mut Vec<Event>) {
        if let Some(g) = self.gate.take() {
            let _ = g.recv_timeout(Duration::from_secs(60));
        }
        if let Ok(mut s) = self.seen.lock() {
            s.push((first, samples.len()));
        }
        self.inner.push(first, samples, out);
    }
    fn finish(&mut self, out: &mut Vec<Event>) {
        self.inner.finish(out);
    }
    fn status(&self) -> PipelineStatus {
        self.inner.status()
    }
}

#[test]
fn backpressure_drops_are_counted_and_add_up() {
    let (release, gate) = crossbeam_channel::bounded(1);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let c = config::parse_str(
        "[http]\nbind = \"127.0.0.1:0\"\n[capture]\nblock_samples = 4096\nqueue_blocks = 4\n",
    )
    .expect("config");
    let d = Daemon::start(
        c,
        StartOptions {
            // As fast as it renders: far faster than a blocked consumer.
            source: Some(synth(false, false)),
            processor: Some(Box::new(move |info: &SourceInfo| {
                Ok(Box::new(SlowProcessor {
                    gate: Some(gate),
                    seen: s2,
                    inner: PowerDetector::new(info.sample_rate_hz, POWER_THRESHOLD),
                }) as Box<dyn Processor>)
            })),
            ..StartOptions::default()
        },
    )
    .expect("start");
    let addr = d.local_addr();
    poll(T, "queue_full drops", || {
        let m = scrape(addr);
        (m.value(
            "ssbguard_capture_dropped_samples_total",
            &[("reason", "queue_full")],
        )? > 0.0)
            .then_some(())
    });
    release.send(()).expect("release");
    // The whole scenario (1 s = 3.84 M samples) is captured, then the source ends.
    poll(T, "source ended and drained", || {
        let st = get_json(addr, "/api/v1/status", None);
        let s = &st["samples"];
        let drops = st["drops"]["queue_full"].as_u64()?;
        (st["source"]["state"] == "ended"
            && s["processed"].as_u64()? + drops == s["captured"].as_u64()?)
        .then_some(())
    });
    let m = scrape(addr);
    assert!(
        m.value("ssbguard_pipeline_discontinuities_total", &[])
            .unwrap_or(0.0)
            >= 1.0
    );
    // A file without a gain step: the counter is exported and stays at zero.
    assert_eq!(m.value("ssbguard_gain_steps_total", &[]), Some(0.0));
    let r = d.shutdown();
    assert_eq!(r.captured, 3_840_000);
    assert!(r.dropped_queue_full > 0);
    assert_eq!(r.captured, r.processed + r.dropped_queue_full, "{r:?}");
    // What the processor saw: indices only ever move forward, gaps are exactly the drops.
    let seen = seen.lock().expect("lock");
    let total: u64 = seen.iter().map(|s| s.1 as u64).sum();
    assert_eq!(total, r.processed);
    let mut gaps = 0u64;
    let mut next = 0u64;
    for &(first, n) in seen.iter() {
        assert!(first >= next, "blocks in order");
        gaps += first - next;
        next = first + n as u64;
    }
    gaps += r.captured - next;
    assert_eq!(gaps, r.dropped_queue_full);
}

/// Emits a fixed script of decisions on the first block: 4 jammed then 30 clean, repeated
/// `times`.
struct Script(u32);

impl Processor for Script {
    fn push(&mut self, first: u64, _s: &[Complex32], out: &mut Vec<Event>) {
        if self.0 == 0 {
            return;
        }
        self.0 -= 1;
        for i in 0..34u64 {
            out.push(Event::Decision(decision(first + i, 3.84e6, i < 4, 0.9)));
        }
    }
    fn finish(&mut self, _: &mut Vec<Event>) {}
    fn status(&self) -> PipelineStatus {
        PipelineStatus::default()
    }
}

#[test]
fn dead_and_hanging_webhooks_never_stall_the_pipeline() {
    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let hang = WebhookServer::start(200, true);
    let c = cfg(&format!(
        "[[sinks.webhook]]\nurl = \"http://{dead}/\"\nretries = 2\nbackoff_initial_s = 0.01\n\
         [[sinks.webhook]]\nurl = \"http://{}/\"\ntimeout_s = 0.3\nretries = 0\nqueue = 1\n",
        hang.addr
    ));
    let d = Daemon::start(
        c,
        StartOptions {
            source: Some(synth(true, true)),
            processor: Some(Box::new(|_: &SourceInfo| {
                Ok(Box::new(Script(6)) as Box<dyn Processor>)
            })),
            ..StartOptions::default()
        },
    )
    .expect("start");
    let addr = d.local_addr();
    poll(T, "failed and dropped webhook deliveries", || {
        let m = scrape(addr);
        let failed = m.value("ssbguard_webhook_deliveries_total", &[("result", "failed")])?;
        let dropped = m.value(
            "ssbguard_webhook_deliveries_total",
            &[("result", "dropped")],
        )?;
        (failed >= 1.0 && dropped >= 1.0).then_some(())
    });
    // 6 raised + 6 cleared alerts went through the pipeline regardless.
    poll(T, "12 alerts", || {
        let a = get_json(addr, "/api/v1/alerts", None);
        (a["alerts"].as_array()?.len() == 12).then_some(())
    });
    assert_eq!(get(addr, "/healthz", None).0, 200);
    // Samples kept flowing while webhooks failed.
    let before = scrape(addr)
        .value("ssbguard_pipeline_samples_total", &[])
        .unwrap_or(0.0);
    poll(T, "samples keep flowing", || {
        (scrape(addr).value("ssbguard_pipeline_samples_total", &[])? > before).then_some(())
    });
    let r = d.shutdown();
    assert_eq!(r.captured, r.processed + r.dropped_queue_full);
}

#[test]
fn bad_config_lists_every_problem_and_missing_input_is_named() {
    let dir = tempdir("badcfg");
    let p = dir.join("bad.toml");
    std::fs::write(
        &p,
        "[source]\ntype = \"file\"\npath = \"/nonexistent/rec\"\n[alert]\nclear_m = 0\n[http]\nbind = \"x\"\n",
    )
    .expect("write");
    let e = ssbguard::daemon::check_config(&p).expect_err("bad config");
    let paths: Vec<_> = e.problems.iter().map(|q| q.path.as_str()).collect();
    assert_eq!(paths, ["alert.clear_m", "http.bind"]);
    assert_eq!(ssbguard::daemon::ConfigErrors::EXIT_CODE, 64);
    assert!(e.to_string().contains("bad.toml"));
    // Valid syntax, but the recording is not there: named in the message.
    std::fs::write(
        &p,
        "[source]\ntype = \"file\"\npath = \"/nonexistent/rec\"\n",
    )
    .expect("write");
    let e = ssbguard::daemon::check_config(&p).expect_err("missing recording");
    assert!(e.to_string().contains("/nonexistent/rec"), "{e}");
    let c = config::load(&p).expect("valid syntax");
    let err = Daemon::start(c, StartOptions::default())
        .err()
        .expect("refuses to start");
    assert_ne!(err.exit_code(), 0);
    assert!(err.to_string().contains("/nonexistent/rec"), "{err}");
    // The shipped example is valid.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/ssbguard.toml");
    config::load(&example).unwrap_or_else(|e| panic!("{e}"));
}

/// Runs the `ssbguard` binary; its stdout.
fn ssbguard(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ssbguard"))
        .args(args)
        .output()
        .expect("run ssbguard");
    assert!(
        out.status.success(),
        "ssbguard {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The `cell` and `alert` lines of a JSON-lines text, as written.
fn cell_and_alert_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("{\"type\":\"alert\"") || l.starts_with("{\"type\":\"cell\""))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_daemon_on_a_file_alerts_exactly_like_replay_and_times_each_detector() {
    let dir = tempdir("replay-parity");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let stem = dir.join("barrage");
    let stem_s = stem.display().to_string();
    // 0.2 s at 30.72 Msps: clean, a barrage jammer from 60 to 160 ms, clean.
    let scenario = root.join("config/scenarios/jam-barrage.toml");
    ssbguard(&[
        "synth",
        "--scenario",
        &scenario.display().to_string(),
        "--out",
        &stem_s,
    ]);
    let total = 6_144_000u64;
    let models = root.join("models");
    for detector in ["classic", "dtddnn"] {
        let replay = ssbguard(&[
            "replay",
            &stem_s,
            "--detector",
            detector,
            "--models",
            &models.display().to_string(),
        ]);
        let want = cell_and_alert_lines(&replay);
        assert!(
            want.iter().any(|l| l.contains("\"raised\"")),
            "{detector}: replay raises: {replay}"
        );

        let jsonl = dir.join(format!("{detector}.jsonl"));
        let c = cfg(&format!(
            "[source]\ntype = \"file\"\npath = {stem_s:?}\npace = \"lossless\"\n\
             [receiver]\ndetector = {detector:?}\nmodels_dir = {:?}\n\
             [sinks.jsonl]\npath = {:?}\n",
            models.display().to_string(),
            jsonl.display().to_string(),
        ));
        // replay's defaults.
        let c = Config {
            alert: ssbguard::detect::alert::AlertConfig::default(),
            ..c
        };
        let d = Daemon::start(c, StartOptions::default()).expect("start");
        let addr = d.local_addr();
        let st = poll(T, "the recording processed to its end", || {
            let st = get_json(addr, "/api/v1/status", None);
            (st["pipeline"]["state"] == "finished").then_some(st)
        });
        // Lossless: every sample processed, nothing dropped, one pass.
        assert_eq!(st["source"]["state"], "ended");
        assert_eq!(st["samples"]["captured"], total);
        assert_eq!(st["samples"]["processed"], total);
        assert_eq!(st["drops"]["queue_full"], 0);
        assert_eq!(st["stream"]["first"]["first_sample"], 0);
        let last = &st["stream"]["last"];
        assert_eq!(
            last["first_sample"]
                .as_u64()
                .zip(last["samples"].as_u64())
                .map(|(a, b)| a + b),
            Some(total),
            "the last block ends the recording"
        );
        assert!(st["pipeline"]["busy_s"].as_f64().is_some_and(|b| b > 0.0));
        assert_eq!(st["models"]["detector"], detector);
        let m = scrape(addr);
        let ssb_decisions: f64 = ["clean", "jammed"]
            .iter()
            .filter_map(|v| {
                m.value(
                    "ssbguard_ssb_decisions_total",
                    &[("pci", "500"), ("verdict", v)],
                )
            })
            .sum();
        let calls = m
            .value(
                "ssbguard_inference_duration_seconds_count",
                &[("model", detector)],
            )
            .unwrap_or(0.0);
        let secs = m
            .value(
                "ssbguard_inference_duration_seconds_sum",
                &[("model", detector)],
            )
            .unwrap_or(0.0);
        // One detector call per SSB decision whose window could be cut (all of them here).
        assert!(
            ssb_decisions > 0.0 && calls == ssb_decisions,
            "{calls} calls, {ssb_decisions} SSB decisions"
        );
        assert!(
            secs > 0.0 && secs / calls < 0.01,
            "{secs} s in {calls} calls"
        );
        let r = d.shutdown();
        assert_eq!(
            (r.captured, r.processed, r.dropped_queue_full),
            (total, total, 0)
        );

        // Byte for byte: cells and alerts (rounded scores included).
        let got = cell_and_alert_lines(&std::fs::read_to_string(&jsonl).expect("jsonl"));
        assert_eq!(got, want, "{detector}: daemon JSONL vs replay");
    }
}

#[test]
fn a_missing_model_refuses_to_start_naming_the_file() {
    let dir = tempdir("nomodel");
    let c = cfg(&format!(
        "[receiver]\ndetector = \"dtddnn\"\nmodels_dir = {:?}\n",
        dir.display().to_string()
    ));
    let err = Daemon::start(c, StartOptions::default())
        .err()
        .expect("refuses to start");
    assert_eq!(err.exit_code(), 64);
    let msg = err.to_string();
    assert!(
        msg.contains("dtddnn.json") && msg.contains("receiver.detector"),
        "{msg}"
    );
    let p = dir.join("ssbguard.toml");
    std::fs::write(
        &p,
        format!(
            "[receiver]\ndetector = \"dtddnn\"\nmodels_dir = {:?}\n",
            dir.display().to_string()
        ),
    )
    .expect("write");
    let e = ssbguard::daemon::check_config(&p).expect_err("no model");
    assert_eq!(e.problems.len(), 1, "{e}");
    assert_eq!(e.problems[0].path, "receiver.detector");
    assert!(e.problems[0].message.contains("dtddnn.json"), "{e}");
    let e = config::parse_str("[receiver]\ndetector = \"svm\"\n").expect_err("unknown");
    assert!(e.to_string().contains("\"dtddnn\""), "{e}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("daemon-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tempdir");
    d
}
