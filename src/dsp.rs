//! Small DSP kernels shared by the generator and the receiver.

use num_complex::{Complex32, Complex64};

/// Numerically controlled oscillator: multiplies by exp(j2π f n / fs) with `n` the
/// absolute sample index, so results do not depend on how a stream is cut into blocks.
///
/// The phasor is recomputed exactly (in f64) at the start of every call and every 1024
/// samples, and advanced by complex multiplication in between.
#[derive(Clone, Copy, Debug)]
pub struct Nco {
    /// Cycles per sample.
    cycles_per_sample: f64,
}

impl Nco {
    /// An oscillator at `freq_hz` for sample rate `fs`.
    pub fn new(freq_hz: f64, fs: f64) -> Self {
        Nco {
            cycles_per_sample: freq_hz / fs,
        }
    }

    /// Frequency in cycles per sample.
    pub fn cycles_per_sample(&self) -> f64 {
        self.cycles_per_sample
    }

    /// exp(j2π f n / fs) for absolute sample `n`.
    pub fn phasor_at(&self, n: u64) -> Complex64 {
        // Reduce in exact integer-times-fraction form to keep precision for large n.
        let ph = (self.cycles_per_sample * n as f64).fract();
        let ph = ph * std::f64::consts::TAU;
        Complex64::new(ph.cos(), ph.sin())
    }

    /// `x[i] *= exp(j2π f (start + i) / fs)`.
    pub fn mix(&self, start: u64, x: &mut [Complex32]) {
        if self.cycles_per_sample == 0.0 {
            return;
        }
        let step = {
            let ph = self.cycles_per_sample.fract() * std::f64::consts::TAU;
            Complex64::new(ph.cos(), ph.sin())
        };
        for (b, chunk) in x.chunks_mut(1024).enumerate() {
            let mut z = self.phasor_at(start + (b * 1024) as u64);
            for v in chunk {
                let zc = Complex32::new(z.re as f32, z.im as f32);
                *v *= zc;
                z *= step;
            }
        }
    }

    /// `out[i] += a * exp(j2π f (start + i) / fs)` (a tone).
    pub fn add_tone(&self, start: u64, a: Complex32, out: &mut [Complex32]) {
        let ph = self.cycles_per_sample.fract() * std::f64::consts::TAU;
        let step = Complex64::new(ph.cos(), ph.sin());
        let a = Complex64::new(a.re as f64, a.im as f64);
        for (b, chunk) in out.chunks_mut(1024).enumerate() {
            let mut z = self.phasor_at(start + (b * 1024) as u64) * a;
            for v in chunk {
                *v += Complex32::new(z.re as f32, z.im as f32);
                z *= step;
            }
        }
    }
}

/// Mean power of a block.
pub fn mean_power(x: &[Complex32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    x.iter().map(|c| c.norm_sqr() as f64).sum::<f64>() / x.len() as f64
}

/// dB of a power ratio (floored at −300 dB).
pub fn db(p: f64) -> f64 {
    10.0 * p.max(1e-30).log10()
}

/// Linear power ratio of a dB value.
pub fn undb(d: f64) -> f64 {
    10f64.powf(d / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nco_is_block_invariant_and_accurate() {
        let nco = Nco::new(1234.5, 7.68e6);
        let mut a = vec![Complex32::new(1.0, 0.0); 5000];
        let mut b = a.clone();
        nco.mix(100, &mut a);
        let (b1, b2) = b.split_at_mut(1777);
        nco.mix(100, b1);
        nco.mix(1877, b2);
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let ph = std::f64::consts::TAU * 1234.5 * (100 + i) as f64 / 7.68e6;
            let want = Complex32::new(ph.cos() as f32, ph.sin() as f32);
            assert!((x - want).norm() < 1e-5, "{i}");
            assert!((x - y).norm() < 1e-5, "{i}");
        }
    }
}
