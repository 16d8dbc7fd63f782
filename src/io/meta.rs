//! SigMF 1.x metadata (`.sigmf-meta`): parsing with field-level errors, and writing.
//!
//! Parsing works on a `serde_json::Value` so each problem can name its field, its value and
//! what is allowed. Unknown keys are kept: global ones in [`Meta::global_fields`], capture and
//! annotation ones in their `fields` maps, so a parse → write round trip loses nothing we
//! model (the `optional` flag of `core:extensions` entries aside, written back as `true`).

use serde_json::{Map, Value};

use super::datatype::{DataType, SUPPORTED_DATATYPES};

/// The SigMF version [`Meta::to_json_string`] writes for new recordings (as in the real
/// captures this project ships).
pub const SIGMF_VERSION: &str = "1.2.0";

/// A JSON object, as kept for keys this module does not model.
pub type Fields = Map<String, Value>;

/// What is wrong with a metadata text. Shown after the file name by
/// [`IoError::Meta`](super::IoError::Meta).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// Not JSON at all.
    #[error("invalid JSON at line {line} column {column}: {message}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },
    /// A required field is absent.
    #[error("missing required field {field}")]
    MissingField {
        /// Where, e.g. `global.core:sample_rate` or `captures[1].core:sample_start`.
        field: String,
    },
    /// A field has the wrong type or an out-of-range value.
    #[error("invalid {field} = {value}: expected {allowed}")]
    InvalidField {
        /// Where, e.g. `global.core:sample_rate`.
        field: String,
        /// The value found, as JSON (shortened if long).
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// `core:datatype` names a format this reader does not support.
    #[error("unsupported global.core:datatype {value:?}; supported: {SUPPORTED_DATATYPES}")]
    UnknownDatatype {
        /// The datatype string found.
        value: String,
    },
}

/// One entry of `captures`: where a segment starts and how it was tuned.
#[derive(Clone, Debug, PartialEq)]
pub struct Capture {
    /// `core:sample_start`: first sample of the segment.
    pub sample_start: u64,
    /// `core:frequency`: centre frequency in Hz, if recorded.
    pub frequency_hz: Option<f64>,
    /// `core:datetime`: ISO 8601 time of the first sample, if recorded (not validated).
    pub datetime: Option<String>,
    /// Every other key, e.g. `core:header_bytes`, `core:global_index`.
    pub fields: Fields,
}

impl Capture {
    /// A capture starting at `sample_start`, tuned to `frequency_hz`, with no other fields.
    pub fn new(sample_start: u64, frequency_hz: Option<f64>) -> Self {
        Capture {
            sample_start,
            frequency_hz,
            datetime: None,
            fields: Fields::new(),
        }
    }

    /// `core:header_bytes`: bytes of non-sample data before this segment (0 if absent).
    pub fn header_bytes(&self) -> u64 {
        self.fields
            .get("core:header_bytes")
            .and_then(as_count)
            .unwrap_or(0)
    }
}

/// One entry of `annotations`, e.g. a ground-truth jammer episode
/// (CONTRACTS §3: `core:label` `"jammer"` with `ssbguard:type`, `ssbguard:sjnr_db`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// `core:sample_start`: first sample annotated.
    pub sample_start: u64,
    /// `core:sample_count`: samples annotated, if given.
    pub sample_count: Option<u64>,
    /// `core:label`, if given.
    pub label: Option<String>,
    /// Every other key, `core:*` and `ssbguard:*` alike, as found.
    pub fields: Fields,
}

impl Annotation {
    /// An annotation with the three core fields and no others.
    pub fn new(sample_start: u64, sample_count: Option<u64>, label: Option<String>) -> Self {
        Annotation {
            sample_start,
            sample_count,
            label,
            fields: Fields::new(),
        }
    }

    /// Adds (or replaces) one more key, e.g. `("ssbguard:sjnr_db", 18.5.into())`.
    pub fn with_field(mut self, key: impl Into<String>, value: Value) -> Self {
        self.fields.insert(key.into(), value);
        self
    }

    /// One past the last annotated sample (`sample_start` when there is no count).
    pub fn sample_end(&self) -> u64 {
        self.sample_start
            .saturating_add(self.sample_count.unwrap_or(0))
    }
}

/// The contents of a `.sigmf-meta` file (single channel, one recording).
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// `global.core:datatype`.
    pub datatype: DataType,
    /// `global.core:sample_rate`: finite and positive.
    pub sample_rate_hz: f64,
    /// `global.core:version` (a 1.x version, or 0.x from early writers), if present.
    pub version: Option<String>,
    /// `global.core:description`.
    pub description: Option<String>,
    /// `global.core:extensions`: (name, version) of each extension used.
    pub extensions: Vec<(String, String)>,
    /// `captures`, in file order.
    pub captures: Vec<Capture>,
    /// `annotations`, in file order (SigMF asks for ascending `sample_start`; the writer sorts).
    pub annotations: Vec<Annotation>,
    /// Every other `global` key, e.g. `core:license`, `core:sha512`, `core:trailing_bytes`.
    pub global_fields: Fields,
}

/// Longest metadata file [`IqReader`](super::IqReader) will read (64 MiB).
pub const MAX_META_BYTES: u64 = 64 << 20;

impl Meta {
    /// Metadata for a fresh recording: version [`SIGMF_VERSION`], one capture at sample 0.
    pub fn new(datatype: DataType, sample_rate_hz: f64, center_freq_hz: Option<f64>) -> Self {
        Meta {
            datatype,
            sample_rate_hz,
            version: Some(SIGMF_VERSION.to_owned()),
            description: None,
            extensions: Vec::new(),
            captures: vec![Capture::new(0, center_freq_hz)],
            annotations: Vec::new(),
            global_fields: Fields::new(),
        }
    }

    /// Parses SigMF 1.x metadata. Unknown keys are kept; the first problem found is returned.
    pub fn parse(text: &str) -> Result<Meta, MetaError> {
        Meta::parse_bytes(text.as_bytes())
    }

    /// [`Meta::parse`] on bytes straight from a file (invalid UTF-8 is a JSON error).
    pub fn parse_bytes(bytes: &[u8]) -> Result<Meta, MetaError> {
        let root: Value = serde_json::from_slice(bytes).map_err(json_error)?;
        let Value::Object(mut root) = root else {
            return Err(invalid("(top level)", &root, "a JSON object"));
        };
        let global = match root.remove("global") {
            Some(Value::Object(g)) => g,
            Some(other) => return Err(invalid("global", &other, "an object")),
            None => return Err(missing("global")),
        };
        let mut meta = parse_global(global)?;
        meta.captures = parse_array(root.remove("captures"), "captures", parse_capture)?;
        for (i, c) in meta.captures.iter().enumerate().skip(1) {
            if c.header_bytes() != 0 {
                return Err(MetaError::InvalidField {
                    field: format!("captures[{i}].core:header_bytes"),
                    value: c.header_bytes().to_string(),
                    allowed: "0 (header bytes are supported before the first capture only)"
                        .to_owned(),
                });
            }
        }
        meta.annotations =
            parse_array(root.remove("annotations"), "annotations", parse_annotation)?;
        Ok(meta)
    }

    /// Pretty-printed SigMF JSON (`global`, `captures`, `annotations`, in that order; keys
    /// inside each object sorted), ending in a newline. [`Meta::parse`] gives back `self`.
    pub fn to_json_string(&self) -> String {
        let mut global = self.global_fields.clone();
        global.insert("core:datatype".into(), self.datatype.sigmf_name().into());
        global.insert("core:sample_rate".into(), self.sample_rate_hz.into());
        if let Some(v) = &self.version {
            global.insert("core:version".into(), v.as_str().into());
        }
        if let Some(d) = &self.description {
            global.insert("core:description".into(), d.as_str().into());
        }
        if !self.extensions.is_empty() {
            let ext = self
                .extensions
                .iter()
                .map(|(name, version)| {
                    serde_json::json!({"name": name, "version": version, "optional": true})
                })
                .collect();
            global.insert("core:extensions".into(), Value::Array(ext));
        }
        let captures: Vec<Value> = self
            .captures
            .iter()
            .map(|c| {
                let mut o = c.fields.clone();
                o.insert("core:sample_start".into(), c.sample_start.into());
                if let Some(f) = c.frequency_hz {
                    o.insert("core:frequency".into(), f.into());
                }
                if let Some(t) = &c.datetime {
                    o.insert("core:datetime".into(), t.as_str().into());
                }
                Value::Object(o)
            })
            .collect();
        let annotations: Vec<Value> = self
            .annotations
            .iter()
            .map(|a| {
                let mut o = a.fields.clone();
                o.insert("core:sample_start".into(), a.sample_start.into());
                if let Some(n) = a.sample_count {
                    o.insert("core:sample_count".into(), n.into());
                }
                if let Some(l) = &a.label {
                    o.insert("core:label".into(), l.as_str().into());
                }
                Value::Object(o)
            })
            .collect();
        // `{:#}` is serde_json's infallible pretty printer; nested lines are indented one
        // more level (JSON strings never hold a raw newline, so this cannot touch data).
        let nest = |v: Value| format!("{v:#}").replace('\n', "\n  ");
        format!(
            "{{\n  \"global\": {},\n  \"captures\": {},\n  \"annotations\": {}\n}}\n",
            nest(Value::Object(global)),
            nest(Value::Array(captures)),
            nest(Value::Array(annotations)),
        )
    }

    /// Centre frequency of the first capture, if recorded.
    pub fn center_freq_hz(&self) -> Option<f64> {
        self.captures.first().and_then(|c| c.frequency_hz)
    }

    /// Bytes to skip at the start of the data file (`core:header_bytes` of the first capture).
    pub fn header_bytes(&self) -> u64 {
        self.captures.first().map_or(0, Capture::header_bytes)
    }

    /// Bytes to ignore at the end of the data file (`global.core:trailing_bytes`).
    pub fn trailing_bytes(&self) -> u64 {
        self.global_fields
            .get("core:trailing_bytes")
            .and_then(as_count)
            .unwrap_or(0)
    }

    /// `global.core:dataset`: the data file's name when it is not `X.sigmf-data`.
    pub fn dataset(&self) -> Option<&str> {
        self.global_fields
            .get("core:dataset")
            .and_then(Value::as_str)
    }
}

fn json_error(e: serde_json::Error) -> MetaError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    MetaError::Json {
        line: e.line(),
        column: e.column(),
        message,
    }
}

fn missing(field: impl Into<String>) -> MetaError {
    MetaError::MissingField {
        field: field.into(),
    }
}

fn invalid(field: impl Into<String>, value: &Value, allowed: &str) -> MetaError {
    const MAX: usize = 60;
    let mut shown = value.to_string();
    if shown.chars().count() > MAX {
        shown = shown.chars().take(MAX).collect::<String>() + "...";
    }
    MetaError::InvalidField {
        field: field.into(),
        value: shown,
        allowed: allowed.to_owned(),
    }
}

/// A non-negative integer; integral floats such as `1024.0` are accepted too.
fn as_count(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let f = v.as_f64()?;
    // 2^53: above it a float no longer names one integer.
    (f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0).then_some(f as u64)
}

fn take_count(o: &mut Fields, key: &str, ctx: &str) -> Result<Option<u64>, MetaError> {
    match o.remove(key) {
        None => Ok(None),
        Some(v) => as_count(&v)
            .map(Some)
            .ok_or_else(|| invalid(format!("{ctx}.{key}"), &v, "a non-negative integer")),
    }
}

fn take_string(o: &mut Fields, key: &str, ctx: &str) -> Result<Option<String>, MetaError> {
    match o.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(invalid(format!("{ctx}.{key}"), &v, "a string")),
    }
}

fn take_finite(o: &mut Fields, key: &str, ctx: &str) -> Result<Option<f64>, MetaError> {
    match o.remove(key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(f) if f.is_finite() => Ok(Some(f)),
            _ => Err(invalid(format!("{ctx}.{key}"), &v, "a finite number")),
        },
    }
}

/// Checks a count-valued key but leaves it in the map (kept verbatim on output).
fn check_count(o: &Fields, key: &str, ctx: &str) -> Result<(), MetaError> {
    match o.get(key) {
        Some(v) if as_count(v).is_none() => {
            Err(invalid(format!("{ctx}.{key}"), v, "a non-negative integer"))
        }
        _ => Ok(()),
    }
}

fn parse_global(mut g: Fields) -> Result<Meta, MetaError> {
    const CTX: &str = "global";
    let datatype = match g.remove("core:datatype") {
        None => return Err(missing("global.core:datatype")),
        Some(Value::String(s)) => s
            .parse::<DataType>()
            .map_err(|_| MetaError::UnknownDatatype { value: s })?,
        Some(v) => return Err(invalid("global.core:datatype", &v, "a string")),
    };
    let sample_rate_hz = match g.remove("core:sample_rate") {
        None => return Err(missing("global.core:sample_rate")),
        Some(v) => match v.as_f64() {
            Some(f) if f.is_finite() && f > 0.0 => f,
            _ => {
                return Err(invalid(
                    "global.core:sample_rate",
                    &v,
                    "a finite number > 0 (samples per second)",
                ));
            }
        },
    };
    let version = take_string(&mut g, "core:version", CTX)?;
    if let Some(v) = &version {
        let major = v.split('.').next().and_then(|m| m.parse::<u32>().ok());
        if !matches!(major, Some(0 | 1)) {
            return Err(invalid(
                "global.core:version",
                &Value::String(v.clone()),
                "a SigMF 1.x version such as \"1.2.0\"",
            ));
        }
    }
    let description = take_string(&mut g, "core:description", CTX)?;
    let extensions = match g.remove("core:extensions") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| parse_extension(i, item))
            .collect::<Result<_, _>>()?,
        Some(v) => {
            return Err(invalid(
                "global.core:extensions",
                &v,
                "an array of {\"name\", \"version\", \"optional\"} objects",
            ));
        }
    };
    if let Some(v) = g.get("core:num_channels")
        && as_count(v) != Some(1)
    {
        return Err(invalid(
            "global.core:num_channels",
            v,
            "1 (multi-channel recordings are not supported)",
        ));
    }
    check_count(&g, "core:trailing_bytes", CTX)?;
    if let Some(v) = g.get("core:dataset") {
        let ok = v
            .as_str()
            .is_some_and(|s| !s.is_empty() && !s.contains(['/', '\\']) && s != "." && s != "..");
        if !ok {
            return Err(invalid(
                "global.core:dataset",
                v,
                "a file name in the metadata's folder",
            ));
        }
    }
    Ok(Meta {
        datatype,
        sample_rate_hz,
        version,
        description,
        extensions,
        captures: Vec::new(),
        annotations: Vec::new(),
        global_fields: g,
    })
}

fn parse_extension(i: usize, item: Value) -> Result<(String, String), MetaError> {
    let ctx = format!("global.core:extensions[{i}]");
    let Value::Object(mut o) = item else {
        return Err(invalid(
            ctx,
            &item,
            "an object with \"name\" and \"version\"",
        ));
    };
    let name = take_string(&mut o, "name", &ctx)?.ok_or_else(|| missing(format!("{ctx}.name")))?;
    let version =
        take_string(&mut o, "version", &ctx)?.ok_or_else(|| missing(format!("{ctx}.version")))?;
    Ok((name, version))
}

fn parse_array<T>(
    v: Option<Value>,
    name: &str,
    item: impl Fn(&str, Fields) -> Result<T, MetaError>,
) -> Result<Vec<T>, MetaError> {
    let items = match v {
        // Both arrays are required by SigMF but may be empty; a missing one is read as empty.
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(invalid(name, &other, "an array of objects")),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let ctx = format!("{name}[{i}]");
            match v {
                Value::Object(o) => item(&ctx, o),
                other => Err(invalid(ctx, &other, "an object")),
            }
        })
        .collect()
}

fn parse_capture(ctx: &str, mut o: Fields) -> Result<Capture, MetaError> {
    let sample_start = take_count(&mut o, "core:sample_start", ctx)?
        .ok_or_else(|| missing(format!("{ctx}.core:sample_start")))?;
    let frequency_hz = take_finite(&mut o, "core:frequency", ctx)?;
    let datetime = take_string(&mut o, "core:datetime", ctx)?;
    check_count(&o, "core:header_bytes", ctx)?;
    Ok(Capture {
        sample_start,
        frequency_hz,
        datetime,
        fields: o,
    })
}

fn parse_annotation(ctx: &str, mut o: Fields) -> Result<Annotation, MetaError> {
    let sample_start = take_count(&mut o, "core:sample_start", ctx)?
        .ok_or_else(|| missing(format!("{ctx}.core:sample_start")))?;
    let sample_count = take_count(&mut o, "core:sample_count", ctx)?;
    if let Some(n) = sample_count
        && sample_start.checked_add(n).is_none()
    {
        return Err(invalid(
            format!("{ctx}.core:sample_count"),
            &Value::from(n),
            "a count that does not overflow core:sample_start + core:sample_count",
        ));
    }
    let label = take_string(&mut o, "core:label", ctx)?;
    Ok(Annotation {
        sample_start,
        sample_count,
        label,
        fields: o,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GOOD: &str = r#"{
      "global": {"core:datatype": "ci16_le", "core:sample_rate": 23040000.0,
                 "core:version": "1.0.0", "core:description": "test",
                 "core:license": "MIT", "core:trailing_bytes": 0,
                 "core:extensions": [{"name": "ssbguard", "version": "0.1.0", "optional": true}]},
      "captures": [{"core:sample_start": 0, "core:frequency": 3.5e9,
                    "core:datetime": "2026-01-01T00:00:00Z", "core:global_index": 7}],
      "annotations": [
        {"core:sample_start": 100, "core:sample_count": 50, "core:label": "jammer",
         "ssbguard:type": "tone", "ssbguard:sjnr_db": 18.5, "ssbguard:jnr_db": 6.2},
        {"core:sample_start": 10, "core:comment": "no count, no label"}
      ],
      "future": 1
    }"#;

    fn with_global(global: Value) -> String {
        json!({"global": global, "captures": [], "annotations": []}).to_string()
    }

    fn field_error(text: &str) -> (String, String, String) {
        match Meta::parse(text) {
            Err(MetaError::InvalidField {
                field,
                value,
                allowed,
            }) => (field, value, allowed),
            other => panic!("expected InvalidField, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_field() {
        let m = Meta::parse(GOOD).unwrap();
        assert_eq!(m.datatype, DataType::Ci16Le);
        assert_eq!(m.sample_rate_hz, 23.04e6);
        assert_eq!(m.version.as_deref(), Some("1.0.0"));
        assert_eq!(m.description.as_deref(), Some("test"));
        assert_eq!(m.extensions, [("ssbguard".into(), "0.1.0".into())]);
        assert_eq!(m.global_fields.get("core:license"), Some(&json!("MIT")));
        assert_eq!(m.center_freq_hz(), Some(3.5e9));
        assert_eq!(
            m.captures[0].datetime.as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            m.captures[0].fields.get("core:global_index"),
            Some(&json!(7))
        );
        let a = &m.annotations[0];
        assert_eq!((a.sample_start, a.sample_count), (100, Some(50)));
        assert_eq!(a.label.as_deref(), Some("jammer"));
        assert_eq!(a.sample_end(), 150);
        assert_eq!(a.fields.len(), 3);
        assert_eq!(a.fields.get("ssbguard:sjnr_db"), Some(&json!(18.5)));
        let b = &m.annotations[1];
        assert_eq!(
            (b.sample_start, b.sample_count, &b.label),
            (10, None, &None)
        );
        assert_eq!(
            b.fields.get("core:comment"),
            Some(&json!("no count, no label"))
        );
    }

    #[test]
    fn round_trips() {
        let m = Meta::parse(GOOD).unwrap();
        let text = m.to_json_string();
        assert!(text.starts_with("{\n  \"global\": {\n    \""), "{text}");
        assert!(text.ends_with("}\n"));
        assert_eq!(Meta::parse(&text).unwrap(), m);

        let mut fresh = Meta::new(DataType::Cf32Le, 1.0e6, None);
        fresh.annotations.push(
            Annotation::new(0, Some(1), Some("cell".into()))
                .with_field("ssbguard:pci", json!(500))
                .with_field("note", json!("line1\nline2 \"quoted\"")),
        );
        assert_eq!(Meta::parse(&fresh.to_json_string()).unwrap(), fresh);
        assert_eq!(fresh.version.as_deref(), Some(SIGMF_VERSION));
    }

    #[test]
    fn minimal_meta_without_arrays() {
        let m =
            Meta::parse(r#"{"global":{"core:datatype":"cu8","core:sample_rate":2.4e6}}"#).unwrap();
        assert_eq!(m.datatype, DataType::Cu8);
        assert!(m.captures.is_empty() && m.annotations.is_empty());
        assert_eq!((m.center_freq_hz(), &m.version), (None, &None));
        assert_eq!(
            (m.header_bytes(), m.trailing_bytes(), m.dataset()),
            (0, 0, None)
        );
    }

    #[test]
    fn garbage_is_a_json_error_with_position() {
        for (text, line, column) in [
            ("", 1, 0),
            ("garbage", 1, 1),
            ("{\n  \"global\": {,}\n}", 2, 14),
            ("{\"global\": {}} trailing", 1, 16),
        ] {
            match Meta::parse(text) {
                Err(MetaError::Json {
                    line: l,
                    column: c,
                    message,
                }) => {
                    assert_eq!((l, c), (line, column), "{text:?}: {message}");
                    assert!(!message.contains("at line"), "{message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let err = Meta::parse_bytes(b"{\"global\": \"\xff\"}").unwrap_err();
        assert!(matches!(err, MetaError::Json { .. }), "{err:?}");
    }

    #[test]
    fn missing_fields_are_named() {
        for (text, field) in [
            ("{}", "global"),
            (
                &with_global(json!({"core:sample_rate": 1.0})),
                "global.core:datatype",
            ),
            (
                &with_global(json!({"core:datatype": "cf32_le"})),
                "global.core:sample_rate",
            ),
            (
                r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":1},"captures":[{"core:frequency":1}]}"#,
                "captures[0].core:sample_start",
            ),
            (
                r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":1},"annotations":[{"core:sample_start":0},{}]}"#,
                "annotations[1].core:sample_start",
            ),
            (
                &with_global(json!({"core:datatype": "cf32_le", "core:sample_rate": 1,
                    "core:extensions": [{"name": "x"}]})),
                "global.core:extensions[0].version",
            ),
        ] {
            let err = Meta::parse(text).unwrap_err();
            assert_eq!(
                err,
                MetaError::MissingField {
                    field: field.into()
                },
                "{text}"
            );
            assert_eq!(err.to_string(), format!("missing required field {field}"));
        }
    }

    #[test]
    fn invalid_fields_say_what_is_allowed() {
        let g = |extra: Value| {
            let mut o = json!({"core:datatype": "cf32_le", "core:sample_rate": 1e6});
            for (k, v) in extra.as_object().unwrap() {
                o[k] = v.clone();
            }
            with_global(o)
        };
        let cases = [
            (
                g(json!({"core:sample_rate": 0})),
                "global.core:sample_rate",
                "0",
            ),
            (
                g(json!({"core:sample_rate": -5.0})),
                "global.core:sample_rate",
                "-5.0",
            ),
            (
                g(json!({"core:sample_rate": "fast"})),
                "global.core:sample_rate",
                "\"fast\"",
            ),
            (g(json!({"core:datatype": 5})), "global.core:datatype", "5"),
            (
                g(json!({"core:version": "2.0.0"})),
                "global.core:version",
                "\"2.0.0\"",
            ),
            (g(json!({"core:version": 1})), "global.core:version", "1"),
            (
                g(json!({"core:description": []})),
                "global.core:description",
                "[]",
            ),
            (
                g(json!({"core:num_channels": 2})),
                "global.core:num_channels",
                "2",
            ),
            (
                g(json!({"core:trailing_bytes": -1})),
                "global.core:trailing_bytes",
                "-1",
            ),
            (
                g(json!({"core:dataset": "../x"})),
                "global.core:dataset",
                "\"../x\"",
            ),
            (
                g(json!({"core:extensions": {}})),
                "global.core:extensions",
                "{}",
            ),
            (
                g(json!({"core:extensions": [3]})),
                "global.core:extensions[0]",
                "3",
            ),
            (json!({"global": 1}).to_string(), "global", "1"),
            (json!([1]).to_string(), "(top level)", "[1]"),
        ];
        for (text, field, value) in cases {
            let (f, v, allowed) = field_error(&text);
            assert_eq!((f.as_str(), v.as_str()), (field, value), "{text}");
            assert!(!allowed.is_empty());
        }
        let arr = |name: &str, item: Value| {
            let mut o = json!({"global": {"core:datatype": "ci8", "core:sample_rate": 1}});
            o[name] = item;
            o.to_string()
        };
        let cases = [
            (arr("captures", json!({})), "captures", "{}"),
            (arr("captures", json!([1])), "captures[0]", "1"),
            (
                arr("captures", json!([{"core:sample_start": -1}])),
                "captures[0].core:sample_start",
                "-1",
            ),
            (
                arr("captures", json!([{"core:sample_start": 1.5}])),
                "captures[0].core:sample_start",
                "1.5",
            ),
            (
                arr(
                    "captures",
                    json!([{"core:sample_start": 0, "core:frequency": "x"}]),
                ),
                "captures[0].core:frequency",
                "\"x\"",
            ),
            (
                arr(
                    "captures",
                    json!([{"core:sample_start": 0, "core:header_bytes": "8"}]),
                ),
                "captures[0].core:header_bytes",
                "\"8\"",
            ),
            (
                arr(
                    "captures",
                    json!([{"core:sample_start": 0}, {"core:sample_start": 9, "core:header_bytes": 8}]),
                ),
                "captures[1].core:header_bytes",
                "8",
            ),
            (
                arr(
                    "annotations",
                    json!([{"core:sample_start": 0, "core:label": 3}]),
                ),
                "annotations[0].core:label",
                "3",
            ),
            (
                arr(
                    "annotations",
                    json!([{"core:sample_start": 2, "core:sample_count": u64::MAX}]),
                ),
                "annotations[0].core:sample_count",
                "18446744073709551615",
            ),
        ];
        for (text, field, value) in cases {
            let (f, v, _) = field_error(&text);
            assert_eq!((f.as_str(), v.as_str()), (field, value), "{text}");
        }
        let (_, _, allowed) = field_error(&g(json!({"core:sample_rate": 0})));
        let msg = Meta::parse(&g(json!({"core:sample_rate": 0})))
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            format!("invalid global.core:sample_rate = 0: expected {allowed}")
        );
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(500);
        let (_, v, _) = field_error(&with_global(
            json!({"core:datatype": "cf32_le", "core:sample_rate": long}),
        ));
        assert!(v.len() < 80 && v.ends_with("..."), "{v}");
    }

    #[test]
    fn unknown_datatype_lists_supported() {
        let text = with_global(json!({"core:datatype": "cf64_le", "core:sample_rate": 1}));
        let err = Meta::parse(&text).unwrap_err();
        assert_eq!(
            err,
            MetaError::UnknownDatatype {
                value: "cf64_le".into()
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("\"cf64_le\"") && msg.contains("ci16_le"),
            "{msg}"
        );
    }

    #[test]
    fn lenient_where_harmless() {
        let text = json!({"global": {"core:datatype": "ci8_le", "core:sample_rate": 1,
            "core:version": "0.0.2", "core:num_channels": 1, "core:dataset": "x.bin"},
            "captures": [{"core:sample_start": 0.0, "core:header_bytes": 16.0}],
            "annotations": null})
        .to_string();
        let m = Meta::parse(&text).unwrap();
        assert_eq!(m.datatype, DataType::Ci8);
        assert_eq!(m.captures[0].sample_start, 0);
        assert_eq!(m.header_bytes(), 16);
        assert_eq!(m.dataset(), Some("x.bin"));
    }
}
