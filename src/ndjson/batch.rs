//! `Batch`: valid lines gathered for one hand-off to JS, in one of three forms.
//!
//! * Columns (the default for value outputs): each line's values in typed columns plus a shape
//!   id, built in JS by a constructor compiled per shape (`shape.rs` says why). Lines the shaper
//!   declines, or judges cheaper for `JSON.parse`, travel as JSON text beside the columns, with
//!   each one's UTF-16 span so JS parses them line by line.
//! * Text: `[line,line,…]`, which JS turns into an array with one `JSON.parse`. Used when a
//!   reviver needs each line's text (`spans` give each value's UTF-16 range in the text).
//! * Raw (`'lines'`): the line bytes back to back with their end offsets, sliced into Buffers.
//!
//! Every line added has been validated, so the JSON text is always valid and the batch cannot
//! throw in `JSON.parse`: one bad line never poisons its neighbours.

use napi::bindgen_prelude::ToNapiValue;
use napi::{sys, Env, JsValue, Result};

use super::shape::{Columns, Shaped, Shaper, Table};
use super::utf8::{utf16_into, utf16_len};
use crate::transport::arrays::{Bytes, F64s, U32s};
use crate::transport::RawValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
  /// Columns and shape ids; JS builds the values.
  Columns,
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
  /// UTF-16 `[start, end)` of each value inside the text (a reviver parses line by line), and
  /// the stage's counters as they stood before each value's line (`Batch::counts_before`).
  pub spans: bool,
}

/// One invalid line. `fatal`: 0 it was skipped, 1 it ends the stream (onInvalid 'error'),
/// 2 skipped but one too many (maxInvalid).
pub struct InvalidLine {
  pub code: &'static str,
  pub line: u64,
  pub offset: u64,
  pub excerpt: String,
  pub reason: String,
  pub fatal: u32,
}

impl ToNapiValue for InvalidLine {
  unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    ToNapiValue::to_napi_value(
      env,
      (
        val.code,
        val.line as f64,
        val.offset as f64,
        val.excerpt,
        val.reason,
        val.fatal,
      ),
    )
  }
}

pub struct Batch {
  shape: Shape,
  extras: Extras,
  /// JSON text (Json form, and the declined ASCII lines of the Columns form) or raw bytes.
  bytes: Vec<u8>,
  /// Columns form: the declined lines that are not ASCII, back to back, already UTF-16: the JS
  /// thread then only copies them into a string, instead of decoding UTF-8 there (V8's decoder,
  /// two passes, was as costly as `JSON.parse` itself on text like tweets).
  wide: Vec<u16>,
  ascii: bool,
  count: u32,
  utf16_len: u32,
  positions: Vec<f64>,
  offsets: Vec<u32>,
  /// With `spans`: per value, the stage's whole tally before its line (see `counts_before`).
  counts: Vec<f64>,
  input_bytes: usize,
  shaper: Shaper,
  columns: Columns,
  ids: Vec<u32>,
  new_shapes: Vec<(u32, String)>,
  /// Input bytes of the lines built from columns in this batch.
  shaped_bytes: usize,
  /// Batches still to go without shaping, and how many were skipped the last time: when a
  /// batch's lines nearly all went to `JSON.parse` anyway, the next ones skip the shaper (the
  /// validator alone is ~1.7× faster on the worker) and then try it again, backing off.
  skip: u32,
  backoff: u32,
  /// Invalid-line reports, each with the number of values in this batch before it.
  reports: Vec<(u32, InvalidLine)>,
  /// The lengths of the last batch's vectors, reserved when the next batch takes its first line
  /// (see `take`).
  room: Room,
}

/// How much the vectors of a batch held (`Batch::room`).
#[derive(Default)]
struct Room {
  ids: usize,
  columns: [usize; 3],
  offsets: usize,
  positions: usize,
  wide: usize,
}

/// A batch whose columns carry less than 1/this of its bytes makes the next batches skip shaping.
const SHAPED_SHARE_TO_KEEP: usize = 16;
/// Most batches skipped in a row before the shaper is tried again.
const MAX_SKIP: u32 = 32;

impl Batch {
  pub fn new(shape: Shape, extras: Extras) -> Self {
    let mut batch = Self {
      shape,
      extras,
      bytes: Vec::new(),
      wide: Vec::new(),
      ascii: true,
      count: 0,
      utf16_len: 0,
      positions: Vec::new(),
      offsets: Vec::new(),
      counts: Vec::new(),
      input_bytes: 0,
      shaper: Shaper::new(),
      columns: Columns::new(),
      ids: Vec::new(),
      new_shapes: Vec::new(),
      shaped_bytes: 0,
      skip: 0,
      backoff: 0,
      reports: Vec::new(),
      room: Room::default(),
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
    self.counts.clear();
    self.input_bytes = 0;
    self.ids.clear();
    self.new_shapes.clear();
    self.shaped_bytes = 0;
    self.wide.clear();
    self.utf16_len = 0;
    if self.shape == Shape::Json {
      self.bytes.push(b'[');
      self.utf16_len = 1;
    }
  }

  pub fn is_empty(&self) -> bool {
    self.count == 0 && self.reports.is_empty()
  }

  /// Room for as much as the last batch held, once (see `take`).
  fn make_room(&mut self) {
    let room = std::mem::take(&mut self.room);
    self.ids.reserve(room.ids);
    self.columns.reserve(room.columns);
    self.offsets.reserve(room.offsets);
    self.positions.reserve(room.positions);
    self.wide.reserve(room.wide);
  }

  /// With `spans`, after each value: the stage's counters as they stood before that value's line.
  /// A reviver runs in JS, after the stage has counted lines ahead of it; when it throws, the
  /// stream's `stats()` become these, so they cover the lines before the one it threw on whatever
  /// the chunking (lib/ndjson.js, `reviverFailure`).
  pub fn counts_before(&mut self, tally: &[u64]) {
    self.counts.extend(tally.iter().map(|&n| n as f64));
  }

  /// Adds the report of an invalid line, after the values added so far.
  pub fn report(&mut self, report: InvalidLine) {
    self.reports.push((self.count, report));
  }

  pub fn reports(&self) -> usize {
    self.reports.len()
  }

  /// Input bytes gathered so far: the measure for flushing.
  pub fn len_bytes(&self) -> usize {
    self.input_bytes
  }

  /// Whether lines should be offered to [`Batch::push_shaped`] first.
  pub fn wants_shapes(&self) -> bool {
    self.shape == Shape::Columns && self.skip == 0
  }

  /// After a columns batch: whether the next ones should skip the shaper (see `skip`).
  fn plan_shaping(&mut self) {
    if self.shape != Shape::Columns || self.count == 0 {
      return;
    }
    if self.skip > 0 {
      self.skip -= 1;
    } else if self.shaped_bytes * SHAPED_SHARE_TO_KEEP < self.input_bytes {
      self.backoff = (self.backoff * 2).clamp(1, MAX_SKIP);
      self.skip = self.backoff;
    } else {
      self.backoff = 0;
    }
  }

  /// Columns form: shapes (and thereby validates) the line and adds it, as columns or (when
  /// `JSON.parse` builds it cheaper) as text. `false`: the shaper declined it (invalid, or too
  /// deep) and nothing was added; validate it and `push` it.
  pub fn push_shaped(&mut self, line: &[u8], number: u64, offset: u64) -> bool {
    debug_assert_eq!(self.shape, Shape::Columns);
    if self.count == 0 {
      self.make_room();
    }
    match self.shaper.shape(line, &mut self.columns) {
      Shaped::Known(id) => self.ids.push(id),
      Shaped::New(id, signature) => {
        self.ids.push(id);
        self.new_shapes.push((id, signature));
      }
      Shaped::Text => {
        self.push(line, line.is_ascii(), number, offset);
        return true;
      }
      Shaped::Fallback => return false,
    }
    // `ascii` describes the JSON text only, which shaped lines never join: no need to scan them.
    self.shaped_bytes += line.len() + 1;
    self.counted(line, true, number, offset);
    true
  }

  /// Adds one validated line (in the Columns form: one the shaper declined, kept as JSON text).
  pub fn push(&mut self, line: &[u8], ascii: bool, number: u64, offset: u64) {
    if self.count == 0 {
      self.make_room();
    }
    match self.shape {
      Shape::Columns => {
        // A declined line, parsed on its own by JS from its span (one `JSON.parse` per line over
        // a slice was faster than one of a whole `[…]` batch on real records). ASCII lines go
        // into a latin1 text and the others into a text of their own: one non-ASCII line made
        // the whole batch a two-byte string, which `JSON.parse` reads ~1.5× slower.
        self.ids.push(0);
        if ascii {
          let start = self.utf16_len;
          self.bytes.extend_from_slice(line);
          self.utf16_len += line.len() as u32;
          self.offsets.extend_from_slice(&[start, self.utf16_len]);
        } else {
          let start = self.wide.len() as u32;
          utf16_into(line, &mut self.wide);
          self
            .offsets
            .extend_from_slice(&[start | WIDE_SPAN, self.wide.len() as u32]);
        }
      }
      Shape::Json => {
        if self.count > 0 {
          self.bytes.push(b',');
          self.utf16_len += 1;
        }
        self.bytes.extend_from_slice(line);
        if self.extras.spans {
          let start = self.utf16_len;
          self.utf16_len += if ascii {
            line.len() as u32
          } else {
            utf16_len(line)
          };
          self.offsets.extend_from_slice(&[start, self.utf16_len]);
        }
      }
      Shape::Raw => {
        self.bytes.extend_from_slice(line);
        self.offsets.push(self.bytes.len() as u32);
      }
    }
    self.counted(line, ascii, number, offset);
  }

  /// The bookkeeping every added line shares, whatever form it takes.
  fn counted(&mut self, line: &[u8], ascii: bool, number: u64, offset: u64) {
    self.input_bytes += line.len() + 1;
    if self.extras.positions {
      self
        .positions
        .extend_from_slice(&[number as f64, offset as f64]);
    }
    self.ascii &= ascii;
    self.count += 1;
  }

  /// Hands the gathered lines over and starts an empty batch.
  pub fn take(&mut self) -> BatchData {
    self.plan_shaping();
    if self.shape == Shape::Json {
      self.bytes.push(b']');
    }
    // The next batch is likely the size of this one: full batches while data streams, a few
    // bytes while it trickles (a trickling stream does not keep 64 KiB of buffer alive). So the
    // vectors handed over are replaced by empty ones that get room for as much when the next
    // batch takes its first line (`make_room`), not before: an idle parser holds no more than
    // it did. Grown from nothing, they were reallocated, and copied, tens of times a batch.
    let capacity = self.bytes.len() + 64;
    self.room = Room {
      ids: self.ids.len(),
      columns: self.columns.lens(),
      offsets: self.offsets.len(),
      positions: self.positions.len(),
      wide: self.wide.len(),
    };
    let columns = (self.shape == Shape::Columns).then(|| ColumnData {
      ids: std::mem::take(&mut self.ids),
      columns: std::mem::take(&mut self.columns),
      new_shapes: std::mem::take(&mut self.new_shapes),
      wide: std::mem::take(&mut self.wide),
    });
    // A Json text that is not ASCII goes to JS as UTF-16 made here, off the JS thread (as `wide`);
    // its UTF-8 buffer then stays for the next batch.
    let (bytes, wide_text) = if self.shape == Shape::Json && !self.ascii {
      let mut wide_text = Vec::new();
      utf16_into(&self.bytes, &mut wide_text);
      (Vec::new(), wide_text)
    } else {
      (
        std::mem::replace(&mut self.bytes, Vec::with_capacity(capacity)),
        Vec::new(),
      )
    };
    let data = BatchData {
      reports: std::mem::take(&mut self.reports),
      shape: self.shape,
      bytes,
      wide_text,
      count: self.count,
      positions: (self.extras.positions).then(|| std::mem::take(&mut self.positions)),
      offsets: (self.extras.spans || self.shape != Shape::Json)
        .then(|| std::mem::take(&mut self.offsets)),
      counts: (self.extras.spans).then(|| std::mem::take(&mut self.counts)),
      columns,
    };
    self.reset();
    data
  }
}

struct ColumnData {
  ids: Vec<u32>,
  columns: Columns,
  new_shapes: Vec<(u32, String)>,
  wide: Vec<u16>,
}

/// Marks a span (its start) as one in the batch's non-ASCII text rather than its latin1 one.
const WIDE_SPAN: u32 = 1 << 31;

/// One batch on its way to JS:
/// `[form, text|buffer|null, count, positions|null, offsets|null, reports|null]`, for the Text
/// form also `countsBefore|null` (with spans), and for the Columns form also `ids, nums, table,
/// ends, newShapes|null, wide|null` (`offsets` then hold the spans of the declined lines, in
/// `text`, or in `wide` when the start has bit 31 set). A report is `[at, [code, line, offset,
/// excerpt, reason, fatal]]`: it comes after the first `at` values.
pub struct BatchData {
  reports: Vec<(u32, InvalidLine)>,
  shape: Shape,
  bytes: Vec<u8>,
  /// Json form, when its text is not ASCII: that text as UTF-16 (and `bytes` empty).
  wide_text: Vec<u16>,
  count: u32,
  positions: Option<Vec<f64>>,
  offsets: Option<Vec<u32>>,
  counts: Option<Vec<f64>>,
  columns: Option<ColumnData>,
}

/// Batch forms as JS sees them (`lib/ndjson.js`).
const FORM_TEXT: u32 = 0;
const FORM_COLUMNS: u32 = 1;
const FORM_RAW: u32 = 2;

impl ToNapiValue for BatchData {
  unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    let env = Env::from_raw(raw_env);
    let positions = val.positions.map(F64s);
    let offsets = val.offsets.map(U32s);
    let reports = (!val.reports.is_empty()).then_some(val.reports);
    match val.shape {
      Shape::Json => ToNapiValue::to_napi_value(
        raw_env,
        (
          FORM_TEXT,
          // One-byte (latin1) when the text is ASCII, which V8 parses fastest (the check was
          // done on the worker), else the worker's UTF-16: either way only a copy here.
          RawValue(if val.wide_text.is_empty() {
            env.create_string_latin1(&val.bytes)?.raw()
          } else {
            env.create_string_utf16(&val.wide_text)?.raw()
          }),
          val.count,
          positions,
          offsets,
          reports,
          val.counts.map(F64s),
        ),
      ),
      Shape::Raw => ToNapiValue::to_napi_value(
        raw_env,
        (
          FORM_RAW,
          Bytes(val.bytes),
          val.count,
          positions,
          offsets,
          reports,
        ),
      ),
      Shape::Columns => {
        let Some(c) = val.columns else {
          return Err(napi::Error::from_reason("columns batch without columns"));
        };
        // Shaped lines never join the texts; declined ones go to `bytes` only when ASCII.
        let text = if val.bytes.is_empty() {
          None
        } else {
          Some(RawValue(env.create_string_latin1(&val.bytes)?.raw()))
        };
        let wide = if c.wide.is_empty() {
          None
        } else {
          Some(RawValue(env.create_string_utf16(&c.wide)?.raw()))
        };
        let table = match &c.columns.table {
          Table::Latin1(v) => env.create_string_latin1(v)?.raw(),
          Table::Utf16(v) => env.create_string_utf16(v)?.raw(),
        };
        let new_shapes = (!c.new_shapes.is_empty()).then_some(c.new_shapes);
        ToNapiValue::to_napi_value(
          raw_env,
          (
            FORM_COLUMNS,
            text,
            val.count,
            positions,
            offsets,
            reports,
            U32s(c.ids),
            F64s(c.columns.nums),
            RawValue(table),
            U32s(c.columns.ends),
            new_shapes,
            wide,
          ),
        )
      }
    }
  }
}

// Also for the fuzz target (`__test__/fuzz`), which checks batches against an oracle.
#[cfg(any(test, feature = "fuzzing"))]
impl BatchData {
  /// The gathered bytes: `[line,…]` text for the Json form (as UTF-8, also when it goes to JS as
  /// UTF-16), concatenated lines for Raw.
  pub fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
    if self.wide_text.is_empty() {
      std::borrow::Cow::Borrowed(&self.bytes)
    } else {
      std::borrow::Cow::Owned(String::from_utf16_lossy(&self.wide_text).into_bytes())
    }
  }

  pub fn count(&self) -> u32 {
    self.count
  }

  /// `(values before it, code, line, offset)` per report.
  pub fn report_positions(&self) -> Vec<(u32, &'static str, u64, u64)> {
    self
      .reports
      .iter()
      .map(|(at, r)| (*at, r.code, r.line, r.offset))
      .collect()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn json_batches_are_arrays() {
    let mut b = Batch::new(
      Shape::Json,
      Extras {
        positions: true,
        spans: true,
      },
    );
    b.push(b"1", true, 1, 0);
    b.push("\"é😀\"".as_bytes(), false, 3, 4);
    let d = b.take();
    // Not ASCII: the text goes as UTF-16, made on the worker.
    assert!(d.bytes.is_empty());
    assert_eq!(
      d.wide_text,
      "[1,\"é😀\"]".encode_utf16().collect::<Vec<_>>()
    );
    assert_eq!(d.positions.unwrap(), vec![1.0, 0.0, 3.0, 4.0]);
    // "[1," is 3 units; "\"é😀\"" is 1 + 1 + 2 + 1 = 5 units.
    assert_eq!(d.offsets.unwrap(), vec![1, 2, 3, 8]);
    assert!(b.is_empty());
    assert_eq!(b.take().bytes, b"[]");
  }

  #[test]
  fn columns_batches_of_text_skip_the_shaper_for_a_while_then_retry() {
    let mut b = Batch::new(Shape::Columns, Extras::default());
    let plain = format!(r#"{{"url":"{}"}}"#, "a".repeat(300));
    let numbers = b"[1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5]";
    // A batch of plain-string records: text, with spans; the next batch skips the shaper.
    assert!(b.wants_shapes());
    assert!(b.push_shaped(plain.as_bytes(), 1, 0));
    // A plain record with one non-ASCII character: text too, but in the batch's wide text.
    let wide = format!(r#"{{"url":"{}","name":"日本"}}"#, "a".repeat(300));
    assert!(b.push_shaped(wide.as_bytes(), 2, 0));
    let d = b.take();
    assert_eq!(d.bytes, plain.as_bytes());
    let wide16: Vec<u16> = wide.encode_utf16().collect();
    assert_eq!(d.columns.as_ref().unwrap().wide, wide16);
    assert_eq!(
      d.offsets.unwrap(),
      vec![0, plain.len() as u32, WIDE_SPAN, wide16.len() as u32]
    );
    assert_eq!(wide16.len(), wide.len() - 4);
    assert!(!b.wants_shapes(), "skips after a text batch");
    b.push(numbers, true, 2, 0);
    b.take();
    // Retried after one batch; text again doubles the skip.
    assert!(b.wants_shapes());
    assert!(b.push_shaped(plain.as_bytes(), 3, 0));
    b.take();
    for _ in 0..2 {
      assert!(!b.wants_shapes());
      b.push(numbers, true, 4, 0);
      b.take();
    }
    // Number-heavy records are built from columns, and shaping stays on.
    assert!(b.wants_shapes());
    assert!(b.push_shaped(numbers, 5, 0));
    let d = b.take();
    assert!(d.bytes.is_empty() && d.columns.unwrap().wide.is_empty());
    assert!(b.wants_shapes());
  }

  #[test]
  fn raw_batches_keep_end_offsets() {
    let mut b = Batch::new(Shape::Raw, Extras::default());
    b.push(b"ab", true, 1, 0);
    b.push(b"", true, 2, 3);
    b.push(b"c", true, 3, 4);
    let d = b.take();
    assert_eq!(d.bytes, b"abc");
    assert_eq!(d.offsets.unwrap(), vec![2, 2, 3]);
  }
}
