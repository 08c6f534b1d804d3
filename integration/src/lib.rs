//! integration support code.
#![warn(missing_docs)]
