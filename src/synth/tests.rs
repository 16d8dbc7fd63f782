//! Ground-truth tests: the powers realised in the rendered signal match the scenario.

use num_complex::Complex32;
use rustfft::FftPlanner;

use super::*;

fn base(kind: Option<JammerKind>) -> Scenario {
    let mut s = Scenario::from_toml(
        r#"
        duration_s = 0.045
        sample_rate_hz = 15.36e6
        center_freq_hz = 3.5e9
        seed = 11

        [[gnb]]
        pci = 500
        scs_khz = 30
        ssb_offset_hz = 1.5e6
        snr_db = 25.0
        frame_offset_s = 0.001
        "#,
    )
    .unwrap();
    if let Some(kind) = kind {
        s.jammers.push(JammerConfig {
            kind,
            sjnr_db: Some(10.0),
            jnr_db: None,
            reference_pci: None,
            episodes: vec![],
            offset_hz: if kind == JammerKind::Tone {
                Some(0.9e6)
            } else {
                None
            },
            bandwidth_hz: None,
            tones: None,
            period_ms: None,
            duty: None,
            n_id2: None,
            spoof_periodicity_ms: None,
        });
    }
    s
}

/// Brick-wall band-pass by one big FFT: keeps `[lo, hi]` Hz.
fn band_pass(x: &[Complex32], fs: f64, lo: f64, hi: f64) -> Vec<Complex32> {
    let n = x.len();
    let mut p = FftPlanner::new();
    let mut v = x.to_vec();
    p.plan_fft_forward(n).process(&mut v);
    for (k, b) in v.iter_mut().enumerate() {
        let f = if k >= n / 2 {
            k as f64 - n as f64
        } else {
            k as f64
        } * fs
            / n as f64;
        if f < lo || f > hi {
            *b = Complex32::new(0.0, 0.0);
        }
    }
    p.plan_fft_inverse(n).process(&mut v);
    v.iter().map(|c| c / n as f32).collect()
}

fn mean_power_where(x: &[Complex32], on: impl Fn(usize) -> bool) -> f64 {
    let (mut acc, mut cnt) = (0.0, 0usize);
    for (i, c) in x.iter().enumerate() {
        if on(i) {
            acc += c.norm_sqr() as f64;
            cnt += 1;
        }
    }
    assert!(cnt > 0);
    acc / cnt as f64
}

#[test]
fn sjnr_realised_within_half_a_db_for_every_jammer_type() {
    for kind in JammerKind::ALL {
        let scn = base(Some(kind));
        let mut s = Synth::new(&scn).unwrap();
        let total = s.total_samples() as usize;
        let cell = s.cells()[0].clone();
        let truth = s.jammer_truth()[0].clone();
        let c = s.render_components(total);
        let fs = scn.sample_rate_hz;
        let (lo, hi) = (
            cell.ssb_offset_hz - 120.0 * cell.scs.hz(),
            cell.ssb_offset_hz + 120.0 * cell.scs.hz(),
        );
        // P_SSB: the cell (no traffic) during its SSB windows, CP included.
        let in_ssb = |i: usize| {
            cell.ssbs
                .iter()
                .any(|&(_, t)| i as f64 >= t.ceil() && (i as f64) < t + cell.ssb_len as f64 - 1.0)
        };
        let p_ssb = mean_power_where(&c.gnbs[0], in_ssb);
        let p_noise = mean_power_where(&band_pass(&c.noise, fs, lo, hi), |_| true);
        let jb = band_pass(&c.jammers[0], fs, lo, hi);
        let p_jam = match &truth.on_air {
            Some(sched) => mean_power_where(&jb, |i| sched.is_on(i as u64)),
            None => mean_power_where(&jb, |i| truth.gate.is_on(i as u64)),
        };
        let snr = db(p_ssb / p_noise);
        let sjnr = db(p_ssb / (p_jam + p_noise));
        let jnr = db(p_jam / p_noise);
        eprintln!(
            "{:>12}: SNR {snr:.2} dB (want 25), SJNR {sjnr:.2} (want {:.2}), JNR {jnr:.2} (want {:.2})",
            kind.name(),
            truth.sjnr_db,
            truth.jnr_db
        );
        assert!((snr - 25.0).abs() < 0.5, "{kind:?} SNR {snr}");
        assert!((sjnr - 10.0).abs() < 0.5, "{kind:?} SJNR {sjnr}");
        assert!((truth.sjnr_db - 10.0).abs() < 1e-6);
        assert!((jnr - truth.jnr_db).abs() < 0.5, "{kind:?} JNR {jnr}");
    }
}

#[test]
fn a_slow_chirp_is_in_the_ssb_band_only_while_its_sweep_crosses_it() {
    let mut scn = base(Some(JammerKind::Chirp));
    // 3 SSB bandwidths (30 kHz SCS: 7.2 MHz) centred on the SSB, one sweep per ms.
    scn.jammers[0].bandwidth_hz = Some(3.0 * 7.2e6 * 0.6);
    scn.jammers[0].period_ms = Some(1.0);
    let mut s = Synth::new(&scn).unwrap();
    let truth = s.jammer_truth()[0].clone();
    let sw = truth.sweep.expect("a chirp has a sweep");
    let n = 15_360 * 4;
    let on: Vec<bool> = (0..n as u64).map(|i| truth.emits_in_band(i)).collect();
    let frac = on.iter().filter(|x| **x).count() as f64 / n as f64;
    // In band for 1/1.8 of each sweep.
    assert!((frac - 1.0 / 1.8).abs() < 0.01, "{frac} {sw:?}");
    let cell = s.cells()[0].clone();
    let c = s.render_components(n);
    let (lo, hi) = (
        cell.ssb_offset_hz - 120.0 * cell.scs.hz(),
        cell.ssb_offset_hz + 120.0 * cell.scs.hz(),
    );
    let jb = band_pass(&c.jammers[0], scn.sample_rate_hz, lo, hi);
    let p_in = mean_power_where(&jb, |i| on[i]);
    let p_out = mean_power_where(&jb, |i| !on[i]);
    assert!(db(p_in / p_out) > 20.0, "in {p_in} out {p_out}");
    // The other kinds carry no sweep.
    let s = Synth::new(&base(Some(JammerKind::Barrage))).unwrap();
    assert!(s.jammer_truth()[0].sweep.is_none());
}

#[test]
fn transmitter_evm_adds_an_error_of_its_power_to_the_modulated_res_only() {
    let mut scn = base(None);
    scn.gnbs[0].traffic_load = 0.5;
    let n = 15_360 * 20;
    let ideal = Synth::new(&scn)
        .unwrap()
        .render_components(n)
        .gnbs
        .remove(0);
    scn.gnbs[0].evm_db = Some(-25.0);
    let mut s = Synth::new(&scn).unwrap();
    let evm = s.render_components(n).gnbs.remove(0);
    let diff: Vec<Complex32> = evm.iter().zip(&ideal).map(|(a, b)| a - b).collect();
    let ratio = db(mean_power_where(&diff, |_| true) / mean_power_where(&ideal, |_| true));
    assert!((ratio + 25.0).abs() < 0.3, "EVM {ratio} dB");
    // Where the cell is silent the EVM adds nothing: the error rides on the signal.
    let quiet = ideal.iter().filter(|c| c.norm_sqr() == 0.0).count();
    let still = ideal
        .iter()
        .zip(&diff)
        .filter(|(a, d)| a.norm_sqr() == 0.0 && d.norm_sqr() == 0.0)
        .count();
    assert_eq!(quiet, still);
    // No EVM renders exactly as before the knob existed (its own random stream).
    scn.gnbs[0].evm_db = None;
    let again = Synth::new(&scn)
        .unwrap()
        .render_components(n)
        .gnbs
        .remove(0);
    assert_eq!(again, ideal);
    scn.gnbs[0].evm_db = Some(-5.0);
    assert!(
        scn.validate()
            .unwrap_err()
            .to_string()
            .contains("evm_db = -5")
    );
}

#[test]
fn output_is_bit_exact_for_a_seed_and_independent_of_block_size() {
    let mut scn = base(Some(JammerKind::Pulsed));
    scn.gnbs[0].traffic_load = 0.5;
    scn.gnbs[0].channel = ChannelConfig::Tdl {
        delays_ns: vec![0.0, 200.0, 700.0],
        powers_db: vec![0.0, -3.0, -8.0],
        doppler_hz: 70.0,
    };
    scn.interferers.push(InterfererConfig {
        kind: InterfererKind::Lte,
        inr_db: 10.0,
        offset_hz: -3e6,
        lte_rb: Some(25),
        load: None,
        reference_pci: None,
        episodes: vec![],
    });
    let render = |block: usize| {
        let mut s = Synth::new(&scn).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![Complex32::new(0.0, 0.0); block];
        loop {
            let n = s.render(&mut buf);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    };
    let a = render(65536);
    let b = render(65536);
    let c = render(1001);
    assert_eq!(a.len(), scn.total_samples() as usize);
    assert_eq!(a, b);
    assert_eq!(a, c);
    let mut other = scn.clone();
    other.seed += 1;
    let mut s = Synth::new(&other).unwrap();
    let mut d = vec![Complex32::new(0.0, 0.0); a.len()];
    s.render(&mut d);
    assert_ne!(a, d);
}

#[test]
fn components_sum_to_the_rendered_signal() {
    let scn = base(Some(JammerKind::Comb));
    let total = scn.total_samples() as usize;
    let mut s1 = Synth::new(&scn).unwrap();
    let mut s2 = Synth::new(&scn).unwrap();
    let mut full = vec![Complex32::new(0.0, 0.0); total];
    s1.render(&mut full);
    let c = s2.render_components(total);
    for i in (0..total).step_by(97) {
        let sum = c.noise[i] + c.gnbs[0][i] + c.jammers[0][i];
        assert!((sum - full[i]).norm() < 1e-6, "{i}");
    }
}

#[test]
fn validation_lists_every_problem() {
    let text = r#"
        duration_s = -1
        sample_rate_hz = 10e6
        datatype = "cf64"
        [[gnb]]
        pci = 2000
        scs_khz = 30
        snr_db = 10
        [[jammer]]
        type = "tone"
        sjnr_db = 20
    "#;
    let scn = Scenario::from_toml(text).unwrap();
    let err = scn.validate().unwrap_err();
    let msg = err.to_string();
    for needle in [
        "duration_s",
        "pci = 2000",
        "datatype",
        "sample rate",
        "sjnr_db = 20",
    ] {
        assert!(msg.contains(needle), "missing {needle:?} in\n{msg}");
    }
    assert!(err.0.len() >= 5, "{msg}");
    // Unknown keys are rejected by serde with the key's name.
    let e =
        Scenario::from_toml("duration_s = 1\nsample_rate_hz = 7.68e6\nbogus = 3\n").unwrap_err();
    assert!(e.contains("bogus"), "{e}");
}

#[test]
fn lte_interferer_wider_than_the_sample_rate_is_a_validation_error_not_a_panic() {
    // 25 RBs (the default) need 301 subcarriers; at 3.84 Msps the 15 kHz FFT has 256.
    let text = r#"
        duration_s = 0.01
        sample_rate_hz = 3.84e6
        [[gnb]]
        pci = 1
        scs_khz = 15
        snr_db = 20
        [[interferer]]
        type = "lte"
        inr_db = 5
        [[interferer]]
        type = "lte"
        inr_db = 5
        lte_rb = 15
    "#;
    let scn = Scenario::from_toml(text).unwrap();
    let msg = scn.validate().unwrap_err().to_string();
    assert!(
        msg.contains("interferer[0].lte_rb = 25") && msg.contains("at most 21 RBs"),
        "{msg}"
    );
    // 15 RBs (181 subcarriers) fit: only the first interferer is reported.
    assert!(!msg.contains("interferer[1]"), "{msg}");
    let e = Synth::new(&scn).err().expect("refused, not a panic");
    assert!(e.to_string().contains("interferer[0].lte_rb"), "{e}");
    // 100 RBs at 7.68 Msps (512-point FFT) too.
    let mut wide = scn.clone();
    wide.sample_rate_hz = 7.68e6;
    wide.interferers[0].lte_rb = Some(100);
    let msg = wide.validate().unwrap_err().to_string();
    assert!(
        msg.contains("lte_rb = 100") && msg.contains("at most 42 RBs"),
        "{msg}"
    );
    // The same carrier at a rate that holds it renders.
    wide.sample_rate_hz = 23.04e6;
    let mut s = Synth::new(&wide).expect("fits at 23.04 Msps");
    let mut buf = vec![Complex32::new(0.0, 0.0); 4096];
    assert_eq!(s.render(&mut buf), 4096);
}

#[test]
fn annotations_follow_contracts() {
    let mut scn = base(Some(JammerKind::Barrage));
    scn.jammers[0].episodes = vec![Episode {
        start_s: 0.01,
        stop_s: 0.02,
    }];
    let s = Synth::new(&scn).unwrap();
    let ann = s.annotations();
    let cell = ann
        .iter()
        .find(|a| a.label.as_deref() == Some("cell"))
        .unwrap();
    assert_eq!(cell.fields["ssbguard:pci"], 500);
    assert_eq!(cell.fields["ssbguard:scs_khz"], 30);
    assert_eq!(cell.fields["ssbguard:ssb_freq_hz"], 3.5015e9);
    let j = ann
        .iter()
        .find(|a| a.label.as_deref() == Some("jammer"))
        .unwrap();
    assert_eq!(j.sample_start, 153_600);
    assert_eq!(j.sample_count, Some(153_600));
    assert_eq!(j.fields["ssbguard:type"], "barrage");
    assert_eq!(j.fields["ssbguard:sjnr_db"], 10.0);
    assert!(j.fields["ssbguard:jnr_db"].as_f64().unwrap() > 10.0);
}
