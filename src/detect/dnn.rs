//! The neural detectors, run by tract-onnx: the DT-DDNN cascade, the single-threshold DNN
//! and the raw-IQ DNN (plus an optional jammer-type head), each implementing
//! [`ModelDetector`]. Models are trained by `training/train.sh` and shipped in `models/`
//! with a JSON card each (`dtddnn.json`, `single.json`, `rawiq.json`, `type_head.json`).
//!
//! **Inputs.** The feature models take [`N_INPUT`] values ([`input_names`]): the
//! features of schema [`features::SCHEMA_VERSION`] except the two absolute levels
//! ([`ABSOLUTE_FEATURES`]: they move with the recording's scale and the receiver's gain,
//! which tell nothing about jamming), followed by thirteen
//! *site context* values from the classical detector's baseline and the cell's recent
//! SSBs ([`model_input`]). Without them a
//! noise-like jammer at SJNR 15–30 dB is indistinguishable from a clean cell with a worse
//! SNR: only a baseline knows what this site looked like before. The raw-IQ model takes the
//! SSB's time-domain samples decimated by 2 and scaled to unit RMS ([`rawiq_input`]).
//! Feature normalisation (the standard scaler) is inside each ONNX graph.
//!
//! **Cascade** (DT-DDNN): DNN1 scores every SSB, `s1`. `s1 ≤ t_low`: clean, stage 1;
//! `s1 ≥ t_high`: jammed, stage 1; otherwise DNN2 (trained on the uncertain band) scores
//! it, `s2`, and the cascade score is `t_low + (t_high − t_low)·s2` (stage 2), so one
//! decision threshold `τ` on the cascade score sets the operating point. Every threshold
//! comes from the validation set (see the card's `thresholds`).
//!
//! **Where models come from** ([`Models`]): the shipped `models/` files are compiled into
//! the binary ([`Models::BuiltIn`], the default everywhere, so a daemon needs no model
//! install), or a directory of cards and ONNX files is named ([`Models::Dir`], e.g. a fresh
//! training run, `--models DIR` / `models_dir`).
//!
//! **Startup checks** ([`load`]): the card's feature schema version must equal the
//! pipeline's, its input names must equal [`input_names`], and the ONNX file must load and
//! accept a `[1, N]` input; each failure is a [`ModelError`] naming the file and both sides.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use num_complex::Complex32;
use serde::Deserialize;
use tract_onnx::prelude::*;

use crate::detect::classic::ClassicVerdict;
use crate::features;
use crate::pipeline::{ModelDetector, ModelVerdict};
use crate::rx::ssb::SSB_LEN_P;

/// Site-context inputs appended to the schema features.
pub const CONTEXT_NAMES: [&str; 13] = [
    "ctx_epnre_rise_db",
    "ctx_calibrated",
    "ctx_classic_ratio",
    "ctx_null_rise_db",
    "ctx_null_rise_sigmas",
    "ctx_snr_drop_db",
    "ctx_band_rise_db",
    "ctx_cusum_ratio",
    "ctx_recent_excess_z",
    "ctx_floor_rise_db",
    "ctx_floor_rise_sigmas",
    "ctx_sync_rise_db",
    "ctx_sync_rise_sigmas",
];

/// Schema features that are absolute levels (dBFS), left out of the model inputs. Their
/// value depends on how a recording was scaled (a `cf32` file may hold samples near ±1 or
/// near ±30 000) and on the receiver's gain; what they say about the site reaches the models
/// as rises over the site baseline (`ctx_null_rise_db`, `ctx_band_rise_db`, …). With
/// them in, models trained on noise floors of −70…−45 dBFS called 15 of 200 clean SSBs
/// jammed when a recording was scaled by +40 dB, and 180 of 200 at +80 dB.
pub const ABSOLUTE_FEATURES: [&str; 2] = ["pss_re_dbfs", "band_power_dbfs"];

/// Schema features the models take (all but [`ABSOLUTE_FEATURES`]).
pub const N_MODEL_FEATURES: usize = features::LEN - ABSOLUTE_FEATURES.len();

/// Inputs of the feature models.
pub const N_INPUT: usize = N_MODEL_FEATURES + CONTEXT_NAMES.len();

/// Whether schema feature `i` is a model input.
fn is_model_feature(i: usize) -> bool {
    !ABSOLUTE_FEATURES.contains(&features::NAMES[i])
}

/// Inputs of the raw-IQ model: `SSB_LEN_P / 2` complex samples as (re, im) pairs.
pub const N_RAWIQ: usize = SSB_LEN_P;

/// Version of the raw-IQ preprocessing ([`rawiq_input`]).
pub const RAWIQ_VERSION: u32 = 1;

/// Jammer-type classes of the type head, in output order.
pub const TYPE_CLASSES: [&str; 9] = [
    "none",
    "barrage",
    "partial_band",
    "tone",
    "comb",
    "pulsed",
    "chirp",
    "pss_spoofer",
    "reactive",
];

/// Names of the feature-model inputs, in order.
pub fn input_names() -> Vec<String> {
    features::NAMES
        .iter()
        .enumerate()
        .filter(|&(i, _)| is_model_feature(i))
        .map(|(_, n)| n)
        .chain(CONTEXT_NAMES.iter())
        .map(|s| s.to_string())
        .collect()
}

/// Feature-model input: the schema features but the absolute levels, then the site context from the classical
/// detector's baseline (every value 0 before calibration): the EPNRE rise over the
/// baseline (dB, clamped to ±40), whether the baseline is calibrated (0/1), the classical
/// detector's evidence ratio (its score's logit / 4 + 1, clamped to −3…6; ≥ 1 means
/// "classical says jammed"), the absolute null-RE power's rise over the baseline (dB,
/// ±40, and in baseline σ, ±100: a jammer at JNR 0 dB lifts it by 3 dB whatever the
/// fading does to the PSS), the DMRS SNR drop below the baseline (dB, ±60), the
/// wideband power rise (dB, ±40), and the cell's memory of its recent SSBs: the classical
/// CUSUM over its decision level (0…2) and the z-score of the mean null-RE excess over the
/// last 8 SSBs ([`crate::detect::classic::Cusum::recent_z`], ±100). Both use only SSBs up
/// to this one (causal). Then the null-RE floor's rise over the baseline (dB, ±40, and in
/// baseline σ, ±100): a jammer lifts the quiet null REs that a neighbour's or an LTE
/// carrier's traffic leaves alone. Last, the rise of the noise plus interference on the
/// PSS and SSS REs (dB, ±40, and σ, ±100): a jammer confined to the middle half of the SSB
/// lifts no null RE at all (schema-4 models before it detected none of the 161 such
/// partial-band SSBs at SJNR 15–30 dB in the test split).
pub fn model_input(f: &[f32; features::LEN], c: &ClassicVerdict) -> [f32; N_INPUT] {
    let mut x = [0.0f32; N_INPUT];
    let kept = f
        .iter()
        .enumerate()
        .filter(|&(i, _)| is_model_feature(i))
        .map(|(_, v)| *v);
    for (xi, v) in x.iter_mut().zip(kept) {
        *xi = v;
    }
    let n = N_MODEL_FEATURES;
    x[n] = c.epnre_rise_db.unwrap_or(0.0).clamp(-40.0, 40.0) as f32;
    x[n + 1] = c.epnre_rise_db.is_some() as u8 as f32;
    let s = c.score().clamp(1e-9, 1.0 - 1e-9);
    x[n + 2] = (1.0 + (s / (1.0 - s)).ln() / 4.0).clamp(-3.0, 6.0) as f32;
    let (nr, nz) = c.null_rise.unwrap_or((0.0, 0.0));
    x[n + 3] = nr.clamp(-40.0, 40.0) as f32;
    x[n + 4] = nz.clamp(-100.0, 100.0) as f32;
    x[n + 5] = c.snr_drop_db.unwrap_or(0.0).clamp(-60.0, 60.0) as f32;
    x[n + 6] = c.band_rise_db.unwrap_or(0.0).clamp(-40.0, 40.0) as f32;
    x[n + 7] = c.cusum_ratio.clamp(0.0, 2.0) as f32;
    x[n + 8] = c.recent_excess_z.clamp(-100.0, 100.0) as f32;
    let (fr, fz) = c.floor_rise.unwrap_or((0.0, 0.0));
    x[n + 9] = fr.clamp(-40.0, 40.0) as f32;
    x[n + 10] = fz.clamp(-100.0, 100.0) as f32;
    let (sr, sz) = c.sync_rise.unwrap_or((0.0, 0.0));
    x[n + 11] = sr.clamp(-40.0, 40.0) as f32;
    x[n + 12] = sz.clamp(-100.0, 100.0) as f32;
    for v in x.iter_mut() {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
    x
}

/// Raw-IQ input: pairs of samples averaged (decimation by 2 with a 2-tap low-pass), scaled
/// to unit RMS, written as re, im, re, im, … A window shorter than [`SSB_LEN_P`] is
/// zero-padded; an all-zero window gives zeros.
pub fn rawiq_input(iq: &[Complex32], out: &mut [f32; N_RAWIQ]) {
    out.fill(0.0);
    let n = (iq.len() / 2).min(N_RAWIQ / 2);
    let mut p = 0.0f64;
    for k in 0..n {
        let y = (iq[2 * k] + iq[2 * k + 1]) * 0.5;
        out[2 * k] = y.re;
        out[2 * k + 1] = y.im;
        p += y.norm_sqr() as f64;
    }
    let rms = (p / n.max(1) as f64).sqrt();
    if rms > 0.0 && rms.is_finite() {
        let g = (1.0 / rms) as f32;
        for v in out.iter_mut() {
            *v *= g;
        }
    } else {
        out.fill(0.0);
    }
}

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Unknown detector name.
    #[error("unknown detector {0:?}: expected dtddnn, single, rawiq or classic")]
    UnknownKind(String),
    /// Card unreadable.
    #[error("model card {path}: {message}")]
    Card {
        /// File.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Trained on another feature schema.
    #[error(
        "model card {path}: trained on feature schema version {model}, but this ssbguard computes feature schema version {pipeline}; retrain the model (training/train.sh) or use a matching ssbguard"
    )]
    Schema {
        /// Card.
        path: PathBuf,
        /// Version in the card.
        model: u32,
        /// [`features::SCHEMA_VERSION`].
        pipeline: u32,
    },
    /// Inputs differ from what the pipeline produces.
    #[error("model card {path}: {message}")]
    Inputs {
        /// Card.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// tract could not load or run the ONNX file.
    #[error("model {path}: {message}")]
    Onnx {
        /// File.
        path: PathBuf,
        /// tract's message.
        message: String,
    },
}

/// One ONNX file as the card describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct CardModel {
    /// File name inside the models directory.
    pub file: String,
    /// Output to read (`[1, classes]` probabilities).
    pub output_name: String,
    /// Column of that output holding the score (1 for "jammed"); ignored for a type head.
    #[serde(default = "one")]
    pub output_column: usize,
}

fn one() -> usize {
    1
}

/// Decision thresholds from the validation set.
#[derive(Clone, Debug, Deserialize)]
pub struct CardThresholds {
    /// Jammed ⇔ score ≥ this.
    pub decision: f64,
    /// Cascade: DNN1 score at or below which the SSB is clean.
    #[serde(default)]
    pub t_low: Option<f64>,
    /// Cascade: DNN1 score at or above which the SSB is jammed.
    #[serde(default)]
    pub t_high: Option<f64>,
}

/// The fields of a model card the detector needs (the card holds more: training data,
/// seeds, hashes, metrics).
#[derive(Clone, Debug, Deserialize)]
pub struct ModelCard {
    /// `dtddnn`, `single`, `rawiq` or `type_head`.
    pub detector: String,
    /// Feature schema version the model was trained on.
    pub feature_schema_version: u32,
    /// `features` (schema + context) or `rawiq`.
    pub input_kind: String,
    /// Input names (feature models) in order.
    #[serde(default)]
    pub input_names: Vec<String>,
    /// Input length.
    pub input_len: usize,
    /// Raw-IQ preprocessing version (raw-IQ model).
    #[serde(default)]
    pub rawiq_version: Option<u32>,
    /// ONNX files: `main`, or `stage1` + `stage2` for the cascade.
    pub models: std::collections::BTreeMap<String, CardModel>,
    /// Thresholds.
    #[serde(default)]
    pub thresholds: Option<CardThresholds>,
    /// Type-head class names in output order.
    #[serde(default)]
    pub classes: Vec<String>,
}

/// Where model cards and ONNX files are read from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Models {
    /// The files of `models/` at build time, compiled into this binary.
    #[default]
    BuiltIn,
    /// A directory of cards and ONNX files.
    Dir(PathBuf),
}

/// The shipped model files, by name (`include_bytes!` makes cargo rebuild when they change).
const BUILT_IN: [(&str, &[u8]); 9] = [
    ("dtddnn.json", include_bytes!("../../models/dtddnn.json")),
    (
        "dtddnn_stage1.onnx",
        include_bytes!("../../models/dtddnn_stage1.onnx"),
    ),
    (
        "dtddnn_stage2.onnx",
        include_bytes!("../../models/dtddnn_stage2.onnx"),
    ),
    ("single.json", include_bytes!("../../models/single.json")),
    ("single.onnx", include_bytes!("../../models/single.onnx")),
    ("rawiq.json", include_bytes!("../../models/rawiq.json")),
    ("rawiq.onnx", include_bytes!("../../models/rawiq.onnx")),
    (
        "type_head.json",
        include_bytes!("../../models/type_head.json"),
    ),
    (
        "type_head.onnx",
        include_bytes!("../../models/type_head.onnx"),
    ),
];

impl Models {
    /// `Some(dir)` → [`Models::Dir`], `None` → [`Models::BuiltIn`].
    pub fn from_option(dir: Option<PathBuf>) -> Models {
        dir.map_or(Models::BuiltIn, Models::Dir)
    }

    /// How `name` is shown in messages: the file's path, or `<built-in>/name`.
    pub fn path(&self, name: &str) -> PathBuf {
        match self {
            Models::BuiltIn => Path::new("<built-in>").join(name),
            Models::Dir(d) => d.join(name),
        }
    }

    /// Whether `name` exists.
    pub fn has(&self, name: &str) -> bool {
        match self {
            Models::BuiltIn => BUILT_IN.iter().any(|(n, _)| *n == name),
            Models::Dir(d) => d.join(name).exists(),
        }
    }

    /// The bytes of `name`.
    pub fn read(&self, name: &str) -> std::io::Result<Cow<'static, [u8]>> {
        match self {
            Models::BuiltIn => BUILT_IN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| Cow::Borrowed(*b))
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "not among the built-in model files",
                    )
                }),
            Models::Dir(d) => std::fs::read(d.join(name)).map(Cow::Owned),
        }
    }
}

impl ModelCard {
    /// Reads card `name` from `models` and checks it against what this build produces.
    pub fn load(models: &Models, name: &str) -> Result<ModelCard, ModelError> {
        let path = models.path(name);
        let text = models.read(name).map_err(|e| ModelError::Card {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let card: ModelCard = serde_json::from_slice(&text).map_err(|e| ModelError::Card {
            path: path.clone(),
            message: e.to_string(),
        })?;
        card.check(&path)?;
        Ok(card)
    }

    /// The startup checks: schema version, input names and length.
    pub fn check(&self, path: &Path) -> Result<(), ModelError> {
        if self.feature_schema_version != features::SCHEMA_VERSION {
            return Err(ModelError::Schema {
                path: path.to_path_buf(),
                model: self.feature_schema_version,
                pipeline: features::SCHEMA_VERSION,
            });
        }
        let inputs = |message: String| ModelError::Inputs {
            path: path.to_path_buf(),
            message,
        };
        match self.input_kind.as_str() {
            "features" => {
                let want = input_names();
                if self.input_names != want || self.input_len != N_INPUT {
                    let first = (0..want.len().max(self.input_names.len()))
                        .find(|&i| self.input_names.get(i) != want.get(i));
                    return Err(inputs(format!(
                        "input names differ from this build's ({} vs {} inputs; first difference at {:?}: card {:?}, pipeline {:?})",
                        self.input_names.len(),
                        want.len(),
                        first,
                        first.and_then(|i| self.input_names.get(i)),
                        first.and_then(|i| want.get(i)),
                    )));
                }
            }
            "rawiq" => {
                if self.input_len != N_RAWIQ || self.rawiq_version != Some(RAWIQ_VERSION) {
                    return Err(inputs(format!(
                        "raw-IQ input: card has {} values (preprocessing version {:?}), this build produces {} (version {})",
                        self.input_len, self.rawiq_version, N_RAWIQ, RAWIQ_VERSION
                    )));
                }
            }
            other => return Err(inputs(format!("unknown input_kind {other:?}"))),
        }
        Ok(())
    }

    fn model(&self, key: &str, path: &Path) -> Result<&CardModel, ModelError> {
        self.models.get(key).ok_or_else(|| ModelError::Card {
            path: path.to_path_buf(),
            message: format!("no models.{key} entry"),
        })
    }

    fn thresholds(&self, path: &Path) -> Result<&CardThresholds, ModelError> {
        self.thresholds.as_ref().ok_or_else(|| ModelError::Card {
            path: path.to_path_buf(),
            message: "no thresholds".into(),
        })
    }
}

/// One loaded ONNX model, batch 1.
pub struct OnnxModel {
    /// Reused between calls: spawning a state per call costs more than the MLP itself.
    state: TypedSimpleState,
    n_in: usize,
    path: PathBuf,
}

impl OnnxModel {
    /// Loads the file at `path`, fixes the input to `[1, n_in]`, keeps only `output`,
    /// optimises.
    pub fn load(path: &Path, n_in: usize, output: &str) -> Result<OnnxModel, ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::Onnx {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        OnnxModel::from_bytes(&bytes, path, n_in, output)
    }

    /// As [`OnnxModel::load`], from the file's bytes (`path` names it in messages).
    pub fn from_bytes(
        bytes: &[u8],
        path: &Path,
        n_in: usize,
        output: &str,
    ) -> Result<OnnxModel, ModelError> {
        let err = |e: TractError| ModelError::Onnx {
            path: path.to_path_buf(),
            message: format!("{e:#}"),
        };
        let plan = tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(err)?
            .with_input_fact(0, f32::fact([1, n_in]).into())
            .map_err(err)?
            .with_outputs_by_name([output])
            .map_err(err)?
            .into_optimized()
            .map_err(err)?
            .into_runnable()
            .map_err(err)?;
        let state = plan.spawn().map_err(err)?;
        let mut m = OnnxModel {
            state,
            n_in,
            path: path.to_path_buf(),
        };
        // One dry run so a shape problem is a startup error, not a runtime one.
        m.run(&vec![0.0; n_in]).map_err(|e| ModelError::Onnx {
            path: path.to_path_buf(),
            message: format!("test inference failed: {e:#}"),
        })?;
        Ok(m)
    }

    /// Runs one input vector; returns the output's values (row 0).
    pub fn run(&mut self, x: &[f32]) -> TractResult<Vec<f32>> {
        let t = Tensor::from_shape(&[1, self.n_in], x)?;
        let out = self.state.run(tvec!(t.into()))?;
        let v = out[0].to_plain_array_view::<f32>()?;
        Ok(v.iter().copied().collect())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn load_model(models: &Models, m: &CardModel, n_in: usize) -> Result<OnnxModel, ModelError> {
    let path = models.path(&m.file);
    let bytes = models.read(&m.file).map_err(|e| ModelError::Onnx {
        path: path.clone(),
        message: e.to_string(),
    })?;
    OnnxModel::from_bytes(&bytes, &path, n_in, &m.output_name)
}

fn col(v: &[f32], c: usize) -> f64 {
    v.get(c).copied().unwrap_or(0.0) as f64
}

/// Failures at inference time are counted and logged once; the SSB falls back to the
/// classical verdict.
#[derive(Default)]
struct Failures {
    count: u64,
}

impl Failures {
    fn note(&mut self, who: &str, e: &TractError) {
        if self.count == 0 {
            tracing::warn!(model = who, error = %e, "inference failed; using the classical verdict");
        }
        self.count += 1;
    }
}

/// The optional jammer-type head.
pub struct TypeHead {
    model: OnnxModel,
    classes: Vec<String>,
}

impl TypeHead {
    /// Loads `type_head.json` + its ONNX from `models`.
    pub fn load(models: &Models) -> Result<TypeHead, ModelError> {
        let path = models.path("type_head.json");
        let card = ModelCard::load(models, "type_head.json")?;
        let model = load_model(models, card.model("main", &path)?, N_INPUT)?;
        if card.classes.is_empty() {
            return Err(ModelError::Card {
                path,
                message: "type head without classes".into(),
            });
        }
        Ok(TypeHead {
            model,
            classes: card.classes,
        })
    }

    /// Most likely jammer type other than "none".
    pub fn classify(&mut self, x: &[f32; N_INPUT]) -> TractResult<Option<String>> {
        let p = self.model.run(x)?;
        Ok(p.iter()
            .enumerate()
            .filter(|(i, _)| self.classes.get(*i).is_some_and(|c| c != "none"))
            .max_by(|a, b| a.1.total_cmp(b.1))
            .and_then(|(i, _)| self.classes.get(i).cloned()))
    }
}

/// DT-DDNN: two DNNs and two thresholds.
pub struct Cascade {
    stage1: OnnxModel,
    stage2: OnnxModel,
    t_low: f64,
    t_high: f64,
    decision: f64,
    type_head: Option<TypeHead>,
    failures: Failures,
}

impl Cascade {
    /// Loads `dtddnn.json` and its two ONNX files (and `type_head.json` when present).
    pub fn load(models: &Models) -> Result<Cascade, ModelError> {
        let path = models.path("dtddnn.json");
        let card = ModelCard::load(models, "dtddnn.json")?;
        let th = card.thresholds(&path)?;
        let (Some(t_low), Some(t_high)) = (th.t_low, th.t_high) else {
            return Err(ModelError::Card {
                path,
                message: "cascade needs thresholds.t_low and thresholds.t_high".into(),
            });
        };
        if !(0.0..=1.0).contains(&t_low) || !(t_low..=1.0).contains(&t_high) {
            return Err(ModelError::Card {
                path,
                message: format!("need 0 ≤ t_low ≤ t_high ≤ 1, got {t_low}, {t_high}"),
            });
        }
        let stage1 = load_model(models, card.model("stage1", &path)?, N_INPUT)?;
        let stage2 = load_model(models, card.model("stage2", &path)?, N_INPUT)?;
        let type_head = if models.has("type_head.json") {
            Some(TypeHead::load(models)?)
        } else {
            None
        };
        Ok(Cascade {
            stage1,
            stage2,
            t_low,
            t_high,
            decision: th.decision,
            type_head,
            failures: Failures::default(),
        })
    }

    /// Cascade score and stage for one input.
    pub fn score(&mut self, x: &[f32; N_INPUT]) -> TractResult<(f64, u8)> {
        let s1 = col(&self.stage1.run(x)?, 1);
        if s1 <= self.t_low || s1 >= self.t_high {
            return Ok((s1, 1));
        }
        let s2 = col(&self.stage2.run(x)?, 1);
        Ok((self.t_low + (self.t_high - self.t_low) * s2, 2))
    }

    /// (t_low, t_high, decision).
    pub fn thresholds(&self) -> (f64, f64, f64) {
        (self.t_low, self.t_high, self.decision)
    }

    /// Sets the decision threshold (e.g. another operating point from the card).
    pub fn set_decision_threshold(&mut self, t: f64) {
        self.decision = t;
    }
}

impl ModelDetector for Cascade {
    fn name(&self) -> &'static str {
        "dtddnn"
    }
    fn decide(
        &mut self,
        f: &[f32; features::LEN],
        _iq: &[Complex32],
        classic: &ClassicVerdict,
    ) -> ModelVerdict {
        let x = model_input(f, classic);
        match self.score(&x) {
            Ok((score, stage)) => {
                let jammed = score >= self.decision;
                let jammer_type = match (&mut self.type_head, jammed) {
                    (Some(h), true) => h.classify(&x).unwrap_or_else(|e| {
                        self.failures.note("type_head", &e);
                        None
                    }),
                    _ => None,
                };
                ModelVerdict {
                    score,
                    jammed,
                    stage,
                    jammer_type,
                }
            }
            Err(e) => {
                self.failures.note("dtddnn", &e);
                ModelVerdict::classic(classic)
            }
        }
    }
}

/// A one-model detector with one threshold: the paper's single-threshold DNN
/// ([`OneModel::single`], on the same inputs as the cascade) or its raw-IQ DNN
/// ([`OneModel::raw_iq`], on the SSB's samples).
pub struct OneModel {
    name: &'static str,
    model: OnnxModel,
    decision: f64,
    /// Raw-IQ input buffer (`None`: the feature model).
    raw: Option<Box<[f32; N_RAWIQ]>>,
    failures: Failures,
}

impl OneModel {
    /// Loads `single.json` and its ONNX.
    pub fn single(models: &Models) -> Result<OneModel, ModelError> {
        OneModel::load(models, "single", N_INPUT, None)
    }

    /// Loads `rawiq.json` and its ONNX.
    pub fn raw_iq(models: &Models) -> Result<OneModel, ModelError> {
        OneModel::load(models, "rawiq", N_RAWIQ, Some(Box::new([0.0; N_RAWIQ])))
    }

    fn load(
        models: &Models,
        name: &'static str,
        n_in: usize,
        raw: Option<Box<[f32; N_RAWIQ]>>,
    ) -> Result<OneModel, ModelError> {
        let card_name = format!("{name}.json");
        let path = models.path(&card_name);
        let card = ModelCard::load(models, &card_name)?;
        let decision = card.thresholds(&path)?.decision;
        let model = load_model(models, card.model("main", &path)?, n_in)?;
        Ok(OneModel {
            name,
            model,
            decision,
            raw,
            failures: Failures::default(),
        })
    }
}

impl ModelDetector for OneModel {
    fn name(&self) -> &'static str {
        self.name
    }
    fn decide(
        &mut self,
        f: &[f32; features::LEN],
        iq: &[Complex32],
        classic: &ClassicVerdict,
    ) -> ModelVerdict {
        let run = match &mut self.raw {
            Some(buf) => {
                rawiq_input(iq, buf);
                self.model.run(&buf[..])
            }
            None => self.model.run(&model_input(f, classic)),
        };
        match run {
            Ok(p) => {
                let score = col(&p, 1);
                ModelVerdict {
                    score,
                    jammed: score >= self.decision,
                    stage: 1,
                    jammer_type: None,
                }
            }
            Err(e) => {
                self.failures.note(self.name, &e);
                ModelVerdict::classic(classic)
            }
        }
    }
}

/// The classical detector as a [`ModelDetector`] (for uniform handling in `replay` and
/// `eval`; the pipeline without a model does the same).
pub struct Classic;

impl ModelDetector for Classic {
    fn name(&self) -> &'static str {
        "classic"
    }
    fn decide(
        &mut self,
        _f: &[f32; features::LEN],
        _iq: &[Complex32],
        classic: &ClassicVerdict,
    ) -> ModelVerdict {
        ModelVerdict::classic(classic)
    }
}

/// Detector names [`load`] accepts.
pub const KINDS: [&str; 4] = ["dtddnn", "single", "rawiq", "classic"];

/// Loads the detector `kind` (`dtddnn`, `single`, `rawiq` or `classic`) from `models`,
/// with every startup check. `classic` needs no files.
pub fn load(kind: &str, models: &Models) -> Result<Box<dyn ModelDetector>, ModelError> {
    Ok(match kind {
        "dtddnn" => Box::new(Cascade::load(models)?),
        "single" => Box::new(OneModel::single(models)?),
        "rawiq" => Box::new(OneModel::raw_iq(models)?),
        "classic" => Box::new(Classic),
        other => return Err(ModelError::UnknownKind(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(score: f64, rise: Option<f64>) -> ClassicVerdict {
        ClassicVerdict {
            ratio: 1.0 + (score / (1.0 - score)).ln() / 4.0,
            epnre_rise_db: rise,
            sjnr_est_db: 10.0,
            null_rise: rise.map(|r| (r + 1.0, 2.0 * r)),
            snr_drop_db: rise.map(|r| -r),
            band_rise_db: rise.map(|_| 0.25),
            floor_rise: rise.map(|r| (r - 1.0, 3.0 * r)),
            sync_rise: rise.map(|r| (r + 1.0, 4.0 * r)),
            null_excess_sigmas: rise.map(|r| 2.0 * r),
            cusum_ratio: 0.0,
            recent_excess_z: 0.0,
        }
    }

    #[test]
    fn context_inputs_follow_the_classical_evidence() {
        let f = std::array::from_fn(|i| i as f32);
        let x = model_input(&f, &verdict(0.5, Some(2.5)));
        // The schema features in order, without the absolute levels.
        let names = input_names();
        for (j, name) in names[..N_MODEL_FEATURES].iter().enumerate() {
            assert_eq!(x[j], features::idx(name) as f32, "{name}");
        }
        for a in ABSOLUTE_FEATURES {
            assert!(!names.iter().any(|n| n == a), "{a} is a model input");
        }
        assert_eq!(x[N_MODEL_FEATURES], 2.5);
        assert_eq!(x[N_MODEL_FEATURES + 1], 1.0);
        // score 0.5 ⇔ ratio 1 (the classical threshold).
        assert!((x[N_MODEL_FEATURES + 2] - 1.0).abs() < 1e-6);
        assert_eq!(x[N_MODEL_FEATURES + 3], 3.5);
        assert_eq!(x[N_MODEL_FEATURES + 4], 5.0);
        assert_eq!(x[N_MODEL_FEATURES + 5], -2.5);
        assert_eq!(x[N_MODEL_FEATURES + 6], 0.25);
        // The cell's memory: CUSUM ratio (capped at 2h/h) and the recent z.
        let mut v = verdict(0.5, Some(2.5));
        (v.cusum_ratio, v.recent_excess_z) = (1.5, -3.0);
        let x = model_input(&f, &v);
        assert_eq!(
            (x[N_MODEL_FEATURES + 7], x[N_MODEL_FEATURES + 8]),
            (1.5, -3.0)
        );
        (v.cusum_ratio, v.recent_excess_z) = (7.0, 1e9);
        let x = model_input(&f, &v);
        assert_eq!(
            (x[N_MODEL_FEATURES + 7], x[N_MODEL_FEATURES + 8]),
            (2.0, 100.0)
        );
        // The floor's rise, dB and σ.
        let x = model_input(&f, &verdict(0.5, Some(2.5)));
        assert_eq!(
            (x[N_MODEL_FEATURES + 9], x[N_MODEL_FEATURES + 10]),
            (1.5, 7.5)
        );
        // The PSS/SSS residual's rise, dB and σ.
        assert_eq!(
            (x[N_MODEL_FEATURES + 11], x[N_MODEL_FEATURES + 12]),
            (3.5, 10.0)
        );
        let y = model_input(&f, &verdict(1.0 / (1.0 + (-4.0f64).exp()), None));
        assert!(y[N_MODEL_FEATURES + 3..].iter().all(|v| *v == 0.0));
        assert_eq!(y[N_MODEL_FEATURES], 0.0);
        assert_eq!(y[N_MODEL_FEATURES + 1], 0.0);
        assert!((y[N_MODEL_FEATURES + 2] - 2.0).abs() < 1e-5);
        let z = model_input(&f, &verdict(1.0, Some(f64::NAN)));
        assert!(z.iter().all(|v| v.is_finite()));
        assert_eq!(input_names().len(), N_INPUT);
    }

    #[test]
    fn rawiq_input_is_decimated_and_unit_rms() {
        let iq: Vec<Complex32> = (0..SSB_LEN_P)
            .map(|n| Complex32::new(3.0 * (n as f32 * 0.01).cos(), 3.0 * (n as f32 * 0.01).sin()))
            .collect();
        let mut out = [0.0f32; N_RAWIQ];
        rawiq_input(&iq, &mut out);
        let p: f32 = out.iter().map(|v| v * v).sum::<f32>() / (N_RAWIQ / 2) as f32;
        assert!((p - 1.0).abs() < 1e-4, "{p}");
        // First output is the mean of the first two samples, scaled.
        let y0 = (iq[0] + iq[1]) * 0.5;
        let ratio = out[0] / y0.re;
        assert!((out[1] - y0.im * ratio).abs() < 1e-5);
        let mut z = [1.0f32; N_RAWIQ];
        rawiq_input(&[], &mut z);
        assert!(z.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn card_with_another_schema_is_refused_naming_both_versions() {
        let card = ModelCard {
            detector: "single".into(),
            feature_schema_version: features::SCHEMA_VERSION + 1,
            input_kind: "features".into(),
            input_names: input_names(),
            input_len: N_INPUT,
            rawiq_version: None,
            models: Default::default(),
            thresholds: None,
            classes: vec![],
        };
        let e = card.check(Path::new("m.json")).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "feature schema version {}",
                features::SCHEMA_VERSION + 1
            )) && e.contains(&format!(
                "feature schema version {}",
                features::SCHEMA_VERSION
            )),
            "{e}"
        );
        let mut c2 = card.clone();
        c2.feature_schema_version = features::SCHEMA_VERSION;
        c2.input_names.swap(3, 4);
        let e = c2.check(Path::new("m.json")).unwrap_err().to_string();
        assert!(e.contains("first difference at Some(3)"), "{e}");
        let mut c3 = card;
        c3.feature_schema_version = features::SCHEMA_VERSION;
        assert!(c3.check(Path::new("m.json")).is_ok());
    }

    #[test]
    fn unknown_kind_is_an_error() {
        let e = load("svm", &Models::Dir("/nonexistent".into()))
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.contains("svm")));
        assert!(load("classic", &Models::Dir("/nonexistent".into())).is_ok());
    }
}
