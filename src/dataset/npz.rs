//! A minimal `.npz` writer: NumPy `.npy` v1.0 arrays in an uncompressed (stored) ZIP.
//! `numpy.load` reads it. No dependency: the format is a fixed header, raw little-endian
//! data, and the ZIP local/central headers with a CRC-32.

use std::io::{self, Write};

/// Element types we write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `<f4`.
    F32,
    /// `<f2` (IEEE half, stored as its bits).
    F16,
    /// `<u8` (uint64).
    U64,
    /// `|i1`.
    I8,
    /// `|u1`.
    U8,
}

impl Dtype {
    fn descr(self) -> &'static str {
        match self {
            Dtype::F32 => "<f4",
            Dtype::F16 => "<f2",
            Dtype::U64 => "<u8",
            Dtype::I8 => "|i1",
            Dtype::U8 => "|u1",
        }
    }
    fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 => 2,
            Dtype::U64 => 8,
            Dtype::I8 | Dtype::U8 => 1,
        }
    }
}

/// The `.npy` bytes of an array of `shape` whose little-endian data is `data`.
pub fn npy_bytes(dtype: Dtype, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let n: usize = shape.iter().product();
    assert_eq!(
        n * dtype.size(),
        data.len(),
        "npy: data does not match shape"
    );
    let shape_s = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
        dtype.descr(),
        shape_s
    );
    // Magic (6) + version (2) + header length (2) + header, padded to 64 with '\n' last.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// CRC-32 (IEEE 802.3, reflected, as ZIP uses).
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = t[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// f32 → IEEE half bits, round to nearest even; overflow → ±inf, NaN kept.
pub fn f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xFF) as i32;
    let man = b & 0x7F_FFFF;
    if exp == 0xFF {
        return sign | 0x7C00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1F {
        return sign | 0x7C00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        // Subnormal half: shift the full mantissa (with the implicit 1) into place.
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = m >> shift;
        let rem = m & ((1 << shift) - 1);
        let mid = 1 << (shift - 1);
        let round = rem > mid || (rem == mid && half & 1 == 1);
        return sign | (half + round as u32) as u16;
    }
    let half = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1FFF;
    let round = rem > 0x1000 || (rem == 0x1000 && half & 1 == 1);
    // A carry out of the mantissa correctly bumps the exponent (up to inf).
    sign | (half + round as u32) as u16
}

/// Collects arrays, then writes them as one `.npz`.
#[derive(Default)]
pub struct NpzWriter {
    entries: Vec<(String, Vec<u8>)>,
}

impl NpzWriter {
    /// Empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds array `name` (stored as `name.npy`).
    pub fn add(&mut self, name: &str, dtype: Dtype, shape: &[usize], data: &[u8]) {
        self.entries
            .push((format!("{name}.npy"), npy_bytes(dtype, shape, data)));
    }

    /// Adds an f32 array.
    pub fn add_f32(&mut self, name: &str, shape: &[usize], v: &[f32]) {
        let data: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.add(name, Dtype::F32, shape, &data);
    }

    /// Adds an f16 array given as half bits.
    pub fn add_f16_bits(&mut self, name: &str, shape: &[usize], v: &[u16]) {
        let data: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.add(name, Dtype::F16, shape, &data);
    }

    /// Adds a u64 array.
    pub fn add_u64(&mut self, name: &str, v: &[u64]) {
        let data: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.add(name, Dtype::U64, &[v.len()], &data);
    }

    /// Adds an i8 array.
    pub fn add_i8(&mut self, name: &str, v: &[i8]) {
        let data: Vec<u8> = v.iter().map(|x| *x as u8).collect();
        self.add(name, Dtype::I8, &[v.len()], &data);
    }

    /// Adds a u8 array.
    pub fn add_u8(&mut self, name: &str, v: &[u8]) {
        self.add(name, Dtype::U8, &[v.len()], v);
    }

    /// Writes the archive (stored entries; every entry and the archive < 4 GiB).
    pub fn write<W: Write>(&self, mut w: W) -> io::Result<()> {
        let mut central = Vec::new();
        let mut offset: u64 = 0;
        let too_big = || io::Error::new(io::ErrorKind::InvalidInput, "npz larger than 4 GiB");
        for (name, data) in &self.entries {
            let crc = crc32(data);
            let size = u32::try_from(data.len()).map_err(|_| too_big())?;
            let off32 = u32::try_from(offset).map_err(|_| too_big())?;
            let mut local = Vec::with_capacity(30 + name.len());
            local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            local.extend_from_slice(&20u16.to_le_bytes()); // version needed
            local.extend_from_slice(&0u16.to_le_bytes()); // flags
            local.extend_from_slice(&0u16.to_le_bytes()); // stored
            local.extend_from_slice(&0u16.to_le_bytes()); // time
            local.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            local.extend_from_slice(&crc.to_le_bytes());
            local.extend_from_slice(&size.to_le_bytes());
            local.extend_from_slice(&size.to_le_bytes());
            local.extend_from_slice(&(name.len() as u16).to_le_bytes());
            local.extend_from_slice(&0u16.to_le_bytes());
            local.extend_from_slice(name.as_bytes());
            w.write_all(&local)?;
            w.write_all(data)?;
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            central.extend_from_slice(&20u16.to_le_bytes()); // made by
            central.extend_from_slice(&local[4..30]);
            central.extend_from_slice(&0u16.to_le_bytes()); // comment
            central.extend_from_slice(&0u16.to_le_bytes()); // disk
            central.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
            central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
            central.extend_from_slice(&off32.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
            offset += local.len() as u64 + data.len() as u64;
        }
        let cd_off = u32::try_from(offset).map_err(|_| too_big())?;
        w.write_all(&central)?;
        let n = self.entries.len() as u16;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&n.to_le_bytes());
        end.extend_from_slice(&n.to_le_bytes());
        end.extend_from_slice(&(central.len() as u32).to_le_bytes());
        end.extend_from_slice(&cd_off.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        w.write_all(&end)?;
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn f16_matches_known_encodings() {
        for (x, bits) in [
            (0.0f32, 0x0000u16),
            (-0.0, 0x8000),
            (1.0, 0x3C00),
            (-2.0, 0xC000),
            (0.5, 0x3800),
            (65504.0, 0x7BFF),
            (65520.0, 0x7C00), // rounds to inf
            (1.0e-7, 0x0002),  // subnormal: 1e-7 / 2^-24 = 1.68 → 2
            (5.960_464_5e-8, 0x0001),
            (0.333_333_34, 0x3555),
            (f32::INFINITY, 0x7C00),
        ] {
            assert_eq!(f16_bits(x), bits, "{x}");
        }
        assert_eq!(f16_bits(f32::NAN) & 0x7C00, 0x7C00);
        assert_ne!(f16_bits(f32::NAN) & 0x3FF, 0);
    }

    #[test]
    fn npy_header_is_aligned_and_parsable() {
        let b = npy_bytes(Dtype::F32, &[2, 3], &[0u8; 24]);
        assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
        let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hl) % 64, 0);
        let h = std::str::from_utf8(&b[10..10 + hl]).unwrap();
        assert!(h.contains("'shape': (2, 3)"), "{h}");
        assert!(h.ends_with('\n'));
        assert_eq!(b.len(), 10 + hl + 24);
        let b1 = npy_bytes(Dtype::U8, &[5], &[1u8; 5]);
        let hl = u16::from_le_bytes([b1[8], b1[9]]) as usize;
        assert!(
            std::str::from_utf8(&b1[10..10 + hl])
                .unwrap()
                .contains("(5,)")
        );
    }

    #[test]
    fn zip_directory_points_at_the_entries() {
        let mut z = NpzWriter::new();
        z.add_u8("a", &[1, 2, 3]);
        z.add_f32("b", &[2], &[1.0, 2.0]);
        let mut buf = Vec::new();
        z.write(&mut buf).unwrap();
        let end = buf.len() - 22;
        assert_eq!(&buf[end..end + 4], &0x0605_4b50u32.to_le_bytes());
        let n = u16::from_le_bytes([buf[end + 10], buf[end + 11]]);
        assert_eq!(n, 2);
        let cd = u32::from_le_bytes(buf[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(&buf[cd..cd + 4], &0x0201_4b50u32.to_le_bytes());
        // Second central entry's local header offset points at a local header whose
        // stored data has the recorded CRC.
        let name_len = u16::from_le_bytes([buf[cd + 28], buf[cd + 29]]) as usize;
        let cd2 = cd + 46 + name_len;
        let off = u32::from_le_bytes(buf[cd2 + 42..cd2 + 46].try_into().unwrap()) as usize;
        assert_eq!(&buf[off..off + 4], &0x0403_4b50u32.to_le_bytes());
        let size = u32::from_le_bytes(buf[off + 18..off + 22].try_into().unwrap()) as usize;
        let nl = u16::from_le_bytes([buf[off + 26], buf[off + 27]]) as usize;
        let data = &buf[off + 30 + nl..off + 30 + nl + size];
        let crc = u32::from_le_bytes(buf[off + 14..off + 18].try_into().unwrap());
        assert_eq!(crc32(data), crc);
        assert_eq!(&buf[off + 30..off + 30 + nl], b"b.npy");
    }
}
