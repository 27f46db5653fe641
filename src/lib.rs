//! sluice's native core. `lib.rs` only wires the modules:
//!
//! * `runtime`: the one worker pool and timer facility every stream in the process runs on;
//! * `transport`: one stream's pipe (input budget, credits, cancellation) and its delivery to JS
//!   (TSFN, keep-alive), and the `NativeStream` handle JS drives;
//! * `stats`: the counters behind every `stats()`, published as consistent snapshots;
//! * one module per component (`ndjson`), each a pure-Rust core plus a `create…` export;
//! * `fault`: fault injection used only by the test suite.
#![deny(clippy::all)]

pub mod fault;
pub mod ndjson;
pub mod runtime;
pub mod stats;
pub mod transport;
