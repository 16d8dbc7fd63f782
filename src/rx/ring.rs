//! A ring buffer of raw input samples addressed by absolute sample index, so the receiver
//! can cut any recent window (an SSB, a PSS candidate) out of the stream regardless of how
//! the stream was split into blocks.

use num_complex::Complex32;

/// Ring of the last `capacity` samples.
pub struct SampleRing {
    buf: Vec<Complex32>,
    mask: usize,
    /// Absolute index one past the newest sample.
    end: u64,
    /// Oldest absolute index that is valid (after a discontinuity, nothing before it is).
    valid_from: u64,
}

impl SampleRing {
    /// A ring holding at least `min_capacity` samples (rounded up to a power of two).
    pub fn new(min_capacity: usize) -> Self {
        let cap = min_capacity.next_power_of_two().max(1024);
        SampleRing {
            buf: vec![Complex32::new(0.0, 0.0); cap],
            mask: cap - 1,
            end: 0,
            valid_from: 0,
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

    /// Appends samples starting at absolute index `first`. A gap invalidates everything
    /// before `first`.
    pub fn push(&mut self, first: u64, samples: &[Complex32]) {
        if first != self.end {
            self.valid_from = first;
        }
        let mut pos = (first as usize) & self.mask;
        let mut rest = samples;
        if rest.len() > self.buf.len() {
            // Only the tail can be kept.
            let skip = rest.len() - self.buf.len();
            rest = &rest[skip..];
            pos = ((first + skip as u64) as usize) & self.mask;
        }
        let first_part = (self.buf.len() - pos).min(rest.len());
        self.buf[pos..pos + first_part].copy_from_slice(&rest[..first_part]);
        let second = rest.len() - first_part;
        self.buf[..second].copy_from_slice(&rest[first_part..]);
        self.end = first + samples.len() as u64;
    }

    /// Is `[start, start + len)` fully held?
    pub fn holds(&self, start: i64, len: usize) -> bool {
        let oldest = self
            .end
            .saturating_sub(self.buf.len() as u64)
            .max(self.valid_from);
        start >= 0 && start as u64 >= oldest && start as u64 + len as u64 <= self.end
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

    #[test]
    fn windows_survive_wraparound_and_gaps_invalidate() {
        let mut r = SampleRing::new(1024);
        let data: Vec<Complex32> = (0..5000).map(|i| Complex32::new(i as f32, 0.0)).collect();
        for (k, c) in data.chunks(333).enumerate() {
            r.push((k * 333) as u64, c);
        }
        let mut w = vec![Complex32::new(0.0, 0.0); 500];
        assert!(r.copy_to(4400, &mut w));
        assert_eq!(w[0].re, 4400.0);
        assert_eq!(w[499].re, 4899.0);
        assert!(!r.copy_to(3000, &mut w), "too old");
        assert!(!r.copy_to(4800, &mut w), "not yet arrived");
        r.push(6000, &data[..100]);
        assert!(!r.copy_to(4990, &mut w[..20]), "spans a gap");
        assert!(r.copy_to(6000, &mut w[..100]));
    }
}
