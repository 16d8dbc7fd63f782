//! Alert state machine: raise after k of the last n decisions are jammed, clear after m
//! consecutive clean ones. One machine per cell (and one for the band when no cell is
//! tracked).
//!
//! (The daemon engineer owns this file; this is the interface the pipeline uses.)

use serde::{Deserialize, Serialize};

/// Alerting thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// Raise when this many of the last `raise_n` decisions are jammed.
    pub raise_k: u32,
    /// Window length for raising.
    pub raise_n: u32,
    /// Clear after this many consecutive clean decisions.
    pub clear_m: u32,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            raise_k: 3,
            raise_n: 4,
            clear_m: 8,
        }
    }
}
