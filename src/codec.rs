//! A tiny binary encoding for orchestra's caches (fingerprints, plan cache): varints, byte strings and
//! 32-byte hashes. Decoding never panics: any malformed input is `None`,
//! which callers treat as "no cache".

/// Appends values to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) bytes: Vec<u8>,
}

impl Writer {
    pub(crate) fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            // Truncation is the point: seven bits at a time.
            #[allow(clippy::cast_possible_truncation)]
            self.bytes.push((v as u8) | 0x80);
            v >>= 7;
        }
        #[allow(clippy::cast_possible_truncation)]
        self.bytes.push(v as u8);
    }

    pub(crate) fn i64(&mut self, v: i64) {
        // Zig-zag so small negatives stay small.
        #[allow(clippy::cast_sign_loss)]
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.bytes.extend_from_slice(b);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub(crate) fn hash(&mut self, h: &[u8; 32]) {
        self.bytes.extend_from_slice(h);
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.bytes.push(u8::from(b));
    }
}

/// Reads values back; every method returns `None` past the end or on a
/// malformed value.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.rest.split_first()?;
            self.rest = rest;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    pub(crate) fn i64(&mut self) -> Option<i64> {
        let v = self.u64()?;
        #[allow(clippy::cast_possible_wrap)]
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A length, checked against what is left so a corrupt length cannot
    /// make us allocate gigabytes.
    pub(crate) fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.rest.len()).then_some(n)
    }

    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(head)
    }

    pub(crate) fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    pub(crate) fn hash(&mut self) -> Option<[u8; 32]> {
        let head = self.rest.get(..32)?;
        let hash = head.try_into().ok()?;
        self.rest = &self.rest[32..];
        Some(hash)
    }

    pub(crate) fn bool(&mut self) -> Option<bool> {
        let (&byte, rest) = self.rest.split_first()?;
        self.rest = rest;
        match byte {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// A count of items that each take at least one byte.
    pub(crate) fn count(&mut self) -> Option<usize> {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let mut w = Writer::default();
        for v in [0, 1, 127, 128, 300, u64::MAX] {
            w.u64(v);
        }
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            w.i64(v);
        }
        w.str("héllo");
        w.hash(&[7; 32]);
        w.bool(true);
        let mut r = Reader::new(&w.bytes);
        for v in [0, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(r.u64(), Some(v));
        }
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(r.i64(), Some(v));
        }
        assert_eq!(r.str(), Some("héllo"));
        assert_eq!(r.hash(), Some([7; 32]));
        assert_eq!(r.bool(), Some(true));
        assert!(r.is_empty());
        assert_eq!(r.u64(), None);
    }

    #[test]
    fn malformed_input_is_none_not_a_panic() {
        assert_eq!(Reader::new(&[0xff; 20]).u64(), None);
        assert_eq!(Reader::new(&[0xff, 0xff, 0xff, 0x0f]).bytes(), None);
        assert_eq!(Reader::new(&[2, 0xff, 0xfe]).str(), None);
        assert_eq!(Reader::new(&[1; 31]).hash(), None);
        assert_eq!(Reader::new(&[9]).bool(), None);
    }
}
