//! One random scenario per seed: the population the models are trained and judged on.
//!
//! Everything is drawn from [`Rng`] streams of the seed, so a seed always gives the same
//! scenario (and, through [`crate::synth::Synth`], the same samples). The population:
//!
//! - **class**: clean 12 %, co-channel neighbour gNB 9 %, LTE carrier 9 %, otherwise one of
//!   the eight jammer kinds (uniform); a jammed scenario also carries a benign
//!   interferer 20 % of the time;
//! - **cell**: 15 kHz (case A, 7.68/11.52/15.36 Msps) or 30 kHz (case B or C,
//!   15.36/23.04/30.72 Msps), L_max 4 or 8, all or some of the SSB indices sent, SSB
//!   period 10/20/40 ms ([`burst_pattern`]), SSB anywhere in the band, CFO within ±10 kHz,
//!   clock error within ±1 ppm, traffic load 0–100 %, TDL fading (delay spread 30–300 ns,
//!   Doppler 0–300 Hz) half of the time, receiver noise floor −70…−45 dBFS (gain),
//!   transmitter EVM −40…−20 dB (a real gNB and receiver front end: the SNR a decoder
//!   measures on the DMRS saturates near −EVM even when the noise floor is far lower, as on
//!   the real captures; a neighbour gNB shares the serving cell's);
//! - **powers, by physics** ([`draw_powers`]): a jammed scenario draws its SJNR uniform in
//!   −5…35 dB (every SJNR bin equally populated) and, independently, its JNR (the jammer's
//!   in-band power over the receiver noise in the SSB band) uniform in −5…25 dB, so jammers
//!   below the noise floor stay in the set; the cell's SNR follows,
//!   SNR = SJNR + 10·log10(1 + 10^(JNR/10)). SNR must stay within 5…50 dB (a cell the
//!   receiver can acquire, a realistic ceiling): the JNR is drawn uniformly from the part of
//!   −5…25 dB that keeps it there (rejection sampling of the JNR given the SJNR, done in
//!   closed form), so low SJNRs come with strong jammers (SJNR −5 dB needs JNR ≥ 9.5 dB) and
//!   SJNR 35 dB with JNR ≤ 14.9 dB. **Benign scenarios draw their SNR from the same
//!   marginal** (an SJNR and a JNR drawn the same way, only the implied SNR kept), so the
//!   SNR alone tells nothing about the label;
//! - **jammer**: one episode starting 90–140 ms in, or later when a slow SSB pattern keeps
//!   the site baseline calibrating longer (it starts 10–50 ms after), and lasting
//!   100–180 ms; waveform parameters (tone position, comb size, pulse period
//!   and duty, sweep period, partial-band width and offset, spoofer periodicity) drawn per
//!   seed.

use serde::Serialize;

use crate::nr::{Scs, SsbCase};
use crate::pipeline::CALIBRATION_SSBS;
use crate::rng::Rng;
use crate::synth::{
    ChannelConfig, Episode, GnbConfig, GnbRole, InterfererConfig, InterfererKind, JammerConfig,
    JammerKind, Scenario,
};

/// Length of a generated scenario, s (longer when a slow SSB pattern delays the jammer:
/// [`burst_pattern`]).
pub const DURATION_S: f64 = 0.32;

/// Longest time the site baseline may take to calibrate in a scenario, s: patterns slower
/// than this (one SSB every 40 ms) are not drawn.
const MAX_CALIBRATION_S: f64 = 0.32;

/// The serving cell's transmitted SSB indices (a bitmap) and SSB period, ms. Real cells
/// send fewer beams than L_max (one SSB is common on small cells) and use periods other
/// than the 20 ms initial-access default: all L_max indices 70 % of the time, else a random
/// non-empty subset; a period of 10, 20 or 40 ms (20 ms half of the time), as long as the
/// baseline calibrates within [`MAX_CALIBRATION_S`] ([`CALIBRATION_SSBS`] SSBs). Not 5 ms:
/// a first draw that had it gave those scenarios 4 × the SSBs of a 20 ms cell, half the
/// validation rows came from 15 % of its scenarios, and one LTE scenario's false alarms
/// set the decision threshold. Nothing in the features may depend
/// on the pattern (a band power that did made clean 40 ms cells look jammed).
fn burst_pattern(rng: &mut Rng, l_max: u8) -> (u8, u32) {
    let all = ((1u16 << l_max) - 1) as u8;
    let positions = if rng.uniform() < 0.7 {
        all
    } else {
        loop {
            let p = rng.below(u64::from(all) + 1) as u8;
            if p != 0 {
                break p;
            }
        }
    };
    let n = positions.count_ones();
    loop {
        let period = pick(rng, &[10u32, 20, 20, 40]);
        if f64::from(period) * 1e-3 * CALIBRATION_SSBS.div_ceil(n as usize) as f64
            <= MAX_CALIBRATION_S
        {
            return (positions, period);
        }
    }
}

/// What a scenario contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioClass {
    /// The serving cell and noise only.
    Clean,
    /// Plus a co-channel neighbour gNB (benign).
    Neighbour,
    /// Plus an LTE carrier overlapping the SSB band (benign).
    Lte,
    /// Plus a jammer.
    Jammed(JammerKind),
}

impl ScenarioClass {
    /// Code stored in the dataset: 0 clean, 1 neighbour, 2 LTE, 3 + k for
    /// `JammerKind::ALL[k]`.
    pub fn code(self) -> i8 {
        match self {
            ScenarioClass::Clean => 0,
            ScenarioClass::Neighbour => 1,
            ScenarioClass::Lte => 2,
            ScenarioClass::Jammed(k) => 3 + kind_index(k) as i8,
        }
    }

    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            ScenarioClass::Clean => "clean",
            ScenarioClass::Neighbour => "neighbour_gnb",
            ScenarioClass::Lte => "lte",
            ScenarioClass::Jammed(k) => k.name(),
        }
    }
}

/// Index of a kind in [`JammerKind::ALL`].
pub fn kind_index(k: JammerKind) -> usize {
    JammerKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

/// The knobs drawn for a seed (written to the dataset's metadata).
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioMeta {
    /// Seed.
    pub seed: u64,
    /// Class.
    pub class: ScenarioClass,
    /// Class code (see [`ScenarioClass::code`]).
    pub class_code: i8,
    /// Jammer SJNR, dB (NaN without a jammer).
    pub sjnr_db: f64,
    /// Jammer JNR, dB (NaN without a jammer; as drawn, then replaced by the synth's ground
    /// truth when the scenario is rendered, which agrees to rounding).
    pub jnr_db: f64,
    /// Serving-cell SNR, dB.
    pub snr_db: f64,
    /// Transmitter EVM of the gNBs, dB.
    pub evm_db: f64,
    /// SCS, kHz.
    pub scs_khz: u32,
    /// Sample rate.
    pub sample_rate_hz: f64,
    /// SSB centre minus recording centre.
    pub ssb_offset_hz: f64,
    /// CFO.
    pub cfo_hz: f64,
    /// TDL fading on?
    pub fading: bool,
    /// Traffic load 0..1.
    pub traffic_load: f64,
    /// The serving cell's SSB period, ms.
    pub periodicity_ms: u32,
    /// The serving cell's SSBs per burst (transmitted indices).
    pub ssbs_per_burst: u32,
    /// A benign interferer alongside the jammer (or as the class)?
    pub benign_interferer: bool,
    /// The benign interferer's power spectral density over the receiver noise where it
    /// overlaps the SSB, dB: a neighbour gNB's SNR, an LTE carrier's INR (`None` without).
    /// A jammer below it adds little to what the null REs already hold.
    pub interferer_inr_db: Option<f64>,
    /// Jammer episode [start, stop), s (empty without a jammer).
    pub episode_s: Option<(f64, f64)>,
}

/// SJNR range of jammed scenarios, dB.
pub const SJNR_RANGE_DB: (f64, f64) = (-5.0, 35.0);
/// JNR range of jammed scenarios before the SNR limits, dB.
pub const JNR_RANGE_DB: (f64, f64) = (-5.0, 25.0);
/// Transmitter EVM of the gNBs, dB (uniform).
pub const EVM_RANGE_DB: (f64, f64) = (-40.0, -20.0);
/// Serving-cell SNR limits, dB (acquirable cell, realistic ceiling).
pub const SNR_RANGE_DB: (f64, f64) = (5.0, 50.0);

/// Power ratios of one scenario, dB.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Powers {
    /// SJNR = P_SSB / (P_jammer + P_noise).
    pub sjnr_db: f64,
    /// JNR = P_jammer / P_noise.
    pub jnr_db: f64,
    /// SNR = P_SSB / P_noise = SJNR + 10·log10(1 + 10^(JNR/10)).
    pub snr_db: f64,
}

/// SNR of a cell seen at `sjnr_db` under a jammer at `jnr_db`.
pub fn snr_for(sjnr_db: f64, jnr_db: f64) -> f64 {
    sjnr_db + crate::dsp::db_one_plus(jnr_db)
}

/// The JNR that gives SNR − SJNR = `gap_db` (−∞ for a gap ≤ 0).
fn jnr_for_gap(gap_db: f64) -> f64 {
    if gap_db <= 0.0 {
        f64::NEG_INFINITY
    } else {
        10.0 * (10f64.powf(gap_db / 10.0) - 1.0).log10()
    }
}

/// Draws SJNR uniform in [`SJNR_RANGE_DB`], then JNR uniform in the part of
/// [`JNR_RANGE_DB`] that keeps the SNR inside [`SNR_RANGE_DB`] (the SNR grows with the JNR,
/// so that part is one interval), and derives the SNR. See the module doc.
pub fn draw_powers(rng: &mut Rng) -> Powers {
    let sjnr_db = rng.range(SJNR_RANGE_DB.0, SJNR_RANGE_DB.1);
    let lo = JNR_RANGE_DB.0.max(jnr_for_gap(SNR_RANGE_DB.0 - sjnr_db));
    let hi = JNR_RANGE_DB.1.min(jnr_for_gap(SNR_RANGE_DB.1 - sjnr_db));
    let jnr_db = rng.range(lo, hi);
    Powers {
        sjnr_db,
        jnr_db,
        snr_db: snr_for(sjnr_db, jnr_db),
    }
}

fn pick<T: Copy>(rng: &mut Rng, v: &[T]) -> T {
    v[rng.below(v.len() as u64) as usize]
}

fn neighbour(rng: &mut Rng, serving: &GnbConfig) -> GnbConfig {
    let mut pci = rng.below(1008) as u16;
    if pci == serving.pci {
        pci = (pci + 1) % 1008;
    }
    let snr = (serving.snr_db - rng.range(3.0, 20.0)).max(-5.0);
    GnbConfig {
        pci,
        snr_db: snr,
        traffic_load: rng.range(0.0, 1.0),
        cfo_hz: rng.range(-10e3, 10e3),
        frame_offset_s: Some(-rng.range(0.0, serving.periodicity_ms as f64 * 1e-3)),
        channel: ChannelConfig::Awgn,
        role: GnbRole::Neighbour,
        positions_in_burst: None,
        clock_ppm: rng.range(-1.0, 1.0),
        ..serving.clone()
    }
}

fn lte(rng: &mut Rng, scs: Scs, fs: f64) -> InterfererConfig {
    // The carrier must fit the 15 kHz FFT at this rate (the synth refuses one that does not;
    // 85 % keeps it clear of the band edges).
    let fits: Vec<u32> = [6u32, 15, 25, 50]
        .into_iter()
        .filter(|rb| (*rb * 12) as f64 <= 0.85 * fs / 15e3)
        .collect();
    let lte_rb = pick(rng, &fits);
    let ssb_half = 120.0 * scs.hz();
    let lte_half = lte_rb as f64 * 90e3;
    InterfererConfig {
        kind: InterfererKind::Lte,
        inr_db: rng.range(0.0, 15.0),
        // Overlapping the SSB band somewhere.
        offset_hz: rng.range(-0.9, 0.9) * (ssb_half + lte_half),
        lte_rb: Some(lte_rb),
        load: Some(rng.range(0.2, 1.0)),
        reference_pci: None,
        episodes: Vec::new(),
    }
}

fn tdl(rng: &mut Rng) -> ChannelConfig {
    let ds = rng.range(30.0, 300.0);
    let base = [0.0, 0.38, 0.6, 1.0, 1.4, 2.2, 3.0];
    let pw = [0.0, -2.0, -4.0, -6.0, -9.0, -13.0, -18.0];
    ChannelConfig::Tdl {
        delays_ns: base.iter().map(|d| d * ds).collect(),
        powers_db: pw.to_vec(),
        doppler_hz: rng.range(0.0, 300.0),
    }
}

fn jammer(
    rng: &mut Rng,
    kind: JammerKind,
    sjnr_db: f64,
    scs: Scs,
    fs: f64,
    ep: Episode,
) -> JammerConfig {
    let b_ssb = 240.0 * scs.hz();
    let mut j = JammerConfig {
        kind,
        sjnr_db: Some(sjnr_db),
        jnr_db: None,
        reference_pci: None,
        episodes: vec![ep],
        offset_hz: None,
        bandwidth_hz: None,
        tones: None,
        period_ms: None,
        duty: None,
        n_id2: None,
        spoof_periodicity_ms: None,
    };
    match kind {
        JammerKind::Barrage => {}
        JammerKind::PartialBand => {
            let bw = rng.range(0.3, 1.5) * b_ssb;
            j.bandwidth_hz = Some(bw);
            j.offset_hz = Some(rng.range(-0.3, 0.3) * b_ssb);
        }
        JammerKind::Tone => j.offset_hz = Some(rng.range(-0.45, 0.45) * b_ssb),
        JammerKind::Comb => {
            j.tones = Some(rng.below(15) as u32 + 2);
            j.bandwidth_hz = Some(rng.range(0.5, 1.0) * b_ssb);
        }
        JammerKind::Pulsed => {
            j.period_ms = Some(rng.range(0.5, 5.0));
            j.duty = Some(rng.range(0.1, 0.5));
        }
        JammerKind::Chirp => {
            j.period_ms = Some(rng.range(0.05, 1.0));
            j.bandwidth_hz = Some((rng.range(1.0, 3.0) * b_ssb).min(0.9 * fs));
        }
        JammerKind::PssSpoofer => j.spoof_periodicity_ms = Some(pick(rng, &[5u32, 10, 20])),
        JammerKind::Reactive => {}
    }
    j
}

/// The scenario of `seed` and its knobs.
pub fn scenario_for_seed(seed: u64) -> (Scenario, ScenarioMeta) {
    let mut rng = Rng::derive(seed, 0x5eed_da7a);
    let u = rng.uniform();
    let class = if u < 0.12 {
        ScenarioClass::Clean
    } else if u < 0.21 {
        ScenarioClass::Neighbour
    } else if u < 0.30 {
        ScenarioClass::Lte
    } else {
        ScenarioClass::Jammed(pick(&mut rng, &JammerKind::ALL))
    };
    let scs = if rng.uniform() < 0.5 {
        Scs::Khz15
    } else {
        Scs::Khz30
    };
    let (fs, case) = match scs {
        Scs::Khz15 => (pick(&mut rng, &[7.68e6, 11.52e6, 15.36e6]), SsbCase::A),
        Scs::Khz30 => (
            pick(&mut rng, &[15.36e6, 23.04e6, 30.72e6]),
            pick(&mut rng, &[SsbCase::B, SsbCase::C]),
        ),
    };
    let l_max = pick(&mut rng, &[4u8, 8]);
    let (positions_in_burst, periodicity_ms) = burst_pattern(&mut rng, l_max);
    let ssb_half = 120.0 * scs.hz();
    let max_off = (0.42 * fs - ssb_half).max(0.0);
    // On the 15 kHz grid, like real SSB placements relative to a tuned centre.
    let ssb_offset_hz = (rng.range(-max_off, max_off) / 15e3).round() * 15e3;
    let p = draw_powers(&mut rng);
    let (sjnr_db, jnr_db, snr_db) = match class {
        ScenarioClass::Jammed(_) => (p.sjnr_db, p.jnr_db, p.snr_db),
        _ => (f64::NAN, f64::NAN, p.snr_db),
    };
    let fading = rng.uniform() < 0.5;
    let traffic_load = rng.uniform();
    let evm_db = rng.range(EVM_RANGE_DB.0, EVM_RANGE_DB.1);
    let serving = GnbConfig {
        pci: rng.below(1008) as u16,
        scs_khz: scs.khz(),
        case: Some(case),
        l_max,
        periodicity_ms,
        positions_in_burst: Some(positions_in_burst),
        ssb_offset_hz,
        snr_db,
        traffic_load,
        carrier_rb: None,
        ssb_rb_offset: None,
        frame_offset_s: None,
        cfo_hz: rng.range(-10e3, 10e3),
        clock_ppm: rng.range(-1.0, 1.0),
        channel: if fading {
            tdl(&mut rng)
        } else {
            ChannelConfig::Awgn
        },
        role: GnbRole::Serving,
        evm_db: Some(evm_db),
    };
    let noise_power_dbfs = rng.range(-70.0, -45.0);
    let mut gnbs = vec![serving.clone()];
    let mut interferers = Vec::new();
    let mut jammers = Vec::new();
    let mut benign = false;
    let mut add_benign = |rng: &mut Rng, neighbour_gnb: bool| {
        if neighbour_gnb {
            gnbs.push(neighbour(rng, &serving));
        } else {
            interferers.push(lte(rng, scs, fs));
        }
    };
    let mut episode_s = None;
    let mut duration_s = DURATION_S;
    match class {
        ScenarioClass::Clean => {}
        ScenarioClass::Neighbour => {
            add_benign(&mut rng, true);
            benign = true;
        }
        ScenarioClass::Lte => {
            add_benign(&mut rng, false);
            benign = true;
        }
        ScenarioClass::Jammed(kind) => {
            // After the site baseline has calibrated: one period to find the cell, then
            // CALIBRATION_SSBS of its SSBs.
            let n_ssb = positions_in_burst.count_ones();
            let calibrated = f64::from(periodicity_ms)
                * 1e-3
                * (1 + CALIBRATION_SSBS.div_ceil(n_ssb as usize)) as f64;
            let start = rng
                .range(0.09, 0.14)
                .max(calibrated + rng.range(0.01, 0.05));
            let stop = start + rng.range(0.10, 0.18);
            duration_s = DURATION_S.max(stop);
            episode_s = Some((start, stop));
            let ep = Episode {
                start_s: start,
                stop_s: stop,
            };
            jammers.push(jammer(&mut rng, kind, sjnr_db, scs, fs, ep));
            if rng.uniform() < 0.2 {
                let nb = rng.uniform() < 0.5;
                add_benign(&mut rng, nb);
                benign = true;
            }
        }
    }
    let interferer_inr_db = match (gnbs.get(1), interferers.first()) {
        (Some(g), _) => Some(g.snr_db),
        (None, Some(i)) => Some(i.inr_db),
        (None, None) => None,
    };
    let scn = Scenario {
        description: format!("ssbguard dataset seed {seed}: {}", class.name()),
        duration_s,
        sample_rate_hz: fs,
        center_freq_hz: 3.5e9,
        datatype: "cf32_le".into(),
        seed,
        noise_power_dbfs,
        gnbs,
        jammers,
        interferers,
    };
    let meta = ScenarioMeta {
        seed,
        class,
        class_code: class.code(),
        sjnr_db,
        jnr_db,
        snr_db,
        evm_db,
        scs_khz: scs.khz(),
        sample_rate_hz: fs,
        ssb_offset_hz,
        cfo_hz: serving.cfo_hz,
        fading,
        traffic_load,
        periodicity_ms,
        ssbs_per_burst: positions_in_burst.count_ones(),
        benign_interferer: benign,
        interferer_inr_db,
        episode_s,
    };
    (scn, meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_gives_a_valid_scenario_and_is_reproducible() {
        let mut classes = std::collections::HashSet::new();
        // A range of small seeds and every seed of the shipped splits.
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/splits.toml");
        let sp = crate::dataset::Splits::load(&p).expect("models/splits.toml");
        let mut seeds: Vec<u64> = (0..200).collect();
        for s in crate::dataset::Split::ALL {
            seeds.extend(sp.seeds(s));
        }
        for seed in seeds {
            let (s, m) = scenario_for_seed(seed);
            s.validate()
                .unwrap_or_else(|e| panic!("seed {seed} ({:?}): {e}", m.class));
            let syn = crate::synth::Synth::new(&s).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            classes.insert(m.class_code);
            let (s2, _) = scenario_for_seed(seed);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                serde_json::to_string(&s2).unwrap()
            );
            let snr = s.gnbs[0].snr_db;
            assert!((4.999..=50.001).contains(&snr), "seed {seed}: SNR {snr}");
            if let Some(j) = s.jammers.first() {
                assert!(j.sjnr_db.unwrap() < snr);
                // The synth realises the drawn JNR.
                let t = &syn.jammer_truth()[0];
                assert!((t.jnr_db - m.jnr_db).abs() < 1e-6, "seed {seed}");
                assert!((t.sjnr_db - m.sjnr_db).abs() < 1e-6, "seed {seed}");
            } else {
                assert!(m.jnr_db.is_nan() && m.sjnr_db.is_nan());
            }
        }
        // Clean, both benign kinds and all eight jammer kinds appear.
        assert_eq!(classes.len(), 11, "{classes:?}");
    }

    #[test]
    fn powers_are_drawn_by_physics_within_their_limits() {
        let mut rng = Rng::new(42);
        let mut sub_noise = 0;
        let mut by_sjnr = [0usize; 8];
        let n = 20_000;
        for _ in 0..n {
            let p = draw_powers(&mut rng);
            assert!(
                (SJNR_RANGE_DB.0..SJNR_RANGE_DB.1).contains(&p.sjnr_db),
                "{p:?}"
            );
            assert!(
                (JNR_RANGE_DB.0..=JNR_RANGE_DB.1).contains(&p.jnr_db),
                "{p:?}"
            );
            assert!((4.999..=50.001).contains(&p.snr_db), "{p:?}");
            // SNR = SJNR + 10·log10(1 + JNR), i.e. P_SSB/P_n = P_SSB/(P_j + P_n) · (P_j + P_n)/P_n.
            let lin = |d: f64| 10f64.powf(d / 10.0);
            let sjnr = lin(p.snr_db) / (lin(p.jnr_db) + 1.0);
            assert!((10.0 * sjnr.log10() - p.sjnr_db).abs() < 1e-9);
            sub_noise += (p.jnr_db < 0.0) as usize;
            by_sjnr[((p.sjnr_db + 5.0) / 5.0) as usize] += 1;
        }
        // Jammers below the noise floor stay in the set; SJNR bins are equally populated.
        assert!(sub_noise > n / 10, "{sub_noise}");
        for c in by_sjnr {
            assert!(
                (c as f64 - n as f64 / 8.0).abs() < 0.1 * n as f64 / 8.0,
                "{by_sjnr:?}"
            );
        }
        // The limits bind where physics says: SJNR −5 dB on a 5 dB cell needs JNR ≥ 9.5 dB.
        assert!((snr_for(-5.0, jnr_for_gap(10.0)) - 5.0).abs() < 1e-9);
        assert!((jnr_for_gap(10.0) - 9.542).abs() < 1e-3);
    }
}
