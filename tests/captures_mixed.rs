//! Real over-the-air captures with synthetic jammers added at a known SJNR, through the same
//! [`Pipeline`] as the daemon, with the shipped DT-DDNN and the classical detector.
//!
//! The captures (`SSBGUARD_CAPTURES`, default `../shared/captures`, `manifest.json`) are 1 to
//! 10 ms long: one or two SSBs each. So each is **looped** (played back-to-back, sample-exact,
//! so the receiver's period learning sees its SSB every capture length: 5 ms for the 1 ms
//! files, 10 ms for the 10 ms one), with fresh white **dither** 10 dB below the capture's own
//! noise floor in the SSB band (a looped recording repeats its noise bit for bit; the dither
//! gives the SSB-to-SSB spread a live signal has and raises the floor by 0.4 dB, which the
//! powers below include). The first [`JAM_START_S`] are clean (the site baseline calibrates);
//! a jammer from `src/synth` is then added until [`JAM_STOP_S`].
//!
//! **Powers, measured on the capture in the SSB band** (the definitions of the README):
//! the receiver decodes the capture's SSB; its null REs hold only noise, so
//! SNR = mean RE power over the SSB grid / mean null-RE power − 1; a brick-wall band-pass of
//! the capture over the SSB's 240 subcarriers gives P_SSB + P_noise during the SSB, hence
//! both powers. The jammer is rendered by [`Synth`] for a stand-in cell with that SNR and
//! noise floor, at the JNR that gives the target SJNR, and its realised in-band power is
//! measured again (within 0.5 dB of the target, the synth's requirement).
//!
//! **Reference**: the same jammer (same seed, SJNR, JNR, timing) on a synthetic cell with the
//! capture's rate, SCS, SSB offset, SNR, noise floor, SSB period and transmitter EVM (the
//! EVM that explains the capture's DMRS SNR ceiling; AWGN, traffic 50 %).
//!
//! **What is asserted** (from the goals, not from the results), for the shipped DT-DDNN and
//! the classical detector alike: per capture, the per-SSB Pd at SJNR 15–30 dB with
//! JNR ≥ 0 dB is at least the synthetic cell's minus 5 points ("about as well") minus three
//! standard errors of the difference; the clean loop raises no alert and its count of SSBs
//! judged jammed is compatible with the Pfa goal of 1 % (a count that Pfa = 1 % would give
//! less than once in a thousand fails: ≥ 7 of 120); the capture without an SSB gives no cell
//! and no alert. (Before the stand-in carried the capture's EVM, a tone at SJNR 25 dB that
//! the classical detector caught on a perfect synthetic cell through the DMRS SNR drop went
//! unseen on the real cells, whose DMRS SNR their transmitters cap at 24–35 dB.) A capture
//! whose SNR leaves no SJNR ≥ 15 dB with JNR ≥ 0 dB (SNR < 18 dB) cannot be jammed in the
//! goal's regime: that is printed, not hidden.
//!
//! Run in release mode (`cargo test --release --test captures_mixed`): about 40 pipeline
//! runs of 0.6 s of signal at up to 46 Msps.

use num_complex::Complex32;
use rustfft::FftPlanner;
use ssbguard::detect::dnn;
use ssbguard::events::Event;
use ssbguard::io::IqReader;
use ssbguard::nr::Scs;
use ssbguard::nr::grid::NullGroup;
use ssbguard::pipeline::{DetectorKind, Pipeline, PipelineConfig, SsbLocation};
use ssbguard::rng::Rng;
use ssbguard::rx::pss_search::Candidate;
use ssbguard::rx::receiver::{Receiver, ReceiverConfig, RxEvent};
use ssbguard::synth::{JammerKind, JammerTruth, Scenario, Synth};
use std::path::{Path, PathBuf};

/// Clean part (calibration), s.
const JAM_START_S: f64 = 0.30;
/// Jammer off, s.
const JAM_STOP_S: f64 = 0.50;
/// Stream length, s.
const TOTAL_S: f64 = 0.60;
/// Dither below the capture's in-band noise, dB.
const DITHER_DB: f64 = -10.0;
/// Target SJNRs, dB (the goal's range 15–30 dB).
const SJNRS_DB: [f64; 3] = [15.0, 20.0, 25.0];
/// Minimum JNR of the goal's setting, dB.
const MIN_JNR_DB: f64 = 0.0;
/// Continuous kinds whose waveform does not depend on the cell's schedule (the synthetic
/// reactive jammer follows the stand-in cell's SSB times, not the capture's).
const KINDS: [JammerKind; 5] = [
    JammerKind::Barrage,
    JammerKind::PartialBand,
    JammerKind::Tone,
    JammerKind::Comb,
    JammerKind::Chirp,
];
/// "About as well": real Pd may fall this far below the synthetic one (plus 3 σ).
const TOLERANCE: f64 = 0.05;
/// The per-SSB false-alarm goal.
const PFA_GOAL: f64 = 0.01;
/// A clean loop fails when its false-alarm count would happen less often than this under
/// Pfa = [`PFA_GOAL`] (a detector working exactly at the goal shows 2 of 120 a third of
/// the time; 7 of 120 about once in 4500).
const SIGNIFICANCE: f64 = 1e-3;

/// P(X ≥ k) for X ~ Binomial(n, p).
fn binomial_tail(n: usize, k: usize, p: f64) -> f64 {
    let mut term = (1.0 - p).powi(n as i32); // P(X = 0)
    let mut below = 0.0;
    for i in 0..k.min(n + 1) {
        below += term;
        term *= (n - i) as f64 / (i + 1) as f64 * p / (1.0 - p);
    }
    (1.0 - below).max(0.0)
}
/// Detectors run (the shipped DT-DDNN and the classical reference); every assertion holds
/// for each.
const DETECTORS: [&str; 2] = ["dtddnn", "classic"];

fn lin(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

fn db(x: f64) -> f64 {
    10.0 * x.log10()
}

struct Capture {
    name: String,
    fs: f64,
    center_hz: f64,
    offset_hz: f64,
    scs: Scs,
    pci: u16,
    samples: Vec<Complex32>,
}

fn captures_dir() -> PathBuf {
    std::env::var_os("SSBGUARD_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures"))
}

fn manifest() -> Option<(PathBuf, Vec<serde_json::Value>)> {
    let dir = captures_dir();
    let path = dir.join("manifest.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED: no captures at {} (set SSBGUARD_CAPTURES)",
            path.display()
        );
        return None;
    };
    let v: Vec<serde_json::Value> = serde_json::from_str(&text).expect("manifest.json parses");
    Some((dir, v))
}

fn read_all(path: &Path) -> (Vec<Complex32>, f64, Option<f64>) {
    let mut r = IqReader::open(path, None).expect("capture opens");
    let mut v = vec![Complex32::new(0.0, 0.0); r.total_samples() as usize];
    let mut at = 0;
    while at < v.len() {
        let n = r.read(&mut v[at..]).expect("capture reads");
        if n == 0 {
            break;
        }
        at += n;
    }
    v.truncate(at);
    (v, r.sample_rate_hz(), r.center_freq_hz())
}

/// Brick-wall band-pass by one FFT: keeps [lo, hi] Hz.
fn band_pass(x: &[Complex32], fs: f64, lo: f64, hi: f64) -> Vec<Complex32> {
    let n = x.len();
    let mut p = FftPlanner::new();
    let mut v = x.to_vec();
    p.plan_fft_forward(n).process(&mut v);
    for (k, b) in v.iter_mut().enumerate() {
        let kk = if k >= n / 2 {
            k as f64 - n as f64
        } else {
            k as f64
        };
        let f = kk * fs / n as f64;
        if f < lo || f > hi {
            *b = Complex32::new(0.0, 0.0);
        }
    }
    p.plan_fft_inverse(n).process(&mut v);
    v.iter().map(|c| c / n as f32).collect()
}

fn mean_power(x: &[Complex32]) -> f64 {
    x.iter().map(|c| c.norm_sqr() as f64).sum::<f64>() / x.len().max(1) as f64
}

/// P_SSB and P_noise of the capture in its SSB band (linear, full scale), and the SSB
/// period of the loop in ms.
struct CellPowers {
    p_ssb: f64,
    p_noise: f64,
}

fn measure(c: &Capture) -> Option<CellPowers> {
    let cfg = ReceiverConfig::new(
        c.fs,
        Some(c.center_hz),
        vec![Candidate {
            offset_hz: c.offset_hz,
            scs: c.scs,
        }],
    );
    let mut rx = Receiver::new(cfg).expect("receiver");
    let mut ev = Vec::new();
    rx.push(0, &c.samples, &mut ev);
    rx.finish(&mut ev);
    let half = 120.0 * c.scs.hz();
    let band = band_pass(&c.samples, c.fs, c.offset_hz - half, c.offset_hz + half);
    let (mut ps, mut pn, mut n) = (0.0, 0.0, 0);
    for e in &ev {
        let RxEvent::Ssb(r) = e else { continue };
        let Some(o) = r.obs.as_ref().filter(|_| r.found) else {
            continue;
        };
        let all = o
            .grid
            .iter()
            .flat_map(|row| row.iter())
            .map(|v| v.norm_sqr() as f64)
            .sum::<f64>()
            / 960.0;
        let (mut acc, mut cnt) = (0.0, 0);
        for g in NullGroup::ALL {
            for k in g.subcarriers() {
                acc += o.grid[g.symbol()][k].norm_sqr() as f64;
                cnt += 1;
            }
        }
        let null = acc / cnt as f64;
        let snr = all / null - 1.0;
        let a = r.start.ceil().max(0.0) as usize;
        let b = ((r.start + r.len).floor() as usize).min(band.len());
        if b <= a + 16 {
            continue;
        }
        let p = mean_power(&band[a..b]);
        pn += p / (1.0 + snr);
        ps += p * snr / (1.0 + snr);
        n += 1;
    }
    (n > 0).then(|| CellPowers {
        p_ssb: ps / n as f64,
        p_noise: pn / n as f64,
    })
}

/// What one stream gave one detector.
#[derive(Default, Debug, Clone)]
struct Outcome {
    /// (jammed decision, label) per SSB decision of the capture's PCI.
    ssbs: Vec<(bool, bool)>,
    raised_s: Vec<f64>,
    /// The site baseline learned for the capture's PCI.
    baseline: Option<ssbguard::features::baseline::Baseline>,
}

impl Outcome {
    fn pd(&self) -> (usize, usize) {
        let pos: Vec<bool> = self.ssbs.iter().filter(|s| s.1).map(|s| s.0).collect();
        (pos.iter().filter(|x| **x).count(), pos.len())
    }
    fn false_alarms(&self) -> (usize, usize) {
        let neg: Vec<bool> = self.ssbs.iter().filter(|s| !s.1).map(|s| s.0).collect();
        (neg.iter().filter(|x| **x).count(), neg.len())
    }
    fn alerted(&self) -> bool {
        self.raised_s
            .iter()
            .any(|t| *t >= JAM_START_S && *t <= JAM_STOP_S + 0.1)
    }
}

/// Pushes `stream` (blocks rendered on demand) through one pipeline per detector.
/// `label(sample, len)` says whether a jammer emits into the SSB band in a window.
fn run_detectors(
    fs: f64,
    c: &Capture,
    mut next_block: impl FnMut(u64, &mut [Complex32]) -> usize,
    label: &dyn Fn(u64, u64) -> bool,
) -> Vec<Outcome> {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut pipes: Vec<Pipeline> = DETECTORS
        .iter()
        .map(|k| {
            let mut p = Pipeline::new(PipelineConfig {
                sample_rate_hz: fs,
                center_freq_hz: Some(c.center_hz),
                ssb: SsbLocation::Given {
                    offset_hz: c.offset_hz,
                    scs: Some(c.scs),
                },
                detector: DetectorKind::Classic,
                alert: ssbguard::detect::alert::AlertConfig::default(),
                emit_features: false,
            })
            .expect("pipeline");
            p.set_model(
                dnn::load(k, &dnn::Models::Dir(models.clone()))
                    .unwrap_or_else(|e| panic!("{k}: {e}")),
            );
            p
        })
        .collect();
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); pipes.len()];
    let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 16];
    let mut pos = 0u64;
    loop {
        let n = next_block(pos, &mut buf);
        if n == 0 {
            break;
        }
        for (p, ev) in pipes.iter_mut().zip(events.iter_mut()) {
            p.push(pos, &buf[..n], ev);
        }
        pos += n as u64;
    }
    pipes
        .iter_mut()
        .zip(events)
        .map(|(p, mut ev)| {
            p.finish(&mut ev);
            let mut o = Outcome {
                baseline: p
                    .baselines()
                    .into_iter()
                    .find(|b| b.0 == c.pci)
                    .map(|b| b.1),
                ..Outcome::default()
            };
            for e in ev {
                match e {
                    Event::Decision(d) if d.pci == Some(c.pci) => {
                        o.ssbs.push((d.jammed, label(d.sample, d.samples)))
                    }
                    Event::Alert(a) if a.state == ssbguard::events::AlertState::Raised => {
                        o.raised_s.push(a.time_s)
                    }
                    _ => {}
                }
            }
            o
        })
        .collect()
}

/// The looped capture with dither (and `jam` added from `jam_start`).
fn looped(
    c: &Capture,
    dither_power: f64,
    seed: u64,
    mut jam: Option<(u64, Synth)>,
) -> impl FnMut(u64, &mut [Complex32]) -> usize {
    let total = (TOTAL_S * c.fs).round() as u64;
    let mut rng = Rng::derive(seed, 0xd17e);
    let s = c.samples.clone();
    move |pos, buf| {
        let n = (total.saturating_sub(pos) as usize).min(buf.len());
        for (i, o) in buf[..n].iter_mut().enumerate() {
            *o = s[((pos + i as u64) % s.len() as u64) as usize]
                + rng.complex_gaussian(dither_power);
        }
        if let Some((start, sy)) = jam.as_mut() {
            let end = (JAM_STOP_S * c.fs).round() as u64;
            let (a, b) = (pos.max(*start), (pos + n as u64).min(end));
            if b > a {
                let comp = sy.render_components((b - a) as usize);
                for (i, x) in comp.jammers[0].iter().enumerate() {
                    buf[(a - pos) as usize + i] += x;
                }
            }
        }
        n
    }
}

fn describe(b: Option<&ssbguard::features::baseline::Baseline>) -> String {
    match b {
        Some(b) => format!(
            "DMRS SNR {:.1} dB (σ {:.2}), null REs {:.1} dBFS (σ {:.2}), EPNRE {:.1} dB (σ {:.2})",
            b.snr_db,
            b.snr_sigma_db,
            b.null_dbfs.unwrap_or(f32::NAN),
            b.null_sigma_db.unwrap_or(f32::NAN),
            b.epnre_db,
            b.epnre_sigma_db
        ),
        None => "not calibrated".into(),
    }
}

/// The synthetic cell that stands in for a capture.
struct StandIn {
    /// SNR in the SSB band, dB.
    snr_db: f64,
    /// Noise over the whole band, dBFS.
    noise_dbfs: f64,
    /// SSB period, ms.
    period_ms: u32,
    /// Transmitter EVM matching the capture's DMRS SNR ceiling, dB.
    evm_db: Option<f64>,
}

fn stand_in_scenario(
    c: &Capture,
    cell: &StandIn,
    duration_s: f64,
    jammer: Option<(JammerKind, f64, (f64, f64))>,
    traffic: f64,
    seed: u64,
) -> Scenario {
    let case = match c.scs {
        Scs::Khz15 => "A",
        Scs::Khz30 => "C",
    };
    let l_max = if c.center_hz < 3e9 { 4 } else { 8 };
    let b_ssb = 240.0 * c.scs.hz();
    let evm = cell
        .evm_db
        .map_or(String::new(), |e| format!("evm_db = {e}"));
    let mut text = format!(
        r#"
        duration_s = {duration_s}
        sample_rate_hz = {fs}
        center_freq_hz = {center}
        seed = {seed}
        noise_power_dbfs = {noise_dbfs}
        [[gnb]]
        pci = {pci}
        scs_khz = {scs}
        case = "{case}"
        l_max = {l_max}
        periodicity_ms = {period_ms}
        ssb_offset_hz = {off}
        snr_db = {snr_db}
        traffic_load = {traffic}
        {evm}
        "#,
        fs = c.fs,
        center = c.center_hz,
        pci = c.pci,
        scs = c.scs.khz(),
        off = c.offset_hz,
        noise_dbfs = cell.noise_dbfs,
        period_ms = cell.period_ms,
        snr_db = cell.snr_db,
    );
    if let Some((kind, jnr_db, (a, b))) = jammer {
        let extra = match kind {
            JammerKind::PartialBand => format!(
                "bandwidth_hz = {}\noffset_hz = {}",
                0.6 * b_ssb,
                0.1 * b_ssb
            ),
            JammerKind::Tone => format!("offset_hz = {}", 0.17 * b_ssb),
            JammerKind::Comb => format!("tones = 7\nbandwidth_hz = {}", 0.8 * b_ssb),
            JammerKind::Chirp => format!("bandwidth_hz = {}\nperiod_ms = 0.2", 2.0 * b_ssb),
            _ => String::new(),
        };
        text += &format!(
            "[[jammer]]\ntype = \"{}\"\njnr_db = {jnr_db}\nepisodes = [{{ start_s = {a}, stop_s = {b} }}]\n{extra}\n",
            kind.name()
        );
    }
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Fraction-free label: does `truth` (rendered from `offset`) emit into the band in the
/// window?
fn emits(truth: &JammerTruth, offset: u64, start: u64, len: u64) -> bool {
    (start..start + len)
        .step_by(2)
        .any(|n| n >= offset && truth.emits_in_band(n - offset))
}

#[derive(Default)]
struct Tally {
    det: usize,
    n: usize,
    episodes: usize,
    alerted: usize,
}

impl Tally {
    fn add(&mut self, o: &Outcome) {
        let (d, n) = o.pd();
        self.det += d;
        self.n += n;
        self.episodes += 1;
        self.alerted += o.alerted() as usize;
    }
    fn pd(&self) -> f64 {
        self.det as f64 / self.n.max(1) as f64
    }
}

fn load_captures() -> Option<(Vec<Capture>, Vec<String>)> {
    let (dir, man) = manifest()?;
    let mut caps = Vec::new();
    let mut without_ssb = Vec::new();
    for m in man {
        let name = m["name"].as_str().expect("name").to_string();
        let (samples, fs, center) = read_all(&dir.join(&name));
        let Some(off) = m["ssb_offset_hz"].as_f64() else {
            without_ssb.push(name);
            continue;
        };
        caps.push(Capture {
            fs,
            center_hz: center.or(m["center_freq_hz"].as_f64()).expect("centre"),
            offset_hz: off,
            scs: Scs::from_khz(m["scs_khz"].as_u64().expect("scs") as u32).expect("scs"),
            pci: m["pci"].as_u64().expect("pci") as u16,
            samples,
            name,
        });
    }
    Some((caps, without_ssb))
}

#[test]
fn real_captures_with_synthetic_jammers_are_detected_like_synthetic_cells() {
    let Some((caps, _)) = load_captures() else {
        return;
    };
    let mut failures = Vec::new();
    let mut jammed_any = false;
    for (ci, c) in caps.iter().enumerate() {
        let Some(pw) = measure(c) else {
            failures.push(format!(
                "{}: the receiver decoded no SSB to measure",
                c.name
            ));
            continue;
        };
        let p_noise = pw.p_noise * (1.0 + lin(DITHER_DB));
        let snr_db = db(pw.p_ssb / p_noise);
        let b_ssb = 240.0 * c.scs.hz();
        // Noise over the whole sampled band with this in-band power (white).
        let noise_dbfs = db(p_noise * c.fs / b_ssb);
        let dither = pw.p_noise * lin(DITHER_DB) * c.fs / b_ssb;
        let loop_ms = (c.samples.len() as f64 / c.fs * 1e3).round() as u32;
        let period_ms = [5u32, 10, 20]
            .into_iter()
            .find(|p| p % loop_ms.max(1) == 0)
            .unwrap_or(20);
        eprintln!(
            "{}: {} samples ({loop_ms} ms loop, SSB every {period_ms} ms tracked), SNR {snr_db:.1} dB in the SSB band (dither included), noise {noise_dbfs:.1} dBFS",
            c.name,
            c.samples.len()
        );
        // Clean loop: no alert, Pfa ≤ 1 %.
        let clean = run_detectors(c.fs, c, looped(c, dither, 1, None), &|_, _| false);
        for (k, o) in DETECTORS.iter().zip(&clean) {
            let (fa, n) = o.false_alarms();
            eprintln!(
                "  clean loop, {k}: {fa} of {n} SSBs judged jammed, alerts at {:?}; baseline {}",
                o.raised_s,
                describe(o.baseline.as_ref())
            );
            if n < 20 {
                failures.push(format!("{} clean, {k}: only {n} SSB decisions", c.name));
            }
            if !o.raised_s.is_empty() {
                failures.push(format!(
                    "{} clean, {k}: alert raised at {:?}",
                    c.name, o.raised_s
                ));
            }
            let p = binomial_tail(n, fa, PFA_GOAL);
            if p < SIGNIFICANCE {
                failures.push(format!(
                    "{} clean, {k}: {fa} false alarms in {n} SSBs: P = {p:.1e} under Pfa = 1 %",
                    c.name
                ));
            }
        }
        // The capture's transmitter/receiver EVM, from its DMRS SNR ceiling: the decoder
        // sees 1/SNR_dmrs = 1/SNR_res + EVM², with SNR_res the RE-level SNR (the SSB's mean
        // over all 960 REs is 207.5/240 of its modulated REs': 0.63 dB).
        let evm_db = clean[0].baseline.as_ref().and_then(|b| {
            let e2 = 1.0 / lin(b.snr_db as f64) - 1.0 / lin(snr_db + 0.63);
            (e2 > 0.0).then(|| db(e2).clamp(-80.0, -10.0))
        });
        eprintln!(
            "  transmitter EVM from the DMRS SNR ceiling: {}",
            evm_db.map_or("none measurable".into(), |e| format!("{e:.1} dB"))
        );
        let cell = StandIn {
            snr_db,
            noise_dbfs,
            period_ms,
            evm_db,
        };
        let sjnrs: Vec<f64> = SJNRS_DB
            .into_iter()
            .filter(|s| snr_db - s >= db(1.0 + lin(MIN_JNR_DB)))
            .collect();
        if sjnrs.is_empty() {
            eprintln!(
                "  {}: SNR {snr_db:.1} dB < 18 dB leaves no SJNR ≥ 15 dB with JNR ≥ 0 dB: not jammed in the goal's regime",
                c.name
            );
            continue;
        }
        jammed_any = true;
        let mut real = [Tally::default(), Tally::default()];
        let mut syn = [Tally::default(), Tally::default()];
        for (ki, kind) in KINDS.iter().enumerate() {
            let sjnr = sjnrs[ki % sjnrs.len()];
            let jnr_db = db(pw.p_ssb / lin(sjnr) / p_noise - 1.0);
            let seed = 100 + 10 * ci as u64 + ki as u64;
            let ep_len = JAM_STOP_S - JAM_START_S;
            // The jammer alone, rendered for the episode, added to the loop.
            let scn = stand_in_scenario(
                c,
                &cell,
                ep_len,
                Some((*kind, jnr_db, (0.0, ep_len))),
                0.0,
                seed,
            );
            let synth = Synth::new(&scn).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let truth = synth.jammer_truth()[0].clone();
            // Realised power in the SSB band.
            let mut probe = Synth::new(&scn).expect("synth");
            let n_probe = (0.01 * c.fs) as usize;
            let jb = band_pass(
                &probe.render_components(n_probe).jammers[0],
                c.fs,
                c.offset_hz - b_ssb / 2.0,
                c.offset_hz + b_ssb / 2.0,
            );
            let p_j = mean_power(&jb);
            let got = db(pw.p_ssb / (p_j + p_noise));
            assert!(
                (got - sjnr).abs() < 0.5,
                "{} {}: realised SJNR {got:.2} dB, wanted {sjnr}",
                c.name,
                kind.name()
            );
            let start = (JAM_START_S * c.fs).round() as u64;
            let lab = |a: u64, n: u64| emits(&truth, start, a, n);
            let outs = run_detectors(c.fs, c, looped(c, dither, seed, Some((start, synth))), &lab);
            // The same jammer on a synthetic cell like this one.
            let scn_s = stand_in_scenario(
                c,
                &cell,
                TOTAL_S,
                Some((*kind, jnr_db, (JAM_START_S, JAM_STOP_S))),
                0.5,
                seed,
            );
            let mut s2 = Synth::new(&scn_s).expect("synthetic cell");
            let truth2 = s2.jammer_truth()[0].clone();
            let lab2 = |a: u64, n: u64| emits(&truth2, 0, a, n);
            let outs_s = run_detectors(c.fs, c, move |_, buf| s2.render(buf), &lab2);
            if ki == 0 {
                eprintln!(
                    "  synthetic stand-in cell: baseline {}",
                    describe(outs_s[0].baseline.as_ref())
                );
            }
            for (d, k) in DETECTORS.iter().enumerate() {
                real[d].add(&outs[d]);
                syn[d].add(&outs_s[d]);
                let ((a, n), (a2, n2)) = (outs[d].pd(), outs_s[d].pd());
                eprintln!(
                    "  {:>12} SJNR {sjnr:4.1} (measured {got:.2}) JNR {jnr_db:5.1}, {k:>7}: real {a}/{n} alert {}, synthetic {a2}/{n2} alert {}",
                    kind.name(),
                    outs[d].alerted(),
                    outs_s[d].alerted()
                );
            }
        }
        for (d, k) in DETECTORS.iter().enumerate() {
            let (r, s) = (&real[d], &syn[d]);
            let p = (r.det + s.det) as f64 / (r.n + s.n).max(1) as f64;
            let se = (p * (1.0 - p) * (1.0 / r.n.max(1) as f64 + 1.0 / s.n.max(1) as f64)).sqrt();
            eprintln!(
                "  {} {k}: Pd real {:.3} (n={}), synthetic {:.3} (n={}); episodes alerted real {}/{}, synthetic {}/{}",
                c.name,
                r.pd(),
                r.n,
                s.pd(),
                s.n,
                r.alerted,
                r.episodes,
                s.alerted,
                s.episodes
            );
            let short = r.pd() < s.pd() - TOLERANCE - 3.0 * se;
            let msg = format!(
                "{} {k}: Pd {:.3} on the real capture vs {:.3} on a synthetic cell (allowed {:.3} below)",
                c.name,
                r.pd(),
                s.pd(),
                TOLERANCE + 3.0 * se
            );
            if r.n < 50 {
                failures.push(format!("{} {k}: only {} jammed SSBs", c.name, r.n));
            }
            if short {
                failures.push(msg);
            }
        }
    }
    assert!(
        jammed_any || !failures.is_empty(),
        "no capture had the SNR to be jammed at SJNR ≥ 15 dB with JNR ≥ 0 dB"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn binomial_tail_matches_hand_values() {
    assert!((binomial_tail(120, 0, 0.01) - 1.0).abs() < 1e-12);
    assert!((binomial_tail(120, 1, 0.01) - (1.0 - 0.99f64.powi(120))).abs() < 1e-12);
    // P(X ≥ 2) ≈ 0.338 and P(X ≥ 7) ≈ 2.2e-4 for n = 120, p = 1 %.
    assert!((binomial_tail(120, 2, 0.01) - 0.3377).abs() < 1e-3);
    assert!(binomial_tail(120, 7, 0.01) < SIGNIFICANCE);
    assert!(binomial_tail(120, 6, 0.01) > SIGNIFICANCE);
}

#[test]
fn looped_capture_without_an_ssb_gives_no_cell_and_no_alert() {
    let Some((dir, man)) = manifest() else {
        return;
    };
    let mut checked = 0;
    for m in man.iter().filter(|m| m["ssb_offset_hz"].is_null()) {
        let name = m["name"].as_str().expect("name");
        let (samples, fs, center) = read_all(&dir.join(name));
        let scs = Scs::from_khz(m["scs_khz"].as_u64().expect("scs") as u32);
        let mut p = Pipeline::new(PipelineConfig {
            sample_rate_hz: fs,
            center_freq_hz: center.or(m["center_freq_hz"].as_f64()),
            ssb: SsbLocation::Raster { scs },
            detector: DetectorKind::Classic,
            alert: ssbguard::detect::alert::AlertConfig::default(),
            emit_features: false,
        })
        .expect("pipeline");
        let total = (TOTAL_S * fs) as u64;
        let mut ev = Vec::new();
        let mut pos = 0u64;
        let mut rng = Rng::new(5);
        let p_cap = mean_power(&samples);
        let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 16];
        while pos < total {
            let n = ((total - pos) as usize).min(buf.len());
            for (i, o) in buf[..n].iter_mut().enumerate() {
                *o = samples[((pos + i as u64) % samples.len() as u64) as usize]
                    + rng.complex_gaussian(p_cap * lin(-30.0));
            }
            p.push(pos, &buf[..n], &mut ev);
            pos += n as u64;
        }
        p.finish(&mut ev);
        let cells = ev.iter().filter(|e| matches!(e, Event::Cell(_))).count();
        let alerts = ev.iter().filter(|e| matches!(e, Event::Alert(_))).count();
        let jammed = ev
            .iter()
            .filter(|e| matches!(e, Event::Decision(d) if d.jammed))
            .count();
        eprintln!("{name}: {cells} cell events, {alerts} alerts, {jammed} jammed decisions");
        assert_eq!((cells, alerts, jammed), (0, 0, 0), "{name}");
        checked += 1;
    }
    if checked == 0 {
        eprintln!("SKIPPED: no capture without an SSB in the manifest");
    }
}
