//! The one pipeline that `replay`, `eval`, `dataset` and the daemon all run: receiver
//! (cell search, tracking, SSB extraction) → features → detector → alert state machine.
//! Push blocks of samples with their absolute index; collect [`Event`]s.

use std::collections::HashMap;

use num_complex::Complex32;

use crate::detect::alert::{AlertBank, AlertConfig};
use crate::detect::classic;
use crate::events::{CellEvent, CellState, Decision, Event};
use crate::features::{
    self,
    baseline::{Baseline, BaselineTracker, SiteBaseline},
};
use crate::nr::Scs;
use crate::rx::pss_search::Candidate;
use crate::rx::raster::raster_in_band;
use crate::rx::receiver::{CellInfo, Receiver, ReceiverConfig, RxEvent};

/// Where the SSB is.
#[derive(Clone, Debug, PartialEq)]
pub enum SsbLocation {
    /// Known: SSB centre minus recording centre, and SCS (or both SCS tried).
    Given {
        /// Offset, Hz.
        offset_hz: f64,
        /// SCS, if known.
        scs: Option<Scs>,
    },
    /// Unknown: search the synchronisation raster inside the band (needs the centre
    /// frequency), for the given or both SCS.
    Raster {
        /// SCS, if known.
        scs: Option<Scs>,
    },
}

/// Which detector decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectorKind {
    /// Threshold/CUSUM on baseline-relative features.
    Classic,
}

impl DetectorKind {
    /// Name in decisions.
    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::Classic => "classic",
        }
    }
}

/// Pipeline configuration.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Input sample rate.
    pub sample_rate_hz: f64,
    /// Input centre frequency, if known.
    pub center_freq_hz: Option<f64>,
    /// SSB location.
    pub ssb: SsbLocation,
    /// Detector.
    pub detector: DetectorKind,
    /// Alerting.
    pub alert: AlertConfig,
    /// Attach feature vectors to decisions.
    pub emit_features: bool,
}

/// Errors building a pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The sample rate cannot carry an SSB of the SCS.
    #[error("sample rate {sample_rate_hz} Hz is too low or unusable: {reason}")]
    SampleRate {
        /// Rate.
        sample_rate_hz: f64,
        /// Why.
        reason: String,
    },
    /// SSB outside the captured band.
    #[error(
        "the SSB ({ssb_width_hz} Hz wide at {scs_khz} kHz SCS) at offset {offset_hz} Hz does not fit in the captured band ±{nyquist_hz} Hz (its centre must be within ±{half_band_hz} Hz)"
    )]
    OutOfBand {
        /// Offset.
        offset_hz: f64,
        /// SCS tried.
        scs_khz: u32,
        /// 240 subcarriers.
        ssb_width_hz: f64,
        /// Half the sample rate.
        nyquist_hz: f64,
        /// Half the sample rate minus the SSB half width (0 if it cannot fit at all).
        half_band_hz: f64,
    },
    /// Raster search needs the centre frequency.
    #[error(
        "raster search needs the recording's centre frequency (give --center-freq or --ssb-offset)"
    )]
    NoCenterFrequency,
}

/// A tracked cell as seen from outside (status API).
#[derive(Clone, Debug, serde::Serialize)]
pub struct CellStatus {
    /// PCI.
    pub pci: u16,
    /// SSB centre, absolute Hz if known.
    pub ssb_freq_hz: Option<f64>,
    /// SCS, kHz.
    pub scs_khz: u32,
    /// CFO estimate, Hz.
    pub cfo_hz: f64,
    /// SNR estimate, dB.
    pub snr_db: f64,
    /// Last jamming score.
    pub score: f64,
    /// Alert raised?
    pub alert: bool,
}

/// Snapshot of the pipeline for the status API and metrics.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PipelineStatus {
    /// Samples pushed.
    pub samples: u64,
    /// Discontinuities seen.
    pub discontinuities: u64,
    /// SSB occasions whose window could not be cut (a gap in the stream): decided
    /// "not jammed, SSB not found" with score 0, and counted here.
    pub incomplete_windows: u64,
    /// Receiver gain steps a cell's site baseline recognised and followed.
    pub gain_steps: u64,
    /// Cells tracked now.
    pub cells: Vec<CellStatus>,
}

/// What a model-based detector says about one SSB.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelVerdict {
    /// 0..1.
    pub score: f64,
    /// The decision.
    pub jammed: bool,
    /// Cascade stage that decided (1 or 2).
    pub stage: u8,
    /// Jammer type from a type head, if any.
    pub jammer_type: Option<String>,
}

impl ModelVerdict {
    /// The classical detector's verdict (per-SSB evidence and the cell's CUSUM): the
    /// pipeline without a model, the `classic` kind and the fallback of a failed inference.
    pub fn classic(v: &classic::ClassicVerdict) -> ModelVerdict {
        let score = v.detector_score();
        ModelVerdict {
            score,
            jammed: score >= 0.5,
            stage: 1,
            jammer_type: None,
        }
    }
}

/// A detector that replaces the classical verdict (the DNN models implement this).
pub trait ModelDetector: Send {
    /// Name in decisions (`dtddnn`, `single`, `rawiq`).
    fn name(&self) -> &'static str;
    /// Judges one SSB from its features (schema [`features::SCHEMA_VERSION`]), its
    /// time-domain samples at fs_p (empty when the window could not be cut) and the
    /// classical verdict (which also carries the baseline-relative EPNRE rise).
    fn decide(
        &mut self,
        features: &[f32; features::LEN],
        iq: &[Complex32],
        classic: &classic::ClassicVerdict,
    ) -> ModelVerdict;
}

/// Called for every SSB decision with its features and IQ (dataset export).
pub type Tap = Box<dyn FnMut(&Decision, &[f32; features::LEN], &[Complex32]) + Send>;

/// Calibration SSBs before the site baseline is trusted.
pub const CALIBRATION_SSBS: usize = 16;
/// Baseline follow step on clean SSBs.
pub const BASELINE_STEP: f32 = 0.01;

/// The pipeline.
pub struct Pipeline {
    cfg: PipelineConfig,
    rx: Receiver,
    next_sample: u64,
    status: PipelineStatus,
    baselines: HashMap<u32, BaselineTracker>,
    /// The classical detector's CUSUM per cell.
    cusums: HashMap<u32, classic::Cusum>,
    /// Band-power statistics of the last calibrated cell, for no-cell windows.
    band_base: Option<(f32, f32)>,
    alerts: AlertBank,
    rx_events: Vec<RxEvent>,
    /// Saved baselines by PCI (`ssbguard calibrate`).
    saved_baselines: HashMap<u16, Baseline>,
    model: Option<Box<dyn ModelDetector>>,
    tap: Option<Tap>,
}

fn candidates(cfg: &PipelineConfig) -> Result<Vec<Candidate>, PipelineError> {
    let both = [Scs::Khz30, Scs::Khz15];
    let fs = cfg.sample_rate_hz;
    match &cfg.ssb {
        SsbLocation::Given { offset_hz, scs } => {
            let list: Vec<Scs> = scs.map(|s| vec![s]).unwrap_or_else(|| both.to_vec());
            let mut out = Vec::new();
            for s in list {
                let half = fs / 2.0 - 120.0 * s.hz();
                if offset_hz.abs() > half {
                    return Err(PipelineError::OutOfBand {
                        offset_hz: *offset_hz,
                        scs_khz: s.khz(),
                        ssb_width_hz: 240.0 * s.hz(),
                        nyquist_hz: fs / 2.0,
                        half_band_hz: half.max(0.0),
                    });
                }
                out.push(Candidate {
                    offset_hz: *offset_hz,
                    scs: s,
                });
            }
            Ok(out)
        }
        SsbLocation::Raster { scs } => {
            let center = cfg.center_freq_hz.ok_or(PipelineError::NoCenterFrequency)?;
            let list: Vec<Scs> = scs.map(|s| vec![s]).unwrap_or_else(|| both.to_vec());
            let mut out = Vec::new();
            for s in list {
                for f in raster_in_band(center, 0.9 * fs, s.hz()) {
                    out.push(Candidate {
                        offset_hz: f - center,
                        scs: s,
                    });
                }
            }
            Ok(out)
        }
    }
}

impl Pipeline {
    /// Validates the configuration and plans every FFT.
    pub fn new(cfg: PipelineConfig) -> Result<Pipeline, PipelineError> {
        let fs = cfg.sample_rate_hz;
        if !(fs.is_finite() && fs >= 1.0e6) {
            return Err(PipelineError::SampleRate {
                sample_rate_hz: fs,
                reason: "must be at least 1 Msps".into(),
            });
        }
        let cands = candidates(&cfg)?;
        let rcfg = ReceiverConfig::new(fs, cfg.center_freq_hz, cands);
        let rx = Receiver::new(rcfg).map_err(|e| PipelineError::SampleRate {
            sample_rate_hz: fs,
            reason: e.to_string(),
        })?;
        Ok(Pipeline {
            alerts: AlertBank::new(cfg.alert),
            cfg,
            rx,
            next_sample: 0,
            status: PipelineStatus::default(),
            baselines: HashMap::new(),
            cusums: HashMap::new(),
            band_base: None,
            rx_events: Vec::new(),
            saved_baselines: HashMap::new(),
            model: None,
            tap: None,
        })
    }

    /// Decides with `model` instead of the classical detector.
    pub fn set_model(&mut self, model: Box<dyn ModelDetector>) {
        self.model = Some(model);
    }

    /// Calls `tap` for every SSB decision (features and IQ), e.g. to export a dataset.
    pub fn set_tap(&mut self, tap: Tap) {
        self.tap = Some(tap);
    }

    /// Starts the cells of a saved site baseline from it instead of calibrating (other
    /// cells calibrate as usual). Fails when it was measured with another front end.
    pub fn set_site_baseline(&mut self, site: &SiteBaseline) -> Result<(), String> {
        site.check_front_end(self.cfg.sample_rate_hz, self.cfg.center_freq_hz)?;
        self.saved_baselines = site
            .cells
            .iter()
            .map(|c| (c.pci, c.baseline.clone()))
            .collect();
        Ok(())
    }

    /// Baselines learned so far, by PCI.
    pub fn baselines(&self) -> Vec<(u16, Baseline)> {
        let cells = self.rx.cells();
        self.baselines
            .iter()
            .filter_map(|(id, t)| {
                let pci = cells.iter().find(|c| c.id == *id)?.pci;
                Some((pci, t.get()?.clone()))
            })
            .collect()
    }

    /// The configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.cfg
    }

    /// Processes `samples`, whose first sample has absolute index `first_sample`. A
    /// `first_sample` beyond the previous block's end is a discontinuity (dropped samples):
    /// the streaming DSP state is reset honestly (cells stay tracked: time is absolute).
    /// Events are appended to `out`.
    pub fn push(&mut self, first_sample: u64, samples: &[Complex32], out: &mut Vec<Event>) {
        if first_sample != self.next_sample && self.status.samples > 0 {
            self.status.discontinuities += 1;
        }
        self.next_sample = first_sample + samples.len() as u64;
        self.status.samples += samples.len() as u64;
        let mut ev = std::mem::take(&mut self.rx_events);
        self.rx.push(first_sample, samples, &mut ev);
        self.handle(&mut ev, out);
        self.rx_events = ev;
    }

    /// Flushes what is pending at the end of a stream.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let mut ev = std::mem::take(&mut self.rx_events);
        self.rx.finish(&mut ev);
        self.handle(&mut ev, out);
        self.rx_events = ev;
    }

    /// Current status.
    pub fn status(&self) -> &PipelineStatus {
        &self.status
    }

    fn time(&self, sample: f64) -> f64 {
        sample / self.cfg.sample_rate_hz
    }

    fn cell_event(&self, c: &CellInfo, state: CellState) -> Event {
        Event::Cell(CellEvent {
            kind: "cell",
            event: state,
            pci: c.pci,
            sample: c.first_sample.max(0.0).round() as u64,
            ssb_freq_hz: self.cfg.center_freq_hz.map(|f| f + c.offset_hz),
            ssb_offset_hz: c.offset_hz,
            scs_khz: c.scs.khz(),
            cfo_hz: (c.cfo_hz * 10.0).round() / 10.0,
            ssb_indices: c.ssb_indices.clone(),
            snr_db: (c.snr_db * 100.0).round() / 100.0,
            time_s: self.time(c.first_sample.max(0.0)),
        })
    }

    fn handle(&mut self, ev: &mut Vec<RxEvent>, out: &mut Vec<Event>) {
        let detector = self.cfg.detector.name();
        for e in ev.drain(..) {
            match e {
                RxEvent::CellFound(c) => out.push(self.cell_event(&c, CellState::Found)),
                RxEvent::CellLost(c) => {
                    self.baselines.remove(&c.id);
                    self.cusums.remove(&c.id);
                    out.push(self.cell_event(&c, CellState::Lost));
                }
                RxEvent::NoCell {
                    start,
                    len,
                    band_power_db,
                } => {
                    let (jammed, score) = match self.band_base {
                        Some((m, sd)) => {
                            let rise = band_power_db - m as f64;
                            let thr = (3.0 * sd as f64).max(3.0);
                            let score = classic::score_of(rise / thr);
                            (score >= 0.5, score)
                        }
                        None => (false, 0.0),
                    };
                    let d = Decision {
                        jammed,
                        score: crate::events::round_score(score),
                        ..Decision::blank(start, len, self.time(start as f64), detector)
                    };
                    self.emit(d, out);
                }
                RxEvent::Ssb(r) => {
                    let Some(f) = features::extract(&r) else {
                        self.status.incomplete_windows += 1;
                        let start = r.start.max(0.0).round() as u64;
                        let d = Decision {
                            pci: Some(r.cell.pci),
                            ssb_index: r.ssb_index,
                            ..Decision::blank(
                                start,
                                r.len.round() as u64,
                                (self.time(start as f64) * 1e7).round() / 1e7,
                                detector,
                            )
                        };
                        self.emit(d, out);
                        continue;
                    };
                    let saved = self.saved_baselines.get(&r.cell.pci).cloned();
                    let tracker = self
                        .baselines
                        .entry(r.cell.id)
                        .or_insert_with(|| match saved {
                            Some(b) => BaselineTracker::with_baseline(b, BASELINE_STEP),
                            None => BaselineTracker::new(CALIBRATION_SSBS, BASELINE_STEP),
                        });
                    let mut v = classic::judge(&f, tracker.get());
                    let cusum = self.cusums.entry(r.cell.id).or_default();
                    v.cusum_ratio = cusum.update(&v);
                    v.recent_excess_z = cusum.recent_z();
                    let raised = self.alerts.is_raised(Some(r.cell.pci));
                    let iq: &[Complex32] = r.obs.as_ref().map_or(&[], |o| &o.iq);
                    let mv = match self.model.as_mut() {
                        Some(m) => m.decide(&f, iq, &v),
                        None => ModelVerdict::classic(&v),
                    };
                    if let Some(g) = tracker.observe(&f, !mv.jammed && !raised) {
                        // A receiver gain step, not a jammer: the baseline moved with it,
                        // and the CUSUM restarts from the new levels.
                        tracing::info!(
                            pci = r.cell.pci,
                            step_db = f64::from(g),
                            "receiver gain step: site baseline re-referenced"
                        );
                        self.cusums.remove(&r.cell.id);
                        self.status.gain_steps += 1;
                    }
                    if let Some(b) = tracker.get() {
                        self.band_base = Some((b.band_power_dbfs, b.band_sigma_db));
                    }
                    let start = r.start.max(0.0).round() as u64;
                    let d = Decision {
                        kind: "decision",
                        sample: start,
                        samples: r.len.round() as u64,
                        time_s: (self.time(start as f64) * 1e7).round() / 1e7,
                        pci: Some(r.cell.pci),
                        ssb_index: r.ssb_index,
                        ssb_found: r.found,
                        jammed: mv.jammed,
                        score: crate::events::round_score(mv.score),
                        detector: self.model.as_ref().map_or(detector, |m| m.name()),
                        stage: mv.stage,
                        sjnr_est_db: Some((v.sjnr_est_db * 100.0).round() / 100.0),
                        epnre_rise_db: v.epnre_rise_db.map(|x| (x * 100.0).round() / 100.0),
                        jammer_type: mv.jammer_type,
                        latency_s: 0.0,
                        features: self.cfg.emit_features.then(|| f.to_vec()),
                    };
                    if let Some(tap) = self.tap.as_mut() {
                        tap(&d, &f, iq);
                    }
                    self.emit(d, out);
                }
            }
        }
        self.status.cells = self
            .rx
            .cells()
            .iter()
            .map(|c| CellStatus {
                pci: c.pci,
                ssb_freq_hz: self.cfg.center_freq_hz.map(|f| f + c.offset_hz),
                scs_khz: c.scs.khz(),
                cfo_hz: c.cfo_hz,
                snr_db: c.snr_db,
                score: self
                    .status
                    .cells
                    .iter()
                    .find(|s| s.pci == c.pci)
                    .map_or(0.0, |s| s.score),
                alert: self.alerts.is_raised(Some(c.pci)),
            })
            .collect();
    }

    fn emit(&mut self, d: Decision, out: &mut Vec<Event>) {
        if let Some(pci) = d.pci
            && let Some(c) = self.status.cells.iter_mut().find(|c| c.pci == pci)
        {
            c.score = d.score;
        }
        let alert = self.alerts.observe(&d);
        out.push(Event::Decision(d));
        if let Some(a) = alert {
            out.push(Event::Alert(a));
        }
    }
}
