//! Every text qunguan says in a group, in Chinese (the default) and English.
//!
//! Each catalog is one macro invocation, so an entry cannot exist in one language only.
//! Placeholders are `{0}`, `{1}`, … and are filled by [`fill`]. [`Texts`] holds the core
//! texts; [`ContactTexts`] those of the external-contact and audit commands.

mod contacts;
mod core;

use std::str::FromStr;

pub use contacts::ContactTexts;
pub use core::Texts;

/// The reply language (`QUNGUAN_LANG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl FromStr for Lang {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" => Ok(Lang::Zh),
            "en" | "en-us" => Ok(Lang::En),
            _ => Err(()),
        }
    }
}

impl Lang {
    /// The core catalog for this language.
    pub fn texts(self) -> &'static Texts {
        Texts::for_lang(self)
    }

    /// The external-contact and audit catalog for this language.
    pub fn contact_texts(self) -> &'static ContactTexts {
        ContactTexts::for_lang(self)
    }

    /// Picks one of a `[zh, en]` pair (used for per-command summaries).
    pub fn pick(self, pair: &[&'static str; 2]) -> &'static str {
        match self {
            Lang::Zh => pair[0],
            Lang::En => pair[1],
        }
    }
}

/// Replaces `{0}`, `{1}`, … in `template` with `args`.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = template.to_owned();
    for (i, arg) in args.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), arg);
    }
    out
}

/// Defines a catalog struct with one `&'static str` per entry and its two instances.
macro_rules! catalog {
    ($name:ident $($key:ident { zh: $zh:literal, en: $en:literal })*) => {
        /// One language's texts; see the entries for where each is used.
        pub struct $name { $(pub $key: &'static str,)* }

        impl $name {
            /// The catalog for `lang`.
            pub fn for_lang(lang: Lang) -> &'static Self {
                static ZH: $name = $name { $($key: $zh,)* };
                static EN: $name = $name { $($key: $en,)* };
                match lang {
                    Lang::Zh => &ZH,
                    Lang::En => &EN,
                }
            }

            /// Every entry as (name, zh, en), for checks.
            #[cfg(test)]
            pub fn entries() -> Vec<(&'static str, &'static str, &'static str)> {
                vec![$((stringify!($key), $zh, $en),)*]
            }
        }
    };
}
use catalog;

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<usize> {
        (0..10)
            .filter(|i| s.contains(&format!("{{{i}}}")))
            .collect()
    }

    #[test]
    fn both_languages_use_the_same_placeholders() {
        for (key, zh, en) in Texts::entries().into_iter().chain(ContactTexts::entries()) {
            assert_eq!(placeholders(zh), placeholders(en), "entry {key}");
            assert!(!zh.is_empty() && !en.is_empty(), "entry {key} is empty");
        }
    }

    #[test]
    fn fill_replaces_numbered_placeholders() {
        assert_eq!(fill("{0} and {1}, {0}", &["a", "b"]), "a and b, a");
    }

    #[test]
    fn lang_parses_case_insensitively() {
        assert_eq!("EN".parse(), Ok(Lang::En));
        assert_eq!("zh".parse(), Ok(Lang::Zh));
        assert!("fr".parse::<Lang>().is_err());
    }
}
