//! UTF-8 checked, and turned into the UTF-16 that JS strings are made of, by simdutf (a library
//! Node also bundles; its `Buffer#toString('utf8')` decodes tweets 6× slower here), with runtime
//! CPU dispatch (AVX-512, AVX2, SSE4.2, or a portable fallback), so one build runs at its best on
//! any x86_64. Used on the worker and, for text mode's non-ASCII chunks, on the JS thread
//! (`ndjson_decode_utf8`).
//!
//! Why: on tweets (mostly Japanese text: a non-ASCII byte in 2) `str::from_utf8` and a scalar
//! UTF-8 → UTF-16 loop were 44 % of the worker's time, 0.65–0.74 GB/s in all. simdutf checks and
//! converts those lines several times faster (`worker_speed` figures in the README).
//!
//! Invariant: every answer here is the one `std` gives — `str::from_utf8` decides validity (RFC
//! 3629: no overlong forms, no surrogates, nothing above U+10FFFF) and locates the first bad byte;
//! `str::encode_utf16` is the conversion. The tests below hold simdutf to both on arbitrary input.

/// Where the first invalid UTF-8 sequence of `text` starts, or `None` if it is all valid.
#[inline]
pub(crate) fn invalid_at(text: &[u8]) -> Option<usize> {
  if simdutf::validate_utf8(text) {
    return None;
  }
  // simdutf only answers yes or no; `std` says where (rare: a line that is about to be reported).
  std::str::from_utf8(text).err().map(|e| e.valid_up_to())
}

/// Appends `text` to `out` as UTF-16. `text` must be valid UTF-8: its callers pass lines that
/// `Validator::check` accepted (`invalid_at` above), or that the shaper parsed whole (its strings
/// checked byte by byte against RFC 3629's table, a property test holding it to the validator),
/// or what `where`/`select` projected from such lines, or a Json batch of them joined by ASCII
/// punctuation.
pub(crate) fn utf16_into(text: &[u8], out: &mut Vec<u16>) {
  debug_assert!(
    std::str::from_utf8(text).is_ok(),
    "utf16_into given invalid UTF-8"
  );
  let start = out.len();
  out.reserve(text.len());
  // SAFETY: `text` is valid UTF-8 (the precondition above), so the conversion writes exactly
  // `utf16_length_from_utf8(text)` units — one per scalar of 1–3 bytes, two per 4-byte scalar,
  // never more than `text.len()` — and simdutf asks for a buffer that holds that result;
  // `reserve` made room for `text.len()` units after `start`. It returns how many it wrote, all
  // initialised, so `set_len` covers only those. (The validating conversion is used, at the
  // same speed, so that a broken precondition returns 0 below instead of converting garbage.)
  let written = unsafe {
    let n = simdutf::convert_utf8_to_utf16(text.as_ptr(), text.len(), out.as_mut_ptr().add(start));
    out.set_len(start + n);
    n
  };
  if written == 0 && !text.is_empty() {
    // Not valid after all (only a broken precondition gets here): the text is kept, its bad
    // bytes as U+FFFD, rather than lost.
    out.extend(String::from_utf8_lossy(text).encode_utf16());
  }
}

/// How many UTF-16 units valid UTF-8 `text` makes: one per scalar, two for 4-byte sequences.
#[inline]
pub(crate) fn utf16_len(text: &[u8]) -> u32 {
  simdutf::utf16_length_from_utf8(text) as u32
}

#[cfg(test)]
mod tests {
  use super::*;
  use proptest::prelude::*;

  const TEXTS: [&str; 8] = [
    "",
    "ascii only",
    "é",
    "日本語の文章 and ascii",
    "😀𝄞 astral",
    "aé日😀z",
    "\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}",
    "a long run of ascii, longer than any vector register, then é, then more ascii again ……",
  ];

  #[test]
  fn utf16_into_agrees_with_encode_utf16() {
    for text in TEXTS {
      let mut out = vec![1, 2];
      utf16_into(text.as_bytes(), &mut out);
      let expected: Vec<u16> = [1, 2].into_iter().chain(text.encode_utf16()).collect();
      assert_eq!(out, expected, "{text:?}");
      assert_eq!(
        utf16_len(text.as_bytes()) as usize,
        text.encode_utf16().count()
      );
    }
  }

  #[test]
  fn invalid_at_names_the_first_bad_byte() {
    let cases: [(&[u8], Option<usize>); 7] = [
      (b"ok", None),
      (b"a\xFFb", Some(1)),
      (b"\xC0\xAF", Some(0)), // overlong '/'
      ("é".as_bytes(), None),
      (b"ab\xED\xA0\x80", Some(2)),       // an encoded surrogate
      (b"abc\xF4\x90\x80\x80", Some(3)),  // above U+10FFFF
      (b"\xE6\x97\xA5\xE6\x9C", Some(3)), // cut short
    ];
    for (text, at) in cases {
      assert_eq!(invalid_at(text), at, "{text:?}");
    }
  }

  // Inputs up to several hundred bytes: simdutf works in blocks of 64, and the errors and
  // conversions that matter are those inside or across later blocks.
  proptest! {
    #[test]
    fn invalid_at_agrees_with_std(text in proptest::collection::vec(any::<u8>(), 0..1000)) {
      prop_assert_eq!(invalid_at(&text), std::str::from_utf8(&text).err().map(|e| e.valid_up_to()));
    }

    #[test]
    fn near_valid_text_too(text in ".{0,400}", at in any::<prop::sample::Index>(), byte in any::<u8>()) {
      // Valid text with one byte changed: the cases where a validator can be subtly wrong.
      let mut bytes = text.into_bytes();
      if !bytes.is_empty() {
        let i = at.index(bytes.len());
        bytes[i] = byte;
      }
      prop_assert_eq!(invalid_at(&bytes), std::str::from_utf8(&bytes).err().map(|e| e.valid_up_to()));
    }

    #[test]
    fn utf16_agrees_with_std(text in "\\PC{0,600}") {
      let mut out = Vec::new();
      utf16_into(text.as_bytes(), &mut out);
      prop_assert_eq!(&out, &text.encode_utf16().collect::<Vec<_>>());
      prop_assert_eq!(utf16_len(text.as_bytes()) as usize, out.len());
    }
  }
}
