//! Discrete wavelet transform: Haar (Daubechies-1), multilevel, with energy per band.

/// `L`-level Haar DWT of `x` (length a multiple of 2^L; extra samples are ignored).
/// Returns `L + 1` band energies in dB (10·log10 of the mean squared coefficient):
/// `[A_L, D_L, …, D_1]`.
pub fn haar_band_energies<const L: usize>(x: &[f32]) -> Vec<f32> {
    let n = x.len() >> L << L;
    let mut a: Vec<f32> = x[..n].to_vec();
    let mut details = Vec::with_capacity(L);
    let s = std::f32::consts::FRAC_1_SQRT_2;
    for _ in 0..L {
        let half = a.len() / 2;
        let mut na = Vec::with_capacity(half);
        let mut d = Vec::with_capacity(half);
        for i in 0..half {
            na.push((a[2 * i] + a[2 * i + 1]) * s);
            d.push((a[2 * i] - a[2 * i + 1]) * s);
        }
        details.push(d);
        a = na;
    }
    let energy = |v: &[f32]| {
        let m = v.iter().map(|x| (x * x) as f64).sum::<f64>() / v.len().max(1) as f64;
        (10.0 * m.max(1e-12).log10()) as f32
    };
    let mut out = vec![energy(&a)];
    for d in details.iter().rev() {
        out.push(energy(d));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haar_preserves_energy_and_separates_scales() {
        // Parseval: total coefficient energy equals the signal's.
        let x: Vec<f32> = (0..64).map(|i| ((i * 7 % 11) as f32) - 5.0).collect();
        let e_x: f64 = x.iter().map(|v| (v * v) as f64).sum();
        let b = haar_band_energies::<3>(&x);
        let sizes = [8.0, 8.0, 16.0, 32.0];
        let e_c: f64 = b
            .iter()
            .zip(sizes)
            .map(|(db, n)| 10f64.powf(*db as f64 / 10.0) * n)
            .sum();
        assert!((e_c / e_x - 1.0).abs() < 1e-4, "{e_c} vs {e_x}");
        // A constant has no detail energy; an alternating sequence only D1.
        let c = haar_band_energies::<3>(&[1.0; 32]);
        assert!(c[1] < -100.0 && c[2] < -100.0 && c[3] < -100.0);
        let alt: Vec<f32> = (0..32)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let a = haar_band_energies::<3>(&alt);
        assert!(a[3] > -1.0 && a[0] < -100.0);
    }
}
