//! Tapped-delay-line Rayleigh fading with Clarke/Jakes Doppler (sum of sinusoids).

use num_complex::Complex32;

use crate::rng::Rng;

const SINUSOIDS: usize = 16;
/// Tap gains are re-evaluated every this many samples (Doppler ≤ 2 kHz ≪ fs / 32).
const UPDATE: usize = 32;

struct Tap {
    delay: usize,
    amp: f64,
    /// Doppler frequency of each sinusoid (cycles per sample) and its phase.
    freqs: [f64; SINUSOIDS],
    phases: [f64; SINUSOIDS],
}

/// A TDL channel with unit average power gain.
pub struct Tdl {
    taps: Vec<Tap>,
    history: Vec<Complex32>,
    gains: Vec<Complex32>,
}

impl Tdl {
    /// Taps at `delays_ns` with `powers_db` (normalised to unit sum), maximum Doppler
    /// `doppler_hz`, at sample rate `fs`.
    pub fn new(
        delays_ns: &[f64],
        powers_db: &[f64],
        doppler_hz: f64,
        fs: f64,
        rng: &mut Rng,
    ) -> Self {
        let lin: Vec<f64> = powers_db.iter().map(|p| 10f64.powf(p / 10.0)).collect();
        let total: f64 = lin.iter().sum::<f64>().max(1e-30);
        let taps: Vec<Tap> = delays_ns
            .iter()
            .zip(&lin)
            .map(|(&d, &p)| {
                let mut freqs = [0.0; SINUSOIDS];
                let mut phases = [0.0; SINUSOIDS];
                for i in 0..SINUSOIDS {
                    // Clarke: arrival angles spread around the circle, random offset.
                    let alpha =
                        std::f64::consts::TAU * (i as f64 + rng.uniform()) / SINUSOIDS as f64;
                    freqs[i] = doppler_hz * alpha.cos() / fs;
                    phases[i] = std::f64::consts::TAU * rng.uniform();
                }
                Tap {
                    delay: (d * 1e-9 * fs).round() as usize,
                    amp: (p / total / SINUSOIDS as f64).sqrt(),
                    freqs,
                    phases,
                }
            })
            .collect();
        let max_delay = taps.iter().map(|t| t.delay).max().unwrap_or(0);
        Tdl {
            gains: vec![Complex32::new(0.0, 0.0); taps.len()],
            taps,
            history: vec![Complex32::new(0.0, 0.0); max_delay],
        }
    }

    fn gain(tap: &Tap, n: u64) -> Complex32 {
        let mut acc = (0.0f64, 0.0f64);
        for i in 0..SINUSOIDS {
            let ph = std::f64::consts::TAU * (tap.freqs[i] * n as f64).fract() + tap.phases[i];
            acc.0 += ph.cos();
            acc.1 += ph.sin();
        }
        Complex32::new((acc.0 * tap.amp) as f32, (acc.1 * tap.amp) as f32)
    }

    /// Filters `x` (whose first sample has absolute index `start`) in place.
    pub fn process(&mut self, start: u64, x: &mut [Complex32]) {
        let hist = self.history.len();
        // Work on [history | x] so delays reach back across calls.
        let mut ext = Vec::with_capacity(hist + x.len());
        ext.extend_from_slice(&self.history);
        ext.extend_from_slice(x);
        // Gains are evaluated on a grid of absolute sample indices, so block cuts do not
        // change the output.
        let mut grid = u64::MAX;
        for (i, y) in x.iter_mut().enumerate() {
            let n = start + i as u64;
            let aligned = n - n % UPDATE as u64;
            if aligned != grid {
                grid = aligned;
                for (g, t) in self.gains.iter_mut().zip(&self.taps) {
                    *g = Self::gain(t, aligned);
                }
            }
            let idx = hist + i;
            let mut acc = Complex32::new(0.0, 0.0);
            for (g, t) in self.gains.iter().zip(&self.taps) {
                acc += g * ext[idx - t.delay];
            }
            *y = acc;
        }
        if hist > 0 {
            let n = ext.len();
            self.history.copy_from_slice(&ext[n - hist..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_gain_is_unity_and_doppler_varies() {
        let mut rng = Rng::new(3);
        let fs = 7.68e6;
        // Average over many independent channel draws at one instant.
        let mut acc = 0.0;
        let draws = 400;
        for _ in 0..draws {
            let mut ch = Tdl::new(
                &[0.0, 300.0, 900.0],
                &[0.0, -3.0, -6.0],
                100.0,
                fs,
                &mut rng,
            );
            let mut x = vec![Complex32::new(1.0, 0.0); 256];
            ch.process(0, &mut x);
            acc += x[255].norm_sqr() as f64;
        }
        let mean = acc / draws as f64;
        assert!((mean - 1.0).abs() < 0.2, "{mean}");
        // A 100 Hz Doppler decorrelates a tap within ~10 ms.
        let mut ch = Tdl::new(&[0.0], &[0.0], 100.0, fs, &mut rng);
        let mut x = vec![Complex32::new(1.0, 0.0); 80_000];
        ch.process(0, &mut x);
        assert!((x[0] - x[79_999]).norm() > 1e-3);
        // Block cuts do not matter.
        let mut ch1 = Tdl::new(&[0.0, 500.0], &[0.0, -1.0], 50.0, fs, &mut Rng::new(9));
        let mut ch2 = Tdl::new(&[0.0, 500.0], &[0.0, -1.0], 50.0, fs, &mut Rng::new(9));
        let mut r = Rng::new(1);
        let sig: Vec<Complex32> = (0..3000).map(|_| r.qpsk()).collect();
        let mut a = sig.clone();
        ch1.process(0, &mut a);
        let mut b = sig.clone();
        let (b1, b2) = b.split_at_mut(1001);
        ch2.process(0, b1);
        ch2.process(1001, b2);
        assert_eq!(a, b);
    }
}
