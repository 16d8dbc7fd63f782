//! The daemon's configuration: TOML with `deny_unknown_fields`, parsed into raw structs and
//! then [`RawConfig::validate`]d into a [`Config`], listing every problem with its path and
//! allowed range. `config/ssbguard.toml` documents every key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::detect::alert::AlertConfig;
use crate::io::{DataType, RawFormat};

/// Default HTTP address (CONTRACTS §4: loopback only).
pub const DEFAULT_BIND: &str = "127.0.0.1:9797";

/// One problem: where (`sinks.webhook[1].timeout_s`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Dotted path of the key (or the file, for read and syntax errors).
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// Every problem found in a configuration. Exit code 64 (CONTRACTS §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors {
    /// The file (when read from one).
    pub file: Option<PathBuf>,
    /// The problems, in file order.
    pub problems: Vec<ConfigProblem>,
}

impl ConfigErrors {
    /// Process exit code for a bad configuration.
    pub const EXIT_CODE: i32 = crate::io::EXIT_USAGE;
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}: ", p.display())?,
            None => write!(f, "configuration: ")?,
        }
        let n = self.problems.len();
        write!(f, "{n} problem{}", if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            write!(f, "\n  - {}: {}", p.path, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// How a file or synth source is paced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    /// At the recording's sample rate.
    #[default]
    Realtime,
    /// As fast as the source can read; blocks the pipeline is not ready for are dropped
    /// and counted, as a radio's would be.
    Fast,
    /// As fast as the pipeline processes, dropping nothing: the reader waits for the
    /// pipeline (files and synth only; for batch runs and benchmarks).
    Lossless,
}

/// `[source]`, tagged by `type`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum RawSource {
    /// A SoapySDR device (needs the `soapy` build feature).
    Soapy(RawSoapy),
    /// A recording.
    File(RawFile),
    /// A scenario, or the built-in demo.
    Synth(RawSynth),
}

/// `[source] type = "soapy"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSoapy {
    /// SoapySDR device args, e.g. `"driver=uhd,serial=3100"`.
    #[serde(default)]
    pub args: String,
    /// RX channel.
    #[serde(default)]
    pub channel: usize,
    /// Antenna name (device default when absent).
    #[serde(default)]
    pub antenna: Option<String>,
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Centre frequency, Hz.
    pub center_freq_hz: f64,
    /// Overall gain, dB (absent: AGC must be on).
    #[serde(default)]
    pub gain_db: Option<f64>,
    /// Automatic gain control.
    #[serde(default)]
    pub agc: bool,
    /// Analogue bandwidth, Hz (device default when absent).
    #[serde(default)]
    pub bandwidth_hz: Option<f64>,
    /// Read timeout, s.
    #[serde(default = "d_timeout")]
    pub timeout_s: f64,
    /// First reopen delay after device loss, s.
    #[serde(default = "d_reopen_initial")]
    pub reopen_initial_s: f64,
    /// Longest reopen delay, s.
    #[serde(default = "d_reopen_max")]
    pub reopen_max_s: f64,
}

/// `[source] type = "file"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// SigMF (`X`, `X.sigmf-meta`, `X.sigmf-data`) or raw file.
    pub path: PathBuf,
    /// Raw format `cf32`, `ci16`, `ci8`, `cu8` (absent: SigMF).
    #[serde(default)]
    pub format: Option<String>,
    /// Raw files: sample rate, Hz.
    #[serde(default)]
    pub sample_rate_hz: Option<f64>,
    /// Raw files: centre frequency, Hz.
    #[serde(default)]
    pub center_freq_hz: Option<f64>,
    /// Start over at the end.
    #[serde(default, rename = "loop")]
    pub looping: bool,
    /// `realtime` or `fast`.
    #[serde(default)]
    pub pace: Pace,
}

/// `[source] type = "synth"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSynth {
    /// Scenario file (absent: the built-in demo).
    #[serde(default)]
    pub scenario: Option<PathBuf>,
    /// Start over at the end (next seed).
    #[serde(default = "d_true", rename = "loop")]
    pub looping: bool,
    /// `realtime` or `fast`.
    #[serde(default)]
    pub pace: Pace,
}

/// `[capture]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapture {
    /// Samples per block.
    #[serde(default = "d_block")]
    pub block_samples: usize,
    /// Blocks the capture channel holds.
    #[serde(default = "d_queue")]
    pub queue_blocks: usize,
}

/// `[receiver]`: where the SSB is.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReceiver {
    /// SSB centre minus the source's centre, Hz.
    #[serde(default)]
    pub ssb_offset_hz: Option<f64>,
    /// Absolute SSB centre, Hz (needs the source's centre frequency).
    #[serde(default)]
    pub ssb_freq_hz: Option<f64>,
    /// SCS, kHz (15 or 30; absent: both tried).
    #[serde(default)]
    pub scs_khz: Option<u32>,
    /// Detector: `classic`, `dtddnn`, `single` or `rawiq`.
    #[serde(default = "d_detector")]
    pub detector: String,
    /// Where the model files and cards are (models other than `classic`); absent: the
    /// models built into the binary.
    #[serde(default)]
    pub models_dir: Option<PathBuf>,
}

/// `[alert]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlert {
    /// Raise when this many of the last `raise_n` decisions are jammed.
    #[serde(default = "d_raise_k")]
    pub raise_k: u32,
    /// Raise window.
    #[serde(default = "d_raise_n")]
    pub raise_n: u32,
    /// Clear after this many consecutive clean decisions.
    #[serde(default = "d_clear_m")]
    pub clear_m: u32,
    /// Also raise when one SSB index is jammed in this many consecutive bursts (0: off).
    #[serde(default = "d_raise_same_index")]
    pub raise_same_index: u32,
    /// Alerts kept for `/api/v1/alerts`.
    #[serde(default = "d_history")]
    pub history: usize,
}

/// `[http]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// Listen address.
    #[serde(default = "d_bind")]
    pub bind: String,
    /// Bearer token required on `/api/*`.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// File holding the bearer token (first line).
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    /// Events buffered per SSE client before it is skipped ahead.
    #[serde(default = "d_sse")]
    pub sse_buffer: usize,
}

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// `text` or `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// Filter (`info`, `ssbguard=debug`, ...).
    #[serde(default = "d_level")]
    pub level: String,
    /// Log every decision (at info) too.
    #[serde(default)]
    pub decisions: bool,
}

/// Webhook payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// The alert line of CONTRACTS §2 plus `wall_time`.
    #[default]
    Json,
    /// Alertmanager's `POST /api/v2/alerts` body (a list of alerts).
    Alertmanager,
}

/// `[[sinks.webhook]]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    /// `http://` (or `https://` with the `tls` build feature) URL.
    pub url: String,
    /// `json` or `alertmanager`.
    #[serde(default)]
    pub format: WebhookFormat,
    /// Per-attempt timeout, s.
    #[serde(default = "d_wh_timeout")]
    pub timeout_s: f64,
    /// Retries after the first attempt.
    #[serde(default = "d_wh_retries")]
    pub retries: u32,
    /// First retry delay, s (doubles each retry).
    #[serde(default = "d_wh_backoff")]
    pub backoff_initial_s: f64,
    /// Longest retry delay, s.
    #[serde(default = "d_wh_backoff_max")]
    pub backoff_max_s: f64,
    /// Alerts queued; the oldest is dropped (and counted) when full.
    #[serde(default = "d_wh_queue")]
    pub queue: usize,
    /// Bearer token sent to the receiver.
    #[serde(default)]
    pub bearer_token: Option<String>,
}

/// `[sinks.jsonl]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawJsonl {
    /// File, opened for append.
    pub path: PathBuf,
    /// Write decisions too (alerts and cell events always).
    #[serde(default)]
    pub decisions: bool,
}

/// `[sinks]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawSinks {
    /// Append-only JSON lines.
    #[serde(default)]
    pub jsonl: Option<RawJsonl>,
    /// Webhooks.
    #[serde(default)]
    pub webhook: Vec<RawWebhook>,
}

/// `[shutdown]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShutdown {
    /// Everything stops within this, s.
    #[serde(default = "d_deadline")]
    pub deadline_s: f64,
}

/// The file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Source (absent: the built-in demo).
    #[serde(default)]
    pub source: Option<RawSource>,
    /// Capture thread.
    #[serde(default = "d_capture")]
    pub capture: RawCapture,
    /// Receiver.
    #[serde(default = "d_receiver")]
    pub receiver: RawReceiver,
    /// Alerting.
    #[serde(default = "d_alert")]
    pub alert: RawAlert,
    /// HTTP.
    #[serde(default = "d_http")]
    pub http: RawHttp,
    /// Logging.
    #[serde(default = "d_log")]
    pub log: RawLog,
    /// Sinks.
    #[serde(default)]
    pub sinks: RawSinks,
    /// Shutdown.
    #[serde(default = "d_shutdown")]
    pub shutdown: RawShutdown,
}

fn d_true() -> bool {
    true
}
fn d_timeout() -> f64 {
    0.5
}
fn d_reopen_initial() -> f64 {
    0.5
}
fn d_reopen_max() -> f64 {
    30.0
}
fn d_block() -> usize {
    1 << 16
}
fn d_queue() -> usize {
    // 128 blocks of 65536 samples = 137 ms at 61.44 Msps: a re-acquisition window's
    // burst of DSP work and scheduler hiccups fit. Buffers are allocated only while the
    // queue is that deep (see `source::capture::BufferPool`).
    128
}
fn d_detector() -> String {
    "dtddnn".into()
}
fn d_raise_k() -> u32 {
    AlertConfig::default().raise_k
}
fn d_raise_n() -> u32 {
    AlertConfig::default().raise_n
}
fn d_clear_m() -> u32 {
    AlertConfig::default().clear_m
}
fn d_raise_same_index() -> u32 {
    AlertConfig::default().raise_same_index
}
fn d_history() -> usize {
    256
}
fn d_bind() -> String {
    DEFAULT_BIND.into()
}
fn d_sse() -> usize {
    1024
}
fn d_level() -> String {
    "info".into()
}
fn d_wh_timeout() -> f64 {
    5.0
}
fn d_wh_retries() -> u32 {
    3
}
fn d_wh_backoff() -> f64 {
    0.5
}
fn d_wh_backoff_max() -> f64 {
    30.0
}
fn d_wh_queue() -> usize {
    256
}
fn d_deadline() -> f64 {
    10.0
}
fn d_capture() -> RawCapture {
    RawCapture {
        block_samples: d_block(),
        queue_blocks: d_queue(),
    }
}
fn d_receiver() -> RawReceiver {
    RawReceiver {
        ssb_offset_hz: None,
        ssb_freq_hz: None,
        scs_khz: None,
        detector: d_detector(),
        models_dir: None,
    }
}
fn d_alert() -> RawAlert {
    RawAlert {
        raise_k: d_raise_k(),
        raise_n: d_raise_n(),
        clear_m: d_clear_m(),
        raise_same_index: d_raise_same_index(),
        history: d_history(),
    }
}
fn d_http() -> RawHttp {
    RawHttp {
        bind: d_bind(),
        bearer_token: None,
        bearer_token_file: None,
        sse_buffer: d_sse(),
    }
}
fn d_log() -> RawLog {
    RawLog {
        format: LogFormat::Text,
        level: d_level(),
        decisions: false,
    }
}
fn d_shutdown() -> RawShutdown {
    RawShutdown {
        deadline_s: d_deadline(),
    }
}

/// A validated source.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceConfig {
    /// SoapySDR.
    Soapy(SoapyConfig),
    /// A recording.
    File {
        /// Path.
        path: PathBuf,
        /// Raw format (None: SigMF).
        raw: Option<RawFormat>,
        /// Loop.
        looping: bool,
        /// Pace.
        pace: Pace,
    },
    /// A scenario file or the built-in demo (`None`).
    Synth {
        /// Scenario file.
        scenario: Option<PathBuf>,
        /// Loop.
        looping: bool,
        /// Pace.
        pace: Pace,
    },
}

impl SourceConfig {
    /// How a file or synth source is paced (`None` for a device).
    pub fn pace(&self) -> Option<Pace> {
        match self {
            SourceConfig::Soapy(_) => None,
            SourceConfig::File { pace, .. } | SourceConfig::Synth { pace, .. } => Some(*pace),
        }
    }
}

/// A validated SoapySDR source.
#[derive(Clone, Debug, PartialEq)]
pub struct SoapyConfig {
    /// Device args.
    pub args: String,
    /// RX channel.
    pub channel: usize,
    /// Antenna.
    pub antenna: Option<String>,
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Centre frequency, Hz.
    pub center_freq_hz: f64,
    /// Gain, dB (None with AGC).
    pub gain_db: Option<f64>,
    /// AGC.
    pub agc: bool,
    /// Analogue bandwidth.
    pub bandwidth_hz: Option<f64>,
    /// Read timeout.
    pub timeout: Duration,
    /// First reopen delay.
    pub reopen_initial: Duration,
    /// Longest reopen delay.
    pub reopen_max: Duration,
}

/// Where the SSB is (validated `[receiver]`).
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiverConfig {
    /// SSB offset from the source centre.
    pub ssb_offset_hz: Option<f64>,
    /// Absolute SSB frequency.
    pub ssb_freq_hz: Option<f64>,
    /// SCS in kHz.
    pub scs_khz: Option<u32>,
    /// Detector name (one of [`crate::detect::dnn::KINDS`]).
    pub detector: String,
    /// Where the cards and ONNX files come from.
    pub models: crate::detect::dnn::Models,
}

/// A validated webhook.
pub type WebhookConfig = RawWebhook;
/// Validated sinks (what SIGHUP can change, with `[alert]` and `[log] decisions`).
pub type SinksConfig = RawSinks;

/// A validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Source.
    pub source: SourceConfig,
    /// Samples per block.
    pub block_samples: usize,
    /// Capture channel depth, blocks.
    pub queue_blocks: usize,
    /// Receiver.
    pub receiver: ReceiverConfig,
    /// Alert thresholds.
    pub alert: AlertConfig,
    /// Alert history length.
    pub alert_history: usize,
    /// HTTP address.
    pub bind: SocketAddr,
    /// Bearer token for `/api/*`.
    pub bearer_token: Option<String>,
    /// SSE buffer per client.
    pub sse_buffer: usize,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_level: String,
    /// Log decisions.
    pub log_decisions: bool,
    /// Sinks.
    pub sinks: SinksConfig,
    /// Shutdown deadline.
    pub shutdown_deadline: Duration,
}

impl Config {
    /// The embedded demo: synth source, built-in scenario, defaults everywhere.
    pub fn demo() -> Config {
        // The defaults are valid by construction (checked by a unit test).
        match parse_str("") {
            Ok(c) => c,
            Err(e) => panic!("built-in defaults: {e}"),
        }
    }

    /// The parts SIGHUP can change differ from `other` in something SIGHUP cannot change
    /// (source, capture, receiver, HTTP, log format/level, shutdown): the names of those
    /// sections.
    pub fn restart_needed_for(&self, other: &Config) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.source != other.source {
            v.push("source");
        }
        if self.block_samples != other.block_samples || self.queue_blocks != other.queue_blocks {
            v.push("capture");
        }
        if self.receiver != other.receiver {
            v.push("receiver");
        }
        if self.bind != other.bind
            || self.bearer_token != other.bearer_token
            || self.sse_buffer != other.sse_buffer
        {
            v.push("http");
        }
        if self.log_format != other.log_format || self.log_level != other.log_level {
            v.push("log");
        }
        if self.shutdown_deadline != other.shutdown_deadline {
            v.push("shutdown");
        }
        v
    }
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigErrors {
        file: Some(path.to_owned()),
        problems: vec![ConfigProblem {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
        }],
    })?;
    parse_str(&text).map_err(|mut e| {
        e.file = Some(path.to_owned());
        e
    })
}

/// Parses and validates configuration text.
pub fn parse_str(text: &str) -> Result<Config, ConfigErrors> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigErrors {
        file: None,
        problems: vec![ConfigProblem {
            path: "(syntax)".into(),
            message: e.to_string().trim_end().replace('\n', "\n    "),
        }],
    })?;
    raw.validate()
}

struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            path: path.into(),
            message: message.into(),
        });
    }
    fn range_f(&mut self, path: &str, v: f64, lo: f64, hi: f64, unit: &str) {
        if !(v.is_finite() && v >= lo && v <= hi) {
            self.push(
                path,
                format!("{v} is out of range: allowed {lo}..={hi} {unit}"),
            );
        }
    }
    fn range_u(&mut self, path: &str, v: u64, lo: u64, hi: u64) {
        if !(lo..=hi).contains(&v) {
            self.push(path, format!("{v} is out of range: allowed {lo}..={hi}"));
        }
    }
    fn secs(&mut self, path: &str, v: f64, lo: f64, hi: f64) -> Duration {
        self.range_f(path, v, lo, hi, "s");
        Duration::from_secs_f64(if v.is_finite() { v.clamp(lo, hi) } else { lo })
    }
}

impl RawConfig {
    /// Checks every value; lists every problem at once.
    pub fn validate(self) -> Result<Config, ConfigErrors> {
        let mut p = Problems(Vec::new());
        let source = match self.source {
            None => SourceConfig::Synth {
                scenario: None,
                looping: true,
                pace: Pace::Realtime,
            },
            Some(RawSource::Synth(s)) => SourceConfig::Synth {
                scenario: s.scenario,
                looping: s.looping,
                pace: s.pace,
            },
            Some(RawSource::File(f)) => {
                let raw = match &f.format {
                    None => {
                        for (k, v) in [
                            ("sample_rate_hz", f.sample_rate_hz),
                            ("center_freq_hz", f.center_freq_hz),
                        ] {
                            if v.is_some() {
                                p.push(
                                    format!("source.{k}"),
                                    "only for raw files (with source.format); SigMF files carry it",
                                );
                            }
                        }
                        None
                    }
                    Some(fmt) => {
                        let dt = match fmt.as_str() {
                            "cf32" | "cf32_le" => Some(DataType::Cf32Le),
                            "ci16" | "ci16_le" => Some(DataType::Ci16Le),
                            "ci8" => Some(DataType::Ci8),
                            "cu8" => Some(DataType::Cu8),
                            _ => None,
                        };
                        if dt.is_none() {
                            p.push(
                                "source.format",
                                format!(
                                    "{fmt:?} is not a raw format: allowed cf32, ci16, ci8, cu8"
                                ),
                            );
                        }
                        let rate = match f.sample_rate_hz {
                            Some(r) => {
                                p.range_f("source.sample_rate_hz", r, 1e3, 1e9, "Hz");
                                r
                            }
                            None => {
                                p.push("source.sample_rate_hz", "required for raw files");
                                0.0
                            }
                        };
                        if let Some(c) = f.center_freq_hz {
                            p.range_f("source.center_freq_hz", c, 0.0, 1e11, "Hz");
                        }
                        dt.map(|datatype| RawFormat {
                            datatype,
                            sample_rate_hz: rate,
                            center_freq_hz: f.center_freq_hz,
                        })
                    }
                };
                SourceConfig::File {
                    path: f.path,
                    raw,
                    looping: f.looping,
                    pace: f.pace,
                }
            }
            Some(RawSource::Soapy(s)) => {
                if !cfg!(feature = "soapy") {
                    p.push(
                        "source.type",
                        "\"soapy\" needs ssbguard built with `--features soapy`",
                    );
                }
                p.range_f("source.sample_rate_hz", s.sample_rate_hz, 1e5, 1e9, "Hz");
                p.range_f("source.center_freq_hz", s.center_freq_hz, 1e6, 1e11, "Hz");
                p.range_u("source.channel", s.channel as u64, 0, 63);
                if let Some(g) = s.gain_db {
                    p.range_f("source.gain_db", g, -50.0, 200.0, "dB");
                    if s.agc {
                        p.push(
                            "source.gain_db",
                            "give either gain_db or agc = true, not both",
                        );
                    }
                } else if !s.agc {
                    p.push("source.gain_db", "required unless agc = true");
                }
                if let Some(b) = s.bandwidth_hz {
                    p.range_f("source.bandwidth_hz", b, 1e3, 1e9, "Hz");
                }
                let timeout = p.secs("source.timeout_s", s.timeout_s, 0.01, 60.0);
                let reopen_initial =
                    p.secs("source.reopen_initial_s", s.reopen_initial_s, 0.01, 3600.0);
                let reopen_max = p.secs("source.reopen_max_s", s.reopen_max_s, 0.01, 3600.0);
                if s.reopen_max_s < s.reopen_initial_s {
                    p.push("source.reopen_max_s", "must be ≥ reopen_initial_s");
                }
                SourceConfig::Soapy(SoapyConfig {
                    args: s.args,
                    channel: s.channel,
                    antenna: s.antenna,
                    sample_rate_hz: s.sample_rate_hz,
                    center_freq_hz: s.center_freq_hz,
                    gain_db: s.gain_db,
                    agc: s.agc,
                    bandwidth_hz: s.bandwidth_hz,
                    timeout,
                    reopen_initial,
                    reopen_max,
                })
            }
        };

        p.range_u(
            "capture.block_samples",
            self.capture.block_samples as u64,
            256,
            1 << 22,
        );
        p.range_u(
            "capture.queue_blocks",
            self.capture.queue_blocks as u64,
            1,
            4096,
        );

        let r = &self.receiver;
        if r.ssb_offset_hz.is_some() && r.ssb_freq_hz.is_some() {
            p.push(
                "receiver.ssb_freq_hz",
                "give ssb_freq_hz or ssb_offset_hz, not both",
            );
        }
        if let Some(o) = r.ssb_offset_hz {
            p.range_f("receiver.ssb_offset_hz", o, -5e8, 5e8, "Hz");
        }
        if let Some(f) = r.ssb_freq_hz {
            p.range_f("receiver.ssb_freq_hz", f, 1e6, 1e11, "Hz");
        }
        if let Some(s) = r.scs_khz
            && s != 15
            && s != 30
        {
            p.push("receiver.scs_khz", format!("{s} is not allowed: 15 or 30"));
        }
        if !crate::detect::dnn::KINDS.contains(&r.detector.as_str()) {
            p.push(
                "receiver.detector",
                format!(
                    "{:?} is not a detector: allowed {}",
                    r.detector,
                    crate::detect::dnn::KINDS
                        .iter()
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }

        let alert = AlertConfig {
            raise_k: self.alert.raise_k,
            raise_n: self.alert.raise_n,
            clear_m: self.alert.clear_m,
            raise_same_index: self.alert.raise_same_index,
        };
        for q in alert.problems() {
            p.push(
                format!("alert.{}", q.field),
                format!("{} is out of range: allowed {}", q.value, q.allowed),
            );
        }
        p.range_u("alert.history", self.alert.history as u64, 1, 100_000);

        let bind = match self.http.bind.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => {
                p.push(
                    "http.bind",
                    format!(
                        "{:?} is not an address: expected IP:PORT, e.g. {DEFAULT_BIND}",
                        self.http.bind
                    ),
                );
                // Placeholder, never used: validation fails.
                SocketAddr::from(([127, 0, 0, 1], 9797))
            }
        };
        let token = match (&self.http.bearer_token, &self.http.bearer_token_file) {
            (Some(_), Some(_)) => {
                p.push(
                    "http.bearer_token_file",
                    "give bearer_token or bearer_token_file, not both",
                );
                None
            }
            (Some(t), None) => Some(t.clone()),
            (None, Some(f)) => match std::fs::read_to_string(f) {
                Ok(s) => Some(s.lines().next().unwrap_or("").trim().to_owned()),
                Err(e) => {
                    p.push("http.bearer_token_file", format!("{}: {e}", f.display()));
                    None
                }
            },
            (None, None) => None,
        };
        if let Some(t) = &token
            && (t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            p.push(
                "http.bearer_token",
                "must be non-empty without spaces or control characters",
            );
        }
        p.range_u("http.sse_buffer", self.http.sse_buffer as u64, 16, 1 << 20);

        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            p.push(
                "log.level",
                format!(
                    "{:?} is not a filter: e.g. \"info\", \"warn\", \"ssbguard=debug\"",
                    self.log.level
                ),
            );
        }

        for (i, w) in self.sinks.webhook.iter().enumerate() {
            let at = |k: &str| format!("sinks.webhook[{i}].{k}");
            let https = w.url.starts_with("https://");
            if !(w.url.starts_with("http://") || https) || w.url.len() < 9 {
                p.push(
                    at("url"),
                    format!("{:?} is not an http:// or https:// URL", w.url),
                );
            } else if https && !cfg!(feature = "tls") {
                p.push(
                    at("url"),
                    "https:// needs ssbguard built with `--features tls`",
                );
            }
            p.range_f(&at("timeout_s"), w.timeout_s, 0.01, 300.0, "s");
            p.range_u(&at("retries"), u64::from(w.retries), 0, 100);
            p.range_f(
                &at("backoff_initial_s"),
                w.backoff_initial_s,
                0.001,
                3600.0,
                "s",
            );
            p.range_f(&at("backoff_max_s"), w.backoff_max_s, 0.001, 3600.0, "s");
            p.range_u(&at("queue"), w.queue as u64, 1, 100_000);
        }
        let deadline = p.secs("shutdown.deadline_s", self.shutdown.deadline_s, 0.1, 600.0);

        if !p.0.is_empty() {
            return Err(ConfigErrors {
                file: None,
                problems: p.0,
            });
        }
        Ok(Config {
            source,
            block_samples: self.capture.block_samples,
            queue_blocks: self.capture.queue_blocks,
            receiver: ReceiverConfig {
                ssb_offset_hz: r.ssb_offset_hz,
                ssb_freq_hz: r.ssb_freq_hz,
                scs_khz: r.scs_khz,
                detector: r.detector.clone(),
                models: crate::detect::dnn::Models::from_option(r.models_dir.clone()),
            },
            alert,
            alert_history: self.alert.history,
            bind,
            bearer_token: token,
            sse_buffer: self.http.sse_buffer,
            log_format: self.log.format,
            log_level: self.log.level,
            log_decisions: self.log.decisions,
            sinks: self.sinks,
            shutdown_deadline: deadline,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_demo_on_loopback() {
        let c = Config::demo();
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        assert!(matches!(
            c.source,
            SourceConfig::Synth {
                scenario: None,
                looping: true,
                ..
            }
        ));
        assert_eq!(c.alert, AlertConfig::default());
    }

    #[test]
    fn every_problem_is_listed_with_its_path() {
        let text = r#"
[source]
type = "file"
path = "x.cf32"
format = "cf99"
[capture]
queue_blocks = 0
[alert]
raise_k = 9
raise_n = 4
raise_same_index = 99
[http]
bind = "nowhere"
[[sinks.webhook]]
url = "ftp://x"
timeout_s = -1
[shutdown]
deadline_s = 0
"#;
        let e = parse_str(text).expect_err("invalid");
        let paths: Vec<_> = e.problems.iter().map(|p| p.path.as_str()).collect();
        for want in [
            "source.format",
            "source.sample_rate_hz",
            "capture.queue_blocks",
            "alert.raise_k",
            "alert.raise_same_index",
            "http.bind",
            "sinks.webhook[0].url",
            "sinks.webhook[0].timeout_s",
            "shutdown.deadline_s",
        ] {
            assert!(paths.contains(&want), "{want} missing from {paths:?}");
        }
        let msg = e.to_string();
        assert!(msg.contains("allowed 1..=4096"), "{msg}");
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let e = parse_str("[alert]\nraise_kk = 3\n").expect_err("unknown key");
        assert!(e.to_string().contains("raise_kk"), "{e}");
        let e = parse_str("[source]\ntype = \"synth\"\nscenaro = \"x\"\n").expect_err("unknown");
        assert!(e.to_string().contains("scenaro"), "{e}");
        let e = parse_str("[source]\ntype = \"radio\"\n").expect_err("bad tag");
        assert!(e.to_string().contains("radio"), "{e}");
    }

    #[test]
    fn detectors_models_and_lossless_pace() {
        let c = parse_str(
            "[source]\ntype = \"file\"\npath = \"x\"\npace = \"lossless\"\n\
             [receiver]\ndetector = \"dtddnn\"\nmodels_dir = \"/opt/m\"\n",
        )
        .expect("valid");
        assert_eq!(c.source.pace(), Some(Pace::Lossless));
        assert_eq!(c.receiver.detector, "dtddnn");
        assert_eq!(
            c.receiver.models,
            crate::detect::dnn::Models::Dir("/opt/m".into())
        );
        assert_eq!(Config::demo().receiver.detector, "dtddnn");
        assert_eq!(
            Config::demo().receiver.models,
            crate::detect::dnn::Models::BuiltIn
        );
        for k in crate::detect::dnn::KINDS {
            assert!(
                parse_str(&format!("[receiver]\ndetector = {k:?}\n")).is_ok(),
                "{k}"
            );
        }
        let e = parse_str("[receiver]\ndetector = \"svm\"\n").expect_err("unknown");
        assert_eq!(e.problems[0].path, "receiver.detector");
        assert!(e.problems[0].message.contains("\"rawiq\""), "{e}");
    }

    #[test]
    fn soapy_needs_gain_or_agc() {
        let e = parse_str(
            "[source]\ntype = \"soapy\"\nsample_rate_hz = 30.72e6\ncenter_freq_hz = 3.5e9\n",
        )
        .expect_err("no gain");
        assert!(e.problems.iter().any(|p| p.path == "source.gain_db"));
    }

    #[test]
    fn restart_needed_names_the_sections() {
        let a = Config::demo();
        let mut b = a.clone();
        b.alert.clear_m = 20;
        b.sinks.jsonl = Some(RawJsonl {
            path: "x".into(),
            decisions: false,
        });
        assert!(a.restart_needed_for(&b).is_empty());
        b.bind = "127.0.0.1:1".parse().expect("addr");
        assert_eq!(a.restart_needed_for(&b), ["http"]);
    }
}
