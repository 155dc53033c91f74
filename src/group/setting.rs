//! The six switches of a group's `managementOptions`: their names as commands and policy
//! files take them, their values in words, and where each lives in chat/get and in a
//! group/update.

use crate::{
    dingtalk::{ChatInfo, ManagementOptions},
    i18n::{Texts, fill, text},
    message::fold,
};

/// How a 0/1 switch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Words {
    OnOff,
    YesNo,
    EveryoneOwner,
}

/// A switch's value in words; unexpected and missing values say so.
pub fn in_words(value: Option<i64>, words: Words, t: &Texts) -> String {
    let (zero, one) = match words {
        Words::OnOff => (t.info_off, t.info_on),
        Words::YesNo => (t.info_no, t.info_yes),
        Words::EveryoneOwner => (t.info_everyone, t.info_owner_only),
    };
    match value {
        None => t.info_missing.to_owned(),
        Some(0) => zero.to_owned(),
        Some(1) => one.to_owned(),
        Some(n) => fill(t.info_unknown_value, &[text(&n.to_string())]),
    }
}

/// One of `managementOptions`' six switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setting {
    /// `chatBannedType`, changed by `/mute-all` and `/unmute-all`.
    Muted,
    Searchable,
    Validation,
    History,
    MentionAll,
    Management,
}

impl Setting {
    /// The switches `/set` changes, in the order its usage lists them.
    pub const SETTABLE: [Setting; 5] = [
        Setting::Searchable,
        Setting::Validation,
        Setting::History,
        Setting::MentionAll,
        Setting::Management,
    ];

    /// The name `/set` takes, then its other spellings.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Setting::Muted => &["mute-all", "全员禁言"],
            Setting::Searchable => &["searchable", "可被搜索", "搜索"],
            Setting::Validation => &["validation", "入群验证", "验证"],
            Setting::History => &["history", "历史消息", "历史"],
            Setting::MentionAll => &["mention-all", "@all", "@所有人"],
            Setting::Management => &["management", "管理类型", "管理"],
        }
    }

    /// Finds a switch `/set` may change by any of its names.
    pub fn find(typed: &str) -> Option<Setting> {
        let typed = fold(typed).to_lowercase();
        Self::SETTABLE
            .into_iter()
            .find(|s| s.names().contains(&typed.as_str()))
    }

    pub fn words(self) -> Words {
        match self {
            Setting::Muted | Setting::Validation => Words::OnOff,
            Setting::Searchable | Setting::History => Words::YesNo,
            Setting::MentionAll | Setting::Management => Words::EveryoneOwner,
        }
    }

    /// The values as `/set` takes them, for its usage.
    pub fn values(self) -> &'static str {
        match self.words() {
            Words::OnOff | Words::YesNo => "`on` `off` (`开` `关`)",
            Words::EveryoneOwner => "`everyone` `owner` (`所有人` `群主`)",
        }
    }

    /// The word `/set` takes for `value` (`on`/`off`, `everyone`/`owner`).
    pub fn word(self, value: i64) -> &'static str {
        match (self.words(), value) {
            (Words::EveryoneOwner, 1) => "owner",
            (Words::EveryoneOwner, _) => "everyone",
            (_, 1) => "on",
            _ => "off",
        }
    }

    /// The value a typed word stands for.
    pub fn parse_value(self, typed: &str) -> Option<i64> {
        let typed = fold(typed).to_lowercase();
        let (zero, one): (&[&str], &[&str]) = match self.words() {
            Words::OnOff | Words::YesNo => (&["off", "关", "关闭"], &["on", "开", "开启", "打开"]),
            Words::EveryoneOwner => (&["everyone", "所有人"], &["owner", "群主", "仅群主"]),
        };
        if zero.contains(&typed.as_str()) {
            Some(0)
        } else if one.contains(&typed.as_str()) {
            Some(1)
        } else {
            None
        }
    }

    /// The switch's label, as `/info` shows it.
    pub fn label(self, t: &'static Texts) -> &'static str {
        match self {
            Setting::Muted => t.info_banned,
            Setting::Searchable => t.info_searchable,
            Setting::Validation => t.info_validation,
            Setting::History => t.info_history,
            Setting::MentionAll => t.info_mention_all,
            Setting::Management => t.info_management,
        }
    }

    /// The value chat/get reports.
    pub fn current(self, info: &ChatInfo) -> Option<i64> {
        match self {
            Setting::Muted => info.chat_banned_type,
            Setting::Searchable => info.searchable,
            Setting::Validation => info.validation_type,
            Setting::History => info.show_history_type,
            Setting::MentionAll => info.mention_all_authority,
            Setting::Management => info.management_type,
        }
    }

    /// Sets this switch in `o`, leaving the other five.
    pub fn set(self, o: &mut ManagementOptions, value: i64) {
        *self.slot(o) = value;
    }

    fn slot(self, o: &mut ManagementOptions) -> &mut i64 {
        match self {
            Setting::Muted => &mut o.chat_banned_type,
            Setting::Searchable => &mut o.searchable,
            Setting::Validation => &mut o.validation_type,
            Setting::History => &mut o.show_history_type,
            Setting::MentionAll => &mut o.mention_all_authority,
            Setting::Management => &mut o.management_type,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_in_both_languages() {
        assert_eq!(Setting::find("可被搜索"), Some(Setting::Searchable));
        assert_eq!(
            Setting::find("ＭＥＮＴＩＯＮ-ALL"),
            Some(Setting::MentionAll)
        );
        assert_eq!(Setting::find("mute-all"), None, "not a /set setting");
        assert_eq!(Setting::History.parse_value("开"), Some(1));
        assert_eq!(Setting::History.parse_value("OFF"), Some(0));
        assert_eq!(Setting::Management.parse_value("群主"), Some(1));
        assert_eq!(Setting::MentionAll.parse_value("所有人"), Some(0));
        assert_eq!(Setting::MentionAll.parse_value("on"), None);
    }
}
