//! Scenario files (TOML): what `ssbguard synth` generates.
//!
//! Raw serde structs with `deny_unknown_fields`, then [`Scenario::validate`] which reports
//! every problem at once with its path and allowed range. The format is documented in
//! `config/scenarios/README.md`.

use serde::{Deserialize, Serialize};

use crate::io::DataType;
use crate::nr::{BurstConfig, Numerology, Scs, SsbCase};

/// A whole scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Free text shown in the SigMF description.
    #[serde(default)]
    pub description: String,
    /// Length of the recording.
    pub duration_s: f64,
    /// Output sample rate; must hold every gNB's FFT (an integer multiple of 128 × SCS).
    pub sample_rate_hz: f64,
    /// Recording centre frequency (for the SigMF capture and absolute SSB frequencies).
    #[serde(default = "default_center")]
    pub center_freq_hz: f64,
    /// `cf32_le` or `ci16_le` (others are accepted by the writer too).
    #[serde(default = "default_datatype")]
    pub datatype: String,
    /// Seed: the output is bit-exact for a seed.
    #[serde(default)]
    pub seed: u64,
    /// Thermal noise power over the whole sampled band, dBFS (full scale = 1.0).
    #[serde(default = "default_noise")]
    pub noise_power_dbfs: f64,
    /// Cells (serving and neighbours).
    #[serde(default, rename = "gnb")]
    pub gnbs: Vec<GnbConfig>,
    /// Hostile signals.
    #[serde(default, rename = "jammer")]
    pub jammers: Vec<JammerConfig>,
    /// Legitimate non-NR signals that must not raise an alarm.
    #[serde(default, rename = "interferer")]
    pub interferers: Vec<InterfererConfig>,
}

fn default_center() -> f64 {
    3.5e9
}
fn default_datatype() -> String {
    "cf32_le".into()
}
fn default_noise() -> f64 {
    -60.0
}

/// Role of a gNB in the scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GnbRole {
    /// The cell the detector protects.
    #[default]
    Serving,
    /// A legitimate neighbour cell: annotated as a benign interferer too.
    Neighbour,
}

/// One gNB.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GnbConfig {
    /// Physical cell identity 0..=1007.
    pub pci: u16,
    /// Subcarrier spacing, 15 or 30 kHz.
    pub scs_khz: u32,
    /// SSB pattern case (A for 15 kHz; B or C for 30 kHz). Default A / C.
    #[serde(default)]
    pub case: Option<SsbCase>,
    /// L_max, 4 or 8.
    #[serde(default = "default_lmax")]
    pub l_max: u8,
    /// SSB periodicity, ms.
    #[serde(default = "default_period")]
    pub periodicity_ms: u32,
    /// Transmitted SSB indices as a bitmap (bit i = index i). Default: all L_max.
    #[serde(default)]
    pub positions_in_burst: Option<u8>,
    /// SSB centre minus recording centre, Hz (any value, not only the subcarrier grid).
    #[serde(default)]
    pub ssb_offset_hz: f64,
    /// SNR = P_SSB / P_noise inside the SSB band, dB.
    pub snr_db: f64,
    /// Fraction (0..1) of resource blocks per slot carrying random QPSK traffic.
    #[serde(default)]
    pub traffic_load: f64,
    /// Carrier width in resource blocks (traffic occupies it; the SSB sits inside).
    #[serde(default)]
    pub carrier_rb: Option<u32>,
    /// RB of the carrier where the SSB starts. Default: centred.
    #[serde(default)]
    pub ssb_rb_offset: Option<u32>,
    /// Frame timing: the first frame starts this long after the recording start (may be
    /// negative or fractional in samples). Default: random within one SSB period.
    #[serde(default)]
    pub frame_offset_s: Option<f64>,
    /// Carrier frequency offset, Hz.
    #[serde(default)]
    pub cfo_hz: f64,
    /// Sample-clock error of this gNB relative to the recorder, ppm (timing drift).
    #[serde(default)]
    pub clock_ppm: f64,
    /// Propagation channel.
    #[serde(default)]
    pub channel: ChannelConfig,
    /// Serving or neighbour.
    #[serde(default)]
    pub role: GnbRole,
    /// Transmitter error-vector magnitude, dB (e.g. −30): every modulated RE carries a
    /// complex Gaussian error of this power relative to its own; null REs stay empty.
    /// Real gNBs and receivers cap the SNR a decoder can measure this way. Default: ideal.
    #[serde(default)]
    pub evm_db: Option<f64>,
}

fn default_lmax() -> u8 {
    8
}
fn default_period() -> u32 {
    20
}

impl GnbConfig {
    /// SCS.
    pub fn scs(&self) -> Scs {
        Scs::from_khz(self.scs_khz).unwrap_or(Scs::Khz30)
    }
    /// Case with the per-SCS default.
    pub fn case(&self) -> SsbCase {
        self.case.unwrap_or(match self.scs() {
            Scs::Khz15 => SsbCase::A,
            Scs::Khz30 => SsbCase::C,
        })
    }
    /// Burst configuration.
    pub fn burst(&self) -> BurstConfig {
        let all = if self.l_max >= 8 {
            0xFF
        } else {
            (1u8 << self.l_max.min(7)) - 1
        };
        BurstConfig {
            case: self.case(),
            l_max: self.l_max,
            periodicity_ms: self.periodicity_ms,
            positions_in_burst: self.positions_in_burst.unwrap_or(all),
        }
    }
    /// Carrier width in RBs (default: as wide as fits ~90 % of the sample rate, ≤ 273).
    pub fn carrier_rb(&self, sample_rate_hz: f64) -> u32 {
        self.carrier_rb.unwrap_or_else(|| {
            let fit = (0.9 * sample_rate_hz / (12.0 * self.scs().hz())).floor() as u32;
            fit.clamp(20, 273)
        })
    }
}

/// Propagation channel of a gNB.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "model", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// Line of sight, flat: AWGN only.
    #[default]
    Awgn,
    /// Tapped delay line with Rayleigh taps and Clarke Doppler.
    Tdl {
        /// Tap delays, ns.
        delays_ns: Vec<f64>,
        /// Tap powers, dB (normalised to unit total).
        powers_db: Vec<f64>,
        /// Maximum Doppler shift, Hz.
        #[serde(default)]
        doppler_hz: f64,
    },
}

/// When a jammer or interferer is on.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Episode {
    /// Start, s from the recording start.
    pub start_s: f64,
    /// Stop, s.
    pub stop_s: f64,
}

/// Hostile waveform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JammerKind {
    /// Noise over (most of) the sampled band.
    Barrage,
    /// Noise over the SSB band.
    PartialBand,
    /// One continuous-wave tone.
    Tone,
    /// Several equally spaced tones.
    Comb,
    /// Noise switched on and off with a period and duty cycle.
    Pulsed,
    /// Linear FM sweep (sawtooth).
    Chirp,
    /// Fake SSBs with another N_ID2, not aligned to the cell.
    PssSpoofer,
    /// Noise only while the cell's SSB symbols are on air.
    Reactive,
}

impl JammerKind {
    /// Name used in annotations and reports.
    pub fn name(self) -> &'static str {
        match self {
            JammerKind::Barrage => "barrage",
            JammerKind::PartialBand => "partial_band",
            JammerKind::Tone => "tone",
            JammerKind::Comb => "comb",
            JammerKind::Pulsed => "pulsed",
            JammerKind::Chirp => "chirp",
            JammerKind::PssSpoofer => "pss_spoofer",
            JammerKind::Reactive => "reactive",
        }
    }
    /// All kinds.
    pub const ALL: [JammerKind; 8] = [
        JammerKind::Barrage,
        JammerKind::PartialBand,
        JammerKind::Tone,
        JammerKind::Comb,
        JammerKind::Pulsed,
        JammerKind::Chirp,
        JammerKind::PssSpoofer,
        JammerKind::Reactive,
    ];
}

/// One jammer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JammerConfig {
    /// Waveform.
    #[serde(rename = "type")]
    pub kind: JammerKind,
    /// SJNR against the reference cell's SSB, dB (give this or `jnr_db`).
    #[serde(default)]
    pub sjnr_db: Option<f64>,
    /// JNR inside the SSB band, dB.
    #[serde(default)]
    pub jnr_db: Option<f64>,
    /// PCI of the reference cell (default: the first serving gNB).
    #[serde(default)]
    pub reference_pci: Option<u16>,
    /// On-air episodes. Default: the whole recording.
    #[serde(default)]
    pub episodes: Vec<Episode>,
    /// Centre relative to the reference SSB centre, Hz. Default 0 (barrage: the recording
    /// centre).
    #[serde(default)]
    pub offset_hz: Option<f64>,
    /// Occupied bandwidth, Hz (barrage default 0.8 × fs, partial-band/pulsed/reactive
    /// default the SSB band, chirp default 2 × SSB band, comb default the SSB band).
    #[serde(default)]
    pub bandwidth_hz: Option<f64>,
    /// Comb: number of tones (default 8).
    #[serde(default)]
    pub tones: Option<u32>,
    /// Pulsed: period, ms (default 1). Chirp: sweep period, ms (default 0.1).
    #[serde(default)]
    pub period_ms: Option<f64>,
    /// Pulsed: fraction of the period on (default 0.25).
    #[serde(default)]
    pub duty: Option<f64>,
    /// Spoofer: N_ID2 of the fake PSS (default: the cell's + 1 mod 3).
    #[serde(default)]
    pub n_id2: Option<u8>,
    /// Spoofer: SSB periodicity, ms (default 5).
    #[serde(default)]
    pub spoof_periodicity_ms: Option<u32>,
}

/// LTE bandwidth of an interferer that gives no `lte_rb`, RBs.
pub const DEFAULT_LTE_RB: u32 = 25;

/// Legitimate interferer kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterfererKind {
    /// An LTE-like OFDM carrier (15 kHz, LTE CP, random QPSK).
    Lte,
}

/// One benign interferer (neighbour gNBs are `[[gnb]]` with `role = "neighbour"`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfererConfig {
    /// Kind.
    #[serde(rename = "type")]
    pub kind: InterfererKind,
    /// Interference-to-noise ratio inside the reference SSB band, dB.
    pub inr_db: f64,
    /// Centre relative to the reference SSB centre, Hz.
    #[serde(default)]
    pub offset_hz: f64,
    /// LTE bandwidth in RBs (6, 15, 25, 50, 75, 100; default 25).
    #[serde(default)]
    pub lte_rb: Option<u32>,
    /// Fraction of RBs carrying data per slot (default 0.7).
    #[serde(default)]
    pub load: Option<f64>,
    /// Reference cell PCI (default: first serving gNB).
    #[serde(default)]
    pub reference_pci: Option<u16>,
    /// On-air episodes (default: whole recording).
    #[serde(default)]
    pub episodes: Vec<Episode>,
}

/// Every problem found in a scenario.
#[derive(Debug, thiserror::Error)]
#[error("invalid scenario:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ScenarioErrors(pub Vec<String>);

impl Scenario {
    /// Parses TOML text (syntax and unknown keys are reported by serde with line/column).
    pub fn from_toml(text: &str) -> Result<Scenario, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Data type of the output file.
    pub fn data_type(&self) -> Option<DataType> {
        self.datatype.parse().ok()
    }

    /// Total samples.
    pub fn total_samples(&self) -> u64 {
        (self.duration_s * self.sample_rate_hz).round().max(0.0) as u64
    }

    /// Index of the reference (serving) cell for `pci` or the default.
    pub fn reference_gnb(&self, pci: Option<u16>) -> Option<usize> {
        match pci {
            Some(p) => self.gnbs.iter().position(|g| g.pci == p),
            None => self
                .gnbs
                .iter()
                .position(|g| g.role == GnbRole::Serving)
                .or(if self.gnbs.is_empty() { None } else { Some(0) }),
        }
    }

    /// Checks everything and lists every problem.
    pub fn validate(&self) -> Result<(), ScenarioErrors> {
        let mut p = Vec::new();
        if !(self.duration_s.is_finite() && self.duration_s > 0.0 && self.duration_s <= 3600.0) {
            p.push(format!(
                "duration_s = {}: must be in (0, 3600]",
                self.duration_s
            ));
        }
        if !(self.sample_rate_hz.is_finite() && (1.92e6..=245.76e6).contains(&self.sample_rate_hz))
        {
            p.push(format!(
                "sample_rate_hz = {}: must be in [1.92e6, 245.76e6]",
                self.sample_rate_hz
            ));
        }
        if !self.center_freq_hz.is_finite() || self.center_freq_hz < 0.0 {
            p.push(format!(
                "center_freq_hz = {}: must be a finite frequency ≥ 0",
                self.center_freq_hz
            ));
        }
        if self.data_type().is_none() {
            p.push(format!(
                "datatype = {:?}: must be one of cf32_le, cf32_be, ci16_le, ci16_be, ci8, cu8",
                self.datatype
            ));
        }
        if !(self.noise_power_dbfs.is_finite() && (-150.0..=0.0).contains(&self.noise_power_dbfs)) {
            p.push(format!(
                "noise_power_dbfs = {}: must be in [-150, 0]",
                self.noise_power_dbfs
            ));
        }
        let half_band = self.sample_rate_hz / 2.0;
        for (i, g) in self.gnbs.iter().enumerate() {
            let at = format!("gnb[{i}]");
            if g.pci >= 1008 {
                p.push(format!("{at}.pci = {}: must be in 0..=1007", g.pci));
            }
            let Some(scs) = Scs::from_khz(g.scs_khz) else {
                p.push(format!("{at}.scs_khz = {}: must be 15 or 30", g.scs_khz));
                continue;
            };
            if let Err(e) = Numerology::new(scs, self.sample_rate_hz) {
                p.push(format!("{at}: {e}"));
            }
            if g.case().scs() != scs {
                p.push(format!(
                    "{at}.case = {:?}: needs {} kHz SCS",
                    g.case(),
                    g.case().scs().khz()
                ));
            }
            if let Err(e) = g.burst().validate() {
                p.push(format!("{at}: {e}"));
            }
            if g.burst().positions_in_burst == 0 {
                p.push(format!("{at}.positions_in_burst = 0: no SSB would be sent"));
            }
            let ssb_half = 120.0 * scs.hz();
            if !g.ssb_offset_hz.is_finite() || g.ssb_offset_hz.abs() + ssb_half > half_band {
                p.push(format!(
                    "{at}.ssb_offset_hz = {}: the SSB (±{} Hz) must fit inside ±{} Hz",
                    g.ssb_offset_hz, ssb_half, half_band
                ));
            }
            if !(g.snr_db.is_finite() && (-20.0..=60.0).contains(&g.snr_db)) {
                p.push(format!("{at}.snr_db = {}: must be in [-20, 60]", g.snr_db));
            }
            if !(0.0..=1.0).contains(&g.traffic_load) {
                p.push(format!(
                    "{at}.traffic_load = {}: must be in [0, 1]",
                    g.traffic_load
                ));
            }
            let rb = g.carrier_rb(self.sample_rate_hz);
            if !(20..=273).contains(&rb) {
                p.push(format!("{at}.carrier_rb = {rb}: must be in 20..=273"));
            } else if let Some(off) = g.ssb_rb_offset
                && off + 20 > rb
            {
                p.push(format!(
                    "{at}.ssb_rb_offset = {off}: the SSB's 20 RBs must fit in {rb} RBs"
                ));
            }
            if !g.cfo_hz.is_finite() || g.cfo_hz.abs() > 100e3 {
                p.push(format!(
                    "{at}.cfo_hz = {}: must be within ±100 kHz",
                    g.cfo_hz
                ));
            }
            if let Some(e) = g.evm_db
                && !(e.is_finite() && (-80.0..=-10.0).contains(&e))
            {
                p.push(format!("{at}.evm_db = {e}: must be in [-80, -10]"));
            }
            if !g.clock_ppm.is_finite() || g.clock_ppm.abs() > 100.0 {
                p.push(format!(
                    "{at}.clock_ppm = {}: must be within ±100",
                    g.clock_ppm
                ));
            }
            if let Some(f) = g.frame_offset_s
                && (!f.is_finite() || f.abs() > 1.0)
            {
                p.push(format!("{at}.frame_offset_s = {f}: must be within ±1 s"));
            }
            if let ChannelConfig::Tdl {
                delays_ns,
                powers_db,
                doppler_hz,
            } = &g.channel
            {
                if delays_ns.is_empty() || delays_ns.len() != powers_db.len() {
                    p.push(format!(
                        "{at}.channel: delays_ns and powers_db must be non-empty and of equal length ({} vs {})",
                        delays_ns.len(),
                        powers_db.len()
                    ));
                }
                if delays_ns
                    .iter()
                    .any(|d| !d.is_finite() || *d < 0.0 || *d > 20_000.0)
                {
                    p.push(format!(
                        "{at}.channel.delays_ns: each must be in [0, 20000]"
                    ));
                }
                if powers_db.iter().any(|d| !d.is_finite() || *d > 30.0) {
                    p.push(format!(
                        "{at}.channel.powers_db: each must be finite and ≤ 30"
                    ));
                }
                if !doppler_hz.is_finite() || !(0.0..=2000.0).contains(doppler_hz) {
                    p.push(format!(
                        "{at}.channel.doppler_hz = {doppler_hz}: must be in [0, 2000]"
                    ));
                }
            }
        }
        let check_episodes = |at: &str, eps: &[Episode], p: &mut Vec<String>| {
            for (k, e) in eps.iter().enumerate() {
                if !(e.start_s.is_finite()
                    && e.stop_s.is_finite()
                    && e.start_s >= 0.0
                    && e.stop_s > e.start_s)
                {
                    p.push(format!(
                        "{at}.episodes[{k}] = [{}, {}]: need 0 ≤ start_s < stop_s",
                        e.start_s, e.stop_s
                    ));
                }
            }
        };
        for (i, j) in self.jammers.iter().enumerate() {
            let at = format!("jammer[{i}]");
            check_episodes(&at, &j.episodes, &mut p);
            match (j.sjnr_db, j.jnr_db) {
                (Some(_), Some(_)) => p.push(format!("{at}: give sjnr_db or jnr_db, not both")),
                (None, None) => p.push(format!("{at}: give sjnr_db or jnr_db")),
                (Some(v), None) | (None, Some(v)) if !(v.is_finite() && v.abs() <= 80.0) => {
                    p.push(format!("{at}: power ratio {v} dB must be within ±80 dB"))
                }
                _ => {}
            }
            let Some(r) = self.reference_gnb(j.reference_pci) else {
                p.push(format!(
                    "{at}.reference_pci: no gNB {} in the scenario to measure SJNR against",
                    j.reference_pci.map_or("at all".into(), |v| v.to_string())
                ));
                continue;
            };
            let g = &self.gnbs[r];
            if let Some(s) = j.sjnr_db
                && s >= g.snr_db - 0.05
            {
                p.push(format!(
                    "{at}.sjnr_db = {s}: must be below the reference cell's snr_db ({}), since SJNR ≤ SNR",
                    g.snr_db
                ));
            }
            if let Some(bw) = j.bandwidth_hz
                && !(bw.is_finite() && bw > 0.0 && bw <= self.sample_rate_hz)
            {
                p.push(format!(
                    "{at}.bandwidth_hz = {bw}: must be in (0, sample_rate_hz]"
                ));
            }
            if let Some(o) = j.offset_hz
                && (!o.is_finite() || (g.ssb_offset_hz + o).abs() > half_band)
            {
                p.push(format!("{at}.offset_hz = {o}: outside the sampled band"));
            }
            if let Some(d) = j.duty
                && !(d > 0.0 && d <= 1.0)
            {
                p.push(format!("{at}.duty = {d}: must be in (0, 1]"));
            }
            if let Some(t) = j.tones
                && !(1..=256).contains(&t)
            {
                p.push(format!("{at}.tones = {t}: must be in 1..=256"));
            }
            if let Some(per) = j.period_ms
                && !(per.is_finite() && per > 0.0 && per <= 1000.0)
            {
                p.push(format!("{at}.period_ms = {per}: must be in (0, 1000]"));
            }
            if let Some(n) = j.n_id2
                && n > 2
            {
                p.push(format!("{at}.n_id2 = {n}: must be 0, 1 or 2"));
            }
            if let Some(sp) = j.spoof_periodicity_ms
                && !crate::nr::burst::PERIODICITIES_MS.contains(&sp)
            {
                p.push(format!(
                    "{at}.spoof_periodicity_ms = {sp}: must be one of 5, 10, 20, 40, 80, 160"
                ));
            }
        }
        for (i, it) in self.interferers.iter().enumerate() {
            let at = format!("interferer[{i}]");
            check_episodes(&at, &it.episodes, &mut p);
            if !(it.inr_db.is_finite() && it.inr_db.abs() <= 80.0) {
                p.push(format!(
                    "{at}.inr_db = {}: must be within ±80 dB",
                    it.inr_db
                ));
            }
            if self.reference_gnb(it.reference_pci).is_none() {
                p.push(format!("{at}.reference_pci: no such gNB in the scenario"));
            }
            if let Some(rb) = it.lte_rb
                && ![6, 15, 25, 50, 75, 100].contains(&rb)
            {
                p.push(format!(
                    "{at}.lte_rb = {rb}: must be one of 6, 15, 25, 50, 75, 100"
                ));
            }
            if let Some(l) = it.load
                && !(0.0..=1.0).contains(&l)
            {
                p.push(format!("{at}.load = {l}: must be in [0, 1]"));
            }
            match Numerology::new(Scs::Khz15, self.sample_rate_hz) {
                Err(_) => p.push(format!(
                    "{at}: LTE needs a sample rate that is a multiple of 1.92 MHz ≥ 3.84 MHz"
                )),
                Ok(num) => {
                    // The carrier's subcarriers (12 per RB, plus the unused DC one) must fit
                    // in one 15 kHz FFT at this rate, i.e. inside the sampled band.
                    let rb = it.lte_rb.unwrap_or(DEFAULT_LTE_RB);
                    let max_rb = num.n_fft.saturating_sub(1) / 12;
                    if (rb as usize) * 12 + 1 > num.n_fft {
                        p.push(format!(
                            "{at}.lte_rb = {rb}: an LTE carrier of {rb} RBs ({:.2} MHz) is wider than sample_rate_hz = {} allows (at most {max_rb} RBs)",
                            rb as f64 * 12.0 * 15e3 / 1e6,
                            self.sample_rate_hz
                        ));
                    }
                }
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(ScenarioErrors(p))
        }
    }
}
