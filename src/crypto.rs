//! DingTalk's encrypted event push (HTTP `/events`): the signature over the token,
//! timestamp, nonce and ciphertext, and the AES-256-CBC envelope around each event.
//!
//! - key: the console's 43-character `aes_key` plus `=`, Base64-decoded to 32 bytes;
//!   IV: its first 16 bytes.
//! - plaintext: 16 random characters, the message's length (4 bytes, big-endian), the
//!   message, the owner key (the app's key), then a PKCS#7-style pad to a multiple of **32**
//!   bytes (1 to 32 bytes, each of the pad's length).
//! - signature: lowercase hex SHA-1 of the four strings (token, timestamp, nonce,
//!   ciphertext) sorted and joined.
//!
//! The two vectors in the tests are those of DingTalk's own sample code
//! (open-dingtalk/dingtalk-callback-Crypto: `DingTalkCrypto.go`, `DingCallbackCrypto3.py`).

use std::sync::Arc;

use aes::Aes256;
use base64::{
    Engine, alphabet,
    engine::{GeneralPurpose, GeneralPurposeConfig, general_purpose::STANDARD},
};
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// The block the plaintext is padded to (DingTalk's, not AES's 16).
const PAD_BLOCK: usize = 32;
const AES_BLOCK: usize = 16;
/// Random characters before the length.
const RANDOM_LEN: usize = 16;

/// Why a push is not DingTalk's, or does not decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The console's `aes_key` is not 43 characters of Base64.
    #[error("the aes_key is not 43 characters of Base64")]
    Key,
    #[error("the ciphertext is not Base64")]
    Base64,
    #[error("the ciphertext is not whole AES blocks")]
    Blocks,
    #[error("the padding is not DingTalk's")]
    Padding,
    #[error("the plaintext is shorter than its length says")]
    Length,
    #[error("the message is not UTF-8")]
    Utf8,
    /// The plaintext ends with another app's key (or corp's): not for this app.
    #[error("the message is for another app")]
    Owner,
}

/// The console's 签名 token and 加密 aes_key of the app's HTTP event push, checked:
/// `DINGTALK_EVENT_TOKEN` and `DINGTALK_EVENT_AES_KEY`. `Debug` shows neither.
#[derive(Clone)]
pub struct EventSecrets {
    token: SecretString,
    key: Arc<SecretBox<[u8; 32]>>,
}

impl std::fmt::Debug for EventSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSecrets(***)")
    }
}

impl EventSecrets {
    /// The token and the key its 43 characters stand for, or why they are not usable.
    pub fn new(token: SecretString, aes_key: &SecretString) -> Result<Self, CryptoError> {
        let key = decode_key(aes_key.expose_secret())?;
        Ok(Self {
            token,
            key: Arc::new(SecretBox::new(Box::new(key))),
        })
    }
}

/// The secrets of one app's event push, for pushes to that app; `Debug` shows none of them.
pub struct EventCrypto {
    secrets: EventSecrets,
    /// The app key every plaintext must end with.
    owner: String,
}

impl std::fmt::Debug for EventCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventCrypto")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// The key the console's 43-character `aes_key` stands for. Its last character carries
/// two bits more than the key has, which DingTalk's decoders ignore (its second sample key
/// sets them), so they are ignored here too.
pub fn decode_key(aes_key: &str) -> Result<[u8; 32], CryptoError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    if aes_key.len() != 43 || !aes_key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(CryptoError::Key);
    }
    let bytes = LENIENT
        .decode(format!("{aes_key}="))
        .map_err(|_| CryptoError::Key)?;
    bytes.try_into().map_err(|_| CryptoError::Key)
}

impl EventCrypto {
    /// The push's `secrets`, for pushes to the app `owner` (its app key).
    pub fn new(secrets: &EventSecrets, owner: &str) -> Self {
        Self {
            secrets: secrets.clone(),
            owner: owner.to_owned(),
        }
    }

    /// The signature of a push: hex SHA-1 of the four strings, sorted and joined.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [
            self.secrets.token.expose_secret(),
            timestamp,
            nonce,
            encrypt,
        ];
        parts.sort_unstable();
        hex(&Sha1::digest(parts.concat().as_bytes()))
    }

    /// Whether `signature` is this push's, compared in constant time.
    pub fn verify(&self, signature: &str, timestamp: &str, nonce: &str, encrypt: &str) -> bool {
        let expected = self.signature(timestamp, nonce, encrypt);
        expected
            .as_bytes()
            .ct_eq(signature.to_ascii_lowercase().as_bytes())
            .into()
    }

    /// The message inside `encrypt`, if it decrypts, is padded as DingTalk pads, and ends
    /// with this app's key.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, CryptoError> {
        let mut buf = STANDARD.decode(encrypt).map_err(|_| CryptoError::Base64)?;
        // Whole AES blocks; DingTalk pads to 32 bytes, some of its sample ports to 16.
        if buf.is_empty() || buf.len() % AES_BLOCK != 0 {
            return Err(CryptoError::Blocks);
        }
        let key = self.secrets.key.expose_secret();
        let plain = cbc::Decryptor::<Aes256>::new(key.into(), key[..16].into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CryptoError::Blocks)?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::Padding)?);
        let padded = (1..=PAD_BLOCK).contains(&pad) && pad <= plain.len();
        if !padded
            || plain[plain.len() - pad..]
                .iter()
                .any(|&b| usize::from(b) != pad)
        {
            return Err(CryptoError::Padding);
        }
        let body = &plain[..plain.len() - pad];
        let header = body
            .get(RANDOM_LEN..RANDOM_LEN + 4)
            .ok_or(CryptoError::Length)?;
        let len = u32::from_be_bytes(header.try_into().map_err(|_| CryptoError::Length)?) as usize;
        let start = RANDOM_LEN + 4;
        let message = body
            .get(start..start.saturating_add(len))
            .ok_or(CryptoError::Length)?;
        let owner = &body[start + len..];
        if owner != self.owner.as_bytes() {
            return Err(CryptoError::Owner);
        }
        String::from_utf8(message.to_vec()).map_err(|_| CryptoError::Utf8)
    }

    /// `message` encrypted for this app, after `random` (16 characters).
    pub fn encrypt(&self, message: &str, random: &str) -> String {
        let mut plain = Vec::with_capacity(message.len() + self.owner.len() + 2 * PAD_BLOCK);
        plain.extend_from_slice(random.as_bytes());
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.owner.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        self.seal(plain)
    }

    /// `plain`, whole AES blocks, encrypted with the push's key.
    fn seal(&self, mut plain: Vec<u8>) -> String {
        let len = plain.len();
        let key = self.secrets.key.expose_secret();
        let cipher = cbc::Encryptor::<Aes256>::new(key.into(), key[..16].into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .expect("the plaintext is padded to whole blocks");
        STANDARD.encode(cipher)
    }

    /// `message` pushed at `now_ms` as DingTalk pushes it (the demo's client, the tests):
    /// the query of `/events` (`msg_signature`, `timestamp`, `nonce`) and the body
    /// (`{"encrypt": …}`).
    pub fn push(&self, message: &str, now_ms: i64) -> (String, serde_json::Value) {
        let encrypt = self.encrypt(message, &random_chars(RANDOM_LEN));
        let (timestamp, nonce) = (now_ms.to_string(), random_chars(8));
        let signature = self.signature(&timestamp, &nonce, &encrypt);
        let query = format!("msg_signature={signature}&timestamp={timestamp}&nonce={nonce}");
        (query, serde_json::json!({ "encrypt": encrypt }))
    }

    /// The answer to a push: `success`, encrypted and signed, as DingTalk expects it back
    /// (`check_url` included).
    pub fn success(&self, timestamp: &str, nonce: &str) -> serde_json::Value {
        let encrypt = self.encrypt("success", &random_chars(RANDOM_LEN));
        serde_json::json!({
            "msg_signature": self.signature(timestamp, nonce, &encrypt),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypt,
        })
    }
}

/// `bytes` as lowercase hex digits.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random letters and digits.
pub fn random_chars(n: usize) -> String {
    (0..n).map(|_| fastrand::alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto(token: &str, aes_key: &str, owner: &str) -> EventCrypto {
        let secret = |s: &str| SecretString::from(s.to_owned());
        let secrets = EventSecrets::new(secret(token), &secret(aes_key)).unwrap();
        EventCrypto::new(&secrets, owner)
    }

    #[test]
    fn dingtalks_first_vector_verifies_and_decrypts() {
        let c = crypto(
            "tokenxxxx",
            "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus",
            "dingxxxxxx",
        );
        let encrypt = "X1VSe9cTJUMZu60d3kyLYTrBq5578ZRJtteU94wG0Q4Uk6E/wQYeJRIC0/UFW5Wkya1Ihz9oXAdLlyC9TRaqsQ==";
        let signature = "f36f4ba5337d426c7d4bca0dbcb06b3ddc1388fc";
        assert!(c.verify(signature, "1605695694141", "WelUQl6bCqcBa2fM", encrypt));
        assert!(!c.verify(signature, "1605695694142", "WelUQl6bCqcBa2fM", encrypt));
        assert_eq!(c.decrypt(encrypt).unwrap(), "success");
        // The same random prefix gives the same ciphertext: this is DingTalk's own encryption.
        assert_eq!(c.encrypt("success", "WelUQl6bCqcBa2fM"), encrypt);
    }

    #[test]
    fn dingtalks_second_vector_verifies_and_decrypts_check_url() {
        let c = crypto(
            "mryue",
            "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",
            "ding6ccabc44d2c8d38b",
        );
        let encrypt = "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3";
        let signature = "03044561471240d4a14bb09372dfcfd4fd0e40cb";
        assert!(c.verify(signature, "1608001896814", "WL4PK6yA", encrypt));
        assert_eq!(c.decrypt(encrypt).unwrap(), r#"{"EventType":"check_url"}"#);
        assert_eq!(
            c.encrypt(r#"{"EventType":"check_url"}"#, "l7Y3EcX2CU5w8av3"),
            encrypt
        );
    }

    #[test]
    fn a_message_round_trips_and_a_foreign_owner_is_refused() {
        let key = "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus";
        let ours = crypto("t0ken", key, "dingourapp");
        for message in ["", "x", &"群".repeat(100), &"a".repeat(12)] {
            let sealed = ours.encrypt(message, &random_chars(16));
            assert_eq!(ours.decrypt(&sealed).unwrap(), message);
        }
        let theirs = crypto("t0ken", key, "dingotherapp");
        let sealed = theirs.encrypt(r#"{"EventType":"chat_disband"}"#, &random_chars(16));
        assert_eq!(ours.decrypt(&sealed), Err(CryptoError::Owner));
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let c = crypto("t", "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus", "ding");
        assert_eq!(c.decrypt("not base64!"), Err(CryptoError::Base64));
        assert_eq!(c.decrypt(""), Err(CryptoError::Blocks));
        assert_eq!(
            c.decrypt(&STANDARD.encode([0u8; 31])),
            Err(CryptoError::Blocks)
        );
        assert!(c.decrypt(&STANDARD.encode([0u8; 16])).is_err());
        let padded_wrong = STANDARD.encode([7u8; 64]);
        assert!(c.decrypt(&padded_wrong).is_err());
        // Whole blocks that decrypt, but padded otherwise than DingTalk pads.
        let mut plain = vec![b'x'; 64];
        for last in [0u8, 33, 4] {
            plain[63] = last;
            assert_eq!(c.decrypt(&c.seal(plain.clone())), Err(CryptoError::Padding));
        }
        assert_eq!(decode_key("short").err(), Some(CryptoError::Key));
        assert_eq!(decode_key(&"!".repeat(43)).err(), Some(CryptoError::Key));
    }
}
