//! Raw IQ decoding on arbitrary bytes: never panics, decodes exactly the whole samples,
//! gives the same values however the bytes are cut into blocks, flags exactly the
//! non-finite floats, keeps integers inside [-1, 1], and float bytes survive a round trip.
//!
//! Input: byte 0 picks the format, byte 1 the block size, the rest is the recording.
//! Run: `cargo +nightly fuzz run raw_iq` (from the crate root).

#![no_main]

use libfuzzer_sys::fuzz_target;
use num_complex::Complex32;
use ssbguard::io::{ALL_DATATYPES, DataType, first_non_finite};

fuzz_target!(|data: &[u8]| {
    let [pick, block, bytes @ ..] = data else {
        return;
    };
    let dt = ALL_DATATYPES[usize::from(*pick) % ALL_DATATYPES.len()];
    let bps = dt.bytes_per_sample();
    let n = bytes.len() / bps;

    let mut whole = vec![Complex32::new(0.0, 0.0); n + 1];
    assert_eq!(dt.decode(bytes, &mut whole), n);
    whole.truncate(n);

    // Block by block, as a reader does.
    let block = usize::from(*block).max(1);
    let mut chunked = vec![Complex32::new(7.0, 7.0); n];
    for (i, out) in chunked.chunks_mut(block).enumerate() {
        let start = i * block * bps;
        let got = dt.decode(&bytes[start..], out);
        assert_eq!(got, out.len());
    }
    let bits = |v: &[Complex32]| -> Vec<(u32, u32)> {
        v.iter().map(|c| (c.re.to_bits(), c.im.to_bits())).collect()
    };
    assert_eq!(bits(&whole), bits(&chunked));

    let expect_bad = (0..n).find(|&i| {
        let s = &bytes[i * bps..(i + 1) * bps];
        dt.is_float()
            && [&s[..4], &s[4..]].iter().any(|h| {
                let w = [h[0], h[1], h[2], h[3]];
                let v = if dt == DataType::Cf32Le {
                    f32::from_le_bytes(w)
                } else {
                    f32::from_be_bytes(w)
                };
                !v.is_finite()
            })
    });
    assert_eq!(first_non_finite(&whole), expect_bad);

    if dt.is_float() {
        let mut back = Vec::new();
        assert_eq!(dt.encode(&whole, 1.0, &mut back), 0);
        assert_eq!(back, &bytes[..n * bps]);
    } else {
        assert!(whole.iter().all(|c| c.re.abs() <= 1.0 && c.im.abs() <= 1.0));
    }
});
