//! `LineFramer`: turns a stream of byte chunks into NDJSON lines, whatever the chunk boundaries.
//!
//! Invariants:
//! * Linear time: each input byte is looked at by `memchr` once and copied at most once (into
//!   `partial`, only when a line spans chunks). A 100 MiB line costs 100 MiB of work, not the
//!   quadratic re-scan that regex-splitting peers do.
//! * Bounded memory: `partial` never grows past `max_line_bytes + 1`. A line that would is marked
//!   over-long and the rest of it is counted but not kept (only an excerpt survives for the report).
//! * A line is handed out without its terminator: `\n`, or `\r\n` even when the `\r` and the `\n`
//!   arrived in different chunks. A UTF-8 BOM at the very start of the stream is dropped.
//! * Line numbers are 1-based physical lines (blank lines count); `offset` is the byte offset of
//!   the line's first byte in the whole stream. A stripped BOM is not part of line 1, so line 1
//!   then starts at offset 3.

use memchr::memchr_iter;

/// How much of an over-long line is kept for the error excerpt: its 64 bytes and the 3 after
/// them, so that the excerpt can tell whether its last character is cut (and back off to a whole
/// one) as it does for a line kept whole.
pub const EXCERPT_BYTES: usize = super::EXCERPT_CHARS + 3;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One complete line, borrowed from the chunk or from the framer's own buffer.
#[derive(Debug)]
pub struct Line<'a> {
  pub number: u64,
  /// Where `bytes` start in the stream (after a stripped BOM).
  pub offset: u64,
  /// The content without terminator (and without a leading BOM on line 1). For an over-long
  /// line only its first bytes (at most [`EXCERPT_BYTES`]).
  pub bytes: &'a [u8],
  /// `Some(length)` when the content was longer than `max_line_bytes`.
  pub overlong: Option<u64>,
  /// An over-long line handed out before its end (see [`LineFramer::report_overlong_early`]):
  /// `overlong` is then the length so far.
  pub unfinished: bool,
}

pub struct LineFramer {
  max_line_bytes: usize,
  partial: Vec<u8>,
  /// Length of the pending line so far, including bytes not kept because it is over-long.
  partial_len: u64,
  overlong: bool,
  /// Last byte of the pending line, kept even when the line is over-long and not kept.
  last_byte: u8,
  next_number: u64,
  next_offset: u64,
  /// Hand out an over-long line as soon as it crosses the limit (once), not at its newline.
  early: bool,
  reported_early: bool,
}

impl LineFramer {
  pub fn new(max_line_bytes: usize) -> Self {
    Self {
      max_line_bytes,
      partial: Vec::new(),
      partial_len: 0,
      overlong: false,
      last_byte: 0,
      next_number: 1,
      next_offset: 0,
      early: false,
      reported_early: false,
    }
  }

  /// An over-long line is handed out (once, `unfinished`) as soon as the bytes seen prove it too
  /// long, instead of when its newline arrives: for a stream that fails on the first invalid
  /// line, a peer sending an endless line gets its error at once. Only for callers that stop at
  /// that report: the same line is not handed out again, but lines after it would be numbered as
  /// if it had ended there.
  pub fn report_overlong_early(mut self) -> Self {
    self.early = true;
    self
  }

  /// As [`LineFramer::report_overlong_early`], from now on: for a caller that will stop at the
  /// next report (its budget of invalid lines is spent). A line already over the limit is
  /// handed out by the next `feed` (or `report_pending_overlong`).
  pub fn start_reporting_overlong_early(&mut self) {
    self.early = true;
  }

  /// Continues a stream whose first lines were framed elsewhere (`lib/ndjson/inline.js`):
  /// the next line is `number`, at byte `offset`. Only line 1 may start with a BOM, so a stream
  /// resumed past it strips none.
  pub fn resume_at(&mut self, number: u64, offset: u64) {
    self.next_number = number.max(1);
    self.next_offset = offset;
  }

  /// Feeds a chunk and calls `on_line` for every line it completes, in order. Stops early and
  /// returns the first error `on_line` returns.
  pub fn feed<E>(
    &mut self,
    chunk: &[u8],
    mut on_line: impl FnMut(Line<'_>) -> Result<(), E>,
  ) -> Result<(), E> {
    let mut start = 0;
    for nl in memchr_iter(b'\n', chunk) {
      let piece = &chunk[start..nl];
      start = nl + 1;
      if self.partial_len == 0 {
        let line = self.finish_line(piece, piece.len() as u64, false);
        on_line(line)?;
      } else {
        self.append(piece);
        let bytes = std::mem::take(&mut self.partial);
        let line = self.finish_line(&bytes, self.partial_len, self.overlong);
        let result = on_line(line);
        self.partial = bytes;
        self.partial.clear();
        // Keep the buffer for the next spanning line, but not a huge line's worth: an idle
        // stream that once saw a 50 MB line held 50 MB until it ended.
        self.partial.shrink_to(RETAINED_PARTIAL_BYTES);
        self.partial_len = 0;
        self.overlong = false;
        self.last_byte = 0;
        result?;
      }
    }
    self.append(&chunk[start..]);
    self.report_pending_overlong(on_line)
  }

  /// With early reports on: hands out the pending line (once, `unfinished`) if it is already
  /// over the limit. `feed` ends with it; a caller that turns early reports on between feeds
  /// calls it for the line pending then.
  pub fn report_pending_overlong<E>(
    &mut self,
    mut on_line: impl FnMut(Line<'_>) -> Result<(), E>,
  ) -> Result<(), E> {
    if self.early && self.overlong && !self.reported_early {
      self.reported_early = true;
      let number = self.next_number;
      let mut offset = self.next_offset;
      let mut bytes = &self.partial[..];
      let mut len = self.partial_len;
      if number == 1 && bytes.starts_with(BOM) {
        bytes = &bytes[BOM.len()..];
        len -= BOM.len() as u64;
        offset += BOM.len() as u64;
      }
      on_line(Line {
        number,
        offset,
        bytes: &bytes[..bytes.len().min(EXCERPT_BYTES)],
        overlong: Some(len),
        unfinished: true,
      })?;
    }
    Ok(())
  }

  /// Ends the stream: a final line without a newline is still a line. Nothing is reported for an
  /// empty remainder (the stream ended with `\n`, or was empty).
  pub fn finish<E>(&mut self, on_line: impl FnOnce(Line<'_>) -> Result<(), E>) -> Result<(), E> {
    // A stream that is only a BOM has no line, as an empty one has none.
    let bom_only =
      self.next_number == 1 && self.partial_len == BOM.len() as u64 && self.partial == BOM;
    if self.partial_len == 0 || bom_only {
      self.partial.clear();
      self.partial_len = 0;
      return Ok(());
    }
    let bytes = std::mem::take(&mut self.partial);
    let line = self.finish_line(&bytes, self.partial_len, self.overlong);
    let result = on_line(line);
    self.partial_len = 0;
    self.overlong = false;
    self.last_byte = 0;
    result
  }

  fn append(&mut self, piece: &[u8]) {
    if piece.is_empty() {
      return;
    }
    self.partial_len += piece.len() as u64;
    self.last_byte = piece[piece.len() - 1];
    if self.overlong {
      // Past the limit only the excerpt grows, up to its size.
      let want = (EXCERPT_BYTES + BOM.len()).saturating_sub(self.partial.len());
      self
        .partial
        .extend_from_slice(&piece[..want.min(piece.len())]);
      return;
    }
    // Slack: a trailing `\r` is part of the terminator, and a BOM on line 1 is dropped; neither
    // counts as content. `finish_line` decides exactly.
    let slack = if self.next_number == 1 {
      1 + BOM.len()
    } else {
      1
    };
    if self.partial_len > (self.max_line_bytes + slack) as u64 {
      self.overlong = true;
      // Keep enough for the excerpt even after a BOM is stripped.
      let excerpt = EXCERPT_BYTES + BOM.len();
      let keep = excerpt.saturating_sub(self.partial.len()).min(piece.len());
      self.partial.extend_from_slice(&piece[..keep]);
      self.partial.truncate(excerpt);
      self.partial.shrink_to(excerpt);
    } else {
      self.partial.extend_from_slice(piece);
    }
  }

  /// Strips the terminator and a BOM, applies the length limit and advances the counters.
  fn finish_line<'a>(&mut self, raw: &'a [u8], raw_len: u64, overlong: bool) -> Line<'a> {
    let number = self.next_number;
    let mut offset = self.next_offset;
    self.next_number += 1;
    self.next_offset += raw_len + 1;

    let mut bytes = raw;
    let mut len = raw_len;
    if overlong {
      // Only an excerpt was kept; the pending line's real last byte tells about its `\r`.
      if self.last_byte == b'\r' {
        len -= 1;
        if raw.len() as u64 == raw_len {
          // The excerpt is the whole line: its `\r` is the terminator's.
          bytes = &bytes[..bytes.len() - 1];
        }
      }
    } else if bytes.last() == Some(&b'\r') {
      bytes = &bytes[..bytes.len() - 1];
      len -= 1;
    }
    if number == 1 && bytes.starts_with(BOM) {
      bytes = &bytes[BOM.len()..];
      len -= BOM.len() as u64;
      // The line's first byte is the one after the BOM.
      offset += BOM.len() as u64;
    }
    let overlong = overlong || len > self.max_line_bytes as u64;
    if overlong {
      bytes = &bytes[..bytes.len().min(EXCERPT_BYTES)];
    }
    Line {
      number,
      offset,
      bytes,
      overlong: overlong.then_some(len),
      unfinished: false,
    }
  }
}

/// The most capacity `partial` keeps between lines (lines spanning chunks are usually far
/// smaller; a rare huge one must not pin its size for the rest of the stream).
const RETAINED_PARTIAL_BYTES: usize = 256 * 1024;

#[cfg(test)]
mod tests {
  use super::*;

  /// (number, offset, content, overlong) for every line of `chunks`.
  fn frame(chunks: &[&[u8]], max: usize) -> Vec<(u64, u64, Vec<u8>, Option<u64>)> {
    let mut f = LineFramer::new(max);
    let mut out = Vec::new();
    let mut push = |l: Line<'_>| -> Result<(), ()> {
      out.push((l.number, l.offset, l.bytes.to_vec(), l.overlong));
      Ok(())
    };
    for c in chunks {
      f.feed(c, &mut push).unwrap();
    }
    f.finish(&mut push).unwrap();
    out
  }

  #[test]
  fn splits_lf_and_crlf_and_keeps_the_last_line() {
    let lines = frame(&[b"a\r\nb\n\nc"], 100);
    let texts: Vec<_> = lines.iter().map(|l| l.2.clone()).collect();
    assert_eq!(
      texts,
      vec![b"a".to_vec(), b"b".to_vec(), b"".to_vec(), b"c".to_vec()]
    );
    let offsets: Vec<_> = lines.iter().map(|l| l.1).collect();
    assert_eq!(offsets, vec![0, 3, 5, 6]);
  }

  #[test]
  fn cr_and_lf_in_different_chunks() {
    let lines = frame(&[b"{}\r", b"\n[]\r", b"\n"], 100);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].2, b"{}");
    assert_eq!(lines[1].2, b"[]");
    assert_eq!(lines[1].1, 4);
  }

  #[test]
  fn bom_only_at_stream_start_even_when_split() {
    let lines = frame(&[b"\xEF", b"\xBB", b"\xBF1\n\xEF\xBB\xBF2\n"], 100);
    assert_eq!(lines[0].2, b"1");
    assert_eq!(lines[1].2, b"\xEF\xBB\xBF2");
  }

  #[test]
  fn a_stream_of_only_a_bom_has_no_line() {
    // As an empty stream; with a newline after it, line 1 is there (and blank).
    for max in [1, 100] {
      assert_eq!(frame(&[b"\xEF\xBB\xBF"], max), vec![]);
      assert_eq!(frame(&[b"\xEF", b"\xBB", b"\xBF"], max), vec![]);
    }
    assert_eq!(frame(&[b"\xEF\xBB\xBF\n"], 100), vec![(1, 3, vec![], None)]);
    // Part of a BOM is content (invalid, for the validator to say).
    assert_eq!(
      frame(&[b"\xEF\xBB"], 100),
      vec![(1, 0, b"\xEF\xBB".to_vec(), None)]
    );
  }

  #[test]
  fn offsets_are_stream_positions_after_a_bom() {
    // Line 1 starts after the BOM (byte 3); the BOM still counts for the lines after it.
    let input = b"\xEF\xBB\xBF1\r\n\n[2]";
    let whole = frame(&[input], 100);
    let offsets: Vec<_> = whole.iter().map(|l| (l.0, l.1)).collect();
    assert_eq!(offsets, vec![(1, 3), (2, 6), (3, 7)]);
    for at in 0..=input.len() {
      let (a, b) = input.split_at(at);
      assert_eq!(frame(&[a, b], 100), whole, "split at {at}");
    }
    // Over-long first line: the same offset.
    let long = frame(&[b"\xEF\xBB\xBF123456\n7\n"], 5);
    assert_eq!((long[0].1, long[0].3), (3, Some(6)));
    assert_eq!(long[1].1, 10);
    // No BOM: line 1 at 0; a BOM-like start on line 2 is data.
    assert_eq!(frame(&[b"1\n\xEF\xBB\xBF2\n"], 100)[1].1, 2);
  }

  #[test]
  fn overlong_lines_are_not_buffered_and_do_not_eat_the_next_line() {
    let big = vec![b'x'; 1000];
    let mut f = LineFramer::new(10);
    let mut seen = Vec::new();
    for chunk in big.chunks(7) {
      f.feed(chunk, |l: Line<'_>| -> Result<(), ()> {
        seen.push(l.overlong);
        Ok(())
      })
      .unwrap();
      assert!(f.partial.len() <= (EXCERPT_BYTES + 3).max(14));
    }
    f.feed(b"\n1\n", |l: Line<'_>| -> Result<(), ()> {
      seen.push(l.overlong);
      Ok(())
    })
    .unwrap();
    assert_eq!(seen, vec![Some(1000), None]);
  }

  #[test]
  fn a_huge_spanning_line_does_not_pin_its_buffer() {
    let mut f = LineFramer::new(64 << 20);
    let big = vec![b'x'; 8 << 20];
    let mut lines = 0;
    f.feed(&big, |_| Ok::<_, ()>(())).unwrap();
    f.feed(b"\n", |_| {
      lines += 1;
      Ok::<_, ()>(())
    })
    .unwrap();
    assert_eq!(lines, 1);
    assert!(f.partial.capacity() <= RETAINED_PARTIAL_BYTES);
  }

  #[test]
  fn limit_is_on_content_not_terminator() {
    let lines = frame(&[b"12345\r\n123456\n"], 5);
    assert_eq!(lines[0].3, None);
    assert_eq!(lines[1].3, Some(6));
  }
}
