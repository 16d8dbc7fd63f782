//! A scenario rendered on the fly as a source, and the built-in demo.

use num_complex::Complex32;

use super::{
    IqSource, Pacer, SourceError, SourceInfo, SourceKind, SourceRead, UNKNOWN_GAP_SAMPLES,
};
use crate::synth::{Scenario, Synth, SynthError};

/// The built-in demo, generated in-process: one 30 kHz cell (PCI 500) at 7.68 Msps and
/// two jammers that switch on and off within a 4 s loop: a partial-band noise jammer at
/// SJNR 0 dB from 1.0 to 2.0 s (critical) and a tone at SJNR 10 dB from 2.6 to 3.4 s
/// (major). The loop is seamless: 4 s is a whole number of SSB periods and frame 0 starts
/// at sample 0, so the cell's timing carries on across loops.
pub const DEMO_SCENARIO: &str = r#"
description = "ssbguard built-in demo: one 30 kHz cell, jammers switching on and off every 4 s"
duration_s = 4.0
sample_rate_hz = 7.68e6
center_freq_hz = 3.5e9
seed = 1
noise_power_dbfs = -60.0

[[gnb]]
pci = 500
scs_khz = 30
snr_db = 20.0
traffic_load = 0.3
frame_offset_s = 0.0
cfo_hz = 300.0

[[jammer]]
type = "partial_band"
sjnr_db = 0.0
episodes = [{ start_s = 1.0, stop_s = 2.0 }]

[[jammer]]
type = "tone"
offset_hz = 1.0e6
sjnr_db = 10.0
episodes = [{ start_s = 2.6, stop_s = 3.4 }]
"#;

/// The demo scenario ([`DEMO_SCENARIO`]).
pub fn demo_scenario() -> Scenario {
    // The text is a constant checked by a unit test; a parse failure here is a bug.
    Scenario::from_toml(DEMO_SCENARIO).unwrap_or_else(|e| panic!("built-in demo scenario: {e}"))
}

/// Renders a scenario block by block.
pub struct SynthSource {
    scenario: Scenario,
    synth: Synth,
    info: SourceInfo,
    looping: bool,
    seamless: bool,
    pacer: Option<Pacer>,
    base: u64,
    passes: u64,
}

fn scenario_error(name: &str, e: SynthError) -> SourceError {
    SourceError::Scenario {
        name: name.to_owned(),
        message: e.to_string(),
    }
}

impl SynthSource {
    /// A source over `scenario` named `name` (for messages). `looping` renders it again at
    /// the end with the next seed; `seamless` continues the sample index without a gap
    /// (only right when the scenario's length is a whole number of SSB periods and its
    /// frame timing is fixed, as in the demo); `realtime` paces to the sample rate.
    pub fn new(
        scenario: Scenario,
        name: &str,
        looping: bool,
        seamless: bool,
        realtime: bool,
    ) -> Result<SynthSource, SourceError> {
        let synth = Synth::new(&scenario).map_err(|e| scenario_error(name, e))?;
        let ssb_hint = scenario
            .reference_gnb(None)
            .map(|i| &scenario.gnbs[i])
            .map(|g| super::SsbHint {
                offset_hz: g.ssb_offset_hz,
                scs_khz: g.scs_khz,
            });
        let info = SourceInfo {
            ssb_hint,
            kind: SourceKind::Synth,
            description: name.to_owned(),
            sample_rate_hz: scenario.sample_rate_hz,
            center_freq_hz: Some(scenario.center_freq_hz),
            gain_db: None,
            agc: None,
            antenna: None,
            realtime,
        };
        Ok(SynthSource {
            pacer: realtime.then(|| Pacer::new(scenario.sample_rate_hz)),
            scenario,
            synth,
            info,
            looping,
            seamless,
            base: 0,
            passes: 0,
        })
    }

    /// The built-in demo, looping seamlessly.
    pub fn demo(realtime: bool) -> Result<SynthSource, SourceError> {
        SynthSource::new(demo_scenario(), "built-in demo", true, true, realtime)
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }
}

impl IqSource for SynthSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        if self.synth.position() >= self.synth.total_samples() {
            if !self.looping || self.synth.total_samples() == 0 {
                return Ok(SourceRead::end(self.base + self.synth.position()));
            }
            self.passes += 1;
            let mut next = self.scenario.clone();
            next.seed = self.scenario.seed.wrapping_add(self.passes);
            self.synth =
                Synth::new(&next).map_err(|e| scenario_error(&self.info.description, e))?;
            self.base += self.scenario.total_samples();
            if !self.seamless {
                self.base += UNKNOWN_GAP_SAMPLES;
            }
        }
        let first = self.base + self.synth.position();
        let n = self.synth.render(buf);
        if let Some(p) = &mut self.pacer {
            p.pace(n);
        }
        Ok(SourceRead::ok(first, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_parses_validates_and_loops_seamlessly() {
        let s = demo_scenario();
        s.validate().expect("demo scenario is valid");
        // Whole number of 20 ms SSB periods: the loop keeps the cell's timing.
        let period = (s.sample_rate_hz * 0.020).round() as u64;
        assert_eq!(s.total_samples() % period, 0);
        let mut src = SynthSource::new(s.clone(), "demo", true, true, false).expect("demo");
        let total = s.total_samples() as usize;
        let mut buf = vec![Complex32::new(0.0, 0.0); 1 << 20];
        let mut next = 0u64;
        let mut read = 0usize;
        while read < total + 1000 {
            let r = src.read(&mut buf).expect("render");
            assert!(!r.end);
            assert_eq!(r.first_sample, next, "no gap across the seamless loop");
            next = r.first_sample + r.samples as u64;
            read += r.samples;
        }
    }

    #[test]
    fn scenario_loop_leaves_a_gap_and_no_loop_ends() {
        let mut s = demo_scenario();
        s.duration_s = 0.01;
        s.jammers.clear();
        let n = s.total_samples();
        let mut buf = vec![Complex32::new(0.0, 0.0); n as usize];
        let mut src = SynthSource::new(s.clone(), "x", true, false, false).expect("ok");
        assert_eq!(src.read(&mut buf).expect("r").first_sample, 0);
        let r = src.read(&mut buf).expect("r");
        assert_eq!(r.first_sample, n + UNKNOWN_GAP_SAMPLES);
        let mut once = SynthSource::new(s, "x", false, false, false).expect("ok");
        assert_eq!(once.read(&mut buf).expect("r").samples, n as usize);
        assert!(once.read(&mut buf).expect("r").end);
    }
}
