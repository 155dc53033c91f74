//! From what a member typed to a command line: mention stripping, tokens, folding.
//!
//! DingTalk clients differ: desktop clients send `text` with the bot's name removed and a
//! leading space; HarmonyOS sends `richText` whose first segment is `@机器人`; input methods
//! produce full-width `／` and `＠` or an ideographic space; a mention typed last can end up
//! glued to the command (`帮助@机器人`).
//!
//! [`tidy`] trims and strips mention fragments, recognising the full-width forms, without
//! changing any other character (whitespace inside quoted values included). [`fold`] is NFKC plus dashes,
//! for what is structure: the command name, `key=` names, ids and numbers. Free text (a
//! remark, an address) keeps exactly what was typed, full-width punctuation included.

use unicode_normalization::UnicodeNormalization;

use crate::incoming::Content;

mod names;
pub use names::{Unreadable, unreadable};

/// A command name (folded, lower case, without `/`) and its arguments as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub name: String,
    pub args: Vec<String>,
}

/// The tidied text of a message's content, or `None` for non-text messages.
pub fn text_of(content: &Content) -> Option<String> {
    match content {
        Content::Text(text) => Some(tidy(text)),
        Content::RichText(segments) => {
            // A segment that is only a mention (`@群管机器人`, possibly a name with spaces)
            // is dropped whole; one that also carries a command is kept for `tidy`.
            let kept: Vec<&str> = segments
                .iter()
                .map(String::as_str)
                .filter(|s| !s.trim_start().starts_with(is_at) || s.contains(is_slash))
                .collect();
            Some(tidy(&kept.join(" ")))
        }
        Content::Other(_) => None,
    }
}

fn is_at(c: char) -> bool {
    c == '@' || c == '＠'
}

fn is_slash(c: char) -> bool {
    c == '/' || c == '／'
}

/// NFKC (full-width forms, U+3000) and dashes from smart punctuation, for structure.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        })
        .collect()
}

/// The most leading words looked at for mentions. A message that starts with more
/// mentions than this is not a command (and costs no more than this to look at).
pub const MENTION_SCAN: usize = 64;

/// Trimmed, leading and trailing mention fragments removed; every other character as
/// typed, the whitespace between words (and inside quotes) included. One pass.
pub fn tidy(text: &str) -> String {
    let words = word_spans(text);
    let word = |i: usize| &text[words[i].0..words[i].1];
    let Some((first, begin)) = leading_command(&words, word) else {
        return String::new();
    };
    let mut last = words.len() - 1;
    while last > first && word(last).starts_with(is_at) {
        last -= 1;
    }
    let end = words[last].1;
    let first_end = words[first].1;
    // `/help@机器人` or `帮助@机器人`: a mention glued to the end of the command.
    match text[begin..first_end].find(is_at).filter(|at| *at > 0) {
        Some(at) => format!("{}{}", &text[begin..begin + at], &text[first_end..end]),
        None => text[begin..end].to_owned(),
    }
}

/// How many @mentions are written after the command name: each `@` that starts a word or
/// a value (`follower=@李四`, `share-users=@a,@b`) after it, the words [`tidy`] drops from
/// the end included, and one glued to the name (`/help@机器人`). Only these are the
/// command's; a mention before it (`@李四 /admin add u1`) is not. 0 for a message without a
/// command.
pub fn mentions_after_command(content: &Content) -> usize {
    let joined;
    let text = match content {
        Content::Text(text) => text.as_str(),
        Content::RichText(segments) => {
            joined = segments.join(" ");
            joined.as_str()
        }
        Content::Other(_) => return 0,
    };
    let words = word_spans(text);
    let word = |i: usize| &text[words[i].0..words[i].1];
    let Some((first, begin)) = leading_command(&words, word) else {
        return 0;
    };
    let glued = text[begin..words[first].1].matches(is_at).count();
    let mut before = ' ';
    let written = text[words[first].1..]
        .chars()
        .filter(|&c| {
            let starts = is_at(c) && (before.is_whitespace() || "=＝,，、".contains(before));
            before = c;
            starts
        })
        .count();
    glued + written
}

/// Byte ranges of the whitespace-separated words of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// The first word after the leading mentions and the byte it starts at: `@机器人/info`
/// starts at its `/`; `@群管 机器人 /info` (a name with spaces) at the first `/command`.
/// `None` when nothing is left, or when the mentions run past [`MENTION_SCAN`] words.
fn leading_command<'t>(
    words: &[(usize, usize)],
    word: impl Fn(usize) -> &'t str,
) -> Option<(usize, usize)> {
    let slash_word = (0..words.len().min(MENTION_SCAN)).find(|&i| word(i).starts_with(is_slash));
    let mut i = 0;
    while i < words.len() && word(i).starts_with(is_at) {
        if i >= MENTION_SCAN {
            return None;
        }
        if let Some(slash) = word(i).find(is_slash) {
            return Some((i, words[i].0 + slash));
        }
        match slash_word {
            Some(at) => i = at,
            None => i += 1,
        }
    }
    (i < words.len()).then(|| (i, words[i].0))
}

impl CommandLine {
    /// Splits a tidied line; `None` when nothing is left. Only the name is folded.
    pub fn parse(line: &str) -> Option<Self> {
        let mut tokens = tokenize(line).into_iter();
        let first = fold(&tokens.next()?);
        let name = first.strip_prefix('/').unwrap_or(&first).to_lowercase();
        Some(CommandLine {
            name,
            args: tokens.collect(),
        })
    }
}

/// Splits on whitespace; `"…"`, `＂…＂`, `“…”` and `「…」` group words (quotes may sit inside a
/// word, as in `name="张 三"`). An unclosed quote runs to the end of the line.
pub fn tokenize(line: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_token = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if let Some(close) = closing_quote(c) {
            in_token = true;
            for q in chars.by_ref() {
                if q == close {
                    break;
                }
                current.push(q);
            }
        } else if c.is_whitespace() {
            if in_token {
                tokens.push(std::mem::take(&mut current));
                in_token = false;
            }
        } else {
            current.push(c);
            in_token = true;
        }
    }
    if in_token {
        tokens.push(current);
    }
    tokens
}

/// Words written back as a line [`tokenize`] reads as exactly these words again, and that
/// [`tidy`] leaves alone after a command name: a word that is empty, holds whitespace or a
/// quote, or starts with `@` is quoted (`「a"b」`, `"张 三"`), each in the first of `"…"`,
/// `「…」`, `＂…＂`, `“…”` whose closing mark it does not hold (split into runs where it holds
/// them all, and before an `@` that follows whitespace, so no part reads as a mention).
pub fn quoted_line(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// The quote marks a word may be wrapped in, by preference: (open, close).
const QUOTES: [(char, char); 4] = [('"', '"'), ('「', '」'), ('＂', '＂'), ('“', '”')];

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && !word.starts_with(is_at)
        && !word
            .chars()
            .any(|c| c.is_whitespace() || closing_quote(c).is_some());
    if plain {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len() + 8);
    let mut run = String::new();
    let mut usable = QUOTES.to_vec();
    let mut before = ' ';
    for c in word.chars() {
        let fits = usable.iter().any(|&(_, close)| close != c);
        let mention = is_at(c) && before.is_whitespace();
        if !run.is_empty() && (!fits || mention) {
            push_quoted(&mut out, &run, &usable);
            run.clear();
            usable = QUOTES.to_vec();
        }
        usable.retain(|&(_, close)| close != c);
        run.push(c);
        before = c;
    }
    push_quoted(&mut out, &run, &usable);
    out
}

/// `run` in the first of `usable`'s quote marks (none of which it holds).
fn push_quoted(out: &mut String, run: &str, usable: &[(char, char)]) {
    let (open, close) = usable[0];
    out.push(open);
    out.push_str(run);
    out.push(close);
}

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '＂' => Some('＂'),
        '“' => Some('”'),
        '「' => Some('」'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Canonical form of a typed line: folded, trimmed, whitespace collapsed, leading and
    /// trailing mention fragments removed. Idempotent (the tests say so).
    pub fn normalise(text: &str) -> String {
        tidy(&fold(text))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn normalisation_table() {
        let cases = [
            (" /info", "/info"),
            ("  /info  ", "/info"),
            ("／ｉｎｆｏ", "/info"),
            ("／INFO", "/INFO"),
            ("\u{3000}/info\u{3000}", "/info"),
            ("\u{a0}/help\u{2005}info ", "/help info"),
            ("/help    info", "/help info"),
            ("@群管机器人 /info", "/info"),
            ("＠群管机器人 /info", "/info"),
            ("@群管 机器人 /info", "/info"),
            ("@机器人/info", "/info"),
            ("/info @群管机器人", "/info"),
            ("/help@机器人", "/help"),
            ("帮助@机器人", "帮助"),
            ("@bot", ""),
            ("", ""),
            ("/lock—friending", "/lock-friending"),
            ("/bind chatABC", "/bind chatABC"),
        ];
        for (input, want) in cases {
            assert_eq!(normalise(input), want, "input {input:?}");
        }
    }

    #[test]
    fn tidy_keeps_free_text_exactly_as_typed() {
        assert_eq!(
            tidy("＠群管机器人 ／contact-update u1 remark=老客户，优先跟进（重要）"),
            "／contact-update u1 remark=老客户，优先跟进（重要）"
        );
        let line = CommandLine::parse(&tidy("／ＣＯＮＴＡＣＴ u1 地址＝杭州：西湖")).unwrap();
        assert_eq!(
            (line.name.as_str(), line.args[1].as_str()),
            ("contact", "地址＝杭州：西湖")
        );
        assert_eq!(tidy("帮助＠机器人"), "帮助");
    }

    #[test]
    fn quoted_values_keep_their_line_breaks_and_spaces() {
        let line = CommandLine::parse(&tidy(
            "@群管 /contact-update u1 address=\"line1\nline2  two\" title=x",
        ))
        .unwrap();
        assert_eq!(
            line.args,
            vec!["u1", "address=line1\nline2  two", "title=x"]
        );
    }

    #[test]
    fn mention_stripping_looks_at_a_bounded_number_of_words() {
        let few = format!("{}/help", "@ ".repeat(MENTION_SCAN - 1));
        assert_eq!(tidy(&few), "/help");
        let many = format!("{}/help", "@ ".repeat(32_000));
        assert_eq!(tidy(&many), "", "a wall of mentions is not a command");
        let trailing = format!("/help{}", " @x".repeat(32_000));
        assert_eq!(tidy(&trailing), "/help");
    }

    #[test]
    fn rich_text_drops_the_mention_segment() {
        let content = Content::RichText(vec!["@群管机器人".into(), "/info".into()]);
        assert_eq!(text_of(&content).as_deref(), Some("/info"));
        let spaced = Content::RichText(vec!["@群管 机器人".into(), " /bind chat1".into()]);
        assert_eq!(text_of(&spaced).as_deref(), Some("/bind chat1"));
        assert_eq!(text_of(&Content::Other("picture".into())), None);
    }

    #[test]
    fn command_names_are_case_insensitive_and_args_keep_case() {
        let line = CommandLine::parse(&tidy("／BIND chatAbC")).unwrap();
        assert_eq!(line.name, "bind");
        assert_eq!(line.args, vec!["chatAbC"]);
        assert_eq!(CommandLine::parse("帮助").unwrap().name, "帮助");
        assert_eq!(CommandLine::parse(""), None);
    }

    #[test]
    fn quotes_group_words() {
        assert_eq!(
            tokenize(r#"a "b c" name="张 三" “d e” 「f g」 ＂i j＂ h"#),
            vec!["a", "b c", "name=张 三", "d e", "f g", "i j", "h"]
        );
        assert_eq!(tokenize(r#"x "unclosed y"#), vec!["x", "unclosed y"]);
        assert_eq!(tokenize(r#""""#), vec![""]);
    }

    #[test]
    fn words_are_quoted_only_where_reading_them_back_needs_it() {
        let line =
            |words: &[&str]| quoted_line(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>());
        assert_eq!(line(&["history", "on"]), "history on");
        assert_eq!(line(&["张 三", ""]), "\"张 三\" \"\"");
        assert_eq!(line(&["a\"b", "user201\""]), "「a\"b」 「user201\"」");
        assert_eq!(line(&["@x"]), "\"@x\"");
        assert_eq!(line(&["a \"」＂”"]), "“a \"」＂”\"”\"");
        assert_eq!(line(&["x @y"]), "\"x \"\"@y\"");
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for input in [
            "@a @b /x @c",
            "@a/x@y",
            " ＠b  /Ｘ  y ",
            "@x @y",
            "/a@b@c d @e",
        ] {
            let once = normalise(input);
            assert_eq!(normalise(&once), once, "input {input:?}");
        }
    }

    #[test]
    fn only_the_mentions_after_the_command_are_counted() {
        let text = |s: &str| mentions_after_command(&Content::Text(s.into()));
        assert_eq!(text(" /admin add u1"), 0);
        assert_eq!(text("@周五 /admin add u1"), 0);
        assert_eq!(text("@周五 /admin add @张三 u1 @李四"), 2);
        assert_eq!(text("/kick @张三"), 1);
        assert_eq!(text("@群管 机器人 /kick @张三"), 1);
        assert_eq!(text("/help@机器人"), 1);
        assert_eq!(text("@a @b"), 0);
        assert_eq!(
            text("/contact-update u1 follower=@李四 share-users=@a，@b,u2"),
            3
        );
        assert_eq!(text("/contact-update u1 remark=mail@example.com"), 0);
        let rich = Content::RichText(vec!["@群管机器人".into(), "/kick".into(), "@张三".into()]);
        assert_eq!(mentions_after_command(&rich), 1);
        assert_eq!(mentions_after_command(&Content::Other("picture".into())), 0);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Text full of what makes parsing interesting: mentions, slashes, quotes, full-width
        /// forms, odd spaces, combining marks.
        fn tricky() -> impl Strategy<Value = String> {
            proptest::string::string_regex(
                "[ a-zA-Z0-9/／@＠=＝,，、\"＂“”「」\u{3000}\u{a0}\u{2005}\t\u{301}ｉｎｆｏ—-]{0,40}",
            )
            .unwrap()
        }

        proptest! {
            #[test]
            fn normalising_never_panics_and_twice_equals_once(s in any::<String>()) {
                let once = normalise(&s);
                prop_assert_eq!(normalise(&once), once);
            }

            #[test]
            fn tricky_text_normalises_idempotently(s in tricky()) {
                let once = normalise(&s);
                prop_assert_eq!(normalise(&once), once.clone());
                let tidied = tidy(&s);
                prop_assert_eq!(tidy(&tidied), tidied);
            }

            #[test]
            fn quoted_words_read_back_as_the_same_words(
                words in proptest::collection::vec(any::<String>(), 0..5),
                tricky in proptest::collection::vec(tricky(), 0..5),
            ) {
                for words in [words, tricky] {
                    let line = format!("/x {}", quoted_line(&words));
                    prop_assert_eq!(&tokenize(&line)[1..], &words[..]);
                    let parsed = CommandLine::parse(&tidy(&line)).unwrap();
                    prop_assert_eq!(parsed.args, words);
                }
            }

            #[test]
            fn parsing_never_panics(s in any::<String>(), t in tricky()) {
                for text in [s, t] {
                    let _ = CommandLine::parse(&tidy(&text));
                    let _ = text_of(&Content::RichText(vec![text.clone(), text.clone()]));
                    let _ = tokenize(&text);
                    let _ = mentions_after_command(&Content::Text(text.clone()));
                }
            }
        }
    }
}
