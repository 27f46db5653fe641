//! Typed arrays and Buffers handed to JS, sized to their cost.
//!
//! napi-rs turns a `Vec` into an *external* ArrayBuffer: no copy, but each one costs V8 a backing
//! store registration, a global handle and a finalizer that runs after a garbage collection to
//! free the `Vec`. That is right for a 64 KiB batch and wrong for the few bytes of a trickling
//! stream or a one-line request body, where those costs (and the scavenges they add) were a large
//! part of a short-lived parser's life. Small contents are therefore copied into a V8-owned
//! ArrayBuffer (freed by V8 with no finalizer) and the `Vec` is dropped at once; large ones stay
//! external.
//!
//! Only the JS thread calls these (`to_napi_value` runs where the value is created).

use napi::bindgen_prelude::{Buffer, Float64Array, ToNapiValue, Uint32Array};
use napi::{check_status, sys, Result};

/// At or below this many bytes the contents are copied; above, handed over without a copy.
const COPY_MAX_BYTES: usize = 16 * 1024;

/// A `Float64Array` for JS.
pub struct F64s(pub Vec<f64>);

/// A `Uint32Array` for JS.
pub struct U32s(pub Vec<u32>);

/// A `Buffer` for JS.
pub struct Bytes(pub Vec<u8>);

impl ToNapiValue for F64s {
  unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    if size_of_val(val.0.as_slice()) > COPY_MAX_BYTES {
      return ToNapiValue::to_napi_value(env, Float64Array::new(val.0));
    }
    copied_typed_array(env, &val.0, sys::TypedarrayType::float64_array)
  }
}

impl ToNapiValue for U32s {
  unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    if size_of_val(val.0.as_slice()) > COPY_MAX_BYTES {
      return ToNapiValue::to_napi_value(env, Uint32Array::new(val.0));
    }
    copied_typed_array(env, &val.0, sys::TypedarrayType::uint32_array)
  }
}

impl ToNapiValue for Bytes {
  unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    if val.0.len() > COPY_MAX_BYTES {
      return ToNapiValue::to_napi_value(env, Buffer::from(val.0));
    }
    let mut data = std::ptr::null_mut();
    let mut value = std::ptr::null_mut();
    check_status!(
      // SAFETY: `val.0` is a live slice of `len()` bytes; napi copies them before returning.
      unsafe {
        sys::napi_create_buffer_copy(
          env,
          val.0.len(),
          val.0.as_ptr().cast(),
          &mut data,
          &mut value,
        )
      },
      "Failed to create a Buffer"
    )?;
    Ok(value)
  }
}

/// A typed array of `kind` over a fresh V8-owned ArrayBuffer holding a copy of `items`.
/// `T` must be the element type of `kind` (f64 for float64_array, u32 for uint32_array).
unsafe fn copied_typed_array<T: Copy>(
  env: sys::napi_env,
  items: &[T],
  kind: sys::napi_typedarray_type,
) -> Result<sys::napi_value> {
  let bytes = size_of_val(items);
  let mut data = std::ptr::null_mut();
  let mut buffer = std::ptr::null_mut();
  check_status!(
    // SAFETY: `env` is the current environment (we are called from `to_napi_value`).
    unsafe { sys::napi_create_arraybuffer(env, bytes, &mut data, &mut buffer) },
    "Failed to create an ArrayBuffer"
  )?;
  if bytes > 0 {
    // SAFETY: napi just allocated `bytes` writable bytes at `data`, which cannot overlap
    // `items` (a Rust-owned slice), and any byte pattern of a `T: Copy` number is valid there.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr().cast::<u8>(), data.cast(), bytes) };
  }
  let mut array = std::ptr::null_mut();
  check_status!(
    // SAFETY: `buffer` holds exactly `items.len()` elements of `T`, the element type of `kind`.
    unsafe { sys::napi_create_typedarray(env, kind, items.len(), buffer, 0, &mut array) },
    "Failed to create a typed array"
  )?;
  Ok(array)
}
