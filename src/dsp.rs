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

/// Σ|x|² and Σx over a stream, exactly independent of how the stream is cut into blocks, at
/// vector speed: the real and imaginary parts of sample `n` (and their squares) always add to lanes
/// `2(n mod 8)` and `2(n mod 8) + 1` (f32, in time order), and the lanes fold into an f64
/// total at absolute multiples of [`EnergyAcc::FOLD`] samples and on [`EnergyAcc::take`].
/// A lane holds at most FOLD/8 = 128 terms, so the f32 part adds a relative error below
/// 1e-5 (4e-5 dB).
#[derive(Clone, Debug, Default)]
pub struct EnergyAcc {
    lanes: [f32; 16],
    sums: [f32; 16],
    total: f64,
    total_sum: Complex64,
}

/// The samples as interleaved (re, im) floats.
fn as_floats(x: &[Complex32]) -> &[f32] {
    // SAFETY: `Complex<f32>` is `#[repr(C)]` with exactly two `f32` fields (re, im), so a
    // slice of n of them is 2n consecutive, aligned, initialised `f32`s with the same
    // lifetime.
    unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<f32>(), 2 * x.len()) }
}

impl EnergyAcc {
    /// Samples between folds (a multiple of 8).
    pub const FOLD: u64 = 1024;

    fn fold(&mut self) {
        self.total += self.lanes.iter().map(|&l| l as f64).sum::<f64>();
        self.total_sum += Self::lane_sum(&self.sums);
        self.lanes = [0.0; 16];
        self.sums = [0.0; 16];
    }

    fn lane_sum(sums: &[f32; 16]) -> Complex64 {
        let re = sums.iter().step_by(2).map(|&l| l as f64).sum::<f64>();
        let im = sums
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&l| l as f64)
            .sum::<f64>();
        Complex64::new(re, im)
    }

    fn add_one(&mut self, n: u64, c: Complex32) {
        let l = 2 * (n % 8) as usize;
        self.lanes[l] += c.re * c.re;
        self.lanes[l + 1] += c.im * c.im;
        self.sums[l] += c.re;
        self.sums[l + 1] += c.im;
    }

    /// Adds samples `first..first + x.len()` (absolute indices).
    pub fn add(&mut self, first: u64, x: &[Complex32]) {
        let mut n = first;
        let mut rest = x;
        while !rest.is_empty() {
            let to_fold = (Self::FOLD - n % Self::FOLD) as usize;
            let (seg, tail) = rest.split_at(to_fold.min(rest.len()));
            // Scalar up to the next multiple of 8, 16 float lanes through the aligned
            // part, scalar for what is left.
            let head = ((8 - n % 8) % 8) as usize;
            let (h, body) = seg.split_at(head.min(seg.len()));
            for (i, &c) in h.iter().enumerate() {
                self.add_one(n + i as u64, c);
            }
            let aligned = body.len() / 8 * 8;
            let (mut lanes, mut sums) = (self.lanes, self.sums);
            for ch in as_floats(&body[..aligned]).chunks_exact(16) {
                let ch: &[f32; 16] = ch.try_into().expect("chunks of 16");
                for l in 0..16 {
                    lanes[l] += ch[l] * ch[l];
                    sums[l] += ch[l];
                }
            }
            (self.lanes, self.sums) = (lanes, sums);
            let base = n + (head + aligned) as u64;
            for (i, &c) in body[aligned..].iter().enumerate() {
                self.add_one(base + i as u64, c);
            }
            n += seg.len() as u64;
            if n.is_multiple_of(Self::FOLD) {
                self.fold();
            }
            rest = tail;
        }
    }

    /// Σ|x|² so far.
    pub fn value(&self) -> f64 {
        self.total + self.lanes.iter().map(|&l| l as f64).sum::<f64>()
    }

    /// Σx so far.
    pub fn sum(&self) -> Complex64 {
        self.total_sum + Self::lane_sum(&self.sums)
    }

    /// (Σ|x|², Σx) so far; starts again from zero.
    pub fn take(&mut self) -> (f64, Complex64) {
        self.fold();
        (
            std::mem::take(&mut self.total),
            std::mem::take(&mut self.total_sum),
        )
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

/// 10·log10(1 + 10^(x/10)): by how many dB a power `x_db` over a reference lifts that
/// reference (noise plus a jammer at JNR x over the noise alone).
pub fn db_one_plus(x_db: f64) -> f64 {
    db(1.0 + undb(x_db))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_acc_is_exactly_block_invariant_and_accurate() {
        let mut rng = crate::rng::Rng::new(9);
        let x: Vec<Complex32> = (0..20_000).map(|_| rng.complex_gaussian(1.0)).collect();
        let exact: f64 = x.iter().map(|c| c.norm_sqr() as f64).sum();
        let exact_sum: Complex64 = x
            .iter()
            .map(|c| Complex64::new(c.re as f64, c.im as f64))
            .sum();
        let mut whole = EnergyAcc::default();
        whole.add(13, &x);
        let (w, ws) = whole.take();
        assert!((w - exact).abs() / exact < 1e-5, "{w} vs {exact}");
        // Σx of 20 000 unit-power samples is ~141 in size; f32 lanes of ≤ 128 terms.
        assert!((ws - exact_sum).norm() < 1e-3, "{ws} vs {exact_sum}");
        for cut in [1usize, 7, 8, 1000, 1023, 4097] {
            let mut a = EnergyAcc::default();
            let mut pos = 13u64;
            for c in x.chunks(cut) {
                a.add(pos, c);
                pos += c.len() as u64;
            }
            let (e, s) = a.take();
            assert_eq!(e.to_bits(), w.to_bits(), "cut {cut}");
            assert_eq!(
                (s.re.to_bits(), s.im.to_bits()),
                (ws.re.to_bits(), ws.im.to_bits())
            );
        }
    }

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
