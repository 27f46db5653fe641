//! The Prometheus text exposition (format 0.0.4) of meters: stable metric names, one `name`
//! label per stream. Headers and samples are rendered apart so that JS can put the samples of
//! many meters under one `# HELP`/`# TYPE` pair per family, as the format requires.
//!
//! Invariants:
//! * Names and types never change once released (dashboards and alerts are built on them);
//!   counters end in `_total`, durations are in seconds, sizes in bytes.
//! * Only finite numbers are written (a family with an unknown value, such as progress without
//!   a total, simply has no sample for that stream).
//! * Histogram buckets are cumulative and end with `le="+Inf"` equal to `_count`; they are
//!   derived from the log-linear buckets (see `Histogram::count_at_most`).

use super::{field, Histogram, MeterCore};

enum Value {
  /// A snapshot field, times a scale (ms → s).
  Field(usize, f64),
  /// A histogram (µs → s, or bytes), exported at the bounds it counts exactly.
  Latency,
  Sizes,
}

struct Family {
  name: &'static str,
  kind: &'static str,
  help: &'static str,
  value: Value,
}

/// The `le` bounds of the latency histogram in µs (the unit `MeterCore` records; exported in
/// seconds), and of the chunk-size histogram in bytes: `MeterCore` makes its histograms with
/// them, which count values at each exactly, and the export reads them back from there.
pub const LATENCY_BOUNDS_US: &[u64] = &[
  100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000,
];
pub const SIZE_BOUNDS: &[u64] = &[64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];

const FAMILIES: &[Family] = &[
  Family {
    name: "sluice_stream_bytes_total",
    kind: "counter",
    help: "Bytes that went through the stream.",
    value: Value::Field(field::BYTES, 1.0),
  },
  Family {
    name: "sluice_stream_chunks_total",
    kind: "counter",
    help: "Chunks (objects in object mode) that went through the stream.",
    value: Value::Field(field::CHUNKS, 1.0),
  },
  Family {
    name: "sluice_stream_backpressure_events_total",
    kind: "counter",
    help: "write() (or, in a Meter, push()) calls that returned false.",
    value: Value::Field(field::BACKPRESSURE, 1.0),
  },
  Family {
    name: "sluice_stream_drain_events_total",
    kind: "counter",
    help: "Times the stream could take data again after backpressure.",
    value: Value::Field(field::DRAINS, 1.0),
  },
  Family {
    name: "sluice_stream_blocked_seconds_total",
    kind: "counter",
    help: "Time blocked: from a false return to the next drain (downstream pushing back).",
    value: Value::Field(field::BLOCKED_MS, 1e-3),
  },
  Family {
    name: "sluice_stream_busy_seconds_total",
    kind: "counter",
    help: "Time with a write in progress in the destination (MonitoredWritable).",
    value: Value::Field(field::BUSY_MS, 1e-3),
  },
  Family {
    name: "sluice_stream_starved_seconds_total",
    kind: "counter",
    help: "Time waiting for upstream with nothing to do.",
    value: Value::Field(field::STARVED_MS, 1e-3),
  },
  Family {
    name: "sluice_stream_stalls_total",
    kind: "counter",
    help: "Times the stream made no progress for stallMs.",
    value: Value::Field(field::STALLS, 1.0),
  },
  Family {
    name: "sluice_stream_elapsed_seconds",
    kind: "gauge",
    help: "Time since the stream was created (frozen when it finished or closed).",
    value: Value::Field(field::ELAPSED_MS, 1e-3),
  },
  Family {
    name: "sluice_stream_rate_per_second",
    kind: "gauge",
    help: "Smoothed rate in bytes per second (items per second in object mode).",
    value: Value::Field(field::SMOOTHED_RATE, 1.0),
  },
  Family {
    name: "sluice_stream_buffered",
    kind: "gauge",
    help: "Buffered length now (bytes, or items in object mode).",
    value: Value::Field(field::BUFFERED, 1.0),
  },
  Family {
    name: "sluice_stream_buffer_fill_max_ratio",
    kind: "gauge",
    help: "Largest buffered length seen, as a fraction of the highWaterMark.",
    value: Value::Field(field::BUFFER_FILL_MAX, 1.0),
  },
  Family {
    name: "sluice_stream_progress_ratio",
    kind: "gauge",
    help: "Fraction of the announced total done (only with a total).",
    value: Value::Field(field::PERCENT, 0.01),
  },
  Family {
    name: "sluice_stream_write_latency_seconds",
    kind: "histogram",
    help: "Time from write() to its callback, sampled chunks (MonitoredWritable).",
    value: Value::Latency,
  },
  Family {
    name: "sluice_stream_chunk_size_bytes",
    kind: "histogram",
    help: "Size of the chunks in bytes.",
    value: Value::Sizes,
  },
];

pub fn headers() -> Vec<String> {
  FAMILIES
    .iter()
    .map(|f| {
      format!(
        "# HELP {} {}\n# TYPE {} {}\n",
        f.name, f.help, f.name, f.kind
      )
    })
    .collect()
}

/// A label value as the format wants it: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
  let mut out = String::with_capacity(value.len());
  for c in value.chars() {
    match c {
      '\\' => out.push_str("\\\\"),
      '"' => out.push_str("\\\""),
      '\n' => out.push_str("\\n"),
      c => out.push(c),
    }
  }
  out
}

/// A number as Prometheus reads it (Go's ParseFloat): integers plainly, very small or large
/// values in exponent form (Rust's `{}` would print 300 digits for 1e-300), infinities as
/// `+Inf`/`-Inf` (Rust's `inf` is not accepted).
fn number(v: f64) -> String {
  if v.is_infinite() {
    return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
  }
  if v == v.trunc() && v.abs() < 1e15 {
    format!("{}", v as i64)
  } else if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e15) {
    format!("{v:e}")
  } else {
    format!("{v}")
  }
}

/// One sample: the suffix after the family name (`""`, `"_bucket"`, `"_sum"`, `"_count"`), its
/// `le` bound if a bucket, its value.
pub struct Sample {
  pub suffix: &'static str,
  pub le: Option<String>,
  pub value: f64,
}

fn histogram(out: &mut Vec<Sample>, h: &Histogram, to_internal: f64) {
  for &le in h.bounds() {
    out.push(Sample {
      suffix: "_bucket",
      le: Some(format!("{}", le as f64 / to_internal)),
      value: h.count_at_most(le) as f64,
    });
  }
  let count = h.count() as f64;
  out.push(Sample {
    suffix: "_bucket",
    le: Some("+Inf".into()),
    value: count,
  });
  out.push(Sample {
    suffix: "_sum",
    le: None,
    value: h.sum() / to_internal,
  });
  out.push(Sample {
    suffix: "_count",
    le: None,
    value: count,
  });
}

/// The samples of each family, in the order of `FAMILIES`.
pub fn values(core: &MeterCore) -> Vec<Vec<Sample>> {
  FAMILIES
    .iter()
    .map(|f| {
      let mut out = Vec::new();
      match f.value {
        Value::Field(i, scale) => {
          let value = core.last.get(i).copied().unwrap_or(f64::NAN) * scale;
          if value.is_finite() {
            out.push(Sample {
              suffix: "",
              le: None,
              value,
            });
          }
        }
        Value::Latency => histogram(&mut out, &core.latencies, 1e6),
        Value::Sizes => histogram(&mut out, &core.sizes, 1.0),
      }
      out
    })
    .collect()
}

/// `name\ttype\thelp` of each family, for structured consumers (the prom-client bridge).
pub fn families() -> Vec<String> {
  FAMILIES
    .iter()
    .map(|f| format!("{}\t{}\t{}", f.name, f.kind, f.help))
    .collect()
}

/// The sample lines of each family for one stream labelled `name`.
pub fn samples(core: &MeterCore, name: &str) -> Vec<String> {
  let label = escape(name);
  values(core)
    .into_iter()
    .zip(FAMILIES)
    .map(|(samples, f)| {
      let mut out = String::new();
      for s in samples {
        let value = number(s.value);
        let labels = match s.le {
          Some(le) => format!("name=\"{label}\",le=\"{le}\""),
          None => format!("name=\"{label}\""),
        };
        out.push_str(&format!("{}{}{{{labels}}} {value}\n", f.name, s.suffix));
      }
      out
    })
    .collect()
}

/// The samples of each family as `suffix\tle\tvalue` lines (`le` empty when none), unlabelled.
pub fn tab_values(core: &MeterCore) -> Vec<String> {
  values(core)
    .into_iter()
    .map(|samples| {
      samples
        .into_iter()
        .map(|s| {
          let le = s.le.unwrap_or_default();
          format!("{}\t{le}\t{}\n", s.suffix, number(s.value))
        })
        .collect()
    })
    .collect()
}

#[cfg(test)]
mod tests {
  use super::super::{input, Kind};
  use super::*;

  #[test]
  fn numbers_are_in_a_form_prometheus_parses() {
    assert_eq!(number(3.0), "3");
    assert_eq!(number(0.25), "0.25");
    assert_eq!(number(1e-300), "1e-300");
    assert_eq!(number(1.5e20), "1.5e20");
    assert_eq!(number(f64::INFINITY), "+Inf");
    assert_eq!(number(f64::NEG_INFINITY), "-Inf");
    assert_eq!(number(f64::NAN), "NaN");
  }

  #[test]
  fn samples_are_well_formed() {
    let mut core = MeterCore::new(Kind::Writable, false, 1000.0, None, 0);
    core.record(&[100.0, 70000.0], &[0.5, 2.0]);
    let mut totals = vec![0.0; input::LEN];
    totals[input::BYTES] = 70100.0;
    totals[input::CHUNKS] = 2.0;
    core.snapshot(&totals, 1_000_000_000, true, false);
    let text: String = samples(&core, "a \"b\"\n").concat();
    assert!(text.contains("sluice_stream_bytes_total{name=\"a \\\"b\\\"\\n\"} 70100\n"));
    assert!(text
      .contains("sluice_stream_chunk_size_bytes_bucket{name=\"a \\\"b\\\"\\n\",le=\"+Inf\"} 2\n"));
    assert!(text.contains(
      "sluice_stream_write_latency_seconds_bucket{name=\"a \\\"b\\\"\\n\",le=\"0.001\"} 1\n"
    ));
    assert!(
      !text.contains("progress_ratio"),
      "no total: no progress sample"
    );
    assert_eq!(headers().len(), samples(&core, "x").len());
  }
}
