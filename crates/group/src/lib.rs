//! rafka group
#![warn(missing_docs)]
