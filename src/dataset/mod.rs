//! Training data export (`ssbguard dataset`): many random scenarios ([`scenarios`]) rendered by
//! [`crate::synth::Synth`], run through the *same* [`Pipeline`] as `replay` and the daemon,
//! one row per SSB decision: the model inputs, the feature vector (schema
//! [`crate::features::SCHEMA_VERSION`]), the raw-IQ model input, the label and the
//! scenario's ground truth. Train, validation and test sets come from disjoint seed ranges
//! fixed in `models/splits.toml` ([`splits`]).
//!
//! **Label.** An SSB decision is *jammed* when a jammer puts power into the cell's SSB band
//! inside its sample window `[sample, sample + samples)`: inside an episode, inside a pulse
//! of a pulsed jammer, during the SSB symbols for a reactive one, during its own fake SSBs
//! for a spoofer, and for a chirp only while its sweep crosses the SSB band (a sweep of
//! 1–3 SSB bandwidths with a period of up to 1 ms can pass a whole SSB by: that SSB is
//! untouched and labelled clean). Every other kind has in-band power whenever it emits (the
//! synth refuses a jammer without). `jam_frac` is the fraction of the window's samples
//! during which it does ([`crate::synth::JammerTruth::emits_in_band`]).
//!
//! The rows are captured by a recording [`ModelDetector`] that computes the model inputs
//! with exactly the functions the deployed detectors use ([`crate::detect::dnn::model_input`],
//! [`crate::detect::dnn::rawiq_input`]) and then answers with the classical per-SSB verdict,
//! so the pipeline (and its site baseline) behaves as with the classical detector without
//! its CUSUM.

pub mod npz;
pub mod scenarios;
pub mod splits;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use num_complex::Complex32;
use serde::Serialize;

use crate::detect::alert::AlertConfig;
use crate::detect::classic::ClassicVerdict;
use crate::detect::dnn::{self, N_INPUT, N_RAWIQ};
use crate::events::{Decision, Event};
use crate::features;
use crate::pipeline::{
    DetectorKind, ModelDetector, ModelVerdict, Pipeline, PipelineConfig, SsbLocation,
};
use crate::synth::{JammerKind, Synth, SynthError};

pub use scenarios::{ScenarioClass, ScenarioMeta, scenario_for_seed};
pub use splits::{Split, Splits};

/// Errors of dataset generation and evaluation runs.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The scenario of a seed could not be built.
    #[error("seed {seed}: {source}")]
    Synth {
        /// Seed.
        seed: u64,
        /// Why.
        source: SynthError,
    },
    /// The pipeline refused the configuration.
    #[error("seed {seed}: {source}")]
    Pipeline {
        /// Seed.
        seed: u64,
        /// Why.
        source: crate::pipeline::PipelineError,
    },
    /// The splits file.
    #[error(transparent)]
    Splits(#[from] splits::SplitsError),
    /// Writing output.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where the jammers of a scenario emit, for labelling windows.
pub struct Truth {
    /// Sample rate.
    pub sample_rate_hz: f64,
    /// Episodes of all jammers, samples.
    pub episodes: Vec<(u64, u64, JammerKind)>,
    gates: Vec<crate::synth::JammerTruth>,
}

impl Truth {
    /// From a synth.
    pub fn of(s: &Synth) -> Self {
        let gates = s.jammer_truth().to_vec();
        Truth {
            sample_rate_hz: s.scenario().sample_rate_hz,
            episodes: gates
                .iter()
                .flat_map(|j| j.episodes.iter().map(move |&(a, b)| (a, b, j.kind)))
                .collect(),
            gates,
        }
    }

    /// Fraction of `[start, start + len)` during which any jammer emits (sampled every
    /// 2 samples), and the kind of the first one that does.
    pub fn jam_fraction(&self, start: u64, len: u64) -> (f32, Option<JammerKind>) {
        let mut best: (f32, Option<JammerKind>) = (0.0, None);
        for j in &self.gates {
            if !j
                .episodes
                .iter()
                .any(|&(a, b)| start < b && start + len > a)
            {
                continue;
            }
            let (mut on, mut n) = (0u32, 0u32);
            let mut t = start;
            while t < start + len {
                n += 1;
                on += j.emits_in_band(t) as u32;
                t += 2;
            }
            let f = on as f32 / n.max(1) as f32;
            if f > best.0 {
                best = (f, Some(j.kind));
            }
        }
        best
    }
}

/// One SSB decision with everything the models and the evaluation need.
#[derive(Clone, Debug)]
pub struct Row {
    /// The decision as the pipeline emitted it.
    pub decision: Decision,
    /// Schema-v1 features.
    pub features: [f32; features::LEN],
    /// Feature-model input ([`dnn::model_input`]).
    pub input: [f32; N_INPUT],
    /// Raw-IQ model input ([`dnn::rawiq_input`]) as IEEE half bits (empty unless asked).
    pub iq_f16: Vec<u16>,
    /// Classical detector's score.
    pub classic_score: f32,
    /// Fraction of the window during which a jammer emits.
    pub jam_frac: f32,
    /// Jammer kind emitting in the window.
    pub kind: Option<JammerKind>,
}

impl Row {
    /// Jammed label.
    pub fn label(&self) -> bool {
        self.jam_frac > 0.0
    }
    /// Type code: 0 none, 1 + index in [`JammerKind::ALL`].
    pub fn type_code(&self) -> i8 {
        match (self.label(), self.kind) {
            (true, Some(k)) => 1 + scenarios::kind_index(k) as i8,
            _ => 0,
        }
    }
}

/// (decision, features, model input, raw-IQ input as f16 bits, classical score).
type CapturedRow = (
    Decision,
    [f32; features::LEN],
    [f32; N_INPUT],
    Vec<u16>,
    f32,
);

#[derive(Default)]
struct Captured {
    pending: Option<([f32; N_INPUT], Vec<u16>, f32)>,
    rows: Vec<CapturedRow>,
}

/// Records model inputs, answers with the classical per-SSB verdict ([`crate::detect::classic::judge`]
/// alone, without the detector's CUSUM: the shipped models were trained on context whose
/// baseline froze on per-SSB evidence).
struct Recorder {
    cap: Arc<Mutex<Captured>>,
    with_iq: bool,
}

impl ModelDetector for Recorder {
    fn name(&self) -> &'static str {
        "classic"
    }
    fn decide(
        &mut self,
        f: &[f32; features::LEN],
        iq: &[Complex32],
        classic: &ClassicVerdict,
    ) -> ModelVerdict {
        let input = dnn::model_input(f, classic);
        let iqh = if self.with_iq {
            let mut v = [0.0f32; N_RAWIQ];
            dnn::rawiq_input(iq, &mut v);
            v.iter().map(|x| npz::f16_bits(*x)).collect()
        } else {
            Vec::new()
        };
        if let Ok(mut c) = self.cap.lock() {
            c.pending = Some((input, iqh, classic.score() as f32));
        }
        ModelVerdict {
            score: classic.score(),
            jammed: classic.jammed(),
            stage: 1,
            jammer_type: None,
        }
    }
}

/// What one simulated scenario gave.
pub struct SimOutput {
    /// Knobs.
    pub meta: ScenarioMeta,
    /// Every event in order (decisions, alerts, cells).
    pub events: Vec<Event>,
    /// One row per SSB decision with features (when asked for).
    pub rows: Vec<Row>,
    /// Ground truth.
    pub truth: Truth,
    /// Input samples.
    pub samples: u64,
}

/// Pipeline configuration for a generated scenario (SSB location given, as in a deployment
/// that knows its cell).
pub fn pipeline_config(meta: &ScenarioMeta) -> PipelineConfig {
    PipelineConfig {
        sample_rate_hz: meta.sample_rate_hz,
        center_freq_hz: Some(3.5e9),
        ssb: SsbLocation::Given {
            offset_hz: meta.ssb_offset_hz,
            scs: crate::nr::Scs::from_khz(meta.scs_khz),
        },
        detector: DetectorKind::Classic,
        alert: AlertConfig::default(),
        emit_features: false,
    }
}

/// Renders the scenario of `seed` and runs it through a pipeline that `setup` may fit with
/// a model and a tap. Returns the events and ground truth (no rows).
pub fn simulate_with(
    seed: u64,
    setup: impl FnOnce(&mut Pipeline),
) -> Result<SimOutput, DatasetError> {
    let (scn, mut meta) = scenario_for_seed(seed);
    let mut synth = Synth::new(&scn).map_err(|source| DatasetError::Synth { seed, source })?;
    let truth = Truth::of(&synth);
    if let Some(j) = synth.jammer_truth().first() {
        meta.jnr_db = j.jnr_db;
        meta.sjnr_db = j.sjnr_db;
    }
    let mut p = Pipeline::new(pipeline_config(&meta))
        .map_err(|source| DatasetError::Pipeline { seed, source })?;
    setup(&mut p);
    let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 16];
    let mut events = Vec::new();
    let mut pos = 0u64;
    loop {
        let n = synth.render(&mut buf);
        if n == 0 {
            break;
        }
        p.push(pos, &buf[..n], &mut events);
        pos += n as u64;
    }
    p.finish(&mut events);
    Ok(SimOutput {
        meta,
        events,
        rows: Vec::new(),
        truth,
        samples: pos,
    })
}

/// Renders the scenario of `seed` and runs it through the pipeline, deciding with
/// `model` (the classical detector when `None`). With `record`, also returns one [`Row`]
/// per SSB decision (then `model` is ignored: the recorder decides like the classical
/// detector).
pub fn simulate(
    seed: u64,
    model: Option<Box<dyn ModelDetector>>,
    record: bool,
    with_iq: bool,
) -> Result<SimOutput, DatasetError> {
    let cap = Arc::new(Mutex::new(Captured::default()));
    let c1 = cap.clone();
    let mut out = simulate_with(seed, move |p| {
        if record {
            p.set_model(Box::new(Recorder {
                cap: c1.clone(),
                with_iq,
            }));
            p.set_tap(Box::new(move |d, f, _iq| {
                if let Ok(mut c) = c1.lock()
                    && let Some((input, iqh, cs)) = c.pending.take()
                {
                    c.rows.push((d.clone(), *f, input, iqh, cs));
                }
            }));
        } else if let Some(m) = model {
            p.set_model(m);
        }
    })?;
    let raw = cap
        .lock()
        .map(|mut c| std::mem::take(&mut c.rows))
        .unwrap_or_default();
    out.rows = raw
        .into_iter()
        .map(|(decision, features, input, iq_f16, cs)| {
            let (jam_frac, kind) = out.truth.jam_fraction(decision.sample, decision.samples);
            Row {
                decision,
                features,
                input,
                iq_f16,
                classic_score: cs,
                jam_frac,
                kind,
            }
        })
        .collect();
    Ok(out)
}

/// Runs `f` on every seed with `jobs` worker threads; results in seed order.
pub fn par_map<T: Send>(seeds: &[u64], jobs: usize, f: impl Fn(u64) -> T + Sync) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = seeds.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= seeds.len() {
                        break;
                    }
                    let r = f(seeds[i]);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}

/// Arguments of `ssbguard dataset`.
#[derive(Clone, Debug)]
pub struct DatasetArgs {
    /// Output directory (one `SPLIT.npz` + `SPLIT.scenarios.jsonl` per split).
    pub out_dir: PathBuf,
    /// The splits file (`models/splits.toml`).
    pub splits_file: PathBuf,
    /// Which splits to write.
    pub splits: Vec<Split>,
    /// Use only the first N seeds of each split (quick runs, CI).
    pub limit: Option<usize>,
    /// Worker threads.
    pub jobs: usize,
    /// Also write the raw-IQ model input (`iq`, f16).
    pub with_iq: bool,
}

/// What was written for one split.
#[derive(Clone, Debug, Serialize)]
pub struct SplitSummary {
    /// Split.
    pub split: Split,
    /// Scenarios.
    pub scenarios: usize,
    /// Rows (SSB decisions).
    pub rows: usize,
    /// Jammed rows.
    pub jammed: usize,
    /// Samples simulated.
    pub samples: u64,
    /// The `.npz`.
    pub path: PathBuf,
    /// Wall time, s.
    pub wall_s: f64,
}

/// Writes the dataset. Progress goes to stderr, one line per split.
pub fn run(args: &DatasetArgs) -> Result<Vec<SplitSummary>, DatasetError> {
    let sp = Splits::load(&args.splits_file)?;
    std::fs::create_dir_all(&args.out_dir).map_err(|source| DatasetError::Io {
        path: args.out_dir.clone(),
        source,
    })?;
    write_manifest(args, &sp)?;
    let mut out = Vec::new();
    for &split in &args.splits {
        let t0 = std::time::Instant::now();
        let mut seeds = sp.seeds(split);
        if let Some(l) = args.limit {
            seeds.truncate(l);
        }
        let sims = par_map(&seeds, args.jobs, |s| simulate(s, None, true, args.with_iq));
        let mut ok = Vec::with_capacity(sims.len());
        for s in sims {
            ok.push(s?);
        }
        let path = args.out_dir.join(format!("{}.npz", split.name()));
        let summary = write_split(&ok, &path, args.with_iq)?;
        let metas: Vec<String> = ok
            .iter()
            .filter_map(|s| serde_json::to_string(&s.meta).ok())
            .collect();
        let jpath = args
            .out_dir
            .join(format!("{}.scenarios.jsonl", split.name()));
        std::fs::write(&jpath, metas.join("\n") + "\n").map_err(|source| DatasetError::Io {
            path: jpath.clone(),
            source,
        })?;
        let s = SplitSummary {
            split,
            scenarios: ok.len(),
            rows: summary.0,
            jammed: summary.1,
            samples: ok.iter().map(|s| s.samples).sum(),
            path,
            wall_s: t0.elapsed().as_secs_f64(),
        };
        eprintln!(
            "dataset {}: {} scenarios, {} rows ({} jammed) in {:.1} s -> {}",
            split.name(),
            s.scenarios,
            s.rows,
            s.jammed,
            s.wall_s,
            s.path.display()
        );
        out.push(s);
    }
    Ok(out)
}

/// Column names of the `.npz` (documented in `models/FEATURES.md`).
pub const NPZ_ARRAYS: &[&str] = &[
    "x",
    "features",
    "iq",
    "label",
    "jam_frac",
    "type",
    "seed",
    "class",
    "sjnr_db",
    "jnr_db",
    "snr_db",
    "scs_khz",
    "fading",
    "benign",
    "sample",
    "time_s",
    "ssb_found",
    "classic_score",
];

fn write_split(
    sims: &[SimOutput],
    path: &Path,
    with_iq: bool,
) -> Result<(usize, usize), DatasetError> {
    let rows: Vec<(&SimOutput, &Row)> = sims
        .iter()
        .flat_map(|s| s.rows.iter().map(move |r| (s, r)))
        .collect();
    let n = rows.len();
    let mut z = npz::NpzWriter::new();
    let x: Vec<f32> = rows.iter().flat_map(|(_, r)| r.input).collect();
    z.add_f32("x", &[n, N_INPUT], &x);
    let f: Vec<f32> = rows.iter().flat_map(|(_, r)| r.features).collect();
    z.add_f32("features", &[n, features::LEN], &f);
    if with_iq {
        let iq: Vec<u16> = rows
            .iter()
            .flat_map(|(_, r)| r.iq_f16.iter().copied())
            .collect();
        z.add_f16_bits("iq", &[n, N_RAWIQ], &iq);
    }
    let label: Vec<u8> = rows.iter().map(|(_, r)| r.label() as u8).collect();
    let jammed = label.iter().filter(|l| **l == 1).count();
    z.add_u8("label", &label);
    let col = |g: &dyn Fn(&SimOutput, &Row) -> f32| -> Vec<f32> {
        rows.iter().map(|(s, r)| g(s, r)).collect()
    };
    z.add_f32("jam_frac", &[n], &col(&|_, r| r.jam_frac));
    z.add_i8(
        "type",
        &rows.iter().map(|(_, r)| r.type_code()).collect::<Vec<_>>(),
    );
    z.add_u64(
        "seed",
        &rows.iter().map(|(s, _)| s.meta.seed).collect::<Vec<_>>(),
    );
    z.add_i8(
        "class",
        &rows
            .iter()
            .map(|(s, _)| s.meta.class_code)
            .collect::<Vec<_>>(),
    );
    z.add_f32("sjnr_db", &[n], &col(&|s, _| s.meta.sjnr_db as f32));
    z.add_f32("jnr_db", &[n], &col(&|s, _| s.meta.jnr_db as f32));
    z.add_f32("snr_db", &[n], &col(&|s, _| s.meta.snr_db as f32));
    z.add_f32("scs_khz", &[n], &col(&|s, _| s.meta.scs_khz as f32));
    z.add_u8(
        "fading",
        &rows
            .iter()
            .map(|(s, _)| s.meta.fading as u8)
            .collect::<Vec<_>>(),
    );
    z.add_u8(
        "benign",
        &rows
            .iter()
            .map(|(s, _)| s.meta.benign_interferer as u8)
            .collect::<Vec<_>>(),
    );
    z.add_u64(
        "sample",
        &rows
            .iter()
            .map(|(_, r)| r.decision.sample)
            .collect::<Vec<_>>(),
    );
    z.add_f32("time_s", &[n], &col(&|_, r| r.decision.time_s as f32));
    z.add_u8(
        "ssb_found",
        &rows
            .iter()
            .map(|(_, r)| r.decision.ssb_found as u8)
            .collect::<Vec<_>>(),
    );
    z.add_f32("classic_score", &[n], &col(&|_, r| r.classic_score));
    let file = std::fs::File::create(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    z.write(std::io::BufWriter::new(file))
        .map_err(|source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok((n, jammed))
}

/// Writes `manifest.json`: what the training script needs to know about the inputs.
fn write_manifest(args: &DatasetArgs, sp: &Splits) -> Result<(), DatasetError> {
    let seeds = |split: Split| {
        let v = sp.seeds(split);
        let n = args.limit.map_or(v.len(), |l| l.min(v.len()));
        serde_json::json!({"first_seed": v.first(), "count": n})
    };
    let m = serde_json::json!({
        "feature_schema_version": features::SCHEMA_VERSION,
        "input_names": dnn::input_names(),
        "feature_names": &features::NAMES[..],
        "rawiq_len": N_RAWIQ,
        "rawiq_version": dnn::RAWIQ_VERSION,
        "type_classes": dnn::TYPE_CLASSES,
        "arrays": NPZ_ARRAYS,
        "splits": {
            "train": seeds(Split::Train),
            "val": seeds(Split::Val),
            "test": seeds(Split::Test),
        },
        "generator": "src/dataset/scenarios.rs",
        "ssbguard_version": env!("CARGO_PKG_VERSION"),
    });
    let path = args.out_dir.join("manifest.json");
    let text = serde_json::to_string_pretty(&m).unwrap_or_default();
    std::fs::write(&path, text + "\n").map_err(|source| DatasetError::Io { path, source })
}
