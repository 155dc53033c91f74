//! A walk over a JSON document that stops at the first object repeating a key.

use std::{borrow::Cow, collections::HashSet, fmt};

use serde::{
    Deserialize,
    de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor},
};

use super::DecodeError;

/// `Ok` if `body` is JSON in which no object repeats a key.
pub fn check(body: &[u8]) -> Result<(), DecodeError> {
    let mut repeated = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    let walked = Walk {
        repeated: &mut repeated,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match (walked, repeated) {
        (_, Some(key)) => Err(DecodeError::DuplicateKey(key)),
        (Err(e), None) => Err(DecodeError::Json(e.to_string())),
        (Ok(()), None) => Ok(()),
    }
}

/// Visits one value, recursing into arrays and objects; a repeated key is left in
/// `repeated` (shortened) and stops the walk.
struct Walk<'a> {
    repeated: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Walk {
                repeated: &mut *self.repeated,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // A callback's objects are small: a list is faster than hashing until one is not.
        let mut listed: Vec<Cow<'de, str>> = Vec::new();
        let mut hashed: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(Key(key)) = map.next_key()? {
            let repeated = if listed.len() < SMALL {
                let repeated = listed.contains(&key);
                listed.push(key.clone());
                repeated
            } else {
                if hashed.is_empty() {
                    hashed.extend(listed.drain(..));
                }
                !hashed.insert(key.clone())
            };
            if repeated {
                *self.repeated = Some(crate::markdown::shorten(&key, 64).into_owned());
                return Err(de::Error::custom("repeated key"));
            }
            map.next_value_seed(Walk {
                repeated: &mut *self.repeated,
            })?;
        }
        Ok(())
    }
}

/// Objects with more keys than this are checked with a hash set.
const SMALL: usize = 32;

/// A key, borrowed from the body unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}
