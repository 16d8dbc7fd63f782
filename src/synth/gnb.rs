//! A gNB's downlink: SSBs on their burst schedule plus random-QPSK traffic, through its
//! channel, shifted to its SSB frequency with its CFO.

use num_complex::Complex32;

use crate::dsp::Nco;
use crate::nr::grid::{PBCH_DATA_LEN, SsbGrid};
use crate::nr::sequences::i_ssb_bar;
use crate::nr::{BurstConfig, Numerology, OfdmModulator, SSB_SUBCARRIERS, Scs};
use crate::rng::Rng;

use super::channel::Tdl;

/// Mean number of non-null REs per SSB symbol: (127 + 240 + 223 + 240) / 4.
pub const SSB_MEAN_RES_PER_SYMBOL: f64 = 207.5;

/// Everything needed to render one gNB.
pub struct GnbParams {
    /// PCI.
    pub pci: u16,
    /// Numerology at the output rate.
    pub num: Numerology,
    /// Burst schedule.
    pub burst: BurstConfig,
    /// Per-RE amplitude.
    pub amp: f32,
    /// Traffic load 0..1.
    pub traffic_load: f64,
    /// Carrier width, RBs.
    pub carrier_rb: u32,
    /// RB where the SSB starts.
    pub ssb_rb_offset: u32,
    /// Frame start in output samples (fractional, may be negative).
    pub frame_start: f64,
    /// Clock ratio 1 + ppm·1e-6.
    pub clock: f64,
    /// Frequency shift applied after the channel: SSB offset + CFO, Hz.
    pub shift_hz: f64,
    /// Channel.
    pub channel: Option<Tdl>,
    /// Send traffic in SSB symbols outside the SSB? (always true for a real gNB)
    pub rng: Rng,
    /// Transmitter EVM as an amplitude ratio (0: ideal) and its own random stream (so an
    /// ideal gNB renders exactly as before EVM existed).
    pub evm: (f32, Rng),
}

/// Renders a gNB's samples block by block.
pub struct GnbSignal {
    p: GnbParams,
    modulator: OfdmModulator,
    nco: Nco,
    /// SSB first symbols (in half frame) → SSB index.
    ssb_at: Vec<Option<u8>>,
    row: Vec<Complex32>,
    ramp: Vec<Complex32>,
    sym: Vec<Complex32>,
    half: Vec<Complex32>,
    /// Half frame currently in `half`, its integer start sample.
    cur_h: i64,
    cur_start: i64,
    next_start: i64,
    alloc: Vec<bool>,
    pbch: [Complex32; PBCH_DATA_LEN],
    first_bin: isize,
    ssb_sc0: usize,
}

impl GnbSignal {
    /// Prepares the renderer.
    pub fn new(p: GnbParams) -> Self {
        let n = p.num.n_fft;
        let carrier_sc = p.carrier_rb as usize * 12;
        let ssb_sc0 = p.ssb_rb_offset as usize * 12;
        let first_bin = -(120isize) - ssb_sc0 as isize;
        let mut ssb_at = vec![None; p.num.scs.symbols_per_half_frame()];
        for (idx, l0) in p.burst.transmitted().unwrap_or_default() {
            if l0 < ssb_at.len() {
                ssb_at[l0] = Some(idx);
            }
        }
        let half_len = p.num.half_frame_len();
        let mut g = GnbSignal {
            nco: Nco::new(p.shift_hz, p.num.sample_rate_hz),
            modulator: OfdmModulator::new(n),
            ssb_at,
            row: vec![Complex32::new(0.0, 0.0); carrier_sc],
            ramp: vec![Complex32::new(1.0, 0.0); carrier_sc],
            sym: vec![Complex32::new(0.0, 0.0); n + p.num.cp + p.num.cp_extra],
            half: vec![Complex32::new(0.0, 0.0); half_len],
            cur_h: i64::MIN,
            cur_start: 0,
            next_start: 0,
            alloc: vec![false; p.carrier_rb as usize],
            pbch: [Complex32::new(0.0, 0.0); PBCH_DATA_LEN],
            first_bin,
            ssb_sc0,
            p,
        };
        // Position on the half frame that contains sample 0.
        let h0 = g.half_frame_containing(0);
        g.load_half_frame(h0);
        g
    }

    /// Exact (fractional) start sample of half frame `h`.
    pub fn half_frame_start(&self, h: i64) -> f64 {
        self.p.frame_start + h as f64 * self.p.num.half_frame_len() as f64 * self.p.clock
    }

    fn half_frame_containing(&self, n: i64) -> i64 {
        let hf = self.p.num.half_frame_len() as f64 * self.p.clock;
        ((n as f64 - self.p.frame_start) / hf).floor() as i64
    }

    /// Does half frame `h` carry a burst?
    pub fn has_burst(&self, h: i64) -> bool {
        let every = (self.p.burst.periodicity_ms / 5).max(1) as i64;
        h.rem_euclid(every) == 0
    }

    /// Exact start (first CP sample) of every transmitted SSB in half frame `h`:
    /// (SSB index, fractional sample).
    pub fn ssb_starts(&self, h: i64) -> Vec<(u8, f64)> {
        if !self.has_burst(h) {
            return Vec::new();
        }
        let s = self.half_frame_start(h);
        self.ssb_at
            .iter()
            .enumerate()
            .filter_map(|(l, i)| {
                i.map(|i| (i, s + self.p.num.symbol_start(l) as f64 * self.p.clock))
            })
            .collect()
    }

    /// Samples of one SSB (4 symbols, CPs included) at this rate.
    pub fn ssb_len(&self, first_symbol: usize) -> usize {
        self.p.num.ssb_len(first_symbol)
    }

    /// Half frames (in order) whose SSBs overlap `[start, end)`.
    pub fn half_frames_in(&self, start: i64, end: i64) -> std::ops::RangeInclusive<i64> {
        self.half_frame_containing(start) - 1..=self.half_frame_containing(end)
    }

    fn load_half_frame(&mut self, h: i64) {
        let exact = self.half_frame_start(h);
        let int = exact.floor();
        let frac = exact - int;
        self.cur_h = h;
        self.cur_start = int as i64;
        self.next_start = self.half_frame_start(h + 1).floor() as i64;
        let n = self.p.num.n_fft;
        // A delay of `frac` samples is a phase ramp exp(−j2π b frac / N) on bin b.
        for (c, r) in self.ramp.iter_mut().enumerate() {
            let b = self.first_bin + c as isize;
            let ph = -std::f64::consts::TAU * b as f64 * frac / n as f64;
            *r = Complex32::new(ph.cos() as f32, ph.sin() as f32);
        }
        let burst = self.has_burst(h);
        let half_frame_bit = h.rem_euclid(2) as u8;
        let mut ssb_grid: Option<(SsbGrid, usize)> = None;
        let nsym = self.p.num.scs.symbols_per_half_frame();
        let amp = self.p.amp;
        for l in 0..nsym {
            if l % 14 == 0 {
                for a in self.alloc.iter_mut() {
                    *a = self.p.traffic_load > 0.0 && self.p.rng.uniform() < self.p.traffic_load;
                }
            }
            if burst && let Some(idx) = self.ssb_at[l] {
                for q in self.pbch.iter_mut() {
                    *q = self.p.rng.qpsk();
                }
                let ibar = i_ssb_bar(idx, half_frame_bit, self.p.burst.l_max);
                ssb_grid = SsbGrid::build(self.p.pci, ibar, &self.pbch)
                    .ok()
                    .map(|g| (g, l));
            }
            let ssb_sym = ssb_grid
                .as_ref()
                .and_then(|(_, l0)| (l >= *l0 && l < l0 + 4).then_some(l - l0));
            self.row.fill(Complex32::new(0.0, 0.0));
            for (rb, &on) in self.alloc.iter().enumerate() {
                if !on {
                    continue;
                }
                let sc = rb * 12;
                if ssb_sym.is_some() && sc >= self.ssb_sc0 && sc < self.ssb_sc0 + SSB_SUBCARRIERS {
                    continue;
                }
                for c in sc..sc + 12 {
                    self.row[c] = self.p.rng.qpsk() * amp;
                }
            }
            if let (Some(s), Some((g, _))) = (ssb_sym, ssb_grid.as_ref()) {
                for (k, re) in g.re[s].iter().enumerate() {
                    self.row[self.ssb_sc0 + k] = re * amp;
                }
            }
            let evm = self.p.evm.0;
            if evm > 0.0 {
                for x in self.row.iter_mut() {
                    if x.norm_sqr() > 0.0 {
                        *x *= Complex32::new(1.0, 0.0) + self.p.evm.1.complex_gaussian(1.0) * evm;
                    }
                }
            }
            if frac != 0.0 {
                for (x, r) in self.row.iter_mut().zip(&self.ramp) {
                    *x *= r;
                }
            }
            let cp = self.p.num.cp_len(l);
            let len = cp + n;
            self.modulator
                .modulate(&self.row, self.first_bin, cp, &mut self.sym[..len]);
            let at = self.p.num.symbol_start(l);
            self.half[at..at + len].copy_from_slice(&self.sym[..len]);
        }
    }

    /// Adds this gNB's next samples (absolute indices `start..start + out.len()`) to `out`.
    /// Calls must be contiguous. `scratch` must be as long as `out`.
    pub fn add(&mut self, start: u64, out: &mut [Complex32], scratch: &mut [Complex32]) {
        let scratch = &mut scratch[..out.len()];
        scratch.fill(Complex32::new(0.0, 0.0));
        let mut i = 0usize;
        while i < out.len() {
            let n = start as i64 + i as i64;
            if n >= self.next_start {
                let h = self.cur_h + 1;
                self.load_half_frame(h);
                continue;
            }
            let off = n - self.cur_start;
            let take_until = self.next_start.min(start as i64 + out.len() as i64);
            let count = (take_until - n) as usize;
            for j in 0..count {
                let o = off + j as i64;
                if o >= 0 && (o as usize) < self.half.len() {
                    scratch[i + j] = self.half[o as usize];
                }
            }
            i += count;
        }
        if let Some(ch) = self.p.channel.as_mut() {
            ch.process(start, scratch);
        }
        self.nco.mix(start, scratch);
        for (o, s) in out.iter_mut().zip(scratch.iter()) {
            *o += s;
        }
    }

    /// SCS.
    pub fn scs(&self) -> Scs {
        self.p.num.scs
    }

    /// Numerology.
    pub fn numerology(&self) -> &Numerology {
        &self.p.num
    }

    /// Burst configuration.
    pub fn burst(&self) -> &BurstConfig {
        &self.p.burst
    }
}
