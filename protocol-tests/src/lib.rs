//! protocol-tests support code.
#![warn(missing_docs)]
