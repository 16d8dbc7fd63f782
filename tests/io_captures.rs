//! The real captures in `SSBGUARD_CAPTURES` (default `../shared/captures`) read as their
//! `manifest.json` says: sample rate, centre frequency, sample count, finite data with power.
//! When the folder is absent the test says why on stderr and passes.

use std::path::PathBuf;

use num_complex::Complex32;
use serde_json::Value;
use ssbguard::io::{DataType, IqReader};

fn captures_dir() -> PathBuf {
    match std::env::var_os("SSBGUARD_CAPTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures"),
    }
}

fn number(entry: &Value, key: &str) -> f64 {
    entry[key]
        .as_f64()
        .unwrap_or_else(|| panic!("manifest entry {entry}: {key} is not a number"))
}

#[test]
fn real_captures_match_manifest() {
    let dir = captures_dir();
    if !dir.is_dir() {
        eprintln!(
            "skipping: captures folder {} not found (set SSBGUARD_CAPTURES)",
            dir.display()
        );
        return;
    }
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
    let manifest: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display()));
    let entries = manifest
        .as_array()
        .unwrap_or_else(|| panic!("{}: not an array", manifest_path.display()));
    assert!(
        !entries.is_empty(),
        "{}: no captures",
        manifest_path.display()
    );

    let mut block = vec![Complex32::new(0.0, 0.0); 10_000];
    for entry in entries {
        let name = entry["name"]
            .as_str()
            .unwrap_or_else(|| panic!("manifest entry {entry}: no name"));
        let stem = dir.join(name);
        let mut r = IqReader::open(&stem, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.sample_rate_hz(),
            number(entry, "sample_rate_hz"),
            "{name}"
        );
        assert_eq!(
            r.center_freq_hz(),
            Some(number(entry, "center_freq_hz")),
            "{name}"
        );
        assert_eq!(r.total_samples() as f64, number(entry, "samples"), "{name}");
        assert_eq!(r.meta().datatype, DataType::Cf32Le, "{name}");
        assert!(
            r.meta()
                .version
                .as_deref()
                .is_some_and(|v| v.starts_with("1.")),
            "{name}"
        );

        let (mut energy, mut count) = (0.0f64, 0u64);
        loop {
            let n = r.read(&mut block).unwrap_or_else(|e| panic!("{e}"));
            if n == 0 {
                break;
            }
            energy += block[..n]
                .iter()
                .map(|s| f64::from(s.norm_sqr()))
                .sum::<f64>();
            count += n as u64;
        }
        assert_eq!(count, r.total_samples(), "{name}");
        let power = energy / count as f64;
        assert!(
            power.is_finite() && power > 0.0,
            "{name}: mean power {power}"
        );

        // The same recording by its metadata and data file names.
        for suffix in [".sigmf-meta", ".sigmf-data"] {
            let other = IqReader::open(&dir.join(format!("{name}{suffix}")), None)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(other.meta(), r.meta(), "{name}{suffix}");
        }
    }
}
