//! DingTalk callback signatures: `sign` must equal
//! base64(HMAC-SHA256(key = app secret, message = timestamp + "\n" + app secret)).
//!
//! The signature covers the timestamp only, never the body: the msgId dedupe is the replay
//! defence. `sign` is compared in constant time (`Mac::verify_slice`) and never URL-decoded
//! (it can contain `+`).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Why a callback's signature headers were rejected. Logged and counted, never sent back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("header `{0}` is missing or not text")]
    Missing(&'static str),
    #[error("timestamp is not whole milliseconds")]
    MalformedTimestamp,
    #[error("sign is not base64 of 32 bytes")]
    MalformedSign,
    #[error("timestamp is {skew_ms} ms away from now")]
    Stale { skew_ms: i64 },
    #[error("sign does not match")]
    Mismatch,
}

impl SignatureError {
    /// A short label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            SignatureError::Missing(_) => "missing",
            SignatureError::MalformedTimestamp | SignatureError::MalformedSign => "malformed",
            SignatureError::Stale { .. } => "stale",
            SignatureError::Mismatch => "mismatch",
        }
    }
}

fn mac(secret: &SecretString, timestamp: &str) -> Hmac<Sha256> {
    let secret = secret.expose_secret().as_bytes();
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(secret);
    mac
}

/// Computes the `sign` header DingTalk sends with `timestamp` (used by tests and tools).
pub fn sign(secret: &SecretString, timestamp: &str) -> String {
    STANDARD.encode(mac(secret, timestamp).finalize().into_bytes())
}

/// Checks a callback's `timestamp` and `sign` header values against the secret and the
/// window. Returns the timestamp in milliseconds.
pub fn verify(
    timestamp: Option<&str>,
    sign: Option<&str>,
    secret: &SecretString,
    now_ms: i64,
    window_ms: i64,
) -> Result<i64, SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing("timestamp"))?;
    let sign = sign.ok_or(SignatureError::Missing("sign"))?;
    let sent_ms = parse_millis(timestamp).ok_or(SignatureError::MalformedTimestamp)?;
    let skew_ms = now_ms.saturating_sub(sent_ms);
    if skew_ms.unsigned_abs() > window_ms.unsigned_abs() {
        return Err(SignatureError::Stale { skew_ms });
    }
    let given = STANDARD
        .decode(sign)
        .map_err(|_| SignatureError::MalformedSign)?;
    if given.len() != 32 {
        return Err(SignatureError::MalformedSign);
    }
    mac(secret, timestamp)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)?;
    Ok(sent_ms)
}

/// Whole milliseconds only: ASCII digits, no sign, no fraction, no exponent.
fn parse_millis(raw: &str) -> Option<i64> {
    if raw.is_empty() || raw.len() > 15 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn documented_vectors_match() {
        // HMAC-SHA256 of "timestamp\nsecret", standard Base64 with padding, as DingTalk's
        // receive-message page describes it, computed independently; the first has a `+`.
        assert_eq!(
            sign(&secret("this is secret"), "1577262236757"),
            "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM="
        );
        assert_eq!(
            sign(&secret("SEC_example_appSecret"), "1690362102194"),
            "sjMmj9bxeH5xGrEAa2gR6Hi9f2NKco78sQrLXLW4I/o="
        );
    }

    #[test]
    fn sign_with_plus_verifies_as_sent() {
        let s = secret("this is secret");
        let got = verify(
            Some("1577262236757"),
            Some("hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM="),
            &s,
            1577262236757 + 10,
            HOUR,
        );
        assert_eq!(got, Ok(1577262236757));
    }

    #[test]
    fn url_decoded_sign_is_rejected() {
        // What a proxy that URL-decodes headers would pass on: `+` turned into spaces.
        let s = secret("this is secret");
        let got = verify(
            Some("1577262236757"),
            Some("hmPWwU 7lVdm3ZZz0r9tSfx0L4Q26jWOZr9 Gs6EZQM="),
            &s,
            1577262236757,
            HOUR,
        );
        assert_eq!(got, Err(SignatureError::MalformedSign));
    }

    #[test]
    fn stale_and_future_timestamps_are_rejected() {
        let s = secret("k");
        let ts = 1_700_000_000_000i64;
        let good = sign(&s, &ts.to_string());
        let at = |now| verify(Some(&ts.to_string()), Some(&good), &s, now, HOUR);
        assert!(at(ts + HOUR).is_ok());
        assert!(at(ts - HOUR).is_ok());
        assert_eq!(
            at(ts + HOUR + 1),
            Err(SignatureError::Stale { skew_ms: HOUR + 1 })
        );
        assert_eq!(
            at(ts - HOUR - 1),
            Err(SignatureError::Stale { skew_ms: -HOUR - 1 })
        );
    }

    #[test]
    fn missing_headers_are_rejected() {
        let s = secret("k");
        assert_eq!(
            verify(None, Some("x"), &s, 0, HOUR),
            Err(SignatureError::Missing("timestamp"))
        );
        assert_eq!(
            verify(Some("1"), None, &s, 0, HOUR),
            Err(SignatureError::Missing("sign"))
        );
    }

    #[test]
    fn timestamps_must_be_whole_milliseconds() {
        let s = secret("k");
        for ts in [
            "",
            "1.7e12",
            "-5",
            "+1700000000000",
            "1700000000000.0",
            " 17",
            "abc",
        ] {
            let good = sign(&s, ts);
            assert_eq!(
                verify(Some(ts), Some(&good), &s, 1_700_000_000_000, HOUR),
                Err(SignatureError::MalformedTimestamp),
                "{ts:?}"
            );
        }
    }

    #[test]
    fn wrong_secret_is_a_mismatch() {
        let ts = "1700000000000";
        let forged = sign(&secret("other"), ts);
        assert_eq!(
            verify(
                Some(ts),
                Some(&forged),
                &secret("k"),
                1_700_000_000_000,
                HOUR
            ),
            Err(SignatureError::Mismatch)
        );
    }
}

#[cfg(test)]
mod time_properties {
    use super::*;
    use proptest::prelude::*;

    fn extreme() -> impl Strategy<Value = i64> {
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(0i64),
            Just(-1i64),
            any::<i64>()
        ]
    }

    proptest! {
        /// The window check is exact for every timestamp and clock, however extreme: no
        /// subtraction wraps a stale timestamp into the window.
        #[test]
        fn only_timestamps_within_the_window_are_accepted(
            sent in extreme(), now in extreme(), window in 0i64..=86_400_000,
        ) {
            let secret = SecretString::from("s".to_owned());
            let ts = sent.to_string();
            let result = verify(Some(&ts), Some(&sign(&secret, &ts)), &secret, now, window);
            let within = ((now as i128) - (sent as i128)).abs() <= window as i128;
            match result {
                Ok(ms) => prop_assert!(within && ms == sent),
                Err(SignatureError::Stale { .. }) => prop_assert!(!within),
                // Negative or longer than 15 digits: not a timestamp DingTalk sends.
                Err(SignatureError::MalformedTimestamp) => prop_assert!(ts.len() > 15 || sent < 0),
                Err(other) => prop_assert!(false, "{other}"),
            }
        }
    }
}
