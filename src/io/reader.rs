//! Streaming reader for SigMF and raw IQ recordings.

use std::ffi::OsString;
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use num_complex::Complex32;

use super::datatype::{DataType, RawFormat, first_non_finite};
use super::error::IoError;
use super::meta::{MAX_META_BYTES, Meta, MetaError};

/// Largest single `read` from the data file (1 MiB): big enough that the system call is
/// cheap per byte, small enough to stay in cache while it is converted.
pub const READ_CHUNK_BYTES: usize = 1 << 20;

const META_EXT: &str = "sigmf-meta";
const DATA_EXT: &str = "sigmf-data";

/// The (metadata, data) paths of a SigMF recording named by `path`, which may be
/// `X.sigmf-meta`, `X.sigmf-data` or the stem `X` (CONTRACTS §1). Nothing is checked on disk.
/// A stem keeps its own dots: `a.b` gives `a.b.sigmf-meta`.
pub fn resolve(path: &Path) -> (PathBuf, PathBuf) {
    match path.extension().and_then(|e| e.to_str()) {
        Some(META_EXT) => (path.to_owned(), path.with_extension(DATA_EXT)),
        Some(DATA_EXT) => (path.with_extension(META_EXT), path.to_owned()),
        _ => (with_suffix(path, META_EXT), with_suffix(path, DATA_EXT)),
    }
}

/// `path` + `.` + `ext`, without replacing an existing extension.
pub(crate) fn with_suffix(path: &Path, ext: &str) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Reads complex samples from a recording in blocks, converting them to [`Complex32`]
/// (scaling in [`DataType`]). Holds one open file and one reusable byte buffer of at most
/// [`READ_CHUNK_BYTES`]; never loads the whole file.
///
/// Opening checks what can be checked without reading the samples: the metadata, the data
/// length against the sample size, and that captures and annotations lie inside the data.
/// Reading checks floating-point samples for NaN and infinity.
#[derive(Debug)]
pub struct IqReader {
    file: File,
    data_path: PathBuf,
    meta: Meta,
    datatype: DataType,
    /// Byte offset of sample 0 in the data file (`core:header_bytes`).
    data_offset: u64,
    total_samples: u64,
    position: u64,
    buf: Vec<u8>,
}

impl IqReader {
    /// Opens a SigMF recording (`raw` = `None`; `path` as in [`resolve`]) or a raw IQ file
    /// described by `raw`. For raw files the metadata is synthesised: one capture at the
    /// given centre frequency, no annotations.
    pub fn open(path: &Path, raw: Option<&RawFormat>) -> Result<IqReader, IoError> {
        let (meta, meta_path, data_path) = match raw {
            Some(raw) => (raw_meta(path, raw)?, None, path.to_owned()),
            None => {
                let (meta_path, data_path) = resolve(path);
                let meta = read_meta(&meta_path)?;
                let data_path = match meta.dataset() {
                    Some(name) => meta_path.with_file_name(name),
                    None => data_path,
                };
                (meta, Some(meta_path), data_path)
            }
        };
        let mut file = File::open(&data_path).map_err(|e| IoError::read(&data_path, e))?;
        let file_len = file
            .metadata()
            .map_err(|e| IoError::read(&data_path, e))?
            .len();
        let (header, trailing) = (meta.header_bytes(), meta.trailing_bytes());
        let datatype = meta.datatype;
        let bps = datatype.bytes_per_sample() as u64;
        let Some(bytes) = file_len
            .checked_sub(header)
            .and_then(|b| b.checked_sub(trailing))
        else {
            return Err(IoError::Meta {
                path: meta_path.unwrap_or_else(|| data_path.clone()),
                error: MetaError::InvalidField {
                    field: "captures[0].core:header_bytes + global.core:trailing_bytes".into(),
                    value: format!("{header} + {trailing}"),
                    allowed: format!("at most the {file_len} bytes of {}", data_path.display()),
                },
            });
        };
        if bytes % bps != 0 {
            return Err(IoError::PartialSample {
                path: data_path,
                bytes,
                sample_size: datatype.bytes_per_sample(),
                datatype: datatype.sigmf_name(),
            });
        }
        let total_samples = bytes / bps;
        check_extents(&meta, &data_path, total_samples)?;
        file.seek(SeekFrom::Start(header))
            .map_err(|e| IoError::read(&data_path, e))?;
        Ok(IqReader {
            file,
            data_path,
            meta,
            datatype,
            data_offset: header,
            total_samples,
            position: 0,
            buf: Vec::new(),
        })
    }

    /// Complex samples per second.
    pub fn sample_rate_hz(&self) -> f64 {
        self.meta.sample_rate_hz
    }

    /// Centre frequency of the recording (first capture), if known.
    pub fn center_freq_hz(&self) -> Option<f64> {
        self.meta.center_freq_hz()
    }

    /// The recording's metadata (synthesised for raw files).
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The sample format of the data file.
    pub fn datatype(&self) -> DataType {
        self.datatype
    }

    /// Samples in the recording.
    pub fn total_samples(&self) -> u64 {
        self.total_samples
    }

    /// Index of the next sample [`IqReader::read`] returns.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Samples left from [`IqReader::position`] to the end.
    pub fn remaining(&self) -> u64 {
        self.total_samples - self.position
    }

    /// The data file being read.
    pub fn data_path(&self) -> &Path {
        &self.data_path
    }

    /// Fills `out` with the next samples and returns how many: `out.len()` unless the end
    /// comes first, 0 at the end. Reuses the internal buffer: no allocation after the first
    /// call of a given size.
    ///
    /// On [`IoError::NonFinite`] the block being converted is consumed (the position is past
    /// it) and the error names the first bad sample; [`IqReader::seek`] to go on.
    pub fn read(&mut self, out: &mut [Complex32]) -> Result<usize, IoError> {
        let bps = self.datatype.bytes_per_sample();
        // `remaining()` can exceed usize only on 32-bit targets; `out.len()` bounds it.
        let n = usize::try_from(self.remaining()).map_or(out.len(), |r| r.min(out.len()));
        let per_chunk = READ_CHUNK_BYTES / bps;
        let mut done = 0;
        while done < n {
            let k = (n - done).min(per_chunk);
            let bytes = k * bps;
            if self.buf.len() < bytes {
                self.buf.resize(bytes, 0);
            }
            if let Err(e) = self.file.read_exact(&mut self.buf[..bytes]) {
                return Err(self.read_error(e));
            }
            let block = &mut out[done..done + k];
            let (_, non_finite) = self.datatype.decode_flagged(&self.buf[..bytes], block);
            let first = self.position;
            self.position += k as u64;
            if non_finite {
                let i = first_non_finite(block).unwrap_or(0);
                return Err(IoError::NonFinite {
                    path: self.data_path.clone(),
                    sample: first + i as u64,
                });
            }
            done += k;
        }
        Ok(n)
    }

    /// Moves to sample `sample` (0 ..= [`IqReader::total_samples`]; the end is allowed).
    pub fn seek(&mut self, sample: u64) -> Result<(), IoError> {
        if sample > self.total_samples {
            return Err(IoError::SeekOutOfRange {
                path: self.data_path.clone(),
                sample,
                total: self.total_samples,
            });
        }
        let byte = self.data_offset + sample * self.datatype.bytes_per_sample() as u64;
        self.file
            .seek(SeekFrom::Start(byte))
            .map_err(|e| IoError::read(&self.data_path, e))?;
        self.position = sample;
        Ok(())
    }

    /// Capacity of the internal byte buffer, for the no-reallocation test.
    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    fn read_error(&mut self, e: std::io::Error) -> IoError {
        // The file position is unknown after a failed read: re-establish it for a retry.
        // An `UnexpectedEof` here means the file shrank after it was opened.
        let _ = self.seek(self.position);
        IoError::read(&self.data_path, e)
    }
}

fn raw_meta(path: &Path, raw: &RawFormat) -> Result<Meta, IoError> {
    if !(raw.sample_rate_hz.is_finite() && raw.sample_rate_hz > 0.0) {
        return Err(IoError::invalid(
            path,
            format!(
                "sample rate {} Hz is invalid: expected a finite number > 0",
                raw.sample_rate_hz
            ),
        ));
    }
    if let Some(f) = raw.center_freq_hz
        && !f.is_finite()
    {
        return Err(IoError::invalid(
            path,
            format!("centre frequency {f} Hz is invalid: expected a finite number"),
        ));
    }
    Ok(Meta::new(
        raw.datatype,
        raw.sample_rate_hz,
        raw.center_freq_hz,
    ))
}

fn read_meta(meta_path: &Path) -> Result<Meta, IoError> {
    let file = match File::open(meta_path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(IoError::MissingMeta {
                path: meta_path.to_owned(),
            });
        }
        Err(e) => return Err(IoError::read(meta_path, e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_META_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IoError::read(meta_path, e))?;
    if bytes.len() as u64 > MAX_META_BYTES {
        let len = std::fs::metadata(meta_path).map_or(bytes.len() as u64, |m| m.len());
        return Err(IoError::MetaTooLarge {
            path: meta_path.to_owned(),
            bytes: len,
            limit: MAX_META_BYTES,
        });
    }
    Meta::parse_bytes(&bytes).map_err(|error| IoError::Meta {
        path: meta_path.to_owned(),
        error,
    })
}

/// Captures must start inside the data (or at its end), annotations must end inside it.
fn check_extents(meta: &Meta, data_path: &Path, total: u64) -> Result<(), IoError> {
    let truncated = |what: String, needed: u64| IoError::Truncated {
        path: data_path.to_owned(),
        what,
        needed,
        available: total,
    };
    for (i, c) in meta.captures.iter().enumerate() {
        if c.sample_start > total {
            return Err(truncated(
                format!("capture {i} (core:sample_start {})", c.sample_start),
                c.sample_start,
            ));
        }
    }
    for (i, a) in meta.annotations.iter().enumerate() {
        if a.sample_end() > total {
            return Err(truncated(
                format!(
                    "annotation {i} (core:sample_start {}, core:sample_count {})",
                    a.sample_start,
                    a.sample_count.unwrap_or(0)
                ),
                a.sample_end(),
            ));
        }
    }
    Ok(())
}
