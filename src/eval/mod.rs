//! Offline evaluation (`ssbguard eval`): every detector through the *same* pipeline on the
//! test seeds of `models/splits.toml`, with thresholds for a fixed false-alarm rate chosen
//! on the validation seeds (never on test), written as `eval/report.md`,
//! `eval/report.json` and SVG plots.
//!
//! Definitions:
//! - a scored SSB is a decision on an SSB occasion of a tracked cell whose window could be
//!   cut; its label is "a jammer emits inside its window" ([`crate::dataset`]);
//! - **Pfa** is measured on label-0 SSBs of clean and benign-interferer scenarios (neighbour
//!   gNB, LTE), **Pd** on label-1 SSBs, binned by the scenario's SJNR;
//! - *fixed-Pfa* operating points: the threshold with at most 1 % (0.1 %) of the benign
//!   *validation* SSBs at or above it, applied unchanged to the test SSBs (the test Pfa
//!   is reported as measured);
//! - the *shipped* operating point is the detector's own `jammed` flag (the card's
//!   threshold; 0.5 for the classical detector), which also drives alerting;
//! - an episode is *alerted* when an alert is raised between its start and 100 ms after its
//!   end, or was already raised at its start; time to alert = raise time − start (0 when
//!   already raised).

pub mod metrics;
pub mod svg;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use num_complex::Complex32;
use serde::Serialize;

use crate::dataset::{self, DatasetError, ScenarioClass, Split, Splits};
use crate::detect::classic::ClassicVerdict;
use crate::detect::dnn::{self, ModelError};
use crate::events::{AlertState, Event};
use crate::features;
use crate::pipeline::{ModelDetector, ModelVerdict};
use crate::synth::JammerKind;

/// The paper's Pd at SJNR 15–30 dB (DT-DDNN, single-threshold DNN, raw-IQ DNN), for
/// reference; the paper states no false-alarm rate.
pub const PAPER_PD_15_30: [(&str, f64); 3] =
    [("dtddnn", 0.964), ("single", 0.860), ("rawiq", 0.832)];

/// SJNR bins of the report, dB: [lo, hi).
pub const SJNR_BINS: [(f64, f64); 8] = [
    (-5.0, 0.0),
    (0.0, 5.0),
    (5.0, 10.0),
    (10.0, 15.0),
    (15.0, 20.0),
    (20.0, 25.0),
    (25.0, 30.0),
    (30.0, 35.0),
];

/// JNR bins, dB (the population draws JNR in −5…25 dB, `src/dataset/scenarios.rs`).
pub const JNR_BINS: [(f64, f64); 6] = [
    (-5.0, 0.0),
    (0.0, 5.0),
    (5.0, 10.0),
    (10.0, 15.0),
    (15.0, 20.0),
    (20.0, 25.0),
];

/// The headline population: SJNR 15–30 dB, continuous kinds, jammer at or above the noise
/// floor (JNR ≥ 0 dB).
pub fn is_headline(m: &dataset::ScenarioMeta, kind: Option<JammerKind>) -> bool {
    (15.0..30.0).contains(&m.sjnr_db) && m.jnr_db >= 0.0 && kind.is_some_and(is_continuous)
}

/// The jammer's power over noise plus the benign interferer where it overlaps the SSB,
/// dB (the JNR when there is no interferer): below 0 dB the jammer hides under power the
/// null REs hold anyway, and per SSB it is as hard to see as one under the noise floor.
pub fn jammer_over_floor_db(m: &dataset::ScenarioMeta) -> f64 {
    let inr = m.interferer_inr_db.unwrap_or(f64::NEG_INFINITY);
    m.jnr_db - crate::dsp::db_one_plus(inr)
}

/// Jammer kinds that emit during every SSB of an episode.
pub fn is_continuous(k: JammerKind) -> bool {
    !matches!(k, JammerKind::Pulsed | JammerKind::PssSpoofer)
}

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A detector could not be loaded.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A scenario failed.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// Writing the report.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Arguments of `ssbguard eval`.
#[derive(Clone, Debug)]
pub struct EvalArgs {
    /// Models directory (`models/`).
    pub models_dir: PathBuf,
    /// Splits file (`models/splits.toml`).
    pub splits_file: PathBuf,
    /// Report directory (`eval/`).
    pub out_dir: PathBuf,
    /// Detectors to evaluate (names accepted by [`dnn::load`]).
    pub detectors: Vec<String>,
    /// Use only the first N test seeds.
    pub test_limit: Option<usize>,
    /// Use only the first N validation seeds (threshold selection).
    pub val_limit: Option<usize>,
    /// Worker threads.
    pub jobs: usize,
}

impl EvalArgs {
    /// Defaults: `models/`, `models/splits.toml`, `eval/`, all four detectors, every seed,
    /// one thread.
    pub fn new(root: &Path) -> Self {
        EvalArgs {
            models_dir: root.join("models"),
            splits_file: root.join("models/splits.toml"),
            out_dir: root.join("eval"),
            detectors: dnn::KINDS.iter().map(|s| s.to_string()).collect(),
            test_limit: None,
            val_limit: None,
            jobs: 1,
        }
    }
}

/// One scored SSB.
#[derive(Clone, Debug)]
pub struct ScoredSsb {
    /// Exact score of the detector.
    pub score: f64,
    /// Its decision at the shipped operating point.
    pub jammed: bool,
    /// Cascade stage.
    pub stage: u8,
    /// Jammer type guessed.
    pub jammer_type: Option<String>,
    /// Ground truth: a jammer emits in the window.
    pub label: bool,
    /// The emitting kind.
    pub kind: Option<JammerKind>,
}

/// One scenario as a detector saw it.
#[derive(Clone, Debug)]
pub struct ScenarioRun {
    /// Knobs.
    pub meta: dataset::ScenarioMeta,
    /// Scored SSBs.
    pub ssbs: Vec<ScoredSsb>,
    /// Alerts raised (time, s).
    pub raised_s: Vec<f64>,
    /// Alerts cleared (time, s).
    pub cleared_s: Vec<f64>,
}

/// Records the exact verdict of the wrapped detector for the tap.
struct Scoring {
    inner: Box<dyn ModelDetector>,
    last: Arc<Mutex<Option<ModelVerdict>>>,
}

impl ModelDetector for Scoring {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn decide(
        &mut self,
        f: &[f32; features::LEN],
        iq: &[Complex32],
        c: &ClassicVerdict,
    ) -> ModelVerdict {
        let v = self.inner.decide(f, iq, c);
        if let Ok(mut l) = self.last.lock() {
            *l = Some(v.clone());
        }
        v
    }
}

/// Runs detector `kind` on the scenario of `seed`.
pub fn run_scenario(kind: &str, models_dir: &Path, seed: u64) -> Result<ScenarioRun, EvalError> {
    let det = dnn::load(kind, &dnn::Models::Dir(models_dir.to_path_buf()))?;
    let last = Arc::new(Mutex::new(None::<ModelVerdict>));
    let got = Arc::new(Mutex::new(Vec::<(u64, u64, ModelVerdict)>::new()));
    let (l1, g1) = (last.clone(), got.clone());
    let out = dataset::simulate_with(seed, move |p| {
        p.set_model(Box::new(Scoring {
            inner: det,
            last: l1.clone(),
        }));
        p.set_tap(Box::new(move |d, _f, _iq| {
            if let (Ok(mut l), Ok(mut g)) = (l1.lock(), g1.lock())
                && let Some(v) = l.take()
            {
                g.push((d.sample, d.samples, v));
            }
        }));
    })?;
    let pairs = got
        .lock()
        .map(|mut g| std::mem::take(&mut *g))
        .unwrap_or_default();
    let ssbs = pairs
        .into_iter()
        .map(|(a, n, v)| {
            let (frac, kind) = out.truth.jam_fraction(a, n);
            ScoredSsb {
                score: v.score,
                jammed: v.jammed,
                stage: v.stage,
                jammer_type: v.jammer_type,
                label: frac > 0.0,
                kind,
            }
        })
        .collect();
    let mut raised_s = Vec::new();
    let mut cleared_s = Vec::new();
    for e in &out.events {
        if let Event::Alert(a) = e {
            match a.state {
                AlertState::Raised => raised_s.push(a.time_s),
                AlertState::Cleared => cleared_s.push(a.time_s),
            }
        }
    }
    Ok(ScenarioRun {
        meta: out.meta,
        ssbs,
        raised_s,
        cleared_s,
    })
}

/// Runs `kind` on every seed (in parallel).
pub fn run_many(
    kind: &str,
    models_dir: &Path,
    seeds: &[u64],
    jobs: usize,
) -> Result<Vec<ScenarioRun>, EvalError> {
    let runs = dataset::par_map(seeds, jobs, |s| run_scenario(kind, models_dir, s));
    runs.into_iter().collect()
}

fn benign(m: &dataset::ScenarioMeta) -> bool {
    !matches!(m.class, ScenarioClass::Jammed(_))
}

/// Scores of label-0 SSBs in benign scenarios.
pub fn negatives(runs: &[ScenarioRun]) -> Vec<f64> {
    runs.iter()
        .filter(|r| benign(&r.meta))
        .flat_map(|r| r.ssbs.iter().filter(|s| !s.label).map(|s| s.score))
        .collect()
}

fn positives(
    runs: &[ScenarioRun],
    f: impl Fn(&dataset::ScenarioMeta, &ScoredSsb) -> bool,
) -> Vec<f64> {
    runs.iter()
        .flat_map(|r| {
            r.ssbs
                .iter()
                .filter(|s| s.label && f(&r.meta, s))
                .map(|s| s.score)
        })
        .collect()
}

/// A rate with its sample size.
#[derive(Clone, Debug, Serialize)]
pub struct Rate {
    /// Fraction (None when n = 0).
    pub value: Option<f64>,
    /// Sample size.
    pub n: usize,
}

fn rate_of(v: &[f64], t: f64) -> Rate {
    Rate {
        value: metrics::rate(v, t),
        n: v.len(),
    }
}

fn flag_rate(v: &[bool]) -> Rate {
    Rate {
        value: (!v.is_empty()).then(|| v.iter().filter(|x| **x).count() as f64 / v.len() as f64),
        n: v.len(),
    }
}

/// Metrics at one operating point.
#[derive(Clone, Debug, Serialize)]
pub struct OperatingPoint {
    /// Threshold on the detector's score.
    pub threshold: f64,
    /// Pfa on the benign test SSBs.
    pub pfa_test: Rate,
    /// Pfa per benign class (clean, neighbour_gnb, lte).
    pub pfa_by_class: BTreeMap<String, Rate>,
    /// Pd on all jammed SSBs.
    pub pd: Rate,
    /// Pd per SJNR bin ("lo..hi").
    pub pd_by_sjnr: BTreeMap<String, Rate>,
    /// Pd per SJNR bin, continuous jammer kinds only.
    pub pd_by_sjnr_continuous: BTreeMap<String, Rate>,
    /// Pd at SJNR 15–30 dB, continuous kinds, JNR ≥ 0 dB (the headline, [`is_headline`]).
    pub pd_headline: Rate,
    /// The headline population without a benign interferer on the cell.
    pub pd_headline_clean_cell: Rate,
    /// The headline population with the jammer at or above noise plus the benign
    /// interferer ([`jammer_over_floor_db`] ≥ 0).
    pub pd_headline_over_floor: Rate,
    /// Pd at SJNR 15–30 dB, continuous kinds.
    pub pd_15_30_continuous: Rate,
    /// Pd at SJNR 15–30 dB, continuous kinds, jammer on a cell without a benign
    /// interferer (the goal's setting).
    pub pd_15_30_continuous_clean_cell: Rate,
    /// Pd per SJNR bin, continuous kinds, no benign interferer.
    pub pd_by_sjnr_continuous_clean_cell: BTreeMap<String, Rate>,
    /// Pd at SJNR 15–30 dB, all kinds.
    pub pd_15_30: Rate,
    /// Pd per jammer kind.
    pub pd_by_type: BTreeMap<String, Rate>,
    /// Pd per JNR bin.
    pub pd_by_jnr: BTreeMap<String, Rate>,
    /// Pd per JNR bin, SJNR 15–30 dB, continuous kinds.
    pub pd_by_jnr_15_30_continuous: BTreeMap<String, Rate>,
}

fn bin_name(lo: f64, hi: f64) -> String {
    format!("{lo:.0}..{hi:.0}")
}

fn operating_point(runs: &[ScenarioRun], t: f64) -> OperatingPoint {
    let neg = negatives(runs);
    let mut pfa_by_class = BTreeMap::new();
    for c in [
        ScenarioClass::Clean,
        ScenarioClass::Neighbour,
        ScenarioClass::Lte,
    ] {
        let v: Vec<f64> = runs
            .iter()
            .filter(|r| r.meta.class == c)
            .flat_map(|r| r.ssbs.iter().filter(|s| !s.label).map(|s| s.score))
            .collect();
        pfa_by_class.insert(c.name().to_string(), rate_of(&v, t));
    }
    let in_bin = |m: &dataset::ScenarioMeta, lo: f64, hi: f64| m.sjnr_db >= lo && m.sjnr_db < hi;
    let cont = |s: &ScoredSsb| s.kind.is_some_and(is_continuous);
    let mut pd_by_sjnr = BTreeMap::new();
    let mut pd_by_sjnr_continuous = BTreeMap::new();
    let mut pd_by_sjnr_continuous_clean_cell = BTreeMap::new();
    for (lo, hi) in SJNR_BINS {
        pd_by_sjnr_continuous_clean_cell.insert(
            bin_name(lo, hi),
            rate_of(
                &positives(runs, |m, s| {
                    in_bin(m, lo, hi) && cont(s) && !m.benign_interferer
                }),
                t,
            ),
        );
        pd_by_sjnr.insert(
            bin_name(lo, hi),
            rate_of(&positives(runs, |m, _| in_bin(m, lo, hi)), t),
        );
        pd_by_sjnr_continuous.insert(
            bin_name(lo, hi),
            rate_of(&positives(runs, |m, s| in_bin(m, lo, hi) && cont(s)), t),
        );
    }
    let mut pd_by_type = BTreeMap::new();
    for k in JammerKind::ALL {
        pd_by_type.insert(
            k.name().to_string(),
            rate_of(&positives(runs, |_, s| s.kind == Some(k)), t),
        );
    }
    let mut pd_by_jnr = BTreeMap::new();
    let mut pd_by_jnr_15_30_continuous = BTreeMap::new();
    for (lo, hi) in JNR_BINS {
        let in_jnr = |m: &dataset::ScenarioMeta| m.jnr_db >= lo && m.jnr_db < hi;
        pd_by_jnr.insert(
            bin_name(lo, hi),
            rate_of(&positives(runs, |m, _| in_jnr(m)), t),
        );
        pd_by_jnr_15_30_continuous.insert(
            bin_name(lo, hi),
            rate_of(
                &positives(runs, |m, s| in_jnr(m) && in_bin(m, 15.0, 30.0) && cont(s)),
                t,
            ),
        );
    }
    OperatingPoint {
        threshold: t,
        pfa_test: rate_of(&neg, t),
        pfa_by_class,
        pd: rate_of(&positives(runs, |_, _| true), t),
        pd_headline: rate_of(&positives(runs, |m, s| is_headline(m, s.kind)), t),
        pd_headline_clean_cell: rate_of(
            &positives(runs, |m, s| is_headline(m, s.kind) && !m.benign_interferer),
            t,
        ),
        pd_headline_over_floor: rate_of(
            &positives(runs, |m, s| {
                is_headline(m, s.kind) && jammer_over_floor_db(m) >= 0.0
            }),
            t,
        ),
        pd_by_sjnr,
        pd_by_sjnr_continuous,
        pd_15_30_continuous: rate_of(&positives(runs, |m, s| in_bin(m, 15.0, 30.0) && cont(s)), t),
        pd_15_30_continuous_clean_cell: rate_of(
            &positives(runs, |m, s| {
                in_bin(m, 15.0, 30.0) && cont(s) && !m.benign_interferer
            }),
            t,
        ),
        pd_by_sjnr_continuous_clean_cell,
        pd_15_30: rate_of(&positives(runs, |m, _| in_bin(m, 15.0, 30.0)), t),
        pd_by_type,
        pd_by_jnr,
        pd_by_jnr_15_30_continuous,
    }
}

/// Per-episode alerting at the shipped operating point.
#[derive(Clone, Debug, Serialize)]
pub struct Alerting {
    /// Jamming episodes alerted.
    pub episodes_alerted: Rate,
    /// Episodes alerted, by jammer kind.
    pub by_type: BTreeMap<String, Rate>,
    /// Episodes alerted, by SJNR bin.
    pub by_sjnr: BTreeMap<String, Rate>,
    /// Episodes with SJNR 15–30 dB alerted.
    pub alerted_15_30: Rate,
    /// Episodes of continuous kinds at SJNR 15–30 dB on a cell without a benign
    /// interferer, alerted.
    pub alerted_15_30_continuous_clean_cell: Rate,
    /// Episodes of the headline population ([`is_headline`]) alerted.
    pub alerted_headline: Rate,
    /// Episodes alerted, by JNR bin.
    pub by_jnr: BTreeMap<String, Rate>,
    /// Median time to alert, headline episodes, s.
    pub median_time_to_alert_headline_s: Option<f64>,
    /// Median time to alert, s.
    pub median_time_to_alert_s: Option<f64>,
    /// 90th percentile time to alert, s.
    pub p90_time_to_alert_s: Option<f64>,
    /// Benign scenarios with at least one alert.
    pub benign_scenarios_alerted: Rate,
    /// … by class (clean, neighbour_gnb, lte).
    pub benign_alerted_by_class: BTreeMap<String, Rate>,
    /// Jammed scenarios with an alert raised before the jammer started.
    pub early_alerts: Rate,
}

fn alerting(runs: &[ScenarioRun]) -> Alerting {
    let mut alerted = Vec::new();
    let mut by_type: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    let mut by_sjnr: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    let mut mid = Vec::new();
    let mut mid_clean = Vec::new();
    let mut head = Vec::new();
    let mut by_jnr: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    let mut tta = Vec::new();
    let mut tta_head = Vec::new();
    let mut benign_alerted = Vec::new();
    let mut benign_by_class: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    let mut early = Vec::new();
    for r in runs {
        let Some((a, b)) = r.meta.episode_s else {
            benign_alerted.push(!r.raised_s.is_empty());
            benign_by_class
                .entry(r.meta.class.name().to_string())
                .or_default()
                .push(!r.raised_s.is_empty());
            continue;
        };
        early.push(r.raised_s.iter().any(|t| *t < a));
        // Raised at the start: the last raise before `a` has no clear between it and `a`.
        let last_raise = r
            .raised_s
            .iter()
            .copied()
            .filter(|t| *t < a)
            .fold(f64::NAN, f64::max);
        let raised_at_start =
            last_raise.is_finite() && !r.cleared_s.iter().any(|c| *c >= last_raise && *c < a);
        let first = r
            .raised_s
            .iter()
            .copied()
            .find(|t| *t >= a && *t <= b + 0.1);
        let ok = raised_at_start || first.is_some();
        let kind = match r.meta.class {
            ScenarioClass::Jammed(k) => Some(k),
            _ => None,
        };
        let headline = is_headline(&r.meta, kind);
        if ok {
            let t = if raised_at_start {
                0.0
            } else {
                first.unwrap_or(a) - a
            };
            tta.push(t);
            if headline {
                tta_head.push(t);
            }
        }
        alerted.push(ok);
        if headline {
            head.push(ok);
        }
        for (lo, hi) in JNR_BINS {
            if r.meta.jnr_db >= lo && r.meta.jnr_db < hi {
                by_jnr.entry(bin_name(lo, hi)).or_default().push(ok);
            }
        }
        if let ScenarioClass::Jammed(k) = r.meta.class {
            by_type.entry(k.name().to_string()).or_default().push(ok);
        }
        for (lo, hi) in SJNR_BINS {
            if r.meta.sjnr_db >= lo && r.meta.sjnr_db < hi {
                by_sjnr.entry(bin_name(lo, hi)).or_default().push(ok);
            }
        }
        if (15.0..30.0).contains(&r.meta.sjnr_db) {
            mid.push(ok);
            if let ScenarioClass::Jammed(k) = r.meta.class
                && is_continuous(k)
                && !r.meta.benign_interferer
            {
                mid_clean.push(ok);
            }
        }
    }
    let p90 = if tta.is_empty() {
        None
    } else {
        let mut s = tta.clone();
        s.sort_by(|a, b| a.total_cmp(b));
        Some(s[((s.len() as f64 * 0.9).ceil() as usize).clamp(1, s.len()) - 1])
    };
    Alerting {
        episodes_alerted: flag_rate(&alerted),
        by_type: by_type
            .into_iter()
            .map(|(k, v)| (k, flag_rate(&v)))
            .collect(),
        by_sjnr: by_sjnr
            .into_iter()
            .map(|(k, v)| (k, flag_rate(&v)))
            .collect(),
        alerted_15_30: flag_rate(&mid),
        alerted_15_30_continuous_clean_cell: flag_rate(&mid_clean),
        alerted_headline: flag_rate(&head),
        by_jnr: by_jnr
            .into_iter()
            .map(|(k, v)| (k, flag_rate(&v)))
            .collect(),
        median_time_to_alert_headline_s: metrics::median(&tta_head),
        median_time_to_alert_s: metrics::median(&tta),
        p90_time_to_alert_s: p90,
        benign_scenarios_alerted: flag_rate(&benign_alerted),
        benign_alerted_by_class: benign_by_class
            .into_iter()
            .map(|(k, v)| (k, flag_rate(&v)))
            .collect(),
        early_alerts: flag_rate(&early),
    }
}

/// Everything measured for one detector.
#[derive(Clone, Debug, Serialize)]
pub struct DetectorReport {
    /// Name.
    pub detector: String,
    /// Validation SSBs used for the thresholds (benign, label 0).
    pub val_negatives: usize,
    /// AUC on the test SSBs (jammed vs benign label-0).
    pub auc: Option<f64>,
    /// At 1 % validation Pfa.
    pub at_pfa_1e_2: OperatingPoint,
    /// At 0.1 % validation Pfa.
    pub at_pfa_1e_3: OperatingPoint,
    /// At the shipped operating point (the detector's own decision).
    pub shipped: OperatingPoint,
    /// Alerting at the shipped operating point.
    pub alerting: Alerting,
    /// Fraction of SSBs decided by stage 2 (cascade).
    pub stage2_fraction: f64,
    /// Type head: accuracy on jammed SSBs it labelled, and the confusion matrix
    /// (rows truth, columns prediction, [`dnn::TYPE_CLASSES`] without "none").
    pub type_accuracy: Option<Rate>,
    /// Confusion matrix.
    pub type_confusion: Option<Vec<Vec<u64>>>,
    /// ROC points on test (subsampled).
    #[serde(skip)]
    pub roc: Vec<(f64, f64)>,
    /// Wall time, s.
    pub wall_s: f64,
}

/// Evaluates one detector: thresholds on the validation runs, metrics on the test runs.
pub fn evaluate(
    kind: &str,
    val: &[ScenarioRun],
    test: &[ScenarioRun],
    wall_s: f64,
) -> DetectorReport {
    let vneg = negatives(val);
    let t2 = metrics::threshold_for_pfa(&vneg, 0.01);
    let t3 = metrics::threshold_for_pfa(&vneg, 0.001);
    let neg = negatives(test);
    let pos = positives(test, |_, _| true);
    // The shipped point: the detector's own flag. Express it as an operating point by
    // thresholding a 0/1 score.
    let flags: Vec<ScenarioRun> = test
        .iter()
        .map(|r| ScenarioRun {
            ssbs: r
                .ssbs
                .iter()
                .map(|s| ScoredSsb {
                    score: s.jammed as u8 as f64,
                    ..s.clone()
                })
                .collect(),
            ..r.clone()
        })
        .collect();
    let mut shipped = operating_point(&flags, 0.5);
    shipped.threshold = f64::NAN;
    let all: Vec<&ScoredSsb> = test.iter().flat_map(|r| r.ssbs.iter()).collect();
    let stage2 = all.iter().filter(|s| s.stage == 2).count() as f64 / all.len().max(1) as f64;
    let typed: Vec<(usize, usize)> = all
        .iter()
        .filter(|s| s.label && s.jammed)
        .filter_map(|s| {
            let t = s.kind.map(dataset::scenarios::kind_index)?;
            let p = dnn::TYPE_CLASSES
                .iter()
                .position(|c| Some(*c) == s.jammer_type.as_deref())?;
            Some((t, p.checked_sub(1)?))
        })
        .collect();
    let (type_accuracy, type_confusion) = if typed.is_empty() {
        (None, None)
    } else {
        let mut m = vec![vec![0u64; 8]; 8];
        for &(t, p) in &typed {
            if p < 8 {
                m[t][p] += 1;
            }
        }
        let ok: Vec<bool> = typed.iter().map(|(t, p)| t == p).collect();
        (Some(flag_rate(&ok)), Some(m))
    };
    let mut roc = metrics::roc(&pos, &neg);
    if roc.len() > 400 {
        let step = roc.len() / 400;
        let last = *roc.last().unwrap_or(&(1.0, 1.0));
        roc = roc.into_iter().step_by(step.max(1)).collect();
        roc.push(last);
    }
    DetectorReport {
        detector: kind.to_string(),
        val_negatives: vneg.len(),
        auc: metrics::auc(&pos, &neg),
        at_pfa_1e_2: operating_point(test, t2),
        at_pfa_1e_3: operating_point(test, t3),
        shipped,
        alerting: alerting(test),
        stage2_fraction: stage2,
        type_accuracy,
        type_confusion,
        roc,
        wall_s,
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    /// Per detector.
    pub detectors: Vec<DetectorReport>,
    /// Test scenarios by class.
    pub test_scenarios: BTreeMap<String, usize>,
    /// Seeds used.
    pub test_seeds: (u64, usize),
    /// Validation seeds used.
    pub val_seeds: (u64, usize),
    /// Paper reference (Pd at SJNR 15–30 dB).
    pub paper_pd_15_30: BTreeMap<String, f64>,
}

/// Runs the evaluation and writes `report.md`, `report.json` and the plots into
/// `args.out_dir`. Progress goes to stderr.
pub fn run(args: &EvalArgs) -> Result<EvalReport, EvalError> {
    let sp = Splits::load(&args.splits_file).map_err(DatasetError::from)?;
    let mut vseeds = sp.seeds(Split::Val);
    let mut tseeds = sp.seeds(Split::Test);
    if let Some(l) = args.val_limit {
        vseeds.truncate(l);
    }
    if let Some(l) = args.test_limit {
        tseeds.truncate(l);
    }
    // Fail fast on a bad model before simulating anything.
    for k in &args.detectors {
        dnn::load(k, &dnn::Models::Dir(args.models_dir.clone()))?;
    }
    let mut reports = Vec::new();
    let mut classes = BTreeMap::new();
    for k in &args.detectors {
        let t0 = std::time::Instant::now();
        let val = run_many(k, &args.models_dir, &vseeds, args.jobs)?;
        let test = run_many(k, &args.models_dir, &tseeds, args.jobs)?;
        if classes.is_empty() {
            for r in &test {
                *classes.entry(r.meta.class.name().to_string()).or_insert(0) += 1;
            }
        }
        let rep = evaluate(k, &val, &test, t0.elapsed().as_secs_f64());
        eprintln!(
            "eval {k}: AUC {:?}, Pd(15-30, continuous, JNR >= 0) at 1 % val Pfa {:?}, test Pfa {:?} ({:.0} s)",
            rep.auc, rep.at_pfa_1e_2.pd_headline.value, rep.at_pfa_1e_2.pfa_test.value, rep.wall_s
        );
        reports.push(rep);
    }
    let report = EvalReport {
        detectors: reports,
        test_scenarios: classes,
        test_seeds: (tseeds.first().copied().unwrap_or(0), tseeds.len()),
        val_seeds: (vseeds.first().copied().unwrap_or(0), vseeds.len()),
        paper_pd_15_30: PAPER_PD_15_30
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
    };
    write_report(&report, &args.out_dir)?;
    Ok(report)
}

fn pct(r: &Rate) -> String {
    match r.value {
        Some(v) => format!("{:.1} %", 100.0 * v),
        None => "–".into(),
    }
}

fn pct_n(r: &Rate) -> String {
    match r.value {
        Some(v) => format!("{:.1} % (n={})", 100.0 * v, r.n),
        None => "– (n=0)".into(),
    }
}

/// Writes the Markdown, JSON and SVG files.
pub fn write_report(rep: &EvalReport, dir: &Path) -> Result<(), EvalError> {
    std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| EvalError::Io { path, source })
    };
    write(
        "report.json",
        serde_json::to_string_pretty(rep).unwrap_or_default() + "\n",
    )?;
    write("report.md", markdown(rep))?;
    // Pd vs SJNR at 1 % validation Pfa.
    let series: Vec<svg::Series> = rep
        .detectors
        .iter()
        .map(|d| {
            (
                d.detector.clone(),
                SJNR_BINS
                    .iter()
                    .map(|(lo, hi)| {
                        (
                            (lo + hi) / 2.0,
                            d.at_pfa_1e_2.pd_by_sjnr[&bin_name(*lo, *hi)].value,
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    write(
        "pd_vs_sjnr.svg",
        svg::lines(
            "Pd per SSB vs SJNR (threshold: 1 % Pfa on validation)",
            "SJNR, dB (bin centre)",
            "Pd",
            svg::Scale::Lin(-5.0, 35.0),
            svg::Scale::Lin(0.0, 1.0),
            &series,
            true,
        ),
    )?;
    let roc: Vec<svg::Series> = rep
        .detectors
        .iter()
        .map(|d| {
            (
                d.detector.clone(),
                d.roc
                    .iter()
                    .filter(|p| p.0 > 0.0)
                    .map(|p| (p.0, Some(p.1)))
                    .collect(),
            )
        })
        .collect();
    write(
        "roc.svg",
        svg::lines(
            "ROC per SSB (test: jammed vs benign)",
            "Pfa",
            "Pd",
            svg::Scale::Log(1e-4, 1.0),
            svg::Scale::Lin(0.0, 1.0),
            &roc,
            false,
        ),
    )?;
    let cats: Vec<String> = JammerKind::ALL
        .iter()
        .map(|k| k.name().to_string())
        .collect();
    let bars: Vec<(String, Vec<Option<f64>>)> = rep
        .detectors
        .iter()
        .map(|d| {
            (
                d.detector.clone(),
                cats.iter()
                    .map(|c| d.at_pfa_1e_2.pd_by_type[c].value)
                    .collect(),
            )
        })
        .collect();
    write(
        "pd_by_type.svg",
        svg::bars(
            "Pd per jammer type (1 % validation Pfa)",
            "Pd",
            &cats,
            &bars,
        ),
    )?;
    if let Some(d) = rep.detectors.iter().find(|d| d.type_confusion.is_some())
        && let Some(m) = &d.type_confusion
    {
        write(
            "type_confusion.svg",
            svg::confusion(
                &format!(
                    "Jammer type head ({}): truth rows, prediction columns",
                    d.detector
                ),
                &cats,
                m,
            ),
        )?;
    }
    Ok(())
}

fn markdown(rep: &EvalReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# ssbguard offline evaluation\n");
    let _ = writeln!(
        s,
        "Generated by `ssbguard eval` (src/eval). Every detector ran through the same pipeline \
         (receiver, features, site baseline, alert state machine) on {} test scenarios (seeds \
         {}…) with thresholds for a fixed per-SSB false-alarm rate chosen on {} validation \
         scenarios (seeds {}…), never on test. Scenario population: src/dataset/scenarios.rs. \
         Test scenarios by class: {}.\n",
        rep.test_seeds.1,
        rep.test_seeds.0,
        rep.val_seeds.1,
        rep.val_seeds.0,
        rep.test_scenarios
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "Pfa: label-0 SSBs of clean/neighbour-gNB/LTE scenarios. Pd: SSBs inside whose window a \
         jammer emits, binned by the scenario SJNR. *Continuous* = every kind except pulsed \
         and PSS spoofer (which hit only some SSB windows). Jammed scenarios draw SJNR \
         (−5…35 dB) and JNR (−5…25 dB, jammer over receiver noise) independently and derive \
         the SNR (5…50 dB); benign ones draw their SNR from the same marginal. The headline \
         row is **SJNR 15–30 dB, continuous kinds, JNR ≥ 0 dB** (a jammer at or above the \
         noise floor); rows \"any JNR\" include sub-noise jammers. One jammed scenario in five \
         also carries a benign interferer (a neighbour gNB 3–20 dB below the serving cell, or \
         an LTE carrier at INR 0–15 dB) that often lies far above the jammer: the row \
         \"jammer ≥ noise + benign interferer\" keeps the headline SSBs whose jammer is at or \
         above that combined floor.\n"
    );
    let names: Vec<&str> = rep.detectors.iter().map(|d| d.detector.as_str()).collect();
    let head = |s: &mut String, first: &str| {
        let _ = writeln!(s, "| {first} | {} |", names.join(" | "));
        let _ = writeln!(s, "|---|{}", "---|".repeat(names.len()));
    };
    // One table row: `name`, then one cell per detector.
    let line = |s: &mut String, name: &str, f: &dyn Fn(&DetectorReport) -> String| {
        let _ = writeln!(
            s,
            "| {name} | {} |",
            rep.detectors.iter().map(f).collect::<Vec<_>>().join(" | ")
        );
    };
    for (title, pick) in [
        ("1 % validation Pfa", 0usize),
        ("0.1 % validation Pfa", 1usize),
    ] {
        let op = |d: &DetectorReport| -> OperatingPoint {
            if pick == 0 {
                d.at_pfa_1e_2.clone()
            } else {
                d.at_pfa_1e_3.clone()
            }
        };
        let _ = writeln!(s, "## Pd per SSB at {title}\n");
        head(&mut s, "SJNR bin (dB)");
        for (lo, hi) in SJNR_BINS {
            let b = bin_name(lo, hi);
            line(&mut s, &b, &|d| pct_n(&op(d).pd_by_sjnr[&b]));
        }
        let row = |s: &mut String, name: &str, f: &dyn Fn(&OperatingPoint) -> String| {
            line(s, name, &|d| f(&op(d)));
        };
        row(
            &mut s,
            "**15..30, continuous kinds, JNR ≥ 0 dB (jammer at or above the noise floor)**",
            &|o| pct_n(&o.pd_headline),
        );
        row(
            &mut s,
            "15..30, continuous kinds, JNR ≥ 0 dB, no benign interferer",
            &|o| pct_n(&o.pd_headline_clean_cell),
        );
        row(
            &mut s,
            "15..30, continuous kinds, jammer ≥ noise + benign interferer",
            &|o| pct_n(&o.pd_headline_over_floor),
        );
        row(&mut s, "15..30, continuous kinds (any JNR)", &|o| {
            pct_n(&o.pd_15_30_continuous)
        });
        row(
            &mut s,
            "15..30, continuous kinds, no benign interferer (any JNR)",
            &|o| pct_n(&o.pd_15_30_continuous_clean_cell),
        );
        row(&mut s, "15..30, all kinds", &|o| pct_n(&o.pd_15_30));
        row(&mut s, "threshold", &|o| format!("{:.4}", o.threshold));
        row(&mut s, "test Pfa (benign)", &|o| pct_n(&o.pfa_test));
        for c in ["clean", "neighbour_gnb", "lte"] {
            row(&mut s, &format!("test Pfa, {c}"), &|o| {
                pct_n(&o.pfa_by_class[c])
            });
        }
        let _ = writeln!(
            s,
            "\nContinuous kinds only (all / no benign interferer on the cell):\n"
        );
        head(&mut s, "SJNR bin (dB)");
        for (lo, hi) in SJNR_BINS {
            let b = bin_name(lo, hi);
            line(&mut s, &b, &|d| {
                format!(
                    "{} / {}",
                    pct(&op(d).pd_by_sjnr_continuous[&b]),
                    pct(&op(d).pd_by_sjnr_continuous_clean_cell[&b])
                )
            });
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "## Paper reference (Pd at SJNR 15–30 dB; the paper states no Pfa)\n"
    );
    head(&mut s, "");
    line(&mut s, "paper", &|d| {
        rep.paper_pd_15_30
            .get(&d.detector)
            .map_or("–".into(), |v| format!("{:.1} %", 100.0 * v))
    });
    line(&mut s, "ours, 1 % val Pfa, all kinds", &|d| {
        pct(&d.at_pfa_1e_2.pd_15_30)
    });
    line(
        &mut s,
        "ours, 1 % val Pfa, continuous kinds, JNR ≥ 0 dB",
        &|d| pct(&d.at_pfa_1e_2.pd_headline),
    );
    let _ = writeln!(s, "\n## Pd per jammer type (1 % validation Pfa)\n");
    head(&mut s, "type");
    for k in JammerKind::ALL {
        line(&mut s, k.name(), &|d| {
            pct_n(&d.at_pfa_1e_2.pd_by_type[k.name()])
        });
    }
    let _ = writeln!(
        s,
        "\n## Pd per JNR bin (1 % validation Pfa): which jammers are detectable\n\n\
         JNR = the jammer's in-band power over the receiver noise in the SSB band. A jammer \
         below the noise floor (JNR < 0 dB) changes the SSB's null REs by less than 3 dB \
         (at JNR −5 dB by 1.2 dB), inside the SSB-to-SSB spread of a faded cell: per SSB it \
         is close to invisible to any detector. Each cell: all kinds / SJNR 15–30 dB, \
         continuous kinds.\n"
    );
    head(&mut s, "JNR bin (dB)");
    for (lo, hi) in JNR_BINS {
        let b = bin_name(lo, hi);
        line(&mut s, &b, &|d| {
            format!(
                "{} / {}",
                pct_n(&d.at_pfa_1e_2.pd_by_jnr[&b]),
                pct_n(&d.at_pfa_1e_2.pd_by_jnr_15_30_continuous[&b])
            )
        });
    }
    let _ = writeln!(s, "\n## Overall\n");
    head(&mut s, "");
    line(&mut s, "AUC (test)", &|d| {
        d.auc.map_or("–".into(), |a| format!("{a:.4}"))
    });
    line(&mut s, "shipped point: Pd", &|d| pct_n(&d.shipped.pd));
    line(&mut s, "shipped point: Pd 15..30 continuous", &|d| {
        pct_n(&d.shipped.pd_15_30_continuous)
    });
    line(
        &mut s,
        "shipped point: Pd 15..30 continuous, JNR ≥ 0",
        &|d| pct_n(&d.shipped.pd_headline),
    );
    line(&mut s, "shipped point: Pfa benign", &|d| {
        pct_n(&d.shipped.pfa_test)
    });
    line(&mut s, "stage-2 share of SSBs", &|d| {
        format!("{:.1} %", 100.0 * d.stage2_fraction)
    });
    line(&mut s, "episodes alerted", &|d| {
        pct_n(&d.alerting.episodes_alerted)
    });
    line(&mut s, "episodes alerted, SJNR 15..30", &|d| {
        pct_n(&d.alerting.alerted_15_30)
    });
    line(
        &mut s,
        "episodes alerted, SJNR 15..30, continuous, no benign interferer",
        &|d| pct_n(&d.alerting.alerted_15_30_continuous_clean_cell),
    );
    line(
        &mut s,
        "**episodes alerted, SJNR 15..30, continuous, JNR ≥ 0**",
        &|d| pct_n(&d.alerting.alerted_headline),
    );
    line(&mut s, "median time to alert, those episodes", &|d| {
        d.alerting
            .median_time_to_alert_headline_s
            .map_or("–".into(), |t| format!("{:.0} ms", 1e3 * t))
    });
    line(&mut s, "median time to alert", &|d| {
        d.alerting
            .median_time_to_alert_s
            .map_or("–".into(), |t| format!("{:.0} ms", 1e3 * t))
    });
    line(&mut s, "90th pct time to alert", &|d| {
        d.alerting
            .p90_time_to_alert_s
            .map_or("–".into(), |t| format!("{:.0} ms", 1e3 * t))
    });
    line(&mut s, "**benign scenarios with an alert**", &|d| {
        pct_n(&d.alerting.benign_scenarios_alerted)
    });
    for c in ["clean", "neighbour_gnb", "lte"] {
        line(&mut s, &format!("… {c}"), &|d| {
            d.alerting
                .benign_alerted_by_class
                .get(c)
                .map_or("–".into(), pct_n)
        });
    }
    line(&mut s, "jammed scenarios alerted before onset", &|d| {
        pct_n(&d.alerting.early_alerts)
    });
    line(&mut s, "type head accuracy (detected jammed SSBs)", &|d| {
        d.type_accuracy.as_ref().map_or("–".into(), pct_n)
    });
    line(&mut s, "wall time", &|d| format!("{:.0} s", d.wall_s));
    let _ = writeln!(s, "\n## Episodes alerted per jammer type (shipped point)\n");
    head(&mut s, "type");
    for k in JammerKind::ALL {
        line(&mut s, k.name(), &|d| {
            d.alerting.by_type.get(k.name()).map_or("–".into(), pct_n)
        });
    }
    let _ = writeln!(s, "\n## Episodes alerted per JNR bin (shipped point)\n");
    head(&mut s, "JNR bin (dB)");
    for (lo, hi) in JNR_BINS {
        let b = bin_name(lo, hi);
        line(&mut s, &b, &|d| {
            d.alerting.by_jnr.get(&b).map_or("–".into(), pct_n)
        });
    }
    let _ = writeln!(
        s,
        "\nPlots: `pd_vs_sjnr.svg`, `roc.svg`, `pd_by_type.svg`, `type_confusion.svg`. Raw numbers: `report.json`."
    );
    s
}
