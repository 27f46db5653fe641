//! `where`: predicates over a line's JSON text, and their object form.
//!
//! Semantics (JSON's and JavaScript's; the README's parser section lists them for users):
//! * no coercion: a comparison whose path is missing, or whose value is of another JSON type
//!   than the operand, is false — `ne` included, so a missing path is neither equal nor unequal;
//! * numbers compare as JS numbers (f64: `-0 == 0`, integers beyond 2^53 rounded as V8 rounds
//!   them), strings by UTF-16 code units (`<`, `startsWith`, … as JS does);
//! * a path with `[*]` reaches every element of an array (none of a non-array), and a test holds
//!   when it holds for any value the path reaches; `exists: false` holds when it reaches none;
//! * the last of duplicate keys is the one seen, as `JSON.parse` keeps it;
//! * `contains` is a substring test on strings and a membership test on arrays (an element
//!   equal to the operand, as `eq` decides); `matches` runs a `regex` crate expression (linear
//!   time) over the string (lone surrogates read as U+FFFD).

use regex::Regex;

use super::json::{self, Kind, Member};
use super::path::{self, Key, Path, Step};
use super::NESTING_LIMIT;

/// A JSON scalar operand.
#[derive(Debug, Clone)]
pub enum Scalar {
  Null,
  Bool(bool),
  Num(f64),
  Str(Key),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
  Lt,
  Lte,
  Gt,
  Gte,
}

#[derive(Debug, Clone)]
pub enum Test {
  Eq(Scalar),
  Ne(Scalar),
  /// Only a number or a string operand.
  Compare(Order, Scalar),
  In(Vec<Scalar>),
  Exists(bool),
  StartsWith(Key),
  EndsWith(Key),
  Contains(Scalar),
  Matches(Regex),
}

#[derive(Debug, Clone)]
pub enum Pred {
  And(Vec<Pred>),
  Or(Vec<Pred>),
  Not(Box<Pred>),
  Test(Path, Test),
}

/// Reusable scratch space for evaluating predicates on lines.
#[derive(Default)]
pub struct Evaluator {
  units: Vec<u16>,
}

impl Evaluator {
  pub fn new() -> Self {
    Self::default()
  }

  /// Whether the valid JSON text `line` satisfies `pred`. `members`: the top-level members of
  /// the line as the validator indexed them (see `Validator::check_indexing_root`).
  pub fn matches(&mut self, pred: &Pred, line: &[u8], members: &[Member]) -> bool {
    let root = Root {
      at: json::skip_ws(line, 0),
      members,
    };
    self.eval(pred, line, &root)
  }

  fn eval(&mut self, pred: &Pred, s: &[u8], root: &Root<'_>) -> bool {
    match pred {
      Pred::And(all) => all.iter().all(|p| self.eval(p, s, root)),
      Pred::Or(any) => any.iter().any(|p| self.eval(p, s, root)),
      Pred::Not(p) => !self.eval(p, s, root),
      Pred::Test(path, Test::Exists(want)) => {
        let reached = root.reach(s, &path.steps, &mut |_| true);
        reached == *want
      }
      Pred::Test(path, test) => root.reach(s, &path.steps, &mut |v| self.test(test, s, v)),
    }
  }

  fn test(&mut self, test: &Test, s: &[u8], v: usize) -> bool {
    match test {
      Test::Eq(x) => equal(s, v, x, &mut self.units),
      Test::Ne(x) => same_type(s, v, x) && !equal(s, v, x, &mut self.units),
      Test::In(xs) => xs.iter().any(|x| equal(s, v, x, &mut self.units)),
      Test::Exists(want) => *want,
      Test::Compare(order, x) => {
        let ordering = match (json::kind(s, v), x) {
          (Kind::Number, Scalar::Num(n)) => json::number(s, v).partial_cmp(n),
          (Kind::String, Scalar::Str(k)) => {
            let units = string_units(s, v, &mut self.units);
            Some(units.cmp(&k.utf16[..]))
          }
          _ => None,
        };
        let Some(ordering) = ordering else {
          return false;
        };
        match order {
          Order::Lt => ordering.is_lt(),
          Order::Lte => ordering.is_le(),
          Order::Gt => ordering.is_gt(),
          Order::Gte => ordering.is_ge(),
        }
      }
      Test::StartsWith(k) => text_test(
        s,
        v,
        k,
        &mut self.units,
        <[u8]>::starts_with,
        <[u16]>::starts_with,
      ),
      Test::EndsWith(k) => text_test(
        s,
        v,
        k,
        &mut self.units,
        <[u8]>::ends_with,
        <[u16]>::ends_with,
      ),
      Test::Contains(x) => match (json::kind(s, v), x) {
        (Kind::String, Scalar::Str(k)) => text_test(
          s,
          v,
          k,
          &mut self.units,
          |hay, needle| memchr::memmem::find(hay, needle).is_some(),
          |hay, needle| needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle),
        ),
        (Kind::Array, _) => {
          let mut found = false;
          json::for_each_element(s, v, |e| {
            found = equal(s, e, x, &mut self.units);
            !found
          });
          found
        }
        _ => false,
      },
      Test::Matches(re) => {
        if json::kind(s, v) != Kind::String {
          return false;
        }
        let raw = raw_string(s, v);
        if !raw.contains(&b'\\') {
          // Raw string text without escapes is valid UTF-8 (the line was validated).
          return std::str::from_utf8(raw).is_ok_and(|t| re.is_match(t));
        }
        let units = string_units(s, v, &mut self.units);
        re.is_match(&String::from_utf16_lossy(units))
      }
    }
  }
}

/// A line's value, with its top-level members already indexed by the validator.
pub struct Root<'a> {
  pub at: usize,
  pub members: &'a [Member],
}

impl Root<'_> {
  /// [`reach`] from the line's value: a first key step reads the index instead of the line.
  fn reach(&self, s: &[u8], steps: &[Step], f: &mut dyn FnMut(usize) -> bool) -> bool {
    match steps.split_first() {
      Some((Step::Key(key), rest)) if json::kind(s, self.at) == Kind::Object => {
        let mut units = Vec::new();
        let last = self
          .members
          .iter()
          .rev()
          .find(|m| key_is(&s[m.key_start..m.key_end], key, &mut units));
        last.is_some_and(|m| reach(s, m.value, rest, f))
      }
      _ => reach(s, self.at, steps, f),
    }
  }
}

/// Calls `f` on each value `steps` reach from the value at `v` until it returns true; returns
/// whether one did. A key step reads the last member of that name.
pub fn reach(s: &[u8], v: usize, steps: &[Step], f: &mut dyn FnMut(usize) -> bool) -> bool {
  let Some((step, rest)) = steps.split_first() else {
    return f(v);
  };
  match step {
    Step::Key(key) => {
      if json::kind(s, v) != Kind::Object {
        return false;
      }
      let mut last = None;
      let mut units = Vec::new();
      json::for_each_member(s, v, |m| {
        if key_is(&s[m.key_start..m.key_end], key, &mut units) {
          last = Some(m.value);
        }
        true
      });
      last.is_some_and(|value| reach(s, value, rest, f))
    }
    Step::Index(n) => {
      if json::kind(s, v) != Kind::Array {
        return false;
      }
      let mut at = None;
      let mut k = 0;
      json::for_each_element(s, v, |e| {
        if k == *n {
          at = Some(e);
        }
        k += 1;
        at.is_none()
      });
      at.is_some_and(|e| reach(s, e, rest, f))
    }
    Step::Each => {
      if json::kind(s, v) != Kind::Array {
        return false;
      }
      let mut hit = false;
      json::for_each_element(s, v, |e| {
        hit = reach(s, e, rest, f);
        !hit
      });
      hit
    }
  }
}

/// Whether a key's raw text (between its quotes) names `key`.
#[inline]
pub fn key_is(raw: &[u8], key: &Key, units: &mut Vec<u16>) -> bool {
  if !raw.contains(&b'\\') {
    return key.utf8.as_deref() == Some(raw);
  }
  units.clear();
  json::decode_utf16(raw, units);
  *units == key.utf16
}

fn raw_string(s: &[u8], v: usize) -> &[u8] {
  let end = json::skip_string(s, v);
  &s[v + 1..end - 1]
}

fn string_units<'a>(s: &[u8], v: usize, units: &'a mut Vec<u16>) -> &'a [u16] {
  units.clear();
  json::decode_utf16(raw_string(s, v), units);
  units
}

/// A string test, on raw bytes when both sides are plain UTF-8 (the answer is the same there),
/// else on UTF-16 units.
fn text_test(
  s: &[u8],
  v: usize,
  k: &Key,
  units: &mut Vec<u16>,
  on_bytes: impl Fn(&[u8], &[u8]) -> bool,
  on_units: impl Fn(&[u16], &[u16]) -> bool,
) -> bool {
  if json::kind(s, v) != Kind::String {
    return false;
  }
  let raw = raw_string(s, v);
  if let Some(utf8) = &k.utf8 {
    if !raw.contains(&b'\\') {
      return on_bytes(raw, utf8);
    }
  }
  on_units(string_units(s, v, units), &k.utf16)
}

fn same_type(s: &[u8], v: usize, x: &Scalar) -> bool {
  matches!(
    (json::kind(s, v), x),
    (Kind::Null, Scalar::Null)
      | (Kind::Bool, Scalar::Bool(_))
      | (Kind::Number, Scalar::Num(_))
      | (Kind::String, Scalar::Str(_))
  )
}

fn equal(s: &[u8], v: usize, x: &Scalar, units: &mut Vec<u16>) -> bool {
  match (json::kind(s, v), x) {
    (Kind::Null, Scalar::Null) => true,
    (Kind::Bool, Scalar::Bool(b)) => (s[v] == b't') == *b,
    (Kind::Number, Scalar::Num(n)) => json::number(s, v) == *n,
    (Kind::String, Scalar::Str(k)) => key_is(raw_string(s, v), k, units),
    _ => false,
  }
}

/// An error in the object form: where in `where` (`where.and[1].eq`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
  pub at: String,
  pub message: String,
}

fn spec_error<T>(at: &str, message: impl Into<String>) -> Result<T, SpecError> {
  Err(SpecError {
    at: at.to_string(),
    message: message.into(),
  })
}

const OPERATORS: &[&str] = &[
  "eq",
  "ne",
  "lt",
  "lte",
  "gt",
  "gte",
  "in",
  "exists",
  "startsWith",
  "endsWith",
  "contains",
  "matches",
];

/// Parses the object form from its JSON text (`JSON.stringify` of what the user gave).
pub fn parse_object_form(text: &str, at: &str) -> Result<Pred, SpecError> {
  let s = text.as_bytes();
  node(s, json::skip_ws(s, 0), at, 1)
}

/// `place` shortened for a message: a place 256 levels deep is a kilobyte long.
fn shorten(place: &str) -> String {
  const KEEP: usize = 40;
  let chars: Vec<char> = place.chars().collect();
  if chars.len() <= 2 * KEEP + 1 {
    return place.to_string();
  }
  let head: String = chars[..KEEP].iter().collect();
  let tail: String = chars[chars.len() - KEEP..].iter().collect();
  format!("{head}…{tail}")
}

fn decode_string(s: &[u8], v: usize) -> Vec<u16> {
  let mut units = Vec::new();
  json::decode_utf16(raw_string(s, v), &mut units);
  units
}

/// One predicate of the object form, `depth` levels of `and`/`or`/`not` deep (1 at the top).
fn node(s: &[u8], v: usize, at: &str, depth: usize) -> Result<Pred, SpecError> {
  if depth > NESTING_LIMIT {
    return spec_error(
      &shorten(at),
      format!("nested too deeply (and, or and not nest at most {NESTING_LIMIT} levels deep)"),
    );
  }
  if json::kind(s, v) != Kind::Object {
    return spec_error(at, "must be an object: { path, <operator>: operand }, { and: [...] }, { or: [...] } or { not: ... }");
  }
  let mut members = Vec::new();
  json::for_each_member(s, v, |m| {
    members.push((
      String::from_utf16_lossy(&decode_string(s, m.key_start - 1)),
      m.value,
    ));
    true
  });
  let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
  let get = |name: &str| members.iter().find(|(k, _)| k == name).map(|&(_, v)| v);
  for logic in ["and", "or", "not"] {
    if let Some(value) = get(logic) {
      if names.len() != 1 {
        return spec_error(
          at,
          format!(
            "'{logic}' must be the only key of its object, found {}",
            names.join(", ")
          ),
        );
      }
      let here = format!("{at}.{logic}");
      if logic == "not" {
        return Ok(Pred::Not(Box::new(node(s, value, &here, depth + 1)?)));
      }
      if json::kind(s, value) != Kind::Array {
        return spec_error(&here, "must be an array of predicates");
      }
      let mut parts = Vec::new();
      let mut failure = None;
      json::for_each_element(s, value, |e| {
        match node(s, e, &format!("{here}[{}]", parts.len()), depth + 1) {
          Ok(p) => parts.push(p),
          Err(err) => failure = Some(err),
        }
        failure.is_none()
      });
      if let Some(err) = failure {
        return Err(err);
      }
      return Ok(if logic == "and" {
        Pred::And(parts)
      } else {
        Pred::Or(parts)
      });
    }
  }
  let Some(path_at) = get("path") else {
    return spec_error(at, "needs a 'path' (or is one of { and }, { or }, { not })");
  };
  let path_here = format!("{at}.path");
  if json::kind(s, path_at) != Kind::String {
    return spec_error(&path_here, "must be a string");
  }
  let Ok(path_text) = String::from_utf16(&decode_string(s, path_at)) else {
    return spec_error(
      &path_here,
      "has a lone surrogate: write that key quoted, with an escape (as [\"\\ud800\"])",
    );
  };
  let path = path::parse(&path_text).map_err(|e| SpecError {
    at: path_here.clone(),
    message: format!(
      "{} (column {} of '{path_text}')",
      e.message,
      e.column(&path_text)
    ),
  })?;
  let ops: Vec<&str> = names.iter().copied().filter(|&k| k != "path").collect();
  for k in &ops {
    if !OPERATORS.contains(k) {
      return spec_error(
        at,
        format!(
          "unknown operator '{k}'; the operators are {}",
          OPERATORS.join(", ")
        ),
      );
    }
  }
  let [op] = ops[..] else {
    return spec_error(
      at,
      format!(
        "needs exactly one operator next to 'path' (one of {}), found {}",
        OPERATORS.join(", "),
        ops.len()
      ),
    );
  };
  let value = get(op).expect("present");
  let here = format!("{at}.{op}");
  let test = operand_test(
    op,
    |want| operand(s, value, want, &here),
    |message| SpecError {
      at: here.clone(),
      message,
    },
  )?;
  Ok(Pred::Test(path, test))
}

/// The operand of an operator, in the object form or the string form.
#[derive(Debug)]
pub enum Operand {
  Scalar(Scalar),
  List(Vec<Scalar>),
  Bool(bool),
}

/// What an operator takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
  Scalar,
  NumberOrString,
  String,
  List,
  Bool,
}

/// Builds the test for `op` from its operand: `read` gets what `op` takes and returns it, or an
/// error located where the operand is; `invalid` locates a refused regular expression there too.
pub fn operand_test<E>(
  op: &str,
  read: impl FnOnce(Wants) -> Result<Operand, E>,
  invalid: impl FnOnce(String) -> E,
) -> Result<Test, E> {
  let wants = match op {
    "eq" | "ne" | "contains" => Wants::Scalar,
    "lt" | "lte" | "gt" | "gte" => Wants::NumberOrString,
    "startsWith" | "endsWith" | "matches" => Wants::String,
    "in" => Wants::List,
    _ => Wants::Bool,
  };
  let operand = read(wants)?;
  let string = |operand: Operand| match operand {
    Operand::Scalar(Scalar::Str(k)) => k,
    _ => unreachable!("read() returns what was asked"),
  };
  Ok(match (op, operand) {
    ("eq", Operand::Scalar(x)) => Test::Eq(x),
    ("ne", Operand::Scalar(x)) => Test::Ne(x),
    ("contains", Operand::Scalar(x)) => Test::Contains(x),
    ("lt", Operand::Scalar(x)) => Test::Compare(Order::Lt, x),
    ("lte", Operand::Scalar(x)) => Test::Compare(Order::Lte, x),
    ("gt", Operand::Scalar(x)) => Test::Compare(Order::Gt, x),
    ("gte", Operand::Scalar(x)) => Test::Compare(Order::Gte, x),
    ("in", Operand::List(xs)) => Test::In(xs),
    ("exists", Operand::Bool(b)) => Test::Exists(b),
    ("startsWith", o) => Test::StartsWith(string(o)),
    ("endsWith", o) => Test::EndsWith(string(o)),
    ("matches", o) => {
      let compiled = match String::from_utf16(&string(o).utf16) {
        Ok(pattern) => regex(&pattern),
        Err(_) => Err("a regular expression cannot hold a lone surrogate (it matches text)".into()),
      };
      Test::Matches(compiled.map_err(invalid)?)
    }
    _ => unreachable!("every operator is listed"),
  })
}

/// Compiles a `matches` pattern; the error says why it is refused.
pub fn regex(pattern: &str) -> Result<Regex, String> {
  Regex::new(pattern).map_err(|e| regex_message(&e.to_string()))
}

/// The `regex` crate's error, reworded: its parse errors are `regex parse error:`, the pattern
/// and carets under the culprit (indented lines), then `error: why`. The reason comes first
/// here, then the pattern and its carets as they were.
fn regex_message(text: &str) -> String {
  let body = text.strip_prefix("regex parse error:\n").unwrap_or(text);
  let lines: Vec<&str> = body.lines().collect();
  match lines.split_last() {
    Some((last, shown)) if last.starts_with("error: ") && !shown.is_empty() => format!(
      "invalid regular expression: {}\n{}",
      &last["error: ".len()..],
      shown.join("\n")
    ),
    _ => format!("invalid regular expression: {}", body.trim_end()),
  }
}

fn what(wants: Wants) -> &'static str {
  match wants {
    Wants::Scalar => "a string, number, boolean or null",
    Wants::NumberOrString => "a number or a string",
    Wants::String => "a string",
    Wants::List => "an array of strings, numbers, booleans or nulls",
    Wants::Bool => "a boolean",
  }
}

fn scalar(s: &[u8], v: usize) -> Option<Scalar> {
  Some(match json::kind(s, v) {
    Kind::Null => Scalar::Null,
    Kind::Bool => Scalar::Bool(s[v] == b't'),
    Kind::Number => Scalar::Num(json::number(s, v)),
    Kind::String => Scalar::Str(Key::new(decode_string(s, v))),
    Kind::Object | Kind::Array => return None,
  })
}

fn operand(s: &[u8], v: usize, wants: Wants, at: &str) -> Result<Operand, SpecError> {
  let bad = || spec_error(at, format!("must be {}", what(wants)));
  match wants {
    Wants::Bool => match json::kind(s, v) {
      Kind::Bool => Ok(Operand::Bool(s[v] == b't')),
      _ => bad(),
    },
    Wants::List => {
      if json::kind(s, v) != Kind::Array {
        return bad();
      }
      let mut items = Vec::new();
      let mut ok = true;
      json::for_each_element(s, v, |e| {
        match scalar(s, e) {
          Some(x) => items.push(x),
          None => ok = false,
        }
        ok
      });
      if ok {
        Ok(Operand::List(items))
      } else {
        bad()
      }
    }
    _ => match (scalar(s, v), wants) {
      (Some(x @ Scalar::Str(_)), _) => Ok(Operand::Scalar(x)),
      (Some(x @ Scalar::Num(_)), Wants::Scalar | Wants::NumberOrString) => Ok(Operand::Scalar(x)),
      (Some(x), Wants::Scalar) => Ok(Operand::Scalar(x)),
      _ => bad(),
    },
  }
}
