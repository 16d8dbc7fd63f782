//! The daemon (`ssbguard run`): capture thread → bounded channel → pipeline thread →
//! alerting → sinks and HTTP. The only module that touches sockets, signals and systemd.
//!
//! Threads: `ssbguard-capture` (owns the source, [`crate::source::capture`]),
//! `ssbguard-dsp` (runs the [`Processor`], the alert state machines and publishes events),
//! `ssbguard-sinks` plus one per webhook ([`sinks`]), and `ssbguard-http` (a
//! single-threaded tokio runtime with the axum server and the readiness/watchdog ticker).
//! tokio lives at the edge only.
//!
//! Alerting: the daemon runs its own [`AlertBank`] over the pipeline's decisions (with the
//! same [`AlertMachine`](crate::detect::alert::AlertMachine) code `replay` uses, and the
//! same 4-decimal rounding of the alert score inside the bank, so its alerts are `replay`'s
//! byte for byte) so that SIGHUP can change the thresholds without rebuilding the pipeline;
//! `alert` events coming out of the pipeline itself are ignored here.
//!
//! Detectors: `[receiver] detector` (default `dtddnn`) is loaded at start from
//! `models_dir`, or from the models built into the binary when it is absent (a bad or missing
//! model refuses to start, exit 64) and wrapped so that every call is timed into
//! `ssbguard_inference_duration_seconds{model}`.
//!
//! Pacing: `pace = "lossless"` (files and synth) lets the capture thread wait for the
//! pipeline ([`Credit`]) instead of dropping: the whole recording is processed as fast as
//! the pipeline goes, which is how throughput is benchmarked (`bench/daemon_perf.sh`).
//!
//! Shutdown ([`Daemon::shutdown`]) runs in order within one deadline: stop capture, drain
//! the channel through the pipeline, flush the sinks (webhooks get what is left of the
//! deadline), stop HTTP.

pub mod config;
mod http;
mod logging;
pub mod metrics;
pub mod notify;
pub mod sinks;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use num_complex::Complex32;

use crate::detect::alert::{AlertBank, AlertConfig};
use crate::detect::classic::ClassicVerdict;
use crate::detect::dnn::ModelError;
use crate::events::{Alert, AlertState, CellState, Event};
use crate::features;
use crate::pipeline::{
    DetectorKind, ModelDetector, ModelVerdict, Pipeline, PipelineConfig, PipelineError,
    PipelineStatus, SsbLocation,
};
use crate::source::capture::BlockReceiver;
use crate::source::file::FileSource;
use crate::source::synth::SynthSource;
use crate::source::{
    CaptureConfig, CaptureHandle, CaptureState, IqSource, SourceError, SourceInfo, SourceRead,
};

pub use config::{Config, ConfigErrors, ConfigProblem, SourceConfig};
pub use logging::init_logging;
pub use metrics::Metrics;
pub use notify::Notifier;

/// Anything that stops the daemon from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Bad configuration (every problem listed).
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// The source could not be opened.
    #[error("source: {0}")]
    Source(#[from] SourceError),
    /// The pipeline rejected the configuration.
    #[error("receiver: {0}")]
    Pipeline(#[from] PipelineError),
    /// The configured detector's model could not be loaded (missing, unreadable, or built
    /// for another feature schema).
    #[error("receiver.detector {detector:?}: {source}")]
    Model {
        /// The detector.
        detector: String,
        /// Why.
        source: ModelError,
    },
    /// The HTTP address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A sink could not be started (JSONL file not writable).
    #[error("sink: {0}")]
    Sink(std::io::Error),
    /// A thread or runtime could not be started, or signals could not be installed.
    #[error("{what}: {source}")]
    System {
        /// What was being started.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The source failed for good while running.
    #[error("source failed: {0}")]
    SourceFailed(String),
}

impl DaemonError {
    /// Process exit code (CONTRACTS §1): 64 bad configuration, 65 unreadable or malformed
    /// input file, 1 anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            DaemonError::Config(_) | DaemonError::Pipeline(_) | DaemonError::Model { .. } => {
                crate::io::EXIT_USAGE
            }
            DaemonError::Source(SourceError::Io(e)) => e.exit_code(),
            DaemonError::Source(SourceError::Scenario { .. }) => crate::io::EXIT_USAGE,
            _ => crate::io::EXIT_OTHER,
        }
    }
}

/// What the daemon runs on each block: the [`Pipeline`], or a stand-in in tests.
pub trait Processor: Send {
    /// As [`Pipeline::push`].
    fn push(&mut self, first_sample: u64, samples: &[Complex32], out: &mut Vec<Event>);
    /// As [`Pipeline::finish`].
    fn finish(&mut self, out: &mut Vec<Event>);
    /// A snapshot of [`Pipeline::status`].
    fn status(&self) -> PipelineStatus;
}

impl Processor for Pipeline {
    fn push(&mut self, first_sample: u64, samples: &[Complex32], out: &mut Vec<Event>) {
        Pipeline::push(self, first_sample, samples, out);
    }
    fn finish(&mut self, out: &mut Vec<Event>) {
        Pipeline::finish(self, out);
    }
    fn status(&self) -> PipelineStatus {
        Pipeline::status(self).clone()
    }
}

/// Builds the processor once the source is open (it needs the sample rate).
pub type ProcessorFactory =
    Box<dyn FnOnce(&SourceInfo) -> Result<Box<dyn Processor>, DaemonError> + Send>;

/// Test and embedding hooks for [`Daemon::start`]; [`run`] uses the defaults plus the
/// systemd environment.
#[derive(Default)]
pub struct StartOptions {
    /// Use this source instead of the configured one.
    pub source: Option<Box<dyn IqSource>>,
    /// Use this processor instead of the [`Pipeline`].
    pub processor: Option<ProcessorFactory>,
    /// systemd notifications.
    pub notifier: Option<Notifier>,
    /// Send `WATCHDOG=1` this often (while samples flow).
    pub watchdog: Option<Duration>,
}

/// The [`PipelineConfig`] for a source and a `[receiver]` section.
pub fn pipeline_config(cfg: &Config, info: &SourceInfo) -> Result<PipelineConfig, DaemonError> {
    let r = &cfg.receiver;
    let scs = r.scs_khz.and_then(crate::nr::Scs::from_khz);
    let ssb = match (r.ssb_offset_hz, r.ssb_freq_hz) {
        (Some(o), _) => SsbLocation::Given { offset_hz: o, scs },
        (None, Some(f)) => match info.center_freq_hz {
            Some(c) => SsbLocation::Given {
                offset_hz: f - c,
                scs,
            },
            None => {
                return Err(ConfigErrors {
                    file: None,
                    problems: vec![ConfigProblem {
                        path: "receiver.ssb_freq_hz".into(),
                        message: "the source has no centre frequency; give ssb_offset_hz".into(),
                    }],
                }
                .into());
            }
        },
        (None, None) => match info.ssb_hint {
            Some(h) => SsbLocation::Given {
                offset_hz: h.offset_hz,
                scs: scs.or(crate::nr::Scs::from_khz(h.scs_khz)),
            },
            None => SsbLocation::Raster { scs },
        },
    };
    Ok(PipelineConfig {
        sample_rate_hz: info.sample_rate_hz,
        center_freq_hz: info.center_freq_hz,
        ssb,
        detector: DetectorKind::Classic,
        alert: cfg.alert,
        emit_features: false,
    })
}

/// Opens the configured source.
pub fn open_source(cfg: &Config) -> Result<Box<dyn IqSource>, DaemonError> {
    use config::Pace;
    Ok(match &cfg.source {
        SourceConfig::File {
            path,
            raw,
            looping,
            pace,
        } => Box::new(FileSource::open(
            path,
            raw.as_ref(),
            *looping,
            *pace == Pace::Realtime,
        )?),
        SourceConfig::Synth {
            scenario: None,
            looping,
            pace,
        } => {
            let mut s = SynthSource::demo(*pace == Pace::Realtime)?;
            if !*looping {
                s = SynthSource::new(
                    s.scenario().clone(),
                    "built-in demo",
                    false,
                    true,
                    *pace == Pace::Realtime,
                )?;
            }
            Box::new(s)
        }
        SourceConfig::Synth {
            scenario: Some(path),
            looping,
            pace,
        } => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| SourceError::Scenario {
                name: name.clone(),
                message: e.to_string(),
            })?;
            let scn = crate::synth::Scenario::from_toml(&text).map_err(|message| {
                SourceError::Scenario {
                    name: name.clone(),
                    message,
                }
            })?;
            Box::new(SynthSource::new(
                scn,
                &name,
                *looping,
                false,
                *pace == Pace::Realtime,
            )?)
        }
        #[cfg(feature = "soapy")]
        SourceConfig::Soapy(s) => Box::new(crate::source::soapy::SoapySource::new(s.clone())),
        #[cfg(not(feature = "soapy"))]
        SourceConfig::Soapy(_) => {
            return Err(ConfigErrors {
                file: None,
                problems: vec![ConfigProblem {
                    path: "source.type".into(),
                    message: "\"soapy\" needs ssbguard built with `--features soapy`".into(),
                }],
            }
            .into());
        }
    })
}

/// Loads the configured detector (from `models_dir` or built in) with every startup check of
/// [`crate::detect::dnn::load`] (`classic` needs no files).
pub fn load_detector(cfg: &Config) -> Result<Box<dyn ModelDetector>, DaemonError> {
    let r = &cfg.receiver;
    crate::detect::dnn::load(&r.detector, &r.models).map_err(|source| DaemonError::Model {
        detector: r.detector.clone(),
        source,
    })
}

/// A detector whose every call is timed into `ssbguard_inference_duration_seconds{model}`.
/// For `classic` the call is the last step of the classical verdict (the baseline
/// comparison runs just before it, inside the pipeline), so its observations are the
/// floor of the histogram; for the DNNs it is the whole inference (both cascade stages and
/// the type head).
pub struct TimedDetector {
    inner: Box<dyn ModelDetector>,
    histogram: prometheus::Histogram,
}

impl TimedDetector {
    /// Times `inner` into `metrics`.
    pub fn new(inner: Box<dyn ModelDetector>, metrics: &Metrics) -> TimedDetector {
        let histogram = metrics
            .inference_duration
            .with_label_values(&[inner.name()]);
        TimedDetector { inner, histogram }
    }
}

impl ModelDetector for TimedDetector {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn decide(
        &mut self,
        features: &[f32; features::LEN],
        iq: &[Complex32],
        classic: &ClassicVerdict,
    ) -> ModelVerdict {
        let t = Instant::now();
        let v = self.inner.decide(features, iq, classic);
        self.histogram.observe(t.elapsed().as_secs_f64());
        v
    }
}

/// Blocks in flight between the capture thread and the end of the pipeline's work on them,
/// for `pace = "lossless"`: the source waits while `limit` blocks are in flight, so the
/// channel always has room and nothing is dropped.
pub struct Credit {
    in_flight: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

impl Credit {
    /// At most `limit` (≥ 1) blocks in flight.
    pub fn new(limit: usize) -> Arc<Credit> {
        Arc::new(Credit {
            in_flight: Mutex::new(0),
            freed: Condvar::new(),
            limit: limit.max(1),
        })
    }

    /// Waits up to `timeout` for room; true when there is.
    fn wait(&self, timeout: Duration) -> bool {
        let Ok(g) = self.in_flight.lock() else {
            return true;
        };
        match self
            .freed
            .wait_timeout_while(g, timeout, |n| *n >= self.limit)
        {
            Ok((g, _)) => *g < self.limit,
            Err(_) => true,
        }
    }

    fn take(&self) {
        if let Ok(mut g) = self.in_flight.lock() {
            *g += 1;
        }
    }

    /// The pipeline is done with one block.
    pub fn release(&self) {
        if let Ok(mut g) = self.in_flight.lock() {
            *g = g.saturating_sub(1);
        }
        self.freed.notify_one();
    }
}

/// A source that reads only when the pipeline has room ([`Credit`]). A read that finds no
/// room within 100 ms returns no samples, so the capture thread can still be stopped.
pub struct Lossless {
    inner: Box<dyn IqSource>,
    credit: Arc<Credit>,
    next: u64,
}

impl Lossless {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn IqSource>, credit: Arc<Credit>) -> Lossless {
        Lossless {
            inner,
            credit,
            next: 0,
        }
    }
}

impl IqSource for Lossless {
    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }

    fn read(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        if !self.credit.wait(Duration::from_millis(100)) {
            return Ok(SourceRead::ok(self.next, 0));
        }
        let r = self.inner.read(buf)?;
        if r.samples > 0 {
            self.credit.take();
            self.next = r.first_sample + r.samples as u64;
        }
        Ok(r)
    }

    fn reopen(&mut self) -> Result<(), SourceError> {
        self.inner.reopen()
    }
}

/// One serialised event for SSE clients.
#[derive(Debug)]
pub(crate) struct SseItem {
    pub name: &'static str,
    pub json: String,
}

/// State shared by the threads and the HTTP handlers.
pub(crate) struct Shared {
    pub metrics: Metrics,
    pub events: tokio::sync::broadcast::Sender<Arc<SseItem>>,
    pub alerts: Mutex<VecDeque<Alert>>,
    pub history: AtomicUsize,
    pub status: Mutex<PipelineStatus>,
    pub active: Mutex<Vec<Option<u16>>>,
    pub alert_cfg: Mutex<AlertConfig>,
    pub capture: CaptureHandle,
    pub detector: String,
    /// Where the model came from (not for `classic`).
    pub models: Option<crate::detect::dnn::Models>,
    /// The first and the latest block the pipeline received.
    pub stream: Mutex<StreamStamps>,
    /// Uptime at which the pipeline thread finished (the source ended and was drained).
    pub dsp_finished_s: Mutex<Option<f64>>,
    pub token: Option<String>,
    pub http_bound: AtomicBool,
    /// The pipeline thread panicked.
    pub dsp_failed: AtomicBool,
    pub flowing: AtomicBool,
    pub stopping: AtomicBool,
    pub started: Instant,
    pub shutdown_tx: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    /// `Ok` when ready, else why not.
    pub fn readiness(&self) -> Result<(), String> {
        if self.stopping.load(Ordering::Acquire) {
            return Err("shutting down".into());
        }
        if !self.http_bound.load(Ordering::Acquire) {
            return Err("HTTP not bound yet".into());
        }
        match self.capture.state() {
            CaptureState::Streaming => {}
            CaptureState::Starting => return Err("source starting".into()),
            CaptureState::Reopening => {
                return Err(format!(
                    "source lost, reopening: {}",
                    self.capture.last_error().unwrap_or_default()
                ));
            }
            CaptureState::Ended => return Err("source ended".into()),
            CaptureState::Failed => {
                return Err(format!(
                    "source failed: {}",
                    self.capture.last_error().unwrap_or_default()
                ));
            }
            CaptureState::Stopped => return Err("capture stopped".into()),
        }
        if self.dsp_failed.load(Ordering::Acquire) {
            return Err("pipeline thread failed".into());
        }
        if !self.flowing.load(Ordering::Acquire) {
            return Err("no samples flowing".into());
        }
        Ok(())
    }
}

/// When a block reached the capture thread. With a paced source (or a radio), sample `n`
/// of the same pass arrived at about `unix_s + (n - first_sample - samples) / sample_rate`:
/// `bench/daemon_perf.sh` measures alert latency from a jammer's onset with it.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub(crate) struct BlockStamp {
    /// Absolute index of its first sample.
    pub first_sample: u64,
    /// Its length.
    pub samples: u64,
    /// Wall clock when the capture thread had it, s since the Unix epoch.
    pub unix_s: f64,
    /// Daemon uptime then, s.
    pub uptime_s: f64,
}

impl BlockStamp {
    fn new(first_sample: u64, samples: u64, captured_at: Instant, started: Instant) -> Self {
        // Wall clock of `captured_at`: now minus how long ago that was.
        let unix_s = SystemTime::now()
            .checked_sub(captured_at.elapsed())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        BlockStamp {
            first_sample,
            samples,
            unix_s,
            uptime_s: captured_at.saturating_duration_since(started).as_secs_f64(),
        }
    }
}

/// The first block the pipeline received and the latest one (refreshed with the status,
/// every 200 ms), for `/api/v1/status`.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub(crate) struct StreamStamps {
    pub first: Option<BlockStamp>,
    pub last: Option<BlockStamp>,
}

enum Ctl {
    Alert(AlertConfig),
}

/// Counts at shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Samples the source delivered.
    pub captured: u64,
    /// Samples the pipeline processed.
    pub processed: u64,
    /// Samples dropped because the pipeline was behind.
    pub dropped_queue_full: u64,
    /// Every stage stopped within the deadline.
    pub in_time: bool,
}

/// A running daemon.
pub struct Daemon {
    shared: Arc<Shared>,
    sinks: Arc<sinks::Sinks>,
    ctl: Sender<Ctl>,
    dsp_done: Receiver<()>,
    http_done: Receiver<()>,
    addr: SocketAddr,
    deadline: Duration,
    notifier: Arc<Notifier>,
}

impl Daemon {
    /// Opens the source, builds the pipeline, starts the sinks, binds HTTP and starts every
    /// thread. Returns once HTTP is listening (the source may still be starting).
    pub fn start(cfg: Config, opts: StartOptions) -> Result<Daemon, DaemonError> {
        let metrics = Metrics::new(&cfg.receiver.detector);
        // The model first: a bad model refuses to start before a device is opened.
        let model = match opts.processor {
            Some(_) => None,
            None => Some(load_detector(&cfg)?),
        };
        let mut credit = None;
        let source = match opts.source {
            Some(s) => s,
            None => {
                let s = open_source(&cfg)?;
                if cfg.source.pace() == Some(config::Pace::Lossless) {
                    let c = Credit::new(cfg.queue_blocks);
                    credit = Some(c.clone());
                    Box::new(Lossless::new(s, c))
                } else {
                    s
                }
            }
        };
        let info = source.info().clone();
        let processor = match (opts.processor, model) {
            (Some(f), _) => f(&info)?,
            (None, model) => {
                let mut p = Pipeline::new(pipeline_config(&cfg, &info)?)?;
                if let Some(m) = model {
                    p.set_model(Box::new(TimedDetector::new(m, &metrics)));
                }
                Box::new(p)
            }
        };
        let sinks = Arc::new(
            sinks::Sinks::spawn(
                cfg.sinks.clone(),
                cfg.log_decisions,
                info.description.clone(),
                metrics.clone(),
            )
            .map_err(DaemonError::Sink)?,
        );
        let listener =
            std::net::TcpListener::bind(cfg.bind).map_err(|source| DaemonError::Bind {
                addr: cfg.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| DaemonError::Bind {
            addr: cfg.bind,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| DaemonError::Bind {
                addr: cfg.bind,
                source,
            })?;
        let capture_cfg = CaptureConfig {
            block_samples: cfg.block_samples,
            queue_blocks: cfg.queue_blocks,
            ..soapy_backoff(&cfg)
        };
        let (capture, blocks) = CaptureHandle::spawn(source, capture_cfg, metrics.capture())
            .map_err(|source| DaemonError::System {
                what: "capture thread",
                source,
            })?;
        let (events, _) = tokio::sync::broadcast::channel(cfg.sse_buffer);
        let (shutdown_tx, _) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            metrics,
            events,
            alerts: Mutex::new(VecDeque::new()),
            history: AtomicUsize::new(cfg.alert_history),
            status: Mutex::new(PipelineStatus::default()),
            active: Mutex::new(Vec::new()),
            alert_cfg: Mutex::new(cfg.alert),
            capture,
            detector: cfg.receiver.detector.clone(),
            models: (cfg.receiver.detector != "classic").then(|| cfg.receiver.models.clone()),
            stream: Mutex::new(StreamStamps::default()),
            dsp_finished_s: Mutex::new(None),
            token: cfg.bearer_token.clone(),
            http_bound: AtomicBool::new(false),
            dsp_failed: AtomicBool::new(false),
            flowing: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            started: Instant::now(),
            shutdown_tx,
        });

        let (ctl_tx, ctl_rx) = crossbeam_channel::unbounded();
        let (dsp_done_tx, dsp_done) = crossbeam_channel::bounded::<()>(0);
        {
            let (sh, sk, alert) = (shared.clone(), sinks.clone(), cfg.alert);
            std::thread::Builder::new()
                .name("ssbguard-dsp".into())
                .spawn(move || {
                    let _done = dsp_done_tx;
                    let _guard = PanicGuard(sh.clone());
                    let mut dsp = Dsp {
                        processor,
                        bank: AlertBank::new(alert),
                        shared: sh.clone(),
                        sinks: sk,
                        events: Vec::new(),
                        credit,
                        last_block: None,
                    };
                    dsp.run(&blocks, &ctl_rx);
                })
                .map_err(|source| DaemonError::System {
                    what: "pipeline thread",
                    source,
                })?;
        }

        let notifier = Arc::new(opts.notifier.unwrap_or_else(|| Notifier::new(None)));
        let (http_done_tx, http_done) = crossbeam_channel::bounded::<()>(0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| DaemonError::System {
                what: "tokio runtime",
                source,
            })?;
        let (sh, nt, wd) = (shared.clone(), notifier.clone(), opts.watchdog);
        let block_s = cfg.block_samples as f64 / info.sample_rate_hz.max(1.0);
        let (bound_tx, bound_rx) = crossbeam_channel::bounded::<Result<(), std::io::Error>>(1);
        std::thread::Builder::new()
            .name("ssbguard-http".into())
            .spawn(move || {
                let _done = http_done_tx;
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = bound_tx.send(Err(e));
                            return;
                        }
                    };
                    sh.http_bound.store(true, Ordering::Release);
                    let _ = bound_tx.send(Ok(()));
                    let ticker = tokio::spawn(ticker(sh.clone(), nt, wd, block_s));
                    http::serve(listener, sh.clone()).await;
                    ticker.abort();
                });
            })
            .map_err(|source| DaemonError::System {
                what: "HTTP thread",
                source,
            })?;
        match bound_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(source)) => {
                return Err(DaemonError::Bind {
                    addr: cfg.bind,
                    source,
                });
            }
            Err(_) => {
                return Err(DaemonError::System {
                    what: "HTTP thread",
                    source: std::io::Error::other("exited before binding"),
                });
            }
        }
        tracing::info!(%addr, source = %info.description, sample_rate_hz = info.sample_rate_hz, "ssbguard started");
        Ok(Daemon {
            shared,
            sinks,
            ctl: ctl_tx,
            dsp_done,
            http_done,
            addr,
            deadline: cfg.shutdown_deadline,
            notifier,
        })
    }

    /// The bound HTTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics (for embedding and tests).
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// `Ok` when `/readyz` would answer 200.
    pub fn readiness(&self) -> Result<(), String> {
        self.shared.readiness()
    }

    /// The source's fatal error, once the capture thread has given up.
    pub fn failure(&self) -> Option<String> {
        (self.shared.capture.state() == CaptureState::Failed).then(|| {
            self.shared
                .capture
                .last_error()
                .unwrap_or_else(|| "unknown".into())
        })
    }

    /// Applies what SIGHUP may change: alert thresholds and history, sinks, decision
    /// logging. Returns the sections that changed but need a restart.
    pub fn reload(&self, new: &Config, old: &Config) -> Vec<&'static str> {
        let _ = self.ctl.send(Ctl::Alert(new.alert));
        if let Ok(mut g) = self.shared.alert_cfg.lock() {
            *g = new.alert;
        }
        self.shared
            .history
            .store(new.alert_history, Ordering::Release);
        self.sinks.reload(new.sinks.clone(), new.log_decisions);
        self.shared
            .metrics
            .config_reloads
            .with_label_values(&["ok"])
            .inc();
        old.restart_needed_for(new)
    }

    /// Stops in order within the configured deadline: capture, drain through the pipeline,
    /// sinks (webhooks get the rest of the deadline), HTTP.
    pub fn shutdown(self) -> ShutdownReport {
        let start = Instant::now();
        let deadline = start + self.deadline;
        let left = || deadline.saturating_duration_since(Instant::now());
        self.shared.stopping.store(true, Ordering::Release);
        self.notifier.notify("STOPPING=1");
        let mut in_time = self.shared.capture.join(left());
        in_time &= matches!(
            self.dsp_done.recv_timeout(left()),
            Err(RecvTimeoutError::Disconnected) | Ok(())
        );
        in_time &= self.sinks.shutdown(deadline);
        let _ = self.shared.shutdown_tx.send(true);
        in_time &= matches!(
            self.http_done
                .recv_timeout(left().max(Duration::from_millis(100))),
            Err(RecvTimeoutError::Disconnected) | Ok(())
        );
        let m = &self.shared.metrics;
        let report = ShutdownReport {
            captured: m.capture_samples.get(),
            processed: m.pipeline_samples.get(),
            dropped_queue_full: m.capture_dropped.with_label_values(&["queue_full"]).get(),
            in_time,
        };
        tracing::info!(
            captured = report.captured,
            processed = report.processed,
            dropped = report.dropped_queue_full,
            in_time,
            elapsed_s = start.elapsed().as_secs_f64(),
            "ssbguard stopped"
        );
        report
    }
}

fn soapy_backoff(cfg: &Config) -> CaptureConfig {
    match &cfg.source {
        SourceConfig::Soapy(s) => CaptureConfig {
            reopen_initial: s.reopen_initial,
            reopen_max: s.reopen_max,
            ..CaptureConfig::default()
        },
        _ => CaptureConfig::default(),
    }
}

/// Every 100 ms: is data flowing, readiness, `READY=1` once, `WATCHDOG=1` while samples
/// flow, `STATUS=` on change.
async fn ticker(
    sh: Arc<Shared>,
    notifier: Arc<Notifier>,
    watchdog: Option<Duration>,
    block_s: f64,
) {
    let stall = Duration::from_secs_f64((4.0 * block_s).max(2.0));
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_samples = 0u64;
    let mut last_flow: Option<Instant> = None;
    let mut last_ping = Instant::now();
    let mut sent_ready = false;
    let mut last_status = String::new();
    loop {
        tick.tick().await;
        let now = Instant::now();
        let m = &sh.metrics;
        let samples = m.capture_samples.get();
        if samples != last_samples {
            last_samples = samples;
            last_flow = Some(now);
        }
        let flowing = last_flow.is_some_and(|t| now - t < stall);
        sh.flowing.store(flowing, Ordering::Release);
        m.source_streaming.set(i64::from(
            flowing && sh.capture.state() == CaptureState::Streaming,
        ));
        m.uptime.set(sh.started.elapsed().as_secs_f64());
        let ready = sh.readiness();
        m.ready.set(i64::from(ready.is_ok()));
        let status = match &ready {
            Ok(()) => "ready".to_owned(),
            Err(why) => why.clone(),
        };
        if status != last_status {
            notifier.notify(&format!("STATUS={status}"));
            last_status = status;
        }
        if ready.is_ok() && !sent_ready {
            notifier.notify("READY=1");
            sent_ready = true;
        }
        if let Some(w) = watchdog
            && flowing
            && now - last_ping >= w / 2
        {
            notifier.notify("WATCHDOG=1");
            last_ping = now;
        }
    }
}

/// Marks the pipeline thread as failed if it unwinds.
struct PanicGuard(Arc<Shared>);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.dsp_failed.store(true, Ordering::Release);
            tracing::error!("pipeline thread panicked");
        }
    }
}

struct Dsp {
    processor: Box<dyn Processor>,
    bank: AlertBank,
    shared: Arc<Shared>,
    sinks: Arc<sinks::Sinks>,
    events: Vec<Event>,
    /// `pace = "lossless"`: tell the source a block is done.
    credit: Option<Arc<Credit>>,
    /// (first sample, length, capture time) of the latest block.
    last_block: Option<(u64, u64, Instant)>,
}

impl Dsp {
    fn run(&mut self, blocks: &BlockReceiver, ctl: &Receiver<Ctl>) {
        let mut expected: Option<u64> = None;
        let mut last_status = Instant::now();
        loop {
            while let Ok(c) = ctl.try_recv() {
                match c {
                    Ctl::Alert(a) => self.bank.set_config(a),
                }
            }
            match blocks.recv_timeout(Duration::from_millis(100)) {
                Ok(block) => {
                    let n = block.samples.len() as u64;
                    if expected.is_some_and(|e| e != block.first_sample) {
                        self.shared.metrics.pipeline_discontinuities.inc();
                    }
                    if expected.is_none()
                        && let Ok(mut g) = self.shared.stream.lock()
                    {
                        g.first = Some(BlockStamp::new(
                            block.first_sample,
                            n,
                            block.captured_at,
                            self.shared.started,
                        ));
                    }
                    self.last_block = Some((block.first_sample, n, block.captured_at));
                    expected = Some(block.first_sample + n);
                    let t = Instant::now();
                    self.processor
                        .push(block.first_sample, &block.samples, &mut self.events);
                    self.shared
                        .metrics
                        .pipeline_busy
                        .inc_by(t.elapsed().as_secs_f64());
                    self.shared.metrics.pipeline_samples.inc_by(n);
                    let captured_at = block.captured_at;
                    blocks.recycle(block);
                    if let Some(c) = &self.credit {
                        c.release();
                    }
                    self.handle(Some(captured_at));
                    self.shared
                        .metrics
                        .capture_queue_blocks
                        .set(blocks.queued() as i64);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.processor.finish(&mut self.events);
                    self.handle(None);
                    self.update_status();
                    if let Ok(mut g) = self.shared.dsp_finished_s.lock() {
                        *g = Some(self.shared.started.elapsed().as_secs_f64());
                    }
                    return;
                }
            }
            if last_status.elapsed() >= Duration::from_millis(200) {
                self.update_status();
                last_status = Instant::now();
            }
        }
    }

    fn update_status(&self) {
        let st = self.processor.status();
        let steps = &self.shared.metrics.gain_steps;
        steps.inc_by(st.gain_steps.saturating_sub(steps.get()));
        if let Ok(mut g) = self.shared.status.lock() {
            *g = st;
        }
        if let Some((first, n, at)) = self.last_block
            && let Ok(mut g) = self.shared.stream.lock()
        {
            g.last = Some(BlockStamp::new(first, n, at, self.shared.started));
        }
    }

    fn handle(&mut self, captured_at: Option<Instant>) {
        let mut events = std::mem::take(&mut self.events);
        for e in events.drain(..) {
            match e {
                Event::Decision(d) => {
                    let m = &self.shared.metrics;
                    let pci = metrics::pci_label(d.pci);
                    let verdict = if d.jammed { "jammed" } else { "clean" };
                    m.ssb_decisions.with_label_values(&[&pci, verdict]).inc();
                    m.jamming_score.with_label_values(&[&pci]).set(d.score);
                    if let Some(s) = d.sjnr_est_db {
                        m.sjnr_estimate_db.with_label_values(&[&pci]).set(s);
                    }
                    if let Some(s) = d.epnre_rise_db {
                        m.epnre_db.with_label_values(&[&pci]).set(s);
                    }
                    if let Some(t) = captured_at {
                        m.pipeline_latency.observe(t.elapsed().as_secs_f64());
                    }
                    let alert = self.bank.observe(&d);
                    self.publish(Event::Decision(d));
                    if let Some(a) = alert {
                        self.on_alert(&a);
                        self.publish(Event::Alert(a));
                    }
                }
                // The daemon's own bank decides (see the module doc).
                Event::Alert(_) => {}
                Event::Cell(c) => {
                    let v = i64::from(c.event == CellState::Found);
                    self.shared
                        .metrics
                        .cell_tracked
                        .with_label_values(&[&c.pci.to_string()])
                        .set(v);
                    self.publish(Event::Cell(c));
                }
            }
        }
        self.events = events;
    }

    fn on_alert(&self, a: &Alert) {
        let m = &self.shared.metrics;
        let pci = metrics::pci_label(a.pci);
        let raised = a.state == AlertState::Raised;
        m.jamming_alert
            .with_label_values(&[&pci])
            .set(i64::from(raised));
        if raised {
            m.alerts_total.with_label_values(&[&pci]).inc();
        }
        if let Ok(mut g) = self.shared.active.lock() {
            g.retain(|p| *p != a.pci);
            if raised {
                g.push(a.pci);
            }
        }
        if let Ok(mut g) = self.shared.alerts.lock() {
            g.push_front(a.clone());
            let cap = self.shared.history.load(Ordering::Acquire).max(1);
            g.truncate(cap);
        }
    }

    fn publish(&self, e: Event) {
        if self.shared.events.receiver_count() > 0 {
            let item = Arc::new(SseItem {
                name: e.name(),
                json: e.to_json(),
            });
            let _ = self.shared.events.send(item);
        }
        if self.sinks.wants(&e) {
            self.sinks.publish(Arc::new(e));
        }
    }
}

/// Validates a configuration file and what it points at (scenario, recording), listing
/// every problem. `ssbguard check-config FILE` exits 0 on `Ok`, 64
/// ([`ConfigErrors::EXIT_CODE`]) on `Err`.
pub fn check_config(path: &Path) -> Result<(), ConfigErrors> {
    let cfg = config::load(path)?;
    let mut problems = Vec::new();
    if let Err(DaemonError::Model { detector, source }) = load_detector(&cfg) {
        problems.push(ConfigProblem {
            path: "receiver.detector".into(),
            message: format!("{detector:?}: {source}"),
        });
    }
    match open_source(&cfg) {
        Ok(src) => {
            if let Err(e) = pipeline_config(&cfg, src.info())
                .and_then(|pc| Pipeline::new(pc).map_err(DaemonError::from))
            {
                problems.push(ConfigProblem {
                    path: "receiver".into(),
                    message: e.to_string(),
                });
            }
        }
        Err(DaemonError::Config(e)) => problems.extend(e.problems),
        Err(e) => problems.push(ConfigProblem {
            path: "source".into(),
            message: e.to_string(),
        }),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors {
            file: Some(path.to_owned()),
            problems,
        })
    }
}

/// `ssbguard run [--config FILE]`: without a file, the embedded demo. Installs the log
/// subscriber, starts the daemon, tells systemd, and runs until SIGTERM/SIGINT (ordered
/// shutdown) or a fatal source error; SIGHUP reloads `[alert]` and `[sinks]`.
///
/// Exit codes via [`DaemonError::exit_code`]: 64 bad config, 65 bad input file, 1 other.
pub fn run(config: Option<PathBuf>) -> Result<(), DaemonError> {
    let cfg = match &config {
        Some(p) => config::load(p)?,
        None => Config::demo(),
    };
    init_logging(cfg.log_format, &cfg.log_level);
    if config.is_none() {
        tracing::info!(
            "no --config: running the built-in demo (synthetic cell, jammer on and off)"
        );
    }
    let opts = StartOptions {
        notifier: Some(Notifier::from_env()),
        watchdog: notify::watchdog_from_env(),
        ..StartOptions::default()
    };
    let daemon = Daemon::start(cfg.clone(), opts)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| DaemonError::System {
            what: "signal runtime",
            source,
        })?;
    let outcome = rt.block_on(wait_for_signals(&daemon, config.as_deref(), cfg));
    let report = daemon.shutdown();
    if !report.in_time {
        tracing::warn!("shutdown exceeded its deadline");
    }
    outcome
}

async fn wait_for_signals(
    daemon: &Daemon,
    path: Option<&Path>,
    mut current: Config,
) -> Result<(), DaemonError> {
    use tokio::signal::unix::{SignalKind, signal};
    let sig = |k| {
        signal(k).map_err(|source| DaemonError::System {
            what: "signal handler",
            source,
        })
    };
    let (mut term, mut int, mut hup) = (
        sig(SignalKind::terminate())?,
        sig(SignalKind::interrupt())?,
        sig(SignalKind::hangup())?,
    );
    let mut check = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); return Ok(()); }
            _ = int.recv() => { tracing::info!("SIGINT: shutting down"); return Ok(()); }
            _ = hup.recv() => {
                let Some(p) = path else {
                    tracing::info!("SIGHUP ignored: no configuration file (demo)");
                    continue;
                };
                match config::load(p) {
                    Ok(new) => {
                        let restart = daemon.reload(&new, &current);
                        if !restart.is_empty() {
                            tracing::warn!(sections = ?restart, "changed sections need a restart; kept the running values");
                        }
                        tracing::info!(path = %p.display(), "configuration reloaded");
                        current = new;
                    }
                    Err(e) => {
                        daemon.shared.metrics.config_reloads.with_label_values(&["invalid"]).inc();
                        tracing::error!("reload rejected, keeping the running configuration: {e}");
                    }
                }
            }
            _ = check.tick() => {
                if let Some(e) = daemon.failure() {
                    return Err(DaemonError::SourceFailed(e));
                }
            }
        }
    }
}
