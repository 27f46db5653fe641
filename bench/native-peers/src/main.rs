//! `cargo run --release -- FILE PARSER`: one of the fastest Rust JSON parsers over an NDJSON file,
//! line by line, measured as `examples/worker_speed.rs` measures the worker stage (its "handed
//! over" measure): each 64 KiB chunk copied into a buffer of its own first, untimed, then lines
//! framed with memchr and parsed, timed. Three runs; MB/s of input.
//!
//! PARSER: `sonic-rs` / `serde_json` build a value of every line (numbers converted, strings
//! decoded), what the worker stage does; `sonic-rs-skip` / `serde_json-skip` only check each
//! line (sonic-rs's `LazyValue`, serde's `IgnoredAny`: nothing converted or built).
use std::time::Instant;

/// The parse of one line for `parser`: chosen once, so the timed loop does not compare names.
fn parser_for(parser: &str) -> fn(&[u8]) -> bool {
  match parser {
    "sonic-rs" => |line| sonic_rs::from_slice::<sonic_rs::Value>(line).is_ok(),
    "sonic-rs-skip" => |line| sonic_rs::from_slice::<sonic_rs::LazyValue>(line).is_ok(),
    "serde_json" => |line| serde_json::from_slice::<serde_json::Value>(line).is_ok(),
    "serde_json-skip" => |line| serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok(),
    other => panic!("unknown parser {other}"),
  }
}

fn main() {
  let args: Vec<String> = std::env::args().collect();
  let input = std::fs::read(&args[1]).expect("read input");
  let parser = args[2].as_str();
  let parse = parser_for(parser);
  for _ in 0..3 {
    let mut secs = 0.0;
    let mut valid = 0usize;
    let mut carry: Vec<u8> = Vec::new();
    for chunk in input.chunks(65536) {
      let mut buf = std::mem::take(&mut carry);
      buf.extend_from_slice(chunk);
      let start = Instant::now();
      let framed = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
      let mut at = 0;
      for newline in memchr::memchr_iter(b'\n', &buf[..framed]) {
        valid += parse(&buf[at..newline]) as usize;
        at = newline + 1;
      }
      secs += start.elapsed().as_secs_f64();
      carry = buf[framed..].to_vec();
    }
    if !carry.is_empty() {
      let start = Instant::now();
      valid += parse(&carry) as usize;
      secs += start.elapsed().as_secs_f64();
    }
    println!(
      "{parser}: {:.0} MB/s ({valid} valid lines)",
      input.len() as f64 / 1e6 / secs
    );
  }
}
