//! Hostile waveforms and benign interferers, each with its gate (episodes, pulses, or
//! the reference cell's SSB symbols).

use num_complex::Complex32;

use crate::dsp::Nco;
use crate::rng::Rng;

use super::gnb::GnbSignal;
use super::noise::BandNoise;

/// The sample windows in which a cell's SSBs are on air, evaluated lazily.
#[derive(Clone, Debug)]
pub struct SsbSchedule {
    frame_start: f64,
    half_len: f64,
    every: i64,
    /// (offset from half-frame start, length) of each transmitted SSB, samples.
    ssbs: Vec<(f64, f64)>,
}

impl SsbSchedule {
    /// The schedule of `g`.
    pub fn of(g: &GnbSignal) -> Self {
        let s0 = g.half_frame_start(0);
        let s1 = g.half_frame_start(1);
        // Find a half frame with a burst to read SSB offsets from.
        let every = (g.burst().periodicity_ms / 5).max(1) as i64;
        let ssbs = g
            .ssb_starts(0)
            .into_iter()
            .map(|(idx, t)| {
                let l0 = g
                    .burst()
                    .case
                    .first_symbols(g.burst().l_max)
                    .ok()
                    .and_then(|v| v.get(idx as usize).copied())
                    .unwrap_or(0);
                (
                    t - s0,
                    g.ssb_len(l0) as f64 * (s1 - s0) / g.numerology().half_frame_len() as f64,
                )
            })
            .collect();
        SsbSchedule {
            frame_start: s0,
            half_len: s1 - s0,
            every,
            ssbs,
        }
    }

    /// Is sample `n` inside an SSB of this cell?
    pub fn is_on(&self, n: u64) -> bool {
        let t = n as f64 - self.frame_start;
        let h = (t / self.half_len).floor() as i64;
        if h.rem_euclid(self.every) != 0 {
            return false;
        }
        let off = t - h as f64 * self.half_len;
        self.ssbs.iter().any(|&(s, l)| off >= s && off < s + l)
    }

    /// All SSB windows `[start, end)` (fractional samples) inside `[0, total)`.
    pub fn windows(&self, total: u64) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let h_first = ((0.0 - self.frame_start) / self.half_len).floor() as i64 - 1;
        let h_last = ((total as f64 - self.frame_start) / self.half_len).ceil() as i64;
        for h in h_first..=h_last {
            if h.rem_euclid(self.every) != 0 {
                continue;
            }
            let base = self.frame_start + h as f64 * self.half_len;
            for &(s, l) in &self.ssbs {
                let (a, b) = (base + s, base + s + l);
                if b > 0.0 && a < total as f64 {
                    out.push((a, b));
                }
            }
        }
        out
    }
}

/// The signal a jammer emits before gating.
pub enum Wave {
    /// Band-limited noise.
    Noise(Box<BandNoise>),
    /// Tones: (oscillator, complex amplitude).
    Tones(Vec<(Nco, Complex32)>),
    /// Linear sweep from `lo` to `hi` cycles/sample over `period` samples, amplitude `amp`.
    Chirp {
        /// Start frequency, cycles/sample.
        lo: f64,
        /// Stop frequency, cycles/sample.
        hi: f64,
        /// Sweep period, samples.
        period: u64,
        /// Amplitude.
        amp: f32,
    },
    /// Fake cell (spoofer) or a real neighbouring transmitter.
    Cell(Box<GnbSignal>),
    /// LTE carrier.
    Lte(Box<super::lte::LteSignal>),
}

/// When the emitter is on.
#[derive(Clone, Debug)]
pub struct Gate {
    /// On-air episodes `[start, end)` in samples.
    pub episodes: Vec<(u64, u64)>,
    /// Pulsing: (period, on-length) in samples.
    pub pulse: Option<(f64, f64)>,
    /// Reactive: only inside this cell's SSBs.
    pub reactive: Option<SsbSchedule>,
}

impl Gate {
    /// Is the emitter on at sample `n`?
    pub fn is_on(&self, n: u64) -> bool {
        if !self.episodes.iter().any(|&(a, b)| n >= a && n < b) {
            return false;
        }
        if let Some((per, on)) = self.pulse
            && (n as f64).rem_euclid(per) >= on
        {
            return false;
        }
        if let Some(s) = &self.reactive
            && !s.is_on(n)
        {
            return false;
        }
        true
    }

    fn always_on(&self, start: u64, len: usize) -> bool {
        self.pulse.is_none()
            && self.reactive.is_none()
            && self
                .episodes
                .iter()
                .any(|&(a, b)| start >= a && start + len as u64 <= b)
    }

    fn always_off(&self, start: u64, len: usize) -> bool {
        !self
            .episodes
            .iter()
            .any(|&(a, b)| start < b && start + len as u64 > a)
    }
}

/// A gated emitter.
pub struct Emitter {
    /// Waveform.
    pub wave: Wave,
    /// Gate.
    pub gate: Gate,
}

impl Emitter {
    /// Adds the emitter's samples `start..start+out.len()` to `out`. Waveforms advance
    /// whether or not the gate is open, so they are continuous across gaps.
    pub fn add(
        &mut self,
        start: u64,
        out: &mut [Complex32],
        scratch: &mut [Complex32],
        scratch2: &mut [Complex32],
    ) {
        let len = out.len();
        let s = &mut scratch[..len];
        s.fill(Complex32::new(0.0, 0.0));
        let off = self.gate.always_off(start, len);
        match &mut self.wave {
            Wave::Noise(b) => {
                if off {
                    b.skip(len)
                } else {
                    b.add(s, 1.0)
                }
            }
            Wave::Tones(t) => {
                if !off {
                    for (nco, a) in t.iter() {
                        nco.add_tone(start, *a, s);
                    }
                }
            }
            Wave::Chirp {
                lo,
                hi,
                period,
                amp,
            } => {
                if !off {
                    chirp(start, *lo, *hi, *period, *amp, s);
                }
            }
            Wave::Cell(g) => g.add(start, s, &mut scratch2[..len]),
            Wave::Lte(l) => l.add(start, s, &mut scratch2[..len]),
        }
        if off {
            return;
        }
        if self.gate.always_on(start, len) {
            for (o, x) in out.iter_mut().zip(s.iter()) {
                *o += x;
            }
        } else {
            for (i, (o, x)) in out.iter_mut().zip(s.iter()).enumerate() {
                if self.gate.is_on(start + i as u64) {
                    *o += x;
                }
            }
        }
    }
}

/// Sawtooth linear FM: instantaneous frequency rises from `lo` to `hi` over each period.
fn chirp(start: u64, lo: f64, hi: f64, period: u64, amp: f32, out: &mut [Complex32]) {
    let k = (hi - lo) / period as f64;
    // Phase (cycles) at position m inside a sweep: lo m + k m² / 2. The phase at the start
    // of each sweep is the accumulated phase of all earlier sweeps, which we reduce mod 1.
    let per_sweep = lo * period as f64 + 0.5 * k * (period as f64).powi(2);
    for (i, o) in out.iter_mut().enumerate() {
        let n = start + i as u64;
        let sweep = n / period;
        let m = (n % period) as f64;
        let ph = ((sweep as f64 * per_sweep).fract() + lo * m + 0.5 * k * m * m).fract();
        let (sn, cs) = (std::f64::consts::TAU * ph).sin_cos();
        *o += Complex32::new(cs as f32 * amp, sn as f32 * amp);
    }
}

/// Comb of `n` tones spread evenly over `bandwidth` around `center` (Hz), total power
/// `power`, random phases.
pub fn comb(
    center: f64,
    bandwidth: f64,
    n: u32,
    power: f64,
    fs: f64,
    rng: &mut Rng,
) -> Vec<(Nco, Complex32)> {
    let a = (power / n as f64).sqrt() as f32;
    (0..n)
        .map(|i| {
            let f = if n == 1 {
                center
            } else {
                center - bandwidth / 2.0 + bandwidth * (i as f64 + 0.5) / n as f64
            };
            let ph = std::f64::consts::TAU * rng.uniform();
            (
                Nco::new(f, fs),
                Complex32::new(a * ph.cos() as f32, a * ph.sin() as f32),
            )
        })
        .collect()
}
