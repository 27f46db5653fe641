//! `select`: projects a line onto a list of paths, writing the projected JSON text.
//!
//! The paths are merged into a tree. A value is kept whole where a path ends; elsewhere:
//! * an object keeps the selected keys that are present and whose projection is present, in
//!   input order (the first occurrence's place, the last occurrence's value, as `JSON.parse`
//!   keeps duplicates), and is absent when none is left;
//! * an array under indices keeps the selected elements that exist and whose projection is
//!   present, in input order, and is absent when none is left;
//! * an array under `[*]` keeps every element, each projected by `[*]`'s tree merged with any
//!   index's tree for that element; an element with nothing selected becomes `{}` when the tree
//!   selects keys, `[]` otherwise, so positions are kept; an empty array stays `[]`;
//! * any other value under a tree that does not take it whole is absent;
//! * a line with nothing selected becomes `{}`.
//!
//! The output is JSON text made of pieces of the (valid) input, so it is valid too and the batch
//! treats it like any line.

use std::collections::HashMap;

use super::json::{self, Kind, Member};
use super::path::{Key, Path, Step};
use super::predicate::key_is;

#[derive(Debug, Clone, PartialEq)]
pub enum Sel {
  /// Keep the value whole.
  All,
  Node(Node),
}

/// Above this many keys a node looks keys up in its maps instead of comparing each one: a
/// `select` of 100,000 keys must cost neither quadratic time to build nor a scan per member.
const SCAN_KEYS: usize = 8;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
  keys: Vec<(Key, Sel)>,
  /// `keys`' positions by UTF-16 units (every key) and by UTF-8 bytes (those that have them).
  by_units: HashMap<Vec<u16>, usize>,
  by_utf8: HashMap<Vec<u8>, usize>,
  /// Sorted by index.
  indices: Vec<(u32, Sel)>,
  each: Option<Box<Sel>>,
}

impl Node {
  /// The selection under `key`, added (empty) if new.
  fn child(&mut self, key: &Key) -> &mut Sel {
    let next = self.keys.len();
    let i = *self.by_units.entry(key.utf16.clone()).or_insert(next);
    if i == next {
      if let Some(utf8) = &key.utf8 {
        self.by_utf8.insert(utf8.clone(), i);
      }
      self.keys.push((key.clone(), Sel::Node(Node::default())));
    }
    &mut self.keys[i].1
  }

  /// The position in `keys` of the key whose raw text (between its quotes) is `raw`.
  #[inline]
  fn find(&self, raw: &[u8], units: &mut Vec<u16>) -> Option<usize> {
    if self.keys.len() <= SCAN_KEYS {
      return self.keys.iter().position(|(k, _)| key_is(raw, k, units));
    }
    if !raw.contains(&b'\\') {
      return self.by_utf8.get(raw).copied();
    }
    units.clear();
    json::decode_utf16(raw, units);
    self.by_units.get(&units[..]).copied()
  }
}

impl Sel {
  /// The tree of a list of paths.
  pub fn from_paths(paths: &[Path]) -> Sel {
    let mut root = Sel::Node(Node::default());
    for path in paths {
      insert(&mut root, &path.steps);
    }
    finish(&mut root);
    root
  }
}

fn insert(sel: &mut Sel, steps: &[Step]) {
  let Sel::Node(node) = sel else {
    return; // already kept whole
  };
  let Some((step, rest)) = steps.split_first() else {
    *sel = Sel::All;
    return;
  };
  let empty = || Sel::Node(Node::default());
  let child = match step {
    Step::Key(key) => node.child(key),
    Step::Index(n) => {
      let i = match node.indices.binary_search_by_key(n, |(i, _)| *i) {
        Ok(i) => i,
        Err(i) => {
          node.indices.insert(i, (*n, empty()));
          i
        }
      };
      &mut node.indices[i].1
    }
    Step::Each => node.each.get_or_insert_with(|| Box::new(empty())),
  };
  insert(child, rest);
}

fn merge(dst: &mut Sel, src: &Sel) {
  match (&mut *dst, src) {
    (Sel::All, _) => {}
    (_, Sel::All) => *dst = Sel::All,
    (Sel::Node(d), Sel::Node(s)) => {
      for (key, sel) in &s.keys {
        merge(d.child(key), sel);
      }
      for (n, sel) in &s.indices {
        match d.indices.binary_search_by_key(n, |(i, _)| *i) {
          Ok(i) => merge(&mut d.indices[i].1, sel),
          Err(i) => d.indices.insert(i, (*n, sel.clone())),
        }
      }
      if let Some(each) = &s.each {
        match &mut d.each {
          Some(existing) => merge(existing, each),
          None => d.each = Some(each.clone()),
        }
      }
    }
  }
}

/// Folds `[*]`'s tree into each index's, so an element needs one tree only.
fn finish(sel: &mut Sel) {
  let Sel::Node(node) = sel else { return };
  if let (Some(each), false) = (&node.each, node.indices.is_empty()) {
    let each = each.clone();
    for (_, sel) in &mut node.indices {
      merge(sel, &each);
    }
  }
  for (_, sel) in &mut node.keys {
    finish(sel);
  }
  for (_, sel) in &mut node.indices {
    finish(sel);
  }
  if let Some(each) = &mut node.each {
    finish(each);
  }
}

/// Reusable state for projecting lines.
#[derive(Default)]
pub struct Projector {
  units: Vec<u16>,
}

impl Projector {
  pub fn new() -> Self {
    Self::default()
  }

  /// Writes the projection of the valid JSON text `line` to `out` (cleared first). `members`:
  /// its top-level members as the validator indexed them.
  pub fn project(&mut self, sel: &Sel, line: &[u8], members: &[Member], out: &mut Vec<u8>) {
    out.clear();
    let root = json::skip_ws(line, 0);
    let kept = match sel {
      Sel::Node(node) if !node.keys.is_empty() && json::kind(line, root) == Kind::Object => {
        self.object(line, node, members.iter().copied(), out)
      }
      _ => self.value(line, root, sel, out),
    };
    if !kept {
      out.clear();
      out.extend_from_slice(b"{}");
    }
  }

  /// Writes the projection of the value at `v`; returns false (having written nothing) when it
  /// is absent.
  fn value(&mut self, s: &[u8], v: usize, sel: &Sel, out: &mut Vec<u8>) -> bool {
    let node = match sel {
      Sel::All => {
        out.extend_from_slice(&s[v..json::skip_value(s, v)]);
        return true;
      }
      Sel::Node(node) => node,
    };
    match json::kind(s, v) {
      Kind::Object if !node.keys.is_empty() => {
        let mut members = Vec::new();
        json::for_each_member(s, v, |m| {
          members.push(m);
          true
        });
        self.object(s, node, members.into_iter(), out)
      }
      Kind::Array if node.each.is_some() => {
        self.every_element(s, v, node, out);
        true
      }
      Kind::Array if !node.indices.is_empty() => self.some_elements(s, v, node, out),
      _ => false,
    }
  }

  fn object(
    &mut self,
    s: &[u8],
    node: &Node,
    members: impl Iterator<Item = Member>,
    out: &mut Vec<u8>,
  ) -> bool {
    // The selected members, (key, input order, key text, value): O(members), whatever the
    // number of keys selected. Then per key the first occurrence's place and key text with the
    // last one's value, in input order.
    let mut hits: Vec<(usize, usize, usize, usize, usize)> = Vec::new();
    for (order, m) in members.enumerate() {
      if let Some(j) = node.find(&s[m.key_start..m.key_end], &mut self.units) {
        hits.push((j, order, m.key_start, m.key_end, m.value));
      }
    }
    // Stable: a key's occurrences stay in input order.
    hits.sort_by_key(|h| h.0);
    let mut present: Vec<(usize, usize, usize, usize, &Sel)> = Vec::with_capacity(hits.len());
    for run in hits.chunk_by(|a, b| a.0 == b.0) {
      let (j, order, key_start, key_end, _) = run[0];
      let value = run[run.len() - 1].4;
      present.push((order, key_start, key_end, value, &node.keys[j].1));
    }
    present.sort_unstable_by_key(|p| p.0);
    let start = out.len();
    out.push(b'{');
    let mut any = false;
    for (_, key_start, key_end, value, sel) in present {
      let mark = out.len();
      if any {
        out.push(b',');
      }
      // The key's raw text, quotes included: it is valid JSON as it was.
      out.extend_from_slice(&s[key_start - 1..=key_end]);
      out.push(b':');
      if self.value(s, value, sel, out) {
        any = true;
      } else {
        out.truncate(mark);
      }
    }
    if !any {
      out.truncate(start);
      return false;
    }
    out.push(b'}');
    true
  }

  fn every_element(&mut self, s: &[u8], v: usize, node: &Node, out: &mut Vec<u8>) {
    let each = node.each.as_deref().expect("every_element needs [*]");
    out.push(b'[');
    let mut i = 0u32;
    json::for_each_element(s, v, |e| {
      if i > 0 {
        out.push(b',');
      }
      let sel = match node.indices.binary_search_by_key(&i, |(n, _)| *n) {
        Ok(k) => &node.indices[k].1,
        Err(_) => each,
      };
      if !self.value(s, e, sel, out) {
        out.extend_from_slice(empty_of(sel));
      }
      i += 1;
      true
    });
    out.push(b']');
  }

  fn some_elements(&mut self, s: &[u8], v: usize, node: &Node, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    out.push(b'[');
    let mut any = false;
    let mut i = 0u32;
    let mut next = 0;
    json::for_each_element(s, v, |e| {
      if node.indices[next].0 == i {
        let mark = out.len();
        if any {
          out.push(b',');
        }
        if self.value(s, e, &node.indices[next].1, out) {
          any = true;
        } else {
          out.truncate(mark);
        }
        next += 1;
      }
      i += 1;
      next < node.indices.len()
    });
    if !any {
      out.truncate(start);
      return false;
    }
    out.push(b']');
    true
  }
}

/// What an element with nothing selected becomes under `[*]`.
fn empty_of(sel: &Sel) -> &'static [u8] {
  match sel {
    Sel::Node(node) if !node.keys.is_empty() => b"{}",
    _ => b"[]",
  }
}
