//! A tiny training run, only when the training environment exists (`training/.venv`,
//! created by `training/train.sh`): a small dataset from the library, `train.py --tiny`,
//! and the resulting models loaded by tract with their cards. Without the venv the test
//! prints why it skipped (the Rust build never needs Python).

use std::path::Path;
use std::process::Command;

use ssbguard::dataset::{DatasetArgs, Split};
use ssbguard::detect::dnn;

#[test]
fn tiny_training_run_exports_models_tract_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let py = root.join("training/.venv/bin/python");
    if !py.exists() {
        eprintln!(
            "SKIPPED: no training environment at {} (run training/train.sh once to create it)",
            py.display()
        );
        return;
    }
    let tmp = std::env::temp_dir().join(format!("ssbguard-tiny-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let (data, models) = (tmp.join("data"), tmp.join("models"));
    let sums = ssbguard::dataset::run(&DatasetArgs {
        out_dir: data.clone(),
        splits_file: root.join("models/splits.toml"),
        splits: vec![Split::Train, Split::Val],
        limit: Some(24),
        jobs: 2,
        with_iq: true,
    })
    .expect("tiny dataset");
    assert!(sums.iter().all(|s| s.rows > 500), "{sums:?}");
    let out = Command::new(&py)
        .arg(root.join("training/train.py"))
        .args(["--tiny", "--data"])
        .arg(&data)
        .arg("--models")
        .arg(&models)
        .output()
        .expect("train.py runs");
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "train.py failed:\n{log}");
    assert!(
        log.contains("max |diff|"),
        "no parity check in the log:\n{log}"
    );
    for kind in ["dtddnn", "single", "rawiq"] {
        dnn::load(kind, &dnn::Models::Dir(models.clone()))
            .unwrap_or_else(|e| panic!("{kind}: {e}\n{log}"));
        let card: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(models.join(format!("{kind}.json"))).expect("card"),
        )
        .expect("card json");
        let sha = card["training"]["dataset_sha256"]["train.npz"]
            .as_str()
            .unwrap_or("");
        assert_eq!(sha.len(), 64, "{kind}: dataset hash in the card");
        assert!(
            card["thresholds"]["decision"].is_number(),
            "{kind}: threshold"
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
