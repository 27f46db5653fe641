//! Reading parts of a JSON text that is already known to be valid, without building it.
//!
//! Every function here assumes its input passed `Validator::check` (or was produced from such a
//! text): no bounds or grammar errors are reported, and on invalid input the results are
//! unspecified but memory-safe (indexing is checked). Positions are byte indices into the line.
//! Strings are compared and ordered as JS does, by UTF-16 code units: [`decode_utf16`] turns a
//! string's raw text (escapes included, lone surrogates kept) into those units.

use crate::ndjson::validate::skip_plain;
pub use crate::ndjson::validate::Member;

/// The JSON type of the value starting at a byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
  Object,
  Array,
  String,
  Number,
  Bool,
  Null,
}

#[inline]
pub fn kind(s: &[u8], i: usize) -> Kind {
  match s.get(i) {
    Some(b'{') => Kind::Object,
    Some(b'[') => Kind::Array,
    Some(b'"') => Kind::String,
    Some(b't' | b'f') => Kind::Bool,
    Some(b'n') => Kind::Null,
    _ => Kind::Number,
  }
}

#[inline]
pub fn skip_ws(s: &[u8], mut i: usize) -> usize {
  while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r') {
    i += 1;
  }
  i
}

/// `i` at an opening quote; returns the index after the closing one.
#[inline]
pub fn skip_string(s: &[u8], i: usize) -> usize {
  let mut j = i + 1;
  loop {
    j = skip_plain(s, j, false);
    match s.get(j) {
      Some(b'"') => return j + 1,
      Some(b'\\') => j += 2,
      Some(_) => j += 1,
      None => return s.len(),
    }
  }
}

/// Index of the next byte at or after `j` that matters inside a container: a quote or a bracket.
#[inline]
fn next_structural(s: &[u8], mut j: usize) -> usize {
  #[cfg(target_arch = "x86_64")]
  {
    use std::arch::x86_64::{
      __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is in the x86_64 baseline; every load reads 16 bytes inside `s`
    // (`j + 16 <= s.len()`), and unaligned loads are allowed.
    unsafe {
      let quote = _mm_set1_epi8(b'"' as i8);
      // '[' 0x5B and '{' 0x7B differ by 0x20, as do ']' 0x5D and '}' 0x7D: OR-ing 0x20 folds them.
      let fold = _mm_set1_epi8(0x20);
      let open = _mm_set1_epi8(b'{' as i8);
      let close = _mm_set1_epi8(b'}' as i8);
      while j + 16 <= s.len() {
        let x = _mm_loadu_si128(s.as_ptr().add(j).cast::<__m128i>());
        let folded = _mm_or_si128(x, fold);
        let hit = _mm_or_si128(
          _mm_cmpeq_epi8(x, quote),
          _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close)),
        );
        let mask = _mm_movemask_epi8(hit);
        if mask != 0 {
          return j + mask.trailing_zeros() as usize;
        }
        j += 16;
      }
    }
  }
  while j < s.len() && !matches!(s[j], b'"' | b'{' | b'}' | b'[' | b']') {
    j += 1;
  }
  j
}

/// `i` at the first byte of a value; returns the index just after it.
pub fn skip_value(s: &[u8], i: usize) -> usize {
  match s.get(i) {
    Some(b'"') => skip_string(s, i),
    Some(b'{' | b'[') => {
      let mut depth = 0usize;
      let mut j = i;
      loop {
        j = next_structural(s, j);
        match s.get(j) {
          Some(b'"') => j = skip_string(s, j),
          Some(b'{' | b'[') => {
            depth += 1;
            j += 1;
          }
          Some(_) => {
            depth -= 1;
            j += 1;
            if depth == 0 {
              return j;
            }
          }
          None => return s.len(),
        }
      }
    }
    _ => {
      let mut j = i;
      while j < s.len() && !matches!(s[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
        j += 1;
      }
      j
    }
  }
}

/// Calls `f` with each member of the object at `i`, in input order, until it returns `false`.
#[inline]
pub fn for_each_member(s: &[u8], i: usize, mut f: impl FnMut(Member) -> bool) {
  let mut j = skip_ws(s, i + 1);
  if s.get(j) == Some(&b'}') {
    return;
  }
  while s.get(j) == Some(&b'"') {
    let key_end = skip_string(s, j);
    let value = skip_ws(s, skip_ws(s, key_end) + 1);
    let member = Member {
      key_start: j + 1,
      key_end: key_end - 1,
      value,
    };
    if !f(member) {
      return;
    }
    j = skip_ws(s, skip_value(s, value));
    if s.get(j) != Some(&b',') {
      return;
    }
    j = skip_ws(s, j + 1);
  }
}

/// Calls `f` with the start of each element of the array at `i` until it returns `false`.
#[inline]
pub fn for_each_element(s: &[u8], i: usize, mut f: impl FnMut(usize) -> bool) {
  let mut j = skip_ws(s, i + 1);
  if s.get(j) == Some(&b']') {
    return;
  }
  while j < s.len() {
    if !f(j) {
      return;
    }
    j = skip_ws(s, skip_value(s, j));
    if s.get(j) != Some(&b',') {
      return;
    }
    j = skip_ws(s, j + 1);
  }
}

/// The number at `i`, as JS reads it (Rust's parser is correctly rounded, as V8's is; `1e999`
/// is infinite and `-0` is negative zero).
pub fn number(s: &[u8], i: usize) -> f64 {
  let end = skip_value(s, i);
  std::str::from_utf8(&s[i..end])
    .ok()
    .and_then(|t| t.parse().ok())
    .unwrap_or(f64::NAN)
}

/// Appends the UTF-16 code units of a string's raw text (between its quotes) to `out`: escapes
/// resolved, lone surrogate escapes kept as they are, as `JSON.parse` does.
pub fn decode_utf16(raw: &[u8], out: &mut Vec<u16>) {
  let mut i = 0;
  while i < raw.len() {
    let b = raw[i];
    if b == b'\\' {
      let (unit, len) = match raw.get(i + 1) {
        Some(b'n') => (0x0A, 2),
        Some(b't') => (0x09, 2),
        Some(b'r') => (0x0D, 2),
        Some(b'b') => (0x08, 2),
        Some(b'f') => (0x0C, 2),
        Some(b'u') => {
          let hex = raw.get(i + 2..i + 6).unwrap_or(b"0000");
          let hex = std::str::from_utf8(hex).unwrap_or("0000");
          (u16::from_str_radix(hex, 16).unwrap_or(0xFFFD), 6)
        }
        Some(&c) => (c as u16, 2),
        None => (0xFFFD, 1),
      };
      out.push(unit);
      i += len;
    } else if b < 0x80 {
      out.push(b as u16);
      i += 1;
    } else {
      let len = match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        _ => 2,
      };
      let end = (i + len).min(raw.len());
      match std::str::from_utf8(&raw[i..end]) {
        Ok(c) => out.extend(c.encode_utf16()),
        Err(_) => out.push(0xFFFD),
      }
      i = end;
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn skips_every_kind_of_value() {
    let s = br#"{"a":[1,{"b":"x]}\"y"}],"c":-1.5e3,"d":true} "#;
    assert_eq!(skip_value(s, 0), s.len() - 1);
    assert_eq!(skip_value(b"-1.5e3,", 0), 6);
    assert_eq!(skip_value(br#""a\"b" "#, 0), 6);
    let long = format!(r#"[{}"{{[",{}]"#, "1,".repeat(40), "[],".repeat(20) + "{}");
    assert_eq!(skip_value(long.as_bytes(), 0), long.len());
  }

  #[test]
  fn walks_members_and_elements() {
    let s = br#" { "a" : 1 , "b\n" : [ 2 , "3" ] } "#;
    let mut keys = Vec::new();
    for_each_member(s, 1, |m| {
      keys.push((s[m.key_start..m.key_end].to_vec(), kind(s, m.value)));
      true
    });
    assert_eq!(
      keys,
      vec![
        (b"a".to_vec(), Kind::Number),
        (br"b\n".to_vec(), Kind::Array)
      ]
    );
    let mut kinds = Vec::new();
    for_each_element(b"[1, \"x\", null,[]]", 0, |e| {
      kinds.push(kind(b"[1, \"x\", null,[]]", e));
      true
    });
    assert_eq!(
      kinds,
      vec![Kind::Number, Kind::String, Kind::Null, Kind::Array]
    );
    for_each_member(b"{}", 0, |_| panic!("no members"));
    for_each_element(b"[ ]", 0, |_| panic!("no elements"));
  }

  #[test]
  fn numbers_and_strings_read_as_js_does() {
    assert_eq!(number(b"9007199254740993", 0), 9007199254740992.0);
    assert!(number(b"-0", 0).is_sign_negative());
    assert_eq!(number(b"1e999", 0), f64::INFINITY);
    let mut out = Vec::new();
    decode_utf16(r#"a\u00e9\ud83d\n😀é"#.as_bytes(), &mut out);
    assert_eq!(out, vec![0x61, 0xE9, 0xD83D, 0x0A, 0xD83D, 0xDE00, 0xE9]);
  }
}
