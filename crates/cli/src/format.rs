//! kcat-style output formats for `rafka consume -f`.
//!
//! A format is compiled once into [`Token`]s and then rendered per record into a byte buffer, so
//! binary keys and values are written unchanged (kcat does the same: it never re-encodes).

use std::fmt;

/// One piece of a compiled format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Bytes copied as they are (after `\n`-style escapes were resolved).
    Literal(Vec<u8>),
    /// `%t`: topic name.
    Topic,
    /// `%p`: partition.
    Partition,
    /// `%o`: offset.
    Offset,
    /// `%k`: key bytes (nothing for a null key).
    Key,
    /// `%s`: value bytes (nothing for a null value).
    Value,
    /// `%h`: headers as `k1=v1,k2=v2`.
    Headers,
    /// `%T`: timestamp in ms since the epoch.
    Timestamp,
    /// `%K`: key length in bytes (-1 for null).
    KeyLength,
    /// `%S`: value length in bytes (-1 for null).
    ValueLength,
}

/// A format string that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}

/// The fields of one consumed record that a format can print.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp, ms since the epoch.
    pub timestamp: i64,
    /// Key, `None` for a null key.
    pub key: Option<&'a [u8]>,
    /// Value, `None` for a null value (a tombstone).
    pub value: Option<&'a [u8]>,
    /// Headers in record order.
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
}

/// A compiled `-f` format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    tokens: Vec<Token>,
}

impl Format {
    /// Compiles `spec`: `%t %p %o %k %s %h %T %K %S %%` and the escapes `\n \t \r \\`.
    ///
    /// # Errors
    /// An unknown `%x` directive or `\x` escape, or a trailing lone `%`/`\`.
    pub fn parse(spec: &str) -> Result<Self, FormatError> {
        let mut tokens = Vec::new();
        let mut literal = Vec::new();
        let mut chars = spec.chars();
        while let Some(c) = chars.next() {
            match c {
                '%' => {
                    let directive = chars
                        .next()
                        .ok_or_else(|| FormatError("format ends with a lone '%'".into()))?;
                    let token = match directive {
                        '%' => {
                            literal.push(b'%');
                            continue;
                        }
                        't' => Token::Topic,
                        'p' => Token::Partition,
                        'o' => Token::Offset,
                        'k' => Token::Key,
                        's' => Token::Value,
                        'h' => Token::Headers,
                        'T' => Token::Timestamp,
                        'K' => Token::KeyLength,
                        'S' => Token::ValueLength,
                        other => {
                            return Err(FormatError(format!(
                                "unknown format directive '%{other}' (known: %t %p %o %k %s %h %T %K %S %%)"
                            )))
                        }
                    };
                    if !literal.is_empty() {
                        tokens.push(Token::Literal(std::mem::take(&mut literal)));
                    }
                    tokens.push(token);
                }
                '\\' => {
                    let escaped = chars
                        .next()
                        .ok_or_else(|| FormatError("format ends with a lone '\\'".into()))?;
                    literal.push(match escaped {
                        'n' => b'\n',
                        't' => b'\t',
                        'r' => b'\r',
                        '\\' => b'\\',
                        '0' => b'\0',
                        other => {
                            return Err(FormatError(format!(
                                "unknown escape '\\{other}' (known: \\n \\t \\r \\0 \\\\)"
                            )))
                        }
                    });
                }
                other => {
                    let mut buf = [0u8; 4];
                    literal.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Ok(Format { tokens })
    }

    /// The compiled tokens.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Appends `record` rendered with this format to `out`.
    pub fn render(&self, record: &RecordView<'_>, out: &mut Vec<u8>) {
        use std::io::Write;
        for token in &self.tokens {
            // Writing into a Vec cannot fail.
            let _ = match token {
                Token::Literal(bytes) => out.write_all(bytes),
                Token::Topic => out.write_all(record.topic.as_bytes()),
                Token::Partition => write!(out, "{}", record.partition),
                Token::Offset => write!(out, "{}", record.offset),
                Token::Key => out.write_all(record.key.unwrap_or_default()),
                Token::Value => out.write_all(record.value.unwrap_or_default()),
                Token::Timestamp => write!(out, "{}", record.timestamp),
                Token::KeyLength => write!(out, "{}", record.key.map_or(-1, |k| k.len() as i64)),
                Token::ValueLength => {
                    write!(out, "{}", record.value.map_or(-1, |v| v.len() as i64))
                }
                Token::Headers => {
                    for (i, (k, v)) in record.headers.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        out.extend_from_slice(k.as_bytes());
                        out.push(b'=');
                        out.extend_from_slice(v.unwrap_or_default());
                    }
                    Ok(())
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(headers: &'a [(&'a str, Option<&'a [u8]>)]) -> RecordView<'a> {
        RecordView {
            topic: "orders",
            partition: 3,
            offset: 42,
            timestamp: 1_700_000_000_123,
            key: Some(b"k1"),
            value: Some(b"v\x00bin"),
            headers,
        }
    }

    fn render(spec: &str, r: &RecordView<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        Format::parse(spec).unwrap().render(r, &mut out);
        out
    }

    #[test]
    fn renders_every_directive() {
        let headers = [("a", Some(&b"1"[..])), ("b", None)];
        let r = record(&headers);
        assert_eq!(
            render("%t/%p@%o %T [%k] [%s] {%h} %K %S 100%%\\n", &r),
            b"orders/3@42 1700000000123 [k1] [v\x00bin] {a=1,b=} 2 5 100%\n".to_vec()
        );
    }

    #[test]
    fn null_key_and_value_print_empty_and_minus_one_lengths() {
        let mut r = record(&[]);
        r.key = None;
        r.value = None;
        assert_eq!(render("[%k][%s]%K,%S\\t", &r), b"[][]-1,-1\t".to_vec());
    }

    #[test]
    fn default_format_is_value_and_newline() {
        let r = record(&[]);
        assert_eq!(render("%s\\n", &r), b"v\x00bin\n".to_vec());
    }

    #[test]
    fn compiles_adjacent_literals_into_one_token() {
        let f = Format::parse("a\\tb%%c%o").unwrap();
        assert_eq!(
            f.tokens(),
            &[Token::Literal(b"a\tb%c".to_vec()), Token::Offset]
        );
    }

    #[test]
    fn rejects_unknown_directives_and_dangling_escapes() {
        assert!(Format::parse("%x").unwrap_err().to_string().contains("%x"));
        assert!(Format::parse("abc%").is_err());
        assert!(Format::parse("abc\\").is_err());
        assert!(Format::parse("\\q").is_err());
    }

    #[test]
    fn non_ascii_literals_survive() {
        let r = record(&[]);
        assert_eq!(render("→%p", &r), "→3".as_bytes().to_vec());
    }
}
