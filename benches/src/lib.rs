//! benches support code.
#![warn(missing_docs)]
