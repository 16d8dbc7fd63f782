//! SS-burst positions in a half frame (TS 38.213 §4.1) for FR1 Cases A, B and C.

use serde::{Deserialize, Serialize};

use super::{NrError, Scs};

/// SSB pattern case (TS 38.213 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SsbCase {
    /// 15 kHz: first symbols {2, 8} + 14n.
    A,
    /// 30 kHz: first symbols {4, 8, 16, 20} + 28n.
    B,
    /// 30 kHz: first symbols {2, 8} + 14n.
    C,
}

impl SsbCase {
    /// The SCS the case uses.
    pub fn scs(self) -> Scs {
        match self {
            SsbCase::A => Scs::Khz15,
            SsbCase::B | SsbCase::C => Scs::Khz30,
        }
    }

    /// First OFDM symbol of every candidate SSB (index 0..l_max) in a half frame,
    /// counted in symbols of the case's SCS.
    pub fn first_symbols(self, l_max: u8) -> Result<Vec<usize>, NrError> {
        if l_max != 4 && l_max != 8 {
            return Err(NrError::LMax { case: self, l_max });
        }
        let mut out = Vec::with_capacity(l_max as usize);
        match self {
            SsbCase::A | SsbCase::C => {
                for n in 0..(l_max as usize / 2) {
                    out.push(2 + 14 * n);
                    out.push(8 + 14 * n);
                }
            }
            SsbCase::B => {
                for n in 0..(l_max as usize / 4) {
                    for s in [4, 8, 16, 20] {
                        out.push(s + 28 * n);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Valid SSB periodicities in ms.
pub const PERIODICITIES_MS: [u32; 6] = [5, 10, 20, 40, 80, 160];

/// How a cell transmits its SS bursts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstConfig {
    /// Pattern case.
    pub case: SsbCase,
    /// Maximum number of SSBs in a burst (4 or 8 in FR1).
    pub l_max: u8,
    /// Burst periodicity in ms.
    pub periodicity_ms: u32,
    /// Which of the l_max candidate positions are transmitted (bit i = SSB index i);
    /// `ssb-PositionsInBurst`. All ones when every beam is used.
    pub positions_in_burst: u8,
}

impl BurstConfig {
    /// Checks the combination.
    pub fn validate(&self) -> Result<(), NrError> {
        self.case.first_symbols(self.l_max)?;
        if !PERIODICITIES_MS.contains(&self.periodicity_ms) {
            return Err(NrError::Periodicity(self.periodicity_ms));
        }
        Ok(())
    }

    /// (SSB index, first symbol in the half frame) of every transmitted SSB.
    pub fn transmitted(&self) -> Result<Vec<(u8, usize)>, NrError> {
        let syms = self.case.first_symbols(self.l_max)?;
        Ok(syms
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.positions_in_burst & (1 << i) != 0)
            .map(|(i, s)| (i as u8, s))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_per_ts_38_213() {
        assert_eq!(SsbCase::A.first_symbols(4).unwrap(), vec![2, 8, 16, 22]);
        assert_eq!(
            SsbCase::A.first_symbols(8).unwrap(),
            vec![2, 8, 16, 22, 30, 36, 44, 50]
        );
        assert_eq!(SsbCase::B.first_symbols(4).unwrap(), vec![4, 8, 16, 20]);
        assert_eq!(
            SsbCase::B.first_symbols(8).unwrap(),
            vec![4, 8, 16, 20, 32, 36, 44, 48]
        );
        assert_eq!(SsbCase::C.first_symbols(4).unwrap(), vec![2, 8, 16, 22]);
        assert_eq!(
            SsbCase::C.first_symbols(8).unwrap(),
            vec![2, 8, 16, 22, 30, 36, 44, 50]
        );
        assert!(SsbCase::A.first_symbols(64).is_err());
    }

    #[test]
    fn bursts_fit_in_first_half_of_half_frame() {
        // SSBs of FR1 fit in the first 2 ms (case A, L=8) or 1 ms (30 kHz, L=8) of a half frame.
        for case in [SsbCase::A, SsbCase::B, SsbCase::C] {
            let per_ms = 14 << case.scs().mu();
            for s in case.first_symbols(8).unwrap() {
                assert!(s + 4 <= 4 * per_ms / 2 + 2 * per_ms, "{case:?} {s}");
            }
        }
    }

    #[test]
    fn bitmap_selects_indices() {
        let cfg = BurstConfig {
            case: SsbCase::C,
            l_max: 8,
            periodicity_ms: 20,
            positions_in_burst: 0b1000_0101,
        };
        cfg.validate().unwrap();
        assert_eq!(cfg.transmitted().unwrap(), vec![(0, 2), (2, 16), (7, 50)]);
        let bad = BurstConfig {
            periodicity_ms: 7,
            ..cfg
        };
        assert_eq!(bad.validate(), Err(NrError::Periodicity(7)));
    }
}
