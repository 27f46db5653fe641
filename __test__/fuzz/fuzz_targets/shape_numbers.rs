//! The shaper's number conversion against `str::parse`, on arbitrary bytes.
//!
//! The shaper turns most numbers into `f64` itself (digits gathered eight at a time, Clinger's fast
//! path, Eisel-Lemire) and only the rest through `str::parse`, the correctly rounded conversion V8's
//! `JSON.parse` also makes. Every input becomes the line `[input]`, and again `[input,input]` (the
//! second element takes the shaper's number-array path), each also with 24 spaces after every
//! element (a short decimal is read in words that reach past its end where the line has room for
//! them; without the spaces only the general path would be fuzzed); whenever the shaper accepts
//! the line and `serde_json` (the oracle of ndjson_lines) reads it as an array of numbers, each
//! number must be the `f64` `str::parse` makes of its text, bit for bit, `-0` included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::ndjson::shape::{Columns, Shaped, Shaper};

fuzz_target!(|data: &[u8]| {
  for (copies, pad) in [(1, 0), (2, 0), (1, 24), (2, 24)] {
    let mut line = b"[".to_vec();
    for i in 0..copies {
      if i > 0 {
        line.push(b',');
      }
      line.extend_from_slice(data);
      line.resize(line.len() + pad, b' ');
    }
    line.push(b']');
    let mut cols = Columns::new();
    if matches!(Shaper::eager().shape(&line, &mut cols), Shaped::Fallback | Shaped::Text) {
      continue;
    }
    let Ok(text) = std::str::from_utf8(&line) else {
      panic!("shaped a line that is not UTF-8");
    };
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let Ok(numbers) = <Vec<serde_json::Number> as serde::Deserialize>::deserialize(&mut de) else {
      continue;
    };
    // nums: the array's length, then each element.
    assert_eq!(cols.nums.len(), numbers.len() + 1, "{text}");
    for (number, got) in numbers.iter().zip(&cols.nums[1..]) {
      // arbitrary_precision: the number's own text.
      let expected: f64 = number.to_string().parse().unwrap();
      assert_eq!(got.to_bits(), expected.to_bits(), "{number} in {text}");
    }
  }
});
