//! rafka client
#![warn(missing_docs)]
