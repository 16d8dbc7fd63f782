//! A recording as a source: SigMF or raw, looped or not, paced or as fast as possible.

use std::path::{Path, PathBuf};

use num_complex::Complex32;

use super::{
    IqSource, Pacer, SourceError, SourceInfo, SourceKind, SourceRead, UNKNOWN_GAP_SAMPLES,
};
use crate::io::{IoError, IqReader, RawFormat};

/// Reads a recording through [`IqReader`] (streaming; never the whole file).
#[derive(Debug)]
pub struct FileSource {
    reader: IqReader,
    info: SourceInfo,
    looping: bool,
    pacer: Option<Pacer>,
    /// Absolute index of the recording's sample 0 in the current pass.
    base: u64,
}

impl FileSource {
    /// Opens `path` (a SigMF name, or a raw file when `raw` is given). `looping` starts over
    /// at the end (with a gap in the sample index, so the pipeline resets); `realtime` paces
    /// reads to the recording's sample rate.
    pub fn open(
        path: &Path,
        raw: Option<&RawFormat>,
        looping: bool,
        realtime: bool,
    ) -> Result<FileSource, SourceError> {
        let reader = IqReader::open(path, raw)?;
        let rate = reader.sample_rate_hz();
        let ssb_hint = ssb_hint(reader.meta(), reader.center_freq_hz());
        let info = SourceInfo {
            ssb_hint,
            kind: SourceKind::File,
            description: path.display().to_string(),
            sample_rate_hz: rate,
            center_freq_hz: reader.center_freq_hz(),
            gain_db: None,
            agc: None,
            antenna: None,
            realtime,
        };
        Ok(FileSource {
            reader,
            info,
            looping,
            pacer: realtime.then(|| Pacer::new(rate)),
            base: 0,
        })
    }

    /// The data file.
    pub fn data_path(&self) -> PathBuf {
        self.reader.data_path().to_owned()
    }

    /// Samples in one pass of the recording.
    pub fn total_samples(&self) -> u64 {
        self.reader.total_samples()
    }
}

impl IqSource for FileSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read(&mut self, buf: &mut [Complex32]) -> Result<SourceRead, SourceError> {
        if self.reader.remaining() == 0 {
            if !self.looping || self.reader.total_samples() == 0 {
                return Ok(SourceRead::end(self.base + self.reader.position()));
            }
            self.base += self.reader.total_samples() + UNKNOWN_GAP_SAMPLES;
            self.reader.seek(0)?;
        }
        let first = self.base + self.reader.position();
        match self.reader.read(buf) {
            Ok(n) => {
                if let Some(p) = &mut self.pacer {
                    p.pace(n);
                }
                Ok(SourceRead::ok(first, n))
            }
            Err(e @ IoError::NonFinite { .. }) => Err(SourceError::BadSamples {
                lost: self.base + self.reader.position() - first,
                message: e.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

/// Where a recording says its (serving) cell's SSB is: the first `cell` annotation that is
/// not a neighbour, as written by `synth` (CONTRACTS §3).
pub fn ssb_hint(meta: &crate::io::Meta, center_freq_hz: Option<f64>) -> Option<super::SsbHint> {
    meta.annotations
        .iter()
        .filter(|a| a.label.as_deref() == Some("cell"))
        .find(|a| a.fields.get("ssbguard:role").and_then(|v| v.as_str()) != Some("neighbour"))
        .and_then(|a| {
            let scs_khz = a.fields.get("ssbguard:scs_khz")?.as_u64()? as u32;
            let offset_hz = match a
                .fields
                .get("ssbguard:ssb_offset_hz")
                .and_then(|v| v.as_f64())
            {
                Some(o) => o,
                None => a.fields.get("ssbguard:ssb_freq_hz")?.as_f64()? - center_freq_hz?,
            };
            Some(super::SsbHint { offset_hz, scs_khz })
        })
}
