//! `where` and `select` for the NDJSON parser: decided on the worker, on a line's bytes, so a
//! line that does not match never becomes a JS object and a projected line reaches JS as the
//! JSON text of its selected parts only.
//!
//! Invariant: both run on lines the validator has passed; their readers (`json.rs`) rely on it.
//! Every spec is compiled once, in the constructor (`check` words the errors JS throws), and the
//! worker compiles the same text again, which cannot fail then.

pub mod expr;
pub mod json;
pub mod path;
pub mod predicate;
pub mod select;

use json::Member;

/// How deep `where` nests (`not`, parentheses, `and`/`or`/`not` objects) and how many steps a
/// path has, at most: everything that recurses over a spec (compiling, evaluating, projecting,
/// dropping) recurses at most this deep, on any thread — the constructor's included, which may
/// be a worker with a small stack. The data's own depth never adds to it.
pub const NESTING_LIMIT: usize = 256;
use predicate::{Evaluator, Pred};
use select::{Projector, Sel};

/// `where` as JS hands it over.
pub enum WhereSpec<'a> {
  /// The string form, as written.
  Expr(&'a str),
  /// The object form, as `JSON.stringify` wrote it.
  Object(&'a str),
}

/// Why a spec is refused: `syntax` for the string form (a `SyntaxError` in JS), with the message
/// naming the option and the position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
  pub syntax: bool,
  pub message: String,
}

/// A compiled `where` and/or `select`.
pub struct Filter {
  pred: Option<Pred>,
  sel: Option<Sel>,
  evaluator: Evaluator,
  projector: Projector,
  projected: Vec<u8>,
}

impl Filter {
  pub fn new(where_: Option<WhereSpec<'_>>, select: Option<&[String]>) -> Result<Self, SpecError> {
    let pred = where_.map(compile_where).transpose()?;
    let sel = select.map(compile_select).transpose()?;
    Ok(Self {
      pred,
      sel,
      evaluator: Evaluator::new(),
      projector: Projector::new(),
      projected: Vec::new(),
    })
  }

  /// The filter the parser's options ask for, if any: `where` in its string form or its object
  /// form's JSON text, and `select`'s paths.
  pub fn from_options(
    where_expr: Option<&str>,
    where_object: Option<&str>,
    select: Option<&[String]>,
  ) -> Result<Option<Self>, SpecError> {
    let where_ = match (where_expr, where_object) {
      (Some(text), _) => Some(WhereSpec::Expr(text)),
      (None, Some(json)) => Some(WhereSpec::Object(json)),
      (None, None) => None,
    };
    if where_.is_none() && select.is_none() {
      return Ok(None);
    }
    Self::new(where_, select).map(Some)
  }

  pub fn selects(&self) -> bool {
    self.sel.is_some()
  }

  /// Whether a valid line passes `where` (every line does without one). `members`: its
  /// top-level members, from `Validator::check_indexing_root`.
  pub fn matches(&mut self, line: &[u8], members: &[Member]) -> bool {
    match &self.pred {
      Some(pred) => self.evaluator.matches(pred, line, members),
      None => true,
    }
  }

  /// The projected text of a valid line (the line itself without `select`).
  pub fn project<'a>(&'a mut self, line: &'a [u8], members: &[Member]) -> &'a [u8] {
    match &self.sel {
      Some(sel) => {
        self
          .projector
          .project(sel, line, members, &mut self.projected);
        &self.projected
      }
      None => line,
    }
  }
}

fn compile_where(spec: WhereSpec<'_>) -> Result<Pred, SpecError> {
  match spec {
    WhereSpec::Expr(text) => expr::parse(text).map_err(|e| SpecError {
      syntax: true,
      message: format!(
        "The \"options.where\" expression is invalid at column {}: {}\n{}",
        e.column(text),
        e.message,
        pointer(text, e.at)
      ),
    }),
    WhereSpec::Object(json) => predicate::parse_object_form(json, "where").map_err(|e| SpecError {
      syntax: false,
      message: format!("The \"options.{}\" option is invalid: {}", e.at, e.message),
    }),
  }
}

/// Characters of an expression shown around an error, at most.
const EXCERPT_CHARS: usize = 72;

/// Two lines: the expression (a window of it around byte `at` when it is long, on one line) and
/// a caret under the character at `at`.
fn pointer(text: &str, at: usize) -> String {
  let at = (0..=at.min(text.len()))
    .rev()
    .find(|&i| text.is_char_boundary(i))
    .unwrap_or(0);
  // Line breaks and tabs shown as spaces keep the caret under its character.
  let chars: Vec<char> = text
    .chars()
    .map(|c| if c.is_control() { ' ' } else { c })
    .collect();
  let index = text[..at].chars().count();
  let (start, end) = if chars.len() <= EXCERPT_CHARS {
    (0, chars.len())
  } else {
    let start = index
      .saturating_sub(EXCERPT_CHARS * 2 / 3)
      .min(chars.len() - EXCERPT_CHARS);
    (start, start + EXCERPT_CHARS)
  };
  let before = if start > 0 { "…" } else { "" };
  let after = if end < chars.len() { "…" } else { "" };
  let shown: String = chars[start..end].iter().collect();
  let caret = " ".repeat(before.chars().count() + index - start);
  format!("  {before}{shown}{after}\n  {caret}^")
}

fn compile_select(paths: &[String]) -> Result<Sel, SpecError> {
  let mut parsed = Vec::with_capacity(paths.len());
  for (i, text) in paths.iter().enumerate() {
    let path = path::parse(text).map_err(|e| SpecError {
      syntax: false,
      message: format!(
        "The \"options.select[{i}]\" path is invalid at column {}: {} ('{text}')",
        e.column(text),
        e.message
      ),
    })?;
    parsed.push(path);
  }
  Ok(Sel::from_paths(&parsed))
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::ndjson::validate::Validator;

  impl Filter {
    /// `matches` and `project` with the top-level index the validator builds, as the parser does.
    fn test_matches(&mut self, line: &[u8]) -> bool {
      let mut v = Validator::new();
      v.check_indexing_root(line).expect("valid test line");
      self.matches(line, v.root_members())
    }

    fn test_project(&mut self, line: &[u8]) -> Vec<u8> {
      let mut v = Validator::new();
      v.check_indexing_root(line).expect("valid test line");
      self.project(line, v.root_members()).to_vec()
    }
  }

  fn expr(text: &str) -> Filter {
    Filter::new(Some(WhereSpec::Expr(text)), None)
      .unwrap_or_else(|e| panic!("{text}: {}", e.message))
  }

  fn object(json: &str) -> Filter {
    Filter::new(Some(WhereSpec::Object(json)), None)
      .unwrap_or_else(|e| panic!("{json}: {}", e.message))
  }

  /// (string form, object form, line, expected): both forms must give the expected answer.
  const CASES: &[(&str, &str, &str, bool)] = &[
    (r#".a == 1"#, r#"{"path":"a","eq":1}"#, r#"{"a":1}"#, true),
    (
      r#".a == 1"#,
      r#"{"path":"a","eq":1}"#,
      r#"{"a":"1"}"#,
      false,
    ),
    (r#".a == 0"#, r#"{"path":"a","eq":0}"#, r#"{"a":-0}"#, true),
    (
      r#".a == 9007199254740992"#,
      r#"{"path":"a","eq":9007199254740992}"#,
      r#"{"a":9007199254740993}"#,
      true,
    ),
    (r#".a != 1"#, r#"{"path":"a","ne":1}"#, r#"{"b":1}"#, false),
    (
      r#".a != 1"#,
      r#"{"path":"a","ne":1}"#,
      r#"{"a":"x"}"#,
      false,
    ),
    (r#".a != 1"#, r#"{"path":"a","ne":1}"#, r#"{"a":2}"#, true),
    (
      r#".a == null"#,
      r#"{"path":"a","eq":null}"#,
      r#"{"a":null}"#,
      true,
    ),
    (
      r#".a == false"#,
      r#"{"path":"a","eq":false}"#,
      r#"{"a":false}"#,
      true,
    ),
    (
      r#".a == false"#,
      r#"{"path":"a","eq":false}"#,
      r#"{"a":0}"#,
      false,
    ),
    (
      r#".a < "b""#,
      r#"{"path":"a","lt":"b"}"#,
      r#"{"a":"a"}"#,
      true,
    ),
    // U+FFFF sorts after U+1F600 in UTF-16 (0xD83D < 0xFFFF), before it in code points.
    (
      r#".a > "😀""#,
      r#"{"path":"a","gt":"😀"}"#,
      "{\"a\":\"\u{ffff}\"}",
      true,
    ),
    (r#".a >= 2"#, r#"{"path":"a","gte":2}"#, r#"{"a":2}"#, true),
    (
      r#".a <= 2"#,
      r#"{"path":"a","lte":2}"#,
      r#"{"a":"1"}"#,
      false,
    ),
    (
      r#".a in [1, "x", null]"#,
      r#"{"path":"a","in":[1,"x",null]}"#,
      r#"{"a":"x"}"#,
      true,
    ),
    (
      r#".a in []"#,
      r#"{"path":"a","in":[]}"#,
      r#"{"a":"x"}"#,
      false,
    ),
    (
      r#".a exists"#,
      r#"{"path":"a","exists":true}"#,
      r#"{"a":null}"#,
      true,
    ),
    (
      r#"not .a exists"#,
      r#"{"path":"a","exists":false}"#,
      r#"{"b":1}"#,
      true,
    ),
    (
      r#".a startsWith "é""#,
      r#"{"path":"a","startsWith":"é"}"#,
      r#"{"a":"\u00e9t\u00e9"}"#,
      true,
    ),
    (
      r#".a startsWith "\ud83d""#,
      r#"{"path":"a","startsWith":"\ud83d"}"#,
      r#"{"a":"😀"}"#,
      true,
    ),
    (
      r#".a endsWith "z""#,
      r#"{"path":"a","endsWith":"z"}"#,
      r#"{"a":"xyz"}"#,
      true,
    ),
    (
      r#".a contains "y""#,
      r#"{"path":"a","contains":"y"}"#,
      r#"{"a":"xyz"}"#,
      true,
    ),
    (
      r#".a contains 2"#,
      r#"{"path":"a","contains":2}"#,
      r#"{"a":[1,2,3]}"#,
      true,
    ),
    (
      r#".a contains 2"#,
      r#"{"path":"a","contains":2}"#,
      r#"{"a":[[2]]}"#,
      false,
    ),
    (
      r#".a contains 2"#,
      r#"{"path":"a","contains":2}"#,
      r#"{"a":"2"}"#,
      false,
    ),
    (
      r#".a matches "^x.z$""#,
      r#"{"path":"a","matches":"^x.z$"}"#,
      r#"{"a":"x\nz"}"#,
      false,
    ),
    (
      r#".a matches "^x.z$""#,
      r#"{"path":"a","matches":"^x.z$"}"#,
      r#"{"a":"x\u00e9z"}"#,
      true,
    ),
    (
      r#".a[*].b == 2"#,
      r#"{"path":"a[*].b","eq":2}"#,
      r#"{"a":[{"b":1},5,{"b":2}]}"#,
      true,
    ),
    (
      r#".a[*] == 2"#,
      r#"{"path":"a[*]","eq":2}"#,
      r#"{"a":[]}"#,
      false,
    ),
    (
      r#".a[*] exists"#,
      r#"{"path":"a[*]","exists":true}"#,
      r#"{"a":{"x":1}}"#,
      false,
    ),
    (
      r#".a[1] == 2"#,
      r#"{"path":"a[1]","eq":2}"#,
      r#"{"a":[1,2]}"#,
      true,
    ),
    (
      r#".a[2] exists"#,
      r#"{"path":"a[2]","exists":true}"#,
      r#"{"a":[1,2]}"#,
      false,
    ),
    (
      r#".["x.y"] == 1"#,
      r#"{"path":"[\"x.y\"]","eq":1}"#,
      r#"{"x.y":1,"x":{"y":2}}"#,
      true,
    ),
    (
      r#".["é"] == 1"#,
      r#"{"path":"[\"\\u00e9\"]","eq":1}"#,
      r#"{"\u00e9":1}"#,
      true,
    ),
    (
      r#".a == 2"#,
      r#"{"path":"a","eq":2}"#,
      r#"{"a":1,"a":2}"#,
      true,
    ),
    (
      r#".a == 1"#,
      r#"{"path":"a","eq":1}"#,
      r#"{"a":1,"a":2}"#,
      false,
    ),
    (
      r#".a == "x\"y""#,
      r#"{"path":"a","eq":"x\"y"}"#,
      r#"{"a":"x\u0022y"}"#,
      true,
    ),
    (r#".a.b == 1"#, r#"{"path":"a.b","eq":1}"#, r#"[1]"#, false),
    (
      r#".a == 1 and .b == 2"#,
      r#"{"and":[{"path":"a","eq":1},{"path":"b","eq":2}]}"#,
      r#"{"a":1,"b":2}"#,
      true,
    ),
    (
      r#".a == 1 or .b == 2"#,
      r#"{"or":[{"path":"a","eq":1},{"path":"b","eq":2}]}"#,
      r#"{"a":0,"b":2}"#,
      true,
    ),
    (
      r#"not (.a == 1 or .b == 2)"#,
      r#"{"not":{"or":[{"path":"a","eq":1},{"path":"b","eq":2}]}}"#,
      r#"{"a":0,"b":2}"#,
      false,
    ),
    (
      r#"not .a == 1"#,
      r#"{"not":{"path":"a","eq":1}}"#,
      r#"{}"#,
      true,
    ),
  ];

  #[test]
  fn string_and_object_forms_agree_with_the_table() {
    for &(text, json, line, want) in CASES {
      assert_eq!(
        expr(text).test_matches(line.as_bytes()),
        want,
        "{text} on {line}"
      );
      assert_eq!(
        object(json).test_matches(line.as_bytes()),
        want,
        "{json} on {line}"
      );
    }
  }

  #[test]
  fn precedence_and_parentheses() {
    let f = |t| expr(t).test_matches(br#"{"a":1,"b":2,"c":3}"#);
    assert!(f(".a == 0 and .b == 0 or .c == 3"));
    assert!(!f(".a == 0 and (.b == 0 or .c == 3)"));
    assert!(f("not not .a == 1"));
    assert!(f("(((.a == 1)))"));
  }

  #[test]
  fn string_form_errors_point_at_the_column() {
    let cases = [
      (".a = 1", 4),
      (".a == ", 7),
      (".a ==1 and", 11),
      ("a == 1", 1),
      (".a == 01", 7),
      (".a < true", 6),
      (".a startsWith 1", 15),
      (".a matches \"(\"", 12),
      (".a in [1,", 10),
      ("(.a == 1", 9),
      (".a == 1 .b", 9),
      (".é.b == 1 x", 11),
      (".a[x] == 1", 4),
    ];
    for (text, column) in cases {
      let err = Filter::new(Some(WhereSpec::Expr(text)), None)
        .err()
        .unwrap_or_else(|| panic!("{text} compiled"));
      assert!(err.syntax);
      assert!(
        err.message.contains(&format!("at column {column}:")),
        "{text}: {}",
        err.message
      );
    }
    let deep = format!("{}.a == 1", "not ".repeat(10_000));
    assert!(Filter::new(Some(WhereSpec::Expr(&deep)), None).is_err());
  }

  #[test]
  fn object_form_errors_name_the_place() {
    let cases = [
      (r#"{"path":"a"}"#, "options.where\""),
      (r#"{"path":"a","eq":1,"ne":2}"#, "options.where\""),
      (r#"{"path":"a","equals":1}"#, "options.where\""),
      (
        r#"{"and":[{"path":"a","eq":1},{"path":"a..b","eq":1}]}"#,
        "options.where.and[1].path\"",
      ),
      (r#"{"or":{"path":"a","eq":1}}"#, "options.where.or\""),
      (
        r#"{"not":{"path":"a","lt":true}}"#,
        "options.where.not.lt\"",
      ),
      (r#"{"path":"a","in":[[1]]}"#, "options.where.in\""),
      (r#"{"path":"a","matches":"("}"#, "options.where.matches\""),
      (r#"{"path":"a","eq":{"x":1}}"#, "options.where.eq\""),
      (r#"{"path":"a","exists":1}"#, "options.where.exists\""),
      (r#"[]"#, "options.where\""),
    ];
    for (json, place) in cases {
      let err = Filter::new(Some(WhereSpec::Object(json)), None)
        .err()
        .unwrap_or_else(|| panic!("{json} compiled"));
      assert!(!err.syntax);
      assert!(err.message.contains(place), "{json}: {}", err.message);
    }
  }

  fn project(paths: &[&str], line: &str) -> String {
    let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    let mut f = Filter::new(None, Some(&paths)).unwrap();
    String::from_utf8(f.test_project(line.as_bytes())).unwrap()
  }

  #[test]
  fn select_keeps_the_selected_paths_nested_as_in_the_input() {
    let line =
      r#"{"id":1,"user":{"login":"x","id":2},"text":"t","tags":[{"a":1,"b":2},{"b":3},4]}"#;
    assert_eq!(
      project(&["id", "user.login"], line),
      r#"{"id":1,"user":{"login":"x"}}"#
    );
    assert_eq!(
      project(&["user.login", "id"], line),
      r#"{"id":1,"user":{"login":"x"}}"#
    );
    assert_eq!(
      project(&["user", "user.login"], line),
      r#"{"user":{"login":"x","id":2}}"#
    );
    assert_eq!(project(&["nope", "user.nope"], line), "{}");
    assert_eq!(project(&["tags[*].a"], line), r#"{"tags":[{"a":1},{},{}]}"#);
    assert_eq!(
      project(&["tags[1]", "tags[0].b"], line),
      r#"{"tags":[{"b":2},{"b":3}]}"#
    );
    assert_eq!(project(&["tags[5]"], line), "{}");
    assert_eq!(
      project(&["tags[*].b", "tags[0].a"], line),
      r#"{"tags":[{"a":1,"b":2},{"b":3},{}]}"#
    );
    assert_eq!(project(&["tags[*][0]"], line), r#"{"tags":[[],[],[]]}"#);
    assert_eq!(project(&["a[*]"], r#"{"a":[]}"#), r#"{"a":[]}"#);
    assert_eq!(project(&["a"], r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3}"#);
    assert_eq!(
      project(&["b", "a"], r#"{"a":1,"b":2,"a":3}"#),
      r#"{"a":3,"b":2}"#
    );
    assert_eq!(project(&["a.x"], r#"{"a":{"x":1},"a":{"y":1}}"#), "{}");
    assert_eq!(project(&["a"], "7"), "{}");
    assert_eq!(project(&["[1]"], "[1,2]"), "[2]");
    assert_eq!(
      project(&["[\"k\\u00e9\"]"], r#"{"k\u00e9":[1, 2]}"#),
      r#"{"k\u00e9":[1, 2]}"#
    );
  }

  #[test]
  fn select_errors_name_the_path() {
    let err = Filter::new(None, Some(&["a".to_string(), "b[".to_string()]))
      .err()
      .unwrap();
    assert!(
      err.message.contains("options.select[1]") && err.message.contains("column 3"),
      "{}",
      err.message
    );
  }

  fn nested(levels: usize, leaf: &str, wrap: &str) -> String {
    let mut text = leaf.to_string();
    for _ in 0..levels {
      text = wrap.replace('@', &text);
    }
    text
  }

  #[test]
  fn object_form_nesting_is_bounded_as_the_string_form_is() {
    let leaf = r#"{"path":"a","eq":1}"#;
    for wrap in [
      r#"{"not":@}"#,
      r#"{"and":[@]}"#,
      r#"{"or":[{"path":"b","exists":true},@]}"#,
    ] {
      // 255 levels of logic above the test: 256 levels in all, as `not` × 255 in a string.
      let ok = nested(NESTING_LIMIT - 1, leaf, wrap);
      assert!(
        Filter::new(Some(WhereSpec::Object(&ok)), None).is_ok(),
        "{wrap}"
      );
      for levels in [NESTING_LIMIT, 100_000] {
        let deep = nested(levels, leaf, wrap);
        let err = Filter::new(Some(WhereSpec::Object(&deep)), None)
          .err()
          .expect("too deep");
        assert!(!err.syntax);
        assert!(
          err.message.contains("nested too deeply") && err.message.len() < 300,
          "{}",
          err.message
        );
      }
    }
    let strings = format!("{}.a == 1", "not ".repeat(NESTING_LIMIT - 1));
    assert!(Filter::new(Some(WhereSpec::Expr(&strings)), None).is_ok());
    let strings = format!("{}.a == 1", "not ".repeat(NESTING_LIMIT));
    assert!(Filter::new(Some(WhereSpec::Expr(&strings)), None).is_err());
  }

  #[test]
  fn paths_have_at_most_the_limit_of_steps() {
    let ok = format!("a{}", "[*]".repeat(NESTING_LIMIT - 1));
    let long = format!("a{}", "[*]".repeat(NESTING_LIMIT));
    let dotted = format!("a{}", ".b".repeat(100_000));
    assert!(Filter::new(None, Some(std::slice::from_ref(&ok))).is_ok());
    for path in [&long, &dotted] {
      let err = Filter::new(None, Some(std::slice::from_ref(path)))
        .err()
        .expect("too long");
      assert!(err.message.contains("path too long"), "{}", err.message);
    }
    assert!(Filter::new(Some(WhereSpec::Expr(&format!(".{ok} exists"))), None).is_ok());
    assert!(Filter::new(Some(WhereSpec::Expr(&format!(".{long} exists"))), None).is_err());
    let object = format!(r#"{{"path":"{long}","exists":true}}"#);
    assert!(Filter::new(Some(WhereSpec::Object(&object)), None).is_err());
  }

  #[test]
  fn deep_data_costs_no_more_stack_than_the_path_has_steps() {
    // 100,000 nested arrays, read by the longest path there can be, on a thread with a small
    // stack: evaluation and projection recurse per step of the path, not per level of data.
    let depth = 100_000;
    let line = format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
    let path = format!("a{}", "[*]".repeat(NESTING_LIMIT - 1));
    let found = std::thread::Builder::new()
      .stack_size(1 << 20)
      .spawn(move || {
        let mut f = expr(&format!(".{path} exists"));
        let mut p = Filter::new(None, Some(&[path])).unwrap();
        let projected = p.test_project(line.as_bytes());
        (
          f.test_matches(line.as_bytes()),
          projected.len() == line.len(),
        )
      })
      .unwrap()
      .join()
      .unwrap();
    assert_eq!(found, (true, true));
  }

  #[test]
  fn many_selected_keys_are_looked_up_not_scanned() {
    let mut paths: Vec<String> = (0..100_000).map(|i| format!("k{i}")).collect();
    paths.push(r#"["\u00e9"]"#.into());
    paths.push(r#"["\ud800"]"#.into());
    paths.push("k5.x".into());
    let mut f = Filter::new(None, Some(&paths)).unwrap();
    let line = r#"{"z":0,"k99999":1,"\u006b5":2,"é":3,"\ud800":4,"k99999":5,"k7":{"x":1}}"#;
    assert_eq!(
      String::from_utf8(f.test_project(line.as_bytes())).unwrap(),
      r#"{"k99999":5,"\u006b5":2,"é":3,"\ud800":4,"k7":{"x":1}}"#
    );
  }

  #[test]
  fn messages_read_well() {
    let message = |text: &str| {
      Filter::new(Some(WhereSpec::Expr(text)), None)
        .err()
        .expect(text)
        .message
    };
    // The regex crate's own lines, reason first, not flattened.
    let m = message(r#".a matches "[""#);
    assert!(
      m.contains("invalid regular expression: unclosed character class\n    [\n    ^\n"),
      "{m}"
    );
    let m = message(".a exists == 1");
    assert!(m.contains("column 11: 'exists' takes no value"), "{m}");
    let m = message(".a == 1 )");
    assert!(
      m.contains("expected 'and', 'or' or the end of the expression, found ')'"),
      "{m}"
    );
    // A long expression is shown as a window, the caret under the character at fault.
    let text = format!("{}.a == 1", "not ".repeat(300));
    let m = message(&text);
    let lines: Vec<&str> = m.lines().collect();
    let caret = lines[2].chars().count() - 1;
    let excerpt: Vec<char> = lines[1].chars().collect();
    assert!(excerpt.len() < 90, "{m}");
    assert_eq!(excerpt[caret], 'n', "{m}");
    assert!(lines[0].contains("column 1025"), "{m}");
    // Line breaks do not break the caret's line.
    let m = message(".a == 1 and\n.b = 2");
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines.len(), 3, "{m}");
    assert_eq!(lines[1].chars().nth(lines[2].len() - 1), Some('='), "{m}");
  }

  #[test]
  fn lone_surrogates_in_object_form_paths_and_patterns_are_refused() {
    for json in [
      r#"{"path":"[\"\ud800\"]","eq":1}"#,
      r#"{"path":"a\ud800","eq":1}"#,
      r#"{"path":"a","matches":"x\ud800"}"#,
    ] {
      let err = Filter::new(Some(WhereSpec::Object(json)), None)
        .err()
        .expect(json);
      assert!(err.message.contains("lone surrogate"), "{}", err.message);
    }
    // An escape in the path's own syntax names that key exactly.
    let mut f = object(r#"{"path":"[\"\\ud800\"]","eq":1}"#);
    assert!(f.test_matches(br#"{"\ud800":1}"#));
  }
}
