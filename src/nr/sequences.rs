//! Synchronisation and reference sequences (TS 38.211 §5.2.1, §7.4.1.4.1, §7.4.2.2–3).

use num_complex::Complex32;

/// Length of PSS and SSS.
pub const SYNC_LEN: usize = 127;
/// Number of PBCH DMRS symbols per SSB.
pub const DMRS_LEN: usize = 144;

/// The m-sequence x(i+7) = (x(i+a) + x(i)) mod 2 with the given initial state
/// `[x(0), ..., x(6)]`, 127 long.
fn m_sequence(init: [u8; 7], tap: usize) -> [u8; SYNC_LEN] {
    let mut x = [0u8; SYNC_LEN];
    x[..7].copy_from_slice(&init);
    for i in 0..SYNC_LEN - 7 {
        x[i + 7] = (x[i + tap] + x[i]) % 2;
    }
    x
}

/// PSS d_PSS(n) for N_ID2 ∈ {0,1,2} as ±1 (TS 38.211 §7.4.2.2.1).
///
/// x(i+7) = (x(i+4) + x(i)) mod 2, [x(6) … x(0)] = [1 1 1 0 1 1 0],
/// d(n) = 1 − 2x((n + 43 N_ID2) mod 127).
pub fn pss(n_id2: u8) -> [i8; SYNC_LEN] {
    assert!(n_id2 < 3, "N_ID2 must be 0, 1 or 2");
    // [x(0), …, x(6)] is the reverse of the spec's [x(6) … x(0)].
    let x = m_sequence([0, 1, 1, 0, 1, 1, 1], 4);
    let mut d = [0i8; SYNC_LEN];
    for (n, dn) in d.iter_mut().enumerate() {
        let m = (n + 43 * n_id2 as usize) % SYNC_LEN;
        *dn = 1 - 2 * x[m] as i8;
    }
    d
}

/// SSS d_SSS(n) for N_ID1 ∈ 0..336, N_ID2 ∈ 0..3 as ±1 (TS 38.211 §7.4.2.3.1).
pub fn sss(n_id1: u16, n_id2: u8) -> [i8; SYNC_LEN] {
    assert!(n_id1 < 336 && n_id2 < 3, "N_ID1 < 336 and N_ID2 < 3");
    let init = [1, 0, 0, 0, 0, 0, 0];
    let x0 = m_sequence(init, 4);
    let x1 = m_sequence(init, 1);
    let m0 = 15 * (n_id1 as usize / 112) + 5 * n_id2 as usize;
    let m1 = n_id1 as usize % 112;
    let mut d = [0i8; SYNC_LEN];
    for (n, dn) in d.iter_mut().enumerate() {
        let a = 1 - 2 * x0[(n + m0) % SYNC_LEN] as i8;
        let b = 1 - 2 * x1[(n + m1) % SYNC_LEN] as i8;
        *dn = a * b;
    }
    d
}

/// Length-31 Gold sequence c(n), n = 0..len (TS 38.211 §5.2.1), as bits.
pub fn gold(c_init: u32, len: usize) -> Vec<u8> {
    const NC: usize = 1600;
    let total = NC + len + 31;
    let mut x1 = vec![0u8; total];
    let mut x2 = vec![0u8; total];
    x1[0] = 1;
    for (i, x) in x2.iter_mut().enumerate().take(31) {
        *x = ((c_init >> i) & 1) as u8;
    }
    for n in 0..total - 31 {
        x1[n + 31] = (x1[n + 3] + x1[n]) % 2;
        x2[n + 31] = (x2[n + 3] + x2[n + 2] + x2[n + 1] + x2[n]) % 2;
    }
    (0..len).map(|n| (x1[n + NC] + x2[n + NC]) % 2).collect()
}

/// The PBCH DMRS index ī_SSB (TS 38.211 §7.4.1.4.1): for L_max = 4 it carries the
/// half-frame bit, for L_max ≥ 8 it is the three LSBs of the SSB index.
pub fn i_ssb_bar(ssb_index: u8, half_frame: u8, l_max: u8) -> u8 {
    if l_max == 4 {
        (ssb_index & 3) + 4 * (half_frame & 1)
    } else {
        ssb_index & 7
    }
}

/// PBCH DMRS r(m), m = 0..144, for a PCI and ī_SSB ∈ 0..8 (TS 38.211 §7.4.1.4.1).
pub fn pbch_dmrs(pci: u16, i_ssb_bar: u8) -> [Complex32; DMRS_LEN] {
    assert!(pci < super::NUM_PCI && i_ssb_bar < 8);
    let i = i_ssb_bar as u32;
    let n = pci as u32;
    let c_init = (1 << 11) * (i + 1) * (n / 4 + 1) + (1 << 6) * (i + 1) + (n % 4);
    let c = gold(c_init, 2 * DMRS_LEN);
    let a = std::f32::consts::FRAC_1_SQRT_2;
    let mut r = [Complex32::new(0.0, 0.0); DMRS_LEN];
    for (m, rm) in r.iter_mut().enumerate() {
        *rm = Complex32::new(
            a * (1.0 - 2.0 * c[2 * m] as f32),
            a * (1.0 - 2.0 * c[2 * m + 1] as f32),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct transcription of the spec recursion with the spec's own register order,
    /// kept independent of `m_sequence` as an oracle.
    fn pss_oracle(n_id2: usize) -> Vec<i8> {
        let mut x = [0u8; 127 + 7];
        // [x(6) x(5) x(4) x(3) x(2) x(1) x(0)] = [1 1 1 0 1 1 0]
        let spec = [1u8, 1, 1, 0, 1, 1, 0];
        for (j, &b) in spec.iter().enumerate() {
            x[6 - j] = b;
        }
        for i in 0..127 {
            x[i + 7] = (x[i + 4] + x[i]) % 2;
        }
        (0..127)
            .map(|n| 1 - 2 * x[(n + 43 * n_id2) % 127] as i8)
            .collect()
    }

    #[test]
    fn pss_matches_spec_recursion() {
        for n_id2 in 0..3u8 {
            assert_eq!(pss(n_id2).to_vec(), pss_oracle(n_id2 as usize));
        }
    }

    #[test]
    fn pss_are_cyclic_shifts_by_43() {
        let p0 = pss(0);
        for n_id2 in 1..3u8 {
            let p = pss(n_id2);
            for n in 0..127 {
                assert_eq!(p[n], p0[(n + 43 * n_id2 as usize) % 127]);
            }
        }
    }

    #[test]
    fn m_sequences_have_ideal_periodic_autocorrelation() {
        // A maximal-length sequence of period 127 has periodic autocorrelation −1 off-peak.
        let p = pss(0);
        for shift in 1..127 {
            let r: i32 = (0..127)
                .map(|n| p[n] as i32 * p[(n + shift) % 127] as i32)
                .sum();
            assert_eq!(r, -1, "shift {shift}");
        }
    }

    #[test]
    fn all_sss_distinct_and_balanced() {
        let mut seen = std::collections::HashSet::new();
        for n_id2 in 0..3 {
            for n_id1 in 0..336 {
                let s = sss(n_id1, n_id2);
                assert!(s.iter().all(|&v| v == 1 || v == -1));
                assert!(seen.insert(s.to_vec()), "duplicate SSS {n_id1} {n_id2}");
            }
        }
        assert_eq!(seen.len(), 1008);
    }

    #[test]
    fn dmrs_unit_power_qpsk() {
        for pci in [0u16, 1, 500, 1007] {
            for i in 0..8 {
                let r = pbch_dmrs(pci, i);
                for v in r {
                    assert!((v.norm_sqr() - 1.0).abs() < 1e-6);
                }
            }
        }
        assert_ne!(pbch_dmrs(0, 0), pbch_dmrs(0, 1));
        assert_ne!(pbch_dmrs(0, 0), pbch_dmrs(1, 0));
    }

    #[test]
    fn gold_sequence_known_prefix() {
        // c_init = 0 leaves x2 ≡ 0 so c(n) = x1(n + 1600): check against a direct
        // simulation of x1 alone.
        let mut x1 = [0u8; 1700];
        x1[0] = 1;
        for n in 0..1700 - 31 {
            x1[n + 31] = (x1[n + 3] + x1[n]) % 2;
        }
        let c = gold(0, 60);
        assert_eq!(c, x1[1600..1660].to_vec());
    }
}
