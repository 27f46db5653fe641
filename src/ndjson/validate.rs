//! A JSON text validator that agrees with V8's `JSON.parse` on one line of bytes.
//!
//! The values themselves are built by V8 (`JSON.parse` on the JS thread), so the only job here is
//! to decide, off the JS thread, whether V8 would accept the line — exactly, in both directions:
//! a line this module passes must never make the batched `JSON.parse` throw, and a line it rejects
//! must be one V8 rejects too. That is why it is hand-written rather than serde_json:
//!
//! * nesting depth is unlimited (V8's parser is iterative; serde_json stops at 128), so the
//!   container stack is an explicit `Vec`, never recursion — 100 000 `[` cannot overflow the stack;
//! * `\uD800`-style lone surrogate escapes are accepted, as V8 accepts them;
//! * numbers are only checked for grammar (`1e999` is valid JSON; V8 makes it `Infinity`);
//! * whitespace is exactly JSON's four bytes (space, tab, LF, CR).
//!
//! UTF-8 is checked before the grammar: invalid UTF-8 makes the line invalid instead of turning
//! into U+FFFD mojibake the way a lossy `buf.toString()` would.

use std::fmt;

use super::utf8::invalid_at;

/// Why a line is not a JSON text. `at` is the byte index inside the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
  pub at: usize,
  pub kind: SyntaxErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxErrorKind {
  /// A byte that cannot start or continue the value here.
  UnexpectedByte(u8),
  /// The line ended inside a value.
  UnexpectedEnd,
  /// A second value (or other garbage) after a complete value.
  TrailingData,
  /// Invalid UTF-8 starting at `at`.
  InvalidUtf8,
  /// A raw control character (below 0x20) inside a string.
  ControlInString(u8),
  /// A backslash escape that JSON does not have.
  BadEscape,
}

impl fmt::Display for SyntaxError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self.kind {
      SyntaxErrorKind::UnexpectedByte(b) => {
        write!(f, "unexpected {} at byte {}", describe(b), self.at)
      }
      SyntaxErrorKind::UnexpectedEnd => write!(f, "unexpected end of line at byte {}", self.at),
      SyntaxErrorKind::TrailingData => write!(
        f,
        "unexpected data after the JSON value at byte {}",
        self.at
      ),
      SyntaxErrorKind::InvalidUtf8 => write!(f, "invalid UTF-8 at byte {}", self.at),
      SyntaxErrorKind::ControlInString(b) => {
        write!(
          f,
          "unescaped control character 0x{b:02x} in string at byte {}",
          self.at
        )
      }
      SyntaxErrorKind::BadEscape => write!(f, "invalid escape sequence at byte {}", self.at),
    }
  }
}

fn describe(b: u8) -> String {
  if b.is_ascii_graphic() {
    format!("'{}'", b as char)
  } else {
    format!("byte 0x{b:02x}")
  }
}

/// What a valid line looked like, for the batch builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
  /// Every byte is below 0x80: the line can join a latin1 (one-byte) JS string.
  pub ascii: bool,
}

/// Reusable validator; keeps its container stack between lines so steady state allocates nothing.
#[derive(Default)]
pub struct Validator {
  stack: Vec<u8>,
  /// With [`Validator::check_indexing_root`]: the members of the line's top-level object.
  root: Vec<Member>,
  indexing: bool,
}

/// One member of an object: its key's raw text (between the quotes) and where its value starts.
/// The `where`/`select` filter reads the top-level ones from the validation pass instead of
/// scanning the line a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
  pub key_start: usize,
  pub key_end: usize,
  pub value: usize,
}

// Bytes that end the fast scan inside a string: the quote, the backslash and control characters.
const STRING_STOP: [bool; 256] = {
  let mut t = [false; 256];
  let mut i = 0;
  while i < 0x20 {
    t[i] = true;
    i += 1;
  }
  t[b'"' as usize] = true;
  t[b'\\' as usize] = true;
  t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes of `w` is a quote, a backslash or a control character: the
/// word-at-a-time test (SWAR) behind [`skip_plain`]. Each term is exact as a yes/no answer.
#[inline]
pub(crate) fn has_string_stop(w: u64) -> bool {
  let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
  let q = w ^ (ONES * b'"' as u64);
  let quote = q.wrapping_sub(ONES) & !q & HIGHS;
  let b = w ^ (ONES * b'\\' as u64);
  let backslash = b.wrapping_sub(ONES) & !b & HIGHS;
  (control | quote | backslash) != 0
}

/// The stop bytes among the 16 in `x`, as a bit mask (bit k for byte k): quotes, backslashes and
/// control characters, and with `also_non_ascii` bytes above 0x7F too. Shared by [`skip_plain`]
/// and the shaper's copy of a string's plain run (src/ndjson/shape.rs), so both stop at the same
/// bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn string_stops(x: std::arch::x86_64::__m128i, also_non_ascii: bool) -> u32 {
  use std::arch::x86_64::{
    _mm_cmpeq_epi8, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
  };
  // SAFETY: SSE2 is in the x86_64 baseline, and these intrinsics only compute on registers.
  unsafe {
    let quote = _mm_set1_epi8(b'"' as i8);
    let backslash = _mm_set1_epi8(b'\\' as i8);
    let control = _mm_set1_epi8(0x1F);
    // max(x, 0x1F) == 0x1F exactly where x <= 0x1F (unsigned).
    let below = _mm_cmpeq_epi8(_mm_max_epu8(x, control), control);
    let stop = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
      below,
    );
    let mut mask = _mm_movemask_epi8(stop);
    if also_non_ascii {
      mask |= _mm_movemask_epi8(x);
    }
    mask as u32
  }
}

/// Skips bytes from `j` that cannot end a string's plain run — anything but a quote, a backslash
/// or a control character; with `also_non_ascii`, bytes above 0x7F stop it too (UTF-8 is checked
/// apart) — 16 at a time with SSE2 (part of every x86_64), then 8 at a time; the caller finishes
/// byte by byte. Returns where it stopped, at or before the first stop byte.
#[inline]
pub(crate) fn skip_plain(s: &[u8], mut j: usize, also_non_ascii: bool) -> usize {
  #[cfg(target_arch = "x86_64")]
  {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128};
    while j + 16 <= s.len() {
      // SAFETY: SSE2 is in the x86_64 baseline, and the load reads 16 bytes inside `s`
      // (`j + 16 <= s.len()`), unaligned loads being allowed.
      let x = unsafe { _mm_loadu_si128(s.as_ptr().add(j).cast::<__m128i>()) };
      let mask = string_stops(x, also_non_ascii);
      if mask != 0 {
        return j + mask.trailing_zeros() as usize;
      }
      j += 16;
    }
  }
  while let Some(word) = s.get(j..j + 8) {
    let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
    if has_string_stop(w) || (also_non_ascii && w & HIGHS != 0) {
      break;
    }
    j += 8;
  }
  j
}

#[inline]
fn is_ws(b: u8) -> bool {
  matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Validator {
  pub fn new() -> Self {
    Self::default()
  }

  /// Checks that `line` is exactly one JSON text (surrounding whitespace allowed), in UTF-8.
  ///
  /// # Example
  /// ```
  /// use sluice::ndjson::validate::Validator;
  /// let mut v = Validator::new();
  /// assert!(v.check(br#"{"a":[1,2,{"b":null}]}"#).is_ok());
  /// assert!(v.check(b"[1,]").is_err());
  /// ```
  pub fn check(&mut self, line: &[u8]) -> Result<Verdict, SyntaxError> {
    let ascii = line.is_ascii();
    if !ascii {
      if let Some(at) = invalid_at(line) {
        return Err(SyntaxError {
          at,
          kind: SyntaxErrorKind::InvalidUtf8,
        });
      }
    }
    self.stack.clear();
    self.grammar(line).map(|()| Verdict { ascii })
  }

  /// [`Validator::check`], also noting the members of the top-level object (if the line is one)
  /// for [`Validator::root_members`].
  pub fn check_indexing_root(&mut self, line: &[u8]) -> Result<Verdict, SyntaxError> {
    self.root.clear();
    self.indexing = true;
    let verdict = self.check(line);
    self.indexing = false;
    verdict
  }

  /// The top-level members the last [`Validator::check_indexing_root`] saw, in input order.
  pub fn root_members(&self) -> &[Member] {
    &self.root
  }

  fn grammar(&mut self, s: &[u8]) -> Result<(), SyntaxError> {
    let n = s.len();
    let err = |at: usize, kind| Err(SyntaxError { at, kind });
    let unexpected = |at: usize| {
      if at >= n {
        err(at, SyntaxErrorKind::UnexpectedEnd)
      } else {
        err(at, SyntaxErrorKind::UnexpectedByte(s[at]))
      }
    };
    let mut i = skip_ws(s, 0);

    // Two states, written as nested loops: `'value` expects a value at `i`, the inner `loop`
    // handles what may follow a complete value (`,` `]` `}` or the end of the line).
    'value: loop {
      if i >= n {
        return unexpected(i);
      }
      match s[i] {
        b'{' => {
          i = skip_ws(s, i + 1);
          if i < n && s[i] == b'}' {
            i += 1;
          } else {
            self.stack.push(b'{');
            i = self.key(s, i)?;
            continue 'value;
          }
        }
        b'[' => {
          i = skip_ws(s, i + 1);
          if i < n && s[i] == b']' {
            i += 1;
          } else {
            self.stack.push(b'[');
            continue 'value;
          }
        }
        b'"' => i = string(s, i)?,
        b't' => i = literal(s, i, b"true")?,
        b'f' => i = literal(s, i, b"false")?,
        b'n' => i = literal(s, i, b"null")?,
        b'-' | b'0'..=b'9' => i = number(s, i)?,
        _ => return unexpected(i),
      }
      // After a complete value.
      loop {
        i = skip_ws(s, i);
        let Some(&top) = self.stack.last() else {
          return if i == n {
            Ok(())
          } else {
            err(i, SyntaxErrorKind::TrailingData)
          };
        };
        if i >= n {
          return unexpected(i);
        }
        match (s[i], top) {
          (b',', b'[') => {
            i = skip_ws(s, i + 1);
            continue 'value;
          }
          (b',', _) => {
            i = self.key(s, skip_ws(s, i + 1))?;
            continue 'value;
          }
          (b']', b'[') | (b'}', b'{') => {
            self.stack.pop();
            i += 1;
          }
          _ => return unexpected(i),
        }
      }
    }
  }

  /// Parses `"key" :` at `i` and returns the index just after the colon and its whitespace.
  fn key(&mut self, s: &[u8], i: usize) -> Result<usize, SyntaxError> {
    if i >= s.len() || s[i] != b'"' {
      return Err(at_or_end(s, i));
    }
    let end = string(s, i)?;
    let colon = skip_ws(s, end);
    if colon >= s.len() || s[colon] != b':' {
      return Err(at_or_end(s, colon));
    }
    let value = skip_ws(s, colon + 1);
    if self.indexing && self.stack.len() == 1 {
      self.root.push(Member {
        key_start: i + 1,
        key_end: end - 1,
        value,
      });
    }
    Ok(value)
  }
}

fn at_or_end(s: &[u8], i: usize) -> SyntaxError {
  let kind = if i >= s.len() {
    SyntaxErrorKind::UnexpectedEnd
  } else {
    SyntaxErrorKind::UnexpectedByte(s[i])
  };
  SyntaxError { at: i, kind }
}

#[inline]
fn skip_ws(s: &[u8], mut i: usize) -> usize {
  while i < s.len() && is_ws(s[i]) {
    i += 1;
  }
  i
}

fn literal(s: &[u8], i: usize, word: &[u8]) -> Result<usize, SyntaxError> {
  for (k, &w) in word.iter().enumerate() {
    if s.get(i + k) != Some(&w) {
      return Err(at_or_end(s, i + k));
    }
  }
  Ok(i + word.len())
}

/// `s[i]` is the opening quote; returns the index after the closing quote. (UTF-8 is not checked
/// here: `check` does the whole line at once.)
#[inline]
pub(crate) fn string(s: &[u8], i: usize) -> Result<usize, SyntaxError> {
  let n = s.len();
  let mut j = i + 1;
  loop {
    j = skip_plain(s, j, false);
    while j < n && !STRING_STOP[s[j] as usize] {
      j += 1;
    }
    if j >= n {
      return Err(SyntaxError {
        at: n,
        kind: SyntaxErrorKind::UnexpectedEnd,
      });
    }
    match s[j] {
      b'"' => return Ok(j + 1),
      b'\\' => {
        let bad = SyntaxError {
          at: j,
          kind: SyntaxErrorKind::BadEscape,
        };
        match s.get(j + 1) {
          Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
          Some(b'u') => {
            let hex = s.get(j + 2..j + 6).ok_or(bad.clone())?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
              return Err(bad);
            }
            j += 6;
          }
          _ => return Err(bad),
        }
      }
      c => {
        return Err(SyntaxError {
          at: j,
          kind: SyntaxErrorKind::ControlInString(c),
        })
      }
    }
  }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` starting at `i`; returns the index after it.
fn number(s: &[u8], mut i: usize) -> Result<usize, SyntaxError> {
  let digits = |mut j: usize| {
    while j < s.len() && s[j].is_ascii_digit() {
      j += 1;
    }
    j
  };
  if s[i] == b'-' {
    i += 1;
  }
  match s.get(i) {
    Some(b'0') => i += 1,
    Some(b'1'..=b'9') => i = digits(i + 1),
    _ => return Err(at_or_end(s, i)),
  }
  if s.get(i) == Some(&b'.') {
    let j = digits(i + 1);
    if j == i + 1 {
      return Err(at_or_end(s, j));
    }
    i = j;
  }
  if matches!(s.get(i), Some(b'e' | b'E')) {
    i += 1;
    if matches!(s.get(i), Some(b'+' | b'-')) {
      i += 1;
    }
    let j = digits(i);
    if j == i {
      return Err(at_or_end(s, j));
    }
    i = j;
  }
  Ok(i)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn ok(s: &str) -> bool {
    Validator::new().check(s.as_bytes()).is_ok()
  }

  #[test]
  fn accepts_every_kind_of_value() {
    for s in [
      "null",
      "true",
      "false",
      "0",
      "-0",
      "1.5e-3",
      "1E+2",
      "1e999",
      "\"\"",
      "\"\\u00e9\\ud800\"",
      "[]",
      "{}",
      " [ 1 , [ ] , { } ] ",
      "{\"a\":{\"b\":[null,\"x\"]}}",
      "\"é日本😀\"",
      "\t1\r",
    ] {
      assert!(ok(s), "{s}");
    }
  }

  #[test]
  fn rejects_what_v8_rejects() {
    for s in [
      "",
      " ",
      "[1,]",
      "{\"a\":1,}",
      "01",
      "-",
      "1.",
      ".5",
      "1e",
      "+1",
      "nul",
      "nulls",
      "[1 2]",
      "{\"a\" 1}",
      "{1:1}",
      "\"\\x\"",
      "\"\\u12\"",
      "\"a\u{1}\"",
      "{} {}",
      "[",
      "]",
      "\"abc",
      "'a'",
      "NaN",
      "Infinity",
      "[1]]",
      "{\"a\":1]",
    ] {
      assert!(!ok(s), "{s:?}");
    }
  }

  #[test]
  fn depth_is_unlimited_and_iterative() {
    let deep = "[".repeat(200_000) + &"]".repeat(200_000);
    assert!(ok(&deep));
    assert!(!ok(&"[".repeat(200_000)));
  }

  #[test]
  fn invalid_utf8_is_reported_where_it_starts() {
    let e = Validator::new().check(b"\"ab\xff\"").unwrap_err();
    assert_eq!(e.kind, SyntaxErrorKind::InvalidUtf8);
    assert_eq!(e.at, 3);
  }

  #[test]
  fn the_word_test_finds_every_stop_byte_in_every_position() {
    for stop in (0u8..0x20).chain([b'"', b'\\']) {
      for at in 0..8 {
        for filler in [b'a', b' ', 0x7F, 0x80, 0xFF, b'!', b'#', b'[', b']'] {
          let mut bytes = [filler; 8];
          bytes[at] = stop;
          assert!(
            has_string_stop(u64::from_le_bytes(bytes)),
            "{stop:#x} at {at}"
          );
        }
      }
    }
    for filler in 0x20u8..=0xFF {
      if filler != b'"' && filler != b'\\' {
        assert!(
          !has_string_stop(u64::from_le_bytes([filler; 8])),
          "{filler:#x}"
        );
      }
    }
  }

  #[test]
  fn skip_plain_stops_at_the_first_stop_byte_or_before_it() {
    let naive = |s: &[u8], j: usize, non_ascii: bool| {
      (j..s.len())
        .find(|&k| STRING_STOP[s[k] as usize] || (non_ascii && s[k] >= 0x80))
        .unwrap_or(s.len())
    };
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      state
    };
    for _ in 0..20_000 {
      let len = (next() % 70) as usize;
      let s: Vec<u8> = (0..len)
        .map(|_| match next() % 8 {
          0 => (next() % 256) as u8,
          _ => b'a' + (next() % 26) as u8,
        })
        .collect();
      let j = if len == 0 { 0 } else { (next() as usize) % len };
      for non_ascii in [false, true] {
        let stop = naive(&s, j, non_ascii);
        let got = skip_plain(&s, j, non_ascii);
        assert!(got >= j && got <= stop, "{s:?} from {j}: {got} vs {stop}");
      }
    }
  }

  #[test]
  fn ascii_flag() {
    assert!(Validator::new().check(b"[1]").unwrap().ascii);
    assert!(!Validator::new().check("\"é\"".as_bytes()).unwrap().ascii);
  }

  #[test]
  fn error_positions_name_the_byte() {
    let e = Validator::new().check(b"{\"a\":x}").unwrap_err();
    assert_eq!(e.to_string(), "unexpected 'x' at byte 5");
  }

  #[test]
  fn indexes_the_top_level_members_only() {
    let mut v = Validator::new();
    let line = br#" {"a":1, "b\"" : {"c":[{"d":2}]},"a":[]} "#;
    v.check_indexing_root(line).unwrap();
    let keys: Vec<(&[u8], u8)> = v
      .root_members()
      .iter()
      .map(|m| (&line[m.key_start..m.key_end], line[m.value]))
      .collect();
    assert_eq!(
      keys,
      vec![(&b"a"[..], b'1'), (&br#"b\""#[..], b'{'), (&b"a"[..], b'[')]
    );
    v.check_indexing_root(b"[{\"a\":1}]").unwrap();
    assert!(v.root_members().is_empty());
  }
}
