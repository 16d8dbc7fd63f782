//! The site baseline: what this cell looks like when nobody jams it.
//!
//! A noise-like jammer at SJNR 15–30 dB looks exactly like a clean cell with a worse SNR
//! unless the detector knows the site. The baseline takes the median and the median
//! absolute deviation of the first `calib_len` SSBs that were found, then follows slow
//! changes with a small step, *only* on SSBs judged clean and never while an alert is
//! raised, so a jammer cannot teach it. If jamming is already on air when tracking starts,
//! the baseline learns it: detection then rests on the structural features (spoofed PSS,
//! tones) until a clean period is seen or a saved baseline (`ssbguard calibrate`) is loaded.

use serde::{Deserialize, Serialize};

use super::{LEN, idx};

/// Robust clean-site statistics for one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Median EPNRE (all null REs, relative to PSS RE power), dB.
    pub epnre_db: f32,
    /// Robust standard deviation of it (1.4826 × MAD), dB.
    pub epnre_sigma_db: f32,
    /// Median DMRS SNR, dB.
    pub snr_db: f32,
    /// Robust σ of the SNR, dB.
    pub snr_sigma_db: f32,
    /// Median wideband power, dBFS.
    pub band_power_dbfs: f32,
    /// Robust σ of it, dB.
    pub band_sigma_db: f32,
    /// SSBs that went into it.
    pub count: u32,
}

fn median(v: &mut [f32]) -> f32 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn robust(vals: &[f32]) -> (f32, f32) {
    let mut v = vals.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<f32> = vals.iter().map(|x| (x - m).abs()).collect();
    (m, 1.4826 * median(&mut dev))
}

/// Learns and follows a [`Baseline`].
#[derive(Clone, Debug)]
pub struct BaselineTracker {
    calib_len: usize,
    pending: Vec<[f32; LEN]>,
    est: Option<Baseline>,
    step: f32,
}

impl BaselineTracker {
    /// Calibrates on the first `calib_len` found SSBs, then follows with `step` (e.g. 0.01).
    pub fn new(calib_len: usize, step: f32) -> Self {
        BaselineTracker {
            calib_len: calib_len.max(1),
            pending: Vec::new(),
            est: None,
            step,
        }
    }

    /// Starts from a saved baseline.
    pub fn with_baseline(b: Baseline, step: f32) -> Self {
        BaselineTracker {
            calib_len: 1,
            pending: Vec::new(),
            est: Some(b),
            step,
        }
    }

    /// The current estimate, once calibrated.
    pub fn get(&self) -> Option<&Baseline> {
        self.est.as_ref()
    }

    /// Feeds one SSB's features. `clean` must be false when the SSB was judged jammed or
    /// an alert is raised (the baseline then stays frozen).
    pub fn observe(&mut self, f: &[f32; LEN], clean: bool) {
        if f[idx("found")] < 0.5 || !clean {
            return;
        }
        let (e, s, b) = (
            f[idx("epnre_db")],
            f[idx("snr_db")],
            f[idx("band_power_dbfs")],
        );
        match &mut self.est {
            None => {
                self.pending.push(*f);
                if self.pending.len() >= self.calib_len {
                    let col = |i: usize| self.pending.iter().map(|v| v[i]).collect::<Vec<_>>();
                    let (em, es) = robust(&col(idx("epnre_db")));
                    let (sm, ss) = robust(&col(idx("snr_db")));
                    let (bm, bs) = robust(&col(idx("band_power_dbfs")));
                    self.est = Some(Baseline {
                        epnre_db: em,
                        epnre_sigma_db: es,
                        snr_db: sm,
                        snr_sigma_db: ss,
                        band_power_dbfs: bm,
                        band_sigma_db: bs,
                        count: self.pending.len() as u32,
                    });
                    self.pending.clear();
                }
            }
            Some(base) => {
                let k = self.step;
                let follow = |m: &mut f32, sd: &mut f32, x: f32| {
                    // Clipped update: one outlier moves the estimate by at most 3σ·k.
                    let lim = 3.0 * sd.max(0.1);
                    let d = (x - *m).clamp(-lim, lim);
                    *m += k * d;
                    *sd += k * (d.abs() * 1.2533 - *sd);
                };
                follow(&mut base.epnre_db, &mut base.epnre_sigma_db, e);
                follow(&mut base.snr_db, &mut base.snr_sigma_db, s);
                follow(&mut base.band_power_dbfs, &mut base.band_sigma_db, b);
                base.count += 1;
            }
        }
    }
}
