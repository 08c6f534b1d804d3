//! SCRAM-SHA-256 / SCRAM-SHA-512 client (RFC 5802, RFC 7677; Kafka KIP-84), sans-IO.
//!
//! The exchange is two round trips; each state consumes itself into the next so a message
//! cannot be handled twice or out of order:
//! [`ScramClient::new`] → client-first → [`ScramClient::handle_server_first`] → client-final →
//! [`ScramFinal::handle_server_final`] → verified.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::SaslError;

/// The hash of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha512 => {
                let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("HMAC takes any key");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    pub(crate) fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => {
                let mut out = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out.to_vec()
            }
            ScramHash::Sha512 => {
                let mut out = [0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out);
                out.to_vec()
            }
        }
    }
}

/// Kafka's minimum iteration count for SCRAM credentials (ScramMechanism.minIterations); fewer
/// would let a malicious broker make the password cheap to brute-force.
pub const MIN_ITERATIONS: u32 = 4096;
/// Upper bound on iterations so a broker cannot make the client spin for minutes.
pub const MAX_ITERATIONS: u32 = 1 << 20;

/// The first state: client-first sent, waiting for server-first.
#[derive(Debug)]
pub struct ScramClient {
    hash: ScramHash,
    password: String,
    client_nonce: String,
    client_first_bare: String,
}

impl ScramClient {
    /// Starts an exchange; returns the state and the client-first message to send.
    /// `client_nonce` must be fresh and printable without `,` (see [`new_nonce`]).
    pub fn new(
        hash: ScramHash,
        username: &str,
        password: &str,
        client_nonce: &str,
    ) -> (Self, Vec<u8>) {
        let client_first_bare = format!("n={},r={}", escape_name(username), client_nonce);
        let message = format!("n,,{client_first_bare}").into_bytes();
        (
            ScramClient {
                hash,
                password: password.to_string(),
                client_nonce: client_nonce.to_string(),
                client_first_bare,
            },
            message,
        )
    }

    /// Handles server-first; returns the next state and the client-final message.
    ///
    /// # Errors
    /// [`SaslError::Scram`] for a malformed message, a server nonce that does not extend ours,
    /// an iteration count outside [`MIN_ITERATIONS`]..=[`MAX_ITERATIONS`], or mandatory
    /// extensions.
    pub fn handle_server_first(
        self,
        server_first: &[u8],
    ) -> Result<(ScramFinal, Vec<u8>), SaslError> {
        let text =
            std::str::from_utf8(server_first).map_err(|_| scram("server-first is not UTF-8"))?;
        let attrs = parse_attributes(text)?;
        if attrs.first().map(|(k, _)| *k) == Some('m') {
            return Err(scram("server requires unsupported extensions"));
        }
        let nonce = find(&attrs, 'r')?;
        let salt = B64
            .decode(find(&attrs, 's')?)
            .map_err(|_| scram("salt is not base64"))?;
        let iterations: u32 = find(&attrs, 'i')?
            .parse()
            .map_err(|_| scram("iteration count is not a number"))?;
        if !nonce.starts_with(&self.client_nonce) || nonce.len() == self.client_nonce.len() {
            return Err(scram("server nonce does not extend the client nonce"));
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(scram(&format!("iteration count {iterations} out of range")));
        }
        let salted = self
            .hash
            .salted_password(self.password.as_bytes(), &salt, iterations);
        let client_key = self.hash.hmac(&salted, b"Client Key");
        let stored_key = self.hash.hash(&client_key);
        // "biws" is base64("n,,"): no channel binding, no authzid.
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{},{}", self.client_first_bare, text, without_proof);
        let signature = self.hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = self.hash.hmac(&salted, b"Server Key");
        let server_signature = self.hash.hmac(&server_key, auth_message.as_bytes());
        let message = format!("{without_proof},p={}", B64.encode(proof)).into_bytes();
        Ok((ScramFinal { server_signature }, message))
    }
}

/// The second state: client-final sent, waiting for server-final.
#[derive(Debug)]
pub struct ScramFinal {
    server_signature: Vec<u8>,
}

impl ScramFinal {
    /// Checks server-final: the server proves it knew the password too.
    ///
    /// # Errors
    /// [`SaslError::Scram`] with the server's `e=` error, or when the signature differs.
    pub fn handle_server_final(self, server_final: &[u8]) -> Result<(), SaslError> {
        let text =
            std::str::from_utf8(server_final).map_err(|_| scram("server-final is not UTF-8"))?;
        let attrs = parse_attributes(text)?;
        if let Ok(e) = find(&attrs, 'e') {
            return Err(scram(&format!("server error: {e}")));
        }
        let v = B64
            .decode(find(&attrs, 'v')?)
            .map_err(|_| scram("server signature is not base64"))?;
        if v != self.server_signature {
            return Err(scram("server signature mismatch"));
        }
        Ok(())
    }
}

/// A fresh client nonce: 24 random bytes, base64 (printable, no `,`).
pub fn new_nonce(rng: &mut dyn rand::RngCore) -> String {
    let mut bytes = [0u8; 24];
    rng.fill_bytes(&mut bytes);
    B64.encode(bytes)
}

fn scram(message: &str) -> SaslError {
    SaslError::Scram(message.to_string())
}

/// RFC 5802 saslname: `=` and `,` are escaped.
fn escape_name(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

fn parse_attributes(text: &str) -> Result<Vec<(char, &str)>, SaslError> {
    text.split(',')
        .map(|part| {
            let mut chars = part.chars();
            match (chars.next(), chars.next()) {
                (Some(k), Some('=')) => Ok((k, &part[2..])),
                _ => Err(scram(&format!("malformed attribute \"{part}\""))),
            }
        })
        .collect()
}

fn find<'a>(attrs: &[(char, &'a str)], key: char) -> Result<&'a str, SaslError> {
    attrs
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .ok_or_else(|| scram(&format!("missing attribute {key}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3.
    #[test]
    fn rfc7677_sha256_vector() {
        let (client, first) =
            ScramClient::new(ScramHash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(first, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let (fin, client_final) = client
            .handle_server_first(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&client_final).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        fin.handle_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
    }

    #[test]
    fn wrong_server_signature_rejected() {
        let (client, _) =
            ScramClient::new(ScramHash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        let (fin, _) = client
            .handle_server_first(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap();
        let err = fin
            .handle_server_final(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap_err();
        assert_eq!(err, SaslError::Scram("server signature mismatch".into()));
    }

    #[test]
    fn hostile_server_first_rejected() {
        let new = || ScramClient::new(ScramHash::Sha512, "u,=", "p", "abc");
        assert_eq!(new().1, b"n,,n=u=2C=3D,r=abc");
        for bad in [
            &b"r=xyz123,s=AAAA,i=4096"[..], // nonce not ours
            b"r=abc,s=AAAA,i=4096",         // nonce not extended
            b"r=abcd,s=AAAA,i=1",           // too few iterations
            b"r=abcd,s=!!,i=4096",          // salt not base64
            b"m=ext,r=abcd,s=AAAA,i=4096",  // mandatory extension
            b"garbage",
        ] {
            assert!(
                new().0.handle_server_first(bad).is_err(),
                "{:?}",
                std::str::from_utf8(bad)
            );
        }
        let (fin, _) = new()
            .0
            .handle_server_first(b"r=abcd,s=AAAA,i=4096")
            .unwrap();
        assert_eq!(
            fin.handle_server_final(b"e=invalid-proof").unwrap_err(),
            SaslError::Scram("server error: invalid-proof".into())
        );
    }
}
