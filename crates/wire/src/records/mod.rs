//! RecordBatch v2 codec (filled in by the wire-records work).
