//! rafka wire
#![warn(missing_docs)]
