//! The synchronisation raster (TS 38.101-1 §5.4.3.1, Table 5.4.3.1-1): where an SSB
//! centre (SS_REF) may sit in FR1.
//!
//! - 0–3000 MHz: SS_REF = N × 1200 kHz + M × 50 kHz, N = 1..2499, M ∈ {1, 3, 5};
//! - 3000–24250 MHz: SS_REF = 3000 MHz + N × 1.44 MHz, N = 0..14756.

/// Every raster SS_REF (Hz) whose SSB (±120 subcarriers of `scs_hz`) lies inside
/// `[center − usable/2, center + usable/2]`.
pub fn raster_in_band(center_hz: f64, usable_bw_hz: f64, scs_hz: f64) -> Vec<f64> {
    let half = usable_bw_hz / 2.0 - 120.0 * scs_hz;
    if half <= 0.0 {
        return Vec::new();
    }
    let (lo, hi) = (center_hz - half, center_hz + half);
    let mut out = Vec::new();
    if lo < 3.0e9 {
        let n_lo = ((lo / 1.2e6).floor() as i64 - 1).max(1);
        let n_hi = ((hi.min(3.0e9) / 1.2e6).ceil() as i64 + 1).min(2499);
        for n in n_lo..=n_hi {
            for m in [1.0, 3.0, 5.0] {
                let f = n as f64 * 1.2e6 + m * 50e3;
                if f >= lo && f <= hi && f < 3.0e9 {
                    out.push(f);
                }
            }
        }
    }
    if hi >= 3.0e9 {
        let n_lo = (((lo.max(3.0e9) - 3.0e9) / 1.44e6).floor() as i64).max(0);
        let n_hi = (((hi - 3.0e9) / 1.44e6).ceil() as i64).min(14756);
        for n in n_lo..=n_hi {
            let f = 3.0e9 + n as f64 * 1.44e6;
            if f >= lo && f <= hi {
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_capture_ssb_frequencies_are_on_the_raster() {
        // From ../shared/captures/manifest.json (confirmed by their source projects).
        for (center, fs, ssb, scs) in [
            (3502.8e6, 46.08e6, 3512.64e6, 30e3),
            (3427.5e6, 23.04e6, 3426.24e6, 30e3),
            (2157.5e6, 46.08e6, 2155.25e6, 15e3),
            (1870.0e6, 23.04e6, 1862.65e6, 15e3),
        ] {
            let r = raster_in_band(center, 0.9 * fs, scs);
            assert!(
                r.iter().any(|&f| (f - ssb).abs() < 1.0),
                "{ssb} not in raster around {center}"
            );
        }
    }

    #[test]
    fn spacing_per_range() {
        let r = raster_in_band(3.5e9, 20e6, 30e3);
        for w in r.windows(2) {
            assert!((w[1] - w[0] - 1.44e6).abs() < 1.0);
        }
        let r = raster_in_band(1.8e9, 10e6, 15e3);
        // Three positions per 1.2 MHz.
        assert!(r.len() >= 15, "{}", r.len());
    }
}
