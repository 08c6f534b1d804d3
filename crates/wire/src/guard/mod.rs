//! A schema walk over a response body that runs before `kafka-protocol` decodes it, so that no
//! allocation is ever sized by an unchecked count from the wire (finding F1 in
//! `docs/fuzzing.md`).
//!
//! `kafka-protocol`'s array decoders reserve `count` elements up front. A count is at most
//! 2^31 and an element is tens of bytes in memory, so a few bytes of a frame can ask for
//! hundreds of gigabytes; the allocation fails and Rust aborts the process, which no
//! `catch_unwind` can stop. The walk reads every count and length in the body the way the
//! decoder will and refuses the body when one claims more than the bytes after it can hold:
//! `count × (smallest encoding of one element) > remaining`. That is the check the Java client's
//! generated readers make ("Tried to allocate a collection of size N, but there are only M bytes
//! remaining"), tightened by the element size. A body that passes can only make the decoder
//! allocate in proportion to its own length.
//!
//! The layouts are per API and version (Kafka protocol guide, "The Messages"; the message
//! JSON schemas in Kafka's `clients/src/main/resources/common/message/`), written down in
//! `guard/schemas/` for every response rafka decodes. The walk follows the decoder exactly,
//! including where the two part from the protocol guide: a tagged field the schema knows is
//! parsed in place (as `kafka-protocol` does, ignoring its size prefix), an unknown one is
//! skipped by its size. `records` and other byte fields are skipped with one length check, so
//! the walk costs a few nanoseconds per field and nothing per record.
//!
//! The walk is pure: no I/O, no allocation but an error message, no recursion driven by the
//! input (the nesting depth is that of the static schemas).

mod schemas;

pub use schemas::response_schema;

use crate::WireError;

/// Versions without an upper bound in a [`Field`].
const OPEN: i16 = i16::MAX;

/// How one field is laid out on the wire. Integer widths are all that matters here, so every
/// fixed-size type (int8 … int64, uint16, float64, boolean, uuid) is `Fixed(width)`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// A fixed number of bytes.
    Fixed(u8),
    /// STRING or NULLABLE_STRING: int16 length, or unsigned varint length + 1 when flexible.
    Str,
    /// BYTES, NULLABLE_BYTES or RECORDS: int32 length, or unsigned varint length + 1 when
    /// flexible.
    Bytes,
    /// ARRAY of the element type: int32 count (-1 = null), or unsigned varint count + 1 when
    /// flexible.
    Array(&'static Ty),
    /// A nested structure, written inline.
    Struct(&'static [Field]),
    /// A nullable nested structure: an int8 marker (1 = present, -1 = null), then the
    /// structure when present (ConsumerGroupHeartbeat's `Assignment`).
    OptionStruct(&'static [Field]),
}

/// One field of a structure: its layout and the versions that carry it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    name: &'static str,
    ty: Ty,
    min: i16,
    max: i16,
    /// `Some(tag)` for a tagged field (KIP-482), which only travels in the tagged-field
    /// section of flexible versions.
    tag: Option<u32>,
}

impl Field {
    /// A field present from version `min` on.
    pub(crate) const fn new(name: &'static str, ty: Ty, min: i16) -> Field {
        Field {
            name,
            ty,
            min,
            max: OPEN,
            tag: None,
        }
    }

    /// A tagged field the schema declares, known from version `min` on.
    pub(crate) const fn tagged(tag: u32, name: &'static str, ty: Ty, min: i16) -> Field {
        Field {
            name,
            ty,
            min,
            max: OPEN,
            tag: Some(tag),
        }
    }

    /// The same field, last present in version `max`.
    pub(crate) const fn until(self, max: i16) -> Field {
        Field { max, ..self }
    }

    fn in_version(&self, version: i16) -> bool {
        self.min <= version && version <= self.max
    }
}

/// The layout of one API's response body, used by [`walk_response`].
#[derive(Debug)]
pub struct Schema {
    api_key: i16,
    name: &'static str,
    /// The first flexible version (KIP-482: compact lengths and tagged fields); `OPEN` when
    /// the message has none.
    flexible: i16,
    body: &'static [Field],
}

impl Schema {
    /// The API key (Kafka protocol guide, "Api Keys").
    pub fn api_key(&self) -> i16 {
        self.api_key
    }

    /// The API's name as Kafka writes it, e.g. `Fetch`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether `version` of this response is flexible (KIP-482).
    pub fn is_flexible(&self, version: i16) -> bool {
        version >= self.flexible
    }
}

/// A `kafka-protocol` response message whose body layout rafka knows, so that
/// [`crate::request::decode_body`] can walk it before decoding.
///
/// Implemented for the response of every request in [`crate::request::SUPPORTED_APIS`].
pub trait GuardedResponse {
    /// The layout of the body.
    const SCHEMA: &'static Schema;
}

/// Walks a response body of `schema` at `version` and returns how many bytes it occupies.
///
/// `body` starts after the response header and may continue past the body (the decoder ignores
/// trailing bytes too). Errors name the schema's API.
///
/// # Errors
/// [`WireError::LengthExceedsBody`] when an array count, or a string or bytes length, claims more
/// than the rest of `body` can hold; [`WireError::Protocol`] when the body ends early or holds a
/// value the decoder would refuse (a negative length, an over-long varint, a tag not valid for
/// the version).
pub fn walk_response(schema: &Schema, version: i16, body: &[u8]) -> Result<usize, WireError> {
    walk(schema, version, body, schema.name)
}

/// [`walk_response`] for a response type, naming the API `api` in errors.
///
/// # Errors
/// As [`walk_response`].
pub fn check_response<M: GuardedResponse>(
    body: &[u8],
    version: i16,
    api: &'static str,
) -> Result<usize, WireError> {
    walk(M::SCHEMA, version, body, api)
}

fn walk(schema: &Schema, version: i16, body: &[u8], api: &'static str) -> Result<usize, WireError> {
    let mut walk = Walk {
        buf: body,
        pos: 0,
        version,
        flexible: schema.is_flexible(version),
        api,
        error: None,
    };
    match walk.structure(schema.body) {
        Ok(()) => Ok(walk.pos),
        Err(Stop) => Err(walk
            .error
            .take()
            .unwrap_or_else(|| walk.malformed("body", "refused"))),
    }
}

/// The walk stopped; the reason is in [`Walk::error`]. Zero-sized, so the hot path passes
/// one-byte results around instead of a whole [`WireError`].
struct Stop;

struct Walk<'a> {
    buf: &'a [u8],
    pos: usize,
    version: i16,
    flexible: bool,
    api: &'static str,
    error: Option<WireError>,
}

impl Walk<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn malformed(&self, what: &'static str, problem: &str) -> WireError {
        WireError::Protocol {
            api: self.api,
            version: self.version,
            message: format!("{what}: {problem} at body offset {}", self.pos),
        }
    }

    #[cold]
    fn fail(&mut self, what: &'static str, problem: &str) -> Stop {
        self.error = Some(self.malformed(what, problem));
        Stop
    }

    #[inline]
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], Stop> {
        if n > self.remaining() {
            return Err(self.fail(what, "truncated"));
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..self.pos])
    }

    fn int16(&mut self, what: &'static str) -> Result<i16, Stop> {
        let b = self.take(2, what)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn int32(&mut self, what: &'static str) -> Result<i32, Stop> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An unsigned varint of at most 32 bits. The decoder stops after 5 bytes whatever the
    /// fifth says; a fifth byte with bits past 32 is refused here, as Java does, rather than
    /// followed into a different reading of the rest.
    #[inline]
    fn uvarint(&mut self, what: &'static str) -> Result<u32, Stop> {
        let mut value = 0u32;
        for i in 0..5 {
            let b = self.take(1, what)?[0];
            if i == 4 && b > 0x0f {
                return Err(self.fail(what, "varint longer than 32 bits"));
            }
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                break;
            }
        }
        Ok(value)
    }

    /// Reads a length or count (`wide`: int32, else int16; compact forms when flexible) and
    /// checks that `count` items of at least `item_min` bytes fit in what is left. `None` is
    /// null; the decoder refuses a null where none is allowed, which costs nothing.
    fn count(
        &mut self,
        what: &'static str,
        wide: bool,
        item_min: usize,
    ) -> Result<Option<usize>, Stop> {
        let n: i64 = if self.flexible {
            i64::from(self.uvarint(what)?) - 1
        } else if wide {
            i64::from(self.int32(what)?)
        } else {
            i64::from(self.int16(what)?)
        };
        if n == -1 {
            return Ok(None);
        }
        if n < -1 {
            return Err(self.fail(what, "negative length"));
        }
        // An element of zero bytes still costs memory in the decoder, so every element counts
        // for at least one byte.
        let count = n as u64;
        let needed = count.saturating_mul(item_min.max(1) as u64);
        if needed > self.remaining() as u64 {
            self.error = Some(WireError::LengthExceedsBody {
                api: self.api,
                version: self.version,
                field: what,
                count,
                needed,
                remaining: self.remaining(),
            });
            return Err(Stop);
        }
        // needed <= remaining, so count fits in usize.
        Ok(Some(count as usize))
    }

    fn value(&mut self, ty: &Ty, what: &'static str) -> Result<(), Stop> {
        match *ty {
            Ty::Fixed(n) => self.take(usize::from(n), what).map(|_| ()),
            Ty::Str => {
                if let Some(len) = self.count(what, false, 1)? {
                    self.take(len, what)?;
                }
                Ok(())
            }
            Ty::Bytes => {
                if let Some(len) = self.count(what, true, 1)? {
                    self.take(len, what)?;
                }
                Ok(())
            }
            Ty::Array(elem) => {
                let item_min = min_size(elem, self.version, self.flexible);
                if let Some(n) = self.count(what, true, item_min)? {
                    for _ in 0..n {
                        self.value(elem, what)?;
                    }
                }
                Ok(())
            }
            Ty::Struct(fields) => self.structure(fields),
            Ty::OptionStruct(fields) => {
                // kafka-protocol reads any marker other than 1 as null, as Java does.
                if self.take(1, what)?[0] == 1 {
                    self.structure(fields)?;
                }
                Ok(())
            }
        }
    }

    fn structure(&mut self, fields: &'static [Field]) -> Result<(), Stop> {
        // Runs of fixed-size fields (most of a partition entry) cost one bounds check; a cut
        // inside one is reported at its first field.
        let (mut fixed, mut run) = (0, "");
        for f in fields {
            if f.tag.is_some() || !f.in_version(self.version) {
                continue;
            }
            if let Ty::Fixed(n) = f.ty {
                if fixed == 0 {
                    run = f.name;
                }
                fixed += usize::from(n);
                continue;
            }
            if fixed > 0 {
                self.take(fixed, run)?;
                fixed = 0;
            }
            self.value(&f.ty, f.name)?;
        }
        if fixed > 0 {
            self.take(fixed, run)?;
        }
        if !self.flexible {
            return Ok(());
        }
        // Each entry takes at least two bytes, so this loop ends with the input.
        let entries = self.uvarint("tagged field count")?;
        for _ in 0..entries {
            let tag = self.uvarint("tag")?;
            let size = self.uvarint("tagged field size")?;
            match fields.iter().find(|f| f.tag == Some(tag)) {
                // The decoder parses a known tag in place, not within its size: so do we.
                Some(f) if f.in_version(self.version) => self.value(&f.ty, f.name)?,
                Some(f) => return Err(self.fail(f.name, "tag not valid for this version")),
                None => {
                    let size = usize::try_from(size).unwrap_or(usize::MAX);
                    self.take(size, "unknown tagged field")?;
                }
            }
        }
        Ok(())
    }
}

/// The fewest bytes one value of `ty` takes at `version`: what a count is multiplied by before
/// it is compared with the bytes left.
fn min_size(ty: &Ty, version: i16, flexible: bool) -> usize {
    match *ty {
        Ty::Fixed(n) => usize::from(n),
        Ty::Str if flexible => 1,
        Ty::Str => 2,
        Ty::Bytes | Ty::Array(_) if flexible => 1,
        Ty::Bytes | Ty::Array(_) => 4,
        Ty::OptionStruct(_) => 1,
        Ty::Struct(fields) => {
            let own: usize = fields
                .iter()
                .filter(|f| f.tag.is_none() && f.in_version(version))
                .map(|f| min_size(&f.ty, version, flexible))
                .sum();
            own + usize::from(flexible)
        }
    }
}

#[cfg(test)]
mod tests;
