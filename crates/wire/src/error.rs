//! [`WireError`]: everything that can go wrong while turning bytes into Kafka values and back.

use std::fmt;

/// A codec error. Every decode path of this crate returns one of these on bad input instead of
/// panicking; none of them means that bytes were consumed from the caller's buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input ended before a field was complete.
    #[error("truncated {what}: needed {needed} bytes, {remaining} remaining")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A frame's size prefix is larger than the configured maximum (bytes).
    #[error("frame of {size} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge {
        /// The size the prefix announced, in bytes.
        size: usize,
        /// The configured maximum, in bytes.
        max: usize,
    },
    /// A length field was negative where no null is allowed.
    #[error("negative length {len} for {what}")]
    NegativeLength {
        /// The field being read.
        what: &'static str,
        /// The length read.
        len: i64,
    },
    /// A length field claims more bytes than the input holds.
    #[error("length {len} of {what} exceeds the {remaining} bytes remaining")]
    LengthOverflow {
        /// The field being read.
        what: &'static str,
        /// The length read.
        len: i64,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A varint ran over its maximum width (5 bytes for 32 bits, 10 for 64 bits).
    #[error("invalid varint")]
    InvalidVarint,
    /// The CRC stored in a record batch does not match its contents.
    #[error("CRC mismatch: stored {expected:#010x}, computed {actual:#010x}")]
    CrcMismatch {
        /// The CRC stored in the batch.
        expected: u32,
        /// The CRC computed over the bytes.
        actual: u32,
    },
    /// The compression bits of a batch name no codec Kafka defines.
    #[error("unknown compression codec id {0}")]
    UnknownCompression(u8),
    /// A batch has a magic byte this crate cannot read.
    #[error("unsupported record batch magic {0}")]
    UnsupportedMagic(i8),
    /// The batch's codec is known, but this build was compiled without its cargo feature
    /// (`gzip`, `snappy`, `lz4` or `zstd` of `rafka-wire`, re-exported by `rafka`).
    #[error("compression codec {codec} is not enabled in this build (enable the cargo feature \"{codec}\")")]
    CodecDisabled {
        /// The codec's name, which is also the name of the feature that enables it.
        codec: &'static str,
    },
    /// Compressing or decompressing failed.
    #[error("compression error: {0}")]
    Compression(String),
    /// A string field is not valid UTF-8.
    #[error("invalid UTF-8 in {what}")]
    InvalidUtf8 {
        /// The field being read.
        what: &'static str,
    },
    /// rafka and the broker share no version of an API (ApiVersions, KIP-35).
    #[error("no common version for {api}: rafka speaks {ours}, broker speaks {broker}")]
    NoCommonVersion {
        /// The API's name, e.g. `Fetch`.
        api: &'static str,
        /// The range rafka speaks.
        ours: VersionSpan,
        /// The range the broker advertised.
        broker: VersionSpan,
    },
    /// The broker did not advertise the API at all.
    #[error("broker does not support {api}")]
    UnsupportedApi {
        /// The API's name.
        api: &'static str,
    },
    /// A version outside the message's known range was asked for.
    #[error("{api} has no version {version}")]
    InvalidVersion {
        /// The API's name.
        api: &'static str,
        /// The version asked for.
        version: i16,
    },
    /// The `kafka-protocol` message codec refused the bytes or the value.
    #[error("{api} v{version}: {message}")]
    Protocol {
        /// The API's name.
        api: &'static str,
        /// The version used.
        version: i16,
        /// What the codec said.
        message: String,
    },
    /// An array count, or a string or bytes length, inside a message body claims more than
    /// the rest of the body can hold. Found by [`crate::guard`] before the message decoder could
    /// allocate for it; the Java client refuses the same bodies.
    #[error(
        "{api} v{version}: {field} claims {count} (at least {needed} bytes), \
         but only {remaining} bytes remain in the body"
    )]
    LengthExceedsBody {
        /// The API's name.
        api: &'static str,
        /// The message version.
        version: i16,
        /// The field whose count or length it is.
        field: &'static str,
        /// The count (array elements) or length (string or bytes) read.
        count: u64,
        /// The fewest bytes that many elements take.
        needed: u64,
        /// Bytes left in the body after the count.
        remaining: usize,
    },
    /// A decoded value is outside the range the protocol allows.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// The field being read.
        what: &'static str,
        /// Why it is invalid.
        detail: String,
    },
}

/// An inclusive version range used in error messages (`min..=max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionSpan {
    /// Lowest version.
    pub min: i16,
    /// Highest version.
    pub max: i16,
}

impl fmt::Display for VersionSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}..=v{}", self.min, self.max)
    }
}

impl From<kafka_protocol::protocol::VersionRange> for VersionSpan {
    fn from(r: kafka_protocol::protocol::VersionRange) -> Self {
        VersionSpan {
            min: r.min,
            max: r.max,
        }
    }
}
