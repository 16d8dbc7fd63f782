//! Alert state machine: raise after k of the last n decisions are jammed (or after the
//! same SSB index is jammed in several bursts in a row), clear after m consecutive clean
//! ones. One machine per cell (and one for the band when no cell is
//! tracked, keyed by `pci = None`); [`AlertBank`] holds them.
//!
//! - While *clear*, each decision enters a window of the last `raise_n`; when `raise_k` of
//!   them are jammed, the machine raises. The alert's severity comes from the raising
//!   decision ([`severity`]); its score is the mean score of the window.
//! - Also while *clear*, each SSB index counts its consecutive jammed decisions; when one
//!   reaches `raise_same_index` (0: off), the machine raises too. A jammer that hits one
//!   SSB of a burst of eight every burst (a PSS spoofer whose SSBs collide with one of the
//!   cell's, a pulsed jammer in step with the frame) never fills k of the last n, but it is
//!   no accident: independent false alarms at a per-SSB rate p line up at one index three
//!   bursts running with probability p³ (10⁻⁶ at 1 %).
//! - While *raised*, a run of `clear_m` consecutive clean decisions clears it; any jammed
//!   decision restarts the run. The clear alert carries the worst severity seen while raised
//!   and the mean score of the clean run. The window starts empty again after a clear.
//!
//! The machine never allocates after construction (the window is a fixed ring).

use serde::{Deserialize, Serialize};

use crate::events::{Alert, AlertState, Decision, Severity};

/// Largest `raise_n` accepted (the window is a ring of this many decisions at most).
pub const MAX_WINDOW: u32 = 4096;

/// SJNR at or above which a jammed cell is only a warning, dB.
pub const WARNING_MIN_SJNR_DB: f64 = 15.0;
/// SJNR at or above which (and below [`WARNING_MIN_SJNR_DB`]) it is major, dB.
pub const MAJOR_MIN_SJNR_DB: f64 = 5.0;

/// Alerting thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// Raise when this many of the last `raise_n` decisions are jammed.
    pub raise_k: u32,
    /// Window length for raising.
    pub raise_n: u32,
    /// Clear after this many consecutive clean decisions.
    pub clear_m: u32,
    /// Also raise when one SSB index is judged jammed in this many consecutive decisions
    /// of that index (bursts); 0 turns the rule off.
    #[serde(default = "default_raise_same_index")]
    pub raise_same_index: u32,
}

/// Largest `raise_same_index` accepted (SSB indices counted: L_max ≤ 64).
pub const MAX_SAME_INDEX: u32 = 64;

fn default_raise_same_index() -> u32 {
    AlertConfig::default().raise_same_index
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            raise_k: 3,
            raise_n: 8,
            clear_m: 8,
            raise_same_index: 3,
        }
    }
}

/// One thing wrong with an [`AlertConfig`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertConfigProblem {
    /// Field name (`raise_k`, `raise_n`, `clear_m`, `raise_same_index`).
    pub field: &'static str,
    /// Its value.
    pub value: u32,
    /// What is allowed.
    pub allowed: String,
}

impl AlertConfig {
    /// Every problem with the thresholds (empty when valid): `1 ≤ raise_k ≤ raise_n ≤
    /// MAX_WINDOW`, `1 ≤ clear_m ≤ MAX_WINDOW`, `raise_same_index ≤ MAX_SAME_INDEX`.
    pub fn problems(&self) -> Vec<AlertConfigProblem> {
        let mut out = Vec::new();
        if !(1..=MAX_WINDOW).contains(&self.raise_n) {
            out.push(AlertConfigProblem {
                field: "raise_n",
                value: self.raise_n,
                allowed: format!("1..={MAX_WINDOW}"),
            });
        }
        if self.raise_k < 1 || self.raise_k > self.raise_n.clamp(1, MAX_WINDOW) {
            out.push(AlertConfigProblem {
                field: "raise_k",
                value: self.raise_k,
                allowed: format!("1..=raise_n ({})", self.raise_n),
            });
        }
        if !(1..=MAX_WINDOW).contains(&self.clear_m) {
            out.push(AlertConfigProblem {
                field: "clear_m",
                value: self.clear_m,
                allowed: format!("1..={MAX_WINDOW}"),
            });
        }
        if self.raise_same_index > MAX_SAME_INDEX {
            out.push(AlertConfigProblem {
                field: "raise_same_index",
                value: self.raise_same_index,
                allowed: format!("0..={MAX_SAME_INDEX} (0: off)"),
            });
        }
        out
    }

    /// The thresholds forced into range (what [`AlertMachine::new`] uses).
    pub fn clamped(&self) -> AlertConfig {
        let raise_n = self.raise_n.clamp(1, MAX_WINDOW);
        AlertConfig {
            raise_k: self.raise_k.clamp(1, raise_n),
            raise_n,
            clear_m: self.clear_m.clamp(1, MAX_WINDOW),
            raise_same_index: self.raise_same_index.min(MAX_SAME_INDEX),
        }
    }
}

/// Severity of a jammed decision: SJNR ≥ 15 dB warning, 5–15 dB major, < 5 dB or the SSB
/// not found critical. Without an SJNR estimate but with the SSB found: major (the cell is
/// there but how hurt it is is unknown).
pub fn severity(d: &Decision) -> Severity {
    if !d.ssb_found {
        return Severity::Critical;
    }
    match d.sjnr_est_db {
        Some(s) if s >= WARNING_MIN_SJNR_DB => Severity::Warning,
        Some(s) if s >= MAJOR_MIN_SJNR_DB => Severity::Major,
        Some(_) => Severity::Critical,
        None => Severity::Major,
    }
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Warning => 0,
        Severity::Major => 1,
        Severity::Critical => 2,
    }
}

/// The worse of two severities.
pub fn worst(a: Severity, b: Severity) -> Severity {
    if rank(a) >= rank(b) { a } else { b }
}

/// The state machine of one cell.
#[derive(Clone, Debug)]
pub struct AlertMachine {
    cfg: AlertConfig,
    /// Ring of (jammed, score) of the last decisions while clear.
    ring: Vec<(bool, f64)>,
    head: usize,
    len: usize,
    jammed_in_window: u32,
    /// Consecutive jammed decisions per SSB index while clear.
    index_runs: [u32; MAX_SAME_INDEX as usize],
    raised: bool,
    worst: Severity,
    sjnr_min_db: Option<f64>,
    jammer_type: Option<String>,
    clean_run: u32,
    clean_score_sum: f64,
}

impl AlertMachine {
    /// A clear machine. Thresholds out of range are clamped ([`AlertConfig::clamped`]);
    /// the daemon's config validation reports them before this point.
    pub fn new(cfg: AlertConfig) -> AlertMachine {
        let cfg = cfg.clamped();
        AlertMachine {
            cfg,
            ring: vec![(false, 0.0); cfg.raise_n as usize],
            head: 0,
            len: 0,
            jammed_in_window: 0,
            index_runs: [0; MAX_SAME_INDEX as usize],
            raised: false,
            worst: Severity::Warning,
            sjnr_min_db: None,
            jammer_type: None,
            clean_run: 0,
            clean_score_sum: 0.0,
        }
    }

    /// The thresholds in force.
    pub fn config(&self) -> AlertConfig {
        self.cfg
    }

    /// Whether an alert is raised.
    pub fn is_raised(&self) -> bool {
        self.raised
    }

    /// Changes the thresholds. A raised alert stays raised (and clears under the new
    /// `clear_m`); the raise window of a clear machine starts empty.
    pub fn set_config(&mut self, cfg: AlertConfig) {
        let cfg = cfg.clamped();
        if cfg == self.cfg {
            return;
        }
        self.cfg = cfg;
        self.ring = vec![(false, 0.0); cfg.raise_n as usize];
        self.reset_window();
    }

    fn reset_window(&mut self) {
        self.head = 0;
        self.len = 0;
        self.jammed_in_window = 0;
        self.index_runs = [0; MAX_SAME_INDEX as usize];
    }

    /// Feeds one decision; returns the alert when the state changes.
    pub fn observe(&mut self, d: &Decision) -> Option<Alert> {
        if self.raised {
            self.observe_raised(d)
        } else {
            self.observe_clear(d)
        }
    }

    fn observe_clear(&mut self, d: &Decision) -> Option<Alert> {
        let n = self.ring.len();
        if self.len == n {
            // Evict the oldest.
            let (j, _) = self.ring[self.head];
            if j {
                self.jammed_in_window -= 1;
            }
        } else {
            self.len += 1;
        }
        self.ring[self.head] = (d.jammed, d.score);
        self.head = (self.head + 1) % n;
        if d.jammed {
            self.jammed_in_window += 1;
        }
        let run = d
            .ssb_index
            .and_then(|i| self.index_runs.get_mut(usize::from(i)))
            .map_or(0, |r| {
                *r = if d.jammed { *r + 1 } else { 0 };
                *r
            });
        let same_index = self.cfg.raise_same_index > 0 && run >= self.cfg.raise_same_index;
        if !d.jammed || (self.jammed_in_window < self.cfg.raise_k && !same_index) {
            return None;
        }
        let score = self.window_mean_score();
        let sev = severity(d);
        self.raised = true;
        self.worst = sev;
        self.sjnr_min_db = d.sjnr_est_db;
        self.jammer_type = d.jammer_type.clone();
        self.clean_run = 0;
        self.clean_score_sum = 0.0;
        self.reset_window();
        Some(Alert {
            kind: "alert",
            state: AlertState::Raised,
            sample: d.sample,
            time_s: d.time_s,
            pci: d.pci,
            severity: sev,
            score,
            sjnr_est_db: d.sjnr_est_db,
            jammer_type: d.jammer_type.clone(),
            detector: d.detector,
        })
    }

    fn window_mean_score(&self) -> f64 {
        if self.len == 0 {
            return 0.0;
        }
        // The ring holds `len` valid entries ending just before `head`.
        let n = self.ring.len();
        let sum: f64 = (0..self.len)
            .map(|i| self.ring[(self.head + n - 1 - i) % n].1)
            .sum();
        sum / self.len as f64
    }

    fn observe_raised(&mut self, d: &Decision) -> Option<Alert> {
        if d.jammed {
            self.worst = worst(self.worst, severity(d));
            if let Some(s) = d.sjnr_est_db {
                self.sjnr_min_db = Some(self.sjnr_min_db.map_or(s, |m| m.min(s)));
            }
            if d.jammer_type.is_some() {
                self.jammer_type = d.jammer_type.clone();
            }
            self.clean_run = 0;
            self.clean_score_sum = 0.0;
            return None;
        }
        self.clean_run += 1;
        self.clean_score_sum += d.score;
        if self.clean_run < self.cfg.clear_m {
            return None;
        }
        let score = self.clean_score_sum / f64::from(self.clean_run);
        self.raised = false;
        self.clean_run = 0;
        self.clean_score_sum = 0.0;
        self.reset_window();
        Some(Alert {
            kind: "alert",
            state: AlertState::Cleared,
            sample: d.sample,
            time_s: d.time_s,
            pci: d.pci,
            severity: self.worst,
            score,
            sjnr_est_db: self.sjnr_min_db.take(),
            jammer_type: self.jammer_type.take(),
            detector: d.detector,
        })
    }
}

/// One [`AlertMachine`] per cell key (`Some(pci)`, or `None` for the band without a tracked
/// cell), created on first sight.
#[derive(Clone, Debug)]
pub struct AlertBank {
    cfg: AlertConfig,
    machines: Vec<(Option<u16>, AlertMachine)>,
}

impl AlertBank {
    /// An empty bank.
    pub fn new(cfg: AlertConfig) -> AlertBank {
        AlertBank {
            cfg: cfg.clamped(),
            machines: Vec::new(),
        }
    }

    /// Feeds a decision to its cell's machine. An alert's score is rounded to 4 decimals,
    /// like a decision's, so every user of the bank (`replay`, the daemon) reports the
    /// same bytes.
    pub fn observe(&mut self, d: &Decision) -> Option<Alert> {
        let i = match self.machines.iter().position(|(k, _)| *k == d.pci) {
            Some(i) => i,
            None => {
                self.machines.push((d.pci, AlertMachine::new(self.cfg)));
                self.machines.len() - 1
            }
        };
        self.machines[i].1.observe(d).map(|mut a| {
            a.score = crate::events::round_score(a.score);
            a
        })
    }

    /// Changes every machine's thresholds ([`AlertMachine::set_config`]).
    pub fn set_config(&mut self, cfg: AlertConfig) {
        self.cfg = cfg.clamped();
        for (_, m) in &mut self.machines {
            m.set_config(cfg);
        }
    }

    /// The thresholds in force.
    pub fn config(&self) -> AlertConfig {
        self.cfg
    }

    /// Whether `pci`'s alert is raised.
    pub fn is_raised(&self, pci: Option<u16>) -> bool {
        self.machines
            .iter()
            .any(|(k, m)| *k == pci && m.is_raised())
    }

    /// Keys with a raised alert.
    pub fn raised(&self) -> impl Iterator<Item = Option<u16>> + '_ {
        self.machines
            .iter()
            .filter(|(_, m)| m.is_raised())
            .map(|(k, _)| *k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(i: u64, pci: Option<u16>, jammed: bool, sjnr: Option<f64>) -> Decision {
        Decision {
            kind: "decision",
            sample: i * 1000,
            samples: 1000,
            time_s: i as f64 * 1e-3,
            pci,
            ssb_index: Some(0),
            ssb_found: true,
            jammed,
            score: if jammed { 0.9 } else { 0.1 },
            detector: "classic",
            stage: 1,
            sjnr_est_db: sjnr,
            epnre_rise_db: None,
            jammer_type: None,
            latency_s: 0.0,
            features: None,
        }
    }

    /// The k-of-n / m-clean rule alone (the same-index rule off).
    fn cfg(k: u32, n: u32, m: u32) -> AlertConfig {
        AlertConfig {
            raise_k: k,
            raise_n: n,
            clear_m: m,
            raise_same_index: 0,
        }
    }

    /// Oracle: a direct re-computation over the whole history of the k-of-n / m-clean rule.
    fn oracle(c: AlertConfig, seq: &[bool]) -> Vec<(usize, AlertState)> {
        let mut out = Vec::new();
        let mut raised = false;
        let mut since = 0; // first index of the current clear window
        for i in 0..seq.len() {
            if !raised {
                let lo = (i + 1).saturating_sub(c.raise_n as usize).max(since);
                let k = seq[lo..=i].iter().filter(|&&j| j).count();
                if seq[i] && k >= c.raise_k as usize {
                    raised = true;
                    out.push((i, AlertState::Raised));
                }
            } else {
                let m = c.clear_m as usize;
                if i + 1 >= m && seq[i + 1 - m..=i].iter().all(|&j| !j) {
                    // and the run started after the raise
                    let raise_at = out.last().map_or(0, |r| r.0);
                    if i + 1 - m > raise_at {
                        raised = false;
                        since = i + 1;
                        out.push((i, AlertState::Cleared));
                    }
                }
            }
        }
        out
    }

    fn run(c: AlertConfig, seq: &[bool]) -> Vec<(usize, AlertState)> {
        let mut m = AlertMachine::new(c);
        seq.iter()
            .enumerate()
            .filter_map(|(i, &j)| {
                m.observe(&dec(i as u64, Some(1), j, Some(10.0)))
                    .map(|a| (i, a.state))
            })
            .collect()
    }

    #[test]
    fn raises_on_k_of_n_and_clears_on_m_clean() {
        let c = cfg(3, 4, 2);
        let seq = [true, false, true, false, true, true, false, false, true];
        //          0     1      2     3      4     5     6      7      8
        // Window at 4: [F,T,F,T]+... last 4 = {1,2,3,4} = F,T,F,T -> 2 jammed; at 5: {2..5}
        // = T,F,T,T -> 3 -> raise at 5. Clear after 2 clean: 6,7 -> clear at 7.
        assert_eq!(
            run(c, &seq),
            vec![(5, AlertState::Raised), (7, AlertState::Cleared)]
        );
    }

    #[test]
    fn the_same_ssb_index_jammed_in_consecutive_bursts_raises() {
        // Bursts of 8 SSBs; index 5 jammed in every burst, the rest clean: one jammed
        // decision in every 8 never fills 3 of the last 8.
        let feed = |c: AlertConfig, pattern: &dyn Fn(usize, u8) -> bool| {
            let mut m = AlertMachine::new(c);
            let mut out = Vec::new();
            for burst in 0..10usize {
                for idx in 0..8u8 {
                    let i = burst * 8 + usize::from(idx);
                    let mut d = dec(i as u64, Some(1), pattern(burst, idx), Some(20.0));
                    d.ssb_index = Some(idx);
                    if let Some(a) = m.observe(&d) {
                        out.push((i, a.state));
                    }
                }
            }
            out
        };
        let every_burst = |_: usize, idx: u8| idx == 5;
        assert_eq!(feed(cfg(3, 8, 8), &every_burst), vec![]);
        let c = AlertConfig {
            raise_same_index: 3,
            ..cfg(3, 8, 8)
        };
        // Raised on the third burst's index 5 (decision 2 × 8 + 5) and held: a jammed
        // decision every 8 restarts the clean run before it reaches 8.
        assert_eq!(feed(c, &every_burst), vec![(21, AlertState::Raised)]);
        // Jammed at index 5 every other burst, and at other indices now and then: no run
        // of 3 at one index, never 3 in 8 decisions: nothing.
        let scattered =
            |b: usize, idx: u8| (idx == 5 && b.is_multiple_of(2)) || (idx == 1 && b % 3 == 1);
        assert_eq!(feed(c, &scattered), vec![]);
        // A decision without an SSB index counts only towards k of n.
        let mut m = AlertMachine::new(c);
        for i in 0..24u64 {
            let mut d = dec(i, Some(1), i % 8 == 5, Some(20.0));
            d.ssb_index = None;
            assert!(m.observe(&d).is_none());
        }
    }

    #[test]
    fn matches_oracle_on_pseudo_random_sequences() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for trial in 0..300 {
            let n = 1 + (trial % 7) as u32;
            let k = 1 + (trial / 7 % n as usize) as u32;
            let m = 1 + (trial / 3 % 5) as u32;
            let c = cfg(k, n, m);
            let seq: Vec<bool> = (0..200)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Bursty: long runs, so alerts raise and clear several times.
                    (x % 100) < if (x >> 20).is_multiple_of(2) { 80 } else { 15 }
                })
                .collect();
            assert_eq!(run(c, &seq), oracle(c, &seq), "k={k} n={n} m={m}");
        }
    }

    #[test]
    fn severity_follows_sjnr_and_ssb_found() {
        let mut d = dec(0, Some(1), true, Some(20.0));
        assert_eq!(severity(&d), Severity::Warning);
        d.sjnr_est_db = Some(15.0);
        assert_eq!(severity(&d), Severity::Warning);
        d.sjnr_est_db = Some(14.9);
        assert_eq!(severity(&d), Severity::Major);
        d.sjnr_est_db = Some(5.0);
        assert_eq!(severity(&d), Severity::Major);
        d.sjnr_est_db = Some(4.9);
        assert_eq!(severity(&d), Severity::Critical);
        d.sjnr_est_db = Some(30.0);
        d.ssb_found = false;
        assert_eq!(severity(&d), Severity::Critical);
    }

    #[test]
    fn clear_carries_worst_severity_and_min_sjnr() {
        let mut m = AlertMachine::new(cfg(1, 1, 1));
        let a = m
            .observe(&dec(0, Some(7), true, Some(20.0)))
            .expect("raise");
        assert_eq!(
            (a.state, a.severity),
            (AlertState::Raised, Severity::Warning)
        );
        assert_eq!(a.pci, Some(7));
        assert!((a.score - 0.9).abs() < 1e-12);
        assert!(m.observe(&dec(1, Some(7), true, Some(2.0))).is_none());
        let c = m
            .observe(&dec(2, Some(7), false, Some(25.0)))
            .expect("clear");
        assert_eq!(c.state, AlertState::Cleared);
        assert_eq!(c.severity, Severity::Critical);
        assert_eq!(c.sjnr_est_db, Some(2.0));
        assert_eq!(c.sample, 2000);
        assert!((c.score - 0.1).abs() < 1e-12);
    }

    #[test]
    fn bank_keeps_cells_apart_including_none() {
        let mut b = AlertBank::new(cfg(2, 2, 1));
        assert!(b.observe(&dec(0, Some(1), true, None)).is_none());
        assert!(b.observe(&dec(1, None, true, None)).is_none());
        assert!(b.observe(&dec(2, Some(2), true, None)).is_none());
        let a = b.observe(&dec(3, None, true, None)).expect("band alert");
        assert_eq!(a.pci, None);
        assert!(b.is_raised(None));
        assert!(!b.is_raised(Some(1)));
        let a = b
            .observe(&dec(4, Some(1), true, None))
            .expect("cell 1 alert");
        assert_eq!(a.pci, Some(1));
        assert_eq!(b.raised().count(), 2);
    }

    #[test]
    fn set_config_keeps_raised_alert_and_applies_new_clear_m() {
        let mut b = AlertBank::new(cfg(1, 1, 10));
        assert!(b.observe(&dec(0, Some(1), true, None)).is_some());
        b.set_config(cfg(1, 1, 2));
        assert!(b.is_raised(Some(1)));
        assert!(b.observe(&dec(1, Some(1), false, None)).is_none());
        let c = b
            .observe(&dec(2, Some(1), false, None))
            .expect("clear after 2");
        assert_eq!(c.state, AlertState::Cleared);
    }

    #[test]
    fn problems_name_every_bad_field() {
        let p = cfg(0, 0, 0).problems();
        let fields: Vec<_> = p.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["raise_n", "raise_k", "clear_m"]);
        assert!(cfg(5, 4, 1).problems().iter().any(|p| p.field == "raise_k"));
        let wide = AlertConfig {
            raise_same_index: MAX_SAME_INDEX + 1,
            ..AlertConfig::default()
        };
        let p = wide.problems();
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].field, p[0].value), ("raise_same_index", 65));
        assert_eq!(wide.clamped().raise_same_index, MAX_SAME_INDEX);
        assert!(AlertConfig::default().problems().is_empty());
        // Clamped thresholds still work.
        let mut m = AlertMachine::new(cfg(0, 0, 0));
        assert!(m.observe(&dec(0, None, true, None)).is_some());
    }
}
