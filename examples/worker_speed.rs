//! How fast the NDJSON worker stage runs on its own (no JS): `cargo run --release --example
//! worker_speed -- FILE [columns|text|raw] [WHERE|-] [SELECT,PATHS]`. The JS thread can never
//! go faster than this. WHERE is the string form of `where` (`-` for none).
//!
//! Two measures, three runs each. *Handed over*: each 64 KiB chunk is first copied into a buffer
//! of its own, untimed, as the transport's `write` copies a JS chunk before the worker reads it,
//! so the stage reads memory another core has just written (in cache), as in a pipeline. *From
//! one buffer*: the stage reads the whole file where it lies, so its first touch of every line
//! is a read from main memory; on this machine that alone was ~20 % of a GeoJSON run.
use std::time::Instant;

use sluice::ndjson::{ParserConfig, ParserData, ParserStage};
use sluice::transport::{Sink, Stage, Stop};

struct Discard(usize);
impl Sink<ParserData> for Discard {
  fn send(&mut self, _data: ParserData) -> Result<(), Stop> {
    self.0 += 1;
    Ok(())
  }
}

fn main() {
  let args: Vec<String> = std::env::args().collect();
  let input = std::fs::read(&args[1]).expect("read input");
  let form = args.get(2).map(String::as_str).unwrap_or("columns");
  let config = ParserConfig {
    raw_lines: form == "raw",
    columns: form == "columns",
    positions: false,
    spans: false,
    max_line_bytes: 16.0 * 1024.0 * 1024.0,
    blank_lines_invalid: false,
    skip_invalid: true,
    max_invalid: -1.0,
    batch_bytes: 65536,
    input_bytes: 4 * 65536,
    credits: 3,
    where_expr: args.get(3).filter(|w| *w != "-").cloned(),
    where_object: None,
    select: args
      .get(4)
      .map(|s| s.split(',').map(str::to_string).collect()),
  };
  for (handed_over, how) in [(true, "handed over"), (false, "from one buffer")] {
    for _ in 0..3 {
      let mut stage = ParserStage::new(&config).expect("where/select compile");
      let mut sink = Discard(0);
      let mut secs = 0.0;
      for chunk in input.chunks(65536) {
        let copy;
        let chunk = if handed_over {
          copy = chunk.to_vec();
          &copy[..]
        } else {
          chunk
        };
        let start = Instant::now();
        stage.chunk(chunk, &mut sink).unwrap();
        secs += start.elapsed().as_secs_f64();
      }
      let start = Instant::now();
      stage.end(&mut sink).unwrap();
      secs += start.elapsed().as_secs_f64();
      println!(
        "{form}, {how}: {:.0} MB/s ({} batches)",
        input.len() as f64 / 1e6 / secs,
        sink.0
      );
    }
  }
}
