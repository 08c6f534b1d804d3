//! The four codecs a batch's records section may be compressed with (attribute bits 0-2).
//!
//! What goes on the wire follows the Java client, so any Kafka peer reads what we write:
//! - gzip: an RFC 1952 stream (`GZIPOutputStream`); concatenated members are read too.
//! - snappy: xerial's `SnappyOutputStream` framing, as Java writes it: the 8-byte magic
//!   `82 'S' 'N' 'A' 'P' 'P' 'Y' 00`, version and compatible-version `i32`s (both 1), then
//!   `[i32 length][raw snappy block]` chunks of at most 32 KiB of input each. On decode a
//!   stream without the magic is read as one raw snappy block, which is what librdkafka
//!   writes (and what xerial's `SnappyInputStream` falls back to).
//! - lz4: the LZ4 frame format (KIP-57) with independent 64 KiB blocks, as Java's
//!   `KafkaLZ4BlockOutputStream` writes it.
//! - zstd: a standard zstd frame (KIP-110).
//!
//! Decompression is bounded: output beyond the caller's limit is an error, and no buffer is
//! sized from a length on the wire that was not first checked against the input's size.

#[cfg(any(feature = "gzip", feature = "lz4", feature = "zstd"))]
use std::io::Read;
#[cfg(any(feature = "gzip", feature = "lz4"))]
use std::io::Write;

#[cfg(any(feature = "gzip", feature = "lz4"))]
use bytes::BufMut;

use bytes::BytesMut;

use super::Compression;
use crate::WireError;

/// Default cap on the size of one decompressed records section: 256 MiB. A fetch response
/// is at most `fetch.max.bytes` (50 MiB by default) compressed, so real batches stay far below.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: usize = 256 * 1024 * 1024;

/// xerial snappy-java stream magic.
#[cfg(feature = "snappy")]
const XERIAL_MAGIC: &[u8; 8] = b"\x82SNAPPY\x00";
/// Magic plus version (1) and minimum compatible version (1), big-endian.
#[cfg(feature = "snappy")]
const XERIAL_HEADER: &[u8; 16] = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";
/// Java's `SnappyOutputStream` default block size (input bytes per chunk).
#[cfg(feature = "snappy")]
const XERIAL_BLOCK: usize = 32 * 1024;
/// No raw snappy element expands more than 64 output bytes from 3 input bytes, so a block
/// claiming more than this many output bytes per input byte is corrupt.
#[cfg(feature = "snappy")]
const SNAPPY_MAX_RATIO: usize = 22;

/// Default gzip level (`Deflater.DEFAULT_COMPRESSION`, which zlib maps to 6).
#[cfg(feature = "gzip")]
const GZIP_DEFAULT_LEVEL: u32 = 6;
/// Java's `compression.zstd.level` default.
#[cfg(feature = "zstd")]
const ZSTD_DEFAULT_LEVEL: i32 = 3;

#[cfg(any(
    feature = "gzip",
    feature = "snappy",
    feature = "lz4",
    feature = "zstd"
))]
fn codec_error(codec: &str, e: impl std::fmt::Display) -> WireError {
    WireError::Compression(format!("{codec}: {e}"))
}

/// Compresses `input` with `codec` at `level` (`None` = the codec's Java default), appending
/// the result to `out`. Levels: gzip 1..=9 (`compression.gzip.level`, KIP-390), zstd
/// -131072..=22 (`compression.zstd.level`); snappy has none and lz4 is always written at the
/// fast level (`compression.lz4.level` is accepted and ignored).
///
/// # Errors
/// [`WireError::Compression`] for a level outside the codec's range or a codec failure.
pub fn compress(
    codec: Compression,
    level: Option<i32>,
    input: &[u8],
    out: &mut BytesMut,
) -> Result<(), WireError> {
    match codec {
        Compression::None => out.extend_from_slice(input),
        Compression::Gzip => gzip_compress(level, input, out)?,
        Compression::Snappy => snappy_compress(input, out)?,
        Compression::Lz4 => lz4_compress(input, out)?,
        Compression::Zstd => zstd_compress(level, input, out)?,
    }
    Ok(())
}

/// The error for a codec whose cargo feature is off: compressing or decompressing with it is
/// refused, never a panic.
#[allow(dead_code)] // unused when every codec feature is on
fn disabled(codec: Compression) -> WireError {
    WireError::CodecDisabled {
        codec: codec.name(),
    }
}

#[cfg(feature = "gzip")]
fn gzip_compress(level: Option<i32>, input: &[u8], out: &mut BytesMut) -> Result<(), WireError> {
    let level = match level {
        None | Some(-1) => GZIP_DEFAULT_LEVEL,
        Some(l @ 1..=9) => l as u32,
        Some(l) => return Err(codec_error("gzip", format!("level {l} outside 1..=9"))),
    };
    let mut enc = flate2::write::GzEncoder::new(out.writer(), flate2::Compression::new(level));
    enc.write_all(input).map_err(|e| codec_error("gzip", e))?;
    enc.finish().map_err(|e| codec_error("gzip", e))?;
    Ok(())
}

#[cfg(not(feature = "gzip"))]
fn gzip_compress(_: Option<i32>, _: &[u8], _: &mut BytesMut) -> Result<(), WireError> {
    Err(disabled(Compression::Gzip))
}

#[cfg(feature = "lz4")]
fn lz4_compress(input: &[u8], out: &mut BytesMut) -> Result<(), WireError> {
    let info = lz4_flex::frame::FrameInfo::new()
        .block_size(lz4_flex::frame::BlockSize::Max64KB)
        .block_mode(lz4_flex::frame::BlockMode::Independent);
    let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, out.writer());
    enc.write_all(input).map_err(|e| codec_error("lz4", e))?;
    enc.finish().map_err(|e| codec_error("lz4", e))?;
    Ok(())
}

#[cfg(not(feature = "lz4"))]
fn lz4_compress(_: &[u8], _: &mut BytesMut) -> Result<(), WireError> {
    Err(disabled(Compression::Lz4))
}

#[cfg(feature = "zstd")]
fn zstd_compress(level: Option<i32>, input: &[u8], out: &mut BytesMut) -> Result<(), WireError> {
    let level = level.unwrap_or(ZSTD_DEFAULT_LEVEL);
    if !(-131_072..=22).contains(&level) {
        return Err(codec_error(
            "zstd",
            format!("level {level} outside -131072..=22"),
        ));
    }
    let compressed = zstd::bulk::compress(input, level).map_err(|e| codec_error("zstd", e))?;
    out.extend_from_slice(&compressed);
    Ok(())
}

#[cfg(not(feature = "zstd"))]
fn zstd_compress(_: Option<i32>, _: &[u8], _: &mut BytesMut) -> Result<(), WireError> {
    Err(disabled(Compression::Zstd))
}

#[cfg(feature = "snappy")]
fn snappy_compress(input: &[u8], out: &mut BytesMut) -> Result<(), WireError> {
    out.extend_from_slice(XERIAL_HEADER);
    let mut encoder = snap::raw::Encoder::new();
    for block in input.chunks(XERIAL_BLOCK) {
        let start = out.len();
        out.resize(start + 4 + snap::raw::max_compress_len(block.len()), 0);
        let n = encoder
            .compress(block, &mut out[start + 4..])
            .map_err(|e| codec_error("snappy", e))?;
        out.truncate(start + 4 + n);
        out[start..start + 4].copy_from_slice(&(n as u32).to_be_bytes());
    }
    Ok(())
}

#[cfg(not(feature = "snappy"))]
fn snappy_compress(_: &[u8], _: &mut BytesMut) -> Result<(), WireError> {
    Err(disabled(Compression::Snappy))
}

/// Decompresses a records section, failing once the output would exceed `max` bytes.
///
/// # Errors
/// [`WireError::Compression`] for corrupt input, [`WireError::Invalid`] when the output would
/// exceed `max` bytes.
pub fn decompress(codec: Compression, input: &[u8], max: usize) -> Result<Vec<u8>, WireError> {
    // Streams grow their output as data really arrives; the initial guess is bounded by input.
    #[allow(unused_variables)] // unused when no stream codec is enabled
    let guess = input.len().saturating_mul(4).min(max);
    match codec {
        Compression::None => {
            check_limit(input.len(), max)?;
            Ok(input.to_vec())
        }
        #[cfg(feature = "gzip")]
        Compression::Gzip => {
            read_bounded(flate2::read::MultiGzDecoder::new(input), guess, max, "gzip")
        }
        #[cfg(feature = "snappy")]
        Compression::Snappy => decompress_snappy(input, max),
        #[cfg(feature = "lz4")]
        Compression::Lz4 => {
            read_bounded(lz4_flex::frame::FrameDecoder::new(input), guess, max, "lz4")
        }
        #[cfg(feature = "zstd")]
        Compression::Zstd => {
            let dec = zstd::stream::read::Decoder::with_buffer(input)
                .map_err(|e| codec_error("zstd", e))?;
            read_bounded(dec, guess, max, "zstd")
        }
        #[allow(unreachable_patterns)] // reachable only when a codec feature is off
        other => Err(disabled(other)),
    }
}

fn check_limit(len: usize, max: usize) -> Result<(), WireError> {
    if len > max {
        return Err(WireError::Invalid {
            what: "decompressed records",
            detail: format!("larger than the limit of {max} bytes"),
        });
    }
    Ok(())
}

#[cfg(any(feature = "gzip", feature = "lz4", feature = "zstd"))]
fn read_bounded(
    reader: impl Read,
    guess: usize,
    max: usize,
    codec: &str,
) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(guess);
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| codec_error(codec, e))?;
    check_limit(out.len(), max)?;
    Ok(out)
}

#[cfg(feature = "snappy")]
fn decompress_snappy(input: &[u8], max: usize) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    if !input.starts_with(XERIAL_MAGIC) {
        snappy_block(input, &mut out, max)?;
        return Ok(out);
    }
    let mut rest = input;
    while !rest.is_empty() {
        // Concatenated xerial streams repeat the header; snappy-java skips it, and so do we.
        if rest.starts_with(XERIAL_MAGIC) {
            if rest.len() < XERIAL_HEADER.len() {
                return Err(WireError::Truncated {
                    what: "xerial snappy header",
                    needed: XERIAL_HEADER.len(),
                    remaining: rest.len(),
                });
            }
            rest = &rest[XERIAL_HEADER.len()..];
            continue;
        }
        let Some(len) = rest.get(..4) else {
            return Err(WireError::Truncated {
                what: "xerial snappy chunk length",
                needed: 4,
                remaining: rest.len(),
            });
        };
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        if len < 0 {
            return Err(WireError::NegativeLength {
                what: "xerial snappy chunk",
                len: len.into(),
            });
        }
        let Some(block) = rest.get(4..4 + len as usize) else {
            return Err(WireError::LengthOverflow {
                what: "xerial snappy chunk",
                len: len.into(),
                remaining: rest.len() - 4,
            });
        };
        snappy_block(block, &mut out, max)?;
        rest = &rest[4 + len as usize..];
    }
    Ok(out)
}

/// Appends one raw snappy block's output to `out`.
#[cfg(feature = "snappy")]
fn snappy_block(block: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), WireError> {
    let n = snap::raw::decompress_len(block).map_err(|e| codec_error("snappy", e))?;
    if n > block.len().saturating_mul(SNAPPY_MAX_RATIO) {
        return Err(codec_error(
            "snappy",
            format!("block of {} bytes claims {n} bytes of output", block.len()),
        ));
    }
    check_limit(out.len().saturating_add(n), max)?;
    let start = out.len();
    out.resize(start + n, 0);
    snap::raw::Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(|e| codec_error("snappy", e))?;
    Ok(())
}

#[cfg(test)]
#[cfg(all(
    feature = "gzip",
    feature = "snappy",
    feature = "lz4",
    feature = "zstd"
))]
mod tests {
    use super::*;

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn sample() -> Vec<u8> {
        (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn round_trip_every_codec() {
        let data = sample();
        for codec in ALL {
            let mut out = BytesMut::new();
            compress(codec, None, &data, &mut out).unwrap();
            assert_eq!(
                decompress(codec, &out, DEFAULT_MAX_DECOMPRESSED_SIZE).unwrap(),
                data,
                "{codec:?}"
            );
            // empty input too
            let mut out = BytesMut::new();
            compress(codec, None, &[], &mut out).unwrap();
            assert!(decompress(codec, &out, 10).unwrap().is_empty(), "{codec:?}");
        }
    }

    #[test]
    fn xerial_framing_is_javas() {
        let data = vec![7u8; 70_000];
        let mut out = BytesMut::new();
        compress(Compression::Snappy, None, &data, &mut out).unwrap();
        assert_eq!(&out[..16], XERIAL_HEADER);
        // three chunks: 32 KiB, 32 KiB, 4464 bytes
        let mut rest = &out[16..];
        let mut chunks = 0;
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let block = &rest[4..4 + len];
            let expect = if chunks < 2 {
                XERIAL_BLOCK
            } else {
                70_000 - 2 * XERIAL_BLOCK
            };
            assert_eq!(snap::raw::decompress_len(block).unwrap(), expect);
            rest = &rest[4 + len..];
            chunks += 1;
        }
        assert_eq!(chunks, 3);
    }

    #[test]
    fn raw_snappy_and_concatenated_xerial_decode() {
        let data = sample();
        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(
            decompress(Compression::Snappy, &raw, usize::MAX).unwrap(),
            data
        );

        let mut two = BytesMut::new();
        compress(Compression::Snappy, None, b"hello ", &mut two).unwrap();
        compress(Compression::Snappy, None, b"world", &mut two).unwrap();
        assert_eq!(
            decompress(Compression::Snappy, &two, 100).unwrap(),
            b"hello world"
        );
    }

    #[test]
    fn limits_are_enforced() {
        let data = vec![0u8; 1 << 20];
        for codec in ALL {
            let mut out = BytesMut::new();
            compress(codec, None, &data, &mut out).unwrap();
            let err = decompress(codec, &out, 1000).unwrap_err();
            assert!(
                matches!(err, WireError::Invalid { .. }),
                "{codec:?}: {err:?}"
            );
        }
    }

    #[test]
    fn corrupt_input_is_an_error() {
        for codec in [
            Compression::Gzip,
            Compression::Lz4,
            Compression::Zstd,
            Compression::Snappy,
        ] {
            let err = decompress(codec, b"\x00\x01garbage-garbage-garbage", 1 << 20).unwrap_err();
            assert!(
                matches!(err, WireError::Compression(_) | WireError::Invalid { .. }),
                "{codec:?}: {err:?}"
            );
        }
        // a snappy block claiming 4 GiB from five bytes
        let err = decompress(
            Compression::Snappy,
            &[0xff, 0xff, 0xff, 0xff, 0x0f],
            usize::MAX,
        )
        .unwrap_err();
        assert!(matches!(err, WireError::Compression(_)));
        // xerial chunk longer than the input
        let mut bad = XERIAL_HEADER.to_vec();
        bad.extend_from_slice(&100i32.to_be_bytes());
        bad.extend_from_slice(b"abc");
        assert!(matches!(
            decompress(Compression::Snappy, &bad, 1000),
            Err(WireError::LengthOverflow { .. })
        ));
    }

    #[test]
    fn levels() {
        let data = sample();
        for level in [1, 9] {
            let mut out = BytesMut::new();
            compress(Compression::Gzip, Some(level), &data, &mut out).unwrap();
            assert_eq!(
                decompress(Compression::Gzip, &out, usize::MAX).unwrap(),
                data
            );
        }
        for level in [-5, 1, 19] {
            let mut out = BytesMut::new();
            compress(Compression::Zstd, Some(level), &data, &mut out).unwrap();
            assert_eq!(
                decompress(Compression::Zstd, &out, usize::MAX).unwrap(),
                data
            );
        }
        assert!(compress(Compression::Gzip, Some(10), &data, &mut BytesMut::new()).is_err());
        assert!(compress(Compression::Zstd, Some(23), &data, &mut BytesMut::new()).is_err());
    }
}

/// Codecs whose feature is off are refused with a typed error, on both paths.
#[cfg(test)]
mod disabled_tests {
    use super::*;

    #[test]
    fn disabled_codecs_are_typed_errors() {
        let data = b"some records section".to_vec();
        for codec in Compression::ALL {
            let mut out = BytesMut::new();
            let compressed = compress(codec, None, &data, &mut out);
            let decompressed = decompress(codec, &out, 1 << 20);
            if codec.is_enabled() {
                compressed.unwrap();
                assert_eq!(decompressed.unwrap(), data, "{codec:?}");
            } else {
                let expect = WireError::CodecDisabled {
                    codec: codec.name(),
                };
                assert_eq!(compressed.unwrap_err(), expect);
                assert!(out.is_empty(), "{codec:?} wrote output");
                assert_eq!(decompress(codec, &data, 1 << 20).unwrap_err(), expect);
                assert!(expect.to_string().contains(codec.name()));
            }
        }
    }

    #[test]
    #[cfg(not(any(
        feature = "gzip",
        feature = "snappy",
        feature = "lz4",
        feature = "zstd"
    )))]
    fn only_none_without_codec_features() {
        assert!(Compression::ALL
            .into_iter()
            .all(|c| c.is_enabled() == (c == Compression::None)));
    }
}
