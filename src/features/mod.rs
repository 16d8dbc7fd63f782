//! One feature vector per SSB occasion (schema [`SCHEMA_VERSION`], names in [`NAMES`],
//! documented in `models/FEATURES.md`). Pure computation on the decoded grid and the
//! receiver's measurements: no I/O, no allocation beyond the output vector.
//!
//! Powers are per resource element, relative to the PSS REs of the same SSB unless the
//! name says `dbfs`, so the vector does not depend on receiver gain.

pub mod baseline;
pub mod dwt;

use num_complex::Complex32;

use crate::dsp::db;
use crate::nr::grid::{NullGroup, ReKind, SYNC_FIRST_K, re_kind};
use crate::nr::sequences::{SYNC_LEN, pss, sss};
use crate::rx::receiver::SsbReport;

/// Version of the feature schema; models record the version they were trained on.
pub const SCHEMA_VERSION: u32 = 4;

/// Feature names in order.
pub const NAMES: [&str; 36] = [
    "found",
    "pss_rho2",
    "pss_peak_to_avg_db",
    "other_nid2_rho2",
    "sss_rho2",
    "dmrs_metric",
    "dmrs_second",
    "snr_db",
    "epnre_sym0_low_db",
    "epnre_sym0_high_db",
    "epnre_sym2_low_db",
    "epnre_sym2_high_db",
    "epnre_db",
    "pss_re_dbfs",
    "sss_rel_db",
    "pbch_rel_db",
    "dmrs_rel_db",
    "null_flatness_db",
    "null_peak_to_mean_db",
    "null_sym0_minus_sym2_db",
    "band_power_dbfs",
    "neighbour_snr_db",
    "dwt_null_a3",
    "dwt_null_d3",
    "dwt_null_d2",
    "dwt_null_d1",
    "dwt_prof_a3",
    "dwt_prof_d3",
    "dwt_prof_d2",
    "dwt_prof_d1",
    "symbol_power_spread_db",
    "cfo_residual_khz",
    "sync_resid_db",
    "sync_resid_peak_db",
    "sync_resid_flatness_db",
    "null_floor_db",
];

/// Number of features.
pub const LEN: usize = NAMES.len();

/// Index of a feature by name (compile-time list; panics on a typo in our own code).
pub fn idx(name: &str) -> usize {
    NAMES
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("unknown feature {name}"))
}

/// Mean power per RE of each [`ReKind`] (indexed by `kind as usize`), in one pass.
fn mean_powers(grid: &[[Complex32; 240]; 4], pci: u16) -> [f64; 5] {
    let (mut acc, mut n) = ([0.0f64; 5], [0usize; 5]);
    for (l, row) in grid.iter().enumerate() {
        for (k, v) in row.iter().enumerate() {
            let i = re_kind(pci, l, k) as usize;
            acc[i] += v.norm_sqr() as f64;
            n[i] += 1;
        }
    }
    std::array::from_fn(|i| acc[i] / n[i].max(1) as f64)
}

/// Geometric mean of powers floored at 1e-30: the logarithm of products of eight (≥ 1e-240,
/// so no underflow) instead of one per value — the same to rounding, an eighth of the
/// `ln` calls (they were most of the feature cost).
fn geo_mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let log_sum: f64 = values
        .chunks(8)
        .map(|c| c.iter().map(|p| p.max(1e-30)).product::<f64>().ln())
        .sum();
    (log_sum / values.len() as f64).exp()
}

/// Noise plus interference on the REs whose content is known once the PCI is: the PSS
/// (symbol 0) and the SSS (symbol 2), subcarriers 56–182. The null REs see only the 112
/// subcarriers outside them (symbol 0) and 17 beside the SSS; a narrowband jammer on the
/// middle half of the SSB lands on PSS, SSS and PBCH REs and leaves them untouched. Here
/// each known RE gives a channel sample h(k) = y(k)·d(k) (d = ±1); with the common phase
/// slope (fractional timing) removed, the channel is smooth over three subcarriers, so
/// |h(k) − (h(k−1) + h(k+1))/2|² / 1.5 estimates the noise-plus-interference power at k
/// (the second difference of white noise has 1 + ¼ + ¼ times its power).
struct SyncResidual {
    /// Mean over the subcarriers, power per RE (same scale as the grid).
    mean: f64,
    /// Largest per-subcarrier value (PSS and SSS REs of that subcarrier averaged).
    peak: f64,
    /// Geometric mean of the per-subcarrier values.
    geo_mean: f64,
}

impl SyncResidual {
    fn of(g: &[[Complex32; 240]; 4], pci: u16) -> Self {
        let (n1, n2) = crate::nr::split_pci(pci);
        let (p, s) = (pss(n2), sss(n1, n2));
        let mut h = [[Complex32::new(0.0, 0.0); SYNC_LEN]; 2];
        for n in 0..SYNC_LEN {
            h[0][n] = g[0][SYNC_FIRST_K + n] * p[n] as f32;
            h[1][n] = g[2][SYNC_FIRST_K + n] * s[n] as f32;
        }
        // Phase slope across subcarriers: a timing offset of a fraction of a sample.
        let mut slope = Complex32::new(0.0, 0.0);
        for row in &h {
            for n in 0..SYNC_LEN - 1 {
                slope += row[n + 1] * row[n].conj();
            }
        }
        let step = if slope.norm() > 0.0 {
            (slope / slope.norm()).conj()
        } else {
            Complex32::new(1.0, 0.0)
        };
        for row in h.iter_mut() {
            let mut rot = Complex32::new(1.0, 0.0);
            for v in row.iter_mut() {
                *v *= rot;
                rot *= step;
            }
        }
        let mut v = [0.0f64; SYNC_LEN - 2];
        for (n, vn) in (1..SYNC_LEN - 1).zip(v.iter_mut()) {
            *vn = h
                .iter()
                .map(|row| (row[n] - (row[n - 1] + row[n + 1]) * 0.5).norm_sqr() as f64)
                .sum::<f64>()
                / (2.0 * 1.5);
        }
        SyncResidual {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            peak: v.iter().cloned().fold(0.0, f64::max),
            geo_mean: geo_mean(&v),
        }
    }
}

/// E[X | X below its lower quartile] / E[X] for exponentially distributed X (the power of
/// a white-noise RE): 4·∫₀^q x·e^(−x) dx with q = ln(4/3) (P(X < q) = ¼), = 1 − 3·ln(4/3).
const LOW_QUARTER_MEAN: f64 = 0.136_954;

/// The noise floor under the null REs: the mean of their weakest quarter, divided by
/// [`LOW_QUARTER_MEAN`] so that for white noise it equals the mean of all of them. Power
/// that fills only some REs — a neighbour gNB's or an LTE carrier's traffic in the RBs it
/// happens to load — leaves the floor where it was; a jammer that covers the band lifts
/// every RE, the quiet ones too. (Reorders `nulls`.)
fn null_floor(nulls: &mut [f64]) -> f64 {
    let q = nulls.len() / 4;
    if q == 0 {
        return 0.0;
    }
    nulls.select_nth_unstable_by(q - 1, |a, b| a.total_cmp(b));
    nulls[..q].iter().sum::<f64>() / q as f64 / LOW_QUARTER_MEAN
}

/// Computes the features of one SSB occasion. Returns `None` when the window could not
/// be cut (a gap in the stream).
pub fn extract(r: &SsbReport) -> Option<[f32; LEN]> {
    let o = r.obs.as_ref()?;
    let g = &o.grid;
    let pci = r.cell.pci;
    let mut f = [0.0f32; LEN];
    let means = mean_powers(g, pci);
    let e_pss = means[ReKind::Pss as usize].max(1e-30);
    let rel = |p: f64| db(p / e_pss) as f32;
    f[0] = r.found as u8 as f32;
    f[1] = o.pss_rho2;
    let prof = &o.pss_profile;
    let side: f32 = prof
        .iter()
        .enumerate()
        .filter(|(i, _)| (*i as i32 - 16).abs() > 2)
        .map(|(_, v)| v * v)
        .sum::<f32>()
        / 28.0;
    f[2] = db((prof[16] * prof[16]) as f64 / side.max(1e-12) as f64) as f32;
    f[3] = o.other_n_id2_rho2;
    f[4] = o.sss_rho2;
    f[5] = o.dmrs_metric.0;
    f[6] = o.dmrs_metric.1;
    f[7] = o.snr_db.clamp(-30.0, 60.0) as f32;
    let mut nulls = Vec::with_capacity(130);
    let mut all = 0.0;
    for (i, grp) in NullGroup::ALL.iter().enumerate() {
        let l = grp.symbol();
        let mut acc = 0.0;
        for k in grp.subcarriers() {
            let p = g[l][k].norm_sqr() as f64;
            acc += p;
            nulls.push(p);
        }
        all += acc;
        f[8 + i] = rel(acc / grp.subcarriers().len() as f64);
    }
    let mean_null = all / nulls.len() as f64;
    f[12] = rel(mean_null);
    f[13] = db(e_pss) as f32;
    f[14] = rel(means[ReKind::Sss as usize]);
    f[15] = rel(means[ReKind::Pbch as usize]);
    f[16] = rel(means[ReKind::Dmrs as usize]);
    let geo = geo_mean(&nulls);
    f[17] = db(geo / mean_null.max(1e-30)) as f32;
    let peak = nulls.iter().cloned().fold(0.0, f64::max);
    f[18] = db(peak / mean_null.max(1e-30)) as f32;
    f[19] = f[8].max(f[9]) - f[10].max(f[11]);
    f[20] = r.band_power_db as f32;
    f[21] = r.neighbours.iter().map(|n| n.1).fold(-50.0, f64::max) as f32;
    // Haar DWT, 3 levels, of the symbol-0 null-RE log powers (the 112 nearest the PSS)
    // and of the PSS correlation profile (32 lags): energy per band, dB.
    let mut seq: Vec<f32> = Vec::with_capacity(112);
    for k in (0..56).chain(183..239) {
        seq.push(db(g[0][k].norm_sqr() as f64 / e_pss) as f32);
    }
    let e = dwt::haar_band_energies::<3>(&seq);
    f[22..26].copy_from_slice(&e);
    let e = dwt::haar_band_energies::<3>(&prof[..32]);
    f[26..30].copy_from_slice(&e);
    let sym_p: Vec<f64> = (0..4)
        .map(|l| g[l].iter().map(|c| c.norm_sqr() as f64).sum::<f64>())
        .collect();
    let (mx, mn) = sym_p
        .iter()
        .fold((0.0f64, f64::MAX), |(a, b), &p| (a.max(p), b.min(p)));
    f[30] = db(mx / mn.max(1e-30)) as f32;
    f[31] = (o.cfo_hz / 1e3) as f32;
    let r = SyncResidual::of(g, pci);
    f[32] = rel(r.mean);
    f[33] = db(r.peak / r.mean.max(1e-30)) as f32;
    f[34] = db(r.geo_mean / r.mean.max(1e-30)) as f32;
    f[35] = rel(null_floor(&mut nulls));
    for v in f.iter_mut() {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// PSS and SSS of `pci` through a smooth channel with a timing offset of `tau`
    /// samples at N = 512 (a phase slope), plus white noise of power `noise`.
    fn sync_grid(pci: u16, tau: f64, noise: f64, seed: u64) -> [[Complex32; 240]; 4] {
        let (n1, n2) = crate::nr::split_pci(pci);
        let (p, s) = (pss(n2), sss(n1, n2));
        let mut rng = Rng::new(seed);
        let mut g = [[Complex32::new(0.0, 0.0); 240]; 4];
        for (l, row) in g.iter_mut().enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                let ph = 0.7 + 0.01 * k as f64 - std::f64::consts::TAU * tau * k as f64 / 512.0;
                let amp = 1.0 + 0.3 * (k as f64 / 60.0).sin();
                let h = Complex32::from_polar(amp as f32, ph as f32);
                let d = match (l, k) {
                    (0, 56..=182) => p[k - 56] as f32,
                    (2, 56..=182) => s[k - 56] as f32,
                    _ => 0.0,
                };
                *v = h * d + rng.complex_gaussian(noise);
            }
        }
        g
    }

    #[test]
    fn geo_mean_by_chunk_products_matches_one_log_per_value() {
        let mut rng = Rng::new(5);
        for n in [1usize, 7, 8, 125, 130] {
            let v: Vec<f64> = (0..n)
                .map(|i| match i % 5 {
                    0 => 0.0,
                    1 => 1e3 * rng.uniform(),
                    _ => 10f64.powf(rng.range(-28.0, 0.0)),
                })
                .collect();
            let naive = (v.iter().map(|p| p.max(1e-30).ln()).sum::<f64>() / n as f64).exp();
            let got = geo_mean(&v);
            assert!((got / naive - 1.0).abs() < 1e-12, "n {n}: {got} vs {naive}");
        }
    }

    #[test]
    fn sync_residual_measures_the_noise_under_the_pss_and_sss() {
        for (noise, tau) in [(1e-2, 0.0), (1e-3, 0.4), (1e-4, -0.3)] {
            let r = SyncResidual::of(&sync_grid(501, tau, noise, 3), 501);
            let rel = r.mean / noise;
            assert!(
                (0.8..1.25).contains(&rel),
                "noise {noise}: estimate/truth {rel}"
            );
            let peak_db = db(r.peak / r.mean);
            assert!(peak_db < 11.0, "white noise peak {peak_db} dB");
            // Each value is the mean of two exponentials (PSS and SSS RE): geometric
            // over arithmetic mean is exp(ψ(2) − ln 2) = −1.17 dB.
            let flat = db(r.geo_mean / r.mean);
            assert!((-1.8..-0.6).contains(&flat), "flatness {flat} dB");
        }
        // No noise: the smooth channel and the timing slope leave (almost) nothing.
        let r = SyncResidual::of(&sync_grid(501, 0.45, 0.0, 3), 501);
        assert!(r.mean < 1e-4, "floor {}", r.mean);
    }

    /// 130 null-RE powers: white noise of power `noise`, plus `traffic` per RE on the REs
    /// of the 12-RE blocks (RBs) with `loaded(block)`.
    fn null_powers(
        noise: f64,
        traffic: f64,
        loaded: impl Fn(usize) -> bool,
        seed: u64,
    ) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..130)
            .map(|k| {
                let t = if loaded(k / 12) { traffic } else { 0.0 };
                (rng.complex_gaussian(noise) + rng.complex_gaussian(t)).norm_sqr() as f64
            })
            .collect()
    }

    #[test]
    fn null_floor_sees_the_quiet_res_under_partial_traffic() {
        for seed in 0..20 {
            // White noise: the floor is the noise power, to the spread of the weakest 32
            // of 130 exponentials (mean −0.04 dB, σ 0.86 dB, 0.05 % of 20 000 draws in
            // Python below −3.15 dB).
            let mut p = null_powers(1.0, 0.0, |_| false, seed);
            let floor = null_floor(&mut p);
            assert!(db(floor).abs() < 3.2, "seed {seed}: {} dB", db(floor));
            // A neighbour loading every other RB 20 dB over the noise: the mean rises
            // ~17 dB, the floor stays near the noise (the weakest quarter of all REs is
            // the weaker half of the quiet ones here: ≈ +4 dB, not a calibrated level).
            let mut p = null_powers(1.0, 100.0, |b| b % 2 == 0, seed);
            let floor = null_floor(&mut p);
            assert!(
                (-1.0..5.5).contains(&db(floor)),
                "seed {seed}: {} dB",
                db(floor)
            );
            // The same plus a jammer 10 dB under that traffic but 10 dB over the noise:
            // the floor rises by ≈ 10 dB.
            let mut p = null_powers(11.0, 100.0, |b| b % 2 == 0, seed);
            let rise = db(null_floor(&mut p) / floor);
            assert!((8.0..12.5).contains(&rise), "seed {seed}: {rise} dB");
        }
        assert_eq!(null_floor(&mut [1.0, 2.0, 3.0]), 0.0);
    }

    #[test]
    fn a_tone_on_the_pss_subcarriers_stands_out_of_the_residual() {
        let mut g = sync_grid(17, 0.2, 1e-3, 9);
        // A tone 10 dB below the PSS RE power, between subcarriers 120 and 121, in every
        // symbol: the null REs never see it.
        for (l, row) in g.iter_mut().enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                let off = k as f64 - 120.3;
                let leak = if off.abs() < 0.5 {
                    1.0
                } else {
                    0.3 / off.abs()
                };
                *v += Complex32::from_polar((0.316 * leak) as f32, (0.9 * l as f64) as f32);
            }
        }
        let r = SyncResidual::of(&g, 17);
        let peak_db = db(r.peak / r.mean);
        assert!(peak_db > 15.0, "tone peak {peak_db} dB");
        let flat = db(r.geo_mean / r.mean);
        assert!(flat < -3.0, "tone flatness {flat} dB");
    }
}
