//! `Meta::parse` on arbitrary bytes: never panics; what it accepts, it writes back in a
//! form it accepts again, with the same structure.
//!
//! Run: `cargo +nightly fuzz run sigmf_meta` (from the crate root).

#![no_main]

use libfuzzer_sys::fuzz_target;
use ssbguard::io::Meta;

fuzz_target!(|data: &[u8]| {
    let Ok(meta) = Meta::parse_bytes(data) else {
        return;
    };
    let text = meta.to_json_string();
    let again = match Meta::parse(&text) {
        Ok(m) => m,
        Err(e) => panic!("written metadata does not parse: {e}\n{text}"),
    };
    assert_eq!(again.datatype, meta.datatype);
    assert_eq!(again.version, meta.version);
    assert_eq!(again.description, meta.description);
    assert_eq!(again.extensions, meta.extensions);
    assert_eq!(again.captures.len(), meta.captures.len());
    assert_eq!(again.annotations.len(), meta.annotations.len());
    for (a, b) in again.annotations.iter().zip(&meta.annotations) {
        assert_eq!(
            (a.sample_start, a.sample_count, &a.label),
            (b.sample_start, b.sample_count, &b.label)
        );
    }
    assert_eq!(again.header_bytes(), meta.header_bytes());
    assert_eq!(again.trailing_bytes(), meta.trailing_bytes());
});
