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
use crate::nr::grid::{NullGroup, ReKind, re_kind};
use crate::rx::receiver::SsbReport;

/// Version of the feature schema; models record the version they were trained on.
pub const SCHEMA_VERSION: u32 = 1;

/// Feature names in order.
pub const NAMES: [&str; 32] = [
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

fn mean_power(grid: &[[Complex32; 240]; 4], pci: u16, kind: ReKind) -> f64 {
    let (mut acc, mut n) = (0.0f64, 0usize);
    for (l, row) in grid.iter().enumerate() {
        for (k, v) in row.iter().enumerate() {
            if re_kind(pci, l, k) == kind {
                acc += v.norm_sqr() as f64;
                n += 1;
            }
        }
    }
    acc / n.max(1) as f64
}

/// Computes the features of one SSB occasion. Returns `None` when the window could not
/// be cut (a gap in the stream).
pub fn extract(r: &SsbReport) -> Option<[f32; LEN]> {
    let o = r.obs.as_ref()?;
    let g = &o.grid;
    let pci = r.cell.pci;
    let mut f = [0.0f32; LEN];
    let e_pss = mean_power(g, pci, ReKind::Pss).max(1e-30);
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
    f[14] = rel(mean_power(g, pci, ReKind::Sss));
    f[15] = rel(mean_power(g, pci, ReKind::Pbch));
    f[16] = rel(mean_power(g, pci, ReKind::Dmrs));
    let geo = (nulls.iter().map(|p| p.max(1e-30).ln()).sum::<f64>() / nulls.len() as f64).exp();
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
    for v in f.iter_mut() {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
    Some(f)
}
