//! SASL PLAIN (RFC 4616): one message, `authzid NUL authcid NUL password`.

/// The single PLAIN message, with an empty authorization id.
pub fn initial_response(username: &str, password: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(username.len() + password.len() + 2);
    out.push(0);
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(password.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn message_layout() {
        assert_eq!(super::initial_response("alice", "pw"), b"\0alice\0pw");
    }
}
