//! OFDM numerology, modulation and demodulation with normal cyclic prefix
//! (TS 38.211 §5.3.1).
//!
//! At a sample rate `fs = N_FFT × SCS` the useful symbol is `N_FFT` samples, the normal CP
//! `144/2048 × N_FFT` samples and the first symbol of every half subframe (0.5 ms) gets
//! `16 κ T_c = fs / 1.92 MHz` extra samples. Both must be integers, so `N_FFT` must be a
//! multiple of 128: 3.84, 7.68, 11.52, 15.36, 23.04, 30.72, 46.08, 61.44 Msps all work.

use std::sync::Arc;

use num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use super::{NrError, Scs};

/// Timing facts of one numerology at one sample rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Numerology {
    /// Subcarrier spacing.
    pub scs: Scs,
    /// Sample rate.
    pub sample_rate_hz: f64,
    /// FFT size = sample rate / SCS.
    pub n_fft: usize,
    /// Normal cyclic prefix in samples.
    pub cp: usize,
    /// Extra CP samples of the first symbol of each half subframe.
    pub cp_extra: usize,
}

impl Numerology {
    /// Validates `sample_rate_hz` for `scs`.
    pub fn new(scs: Scs, sample_rate_hz: f64) -> Result<Numerology, NrError> {
        let bad = || NrError::SampleRate {
            sample_rate_hz,
            scs_khz: scs.khz(),
            example: format!("{} Hz", 256.0 * scs.hz()),
        };
        if !sample_rate_hz.is_finite() || sample_rate_hz <= 0.0 {
            return Err(bad());
        }
        let n = sample_rate_hz / scs.hz();
        if (n - n.round()).abs() > 1e-6 {
            return Err(bad());
        }
        let n_fft = n.round() as usize;
        if !n_fft.is_multiple_of(128) || n_fft == 0 {
            return Err(bad());
        }
        if n_fft < 256 {
            return Err(NrError::FftTooSmall { n_fft });
        }
        Ok(Numerology {
            scs,
            sample_rate_hz,
            n_fft,
            cp: n_fft * 9 / 128,
            cp_extra: (n_fft << scs.mu()) / 128,
        })
    }

    /// Symbols in a half subframe (0.5 ms): 7 × 2^μ.
    pub fn symbols_per_half_subframe(&self) -> usize {
        7 << self.scs.mu()
    }

    /// Cyclic prefix of symbol `l` (counted from any half-subframe boundary, e.g. from the
    /// start of a half frame).
    pub fn cp_len(&self, l: usize) -> usize {
        if l.is_multiple_of(self.symbols_per_half_subframe()) {
            self.cp + self.cp_extra
        } else {
            self.cp
        }
    }

    /// Length of symbol `l` with its CP.
    pub fn symbol_len(&self, l: usize) -> usize {
        self.n_fft + self.cp_len(l)
    }

    /// Samples in 0.5 ms.
    pub fn half_subframe_len(&self) -> usize {
        self.symbols_per_half_subframe() * (self.n_fft + self.cp) + self.cp_extra
    }

    /// Offset (first CP sample) of symbol `l` from the start of a half frame.
    pub fn symbol_start(&self, l: usize) -> usize {
        let per = self.symbols_per_half_subframe();
        let whole = l / per;
        let rest = l % per;
        let mut s = whole * self.half_subframe_len();
        if rest > 0 {
            s += self.cp_extra + rest * (self.n_fft + self.cp);
        }
        s
    }

    /// Samples in a half frame (5 ms).
    pub fn half_frame_len(&self) -> usize {
        10 * self.half_subframe_len()
    }

    /// Samples from the start of SSB symbol 0 (its CP) to the end of symbol 3, for an SSB
    /// whose first symbol is `l0` in the half frame.
    pub fn ssb_len(&self, l0: usize) -> usize {
        self.symbol_start(l0 + 4) - self.symbol_start(l0)
    }
}

fn bin(first_bin: isize, i: usize, n: usize) -> usize {
    (first_bin + i as isize).rem_euclid(n as isize) as usize
}

/// OFDM modulator: subcarriers → one time-domain symbol with CP. Unitary scaling: a
/// symbol with `K` unit-power subcarriers has mean sample power `K / N_FFT`.
pub struct OfdmModulator {
    n_fft: usize,
    ifft: Arc<dyn Fft<f32>>,
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
    scale: f32,
}

impl OfdmModulator {
    /// Plans an inverse FFT of `n_fft` points.
    pub fn new(n_fft: usize) -> Self {
        let ifft = FftPlanner::new().plan_fft_inverse(n_fft);
        let scratch = vec![Complex32::new(0.0, 0.0); ifft.get_inplace_scratch_len()];
        OfdmModulator {
            n_fft,
            ifft,
            buf: vec![Complex32::new(0.0, 0.0); n_fft],
            scratch,
            scale: 1.0 / (n_fft as f32).sqrt(),
        }
    }

    /// Modulates `subcarriers`, subcarrier `i` on FFT bin `first_bin + i` (negative bins
    /// are below DC), with a CP of `cp` samples, writing `cp + n_fft` samples to `out`.
    ///
    /// Panics if `out` is not `cp + n_fft` long or more subcarriers than bins are given.
    pub fn modulate(
        &mut self,
        subcarriers: &[Complex32],
        first_bin: isize,
        cp: usize,
        out: &mut [Complex32],
    ) {
        assert!(subcarriers.len() <= self.n_fft && out.len() == cp + self.n_fft);
        self.buf.fill(Complex32::new(0.0, 0.0));
        for (i, &x) in subcarriers.iter().enumerate() {
            self.buf[bin(first_bin, i, self.n_fft)] = x;
        }
        self.ifft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let n = self.n_fft;
        for (o, &b) in out[cp..].iter_mut().zip(&self.buf) {
            *o = b * self.scale;
        }
        for (o, &b) in out[..cp].iter_mut().zip(&self.buf[n - cp..]) {
            *o = b * self.scale;
        }
    }
}

/// OFDM demodulator: one useful symbol (no CP) → subcarriers, unitary scaling.
pub struct OfdmDemodulator {
    n_fft: usize,
    fft: Arc<dyn Fft<f32>>,
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
    scale: f32,
    /// exp(+j2πk·b/N) for every bin k (index k mod N) and the backoff b it was made for.
    rot: Vec<Complex32>,
    rot_backoff: usize,
}

impl OfdmDemodulator {
    /// Plans a forward FFT of `n_fft` points.
    pub fn new(n_fft: usize) -> Self {
        let fft = FftPlanner::new().plan_fft_forward(n_fft);
        let scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        OfdmDemodulator {
            n_fft,
            fft,
            buf: vec![Complex32::new(0.0, 0.0); n_fft],
            scratch,
            scale: 1.0 / (n_fft as f32).sqrt(),
            rot: vec![Complex32::new(1.0, 0.0); n_fft],
            rot_backoff: 0,
        }
    }

    /// FFT size.
    pub fn n_fft(&self) -> usize {
        self.n_fft
    }

    /// Demodulates `n_fft` samples that start `backoff` samples before the end of the CP
    /// (a receiver cuts a little into the CP to tolerate timing error); the phase ramp
    /// this causes is removed. Writes `out.len()` subcarriers from bin `first_bin` up.
    pub fn demodulate(
        &mut self,
        useful: &[Complex32],
        backoff: usize,
        first_bin: isize,
        out: &mut [Complex32],
    ) {
        assert!(useful.len() == self.n_fft && out.len() <= self.n_fft);
        self.buf.copy_from_slice(useful);
        self.fft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let n = self.n_fft as isize;
        if backoff != self.rot_backoff {
            // Starting `backoff` samples early delays nothing but rotates bin k by
            // exp(−j2πk·backoff/N); this table undoes it (built once per backoff).
            for (k, r) in self.rot.iter_mut().enumerate() {
                let kb = (k * backoff) % self.n_fft;
                let ph = std::f64::consts::TAU * kb as f64 / self.n_fft as f64;
                *r = Complex32::new(ph.cos() as f32, ph.sin() as f32);
            }
            self.rot_backoff = backoff;
        }
        for (i, o) in out.iter_mut().enumerate() {
            let k = (first_bin + i as isize).rem_euclid(n) as usize;
            *o = self.buf[k] * self.scale * self.rot[k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn numerology_at_standard_rates() {
        let n = Numerology::new(Scs::Khz30, 30.72e6).unwrap();
        assert_eq!((n.n_fft, n.cp, n.cp_extra), (1024, 72, 16));
        let n = Numerology::new(Scs::Khz15, 30.72e6).unwrap();
        assert_eq!((n.n_fft, n.cp, n.cp_extra), (2048, 144, 16));
        let n = Numerology::new(Scs::Khz30, 7.68e6).unwrap();
        assert_eq!((n.n_fft, n.cp, n.cp_extra), (256, 18, 4));
        let n = Numerology::new(Scs::Khz15, 3.84e6).unwrap();
        assert_eq!((n.n_fft, n.cp, n.cp_extra), (256, 18, 2));
        let n = Numerology::new(Scs::Khz15, 11.52e6).unwrap();
        assert_eq!((n.n_fft, n.cp, n.cp_extra), (768, 54, 6));
        for fs in [
            3.84e6, 7.68e6, 11.52e6, 15.36e6, 23.04e6, 30.72e6, 46.08e6, 61.44e6,
        ] {
            for scs in [Scs::Khz15, Scs::Khz30] {
                if let Ok(n) = Numerology::new(scs, fs) {
                    // A half frame is exactly 5 ms.
                    assert_eq!(n.half_frame_len() as f64, fs * 5e-3, "{scs:?} {fs}");
                    assert_eq!(
                        n.symbol_start(scs.symbols_per_half_frame()),
                        n.half_frame_len()
                    );
                }
            }
        }
        assert!(Numerology::new(Scs::Khz30, 10e6).is_err());
        assert!(Numerology::new(Scs::Khz30, 3.84e6).is_err());
        assert!(Numerology::new(Scs::Khz15, f64::NAN).is_err());
    }

    #[test]
    fn symbol_starts_accumulate_lengths() {
        let n = Numerology::new(Scs::Khz30, 7.68e6).unwrap();
        let mut t = 0;
        for l in 0..140 {
            assert_eq!(n.symbol_start(l), t, "l={l}");
            t += n.symbol_len(l);
        }
    }

    /// Naive DFT oracle.
    fn dft(x: &[Complex32]) -> Vec<Complex32> {
        let n = x.len();
        (0..n)
            .map(|k| {
                let mut acc = num_complex::Complex64::new(0.0, 0.0);
                for (t, v) in x.iter().enumerate() {
                    let ph = -2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64;
                    acc += num_complex::Complex64::new(v.re as f64, v.im as f64)
                        * num_complex::Complex64::new(ph.cos(), ph.sin());
                }
                Complex32::new(acc.re as f32, acc.im as f32) / (n as f32).sqrt()
            })
            .collect()
    }

    #[test]
    fn modulate_matches_naive_dft_and_cp_is_cyclic() {
        let n_fft = 256;
        let mut rng = Rng::new(1);
        let sc: Vec<Complex32> = (0..240).map(|_| rng.qpsk()).collect();
        let mut m = OfdmModulator::new(n_fft);
        let cp = 18;
        let mut out = vec![Complex32::new(0.0, 0.0); cp + n_fft];
        m.modulate(&sc, -120, cp, &mut out);
        assert_eq!(&out[..cp], &out[n_fft..]);
        let spec = dft(&out[cp..]);
        for (i, s) in sc.iter().enumerate() {
            let b = (i as isize - 120).rem_euclid(n_fft as isize) as usize;
            assert!((spec[b] - s).norm() < 1e-4);
        }
        // Unused bins are empty.
        for s in &spec[120..136] {
            assert!(s.norm() < 1e-4);
        }
    }

    #[test]
    fn round_trip_with_backoff() {
        let n_fft = 512;
        let mut rng = Rng::new(9);
        let sc: Vec<Complex32> = (0..240).map(|_| rng.qpsk()).collect();
        let mut m = OfdmModulator::new(n_fft);
        let mut d = OfdmDemodulator::new(n_fft);
        let cp = 36;
        let mut sym = vec![Complex32::new(0.0, 0.0); cp + n_fft];
        m.modulate(&sc, 17, cp, &mut sym);
        let mut got = vec![Complex32::new(0.0, 0.0); 240];
        for backoff in [0, 5, 18] {
            d.demodulate(
                &sym[cp - backoff..cp - backoff + n_fft],
                backoff,
                17,
                &mut got,
            );
            for (a, b) in got.iter().zip(&sc) {
                assert!((a - b).norm() < 1e-4, "backoff {backoff}");
            }
        }
    }
}
