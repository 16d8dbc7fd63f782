//! A SoapySDR device as a source (cargo feature `soapy`).
//!
//! The device is opened lazily by the first read and again after a loss, so a radio that
//! is missing at start is retried with backoff like one unplugged later. Settings are read
//! back after they are set; a sample rate the device cannot set exactly (within 1 ppm) is
//! a fatal error, since the pipeline is built for the configured rate. Overflows leave a
//! gap of [`super::UNKNOWN_GAP_SAMPLES`] in the sample index and are counted.

use num_complex::Complex32;
use soapysdr::{Args, Device, Direction, ErrorCode, RxStream};

use super::{IqSource, SourceError, SourceInfo, SourceKind, SourceRead, UNKNOWN_GAP_SAMPLES};
use crate::daemon::config::SoapyConfig;

/// A SoapySDR RX channel.
pub struct SoapySource {
    cfg: SoapyConfig,
    info: SourceInfo,
    stream: Option<RxStream<Complex32>>,
    next: u64,
    overflow: bool,
}

impl SoapySource {
    /// A source for `cfg`; the device is opened by the first read.
    pub fn new(cfg: SoapyConfig) -> SoapySource {
        let info = SourceInfo {
            ssb_hint: None,
            kind: SourceKind::Soapy,
            description: format!("soapy:{}", cfg.args),
            sample_rate_hz: cfg.sample_rate_hz,
            center_freq_hz: Some(cfg.center_freq_hz),
            gain_db: cfg.gain_db,
            agc: Some(cfg.agc),
            antenna: cfg.antenna.clone(),
            realtime: true,
        };
        SoapySource {
            cfg,
            info,
            stream: None,
            next: 0,
            overflow: false,
        }
    }

    fn device_error(&self, what: &str, e: soapysdr::Error) -> SourceError {
        SourceError::Device {
            args: self.cfg.args.clone(),
            message: format!("{what}: {e}"),
        }
    }

    /// Opens, configures, reads back and activates.
    pub fn open(&mut self) -> Result<(), SourceError> {
        self.stream = None;
        let c = self.cfg.clone();
        let rx = Direction::Rx;
        let dev = Device::new(c.args.as_str()).map_err(|e| self.device_error("open", e))?;
        let n = dev
            .num_channels(rx)
            .map_err(|e| self.device_error("channels", e))?;
        if c.channel >= n {
            return Err(SourceError::Unsatisfied {
                setting: "channel",
                requested: c.channel.to_string(),
                actual: format!("the device has {n} RX channels"),
            });
        }
        let ch = c.channel;
        if let Some(a) = &c.antenna {
            dev.set_antenna(rx, ch, a.as_str())
                .map_err(|e| self.device_error("antenna", e))?;
        }
        dev.set_sample_rate(rx, ch, c.sample_rate_hz)
            .map_err(|e| self.device_error("sample rate", e))?;
        dev.set_frequency(rx, ch, c.center_freq_hz, Args::new())
            .map_err(|e| self.device_error("frequency", e))?;
        if let Some(b) = c.bandwidth_hz {
            dev.set_bandwidth(rx, ch, b)
                .map_err(|e| self.device_error("bandwidth", e))?;
        }
        if c.agc {
            dev.set_gain_mode(rx, ch, true)
                .map_err(|e| self.device_error("AGC", e))?;
            tracing::warn!(
                "AGC is on: the site baseline holds absolute levels, so a gain step looks \
                 like a jammer on the null REs (README, \"Keep the radio's gain fixed\")"
            );
        } else if let Some(g) = c.gain_db {
            // Not every device has a gain mode; manual gain is the default there.
            let _ = dev.set_gain_mode(rx, ch, false);
            dev.set_gain(rx, ch, g)
                .map_err(|e| self.device_error("gain", e))?;
        }
        // Readback: what the device really set.
        let rate = dev
            .sample_rate(rx, ch)
            .map_err(|e| self.device_error("sample rate readback", e))?;
        if ((rate - c.sample_rate_hz) / c.sample_rate_hz).abs() > 1e-6 {
            return Err(SourceError::Unsatisfied {
                setting: "sample_rate_hz",
                requested: c.sample_rate_hz.to_string(),
                actual: rate.to_string(),
            });
        }
        let freq = dev.frequency(rx, ch).ok();
        let gain = dev.gain(rx, ch).ok();
        let agc = dev.gain_mode(rx, ch).ok();
        let antenna = dev.antenna(rx, ch).ok();
        if let Some(f) = freq
            && (f - c.center_freq_hz).abs() > 1.0
        {
            tracing::warn!(
                requested = c.center_freq_hz,
                actual = f,
                "device tuned elsewhere"
            );
        }
        if let (Some(g), Some(want)) = (gain, c.gain_db)
            && (g - want).abs() > 0.5
        {
            tracing::warn!(requested = want, actual = g, "device set another gain");
        }
        let mut stream = dev
            .rx_stream::<Complex32>(&[ch])
            .map_err(|e| self.device_error("stream", e))?;
        stream
            .activate(None)
            .map_err(|e| self.device_error("activate", e))?;
        self.info.sample_rate_hz = rate;
        self.info.center_freq_hz = freq.or(Some(c.center_freq_hz));
        self.info.gain_db = gain;
        self.info.agc = agc;
        self.info.antenna = antenna;
        tracing::info!(
            args = %c.args, channel = ch, sample_rate_hz = rate, center_freq_hz = ?freq,
            gain_db = ?gain, agc = ?agc, antenna = ?self.info.antenna, "SoapySDR device streaming"
        );
        self.stream = Some(stream);
        Ok(())
    }
}

impl IqSource for SoapySource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        if self.stream.is_none() {
            self.open()?;
        }
        let timeout_us = self.cfg.timeout.as_micros() as i64;
        let Some(stream) = self.stream.as_mut() else {
            return Err(SourceError::DeviceLost {
                message: "not open".into(),
            });
        };
        match stream.read(&mut [buf], timeout_us) {
            Ok(n) => {
                let first = self.next;
                self.next += n as u64;
                let mut r = SourceRead::ok(first, n);
                r.overflow = std::mem::take(&mut self.overflow);
                Ok(r)
            }
            Err(e) => match e.code {
                ErrorCode::Timeout => Err(SourceError::Timeout {
                    timeout_s: self.cfg.timeout.as_secs_f64(),
                }),
                ErrorCode::Overflow => {
                    self.next += UNKNOWN_GAP_SAMPLES;
                    self.overflow = true;
                    Ok(SourceRead {
                        samples: 0,
                        first_sample: self.next,
                        lost_before: 0,
                        overflow: false,
                        end: false,
                    })
                }
                _ => {
                    self.stream = None;
                    self.next += UNKNOWN_GAP_SAMPLES;
                    Err(SourceError::DeviceLost {
                        message: e.to_string(),
                    })
                }
            },
        }
    }

    fn reopen(&mut self) -> Result<(), SourceError> {
        self.open()
    }
}
