//! Typed identifiers. DingTalk has several kinds of id that look alike and must never be
//! swapped: the callback's `conversationId` is an openConversationId (`cid…`), while the
//! legacy group APIs take a chatid (`chat…`). Each kind is its own type, built from a raw
//! string only through a parser, so a cid can never be passed where a chatid belongs.

use std::fmt;

/// Why a raw string is not a valid id of some kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("contains whitespace or control characters")]
    BadCharacter,
    #[error("looks like an openConversationId (cid…), not a chatid (chat…)")]
    CidGivenForChatId,
    #[error("does not start with `chat` followed by letters and digits")]
    NotAChatId,
}

fn check_plain(raw: &str, max: usize) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    if raw.chars().count() > max {
        return Err(IdError::TooLong(max));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdError::BadCharacter);
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The id as DingTalk spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

string_id!(
    /// A legacy group id (`chat` + hex), taken by chat/get and friendswitch/update.
    ChatId
);
string_id!(
    /// An openConversationId (`cid…==`), the group id every callback carries.
    OpenConversationId
);
string_id!(
    /// A member's userId (`senderStaffId`), the id DingTalk's APIs take for people.
    StaffId
);
string_id!(
    /// The callback's `msgId`, stable across redeliveries: the idempotency key.
    MsgId
);

impl ChatId {
    /// Parses a chatid as an admin types it: `chat` followed by ASCII letters and digits.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        check_plain(raw, 128)?;
        if raw.starts_with("cid") {
            return Err(IdError::CidGivenForChatId);
        }
        let rest = raw.strip_prefix("chat").ok_or(IdError::NotAChatId)?;
        if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(IdError::NotAChatId);
        }
        Ok(Self(raw.to_owned()))
    }
}

impl OpenConversationId {
    /// Parses a conversation id from a callback or an API answer. cids are Base64-like
    /// (`+`, `/`, `=` occur), so only emptiness, length and whitespace are checked.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        check_plain(raw, 256)?;
        Ok(Self(raw.to_owned()))
    }
}

impl StaffId {
    /// Parses a userId. Returns an error for an empty string, which DingTalk sends for
    /// external members; callers treat that as "no staff id".
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        check_plain(raw, 128)?;
        Ok(Self(raw.to_owned()))
    }
}

impl MsgId {
    /// Parses a callback's msgId.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        check_plain(raw, 256)?;
        Ok(Self(raw.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatid_accepts_the_documented_shape() {
        assert_eq!(
            ChatId::parse("chatdafe234sdf3sdf").unwrap().as_str(),
            "chatdafe234sdf3sdf"
        );
    }

    #[test]
    fn chatid_refuses_a_cid_with_a_specific_reason() {
        assert_eq!(
            ChatId::parse("cidQ3kY1v7Tq8mXwP2aB9cD4eF=="),
            Err(IdError::CidGivenForChatId)
        );
    }

    #[test]
    fn chatid_refuses_other_shapes() {
        for raw in ["", "chat", "chat-1", "group1", "chat 1", "chat1=="] {
            assert!(ChatId::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn cid_keeps_base64_characters() {
        let cid = OpenConversationId::parse("cidQ3k+Y1/v7==").unwrap();
        assert_eq!(cid.as_str(), "cidQ3k+Y1/v7==");
        assert!(OpenConversationId::parse("").is_err());
        assert!(OpenConversationId::parse("cid a").is_err());
    }

    #[test]
    fn empty_staff_id_is_no_staff_id() {
        assert_eq!(StaffId::parse(""), Err(IdError::Empty));
    }
}
