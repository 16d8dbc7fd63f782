//! ssbguard: a real-time 5G NR jamming detector.
//!
//! The crate is organised by the stage of the data's trip (see `ARCHITECTURE.md`):
//! [`nr`] holds the 3GPP facts, [`io`] reads and writes recordings, [`synth`] makes
//! scenarios with ground truth, [`rx`] finds and tracks cells, [`features`] turns each
//! SSB into a feature vector and [`detect`] decides.

pub mod daemon;
pub mod dataset;
pub mod detect;
pub mod dsp;
pub mod eval;
pub mod events;
pub mod features;
pub mod io;
pub mod nr;
pub mod pipeline;
pub mod rng;
pub mod rx;
pub mod source;
pub mod synth;
