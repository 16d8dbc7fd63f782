//! The SS/PBCH block resource grid: 4 OFDM symbols × 240 subcarriers
//! (TS 38.211 §7.4.3.1, Table 7.4.3.1-1).
//!
//! Subcarrier `k` of the SSB sits at `(k − 120) × SCS` from the SSB centre (SSREF is
//! subcarrier 120 of the block).

use num_complex::Complex32;

use super::sequences::{DMRS_LEN, SYNC_LEN, pbch_dmrs, pss, sss};
use super::{NUM_PCI, NrError, split_pci};

/// Subcarriers in an SSB.
pub const SSB_SUBCARRIERS: usize = 240;
/// OFDM symbols in an SSB.
pub const SSB_SYMBOLS: usize = 4;
/// First subcarrier of PSS and SSS.
pub const SYNC_FIRST_K: usize = 56;
/// Number of PBCH data REs (QPSK symbols) per SSB.
pub const PBCH_DATA_LEN: usize = 432;
/// Number of null REs per SSB.
pub const NULL_RE_COUNT: usize = 130;
/// Subcarrier index of the SSB centre.
pub const SSB_CENTER_K: usize = 120;

/// The four groups of REs the standard leaves empty inside an SSB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NullGroup {
    /// Symbol 0, subcarriers 0–55 (below the PSS).
    Sym0Low,
    /// Symbol 0, subcarriers 183–239 (above the PSS).
    Sym0High,
    /// Symbol 2, subcarriers 48–55 (below the SSS).
    Sym2Low,
    /// Symbol 2, subcarriers 183–191 (above the SSS).
    Sym2High,
}

impl NullGroup {
    /// All groups in schema order.
    pub const ALL: [NullGroup; 4] = [
        NullGroup::Sym0Low,
        NullGroup::Sym0High,
        NullGroup::Sym2Low,
        NullGroup::Sym2High,
    ];
    /// SSB symbol (0..4) of the group.
    pub fn symbol(self) -> usize {
        match self {
            NullGroup::Sym0Low | NullGroup::Sym0High => 0,
            NullGroup::Sym2Low | NullGroup::Sym2High => 2,
        }
    }
    /// Subcarrier range of the group.
    pub fn subcarriers(self) -> std::ops::Range<usize> {
        match self {
            NullGroup::Sym0Low => 0..56,
            NullGroup::Sym0High => 183..240,
            NullGroup::Sym2Low => 48..56,
            NullGroup::Sym2High => 183..192,
        }
    }
    /// Short name used in feature schemas.
    pub fn name(self) -> &'static str {
        match self {
            NullGroup::Sym0Low => "sym0_low",
            NullGroup::Sym0High => "sym0_high",
            NullGroup::Sym2Low => "sym2_low",
            NullGroup::Sym2High => "sym2_high",
        }
    }
}

/// What a resource element of the SSB carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReKind {
    /// Primary synchronisation signal.
    Pss,
    /// Secondary synchronisation signal.
    Sss,
    /// PBCH data (QPSK).
    Pbch,
    /// PBCH demodulation reference signal.
    Dmrs,
    /// Set to zero by the standard.
    Null,
}

/// Classifies RE (symbol `l`, subcarrier `k`) of an SSB of a cell with PCI `pci`.
pub fn re_kind(pci: u16, l: usize, k: usize) -> ReKind {
    let v = (pci % 4) as usize;
    let sync = (SYNC_FIRST_K..SYNC_FIRST_K + SYNC_LEN).contains(&k);
    match l {
        0 if sync => ReKind::Pss,
        0 => ReKind::Null,
        2 if sync => ReKind::Sss,
        2 if (48..56).contains(&k) || (183..192).contains(&k) => ReKind::Null,
        1..=3 if k % 4 == v => ReKind::Dmrs,
        _ => ReKind::Pbch,
    }
}

/// Positions (symbol, subcarrier) of the 144 PBCH DMRS REs in mapping order
/// (increasing k, then l).
pub fn dmrs_positions(pci: u16) -> impl Iterator<Item = (usize, usize)> {
    (1..4).flat_map(move |l| {
        (0..SSB_SUBCARRIERS)
            .filter(move |&k| re_kind(pci, l, k) == ReKind::Dmrs)
            .map(move |k| (l, k))
    })
}

/// Positions of the 432 PBCH data REs in mapping order.
pub fn pbch_positions(pci: u16) -> impl Iterator<Item = (usize, usize)> {
    (1..4).flat_map(move |l| {
        (0..SSB_SUBCARRIERS)
            .filter(move |&k| re_kind(pci, l, k) == ReKind::Pbch)
            .map(move |k| (l, k))
    })
}

/// Positions of the 130 null REs, grouped.
pub fn null_positions() -> impl Iterator<Item = (NullGroup, usize, usize)> {
    NullGroup::ALL
        .into_iter()
        .flat_map(|g| g.subcarriers().map(move |k| (g, g.symbol(), k)))
}

/// A filled SSB resource grid.
#[derive(Clone, Debug, PartialEq)]
pub struct SsbGrid {
    /// `re[l][k]`, l = 0..4, k = 0..240.
    pub re: [[Complex32; SSB_SUBCARRIERS]; SSB_SYMBOLS],
}

impl SsbGrid {
    /// Builds the SSB of cell `pci` with PBCH DMRS index `i_ssb_bar` and the given PBCH
    /// QPSK symbols (a real MIB is not polar-coded here). All REs have unit power.
    pub fn build(
        pci: u16,
        i_ssb_bar: u8,
        pbch: &[Complex32; PBCH_DATA_LEN],
    ) -> Result<SsbGrid, NrError> {
        if pci >= NUM_PCI {
            return Err(NrError::Pci(pci));
        }
        let (n_id1, n_id2) = split_pci(pci);
        let mut re = [[Complex32::new(0.0, 0.0); SSB_SUBCARRIERS]; SSB_SYMBOLS];
        let p = pss(n_id2);
        let s = sss(n_id1, n_id2);
        for n in 0..SYNC_LEN {
            re[0][SYNC_FIRST_K + n] = Complex32::new(p[n] as f32, 0.0);
            re[2][SYNC_FIRST_K + n] = Complex32::new(s[n] as f32, 0.0);
        }
        let dmrs = pbch_dmrs(pci, i_ssb_bar & 7);
        let mut count = 0;
        for ((l, k), d) in dmrs_positions(pci).zip(dmrs.iter()) {
            re[l][k] = *d;
            count += 1;
        }
        debug_assert_eq!(count, DMRS_LEN);
        for ((l, k), q) in pbch_positions(pci).zip(pbch.iter()) {
            re[l][k] = *q;
        }
        Ok(SsbGrid { re })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_counts_match_table_7_4_3_1_1() {
        for pci in [0u16, 1, 2, 3, 55, 500, 1007] {
            let mut counts = std::collections::HashMap::new();
            for l in 0..4 {
                for k in 0..240 {
                    *counts
                        .entry(format!("{:?}", re_kind(pci, l, k)))
                        .or_insert(0) += 1;
                }
            }
            assert_eq!(counts["Pss"], 127);
            assert_eq!(counts["Sss"], 127);
            assert_eq!(counts["Dmrs"], 144);
            assert_eq!(counts["Pbch"], 432);
            assert_eq!(counts["Null"], 130);
            assert_eq!(dmrs_positions(pci).count(), 144);
            assert_eq!(pbch_positions(pci).count(), PBCH_DATA_LEN);
        }
        assert_eq!(null_positions().count(), NULL_RE_COUNT);
    }

    #[test]
    fn null_groups_are_null_in_grid() {
        let pbch = [Complex32::new(1.0, 0.0); PBCH_DATA_LEN];
        let g = SsbGrid::build(123, 3, &pbch).unwrap();
        for (_, l, k) in null_positions() {
            assert_eq!(g.re[l][k], Complex32::new(0.0, 0.0));
            assert_eq!(re_kind(123, l, k), ReKind::Null);
        }
        // Everything else is non-zero.
        let nonzero = g.re.iter().flatten().filter(|c| c.norm_sqr() > 0.0).count();
        assert_eq!(nonzero, 960 - 130);
    }

    #[test]
    fn dmrs_shift_follows_pci_mod_4() {
        for pci in 0..8u16 {
            let (l, k) = dmrs_positions(pci).next().unwrap();
            assert_eq!((l, k), (1, (pci % 4) as usize));
        }
        // Symbol 2 DMRS only outside the SSS guard: 12 below, 12 above.
        let sym2: Vec<usize> = dmrs_positions(0)
            .filter(|&(l, _)| l == 2)
            .map(|(_, k)| k)
            .collect();
        assert_eq!(sym2.len(), 24);
        assert!(sym2.iter().all(|&k| !(48..192).contains(&k)));
    }

    #[test]
    fn rejects_bad_pci() {
        let pbch = [Complex32::new(1.0, 0.0); PBCH_DATA_LEN];
        assert_eq!(SsbGrid::build(1008, 0, &pbch), Err(NrError::Pci(1008)));
    }
}
