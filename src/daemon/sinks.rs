//! Where events go besides HTTP: the structured log, an append-only JSONL file and webhooks.
//!
//! The pipeline thread hands events to [`Sinks::publish`], which never blocks: a bounded
//! queue feeds the sinks thread, and when it is full the event is dropped and counted
//! (`ssbguard_events_dropped_total{queue="sinks"}`). Each webhook has its own thread and
//! bounded queue that drops the oldest alert when full
//! (`ssbguard_webhook_deliveries_total{result="dropped"}`), so a slow or dead receiver
//! never slows anything else.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use super::config::{SinksConfig, WebhookConfig, WebhookFormat};
use super::metrics::Metrics;
use crate::events::{Alert, AlertState, Event};

/// Events queued for the sinks thread.
pub const SINK_QUEUE: usize = 4096;

/// RFC 3339 UTC timestamp with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if month <= 2 { y + 1 } else { y };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// The webhook body for `alert` at wall time `wall`.
pub fn webhook_body(
    format: WebhookFormat,
    alert: &Alert,
    wall: SystemTime,
    source: &str,
) -> String {
    match format {
        WebhookFormat::Json => {
            let mut v = serde_json::to_value(alert).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("wall_time".into(), rfc3339(wall).into());
                o.insert("source".into(), source.into());
            }
            v.to_string()
        }
        WebhookFormat::Alertmanager => {
            let sev = serde_json::to_value(alert.severity).unwrap_or_default();
            let pci = super::metrics::pci_label(alert.pci);
            let mut labels = serde_json::json!({
                "alertname": "SsbJamming",
                "pci": pci,
                "severity": sev,
                "detector": alert.detector,
                "job": "ssbguard",
            });
            if let Some(t) = &alert.jammer_type
                && let Some(o) = labels.as_object_mut()
            {
                o.insert("jammer_type".into(), t.clone().into());
            }
            let summary = match alert.pci {
                Some(p) => format!("Jamming of NR cell PCI {p}"),
                None => "Jamming in the monitored band (no cell tracked)".to_owned(),
            };
            let mut annotations = serde_json::json!({
                "summary": summary,
                "score": format!("{:.3}", alert.score),
                "stream_time_s": format!("{:.6}", alert.time_s),
                "source": source,
            });
            if let (Some(s), Some(o)) = (alert.sjnr_est_db, annotations.as_object_mut()) {
                o.insert("sjnr_est_db".into(), format!("{s:.1}").into());
            }
            let mut a = serde_json::json!({
                "labels": labels,
                "annotations": annotations,
                "startsAt": rfc3339(wall),
            });
            if alert.state == AlertState::Cleared
                && let Some(o) = a.as_object_mut()
            {
                // Alertmanager resolves an alert whose endsAt has passed; the start of a
                // resolved alert is not known here, so it is left out.
                o.remove("startsAt");
                o.insert("endsAt".into(), rfc3339(wall).into());
            }
            serde_json::Value::Array(vec![a]).to_string()
        }
    }
}

enum Msg {
    Event(Arc<Event>, SystemTime),
    Reload(SinksConfig, bool),
    Flush(Sender<()>),
    Shutdown(Instant),
}

/// The sinks: a thread for the log and the JSONL file, one per webhook.
pub struct Sinks {
    tx: Mutex<Option<Sender<Msg>>>,
    /// Some sink takes decisions (decision logging, JSONL with decisions): otherwise
    /// [`Sinks::publish`] does not queue them (hundreds per second for nothing).
    decisions: AtomicBool,
    done: Receiver<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
    metrics: Metrics,
}

impl Sinks {
    /// Starts the sinks. A JSONL file that cannot be opened is an error.
    pub fn spawn(
        cfg: SinksConfig,
        log_decisions: bool,
        source: String,
        metrics: Metrics,
    ) -> Result<Sinks, std::io::Error> {
        let decisions = AtomicBool::new(wants_decisions(&cfg, log_decisions));
        let (tx, rx) = crossbeam_channel::bounded::<Msg>(SINK_QUEUE);
        let (done_tx, done) = crossbeam_channel::bounded::<()>(0);
        let mut worker = Worker {
            jsonl: None,
            webhooks: Vec::new(),
            cfg: SinksConfig::default(),
            log_decisions,
            source,
            metrics: metrics.clone(),
        };
        worker.apply(cfg)?;
        let thread = std::thread::Builder::new()
            .name("ssbguard-sinks".into())
            .spawn(move || {
                let _done = done_tx;
                worker.run(rx);
            })?;
        Ok(Sinks {
            tx: Mutex::new(Some(tx)),
            decisions,
            done,
            thread: Mutex::new(Some(thread)),
            metrics,
        })
    }

    fn sender(&self) -> Option<Sender<Msg>> {
        self.tx.lock().ok().and_then(|g| g.clone())
    }

    /// Queues an event; never blocks (drops and counts when full).
    pub fn publish(&self, event: Arc<Event>) {
        if !self.wants(&event) {
            return;
        }
        if let Some(tx) = self.sender()
            && let Err(TrySendError::Full(_)) = tx.try_send(Msg::Event(event, SystemTime::now()))
        {
            self.metrics
                .events_dropped
                .with_label_values(&["sinks"])
                .inc();
        }
    }

    /// Whether some sink takes `event` (every alert and cell event; decisions only when
    /// logged or written to the JSONL file).
    pub fn wants(&self, event: &Event) -> bool {
        !matches!(event, Event::Decision(_)) || self.decisions.load(Ordering::Relaxed)
    }

    /// Replaces the sink settings (SIGHUP). Queued events go to the new sinks.
    pub fn reload(&self, cfg: SinksConfig, log_decisions: bool) {
        // Decisions are wanted from now on if the new settings want them; queued ones go
        // to the new sinks either way.
        self.decisions
            .store(wants_decisions(&cfg, log_decisions), Ordering::Relaxed);
        if let Some(tx) = self.sender() {
            let _ = tx.send_timeout(Msg::Reload(cfg, log_decisions), Duration::from_secs(1));
        }
    }

    /// Waits until everything queued before this call has been written (webhooks excepted:
    /// they deliver in the background). False on timeout.
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(tx) = self.sender() else {
            return false;
        };
        let (ack_tx, ack_rx) = crossbeam_channel::bounded(1);
        if tx.send_timeout(Msg::Flush(ack_tx), timeout).is_err() {
            return false;
        }
        ack_rx.recv_timeout(timeout).is_ok()
    }

    /// Writes what is queued, gives webhooks until `deadline` to deliver, stops the
    /// threads. True if everything finished in time.
    pub fn shutdown(&self, deadline: Instant) -> bool {
        // The worker drains the queue, then gives the webhooks until `deadline`.
        if let Ok(mut g) = self.tx.lock()
            && let Some(tx) = g.take()
        {
            let wait = deadline.saturating_duration_since(Instant::now());
            let _ = tx.send_timeout(Msg::Shutdown(deadline), wait);
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        let ok = matches!(
            self.done.recv_timeout(wait),
            Err(RecvTimeoutError::Disconnected) | Ok(())
        );
        if ok
            && let Ok(mut g) = self.thread.lock()
            && let Some(t) = g.take()
        {
            let _ = t.join();
        }
        ok
    }
}

fn wants_decisions(cfg: &SinksConfig, log_decisions: bool) -> bool {
    log_decisions || cfg.jsonl.as_ref().is_some_and(|j| j.decisions)
}

struct Worker {
    jsonl: Option<(PathBuf, BufWriter<File>)>,
    webhooks: Vec<Webhook>,
    cfg: SinksConfig,
    log_decisions: bool,
    source: String,
    metrics: Metrics,
}

impl Worker {
    fn apply(&mut self, cfg: SinksConfig) -> Result<(), std::io::Error> {
        let want = cfg.jsonl.as_ref().map(|j| j.path.clone());
        let have = self.jsonl.as_ref().map(|(p, _)| p.clone());
        if want != have {
            if let Some((_, mut w)) = self.jsonl.take() {
                let _ = w.flush();
            }
            if let Some(p) = want {
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&p)
                    .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
                self.jsonl = Some((p, BufWriter::new(f)));
            }
        }
        if cfg.webhook != self.cfg.webhook {
            // New webhooks start before the old ones stop: nothing queued is lost.
            let new: Vec<Webhook> = cfg
                .webhook
                .iter()
                .map(|w| Webhook::spawn(w.clone(), self.metrics.clone()))
                .collect();
            for w in std::mem::replace(&mut self.webhooks, new) {
                // Let the old one finish its queue in the background.
                let deadline = Instant::now() + Duration::from_secs(5);
                let _ = std::thread::Builder::new()
                    .name("ssbguard-webhook-close".into())
                    .spawn(move || w.close(deadline));
            }
        }
        self.cfg = cfg;
        Ok(())
    }

    fn run(&mut self, rx: Receiver<Msg>) {
        let mut unflushed = false;
        let mut deadline = None;
        loop {
            let msg = if unflushed {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => break,
                }
            };
            match msg {
                None => {
                    self.flush_file();
                    unflushed = false;
                }
                Some(Msg::Event(e, wall)) => {
                    unflushed |= self.handle(&e, wall);
                    if rx.is_empty() {
                        self.flush_file();
                        unflushed = false;
                    }
                }
                Some(Msg::Reload(cfg, log_decisions)) => {
                    self.log_decisions = log_decisions;
                    match self.apply(cfg) {
                        Ok(()) => tracing::info!("sink settings reloaded"),
                        Err(e) => tracing::error!(error = %e, "sink reload failed; JSONL sink off"),
                    }
                }
                Some(Msg::Shutdown(d)) => deadline = Some(d),
                Some(Msg::Flush(ack)) => {
                    self.flush_file();
                    unflushed = false;
                    let _ = ack.try_send(());
                }
            }
        }
        self.flush_file();
        let deadline = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(2));
        for w in self.webhooks.drain(..) {
            w.close(deadline);
        }
    }

    fn flush_file(&mut self) {
        if let Some((p, w)) = &mut self.jsonl
            && let Err(e) = w.flush()
        {
            tracing::error!(path = %p.display(), error = %e, "JSONL sink write failed");
        }
    }

    /// Returns true when the JSONL file was written.
    fn handle(&mut self, e: &Event, wall: SystemTime) -> bool {
        match e {
            Event::Decision(d) => {
                if self.log_decisions {
                    tracing::info!(
                        pci = ?d.pci, ssb_index = ?d.ssb_index, jammed = d.jammed,
                        score = d.score, sample = d.sample, "decision"
                    );
                }
            }
            Event::Alert(a) => {
                let sev = serde_json::to_value(a.severity).unwrap_or_default();
                let sev = sev.as_str().unwrap_or("");
                match a.state {
                    AlertState::Raised => tracing::warn!(
                        pci = ?a.pci, severity = sev, score = a.score,
                        sjnr_est_db = ?a.sjnr_est_db, jammer_type = ?a.jammer_type,
                        sample = a.sample, "JammingDetected"
                    ),
                    AlertState::Cleared => tracing::info!(
                        pci = ?a.pci, severity = sev, score = a.score, sample = a.sample,
                        "JammingCleared"
                    ),
                }
                for w in &self.webhooks {
                    w.push(webhook_body(w.cfg.format, a, wall, &self.source));
                }
            }
            Event::Cell(c) => {
                let ev = match c.event {
                    crate::events::CellState::Found => "CellFound",
                    crate::events::CellState::Lost => "CellLost",
                };
                tracing::info!(pci = c.pci, ssb_freq_hz = ?c.ssb_freq_hz, cfo_hz = c.cfo_hz,
                    snr_db = c.snr_db, "{ev}");
            }
        }
        let write = match e {
            Event::Decision(_) => self.cfg.jsonl.as_ref().is_some_and(|j| j.decisions),
            _ => true,
        };
        if write && let Some((p, w)) = &mut self.jsonl {
            let mut line = e.to_json();
            line.push('\n');
            if let Err(err) = w.write_all(line.as_bytes()) {
                tracing::error!(path = %p.display(), error = %err, "JSONL sink write failed");
            }
            return true;
        }
        false
    }
}

struct WebhookQueue {
    state: Mutex<(VecDeque<String>, Option<Instant>)>,
    cv: Condvar,
}

struct Webhook {
    cfg: WebhookConfig,
    queue: Arc<WebhookQueue>,
    metrics: Metrics,
    thread: Option<JoinHandle<()>>,
}

impl Webhook {
    fn spawn(cfg: WebhookConfig, metrics: Metrics) -> Webhook {
        let queue = Arc::new(WebhookQueue {
            state: Mutex::new((VecDeque::with_capacity(cfg.queue), None)),
            cv: Condvar::new(),
        });
        let (q, c, m) = (queue.clone(), cfg.clone(), metrics.clone());
        let thread = std::thread::Builder::new()
            .name("ssbguard-webhook".into())
            .spawn(move || deliver_loop(&c, &q, &m))
            .map_err(|e| tracing::error!(error = %e, "cannot start webhook thread"))
            .ok();
        Webhook {
            cfg,
            queue,
            metrics,
            thread,
        }
    }

    fn push(&self, body: String) {
        let Ok(mut g) = self.queue.state.lock() else {
            return;
        };
        if g.0.len() >= self.cfg.queue {
            g.0.pop_front();
            self.metrics
                .webhook_deliveries
                .with_label_values(&["dropped"])
                .inc();
            tracing::warn!(url = %self.cfg.url, "webhook queue full; oldest alert dropped");
        }
        g.0.push_back(body);
        self.queue.cv.notify_all();
    }

    /// Stops taking alerts; delivers what is queued until `deadline`, then drops the rest.
    fn close(mut self, deadline: Instant) {
        if let Ok(mut g) = self.queue.state.lock() {
            g.1 = Some(deadline);
        }
        self.queue.cv.notify_all();
        if let Some(t) = self.thread.take() {
            // The thread exits by the deadline plus at most one request timeout.
            let _ = t.join();
        }
    }
}

fn deliver_loop(cfg: &WebhookConfig, q: &WebhookQueue, m: &Metrics) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs_f64(cfg.timeout_s)))
            .http_status_as_error(false)
            .build(),
    );
    loop {
        let (body, deadline) = {
            let Ok(mut g) = q.state.lock() else { return };
            loop {
                if let Some(b) = g.0.pop_front() {
                    break (b, g.1);
                }
                if g.1.is_some() {
                    return;
                }
                g = match q.cv.wait(g) {
                    Ok(g) => g,
                    Err(_) => return,
                };
            }
        };
        if deadline.is_some_and(|d| Instant::now() >= d) {
            m.webhook_deliveries.with_label_values(&["dropped"]).inc();
            continue;
        }
        let mut delay = Duration::from_secs_f64(cfg.backoff_initial_s);
        let max = Duration::from_secs_f64(cfg.backoff_max_s);
        let mut delivered = false;
        for attempt in 0..=cfg.retries {
            let mut req = agent
                .post(&cfg.url)
                .header("content-type", "application/json");
            if let Some(t) = &cfg.bearer_token {
                req = req.header("authorization", &format!("Bearer {t}"));
            }
            match req.send(body.as_str()) {
                Ok(r) if r.status().is_success() => {
                    delivered = true;
                    break;
                }
                Ok(r) => {
                    if attempt == 0 {
                        tracing::warn!(url = %cfg.url, status = r.status().as_u16(), "webhook refused");
                    }
                }
                Err(e) => {
                    if attempt == 0 {
                        tracing::warn!(url = %cfg.url, error = %e, "webhook failed; retrying");
                    }
                }
            }
            if attempt == cfg.retries {
                break;
            }
            // Wait `delay`, but not past a shutdown deadline.
            let Ok(g) = q.state.lock() else { return };
            let until = Instant::now() + delay;
            let limit = g.1.map_or(until, |d| d.min(until));
            let wait = limit.saturating_duration_since(Instant::now());
            // Wake early when a shutdown deadline is set.
            let g = match q.cv.wait_timeout_while(g, wait, |g| g.1.is_none()) {
                Ok((g, _)) => g,
                Err(_) => return,
            };
            if g.1.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            drop(g);
            delay = (delay * 2).min(max);
        }
        let result = if delivered { "delivered" } else { "failed" };
        m.webhook_deliveries.with_label_values(&[result]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T12:34:56.789Z = 1709210096.789
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn decisions_are_queued_only_when_a_sink_takes_them() {
        let decision = Event::Decision(crate::events::Decision::blank(0, 1, 0.0, "classic"));
        let alert = Event::Alert(Alert {
            kind: "alert",
            state: AlertState::Raised,
            sample: 0,
            time_s: 0.0,
            pci: Some(1),
            severity: crate::events::Severity::Major,
            score: 0.5,
            sjnr_est_db: None,
            jammer_type: None,
            detector: "classic",
        });
        let s = Sinks::spawn(
            SinksConfig::default(),
            false,
            "t".into(),
            Metrics::new("classic"),
        )
        .expect("sinks");
        assert!(!s.wants(&decision));
        assert!(s.wants(&alert));
        s.reload(SinksConfig::default(), true);
        assert!(s.wants(&decision));
        let dir = std::env::temp_dir().join(format!("ssbguard-sinks-{}", std::process::id()));
        let jsonl = SinksConfig {
            jsonl: Some(crate::daemon::config::RawJsonl {
                path: dir.with_extension("jsonl"),
                decisions: true,
            }),
            webhook: Vec::new(),
        };
        s.reload(jsonl.clone(), false);
        assert!(s.wants(&decision));
        s.reload(SinksConfig::default(), false);
        assert!(!s.wants(&decision));
        assert!(s.shutdown(Instant::now() + Duration::from_secs(5)));
        let _ = std::fs::remove_file(dir.with_extension("jsonl"));
    }
}
