//! The classical detector: thresholds on baseline-relative features, the baseline every
//! model must beat and the fallback when no model is loaded.
//!
//! Evidence, each as a ratio to its threshold (≥ 1 means "jammed"):
//! - **EPNRE rise** over the site baseline (null REs fill with anything hostile in the SSB
//!   band), threshold `max(1 dB, 3σ)` with σ the baseline's robust spread; a rise is
//!   discounted by what a tracked neighbour cell at the same frequency explains
//!   (10·log10(1 + SNR_neighbour));
//! - **DMRS SNR drop** below the baseline (a tone or comb between the null bands),
//!   threshold `max(3 dB, 3σ)`, discounted like the EPNRE rise;
//! - **band power rise** over the baseline (pulsed or intermittent jammers that miss the
//!   SSB), threshold `max(1.5 dB, 3σ)`;
//! - **a second PSS** (another N_ID2) in the SSB window at ρ² ≥ 0.3: a spoofer;
//! - **a tone or comb** on the null REs: peak-to-mean ≥ 12 dB with flatness ≤ −6 dB and
//!   null energy within 25 dB of the PSS;
//! - **a tone on the PSS/SSS subcarriers** (the middle half of the SSB, where no null RE
//!   is): the per-subcarrier residual under the PSS and SSS peaks ≥ 14 dB over its mean,
//!   when that residual is ≥ 10 dB below the PSS (a decoded SSB, not noise). For white
//!   noise the peak of those 125 values exceeds 8.8 dB once in 1000 SSBs; the margin is
//!   for frequency-selective channels;
//! - **the SSB is gone** where it was due while the band power rose.
//!
//! The 3σ thresholds target ≈ 0.1 % false alarms per SSB on clean data for Gaussian
//! spread; they come from the calibration statistics of the site, not from test data.
//! Score = logistic(4 × (max ratio − 1)), jammed ⇔ score ≥ 0.5.
//!
//! [`judge`] looks at one SSB. The classical *detector* adds a per-cell [`Cusum`] of the
//! null-RE power rise (in baseline σ): a jammer too weak for any single SSB (JNR −5…0 dB
//! lifts the null REs by 1.2–3 dB) still adds up over a few SSBs. The models get
//! [`judge`]'s per-SSB view (`ctx_classic_ratio`) and, as separate inputs, the cell's CUSUM
//! and [`Cusum::recent_z`] (`ctx_cusum_ratio`, `ctx_recent_excess_z`).

use crate::features::baseline::{Baseline, floor_dbfs, null_dbfs, sync_dbfs};
use crate::features::{LEN, idx};

/// Verdict of the classical detector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassicVerdict {
    /// The strongest evidence over its threshold (≥ 1 ⇔ jammed).
    pub ratio: f64,
    /// EPNRE rise over the baseline, dB (when calibrated).
    pub epnre_rise_db: Option<f64>,
    /// SJNR estimate from the DMRS SNR, dB.
    pub sjnr_est_db: f64,
    /// Site context for the models (all `None` before calibration): the absolute null-RE
    /// power over the baseline's (dB) and that rise in units of the baseline's σ.
    pub null_rise: Option<(f64, f64)>,
    /// DMRS SNR drop below the baseline, dB.
    pub snr_drop_db: Option<f64>,
    /// Wideband power rise over the baseline, dB.
    pub band_rise_db: Option<f64>,
    /// Site context for the models: the null-RE floor ([`crate::features::baseline::floor_dbfs`])
    /// over the baseline's (dB) and in the baseline's σ of it (when calibrated).
    pub floor_rise: Option<(f64, f64)>,
    /// Site context for the models: the noise plus interference on the PSS and SSS REs
    /// ([`crate::features::baseline::sync_dbfs`]) over the baseline's (dB) and in the
    /// baseline's σ of it (when calibrated). Not used by the classical decision.
    pub sync_rise: Option<(f64, f64)>,
    /// The null-RE power rise less what a tracked neighbour explains, in baseline σ: the
    /// [`Cusum`]'s input (when calibrated).
    pub null_excess_sigmas: Option<f64>,
    /// The cell's [`Cusum`] after this SSB, over its decision level (0 from [`judge`]; the
    /// pipeline fills it in).
    pub cusum_ratio: f64,
    /// The cell's [`Cusum::recent_z`] after this SSB (0 from [`judge`]; the pipeline
    /// fills it in).
    pub recent_excess_z: f64,
}

impl ClassicVerdict {
    /// 0..1: [`score_of`] this SSB's strongest evidence (the models' `ctx_classic_ratio`).
    pub fn score(&self) -> f64 {
        score_of(self.ratio)
    }

    /// This SSB's evidence alone says jammed (score ≥ 0.5).
    pub fn jammed(&self) -> bool {
        self.score() >= 0.5
    }

    /// The classical detector's score: the stronger of this SSB's evidence and the CUSUM.
    /// (`score` is this SSB's alone, the models' `ctx_classic_ratio`.)
    pub fn detector_score(&self) -> f64 {
        score_of(self.ratio.max(self.cusum_ratio))
    }
}

/// Score of an evidence ratio: logistic(4 × (ratio − 1)), 0.5 at the threshold.
pub fn score_of(ratio: f64) -> f64 {
    1.0 / (1.0 + (-4.0 * (ratio - 1.0)).exp())
}

/// CUSUM allowance, in baseline σ: each SSB adds its null-RE rise less this (tuned for a
/// shift of 2σ, Page's k = δ/2).
pub const CUSUM_K: f64 = 1.0;
/// CUSUM decision level: jammed while the sum is at least this. For Gaussian clean-site
/// spread (z ~ N(0, 1)) the average run between false alarms at k = 1, h = 8 exceeds 10⁶
/// SSBs (Siegmund's approximation); a jammer at JNR −3 dB (≈ +1.8 dB, ≈ 4σ for a cell
/// whose null power scatters by 0.4 dB) crosses it in about 3 SSBs.
pub const CUSUM_H: f64 = 8.0;

/// One-sided CUSUM (Page, 1954) of [`ClassicVerdict::null_excess_sigmas`] for one cell:
/// `s ← clamp(s + z − k, 0, 2h)`. The cap bounds how long it stays up after the jammer
/// stops (at most h/k SSBs of clean evidence bring it back under h); one SSB adds at most
/// 2h, so a single SSB 9σ above the baseline is enough on its own.
///
/// It also keeps the cell's last [`RECENT_SSBS`] values of that evidence for
/// [`Cusum::recent_z`].
#[derive(Clone, Debug, Default)]
pub struct Cusum {
    sum: f64,
    recent: [f64; RECENT_SSBS],
    /// Values held in `recent` (≤ RECENT_SSBS); the next one goes to `n_seen % RECENT_SSBS`.
    n_seen: usize,
}

/// SSBs of a cell whose null-RE excess [`Cusum::recent_z`] averages.
pub const RECENT_SSBS: usize = 8;

impl Cusum {
    /// Adds one SSB's evidence and returns the sum over the decision level (≥ 1 ⇔
    /// jammed). Before calibration there is nothing to add and the sum restarts.
    pub fn update(&mut self, v: &ClassicVerdict) -> f64 {
        match v.null_excess_sigmas {
            Some(z) if z.is_finite() => {
                let z = z.clamp(-2.0 * CUSUM_H, 2.0 * CUSUM_H);
                self.sum = (self.sum + z - CUSUM_K).clamp(0.0, 2.0 * CUSUM_H);
                self.recent[self.n_seen % RECENT_SSBS] = z;
                self.n_seen += 1;
            }
            _ => *self = Cusum::default(),
        }
        self.sum / CUSUM_H
    }

    /// The mean null-RE excess (baseline σ) over this cell's last [`RECENT_SSBS`]
    /// calibrated SSBs (fewer just after calibration), times √n: the z-score of that
    /// mean if the clean-site values are independent N(0, 1). A jammer too weak for one
    /// SSB and for the CUSUM's allowance — a 1σ rise, e.g. one 10 dB under a neighbour
    /// gNB's traffic on the null REs — gives ≈ 2.8 here. 0 before calibration.
    pub fn recent_z(&self) -> f64 {
        let n = self.n_seen.min(RECENT_SSBS);
        if n == 0 {
            return 0.0;
        }
        self.recent[..n].iter().sum::<f64>() / (n as f64).sqrt()
    }
}

/// Judges one SSB.
/// An absolute level's rise over its baseline median (dB) and the baseline's robust σ of it
/// (floored at 0.1 dB), when the baseline tracks it.
fn rise_over(x: f32, median: Option<f32>, sigma: Option<f32>) -> Option<(f64, f64)> {
    let (m, sd) = (median?, sigma?);
    Some(((x - m) as f64, (sd as f64).max(0.1)))
}

pub fn judge(f: &[f32; LEN], base: Option<&Baseline>) -> ClassicVerdict {
    let found = f[idx("found")] >= 0.5;
    let mut ratio: f64 = 0.0;
    // Structural evidence needs no baseline.
    let other = f[idx("other_nid2_rho2")] as f64;
    ratio = ratio.max(other / 0.3);
    let peak = f[idx("null_peak_to_mean_db")] as f64;
    let flat = f[idx("null_flatness_db")] as f64;
    let epnre = f[idx("epnre_db")] as f64;
    if epnre > -25.0 {
        ratio = ratio.max((peak / 12.0).min(-flat / 6.0));
    }
    if f[idx("sync_resid_db")] <= -10.0 {
        ratio = ratio.max(f[idx("sync_resid_peak_db")] as f64 / 14.0);
    }
    let mut rise = None;
    let (mut null_rise, mut snr_drop_db, mut band_rise_db) = (None, None, None);
    let mut null_excess_sigmas = None;
    let rise_in_sigmas = |(r, sd): (f64, f64)| (r, r / sd);
    let floor_rise = base
        .and_then(|b| rise_over(floor_dbfs(f), b.floor_dbfs, b.floor_sigma_db))
        .map(rise_in_sigmas);
    let sync_rise = base
        .and_then(|b| rise_over(sync_dbfs(f), b.sync_dbfs, b.sync_sigma_db))
        .map(rise_in_sigmas);
    if let Some(b) = base {
        let nb = f[idx("neighbour_snr_db")] as f64;
        let explained = if nb > -40.0 {
            crate::dsp::db_one_plus(nb)
        } else {
            0.0
        };
        if let Some((r, sd)) = rise_over(null_dbfs(f), b.null_dbfs, b.null_sigma_db) {
            null_rise = Some(rise_in_sigmas((r, sd)));
            null_excess_sigmas = Some((r - explained) / sd);
        }
        let r = epnre - b.epnre_db as f64;
        rise = Some(r);
        let thr = (3.0 * b.epnre_sigma_db as f64).max(1.0) + explained;
        ratio = ratio.max(r / thr);
        let br = f[idx("band_power_dbfs")] as f64 - b.band_power_dbfs as f64;
        let thr_b = (3.0 * b.band_sigma_db as f64).max(1.5);
        ratio = ratio.max(br / thr_b);
        // The DMRS SNR falls when anything hostile lands on the PBCH/DMRS REs (a tone or a
        // comb between the null bands, any noise in band).
        let drop = b.snr_db as f64 - f[idx("snr_db")] as f64;
        snr_drop_db = Some(drop);
        band_rise_db = Some(br);
        let thr_s = (3.0 * b.snr_sigma_db as f64).max(3.0) + explained;
        if found {
            ratio = ratio.max(drop / thr_s);
        }
        if !found && br > 1.0 {
            ratio = ratio.max(2.0);
        }
    }
    ClassicVerdict {
        ratio,
        epnre_rise_db: rise,
        sjnr_est_db: f[idx("snr_db")] as f64,
        null_rise,
        snr_drop_db,
        band_rise_db,
        floor_rise,
        sync_rise,
        null_excess_sigmas,
        cusum_ratio: 0.0,
        recent_excess_z: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::baseline::BaselineTracker;

    fn ssb(null_dbfs: f32, pss_dbfs: f32, snr: f32) -> [f32; LEN] {
        crate::features::baseline::test_ssb(null_dbfs, pss_dbfs, snr, -40.0)
    }

    #[test]
    fn site_context_is_relative_to_the_baseline_and_ignores_fading_of_the_pss() {
        let mut t = BaselineTracker::new(16, 0.01);
        for k in 0..16 {
            // Noise floor −60 ± 0.2 dBFS, PSS fading by ±6 dB.
            let j = (k % 4) as f32 - 1.5;
            t.observe(&ssb(-60.0 + 0.13 * j, -35.0 + 4.0 * j, 25.0), true);
        }
        let b = t.get().expect("calibrated");
        assert!((b.null_dbfs.unwrap() + 60.0).abs() < 0.2, "{b:?}");
        // A jammer at the noise floor (JNR 0 dB) doubles the null power: +3 dB, however
        // deep the PSS has faded, while EPNRE relative to the PSS moves with the fade.
        let v = judge(&ssb(-57.0, -41.0, 20.0), Some(b));
        let (r, z) = v.null_rise.expect("calibrated");
        assert!((r - 3.0).abs() < 0.2, "{r}");
        assert!(z > 5.0, "{z}");
        let (fr, _) = v.floor_rise.expect("calibrated");
        assert!((fr - 3.0).abs() < 0.2, "{fr}");
        let (sr, _) = v.sync_rise.expect("calibrated");
        assert!((sr - 3.0).abs() < 0.2, "{sr}");
        assert!((v.snr_drop_db.unwrap() - 5.0).abs() < 1e-6);
        assert!(v.band_rise_db.unwrap().abs() < 1e-6);
        // Before calibration there is no context.
        let v = judge(&ssb(-57.0, -41.0, 20.0), None);
        assert!(v.null_rise.is_none() && v.snr_drop_db.is_none() && v.band_rise_db.is_none());
        assert!(v.floor_rise.is_none() && v.sync_rise.is_none());
    }

    #[test]
    fn a_tone_on_the_sync_subcarriers_is_flagged_without_a_baseline() {
        let mut f = ssb(-70.0, -40.0, 25.0);
        f[idx("sync_resid_db")] = -25.0;
        f[idx("sync_resid_peak_db")] = 6.0;
        assert!(!judge(&f, None).jammed(), "noise-like residual");
        f[idx("sync_resid_peak_db")] = 17.0;
        assert!(judge(&f, None).jammed(), "a tone under the PSS/SSS");
        // Not a decoded SSB (the residual is as strong as the PSS): no verdict from it.
        f[idx("sync_resid_db")] = -3.0;
        assert!(!judge(&f, None).jammed());
    }

    fn with_excess(z: Option<f64>) -> ClassicVerdict {
        let mut v = judge(&ssb(-60.0, -35.0, 25.0), None);
        v.null_excess_sigmas = z;
        v
    }

    #[test]
    fn cusum_adds_up_a_rise_too_weak_for_one_ssb_and_lets_go_after_it() {
        let mut c = Cusum::default();
        // Clean site: z around 0 never accumulates.
        for k in 0..1000 {
            let z = [-1.2, 0.4, 0.9, -0.3, 1.6, -0.8][k % 6];
            assert!(c.update(&with_excess(Some(z))) < 1.0);
        }
        // A 4σ rise (JNR ≈ −3 dB on a steady cell): under the per-SSB 9σ, over h in 3 SSBs.
        let ratios: Vec<f64> = (0..4).map(|_| c.update(&with_excess(Some(4.0)))).collect();
        assert!(ratios[1] < 1.0 && ratios[2] >= 1.0, "{ratios:?}");
        // Held for long, the sum is capped: back under h within h/k clean SSBs.
        for _ in 0..500 {
            c.update(&with_excess(Some(4.0)));
        }
        let after: Vec<f64> = (0..10).map(|_| c.update(&with_excess(Some(0.0)))).collect();
        let n_up = after.iter().filter(|r| **r >= 1.0).count();
        assert!(n_up as f64 <= CUSUM_H / CUSUM_K, "{after:?}");
        assert!(after[9] < 1.0);
        // Losing calibration restarts it.
        c.update(&with_excess(Some(20.0)));
        assert_eq!(c.update(&with_excess(None)), 0.0);
        assert_eq!(c.recent_z(), 0.0);
    }

    #[test]
    fn recent_z_is_the_z_score_of_the_last_eight_ssbs_mean() {
        let mut c = Cusum::default();
        assert_eq!(c.recent_z(), 0.0);
        // Fewer than eight so far: the mean of those, times √n.
        c.update(&with_excess(Some(2.0)));
        c.update(&with_excess(Some(4.0)));
        assert!((c.recent_z() - 6.0 / 2f64.sqrt()).abs() < 1e-12);
        // A 1σ rise held: under the CUSUM's allowance (k = 1), but √8 ≈ 2.8 here.
        for _ in 0..50 {
            assert!(c.update(&with_excess(Some(1.0))) < 1.0);
        }
        assert!((c.recent_z() - 8f64.sqrt()).abs() < 1e-12);
        // Only the last eight count.
        for _ in 0..8 {
            c.update(&with_excess(Some(-1.0)));
        }
        assert!((c.recent_z() + 8f64.sqrt()).abs() < 1e-12);
    }
}
