//! Cutting one SSB out of the input and decoding it.
//!
//! [`SsbExtractor`] turns a window of input samples into a window at the processing rate
//! `fs_p = 512 × SCS` centred on the SSB: one forward FFT at the input rate, the shift to
//! the SSB as a rotation of its bins (absolute sample phase; the sub-bin residual is mixed
//! in at fs_p), a spectral taper, one inverse FFT at `fs_p`. The taper
//! is flat to ±0.33 fs_p (±169 subcarriers) and raised-cosine down to zero at ±0.47 fs_p,
//! so traffic next to the SSB passes flat and stays orthogonal in the 512-point FFT, the
//! filter's impulse response is a few samples (well inside the CP), and nothing aliases
//! into the SSB band. Measured (test `extractor_response`, tones at 30.72 and 23.04 Msps,
//! a shift that is not a whole bin): gain error < 0.0001 dB and error vector < 1e-6 up to
//! ±5 MHz at 30 kHz SCS (the phase is the tone's absolute phase), stopband at ±7.4 MHz
//! −140 dB (the f32 floor; the test requires −100 dB).
//!
//! [`SsbDecoder`] finds fine timing and CFO from the PSS, the PCI from the SSS, the SSB
//! index from the PBCH DMRS, and returns the 4 × 240 resource grid with quality metrics.

use std::sync::Arc;

use num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use crate::dsp::Nco;
use crate::nr::grid::{SSB_SUBCARRIERS, dmrs_positions};
use crate::nr::sequences::{pbch_dmrs, pss, sss};
use crate::nr::{OfdmDemodulator, Scs};

/// Processing FFT size (fs_p = 512 × SCS).
pub const N_FFT_P: usize = 512;
/// Normal CP at fs_p.
pub const CP_P: usize = N_FFT_P * 9 / 128;
/// Symbol length at fs_p (the SSB never contains a long-CP symbol).
pub const SYM_P: usize = N_FFT_P + CP_P;
/// Samples of an SSB at fs_p.
pub const SSB_LEN_P: usize = 4 * SYM_P;
/// Samples cut into the CP before each FFT window (tolerates timing error and delay spread).
pub const BACKOFF_P: usize = CP_P / 2;

/// Errors setting up extraction.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExtractError {
    /// The input rate has no usable rational relation to fs_p.
    #[error(
        "input rate {fs_in} Hz and processing rate {fs_p} Hz have no window size ≤ 65536 with an integer ratio"
    )]
    Ratio {
        /// Input rate.
        fs_in: f64,
        /// Processing rate.
        fs_p: f64,
    },
    /// The input band is too narrow for the SSB.
    #[error("input rate {fs_in} Hz cannot hold a {scs_khz} kHz SSB (needs > {need} Hz)")]
    TooNarrow {
        /// Input rate.
        fs_in: f64,
        /// SCS.
        scs_khz: u32,
        /// Needed.
        need: f64,
    },
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Window extractor for one SCS at one input rate.
pub struct SsbExtractor {
    fs_in: f64,
    fs_p: f64,
    n_in: usize,
    n_out: usize,
    fft: Arc<dyn Fft<f32>>,
    ifft: Arc<dyn Fft<f32>>,
    taper: Vec<f32>,
    /// Output bins with |kk| < `half` may be non-zero (the taper is zero beyond).
    half: usize,
    buf_in: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl SsbExtractor {
    /// Plans the transforms. The output window is ≥ 3072 samples at fs_p: the SSB (2192)
    /// and 440 on each side, far more than the timing search, the CFO backoff and the
    /// filter kernel (its tails are below −100 dB 100 samples out) need.
    pub fn new(fs_in: f64, scs: Scs) -> Result<Self, ExtractError> {
        let fs_p = N_FFT_P as f64 * scs.hz();
        let need = 250.0 * scs.hz();
        if fs_in < need {
            return Err(ExtractError::TooNarrow {
                fs_in,
                scs_khz: scs.khz(),
                need,
            });
        }
        let a = fs_in.round() as u64;
        let b = fs_p.round() as u64;
        let g = gcd(a, b);
        let (p, q) = (a / g, b / g); // n_in / n_out = p / q
        let n_out = (3072u64.div_ceil(q) * q) as usize;
        let n_in = n_out as u64 / q * p;
        if n_out > 65536 || n_in > 1 << 20 || (fs_in - a as f64).abs() > 1e-3 {
            return Err(ExtractError::Ratio { fs_in, fs_p });
        }
        let n_in = n_in as usize;
        let mut planner = FftPlanner::new();
        let fft = planner.plan_fft_forward(n_in);
        let ifft = planner.plan_fft_inverse(n_out);
        let scratch_len = fft
            .get_inplace_scratch_len()
            .max(ifft.get_inplace_scratch_len());
        let df = fs_p / n_out as f64;
        let (f_pass, f_stop) = (0.33 * fs_p, 0.47 * fs_p);
        let input_edge = 0.5 * fs_in;
        let taper = (0..n_out)
            .map(|k| {
                let kk = if k >= n_out / 2 {
                    k as f64 - n_out as f64
                } else {
                    k as f64
                };
                let f = (kk * df).abs();
                // Nothing beyond the input's own band exists (upsampling case).
                if f >= input_edge {
                    return 0.0;
                }
                if f <= f_pass {
                    1.0
                } else if f >= f_stop {
                    0.0
                } else {
                    let x = (f - f_pass) / (f_stop - f_pass);
                    (0.5 * (1.0 + (std::f64::consts::PI * x).cos())) as f32
                }
            })
            .collect::<Vec<f32>>();
        // First signed bin where the taper is zero for good (it is symmetric and falls
        // monotonically), capped by the input's own band.
        let half = (0..n_out / 2)
            .find(|&k| taper[k] == 0.0)
            .unwrap_or(n_out / 2)
            .min(n_in / 2);
        Ok(SsbExtractor {
            fs_in,
            fs_p,
            n_in,
            n_out,
            fft,
            ifft,
            taper,
            half,
            buf_in: vec![Complex32::new(0.0, 0.0); n_in],
            scratch: vec![Complex32::new(0.0, 0.0); scratch_len],
        })
    }

    /// Input samples per window.
    pub fn len_in(&self) -> usize {
        self.n_in
    }
    /// Output samples per window.
    pub fn len_out(&self) -> usize {
        self.n_out
    }
    /// Processing rate.
    pub fn fs_p(&self) -> f64 {
        self.fs_p
    }
    /// Input samples per output sample.
    pub fn ratio(&self) -> f64 {
        self.fs_in / self.fs_p
    }

    /// Shifts `raw` (input samples from absolute index `first`) by −`shift_hz` and
    /// resamples it to fs_p into `out` (`len_out` samples; `out[m]` is at input time
    /// `first + m × ratio`).
    ///
    /// The shift costs nothing at the input rate: its whole-bin part k₀·fs_in/n_in is a
    /// rotation of the forward FFT's bins (plus a constant phase for the absolute start),
    /// and only the residual (≤ half a bin, 1.9 kHz at 30.72 Msps) is mixed in, at fs_p
    /// after the taper. The taper is flat far beyond the SSB, so applying that residual
    /// after it instead of before changes nothing inside the SSB band.
    pub fn extract(&mut self, raw: &[Complex32], first: u64, shift_hz: f64, out: &mut [Complex32]) {
        assert!(raw.len() == self.n_in);
        self.extract_from(
            |buf| {
                buf.copy_from_slice(raw);
                true
            },
            first,
            shift_hz,
            Complex32::new(0.0, 0.0),
            out,
        );
    }

    /// As [`SsbExtractor::extract`], with `fill` writing the `len_in` input samples straight
    /// into the transform's buffer (saving a copy), and the input's DC offset `dc` taken
    /// out (a constant is input bin 0 alone, so this costs one subtraction); returns false,
    /// leaving `out` alone, if `fill` does.
    pub fn extract_from(
        &mut self,
        fill: impl FnOnce(&mut [Complex32]) -> bool,
        first: u64,
        shift_hz: f64,
        dc: Complex32,
        out: &mut [Complex32],
    ) -> bool {
        assert!(out.len() == self.n_out);
        if !fill(&mut self.buf_in) {
            return false;
        }
        self.fft
            .process_with_scratch(&mut self.buf_in, &mut self.scratch);
        self.buf_in[0] -= dc * self.n_in as f32;
        let (n_in, n_out) = (self.n_in as i64, self.n_out as i64);
        let df = self.fs_in / self.n_in as f64;
        let k0 = (shift_hz / df).round() as i64;
        let resid = shift_hz - k0 as f64 * df;
        // Constant phase at the window start: exp(−j2π (k₀ first / n_in + resid first / fs)),
        // the first term reduced exactly in integers.
        let whole = ((k0 as i128 * first as i128).rem_euclid(n_in as i128)) as f64 / n_in as f64;
        let frac = (resid / self.fs_in * first as f64).fract();
        let ph = -std::f64::consts::TAU * (whole + frac);
        let c = Complex32::new(ph.cos() as f32, ph.sin() as f32) * (1.0 / self.n_in as f32);
        // Output bin kk (signed) takes input bin kk + k₀; the taper is symmetric and zero
        // from `self.half` on (and beyond the input's own Nyquist edge).
        out.fill(Complex32::new(0.0, 0.0));
        let half = self.half as i64;
        let mut src = (k0 - half).rem_euclid(n_in) as usize;
        let mut dst = (-half).rem_euclid(n_out) as usize;
        for _ in -half..half {
            out[dst] = self.buf_in[src] * (c * self.taper[dst]);
            src += 1;
            if src == self.n_in {
                src = 0;
            }
            dst += 1;
            if dst == self.n_out {
                dst = 0;
            }
        }
        self.ifft.process_with_scratch(out, &mut self.scratch);
        Nco::new(-resid, self.fs_p).mix(0, out);
        true
    }
}

/// SSS detection threshold on ρ² (noise: max over 336 ≈ 0.05; 0 dB SSB ≈ 0.25).
pub const SSS_THRESHOLD: f32 = 0.12;

/// An SSB must also show its PSS: ρ² at the timing peak at least this. With the N_ID1
/// known, the SSS check alone passes by chance on PDSCH that loads only a few RBs of the
/// SSB band (a handful of REs carry all the power, so their products correlate with any
/// sequence), and a period probe that believed it would track phantom SSBs. Noise or
/// data give ρ² ≈ 1/127 (above 0.05 with probability e^−6.4 per lag); real SSBs at
/// 5–10 dB SNR stay above it in 99.8 % of occasions even when faded (training split).
pub const PSS_FOUND_MIN: f32 = 0.05;

/// A *new* cell must also show its PBCH DMRS: the best ī_SSB hypothesis's metric (the
/// correlation of channel samples 4 subcarriers apart, ≈ SNR/(SNR + 1) for a real SSB) at
/// least this. A strong cell's PSS and SSS shifted by 86 subcarriers partly match another
/// N_ID2's and N_ID1's (the PSS are one m-sequence cyclically shifted by 43), so a cell at
/// 30 dB SNR passed PSS and SSS as a phantom cell on a raster point 1.3 MHz away (15 kHz
/// SCS, 86.7 SCS) — its DMRS metric was 0.16, noise-like: 144 DMRS give ≈ 0.07 ± 0.04
/// per hypothesis, above 0.25 with probability ≈ 8e-4 over the eight. Real cells: ≥ 0.46
/// at 0 dB SNR, ≥ 0.27 at −3 dB (test `a_strong_cell_makes_no_phantom_cell_on_another_raster_point`).
/// Cells already tracked are followed without it.
pub const DMRS_CONFIRM_MIN: f32 = 0.25;

/// What one SSB looked like.
#[derive(Clone, Debug)]
pub struct SsbObservation {
    /// PSS useful-part start in the processing window (fractional samples at fs_p).
    pub pss_pos_p: f64,
    /// N_ID2.
    pub n_id2: u8,
    /// N_ID1 (best SSS), if the SSS was detected.
    pub n_id1: Option<u16>,
    /// ī_SSB from the DMRS (best hypothesis), if the PCI is known.
    pub i_ssb_bar: Option<u8>,
    /// PSS ρ² at the fine peak.
    pub pss_rho2: f32,
    /// SSS ρ² of the chosen N_ID1.
    pub sss_rho2: f32,
    /// DMRS metric of the best hypothesis and of the second best.
    pub dmrs_metric: (f32, f32),
    /// CFO measured on this SSB (relative to the shift used to extract), Hz.
    pub cfo_hz: f64,
    /// Resource grid (symbol, subcarrier), after CFO correction.
    pub grid: [[Complex32; SSB_SUBCARRIERS]; 4],
    /// The SSB's time-domain samples at fs_p (4 symbols with CPs, [`SSB_LEN_P`] long),
    /// coarse-CFO corrected: the input of the raw-IQ model.
    pub iq: Vec<Complex32>,
    /// |PSS correlation| normalised, at lags −16..=16 around the fine peak.
    pub pss_profile: [f32; 33],
    /// DMRS-based SNR, dB.
    pub snr_db: f64,
    /// PSS ρ² of the best other N_ID2 within the search radius.
    pub other_n_id2_rho2: f32,
}

impl SsbObservation {
    /// PCI, if the SSS was detected.
    pub fn pci(&self) -> Option<u16> {
        self.n_id1.map(|n1| crate::nr::pci(n1, self.n_id2))
    }
}

/// (Σ x·conj(p), Σ |x|²) with eight independent partial sums, so the compiler can keep
/// them in vector registers (a single running sum is bound by the add latency).
fn dot_conj(x: &[Complex32], p: &[Complex32]) -> (Complex32, f32) {
    const L: usize = 8;
    let (mut re, mut im, mut en) = ([0.0f32; L], [0.0f32; L], [0.0f32; L]);
    let xc = x.chunks_exact(L);
    let pc = p.chunks_exact(L);
    let (xr, pr) = (xc.remainder(), pc.remainder());
    for (xs, ps) in xc.zip(pc) {
        let xs: &[Complex32; L] = xs.try_into().expect("chunks of L");
        let ps: &[Complex32; L] = ps.try_into().expect("chunks of L");
        for l in 0..L {
            let (a, b) = (xs[l], ps[l]);
            re[l] += a.re * b.re + a.im * b.im;
            im[l] += a.im * b.re - a.re * b.im;
            en[l] += a.re * a.re + a.im * a.im;
        }
    }
    let mut c = Complex32::new(re.iter().sum(), im.iter().sum());
    let mut e: f32 = en.iter().sum();
    for (a, b) in xr.iter().zip(pr) {
        c += a * b.conj();
        e += a.norm_sqr();
    }
    (c, e)
}

/// |Σ x(j + m)·conj(p(m))|² at many lags j for the three PSS replicas p at once, by FFT.
struct LagCorrelator {
    size: usize,
    fft: Arc<dyn Fft<f32>>,
    ifft: Arc<dyn Fft<f32>>,
    /// conj(FFT(replica)) / size, per N_ID2.
    spec: [Vec<Complex32>; 3],
    x: Vec<Complex32>,
    y: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl LagCorrelator {
    fn new(size: usize, replicas: &[Vec<Complex32>; 3]) -> Self {
        let mut planner = FftPlanner::new();
        let fft = planner.plan_fft_forward(size);
        let ifft = planner.plan_fft_inverse(size);
        let scratch = vec![
            Complex32::new(0.0, 0.0);
            fft.get_inplace_scratch_len()
                .max(ifft.get_inplace_scratch_len())
        ];
        let spec = std::array::from_fn(|n2| {
            let mut r = replicas[n2].clone();
            r.resize(size, Complex32::new(0.0, 0.0));
            fft.process(&mut r);
            r.iter().map(|c| c.conj() / size as f32).collect()
        });
        LagCorrelator {
            size,
            fft,
            ifft,
            spec,
            x: vec![Complex32::new(0.0, 0.0); size],
            y: vec![Complex32::new(0.0, 0.0); size],
            scratch,
        }
    }

    /// Lags `0..n_lags` of `seg` (`n_lags − 1 + 512 ≤ size` samples; no lag wraps).
    fn correlate(&mut self, seg: &[Complex32], n_lags: usize, out: &mut [Vec<f32>; 3]) {
        self.x[..seg.len()].copy_from_slice(seg);
        self.x[seg.len()..].fill(Complex32::new(0.0, 0.0));
        self.fft
            .process_with_scratch(&mut self.x, &mut self.scratch);
        for (spec, o) in self.spec.iter().zip(out.iter_mut()) {
            for ((y, x), s) in self.y.iter_mut().zip(&self.x).zip(spec) {
                *y = x * s;
            }
            self.ifft
                .process_with_scratch(&mut self.y, &mut self.scratch);
            o.clear();
            o.extend(self.y[..n_lags].iter().map(|c| c.norm_sqr()));
        }
    }
}

/// DMRS sequences (all ī_SSB) and RE positions of one PCI.
type DmrsCache = (u16, Vec<[Complex32; 144]>, Vec<(usize, usize)>);

/// Decodes SSBs in processing windows.
pub struct SsbDecoder {
    scs: Scs,
    fs_p: f64,
    pss_td: [Vec<Complex32>; 3],
    pss_seq: [[i8; 127]; 3],
    demod: OfdmDemodulator,
    sym: Vec<Complex32>,
    /// PSS lag correlators by FFT, smallest first.
    lag_ffts: Vec<LagCorrelator>,
    /// ρ² per N_ID2 at the lags of the current decode.
    prof: [Vec<f32>; 3],
    /// Per-lag input energy (reused between SSBs).
    energy: Vec<f32>,
    dmrs_cache: Option<DmrsCache>,
    sss_cache: Vec<Option<Vec<[i8; 127]>>>,
}

impl SsbDecoder {
    /// A decoder for `scs` at fs_p = 512 × SCS.
    pub fn new(scs: Scs) -> Self {
        let n = N_FFT_P;
        let mk = |n2: u8| {
            let d = pss(n2);
            let mut t = vec![Complex32::new(0.0, 0.0); n];
            for (i, &v) in d.iter().enumerate() {
                // Subcarrier 56 + i → bin i − 64.
                let b = i as f64 - 64.0;
                for (m, o) in t.iter_mut().enumerate() {
                    let ph = std::f64::consts::TAU * b * m as f64 / n as f64;
                    *o += Complex32::new(ph.cos() as f32, ph.sin() as f32) * v as f32;
                }
            }
            // Unit RE power, unitary scaling as in the OFDM modulator.
            let s = 1.0 / (n as f32).sqrt();
            t.iter_mut().for_each(|x| *x *= s);
            t
        };
        let pss_td = [mk(0), mk(1), mk(2)];
        SsbDecoder {
            scs,
            fs_p: n as f64 * scs.hz(),
            lag_ffts: [1024, 2048]
                .iter()
                .map(|&size| LagCorrelator::new(size, &pss_td))
                .collect(),
            pss_td,
            pss_seq: [pss(0), pss(1), pss(2)],
            demod: OfdmDemodulator::new(n),
            sym: vec![Complex32::new(0.0, 0.0); n],
            prof: [Vec::new(), Vec::new(), Vec::new()],
            energy: Vec::new(),
            dmrs_cache: None,
            sss_cache: vec![None, None, None],
        }
    }

    /// SCS.
    pub fn scs(&self) -> Scs {
        self.scs
    }

    fn pss_corr(&self, win: &[Complex32], n2: u8, lag: usize) -> (Complex32, Complex32, f32) {
        let p = &self.pss_td[n2 as usize];
        let x = &win[lag..lag + N_FFT_P];
        let h = N_FFT_P / 2;
        let (c1, e1) = dot_conj(&x[..h], &p[..h]);
        let (c2, e2) = dot_conj(&x[h..], &p[h..]);
        (c1, c2, e1 + e2)
    }

    /// ρ² = |Σ x·conj(p)|² / (Σ|x|² · Σ|p|²) of every N_ID2 at lags `lo..lo + n_lags` of
    /// `win`, into `self.prof`: by FFT (one forward, three inverse) when the span fits a
    /// planned size, else lag by lag.
    fn lag_profile(&mut self, win: &[Complex32], lo: usize, n_lags: usize) {
        let seg = &win[lo..lo + n_lags - 1 + N_FFT_P];
        // Energy of each lag's 512 samples from a running sum (f64: no drift).
        let mut energy = std::mem::take(&mut self.energy);
        energy.clear();
        let mut acc: f64 = seg[..N_FFT_P].iter().map(|c| c.norm_sqr() as f64).sum();
        for j in 0..n_lags {
            energy.push(acc as f32);
            if j + 1 < n_lags {
                acc += seg[j + N_FFT_P].norm_sqr() as f64 - seg[j].norm_sqr() as f64;
            }
        }
        let e_p: [f32; 3] =
            std::array::from_fn(|n2| self.pss_td[n2].iter().map(|c| c.norm_sqr()).sum());
        if let Some(lc) = self.lag_ffts.iter_mut().find(|l| l.size >= seg.len()) {
            lc.correlate(seg, n_lags, &mut self.prof);
        } else {
            for n2 in 0..3u8 {
                let prof = &mut self.prof[n2 as usize];
                prof.clear();
                for j in 0..n_lags {
                    let (c, _) = dot_conj(&seg[j..j + N_FFT_P], &self.pss_td[n2 as usize]);
                    prof.push(c.norm_sqr());
                }
            }
        }
        for (n2, prof) in self.prof.iter_mut().enumerate() {
            for (r, &e) in prof.iter_mut().zip(&energy) {
                *r = if e > 0.0 { *r / (e * e_p[n2]) } else { 0.0 };
            }
        }
        self.energy = energy;
    }

    /// Decodes the SSB whose PSS useful part is expected near `expect` (fractional sample
    /// in `win`, at fs_p), searching ±`radius` samples. `known_n1` skips the SSS search.
    pub fn decode(
        &mut self,
        win: &mut [Complex32],
        expect: f64,
        radius: usize,
        n_id2: u8,
        known_n1: Option<u16>,
    ) -> Option<SsbObservation> {
        let centre = expect.round() as i64;
        let lo = centre - radius as i64 - 16;
        let hi = centre + radius as i64 + 16;
        // Room for the whole SSB after the PSS and the profile around it.
        if lo < BACKOFF_P as i64 || hi as usize + SSB_LEN_P + 16 > win.len() {
            return None;
        }
        let n_lags = (hi - lo + 1) as usize;
        self.lag_profile(win, lo as usize, n_lags);
        let mags = &self.prof[n_id2 as usize];
        // Peak inside ±radius.
        let (mut best, mut bi) = (-1.0f32, 0usize);
        for (i, &m) in mags.iter().enumerate().take(mags.len() - 16).skip(16) {
            if m > best {
                best = m;
                bi = i;
            }
        }
        let peak_lag = lo + bi as i64;
        // Parabolic interpolation on |c|.
        let (a, b, c) = (mags[bi - 1].sqrt(), mags[bi].sqrt(), mags[bi + 1].sqrt());
        let den = a - 2.0 * b + c;
        let frac = if den.abs() > 1e-12 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let mut profile = [0.0f32; 33];
        for (k, p) in profile.iter_mut().enumerate() {
            *p = mags[bi + k - 16].sqrt();
        }
        // Other N_ID2 (a spoofer or a neighbour) near the same timing.
        let mut other = 0.0f32;
        for n2 in 0..3u8 {
            if n2 != n_id2 {
                let p = &self.prof[n2 as usize];
                other = p[16..n_lags - 16].iter().fold(other, |a, &r| a.max(r));
            }
        }
        // Coarse CFO from the PSS halves.
        let (c1, c2, _) = self.pss_corr(win, n_id2, peak_lag as usize);
        let half_t = (N_FFT_P / 2) as f64 / self.fs_p;
        let cfo1 = (c2 * c1.conj()).arg() as f64 / (std::f64::consts::TAU * half_t);
        // Undo it over the SSB.
        let start = peak_lag as usize - BACKOFF_P;
        let end = (start + SSB_LEN_P + BACKOFF_P).min(win.len());
        Nco::new(-cfo1, self.fs_p).mix(0, &mut win[start..end]);
        let mut grid = self.demod_grid(win, peak_lag as usize);
        // SSS → N_ID1.
        let (n_id1, sss_rho2) = self.detect_sss(&grid, n_id2, known_n1);
        // Fine CFO from PSS/SSS (and DMRS once the PCI is known), two symbols apart.
        let mut acc = Complex32::new(0.0, 0.0);
        let sss_seq = sss(n_id1, n_id2);
        let pss_seq = self.pss_seq[n_id2 as usize];
        for n in 0..127 {
            let a0 = grid[0][56 + n] * pss_seq[n] as f32;
            let a2 = grid[2][56 + n] * sss_seq[n] as f32;
            acc += a2 * a0.conj();
        }
        let pci = crate::nr::pci(n_id1, n_id2);
        let (ibar, dm, dm2, snr_db) = self.detect_dmrs(&grid, pci);
        {
            let (_, seqs, pos) = self.dmrs_cache.as_ref().expect("set by detect_dmrs");
            let r = &seqs[ibar as usize];
            let s1: Vec<Complex32> = pos
                .iter()
                .zip(r.iter())
                .filter(|((l, _), _)| *l == 1)
                .map(|((l, k), rv)| grid[*l][*k] * rv.conj())
                .collect();
            let s3: Vec<Complex32> = pos
                .iter()
                .zip(r.iter())
                .filter(|((l, _), _)| *l == 3)
                .map(|((l, k), rv)| grid[*l][*k] * rv.conj())
                .collect();
            for (a, b) in s3.iter().zip(&s1) {
                acc += a * b.conj();
            }
        }
        let two_sym = 2.0 * SYM_P as f64 / self.fs_p;
        let cfo2 = acc.arg() as f64 / (std::f64::consts::TAU * two_sym);
        if cfo2.abs() > 1.0 {
            // Apply the residual as a per-symbol phase (the in-symbol ICI of a few hundred
            // Hz is negligible at 15/30 kHz SCS).
            for (l, row) in grid.iter_mut().enumerate() {
                let ph = -std::f64::consts::TAU * cfo2 * (l * SYM_P) as f64 / self.fs_p;
                let r = Complex32::new(ph.cos() as f32, ph.sin() as f32);
                row.iter_mut().for_each(|x| *x *= r);
            }
        }
        let found = sss_rho2 >= SSS_THRESHOLD && best >= PSS_FOUND_MIN;
        Some(SsbObservation {
            pss_pos_p: peak_lag as f64 + frac as f64,
            n_id2,
            n_id1: found.then_some(n_id1),
            i_ssb_bar: found.then_some(ibar),
            pss_rho2: best,
            sss_rho2,
            dmrs_metric: (dm, dm2),
            cfo_hz: cfo1 + cfo2,
            grid,
            iq: win[peak_lag as usize - CP_P..peak_lag as usize - CP_P + SSB_LEN_P].to_vec(),
            pss_profile: profile,
            snr_db,
            other_n_id2_rho2: other,
        })
    }

    fn demod_grid(
        &mut self,
        win: &[Complex32],
        pss_lag: usize,
    ) -> [[Complex32; SSB_SUBCARRIERS]; 4] {
        let mut grid = [[Complex32::new(0.0, 0.0); SSB_SUBCARRIERS]; 4];
        for (l, row) in grid.iter_mut().enumerate() {
            let s = pss_lag + l * SYM_P - BACKOFF_P;
            self.sym.copy_from_slice(&win[s..s + N_FFT_P]);
            self.demod.demodulate(&self.sym, BACKOFF_P, -120, row);
        }
        grid
    }

    fn detect_sss(
        &mut self,
        grid: &[[Complex32; SSB_SUBCARRIERS]; 4],
        n2: u8,
        known: Option<u16>,
    ) -> (u16, f32) {
        let p = self.pss_seq[n2 as usize];
        let mut h = [Complex32::new(0.0, 0.0); 127];
        let mut y = [Complex32::new(0.0, 0.0); 127];
        let (mut eh, mut ey) = (0.0f32, 0.0f32);
        for n in 0..127 {
            h[n] = grid[0][56 + n] * p[n] as f32;
            y[n] = grid[2][56 + n];
            eh += h[n].norm_sqr();
            ey += y[n].norm_sqr();
        }
        let z: Vec<Complex32> = y.iter().zip(&h).map(|(a, b)| a * b.conj()).collect();
        let den = (eh * ey).max(1e-30);
        let table = self.sss_cache[n2 as usize]
            .get_or_insert_with(|| (0..336).map(|n1| sss(n1, n2)).collect());
        let metric = |s: &[i8; 127]| {
            let mut acc = Complex32::new(0.0, 0.0);
            for n in 0..127 {
                acc += z[n] * s[n] as f32;
            }
            acc.norm_sqr() / den
        };
        match known {
            Some(n1) => (n1, metric(&table[n1 as usize])),
            None => {
                let (mut best, mut bn) = (-1.0f32, 0u16);
                for (n1, s) in table.iter().enumerate() {
                    let m = metric(s);
                    if m > best {
                        best = m;
                        bn = n1 as u16;
                    }
                }
                (bn, best)
            }
        }
    }

    /// Best ī_SSB by differential correlation of the DMRS, its metric, the second best,
    /// and the DMRS SNR estimate (dB) for it.
    fn detect_dmrs(
        &mut self,
        grid: &[[Complex32; SSB_SUBCARRIERS]; 4],
        pci: u16,
    ) -> (u8, f32, f32, f64) {
        if self.dmrs_cache.as_ref().map(|c| c.0) != Some(pci) {
            let seqs = (0..8).map(|i| pbch_dmrs(pci, i)).collect();
            let pos = dmrs_positions(pci).collect();
            self.dmrs_cache = Some((pci, seqs, pos));
        }
        let (_, seqs, pos) = self.dmrs_cache.as_ref().expect("just set");
        let mut scores = [0.0f32; 8];
        let mut best = (0u8, -1.0f32);
        let mut hs = vec![Complex32::new(0.0, 0.0); pos.len()];
        for (i, r) in seqs.iter().enumerate() {
            for (m, ((l, k), rv)) in pos.iter().zip(r.iter()).enumerate() {
                hs[m] = grid[*l][*k] * rv.conj();
            }
            let (mut acc, mut e) = (Complex32::new(0.0, 0.0), 0.0f32);
            for m in 0..pos.len() - 1 {
                e += hs[m].norm_sqr();
                // Neighbours in the same symbol and the same run (4 subcarriers apart).
                if pos[m].0 == pos[m + 1].0 && pos[m + 1].1 == pos[m].1 + 4 {
                    acc += hs[m + 1] * hs[m].conj();
                }
            }
            scores[i] = acc.norm() / e.max(1e-30);
            if scores[i] > best.1 {
                best = (i as u8, scores[i]);
            }
        }
        let second = scores
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as u8 != best.0)
            .map(|(_, s)| *s)
            .fold(0.0f32, f32::max);
        // SNR: channel smooth over 4 subcarriers ⇒ noise = E|h_m − h_{m+1}|² / 2.
        let r = &seqs[best.0 as usize];
        for (m, ((l, k), rv)) in pos.iter().zip(r.iter()).enumerate() {
            hs[m] = grid[*l][*k] * rv.conj();
        }
        let (mut d2, mut nd, mut p) = (0.0f64, 0usize, 0.0f64);
        for m in 0..pos.len() {
            p += hs[m].norm_sqr() as f64;
            if m + 1 < pos.len() && pos[m].0 == pos[m + 1].0 && pos[m + 1].1 == pos[m].1 + 4 {
                d2 += (hs[m + 1] - hs[m]).norm_sqr() as f64;
                nd += 1;
            }
        }
        let noise = (d2 / nd.max(1) as f64 / 2.0).max(1e-30);
        let sig = (p / pos.len() as f64 - noise).max(noise * 1e-3);
        (best.0, best.1, second, 10.0 * (sig / noise).log10())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output of the extractor for a unit tone at `f_rel` from the SSB centre, compared
    /// with the ideal (the same tone at fs_p, absolute phase) over the centre half of the
    /// window, where the FFT filter's circular edges do not reach: (worst gain error in
    /// dB, worst error vector relative to the tone, output power in dB).
    fn tone_through(fs_in: f64, shift: f64, f_rel: f64, first: u64) -> (f64, f64, f64) {
        let mut ex = SsbExtractor::new(fs_in, Scs::Khz30).expect("plan");
        let f = shift + f_rel;
        let raw: Vec<Complex32> = (0..ex.len_in())
            .map(|i| {
                let ph = (f / fs_in * (first + i as u64) as f64).fract() * std::f64::consts::TAU;
                Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect();
        let mut out = vec![Complex32::new(0.0, 0.0); ex.len_out()];
        ex.extract(&raw, first, shift, &mut out);
        let (n, ratio) = (ex.len_out(), ex.ratio());
        let (mut gain_err, mut evm, mut pow) = (0.0f64, 0.0f64, 0.0f64);
        for (m, o) in out.iter().enumerate().take(3 * n / 4).skip(n / 4) {
            let t = first as f64 + m as f64 * ratio;
            let ph = (f_rel / fs_in * t).fract() * std::f64::consts::TAU;
            let want = Complex32::new(ph.cos() as f32, ph.sin() as f32);
            gain_err = gain_err.max((20.0 * (o.norm() as f64).log10()).abs());
            evm = evm.max((o - want).norm() as f64);
            pow += o.norm_sqr() as f64;
        }
        (gain_err, evm, crate::dsp::db(pow / (n / 2) as f64))
    }

    #[test]
    fn extractor_response() {
        // 30 kHz SCS: fs_p = 15.36 Msps; flat to ±0.33 fs_p = ±5.07 MHz, zero beyond
        // ±0.47 fs_p = ±7.22 MHz. A shift that is not a whole FFT bin, a start that is
        // not a multiple of anything, two input rates (one a non-power-of-two ratio).
        for fs_in in [30.72e6, 23.04e6] {
            let shift = 2_123_456.7;
            for f_rel in [0.0, 1.0e6, -2.5e6, 3.6e6, -3.6e6, 5.0e6, -5.0e6] {
                let (gain, evm, _) = tone_through(fs_in, shift, f_rel, 123_457);
                eprintln!(
                    "fs {fs_in} tone {f_rel}: gain error {gain:.5} dB, error vector {evm:.2e}"
                );
                // Passband ripple (the SSB spans ±3.6 MHz) and phase: the tone comes out
                // at its absolute phase, so block cuts and window starts do not matter.
                assert!(gain < 0.01, "fs {fs_in} f {f_rel}: gain error {gain} dB");
                assert!(evm < 2e-3, "fs {fs_in} f {f_rel}: error vector {evm}");
            }
            for f_rel in [7.4e6, -7.4e6] {
                let (_, _, p) = tone_through(fs_in, shift, f_rel, 123_457);
                eprintln!("fs {fs_in} tone {f_rel}: output {p:.1} dB");
                // Stopband: the bins are zeroed, so only rounding leaks through.
                assert!(p < -100.0, "fs {fs_in} f {f_rel}: stopband {p} dB");
            }
        }
    }
}
