//! `ssbguard calibrate` and `replay --baseline` as real processes on real SigMF files:
//! a jammer that is already on air when replay starts is learned as "normal" by the
//! self-calibrating baseline, and caught at once with a baseline saved from a clean
//! recording of the same site; bad or mismatched baseline files are refused clearly.
//! The classic detector is pinned: it is the one whose verdict is the baseline comparison.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ssbguard")
}

fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("spawn ssbguard")
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ssbguard-calibrate-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// One site: the same cell, noise and front end; `jammer` adds a barrage at 15 dB SJNR
/// from the first sample.
fn synth(dir: &Path, name: &str, seed: u64, rate: f64, jammer: bool) -> String {
    let mut text = format!(
        "duration_s = 0.4\nsample_rate_hz = {rate}\ncenter_freq_hz = 3.5e9\nseed = {seed}\n\
         [[gnb]]\npci = 77\nscs_khz = 30\nssb_offset_hz = 0.12e6\nsnr_db = 22.0\n\
         traffic_load = 0.5\nframe_offset_s = 0.0013\n"
    );
    if jammer {
        text += "[[jammer]]\ntype = \"barrage\"\nsjnr_db = 15.0\n\
                 episodes = [{ start_s = 0.0, stop_s = 0.4 }]\n";
    }
    let scn = dir.join(format!("{name}.toml"));
    std::fs::write(&scn, text).expect("write scenario");
    let out = dir.join(name);
    let o = run(&[
        "synth",
        "--scenario",
        scn.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out.to_str().expect("utf8").to_string()
}

fn summary(o: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&o.stdout);
    let last = text.lines().last().expect("a summary line");
    serde_json::from_str(last).expect("json")
}

#[test]
fn saved_baseline_catches_a_jammer_present_from_the_start() {
    let d = dir();
    // Calibration and replay recordings come from different seeds (different noise,
    // traffic and cell timing), as they would on site.
    let clean = synth(&d, "clean", 11, 7.68e6, false);
    let jammed = synth(&d, "jammed", 12, 7.68e6, true);
    let base = d.join("baseline.json");
    let base_s = base.to_str().expect("utf8");

    let o = run(&["calibrate", &clean, "--out", base_s]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cal = summary(&o);
    assert_eq!(cal["cells"][0]["pci"], 77, "{cal}");
    assert_eq!(cal["alerts"], 0, "{cal}");

    // Without it the first SSBs of the jammed recording *are* the baseline.
    let without = summary(&run(&["replay", &jammed, "--detector", "classic"]));
    // With it, the jammer is an EPNRE rise of ~7 dB over the clean site from SSB one.
    let with = summary(&run(&[
        "replay",
        &jammed,
        "--detector",
        "classic",
        "--baseline",
        base_s,
    ]));
    let (dw, jw) = (
        with["decisions"].as_u64().expect("n"),
        with["jammed"].as_u64().expect("n"),
    );
    eprintln!("without baseline: {without}\nwith baseline: {with}");
    assert!(dw >= 100, "{with}");
    assert!(with["alerts"].as_u64() >= Some(1), "{with}");
    assert!(jw * 100 >= dw * 95, "only {jw} of {dw} jammed: {with}");
    // The self-calibrated run learns the jammer: far fewer jammed decisions.
    assert!(without["jammed"].as_u64().expect("n") * 2 < jw, "{without}");

    // The clean recording replayed against its own site baseline stays quiet.
    let clean2 = synth(&d, "clean2", 13, 7.68e6, false);
    let quiet = summary(&run(&[
        "replay",
        &clean2,
        "--detector",
        "classic",
        "--baseline",
        base_s,
    ]));
    assert_eq!(quiet["alerts"], 0, "{quiet}");

    // A baseline measured at another rate is refused, naming both rates.
    let other = synth(&d, "other", 14, 15.36e6, false);
    let o = run(&["replay", &other, "--baseline", base_s]);
    assert_eq!(o.status.code(), Some(64));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("7680000") && err.contains("15360000"), "{err}");

    // Alert thresholds out of range are refused, naming the flag and the allowed range.
    let o = run(&["replay", &clean2, "--raise-same-index", "99"]);
    assert_eq!(o.status.code(), Some(64));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--raise-same-index") && err.contains("0..=64"),
        "{err}"
    );
    let o = run(&["replay", &clean2, "--raise-k", "9", "--raise-n", "4"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--raise-k"));

    // Garbage and a wrong schema are refused with the file name and the reason.
    let bad = d.join("bad.json");
    std::fs::write(&bad, "{\"format\": \"ssbguard-site-baseline\"").expect("write");
    let o = run(&["replay", &jammed, "--baseline", bad.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.json"));
    let text = std::fs::read_to_string(&base).expect("read").replace(
        &format!(
            "\"feature_schema_version\": {}",
            ssbguard::features::SCHEMA_VERSION
        ),
        "\"feature_schema_version\": 999",
    );
    std::fs::write(&bad, text).expect("write");
    let o = run(&["replay", &jammed, "--baseline", bad.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("schema 999"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Calibrating on noise alone finds nothing to learn: exit 65, no file.
    let noise = d.join("noise");
    let scn = d.join("noise.toml");
    std::fs::write(
        &scn,
        "duration_s = 0.1\nsample_rate_hz = 7.68e6\nseed = 5\n",
    )
    .expect("w");
    let o = run(&[
        "synth",
        "--scenario",
        scn.to_str().expect("utf8"),
        "--out",
        noise.to_str().expect("utf8"),
    ]);
    assert!(o.status.success());
    let nb = d.join("nb.json");
    let o = run(&[
        "calibrate",
        noise.to_str().expect("utf8"),
        "--out",
        nb.to_str().expect("utf8"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(65),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!nb.exists());
    let _ = std::fs::remove_dir_all(&d);
}
