//! Scenario generator: gNBs, channels, jammers and benign interferers, with ground truth.
//!
//! [`Synth`] renders a [`Scenario`] block by block in bounded memory; [`write_sigmf`]
//! writes it as SigMF with the annotations of CONTRACTS §3. Every component draws from
//! its own random stream derived from the scenario seed, so the output is bit-exact for a
//! seed and adding a jammer does not change the cell or the noise.
//!
//! Power definitions (all inside the reference cell's SSB band of 240 subcarriers):
//! - `P_noise` = thermal noise power in that band;
//! - `P_SSB` = mean SSB power over its 4 OFDM symbols, CP included;
//! - `P_jammer` = the jammer's in-band power *while it emits*;
//! - SNR = P_SSB / P_noise, JNR = P_jammer / P_noise, SJNR = P_SSB / (P_jammer + P_noise).

pub mod channel;
pub mod gnb;
pub mod jammer;
pub mod lte;
pub mod noise;
pub mod scenario;

use std::path::Path;

use num_complex::Complex32;
use serde_json::json;

use crate::dsp::{db, undb};
use crate::io::{Annotation, IoError, Meta, SigMfWriter};
use crate::nr::{Numerology, Scs};
use crate::rng::Rng;

pub use scenario::{
    ChannelConfig, Episode, GnbConfig, GnbRole, InterfererConfig, InterfererKind, JammerConfig,
    JammerKind, Scenario, ScenarioErrors,
};

use gnb::{GnbParams, GnbSignal, SSB_MEAN_RES_PER_SYMBOL};
use jammer::{Emitter, Gate, SsbSchedule, Wave};
use noise::{BandNoise, WhiteNoise};

/// Text written into every generated file's `core:description`.
pub const POWER_DEFINITIONS: &str = "Powers are measured inside the reference cell's SSB band (240 subcarriers). \
P_SSB: mean SSB power over its 4 OFDM symbols, CP included. P_noise: thermal noise power in that band. \
P_jammer: the jammer's in-band power while it emits (whole episode for continuous jammers, the pulses for pulsed, \
the SSB symbols for reactive, its own SSB symbols for a spoofer). SNR = P_SSB/P_noise, JNR = P_jammer/P_noise, \
SJNR = P_SSB/(P_jammer+P_noise), all in dB. Interferer INR: its power in its own band over the noise in that band.";

/// Errors building a scenario.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The scenario failed validation.
    #[error(transparent)]
    Invalid(#[from] ScenarioErrors),
    /// A jammer has no power inside the SSB band, so an SJNR cannot be met.
    #[error("jammer[{index}] ({kind}) puts no power inside the SSB band; give jnr_db or move it")]
    NoOverlap {
        /// Jammer index.
        index: usize,
        /// Kind.
        kind: &'static str,
    },
    /// Writing the output failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Components rendered separately (for measuring ground truth).
#[derive(Debug, Default)]
pub struct Components {
    /// Thermal noise.
    pub noise: Vec<Complex32>,
    /// One per gNB.
    pub gnbs: Vec<Vec<Complex32>>,
    /// One per jammer.
    pub jammers: Vec<Vec<Complex32>>,
    /// One per interferer.
    pub interferers: Vec<Vec<Complex32>>,
}

/// Facts about a rendered gNB, for annotations and tests.
#[derive(Clone, Debug)]
pub struct CellTruth {
    /// Index in the scenario.
    pub index: usize,
    /// PCI.
    pub pci: u16,
    /// SCS.
    pub scs: Scs,
    /// Absolute SSB centre frequency.
    pub ssb_freq_hz: f64,
    /// SSB offset from the recording centre.
    pub ssb_offset_hz: f64,
    /// CFO.
    pub cfo_hz: f64,
    /// SNR in the SSB band.
    pub snr_db: f64,
    /// P_SSB (linear, full-scale units).
    pub p_ssb: f64,
    /// P_noise in the SSB band.
    pub p_noise: f64,
    /// (SSB index, exact first sample incl. CP) of every SSB in the file.
    pub ssbs: Vec<(u8, f64)>,
    /// SSB length in samples.
    pub ssb_len: usize,
    /// Role.
    pub role: GnbRole,
}

/// Facts about a jammer.
#[derive(Clone, Debug)]
pub struct JammerTruth {
    /// Kind.
    pub kind: JammerKind,
    /// Reference gNB index.
    pub reference: usize,
    /// Target in-band power while on.
    pub p_jammer: f64,
    /// SJNR, dB.
    pub sjnr_db: f64,
    /// JNR, dB.
    pub jnr_db: f64,
    /// Episodes in samples.
    pub episodes: Vec<(u64, u64)>,
    /// Gate (to measure "while it emits").
    pub gate: Gate,
    /// For a spoofer: when its own SSBs are on air (it emits only then).
    pub on_air: Option<SsbSchedule>,
    /// For a chirp: its sweep, which is inside the reference SSB band only part of the time.
    pub sweep: Option<Sweep>,
}

/// A linear sweep and the reference SSB band, both in cycles/sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sweep {
    /// Start frequency.
    pub lo: f64,
    /// Stop frequency.
    pub hi: f64,
    /// Sweep period, samples.
    pub period: u64,
    /// The reference SSB band [lo, hi).
    pub band: (f64, f64),
}

impl Sweep {
    /// Is the instantaneous frequency at sample `n` inside the SSB band? (A frequency
    /// beyond ±fs/2 aliases, as the rendered NCO does.)
    pub fn in_band(&self, n: u64) -> bool {
        let f = self.lo + (self.hi - self.lo) * (n % self.period) as f64 / self.period as f64;
        let f = f - f.round();
        f >= self.band.0 && f < self.band.1
    }
}

impl JammerTruth {
    /// Does the jammer put power into the reference cell's SSB band at sample `n`? On
    /// (episode, pulse, reactive gate), on air (spoofer), and for a chirp, sweeping through
    /// the band.
    pub fn emits_in_band(&self, n: u64) -> bool {
        self.gate.is_on(n)
            && self.on_air.as_ref().is_none_or(|s| s.is_on(n))
            && self.sweep.as_ref().is_none_or(|s| s.in_band(n))
    }
}

/// A scenario being rendered.
pub struct Synth {
    scenario: Scenario,
    total: u64,
    pos: u64,
    noise: WhiteNoise,
    noise_power: f32,
    gnbs: Vec<GnbSignal>,
    jammers: Vec<Emitter>,
    interferers: Vec<Emitter>,
    cells: Vec<CellTruth>,
    jammer_truth: Vec<JammerTruth>,
    scratch: Vec<Complex32>,
    scratch2: Vec<Complex32>,
    scratch3: Vec<Complex32>,
}

fn episodes_samples(eps: &[Episode], fs: f64, total: u64) -> Vec<(u64, u64)> {
    if eps.is_empty() {
        return vec![(0, total)];
    }
    eps.iter()
        .map(|e| {
            let a = (e.start_s * fs).round().max(0.0) as u64;
            let b = ((e.stop_s * fs).round().max(0.0) as u64).min(total);
            (a.min(total), b)
        })
        .filter(|(a, b)| b > a)
        .collect()
}

const STREAM_NOISE: u64 = 1;
const STREAM_GNB: u64 = 100;
const STREAM_GNB_EVM: u64 = 150;
const STREAM_JAMMER: u64 = 1000;
const STREAM_INTERFERER: u64 = 2000;

impl Synth {
    /// Validates and prepares a scenario.
    pub fn new(scn: &Scenario) -> Result<Synth, SynthError> {
        scn.validate()?;
        let fs = scn.sample_rate_hz;
        let total = scn.total_samples();
        let noise_power = undb(scn.noise_power_dbfs);
        let mut gnbs = Vec::new();
        let mut cells = Vec::new();
        for (i, g) in scn.gnbs.iter().enumerate() {
            let scs = g.scs();
            let num = Numerology::new(scs, fs).map_err(|e| ScenarioErrors(vec![e.to_string()]))?;
            let b_ssb = 240.0 * scs.hz();
            let p_noise = noise_power * b_ssb / fs;
            let p_ssb = undb(g.snr_db) * p_noise;
            let amp = (p_ssb * num.n_fft as f64 / SSB_MEAN_RES_PER_SYMBOL).sqrt() as f32;
            let mut rng = Rng::derive(scn.seed, STREAM_GNB + i as u64);
            let period = g.periodicity_ms as f64 * 1e-3 * fs;
            let frame_start = match g.frame_offset_s {
                Some(t) => t * fs,
                None => -rng.uniform() * period,
            };
            let channel = match &g.channel {
                ChannelConfig::Awgn => None,
                ChannelConfig::Tdl {
                    delays_ns,
                    powers_db,
                    doppler_hz,
                } => Some(channel::Tdl::new(
                    delays_ns,
                    powers_db,
                    *doppler_hz,
                    fs,
                    &mut rng,
                )),
            };
            let carrier_rb = g.carrier_rb(fs);
            let sig = GnbSignal::new(GnbParams {
                pci: g.pci,
                num,
                burst: g.burst(),
                amp,
                traffic_load: g.traffic_load,
                carrier_rb,
                ssb_rb_offset: g.ssb_rb_offset.unwrap_or((carrier_rb - 20) / 2),
                frame_start,
                clock: 1.0 + g.clock_ppm * 1e-6,
                shift_hz: g.ssb_offset_hz + g.cfo_hz,
                channel,
                rng,
                evm: (
                    g.evm_db.map_or(0.0, |e| undb(e / 2.0) as f32),
                    Rng::derive(scn.seed, STREAM_GNB_EVM + i as u64),
                ),
            });
            let mut ssbs = Vec::new();
            for h in sig.half_frames_in(0, total as i64) {
                for (idx, t) in sig.ssb_starts(h) {
                    if t >= 0.0 && t < total as f64 {
                        ssbs.push((idx, t));
                    }
                }
            }
            let l0 = g.case().first_symbols(g.l_max).map(|v| v[0]).unwrap_or(2);
            cells.push(CellTruth {
                index: i,
                pci: g.pci,
                scs,
                ssb_freq_hz: scn.center_freq_hz + g.ssb_offset_hz,
                ssb_offset_hz: g.ssb_offset_hz,
                cfo_hz: g.cfo_hz,
                snr_db: g.snr_db,
                p_ssb,
                p_noise,
                ssbs,
                ssb_len: sig.ssb_len(l0),
                role: g.role,
            });
            gnbs.push(sig);
        }

        let mut jammers = Vec::new();
        let mut jammer_truth = Vec::new();
        for (i, j) in scn.jammers.iter().enumerate() {
            let r = scn.reference_gnb(j.reference_pci).unwrap_or(0);
            let cell = &cells[r];
            let scs_hz = cell.scs.hz();
            let b_ssb = 240.0 * scs_hz;
            let (band_lo, band_hi) = (
                cell.ssb_offset_hz - 120.0 * scs_hz,
                cell.ssb_offset_hz + 120.0 * scs_hz,
            );
            let p_j = match (j.sjnr_db, j.jnr_db) {
                (Some(s), _) => cell.p_ssb / undb(s) - cell.p_noise,
                (_, Some(jn)) => undb(jn) * cell.p_noise,
                _ => 0.0,
            };
            let sjnr_db = db(cell.p_ssb / (p_j + cell.p_noise));
            let jnr_db = db(p_j / cell.p_noise);
            let mut rng = Rng::derive(scn.seed, STREAM_JAMMER + i as u64);
            let center = cell.ssb_offset_hz
                + j.offset_hz.unwrap_or(match j.kind {
                    JammerKind::Barrage => -cell.ssb_offset_hz,
                    _ => 0.0,
                });
            let bw = j.bandwidth_hz.unwrap_or(match j.kind {
                JammerKind::Barrage => 0.8 * fs,
                JammerKind::Chirp => 2.0 * b_ssb,
                _ => b_ssb,
            });
            let overlap = |lo: f64, hi: f64| -> f64 {
                ((hi.min(band_hi) - lo.max(band_lo)).max(0.0)) / (hi - lo).max(1e-9)
            };
            let no_overlap = SynthError::NoOverlap {
                index: i,
                kind: j.kind.name(),
            };
            let wave = match j.kind {
                JammerKind::Barrage
                | JammerKind::PartialBand
                | JammerKind::Pulsed
                | JammerKind::Reactive => {
                    let probe = BandNoise::new(fs, center, bw, 1.0, rng.clone());
                    let frac = probe.fraction_in(fs, band_lo, band_hi);
                    if frac <= 0.0 {
                        return Err(no_overlap);
                    }
                    Wave::Noise(Box::new(BandNoise::new(
                        fs,
                        center,
                        bw,
                        (p_j / frac) as f32,
                        rng.clone(),
                    )))
                }
                JammerKind::Tone => {
                    if !(band_lo..band_hi).contains(&center) {
                        return Err(no_overlap);
                    }
                    let ph = std::f64::consts::TAU * rng.uniform();
                    let a = p_j.sqrt() as f32;
                    Wave::Tones(vec![(
                        crate::dsp::Nco::new(center, fs),
                        Complex32::new(a * ph.cos() as f32, a * ph.sin() as f32),
                    )])
                }
                JammerKind::Comb => {
                    let n = j.tones.unwrap_or(8);
                    // Count tones in band with the same placement rule as `comb`.
                    let inside = (0..n)
                        .filter(|&k| {
                            let f = if n == 1 {
                                center
                            } else {
                                center - bw / 2.0 + bw * (k as f64 + 0.5) / n as f64
                            };
                            (band_lo..band_hi).contains(&f)
                        })
                        .count();
                    if inside == 0 {
                        return Err(no_overlap);
                    }
                    let total_p = p_j * n as f64 / inside as f64;
                    Wave::Tones(jammer::comb(center, bw, n, total_p, fs, &mut rng))
                }
                JammerKind::Chirp => {
                    let frac = overlap(center - bw / 2.0, center + bw / 2.0);
                    if frac <= 0.0 {
                        return Err(no_overlap);
                    }
                    let period = ((j.period_ms.unwrap_or(0.1) * 1e-3 * fs).round() as u64).max(2);
                    Wave::Chirp {
                        lo: (center - bw / 2.0) / fs,
                        hi: (center + bw / 2.0) / fs,
                        period,
                        amp: (p_j / frac).sqrt() as f32,
                    }
                }
                JammerKind::PssSpoofer => {
                    let g = &scn.gnbs[r];
                    let (_, cell_n2) = crate::nr::split_pci(g.pci);
                    let n2 = j.n_id2.unwrap_or((cell_n2 + 1) % 3);
                    let n1 = rng.below(336) as u16;
                    let num = Numerology::new(cell.scs, fs)
                        .map_err(|e| ScenarioErrors(vec![e.to_string()]))?;
                    let amp = (p_j * num.n_fft as f64 / SSB_MEAN_RES_PER_SYMBOL).sqrt() as f32;
                    let period_ms = j.spoof_periodicity_ms.unwrap_or(5);
                    let frame_start = -rng.uniform() * period_ms as f64 * 1e-3 * fs;
                    let mut burst = g.burst();
                    burst.periodicity_ms = period_ms;
                    let sig = GnbSignal::new(GnbParams {
                        pci: crate::nr::pci(n1, n2),
                        num,
                        burst,
                        amp,
                        traffic_load: 0.0,
                        carrier_rb: 20,
                        ssb_rb_offset: 0,
                        frame_start,
                        // Its own free-running clock: drifts against the cell.
                        clock: 1.0 + rng.range(-20.0, 20.0) * 1e-6,
                        shift_hz: center + rng.range(-500.0, 500.0),
                        channel: None,
                        rng: rng.clone(),
                        evm: (0.0, rng.clone()),
                    });
                    Wave::Cell(Box::new(sig))
                }
            };
            let episodes = episodes_samples(&j.episodes, fs, total);
            let pulse = (j.kind == JammerKind::Pulsed).then(|| {
                let per = j.period_ms.unwrap_or(1.0) * 1e-3 * fs;
                (per, per * j.duty.unwrap_or(0.25))
            });
            let reactive = (j.kind == JammerKind::Reactive).then(|| SsbSchedule::of(&gnbs[r]));
            let gate = Gate {
                episodes: episodes.clone(),
                pulse,
                reactive,
            };
            let on_air = match &wave {
                Wave::Cell(g) => Some(SsbSchedule::of(g)),
                _ => None,
            };
            let sweep = match &wave {
                Wave::Chirp { lo, hi, period, .. } => Some(Sweep {
                    lo: *lo,
                    hi: *hi,
                    period: *period,
                    band: (band_lo / fs, band_hi / fs),
                }),
                _ => None,
            };
            jammer_truth.push(JammerTruth {
                on_air,
                sweep,
                kind: j.kind,
                reference: r,
                p_jammer: p_j,
                sjnr_db,
                jnr_db,
                episodes,
                gate: gate.clone(),
            });
            jammers.push(Emitter { wave, gate });
        }

        let mut interferers = Vec::new();
        for (i, it) in scn.interferers.iter().enumerate() {
            let r = scn.reference_gnb(it.reference_pci).unwrap_or(0);
            let cell = &cells[r];
            let rng = Rng::derive(scn.seed, STREAM_INTERFERER + i as u64);
            let num =
                Numerology::new(Scs::Khz15, fs).map_err(|e| ScenarioErrors(vec![e.to_string()]))?;
            let n_rb = it.lte_rb.unwrap_or(scenario::DEFAULT_LTE_RB) as usize;
            let load = it.load.unwrap_or(0.7);
            let band = (n_rb * 12) as f64 * 15e3;
            let p_noise_band = noise_power * band / fs;
            let p_i = undb(it.inr_db) * p_noise_band;
            let amp = (p_i / lte::LteSignal::unit_power(&num, n_rb, load).max(1e-12)).sqrt() as f32;
            let wave = Wave::Lte(Box::new(lte::LteSignal::new(
                num,
                n_rb,
                amp,
                load,
                cell.ssb_offset_hz + it.offset_hz,
                rng,
            )));
            interferers.push(Emitter {
                wave,
                gate: Gate {
                    episodes: episodes_samples(&it.episodes, fs, total),
                    pulse: None,
                    reactive: None,
                },
            });
        }

        Ok(Synth {
            scenario: scn.clone(),
            total,
            pos: 0,
            noise: WhiteNoise::new(Rng::derive(scn.seed, STREAM_NOISE)),
            noise_power: noise_power as f32,
            gnbs,
            jammers,
            interferers,
            cells,
            jammer_truth,
            scratch: Vec::new(),
            scratch2: Vec::new(),
            scratch3: Vec::new(),
        })
    }

    /// Total samples of the recording.
    pub fn total_samples(&self) -> u64 {
        self.total
    }

    /// Samples rendered so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Ground truth of each gNB.
    pub fn cells(&self) -> &[CellTruth] {
        &self.cells
    }

    /// Ground truth of each jammer.
    pub fn jammer_truth(&self) -> &[JammerTruth] {
        &self.jammer_truth
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    fn grow(&mut self, n: usize) {
        for s in [&mut self.scratch, &mut self.scratch2, &mut self.scratch3] {
            if s.len() < n {
                s.resize(n, Complex32::new(0.0, 0.0));
            }
        }
    }

    /// Renders the next samples into `out` (overwriting). Returns how many were written:
    /// `out.len()` until the end, then fewer, then 0.
    pub fn render(&mut self, out: &mut [Complex32]) -> usize {
        let n = (self.total - self.pos).min(out.len() as u64) as usize;
        let out = &mut out[..n];
        out.fill(Complex32::new(0.0, 0.0));
        self.grow(n);
        let start = self.pos;
        self.noise.add(out, self.noise_power);
        for g in &mut self.gnbs {
            g.add(start, out, &mut self.scratch);
        }
        for e in self.jammers.iter_mut().chain(self.interferers.iter_mut()) {
            e.add(start, out, &mut self.scratch2, &mut self.scratch3);
        }
        self.pos += n as u64;
        n
    }

    /// Renders the next `n` samples with every component in its own buffer (their sum is
    /// exactly what [`Synth::render`] would have produced, up to float rounding order).
    pub fn render_components(&mut self, n: usize) -> Components {
        let n = (self.total - self.pos).min(n as u64) as usize;
        self.grow(n);
        let start = self.pos;
        let z = || vec![Complex32::new(0.0, 0.0); n];
        let mut c = Components {
            noise: z(),
            ..Default::default()
        };
        self.noise.add(&mut c.noise, self.noise_power);
        for g in &mut self.gnbs {
            let mut v = z();
            g.add(start, &mut v, &mut self.scratch);
            c.gnbs.push(v);
        }
        for e in &mut self.jammers {
            let mut v = z();
            e.add(start, &mut v, &mut self.scratch2, &mut self.scratch3);
            c.jammers.push(v);
        }
        for e in &mut self.interferers {
            let mut v = z();
            e.add(start, &mut v, &mut self.scratch2, &mut self.scratch3);
            c.interferers.push(v);
        }
        self.pos += n as u64;
        c
    }

    /// SigMF annotations (CONTRACTS §3): one per cell, one per jammer episode, one per
    /// benign interferer (neighbour gNBs and LTE carriers) episode.
    pub fn annotations(&self) -> Vec<Annotation> {
        let mut out = Vec::new();
        let scn = &self.scenario;
        for (c, g) in self.cells.iter().zip(&scn.gnbs) {
            let first = c.ssbs.first().map(|s| s.1.round() as u64);
            let mut a = Annotation::new(0, Some(self.total), Some("cell".into()))
                .with_field("ssbguard:pci", json!(c.pci))
                .with_field("ssbguard:scs_khz", json!(c.scs.khz()))
                .with_field("ssbguard:ssb_freq_hz", json!(c.ssb_freq_hz))
                .with_field("ssbguard:ssb_offset_hz", json!(c.ssb_offset_hz))
                .with_field("ssbguard:snr_db", json!(c.snr_db))
                .with_field("ssbguard:cfo_hz", json!(c.cfo_hz))
                .with_field("ssbguard:case", json!(format!("{:?}", g.case())))
                .with_field("ssbguard:l_max", json!(g.l_max))
                .with_field("ssbguard:periodicity_ms", json!(g.periodicity_ms))
                .with_field(
                    "ssbguard:role",
                    json!(match c.role {
                        GnbRole::Serving => "serving",
                        GnbRole::Neighbour => "neighbour",
                    }),
                );
            if let Some(f) = first {
                a = a.with_field("ssbguard:first_ssb_sample", json!(f));
            }
            out.push(a);
            if c.role == GnbRole::Neighbour {
                out.push(
                    Annotation::new(0, Some(self.total), Some("interferer".into()))
                        .with_field("ssbguard:type", json!("neighbour_gnb"))
                        .with_field("ssbguard:pci", json!(c.pci))
                        .with_field("ssbguard:snr_db", json!(c.snr_db)),
                );
            }
        }
        for (t, j) in self.jammer_truth.iter().zip(&scn.jammers) {
            for &(a, b) in &t.episodes {
                out.push(
                    Annotation::new(a, Some(b - a), Some("jammer".into()))
                        .with_field("ssbguard:type", json!(t.kind.name()))
                        .with_field("ssbguard:sjnr_db", json!(round3(t.sjnr_db)))
                        .with_field("ssbguard:jnr_db", json!(round3(t.jnr_db)))
                        .with_field("ssbguard:reference_pci", json!(self.cells[t.reference].pci))
                        .with_field("ssbguard:offset_hz", json!(j.offset_hz.unwrap_or(0.0))),
                );
            }
        }
        for (it, e) in scn.interferers.iter().zip(&self.interferers) {
            for &(a, b) in &e.gate.episodes {
                out.push(
                    Annotation::new(a, Some(b - a), Some("interferer".into()))
                        .with_field(
                            "ssbguard:type",
                            json!(match it.kind {
                                InterfererKind::Lte => "lte",
                            }),
                        )
                        .with_field("ssbguard:inr_db", json!(it.inr_db))
                        .with_field("ssbguard:offset_hz", json!(it.offset_hz)),
                );
            }
        }
        out
    }

    /// `core:description` text.
    pub fn description(&self) -> String {
        let d = &self.scenario.description;
        if d.is_empty() {
            format!(
                "ssbguard synth, seed {}. {POWER_DEFINITIONS}",
                self.scenario.seed
            )
        } else {
            format!(
                "{d} (ssbguard synth, seed {}). {POWER_DEFINITIONS}",
                self.scenario.seed
            )
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Renders `scn` to `PREFIX.sigmf-data` + `PREFIX.sigmf-meta`. Returns the meta and the
/// number of clipped samples (integer outputs).
pub fn write_sigmf(scn: &Scenario, prefix: &Path) -> Result<(Meta, u64), SynthError> {
    let mut s = Synth::new(scn)?;
    let dt = scn
        .data_type()
        .ok_or_else(|| ScenarioErrors(vec![format!("datatype {:?}", scn.datatype)]))?;
    let mut w = SigMfWriter::create(prefix, dt, scn.sample_rate_hz, scn.center_freq_hz, 1.0)?;
    w.set_description(s.description());
    w.add_extension("ssbguard", env!("CARGO_PKG_VERSION"));
    for a in s.annotations() {
        w.add_annotation(a);
    }
    let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 16];
    loop {
        let n = s.render(&mut buf);
        if n == 0 {
            break;
        }
        w.write(&buf[..n])?;
    }
    let clipped = w.clipped_samples();
    let meta = w.finish()?;
    Ok((meta, clipped))
}

#[cfg(test)]
mod tests;
