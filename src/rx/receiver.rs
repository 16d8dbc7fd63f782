//! Cell search and SSB tracking over a stream.
//!
//! Acquisition runs the streaming [`PssSearch`] on every sample until a cell is confirmed,
//! then only in windows of `REACQ_LEN_S` every `REACQ_EVERY_S` on an absolute sample grid
//! (new cells are still found; decisions stay independent of block cuts); when the last
//! cell is lost it runs continuously again. Each PSS peak
//! is confirmed by the SSS (PCI) and the DMRS (SSB index) in an extracted window. A new
//! cell's SSB period is learned by probing +5, +10, +20, … ms after a seen SSB; once known,
//! the receiver touches the stream only where SSBs are due (plus a cheap power monitor on
//! every sample). Timing and CFO follow each found SSB; a cell is lost after
//! `lost_after_misses` consecutive missed SSBs.
//!
//! Determinism: every piece of work (a PSS peak to confirm, an SSB occasion, a 20 ms
//! no-cell window) is queued by the absolute sample where its window ends and processed in
//! that order once the stream is `settle` samples past it, where `settle` covers the PSS
//! search's latency (or at once while the search is idle: no peak can then still arrive
//! for an earlier window). So the events do not depend on how the stream was cut into
//! blocks.

use std::collections::BTreeMap;

use num_complex::{Complex32, Complex64};

use super::pss_search::{
    Candidate, DEFAULT_THRESHOLD, HYP_SPAN_SCS, HYP_STEP_SCS, PssPeak, PssSearch,
};
use super::ring::SampleRing;
use super::ssb::{
    CP_P, DMRS_CONFIRM_MIN, ExtractError, SSB_LEN_P, SsbDecoder, SsbExtractor, SsbObservation,
};
use crate::dsp::EnergyAcc;
use crate::nr::Scs;

/// Receiver settings.
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// Input sample rate.
    pub sample_rate_hz: f64,
    /// Input centre frequency, if known (for absolute SSB frequencies and L_max).
    pub center_freq_hz: Option<f64>,
    /// Frequencies to search.
    pub candidates: Vec<Candidate>,
    /// PSS detection threshold (ρ²).
    pub pss_threshold: f32,
    /// Consecutive missed SSBs before a cell is lost.
    pub lost_after_misses: u32,
}

impl ReceiverConfig {
    /// Defaults for a rate and candidate list.
    pub fn new(
        sample_rate_hz: f64,
        center_freq_hz: Option<f64>,
        candidates: Vec<Candidate>,
    ) -> Self {
        ReceiverConfig {
            sample_rate_hz,
            center_freq_hz,
            candidates,
            pss_threshold: DEFAULT_THRESHOLD,
            lost_after_misses: 64,
        }
    }
}

/// Facts about a tracked cell.
#[derive(Clone, Debug, PartialEq)]
pub struct CellInfo {
    /// Receiver-local id.
    pub id: u32,
    /// PCI.
    pub pci: u16,
    /// SCS.
    pub scs: Scs,
    /// SSB centre minus input centre (the searched candidate), Hz.
    pub offset_hz: f64,
    /// CFO estimate, Hz.
    pub cfo_hz: f64,
    /// First PSS symbol seen: first sample incl. CP (input rate).
    pub first_sample: f64,
    /// SSB indices seen.
    pub ssb_indices: Vec<u8>,
    /// Smoothed SNR, dB.
    pub snr_db: f64,
    /// SSB period once learned, ms.
    pub period_ms: Option<u32>,
}

/// One SSB occasion.
#[derive(Clone, Debug)]
pub struct SsbReport {
    /// Cell.
    pub cell: CellInfo,
    /// SSB index (from the DMRS; L_max-aware), if decoded.
    pub ssb_index: Option<u8>,
    /// First input sample of the SSB (CP of symbol 0), fractional.
    pub start: f64,
    /// SSB length, input samples.
    pub len: f64,
    /// Was the SSB there (SSS correlation above threshold)?
    pub found: bool,
    /// The decoded SSB (None if its window could not be cut: a gap in the stream).
    pub obs: Option<SsbObservation>,
    /// Wideband input power over the 20 ms before the SSB, less the 1 ms bins that hold
    /// found SSBs (the power between SSBs), dBFS.
    pub band_power_db: f64,
    /// Other cells tracked at the same frequency and SCS: (PCI, SNR dB).
    pub neighbours: Vec<(u16, f64)>,
}

/// What the receiver reports.
#[derive(Clone, Debug)]
pub enum RxEvent {
    /// A cell was acquired.
    CellFound(CellInfo),
    /// A cell was lost.
    CellLost(CellInfo),
    /// An SSB occasion of a tracked cell.
    Ssb(Box<SsbReport>),
    /// 20 ms of signal with no tracked cell.
    NoCell {
        /// First sample.
        start: u64,
        /// Length.
        len: u64,
        /// Wideband power, dBFS.
        band_power_db: f64,
    },
}

/// Re-acquisition period while tracking, s.
pub const REACQ_EVERY_S: f64 = 1.0;
/// Re-acquisition window length, s (covers a 20 ms SSB period).
pub const REACQ_LEN_S: f64 = 0.025;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Work {
    /// Confirm PSS peak #.
    Peak(usize),
    /// Occasion of (cell id, slot).
    Occasion(u32, u8),
    /// No-cell window #.
    NoCell(u64),
}

struct Slot {
    /// Predicted PSS useful-part start, input samples.
    next: f64,
    /// Last time it was found.
    last_found: f64,
    /// While the period is unknown: index into PROBES_MS of the pending probe.
    probe: Option<usize>,
}

/// Milliseconds of input whose mean is the DC offset taken out of every SSB window
/// ([`Receiver::dc_offset`]): on a zero-IF SDR tuned to the SSB the LO leakage sits on the
/// SSB's centre subcarriers, and at −30 dBc it made every SSB of a clean cell "jammed"
/// (a tone on the SSB's middle). 20 ms of a stream average a carrier's content out to
/// ≈ −50 dB below its power even at 3.84 Msps, and leave a notch ≈ 50 Hz wide at DC;
/// weak offsets are left alone ([`Receiver::dc_offset`]).
const DC_MS: u64 = 20;

const PROBES_MS: [u32; 6] = [5, 10, 20, 40, 80, 160];

struct Cell {
    info: CellInfo,
    n_id1: u16,
    n_id2: u8,
    cand: usize,
    slots: BTreeMap<u8, Slot>,
    misses: u32,
    period_in: Option<f64>,
}

struct PerScs {
    scs: Scs,
    extractor: SsbExtractor,
    decoder: SsbDecoder,
}

/// The receiver.
pub struct Receiver {
    cfg: ReceiverConfig,
    ring: SampleRing,
    search: PssSearch,
    peaks: Vec<PssPeak>,
    peak_store: BTreeMap<usize, PssPeak>,
    peak_seq: usize,
    queue: BTreeMap<(i64, Work), ()>,
    settle: u64,
    scs_chain: Vec<PerScs>,
    cells: Vec<Cell>,
    next_id: u32,
    win_p: Vec<Complex32>,
    /// Wideband power per 1 ms bin (ring of 64 bins) and the sample count per bin.
    ms_len: u64,
    bins: Vec<f64>,
    /// Mean sample per 1 ms bin, alongside `bins` ([`Self::dc_offset`]).
    dc_bins: Vec<Complex64>,
    /// Per 1 ms bin: its absolute number + 1 when it holds a found SSB of a tracked cell,
    /// else anything else ([`Self::mark_ssb`]).
    ssb_bins: Vec<u64>,
    cur_bin: u64,
    cur_acc: EnergyAcc,
    nocell_len: u64,
    next_nocell: u64,
    end: u64,
    l_max: u8,
    /// The search runs continuously in [cont_from, cont_until), elsewhere only in the
    /// periodic re-acquisition windows.
    cont_from: u64,
    cont_until: u64,
    search_running: bool,
    reacq_every: u64,
    reacq_len: u64,
    /// Longest SSB window at the input rate.
    max_win: u64,
    /// Scratch: the ranges of the current piece the ring stores.
    keep: Vec<(u64, u64)>,
    /// (window end of the work that measured it, CFO Hz) of tracked cells, oldest first:
    /// the re-acquisition search's CFO hint ([`Self::reacq_hint`]).
    cfo_log: std::collections::VecDeque<(i64, f64)>,
}

/// Receiver errors.
#[derive(Debug, thiserror::Error)]
pub enum RxError {
    /// Extraction cannot work at this rate.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// Nothing to search.
    #[error("no candidate SSB frequency lies inside the captured band")]
    NoCandidates,
}

impl Receiver {
    /// Plans everything.
    pub fn new(cfg: ReceiverConfig) -> Result<Self, RxError> {
        if cfg.candidates.is_empty() {
            return Err(RxError::NoCandidates);
        }
        let fs = cfg.sample_rate_hz;
        let search = PssSearch::new(
            fs,
            &cfg.candidates,
            HYP_STEP_SCS,
            HYP_SPAN_SCS,
            cfg.pss_threshold,
        );
        let mut scs_chain = Vec::new();
        for c in &cfg.candidates {
            if !scs_chain.iter().any(|p: &PerScs| p.scs == c.scs) {
                scs_chain.push(PerScs {
                    scs: c.scs,
                    extractor: SsbExtractor::new(fs, c.scs)?,
                    decoder: SsbDecoder::new(c.scs),
                });
            }
        }
        let max_win = scs_chain
            .iter()
            .map(|p| p.extractor.len_in())
            .max()
            .unwrap_or(0);
        let settle = (search.latency() + search.hop()) as u64;
        let ring = SampleRing::new(4 * (max_win + settle as usize) + (fs * 0.002) as usize);
        let ms_len = (fs * 1e-3).round().max(1.0) as u64;
        let l_max = match cfg.center_freq_hz {
            Some(f) if f < 3.0e9 => 4,
            _ => 8,
        };
        Ok(Receiver {
            nocell_len: 20 * ms_len,
            next_nocell: 20 * ms_len,
            ring,
            search,
            peaks: Vec::new(),
            peak_store: BTreeMap::new(),
            peak_seq: 0,
            queue: BTreeMap::new(),
            settle,
            scs_chain,
            cells: Vec::new(),
            next_id: 0,
            win_p: Vec::new(),
            ms_len,
            bins: vec![0.0; 64],
            dc_bins: vec![Complex64::new(0.0, 0.0); 64],
            ssb_bins: vec![0; 64],
            cur_bin: 0,
            cur_acc: EnergyAcc::default(),
            end: 0,
            l_max,
            cont_from: 0,
            cont_until: u64::MAX,
            search_running: false,
            reacq_every: (REACQ_EVERY_S * fs).round() as u64,
            reacq_len: (REACQ_LEN_S * fs).round() as u64,
            max_win: max_win as u64,
            keep: Vec::new(),
            cfo_log: std::collections::VecDeque::new(),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ReceiverConfig {
        &self.cfg
    }

    /// Cells tracked now.
    pub fn cells(&self) -> Vec<CellInfo> {
        self.cells.iter().map(|c| c.info.clone()).collect()
    }

    fn chain_index(&self, scs: Scs) -> usize {
        self.scs_chain
            .iter()
            .position(|p| p.scs == scs)
            .unwrap_or(0)
    }

    fn chain(&mut self, scs: Scs) -> &mut PerScs {
        let i = self.chain_index(scs);
        &mut self.scs_chain[i]
    }

    fn window_end(&self, scs: Scs, pss_t: f64) -> i64 {
        let (a, len) = self.window_start(scs, pss_t);
        a + len as i64
    }

    /// (first input sample, length) of the window that holds the SSB whose PSS useful
    /// part starts at `pss_t`.
    fn window_start(&self, scs: Scs, pss_t: f64) -> (i64, usize) {
        let ex = &self.scs_chain[self.chain_index(scs)].extractor;
        let pre = (ex.len_out() - SSB_LEN_P) as f64 / 2.0;
        ((pss_t - pre * ex.ratio()).floor() as i64, ex.len_in())
    }

    /// Feeds samples from absolute index `first`; appends events to `out`. Large blocks
    /// are processed in pieces so the ring always holds every window still due.
    pub fn push(&mut self, first: u64, samples: &[Complex32], out: &mut Vec<RxEvent>) {
        let piece = (self.ring.capacity() / 4).max(1);
        for (k, c) in samples.chunks(piece).enumerate() {
            self.push_piece(first + (k * piece) as u64, c, out);
        }
    }

    fn push_piece(&mut self, first: u64, samples: &[Complex32], out: &mut Vec<RxEvent>) {
        let gap = first != self.end;
        if gap && self.end != 0 {
            self.peaks.clear();
            self.search.reset(&mut self.peaks);
            self.peaks.clear();
            self.search_running = false;
            self.cur_acc = EnergyAcc::default();
        }
        if gap {
            self.cur_bin = first / self.ms_len;
            // Skip no-cell windows that the gap covers.
            self.next_nocell = self
                .next_nocell
                .max((first / self.nocell_len + 1) * self.nocell_len);
        }
        self.plan_keep(first, first + samples.len() as u64);
        self.ring.push(first, samples, &self.keep);
        self.monitor(first, samples);
        self.end = first + samples.len() as u64;
        self.feed_search(first, samples);
        self.queue_peaks();
        while self.next_nocell <= self.end {
            self.queue.insert(
                (self.next_nocell as i64, Work::NoCell(self.next_nocell)),
                (),
            );
            self.next_nocell += self.nocell_len;
        }
        self.run_queue(out);
    }

    /// Margin around a search segment within which a peak's window can lie.
    fn search_margin(&self) -> u64 {
        2 * self.max_win
    }

    /// The ranges of `[s, e)` the ring must store: wherever the search runs (plus the
    /// windows its peaks can need) and every queued SSB window. Everything else is only
    /// seen by the power monitor. The search's on-times are fixed in absolute samples
    /// ahead of the stream ([`Self::future_point`]) and SSB occasions are queued ≥ 5 ms
    /// before their window arrives, so what is stored does not depend on the block cuts.
    fn plan_keep(&mut self, s: u64, e: u64) {
        let m = self.search_margin();
        let mut keep = std::mem::take(&mut self.keep);
        keep.clear();
        keep.push((
            self.cont_from.saturating_sub(m),
            self.cont_until.saturating_add(m),
        ));
        let every = self.reacq_every.max(1);
        let mut k = s.saturating_sub(self.reacq_len + m) / every;
        while k * every < e + m {
            let w = k * every;
            keep.push((w.saturating_sub(m), w + self.reacq_len + m));
            k += 1;
        }
        for &(end, work) in self.queue.keys() {
            if matches!(work, Work::Occasion(..) | Work::Peak(_)) {
                let end = end.max(0) as u64;
                keep.push((end.saturating_sub(self.max_win), end));
            }
        }
        keep.retain(|&(a, b)| a < e && b > s);
        keep.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(keep.len());
        for (a, b) in keep.drain(..) {
            match merged.last_mut() {
                Some(l) if a <= l.1 => l.1 = l.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        keep.extend(merged);
        self.keep = keep;
    }

    /// Moves the search's new peaks into the work queue, keyed by their window end.
    fn queue_peaks(&mut self) {
        for p in std::mem::take(&mut self.peaks) {
            let scs = self.cfg.candidates[p.candidate].scs;
            let end = self.window_end(scs, p.sample);
            let id = self.peak_seq;
            self.peak_seq += 1;
            self.peak_store.insert(id, p);
            self.queue.insert((end, Work::Peak(id)), ());
        }
    }

    /// Processes everything left (end of a recording).
    pub fn finish(&mut self, out: &mut Vec<RxEvent>) {
        self.search.flush(&mut self.peaks);
        self.queue_peaks();
        self.settle = 0;
        self.run_queue(out);
        // The last, partial 20 ms of a stream without a cell still gets its decision.
        let last_start = self.next_nocell - self.nocell_len;
        if self.cells.is_empty() && self.end > last_start {
            out.push(RxEvent::NoCell {
                start: last_start,
                len: self.end - last_start,
                band_power_db: self.band_power_db(self.end, 20),
            });
        }
        // Work whose window never arrived is dropped: those SSBs are not in the input.
        self.queue.clear();
    }

    /// Is the search on at sample `s`, and until where (≤ `e`) does that hold?
    fn search_segment(&self, s: u64, e: u64) -> (bool, u64) {
        if s >= self.cont_from && s < self.cont_until {
            return (true, e.min(self.cont_until));
        }
        let ph = s % self.reacq_every;
        let (on, len) = if ph < self.reacq_len {
            (true, self.reacq_len - ph)
        } else {
            (false, self.reacq_every - ph)
        };
        let mut end = e.min(s + len);
        if s < self.cont_from {
            end = end.min(self.cont_from);
        }
        (on, end)
    }

    /// The CFO hint for the re-acquisition window starting at `w`: the latest CFO a
    /// tracked cell showed in work whose window ended at least a settle time and a piece
    /// before `w` — such work is always done before the stream reaches `w`, whatever the
    /// block cuts, so the hint (and every peak) does not depend on them.
    fn reacq_hint(&mut self, w: u64) -> Option<f64> {
        let due = w as i64 - self.lead() as i64;
        while self.cfo_log.len() > 1 && self.cfo_log[1].0 <= due {
            self.cfo_log.pop_front();
        }
        self.cfo_log.front().filter(|e| e.0 <= due).map(|e| e.1)
    }

    fn feed_search(&mut self, first: u64, samples: &[Complex32]) {
        let e = first + samples.len() as u64;
        let mut s = first;
        while s < e {
            let (on, seg_end) = self.search_segment(s, e);
            let seg_end = seg_end.max(s + 1);
            if on {
                let continuous = s >= self.cont_from && s < self.cont_until;
                let hint = if continuous {
                    None
                } else {
                    self.reacq_hint(s - s % self.reacq_every.max(1))
                };
                self.search.set_cfo_hint(hint);
                let a = (s - first) as usize;
                let b = (seg_end - first) as usize;
                self.search.push(s, &samples[a..b], &mut self.peaks);
                self.search_running = true;
            } else if self.search_running {
                // Window over: emit what is held and start clean next time.
                self.search.reset(&mut self.peaks);
                self.search_running = false;
            }
            s = seg_end;
        }
    }

    /// How far past a work item's window end the stream can be when that work is done
    /// (the search's settle time and one piece), plus the search margin (so the ring's
    /// stored ranges can follow a change that work makes).
    fn lead(&self) -> u64 {
        let piece = (self.ring.capacity() / 4) as u64;
        self.settle + piece + self.search_margin()
    }

    /// A point surely ahead of the stream when work ending at `item_end` is processed,
    /// by more than the search margin.
    fn future_point(&self, item_end: i64) -> u64 {
        item_end.max(0) as u64 + self.lead() + 1
    }

    fn monitor(&mut self, first: u64, samples: &[Complex32]) {
        let mut n = first;
        let mut i = 0;
        while i < samples.len() {
            let bin = n / self.ms_len;
            let bin_end = (bin + 1) * self.ms_len;
            let take = ((bin_end - n) as usize).min(samples.len() - i);
            if bin != self.cur_bin {
                self.cur_bin = bin;
                self.cur_acc = EnergyAcc::default();
            }
            self.cur_acc.add(n, &samples[i..i + take]);
            n += take as u64;
            i += take;
            let k = (bin % self.bins.len() as u64) as usize;
            let (e, sum) = if n == bin_end {
                self.cur_acc.take()
            } else {
                (self.cur_acc.value(), self.cur_acc.sum())
            };
            self.bins[k] = e / self.ms_len as f64;
            self.dc_bins[k] = sum / self.ms_len as f64;
        }
    }

    /// The input's DC offset (an SDR's LO leakage): the mean sample over the `ms` complete
    /// 1 ms bins ending before `t` (zero before the first). Every OFDM carrier, noise and
    /// jammer averages out over that time; what stays is a constant, or a tone within
    /// ~1/(2 · ms) of the receiver's own LO.
    ///
    /// The bins holding a found SSB of a tracked cell are left out ([`Self::quiet_bins`]):
    /// an SSB centred on the LO repeats the same PSS and SSS every period, which does not
    /// average out — at a 5 ms period four bursts in 20 ms added up to a false "offset",
    /// and taking it out of clean SSBs left a tone on their centre subcarrier (a clean
    /// 30 kHz cell had 660 of 3200 SSBs "jammed", 64 alerts).
    ///
    /// Zero unless that mean's power is at least 10 × the mean power over one 1 ms bin's
    /// sample count (−33.6 dBc at 23.04 Msps): a recording that loops 1 ms of signal (a
    /// short capture replayed) repeats its own content at 0 Hz instead of averaging it
    /// out, and that much content is in a 1 ms mean. Taking such an estimate out of the
    /// Amarisoft capture (DC −36.9 dBc on an SSB subcarrier, its own content at −43.6 dB)
    /// made the DT-DDNN call 7 of its 120 clean SSBs jammed, against 0 with the offset
    /// left in.
    fn dc_offset(&self, t: u64, ms: u64) -> Complex32 {
        let (mut acc, mut p, mut n) = (Complex64::new(0.0, 0.0), 0.0, 0usize);
        for (_, k) in self.quiet_bins(t, ms) {
            acc += self.dc_bins[k];
            p += self.bins[k];
            n += 1;
        }
        if n == 0 {
            return Complex32::new(0.0, 0.0);
        }
        let (m, p) = (acc / n as f64, p / n as f64);
        if m.norm_sqr() < 10.0 * p / self.ms_len as f64 {
            return Complex32::new(0.0, 0.0);
        }
        Complex32::new(m.re as f32, m.im as f32)
    }

    /// The complete bins of [`Self::complete_bins`] that hold no found SSB of a tracked
    /// cell ([`Self::mark_ssb`]).
    fn quiet_bins(&self, t: u64, ms: u64) -> impl Iterator<Item = (u64, usize)> + use<'_> {
        self.complete_bins(t, ms)
            .filter(|&(b, k)| self.ssb_bins[k] != b + 1)
    }

    /// The `ms` complete 1 ms bins ending before `t` (fewer at the stream's start, at most
    /// the ring's length less two), oldest first: (absolute bin number, ring slot).
    fn complete_bins(&self, t: u64, ms: u64) -> impl Iterator<Item = (u64, usize)> + use<> {
        let last = t / self.ms_len;
        let n = self.bins.len() as u64;
        let ms = ms.min(n - 2).min(last);
        (last - ms..last).map(move |b| (b, (b % n) as usize))
    }

    /// Mean wideband power (dBFS) over the `ms` complete 1 ms bins ending before `t`,
    /// leaving out the bins that hold a found SSB of a tracked cell ([`Self::mark_ssb`];
    /// all of them if every bin does): the power *between* SSBs. With the SSB bins in, the
    /// value depended on the cell's SSB period — a 20 ms window before an SSB holds one
    /// burst at a 20 ms period, two at 10 ms, and none or part of one at 40 ms, where it
    /// swung by ±3.7 dB from one SSB to the next of a clean cell.
    fn band_power_db(&self, t: u64, ms: u64) -> f64 {
        let mean = |bins: &mut dyn Iterator<Item = (u64, usize)>| {
            let (acc, n) = bins.fold((0.0, 0usize), |(a, n), (_, k)| (a + self.bins[k], n + 1));
            (n > 0).then(|| acc / n as f64)
        };
        mean(&mut self.quiet_bins(t, ms))
            .or_else(|| mean(&mut self.complete_bins(t, ms)))
            .map_or(-200.0, crate::dsp::db)
    }

    /// Marks the 1 ms bins that the SSB window `[start, start + len)` touches as holding
    /// an SSB ([`Self::band_power_db`] leaves them out).
    fn mark_ssb(&mut self, start: f64, len: f64) {
        let n = self.bins.len() as u64;
        let first = start.max(0.0) as u64 / self.ms_len;
        let last = (start + len).max(0.0) as u64 / self.ms_len;
        for b in first..=last.min(first + n - 1) {
            self.ssb_bins[(b % n) as usize] = b + 1;
        }
    }

    fn run_queue(&mut self, out: &mut Vec<RxEvent>) {
        while let Some((&(end, work), _)) = self.queue.iter().next() {
            // While the search is idle (between re-acquisition windows, once a cell is
            // tracked) every peak it will ever report before now is already queued, and
            // nothing queued later can end before `self.end`: work runs as soon as its
            // window is complete. The order of the work, and so every event, is the
            // same as with the full wait; only the latency drops.
            let wait = if self.search_running { self.settle } else { 0 };
            if end + wait as i64 > self.end as i64 {
                break;
            }
            self.queue.remove(&(end, work));
            match work {
                Work::Peak(id) => {
                    if let Some(p) = self.peak_store.remove(&id) {
                        self.confirm_peak(p, out);
                    }
                }
                Work::Occasion(cell, slot) => self.occasion(cell, slot, out),
                Work::NoCell(at) => {
                    if self.cells.is_empty() {
                        out.push(RxEvent::NoCell {
                            start: at - self.nocell_len,
                            len: self.nocell_len,
                            band_power_db: self.band_power_db(at, 20),
                        });
                    }
                }
            }
        }
    }

    /// Cuts and decodes the window for a PSS at `pss_t`.
    fn decode_at(
        &mut self,
        scs: Scs,
        offset_hz: f64,
        pss_t: f64,
        radius_in: f64,
        n_id2: u8,
        known_n1: Option<u16>,
    ) -> Option<(SsbObservation, f64)> {
        let (a, _) = self.window_start(scs, pss_t);
        let i = self.chain_index(scs);
        let dc = self.dc_offset(a.max(0) as u64, DC_MS);
        let (ring, ch) = (&self.ring, &mut self.scs_chain[i]);
        let mut win_p = std::mem::take(&mut self.win_p);
        win_p.resize(ch.extractor.len_out(), Complex32::new(0.0, 0.0));
        // The window goes from the ring straight into the extractor's transform.
        if !ch.extractor.extract_from(
            |buf| ring.copy_to(a, buf),
            a.max(0) as u64,
            offset_hz,
            dc,
            &mut win_p,
        ) {
            self.win_p = win_p;
            return None;
        }
        let ratio = ch.extractor.ratio();
        let expect = (pss_t - a as f64) / ratio;
        let radius = (radius_in / ratio).ceil() as usize + 2;
        let obs = ch
            .decoder
            .decode(&mut win_p, expect, radius, n_id2, known_n1);
        self.win_p = win_p;
        obs.map(|o| {
            let t = a as f64 + o.pss_pos_p * ratio;
            (o, t)
        })
    }

    fn ssb_index(&self, ibar: u8) -> u8 {
        if self.l_max == 4 { ibar & 3 } else { ibar }
    }

    fn confirm_peak(&mut self, p: PssPeak, out: &mut Vec<RxEvent>) {
        let cand = self.cfg.candidates[p.candidate];
        let ratio = self.chain(cand.scs).extractor.ratio();
        // Already tracked at this time? (re-acquisition sees known cells again)
        let tol = 8.0 * ratio + 64.0;
        for c in &self.cells {
            if c.cand == p.candidate
                && c.n_id2 == p.n_id2
                && c.slots.values().any(|s| {
                    let per = c.period_in.unwrap_or(0.0);
                    let d = p.sample - s.next;
                    d.abs() < tol
                        || (per > 0.0 && (d.rem_euclid(per) < tol || per - d.rem_euclid(per) < tol))
                })
            {
                return;
            }
        }
        let radius = self.search_step(p.candidate) + 2.0 * ratio;
        let Some((obs, t)) = self.decode_at(
            cand.scs,
            cand.offset_hz + p.cfo_hz,
            p.sample,
            radius,
            p.n_id2,
            None,
        ) else {
            return;
        };
        let (Some(pci), Some(ibar)) = (obs.pci(), obs.i_ssb_bar) else {
            return;
        };
        let cfo = p.cfo_hz + obs.cfo_hz;
        let idx = self.ssb_index(ibar);
        let existing = self
            .cells
            .iter()
            .position(|c| c.info.pci == pci && c.cand == p.candidate);
        if existing.is_none() && obs.dmrs_metric.0 < DMRS_CONFIRM_MIN {
            return;
        }
        let fs = self.cfg.sample_rate_hz;
        let start = t - CP_P as f64 * ratio;
        let ci = match existing {
            Some(ci) => ci,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                let info = CellInfo {
                    id,
                    pci,
                    scs: cand.scs,
                    offset_hz: cand.offset_hz,
                    cfo_hz: cfo,
                    first_sample: start,
                    ssb_indices: vec![],
                    snr_db: obs.snr_db,
                    period_ms: None,
                };
                self.cells.push(Cell {
                    info,
                    n_id1: obs.n_id1.unwrap_or(0),
                    n_id2: p.n_id2,
                    cand: p.candidate,
                    slots: BTreeMap::new(),
                    misses: 0,
                    period_in: None,
                });
                self.cells.len() - 1
            }
        };
        let new_cell = existing.is_none();
        let item_end = self.window_end(cand.scs, p.sample);
        self.cfo_log
            .push_back((item_end, self.cells[ci].info.cfo_hz));
        if new_cell && self.cont_until == u64::MAX {
            self.cont_until = self.future_point(item_end) + self.reacq_len;
        }
        let cell = &mut self.cells[ci];
        if !cell.info.ssb_indices.contains(&idx) {
            cell.info.ssb_indices.push(idx);
            cell.info.ssb_indices.sort_unstable();
        }
        if cell.slots.contains_key(&idx) {
            return;
        }
        let (next, probe) = match cell.period_in {
            Some(per) => (t + per, None),
            None => (t + PROBES_MS[0] as f64 * 1e-3 * fs, Some(0)),
        };
        cell.slots.insert(
            idx,
            Slot {
                next,
                last_found: t,
                probe,
            },
        );
        let id = cell.info.id;
        let info = cell.info.clone();
        if new_cell {
            out.push(RxEvent::CellFound(info.clone()));
        }
        // The SSB that found the cell is an occasion too.
        let report = SsbReport {
            neighbours: self.neighbours(id),
            cell: info,
            ssb_index: Some(idx),
            start,
            len: SSB_LEN_P as f64 * ratio,
            found: true,
            band_power_db: self.band_power_db(start.max(0.0) as u64, 20),
            obs: Some(obs),
        };
        self.mark_ssb(start, report.len);
        out.push(RxEvent::Ssb(Box::new(report)));
        let end = self.window_end(cand.scs, next);
        self.queue.insert((end, Work::Occasion(id, idx)), ());
    }

    fn search_step(&self, cand: usize) -> f64 {
        self.search.step(cand)
    }

    fn neighbours(&self, id: u32) -> Vec<(u16, f64)> {
        let Some(me) = self.cells.iter().find(|c| c.info.id == id) else {
            return vec![];
        };
        self.cells
            .iter()
            .filter(|c| c.info.id != id && c.cand == me.cand)
            .map(|c| (c.info.pci, c.info.snr_db))
            .collect()
    }

    fn occasion(&mut self, id: u32, slot: u8, out: &mut Vec<RxEvent>) {
        let Some(ci) = self.cells.iter().position(|c| c.info.id == id) else {
            return;
        };
        let fs = self.cfg.sample_rate_hz;
        let (scs, offset, cfo, n_id2, n_id1, t_pred, probe) = {
            let c = &self.cells[ci];
            let Some(s) = c.slots.get(&slot) else { return };
            (
                c.info.scs,
                c.info.offset_hz,
                c.info.cfo_hz,
                c.n_id2,
                c.n_id1,
                s.next,
                s.probe,
            )
        };
        let ratio = self.chain(scs).extractor.ratio();
        let decoded = self.decode_at(scs, offset + cfo, t_pred, 3.0 * ratio, n_id2, Some(n_id1));
        let found = decoded.as_ref().is_some_and(|(o, _)| o.n_id1.is_some());
        let l_max = self.l_max;
        let pred_end = self.window_end(scs, t_pred);
        let cell = &mut self.cells[ci];
        let Some(s) = cell.slots.get_mut(&slot) else {
            return;
        };
        let t_meas = match (&decoded, found) {
            (Some((_, t)), true) => *t,
            _ => t_pred,
        };
        let mut emit = true;
        match probe {
            Some(k) => {
                if found {
                    let per = PROBES_MS[k] as f64 * 1e-3 * fs;
                    cell.period_in = Some(per);
                    cell.info.period_ms = Some(PROBES_MS[k]);
                    s.probe = None;
                    s.next = t_meas + per;
                    s.last_found = t_meas;
                } else if k + 1 < PROBES_MS.len() {
                    // Not there: this was not an occasion, try the next period.
                    emit = false;
                    s.probe = Some(k + 1);
                    s.next = s.last_found + PROBES_MS[k + 1] as f64 * 1e-3 * fs;
                } else {
                    emit = false;
                    cell.slots.remove(&slot);
                }
            }
            None => {
                let per = cell.period_in.unwrap_or(20e-3 * fs);
                s.next = t_meas + per;
                if found {
                    s.last_found = t_meas;
                }
            }
        }
        let mut cfo_now = None;
        if found {
            cell.misses = 0;
            if let Some((o, _)) = &decoded {
                cell.info.cfo_hz += 0.5 * o.cfo_hz;
                cell.info.snr_db = 0.8 * cell.info.snr_db + 0.2 * o.snr_db;
                cfo_now = Some(cell.info.cfo_hz);
            }
        } else if emit {
            cell.misses += 1;
        }
        let lost = cell.misses >= self.cfg.lost_after_misses || cell.slots.is_empty();
        if let Some(f) = cfo_now {
            self.cfo_log.push_back((pred_end, f));
        }
        let next = cell.slots.get(&slot).map(|s| s.next);
        let info = cell.info.clone();
        if emit {
            let idx = decoded
                .as_ref()
                .filter(|_| found)
                .and_then(|(o, _)| o.i_ssb_bar)
                .map(|b| if l_max == 4 { b & 3 } else { b })
                .or(Some(slot));
            let start = t_meas - CP_P as f64 * ratio;
            let band_power_db = self.band_power_db(start.max(0.0) as u64, 20);
            if found {
                self.mark_ssb(start, SSB_LEN_P as f64 * ratio);
            }
            out.push(RxEvent::Ssb(Box::new(SsbReport {
                neighbours: self.neighbours(id),
                cell: info.clone(),
                ssb_index: idx,
                start,
                len: SSB_LEN_P as f64 * ratio,
                found,
                band_power_db,
                obs: decoded.map(|(o, _)| o),
            })));
        }
        if lost {
            self.cells.remove(ci);
            out.push(RxEvent::CellLost(info));
            if self.cells.is_empty() {
                let item_end = self.window_end(scs, t_pred);
                self.cont_from = self.future_point(item_end);
                self.cont_until = u64::MAX;
            }
            return;
        }
        if let Some(n) = next {
            let end = self.window_end(scs, n);
            self.queue.insert((end, Work::Occasion(id, slot)), ());
        }
    }
}
