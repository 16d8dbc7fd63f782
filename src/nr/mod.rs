//! 3GPP NR facts: numerology, PSS/SSS/PBCH-DMRS sequences, the SSB resource grid,
//! SS-burst positions and OFDM (TS 38.211 §5.2–5.3, §7.4.1.4, §7.4.2–7.4.3; TS 38.213 §4.1).
//!
//! Everything here is pure computation: no I/O, no threads, and the per-symbol OFDM
//! kernels do not allocate after construction.

pub mod burst;
pub mod grid;
pub mod ofdm;
pub mod sequences;

pub use burst::{BurstConfig, SsbCase};
pub use grid::{NullGroup, SSB_SUBCARRIERS, SSB_SYMBOLS, SsbGrid};
pub use ofdm::{Numerology, OfdmDemodulator, OfdmModulator};
pub use sequences::{pbch_dmrs, pss, sss};

use serde::{Deserialize, Serialize};

/// Number of physical cell identities.
pub const NUM_PCI: u16 = 1008;

/// Subcarrier spacing of the SSB (FR1: 15 or 30 kHz).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub enum Scs {
    /// 15 kHz, numerology μ = 0.
    Khz15,
    /// 30 kHz, numerology μ = 1.
    Khz30,
}

impl Scs {
    /// Numerology index μ.
    pub fn mu(self) -> u32 {
        match self {
            Scs::Khz15 => 0,
            Scs::Khz30 => 1,
        }
    }
    /// Subcarrier spacing in Hz.
    pub fn hz(self) -> f64 {
        15_000.0 * (1u32 << self.mu()) as f64
    }
    /// Subcarrier spacing in kHz.
    pub fn khz(self) -> u32 {
        15 << self.mu()
    }
    /// OFDM symbols per slot × slots per half frame (5 ms).
    pub fn symbols_per_half_frame(self) -> usize {
        14 * 5 * (1usize << self.mu())
    }
    /// From kHz (15 or 30).
    pub fn from_khz(khz: u32) -> Option<Scs> {
        match khz {
            15 => Some(Scs::Khz15),
            30 => Some(Scs::Khz30),
            _ => None,
        }
    }
}

impl TryFrom<u32> for Scs {
    type Error = String;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        Scs::from_khz(v).ok_or_else(|| format!("scs_khz must be 15 or 30, got {v}"))
    }
}

impl From<Scs> for u32 {
    fn from(s: Scs) -> u32 {
        s.khz()
    }
}

/// PCI = 3 N_ID1 + N_ID2 (TS 38.211 §7.4.2.1).
pub fn pci(n_id1: u16, n_id2: u8) -> u16 {
    3 * n_id1 + n_id2 as u16
}

/// Splits a PCI into (N_ID1, N_ID2).
pub fn split_pci(pci: u16) -> (u16, u8) {
    (pci / 3, (pci % 3) as u8)
}

/// Errors from constructing NR objects with impossible parameters.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NrError {
    /// The sample rate does not hold an integer FFT size with integer cyclic prefixes.
    #[error(
        "sample rate {sample_rate_hz} Hz is not usable for {scs_khz} kHz SCS: it must be an integer multiple of 128 × SCS (e.g. {example})"
    )]
    SampleRate {
        /// Requested rate.
        sample_rate_hz: f64,
        /// Subcarrier spacing.
        scs_khz: u32,
        /// A valid example.
        example: String,
    },
    /// The FFT is too small to hold the SSB (240 subcarriers plus guard).
    #[error("FFT size {n_fft} is too small for a 240-subcarrier SSB (need at least 256)")]
    FftTooSmall {
        /// FFT size.
        n_fft: usize,
    },
    /// A PCI outside 0..=1007.
    #[error("PCI {0} out of range 0..=1007")]
    Pci(u16),
    /// An L_max not in {4, 8} for the case.
    #[error("L_max {l_max} not supported for case {case:?} (FR1: 4 or 8)")]
    LMax {
        /// Case.
        case: SsbCase,
        /// L_max.
        l_max: u8,
    },
    /// A periodicity outside {5, 10, 20, 40, 80, 160} ms.
    #[error("SSB periodicity {0} ms not in {{5, 10, 20, 40, 80, 160}}")]
    Periodicity(u32),
    /// Case does not match SCS.
    #[error("case {case:?} needs {needs} kHz SCS, got {got} kHz")]
    CaseScs {
        /// Case.
        case: SsbCase,
        /// Needed SCS.
        needs: u32,
        /// Given SCS.
        got: u32,
    },
}
