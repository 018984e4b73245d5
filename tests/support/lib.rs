//! Helpers shared by the workspace's cross-crate tests (`tests/`) and examples
//! (`examples/`). Library code lives in `crates/`; nothing here is published.
#![deny(missing_docs)]

/// Seconds since `start`, for examples that print their running time.
pub fn seconds_since(start: std::time::Instant) -> f64 {
    start.elapsed().as_secs_f64()
}
