//! Reading throughput of `io::IqReader` against a memcpy of the same bytes.
//!
//! Writes a 64 MiB `cf32_le` and a 32 MiB `ci16_le` recording (8 Mi samples each) to a
//! temporary folder, then reads each end to end in blocks of 65 536 samples, as the replay
//! pipeline does. The page cache holds the files after the first pass, so this measures
//! conversion plus the kernel's copy, not the disk. Floors in the same group:
//! `memcpy/*` copies the file's bytes from memory in blocks of the same byte size, and
//! `read_bytes/*` reads the file into a byte buffer without converting it.
//! Goal (see `src/io`): `read/*` at ≥ 50 % of `memcpy/cf32_le` in samples/s.

use std::fs::File;
use std::hint::black_box;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use num_complex::Complex32;
use ssbguard::io::{DataType, IqReader, SigMfWriter, resolve};
use ssbguard::rng::Rng;

const SAMPLES: usize = 8 << 20;
const BLOCK: usize = 65_536;

/// Removes the folder when the benchmark ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn make_recording(prefix: &Path, datatype: DataType) -> PathBuf {
    let mut rng = Rng::new(7);
    let mut w = SigMfWriter::create(prefix, datatype, 46.08e6, 3.5e9, 0.25)
        .expect("create bench recording");
    let mut block = vec![Complex32::new(0.0, 0.0); BLOCK];
    for _ in 0..SAMPLES / BLOCK {
        for s in &mut block {
            *s = rng.complex_gaussian(1.0);
        }
        w.write(&block).expect("write bench recording");
    }
    w.finish().expect("finish bench recording");
    resolve(prefix).1
}

fn bench_read(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("ssbguard-bench-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create bench folder");
    let _scratch = Scratch(dir.clone());

    let mut group = c.benchmark_group("io_read");
    group.throughput(Throughput::Elements(SAMPLES as u64));
    group.sample_size(20);

    for datatype in [DataType::Cf32Le, DataType::Ci16Le] {
        let name = datatype.sigmf_name();
        let data_path = make_recording(&dir.join(name), datatype);
        let block_bytes = BLOCK * datatype.bytes_per_sample();

        let bytes = std::fs::read(&data_path).expect("read bench data");
        let mut dst = vec![0u8; block_bytes];
        group.bench_function(format!("memcpy/{name}"), |b| {
            b.iter(|| {
                for chunk in bytes.chunks(block_bytes) {
                    dst[..chunk.len()].copy_from_slice(black_box(chunk));
                    black_box(&mut dst);
                }
            })
        });
        drop(bytes);

        let mut file = File::open(&data_path).expect("open bench data");
        group.bench_function(format!("read_bytes/{name}"), |b| {
            b.iter(|| {
                file.seek(SeekFrom::Start(0)).expect("seek");
                while file.read(&mut dst).expect("read") > 0 {
                    black_box(&mut dst);
                }
            })
        });

        let mut reader = IqReader::open(&data_path, None).expect("open bench recording");
        let mut out = vec![Complex32::new(0.0, 0.0); BLOCK];
        group.bench_function(format!("read/{name}"), |b| {
            b.iter(|| {
                reader.seek(0).expect("seek");
                while reader.read(&mut out).expect("read") > 0 {
                    black_box(&mut out);
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_read);
criterion_main!(benches);
