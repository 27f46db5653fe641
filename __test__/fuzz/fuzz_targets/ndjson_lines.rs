//! The NDJSON parser's native stage against an oracle, on arbitrary bytes in arbitrary chunks.
//!
//! The stage hands validated text to V8 (and to `from_utf8_unchecked`), so a line it passes that
//! V8 would reject is a memory-safety and a correctness bug at once. The oracle decides each line
//! independently of the fast code: `std::str::from_utf8`, then `serde_json` with V8's two
//! differences taken out (lone surrogate escapes are valid; numbers such as `1e400` are valid, see
//! Cargo.toml), and the framing rules written out naively (BOM, `\n` / `\r\n` / a final `\r`,
//! blank lines).
//!
//! Checked for every input: the same invalid lines (number, byte offset, UTF-8 or JSON) in the
//! same places among the values, the same number of values, and — in the text form — batch texts
//! that are JSON arrays of exactly the valid lines. The first input byte picks the form (text or
//! shape columns), whether a `where`/`select` filter runs (then: the same invalid lines, and
//! batch texts that are JSON arrays), and seeds the chunking, so every chunk boundary gets tried.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use sluice::ndjson::{ParserConfig, ParserData, ParserStage, ERR_INVALID_JSON, ERR_INVALID_UTF8};
use sluice::transport::{Sink, Stage, Stop};

struct Collect(Vec<ParserData>);

impl Sink<ParserData> for Collect {
  fn send(&mut self, data: ParserData) -> Result<(), Stop> {
    self.0.push(data);
    Ok(())
  }
}

#[derive(Debug, PartialEq)]
enum Verdict {
  Blank,
  Valid,
  Invalid(&'static str),
}

/// The lines of `data` as `(number, offset, content)`, written as plainly as possible.
fn oracle_lines(data: &[u8]) -> Vec<(u64, u64, &[u8])> {
  let start = if data.starts_with(b"\xEF\xBB\xBF") {
    3
  } else {
    0
  };
  let mut lines = Vec::new();
  let mut at = start;
  let mut number = 1;
  while at < data.len() {
    let (mut end, next) = match data[at..].iter().position(|&b| b == b'\n') {
      Some(nl) => (at + nl, at + nl + 1),
      None => (data.len(), data.len()),
    };
    // A `\r` before the `\n` (or at the very end) belongs to the terminator.
    if end > at && data[end - 1] == b'\r' {
      end -= 1;
    }
    let content = &data[at..end];
    lines.push((number, at as u64, content));
    number += 1;
    at = next;
  }
  lines
}

/// `\uD800`–`\uDFFF` escapes become `\uFFFD`: V8 accepts lone surrogates, serde_json does not,
/// and the replacement changes nothing else about validity.
fn without_surrogate_escapes(text: &str) -> String {
  let b = text.as_bytes();
  let mut out = String::with_capacity(text.len());
  let mut i = 0;
  while i < b.len() {
    if b[i] == b'\\' && i + 1 < b.len() {
      if b[i + 1] == b'u' && i + 6 <= b.len() {
        let hex = &b[i + 2..i + 6];
        if hex.iter().all(u8::is_ascii_hexdigit) {
          let v = u16::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap();
          if (0xD800..=0xDFFF).contains(&v) {
            out.push_str("\\uFFFD");
            i += 6;
            continue;
          }
        }
      }
      // Any other escape: copy the backslash and the character after it, so `\\u…` is never
      // read as an escape.
      let len = 1 + utf8_len(b[i + 1]);
      out.push_str(&text[i..i + len]);
      i += len;
      continue;
    }
    let len = utf8_len(b[i]);
    out.push_str(&text[i..i + len]);
    i += len;
  }
  out
}

fn utf8_len(first: u8) -> usize {
  match first {
    0x00..=0x7F => 1,
    0xC0..=0xDF => 2,
    0xE0..=0xEF => 3,
    _ => 4,
  }
}

fn json_ok(text: &str) -> bool {
  let text = without_surrogate_escapes(text);
  let mut de = serde_json::Deserializer::from_str(&text);
  de.disable_recursion_limit();
  serde::de::IgnoredAny::deserialize(&mut de).is_ok() && de.end().is_ok()
}

fn verdict(content: &[u8]) -> Verdict {
  if content.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
    return Verdict::Blank;
  }
  let Ok(text) = std::str::from_utf8(content) else {
    return Verdict::Invalid(ERR_INVALID_UTF8);
  };
  if json_ok(text) {
    Verdict::Valid
  } else {
    Verdict::Invalid(ERR_INVALID_JSON)
  }
}

fn config(columns: bool, filtered: bool) -> ParserConfig {
  ParserConfig {
    raw_lines: false,
    columns,
    positions: false,
    spans: false,
    max_line_bytes: 1e9,
    blank_lines_invalid: false,
    skip_invalid: true,
    max_invalid: -1.0,
    // Small batches, so that batch boundaries fall inside the input too.
    batch_bytes: 256,
    input_bytes: 65536,
    credits: 2,
    // The filter reads validated lines without building them: run it too (its matches are
    // checked by the JS differential tests; here it must not change what is reported).
    where_expr: filtered.then(|| r#".a == 1 or .b[*].c exists or .s startsWith "x""#.into()),
    where_object: None,
    select: filtered.then(|| vec!["a".into(), "b[*].c".into(), r#"["k"][0]"#.into()]),
  }
}

fuzz_target!(|input: &[u8]| {
  let Some((&control, data)) = input.split_first() else {
    return;
  };
  let columns = control & 1 == 1;
  let filtered = control & 2 == 2;

  // Expected: (values before the report, code, line, offset) per invalid line, and the values.
  let mut expected_reports = Vec::new();
  let mut valid_lines = Vec::new();
  for (number, offset, content) in oracle_lines(data) {
    match verdict(content) {
      Verdict::Blank => {}
      Verdict::Valid => valid_lines.push(content),
      Verdict::Invalid(code) => {
        expected_reports.push((valid_lines.len() as u32, code, number, offset))
      }
    }
  }

  // Actual, in chunks whose sizes come from the control byte.
  let mut stage = ParserStage::new(&config(columns, filtered)).expect("config");
  let mut sink = Collect(Vec::new());
  let mut rng = u32::from(control) | 0x9E37_7900;
  let mut rest = data;
  while !rest.is_empty() {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    let n = (1 + rng as usize % 97).min(rest.len());
    stage.chunk(&rest[..n], &mut sink).expect("chunk");
    rest = &rest[n..];
  }
  stage.end(&mut sink).expect("end");

  let mut reports = Vec::new();
  let mut values = 0u32;
  let mut texts = Vec::new();
  for batch in &sink.0 {
    for (at, code, line, offset) in batch.report_positions() {
      reports.push((values + at, code, line, offset));
    }
    values += batch.count();
    if !columns && batch.count() > 0 {
      texts.push(batch.bytes().to_vec());
    }
  }
  if filtered {
    // Every invalid line is still reported, matching or not; only matches become values.
    let lines = |r: &[(u32, &'static str, u64, u64)]| -> Vec<(&'static str, u64, u64)> {
      r.iter().map(|x| (x.1, x.2, x.3)).collect()
    };
    assert_eq!(lines(&reports), lines(&expected_reports), "invalid lines");
    assert!(
      values as usize <= valid_lines.len(),
      "more values than valid lines"
    );
    for text in texts {
      let text = std::str::from_utf8(&text).expect("batch text is UTF-8");
      assert!(json_ok(text), "batch text is one JSON array");
    }
    return;
  }
  assert_eq!(reports, expected_reports, "invalid lines");
  assert_eq!(values as usize, valid_lines.len(), "number of values");

  if !columns {
    // Each batch text is `[line,…]`: the valid lines, in order, joined by commas.
    let mut lines = valid_lines.iter();
    for text in texts {
      let text = std::str::from_utf8(&text).expect("batch text is UTF-8");
      assert!(json_ok(text), "batch text is one JSON array");
      let inner = &text[1..text.len() - 1];
      let mut joined = Vec::new();
      for _ in 0..count_top_level(text) {
        if !joined.is_empty() {
          joined.push(b',');
        }
        joined.extend_from_slice(lines.next().expect("more values than lines"));
      }
      assert_eq!(inner.as_bytes(), joined.as_slice(), "batch text");
    }
    assert!(lines.next().is_none(), "every valid line is in a batch");
  }
});

/// Number of elements of the JSON array `text` (valid, per `json_ok`).
fn count_top_level(text: &str) -> usize {
  let text = without_surrogate_escapes(text);
  let mut de = serde_json::Deserializer::from_str(&text);
  de.disable_recursion_limit();
  let items: Vec<serde::de::IgnoredAny> = Deserialize::deserialize(&mut de).expect("array");
  items.len()
}
