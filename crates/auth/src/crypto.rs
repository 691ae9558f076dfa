//! Encryption at rest: XChaCha20-Poly1305 with 192-bit random nonces, a keyring for rotation
//! (one current key writes, every listed key reads) and caller-supplied associated data (the
//! connection key), so a value copied to another record does not open.
//!
//! Sealed format (ASCII, safe for Redis): `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
//! The key id is authenticated too (it is part of the associated data).

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use secrecy::zeroize::{Zeroize as _, Zeroizing};

use crate::secret::KeyMaterial;
use crate::{Error, Result};

const FORMAT: &str = "v1";
const NONCE_LEN: usize = 24;
const MAX_KEY_ID_LEN: usize = 32;

/// One 256-bit key with its id.
pub struct EncryptionKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl EncryptionKey {
    /// A key from configuration: `id` of 1–32 characters `[A-Za-z0-9_-]`, `material` the standard
    /// base64 of exactly 32 bytes.
    pub fn from_base64(id: &str, material: &KeyMaterial) -> Result<Self> {
        let mut bytes = Zeroizing::new(
            STANDARD
                .decode(material.secret().trim())
                .map_err(|_| Error::Config("encryption key is not valid base64".into()))?,
        );
        if bytes.len() != 32 {
            return Err(Error::Config(
                "encryption key must decode to exactly 32 bytes".into(),
            ));
        }
        let key = Self::from_bytes(id, &bytes);
        bytes.zeroize();
        key
    }

    /// A key from 32 raw bytes.
    pub fn from_bytes(id: &str, bytes: &[u8]) -> Result<Self> {
        validate_key_id(id)?;
        let cipher = XChaCha20Poly1305::new_from_slice(bytes)
            .map_err(|_| Error::Config("encryption key must be 32 bytes".into()))?;
        Ok(Self {
            id: id.to_owned(),
            cipher,
        })
    }

    /// A fresh random key (for tests and the embedded demo, where nothing outlives the process).
    pub fn generate(id: &str) -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        Self::from_bytes(id, bytes.as_ref())
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

fn validate_key_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_KEY_ID_LEN
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config(
            "key id must be 1-32 characters of [A-Za-z0-9_-]".into(),
        ))
    }
}

/// The keys: one current key for writing, any number of older keys still accepted for reading.
#[derive(Debug)]
pub struct Keyring {
    current: String,
    keys: HashMap<String, EncryptionKey>,
}

impl Keyring {
    /// A keyring whose current (writing) key is `current`.
    pub fn new(current: EncryptionKey) -> Self {
        let id = current.id.clone();
        let mut keys = HashMap::new();
        keys.insert(id.clone(), current);
        Self { current: id, keys }
    }

    /// Adds an older key that is still accepted for reading.
    ///
    /// # Errors
    /// When a key with the same id is already present.
    pub fn with_read_key(mut self, key: EncryptionKey) -> Result<Self> {
        if self.keys.contains_key(&key.id) {
            return Err(Error::Config(format!("duplicate key id {:?}", key.id)));
        }
        self.keys.insert(key.id.clone(), key);
        Ok(self)
    }

    /// The id of the key new values are written with.
    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Encrypts `plaintext` bound to `associated_data`.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<String> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| Error::UnknownKeyId(self.current.clone()))?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = full_associated_data(&key.id, associated_data);
        let ciphertext = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Decrypt)?;
        let mut body = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&ciphertext);
        Ok(format!(
            "{FORMAT}.{}.{}",
            key.id,
            URL_SAFE_NO_PAD.encode(body)
        ))
    }

    /// Decrypts a value sealed by [`seal`](Self::seal) with any key of the ring and the same
    /// associated data. Tampering, a wrong key or wrong associated data is [`Error::Decrypt`].
    pub fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(FORMAT), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Corrupt("not a sealed value"));
        };
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| Error::UnknownKeyId(key_id.chars().take(MAX_KEY_ID_LEN).collect()))?;
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| Error::Corrupt("sealed value is not base64url"))?;
        let (nonce, ciphertext) = body
            .split_at_checked(NONCE_LEN)
            .ok_or(Error::Corrupt("sealed value too short"))?;
        let aad = full_associated_data(&key.id, associated_data);
        key.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::Decrypt)
    }
}

fn full_associated_data(key_id: &str, associated_data: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(FORMAT.len() + key_id.len() + associated_data.len() + 2);
    aad.extend_from_slice(FORMAT.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(associated_data);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(id: &str) -> Keyring {
        Keyring::new(EncryptionKey::generate(id).unwrap())
    }

    #[test]
    fn round_trip() {
        let ring = ring("k1");
        let sealed = ring.seal(b"refresh-token-value", b"alice/00D").unwrap();
        assert!(sealed.starts_with("v1.k1."));
        assert!(!sealed.contains("refresh-token-value"));
        assert_eq!(
            ring.open(&sealed, b"alice/00D").unwrap().as_slice(),
            b"refresh-token-value"
        );
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let ring = ring("k1");
        assert_ne!(
            ring.seal(b"x", b"a").unwrap(),
            ring.seal(b"x", b"a").unwrap()
        );
    }

    #[test]
    fn tampered_value_is_an_error() {
        let ring = ring("k1");
        let sealed = ring.seal(b"secret", b"ad").unwrap();
        let (head, body) = sealed.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert!(matches!(ring.open(&tampered, b"ad"), Err(Error::Decrypt)));
        assert!(matches!(
            ring.open("v1.k1.AAAA", b"ad"),
            Err(Error::Corrupt(_))
        ));
        assert!(matches!(
            ring.open("garbage", b"ad"),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn wrong_key_is_an_error() {
        let sealed = ring("k1").seal(b"secret", b"ad").unwrap();
        // Same id, different material.
        assert!(matches!(
            ring("k1").open(&sealed, b"ad"),
            Err(Error::Decrypt)
        ));
        // Unknown id.
        assert!(matches!(
            ring("k2").open(&sealed, b"ad"),
            Err(Error::UnknownKeyId(id)) if id == "k1"
        ));
    }

    #[test]
    fn wrong_associated_data_is_an_error() {
        let ring = ring("k1");
        let sealed = ring.seal(b"secret", b"alice/00DA").unwrap();
        assert!(matches!(
            ring.open(&sealed, b"mallory/00DA"),
            Err(Error::Decrypt)
        ));
    }

    #[test]
    fn relabelled_key_id_is_an_error() {
        let material = KeyMaterial::new(STANDARD.encode([7u8; 32]));
        let ring = Keyring::new(EncryptionKey::from_base64("new", &material).unwrap())
            .with_read_key(EncryptionKey::from_base64("old", &material).unwrap())
            .unwrap();
        let sealed = ring.seal(b"secret", b"ad").unwrap();
        let relabelled = sealed.replacen("v1.new.", "v1.old.", 1);
        assert!(matches!(ring.open(&relabelled, b"ad"), Err(Error::Decrypt)));
    }

    #[test]
    fn rotation_reads_old_values_and_writes_with_the_new_key() {
        let old_material = KeyMaterial::new(STANDARD.encode([1u8; 32]));
        let new_material = KeyMaterial::new(STANDARD.encode([2u8; 32]));
        let old_ring = Keyring::new(EncryptionKey::from_base64("old", &old_material).unwrap());
        let sealed_old = old_ring.seal(b"v", b"ad").unwrap();
        let rotated = Keyring::new(EncryptionKey::from_base64("new", &new_material).unwrap())
            .with_read_key(EncryptionKey::from_base64("old", &old_material).unwrap())
            .unwrap();
        assert_eq!(rotated.open(&sealed_old, b"ad").unwrap().as_slice(), b"v");
        assert!(rotated.seal(b"v", b"ad").unwrap().starts_with("v1.new."));
    }

    #[test]
    fn configuration_errors() {
        let short = KeyMaterial::new(STANDARD.encode([1u8; 16]));
        assert!(EncryptionKey::from_base64("k", &short).is_err());
        assert!(EncryptionKey::from_base64("k", &KeyMaterial::new("%%%")).is_err());
        let good = KeyMaterial::new(STANDARD.encode([1u8; 32]));
        assert!(EncryptionKey::from_base64("bad.id", &good).is_err());
        assert!(EncryptionKey::from_base64("", &good).is_err());
        let key = EncryptionKey::from_base64("k", &good).unwrap();
        assert!(!format!("{key:?}").contains(&STANDARD.encode([1u8; 32])));
    }
}
