//! The string form of `where`, for people and the command line:
//!
//! ```text
//! expr    = and ( "or" and )*
//! and     = unary ( "and" unary )*
//! unary   = "not" unary | "(" expr ")" | test
//! test    = path ( ("==" | "!=") scalar | ("<" | "<=" | ">" | ">=") (number | string)
//!                | "in" "[" [ scalar ( "," scalar )* ] "]" | "exists"
//!                | "contains" scalar | ("startsWith" | "endsWith" | "matches") string )
//! path    = "." followed by a path (`path.rs`): .type  .payload.size  .items[*].id  .["a b"]
//! scalar  = string | number | "true" | "false" | "null"      (JSON literals)
//! ```
//!
//! `==` is `eq`, `!=` is `ne`, and so on: the string form compiles to the same `Pred` as the
//! object form, so the two always agree. Words are case-sensitive; `and` binds tighter than `or`.
//! Errors carry the byte position, which the caller turns into a column.

use super::path::Key;
use super::path::{self, found, SyntaxError};
use super::predicate::{operand_test, Operand, Pred, Scalar, Test, Wants};
use super::NESTING_LIMIT;

struct Parser<'a> {
  src: &'a str,
  at: usize,
  depth: usize,
}

/// Parses a whole string-form predicate.
pub fn parse(src: &str) -> Result<Pred, SyntaxError> {
  let mut p = Parser {
    src,
    at: 0,
    depth: 0,
  };
  let pred = p.or()?;
  p.space();
  if p.at < src.len() {
    return Err(SyntaxError::new(
      p.at,
      format!(
        "expected 'and', 'or' or the end of the expression, found {}",
        found(src, p.at)
      ),
    ));
  }
  Ok(pred)
}

impl<'a> Parser<'a> {
  fn bytes(&self) -> &'a [u8] {
    self.src.as_bytes()
  }

  fn space(&mut self) {
    while matches!(
      self.bytes().get(self.at),
      Some(b' ' | b'\t' | b'\n' | b'\r')
    ) {
      self.at += 1;
    }
  }

  /// The word (ASCII letters) at the cursor, after spaces, without consuming it.
  fn word(&mut self) -> Option<&'a str> {
    self.space();
    let len = self.bytes()[self.at..]
      .iter()
      .take_while(|b| b.is_ascii_alphabetic())
      .count();
    (len > 0).then(|| &self.src[self.at..self.at + len])
  }

  fn eat_word(&mut self, w: &str) -> bool {
    if self.word() == Some(w) {
      self.at += w.len();
      true
    } else {
      false
    }
  }

  fn error<T>(&self, at: usize, expected: &str) -> Result<T, SyntaxError> {
    Err(SyntaxError::new(
      at,
      format!("expected {expected}, found {}", found(self.src, at)),
    ))
  }

  fn or(&mut self) -> Result<Pred, SyntaxError> {
    let mut parts = vec![self.and()?];
    while self.eat_word("or") {
      parts.push(self.and()?);
    }
    Ok(if parts.len() == 1 {
      parts.pop().expect("one")
    } else {
      Pred::Or(parts)
    })
  }

  fn and(&mut self) -> Result<Pred, SyntaxError> {
    let mut parts = vec![self.unary()?];
    while self.eat_word("and") {
      parts.push(self.unary()?);
    }
    Ok(if parts.len() == 1 {
      parts.pop().expect("one")
    } else {
      Pred::And(parts)
    })
  }

  /// `not` and `(`: the only recursion, bounded so a hostile expression cannot overflow the stack.
  fn unary(&mut self) -> Result<Pred, SyntaxError> {
    self.depth += 1;
    self.space();
    if self.depth > NESTING_LIMIT {
      return Err(SyntaxError::new(
        self.at,
        format!("nested too deeply ('not' and parentheses nest at most {NESTING_LIMIT} deep)"),
      ));
    }
    let pred = self.unary_inner();
    self.depth -= 1;
    pred
  }

  fn unary_inner(&mut self) -> Result<Pred, SyntaxError> {
    if self.eat_word("not") {
      return Ok(Pred::Not(Box::new(self.unary()?)));
    }
    self.space();
    match self.bytes().get(self.at) {
      Some(b'(') => {
        self.at += 1;
        let inner = self.or()?;
        self.space();
        if self.bytes().get(self.at) != Some(&b')') {
          return self.error(self.at, "')', 'and' or 'or'");
        }
        self.at += 1;
        Ok(inner)
      }
      Some(b'.') => self.test(),
      _ => self.error(self.at, "a path such as .type, 'not' or '('"),
    }
  }

  fn test(&mut self) -> Result<Pred, SyntaxError> {
    let (path, end) = path::parse_at(self.src, self.at + 1, true)?;
    self.at = end;
    self.space();
    let op_at = self.at;
    let rest = &self.bytes()[self.at..];
    let symbol = [
      ("==", "eq"),
      ("!=", "ne"),
      ("<=", "lte"),
      (">=", "gte"),
      ("<", "lt"),
      (">", "gt"),
    ]
    .into_iter()
    .find(|(sym, _)| rest.starts_with(sym.as_bytes()));
    let op = if let Some((sym, op)) = symbol {
      self.at += sym.len();
      op
    } else {
      match self.word() {
        Some(w @ ("in" | "exists" | "contains" | "startsWith" | "endsWith" | "matches")) => {
          self.at += w.len();
          w
        }
        _ => {
          return self.error(
            op_at,
            "an operator (== != < <= > >= in exists contains startsWith endsWith matches)",
          )
        }
      }
    };
    if op == "exists" {
      self.space();
      if matches!(self.bytes().get(self.at), Some(b'=' | b'!' | b'<' | b'>')) {
        return Err(SyntaxError::new(
          self.at,
          "'exists' takes no value (.a exists; or compare: .a == 1)",
        ));
      }
      return Ok(Pred::Test(path, Test::Exists(true)));
    }
    self.space();
    let operand_at = self.at;
    let test = operand_test(
      op,
      |wants| self.operand(wants),
      |message| SyntaxError::new(operand_at, message),
    )?;
    Ok(Pred::Test(path, test))
  }

  fn operand(&mut self, wants: Wants) -> Result<Operand, SyntaxError> {
    if wants == Wants::List {
      self.space();
      if self.bytes().get(self.at) != Some(&b'[') {
        return self.error(self.at, "'[' starting a list of values");
      }
      self.at += 1;
      let mut items = Vec::new();
      self.space();
      if self.bytes().get(self.at) == Some(&b']') {
        self.at += 1;
        return Ok(Operand::List(items));
      }
      loop {
        items.push(self.scalar(Wants::Scalar)?);
        self.space();
        match self.bytes().get(self.at) {
          Some(b',') => self.at += 1,
          Some(b']') => {
            self.at += 1;
            return Ok(Operand::List(items));
          }
          _ => return self.error(self.at, "',' or ']'"),
        }
      }
    }
    Ok(Operand::Scalar(self.scalar(wants)?))
  }

  fn scalar(&mut self, wants: Wants) -> Result<Scalar, SyntaxError> {
    self.space();
    let start = self.at;
    let expected = match wants {
      Wants::String => "a string (in double quotes)",
      Wants::NumberOrString => "a number or a string",
      _ => "a value (a string, number, true, false or null)",
    };
    let value = match self.bytes().get(self.at) {
      Some(b'"') => {
        let (units, end) = path::string_literal(self.src, self.at)?;
        self.at = end;
        Scalar::Str(Key::new(units))
      }
      Some(b'-' | b'0'..=b'9') => {
        let end = number_end(self.bytes(), self.at);
        let Some(n) =
          end.and_then(|end| self.src[start..end].parse::<f64>().ok().map(|n| (n, end)))
        else {
          return Err(SyntaxError::new(
            start,
            "invalid number (JSON's number syntax)",
          ));
        };
        // As the object form refuses a non-finite operand: 1e400 is Infinity as a double.
        if !n.0.is_finite() {
          let message = if n.0 < 0.0 {
            "a number out of range (it is -Infinity as a double; it must be finite)"
          } else {
            "a number out of range (it is Infinity as a double; it must be finite)"
          };
          return Err(SyntaxError::new(start, message));
        }
        self.at = n.1;
        Scalar::Num(n.0)
      }
      _ => match self.word() {
        Some("true") => Scalar::Bool(true),
        Some("false") => Scalar::Bool(false),
        Some("null") => Scalar::Null,
        _ => return self.error(start, expected),
      },
    };
    if let Scalar::Bool(_) | Scalar::Null = value {
      self.at += self.word().map_or(0, str::len);
    }
    let fits = matches!(
      (&value, wants),
      (Scalar::Str(_), _) | (Scalar::Num(_), Wants::NumberOrString) | (_, Wants::Scalar)
    );
    if !fits {
      self.at = start;
      return self.error(start, expected);
    }
    Ok(value)
  }
}

/// The end of a JSON number at `at`, or None if the text there is not one.
fn number_end(s: &[u8], mut at: usize) -> Option<usize> {
  let digits = |s: &[u8], at: usize| s[at..].iter().take_while(|b| b.is_ascii_digit()).count();
  if s.get(at) == Some(&b'-') {
    at += 1;
  }
  let int = digits(s, at);
  if int == 0 || (int > 1 && s[at] == b'0') {
    return None;
  }
  at += int;
  if s.get(at) == Some(&b'.') {
    let frac = digits(s, at + 1);
    if frac == 0 {
      return None;
    }
    at += 1 + frac;
  }
  if matches!(s.get(at), Some(b'e' | b'E')) {
    at += 1;
    if matches!(s.get(at), Some(b'+' | b'-')) {
      at += 1;
    }
    let exp = digits(s, at);
    if exp == 0 {
      return None;
    }
    at += exp;
  }
  if s
    .get(at)
    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
  {
    return None;
  }
  Some(at)
}
