//! Recordings in and out: SigMF 1.x and raw IQ, streamed in blocks, never loaded whole.
//!
//! - [`IqReader`] opens `X.sigmf-meta` / `X.sigmf-data` / the stem `X` ([`resolve`]), or a
//!   headerless raw file described by a [`RawFormat`], and hands out [`Complex32`] blocks.
//! - [`SigMfWriter`] streams samples to `PREFIX.sigmf-data` and writes `PREFIX.sigmf-meta`
//!   atomically at the end, with annotations (ground truth, CONTRACTS §3).
//! - [`Meta`] is the metadata: parsed from a `serde_json::Value` with an error per field,
//!   unknown keys kept.
//! - [`DataType`] holds the conversion rules (`ci16 / 32768`, `ci8 / 128`,
//!   `(cu8 - 127.5) / 127.5`) and the vectorisable conversion kernels.
//!
//! Every error is an [`IoError`] whose message names the file and the problem on one line,
//! with [`IoError::exit_code`] for the CLI (65 bad data, 64 bad argument, 1 other).
//!
//! [`Complex32`]: num_complex::Complex32

mod datatype;
mod error;
mod meta;
mod reader;
mod writer;

pub use datatype::{ALL_DATATYPES, DataType, RawFormat, UnknownDataType, first_non_finite};
pub use error::{EXIT_BAD_DATA, EXIT_OTHER, EXIT_USAGE, IoError};
pub use meta::{Annotation, Capture, Fields, MAX_META_BYTES, Meta, MetaError, SIGMF_VERSION};
pub use reader::{IqReader, READ_CHUNK_BYTES, resolve};
pub use writer::SigMfWriter;

#[cfg(test)]
mod testdir;
#[cfg(test)]
mod tests;
