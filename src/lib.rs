//! sluice's native core. `lib.rs` only wires the modules:
//!
//! * `runtime`: the one worker pool and timer facility every stream in the process runs on;
//! * `transport`: one stream's pipe (input budget, credits, cancellation) and its delivery to JS
//!   (TSFN, keep-alive), the `NativeStream` handle JS drives, and the per-environment signal
//!   hub for components that send signals rather than data;
//! * `stats`: the counters behind every `stats()`, published as consistent snapshots;
//! * `clock`: the time components wait on (monotonic, or a manual clock for tests);
//! * one module per component (`ndjson`, `throttle`, `meter`), each a pure-Rust core plus its exports;
//! * `fault`: fault injection used only by the test suite.
#![deny(clippy::all)]

pub mod clock;
pub mod fault;
pub mod meter;
pub mod ndjson;
pub mod runtime;
pub mod stats;
pub mod throttle;
pub mod transport;
