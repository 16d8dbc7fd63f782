//! Reader and writer tests: round trips, chunked == one-shot, every bad input.

use std::fs;
use std::path::{Path, PathBuf};

use num_complex::Complex32;
use proptest::prelude::*;
use serde_json::json;

use super::testdir::TestDir;
use super::*;
use crate::rng::Rng;

fn c(re: f32, im: f32) -> Complex32 {
    Complex32::new(re, im)
}

/// Uniform samples in (-amp, amp) for both parts.
fn samples(seed: u64, n: usize, amp: f64) -> Vec<Complex32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| c(rng.range(-amp, amp) as f32, rng.range(-amp, amp) as f32))
        .collect()
}

fn write(prefix: &Path, dt: DataType, s: &[Complex32]) -> Meta {
    let mut w = SigMfWriter::create(prefix, dt, 1.0e6, 2.0e9, 1.0).unwrap();
    w.write(s).unwrap();
    w.finish().unwrap()
}

fn read_all(r: &mut IqReader) -> Vec<Complex32> {
    let mut out = vec![c(0.0, 0.0); r.remaining() as usize];
    let n = r.read(&mut out).unwrap();
    assert_eq!(n, out.len());
    assert_eq!(r.read(&mut [c(0.0, 0.0); 4]).unwrap(), 0, "0 at EOF");
    out
}

fn write_meta(path: &Path, meta: serde_json::Value) {
    fs::write(path, meta.to_string()).unwrap();
}

fn cf32_meta() -> serde_json::Value {
    json!({"global": {"core:datatype": "cf32_le", "core:sample_rate": 1.0e6,
        "core:version": "1.2.0"},
        "captures": [{"core:sample_start": 0, "core:frequency": 1.0e9}],
        "annotations": []})
}

fn cf32_bytes(s: &[Complex32]) -> Vec<u8> {
    let mut b = Vec::new();
    DataType::Cf32Le.encode(s, 1.0, &mut b);
    b
}

fn open_err(path: &Path, raw: Option<&RawFormat>) -> IoError {
    match IqReader::open(path, raw) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e,
    }
}

/// Full scale of each integer format, and the worst read-back error for |x| <= 1.
fn int_tolerance(dt: DataType) -> f32 {
    match dt {
        DataType::Cf32Le | DataType::Cf32Be => 0.0,
        // round(x*32767)/32768: half a step plus the 32767-vs-32768 gain difference.
        DataType::Ci16Le | DataType::Ci16Be => 1.5 / 32768.0,
        DataType::Ci8 => 1.5 / 128.0,
        DataType::Cu8 => 0.5 / 127.5 + 1e-6,
    }
}

#[test]
fn round_trip_every_datatype() {
    let dir = TestDir::new("roundtrip");
    let mut s = samples(1, 5000, 1.0);
    // Out of range on I, Q, both; exactly full scale (not clipped for ci16 and ci8).
    s[10] = c(1.5, 0.0);
    s[11] = c(0.0, -3.0);
    s[12] = c(-2.0, 2.0);
    s[13] = c(1.0, -1.0);
    for dt in ALL_DATATYPES {
        let prefix = dir.join(dt.sigmf_name());
        let mut w = SigMfWriter::create(&prefix, dt, 7.68e6, 3.5e9, 1.0).unwrap();
        w.write(&s[..1000]).unwrap();
        w.write(&s[1000..]).unwrap();
        // Samples 10, 11, 12 saturate every integer format; 13 (full scale) none.
        let expect_clipped = if dt.is_float() { 0 } else { 3 };
        assert_eq!(w.clipped_samples(), expect_clipped, "{dt}");
        assert_eq!(w.samples_written(), 5000);
        let meta = w.finish().unwrap();
        assert_eq!(meta.datatype, dt);

        let mut r = IqReader::open(&prefix, None).unwrap();
        assert_eq!(r.total_samples(), 5000);
        assert_eq!(r.sample_rate_hz(), 7.68e6);
        assert_eq!(r.center_freq_hz(), Some(3.5e9));
        assert_eq!(r.datatype(), dt);
        assert_eq!(r.meta(), &meta);
        assert_eq!(
            fs::metadata(r.data_path()).unwrap().len(),
            5000 * dt.bytes_per_sample() as u64
        );
        let back = read_all(&mut r);
        let tol = int_tolerance(dt);
        for (i, (a, b)) in s.iter().zip(&back).enumerate() {
            let clamp = |x: f32| if dt.is_float() { x } else { x.clamp(-1.0, 1.0) };
            let (ea, eb) = ((clamp(a.re) - b.re).abs(), (clamp(a.im) - b.im).abs());
            assert!(
                ea <= tol && eb <= tol,
                "{dt} sample {i}: wrote {a}, read {b}"
            );
        }
    }
}

#[test]
fn scale_multiplies_before_quantisation() {
    let dir = TestDir::new("scale");
    let p = dir.join("x");
    let mut w = SigMfWriter::create(&p, DataType::Ci16Le, 1.0e6, 0.0, 0.5).unwrap();
    w.write(&[c(1.0, -1.5)]).unwrap();
    assert_eq!(w.clipped_samples(), 0);
    w.finish().unwrap();
    let bytes = fs::read(with_data(&p)).unwrap();
    assert_eq!(
        bytes,
        [0x00, 0x40, 0x01, 0xa0],
        "16384 (16383.5 rounded away from zero), -24575 (-24575.25)"
    );
}

fn with_data(prefix: &Path) -> PathBuf {
    resolve(prefix).1
}

#[test]
fn writer_meta_is_sigmf_and_sorted() {
    let dir = TestDir::new("meta");
    let p = dir.join("rec");
    let mut w = SigMfWriter::create(&p, DataType::Cf32Le, 30.72e6, 3.5e9, 1.0).unwrap();
    w.write(&samples(2, 300, 0.5)).unwrap();
    w.set_description("SJNR = ...".into());
    w.add_extension("ssbguard", "0.0.1");
    w.add_extension("ssbguard", "0.1.0");
    w.set_global_field("core:author", json!("test"));
    for (start, label) in [
        (200, "jammer"),
        (0, "cell"),
        (100, "interferer"),
        (0, "second"),
    ] {
        w.add_annotation(
            Annotation::new(start, Some(50), Some(label.into()))
                .with_field("ssbguard:sjnr_db", json!(18.5)),
        );
    }
    let meta = w.finish().unwrap();
    let labels: Vec<_> = meta
        .annotations
        .iter()
        .map(|a| a.label.as_deref().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["cell", "second", "interferer", "jammer"],
        "stable sort by start"
    );
    let text = fs::read_to_string(resolve(&p).0).unwrap();
    assert_eq!(Meta::parse(&text).unwrap(), meta);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["global"]["core:version"], json!(SIGMF_VERSION));
    assert_eq!(v["global"]["core:datatype"], json!("cf32_le"));
    assert_eq!(v["global"]["core:sample_rate"], json!(30.72e6));
    assert_eq!(v["global"]["core:author"], json!("test"));
    assert_eq!(
        v["global"]["core:extensions"],
        json!([{"name": "ssbguard", "version": "0.1.0", "optional": true}])
    );
    assert_eq!(
        v["captures"],
        json!([{"core:sample_start": 0, "core:frequency": 3.5e9}])
    );
    assert_eq!(v["annotations"][3]["core:label"], json!("jammer"));
    assert_eq!(v["annotations"][3]["ssbguard:sjnr_db"], json!(18.5));
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(
        names,
        ["rec.sigmf-data", "rec.sigmf-meta"],
        "no temporary files left"
    );
}

#[test]
fn paths_resolve() {
    let r = |p: &str| {
        let (m, d) = resolve(Path::new(p));
        (
            m.to_str().unwrap().to_owned(),
            d.to_str().unwrap().to_owned(),
        )
    };
    let both = |m: &str, d: &str| (m.to_owned(), d.to_owned());
    assert_eq!(
        r("a/x.sigmf-meta"),
        both("a/x.sigmf-meta", "a/x.sigmf-data")
    );
    assert_eq!(
        r("a/x.sigmf-data"),
        both("a/x.sigmf-meta", "a/x.sigmf-data")
    );
    assert_eq!(r("a/x"), both("a/x.sigmf-meta", "a/x.sigmf-data"));
    assert_eq!(
        r("fs23.04M-pci500"),
        both("fs23.04M-pci500.sigmf-meta", "fs23.04M-pci500.sigmf-data")
    );
    assert_eq!(
        r("x.sigmf"),
        both("x.sigmf.sigmf-meta", "x.sigmf.sigmf-data")
    );
}

#[test]
fn opens_by_any_name_and_by_dataset() {
    let dir = TestDir::new("names");
    let stem = dir.join("n78.fs23.04M");
    let s = samples(3, 100, 1.0);
    write(&stem, DataType::Cf32Le, &s);
    for name in [
        "n78.fs23.04M",
        "n78.fs23.04M.sigmf-meta",
        "n78.fs23.04M.sigmf-data",
    ] {
        let mut r = IqReader::open(&dir.join(name), None).unwrap();
        assert_eq!(read_all(&mut r), s, "{name}");
        assert_eq!(r.data_path(), with_data(&stem));
    }
    // Writer prefix given with a suffix writes the same pair.
    write(&dir.join("other.sigmf-data"), DataType::Ci8, &s);
    assert!(dir.join("other.sigmf-meta").exists());

    // core:dataset names a differently named data file beside the metadata.
    fs::write(dir.join("blob.bin"), cf32_bytes(&s)).unwrap();
    let mut meta = cf32_meta();
    meta["global"]["core:dataset"] = json!("blob.bin");
    write_meta(&dir.join("ds.sigmf-meta"), meta);
    let mut r = IqReader::open(&dir.join("ds"), None).unwrap();
    assert_eq!(r.data_path(), dir.join("blob.bin"));
    assert_eq!(read_all(&mut r), s);
}

#[test]
fn raw_files_read_with_synthesised_meta() {
    let dir = TestDir::new("raw");
    let path = dir.join("capture.cs16");
    let s = samples(4, 777, 0.9);
    let mut bytes = Vec::new();
    DataType::Ci16Le.encode(&s, 1.0, &mut bytes);
    fs::write(&path, &bytes).unwrap();
    let fmt = RawFormat {
        datatype: "ci16".parse().unwrap(),
        sample_rate_hz: 15.36e6,
        center_freq_hz: Some(1.8425e9),
    };
    let mut r = IqReader::open(&path, Some(&fmt)).unwrap();
    assert_eq!(r.total_samples(), 777);
    assert_eq!(r.sample_rate_hz(), 15.36e6);
    assert_eq!(r.center_freq_hz(), Some(1.8425e9));
    assert_eq!(r.meta().datatype, DataType::Ci16Le);
    assert!(r.meta().annotations.is_empty());
    assert_eq!(r.data_path(), path);
    let back = read_all(&mut r);
    assert!(s.iter().zip(&back).all(|(a, b)| (a - b).norm() < 1e-4));

    let no_freq = RawFormat {
        center_freq_hz: None,
        ..fmt
    };
    assert_eq!(
        IqReader::open(&path, Some(&no_freq))
            .unwrap()
            .center_freq_hz(),
        None
    );

    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = open_err(
            &path,
            Some(&RawFormat {
                sample_rate_hz: bad,
                ..fmt
            }),
        );
        assert!(matches!(e, IoError::InvalidArgument { .. }), "{e}");
        assert_eq!(e.exit_code(), 64);
        assert!(e.to_string().contains("sample rate"), "{e}");
    }
    let e = open_err(
        &path,
        Some(&RawFormat {
            center_freq_hz: Some(f64::NAN),
            ..fmt
        }),
    );
    assert!(matches!(e, IoError::InvalidArgument { .. }), "{e}");
}

#[test]
fn header_and_trailing_bytes_are_skipped() {
    let dir = TestDir::new("header");
    let s = samples(5, 64, 1.0);
    let mut data = vec![0xAAu8; 16];
    data.extend(cf32_bytes(&s));
    data.extend([0x55u8; 3]);
    fs::write(dir.join("h.sigmf-data"), &data).unwrap();
    let mut meta = cf32_meta();
    meta["captures"][0]["core:header_bytes"] = json!(16);
    meta["global"]["core:trailing_bytes"] = json!(3);
    write_meta(&dir.join("h.sigmf-meta"), meta.clone());
    let mut r = IqReader::open(&dir.join("h"), None).unwrap();
    assert_eq!(r.total_samples(), 64);
    assert_eq!(read_all(&mut r), s);
    r.seek(60).unwrap();
    let mut four = [c(0.0, 0.0); 8];
    assert_eq!(r.read(&mut four).unwrap(), 4);
    assert_eq!(four[..4], s[60..]);

    meta["captures"][0]["core:header_bytes"] = json!(1000);
    write_meta(&dir.join("h.sigmf-meta"), meta);
    let e = open_err(&dir.join("h"), None);
    assert!(
        matches!(
            &e,
            IoError::Meta {
                error: MetaError::InvalidField { .. },
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.exit_code(), 65);
}

#[test]
fn seek_and_position() {
    let dir = TestDir::new("seek");
    let p = dir.join("s");
    let s = samples(6, 1000, 1.0);
    write(&p, DataType::Ci8, &s);
    let mut r = IqReader::open(&p, None).unwrap();
    let all = read_all(&mut r);
    assert_eq!(r.position(), 1000);
    r.seek(250).unwrap();
    assert_eq!((r.position(), r.remaining()), (250, 750));
    let mut out = vec![c(0.0, 0.0); 100];
    assert_eq!(r.read(&mut out).unwrap(), 100);
    assert_eq!(out, all[250..350]);
    assert_eq!(r.position(), 350);
    r.seek(1000).unwrap();
    assert_eq!(r.read(&mut out).unwrap(), 0);
    let e = r.seek(1001).unwrap_err();
    assert!(
        matches!(
            e,
            IoError::SeekOutOfRange {
                sample: 1001,
                total: 1000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(r.position(), 1000, "failed seek leaves the position");
}

#[test]
fn buffer_is_reused_and_bounded() {
    let dir = TestDir::new("buffer");
    let p = dir.join("b");
    write(&p, DataType::Cf32Le, &samples(7, 300_000, 1.0));
    let mut r = IqReader::open(&p, None).unwrap();
    let mut out = vec![c(0.0, 0.0); 4096];
    r.read(&mut out).unwrap();
    let cap = r.buffer_capacity();
    assert_eq!(cap, 4096 * 8);
    for _ in 0..10 {
        r.read(&mut out).unwrap();
        assert_eq!(r.buffer_capacity(), cap);
    }
    let mut big = vec![c(0.0, 0.0); 250_000];
    assert_eq!(r.read(&mut big).unwrap(), 250_000);
    assert_eq!(
        r.buffer_capacity(),
        READ_CHUNK_BYTES,
        "a large read is chunked"
    );
}

// ---- bad input: each gives its variant, a one-line message naming the file, no panic ----

fn assert_one_line(e: &IoError, path: &Path, needle: &str) {
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    assert_eq!(e.path(), path);
}

#[test]
fn missing_meta() {
    let dir = TestDir::new("nometa");
    fs::write(dir.join("x.sigmf-data"), [0u8; 16]).unwrap();
    for name in ["x", "x.sigmf-data", "x.sigmf-meta", "absent"] {
        let e = open_err(&dir.join(name), None);
        assert!(matches!(e, IoError::MissingMeta { .. }), "{e}");
        assert_eq!(e.exit_code(), 65);
    }
    let e = open_err(&dir.join("x.sigmf-data"), None);
    assert_one_line(&e, &dir.join("x.sigmf-meta"), "metadata file not found");
}

#[test]
fn missing_data_file() {
    let dir = TestDir::new("nodata");
    write_meta(&dir.join("x.sigmf-meta"), cf32_meta());
    let e = open_err(&dir.join("x"), None);
    assert!(matches!(&e, IoError::Read { .. }), "{e}");
    assert_one_line(&e, &dir.join("x.sigmf-data"), "cannot read");
    assert_eq!(e.exit_code(), 65);
    let e = open_err(
        &dir.join("raw.bin"),
        Some(&RawFormat {
            datatype: DataType::Cu8,
            sample_rate_hz: 1.0,
            center_freq_hz: None,
        }),
    );
    assert_eq!(e.exit_code(), 65);
}

#[test]
fn garbage_meta() {
    let dir = TestDir::new("garbage");
    let meta = dir.join("g.sigmf-meta");
    fs::write(dir.join("g.sigmf-data"), [0u8; 8]).unwrap();
    fs::write(&meta, b"{\n  \"global\": {\x01\x02 garbage").unwrap();
    let e = open_err(&meta, None);
    assert!(
        matches!(
            &e,
            IoError::Meta {
                error: MetaError::Json { line: 2, .. },
                ..
            }
        ),
        "{e}"
    );
    assert_one_line(&e, &meta, "invalid JSON at line 2 column");
    assert_eq!(e.exit_code(), 65);

    fs::write(&meta, [0xffu8, 0xfe, 0x00]).unwrap();
    let e = open_err(&meta, None);
    assert!(
        matches!(
            &e,
            IoError::Meta {
                error: MetaError::Json { .. },
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn meta_field_errors_carry_the_meta_path() {
    let dir = TestDir::new("fields");
    let meta = dir.join("f.sigmf-meta");
    fs::write(dir.join("f.sigmf-data"), [0u8; 8]).unwrap();
    let mut m = cf32_meta();
    m["global"]
        .as_object_mut()
        .unwrap()
        .remove("core:sample_rate");
    write_meta(&meta, m);
    let e = open_err(&meta, None);
    assert_one_line(&e, &meta, "missing required field global.core:sample_rate");

    let mut m = cf32_meta();
    m["global"]["core:sample_rate"] = json!(-1);
    write_meta(&meta, m);
    let e = open_err(&meta, None);
    assert_one_line(
        &e,
        &meta,
        "invalid global.core:sample_rate = -1: expected a finite number > 0",
    );

    let mut m = cf32_meta();
    m["global"]["core:datatype"] = json!("ri16_le");
    write_meta(&meta, m);
    let e = open_err(&meta, None);
    assert!(
        matches!(
            &e,
            IoError::Meta {
                error: MetaError::UnknownDatatype { .. },
                ..
            }
        ),
        "{e}"
    );
    assert_one_line(
        &e,
        &meta,
        "\"ri16_le\"; supported: cf32_le, cf32_be, ci16_le",
    );
    assert_eq!(e.exit_code(), 65);
}

#[test]
fn partial_sample() {
    let dir = TestDir::new("partial");
    write_meta(&dir.join("p.sigmf-meta"), cf32_meta());
    fs::write(dir.join("p.sigmf-data"), [0u8; 7]).unwrap();
    let e = open_err(&dir.join("p"), None);
    assert!(
        matches!(
            &e,
            IoError::PartialSample {
                bytes: 7,
                sample_size: 8,
                ..
            }
        ),
        "{e}"
    );
    assert_one_line(
        &e,
        &dir.join("p.sigmf-data"),
        "7 bytes, not a multiple of the 8-byte cf32_le",
    );
    assert_eq!(e.exit_code(), 65);
}

#[test]
fn meta_pointing_past_the_data_is_truncation() {
    let dir = TestDir::new("trunc");
    let data = dir.join("t.sigmf-data");
    fs::write(&data, cf32_bytes(&samples(8, 100, 1.0))).unwrap();

    let mut m = cf32_meta();
    m["annotations"] = json!([{"core:sample_start": 0, "core:sample_count": 100},
        {"core:sample_start": 90, "core:sample_count": 20, "core:label": "jammer"}]);
    write_meta(&dir.join("t.sigmf-meta"), m);
    let e = open_err(&dir.join("t"), None);
    assert!(
        matches!(
            &e,
            IoError::Truncated {
                needed: 110,
                available: 100,
                ..
            }
        ),
        "{e}"
    );
    assert_one_line(
        &e,
        &data,
        "annotation 1 (core:sample_start 90, core:sample_count 20)",
    );
    assert_eq!(e.exit_code(), 65);

    let mut m = cf32_meta();
    m["captures"] = json!([{"core:sample_start": 0}, {"core:sample_start": 101}]);
    write_meta(&dir.join("t.sigmf-meta"), m);
    let e = open_err(&dir.join("t"), None);
    assert_one_line(
        &e,
        &data,
        "capture 1 (core:sample_start 101) reaches sample 101",
    );

    // Exactly at the end is fine.
    let mut m = cf32_meta();
    m["captures"] = json!([{"core:sample_start": 0}, {"core:sample_start": 100}]);
    m["annotations"] = json!([{"core:sample_start": 100}]);
    write_meta(&dir.join("t.sigmf-meta"), m);
    IqReader::open(&dir.join("t"), None).unwrap();
}

#[test]
fn nan_and_inf_are_located() {
    let dir = TestDir::new("nan");
    write_meta(&dir.join("n.sigmf-meta"), cf32_meta());
    let n = 300_000; // more than one READ_CHUNK_BYTES chunk of cf32
    for (bad_at, bad) in [
        (0, c(f32::NAN, 0.0)),
        (131_073, c(0.0, f32::INFINITY)),
        (n - 1, c(f32::NEG_INFINITY, 1.0)),
    ] {
        let mut s = samples(9, n, 1.0);
        s[bad_at] = bad;
        fs::write(dir.join("n.sigmf-data"), cf32_bytes(&s)).unwrap();
        for block in [1000, n] {
            let mut r = IqReader::open(&dir.join("n"), None).unwrap();
            let mut out = vec![c(0.0, 0.0); block];
            let e = loop {
                match r.read(&mut out) {
                    Ok(0) => panic!("no error for sample {bad_at}"),
                    Ok(_) => {}
                    Err(e) => break e,
                }
            };
            assert!(
                matches!(&e, IoError::NonFinite { sample, .. } if *sample == bad_at as u64),
                "{e}"
            );
            assert_one_line(
                &e,
                &dir.join("n.sigmf-data"),
                &format!("sample {bad_at} is NaN or infinite"),
            );
            assert_eq!(e.exit_code(), 65);
        }
    }
}

#[test]
fn writer_rejects_bad_input() {
    let dir = TestDir::new("wbad");
    let p = dir.join("w");
    for (rate, freq, scale, what) in [
        (0.0, 1.0, 1.0, "sample rate"),
        (f64::NAN, 1.0, 1.0, "sample rate"),
        (1.0, f64::INFINITY, 1.0, "centre frequency"),
        (1.0, 1.0, 0.0, "scale"),
        (1.0, 1.0, f32::NAN, "scale"),
    ] {
        let e = SigMfWriter::create(&p, DataType::Ci16Le, rate, freq, scale).unwrap_err();
        assert!(matches!(e, IoError::InvalidArgument { .. }), "{e}");
        assert!(e.to_string().contains(what), "{e}");
        assert_eq!(e.exit_code(), 64);
    }
    assert!(
        SigMfWriter::create(&p, DataType::Cf32Le, 1.0, 1.0, 0.0).is_ok(),
        "float ignores scale"
    );

    let mut w = SigMfWriter::create(&p, DataType::Ci16Le, 1.0, 1.0, 1.0).unwrap();
    w.write(&[c(0.0, 0.0); 5]).unwrap();
    let e = w.write(&[c(0.0, 0.0), c(0.0, f32::NAN)]).unwrap_err();
    assert!(matches!(e, IoError::NonFinite { sample: 6, .. }), "{e}");
    assert_eq!(w.samples_written(), 5, "nothing of the bad call written");
    w.add_annotation(Annotation::new(3, Some(3), None));
    let e = w.finish().unwrap_err();
    assert!(
        e.to_string()
            .contains("annotation 0 ends at sample 6 but only 5"),
        "{e}"
    );
    assert!(
        !dir.join("w.sigmf-data.tmp").exists(),
        "failed finish cleans up"
    );
    assert!(!dir.join("w.sigmf-data").exists());
    assert!(!dir.join("w.sigmf-meta").exists());
}

#[test]
fn writer_lifecycle_files() {
    let dir = TestDir::new("life");
    let p = dir.join("l");
    write(&p, DataType::Cf32Le, &samples(10, 10, 1.0));
    assert!(dir.join("l.sigmf-meta").exists());
    // A new writer removes the stale metadata at once; dropping it unfinished removes its data.
    let mut w = SigMfWriter::create(&p, DataType::Cf32Le, 1.0, 1.0, 1.0).unwrap();
    assert!(!dir.join("l.sigmf-meta").exists());
    w.write(&samples(11, 10, 1.0)).unwrap();
    assert!(dir.join("l.sigmf-data.tmp").exists());
    drop(w);
    assert!(!dir.join("l.sigmf-data.tmp").exists());
    let e = open_err(&p, None);
    assert!(matches!(e, IoError::MissingMeta { .. }), "{e}");
}

#[test]
fn empty_recording() {
    let dir = TestDir::new("empty");
    let p = dir.join("e");
    let meta = write(&p, DataType::Ci16Be, &[]);
    let mut r = IqReader::open(&p, None).unwrap();
    assert_eq!((r.total_samples(), r.meta()), (0, &meta));
    assert_eq!(r.read(&mut [c(0.0, 0.0); 16]).unwrap(), 0);
    assert_eq!(r.read(&mut []).unwrap(), 0);
}

// ---- property: where reads are cut does not change what is read ----

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn chunked_reads_equal_one_shot(
        dt_index in 0..ALL_DATATYPES.len(),
        n in 0usize..20_000,
        blocks in prop::collection::vec(0usize..5000, 1..40),
        seek_to in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let dt = ALL_DATATYPES[dt_index];
        let dir = TestDir::new("prop");
        let p = dir.join("p");
        write(&p, dt, &samples(seed, n, 1.2));
        let mut r = IqReader::open(&p, None).unwrap();
        let whole = read_all(&mut r);
        prop_assert_eq!(whole.len(), n);

        // Reads of varying sizes (0 included), cycling, from a random start.
        let start = if n == 0 { 0 } else { seek_to.index(n + 1) };
        r.seek(start as u64).unwrap();
        let mut got = Vec::with_capacity(n);
        let mut out = vec![c(0.0, 0.0); 5000];
        let mut zero_reads_at_eof = 0;
        for &b in blocks.iter().cycle() {
            let k = r.read(&mut out[..b]).unwrap();
            prop_assert_eq!(r.position() as usize, start + got.len() + k);
            got.extend_from_slice(&out[..k]);
            if k < b {
                prop_assert_eq!(got.len(), n - start, "short read only at the end");
                zero_reads_at_eof += 1;
                if zero_reads_at_eof > 1 { break; }
            }
        }
        let same = got.iter().zip(&whole[start..]).all(|(a, b)| {
            a.re.to_bits() == b.re.to_bits() && a.im.to_bits() == b.im.to_bits()
        });
        prop_assert!(same, "chunked read differs from one-shot");
    }
}
