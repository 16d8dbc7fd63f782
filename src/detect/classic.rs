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
//! - **the SSB is gone** where it was due while the band power rose.
//!
//! The 3σ thresholds target ≈ 0.1 % false alarms per SSB on clean data for Gaussian
//! spread; they come from the calibration statistics of the site, not from test data.
//! Score = logistic(4 × (max ratio − 1)), jammed ⇔ score ≥ 0.5.

use crate::features::baseline::{Baseline, null_dbfs};
use crate::features::{LEN, idx};

/// Verdict of the classical detector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassicVerdict {
    /// 0..1.
    pub score: f64,
    /// score ≥ 0.5.
    pub jammed: bool,
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
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Judges one SSB.
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
    let mut rise = None;
    let (mut null_rise, mut snr_drop_db, mut band_rise_db) = (None, None, None);
    if let Some(b) = base {
        if let (Some(m), Some(sd)) = (b.null_dbfs, b.null_sigma_db) {
            let r = (null_dbfs(f) - m) as f64;
            null_rise = Some((r, r / (sd as f64).max(0.1)));
        }
        let nb = f[idx("neighbour_snr_db")] as f64;
        let explained = if nb > -40.0 {
            10.0 * (1.0 + 10f64.powf(nb / 10.0)).log10()
        } else {
            0.0
        };
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
    let score = logistic(4.0 * (ratio - 1.0));
    ClassicVerdict {
        score,
        jammed: score >= 0.5,
        epnre_rise_db: rise,
        sjnr_est_db: f[idx("snr_db")] as f64,
        null_rise,
        snr_drop_db,
        band_rise_db,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::baseline::BaselineTracker;

    fn ssb(null_dbfs: f32, pss_dbfs: f32, snr: f32) -> [f32; LEN] {
        let mut f = [0.0f32; LEN];
        f[idx("found")] = 1.0;
        f[idx("pss_re_dbfs")] = pss_dbfs;
        f[idx("epnre_db")] = null_dbfs - pss_dbfs;
        f[idx("snr_db")] = snr;
        f[idx("band_power_dbfs")] = -40.0;
        f[idx("null_flatness_db")] = -2.5;
        f[idx("neighbour_snr_db")] = -50.0;
        f
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
        assert!((v.snr_drop_db.unwrap() - 5.0).abs() < 1e-6);
        assert!(v.band_rise_db.unwrap().abs() < 1e-6);
        // Before calibration there is no context.
        let v = judge(&ssb(-57.0, -41.0, 20.0), None);
        assert!(v.null_rise.is_none() && v.snr_drop_db.is_none() && v.band_rise_db.is_none());
    }
}
