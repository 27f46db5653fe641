//! Paths into a JSON value: `a.b.c`, `items[0]`, `items[*]`, `["content-type"]`.
//!
//! Grammar (the same in `select`, in the object form's `path`, and after the `.` of the string
//! form, see `expr.rs`):
//!
//! ```text
//! path    = first step*
//! first   = name | bracket
//! step    = "." name | bracket
//! name    = one or more of A-Z a-z 0-9 _ $ - or any non-ASCII character
//! bracket = "[" ( index | "*" | string ) "]"      (spaces allowed inside the brackets)
//! index   = 0 | [1-9][0-9]*                       (below 2^32)
//! string  = a JSON string literal: "…" with JSON's escapes
//! ```
//!
//! A path has at most [`NESTING_LIMIT`] steps: evaluating and projecting recurse once per step,
//! on whatever thread runs them, so the depth must be bounded whatever the data's depth.
//!
//! A key is kept as UTF-16 code units, as JS strings are, so `"\ud800"` names the key a lone
//! surrogate escape gives in `JSON.parse`; its UTF-8 form (when it has one) lets the common case
//! compare raw bytes.

use std::fmt;

use super::NESTING_LIMIT;

/// A key as JS sees it, plus its UTF-8 bytes when it is valid Unicode.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
  pub utf16: Vec<u16>,
  pub utf8: Option<Vec<u8>>,
}

impl Key {
  pub fn new(utf16: Vec<u16>) -> Self {
    let utf8 = String::from_utf16(&utf16).ok().map(String::into_bytes);
    Self { utf16, utf8 }
  }

  pub fn from_text(s: &str) -> Self {
    Self::new(s.encode_utf16().collect())
  }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
  Key(Key),
  Index(u32),
  Each,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Path {
  pub steps: Vec<Step>,
}

/// A syntax error at a byte position of the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
  pub at: usize,
  pub message: String,
}

impl SyntaxError {
  pub fn new(at: usize, message: impl Into<String>) -> Self {
    Self {
      at,
      message: message.into(),
    }
  }

  /// The 1-based column of the error in `source`, counted in UTF-16 code units as JS counts.
  pub fn column(&self, source: &str) -> usize {
    let at = self.at.min(source.len());
    let at = (0..=at)
      .rev()
      .find(|&i| source.is_char_boundary(i))
      .unwrap_or(0);
    source[..at].encode_utf16().count() + 1
  }
}

impl fmt::Display for SyntaxError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&self.message)
  }
}

/// What the character at `at` looks like in a message.
pub fn found(src: &str, at: usize) -> String {
  match src[at..].chars().next() {
    None => "the end".into(),
    Some(c) => format!("'{c}'"),
  }
}

fn is_name_char(c: char) -> bool {
  c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-') || !c.is_ascii()
}

/// Parses a whole path.
pub fn parse(src: &str) -> Result<Path, SyntaxError> {
  let (path, end) = parse_at(src, 0, true)?;
  if end < src.len() {
    return Err(SyntaxError::new(
      end,
      format!("unexpected {} in path", found(src, end)),
    ));
  }
  Ok(path)
}

/// Parses a path starting at `at`; returns it and where it ended. `first_bare`: whether the
/// first step may be a bare name (the string form calls this after its leading `.`).
pub fn parse_at(src: &str, mut at: usize, first_bare: bool) -> Result<(Path, usize), SyntaxError> {
  let bytes = src.as_bytes();
  let mut steps = Vec::new();
  let mut bare_ok = first_bare;
  loop {
    if steps.len() == NESTING_LIMIT && matches!(bytes.get(at), Some(b'[' | b'.')) {
      return Err(SyntaxError::new(
        at,
        format!("path too long (at most {NESTING_LIMIT} steps)"),
      ));
    }
    match bytes.get(at) {
      Some(b'[') => {
        let (step, end) = bracket(src, at)?;
        steps.push(step);
        at = end;
        bare_ok = false;
      }
      Some(b'.') if !bare_ok => {
        at += 1;
        let (name, end) = name(src, at)?;
        steps.push(Step::Key(Key::from_text(name)));
        at = end;
        bare_ok = false;
      }
      _ if bare_ok && steps.is_empty() => {
        let (name, end) = name(src, at)?;
        steps.push(Step::Key(Key::from_text(name)));
        at = end;
        bare_ok = false;
      }
      _ => break,
    }
  }
  if steps.is_empty() {
    return Err(SyntaxError::new(
      at,
      format!("expected a path, found {}", found(src, at)),
    ));
  }
  Ok((Path { steps }, at))
}

fn name(src: &str, at: usize) -> Result<(&str, usize), SyntaxError> {
  let len: usize = src[at..]
    .chars()
    .take_while(|&c| is_name_char(c))
    .map(char::len_utf8)
    .sum();
  if len == 0 {
    return Err(SyntaxError::new(
      at,
      format!(
        "expected a key name or '[', found {} (quote other keys: [\"key\"])",
        found(src, at)
      ),
    ));
  }
  Ok((&src[at..at + len], at + len))
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
  while bytes.get(at) == Some(&b' ') {
    at += 1;
  }
  at
}

fn bracket(src: &str, open: usize) -> Result<(Step, usize), SyntaxError> {
  let bytes = src.as_bytes();
  let at = skip_spaces(bytes, open + 1);
  let (step, end) = match bytes.get(at) {
    Some(b'*') => (Step::Each, at + 1),
    Some(b'"') => {
      let (units, end) = string_literal(src, at)?;
      (Step::Key(Key::new(units)), end)
    }
    Some(b'0'..=b'9') => {
      let len = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
      let digits = &src[at..at + len];
      if len > 1 && digits.starts_with('0') {
        return Err(SyntaxError::new(at, "an index has no leading zeros"));
      }
      let index = digits
        .parse::<u32>()
        .map_err(|_| SyntaxError::new(at, "index too large (the limit is 2^32 - 1)"))?;
      (Step::Index(index), at + len)
    }
    _ => {
      return Err(SyntaxError::new(
        at,
        format!(
          "expected an index, '*' or a quoted key after '[', found {}",
          found(src, at)
        ),
      ))
    }
  };
  let close = skip_spaces(bytes, end);
  if bytes.get(close) != Some(&b']') {
    return Err(SyntaxError::new(
      close,
      format!("expected ']', found {}", found(src, close)),
    ));
  }
  Ok((step, close + 1))
}

/// A JSON string literal at `at` (its opening quote): its UTF-16 units and the index after it.
pub fn string_literal(src: &str, at: usize) -> Result<(Vec<u16>, usize), SyntaxError> {
  let bytes = src.as_bytes();
  let mut units = Vec::new();
  let mut i = at + 1;
  loop {
    let Some(&b) = bytes.get(i) else {
      return Err(SyntaxError::new(at, "unterminated string"));
    };
    match b {
      b'"' => return Ok((units, i + 1)),
      b'\\' => {
        let unit = match bytes.get(i + 1) {
          Some(b'"') => 0x22,
          Some(b'\\') => 0x5C,
          Some(b'/') => 0x2F,
          Some(b'b') => 0x08,
          Some(b'f') => 0x0C,
          Some(b'n') => 0x0A,
          Some(b'r') => 0x0D,
          Some(b't') => 0x09,
          Some(b'u') => {
            let hex = src
              .get(i + 2..i + 6)
              .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
            let Some(hex) = hex else {
              return Err(SyntaxError::new(i, "\\u needs four hex digits"));
            };
            i += 4;
            u16::from_str_radix(hex, 16).expect("hex digits")
          }
          _ => return Err(SyntaxError::new(i, "invalid escape in string")),
        };
        units.push(unit);
        i += 2;
      }
      0x00..=0x1F => {
        return Err(SyntaxError::new(
          i,
          "control character in string (escape it)",
        ))
      }
      _ => {
        let c = src[i..].chars().next().expect("char boundary");
        let mut buf = [0u16; 2];
        units.extend_from_slice(c.encode_utf16(&mut buf));
        i += c.len_utf8();
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn key(s: &str) -> Step {
    Step::Key(Key::from_text(s))
  }

  #[test]
  fn every_path_form() {
    assert_eq!(
      parse("a.b.c").unwrap().steps,
      vec![key("a"), key("b"), key("c")]
    );
    assert_eq!(
      parse("items[0][*].x").unwrap().steps,
      vec![key("items"), Step::Index(0), Step::Each, key("x")]
    );
    assert_eq!(
      parse(r#"["content-type"].a[ "b.c" ]"#).unwrap().steps,
      vec![key("content-type"), key("a"), key("b.c")]
    );
    assert_eq!(parse("[3]").unwrap().steps, vec![Step::Index(3)]);
    assert_eq!(
      parse("日本.$x_1-2").unwrap().steps,
      vec![key("日本"), key("$x_1-2")]
    );
    assert_eq!(
      parse(r#"["\ud800"]"#).unwrap().steps,
      vec![Step::Key(Key::new(vec![0xD800]))]
    );
    assert_eq!(Key::new(vec![0xD800]).utf8, None);
  }

  #[test]
  fn errors_point_at_the_position() {
    let cases = [
      ("", 0),
      ("a.", 2),
      ("a..b", 2),
      ("a[", 2),
      ("a[01]", 2),
      ("a[1", 3),
      ("a b", 1),
      ("a[\"x]", 2),
      ("a[\"\\q\"]", 3),
      ("a[99999999999]", 2),
      (".a", 0),
    ];
    for (src, at) in cases {
      let err = parse(src).expect_err(src);
      assert_eq!(err.at, at, "{src:?}: {err}");
    }
    assert_eq!(SyntaxError::new(5, "x").column("é日x"), 3);
  }
}
