//! Streaming PSS search: FFT-based (overlap-save) correlation against the three PSS for
//! every candidate SSB frequency, with coarse CFO hypotheses, at a decimated rate.
//!
//! One forward FFT of `n_in` input samples per hop is shared by all candidates. For each
//! candidate the bins around its PSS band are multiplied by the conjugate spectrum of each
//! PSS replica (one per N_ID2 and CFO hypothesis) and brought back with a small inverse
//! FFT of `n_small` bins, which yields the correlation at lags `j × n_in / n_small`: the
//! frequency shift to the candidate and the decimation are free. The band-limited input's
//! energy over a PSS length normalises each lag, so the metric ρ² ∈ [0, 1] does not depend
//! on the input power (CFAR-like): noise gives ρ² ≈ 1/127 on average, a clean PSS ≈ 1.
//!
//! Two passes share each block's forward FFT: a coarse one (output at the band rate,
//! CFO hypotheses one SCS apart) screens every block, and only blocks where it sees
//! something go through the full one (1.5× oversampled, hypotheses 0.6 SCS apart), which
//! alone decides the peaks. On noise this is ~2/5 of the inverse-FFT work.
//!
//! Blocks are aligned to absolute sample indices (block b starts at b × hop), so the
//! peaks do not depend on how the caller cuts the stream.

use std::sync::Arc;

use num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use crate::nr::{Scs, pss};

/// A frequency to search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// SSB centre minus input centre, Hz.
    pub offset_hz: f64,
    /// SCS.
    pub scs: Scs,
}

/// A PSS detection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PssPeak {
    /// Index into the candidate list.
    pub candidate: usize,
    /// N_ID2.
    pub n_id2: u8,
    /// Absolute input sample where the PSS symbol's useful part (after the CP) starts.
    pub sample: f64,
    /// Normalised correlation ρ².
    pub rho2: f32,
    /// CFO hypothesis that matched best, Hz.
    pub cfo_hz: f64,
}

/// Default detection threshold on ρ². Noise gives ρ² ~ Exp(mean 1/127) per lag, so
/// P(ρ² > 0.2) ≈ e^(−25) per lag and hypothesis (≈ 1e-4 false PSS per second at 30.72
/// Msps with 21 hypotheses); these are then rejected by the SSS check. A PSS at 0 dB
/// in-band SNR gives ρ² ≈ 0.5.
pub const DEFAULT_THRESHOLD: f32 = 0.2;

/// Spacing of the full pass's CFO hypotheses, in SCS. A CFO midway between two hypotheses
/// (0.3 SCS off) costs sinc²(0.3) = −1.3 dB of correlation; 0.5 SCS spacing would cost
/// −0.9 dB for 40 % more work (7 hypotheses instead of 5 over the same span).
pub const HYP_STEP_SCS: f64 = 0.6;

/// Largest CFO hypothesis of the full pass, in SCS: hypotheses 0, ±0.6, ±1.2 SCS cover a CFO of
/// ±1.5 SCS (±22.5 kHz at 15 kHz SCS, ±45 kHz at 30 kHz) within the same −1.3 dB.
pub const HYP_SPAN_SCS: f64 = 1.2;

/// A first, cheaper pass over every block: output at the band rate (no oversampling)
/// and CFO hypotheses one SCS apart (0, ±1 SCS). Only a block where it sees a lag above
/// [`COARSE_THRESHOLD`] is searched by the full pass ([`OVERSAMPLE`], [`HYP_STEP_SCS`]),
/// which alone decides the peaks; on noise that is a few blocks a second, so the search
/// costs about the coarse pass (9 small inverse FFTs per block instead of 15, each
/// two-thirds the size).
///
/// Worst case against a lag the full pass sees: half an output sample off (sinc²(½),
/// −3.9 dB) and half an SCS off a hypothesis (−3.9 dB), with the full pass losing
/// nothing. A PSS at 0 dB in-band SNR (ρ² ≈ ½ at best) still gives ρ² ≈ 0.14 there.
const COARSE_OVERSAMPLE: f64 = 1.0;
/// Coarse hypothesis spacing and span, in SCS.
const COARSE_HYP_STEP_SCS: f64 = 1.0;
const COARSE_HYP_SPAN_SCS: f64 = 1.0;

/// Coarse-pass threshold on ρ². Noise gives P(ρ² > 0.08) ≈ 0.92^126 ≈ 3e-5 per lag and
/// hypothesis; measured on white noise, 5.6 % of the blocks at 30.72 Msps (3.6 % at
/// 7.68) go on to the full pass for nothing. At 0.1 half an SCS off at ±1.5 SCS lost a
/// few PSS at 0 dB in-band SNR that the full pass finds (test
/// `the_coarse_screen_loses_no_pss_at_0_db` fails from 0.12).
pub const COARSE_THRESHOLD: f32 = 0.08;

/// One correlation pass over a candidate: its output grid, replicas and buffers.
struct Stage {
    n_small: usize,
    /// Lag step of the small IFFT output in input samples.
    step: f64,
    /// Big-FFT bin feeding small-IFFT bin 0 (modulo `n_in`).
    sel_lo: i64,
    /// Small-IFFT bins inside the PSS band (± CFO span). Only these are ever non-zero:
    /// the replicas are cut to them, so ρ² ≤ 1 holds (Cauchy–Schwarz) whatever lies
    /// outside, and the oversampled output adds no noise.
    energy_bins: std::ops::Range<usize>,
    /// conj(replica spectrum) on `energy_bins`, [n2][hyp][bin].
    replicas: Vec<Vec<Vec<Complex32>>>,
    hyps_hz: Vec<f64>,
    ifft: Arc<dyn Fft<f32>>,
    /// The input spectrum on `energy_bins` (gathered once per block).
    band: Vec<Complex32>,
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
    energy: Vec<f32>,
    /// Samples of the small output spanning one replica.
    win: usize,
    norm: f32,
}

struct CandState {
    cand: Candidate,
    /// Replica length at the input rate (one OFDM symbol without CP).
    lp: usize,
    fine: Stage,
    coarse: Stage,
    /// Best peak so far per N_ID2 that may still grow.
    pending: [Option<PssPeak>; 3],
}

/// The streaming searcher.
pub struct PssSearch {
    fs: f64,
    n_in: usize,
    hop: usize,
    fft: Arc<dyn Fft<f32>>,
    scratch: Vec<Complex32>,
    spec: Vec<Complex32>,
    /// Buffered input; the next block starts at `acc[acc_off]`.
    acc: Vec<Complex32>,
    acc_off: usize,
    /// Absolute index of `acc[acc_off]` (always a block start).
    acc_start: u64,
    cands: Vec<CandState>,
    threshold: f32,
    best: Vec<f32>,
    found: Vec<PssPeak>,
    /// Known CFO: search only the hypothesis nearest to it ([`PssSearch::set_cfo_hint`]).
    cfo_hint: Option<f64>,
    /// Whether the coarse pass screens blocks (off only to test what it loses).
    screen: bool,
}

/// Smallest even number ≥ `n` whose only prime factors are 2 and 3 (sizes rustfft's AVX
/// kernels handle fastest).
fn smooth_ceil(n: usize) -> usize {
    let mut m = n.max(2);
    loop {
        let mut r = m;
        for p in [2, 3] {
            while r.is_multiple_of(p) {
                r /= p;
            }
        }
        if r == 1 && m.is_multiple_of(2) {
            return m;
        }
        m += 1;
    }
}

fn replica_time(fs: f64, scs: Scs, n_id2: u8, shift_hz: f64, len: usize) -> Vec<Complex32> {
    let d = pss(n_id2);
    let mut out = vec![Complex32::new(0.0, 0.0); len];
    for (n, &v) in d.iter().enumerate() {
        // PSS RE n sits on SSB subcarrier 56 + n, i.e. (n − 64) SCS from the SSB centre.
        let f = (n as f64 - 64.0) * scs.hz() + shift_hz;
        let w = std::f64::consts::TAU * f / fs;
        // Recursive phasor (f64: the error after 4096 steps is ~1e-12).
        let step = num_complex::Complex64::new(w.cos(), w.sin());
        let mut z = num_complex::Complex64::new(v as f64, 0.0);
        for o in out.iter_mut() {
            *o += Complex32::new(z.re as f32, z.im as f32);
            z *= step;
        }
    }
    out
}

/// Oversampling of the full pass's correlation output over the band it holds. At 1× a
/// lag between two output samples loses up to 3.9 dB (sinc² at half a sample); at 1.5×
/// the worst case is 1.4 dB and the mean 0.5 dB, for 25 % less work than 2×.
const OVERSAMPLE: f64 = 1.5;

impl Stage {
    /// A pass over `cand` with output oversampled `oversample` times and CFO hypotheses
    /// spaced `hyp_step` SCS up to ±`hyp_span` SCS; `fft` is the block's forward FFT.
    #[allow(clippy::too_many_arguments)]
    fn new(
        fs: f64,
        cand: Candidate,
        lp: usize,
        oversample: f64,
        hyp_step: f64,
        hyp_span: f64,
        planner: &mut FftPlanner<f32>,
        fft: &Arc<dyn Fft<f32>>,
    ) -> Stage {
        let n_in = fft.len();
        let df = fs / n_in as f64;
        let nh = (hyp_span / hyp_step).round() as i64;
        let scs_hz = cand.scs.hz();
        // Bins spanning the PSS (127 SCs) shifted by the largest CFO covered (the span
        // plus half a step) plus a margin.
        let need = (127.0 + 2.0 * hyp_span + hyp_step + 6.0) * scs_hz;
        let mut n_small = ((oversample * need / df).ceil() as usize).max(64);
        // A size rustfft handles fast, and no larger than the block.
        n_small = smooth_ceil(n_small).min(n_in);
        let step = n_in as f64 / n_small as f64;
        let kc = (cand.offset_hz / df).round() as i64;
        let sel_lo = kc - (n_small as i64) / 2;
        let ifft = planner.plan_fft_inverse(n_small);
        let scratch = vec![Complex32::new(0.0, 0.0); ifft.get_inplace_scratch_len()];
        let half_bins = ((need / 2.0) / df).ceil() as usize;
        let energy_bins =
            (n_small / 2).saturating_sub(half_bins)..(n_small / 2 + half_bins).min(n_small);
        let hyps_hz: Vec<f64> = (-nh..=nh).map(|h| h as f64 * hyp_step * scs_hz).collect();
        let mut replicas = Vec::new();
        let mut big_scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        for n2 in 0..3u8 {
            let mut per_h = Vec::new();
            for &h in &hyps_hz {
                let mut r = replica_time(fs, cand.scs, n2, cand.offset_hz + h, lp);
                r.resize(n_in, Complex32::new(0.0, 0.0));
                fft.process_with_scratch(&mut r, &mut big_scratch);
                let sel_r: Vec<Complex32> = energy_bins
                    .clone()
                    .map(|i| r[(sel_lo + i as i64).rem_euclid(n_in as i64) as usize].conj())
                    .collect();
                per_h.push(sel_r);
            }
            replicas.push(per_h);
        }
        let win = ((lp as f64) / step).round().max(1.0) as usize;
        Stage {
            n_small,
            step,
            sel_lo,
            band: vec![Complex32::new(0.0, 0.0); energy_bins.len()],
            energy_bins,
            replicas,
            hyps_hz,
            buf: vec![Complex32::new(0.0, 0.0); n_small],
            scratch,
            ifft,
            energy: vec![0.0; n_small],
            win,
            norm: 1.0,
        }
    }

    /// Copies the input spectrum's PSS band (`energy_bins`) into `band` and computes
    /// the band-limited energy at every output lag.
    fn load(&mut self, spec: &[Complex32]) {
        let n_in = spec.len() as i64;
        let lo = (self.sel_lo + self.energy_bins.start as i64).rem_euclid(n_in) as usize;
        let len = self.band.len();
        let first = len.min(spec.len() - lo);
        self.band[..first].copy_from_slice(&spec[lo..lo + first]);
        self.band[first..].copy_from_slice(&spec[..len - first]);
        self.band_energy();
    }

    /// Band-limited input energy over one replica length at each output lag.
    fn band_energy(&mut self) {
        let n_small = self.n_small;
        let eb = self.energy_bins.clone();
        self.buf[..eb.start].fill(Complex32::new(0.0, 0.0));
        self.buf[eb.clone()].copy_from_slice(&self.band);
        self.buf[eb.end..].fill(Complex32::new(0.0, 0.0));
        self.ifft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        // The sliding sum runs in f64 (n_small terms of very different sizes).
        let mut acc: f64 = self.buf[..self.win.min(n_small)]
            .iter()
            .map(|c| c.norm_sqr() as f64)
            .sum();
        for j in 0..n_small {
            self.energy[j] = acc.max(0.0) as f32;
            acc -= self.buf[j].norm_sqr() as f64;
            if j + self.win < n_small {
                acc += self.buf[j + self.win].norm_sqr() as f64;
            }
        }
    }

    /// Correlation of the loaded band with the replica of N_ID2 `n2` and hypothesis
    /// `h`, left in `buf` (|·|² divided by the band energy times `norm` is ρ²).
    fn correlate(&mut self, n2: usize, h: usize) {
        let rep = &self.replicas[n2][h];
        let eb = self.energy_bins.clone();
        self.buf[..eb.start].fill(Complex32::new(0.0, 0.0));
        for ((b, x), r) in self.buf[eb.clone()].iter_mut().zip(&self.band).zip(rep) {
            *b = x * r;
        }
        self.buf[eb.end..].fill(Complex32::new(0.0, 0.0));
        self.ifft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
    }

    /// Output lags whose whole replica lies inside a block of `n_in` (and no more than
    /// one hop of them).
    fn valid(&self, n_in: usize, hop: usize, lp: usize) -> usize {
        let v = ((n_in - lp) as f64 / self.step).floor() as usize;
        v.min(((hop as f64) / self.step).ceil() as usize)
    }

    /// Input sample of the last valid lag of the block starting at `start`.
    fn last_lag(&self, start: u64, n_in: usize, hop: usize, lp: usize) -> f64 {
        start as f64 + self.valid(n_in, hop, lp).saturating_sub(1) as f64 * self.step
    }

    /// Whether any valid lag reaches ρ² ≥ `threshold` for some N_ID2 and hypothesis.
    fn any_above(&mut self, valid: usize, threshold: f32) -> bool {
        let scale = threshold / self.norm;
        for n2 in 0..3 {
            for h in 0..self.hyps_hz.len() {
                self.correlate(n2, h);
                let hit = self.buf[..valid]
                    .iter()
                    .zip(&self.energy[..valid])
                    .any(|(c, &e)| c.norm_sqr() >= scale * e && e > 0.0);
                if hit {
                    return true;
                }
            }
        }
        false
    }
}

/// Emits a held peak once the search is more than one replica (`lp`) past it at
/// `last_sample`.
fn release(held: &mut Option<PssPeak>, last_sample: f64, lp: usize, found: &mut Vec<PssPeak>) {
    if let Some(p) = held
        && last_sample > p.sample + lp as f64
    {
        found.push(*p);
        *held = None;
    }
}

impl PssSearch {
    /// A searcher over `cands` at input rate `fs`, with CFO hypotheses spaced `hyp_step`
    /// SCS up to ±`hyp_span` SCS.
    pub fn new(fs: f64, cands: &[Candidate], hyp_step: f64, hyp_span: f64, threshold: f32) -> Self {
        let lp_max = cands
            .iter()
            .map(|c| (fs / c.scs.hz()).round() as usize)
            .max()
            .unwrap_or(256);
        // Four replicas per block: 3/4 of every transform is new output, and the search
        // latency (two blocks) stays ≈ 12 symbols.
        let n_in = (4 * lp_max).next_power_of_two().max(512);
        let hop = n_in - lp_max;
        let mut planner = FftPlanner::new();
        let fft = planner.plan_fft_forward(n_in);
        let states = cands
            .iter()
            .map(|&cand| {
                let lp = (fs / cand.scs.hz()).round() as usize;
                let mut stage = |over, step, span| {
                    Stage::new(fs, cand, lp, over, step, span, &mut planner, &fft)
                };
                CandState {
                    cand,
                    lp,
                    fine: stage(OVERSAMPLE, hyp_step, hyp_span),
                    coarse: stage(COARSE_OVERSAMPLE, COARSE_HYP_STEP_SCS, COARSE_HYP_SPAN_SCS),
                    pending: [None; 3],
                }
            })
            .collect();
        let mut s = PssSearch {
            fs,
            n_in,
            hop,
            scratch: vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()],
            fft,
            spec: vec![Complex32::new(0.0, 0.0); n_in],
            acc: Vec::with_capacity(2 * n_in),
            acc_off: 0,
            acc_start: 0,
            cands: states,
            threshold,
            best: Vec::new(),
            found: Vec::new(),
            cfo_hint: None,
            screen: true,
        };
        s.calibrate();
        s
    }

    /// Input samples per FFT block.
    pub fn block_len(&self) -> usize {
        self.n_in
    }

    /// Samples between block starts.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Lag step of candidate `cand`'s correlation output, in input samples (the timing
    /// uncertainty of a peak is half of it).
    pub fn step(&self, cand: usize) -> f64 {
        self.cands.get(cand).map_or(1.0, |c| c.fine.step)
    }

    /// Latency: samples after a PSS before it can be reported (one block plus the peak
    /// hold).
    pub fn latency(&self) -> usize {
        2 * self.n_in
    }

    /// Sets each stage's normaliser so that a clean replica gives ρ² = 1.
    fn calibrate(&mut self) {
        for c in &mut self.cands {
            let mut x = replica_time(self.fs, c.cand.scs, 0, c.cand.offset_hz, c.lp);
            x.resize(self.n_in, Complex32::new(0.0, 0.0));
            self.spec.copy_from_slice(&x);
            self.fft
                .process_with_scratch(&mut self.spec, &mut self.scratch);
            for st in [&mut c.fine, &mut c.coarse] {
                st.norm = 1.0;
                let mid = st.hyps_hz.len() / 2;
                st.load(&self.spec);
                st.correlate(0, mid);
                let (c0, e0) = (st.buf[0].norm_sqr(), st.energy[0]);
                st.norm = if c0 > 0.0 { e0 / c0 } else { 1.0 };
            }
        }
    }

    /// Feeds samples (contiguous with the previous call; use [`PssSearch::reset`] after a
    /// gap) and appends peaks to `out`.
    pub fn push(&mut self, first: u64, samples: &[Complex32], out: &mut Vec<PssPeak>) {
        if self.acc.len() == self.acc_off {
            // Nothing buffered: align to the block grid.
            self.acc.clear();
            self.acc_off = 0;
            let next_block = first.div_ceil(self.hop as u64) * self.hop as u64;
            let skip = (next_block - first) as usize;
            if skip >= samples.len() {
                return;
            }
            self.acc_start = next_block;
            self.acc.extend_from_slice(&samples[skip..]);
        } else {
            self.acc.extend_from_slice(samples);
        }
        while self.acc.len() - self.acc_off >= self.n_in {
            self.process_block(out);
            self.acc_off += self.hop;
            self.acc_start += self.hop as u64;
        }
        // Compact once per call, not once per block.
        self.acc.drain(..self.acc_off);
        self.acc_off = 0;
    }

    /// With `Some(cfo_hz)` only the CFO hypothesis nearest to `cfo_hz` is searched (a
    /// fifth of the work with the default five); `None` searches them all. Used for
    /// re-acquisition while a cell is tracked: every cell a receiver sees shares its local
    /// oscillator's error, and base stations hold their carrier to ±0.05 ppm (wide area,
    /// TS 38.104 §6.5.1; ±0.1 ppm medium range and local area), ±0.6 kHz at 6 GHz, far
    /// inside one hypothesis's ±0.3 SCS, so a new cell's CFO is the tracked cell's.
    pub fn set_cfo_hint(&mut self, cfo_hz: Option<f64>) {
        self.cfo_hint = cfo_hz;
    }

    /// Forgets buffered samples and pending peaks (after a discontinuity).
    pub fn reset(&mut self, out: &mut Vec<PssPeak>) {
        self.flush(out);
        self.acc.clear();
        self.acc_off = 0;
    }

    /// Emits peaks still held.
    pub fn flush(&mut self, out: &mut Vec<PssPeak>) {
        for st in &mut self.cands {
            for p in st.pending.iter_mut() {
                if let Some(pk) = p.take() {
                    out.push(pk);
                }
            }
        }
        out.sort_by(|a, b| a.sample.total_cmp(&b.sample));
    }

    fn process_block(&mut self, out: &mut Vec<PssPeak>) {
        let a = self.acc_off;
        self.spec.copy_from_slice(&self.acc[a..a + self.n_in]);
        self.fft
            .process_with_scratch(&mut self.spec, &mut self.scratch);
        let start = self.acc_start;
        self.found.clear();
        for (ci, cs) in self.cands.iter_mut().enumerate() {
            let lp = cs.lp;
            let hyps = match self.cfo_hint {
                Some(f) => {
                    let st = &cs.fine;
                    let h = (0..st.hyps_hz.len())
                        .min_by(|&a, &b| {
                            (st.hyps_hz[a] - f)
                                .abs()
                                .total_cmp(&(st.hyps_hz[b] - f).abs())
                        })
                        .unwrap_or(0);
                    h..h + 1
                }
                None if !self.screen => 0..cs.fine.hyps_hz.len(),
                None => {
                    // The coarse pass screens the block; the full pass decides.
                    cs.coarse.load(&self.spec);
                    let valid = cs.coarse.valid(self.n_in, self.hop, lp);
                    if !cs.coarse.any_above(valid, COARSE_THRESHOLD) {
                        // Held peaks end where the full pass would have ended them.
                        let last = cs.fine.last_lag(start, self.n_in, self.hop, lp);
                        for p in cs.pending.iter_mut() {
                            release(p, last, lp, &mut self.found);
                        }
                        continue;
                    }
                    0..cs.fine.hyps_hz.len()
                }
            };
            let st = &mut cs.fine;
            st.load(&self.spec);
            let valid = st.valid(self.n_in, self.hop, lp);
            // A lag passes when |c|² ≥ threshold · energy / norm.
            let scale = self.threshold / st.norm;
            let last_sample = st.last_lag(start, self.n_in, self.hop, lp);
            // The hypothesis index rides in the low mantissa bits of |c|² (a relative
            // change < 1e-6), so the running maximum over hypotheses is a plain f32 max
            // that vectorises, and the winner is read back from the bits.
            let hbits = usize::BITS - (st.hyps_hz.len().max(2) - 1).leading_zeros();
            let hmask = (1u32 << hbits) - 1;
            for n2 in 0..3 {
                self.best.clear();
                self.best.resize(valid, 0.0);
                for h in hyps.clone() {
                    st.correlate(n2, h);
                    for (c, b) in st.buf[..valid].iter().zip(self.best.iter_mut()) {
                        let p = f32::from_bits((c.norm_sqr().to_bits() & !hmask) | h as u32);
                        *b = b.max(p);
                    }
                }
                let pend = &mut cs.pending[n2];
                for j in 0..valid {
                    if self.best[j] < scale * st.energy[j] || st.energy[j] <= 0.0 {
                        continue;
                    }
                    let r = self.best[j] / st.energy[j] * st.norm;
                    let sample = start as f64 + j as f64 * st.step;
                    release(pend, sample, lp, &mut self.found);
                    let cand_peak = PssPeak {
                        candidate: ci,
                        n_id2: n2 as u8,
                        sample,
                        rho2: r,
                        cfo_hz: st.hyps_hz[(self.best[j].to_bits() & hmask) as usize],
                    };
                    match pend {
                        Some(p) if p.rho2 >= r => {}
                        _ => *pend = Some(cand_peak),
                    }
                }
                release(pend, last_sample, lp, &mut self.found);
            }
        }
        self.found.sort_by(|a, b| a.sample.total_cmp(&b.sample));
        out.extend_from_slice(&self.found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn search(fs: f64, off: f64, scs: Scs, x: &[Complex32], block: usize) -> Vec<PssPeak> {
        search_hinted(fs, off, scs, x, block, None)
    }

    fn search_hinted(
        fs: f64,
        off: f64,
        scs: Scs,
        x: &[Complex32],
        block: usize,
        hint: Option<f64>,
    ) -> Vec<PssPeak> {
        let mut s = PssSearch::new(
            fs,
            &[Candidate {
                offset_hz: off,
                scs,
            }],
            HYP_STEP_SCS,
            HYP_SPAN_SCS,
            DEFAULT_THRESHOLD,
        );
        s.set_cfo_hint(hint);
        let mut out = Vec::new();
        let mut pos = 0u64;
        for c in x.chunks(block) {
            s.push(pos, c, &mut out);
            pos += c.len() as u64;
        }
        s.flush(&mut out);
        out
    }

    #[test]
    fn finds_a_pss_in_noise_with_cfo_and_not_in_noise_alone() {
        let fs = 15.36e6;
        let scs = Scs::Khz30;
        let off = 2.1e6;
        let mut rng = Rng::new(4);
        let n = 60_000;
        let mut x: Vec<Complex32> = (0..n).map(|_| rng.complex_gaussian(1.0)).collect();
        // Noise alone: nothing.
        let noise_peaks = search(fs, off, scs, &x, 7777);
        assert!(noise_peaks.is_empty(), "{noise_peaks:?}");
        // PSS (N_ID2 = 1) with CFO 1.2 SCS at 0 dB in-band SNR: in-band noise is
        // 127·30 kHz / 15.36 MHz of the total.
        let cfo = 1.2 * 30e3;
        let lp = 512;
        let rep = replica_time(fs, scs, 1, off + cfo, lp);
        let rp: f64 = rep.iter().map(|c| c.norm_sqr() as f64).sum::<f64>() / lp as f64;
        let noise_in_band = 127.0 * 30e3 / fs;
        let g = (noise_in_band / rp).sqrt() as f32;
        let at = 31_337usize;
        for (i, r) in rep.iter().enumerate() {
            x[at + i] += r * g;
        }
        let peaks = search(fs, off, scs, &x, 7777);
        assert_eq!(peaks.len(), 1, "{peaks:?}");
        let p = peaks[0];
        assert_eq!(p.n_id2, 1);
        assert!((p.sample - at as f64).abs() <= 2.0 * 4.0, "{}", p.sample);
        assert!(
            (p.cfo_hz - cfo).abs() <= HYP_STEP_SCS / 2.0 * 30e3 + 1.0,
            "{}",
            p.cfo_hz
        );
        assert!(p.rho2 > 0.3, "{}", p.rho2);
        // Block cuts do not matter.
        assert_eq!(search(fs, off, scs, &x, 1000), peaks);
        // With the CFO known to within a hypothesis, one hypothesis finds it too; a hint
        // two hypotheses off loses it (the hint really restricts the search).
        let hinted = |hint: f64| search_hinted(fs, off, scs, &x, 7777, Some(hint));
        let near = hinted(cfo - 5e3);
        assert_eq!(near.len(), 1, "{near:?}");
        assert_eq!((near[0].n_id2, near[0].sample), (p.n_id2, p.sample));
        assert_eq!(near[0].cfo_hz, p.cfo_hz);
        assert!(hinted(-cfo).is_empty());
    }

    /// The coarse screen costs no detection at 0 dB in-band SNR over the whole CFO range
    /// the search covers (±1.5 SCS, incl. the worst case half an SCS between coarse
    /// hypotheses) and any timing against the block and lag grids: wherever the full
    /// pass alone finds the PSS, the screened search finds it too, at the same lag.
    #[test]
    fn the_coarse_screen_loses_no_pss_at_0_db() {
        let (fs, scs, lp) = (7.68e6, Scs::Khz30, 256);
        let cand = [Candidate {
            offset_hz: 0.0,
            scs,
        }];
        let run = |x: &[Complex32], screen: bool| {
            let mut s = PssSearch::new(fs, &cand, HYP_STEP_SCS, HYP_SPAN_SCS, DEFAULT_THRESHOLD);
            s.screen = screen;
            let mut out = Vec::new();
            s.push(0, x, &mut out);
            s.flush(&mut out);
            out
        };
        for (i, cfo_scs) in [0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5]
            .into_iter()
            .enumerate()
        {
            for t in 0..8u64 {
                let mut rng = Rng::new(1000 + 10 * i as u64 + t);
                let mut x: Vec<Complex32> = (0..8000).map(|_| rng.complex_gaussian(1.0)).collect();
                let rep = replica_time(fs, scs, (t % 3) as u8, cfo_scs * 30e3, lp);
                let rp = rep.iter().map(|c| c.norm_sqr() as f64).sum::<f64>() / lp as f64;
                let g = ((127.0 * 30e3 / fs) / rp).sqrt() as f32;
                // Timings spread over a block and over the lag grid.
                let at = 3000 + (t as usize * 97) % 768;
                for (k, r) in rep.iter().enumerate() {
                    x[at + k] += r * g;
                }
                let hit = |peaks: &[PssPeak]| {
                    peaks
                        .iter()
                        .find(|p| p.n_id2 == (t % 3) as u8 && (p.sample - at as f64).abs() < 4.0)
                        .map(|p| p.sample)
                };
                let full = hit(&run(&x, false));
                assert!(full.is_some(), "full pass, CFO {cfo_scs} SCS, PSS at {at}");
                assert_eq!(hit(&run(&x, true)), full, "CFO {cfo_scs} SCS, PSS at {at}");
            }
        }
    }
}
