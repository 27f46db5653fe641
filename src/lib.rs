//! sluice's native core. `lib.rs` only wires the modules:
//!
//! * `transport`: the worker/channel/TSFN machinery every stream component shares, and the
//!   `NativeStream` handle JS drives;
//! * `stats`: the named counters behind every `stats()`;
//! * one module per component (`ndjson`), each a pure-Rust core plus a `create…` export;
//! * `fault`: fault injection used only by the test suite.
#![deny(clippy::all)]

pub mod fault;
pub mod ndjson;
pub mod stats;
pub mod transport;
