//! A ring buffer of raw input samples addressed by absolute sample index, so the receiver
//! can cut any recent window (an SSB, a PSS candidate) out of the stream regardless of how
//! the stream was split into blocks.
//!
//! Only the ranges the receiver says it will need are copied in ([`SampleRing::push`]):
//! once a cell is tracked that is its SSB windows and the periodic re-acquisition
//! windows, a few per cent of the stream, so the ring costs almost nothing per sample. The
//! ring remembers which ranges it holds and never hands out a window it did not store.

use std::collections::VecDeque;

use num_complex::Complex32;

/// Ring of the last `capacity` samples, of which the written ranges are valid.
pub struct SampleRing {
    buf: Vec<Complex32>,
    mask: usize,
    /// Absolute index one past the newest sample.
    end: u64,
    /// Absolute `[start, end)` ranges held, ascending, disjoint, not touching.
    written: VecDeque<(u64, u64)>,
}

impl SampleRing {
    /// A ring holding at least `min_capacity` samples (rounded up to a power of two).
    pub fn new(min_capacity: usize) -> Self {
        let cap = min_capacity.next_power_of_two().max(1024);
        SampleRing {
            buf: vec![Complex32::new(0.0, 0.0); cap],
            mask: cap - 1,
            end: 0,
            written: VecDeque::new(),
        }
    }

    /// Capacity in samples.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Absolute index one past the newest sample.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Advances the stream by `samples`, starting at absolute index `first`, storing the
    /// parts that fall inside `keep` (absolute `[start, end)` ranges, ascending; use
    /// `&[(0, u64::MAX)]` for everything). A gap (`first` is not the previous end)
    /// invalidates everything before `first`.
    pub fn push(&mut self, first: u64, samples: &[Complex32], keep: &[(u64, u64)]) {
        if first != self.end {
            self.written.clear();
        }
        let last = first + samples.len() as u64;
        // Only the newest `capacity` samples can be kept.
        let lo = first.max(last.saturating_sub(self.buf.len() as u64));
        for &(ks, ke) in keep {
            let (s, e) = (ks.max(lo), ke.min(last));
            if s < e {
                let src = &samples[(s - first) as usize..(e - first) as usize];
                self.write(s, src);
                self.mark(s, e);
            }
        }
        self.end = last;
        // Storing newer samples overwrote the oldest ones in the same slots: only the
        // last `capacity` samples can be held.
        let oldest = self.end.saturating_sub(self.buf.len() as u64);
        while let Some(&(s, e)) = self.written.front() {
            if e <= oldest {
                self.written.pop_front();
            } else {
                if s < oldest {
                    self.written[0].0 = oldest;
                }
                break;
            }
        }
    }

    fn write(&mut self, start: u64, src: &[Complex32]) {
        let pos = (start as usize) & self.mask;
        let first_part = (self.buf.len() - pos).min(src.len());
        self.buf[pos..pos + first_part].copy_from_slice(&src[..first_part]);
        let second = src.len() - first_part;
        self.buf[..second].copy_from_slice(&src[first_part..]);
    }

    /// Records `[s, e)` as held; ranges arrive in stream order, so only the last one can
    /// touch it. (What newer samples overwrote is trimmed once per push, in
    /// [`SampleRing::push`].)
    fn mark(&mut self, s: u64, e: u64) {
        match self.written.back_mut() {
            Some(last) if last.1 >= s => last.1 = last.1.max(e),
            _ => self.written.push_back((s, e)),
        }
    }

    /// Is `[start, start + len)` fully held?
    pub fn holds(&self, start: i64, len: usize) -> bool {
        if start < 0 {
            return false;
        }
        let (s, e) = (start as u64, start as u64 + len as u64);
        self.written.iter().any(|&(a, b)| a <= s && e <= b)
    }

    /// Copies `[start, start + out.len())` into `out`; returns false (and leaves `out`
    /// untouched) if the ring does not hold it.
    pub fn copy_to(&self, start: i64, out: &mut [Complex32]) -> bool {
        if !self.holds(start, out.len()) {
            return false;
        }
        let pos = (start as usize) & self.mask;
        let first_part = (self.buf.len() - pos).min(out.len());
        out[..first_part].copy_from_slice(&self.buf[pos..pos + first_part]);
        let second = out.len() - first_part;
        out[first_part..].copy_from_slice(&self.buf[..second]);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[(u64, u64)] = &[(0, u64::MAX)];

    #[test]
    fn windows_survive_wraparound_and_gaps_invalidate() {
        let mut r = SampleRing::new(1024);
        let data: Vec<Complex32> = (0..5000).map(|i| Complex32::new(i as f32, 0.0)).collect();
        for (k, c) in data.chunks(333).enumerate() {
            r.push((k * 333) as u64, c, ALL);
        }
        let mut w = vec![Complex32::new(0.0, 0.0); 500];
        assert!(r.copy_to(4400, &mut w));
        assert_eq!(w[0].re, 4400.0);
        assert_eq!(w[499].re, 4899.0);
        assert!(!r.copy_to(3000, &mut w), "too old");
        assert!(!r.copy_to(4800, &mut w), "not yet arrived");
        r.push(6000, &data[..100], ALL);
        assert!(!r.copy_to(4990, &mut w[..20]), "spans a gap");
        assert!(r.copy_to(6000, &mut w[..100]));
    }

    #[test]
    fn only_kept_ranges_are_held_whatever_the_block_cuts() {
        let data: Vec<Complex32> = (0..20_000).map(|i| Complex32::new(i as f32, 0.0)).collect();
        let keep = [(1000, 1500), (1500, 1600), (7000, 7100), (15_000, 19_000)];
        for block in [1, 7, 333, 4096, 20_000] {
            let mut r = SampleRing::new(4096);
            for (k, c) in data.chunks(block).enumerate() {
                r.push((k * block) as u64, c, &keep);
            }
            let mut w = vec![Complex32::new(0.0, 0.0); 100];
            assert!(
                !r.copy_to(1000, &mut w),
                "{block}: overwritten by newer samples"
            );
            assert!(r.copy_to(16_000, &mut w), "{block}");
            assert_eq!(w[0].re, 16_000.0);
            assert_eq!(w[99].re, 16_099.0);
            assert!(r.copy_to(18_900, &mut w), "{block}: last kept samples");
            assert!(!r.copy_to(18_950, &mut w), "{block}: past the kept range");
            assert!(!r.copy_to(14_950, &mut w), "{block}: before the kept range");
        }
        // A small ring: windows inside one kept range, across two touching ranges, and
        // nothing outside them.
        let mut r = SampleRing::new(1024);
        for (k, c) in data[..8000].chunks(250).enumerate() {
            r.push((k * 250) as u64, c, &keep);
        }
        let mut w = vec![Complex32::new(0.0, 0.0); 50];
        assert!(r.copy_to(7020, &mut w));
        assert_eq!(w[0].re, 7020.0);
        assert!(!r.copy_to(7080, &mut w), "runs past the kept range");
        assert!(!r.copy_to(7500, &mut w), "never stored");
        let mut r = SampleRing::new(4096);
        r.push(0, &data[..2000], &keep);
        let mut w = vec![Complex32::new(0.0, 0.0); 200];
        assert!(r.copy_to(1400, &mut w), "touching ranges merge");
        assert_eq!(w[199].re, 1599.0);
        assert!(!r.copy_to(1450, &mut w), "runs past the kept ranges");
    }
}
