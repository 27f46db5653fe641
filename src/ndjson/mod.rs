//! The NDJSON parser's native side: frame lines, check each one, gather valid ones into batches.
//!
//! Runs entirely on the transport's worker thread (`crate::transport`). JS receives batches it
//! can parse in one call, and one event per invalid line, in input order. The JS class
//! (`lib/ndjson.js`) owns the stream contract, the policy errors and the values; this module owns
//! the bytes.

pub mod batch;
pub mod filter;
pub mod framer;
pub mod shape;
pub mod utf8;
pub mod validate;

use napi::bindgen_prelude::{Function, JsValue, Object, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

use crate::stats::Tally;
use crate::transport::{NativeStream, Pipe, PipeOptions, Sink, Stage, Stop};
use batch::{Batch, BatchData, Extras, InvalidLine, Shape};
use filter::Filter;
use framer::{Line, LineFramer};
use validate::{SyntaxErrorKind, Validator};

/// Counter names, in `stats()` order; the indices below must follow it.
pub const STAT_NAMES: &[&str] = &[
  "lines",
  "bytes",
  "values",
  "blankLines",
  "invalidLines",
  "longestLine",
  "matchedLines",
  "filteredLines",
];
const LINES: usize = 0;
const BYTES: usize = 1;
const VALUES: usize = 2;
const BLANK: usize = 3;
const INVALID: usize = 4;
const LONGEST: usize = 5;
const MATCHED: usize = 6;
const FILTERED: usize = 7;

pub const ERR_INVALID_JSON: &str = "ERR_SLUICE_INVALID_JSON";
pub const ERR_INVALID_UTF8: &str = "ERR_SLUICE_INVALID_UTF8";
pub const ERR_LINE_TOO_LONG: &str = "ERR_SLUICE_LINE_TOO_LONG";
pub const ERR_BLANK_LINE: &str = "ERR_SLUICE_BLANK_LINE";

/// How many bytes of a bad line its report quotes.
pub(crate) const EXCERPT_CHARS: usize = 64;
/// Invalid-line reports gathered in one batch at most.
const MAX_REPORTS_PER_BATCH: usize = 1024;

/// Parser settings, already validated by `lib/ndjson.js`.
#[napi(object)]
pub struct ParserConfig {
  /// 'values' | 'batches' | 'envelopes' build values; 'lines' hands out raw bytes.
  pub raw_lines: bool,
  /// Build values from columns and shapes (false: one JSON text per batch, for a reviver).
  pub columns: bool,
  pub positions: bool,
  pub spans: bool,
  pub max_line_bytes: f64,
  pub blank_lines_invalid: bool,
  pub skip_invalid: bool,
  /// Invalid lines tolerated in skip mode before the stream fails; negative = no limit.
  pub max_invalid: f64,
  pub batch_bytes: u32,
  pub input_bytes: u32,
  pub credits: u32,
  /// `where` in its string form, as written.
  pub where_expr: Option<String>,
  /// `where` in its object form, as `JSON.stringify` wrote it.
  pub where_object: Option<String>,
  /// `select`: the paths.
  pub select: Option<Vec<String>>,
}

impl ParserConfig {
  fn filter(&self) -> std::result::Result<Option<Filter>, filter::SpecError> {
    Filter::from_options(
      self.where_expr.as_deref(),
      self.where_object.as_deref(),
      self.select.as_deref(),
    )
  }
}

/// What the parser sends to JS: valid lines and the reports of invalid ones, in input order.
pub type ParserData = BatchData;

pub struct ParserStage {
  framer: LineFramer,
  validator: Validator,
  batch: Batch,
  batch_bytes: usize,
  blank_lines_invalid: bool,
  skip_invalid: bool,
  max_invalid: Option<u64>,
  max_line_bytes: u64,
  longest: u64,
  tally: Tally,
  /// With a reviver (`spans`): the tally as it stood before the current line, for the batch
  /// (`Batch::counts_before`).
  before: Option<Vec<u64>>,
  /// Bytes at the start of the input that JS counted before handing the stream over.
  precounted: u64,
  filter: Option<Filter>,
}

impl ParserStage {
  /// Fails only on a `where`/`select` that `check_ndjson_filter` refuses (JS checks first).
  pub fn new(config: &ParserConfig) -> std::result::Result<Self, filter::SpecError> {
    let filter = config.filter()?;
    let shape = if config.raw_lines {
      Shape::Raw
    } else if config.columns {
      Shape::Columns
    } else {
      Shape::Json
    };
    let extras = Extras {
      positions: config.positions,
      spans: config.spans,
    };
    let max_line_bytes = config.max_line_bytes.clamp(1.0, (usize::MAX / 2) as f64) as usize;
    let batch_bytes = config.batch_bytes.max(1) as usize;
    let max_invalid = (config.max_invalid >= 0.0).then_some(config.max_invalid as u64);
    Ok(Self {
      framer: if config.skip_invalid && max_invalid != Some(0) {
        LineFramer::new(max_line_bytes)
      } else {
        // The first invalid line ends the stream: an endless line fails it as soon as it is
        // over the limit, not when (if ever) its newline arrives. (With a budget of invalid
        // lines, from when it is spent: `budget_spent`.)
        LineFramer::new(max_line_bytes).report_overlong_early()
      },
      validator: Validator::new(),
      batch: Batch::new(shape, extras),
      batch_bytes,
      blank_lines_invalid: config.blank_lines_invalid,
      skip_invalid: config.skip_invalid,
      max_invalid,
      max_line_bytes: max_line_bytes as u64,
      longest: 0,
      tally: Tally::new(STAT_NAMES),
      before: config.spans.then(|| Vec::with_capacity(STAT_NAMES.len())),
      precounted: 0,
      filter,
    })
  }

  /// Takes over a stream whose first lines JS parsed itself (`lib/ndjson/inline.js`): the
  /// framer goes on at the next line and the counters from JS's, so `stats()`, line numbers and
  /// offsets read as if this stage had seen the whole stream.
  fn resume(&mut self, from: &ParserResume) {
    self.framer.resume_at(from.line as u64, from.offset as u64);
    self.precounted = (from.bytes - from.offset).max(0.0) as u64;
    let counts = [
      (LINES, from.lines),
      (BYTES, from.bytes),
      (VALUES, from.values),
      (BLANK, from.blank_lines),
      (INVALID, from.invalid_lines),
    ];
    for (field, n) in counts {
      self.tally.add(field, n as u64);
    }
    self.longest = from.longest_line as u64;
    self.tally.raise_to(LONGEST, self.longest);
    if self.budget_spent() {
      self.framer.start_reporting_overlong_early();
    }
  }

  /// `maxInvalid` is used up: the next invalid line fails the stream, as the first does under
  /// onInvalid 'error', so from then on an over-long line is reported as soon as it crosses the
  /// limit and an endless line fails the stream instead of being read for good. The framer is
  /// told where the budget is spent: at a resume (`resume`) or by a chunk's lines (`chunk`).
  fn budget_spent(&self) -> bool {
    self
      .max_invalid
      .is_some_and(|max| self.tally.get(INVALID) >= max)
  }

  fn flush(&mut self, out: &mut dyn Sink<ParserData>) -> std::result::Result<(), Stop> {
    if self.batch.is_empty() {
      return Ok(());
    }
    out.send(self.batch.take())
  }

  fn line(
    &mut self,
    line: Line<'_>,
    out: &mut dyn Sink<ParserData>,
  ) -> std::result::Result<(), Stop> {
    if let Some(before) = &mut self.before {
      before.clear();
      before.extend_from_slice(self.tally.as_slice());
    }
    self.tally.add(LINES, 1);
    let len = line.overlong.unwrap_or(line.bytes.len() as u64);
    if len > self.longest {
      // Kept current line by line, so a `stats()` taken mid-chunk agrees with `lines`.
      self.longest = len;
      self.tally.raise_to(LONGEST, len);
    }
    if let Some(len) = line.overlong {
      let reason = if line.unfinished {
        format!(
          "line is over maxLineBytes ({}): {len} bytes and no end of line yet",
          self.max_line_bytes
        )
      } else {
        format!(
          "line is {len} bytes, over maxLineBytes ({})",
          self.max_line_bytes
        )
      };
      return self.invalid(&line, ERR_LINE_TOO_LONG, reason, out);
    }
    if line.bytes.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
      if self.blank_lines_invalid {
        return self.invalid(&line, ERR_BLANK_LINE, "blank line".into(), out);
      }
      self.tally.add(BLANK, 1);
      return Ok(());
    }
    // A line that would push the batch past its size goes into the next one: JS strings have a
    // maximum length, and a batch holding a huge line next to others could exceed it.
    if self.filter.is_some() {
      return self.filtered(line, out);
    }
    if self.batch.len_bytes() + line.bytes.len() + 1 > self.batch_bytes {
      self.flush(out)?;
    }
    // The shaper validates as it goes; only what it declines needs the validator's verdict.
    let shaped =
      self.batch.wants_shapes() && self.batch.push_shaped(line.bytes, line.number, line.offset);
    let verdict = if shaped {
      Ok(None)
    } else {
      self.validator.check(line.bytes).map(Some)
    };
    match verdict {
      Ok(verdict) => {
        if let Some(verdict) = verdict {
          self
            .batch
            .push(line.bytes, verdict.ascii, line.number, line.offset);
          if let Some(before) = &self.before {
            self.batch.counts_before(before);
          }
        }
        self.tally.add(VALUES, 1);
        if self.batch.len_bytes() >= self.batch_bytes {
          self.flush(out)?;
        }
        Ok(())
      }
      Err(e) => self.invalid(&line, error_code(&e), e.to_string(), out),
    }
  }

  /// A line under `where`/`select`: validated first (every line is, matching or not), then
  /// tested, then projected; only what is left reaches the batch.
  fn filtered(
    &mut self,
    line: Line<'_>,
    out: &mut dyn Sink<ParserData>,
  ) -> std::result::Result<(), Stop> {
    let verdict = match self.validator.check_indexing_root(line.bytes) {
      Ok(verdict) => verdict,
      Err(e) => return self.invalid(&line, error_code(&e), e.to_string(), out),
    };
    self.tally.add(VALUES, 1);
    let Some(filter) = self.filter.as_mut() else {
      unreachable!("filtered() runs with a filter");
    };
    if !filter.matches(line.bytes, self.validator.root_members()) {
      self.tally.add(FILTERED, 1);
      return Ok(());
    }
    self.tally.add(MATCHED, 1);
    let projecting = filter.selects();
    let text = filter.project(line.bytes, self.validator.root_members());
    let ascii = if projecting {
      text.is_ascii()
    } else {
      verdict.ascii
    };
    // As in `line`: a line (here its projection, which `[*]` can make longer) that would push
    // the batch past its size goes into the next one.
    if self.batch.len_bytes() + text.len() + 1 > self.batch_bytes && !self.batch.is_empty() {
      out.send(self.batch.take())?;
    }
    let shaped =
      self.batch.wants_shapes() && self.batch.push_shaped(text, line.number, line.offset);
    if !shaped {
      self.batch.push(text, ascii, line.number, line.offset);
      if let Some(before) = &self.before {
        self.batch.counts_before(before);
      }
    }
    if self.batch.len_bytes() >= self.batch_bytes {
      self.flush(out)?;
    }
    Ok(())
  }

  fn invalid(
    &mut self,
    line: &Line<'_>,
    code: &'static str,
    reason: String,
    out: &mut dyn Sink<ParserData>,
  ) -> std::result::Result<(), Stop> {
    self.tally.add(INVALID, 1);
    let over_budget = self
      .max_invalid
      .is_some_and(|max| self.tally.get(INVALID) > max);
    let fatal = match (self.skip_invalid, over_budget) {
      (false, _) => 1,
      (true, true) => 2,
      (true, false) => 0,
    };
    // The report travels in the batch, after the values of the lines before it: skipping many
    // bad lines costs no more hand-offs than parsing good ones.
    self.batch.report(InvalidLine {
      code,
      line: line.number,
      offset: line.offset,
      // Cut when more of the line came (or is still coming) than the framer kept of it.
      excerpt: excerpt(
        line.bytes,
        line.unfinished
          || line
            .overlong
            .is_some_and(|len| len > line.bytes.len() as u64),
      ),
      reason,
      fatal,
    });
    if fatal == 0 {
      if self.batch.reports() >= MAX_REPORTS_PER_BATCH {
        self.flush(out)?;
      }
      Ok(())
    } else {
      // JS turns the report into the stream's error and destroys the stream.
      self.flush(out)?;
      Err(Stop::Reported)
    }
  }
}

/// The error code of a line the validator refused.
fn error_code(e: &validate::SyntaxError) -> &'static str {
  match e.kind {
    SyntaxErrorKind::InvalidUtf8 => ERR_INVALID_UTF8,
    _ => ERR_INVALID_JSON,
  }
}

/// The first characters of a line, decoded leniently: it is for a human reading an error.
fn excerpt(bytes: &[u8], truncated: bool) -> String {
  let mut cut = bytes.len().min(EXCERPT_CHARS);
  // Do not end in the middle of a UTF-8 sequence (at most 3 bytes back: sequences are 4 long).
  let floor = cut.saturating_sub(3);
  while cut < bytes.len() && cut > floor && (bytes[cut] & 0xC0) == 0x80 {
    cut -= 1;
  }
  let mut text = String::from_utf8_lossy(&bytes[..cut]).into_owned();
  if truncated || cut < bytes.len() {
    text.push('…');
  }
  text
}

impl Stage for ParserStage {
  type Data = ParserData;
  const STATS: &'static [&'static str] = STAT_NAMES;

  fn chunk(
    &mut self,
    chunk: &[u8],
    out: &mut dyn Sink<ParserData>,
  ) -> std::result::Result<(), Stop> {
    // The first bytes after a resume were counted by JS already.
    let counted = self.precounted.min(chunk.len() as u64);
    self.precounted -= counted;
    self.tally.add(BYTES, chunk.len() as u64 - counted);
    let mut framer = std::mem::replace(&mut self.framer, LineFramer::new(0));
    let spent = self.budget_spent();
    let mut result = framer.feed(chunk, |line| self.line(line, out));
    if result.is_ok() && !spent && self.budget_spent() {
      // An invalid line of this chunk spent the budget: the line after it may be over the limit.
      framer.start_reporting_overlong_early();
      result = framer.report_pending_overlong(|line| self.line(line, out));
    }
    self.framer = framer;
    result
  }

  fn idle(&mut self, out: &mut dyn Sink<ParserData>) -> std::result::Result<(), Stop> {
    self.flush(out)
  }

  fn end(&mut self, out: &mut dyn Sink<ParserData>) -> std::result::Result<(), Stop> {
    let mut framer = std::mem::replace(&mut self.framer, LineFramer::new(0));
    let result = framer.finish(|line| self.line(line, out));
    self.framer = framer;
    result?;
    self.flush(out)
  }

  fn tally(&self) -> &[u64] {
    self.tally.as_slice()
  }
}

/// A parser's settings, read from JS once and kept: `lib/ndjson.js` keeps one per distinct set
/// of options, so that creating a parser does not read a dozen properties through N-API again
/// (for a parser that lives for one request body, those reads were a good part of its cost).
#[napi]
pub struct NdjsonParserSettings {
  config: ParserConfig,
}

#[napi]
impl NdjsonParserSettings {
  #[napi(constructor)]
  pub fn new(config: ParserConfig) -> Self {
    Self { config }
  }
}

/// Where JS handed a stream over (`lib/ndjson/inline.js`): the next line's number and byte
/// offset (the input JS hands over starts there), and the counters of the lines before it. JS
/// reports no invalid line itself (it hands over at the first one), but a stream it took back
/// from a native stage (text mode again) carries that stage's `invalidLines`, which `maxInvalid`
/// goes on counting from. `bytes` is what JS counted, which may include the start of the
/// handed-over input (a partial line): those bytes are not counted again.
#[napi(object)]
pub struct ParserResume {
  pub line: f64,
  pub offset: f64,
  pub bytes: f64,
  pub lines: f64,
  pub values: f64,
  pub blank_lines: f64,
  pub invalid_lines: f64,
  pub longest_line: f64,
}

/// Starts a parser for the JS stream `owner`; `on_events` receives its events (see
/// `lib/transport.js`). `resume`: JS parsed the stream's first lines itself.
#[napi(catch_unwind)]
pub fn create_ndjson_parser(
  env: Env,
  settings: &NdjsonParserSettings,
  owner: Object<'_>,
  on_events: Function<'_, (), ()>,
  resume: Option<ParserResume>,
) -> Result<NativeStream> {
  let config = &settings.config;
  let mut stage = ParserStage::new(config).map_err(|e| napi::Error::from_reason(e.message))?;
  if let Some(from) = &resume {
    stage.resume(from);
  }
  let options = PipeOptions {
    input_bytes: config.input_bytes as usize,
    credits: config.credits,
  };
  let pipe = Pipe::start(&env, owner, stage, on_events, options)?;
  Ok(NativeStream::new(pipe))
}

/// Where a stream whose bulk input starts with `sample` is parsed (`shape::text_mode`): 0 on the
/// worker, 1 in the JS stage's text mode, 2 in text mode with simdutf decoding (`ndjsonDecodeUtf8`).
#[napi(catch_unwind)]
pub fn ndjson_text_mode(sample: &[u8]) -> u32 {
  shape::text_mode(sample) as u32
}

/// `bytes` as one JS string, decoded from UTF-8 by simdutf, or `null` if they are not valid UTF-8
/// (`utf8::invalid_at`'s verdict). For the JS stage's text mode on text with many non-ASCII
/// characters: `Buffer#toString('utf8')` decodes tweets (mostly Japanese) at 0.73–0.78 GB/s here,
/// two thirds of what `JSON.parse` then takes to read them; simdutf at 4.5–5.2 GB/s. The string
/// is two-byte if any character is above U+00FF, as V8 makes one from UTF-16.
#[napi(catch_unwind, ts_return_type = "string | null")]
pub fn ndjson_decode_utf8(env: Env, bytes: &[u8]) -> Result<Option<Unknown<'_>>> {
  thread_local! {
    // The JS thread's scratch room, kept between calls (a chunk's worth: 64 KiB of input).
    static UNITS: std::cell::RefCell<Vec<u16>> = const { std::cell::RefCell::new(Vec::new()) };
  }
  if utf8::invalid_at(bytes).is_some() {
    return Ok(None);
  }
  UNITS.with_borrow_mut(|units| {
    units.clear();
    utf8::utf16_into(bytes, &mut *units);
    let text = env.create_string_utf16(&units[..]);
    // A chunk needs at most 64 Ki units; room for a million (2 MiB, made for one long line) is
    // let go, so that it does not stay held by the thread, also when V8 refused the string.
    if units.capacity() > 1 << 20 {
      *units = Vec::new();
    }
    let text = text?;
    // SAFETY: `text` was just created in `env`, on this thread.
    Ok(Some(unsafe {
      Unknown::from_raw_unchecked(env.raw(), text.raw())
    }))
  })
}

/// Checks `where` (string form `where_expr`, or the object form's JSON text `where_object`)
/// and `select` as the constructor must: `null` when they compile, else
/// `[isSyntaxError, message]`, the message naming the option and the position.
#[napi(catch_unwind)]
pub fn check_ndjson_filter(
  where_expr: Option<String>,
  where_object: Option<String>,
  select: Option<Vec<String>>,
) -> Option<(bool, String)> {
  Filter::from_options(
    where_expr.as_deref(),
    where_object.as_deref(),
    select.as_deref(),
  )
  .err()
  .map(|e| (e.syntax, e.message))
}

#[cfg(test)]
mod tests {
  use super::*;
  use proptest::prelude::*;

  fn config(skip_invalid: bool) -> ParserConfig {
    ParserConfig {
      raw_lines: false,
      columns: false,
      positions: false,
      spans: false,
      max_line_bytes: 64.0,
      blank_lines_invalid: false,
      skip_invalid,
      max_invalid: -1.0,
      batch_bytes: 40,
      input_bytes: 4 * 65536,
      credits: 2,
      where_expr: None,
      where_object: None,
      select: None,
    }
  }

  /// What the parser reports, with batch boundaries erased: values' text, and invalid lines.
  #[derive(Debug, PartialEq)]
  enum Seen {
    Value(Vec<u8>),
    Invalid(&'static str, u64, u64),
  }

  fn run(chunks: &[&[u8]], skip_invalid: bool) -> (Vec<Seen>, Vec<(&'static str, u64)>) {
    let mut stage = ParserStage::new(&config(skip_invalid)).unwrap();
    let mut out: Vec<BatchData> = Vec::new();
    let mut stopped = false;
    for chunk in chunks {
      if stage.chunk(chunk, &mut out).is_err() {
        stopped = true;
        break;
      }
    }
    if !stopped {
      let _ = stage.end(&mut out);
    }
    let mut seen = Vec::new();
    for batch in out {
      let text = batch.bytes();
      // Each batch is `[v,v,…]` of whole lines; split on the top-level commas we added by
      // re-validating growing prefixes.
      let inner = &text[1..text.len() - 1];
      let mut values = Vec::new();
      let mut start = 0;
      let mut v = Validator::new();
      for k in 0..=inner.len() {
        if (k == inner.len() || inner[k] == b',') && v.check(&inner[start..k]).is_ok() {
          values.push(inner[start..k].to_vec());
          start = k + 1;
        }
      }
      assert_eq!(
        values.len() as u32,
        batch.count(),
        "batch text splits into values"
      );
      let mut next = 0;
      for (at, code, line, offset) in batch.report_positions() {
        while next < at as usize {
          seen.push(Seen::Value(values[next].clone()));
          next += 1;
        }
        seen.push(Seen::Invalid(code, line, offset));
      }
      seen.extend(values[next..].iter().cloned().map(Seen::Value));
    }
    let stats = STAT_NAMES
      .iter()
      .copied()
      .zip(stage.tally().iter().copied())
      .collect();
    (seen, stats)
  }

  fn cut<'a>(input: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = points.iter().map(|p| p % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for p in points {
      chunks.push(&input[last..p]);
      last = p;
    }
    chunks.push(&input[last..]);
    chunks
  }

  const PIECES: &[&str] = &[
    "{\"a\":1}",
    "[1,2,[3]]",
    "\"é日😀\"",
    "null",
    "-0",
    "1e5",
    "   ",
    "",
    "{\"a\":",
    "oops",
    "\"\\ud800\"",
    "[[[[[]]]]]",
    "{\"k\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
    "\u{feff}1",
    "\"\\x\"",
    "true ",
    " false",
  ];

  fn input_from(picks: &[(usize, bool)], bom: bool, final_newline: bool) -> Vec<u8> {
    let mut input = Vec::new();
    if bom {
      input.extend_from_slice(b"\xEF\xBB\xBF");
    }
    for (i, &(piece, crlf)) in picks.iter().enumerate() {
      input.extend_from_slice(PIECES[piece % PIECES.len()].as_bytes());
      if i + 1 < picks.len() || final_newline {
        input.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
      }
    }
    input
  }

  proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Chunk boundaries never change what the parser reports, nor its counters.
    #[test]
    fn chunking_does_not_matter(
      picks in prop::collection::vec((0usize..64, any::<bool>()), 0..24),
      points in prop::collection::vec(0usize..4096, 0..12),
      bom in any::<bool>(),
      final_newline in any::<bool>(),
      skip in any::<bool>(),
    ) {
      // After a fatal error the stage stops mid-input, so how many bytes it was handed depends
      // on the chunking, and so does the length seen of an over-long line that failed the
      // stream before its end; every other counter must not.
      let comparable = |(seen, stats): (Vec<Seen>, Vec<(&'static str, u64)>)| {
        let stats: Vec<_> = stats
          .into_iter()
          .filter(|&(name, _)| skip || (name != "bytes" && name != "longestLine"))
          .collect();
        (seen, stats)
      };
      let input = input_from(&picks, bom, final_newline);
      let whole = comparable(run(&[&input], skip));
      let chunks = cut(&input, &points);
      prop_assert_eq!(&comparable(run(&chunks, skip)), &whole);
      let bytes: Vec<&[u8]> = input.chunks(1).collect();
      prop_assert_eq!(&comparable(run(&bytes, skip)), &whole);
    }
  }

  #[test]
  fn a_line_that_would_overfill_a_batch_starts_the_next_one() {
    // JS strings have a maximum length: a huge line must never be glued to its neighbours.
    let mut stage = ParserStage::new(&config(true)).unwrap();
    let mut out: Vec<BatchData> = Vec::new();
    let long = format!("\"{}\"", "y".repeat(50));
    let input = format!("1\n{long}\n2\n");
    stage.chunk(input.as_bytes(), &mut out).unwrap();
    stage.end(&mut out).unwrap();
    let texts: Vec<_> = out
      .iter()
      .map(|b| String::from_utf8_lossy(&b.bytes()).into_owned())
      .collect();
    assert_eq!(
      texts,
      vec!["[1]".to_string(), format!("[{long}]"), "[2]".to_string()]
    );
  }

  #[test]
  fn filtered_lines_are_counted_and_projections_respect_the_batch_size() {
    let mut config = config(true);
    config.where_expr = Some(".a exists".into());
    config.select = Some(vec!["a[*].b".into()]);
    let mut stage = ParserStage::new(&config).unwrap();
    let mut out: Vec<BatchData> = Vec::new();
    // The second line's projection ([{},…]) is longer than the line: it must not overfill the
    // batch it would join.
    let input = b"{\"a\":[{\"b\":1}]}\n{\"a\":[1,2,3,4,5,6,7,8,9,0,1,2]}\n{\"c\":1}\nx\n";
    stage.chunk(input, &mut out).unwrap();
    stage.end(&mut out).unwrap();
    let texts: Vec<_> = out
      .iter()
      .map(|b| String::from_utf8_lossy(&b.bytes()).into_owned())
      .collect();
    assert_eq!(
      texts,
      vec![
        r#"[{"a":[{"b":1}]}]"#.to_string(),
        r#"[{"a":[{},{},{},{},{},{},{},{},{},{},{},{}]}]"#.to_string(),
        // The last batch carries only the report of line 4.
        "[]".to_string()
      ]
    );
    assert_eq!(
      out[2].report_positions(),
      vec![(0, ERR_INVALID_JSON, 4, 56)]
    );
    let stats: Vec<(&str, u64)> = STAT_NAMES
      .iter()
      .copied()
      .zip(stage.tally().iter().copied())
      .collect();
    for counter in [
      ("values", 3),
      ("invalidLines", 1),
      ("matchedLines", 2),
      ("filteredLines", 1),
    ] {
      assert!(stats.contains(&counter), "{counter:?} in {stats:?}");
    }
  }

  #[test]
  fn reports_keep_input_order_and_stop_on_error() {
    let (seen, _) = run(&[b"1\nx\n2\n"], true);
    assert_eq!(
      seen,
      vec![
        Seen::Value(b"1".to_vec()),
        Seen::Invalid(ERR_INVALID_JSON, 2, 2),
        Seen::Value(b"2".to_vec())
      ]
    );
    let (seen, _) = run(&[b"1\nx\n2\n"], false);
    assert_eq!(
      seen,
      vec![
        Seen::Value(b"1".to_vec()),
        Seen::Invalid(ERR_INVALID_JSON, 2, 2)
      ]
    );
  }

  #[test]
  fn an_endless_line_fails_an_erroring_stream_before_its_end() {
    let mut stage = ParserStage::new(&config(false)).unwrap();
    let mut out: Vec<BatchData> = Vec::new();
    stage.chunk(b"1\n\"", &mut out).unwrap();
    // 64 is the limit: 100 more bytes without a newline are enough to fail.
    let stop = stage.chunk(&[b'a'; 100], &mut out);
    assert!(stop.is_err(), "failed before the newline");
    let reports: Vec<_> = out.iter().flat_map(|b| b.report_positions()).collect();
    assert_eq!(reports, vec![(1, ERR_LINE_TOO_LONG, 2, 2)]);
    // In skip mode the same line is reported once, at its end, with its whole length.
    let long = format!("\"{}\"\n2\n", "a".repeat(100));
    let (seen, stats) = run(
      &[b"1\n", &long.as_bytes()[..50], &long.as_bytes()[50..]],
      true,
    );
    assert_eq!(seen[1], Seen::Invalid(ERR_LINE_TOO_LONG, 2, 2));
    assert_eq!(seen.len(), 3);
    assert!(stats.contains(&("longestLine", 102)));
  }

  #[test]
  fn an_endless_line_fails_a_skipping_stream_once_max_invalid_is_spent() {
    // The line over budget stops the stream as the first does under 'error': before its end.
    // Spent by an invalid line of the same chunk, of an earlier chunk, before a resume, or from
    // the start (maxInvalid 0).
    let resumed = |stage: &mut ParserStage| {
      stage.resume(&ParserResume {
        line: 2.0,
        offset: 2.0,
        bytes: 2.0,
        lines: 1.0,
        values: 1.0,
        blank_lines: 0.0,
        invalid_lines: 1.0,
        longest_line: 1.0,
      })
    };
    // maxInvalid, chunks before the endless line, resumed after one invalid line, its line and offset
    type Case<'a> = (f64, &'a [&'a [u8]], bool, u64, u64);
    let same_chunk = format!("1\n{{x\n\"{}", "a".repeat(100)).into_bytes();
    let same_chunk: &[&[u8]] = &[&same_chunk];
    let cases: [Case; 5] = [
      (0.0, &[b"1\n\""], false, 2, 2),
      (1.0, &[b"1\n{x\n\""], false, 3, 5),
      (1.0, same_chunk, false, 3, 5),
      (1.0, &[b"1\n{x\n", b"\""], false, 3, 5),
      (1.0, &[b"\""], true, 2, 2),
    ];
    for (max_invalid, head, resume, line, offset) in cases {
      let mut stage = ParserStage::new(&ParserConfig {
        max_invalid,
        ..config(true)
      })
      .unwrap();
      if resume {
        resumed(&mut stage);
      }
      let mut out: Vec<BatchData> = Vec::new();
      let (last, before) = head.split_last().unwrap();
      for chunk in before {
        stage.chunk(chunk, &mut out).unwrap();
      }
      // The endless line crosses the limit in the last chunk, or in the chunk after it.
      let mut stop = stage.chunk(last, &mut out);
      // A last chunk that takes the line over the limit fails by itself.
      assert_eq!(
        stop.is_err(),
        last.len() > 64,
        "maxInvalid {max_invalid} {head:?}"
      );
      if stop.is_ok() {
        stop = stage.chunk(&[b'a'; 100], &mut out);
      }
      assert!(
        stop.is_err(),
        "maxInvalid {max_invalid} {head:?}: failed before the newline"
      );
      let reports: Vec<_> = out.iter().flat_map(|b| b.report_positions()).collect();
      assert_eq!(
        reports.last().map(|r| (r.1, r.2, r.3)),
        Some((ERR_LINE_TOO_LONG, line, offset))
      );
    }
    // With budget left the line is reported at its end, and the stream goes on.
    let mut stage = ParserStage::new(&ParserConfig {
      max_invalid: 1.0,
      ..config(true)
    })
    .unwrap();
    let mut out: Vec<BatchData> = Vec::new();
    stage.chunk(b"1\n\"", &mut out).unwrap();
    assert!(stage.chunk(&[b'a'; 100], &mut out).is_ok());
    assert!(stage.chunk(b"\"\n2\n", &mut out).is_ok());
  }

  #[test]
  fn overlong_and_invalid_utf8_lines_are_reported() {
    let long = format!("\"{}\"\n1\n", "a".repeat(100));
    let (seen, stats) = run(&[long.as_bytes(), b"\"\xff\"\n"], true);
    assert_eq!(seen[0], Seen::Invalid(ERR_LINE_TOO_LONG, 1, 0));
    assert_eq!(seen[1], Seen::Value(b"1".to_vec()));
    assert_eq!(seen[2], Seen::Invalid(ERR_INVALID_UTF8, 3, 105));
    assert!(stats.contains(&("longestLine", 102)));
  }

  #[test]
  fn a_resumed_stage_counts_max_invalid_from_the_invalid_lines_before_it() {
    // A stream JS took back in text mode after two skipped lines, handed over again: one more
    // invalid line is one too many for maxInvalid 2, as it would have been without the trips.
    for (before, over) in [(0.0, false), (2.0, true)] {
      let mut stage = ParserStage::new(&ParserConfig {
        max_invalid: 2.0,
        ..config(true)
      })
      .unwrap();
      stage.resume(&ParserResume {
        line: 3.0,
        offset: 6.0,
        bytes: 6.0,
        lines: 2.0,
        values: 0.0,
        blank_lines: 0.0,
        invalid_lines: before,
        longest_line: 2.0,
      });
      let mut out: Vec<BatchData> = Vec::new();
      assert_eq!(
        stage.chunk(b"{bad\n", &mut out).is_err(),
        over,
        "{before} invalid lines before"
      );
      assert_eq!(stage.tally()[INVALID], before as u64 + 1);
    }
  }

  #[test]
  fn a_resumed_stage_numbers_lines_and_counts_as_if_it_had_seen_the_whole_stream() {
    // JS parsed `1\n\n"ab"\n` (3 lines, 2 values, a blank one, 10 bytes), counted the 3 bytes
    // of a partial line after it, and hands over from byte 10.
    let mut stage = ParserStage::new(&config(true)).unwrap();
    stage.resume(&ParserResume {
      line: 4.0,
      offset: 10.0,
      bytes: 13.0,
      lines: 3.0,
      values: 2.0,
      blank_lines: 1.0,
      invalid_lines: 0.0,
      longest_line: 4.0,
    });
    let mut out: Vec<BatchData> = Vec::new();
    // Line 4 starts at byte 10 (no BOM is stripped past line 1: it is invalid JSON), line 5 at 15.
    stage
      .chunk(b"\xEF\xBB\xBF1\n{bad\n12345\n", &mut out)
      .unwrap();
    stage.end(&mut out).unwrap();
    let reports: Vec<_> = out.iter().flat_map(|b| b.report_positions()).collect();
    assert_eq!(
      reports,
      vec![(0, ERR_INVALID_JSON, 4, 10), (0, ERR_INVALID_JSON, 5, 15)]
    );
    assert_eq!(
      stage.tally(),
      &[6, 10 + 16, 3, 1, 2, 5, 0, 0],
      "lines, bytes (the 3 JS counted, once), values, blankLines, invalidLines, longestLine, …"
    );
  }
}
