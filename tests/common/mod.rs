//! Helpers for the daemon tests: a small HTTP client, polling with a deadline, a metrics
//! parser, a webhook receiver, an SSE reader and stand-in processors.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use num_complex::Complex32;
use ssbguard::daemon::Processor;
use ssbguard::events::{Decision, Event};
use ssbguard::pipeline::PipelineStatus;

/// Polls `f` until it returns `Some`, or panics with `what` after `timeout`.
pub fn poll<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::yield_now();
        // A short pause between polls keeps the busy machine usable; the condition, not
        // the pause, decides.
        std::thread::park_timeout(Duration::from_millis(20));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .proxy(None)
            .build(),
    )
}

/// GET `path`; (status, body).
pub fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let mut req = agent().get(format!("http://{addr}{path}"));
    if let Some(t) = token {
        req = req.header("authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

/// GET and parse JSON.
pub fn get_json(addr: SocketAddr, path: &str, token: Option<&str>) -> serde_json::Value {
    let (code, body) = get(addr, path, token);
    assert_eq!(code, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// One sample line: (name, labels, value).
pub type Sample = (String, Vec<(String, String)>, f64);

/// Parsed Prometheus text: (name, labels, value) per sample line; HELP names.
pub struct Scrape {
    pub samples: Vec<Sample>,
    pub help: Vec<String>,
}

impl Scrape {
    pub fn parse(text: &str) -> Scrape {
        let mut samples = Vec::new();
        let mut help = Vec::new();
        for line in text.lines() {
            if let Some(h) = line.strip_prefix("# HELP ") {
                help.push(h.split(' ').next().unwrap_or("").to_owned());
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (head, value) = line.rsplit_once(' ').expect("sample line has a value");
            let value: f64 = value.parse().expect("sample value is a number");
            let (name, labels) = match head.split_once('{') {
                Some((n, rest)) => {
                    let rest = rest.strip_suffix('}').expect("labels close");
                    let labels = rest
                        .split("\",")
                        .filter(|s| !s.is_empty())
                        .map(|kv| {
                            let (k, v) = kv.split_once("=\"").expect("label k=\"v\"");
                            (k.to_owned(), v.trim_end_matches('"').to_owned())
                        })
                        .collect();
                    (n.to_owned(), labels)
                }
                None => (head.to_owned(), Vec::new()),
            };
            samples.push((name, labels, value));
        }
        Scrape { samples, help }
    }

    /// Value of `name` with all of `labels`, if present.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v))
            })
            .map(|s| s.2)
    }
}

pub fn scrape(addr: SocketAddr) -> Scrape {
    let (code, body) = get(addr, "/metrics", None);
    assert_eq!(code, 200);
    Scrape::parse(&body)
}

/// A one-thread HTTP server that records POST bodies and answers `status` (or never
/// answers when `hang`).
pub struct WebhookServer {
    pub addr: SocketAddr,
    pub bodies: crossbeam_channel::Receiver<(String, String)>,
}

impl WebhookServer {
    pub fn start(status: u16, hang: bool) -> WebhookServer {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let (tx, rx) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in l.incoming() {
                let Ok(mut s) = conn else { continue };
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                let mut head = String::new();
                let mut len = 0usize;
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    head.push_str(&line);
                    line.clear();
                }
                let mut body = vec![0u8; len];
                let _ = r.read_exact(&mut body);
                let _ = tx.send((head, String::from_utf8_lossy(&body).into_owned()));
                if hang {
                    held.push(s);
                    continue;
                }
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        WebhookServer { addr, bodies: rx }
    }
}

/// Reads SSE events `(event, data)` from `/api/v1/events` on a thread.
pub fn sse(addr: SocketAddr, token: Option<&str>) -> crossbeam_channel::Receiver<(String, String)> {
    let mut s = TcpStream::connect(addr).expect("connect");
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET /api/v1/events HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n{auth}\r\n"
    )
    .expect("write");
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        let r = BufReader::new(s);
        let mut event = String::new();
        for line in r.lines() {
            let Ok(line) = line else { return };
            if let Some(e) = line.strip_prefix("event: ") {
                event = e.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ")
                && tx.send((event.clone(), d.to_owned())).is_err()
            {
                return;
            }
        }
    });
    rx
}

/// A stand-in detector: one decision per 20 ms of signal, jammed when the mean power
/// exceeds `threshold` (full-scale units). PCI 500.
pub struct PowerDetector {
    pub rate: f64,
    pub threshold: f64,
    window: u64,
    acc: f64,
    n: u64,
    start: u64,
    next: Option<u64>,
    pub status: PipelineStatus,
}

impl PowerDetector {
    pub fn new(rate: f64, threshold: f64) -> PowerDetector {
        PowerDetector {
            rate,
            threshold,
            window: (rate * 0.02) as u64,
            acc: 0.0,
            n: 0,
            start: 0,
            next: None,
            status: PipelineStatus::default(),
        }
    }
}

pub fn decision(sample: u64, rate: f64, jammed: bool, score: f64) -> Decision {
    Decision {
        kind: "decision",
        sample,
        samples: (rate * 0.02) as u64,
        time_s: sample as f64 / rate,
        pci: Some(500),
        ssb_index: Some(0),
        ssb_found: true,
        jammed,
        score,
        detector: "classic",
        stage: 1,
        sjnr_est_db: Some(if jammed { 3.0 } else { 25.0 }),
        epnre_rise_db: Some(if jammed { 10.0 } else { 0.0 }),
        jammer_type: None,
        latency_s: 0.0,
        features: None,
    }
}

impl Processor for PowerDetector {
    fn push(&mut self, first: u64, samples: &[Complex32], out: &mut Vec<Event>) {
        if self.next != Some(first) {
            // Discontinuity: start a fresh window.
            self.acc = 0.0;
            self.n = 0;
            self.start = first;
        }
        self.next = Some(first + samples.len() as u64);
        self.status.samples += samples.len() as u64;
        for s in samples {
            self.acc += f64::from(s.norm_sqr());
            self.n += 1;
            if self.n == self.window {
                let p = self.acc / self.n as f64;
                let jammed = p > self.threshold;
                let score = (p / (2.0 * self.threshold)).min(1.0);
                out.push(Event::Decision(decision(
                    self.start, self.rate, jammed, score,
                )));
                self.start += self.n;
                self.acc = 0.0;
                self.n = 0;
            }
        }
    }
    fn finish(&mut self, _out: &mut Vec<Event>) {}
    fn status(&self) -> PipelineStatus {
        self.status.clone()
    }
}

/// A short 15 kHz scenario at 3.84 Msps: a cell, and a barrage jammer (JNR 20 dB) on
/// from 0.3 to 0.6 s of each 1 s loop.
pub const SCENARIO: &str = r#"
duration_s = 1.0
sample_rate_hz = 3.84e6
seed = 7
noise_power_dbfs = -60.0
[[gnb]]
pci = 500
scs_khz = 15
snr_db = 10.0
frame_offset_s = 0.0
[[jammer]]
type = "barrage"
jnr_db = 20.0
episodes = [{ start_s = 0.3, stop_s = 0.6 }]
"#;

/// Noise is -60 dBFS = 1e-6; the jammer adds ~100x that.
pub const POWER_THRESHOLD: f64 = 1e-5;
