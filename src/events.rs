//! What the pipeline says: decisions, alerts and cell events, in the JSON-lines format of
//! CONTRACTS §2. `replay` prints them, the daemon serves them (SSE, `/api/v1/alerts`) and
//! counts them in metrics; all three use these types, so they cannot disagree.

use serde::Serialize;

/// Scores in decisions and alerts carry 4 decimals, the same wherever they are made (so
/// `replay` and the daemon print the same bytes).
pub(crate) fn round_score(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// One verdict on one SSB occasion (or on 20 ms of signal when no cell is tracked).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Decision {
    /// Always `"decision"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// First sample of the window the decision concerns, at the input's own rate.
    pub sample: u64,
    /// Length of that window, input samples.
    pub samples: u64,
    /// `sample / sample_rate`.
    pub time_s: f64,
    /// Cell, when known.
    pub pci: Option<u16>,
    /// SSB index, when known.
    pub ssb_index: Option<u8>,
    /// Whether the SSB was found where the tracker expected it.
    pub ssb_found: bool,
    /// The verdict.
    pub jammed: bool,
    /// 0..1, higher = more likely jammed.
    pub score: f64,
    /// Which detector decided (`classic`, `dtddnn`, `single`, `rawiq`).
    pub detector: &'static str,
    /// Cascade stage that decided (1 or 2; 1 for single-stage detectors).
    pub stage: u8,
    /// Estimated SJNR of this SSB, dB (from the DMRS/PSS SNR), when a cell is tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sjnr_est_db: Option<f64>,
    /// EPNRE rise over the site baseline, dB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epnre_rise_db: Option<f64>,
    /// Jammer type guessed by the type head, when a model provides one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jammer_type: Option<String>,
    /// Wall-clock latency from the SSB's last sample being available to this decision, s.
    #[serde(skip)]
    pub latency_s: f64,
    /// Raw feature vector (schema in `models/FEATURES.md`), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<f32>>,
}

impl Decision {
    /// A decision on `samples` samples from `sample`: not jammed, score 0, SSB not found,
    /// stage 1, every optional field empty. Callers set what they know with struct update.
    pub fn blank(sample: u64, samples: u64, time_s: f64, detector: &'static str) -> Self {
        Decision {
            kind: "decision",
            sample,
            samples,
            time_s,
            pci: None,
            ssb_index: None,
            ssb_found: false,
            jammed: false,
            score: 0.0,
            detector,
            stage: 1,
            sjnr_est_db: None,
            epnre_rise_db: None,
            jammer_type: None,
            latency_s: 0.0,
            features: None,
        }
    }
}

/// Alert state change.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Jamming detected.
    Raised,
    /// Jamming over.
    Cleared,
}

/// Severity from the estimated SJNR.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// SJNR ≥ 15 dB: the cell still works, someone is there.
    Warning,
    /// 5 ≤ SJNR < 15 dB: degraded.
    Major,
    /// SJNR < 5 dB or the SSB is gone.
    Critical,
}

/// An alert raised or cleared.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Alert {
    /// Always `"alert"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Raised or cleared.
    pub state: AlertState,
    /// Sample (input rate) of the decision that changed the state.
    pub sample: u64,
    /// Its time.
    pub time_s: f64,
    /// Cell (null for band-level alerts without a tracked cell).
    pub pci: Option<u16>,
    /// Severity at raise time (and the worst seen, at clear time).
    pub severity: Severity,
    /// Mean score of the decisions that raised/cleared it.
    pub score: f64,
    /// Estimated SJNR, dB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sjnr_est_db: Option<f64>,
    /// Jammer type, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jammer_type: Option<String>,
    /// Detector.
    pub detector: &'static str,
}

/// Cell found or lost.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CellState {
    /// Acquired.
    Found,
    /// Lost after too many missed SSBs.
    Lost,
}

/// A cell event (also the `cells` output line).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CellEvent {
    /// Always `"cell"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Found or lost.
    pub event: CellState,
    /// PCI.
    pub pci: u16,
    /// First sample (input rate) of the first PSS symbol seen, CP included.
    pub sample: u64,
    /// Absolute SSB centre frequency, Hz (null when the recording has no centre frequency).
    pub ssb_freq_hz: Option<f64>,
    /// SSB centre minus recording centre, Hz.
    pub ssb_offset_hz: f64,
    /// SCS, kHz.
    pub scs_khz: u32,
    /// Estimated carrier frequency offset, Hz.
    pub cfo_hz: f64,
    /// SSB indices seen so far.
    pub ssb_indices: Vec<u8>,
    /// SNR estimate (DMRS-based), dB.
    pub snr_db: f64,
    /// Time of the event.
    pub time_s: f64,
}

/// Everything the pipeline emits.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A decision.
    Decision(Decision),
    /// An alert change.
    Alert(Alert),
    /// A cell change.
    Cell(CellEvent),
}

impl Event {
    /// One JSON line (no newline).
    pub fn to_json(&self) -> String {
        let r = match self {
            Event::Decision(d) => serde_json::to_string(d),
            Event::Alert(a) => serde_json::to_string(a),
            Event::Cell(c) => serde_json::to_string(c),
        };
        // Serialising these plain structs cannot fail (no maps with non-string keys, and
        // non-finite floats become null).
        r.unwrap_or_else(|e| format!("{{\"type\":\"error\",\"message\":\"{e}\"}}"))
    }

    /// SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Decision(_) => "decision",
            Event::Alert(_) => "alert",
            Event::Cell(_) => "cell",
        }
    }
}
