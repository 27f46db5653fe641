//! Fault injection for the test suite: a stage that panics, and an export that panics.
//!
//! They exist so `__test__/faults.spec.js` can prove that a Rust panic becomes a stream error or
//! a JS exception instead of aborting the process. Not part of the public API (`index.js` does
//! not export them).

use napi::bindgen_prelude::{Function, Object};
use napi::{Env, Result};
use napi_derive::napi;

use crate::transport::{NativeStream, Pipe, PipeOptions, Sink, Stage, Stop};

struct PanickingStage;

impl Stage for PanickingStage {
  type Data = u32;

  fn chunk(&mut self, chunk: &[u8], out: &mut dyn Sink<u32>) -> std::result::Result<(), Stop> {
    if chunk.starts_with(b"panic") {
      panic!("injected fault");
    }
    out.send(chunk.len() as u32)
  }

  fn end(&mut self, _out: &mut dyn Sink<u32>) -> std::result::Result<(), Stop> {
    Ok(())
  }
}

/// A stream whose worker panics on a chunk that starts with `panic`; other chunks yield their
/// length. `owner` is the JS stream object (see `Pipe::start`).
#[napi(catch_unwind, skip_typescript)]
pub fn create_faulty_stream(
  env: Env,
  owner: Object<'_>,
  on_events: Function<'_, (), ()>,
) -> Result<NativeStream> {
  let options = PipeOptions {
    input_bytes: 64 * 1024,
    credits: 2,
  };
  let pipe = Pipe::start(&env, owner, PanickingStage, on_events, options)?;
  Ok(NativeStream::new(pipe))
}

/// Panics inside an export: `catch_unwind` must turn it into a JS exception.
#[napi(catch_unwind, skip_typescript)]
pub fn panic_in_export() {
  panic!("injected export fault");
}
