//! rafka consumer
#![warn(missing_docs)]
