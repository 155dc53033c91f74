//! Every text qunguan says in a group, in Chinese (the default) and English.
//!
//! Each catalog is one macro invocation, so an entry cannot exist in one language only.
//! Placeholders are `{0}`, `{1}`, … and are filled by [`fill`]. [`Texts`] holds the core
//! texts; [`ContactTexts`] those of the external-contact and audit commands.

mod contacts;
mod core;
mod group;
mod schedule;

use std::str::FromStr;

use crate::markdown;

pub use contacts::ContactTexts;
pub use core::Texts;
pub use group::GroupTexts;
pub use schedule::ScheduleTexts;

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

    /// The group-administration catalog for this language.
    pub fn group_texts(self) -> &'static GroupTexts {
        GroupTexts::for_lang(self)
    }

    /// The catalog of `/schedule` and the runs it announces.
    pub fn schedule_texts(self) -> &'static ScheduleTexts {
        ScheduleTexts::for_lang(self)
    }

    /// Picks one of a `[zh, en]` pair (used for per-command summaries).
    pub fn pick(self, pair: &[&'static str; 2]) -> &'static str {
        match self {
            Lang::Zh => pair[0],
            Lang::En => pair[1],
        }
    }
}

/// A value for a template placeholder.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// Text from a member or from DingTalk: made inert and shortened to
    /// [`markdown::ECHO_LIMIT`] characters.
    Text(&'a str),
    /// Markdown qunguan composed itself (a usage line, a list it built, another filled
    /// template): placed as is.
    Md(&'a str),
}

/// Shorthand for [`Arg::Text`].
pub fn text(s: &str) -> Arg<'_> {
    Arg::Text(s)
}

/// Shorthand for [`Arg::Md`].
pub fn md(s: &str) -> Arg<'_> {
    Arg::Md(s)
}

/// Replaces `{0}`, `{1}`, … in `template` with `args`, in one pass: what an argument
/// brings in is never looked at for placeholders again. A text argument inside one of the
/// template's code spans keeps the span only if it is inert there
/// ([`markdown::is_code_safe`]); otherwise the span is written as escaped plain text.
pub fn fill(template: &str, args: &[Arg<'_>]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('`') {
        push_plain(&mut out, &rest[..open], args);
        let after = &rest[open + 1..];
        match after.find('`') {
            Some(close) => {
                push_code_span(&mut out, &after[..close], args);
                rest = &after[close + 1..];
            }
            None => {
                out.push('`');
                rest = after;
            }
        }
    }
    push_plain(&mut out, rest, args);
    out
}

/// A piece of a template: literal text or a placeholder's argument.
enum Piece<'t, 'a> {
    Literal(&'t str),
    Arg(Arg<'a>),
}

/// The pieces of `template`; `{n}` with no argument `n` stays literal.
fn pieces<'t, 'a>(template: &'t str, args: &[Arg<'a>]) -> Vec<Piece<'t, 'a>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let arg = (digits > 0 && after[digits..].starts_with('}'))
            .then(|| after[..digits].parse::<usize>().ok())
            .flatten()
            .and_then(|i| args.get(i));
        match arg {
            Some(arg) => {
                pieces.push(Piece::Literal(&rest[..open]));
                pieces.push(Piece::Arg(*arg));
                rest = &after[digits + 1..];
            }
            None => {
                pieces.push(Piece::Literal(&rest[..=open]));
                rest = after;
            }
        }
    }
    pieces.push(Piece::Literal(rest));
    pieces
}

fn push_plain(out: &mut String, template: &str, args: &[Arg<'_>]) {
    for piece in pieces(template, args) {
        match piece {
            Piece::Literal(s) | Piece::Arg(Arg::Md(s)) => out.push_str(s),
            Piece::Arg(Arg::Text(s)) => out.push_str(&markdown::inert(s, markdown::ECHO_LIMIT)),
        }
    }
}

fn push_code_span(out: &mut String, inner: &str, args: &[Arg<'_>]) {
    let pieces = pieces(inner, args);
    let safe = pieces.iter().all(|p| match p {
        Piece::Arg(Arg::Text(s)) => {
            s.is_empty() || markdown::is_code_safe(&markdown::shorten(s, markdown::ECHO_LIMIT))
        }
        _ => true,
    });
    if safe {
        out.push('`');
    }
    for piece in pieces {
        match piece {
            Piece::Literal(s) if safe => out.push_str(s),
            Piece::Literal(s) => out.push_str(&markdown::inert(s, usize::MAX)),
            Piece::Arg(Arg::Md(s)) => out.push_str(s),
            Piece::Arg(Arg::Text(s)) if safe => {
                out.push_str(&markdown::shorten(s, markdown::ECHO_LIMIT))
            }
            Piece::Arg(Arg::Text(s)) => out.push_str(&markdown::inert(s, markdown::ECHO_LIMIT)),
        }
    }
    if safe {
        out.push('`');
    }
}

/// Defines a catalog struct with one `&'static str` per entry and its two instances.
macro_rules! catalog {
    ($name:ident $($key:ident { zh: $zh:literal, en: $en:literal })*) => {
        /// One language's texts; see the entries for where each is used.
        pub struct $name { $(pub $key: &'static str,)* }

        impl $name {
            /// The catalog for `lang`.
            pub fn for_lang(lang: $crate::i18n::Lang) -> &'static Self {
                static ZH: $name = $name { $($key: $zh,)* };
                static EN: $name = $name { $($key: $en,)* };
                match lang {
                    $crate::i18n::Lang::Zh => &ZH,
                    $crate::i18n::Lang::En => &EN,
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
pub(crate) use catalog;

/// Asserts that every entry of a catalog says something in both languages, with the same
/// placeholders (for the tests of catalogs kept beside their commands).
#[cfg(test)]
pub(crate) fn assert_entries_agree(entries: Vec<(&str, &str, &str)>) {
    let placeholders = |s: &str| -> Vec<usize> {
        (0..10)
            .filter(|i| s.contains(&format!("{{{i}}}")))
            .collect()
    };
    for (key, zh, en) in entries {
        assert_eq!(placeholders(zh), placeholders(en), "entry {key}");
        assert!(!zh.is_empty() && !en.is_empty(), "entry {key} is empty");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_use_the_same_placeholders() {
        let all = Texts::entries()
            .into_iter()
            .chain(ContactTexts::entries())
            .chain(GroupTexts::entries())
            .chain(ScheduleTexts::entries());
        assert_entries_agree(all.collect());
    }

    #[test]
    fn fill_replaces_numbered_placeholders() {
        assert_eq!(
            fill("{0} and {1}, {0}", &[text("a"), md("**b**")]),
            "a and **b**, a"
        );
        assert_eq!(fill("{7} {x} {", &[text("a")]), "{7} {x} {");
    }

    #[test]
    fn placeholders_inside_arguments_are_not_filled() {
        let user = "{1}{1}{0}".repeat(20);
        let filled = fill("key `{0}`: {1}", &[text(&user), text("BIG")]);
        assert_eq!(filled.matches("BIG").count(), 1, "{filled}");
        assert!(filled.contains('…'), "echoed text is shortened: {filled}");
    }

    #[test]
    fn a_hostile_value_in_a_code_span_loses_the_span_not_its_escaping() {
        let hostile = "x`[点此重新登录](http://evil.example/login)";
        let filled = fill("没有 `/{0}` 这个命令。", &[text(hostile)]);
        assert!(!filled.contains("`/"), "{filled}");
        let (shown, structure) = crate::markdown::tests_support::rendered(&filled);
        assert_eq!(shown, format!("没有 /{hostile} 这个命令。"));
        assert!(structure.is_empty(), "{structure:?}");
        assert_eq!(fill("`{0}`", &[text("chat1")]), "`chat1`");
    }

    #[test]
    fn lang_parses_case_insensitively() {
        assert_eq!("EN".parse(), Ok(Lang::En));
        assert_eq!("zh".parse(), Ok(Lang::Zh));
        assert!("fr".parse::<Lang>().is_err());
    }
}
