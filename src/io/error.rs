//! Errors of the `io` module: one line each, naming the file and the problem.

use std::path::{Path, PathBuf};

use super::meta::MetaError;

/// Exit code for bad input data (CONTRACTS §1).
pub const EXIT_BAD_DATA: i32 = 65;
/// Exit code for bad usage or configuration (CONTRACTS §1).
pub const EXIT_USAGE: i32 = 64;
/// Exit code for any other failure (CONTRACTS §1).
pub const EXIT_OTHER: i32 = 1;

/// Anything that can go wrong reading or writing a recording.
///
/// The `Display` text is the whole one-line message (file, then problem); the variants do
/// not chain a `source()`, so `{:#}` in `anyhow` does not repeat it. Map to a process exit
/// code with [`IoError::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The SigMF metadata file does not exist.
    #[error(
        "{}: SigMF metadata file not found (a raw IQ file needs --format and --rate)",
        path.display()
    )]
    MissingMeta {
        /// The `.sigmf-meta` path that was looked for.
        path: PathBuf,
    },

    /// The metadata is not valid SigMF for this reader.
    #[error("{}: {error}", path.display())]
    Meta {
        /// The `.sigmf-meta` file.
        path: PathBuf,
        /// What is wrong with it.
        error: MetaError,
    },

    /// The metadata file is larger than any sane one; not read.
    #[error("{}: metadata file is {bytes} bytes, more than the {limit}-byte limit", path.display())]
    MetaTooLarge {
        /// The `.sigmf-meta` file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },

    /// The data length is not a whole number of samples.
    #[error(
        "{}: data is {bytes} bytes, not a multiple of the {sample_size}-byte {datatype} sample",
        path.display()
    )]
    PartialSample {
        /// The data file.
        path: PathBuf,
        /// Bytes of sample data (header and trailing bytes excluded).
        bytes: u64,
        /// Bytes per complex sample.
        sample_size: usize,
        /// The sample format, as its SigMF name.
        datatype: &'static str,
    },

    /// The metadata points past the end of the data, or the file shrank while being read.
    #[error(
        "{}: truncated: {what} reaches sample {needed} but the data holds {available} samples",
        path.display()
    )]
    Truncated {
        /// The data file.
        path: PathBuf,
        /// What points past the end, e.g. `annotation 3 (core:sample_start 100, core:sample_count 50)`.
        what: String,
        /// The sample count the metadata needs.
        needed: u64,
        /// The samples the data holds.
        available: u64,
    },

    /// A floating-point sample is NaN or infinite.
    #[error("{}: sample {sample} is NaN or infinite", path.display())]
    NonFinite {
        /// The data file.
        path: PathBuf,
        /// Index of the first bad sample from the start of the recording.
        sample: u64,
    },

    /// A caller-supplied parameter is out of range (sample rate, scale, annotation past the end).
    #[error("{}: {message}", path.display())]
    InvalidArgument {
        /// The file the parameter was for.
        path: PathBuf,
        /// What is wrong and what is allowed.
        message: String,
    },

    /// A seek beyond the last sample.
    #[error("{}: cannot seek to sample {sample}: the recording has {total} samples", path.display())]
    SeekOutOfRange {
        /// The data file.
        path: PathBuf,
        /// The requested sample.
        sample: u64,
        /// Samples in the recording.
        total: u64,
    },

    /// The operating system failed to open or read an input file.
    #[error("{}: cannot read: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },

    /// The operating system failed to create, write or rename an output file.
    #[error("{}: cannot write: {error}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
}

impl IoError {
    /// The process exit code for this error (CONTRACTS §1): 65 for bad or unreadable input
    /// data (missing, malformed or truncated files, NaN samples, a file that cannot be opened
    /// because it does not exist or is not readable), 64 for an invalid argument, 1 for other
    /// OS errors (a failing disk, a full disk on writing).
    pub fn exit_code(&self) -> i32 {
        use std::io::ErrorKind as K;
        match self {
            IoError::MissingMeta { .. }
            | IoError::Meta { .. }
            | IoError::MetaTooLarge { .. }
            | IoError::PartialSample { .. }
            | IoError::Truncated { .. }
            | IoError::NonFinite { .. } => EXIT_BAD_DATA,
            IoError::InvalidArgument { .. } => EXIT_USAGE,
            IoError::Read { error, .. } => match error.kind() {
                K::NotFound
                | K::PermissionDenied
                | K::IsADirectory
                | K::InvalidData
                | K::UnexpectedEof => EXIT_BAD_DATA,
                _ => EXIT_OTHER,
            },
            IoError::SeekOutOfRange { .. } | IoError::Write { .. } => EXIT_OTHER,
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            IoError::MissingMeta { path }
            | IoError::Meta { path, .. }
            | IoError::MetaTooLarge { path, .. }
            | IoError::PartialSample { path, .. }
            | IoError::Truncated { path, .. }
            | IoError::NonFinite { path, .. }
            | IoError::InvalidArgument { path, .. }
            | IoError::SeekOutOfRange { path, .. }
            | IoError::Read { path, .. }
            | IoError::Write { path, .. } => path,
        }
    }

    pub(crate) fn read(path: &Path, error: std::io::Error) -> Self {
        IoError::Read {
            path: path.to_owned(),
            error,
        }
    }

    pub(crate) fn write(path: &Path, error: std::io::Error) -> Self {
        IoError::Write {
            path: path.to_owned(),
            error,
        }
    }

    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        IoError::InvalidArgument {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let p = PathBuf::from("x");
        let io = |k| IoError::Read {
            path: p.clone(),
            error: std::io::Error::from(k),
        };
        assert_eq!(io(std::io::ErrorKind::NotFound).exit_code(), 65);
        assert_eq!(io(std::io::ErrorKind::PermissionDenied).exit_code(), 65);
        assert_eq!(io(std::io::ErrorKind::Interrupted).exit_code(), 1);
        let w = IoError::Write {
            path: p.clone(),
            error: std::io::Error::from(std::io::ErrorKind::StorageFull),
        };
        assert_eq!(w.exit_code(), 1);
        assert_eq!(IoError::invalid(&p, "bad").exit_code(), 64);
        assert_eq!(
            IoError::NonFinite {
                path: p.clone(),
                sample: 3
            }
            .exit_code(),
            65
        );
        assert_eq!(
            IoError::MissingMeta { path: p.clone() }.path(),
            Path::new("x")
        );
    }
}
