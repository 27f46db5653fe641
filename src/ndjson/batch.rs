//! `Batch`: valid lines gathered for one hand-off to JS.
//!
//! Values are not built here. For the value-producing outputs a batch is the text
//! `[line,line,…]`, which JS turns into an array with one `JSON.parse` — measured the fastest way
//! to materialise many small records in V8 (`research/feasibility.md` §3). For `'lines'` it is the
//! raw line bytes back to back with their end offsets, sliced into Buffers in JS.
//!
//! Every line added has been validated, so the text is always one valid JSON array and the batch
//! cannot throw in `JSON.parse`: one bad line never poisons its neighbours.

use napi::bindgen_prelude::{Buffer, Float64Array, ToNapiValue, Uint32Array};
use napi::{sys, Env, JsValue, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
  /// `[line,…]` text; JS parses it.
  Json,
  /// Raw bytes and end offsets; JS slices them.
  Raw,
}

/// Per-line extras, only gathered when the JS side needs them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
  /// `[line number, byte offset]` per value (envelopes).
  pub positions: bool,
  /// UTF-16 `[start, end)` of each value inside the text (a reviver parses line by line).
  pub spans: bool,
}

pub struct Batch {
  shape: Shape,
  extras: Extras,
  bytes: Vec<u8>,
  ascii: bool,
  count: u32,
  utf16_len: u32,
  positions: Vec<f64>,
  offsets: Vec<u32>,
}

impl Batch {
  pub fn new(shape: Shape, extras: Extras, capacity: usize) -> Self {
    let mut batch = Self {
      shape,
      extras,
      bytes: Vec::with_capacity(capacity + 1024),
      ascii: true,
      count: 0,
      utf16_len: 0,
      positions: Vec::new(),
      offsets: Vec::new(),
    };
    batch.reset();
    batch
  }

  fn reset(&mut self) {
    self.bytes.clear();
    self.ascii = true;
    self.count = 0;
    self.positions.clear();
    self.offsets.clear();
    if self.shape == Shape::Json {
      self.bytes.push(b'[');
      self.utf16_len = 1;
    }
  }

  pub fn is_empty(&self) -> bool {
    self.count == 0
  }

  pub fn len_bytes(&self) -> usize {
    self.bytes.len()
  }

  /// Adds one validated line.
  pub fn push(&mut self, line: &[u8], ascii: bool, number: u64, offset: u64) {
    match self.shape {
      Shape::Json => {
        if self.count > 0 {
          self.bytes.push(b',');
          self.utf16_len += 1;
        }
        self.bytes.extend_from_slice(line);
        if self.extras.spans {
          let start = self.utf16_len;
          self.utf16_len += if ascii { line.len() as u32 } else { utf16_len(line) };
          self.offsets.extend_from_slice(&[start, self.utf16_len]);
        }
      }
      Shape::Raw => {
        self.bytes.extend_from_slice(line);
        self.offsets.push(self.bytes.len() as u32);
      }
    }
    if self.extras.positions {
      self.positions.extend_from_slice(&[number as f64, offset as f64]);
    }
    self.ascii &= ascii;
    self.count += 1;
  }

  /// Hands the gathered lines over and starts an empty batch.
  pub fn take(&mut self) -> BatchData {
    if self.shape == Shape::Json {
      self.bytes.push(b']');
    }
    let capacity = self.bytes.capacity();
    let data = BatchData {
      shape: self.shape,
      bytes: std::mem::replace(&mut self.bytes, Vec::with_capacity(capacity)),
      ascii: self.ascii,
      count: self.count,
      positions: (self.extras.positions).then(|| std::mem::take(&mut self.positions)),
      offsets: (self.extras.spans || self.shape == Shape::Raw)
        .then(|| std::mem::take(&mut self.offsets)),
    };
    self.reset();
    data
  }
}

/// Number of UTF-16 code units in valid UTF-8: one per scalar, two for 4-byte sequences.
fn utf16_len(s: &[u8]) -> u32 {
  s.iter()
    .map(|&b| match b {
      0x80..=0xBF => 0,
      0xF0..=0xFF => 2,
      _ => 1,
    })
    .sum()
}

/// One batch on its way to JS: `[text|buffer, count, positions|null, offsets|null]`.
pub struct BatchData {
  shape: Shape,
  bytes: Vec<u8>,
  ascii: bool,
  count: u32,
  positions: Option<Vec<f64>>,
  offsets: Option<Vec<u32>>,
}

impl ToNapiValue for BatchData {
  unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    let env = Env::from_raw(raw_env);
    let payload = match val.shape {
      // A one-byte (latin1) string when the batch is ASCII: V8 parses those fastest, and the
      // check was done on the worker, not here on the JS thread.
      Shape::Json if val.ascii => env.create_string_latin1(&val.bytes)?.raw(),
      Shape::Json => {
        debug_assert!(std::str::from_utf8(&val.bytes).is_ok());
        // SAFETY: every line in a batch passed `Validator::check`, which rejects invalid UTF-8,
        // and the brackets and commas added around them are ASCII.
        let text = std::str::from_utf8_unchecked(&val.bytes);
        env.create_string(text)?.raw()
      }
      Shape::Raw => ToNapiValue::to_napi_value(raw_env, Buffer::from(val.bytes))?,
    };
    ToNapiValue::to_napi_value(
      raw_env,
      (
        RawValue(payload),
        val.count,
        val.positions.map(Float64Array::new),
        val.offsets.map(Uint32Array::new),
      ),
    )
  }
}

/// An already-created JS value, to sit inside a tuple with other `ToNapiValue`s.
struct RawValue(sys::napi_value);

impl ToNapiValue for RawValue {
  unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    Ok(val.0)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn json_batches_are_arrays() {
    let mut b = Batch::new(Shape::Json, Extras { positions: true, spans: true }, 64);
    b.push(b"1", true, 1, 0);
    b.push("\"é😀\"".as_bytes(), false, 3, 4);
    let d = b.take();
    assert_eq!(d.bytes, "[1,\"é😀\"]".as_bytes());
    assert!(!d.ascii);
    assert_eq!(d.positions.unwrap(), vec![1.0, 0.0, 3.0, 4.0]);
    // "[1," is 3 units; "\"é😀\"" is 1 + 1 + 2 + 1 = 5 units.
    assert_eq!(d.offsets.unwrap(), vec![1, 2, 3, 8]);
    assert!(b.is_empty());
    assert_eq!(b.take().bytes, b"[]");
  }

  #[test]
  fn raw_batches_keep_end_offsets() {
    let mut b = Batch::new(Shape::Raw, Extras::default(), 64);
    b.push(b"ab", true, 1, 0);
    b.push(b"", true, 2, 3);
    b.push(b"c", true, 3, 4);
    let d = b.take();
    assert_eq!(d.bytes, b"abc");
    assert_eq!(d.offsets.unwrap(), vec![2, 2, 3]);
  }
}
