//! `Shaper`: turns valid JSON lines into *columns* plus a *shape*, so JS can build the values with
//! a constructor compiled once per shape instead of running `JSON.parse` on every record.
//!
//! Why: on this machine V8's `JSON.parse` is the ceiling of every JS NDJSON parser (~200 MB/s of
//! small records), while object literals of a fixed shape fed from typed arrays build the same
//! records ~8× faster (measured in-process, 955 935 records of ~100 B). Records in an NDJSON
//! stream almost always share a handful of shapes, so the compile cost is paid a few times.
//!
//! A line becomes:
//! * its shape signature (interned to a small id per stream): `n` number, `b` boolean, `z` null,
//!   `s` string, `{` (`"key"` value)* `}`, `[*` element `]` for an array whose elements all have
//!   one shape, `[` element* `]` for any other array (a tuple). Keys appear as their raw JSON text.
//! * numbers (and booleans as 0/1, and every array's length, before its elements) appended to
//!   `nums` in document order, parsed with Rust's correctly rounded `f64` parser — the same
//!   value V8 computes, `-0` included;
//! * string contents decoded (escapes resolved, lone surrogates kept) into one string table,
//!   latin1 while every character fits in a byte, UTF-16 after that, with end offsets in code
//!   units.
//!
//! Lines that are too deep, too wide, or of a new shape once the stream already has `MAX_SHAPES`,
//! are left to `JSON.parse` (the caller keeps them as JSON text): the columns are rolled back, so
//! the shape path is an optimisation that can always say no.
//!
//! Records come in runs of one shape: after two lines of one shape the next is checked against
//! that shape's signature (`Parse::guided_line`) rather than parsed for its own, and only a line
//! that differs (or is invalid) is parsed again by the general `Parse::line`. The two must agree on
//! every line (a property test and the `shape_values` fuzz target hold them to it): the guided
//! parse is as strict, appends the same columns, and takes no line the general one would refuse.
//!
//! The shaper is also a validator, as strict as `Validator::check` (a property test holds the two
//! to each other): a line it shapes is valid. Anything it declines — invalid, too deep, too many
//! shapes — goes to `Validator::check`, which words the error or lets the line through as text.

use std::collections::HashMap;

use super::validate::{self, skip_plain};

/// Distinct shapes per stream before new ones fall back to `JSON.parse`.
pub const MAX_SHAPES: usize = 256;
/// Longest signature compiled into a constructor.
const MAX_SIGNATURE: usize = 4096;
/// The most room a shaper keeps for its signature after a line: what a line whose signature
/// outgrew `MAX_SIGNATURE` left is let go (see `Shaper::shape`).
const KEPT_SIGNATURE_CAPACITY: usize = 4 * MAX_SIGNATURE;
/// Deepest nesting handled by the (recursive) shaper.
const MAX_DEPTH: usize = 48;
/// A line is built from columns only if it has at least one value `JSON.parse` is slow at (a
/// number other than a short integer, or a string with escapes or non-ASCII characters) per this
/// many bytes; otherwise it goes to `JSON.parse` as text. Measured on the bench corpora (`npm run
/// bench`): `JSON.parse` reads ASCII strings and keys at memcpy-like speed, and records made
/// mostly of them (GitHub API payloads: one such value per 200–500 bytes) were 1.5–6× cheaper to
/// parse than to build from shapes, while number-heavy GeoJSON (one per ~20 bytes) and the
/// generated corpora (one per 34–55 bytes) were 2–5× cheaper to build. Tweets (one per 120–180
/// bytes) sit between: at 128 a tenth of them were built, each of a shape of its own, and
/// compiling those cost more than parsing them; at 96 all are text.
pub const BYTES_PER_COSTLY_VALUE: usize = 96;

/// Integers of up to this many digits (no fraction, no exponent) are not costly: V8's `JSON.parse`
/// reads them straight into a small integer, 17–18 ns each on this machine against 29–68 ns for
/// longer integers and for decimals (its double conversion). Zeek's network logs (ports, byte
/// counts, one decimal timestamp in ~370 bytes) counted one costly value per 63–76 bytes and went
/// to the worker, whose builders then spent more (their compilation on V8's threads, 1.4 ms of
/// process CPU per MB) than they saved on the JS thread.
const CHEAP_INTEGER_DIGITS: usize = 9;

/// Whether a number costs `JSON.parse` more than a short integer (see `CHEAP_INTEGER_DIGITS`):
/// `length` is its text's, sign excluded; `integer`, that it has no fraction and no exponent.
#[inline]
fn costly_number(length: usize, integer: bool) -> bool {
  !integer || length > CHEAP_INTEGER_DIGITS
}

/// Where a stream's bulk input is parsed (`text_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMode {
  /// On the worker: number-heavy records, built from columns.
  Worker = 0,
  /// On the JS thread, as `JSON.parse` text, each line decoded on its own (V8 makes a one-byte
  /// string of a line without a character above U+00FF, which `JSON.parse` reads faster).
  Text = 1,
  /// On the JS thread, as `JSON.parse` text, each chunk's lines decoded together by simdutf
  /// (`ndjson_decode_utf8`): text with many non-ASCII characters, where nearly every line is
  /// two-byte anyway and Node's own decoder took two thirds of what `JSON.parse` does.
  WideText = 2,
}

/// Non-ASCII text is `TextMode::WideText` from one byte in this many: tweets (mostly Japanese)
/// have one in 4–10, the GitHub corpora under one in 1,500.
const WIDE_TEXT_BYTES: usize = 100;

/// Where bulk input that starts with `sample` (from a line start) is cheaper to parse: the
/// measure above (`BYTES_PER_COSTLY_VALUE`), taken by a rough scan instead of a parse (a value cut
/// by the end of the sample still counts). Records the shaper would build (one costly value per
/// 96 bytes: numbers, escaped or non-ASCII strings) go to the worker; other non-ASCII text goes to
/// the JS thread, decoded by simdutf a chunk at a time (`TextMode::WideText`): on tweets the
/// worker, which turned it into UTF-16 off the JS thread, was as fast on a quiet machine, but cost
/// 10–45 % more CPU than a plain JS parser and lost its lead when the second core was busy. A
/// little non-ASCII text (a name with an accent now and then) still counts by the byte, as it
/// costs a line-by-line decode. The JS stage asks when bulk input starts, to choose its text mode,
/// and every 4 MiB after, to keep it (lib/ndjson/inline.js).
pub fn text_mode(sample: &[u8]) -> TextMode {
  // Numbers other than short integers, and strings with escapes.
  let mut costly = 0;
  // Strings with non-ASCII bytes (no escape), and those bytes.
  let mut wide_strings = 0;
  let mut wide_bytes = 0;
  let mut i = 0;
  while i < sample.len() {
    let c = sample[i];
    if c == b'"' {
      let mut escaped = false;
      let mut wide = false;
      i += 1;
      while i < sample.len() && sample[i] != b'"' {
        if sample[i] == b'\\' {
          escaped = true;
          i += 1;
        } else if sample[i] >= 0x80 {
          wide = true;
          wide_bytes += 1;
        }
        i += 1;
      }
      if i < sample.len() {
        if escaped {
          costly += 1;
        } else if wide {
          wide_strings += 1;
        }
      }
    } else if c == b'-' || c.is_ascii_digit() {
      // A number: it runs to the first byte no number has.
      let end = sample[i..]
        .iter()
        .position(|&b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        .map_or(sample.len(), |n| i + n);
      let text = &sample[i..end];
      let digits = text.strip_prefix(b"-").unwrap_or(text);
      if costly_number(digits.len(), digits.iter().all(u8::is_ascii_digit)) {
        costly += 1;
      }
      i = end;
      continue;
    }
    i += 1;
  }
  if (costly + wide_strings) * BYTES_PER_COSTLY_VALUE >= sample.len() {
    // The shaper's own measure, value by value (a non-ASCII string is one): records it builds.
    TextMode::Worker
  } else if wide_bytes * WIDE_TEXT_BYTES >= sample.len() {
    TextMode::WideText
  } else if (costly + wide_strings + wide_bytes) * BYTES_PER_COSTLY_VALUE < sample.len() {
    TextMode::Text
  } else {
    TextMode::Worker
  }
}

/// A string table that is latin1 until a character above U+00FF arrives.
#[derive(Debug)]
pub enum Table {
  Latin1(Vec<u8>),
  Utf16(Vec<u16>),
}

impl Table {
  fn len(&self) -> usize {
    match self {
      Table::Latin1(v) => v.len(),
      Table::Utf16(v) => v.len(),
    }
  }

  fn truncate(&mut self, len: usize) {
    match self {
      Table::Latin1(v) => v.truncate(len),
      Table::Utf16(v) => v.truncate(len),
    }
  }

  #[inline]
  fn push_unit(&mut self, unit: u16) {
    match self {
      Table::Latin1(v) if unit <= 0xFF => v.push(unit as u8),
      Table::Latin1(v) => *self = Table::Utf16(widened(v, v.capacity(), unit)),
      Table::Utf16(v) => v.push(unit),
    }
  }

  /// Copies the run of printable ASCII that starts at `s[i]` inside a string (up to a quote, a
  /// backslash, a control byte or a non-ASCII byte) into the table; returns where it ended.
  #[inline]
  fn push_plain_run(&mut self, s: &[u8], i: usize) -> usize {
    match self {
      Table::Latin1(v) => copy_plain_run(s, i, v),
      Table::Utf16(v) => copy_plain_run(s, i, v),
    }
  }
}

/// A latin1 table's units as UTF-16, then `unit`, with room for `room` units at least (the room the
/// batch made): the table at its batch's first character above U+00FF. Out of line, so that
/// `Table::push_unit`, once a call per escape or non-ASCII character, inlines.
#[cold]
#[inline(never)]
fn widened(latin1: &[u8], room: usize, unit: u16) -> Vec<u16> {
  let mut wide = Vec::with_capacity(room.max(latin1.len() + 1));
  wide.extend(latin1.iter().map(|&b| b as u16));
  wide.push(unit);
  wide
}

/// A code unit of a string table: a latin1 byte or a UTF-16 unit.
trait Unit: Copy + From<u8> {
  /// Stores the 16 bytes of `block` at `at` as 16 units (widened, for UTF-16).
  ///
  /// # Safety
  /// `at` must be valid for writes of 16 units.
  #[cfg(target_arch = "x86_64")]
  unsafe fn store_block(block: std::arch::x86_64::__m128i, at: *mut Self);
}

impl Unit for u8 {
  #[cfg(target_arch = "x86_64")]
  #[inline]
  unsafe fn store_block(block: std::arch::x86_64::__m128i, at: *mut u8) {
    // SAFETY: SSE2 is in the x86_64 baseline; the caller makes `at` valid for 16 bytes.
    unsafe { std::arch::x86_64::_mm_storeu_si128(at.cast(), block) }
  }
}

impl Unit for u16 {
  #[cfg(target_arch = "x86_64")]
  #[inline]
  unsafe fn store_block(block: std::arch::x86_64::__m128i, at: *mut u16) {
    use std::arch::x86_64::{
      _mm_setzero_si128, _mm_storeu_si128, _mm_unpackhi_epi8, _mm_unpacklo_epi8,
    };
    // SAFETY: SSE2 is in the x86_64 baseline; the caller makes `at` valid for 16 units (32
    // bytes), the two stores' 8 units each. Interleaving with zero bytes widens each byte to a
    // little-endian u16, x86_64's order.
    unsafe {
      let zero = _mm_setzero_si128();
      _mm_storeu_si128(at.cast(), _mm_unpacklo_epi8(block, zero));
      _mm_storeu_si128(at.add(8).cast(), _mm_unpackhi_epi8(block, zero));
    }
  }
}

/// [`Table::push_plain_run`] for one kind of table, in one pass: each 16-byte block is stored
/// (widened, for UTF-16) before its stop bytes are looked for, and the table's length then
/// covers only the bytes before the first stop. The run is read once instead of scanned and then
/// copied, and a short run costs a block store instead of a `memmove` call or a scalar widening
/// loop: those two were a fifth of the stage on the generated medium records, which turn most
/// batches' tables UTF-16 (`perf`, `worker_speed`).
#[inline]
fn copy_plain_run<U: Unit>(s: &[u8], mut i: usize, out: &mut Vec<U>) -> usize {
  #[cfg(target_arch = "x86_64")]
  {
    use super::validate::string_stops;
    use std::arch::x86_64::{__m128i, _mm_loadu_si128};
    while i + 16 <= s.len() {
      out.reserve(16);
      let len = out.len();
      // SAFETY: the load reads 16 bytes inside `s` (`i + 16 <= s.len()`; SSE2 is in the x86_64
      // baseline, unaligned loads allowed). `reserve(16)` left room for 16 units after `len`, so
      // the store writes inside the allocation; `set_len` then covers only the `n <= 16` units
      // just written, all initialised.
      let n = unsafe {
        let block = _mm_loadu_si128(s.as_ptr().add(i).cast::<__m128i>());
        U::store_block(block, out.as_mut_ptr().add(len));
        let stops = string_stops(block, true);
        let n = if stops == 0 {
          16
        } else {
          stops.trailing_zeros() as usize
        };
        out.set_len(len + n);
        n
      };
      i += n;
      if n < 16 {
        return i;
      }
    }
  }
  let start = i;
  i = plain_end(s, i);
  out.extend(s[start..i].iter().map(|&b| U::from(b)));
  i
}

/// The columns of one batch.
#[derive(Debug)]
pub struct Columns {
  pub nums: Vec<f64>,
  pub table: Table,
  /// `ends[k]..ends[k + 1]` is string `k`; starts with 0.
  pub ends: Vec<u32>,
}

impl Columns {
  pub fn new() -> Self {
    Self {
      nums: Vec::new(),
      table: Table::Latin1(Vec::new()),
      ends: vec![0],
    }
  }

  /// How many numbers, table units and string ends the columns hold (`Batch::take`).
  pub fn lens(&self) -> [usize; 3] {
    [self.nums.len(), self.table.len(), self.ends.len()]
  }

  /// Room for as many (`Batch::make_room`). The table's room is counted in units, so that its
  /// conversion to UTF-16 (when the first wide character comes) gets as many.
  pub fn reserve(&mut self, [nums, table, ends]: [usize; 3]) {
    self.nums.reserve(nums);
    match &mut self.table {
      Table::Latin1(v) => v.reserve(table),
      Table::Utf16(v) => v.reserve(table),
    }
    self.ends.reserve(ends);
  }

  pub fn is_empty(&self) -> bool {
    self.nums.is_empty() && self.ends.len() == 1
  }
}

impl Default for Columns {
  fn default() -> Self {
    Self::new()
  }
}

struct Unshapeable;

#[derive(Default)]
pub struct Shaper {
  ids: HashMap<Vec<u8>, u32>,
  /// Per id (index `id - 1`): whether JS has been sent its signature.
  announced: Vec<bool>,
  sig: Vec<u8>,
  /// The previous line's signature and id: consecutive records usually share a shape, and a
  /// comparison is cheaper than hashing.
  last: Vec<u8>,
  last_id: u32,
  /// `last`'s jump table (see [`jumps`]), for a line checked against it.
  last_jumps: Vec<u32>,
  /// Lines in a row, the last one included, that were shaped as `last` (0 after a failed check;
  /// lines left to text leave it as it was). From two on, the next line is checked against it
  /// (`Parse::guided_line`) before anything is written: records of one shape come in runs. (A
  /// check that fails costs part of a parse; where shapes alternate in short runs, GeoJSON
  /// features, a third to half of the checks fail, and the stage was as fast as without checks:
  /// cachegrind. Waiting for longer runs after a failure made it slower.)
  run: u32,
  /// The arrays open around a guided parse's current value (kept for their allocation).
  open: Vec<OpenArray>,
  /// Shapes every line it can, costly values or not (`Shaper::eager`).
  eager: bool,
  /// Lines shaped by a guided parse (for the tests that they are).
  #[cfg(test)]
  guided: usize,
}

/// Result of shaping one line.
pub enum Shaped {
  /// Known shape id.
  Known(u32),
  /// A shape seen for the first time: JS must compile `signature` under `id`.
  New(u32, String),
  /// Valid, but cheaper for `JSON.parse` (see [`BYTES_PER_COSTLY_VALUE`]); `cols` is as it was.
  Text,
  /// Leave this line to the validator (invalid, too deep, too wide, too many shapes).
  Fallback,
}

impl Shaper {
  pub fn new() -> Self {
    Self::default()
  }

  /// A shaper that builds every line it can from columns, however few costly values it has: for
  /// the tests and fuzz targets of the shapes themselves, whose short lines would go to text.
  #[cfg(any(test, feature = "fuzzing"))]
  pub fn eager() -> Self {
    Self {
      eager: true,
      ..Self::default()
    }
  }

  /// Appends the line's values to `cols` and returns its shape; on `Fallback`, `cols` is as it
  /// was.
  pub fn shape(&mut self, line: &[u8], cols: &mut Columns) -> Shaped {
    let (nums, strs, table) = (cols.nums.len(), cols.ends.len(), cols.table.len());
    let rollback = |cols: &mut Columns| {
      cols.nums.truncate(nums);
      cols.ends.truncate(strs);
      cols.table.truncate(table);
    };
    let eager = self.eager;
    let cheaper_as_text = |costly: usize| !eager && costly * BYTES_PER_COSTLY_VALUE < line.len();
    if self.run >= 2 {
      // Most likely the previous line's shape: checked against it, nothing written for keys and
      // markers. Any difference (or an invalid line) leaves the line to the general pass below.
      let mut p = Parse::new(line, &mut self.sig, cols, &self.last, &self.last_jumps);
      if p.guided_line(&mut self.open).is_ok() {
        if cheaper_as_text(p.costly) {
          rollback(cols);
          return Shaped::Text;
        }
        #[cfg(test)]
        {
          self.guided += 1;
        }
        return Shaped::Known(self.last_id);
      }
      rollback(cols);
      self.run = 0;
    }
    self.sig.clear();
    let mut p = Parse::new(line, &mut self.sig, cols, &[], &[]);
    let ok = p.line().is_ok();
    let costly = p.costly;
    let wide = self.sig.len() > MAX_SIGNATURE;
    // A signature can outgrow MAX_SIGNATURE before its length is checked (a key is copied whole
    // as it is scanned: a line of `{"<32 MiB>":1}`; a uniform array spelled out again as a tuple),
    // and its room stayed the capacity of every later line's for the stream's life. Let the room
    // past a few signatures go; the signature itself too when it is not used (invalid, too wide).
    if self.sig.capacity() > KEPT_SIGNATURE_CAPACITY {
      if !ok || wide {
        self.sig.clear();
      }
      self.sig.shrink_to(MAX_SIGNATURE);
    }
    if !ok {
      rollback(cols);
      return Shaped::Fallback;
    }
    if cheaper_as_text(costly) {
      rollback(cols);
      return Shaped::Text;
    }
    if !wide {
      let id = if self.last_id != 0 && same_signature(&self.sig, &self.last) {
        self.run = self.run.saturating_add(1);
        Some(self.last_id)
      } else if let Some(&id) = self.ids.get(&self.sig) {
        self.remember(id);
        Some(id)
      } else if self.ids.len() < MAX_SHAPES {
        let id = self.ids.len() as u32 + 1;
        self.ids.insert(self.sig.clone(), id);
        self.announced.push(false);
        self.remember(id);
        Some(id)
      } else {
        None
      };
      if let Some(id) = id {
        let announced = &mut self.announced[id as usize - 1];
        if *announced {
          return Shaped::Known(id);
        }
        *announced = true;
        // The signature is made of ASCII markers and raw key text from a valid UTF-8 line.
        return Shaped::New(id, String::from_utf8_lossy(&self.sig).into_owned());
      }
    }
    // Valid, but no shape for it: too wide, or too many shapes already.
    rollback(cols);
    Shaped::Text
  }

  fn remember(&mut self, id: u32) {
    self.run = 1;
    self.last.clear();
    self.last.extend_from_slice(&self.sig);
    self.last_id = id;
    jumps(&self.last, &mut self.last_jumps);
  }
}

/// For each position of a (valid) signature: at a key's opening quote, the length of the key's
/// raw text, quotes included; at an array's `[`, the position of its `]`; 0 elsewhere. A line
/// checked against the signature then compares a key in one step and knows where a uniform
/// array's element signature ends.
fn jumps(sig: &[u8], out: &mut Vec<u32>) {
  out.clear();
  out.resize(sig.len(), 0);
  let mut open = Vec::new();
  let mut i = 0;
  while i < sig.len() {
    match sig[i] {
      b'"' => {
        // Raw key text: it ends at the first quote no backslash escapes.
        let mut j = i + 1;
        while sig[j] != b'"' {
          j += if sig[j] == b'\\' { 2 } else { 1 };
        }
        out[i] = (j + 1 - i) as u32;
        i = j + 1;
        continue;
      }
      b'[' => open.push(i),
      b']' => {
        let at = open.pop().expect("a valid signature's brackets match");
        out[at] = i as u32;
      }
      _ => {}
    }
    i += 1;
  }
}

/// An array open in a guided parse.
#[derive(Debug)]
struct OpenArray {
  /// Where its length goes in `nums`.
  count_at: usize,
  /// Its elements so far.
  count: usize,
  /// For `[*` element `]`, where the element's signature starts in the guide; `None` for a
  /// tuple, whose elements follow one another in it.
  element: Option<usize>,
}

struct Parse<'a> {
  s: &'a [u8],
  i: usize,
  sig: &'a mut Vec<u8>,
  cols: &'a mut Columns,
  /// Values `JSON.parse` is slow at: numbers but short integers, strings with escapes or
  /// non-ASCII characters.
  costly: usize,
  /// Where the outermost array element being written only to be compared with its array's
  /// first element starts in `sig` (see `array`): the signature's length, for `MAX_SIGNATURE`,
  /// is what comes before it.
  compared_from: Option<usize>,
  /// A guided parse (`guided_line`) checks the line against this signature instead of
  /// writing `sig`: `g` is where it is in `guide`, `jumps` is `guide`'s jump table.
  guide: &'a [u8],
  jumps: &'a [u32],
  g: usize,
}

/// Continuation-byte range allowed after each UTF-8 lead byte (RFC 3629, as `str::from_utf8`).
#[inline]
fn utf8_second(lead: u8) -> Option<(usize, u8, u8)> {
  Some(match lead {
    0xC2..=0xDF => (2, 0x80, 0xBF),
    0xE0 => (3, 0xA0, 0xBF),
    0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
    0xED => (3, 0x80, 0x9F),
    0xF0 => (4, 0x90, 0xBF),
    0xF1..=0xF3 => (4, 0x80, 0xBF),
    0xF4 => (4, 0x80, 0x8F),
    _ => return None,
  })
}

// Every method checks what it reads: this parser is also the validator for the lines it shapes
// (one pass instead of two). Any doubt answers `Unshapeable`, and the caller then asks
// `Validator::check`, which is the one that words the error or declares the line valid.
impl<'a> Parse<'a> {
  fn new(
    s: &'a [u8],
    sig: &'a mut Vec<u8>,
    cols: &'a mut Columns,
    guide: &'a [u8],
    jumps: &'a [u32],
  ) -> Self {
    Self {
      s,
      i: 0,
      sig,
      cols,
      costly: 0,
      compared_from: None,
      guide,
      jumps,
      g: 0,
    }
  }

  #[inline]
  fn peek(&self) -> Result<u8, Unshapeable> {
    self.s.get(self.i).copied().ok_or(Unshapeable)
  }

  #[inline]
  fn expect(&mut self, b: u8) -> Result<(), Unshapeable> {
    if self.peek()? != b {
      return Err(Unshapeable);
    }
    self.i += 1;
    Ok(())
  }

  #[inline]
  fn ws(&mut self) {
    // Every byte that can start or follow a token is above the space, every whitespace byte at
    // or below it: one comparison lets compact JSON (nearly all NDJSON) through.
    while let Some(&b) = self.s.get(self.i) {
      if b > b' ' || !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
        return;
      }
      self.i += 1;
    }
  }

  /// The whole line: one value, surrounded by whitespace only.
  fn line(&mut self) -> Result<(), Unshapeable> {
    self.ws();
    self.value(0)?;
    self.end()
  }

  fn end(&mut self) -> Result<(), Unshapeable> {
    self.ws();
    if self.i != self.s.len() {
      return Err(Unshapeable);
    }
    Ok(())
  }

  fn value(&mut self, depth: usize) -> Result<(), Unshapeable> {
    // The signature's length is what stays written; an element being compared counts on its own:
    // past MAX_SIGNATURE, it leaves the line's signature past it too, whether it equals the first
    // element or is spelled out in a tuple, so a line made to grow it stops here.
    let written = match self.compared_from {
      Some(from) => from.max(self.sig.len() - from),
      None => self.sig.len(),
    };
    if depth > MAX_DEPTH || written > MAX_SIGNATURE {
      return Err(Unshapeable);
    }
    match self.peek()? {
      b'{' => self.object(depth),
      b'[' => self.array(depth),
      b'"' => {
        self.string()?;
        self.sig.push(b's');
        Ok(())
      }
      b't' => self.flag(b"true", 1.0),
      b'f' => self.flag(b"false", 0.0),
      b'n' => {
        self.word(b"null")?;
        self.sig.push(b'z');
        Ok(())
      }
      b'-' | b'0'..=b'9' => {
        self.number()?;
        self.sig.push(b'n');
        Ok(())
      }
      _ => Err(Unshapeable),
    }
  }

  fn word(&mut self, word: &[u8]) -> Result<(), Unshapeable> {
    if !self.s[self.i..].starts_with(word) {
      return Err(Unshapeable);
    }
    self.i += word.len();
    Ok(())
  }

  fn flag(&mut self, word: &[u8], value: f64) -> Result<(), Unshapeable> {
    self.word(word)?;
    self.cols.nums.push(value);
    self.sig.push(b'b');
    Ok(())
  }

  /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, parsed to the `f64` V8 would make.
  ///
  /// Most numbers in real records are short decimals (GeoJSON coordinates: 1–3 digits, a point,
  /// 13–15 digits in every coordinate of counties and 96 % of countries'), which `short_decimal`
  /// reads in two or three words with no loop, and `short_lemire` converts (integers and up to
  /// four digits after the point: Clinger's division); the rest take `number_general` and its
  /// `decimal_value`. Inlined: a call per coordinate cost ~16 instructions of a ~200-instruction
  /// number on counties (callgrind).
  #[inline(always)]
  fn number(&mut self) -> Result<(), Unshapeable> {
    let start = self.i;
    let negative = self.s.get(start) == Some(&b'-');
    let digits = start + negative as usize;
    let Some((mantissa, fraction, end)) = short_decimal(self.s, digits) else {
      return self.number_general();
    };
    // `decimal_value` narrowed to what `short_decimal` gives (no exponent above 0 or below -15, no
    // text to fall back on): calling it here, with `short_lemire` as one of its cases, cost
    // counties 4 % and countries 7 % more instructions. From 5 digits after the point,
    // `short_lemire`, not Clinger's division: the division's latency was a seventh of the stage on
    // GeoJSON (`perf`), and Eisel-Lemire's multiplications in its place, though 7 % more
    // instructions, made the stage 13 % faster there (2026-12-05). Below 5 digits (integers,
    // prices: mantissas under 10^11, which the division takes exactly) `short_lemire` would be
    // exact too, since mantissas that small make no ties, but it measured 1-2 % slower; a zero
    // mantissa has no leading one for it to normalise.
    let magnitude = if fraction < 5 || mantissa == 0 {
      debug_assert!(mantissa <= 1 << 53);
      mantissa as f64 / POW10[fraction]
    } else {
      short_lemire(mantissa, fraction)
    };
    self
      .cols
      .nums
      .push(if negative { -magnitude } else { magnitude });
    self.i = end;
    if costly_number(end - digits, fraction == 0) {
      self.costly += 1;
    }
    Ok(())
  }

  /// Any number `number` accepts, checked and gathered a word at a time, in a loop.
  ///
  /// One pass: the digits are gathered into an integer mantissa while they are checked (`exact`
  /// turns false past 19 digits, and the value then comes from the text).
  #[inline(never)]
  fn number_general(&mut self) -> Result<(), Unshapeable> {
    let s = self.s;
    let start = self.i;
    let negative = s.get(self.i) == Some(&b'-');
    if negative {
      self.i += 1;
    }
    let mut mantissa = 0u64;
    let mut exact = true;
    match self.peek()? {
      b'0' => self.i += 1,
      b'1'..=b'9' => self.gather(&mut mantissa, &mut exact),
      _ => return Err(Unshapeable),
    }
    let mut exponent = 0i64;
    let integer = !matches!(s.get(self.i), Some(b'.' | b'e' | b'E'));
    if s.get(self.i) == Some(&b'.') {
      self.i += 1;
      let from = self.i;
      self.gather(&mut mantissa, &mut exact);
      if self.i == from {
        return Err(Unshapeable);
      }
      exponent -= (self.i - from) as i64;
    }
    if matches!(s.get(self.i), Some(b'e' | b'E')) {
      self.i += 1;
      let minus = match s.get(self.i) {
        Some(b'-') => {
          self.i += 1;
          true
        }
        Some(b'+') => {
          self.i += 1;
          false
        }
        _ => false,
      };
      let from = self.i;
      let mut power = 0i64;
      while self.i < s.len() && s[self.i].is_ascii_digit() {
        // Saturates far beyond any exponent the fast path takes; str::parse sees the text.
        power = (power * 10 + (s[self.i] - b'0') as i64).min(1 << 40);
        self.i += 1;
      }
      if self.i == from {
        return Err(Unshapeable);
      }
      exponent += if minus { -power } else { power };
    }
    let value = if exact {
      decimal_value(mantissa, exponent, negative, &s[start..self.i])?
    } else {
      parse_text(&s[start..self.i])?
    };
    self.cols.nums.push(value);
    if costly_number(self.i - start - negative as usize, integer) {
      self.costly += 1;
    }
    Ok(())
  }

  /// Checks digits at `i` and folds them into `mantissa`; `exact` turns false once a digit no
  /// longer fits (the value then comes from `str::parse`). A word of eight bytes at a time where
  /// the line has them: the digits it starts with are counted and converted together (GeoJSON
  /// coordinates have 2–3 digits before the point and 13–15 after it, which went one at a time).
  #[inline]
  fn gather(&mut self, mantissa: &mut u64, exact: &mut bool) {
    let s = self.s;
    while let Some(block) = s.get(self.i..self.i + 8) {
      let word = u64::from_le_bytes(block.try_into().expect("8 bytes"));
      let n = leading_digits(word);
      if n == 0 {
        return;
      }
      // Below 10^19 after the step: exactly when every digit of it would have fitted one by one.
      if *mantissa < POW10_U64[19 - n] {
        *mantissa = *mantissa * POW10_U64[n] + digits_value(word, n);
      } else {
        *exact = false;
      }
      self.i += n;
      if n < 8 {
        return;
      }
    }
    while self.i < s.len() && s[self.i].is_ascii_digit() {
      if *mantissa < 1_000_000_000_000_000_000 {
        *mantissa = *mantissa * 10 + (s[self.i] - b'0') as u64;
      } else {
        *exact = false;
      }
      self.i += 1;
    }
  }

  fn object(&mut self, depth: usize) -> Result<(), Unshapeable> {
    self.i += 1;
    self.sig.push(b'{');
    self.ws();
    if self.peek()? == b'}' {
      self.i += 1;
      self.sig.push(b'}');
      return Ok(());
    }
    loop {
      self.key()?;
      self.ws();
      self.expect(b':')?;
      self.ws();
      self.value(depth + 1)?;
      self.ws();
      match self.peek()? {
        b'}' => {
          self.i += 1;
          self.sig.push(b'}');
          return Ok(());
        }
        b',' => {
          self.i += 1;
          self.ws();
        }
        _ => return Err(Unshapeable),
      }
    }
  }

  fn array(&mut self, depth: usize) -> Result<(), Unshapeable> {
    self.i += 1;
    self.sig.push(b'[');
    let count_at = self.cols.nums.len();
    self.cols.nums.push(0.0);
    let body = self.sig.len();
    self.ws();
    let mut count = 0usize;
    let mut first_len = 0usize;
    let mut uniform = true;
    if self.peek()? == b']' {
      self.i += 1;
    } else {
      // Whether every element so far is a number (`[*n]`, coordinates): the rest are then parsed
      // without a signature to write and compare, the shaper's hottest loop on GeoJSON.
      let mut numbers = false;
      // Whether every element so far is an array of numbers (`[*[*n]]`, GeoJSON's rings of
      // points): the rest are parsed by `number_array`, again without a signature per element.
      let mut number_arrays = false;
      loop {
        if number_arrays {
          if self.number_array()? {
            count += 1;
            // The `]` / `,` step below, written out again (see the numbers' loop): with this
            // path and the general one sharing one step, counties ran 2–4 % slower; with the
            // numbers' loop replaced by `number_array` for every array, 3–4 % (worker_speed).
            self.ws();
            match self.peek()? {
              b']' => {
                self.i += 1;
                break;
              }
              b',' => {
                self.i += 1;
                self.ws();
                continue;
              }
              _ => return Err(Unshapeable),
            }
          }
          number_arrays = false;
        }
        if numbers && matches!(self.s.get(self.i), Some(b'-' | b'0'..=b'9')) {
          self.number()?;
          count += 1;
          // The `]` / `,` step below, written out again: as a shared helper (even `inline(always)`)
          // this loop ran 3–7 % slower on GeoJSON (worker_speed, counties).
          self.ws();
          match self.peek()? {
            b']' => {
              self.i += 1;
              break;
            }
            b',' => {
              self.i += 1;
              self.ws();
              continue;
            }
            _ => return Err(Unshapeable),
          }
        }
        let start = self.sig.len();
        // An element after the first of an array uniform so far is written only to be compared
        // with the first and cut off: it does not count towards the signature's length.
        let compared = count > 0 && uniform && self.compared_from.is_none();
        if compared {
          self.compared_from = Some(start);
        }
        let element = self.value(depth + 1);
        if compared {
          self.compared_from = None;
        }
        element?;
        if count == 0 {
          first_len = self.sig.len() - start;
          numbers = first_len == 1 && self.sig[start] == b'n';
          // (Its numbers, at depth + 2, passed `value`'s depth check: so will the others'.)
          number_arrays = &self.sig[start..] == b"[*n]";
        } else if uniform {
          numbers = false;
          number_arrays = false;
          if same(&self.sig[start..], &self.sig[body..body + first_len]) {
            self.sig.truncate(start);
          } else {
            // Not uniform after all: spell the elements seen so far out again as a tuple.
            uniform = false;
            let element = self.sig[start..].to_vec();
            let first = self.sig[body..body + first_len].to_vec();
            self.sig.truncate(body + first_len);
            for _ in 1..count {
              self.sig.extend_from_slice(&first);
            }
            self.sig.extend_from_slice(&element);
          }
        }
        count += 1;
        self.ws();
        match self.peek()? {
          b']' => {
            self.i += 1;
            break;
          }
          b',' => {
            self.i += 1;
            self.ws();
          }
          _ => return Err(Unshapeable),
        }
      }
    }
    if uniform && count > 0 {
      self.sig.insert(body, b'*');
    }
    self.sig.push(b']');
    self.cols.nums[count_at] = count as f64;
    Ok(())
  }

  /// The whole line, of exactly the guide's shape: the values appended as `line` appends them,
  /// as strictly checked, the signature checked instead of written. Fails for any other shape.
  ///
  /// A loop over the guide rather than `line`'s recursive descent: the guide says what comes next,
  /// so no byte is dispatched on and no call made per value; `open` holds the arrays open around
  /// the current value. No depth check: the guide's own line had every value at these depths. No
  /// signature-length check: the guide is within `MAX_SIGNATURE`, and so is every prefix of it
  /// that `line` checks (it does not count the elements it writes only to compare).
  fn guided_line(&mut self, open: &mut Vec<OpenArray>) -> Result<(), Unshapeable> {
    let guide = self.guide;
    open.clear();
    self.ws();
    'value: loop {
      // A value, of the kind `guide[g]` says.
      match guide[self.g] {
        b'{' => {
          self.expect(b'{')?;
          self.g += 1;
          self.ws();
          if guide[self.g] != b'}' {
            self.guided_member()?;
            continue 'value;
          }
          self.expect(b'}')?;
          self.g += 1;
        }
        b'[' => {
          self.expect(b'[')?;
          let close = self.jumps[self.g] as usize;
          self.g += 1;
          let count_at = self.cols.nums.len();
          self.cols.nums.push(0.0);
          self.ws();
          if guide[self.g] != b'*' {
            if self.g != close {
              open.push(OpenArray {
                count_at,
                count: 0,
                element: None,
              });
              continue 'value;
            }
            // `[]`.
            self.expect(b']')?;
            self.g += 1;
          } else {
            let element = self.g + 1;
            let count = match &guide[element..close] {
              // `array`'s two loops for these, to the array's end.
              b"n" => self.guided_elements(Self::number)?,
              b"[*n]" => {
                self.guided_elements(|p| p.number_array()?.then_some(()).ok_or(Unshapeable))?
              }
              _ => {
                open.push(OpenArray {
                  count_at,
                  count: 0,
                  element: Some(element),
                });
                self.g = element;
                continue 'value;
              }
            };
            self.cols.nums[count_at] = count as f64;
            self.g = close + 1;
          }
        }
        b's' => {
          self.string()?;
          self.g += 1;
        }
        b'n' => {
          self.number()?;
          self.g += 1;
        }
        b'b' => {
          let (word, value): (&[u8], f64) = match self.peek()? {
            b't' => (b"true", 1.0),
            b'f' => (b"false", 0.0),
            _ => return Err(Unshapeable),
          };
          self.word(word)?;
          self.cols.nums.push(value);
          self.g += 1;
        }
        b'z' => {
          self.word(b"null")?;
          self.g += 1;
        }
        _ => return Err(Unshapeable),
      }
      // After a value: close what ends here, until the guide asks for another value.
      loop {
        self.ws();
        let Some(&next) = guide.get(self.g) else {
          return self.end();
        };
        match next {
          b'"' => {
            self.expect(b',')?;
            self.ws();
            self.guided_member()?;
            continue 'value;
          }
          b'}' => {
            self.expect(b'}')?;
            self.g += 1;
          }
          b']' => {
            let array = open.last_mut().ok_or(Unshapeable)?;
            array.count += 1;
            match (array.element, self.peek()?) {
              (Some(element), b',') => {
                // Another element of a uniform array.
                self.i += 1;
                self.ws();
                self.g = element;
                continue 'value;
              }
              (_, b']') => self.i += 1,
              _ => return Err(Unshapeable),
            }
            self.cols.nums[array.count_at] = array.count as f64;
            open.pop();
            self.g += 1;
          }
          _ => {
            // A tuple's next element.
            self.expect(b',')?;
            self.ws();
            open.last_mut().ok_or(Unshapeable)?.count += 1;
            continue 'value;
          }
        }
      }
    }
  }

  /// An object member in a guided parse, up to its value: key, `:`.
  #[inline(always)]
  fn guided_member(&mut self) -> Result<(), Unshapeable> {
    self.guided_key()?;
    self.ws();
    self.expect(b':')?;
    self.ws();
    Ok(())
  }

  /// The elements of a uniform array in a guided parse, each taken by `element`, to the array's
  /// `]`; returns how many (one at least).
  #[inline(always)]
  fn guided_elements(
    &mut self,
    element: impl Fn(&mut Self) -> Result<(), Unshapeable>,
  ) -> Result<usize, Unshapeable> {
    let mut count = 0;
    loop {
      element(self)?;
      count += 1;
      self.ws();
      match self.peek()? {
        b']' => {
          self.i += 1;
          return Ok(count);
        }
        b',' => {
          self.i += 1;
          self.ws();
        }
        _ => return Err(Unshapeable),
      }
    }
  }

  /// `key` in a guided parse: the line's key must be the guide's, byte for byte. The guide's key
  /// text is a checked JSON string, quotes included, so a line with the same bytes there has the
  /// same key, as valid, ending at the same quote.
  #[inline(always)]
  fn guided_key(&mut self) -> Result<(), Unshapeable> {
    // (Callers are where the guide has a key: after `{`, or after a value where it has `"`.)
    debug_assert_eq!(self.guide.get(self.g), Some(&b'"'));
    let len = self.jumps[self.g] as usize;
    if !same_prefix(&self.s[self.i..], &self.guide[self.g..], len) {
      return Err(Unshapeable);
    }
    self.i += len;
    self.g += len;
    Ok(())
  }

  /// A non-empty array of numbers only at `i` (its `[`), as `value` takes one whose signature is
  /// `[*n]`: its length and numbers appended, nothing written to the signature. False, with
  /// nothing taken or appended, for any other array or value (then `value` parses it). The caller
  /// knows that the numbers are not too deep for `value`: the first element's were not. Inlined
  /// into both callers, `array` and `guided_line`: as a call per GeoJSON point it cost 2 % of the
  /// stage on countries (cachegrind).
  #[inline(always)]
  fn number_array(&mut self) -> Result<bool, Unshapeable> {
    if self.s.get(self.i) != Some(&b'[') {
      return Ok(false);
    }
    let (at, nums, costly) = (self.i, self.cols.nums.len(), self.costly);
    self.i += 1;
    self.ws();
    self.cols.nums.push(0.0);
    let mut count = 0usize;
    loop {
      if !matches!(self.s.get(self.i), Some(b'-' | b'0'..=b'9')) {
        self.i = at;
        self.cols.nums.truncate(nums);
        self.costly = costly;
        return Ok(false);
      }
      self.number()?;
      count += 1;
      self.ws();
      match self.peek()? {
        b']' => {
          self.i += 1;
          break;
        }
        b',' => {
          self.i += 1;
          self.ws();
        }
        _ => return Err(Unshapeable),
      }
    }
    self.cols.nums[nums] = count as f64;
    Ok(true)
  }

  /// A key: checked like any string, but only its raw text, quotes included, is kept: appended
  /// to the signature.
  fn key(&mut self) -> Result<(), Unshapeable> {
    let start = self.i;
    self.expect(b'"')?;
    // Nearly every key is plain ASCII: copied into the signature as it is checked, in one scan,
    // nothing decoded. (Keys were a third of the strings decoded into the table on the generated
    // records, only to be truncated away; then a scan and a `memmove` per key.)
    let sig_len = self.sig.len();
    self.sig.push(b'"');
    let end = copy_plain_run(self.s, self.i, self.sig);
    if self.s.get(end) == Some(&b'"') {
      self.sig.push(b'"');
      self.i = end + 1;
      return Ok(());
    }
    self.sig.truncate(sig_len);
    // A key with escapes or non-ASCII characters: checked, not decoded (decoding it into the
    // table, to be truncated away, turned a latin1 table UTF-16 for the rest of the batch when the
    // key had a character above U+00FF). The validator's string scan checks the escapes and the
    // control bytes, `str::from_utf8` the UTF-8: together what `string` checks.
    let end = validate::string(self.s, start).map_err(|_| Unshapeable)?;
    std::str::from_utf8(&self.s[start..end]).map_err(|_| Unshapeable)?;
    self.sig.extend_from_slice(&self.s[start..end]);
    self.i = end;
    Ok(())
  }

  /// Checks and decodes the string at `i` into the table, and records its end.
  fn string(&mut self) -> Result<(), Unshapeable> {
    self.expect(b'"')?;
    let s = self.s;
    let mut plain = true;
    loop {
      self.i = self.cols.table.push_plain_run(s, self.i);
      match self.peek()? {
        b'"' => {
          self.i += 1;
          break;
        }
        b'\\' => {
          plain = false;
          let unit = match s.get(self.i + 1).copied().ok_or(Unshapeable)? {
            b'"' => b'"' as u16,
            b'\\' => b'\\' as u16,
            b'/' => b'/' as u16,
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => 0x0A,
            b'r' => 0x0D,
            b't' => 0x09,
            b'u' => {
              let hex = s.get(self.i + 2..self.i + 6).ok_or(Unshapeable)?;
              let mut unit = 0u16;
              for &h in hex {
                let d = (h as char).to_digit(16).ok_or(Unshapeable)?;
                unit = (unit << 4) | d as u16;
              }
              self.i += 4;
              unit
            }
            _ => return Err(Unshapeable),
          };
          self.i += 2;
          self.cols.table.push_unit(unit);
        }
        lead if lead >= 0x80 => {
          plain = false;
          // One UTF-8 scalar, checked as strictly as `str::from_utf8`. Two bytes (Latin, Greek,
          // Cyrillic letters: most non-ASCII characters in European text) on a path of their own.
          if (0xC2..=0xDF).contains(&lead) {
            let b = *s.get(self.i + 1).ok_or(Unshapeable)?;
            if !(0x80..=0xBF).contains(&b) {
              return Err(Unshapeable);
            }
            self.i += 2;
            self
              .cols
              .table
              .push_unit(((lead as u16 & 0x1F) << 6) | (b as u16 & 0x3F));
            continue;
          }
          let (len, lo, hi) = utf8_second(lead).ok_or(Unshapeable)?;
          let seq = s.get(self.i..self.i + len).ok_or(Unshapeable)?;
          if !(lo..=hi).contains(&seq[1]) || !seq[2..].iter().all(|&b| (0x80..=0xBF).contains(&b)) {
            return Err(Unshapeable);
          }
          let mut c = (lead as u32) & (0x7F >> len);
          for &b in &seq[1..] {
            c = (c << 6) | (b & 0x3F) as u32;
          }
          self.i += len;
          if c >= 0x10000 {
            let c = c - 0x10000;
            self.cols.table.push_unit(0xD800 | (c >> 10) as u16);
            self.cols.table.push_unit(0xDC00 | (c & 0x3FF) as u16);
          } else {
            self.cols.table.push_unit(c as u16);
          }
        }
        // A raw control character.
        _ => return Err(Unshapeable),
      }
    }
    self.cols.ends.push(self.cols.table.len() as u32);
    if !plain {
      self.costly += 1;
    }
    Ok(())
  }
}

/// Where the run of printable ASCII inside a string that starts at `i` ends: at a quote, a
/// backslash, a control byte, a non-ASCII byte or the end of `s`.
#[inline]
fn plain_end(s: &[u8], i: usize) -> usize {
  let mut i = skip_plain(s, i, true);
  while i < s.len() && (0x20..0x80).contains(&s[i]) && s[i] != b'"' && s[i] != b'\\' {
    i += 1;
  }
  i
}

/// `a == b` for a whole line's signature (tens to hundreds of bytes), compared 16 bytes at a time
/// in line: the `memcmp` call it replaces was 4.5 % of the stage on small records, where every
/// line is compared with the one before.
#[inline]
fn same_signature(a: &[u8], b: &[u8]) -> bool {
  if a.len() != b.len() {
    return false;
  }
  let mut i = 0;
  #[cfg(target_arch = "x86_64")]
  {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8};
    while i + 16 <= a.len() {
      // SAFETY: both loads read 16 bytes inside their slices (`i + 16 <= a.len() == b.len()`);
      // SSE2 is in the x86_64 baseline, unaligned loads allowed.
      let equal = unsafe {
        let x = _mm_loadu_si128(a.as_ptr().add(i).cast::<__m128i>());
        let y = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
        _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) == 0xFFFF
      };
      if !equal {
        return false;
      }
      i += 16;
    }
  }
  same(&a[i..], &b[i..])
}

/// Whether `a` and `b` both start with the same `len` bytes: a key checked against a guide's.
/// Keys are short: one 16-byte block compared, masked to the key's bytes, where both slices have
/// one; a slice comparison otherwise.
#[inline]
fn same_prefix(a: &[u8], b: &[u8], len: usize) -> bool {
  #[cfg(target_arch = "x86_64")]
  if len <= 16 && a.len() >= 16 && b.len() >= 16 {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8};
    // SAFETY: both loads read the first 16 bytes of their slices, which have 16 at least; SSE2 is
    // in the x86_64 baseline, unaligned loads allowed.
    let equal = unsafe {
      let x = _mm_loadu_si128(a.as_ptr().cast::<__m128i>());
      let y = _mm_loadu_si128(b.as_ptr().cast::<__m128i>());
      _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) as u32
    };
    let wanted = (1u32 << len) - 1;
    return equal & wanted == wanted;
  }
  a.len() >= len && b.len() >= len && a[..len] == b[..len]
}

/// `a == b` for the few bytes of an element's signature, without a call to `memcmp`.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
  a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// How many of the 8 bytes of `word` (little-endian: the first byte lowest) are ASCII digits
/// before the first byte that is not, without a branch per byte (SWAR: one word, a few operations).
#[inline]
fn leading_digits(word: u64) -> usize {
  // Digits become 0..=9. A byte is not a digit if that is 10 or more, which adding 0x76 shows in
  // its top bit (no carry leaves a byte: at most 0x7F + 0x76), or if its top bit was set already.
  let x = word ^ 0x3030_3030_3030_3030;
  let not_digit =
    (((x & 0x7F7F_7F7F_7F7F_7F7F) + 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
  (not_digit.trailing_zeros() / 8) as usize
}

/// The value of the first `n` (1..=8) bytes of `word`, which are ASCII digits, the first byte
/// most significant: shifted up so that the bytes after them drop out and zero digits (leading
/// zeros) come in below, then converted as eight digits with three multiplications (the SWAR
/// method of fast_float and simdjson). Subtracting '0' from the bytes after the digits may borrow,
/// but only upwards, into bytes that the shift drops.
#[inline]
fn digits_value(word: u64, n: usize) -> u64 {
  debug_assert!((1..=8).contains(&n) && leading_digits(word) >= n);
  let v = word.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - n));
  let v = (v * 10) + (v >> 8);
  let v1 = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
  let v2 = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
  (v1.wrapping_add(v2) >> 32) as u32 as u64
}

/// A number at `p` (its sign already passed) of the common short form, `[1-9][0-9]{0,6}` or `0`,
/// then optionally `.` and 1–15 digits, with at most 19 digits in all and no exponent: its digits
/// as an integer, how many of them follow the point, and where it ends. `None` for anything else,
/// valid or not, and where fewer than `SHORT_BLOCK` bytes are left in the line: `number_general`
/// reads those (and reports what is wrong). No loop and no per-digit branch: a word for the
/// integer part and one or two for the fraction, whose digits `leading_digits` counts and
/// `digits_value` converts.
#[inline(always)]
fn short_decimal(s: &[u8], p: usize) -> Option<(u64, usize, usize)> {
  let block: &[u8; SHORT_BLOCK] = s.get(p..p + SHORT_BLOCK)?.try_into().ok()?;
  let word = |at: usize| u64::from_le_bytes(block[at..at + 8].try_into().expect("8 bytes"));
  let a = word(0);
  let n1 = leading_digits(a);
  // A leading zero followed by digits is not JSON: left to `number_general` to refuse.
  if n1 == 0 || n1 == 8 || (n1 > 1 && block[0] == b'0') {
    return None;
  }
  let integer = digits_value(a, n1);
  let (mantissa, fraction) = if block[n1] != b'.' {
    (integer, 0)
  } else {
    let b = word(n1 + 1);
    let n2 = leading_digits(b);
    if n2 == 0 {
      return None;
    } else if n2 < 8 {
      (integer * POW10_U64[n2] + digits_value(b, n2), n2)
    } else {
      let c = word(n1 + 9);
      let n3 = leading_digits(c);
      // Over 19 digits the mantissa may not fit: `number_general` keeps what it can.
      if n3 == 8 || n1 + 8 + n3 > 19 {
        return None;
      }
      let m = integer * 100_000_000 + digits_value(b, 8);
      if n3 == 0 {
        (m, 8)
      } else {
        (m * POW10_U64[n3] + digits_value(c, n3), 8 + n3)
      }
    }
  };
  let end = n1 + (fraction > 0) as usize + fraction;
  // `e` or `E` (the only bytes that `| 0x20` makes `e`): an exponent, read by `number_general`.
  if block[end] | 0x20 == b'e' {
    return None;
  }
  Some((mantissa, fraction, p + end))
}

/// The bytes `short_decimal` reads from a number's first digit: three words, enough for the
/// longest short decimal (23 bytes) and the byte after it.
const SHORT_BLOCK: usize = 24;

/// The `f64` V8 makes of `±mantissa × 10^exponent`, whose text (for what neither fast method
/// decides) is `text`. A mantissa of up to 53 bits with a power of ten up to 22 is the exact
/// quotient or product of two exact `f64`s, so one IEEE operation rounds it correctly (Clinger's
/// fast path, the one `str::parse` tries first); other mantissas (17-digit coordinates, large
/// exponents) go to Eisel-Lemire, as in `str::parse`; a near-halfway case to `str::parse` itself.
#[inline(always)]
fn decimal_value(
  mantissa: u64,
  exponent: i64,
  negative: bool,
  text: &[u8],
) -> Result<f64, Unshapeable> {
  let magnitude = if mantissa <= 1 << 53 && (-22..=22).contains(&exponent) {
    let m = mantissa as f64;
    Some(if exponent < 0 {
      m / POW10[(-exponent) as usize]
    } else {
      m * POW10[exponent as usize]
    })
  } else {
    lemire(mantissa, exponent)
  };
  match magnitude {
    Some(v) if negative => Ok(-v),
    Some(v) => Ok(v),
    None => parse_text(text),
  }
}

/// `str::parse` of a number's text, which `number` or `number_general` has matched.
#[cold]
fn parse_text(text: &[u8]) -> Result<f64, Unshapeable> {
  // SAFETY: the bytes matched are ASCII digits, signs, dots and exponent markers.
  let text = unsafe { std::str::from_utf8_unchecked(text) };
  text.parse().map_err(|_| Unshapeable)
}

/// `mantissa × 10^-k` correctly rounded, for a non-zero mantissa and k = 5–15: what
/// `short_decimal` reads with 5–15 digits after the point. Eisel-Lemire as `lemire` runs it,
/// written out for this range, where it always decides: one or two products with 5^-k's 128 bits
/// are exact enough (k ≤ 27), the value is normal and finite (10^-15 ≤ it < 2^64 × 10^-5), and no
/// value is a tie to round to even (a tie needs 5^k to divide a mantissa of at least 2^53 × 5^k,
/// so k ≤ 4 below 2^64). Every coordinate of GeoJSON counties comes here; `lemire`, a call each,
/// took 73 instructions of those above 2^53 (callgrind), and Clinger's division, for the others,
/// stalled the stage on its latency.
#[inline(always)]
fn short_lemire(mantissa: u64, k: usize) -> f64 {
  debug_assert!(mantissa > 0 && (5..=15).contains(&k));
  let lz = mantissa.leading_zeros();
  let w = mantissa << lz;
  let (pow_hi, pow_lo) = RECIPROCAL_POW5[k - 1];
  let first = w as u128 * pow_hi as u128;
  let (mut lo, mut hi) = (first as u64, (first >> 64) as u64);
  // The 55 bits kept (52 stored, the hidden one, one to round by, one for a leading zero) may
  // still take a carry from the low half: then the second product, as in `lemire`.
  const UNDECIDED: u64 = u64::MAX >> 55;
  if hi & UNDECIDED == UNDECIDED {
    let second = ((w as u128 * pow_lo as u128) >> 64) as u64;
    lo = lo.wrapping_add(second);
    hi += (second > lo) as u64;
  }
  let upper = (hi >> 63) as u32;
  let mut m = hi >> (upper + 9);
  // ⌊log2(10^-k)⌋ + 63 (Eisel-Lemire's `power`), then this mantissa's shift, then the bias.
  let q = -(k as i32);
  let mut power2 = ((q * (152_170 + 65_536)) >> 16) + 63 + upper as i32 - lz as i32 + 1023;
  m += m & 1;
  m >>= 1;
  if m >= 2 << 52 {
    m = 1 << 52;
    power2 += 1;
  }
  f64::from_bits((m & !(1 << 52)) | (power2 as u64) << 52)
}

/// 5^-k for k = 1..=15 as Eisel-Lemire multiplies by it (`short_lemire` takes k = 5–15; k - 1
/// indexes the table): the first 128 bits of its binary expansion from the leading one, plus one
/// (`⌊2^(127 + z) / 5^k⌋ + 1`, z the bit length of 5^k; the tables of fast_float and lexical
/// hold the same numbers), as (high, low) halves. Computed here, by long division one bit at a
/// time.
const RECIPROCAL_POW5: [(u64, u64); 15] = {
  let mut table = [(0u64, 0u64); 15];
  let mut k = 1;
  while k <= 15 {
    let divisor = 5u128.pow(k as u32);
    let mut z = 0;
    while (1u128 << z) < divisor {
      z += 1;
    }
    // 2^(127 + z): a one, then 127 + z zero bits, brought down one at a time.
    let (mut quotient, mut rest) = (0u128, 1u128);
    let mut bit = 0;
    while bit < 127 + z {
      rest <<= 1;
      quotient <<= 1;
      if rest >= divisor {
        rest -= divisor;
        quotient |= 1;
      }
      bit += 1;
    }
    let c = quotient + 1;
    table[k - 1] = ((c >> 64) as u64, c as u64);
    k += 1;
  }
  table
};

/// `mantissa × 10^exponent` correctly rounded by Eisel-Lemire, or `None` where it cannot decide
/// (a near-halfway case, signalled by a negative biased exponent): then `str::parse` does.
#[inline]
fn lemire(mantissa: u64, exponent: i64) -> Option<f64> {
  use lexical_parse_float::float::extended_to_float;
  let fp = lexical_parse_float::lemire::compute_float::<f64>(exponent, mantissa, false);
  (fp.exp >= 0).then(|| extended_to_float::<f64>(fp))
}

/// The powers of ten a `u64` holds.
const POW10_U64: [u64; 20] = {
  let mut t = [1u64; 20];
  let mut k = 1;
  while k < 20 {
    t[k] = t[k - 1] * 10;
    k += 1;
  }
  t
};

/// The powers of ten an `f64` holds exactly.
const POW10: [f64; 23] = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  1e18, 1e19, 1e20, 1e21, 1e22,
];

#[cfg(test)]
mod tests {
  use super::*;

  fn shape(line: &str) -> (String, Vec<f64>, Vec<u16>, Vec<u32>) {
    let mut shaper = Shaper::eager();
    let mut cols = Columns::new();
    let sig = match shaper.shape(line.as_bytes(), &mut cols) {
      Shaped::New(_, sig) => sig,
      _ => panic!("expected a new shape"),
    };
    let table = match cols.table {
      Table::Latin1(v) => v.iter().map(|&b| b as u16).collect(),
      Table::Utf16(v) => v,
    };
    (sig, cols.nums, table, cols.ends)
  }

  /// The bits of the first two numbers of a line the eager shaper takes as a new shape (`nums[1]`
  /// and `nums[2]`: after the array's length), or `None` if it does not take it.
  fn two_numbers(line: &str) -> Option<(u64, u64)> {
    let mut cols = Columns::new();
    matches!(
      Shaper::eager().shape(line.as_bytes(), &mut cols),
      Shaped::New(..)
    )
    .then(|| (cols.nums[1].to_bits(), cols.nums[2].to_bits()))
  }

  #[test]
  fn flat_record() {
    let (sig, nums, table, ends) = shape(r#"{"id":1,"ok":true,"u":"ab","x":null,"f":-0.5e1}"#);
    assert_eq!(sig, r#"{"id"n"ok"b"u"s"x"z"f"n}"#);
    assert_eq!(nums, vec![1.0, 1.0, -5.0]);
    assert_eq!(String::from_utf16(&table).unwrap(), "ab");
    assert_eq!(ends, vec![0, 2]);
  }

  #[test]
  fn keys_keep_their_raw_text_and_are_checked_like_strings() {
    // Plain keys are copied into the signature as they are scanned (nothing written to the
    // table); the others, even after a long plain start, take the full string path. Both put
    // the raw key text in the signature and write no value for it.
    let long = "k".repeat(40);
    let line = format!(r#"{{"a":1,"{long}":2,"x\"y":3,"é":4,"{long}\"z":5,"\u00e9":"v"}}"#);
    let (sig, nums, table, ends) = shape(&line);
    assert_eq!(
      sig,
      format!(r#"{{"a"n"{long}"n"x\"y"n"é"n"{long}\"z"n"\u00e9"s}}"#)
    );
    assert_eq!(nums, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(String::from_utf16(&table).unwrap(), "v");
    assert_eq!(ends, vec![0, 1]);
    for bad in [
      &b"{\"a\tb\":1}"[..],            // a raw control character
      b"{\"a\xFFb\":1}",               // not UTF-8
      b"{\"a\\qb\":1}",                // an unknown escape
      b"{\"ab",                        // cut short inside the key
      b"{\"kkkkkkkkkkkkkkkkkkkkkkkkk", // cut short after a SIMD block
    ] {
      let shaped = Shaper::eager().shape(bad, &mut Columns::new());
      assert!(
        matches!(shaped, Shaped::Fallback),
        "{:?}",
        String::from_utf8_lossy(bad)
      );
    }
  }

  #[test]
  fn uniform_arrays_and_tuples() {
    let (sig, nums, ..) = shape(r#"[[1,2],[3],[],["a",1]]"#);
    // Outer array is not uniform: [*n] [*n] [] [sn].
    assert_eq!(sig, "[[*n][*n][][sn]]");
    assert_eq!(nums, vec![4.0, 2.0, 1.0, 2.0, 1.0, 3.0, 0.0, 2.0, 1.0]);
    let (sig, ..) = shape(r#"[{"a":1},{"a":2}]"#);
    assert_eq!(sig, r#"[*{"a"n}]"#);
  }

  #[test]
  fn arrays_of_number_arrays_leave_their_fast_path_cleanly() {
    let (sig, nums, ..) = shape("[[1,2],[3.5,-0],[4]]");
    assert_eq!(sig, "[*[*n]]");
    assert_eq!(nums, vec![3.0, 2.0, 1.0, 2.0, 2.0, 3.5, -0.0, 1.0, 4.0]);
    assert!(nums[6].is_sign_negative());
    // An element that is not all numbers is taken back and parsed again as any value.
    let (sig, nums, table, ends) = shape(r#"[[1,2],[3,"x"],[4]]"#);
    assert_eq!(sig, "[[*n][ns][*n]]");
    assert_eq!(nums, vec![3.0, 2.0, 1.0, 2.0, 2.0, 3.0, 1.0, 4.0]);
    assert_eq!((table, ends), (vec![b'x' as u16], vec![0, 1]));
    assert_eq!(shape("[[1,2],[3,[4]]]").0, "[[*n][n[*n]]]");
    assert_eq!(shape("[[1,2],[3,4] ,5]").0, "[[*n][*n]n]");
    assert_eq!(shape("[[1,2], [ 3 , 4 ] ]").0, "[*[*n]]");
    for invalid in [
      "[[1,2],[3,]]",
      "[[1,2],[3 4]]",
      "[[1,2],[-]]",
      "[[1,2],[3,4]",
      "[[1,2],[3",
    ] {
      let mut cols = Columns::new();
      cols.nums.push(7.0);
      assert!(
        matches!(
          Shaper::eager().shape(invalid.as_bytes(), &mut cols),
          Shaped::Fallback
        ),
        "{invalid}"
      );
      assert_eq!(cols.nums, vec![7.0], "{invalid}");
    }
    // A costly number in an element taken back counts once: one per 96 bytes or more is text.
    let line = format!(r#"[[1,2],[1.5,"{}"]]"#, "a".repeat(100));
    let mut cols = Columns::new();
    assert!(matches!(
      Shaper::new().shape(line.as_bytes(), &mut cols),
      Shaped::Text
    ));
    assert!(cols.is_empty());
  }

  #[test]
  fn digits_are_gathered_a_word_at_a_time_at_every_length() {
    // Every count of digits a word can start with, followed by every kind of byte that ends a
    // number, at the start of a word and straddling the next.
    for digits in 1..=24 {
      let text: String = (0..digits)
        .map(|k| char::from(b'1' + (k % 9) as u8))
        .collect();
      for number in [
        text.clone(),
        format!("-{text}"),
        format!("0.{text}"),
        format!("{text}.5"),
        format!("-{text}e3"),
        format!("7.{text}e-3"),
      ] {
        for line in [
          format!("[{number}]"),
          format!("[{number},1]"),
          format!("[{number} ]"),
        ] {
          let (_, nums, ..) = shape(&line);
          let expected: f64 = number.parse().unwrap();
          assert_eq!(nums[1].to_bits(), expected.to_bits(), "{line}");
        }
      }
    }
    // Each byte value at each position of a word of digits, and below it bytes that borrow.
    for at in 0..8 {
      for byte in 0..=255u8 {
        let mut word = *b"98765432";
        word[at] = byte;
        let n = if byte.is_ascii_digit() { 8 } else { at };
        assert_eq!(leading_digits(u64::from_le_bytes(word)), n, "{word:?}");
        if n > 0 {
          let expected: u64 = std::str::from_utf8(&word[..n]).unwrap().parse().unwrap();
          assert_eq!(
            digits_value(u64::from_le_bytes(word), n),
            expected,
            "{word:?}"
          );
        }
      }
    }
  }

  #[test]
  fn signatures_compare_equal_exactly_when_they_are() {
    // Every length around the 16-byte blocks, and a difference at every position of each.
    for len in 0..70usize {
      let a: Vec<u8> = (0..len).map(|k| b'a' + (k % 26) as u8).collect();
      assert!(same_signature(&a, &a.clone()), "{len}");
      if len > 0 {
        assert!(!same_signature(&a, &a[..len - 1]), "{len}: a prefix");
      }
      for at in 0..len {
        let mut b = a.clone();
        b[at] ^= 0x80;
        assert!(!same_signature(&a, &b), "{len} at {at}");
      }
    }
  }

  #[test]
  fn text_mode_is_for_plain_and_non_ascii_text() {
    let plain = format!(
      r#"{{"url":"https://api.example/{}","ok":true}}"#,
      "a/".repeat(60)
    );
    let lines = |line: &str| format!("{line}\n").repeat(40);
    assert_eq!(TextMode::Text, text_mode(lines(&plain).as_bytes()));
    // Numbers and strings with escapes each count, one per value.
    let geo = r#"{"type":"Point","coordinates":[-99.199405601256,48.370996157151566]}"#;
    assert_eq!(TextMode::Worker, text_mode(lines(geo).as_bytes()));
    let escaped = format!(r#"{{"s":"{}"}}"#, r"a\n".repeat(2));
    assert_eq!(TextMode::Worker, text_mode(lines(&escaped).as_bytes()));
    // So do strings with non-ASCII characters, a value each: records of short ones are built.
    assert_eq!(
      TextMode::Worker,
      text_mode(lines(r#"{"s":"é"}"#).as_bytes())
    );
    // Non-ASCII text is decoded on the JS thread by simdutf when it is one byte in a hundred or
    // more (a record with a sentence of Japanese); a single "é" in 300 bytes is plain text.
    let tweet = format!(
      r#"{{"text":"{}","url":"{}"}}"#,
      "日本語の文章".repeat(4),
      "a".repeat(200)
    );
    assert_eq!(TextMode::WideText, text_mode(lines(&tweet).as_bytes()));
    let accent = format!(r#"{{"name":"José","url":"{}"}}"#, "a".repeat(300));
    assert_eq!(TextMode::Text, text_mode(lines(&accent).as_bytes()));
    // Numbers decide first: number-heavy records with names in any script go to the worker; and a
    // little non-ASCII text still counts by the byte beside a few costly values.
    let place = r#"{"name":"Zürich","coordinates":[8.5417,47.3769]}"#;
    assert_eq!(TextMode::Worker, text_mode(lines(place).as_bytes()));
    let some = format!(r#"{{"name":"José","n":1.5,"url":"{}"}}"#, "a".repeat(300));
    assert_eq!(TextMode::Worker, text_mode(lines(&some).as_bytes()));
    // Digits inside a number or a string start no new value: one number per 130 bytes is plain.
    let long_number = format!(
      r#"{{"n":-1.{}e+5,"s":"123 456 {}"}}"#,
      "9".repeat(40),
      "x".repeat(70)
    );
    assert_eq!(TextMode::Text, text_mode(lines(&long_number).as_bytes()));
    // Integers of up to nine digits are not costly (JSON.parse makes small integers of them
    // quickly); longer ones, decimals and exponents are. A Zeek connection log line:
    let conn = r#"{"ts":1575413158.087263,"uid":"CR8ZpVmTHDmAU6bK3","id.orig_h":"10.18.20.97","id.orig_p":49216,"id.resp_h":"67.195.204.151","id.resp_p":443,"proto":"tcp","orig_bytes":1205,"resp_bytes":98765432,"missed_bytes":0,"orig_pkts":12,"resp_pkts":-9}"#;
    assert_eq!(TextMode::Text, text_mode(lines(conn).as_bytes()));
    let counts = format!(
      r#"{{"a":123456789,"b":-123456789,"s":"{}"}}"#,
      "x".repeat(140)
    );
    assert_eq!(TextMode::Text, text_mode(lines(&counts).as_bytes()));
    for costly in ["1234567890", "-1234567890", "0.5", "1e5", "12E-1"] {
      let line = format!(r#"{{"a":{costly},"b":{costly},"s":"{}"}}"#, "x".repeat(140));
      assert_eq!(
        TextMode::Worker,
        text_mode(lines(&line).as_bytes()),
        "{costly}"
      );
    }
    // Nothing to go by: the native parser, as for any stream before text mode.
    assert_eq!(TextMode::Worker, text_mode(b""));
  }

  #[test]
  fn strings_decode_escapes_and_utf8() {
    let (_, _, table, ends) = shape(r#"["é\n\u00e9","😀\ud800","日"]"#);
    let expected: Vec<u16> = "é\né😀"
      .encode_utf16()
      .chain([0xD800])
      .chain("日".encode_utf16())
      .collect();
    assert_eq!(table, expected);
    assert_eq!(ends, vec![0, 3, 6, 7]);
  }

  #[test]
  fn numbers_at_the_edges_of_each_path() {
    let cases = [
      "0",
      "-0",
      "-0.0",
      "0.1",
      "1e22",
      "1e23",
      "-1e-22",
      "9007199254740992",
      "9007199254740993",
      "9007199254740993.0",
      "18446744073709551615",
      "18446744073709551616",
      "0.30000000000000004",
      "2.2250738585072011e-308",
      "4.9e-324",
      "2.4703282292062327e-324",
      "1.7976931348623157e308",
      "1.7976931348623159e308",
      "1e309",
      "1e-400",
      "12345678.12345678",
      "0.000000000000000000000000000123",
      "123456789012345678901234567890",
      "-99.199405601256",
      "48.370996157151566",
      "7.0e+0",
      "1E-7",
      // `short_decimal`'s edges: 7 integer digits and 19 digits in all, then one more of each;
      // a fraction of exactly 8 digits, and of 16 (its third word all digits).
      "9999999.999999999999",
      "9999999.9999999999999",
      "1234567.123456789012",
      "12345678.5",
      "1234567.12345678",
      "1.1234567812345678",
      "9.999999999999999",
      "0.5",
      "-7",
      "1.5e3",
      "1.5E-3",
      // Where Clinger's division hands over to `short_lemire` (5 digits after the point), its
      // smallest value, zeros (the division's), mantissas at and just above 2^53.
      "0.1234",
      "0.12345",
      "1234567.1234",
      "1234567.12345",
      "0.00001",
      "0.000000000000001",
      "0.00000",
      "-0.000000000000000",
      "0.100000000000000",
      "9007199.254740993",
      "9007199.254740992",
      "900719.9254740992",
    ];
    // Each alone at the end of a line (too few bytes left: `number_general`), and with
    // spaces or a string after it (`short_decimal`'s words reach past the number).
    let after = [
      "",
      &" ".repeat(SHORT_BLOCK),
      r#","abcdefghijklmnopqrstuvwxyz""#,
    ];
    for text in cases {
      for after in after {
        let mut cols = Columns::new();
        let line = format!("[{text}{after}]");
        assert!(matches!(
          Shaper::eager().shape(line.as_bytes(), &mut cols),
          Shaped::New(..)
        ));
        let expected: f64 = text.parse().unwrap();
        assert_eq!(cols.nums[1].to_bits(), expected.to_bits(), "{line}");
      }
    }
  }

  #[test]
  fn reciprocal_powers_of_five_are_the_published_ones() {
    // fast_float's and lexical's tables, 5^-1, 5^-9 and 5^-15.
    assert_eq!(
      RECIPROCAL_POW5[0],
      (0xcccc_cccc_cccc_cccc, 0xcccc_cccc_cccc_cccd)
    );
    assert_eq!(
      RECIPROCAL_POW5[8],
      (0x8970_5f41_36b4_a597, 0x3168_0a88_f895_3031)
    );
    assert_eq!(
      RECIPROCAL_POW5[14],
      (0x901d_7cf7_3ab0_acd9, 0x0f9d_3701_4bf6_0a11)
    );
  }

  #[test]
  fn numbers_that_are_not_json_are_refused_on_both_paths() {
    let spaces = " ".repeat(SHORT_BLOCK);
    for text in [
      "01", "-01.5", "1.", "1.e5", "-", "-x", "1e", "1e+", ".5", "00", "1.5e", "+1",
    ] {
      for after in ["", spaces.as_str()] {
        let line = format!("[{text}{after}]");
        assert!(
          matches!(
            Shaper::eager().shape(line.as_bytes(), &mut Columns::new()),
            Shaped::Fallback
          ),
          "{line}"
        );
      }
    }
  }

  #[test]
  fn negative_zero_and_huge_numbers() {
    let (_, nums, ..) = shape("[-0,1e999,1.7976931348623157e308]");
    assert!(nums[1].is_sign_negative() && nums[1] == 0.0);
    assert!(nums[2].is_infinite());
    assert_eq!(nums[3], f64::MAX);
  }

  #[test]
  fn too_deep_falls_back_and_rolls_back() {
    let mut shaper = Shaper::new();
    let mut cols = Columns::new();
    cols.nums.push(7.0);
    let deep = "[".repeat(100) + "1" + &"]".repeat(100);
    assert!(matches!(
      shaper.shape(deep.as_bytes(), &mut cols),
      Shaped::Fallback
    ));
    assert_eq!(cols.nums, vec![7.0]);
  }

  #[test]
  fn shapes_are_interned() {
    let mut shaper = Shaper::eager();
    let mut cols = Columns::new();
    assert!(matches!(
      shaper.shape(b"{\"a\":1}", &mut cols),
      Shaped::New(1, _)
    ));
    assert!(matches!(
      shaper.shape(b"{\"a\":2}", &mut cols),
      Shaped::Known(1)
    ));
    assert!(matches!(
      shaper.shape(b"{\"a\":[2]}", &mut cols),
      Shaped::New(2, _)
    ));
  }

  #[test]
  fn records_of_plain_strings_and_keys_go_to_json_parse() {
    let mut shaper = Shaper::new();
    let mut cols = Columns::new();
    let line = format!(r#"{{"url":"{}","name":"x","ok":true}}"#, "a".repeat(200));
    assert!(matches!(
      shaper.shape(line.as_bytes(), &mut cols),
      Shaped::Text
    ));
    assert!(cols.is_empty());
    // So is one whose numbers are all short integers, which JSON.parse reads as fast.
    let line = format!(r#"{{"url":"{}","n":[1,-2,3,123456789]}}"#, "a".repeat(200));
    assert!(matches!(
      shaper.shape(line.as_bytes(), &mut cols),
      Shaped::Text
    ));
    assert!(cols.is_empty());
    // The same record with costly numbers enough is built from columns, and announced only now.
    let line = format!(
      r#"{{"url":"{}","n":[1.5,1e2,1234567890]}}"#,
      "a".repeat(200)
    );
    assert!(matches!(
      shaper.shape(line.as_bytes(), &mut cols),
      Shaped::New(1, _)
    ));
    // Escaped or non-ASCII strings count as costly too.
    let line = format!(r#"{{"url":"{}","t":["é","\n"]}}"#, "a".repeat(150));
    assert!(matches!(
      shaper.shape(line.as_bytes(), &mut cols),
      Shaped::New(2, _)
    ));
  }

  /// Shapes `lines` in order with one eager shaper and one set of columns, as a batch does, and
  /// describes what became of each line: its signature (a known id read back through the ones
  /// announced) and the columns it appended, the table as UTF-16, or "text" / "fallback"; and
  /// how many lines were shaped by a guided parse.
  fn shape_run(lines: &[String]) -> (Vec<String>, usize) {
    let mut shaper = Shaper::eager();
    let mut cols = Columns::new();
    let mut sigs = HashMap::new();
    let mut out = Vec::new();
    for line in lines {
      let [nums, table, ends] = cols.lens();
      let sig = match shaper.shape(line.as_bytes(), &mut cols) {
        Shaped::New(id, sig) => {
          sigs.insert(id, sig.clone());
          sig
        }
        Shaped::Known(id) => sigs[&id].clone(),
        Shaped::Text => "text".to_string(),
        Shaped::Fallback => "fallback".to_string(),
      };
      let units: Vec<u16> = match &cols.table {
        Table::Latin1(v) => v[table..].iter().map(|&b| b as u16).collect(),
        Table::Utf16(v) => v[table..].to_vec(),
      };
      let ends: Vec<u32> = cols.ends[ends..]
        .iter()
        .map(|&e| e - table as u32)
        .collect();
      let nums: Vec<u64> = cols.nums[nums..].iter().map(|n| n.to_bits()).collect();
      out.push(format!("{sig} {nums:?} {units:?} {ends:?}"));
    }
    (out, shaper.guided)
  }

  /// What a fresh shaper makes of each line on its own (no run, no guide).
  fn shape_alone(lines: &[String]) -> Vec<String> {
    lines
      .iter()
      .map(|line| shape_run(std::slice::from_ref(line)).0.remove(0))
      .collect()
  }

  /// Each variant after two lines of `run`'s shape (so that the variant is checked against it)
  /// comes out as it does from a fresh shaper, and was taken by the guided parse exactly when it
  /// has the run's shape.
  fn after_a_run(run: &str, variants: &[String]) {
    let signature = |line: &str| match Shaper::eager().shape(line.as_bytes(), &mut Columns::new()) {
      Shaped::New(_, sig) => Some(sig),
      _ => None,
    };
    for variant in variants {
      let lines = [run.to_string(), run.to_string(), variant.clone()];
      let (got, guided) = shape_run(&lines);
      assert_eq!(got, shape_alone(&lines), "{variant}");
      assert_eq!(
        guided == 1,
        signature(variant) == signature(run),
        "{variant}"
      );
    }
  }

  #[test]
  fn a_run_of_one_shape_is_checked_against_it() {
    // The run's shape with other values and spacing, then lines that differ from it at every
    // kind of place: a key, a marker, a uniform array's element, a tuple's, an array's length to
    // and from empty, an extra member, a cut line, trailing bytes.
    let run = r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[]}"#;
    let variants = [
      r#"{"a":2.5,"b":"\n","c":[[4],[5,6]],"d":[{"x":null}],"e":[2,"t"],"f":[]}"#,
      r#"{ "a" : -0 , "b" : "" , "c" : [ [ 1 ] ] , "d" : [ { "x" : null } ] , "e" : [ 3 , "u" ] , "f" : [ ] }"#,
      r#"{"A":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[]}"#,
      r#"{"a":true,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[]],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],3],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":0}],"e":[1,"s"],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,2],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s","t"],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[],"e":[1,"s"],"f":[]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[1]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[],"g":1}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s"]}"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[]"#,
      r#"{"a":1.5,"b":"é","c":[[1,2],[3]],"d":[{"x":null},{"x":null}],"e":[1,"s"],"f":[]}x"#,
      r#"[1.5]"#,
    ]
    .map(String::from);
    after_a_run(run, &variants);
    // Arrays of numbers and of number arrays (their own loops), cut short or with an element of
    // another kind, one that a number array's loop could take for a number array.
    let run = r#"{"n":[1.5,2.5],"m":[[1.5],[2.5,3.5]]}"#;
    let variants = [
      r#"{"n":[0.5],"m":[[0.5,1.5]]}"#,
      r#"{"n":[1.5,"#,
      r#"{"n":[1.5,x]}"#,
      r#"{"n":[1.5,[2]],"m":[[1.5],[2.5,3.5]]}"#,
      r#"{"n":[1.5,2.5],"m":[[1.5],"#,
      r#"{"n":[1.5,2.5],"m":[[1.5],31]]}"#,
      r#"{"n":[1.5,2.5],"m":[[1.5],[]]}"#,
      r#"{"n":[1.5,2.5],"m":[[1.5],[2.5,"x"]]}"#,
    ]
    .map(String::from);
    after_a_run(run, &variants);
  }

  #[test]
  fn wide_elements_of_a_uniform_array_are_shaped_alone_and_in_a_run() {
    // An element of some 2,400 bytes of signature: `[E,E]`'s signature is within MAX_SIGNATURE,
    // but the second element, written to be compared with the first, took it past the limit, and
    // the line went to text on its own while a run of `[E]` lines had it shaped (helper-103).
    let members: Vec<String> = (0..300).map(|k| format!(r#""k{k:04}":1.5"#)).collect();
    let element = format!("{{{}}}", members.join(","));
    let one = format!("[{element}]");
    let two = format!("[{element},{element}]");
    assert!(matches!(
      Shaper::new().shape(two.as_bytes(), &mut Columns::new()),
      Shaped::New(..)
    ));
    after_a_run(&one, std::slice::from_ref(&two));
    // A signature that is too long is still not shaped (the validator then lets the line through
    // as text), whole, or spelled out as a tuple once an element differs.
    let wide: Vec<String> = (0..600).map(|k| format!(r#""k{k:04}":1.5"#)).collect();
    let wide = format!("{{{}}}", wide.join(","));
    for line in [
      format!("[{wide}]"),
      format!("[1.5,{wide}]"),
      format!("[{element},{wide}]"),
    ] {
      assert!(matches!(
        Shaper::new().shape(line.as_bytes(), &mut Columns::new()),
        Shaped::Text | Shaped::Fallback
      ));
    }
    // And a compared element is given up once it alone is too long: 200,000 members are not
    // written out (2.4 MB of signature, kept as the shaper's capacity) to be found too many.
    let many: Vec<String> = (0..200_000).map(|k| format!(r#""k{k}":0"#)).collect();
    let line = format!("[0,{{{}}}]", many.join(","));
    let mut shaper = Shaper::new();
    assert!(matches!(
      shaper.shape(line.as_bytes(), &mut Columns::new()),
      Shaped::Fallback
    ));
    assert!(
      shaper.sig.capacity() <= KEPT_SIGNATURE_CAPACITY,
      "{}",
      shaper.sig.capacity()
    );
  }

  #[test]
  fn a_huge_key_leaves_no_room_behind() {
    // A key is copied into the signature as it is scanned: a line with a 1 MiB key (valid, left
    // to text) grew the signature that far, and the shaper kept it as its capacity for good.
    let key = "k".repeat(1 << 20);
    let mut shaper = Shaper::new();
    let record = r#"{"id":1.5,"tags":["a"]}"#;
    for line in [
      format!(r#"{{"{key}":1.5}}"#),
      format!(r#"[{{"{key}":1.5}},{{"{key}":1.5}}]"#),
      format!(r#"{{"{key}":1.5"#),
    ] {
      let mut cols = Columns::new();
      assert!(matches!(
        shaper.shape(line.as_bytes(), &mut cols),
        Shaped::Text | Shaped::Fallback
      ));
      assert!(cols.nums.is_empty() && cols.table.len() == 0);
      assert!(
        shaper.sig.capacity() <= KEPT_SIGNATURE_CAPACITY,
        "{}",
        shaper.sig.capacity()
      );
      // Lines after it are shaped as before.
      assert!(matches!(
        shaper.shape(record.as_bytes(), &mut Columns::new()),
        Shaped::New(..) | Shaped::Known(_)
      ));
    }
  }

  #[test]
  fn a_guided_key_is_compared_whole() {
    // Keys that share a prefix with the guide's, longer and shorter, across 16-byte blocks and
    // at a line's end (fewer than 16 bytes left), escaped and not, and a key whose closing quote
    // is missing.
    let long = "k".repeat(40);
    let run = format!(r#"{{"{long}":1.5,"ab":2.5}}"#);
    let variants = [
      format!(r#"{{"{long}":3.5,"ab":4.5}}"#),
      format!(r#"{{"{long}k":5.5,"ab":6.5}}"#),
      format!(r#"{{"{}":5.5,"ab":6.5}}"#, &long[1..]),
      format!(r#"{{"{}x":5.5,"ab":6.5}}"#, &long[1..]),
      format!(r#"{{"{long}":5.5,"a":6.5}}"#),
      format!(r#"{{"{long}":5.5,"abc":6.5}}"#),
      format!(r#"{{"{long}":5.5,"a\u0062":6.5}}"#),
      format!(r#"{{"{long}":5.5,"a\"":6.5}}"#),
      format!(r#"{{"{long}":5.5,"ab::6.5}}"#),
      format!(r#"{{"{long}":5.5,"ab"}}"#),
      r#"{"ab":1.5,"ab":2.5}"#.to_string(),
    ];
    after_a_run(&run, &variants);
    // Keys of 15 to 17 bytes, quotes included, as the first member (a full block of line after
    // them) and as the last (fewer than 16 bytes of line left).
    for n in 13..=15 {
      let k = "q".repeat(n);
      let run = format!(r#"{{"{k}":1.5,"z":[2.5]}}"#);
      let variants = [
        format!(r#"{{"{k}":0.5,"z":[3.5]}}"#),
        format!(r#"{{"{}r":0.5,"z":[3.5]}}"#, &k[1..]),
        format!(r#"{{"{k}r":0.5,"z":[3.5]}}"#),
        format!(r#"{{"{k}:0.5,"z":[3.5]}}"#),
        format!(r#"{{"{k}::0.5,"z":[3.5]}}"#),
      ];
      after_a_run(&run, &variants);
      let run = format!(r#"{{"z":[2.5],"{k}":1.5}}"#);
      let variants = [
        format!(r#"{{"z":[3.5],"{k}":0.5}}"#),
        format!(r#"{{"z":[3.5],"{}r":0.5}}"#, &k[1..]),
        format!(r#"{{"z":[3.5],"{k}:0.5}}"#),
        format!(r#"{{"z":[3.5],"{k}::0.5}}"#),
      ];
      after_a_run(&run, &variants);
    }
  }

  use crate::ndjson::validate::Validator;
  use proptest::prelude::*;

  /// Valid JSON pieces to mutate; mutations hit every branch of both parsers.
  const SEEDS: &[&str] = &[
    r#"{"a":[1,-2.5e3,"x\u00e9\n",true,false,null],"b":{"c":[]},"é":"日😀"}"#,
    r#"[[1,2],[3],{},"\ud800",-0,0.5,1E+2]"#,
    r#" "a\"b\\c\/" "#,
    "123",
    r#"{"k":{"k":{"k":[{"k":1}]}}}"#,
  ];

  /// A JSON value from a small vocabulary, so that two of them often share a shape or nearly do.
  #[derive(Clone, Debug)]
  enum Json {
    Null,
    Bool(bool),
    Num(&'static str),
    Str(&'static str),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
  }

  const NUMS: &[&str] = &["0", "-0", "1.5", "-2e-3", "1e400", "123456789012", "7"];
  const STRS: &[&str] = &["", "x", "é", "\\n", "\\ud800", "日本", "\\\"q"];
  const KEYS: &[&str] = &["a", "b", "ab", "\\u0061", "é"];

  fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
      Just(Json::Null),
      any::<bool>().prop_map(Json::Bool),
      prop::sample::select(NUMS).prop_map(Json::Num),
      prop::sample::select(STRS).prop_map(Json::Str),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
      prop_oneof![
        prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Arr),
        prop::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(Json::Obj),
      ]
    })
  }

  impl Json {
    fn text(&self) -> String {
      match self {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Num(n) => n.to_string(),
        Json::Str(s) => format!("\"{s}\""),
        Json::Arr(items) => {
          let items: Vec<String> = items.iter().map(Json::text).collect();
          format!("[{}]", items.join(","))
        }
        Json::Obj(members) => {
          let members: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("\"{k}\":{}", v.text()))
            .collect();
          format!("{{{}}}", members.join(","))
        }
      }
    }

    /// The same value with other leaves of the same kinds (the same shape, mostly), and with
    /// `change`, one leaf, member or element changed, added or dropped somewhere.
    fn refill(&self, seed: &mut u64, change: bool) -> Json {
      let mut next = || {
        *seed = seed
          .wrapping_mul(6364136223846793005)
          .wrapping_add(1442695040888963407);
        (*seed >> 33) as usize
      };
      let mut changes = if change { 1 } else { 0 };
      self.refill_with(&mut next, &mut changes)
    }

    fn refill_with(&self, next: &mut impl FnMut() -> usize, changes: &mut usize) -> Json {
      if *changes > 0 && next().is_multiple_of(5) {
        *changes -= 1;
        return match (self, next() % 4) {
          (Json::Arr(items), 0) => Json::Arr(items[..items.len().saturating_sub(1)].to_vec()),
          (Json::Arr(items), 1) => {
            let mut items = items.clone();
            items.push(Json::Num(NUMS[next() % NUMS.len()]));
            Json::Arr(items)
          }
          (Json::Obj(members), 0) => Json::Obj(members[..members.len().saturating_sub(1)].to_vec()),
          (Json::Obj(members), 1) => {
            let mut members = members.clone();
            members.push((KEYS[next() % KEYS.len()], Json::Null));
            Json::Obj(members)
          }
          (_, 2) => Json::Str(STRS[next() % STRS.len()]),
          _ => Json::Bool(true),
        };
      }
      match self {
        Json::Null => Json::Null,
        Json::Bool(_) => Json::Bool(next().is_multiple_of(2)),
        Json::Num(_) => Json::Num(NUMS[next() % NUMS.len()]),
        Json::Str(_) => Json::Str(STRS[next() % STRS.len()]),
        Json::Arr(items) => Json::Arr(items.iter().map(|v| v.refill_with(next, changes)).collect()),
        Json::Obj(members) => Json::Obj(
          members
            .iter()
            .map(|(k, v)| (*k, v.refill_with(next, changes)))
            .collect(),
        ),
      }
    }
  }

  proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// The shaper accepts exactly what the validator accepts (within its depth and size limits),
    /// so shaping can stand in for validation.
    #[test]
    fn shaper_is_as_strict_as_the_validator(
      seed in 0usize..5,
      edits in prop::collection::vec((0usize..200, any::<u8>(), 0u8..3), 0..4),
    ) {
      let mut line = SEEDS[seed].as_bytes().to_vec();
      for (at, byte, op) in edits {
        let at = at % (line.len() + 1);
        match op {
          0 => line.insert(at, byte),
          1 if at < line.len() => { line.remove(at); }
          _ if at < line.len() => line[at] = byte,
          _ => {}
        }
      }
      let shaped = !matches!(Shaper::new().shape(&line, &mut Columns::new()), Shaped::Fallback);
      let valid = Validator::new().check(&line).is_ok();
      prop_assert_eq!(shaped, valid, "line {:?}", String::from_utf8_lossy(&line));
    }

    /// Every number the shaper converts itself (fast path, Eisel-Lemire) is the `f64`
    /// `str::parse` makes — the correctly rounded one, which is V8's — bit for bit.
    #[test]
    fn numbers_match_str_parse(
      negative in any::<bool>(),
      int in "(0|[1-9][0-9]{0,24})",
      frac in prop::option::of("[0-9]{1,24}"),
      exp in prop::option::of((prop::sample::select(vec!["e", "E"]), prop::sample::select(vec!["", "+", "-"]), 0u32..400)),
    ) {
      let mut text = format!("{}{}", if negative { "-" } else { "" }, int);
      if let Some(frac) = frac {
        text = format!("{text}.{frac}");
      }
      if let Some((e, sign, power)) = exp {
        text = format!("{text}{e}{sign}{power}");
      }
      // The second of each pair takes the number-array path; spaces after a number leave its
      // words room to be read by `short_decimal`, the end of the line does not.
      let expected = text.parse::<f64>().unwrap().to_bits();
      let spaces = " ".repeat(SHORT_BLOCK);
      for line in [format!("[{text},{text}]"), format!("[{text} ,{text}{spaces}]")] {
        prop_assert_eq!(two_numbers(&line), Some((expected, expected)), "{}", line);
      }
    }

    /// `short_lemire` on its whole range (k = 5–15, any non-zero 64-bit mantissa, wider than
    /// the 19 digits `short_decimal` gives it), to the bit of `str::parse`, mantissas drawn both
    /// uniformly and by their number of digits (most uniform ones have 19 or 20).
    #[test]
    fn short_lemire_matches_str_parse(
      uniform in 1u64..,
      digits in 1u32..20,
      low in any::<u64>(),
      k in 5usize..16,
    ) {
      let short = 10u64.pow(digits - 1) + low % (9 * 10u64.pow(digits - 1));
      for mantissa in [uniform, short] {
        let expected = format!("{mantissa}e-{k}").parse::<f64>().unwrap();
        prop_assert_eq!(short_lemire(mantissa, k).to_bits(), expected.to_bits(), "{}e-{}", mantissa, k);
      }
    }

    /// Decimals of 16–19 digits with at most 7 before the point (above 2^53, beyond Clinger):
    /// each the `f64` `str::parse` makes, with the point anywhere it can be and the digits
    /// anywhere from just above 2^53 to 10^19 (the 17-digit coordinates of GeoJSON among them).
    #[test]
    fn long_short_decimals_match_str_parse(
      mantissa in (1u64 << 53) + 1..10_000_000_000_000_000_000u64,
      before in 0usize..7,
      negative in any::<bool>(),
    ) {
      let digits = mantissa.to_string();
      // 1–7 digits before the point and at most 15 after it: `short_decimal`'s form.
      let least = digits.len().saturating_sub(15).max(1);
      let before = least + before % (8 - least);
      let sign = if negative { "-" } else { "" };
      let text = format!("{sign}{}.{}", &digits[..before], &digits[before..]);
      let expected = text.parse::<f64>().unwrap().to_bits();
      let line = format!("[{text},{text}{}]", " ".repeat(SHORT_BLOCK));
      prop_assert_eq!(two_numbers(&line), Some((expected, expected)), "{}", text);
    }

    /// Strings and keys of any text, at any alignment, raw or escaped: every value string comes
    /// out in the table as its UTF-16 (the latin1 table while it can), every key in the
    /// signature as its raw text. Runs of plain ASCII are copied 16 bytes at a time, so the
    /// lengths and the padding move each stop byte across block edges.
    #[test]
    fn strings_and_keys_come_out_as_written(
      pairs in prop::collection::vec(("\\PC{0,40}", "(\\PC|[\"\\\\\n\u{7f}]){0,40}", any::<bool>()), 1..6),
      pad in 0usize..17,
    ) {
      // A JSON string for `text`: `"`, `\` and control characters escaped; with `ascii`, every
      // other non-ASCII character too, as \u escapes (surrogate pairs above U+FFFF).
      let quote = |text: &str, ascii: bool| {
        let mut out = String::from("\"");
        for c in text.chars() {
          match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || (ascii && !c.is_ascii()) => {
              for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
              }
            }
            c => out.push(c),
          }
        }
        out.push('"');
        out
      };
      let mut line = " ".repeat(pad) + "{";
      let mut sig = String::from("{");
      let mut units: Vec<u16> = Vec::new();
      let mut ends = vec![0u32];
      for (i, (key, value, ascii)) in pairs.iter().enumerate() {
        if i > 0 {
          line.push(',');
        }
        let key = quote(key, *ascii);
        line += &format!("{key}:{}", quote(value, !*ascii));
        sig += &format!("{key}s");
        units.extend(value.encode_utf16());
        ends.push(units.len() as u32);
      }
      line.push('}');
      sig.push('}');
      let mut cols = Columns::new();
      let shaped = Shaper::eager().shape(line.as_bytes(), &mut cols);
      prop_assert!(matches!(&shaped, Shaped::New(_, got) if *got == sig), "{line}");
      let table: Vec<u16> = match &cols.table {
        Table::Latin1(v) => {
          prop_assert!(units.iter().all(|&u| u <= 0xFF), "latin1 table for wide text");
          v.iter().map(|&b| b as u16).collect()
        }
        Table::Utf16(v) => {
          // Only the values' characters count, not the keys'.
          prop_assert!(units.iter().any(|&u| u > 0xFF), "UTF-16 table for latin1 values: {line}");
          v.clone()
        }
      };
      prop_assert_eq!(table, units, "{}", line);
      prop_assert_eq!(&cols.ends, &ends, "{}", line);
    }

    /// A line checked against the run's shape comes out as it would from a fresh shaper: same
    /// signature, same columns, same text or fallback, for lines of the run's shape with other
    /// values, lines one change away from it, and those lines with bytes edited.
    #[test]
    fn a_guided_line_comes_out_as_an_unguided_one(
      first in json(),
      others in prop::collection::vec((any::<u64>(), any::<bool>()), 1..5),
      edits in prop::collection::vec((0usize..400, any::<u8>(), 0u8..4), 0..3),
    ) {
      let mut lines = vec![first.text(), first.text()];
      for &(seed, change) in &others {
        let mut seed = seed;
        lines.push(first.refill(&mut seed, change).text());
      }
      let mut edited = lines[lines.len() - 1].clone().into_bytes();
      for (at, byte, op) in edits {
        let at = at % (edited.len() + 1);
        match op {
          0 => edited.insert(at, byte),
          1 if at < edited.len() => { edited.remove(at); }
          2 if at < edited.len() => edited[at] = byte,
          _ => {}
        }
      }
      if let Ok(edited) = String::from_utf8(edited) {
        lines.push(edited);
      }
      let (got, guided) = shape_run(&lines);
      prop_assert_eq!(got, shape_alone(&lines), "{:#?}", lines);
      // The third line has the first's shape unless it was changed: it is checked against it.
      prop_assert!(guided > 0 || others[0].1, "{:#?}", lines);
    }

    /// Arbitrary bytes: never a panic, and never shaped when invalid.
    #[test]
    fn arbitrary_bytes_never_panic(line in prop::collection::vec(any::<u8>(), 0..40)) {
      let shaped = !matches!(Shaper::new().shape(&line, &mut Columns::new()), Shaped::Fallback);
      if shaped {
        prop_assert!(Validator::new().check(&line).is_ok());
      }
    }
  }
}
