//! Where samples come from: one [`IqSource`] trait with three implementations and the
//! capture thread that owns a source.
//!
//! - [`file::FileSource`]: a SigMF or raw recording through [`crate::io::IqReader`], looped
//!   or not, paced to real time or as fast as possible.
//! - [`synth::SynthSource`]: a scenario rendered on the fly by [`crate::synth::Synth`], or the
//!   built-in demo ([`synth::demo_scenario`]: one 30 kHz cell, jammers switching on and off).
//! - `soapy::SoapySource` (cargo feature `soapy`): any SoapySDR device.
//! - [`capture`]: the thread that reads a source into pooled buffers and sends [`Block`]s
//!   over a bounded channel, dropping (and counting) when the consumer is behind.
//!
//! Every read says which absolute sample it starts at. A source signals that samples were
//! lost or that the signal jumped (a file looping, a device overflow) by leaving a gap in
//! that index: the pipeline sees the gap and resets its state honestly. When the number of
//! lost samples is unknown the gap is [`UNKNOWN_GAP_SAMPLES`].

pub mod capture;
pub mod file;
#[cfg(feature = "soapy")]
pub mod soapy;
pub mod synth;

use std::time::{Duration, Instant};

use num_complex::Complex32;

pub use capture::{Block, CaptureConfig, CaptureHandle, CaptureMetrics, CaptureState};

/// Gap left in the sample index when samples were lost but how many is unknown (device
/// overflow without timestamps, a file or scenario starting over).
pub const UNKNOWN_GAP_SAMPLES: u64 = 1;

/// Which kind of source (a bounded label for metrics and the status API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A SoapySDR device.
    Soapy,
    /// A recording.
    File,
    /// A synthetic scenario.
    Synth,
}

impl SourceKind {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Soapy => "soapy",
            SourceKind::File => "file",
            SourceKind::Synth => "synth",
        }
    }
}

/// Where a source knows its SSB to be (a synthetic scenario's serving cell, a SigMF
/// recording's `cell` annotation).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct SsbHint {
    /// SSB centre minus source centre, Hz.
    pub offset_hz: f64,
    /// SCS, kHz.
    pub scs_khz: u32,
}

/// What a source is, as really set (device readback for SoapySDR).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SourceInfo {
    /// Where the SSB is, when the source knows (used when `[receiver]` does not say).
    pub ssb_hint: Option<SsbHint>,
    /// Kind.
    pub kind: SourceKind,
    /// Human description: file path, scenario, device args.
    pub description: String,
    /// Samples per second.
    pub sample_rate_hz: f64,
    /// Centre frequency, if known.
    pub center_freq_hz: Option<f64>,
    /// Gain in dB as read back (devices only).
    pub gain_db: Option<f64>,
    /// Automatic gain control on (devices only).
    pub agc: Option<bool>,
    /// Antenna as read back (devices only).
    pub antenna: Option<String>,
    /// Whether the source paces itself to real time (files and synth).
    pub realtime: bool,
}

/// The result of one successful [`IqSource::read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceRead {
    /// Samples written to the front of the buffer (0 is allowed, e.g. a short wait).
    pub samples: usize,
    /// Absolute index of the first of them. A jump past the previous read's end means
    /// samples were lost (or the signal jumped).
    pub first_sample: u64,
    /// Samples known to have been lost just before this read (device overflow with
    /// timestamps); counted as `dropped{reason="overflow"}`.
    pub lost_before: u64,
    /// The device reported an overflow before this read.
    pub overflow: bool,
    /// The source is exhausted (a file without loop): no more reads will return samples.
    pub end: bool,
}

impl SourceRead {
    /// `n` samples from `first_sample`, nothing lost.
    pub fn ok(first_sample: u64, n: usize) -> SourceRead {
        SourceRead {
            samples: n,
            first_sample,
            lost_before: 0,
            overflow: false,
            end: false,
        }
    }

    /// The end of the stream.
    pub fn end(first_sample: u64) -> SourceRead {
        SourceRead {
            samples: 0,
            first_sample,
            lost_before: 0,
            overflow: false,
            end: true,
        }
    }
}

/// Trouble with a source. [`SourceError::is_recoverable`] tells the capture thread whether
/// to reopen with backoff or to give up.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// No samples within the timeout (expected; counted).
    #[error("no samples within {timeout_s} s")]
    Timeout {
        /// The timeout.
        timeout_s: f64,
    },
    /// The samples of a block were unusable (NaN/inf); they are skipped and counted.
    #[error("{lost} samples unusable: {message}")]
    BadSamples {
        /// Samples skipped.
        lost: u64,
        /// Why.
        message: String,
    },
    /// The device went away (unplugged, driver error): reopen with backoff.
    #[error("device lost: {message}")]
    DeviceLost {
        /// What the driver said.
        message: String,
    },
    /// A recording could not be opened or read.
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    /// A scenario is invalid.
    #[error("scenario {name}: {message}")]
    Scenario {
        /// Which scenario.
        name: String,
        /// What is wrong (every problem).
        message: String,
    },
    /// A device could not be opened or configured (no such device, unsupported setting).
    #[error("device {args:?}: {message}")]
    Device {
        /// The SoapySDR args string.
        args: String,
        /// What went wrong.
        message: String,
    },
    /// The device cannot do what the configuration asks (fatal: fix the configuration).
    #[error("{setting}: asked for {requested}, the device gives {actual}")]
    Unsatisfied {
        /// The setting.
        setting: &'static str,
        /// Requested value.
        requested: String,
        /// What the device did.
        actual: String,
    },
    /// The source does not support the operation (e.g. `reopen` on a file).
    #[error("{0} is not supported by this source")]
    Unsupported(&'static str),
}

impl SourceError {
    /// Device loss and device open failures are retried with backoff; everything else that
    /// is not expected (timeouts, bad samples) ends the capture.
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            SourceError::DeviceLost { .. } | SourceError::Device { .. }
        )
    }
}

/// A stream of complex samples.
pub trait IqSource: Send {
    /// What the source is (as really set).
    fn info(&self) -> &SourceInfo;

    /// Fills the front of `buf` with the next samples. Blocks at most about one timeout
    /// (devices) or one block's duration (paced files), so the capture thread can stop.
    fn read(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError>;

    /// After [`SourceError::DeviceLost`]: close and open the device again. The next read
    /// continues the sample index past a gap.
    fn reopen(&mut self) -> Result<(), SourceError> {
        Err(SourceError::Unsupported("reopen"))
    }
}

/// Paces reads to real time: the `n`-th sample is released no earlier than `n / rate`
/// seconds after the first read. When the consumer falls more than a second behind the
/// clock restarts (no burst to catch up).
#[derive(Clone, Debug)]
pub struct Pacer {
    rate: f64,
    start: Option<Instant>,
    released: u64,
}

impl Pacer {
    /// A pacer at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64) -> Pacer {
        Pacer {
            rate: sample_rate_hz,
            start: None,
            released: 0,
        }
    }

    /// Waits until `n` more samples are due, then counts them.
    pub fn pace(&mut self, n: usize) {
        let now = Instant::now();
        let start = *self.start.get_or_insert(now);
        self.released += n as u64;
        let due = start + Duration::from_secs_f64(self.released as f64 / self.rate);
        if due > now {
            std::thread::sleep(due - now);
        } else if now - due > Duration::from_secs(1) {
            self.start = Some(now);
            self.released = 0;
        }
    }
}
