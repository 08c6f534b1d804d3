//! rafka rafka
#![warn(missing_docs)]
