//! Streaming SigMF writer.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use num_complex::Complex32;
use serde_json::Value;

use super::datatype::{DataType, first_non_finite};
use super::error::IoError;
use super::meta::{Annotation, Meta};
use super::reader::{resolve, with_suffix};

/// Samples encoded per `write` to the data file.
const ENCODE_CHUNK_SAMPLES: usize = 1 << 16;

/// Writes a SigMF recording: samples stream to `PREFIX.sigmf-data.tmp`; [`SigMfWriter::finish`]
/// renames it to `PREFIX.sigmf-data` and then writes `PREFIX.sigmf-meta` atomically (temporary
/// file + rename). A stale `PREFIX.sigmf-meta` is removed at creation, so an interrupted
/// writer never leaves metadata beside data it does not describe; dropping a writer without
/// `finish` removes the temporary data file.
///
/// Integer formats quantise as [`DataType::encode`] describes: `x · scale · full scale`,
/// rounded to nearest and saturated; [`SigMfWriter::clipped_samples`] counts saturations.
#[derive(Debug)]
pub struct SigMfWriter {
    /// `None` once finished (or after a failure inside `finish`).
    data: Option<BufWriter<File>>,
    tmp_path: PathBuf,
    data_path: PathBuf,
    meta_path: PathBuf,
    meta: Meta,
    scale: f32,
    buf: Vec<u8>,
    samples_written: u64,
    clipped: u64,
}

impl SigMfWriter {
    /// Starts `PREFIX.sigmf-data` (a trailing `.sigmf-meta`/`.sigmf-data` on `prefix` is
    /// dropped). `sample_rate_hz` must be finite and positive, `center_freq_hz` finite;
    /// `scale` (applied before integer quantisation, ignored for floats) finite and positive.
    pub fn create(
        prefix: &Path,
        datatype: DataType,
        sample_rate_hz: f64,
        center_freq_hz: f64,
        scale: f32,
    ) -> Result<Self, IoError> {
        let (meta_path, data_path) = resolve(prefix);
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(IoError::invalid(
                &data_path,
                format!("sample rate {sample_rate_hz} Hz is invalid: expected a finite number > 0"),
            ));
        }
        if !center_freq_hz.is_finite() {
            return Err(IoError::invalid(
                &data_path,
                format!(
                    "centre frequency {center_freq_hz} Hz is invalid: expected a finite number"
                ),
            ));
        }
        let scale_ok = scale.is_finite() && scale > 0.0;
        if !datatype.is_float() && !scale_ok {
            return Err(IoError::invalid(
                &data_path,
                format!("scale {scale} is invalid for {datatype}: expected a finite number > 0"),
            ));
        }
        match fs::remove_file(&meta_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(IoError::write(&meta_path, e)),
        }
        let tmp_path = with_suffix(&data_path, "tmp");
        let file = File::create(&tmp_path).map_err(|e| IoError::write(&tmp_path, e))?;
        Ok(SigMfWriter {
            data: Some(BufWriter::with_capacity(1 << 20, file)),
            tmp_path,
            data_path,
            meta_path,
            meta: Meta::new(datatype, sample_rate_hz, Some(center_freq_hz)),
            scale,
            buf: Vec::new(),
            samples_written: 0,
            clipped: 0,
        })
    }

    /// Appends samples. Rejects NaN and infinity ([`IoError::NonFinite`], nothing of this
    /// call written), whatever the format, so every recording reads back.
    pub fn write(&mut self, samples: &[Complex32]) -> Result<(), IoError> {
        if let Some(i) = first_non_finite(samples) {
            return Err(IoError::NonFinite {
                path: self.data_path.clone(),
                sample: self.samples_written + i as u64,
            });
        }
        let Some(out) = self.data.as_mut() else {
            return Err(IoError::invalid(&self.data_path, "write after finish"));
        };
        for chunk in samples.chunks(ENCODE_CHUNK_SAMPLES) {
            self.buf.clear();
            self.clipped += self.meta.datatype.encode(chunk, self.scale, &mut self.buf);
            out.write_all(&self.buf)
                .map_err(|e| IoError::write(&self.tmp_path, e))?;
            self.samples_written += chunk.len() as u64;
        }
        Ok(())
    }

    /// Sets `core:description` (CONTRACTS §3 asks for the SJNR/JNR/SNR definitions there).
    pub fn set_description(&mut self, s: String) {
        self.meta.description = Some(s);
    }

    /// Declares an extension in `core:extensions` (replacing the version if already there).
    pub fn add_extension(&mut self, name: impl Into<String>, version: impl Into<String>) {
        let (name, version) = (name.into(), version.into());
        match self.meta.extensions.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e.1 = version,
            None => self.meta.extensions.push((name, version)),
        }
    }

    /// Adds an annotation; they are sorted by `sample_start` on [`SigMfWriter::finish`].
    pub fn add_annotation(&mut self, a: Annotation) {
        self.meta.annotations.push(a);
    }

    /// Sets any other `global` key, e.g. `core:recorder` or `core:author`. Keys the writer
    /// owns (`core:datatype`, `core:sample_rate`, `core:version`, ...) are overwritten on output.
    pub fn set_global_field(&mut self, key: impl Into<String>, value: Value) {
        self.meta.global_fields.insert(key.into(), value);
    }

    /// Samples whose I or Q saturated in integer quantisation so far.
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.samples_written
    }

    /// Where the data will be once finished.
    pub fn data_path(&self) -> &Path {
        &self.data_path
    }

    /// Where the metadata will be once finished.
    pub fn meta_path(&self) -> &Path {
        &self.meta_path
    }

    /// Flushes and syncs the data, checks that every annotation ends inside it, sorts the
    /// annotations by `sample_start` (stable), renames the data into place and writes the
    /// metadata atomically. Returns the metadata written.
    pub fn finish(mut self) -> Result<Meta, IoError> {
        for (i, a) in self.meta.annotations.iter().enumerate() {
            if a.sample_end() > self.samples_written {
                return Err(IoError::invalid(
                    &self.meta_path,
                    format!(
                        "annotation {i} ends at sample {} but only {} samples were written",
                        a.sample_end(),
                        self.samples_written
                    ),
                ));
            }
        }
        let Some(out) = self.data.take() else {
            return Err(IoError::invalid(&self.data_path, "finish called twice"));
        };
        let file = out
            .into_inner()
            .map_err(|e| IoError::write(&self.tmp_path, e.into_error()))?;
        file.sync_all()
            .map_err(|e| IoError::write(&self.tmp_path, e))?;
        drop(file);
        fs::rename(&self.tmp_path, &self.data_path)
            .map_err(|e| IoError::write(&self.data_path, e))?;

        let mut meta = self.meta.clone();
        meta.annotations.sort_by_key(|a| a.sample_start);
        let meta_tmp = with_suffix(&self.meta_path, "tmp");
        let write_meta = || -> std::io::Result<()> {
            let mut f = File::create(&meta_tmp)?;
            f.write_all(meta.to_json_string().as_bytes())?;
            f.sync_all()
        };
        if let Err(e) = write_meta() {
            let _ = fs::remove_file(&meta_tmp);
            return Err(IoError::write(&meta_tmp, e));
        }
        fs::rename(&meta_tmp, &self.meta_path).map_err(|e| IoError::write(&self.meta_path, e))?;
        Ok(meta)
    }
}

impl Drop for SigMfWriter {
    fn drop(&mut self) {
        // Not finished, or `finish` failed before the rename: leave no half-written data.
        drop(self.data.take());
        if self.tmp_path.exists() {
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}
