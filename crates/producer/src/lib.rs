//! rafka producer
#![warn(missing_docs)]
