//! The shipped models (`models/`): they load in tract with every startup check, a card
//! from another feature schema is refused with both versions named, and on a small set of
//! freshly simulated test-split scenarios the DT-DDNN cascade meets its floors and is
//! compared with the classical detector on the same SSBs. Run in release mode for speed:
//! `cargo test --release --test models_shipped`.

use std::path::{Path, PathBuf};

use ssbguard::dataset::{ScenarioClass, Split, Splits, scenario_for_seed};
use ssbguard::detect::dnn::{self, ModelError};
use ssbguard::eval::{self, ScenarioRun};
use ssbguard::features;
use ssbguard::synth::JammerKind;

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn shipped() -> dnn::Models {
    dnn::Models::Dir(models())
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ssbguard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn shipped_models_load_and_decide() {
    for kind in ["dtddnn", "single", "rawiq", "classic"] {
        let mut m = dnn::load(kind, &shipped()).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(m.name(), kind);
        let mut b =
            dnn::load(kind, &dnn::Models::BuiltIn).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let f = [0.0f32; features::LEN];
        let v = ssbguard::detect::classic::ClassicVerdict {
            ratio: 1.0 + (0.01f64 / 0.99).ln() / 4.0,
            epnre_rise_db: Some(0.0),
            sjnr_est_db: 20.0,
            null_rise: Some((0.5, 1.0)),
            snr_drop_db: Some(0.0),
            band_rise_db: Some(0.0),
            floor_rise: None,
            sync_rise: None,
            null_excess_sigmas: Some(1.0),
            cusum_ratio: 0.0,
            recent_excess_z: 0.0,
        };
        let out = m.decide(&f, &[], &v);
        // The models compiled into the binary are the shipped files.
        assert_eq!(
            b.decide(&f, &[], &v).score,
            out.score,
            "{kind}: built-in differs"
        );
        assert!(
            (0.0..=1.0).contains(&out.score),
            "{kind}: score {}",
            out.score
        );
    }
    dnn::TypeHead::load(&shipped()).expect("type head loads");
    dnn::TypeHead::load(&dnn::Models::BuiltIn).expect("built-in type head loads");
}

#[test]
fn card_from_another_schema_is_refused_naming_both_versions() {
    let dir = scratch("schema");
    for f in std::fs::read_dir(models()).expect("models dir").flatten() {
        let _ = std::fs::copy(f.path(), dir.join(f.file_name()));
    }
    let card = dir.join("dtddnn.json");
    let text = std::fs::read_to_string(&card).expect("card");
    let mut j: serde_json::Value = serde_json::from_str(&text).expect("json");
    j["feature_schema_version"] = serde_json::json!(features::SCHEMA_VERSION + 7);
    std::fs::write(&card, j.to_string()).expect("write");
    let err = dnn::load("dtddnn", &dnn::Models::Dir(dir.clone()))
        .err()
        .expect("mismatched card refused");
    assert!(matches!(err, ModelError::Schema { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "feature schema version {}",
            features::SCHEMA_VERSION + 7
        )) && msg.contains(&format!(
            "feature schema version {}",
            features::SCHEMA_VERSION
        )) && msg.contains("dtddnn.json"),
        "{msg}"
    );
    // Same version, but the inputs in another order: refused too.
    j["feature_schema_version"] = serde_json::json!(features::SCHEMA_VERSION);
    let names = j["input_names"].as_array_mut().expect("input_names");
    names.swap(0, 1);
    std::fs::write(&card, j.to_string()).expect("write");
    let err = dnn::load("dtddnn", &dnn::Models::Dir(dir.clone()))
        .err()
        .expect("reordered inputs refused");
    assert!(matches!(err, ModelError::Inputs { .. }), "{err}");
    // A truncated ONNX file is a load error naming the file.
    std::fs::write(dir.join("single.onnx"), b"not an onnx file").expect("write");
    let err = dnn::load("single", &dnn::Models::Dir(dir.clone()))
        .err()
        .expect("broken onnx refused");
    assert!(err.to_string().contains("single.onnx"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Test-split seeds (never used for training or thresholds): continuous jammers at SJNR
/// 15–30 dB with JNR ≥ 0 dB (the report's headline population, [`eval::is_headline`]) on a
/// cell without a benign interferer, and benign scenarios.
fn fresh_seeds(n_jam: usize, n_benign: usize) -> (Vec<u64>, Vec<u64>) {
    let sp = Splits::load(&models().join("splits.toml")).expect("splits");
    let (mut jam, mut ben) = (Vec::new(), Vec::new());
    for s in sp.seeds(Split::Test).into_iter().rev() {
        let (_, m) = scenario_for_seed(s);
        match m.class {
            ScenarioClass::Jammed(k) if eval::is_headline(&m, Some(k)) && !m.benign_interferer => {
                if jam.len() < n_jam {
                    jam.push(s)
                }
            }
            ScenarioClass::Jammed(_) => {}
            _ => {
                if ben.len() < n_benign {
                    ben.push(s)
                }
            }
        }
    }
    (jam, ben)
}

struct Measured {
    pd: f64,
    n_pos: usize,
    pfa: f64,
    n_neg: usize,
    episodes_alerted: f64,
    benign_alerted: usize,
}

fn measure(runs: &[ScenarioRun]) -> Measured {
    let pos: Vec<bool> = runs
        .iter()
        .flat_map(|r| r.ssbs.iter().filter(|s| s.label).map(|s| s.jammed))
        .collect();
    let neg: Vec<bool> = runs
        .iter()
        .filter(|r| !matches!(r.meta.class, ScenarioClass::Jammed(_)))
        .flat_map(|r| r.ssbs.iter().filter(|s| !s.label).map(|s| s.jammed))
        .collect();
    let frac = |v: &[bool]| v.iter().filter(|x| **x).count() as f64 / v.len().max(1) as f64;
    let episodes: Vec<bool> = runs
        .iter()
        .filter_map(|r| {
            let (a, b) = r.meta.episode_s?;
            Some(r.raised_s.iter().any(|t| *t >= a && *t <= b + 0.1))
        })
        .collect();
    Measured {
        pd: frac(&pos),
        n_pos: pos.len(),
        pfa: frac(&neg),
        n_neg: neg.len(),
        episodes_alerted: frac(&episodes),
        benign_alerted: runs
            .iter()
            .filter(|r| r.meta.episode_s.is_none() && !r.raised_s.is_empty())
            .count(),
    }
}

/// Pd of `runs` (one detector) with its score threshold set so that at most `pfa` of the
/// benign scenarios' label-0 SSBs score at or above it.
fn classic_pd_at_pfa(runs: &[ScenarioRun], pfa: f64) -> f64 {
    let t = eval::metrics::threshold_for_pfa(&eval::negatives(runs), pfa);
    let pos: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.ssbs.iter().filter(|s| s.label).map(|s| s.score))
        .collect();
    eval::metrics::rate(&pos, t).unwrap_or(0.0)
}

/// Regression floors of the shipped DT-DDNN (feature schema 4), set below what was
/// measured, not at the goals (Pd ≥ 99 %, no alert on a benign scenario), which it
/// misses: see `eval/report.md`. On the full test split the report measured, at 1 %
/// validation Pfa: per-SSB Pd 93.2 % at SJNR 15–30 dB (continuous kinds, JNR ≥ 0 dB, no
/// benign interferer), benign Pfa 1.3 % (LTE 2.1 %, neighbour 1.8 %), 3.1 % of benign
/// scenarios alerted. On this 40 + 16 scenario subset (2026-12-01): Pd 93.3 % on 1917
/// SSBs, Pfa 3.9 % on 1696 (one LTE scenario at INR 12 dB, seed 3000269, flags most of its
/// SSBs and raises the one benign alert), 95 % of episodes alerted. The subset is this
/// large because at 10 + 6 scenarios one missed scenario moved Pd by 20 points.
const FLOOR_PD: f64 = 0.88;
const CEIL_PFA: f64 = 0.05;
const FLOOR_EPISODES: f64 = 0.9;
/// Benign scenarios of the subset allowed to raise an alert (the goal is none).
const MAX_BENIGN_ALERTED: usize = 1;

#[test]
fn dtddnn_meets_floors_on_fresh_test_scenarios_and_is_compared_with_classic() {
    let (jam, ben) = fresh_seeds(40, 16);
    assert!(jam.len() >= 8 && ben.len() >= 6, "{jam:?} {ben:?}");
    let seeds: Vec<u64> = jam.iter().chain(ben.iter()).copied().collect();
    let jobs = 2;
    let dt = eval::run_many("dtddnn", &models(), &seeds, jobs).expect("dtddnn runs");
    let cl = eval::run_many("classic", &models(), &seeds, jobs).expect("classic runs");
    let (d, c) = (measure(&dt), measure(&cl));
    eprintln!(
        "fresh set ({} jammed, {} benign scenarios): dtddnn Pd {:.4} on {} SSBs, Pfa {:.4} on {}, episodes alerted {:.2}, benign scenarios alerted {}; classic Pd {:.4}, Pfa {:.4}, episodes {:.2}, benign alerted {}",
        jam.len(),
        ben.len(),
        d.pd,
        d.n_pos,
        d.pfa,
        d.n_neg,
        d.episodes_alerted,
        d.benign_alerted,
        c.pd,
        c.pfa,
        c.episodes_alerted,
        c.benign_alerted
    );
    for r in &dt {
        let k = match r.meta.class {
            ScenarioClass::Jammed(k) => k.name(),
            _ => "benign",
        };
        eprintln!(
            "  seed {} {k:>12} SJNR {:5.1} JNR {:5.1} SNR {:4.1}: raised {:?}",
            r.meta.seed, r.meta.sjnr_db, r.meta.jnr_db, r.meta.snr_db, r.raised_s
        );
    }
    assert!(
        d.n_pos >= 200 && d.n_neg >= 200,
        "too few SSBs: {} {}",
        d.n_pos,
        d.n_neg
    );
    assert!(d.pd >= FLOOR_PD, "DT-DDNN Pd {} < {FLOOR_PD}", d.pd);
    assert!(d.pfa <= CEIL_PFA, "DT-DDNN Pfa {} > {CEIL_PFA}", d.pfa);
    assert!(
        d.episodes_alerted >= FLOOR_EPISODES,
        "DT-DDNN alerted {} of the episodes",
        d.episodes_alerted
    );
    assert!(
        d.benign_alerted <= MAX_BENIGN_ALERTED,
        "DT-DDNN alerted on {} benign scenarios",
        d.benign_alerted
    );
    // Honest comparison on the same SSBs, at the same false-alarm rate: classic at its own
    // threshold (with its CUSUM) detects more but flags ~20 % of benign SSBs (2026-12-01);
    // held to DT-DDNN's false alarms on these benign SSBs it detects less.
    let c_at = classic_pd_at_pfa(&cl, d.pfa);
    eprintln!("classic Pd at DT-DDNN's Pfa {:.4}: {c_at:.4}", d.pfa);
    assert!(
        d.pd >= c_at,
        "DT-DDNN Pd {} below classic's {c_at} at the same Pfa on the same SSBs",
        d.pd
    );
    assert!(
        d.pfa * 3.0 <= c.pfa.max(1e-9),
        "DT-DDNN Pfa {} not well below classic's {}",
        d.pfa,
        c.pfa
    );
    let _ = JammerKind::ALL;
}

#[test]
fn tract_matches_onnxruntime_on_the_recorded_rows() {
    let text = std::fs::read_to_string(models().join("parity_samples.json")).expect("parity file");
    let j: serde_json::Value = serde_json::from_str(&text).expect("json");
    let obj = j.as_object().expect("object");
    assert!(obj.len() >= 4, "{:?}", obj.keys());
    for (file, v) in obj {
        let rows = v["inputs"].as_array().expect("inputs");
        let want = v["probabilities"].as_array().expect("probabilities");
        let n_in = rows[0].as_array().expect("row").len();
        let mut m = dnn::OnnxModel::load(&models().join(file), n_in, "probabilities")
            .unwrap_or_else(|e| panic!("{e}"));
        for (x, p) in rows.iter().zip(want) {
            let x: Vec<f32> = x
                .as_array()
                .expect("row")
                .iter()
                .map(|v| v.as_f64().expect("number") as f32)
                .collect();
            let got = m.run(&x).expect("tract runs");
            let p: Vec<f64> = p
                .as_array()
                .expect("row")
                .iter()
                .map(|v| v.as_f64().expect("number"))
                .collect();
            assert_eq!(got.len(), p.len(), "{file}");
            for (a, b) in got.iter().zip(&p) {
                assert!(
                    (*a as f64 - b).abs() < 1e-5,
                    "{file}: tract {a} vs onnxruntime {b}"
                );
            }
        }
    }
}
