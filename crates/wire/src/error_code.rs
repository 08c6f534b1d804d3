//! Kafka broker error codes (filled in by the wire-records work).
