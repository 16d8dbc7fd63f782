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
    /// Median absolute null-RE power (`epnre_db + pss_re_dbfs`: the noise floor inside the
    /// SSB, which fading does not move), dBFS per RE. `None` in a baseline saved before it
    /// was tracked.
    #[serde(default)]
    pub null_dbfs: Option<f32>,
    /// Robust σ of it, dB.
    #[serde(default)]
    pub null_sigma_db: Option<f32>,
    /// Median absolute null-RE floor (`null_floor_db + pss_re_dbfs`, [`floor_dbfs`]),
    /// dBFS per RE: what the quiet null REs hold when nobody jams.
    #[serde(default)]
    pub floor_dbfs: Option<f32>,
    /// Robust σ of it, dB.
    #[serde(default)]
    pub floor_sigma_db: Option<f32>,
    /// Median absolute noise plus interference on the PSS and SSS REs
    /// (`sync_resid_db + pss_re_dbfs`, [`sync_dbfs`]), dBFS per RE: what a jammer on the
    /// middle half of the SSB, where no null RE is, lifts. `None` in a baseline saved
    /// before it was tracked.
    #[serde(default)]
    pub sync_dbfs: Option<f32>,
    /// Robust σ of it, dB.
    #[serde(default)]
    pub sync_sigma_db: Option<f32>,
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

/// Format tag of a saved site baseline.
pub const SITE_FORMAT: &str = "ssbguard-site-baseline";
/// Version of the saved-baseline file format.
pub const SITE_VERSION: u32 = 1;

/// A site baseline saved by `ssbguard calibrate`: one [`Baseline`] per cell (PCI), plus
/// the front end it was measured with. Absolute levels (dBFS) only mean something with
/// the same sample rate, centre frequency and gain, so a pipeline refuses a file made at
/// another rate or centre (the gain is not known to every source: keep it fixed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteBaseline {
    /// Always [`SITE_FORMAT`].
    pub format: String,
    /// [`SITE_VERSION`].
    pub version: u32,
    /// Feature schema the statistics refer to.
    pub feature_schema_version: u32,
    /// Where it was measured (the recording's path), for people.
    pub source: String,
    /// Input sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Input centre frequency, Hz, when known.
    pub center_freq_hz: Option<f64>,
    /// Per cell.
    pub cells: Vec<CellBaseline>,
}

/// One cell's entry in a [`SiteBaseline`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellBaseline {
    /// PCI.
    pub pci: u16,
    /// Its statistics.
    pub baseline: Baseline,
}

/// Why a saved baseline cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SiteBaselineError {
    /// Unreadable file.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Not JSON of the right shape.
    #[error("{path}: not a site baseline: {msg}")]
    Parse {
        /// File.
        path: String,
        /// serde_json's message (with line and column).
        msg: String,
    },
    /// Readable but unusable.
    #[error("{path}: {msg}")]
    Invalid {
        /// File.
        path: String,
        /// What is wrong.
        msg: String,
    },
}

impl SiteBaseline {
    /// Reads and checks a file.
    pub fn load(path: &std::path::Path) -> Result<Self, SiteBaselineError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SiteBaselineError::Io {
            path: p.clone(),
            source,
        })?;
        let s: SiteBaseline =
            serde_json::from_str(&text).map_err(|e| SiteBaselineError::Parse {
                path: p.clone(),
                msg: e.to_string(),
            })?;
        s.check()
            .map_err(|msg| SiteBaselineError::Invalid { path: p, msg })?;
        Ok(s)
    }

    /// Every problem that makes it unusable, as one message.
    fn check(&self) -> Result<(), String> {
        let mut errs = Vec::new();
        if self.format != SITE_FORMAT {
            errs.push(format!(
                "format is {:?}, expected {SITE_FORMAT:?}",
                self.format
            ));
        }
        if self.version != SITE_VERSION {
            errs.push(format!(
                "version {} (this build reads {SITE_VERSION})",
                self.version
            ));
        }
        if self.feature_schema_version != super::SCHEMA_VERSION {
            errs.push(format!(
                "made with feature schema {} but this build computes schema {}: calibrate again",
                self.feature_schema_version,
                super::SCHEMA_VERSION
            ));
        }
        if !(self.sample_rate_hz.is_finite() && self.sample_rate_hz > 0.0) {
            errs.push(format!(
                "sample_rate_hz {} is not a rate",
                self.sample_rate_hz
            ));
        }
        for c in &self.cells {
            let b = &c.baseline;
            let vals = [
                ("epnre_db", b.epnre_db),
                ("snr_db", b.snr_db),
                ("band_power_dbfs", b.band_power_dbfs),
            ];
            let sig = [
                ("epnre_sigma_db", b.epnre_sigma_db),
                ("snr_sigma_db", b.snr_sigma_db),
                ("band_sigma_db", b.band_sigma_db),
            ];
            for (n, v) in vals {
                if !v.is_finite() {
                    errs.push(format!("cell {}: {n} = {v} is not finite", c.pci));
                }
            }
            for (n, v) in sig {
                if !(v.is_finite() && v >= 0.0) {
                    errs.push(format!("cell {}: {n} = {v} must be ≥ 0", c.pci));
                }
            }
            if c.pci > 1007 {
                errs.push(format!("cell {}: a PCI is 0..=1007", c.pci));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    }

    /// Refuses a baseline measured with another front end.
    pub fn check_front_end(
        &self,
        sample_rate_hz: f64,
        center_freq_hz: Option<f64>,
    ) -> Result<(), String> {
        if (self.sample_rate_hz - sample_rate_hz).abs() > 1e-3 {
            return Err(format!(
                "baseline measured at {} Hz, input is {} Hz",
                self.sample_rate_hz, sample_rate_hz
            ));
        }
        if let (Some(a), Some(b)) = (self.center_freq_hz, center_freq_hz)
            && (a - b).abs() > 1.0
        {
            return Err(format!(
                "baseline measured at centre {a} Hz, input is at {b} Hz"
            ));
        }
        Ok(())
    }

    /// Writes it as pretty JSON.
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }
}

/// Absolute mean null-RE power of an SSB, dBFS per RE: `epnre_db + pss_re_dbfs`.
pub fn null_dbfs(f: &[f32; LEN]) -> f32 {
    f[idx("epnre_db")] + f[idx("pss_re_dbfs")]
}

/// Absolute null-RE floor of an SSB, dBFS per RE: `null_floor_db + pss_re_dbfs`.
pub fn floor_dbfs(f: &[f32; LEN]) -> f32 {
    f[idx("null_floor_db")] + f[idx("pss_re_dbfs")]
}

/// Absolute noise plus interference on the PSS and SSS REs of an SSB, dBFS per RE:
/// `sync_resid_db + pss_re_dbfs`. Tracked absolute, like the null-RE power: over the test
/// split's clean SSBs under fading its robust σ per cell is 1.3 dB (median), against
/// 2.4 dB relative to the fading PSS.
pub fn sync_dbfs(f: &[f32; LEN]) -> f32 {
    f[idx("sync_resid_db")] + f[idx("pss_re_dbfs")]
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
                    let nulls: Vec<f32> = self.pending.iter().map(null_dbfs).collect();
                    let (nm, ns) = robust(&nulls);
                    let floors: Vec<f32> = self.pending.iter().map(floor_dbfs).collect();
                    let (fm, fs) = robust(&floors);
                    let syncs: Vec<f32> = self.pending.iter().map(sync_dbfs).collect();
                    let (ym, ys) = robust(&syncs);
                    self.est = Some(Baseline {
                        epnre_db: em,
                        epnre_sigma_db: es,
                        snr_db: sm,
                        snr_sigma_db: ss,
                        band_power_dbfs: bm,
                        band_sigma_db: bs,
                        null_dbfs: Some(nm),
                        null_sigma_db: Some(ns),
                        floor_dbfs: Some(fm),
                        floor_sigma_db: Some(fs),
                        sync_dbfs: Some(ym),
                        sync_sigma_db: Some(ys),
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
                if let (Some(m), Some(sd)) = (&mut base.null_dbfs, &mut base.null_sigma_db) {
                    follow(m, sd, null_dbfs(f));
                }
                if let (Some(m), Some(sd)) = (&mut base.floor_dbfs, &mut base.floor_sigma_db) {
                    follow(m, sd, floor_dbfs(f));
                }
                if let (Some(m), Some(sd)) = (&mut base.sync_dbfs, &mut base.sync_sigma_db) {
                    follow(m, sd, sync_dbfs(f));
                }
                base.count += 1;
            }
        }
    }
}
