//! The site baseline: what this cell looks like when nobody jams it.
//!
//! A noise-like jammer at SJNR 15–30 dB looks exactly like a clean cell with a worse SNR
//! unless the detector knows the site. The baseline takes the median and the median
//! absolute deviation of the first `calib_len` SSBs that were found, then follows slow
//! changes with a small step, *only* on SSBs judged clean and never while an alert is
//! raised, so a jammer cannot teach it. If jamming is already on air when tracking starts,
//! the baseline learns it: detection then rests on the structural features (spoofed PSS,
//! tones) until a clean period is seen or a saved baseline (`ssbguard calibrate`) is loaded.
//!
//! **Receiver gain steps.** A gain change scales everything the radio delivers: the PSS,
//! the noise floor under the null REs and the wideband power rise or fall together, by the
//! same dB, at once. A jammer at SJNR ≥ 15 dB lifts the floor but moves the PSS by less
//! than 0.2 dB; a fade moves the PSS but not the floor — unless the floor is a strong
//! neighbour's traffic fading with the cell, which moves both, but gradually. So when the
//! medians of the three rises over the cell's last [`GAIN_WINDOW`] found SSBs agree within
//! [`GAIN_AGREE_DB`], the floor's is at least [`GAIN_STEP_MIN_DB`], and over the
//! [`GAIN_WINDOW`] SSBs before the [`GAIN_WINDOW`] before those the PSS and the floor sat
//! at the baseline (within [`GAIN_AGREE_DB`]: a step, not a drift), the floor holding
//! still within each of the two windows, the tracker takes it for a gain step and moves
//! every absolute level of the baseline by it ([`BaselineTracker::observe`] returns the
//! step), instead of calling every later SSB jammed with the baseline frozen. The relative
//! levels (EPNRE, SNR) do not move with the gain and are kept.

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
    /// Median PSS RE power (`pss_re_dbfs`), dBFS: with the floor, what tells a receiver
    /// gain step from a jammer. `None` in a baseline saved before it was tracked (gain steps
    /// are then not recognised).
    #[serde(default)]
    pub pss_dbfs: Option<f32>,
    /// SSBs that went into it.
    pub count: u32,
}

/// Found SSBs whose level rises are compared to recognise a receiver gain step (after a
/// gap of as many, as many before them must sit at the baseline).
pub const GAIN_WINDOW: usize = 8;
/// Smallest gain step recognised, dB (the floor's median rise, in either direction).
pub const GAIN_STEP_MIN_DB: f32 = 2.5;
/// Largest disagreement between the PSS's and the floor's median rises, dB (the wideband
/// power's may differ by 1.5 × this: the traffic in it comes and goes).
pub const GAIN_AGREE_DB: f32 = 1.0;

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
    /// Rises over the baseline (PSS, floor, wideband) of the last 3 × [`GAIN_WINDOW`] found
    /// SSBs.
    rises: std::collections::VecDeque<[f32; 3]>,
}

impl BaselineTracker {
    /// Calibrates on the first `calib_len` found SSBs, then follows with `step` (e.g. 0.01).
    pub fn new(calib_len: usize, step: f32) -> Self {
        BaselineTracker {
            calib_len: calib_len.max(1),
            pending: Vec::new(),
            est: None,
            step,
            rises: std::collections::VecDeque::with_capacity(3 * GAIN_WINDOW),
        }
    }

    /// Starts from a saved baseline.
    pub fn with_baseline(b: Baseline, step: f32) -> Self {
        BaselineTracker {
            calib_len: 1,
            pending: Vec::new(),
            est: Some(b),
            step,
            rises: std::collections::VecDeque::with_capacity(3 * GAIN_WINDOW),
        }
    }

    /// The current estimate, once calibrated.
    pub fn get(&self) -> Option<&Baseline> {
        self.est.as_ref()
    }

    /// Feeds one SSB's features. `clean` must be false when the SSB was judged jammed or
    /// an alert is raised (the baseline then stays frozen). Returns the receiver gain step,
    /// dB, when this SSB completed one and the baseline was moved by it (see the module
    /// docs); the caller then restarts whatever accumulated the old levels (the CUSUM).
    pub fn observe(&mut self, f: &[f32; LEN], clean: bool) -> Option<f32> {
        if f[idx("found")] < 0.5 {
            return None;
        }
        if let Some(g) = self.gain_step(f) {
            return Some(g);
        }
        if !clean {
            return None;
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
                    let (pm, _) = robust(&col(idx("pss_re_dbfs")));
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
                        pss_dbfs: Some(pm),
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
                if let Some(m) = &mut base.pss_dbfs {
                    // The PSS fades by tens of dB: its spread is not kept, only its level,
                    // followed as the others are (with a 3 dB clip).
                    let mut sd = 1.0;
                    follow(m, &mut sd, f[idx("pss_re_dbfs")]);
                }
                base.count += 1;
            }
        }
        None
    }

    /// Records this found SSB's level rises (the last 3 × [`GAIN_WINDOW`] are kept: before,
    /// transition, after) and, when they show a receiver gain step (module docs), moves the
    /// baseline's absolute levels by it.
    fn gain_step(&mut self, f: &[f32; LEN]) -> Option<f32> {
        let base = self.est.as_mut()?;
        let (Some(pss), Some(floor)) = (base.pss_dbfs, base.floor_dbfs) else {
            return None;
        };
        if self.rises.len() == 3 * GAIN_WINDOW {
            self.rises.pop_front();
        }
        self.rises.push_back([
            f[idx("pss_re_dbfs")] - pss,
            floor_dbfs(f) - floor,
            f[idx("band_power_dbfs")] - base.band_power_dbfs,
        ]);
        if self.rises.len() < 3 * GAIN_WINDOW {
            return None;
        }
        let med_of = |skip: usize, len: usize, k: usize| {
            let mut v: Vec<f32> = self
                .rises
                .iter()
                .skip(skip)
                .take(len)
                .map(|r| r[k])
                .collect();
            median(&mut v)
        };
        let med = |skip: usize, k: usize| med_of(skip, GAIN_WINDOW, k);
        // The floor holds still within a window (halves within half of GAIN_AGREE_DB):
        // a step, not a drift or the middle of the transition.
        let half = GAIN_WINDOW / 2;
        let still = |skip: usize| {
            (med_of(skip, half, 1) - med_of(skip + half, half, 1)).abs() <= 0.5 * GAIN_AGREE_DB
        };
        // Before: at the baseline. After: all three moved by the same step. Between
        // them one window for the transition (the wideband power is a 20 ms average).
        let (p0, g0) = (med(0, 0), med(0, 1));
        let post = 2 * GAIN_WINDOW;
        let (p, g, b) = (med(post, 0), med(post, 1), med(post, 2));
        let step = p0.abs() <= GAIN_AGREE_DB
            && g0.abs() <= GAIN_AGREE_DB
            && still(0)
            && still(post)
            && g.abs() >= GAIN_STEP_MIN_DB
            && (p - g).abs() <= GAIN_AGREE_DB
            && (b - g).abs() <= 1.5 * GAIN_AGREE_DB;
        if !step {
            return None;
        }
        for m in [
            Some(&mut base.band_power_dbfs),
            base.null_dbfs.as_mut(),
            base.floor_dbfs.as_mut(),
            base.sync_dbfs.as_mut(),
            base.pss_dbfs.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            *m += g;
        }
        self.rises.clear();
        Some(g)
    }
}

/// A found SSB for unit tests: white noise at `null_dbfs` dBFS per RE on the null REs
/// (so the floor is their mean, and 3 dB more of noise and EVM on the PSS/SSS REs), PSS RE
/// power `pss_dbfs`, DMRS SNR `snr` dB, wideband power `band` dBFS, a flat null spectrum
/// and no neighbour.
#[cfg(test)]
pub(crate) fn test_ssb(null_dbfs: f32, pss_dbfs: f32, snr: f32, band: f32) -> [f32; LEN] {
    let mut f = [0.0f32; LEN];
    f[idx("found")] = 1.0;
    f[idx("pss_re_dbfs")] = pss_dbfs;
    f[idx("epnre_db")] = null_dbfs - pss_dbfs;
    f[idx("null_floor_db")] = null_dbfs - pss_dbfs;
    f[idx("snr_db")] = snr;
    f[idx("band_power_dbfs")] = band;
    f[idx("null_flatness_db")] = -2.5;
    f[idx("neighbour_snr_db")] = -50.0;
    f[idx("sync_resid_db")] = null_dbfs + 3.0 - pss_dbfs;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssb(floor: f32, pss: f32, band: f32) -> [f32; LEN] {
        test_ssb(floor, pss, 25.0, band)
    }

    fn calibrated() -> BaselineTracker {
        let mut t = BaselineTracker::new(16, 0.01);
        for k in 0..16 {
            // The PSS fades by ±6 dB, the floor and the band power barely move.
            let j = (k % 4) as f32 - 1.5;
            assert_eq!(
                t.observe(&ssb(-60.0 + 0.1 * j, -35.0 + 4.0 * j, -40.0), true),
                None
            );
        }
        // Then a while at the baseline: what a step is measured against.
        for k in 0..3 * GAIN_WINDOW {
            let j = (k % 4) as f32 - 1.5;
            let r = t.observe(&ssb(-60.0 + 0.1 * j, -35.0 + 4.0 * j, -40.0), true);
            assert_eq!(r, None);
        }
        t
    }

    #[test]
    fn a_receiver_gain_step_moves_every_absolute_level_and_nothing_else() {
        for g in [6.0f32, -6.0, 3.0, 20.0] {
            let mut t = calibrated();
            let before = t.get().expect("calibrated").clone();
            let mut got = None;
            for k in 0..2 * GAIN_WINDOW {
                // Judged jammed (the step looks like one): the baseline is frozen, but the
                // step is still recognised.
                let j = (k % 4) as f32 - 1.5;
                got = got.or(t.observe(&ssb(-60.0 + g, -35.0 + 4.0 * j + g, -40.0 + g), false));
            }
            let step = got.unwrap_or_else(|| panic!("{g} dB step not recognised"));
            assert!((step - g).abs() < 0.3, "{g}: {step}");
            let after = t.get().expect("calibrated");
            let moved = |a: Option<f32>, b: Option<f32>| a.unwrap() - b.unwrap();
            assert!((moved(after.floor_dbfs, before.floor_dbfs) - step).abs() < 1e-4);
            assert!((moved(after.null_dbfs, before.null_dbfs) - step).abs() < 1e-4);
            assert!((moved(after.sync_dbfs, before.sync_dbfs) - step).abs() < 1e-4);
            assert!((moved(after.pss_dbfs, before.pss_dbfs) - step).abs() < 1e-4);
            assert!((after.band_power_dbfs - before.band_power_dbfs - step).abs() < 1e-4);
            assert_eq!(after.epnre_db, before.epnre_db);
            assert_eq!(after.snr_db, before.snr_db);
        }
    }

    #[test]
    fn a_jammer_a_fade_or_a_small_step_is_not_a_gain_step() {
        let cases: [(&str, f32, f32, f32); 4] = [
            // A jammer lifts the floor and the band power; the PSS stays.
            ("jammer", 6.0, 0.0, 6.0),
            // A fade lifts the PSS (and the cell's traffic in the band power), not the floor.
            ("fade", 0.0, 6.0, 4.0),
            // A jammer during a fade that lifts the PSS by half as much.
            ("jammer in a fade", 8.0, 4.0, 8.0),
            // Below GAIN_STEP_MIN_DB.
            ("small step", 2.0, 2.0, 2.0),
        ];
        // A strong neighbour whose traffic is the floor, fading up with the cell over
        // three windows: both rise together, but not as a step.
        let mut t = calibrated();
        for k in 0..3 * GAIN_WINDOW {
            let up = 6.0 * k as f32 / (3 * GAIN_WINDOW) as f32;
            let r = t.observe(&ssb(-60.0 + up, -35.0 + up, -40.0 + up), false);
            assert_eq!(r, None, "drift at {k}");
        }
        for (name, floor, pss, band) in cases {
            let mut t = calibrated();
            for _ in 0..3 * GAIN_WINDOW {
                let r = t.observe(&ssb(-60.0 + floor, -35.0 + pss, -40.0 + band), false);
                assert_eq!(r, None, "{name}");
            }
        }
    }

    #[test]
    fn a_baseline_saved_without_the_pss_level_still_loads_and_never_steps() {
        let mut t = calibrated();
        let mut b = t.get().expect("calibrated").clone();
        let mut json = serde_json::to_value(&b).expect("json");
        json.as_object_mut().expect("object").remove("pss_dbfs");
        b = serde_json::from_value(json).expect("old baseline loads");
        assert_eq!(b.pss_dbfs, None);
        t = BaselineTracker::with_baseline(b, 0.01);
        for _ in 0..3 * GAIN_WINDOW {
            assert_eq!(t.observe(&ssb(-54.0, -29.0, -34.0), false), None);
        }
    }
}
