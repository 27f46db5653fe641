//! The shaper's columns against serde_json, on arbitrary bytes: every line the shaper takes apart
//! must come back together as the value serde_json reads from that line.
//!
//! The shaper is the native stage's fastest path (strings copied 16 bytes at a time, digits a word
//! at a time, arrays of number arrays without a signature per element), and JS builds values from
//! its output without looking at the line again. ndjson_lines holds which lines it accepts; this
//! target holds what it makes of them. The lines of the input (split at `\n`, the first one twice)
//! are shaped in order by one eager shaper into one set of columns, as a batch shapes them, so that
//! a line of the previous lines' shape is checked against it (the guided parse) and one that only
//! nearly has it is rolled back and shaped afresh. Each line's signature (a known shape's read
//! back from its announcement) and its columns are read back into a value — numbers and array
//! lengths from `nums` in document order, strings from the table by `ends`, keys from their raw
//! text in the signature — and compared with serde_json's value of the line: numbers bit for bit
//! with `str::parse` of their text (`-0` and `1e400` included), strings as UTF-16, objects by key
//! with the last of duplicate keys winning (as in `JSON.parse`). Lines serde_json refuses for a
//! lone surrogate escape, which V8 takes, are skipped here.
#![no_main]

use std::collections::{BTreeMap, HashMap};

use libfuzzer_sys::fuzz_target;
use sluice::ndjson::shape::{Columns, Shaped, Shaper, Table};

#[derive(Debug, PartialEq)]
enum Value {
  Null,
  Bool(bool),
  Number(u64),
  String(Vec<u16>),
  Array(Vec<Value>),
  Object(BTreeMap<Vec<u16>, Value>),
}

fn expected(v: &serde_json::Value) -> Value {
  match v {
    serde_json::Value::Null => Value::Null,
    serde_json::Value::Bool(b) => Value::Bool(*b),
    // arbitrary_precision: the number's own text, converted as V8 converts it.
    serde_json::Value::Number(n) => Value::Number(n.to_string().parse::<f64>().unwrap().to_bits()),
    serde_json::Value::String(s) => Value::String(s.encode_utf16().collect()),
    serde_json::Value::Array(a) => Value::Array(a.iter().map(expected).collect()),
    serde_json::Value::Object(m) => Value::Object(
      m.iter()
        .map(|(k, v)| (k.encode_utf16().collect(), expected(v)))
        .collect(),
    ),
  }
}

/// Reads a signature and its columns back into a value, as lib/shapes.js builds one.
struct Reader<'a> {
  sig: &'a [u8],
  at: usize,
  nums: &'a [f64],
  n: usize,
  table: Vec<u16>,
  ends: &'a [u32],
  k: usize,
}

impl Reader<'_> {
  fn next(&mut self) -> u8 {
    self.at += 1;
    self.sig[self.at - 1]
  }

  fn num(&mut self) -> f64 {
    self.n += 1;
    self.nums[self.n - 1]
  }

  fn value(&mut self) -> Value {
    match self.next() {
      b'n' => Value::Number(self.num().to_bits()),
      b'b' => Value::Bool(self.num() == 1.0),
      b'z' => Value::Null,
      b's' => {
        let (from, to) = (self.ends[self.k] as usize, self.ends[self.k + 1] as usize);
        self.k += 1;
        Value::String(self.table[from..to].to_vec())
      }
      b'{' => {
        let mut object = BTreeMap::new();
        while self.sig[self.at] != b'}' {
          let key = self.key();
          let value = self.value();
          object.insert(key, value);
        }
        self.at += 1;
        Value::Object(object)
      }
      b'[' => {
        let len = self.num() as usize;
        let mut items = Vec::new();
        if self.sig[self.at] == b'*' {
          self.at += 1;
          let element = self.at;
          assert!(len > 0, "a uniform array with no element");
          for _ in 0..len {
            self.at = element;
            items.push(self.value());
          }
        } else {
          while self.sig[self.at] != b']' {
            items.push(self.value());
          }
          assert_eq!(items.len(), len, "tuple length");
        }
        assert_eq!(self.next(), b']');
        Value::Array(items)
      }
      other => panic!("unexpected signature byte {other:#x}"),
    }
  }

  /// A key's raw JSON text (quotes included), decoded.
  fn key(&mut self) -> Vec<u16> {
    let start = self.at;
    self.at += 1;
    while self.sig[self.at] != b'"' {
      self.at += if self.sig[self.at] == b'\\' { 2 } else { 1 };
    }
    self.at += 1;
    let text = std::str::from_utf8(&self.sig[start..self.at]).expect("key text is UTF-8");
    let key: String = serde_json::from_str(text).expect("key text is a JSON string");
    key.encode_utf16().collect()
  }
}

fuzz_target!(|data: &[u8]| {
  let mut shaper = Shaper::eager();
  let mut cols = Columns::new();
  let mut signatures = HashMap::new();
  let first = data.split(|&b| b == b'\n').next();
  for line in first.into_iter().chain(data.split(|&b| b == b'\n')) {
    let [nums, units, ends] = cols.lens();
    let sig = match shaper.shape(line, &mut cols) {
      Shaped::New(id, sig) => {
        signatures.insert(id, sig.clone());
        sig
      }
      Shaped::Known(id) => signatures[&id].clone(),
      Shaped::Text | Shaped::Fallback => {
        assert_eq!(cols.lens(), [nums, units, ends], "columns rolled back");
        continue;
      }
    };
    let text = std::str::from_utf8(line).expect("shaped a line that is not UTF-8");
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let Ok(json) = <serde_json::Value as serde::Deserialize>::deserialize(&mut de) else {
      // A lone surrogate escape (the only valid JSON serde_json refuses); ndjson_lines holds
      // that the shaper accepts exactly what V8 does.
      continue;
    };
    let table = match &cols.table {
      Table::Latin1(v) => v.iter().map(|&b| b as u16).collect(),
      Table::Utf16(v) => v.clone(),
    };
    let mut reader = Reader {
      sig: sig.as_bytes(),
      at: 0,
      nums: &cols.nums,
      n: nums,
      table,
      ends: &cols.ends,
      k: ends - 1,
    };
    assert_eq!(cols.ends[ends - 1] as usize, units, "strings start where the table was");
    let got = reader.value();
    assert_eq!(reader.at, sig.len(), "signature read to its end: {sig}");
    assert_eq!(reader.n, cols.nums.len(), "every number read");
    assert_eq!(reader.k + 1, cols.ends.len(), "every string read");
    assert_eq!(got, expected(&json), "{text}");
  }
});
