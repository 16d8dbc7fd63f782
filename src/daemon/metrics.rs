//! Every Prometheus metric of the daemon, defined here and only here (CONTRACTS §5), each
//! with help text. Labels come from bounded sets only: `pci` is 0..=1007 or `none`,
//! `verdict` is `jammed`/`clean`, `reason`, `model`, `result` and `sink` are fixed enums,
//! `version` is the build's.

use prometheus::{
    Counter, Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::source::CaptureMetrics;

/// Reasons for `ssbguard_capture_dropped_samples_total`.
pub const DROP_REASONS: [&str; 3] = ["queue_full", "overflow", "bad_data"];
/// Results for `ssbguard_webhook_deliveries_total`.
pub const WEBHOOK_RESULTS: [&str; 3] = ["delivered", "failed", "dropped"];
/// Internal queues whose overflow is counted in `ssbguard_events_dropped_total`.
pub const EVENT_QUEUES: [&str; 2] = ["sinks", "sse"];

/// The label for a cell key: the PCI, or `none` for band-level decisions.
pub fn pci_label(pci: Option<u16>) -> String {
    match pci {
        Some(p) => p.to_string(),
        None => "none".to_owned(),
    }
}

/// The daemon's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `ssbguard_capture_samples_total`.
    pub capture_samples: IntCounter,
    /// `ssbguard_capture_dropped_samples_total{reason}`.
    pub capture_dropped: IntCounterVec,
    /// `ssbguard_capture_overflows_total`.
    pub capture_overflows: IntCounter,
    /// `ssbguard_capture_timeouts_total`.
    pub capture_timeouts: IntCounter,
    /// `ssbguard_source_losses_total`.
    pub source_losses: IntCounter,
    /// `ssbguard_source_reopens_total`.
    pub source_reopens: IntCounter,
    /// `ssbguard_source_streaming` (0/1).
    pub source_streaming: IntGauge,
    /// `ssbguard_capture_queue_blocks`.
    pub capture_queue_blocks: IntGauge,
    /// `ssbguard_pipeline_samples_total`.
    pub pipeline_samples: IntCounter,
    /// `ssbguard_pipeline_discontinuities_total`.
    pub pipeline_discontinuities: IntCounter,
    /// `ssbguard_gain_steps_total`.
    pub gain_steps: IntCounter,
    /// `ssbguard_pipeline_busy_seconds_total`.
    pub pipeline_busy: Counter,
    /// `ssbguard_pipeline_latency_seconds`.
    pub pipeline_latency: Histogram,
    /// `ssbguard_inference_duration_seconds{model}`.
    pub inference_duration: HistogramVec,
    /// `ssbguard_cell_tracked{pci}`.
    pub cell_tracked: IntGaugeVec,
    /// `ssbguard_ssb_decisions_total{pci,verdict}`.
    pub ssb_decisions: IntCounterVec,
    /// `ssbguard_jamming_score{pci}`.
    pub jamming_score: GaugeVec,
    /// `ssbguard_jamming_alert{pci}`.
    pub jamming_alert: IntGaugeVec,
    /// `ssbguard_sjnr_estimate_db{pci}`.
    pub sjnr_estimate_db: GaugeVec,
    /// `ssbguard_epnre_db{pci}`.
    pub epnre_db: GaugeVec,
    /// `ssbguard_alerts_total{pci}`.
    pub alerts_total: IntCounterVec,
    /// `ssbguard_events_dropped_total{queue}`.
    pub events_dropped: IntCounterVec,
    /// `ssbguard_webhook_deliveries_total{result}`.
    pub webhook_deliveries: IntCounterVec,
    /// `ssbguard_sse_clients`.
    pub sse_clients: IntGauge,
    /// `ssbguard_ready` (0/1).
    pub ready: IntGauge,
    /// `ssbguard_config_reloads_total{result}`.
    pub config_reloads: IntCounterVec,
    /// `ssbguard_build_info{version}`.
    pub build_info: IntGaugeVec,
    /// `ssbguard_uptime_seconds`.
    pub uptime: Gauge,
}

fn reg<T: prometheus::core::Collector + Clone + 'static>(r: &Registry, m: T) -> T {
    // Names are constants and unique in this module: registration cannot fail.
    if let Err(e) = r.register(Box::new(m.clone())) {
        panic!("metric registration: {e}");
    }
    m
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    reg(
        r,
        IntCounter::with_opts(Opts::new(name, help)).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}
fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    reg(
        r,
        IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}
fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    reg(
        r,
        IntGauge::with_opts(Opts::new(name, help)).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}
fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    reg(
        r,
        IntGaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}
fn fgauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    reg(
        r,
        GaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}

impl Metrics {
    /// Registers every metric; `detector` pre-creates its inference histogram.
    pub fn new(detector: &str) -> Metrics {
        let r = Registry::new();
        let latency_buckets = vec![
            0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
        ];
        let m = Metrics {
            capture_samples: counter(
                &r,
                "ssbguard_capture_samples_total",
                "Complex samples delivered by the source to the capture thread.",
            ),
            capture_dropped: counter_vec(
                &r,
                "ssbguard_capture_dropped_samples_total",
                "Samples lost before the pipeline: queue_full (the pipeline was behind), \
                 overflow (the device lost them), bad_data (non-finite samples skipped).",
                &["reason"],
            ),
            capture_overflows: counter(
                &r,
                "ssbguard_capture_overflows_total",
                "Overflow reports from the device.",
            ),
            capture_timeouts: counter(
                &r,
                "ssbguard_capture_timeouts_total",
                "Source reads that returned no samples within the timeout.",
            ),
            source_losses: counter(
                &r,
                "ssbguard_source_losses_total",
                "Times the device was lost (unplugged, driver error).",
            ),
            source_reopens: counter(
                &r,
                "ssbguard_source_reopens_total",
                "Successful reopens of the device after a loss.",
            ),
            source_streaming: gauge(
                &r,
                "ssbguard_source_streaming",
                "1 while the source delivers samples, 0 otherwise.",
            ),
            capture_queue_blocks: gauge(
                &r,
                "ssbguard_capture_queue_blocks",
                "Blocks waiting between the capture thread and the pipeline.",
            ),
            pipeline_samples: counter(
                &r,
                "ssbguard_pipeline_samples_total",
                "Samples processed by the pipeline (captured = processed + dropped{reason=\"queue_full\"} once drained).",
            ),
            pipeline_discontinuities: counter(
                &r,
                "ssbguard_pipeline_discontinuities_total",
                "Gaps in the sample index seen by the pipeline.",
            ),
            gain_steps: counter(
                &r,
                "ssbguard_gain_steps_total",
                "Receiver gain steps recognised by a cell's site baseline, which moved its absolute levels with them (keep the gain fixed: each one costs a few jammed SSBs).",
            ),
            pipeline_busy: reg(
                &r,
                Counter::with_opts(Opts::new(
                    "ssbguard_pipeline_busy_seconds_total",
                    "Wall-clock seconds the pipeline thread spent processing blocks \
                     (rate() is its load: 1 = one core busy, the pipeline cannot keep up).",
                ))
                .unwrap_or_else(|e| panic!("busy: {e}")),
            ),
            pipeline_latency: reg(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "ssbguard_pipeline_latency_seconds",
                        "Wall-clock time from the arrival of the block holding a decision's last sample to the decision.",
                    )
                    .buckets(latency_buckets),
                )
                .unwrap_or_else(|e| panic!("latency: {e}")),
            ),
            inference_duration: reg(
                &r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "ssbguard_inference_duration_seconds",
                        "Time spent in one detector call (DNNs: the whole inference; classic: \
                         the final verdict step only).",
                    )
                    .buckets(vec![
                        1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 1e-2,
                    ]),
                    &["model"],
                )
                .unwrap_or_else(|e| panic!("inference: {e}")),
            ),
            cell_tracked: gauge_vec(
                &r,
                "ssbguard_cell_tracked",
                "1 while the cell is tracked, 0 after it was lost.",
                &["pci"],
            ),
            ssb_decisions: counter_vec(
                &r,
                "ssbguard_ssb_decisions_total",
                "Decisions per cell (pci=\"none\": no cell tracked) and verdict.",
                &["pci", "verdict"],
            ),
            jamming_score: fgauge_vec(
                &r,
                "ssbguard_jamming_score",
                "Score of the latest decision, 0..1 (higher = more likely jammed).",
                &["pci"],
            ),
            jamming_alert: gauge_vec(
                &r,
                "ssbguard_jamming_alert",
                "1 while a jamming alert is raised for the cell.",
                &["pci"],
            ),
            sjnr_estimate_db: fgauge_vec(
                &r,
                "ssbguard_sjnr_estimate_db",
                "Estimated SJNR of the latest SSB, dB.",
                &["pci"],
            ),
            epnre_db: fgauge_vec(
                &r,
                "ssbguard_epnre_db",
                "EPNRE rise over the site baseline of the latest SSB, dB.",
                &["pci"],
            ),
            alerts_total: counter_vec(
                &r,
                "ssbguard_alerts_total",
                "Jamming alerts raised.",
                &["pci"],
            ),
            events_dropped: counter_vec(
                &r,
                "ssbguard_events_dropped_total",
                "Events not delivered because an internal queue was full (sinks) or a client lagged (sse).",
                &["queue"],
            ),
            webhook_deliveries: counter_vec(
                &r,
                "ssbguard_webhook_deliveries_total",
                "Webhook alerts delivered, failed after every retry, or dropped from a full queue.",
                &["result"],
            ),
            sse_clients: gauge(
                &r,
                "ssbguard_sse_clients",
                "Clients connected to /api/v1/events.",
            ),
            ready: gauge(
                &r,
                "ssbguard_ready",
                "1 when /readyz answers 200.",
            ),
            config_reloads: counter_vec(
                &r,
                "ssbguard_config_reloads_total",
                "SIGHUP reloads, by result.",
                &["result"],
            ),
            build_info: gauge_vec(
                &r,
                "ssbguard_build_info",
                "Always 1; the label carries the version.",
                &["version"],
            ),
            uptime: reg(
                &r,
                Gauge::with_opts(Opts::new("ssbguard_uptime_seconds", "Seconds since start."))
                    .unwrap_or_else(|e| panic!("uptime: {e}")),
            ),
            registry: r,
        };
        m.build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        for r in DROP_REASONS {
            m.capture_dropped.with_label_values(&[r]);
        }
        for r in WEBHOOK_RESULTS {
            m.webhook_deliveries.with_label_values(&[r]);
        }
        for q in EVENT_QUEUES {
            m.events_dropped.with_label_values(&[q]);
        }
        for r in ["ok", "invalid"] {
            m.config_reloads.with_label_values(&[r]);
        }
        m.inference_duration.with_label_values(&[detector]);
        m
    }

    /// The counters the capture thread bumps.
    pub fn capture(&self) -> CaptureMetrics {
        CaptureMetrics {
            samples: self.capture_samples.clone(),
            dropped_queue_full: self.capture_dropped.with_label_values(&["queue_full"]),
            dropped_overflow: self.capture_dropped.with_label_values(&["overflow"]),
            dropped_bad_data: self.capture_dropped.with_label_values(&["bad_data"]),
            overflows: self.capture_overflows.clone(),
            timeouts: self.capture_timeouts.clone(),
            reopens: self.source_reopens.clone(),
            device_losses: self.source_losses.clone(),
        }
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding our own well-formed families into a Vec cannot fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_metric_is_exposed_with_help() {
        let m = Metrics::new("classic");
        // Vec metrics appear once a label set exists.
        let pci = pci_label(Some(500));
        m.cell_tracked.with_label_values(&[&pci]).set(1);
        m.ssb_decisions.with_label_values(&[&pci, "clean"]).inc();
        m.jamming_score.with_label_values(&[&pci]).set(0.1);
        m.jamming_alert.with_label_values(&[&pci]).set(0);
        m.sjnr_estimate_db.with_label_values(&[&pci]).set(20.0);
        m.epnre_db.with_label_values(&[&pci]).set(0.5);
        m.alerts_total.with_label_values(&[&pci]);
        let text = m.render();
        for name in [
            "ssbguard_capture_samples_total",
            "ssbguard_capture_dropped_samples_total",
            "ssbguard_cell_tracked",
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
            assert!(
                text.contains(&format!("# HELP {name} ")),
                "{name} has no help"
            );
            assert!(
                text.lines()
                    .any(|l| !l.starts_with('#') && l.starts_with(name)),
                "{name} has no sample"
            );
        }
        assert!(text.contains("ssbguard_capture_dropped_samples_total{reason=\"queue_full\"} 0"));
        assert!(text.contains(&format!(
            "ssbguard_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
    }
}
