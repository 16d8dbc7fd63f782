//! An LTE-like downlink carrier: 15 kHz OFDM with LTE's normal CP (identical in timing to
//! NR numerology 0), DC subcarrier unused, random QPSK on a fraction of RBs per slot.
//! It has OFDM structure (cyclic prefix) but no NR PSS: a benign interferer.

use num_complex::Complex32;

use crate::dsp::Nco;
use crate::nr::{Numerology, OfdmModulator};
use crate::rng::Rng;

/// LTE carrier renderer.
pub struct LteSignal {
    num: Numerology,
    modulator: OfdmModulator,
    nco: Nco,
    n_rb: usize,
    amp: f32,
    load: f64,
    rng: Rng,
    /// Current 0.5 ms slot samples and its absolute start.
    slot: Vec<Complex32>,
    slot_start: i64,
    row: Vec<Complex32>,
    sym: Vec<Complex32>,
}

impl LteSignal {
    /// A carrier of `n_rb` RBs, per-RE amplitude `amp`, centred `offset_hz` from the
    /// recording centre.
    pub fn new(
        num: Numerology,
        n_rb: usize,
        amp: f32,
        load: f64,
        offset_hz: f64,
        mut rng: Rng,
    ) -> Self {
        let slot_len = num.half_subframe_len();
        let start_offset = -(rng.below(slot_len as u64) as i64);
        let mut l = LteSignal {
            modulator: OfdmModulator::new(num.n_fft),
            nco: Nco::new(offset_hz, num.sample_rate_hz),
            n_rb,
            amp,
            load,
            rng,
            slot: vec![Complex32::new(0.0, 0.0); slot_len],
            slot_start: start_offset - slot_len as i64,
            row: vec![Complex32::new(0.0, 0.0); n_rb * 12 + 1],
            sym: vec![Complex32::new(0.0, 0.0); num.n_fft + num.cp + num.cp_extra],
            num,
        };
        l.next_slot();
        l
    }

    /// Mean power for per-RE amplitude 1 and this load: used to scale.
    pub fn unit_power(num: &Numerology, n_rb: usize, load: f64) -> f64 {
        (n_rb * 12) as f64 * load / num.n_fft as f64
    }

    fn next_slot(&mut self) {
        self.slot_start += self.slot.len() as i64;
        let n = self.num.n_fft;
        let alloc: Vec<bool> = (0..self.n_rb)
            .map(|_| self.rng.uniform() < self.load)
            .collect();
        let half = (self.n_rb * 12 / 2) as isize;
        for l in 0..7 {
            self.row.fill(Complex32::new(0.0, 0.0));
            // Subcarriers −half..−1 and 1..half (index `half` is DC, unused).
            for (rb, &on) in alloc.iter().enumerate() {
                if !on {
                    continue;
                }
                for c in rb * 12..rb * 12 + 12 {
                    let idx = if (c as isize) < half { c } else { c + 1 };
                    self.row[idx] = self.rng.qpsk() * self.amp;
                }
            }
            let cp = self.num.cp_len(l);
            let len = cp + n;
            self.modulator
                .modulate(&self.row, -half, cp, &mut self.sym[..len]);
            let at = self.num.symbol_start(l);
            self.slot[at..at + len].copy_from_slice(&self.sym[..len]);
        }
    }

    /// Adds samples `start..start+out.len()` (contiguous calls).
    pub fn add(&mut self, start: u64, out: &mut [Complex32], scratch: &mut [Complex32]) {
        let s = &mut scratch[..out.len()];
        let mut i = 0;
        while i < s.len() {
            let n = start as i64 + i as i64;
            let off = n - self.slot_start;
            if off >= self.slot.len() as i64 {
                self.next_slot();
                continue;
            }
            let take = ((self.slot.len() as i64 - off) as usize).min(s.len() - i);
            s[i..i + take].copy_from_slice(&self.slot[off as usize..off as usize + take]);
            i += take;
        }
        self.nco.mix(start, s);
        for (o, x) in out.iter_mut().zip(s.iter()) {
            *o += x;
        }
    }
}
