//! From what a member typed to a command line: normalisation, mention stripping, tokens.
//!
//! DingTalk clients differ: desktop clients send `text` with the bot's name removed and a
//! leading space; HarmonyOS sends `richText` whose first segment is `@机器人`; input methods
//! produce full-width `／` and `＠` or an ideographic space; a mention typed last can end up
//! glued to the command (`帮助@机器人`). [`normalise`] folds all of that into one canonical
//! line, and [`CommandLine::parse`] splits it into a command name and arguments.

use unicode_normalization::UnicodeNormalization;

use crate::callback::model::Content;

/// A command name (lower case, without `/`) and its arguments (case kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub name: String,
    pub args: Vec<String>,
}

/// The canonical text of a message's content, or `None` for non-text messages.
pub fn text_of(content: &Content) -> Option<String> {
    match content {
        Content::Text(text) => Some(normalise(text)),
        Content::RichText(segments) => {
            // A segment that is only a mention (`@群管机器人`, possibly a name with spaces)
            // is dropped whole; one that also carries a command is kept for `normalise`.
            let kept: Vec<String> = segments
                .iter()
                .map(|s| normalise_chars(s))
                .filter(|s| !s.trim_start().starts_with('@') || s.contains('/'))
                .collect();
            Some(normalise(&kept.join(" ")))
        }
        Content::Other(_) => None,
    }
}

/// NFKC (full-width forms, U+3000), dashes from smart punctuation, nothing else.
fn normalise_chars(text: &str) -> String {
    text.nfkc()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        })
        .collect()
}

/// Canonical form of a typed line: NFKC, trimmed, whitespace collapsed, leading and
/// trailing mention fragments removed. Idempotent.
pub fn normalise(text: &str) -> String {
    let folded = normalise_chars(text);
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    strip_leading_mentions(&mut words);
    if let Some(first) = words.first_mut() {
        // `/help@机器人` or `帮助@机器人`: a mention glued to the end of the command.
        if let Some((head, _)) = first.split_once('@').filter(|(head, _)| !head.is_empty()) {
            *first = head;
        }
    }
    while words.len() > 1 && words.last().is_some_and(|w| w.starts_with('@')) {
        words.pop();
    }
    words.join(" ")
}

fn strip_leading_mentions(words: &mut Vec<&str>) {
    while let Some(first) = words.first().copied().filter(|w| w.starts_with('@')) {
        if let Some(slash) = first.find('/') {
            // `@机器人/info`: the mention is glued to the command.
            words[0] = &first[slash..];
            return;
        }
        // A name can contain spaces (`@群管 机器人 /info`): if a `/command` follows, drop
        // everything before it; otherwise drop this one word.
        match words.iter().position(|w| w.starts_with('/')) {
            Some(at) => {
                words.drain(..at);
            }
            None => {
                words.remove(0);
            }
        }
    }
}

impl CommandLine {
    /// Splits a normalised line; `None` when nothing is left.
    pub fn parse(normalised: &str) -> Option<Self> {
        let mut tokens = tokenize(normalised).into_iter();
        let first = tokens.next()?;
        let name = first.strip_prefix('/').unwrap_or(&first).to_lowercase();
        Some(CommandLine {
            name,
            args: tokens.collect(),
        })
    }
}

/// Splits on whitespace; `"…"`, `“…”` and `「…」` group words (quotes may sit inside a
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

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '“' => Some('”'),
        '「' => Some('」'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn rich_text_drops_the_mention_segment() {
        let content = Content::RichText(vec!["@群管机器人".into(), "/info".into()]);
        assert_eq!(text_of(&content).as_deref(), Some("/info"));
        let spaced = Content::RichText(vec!["@群管 机器人".into(), " /bind chat1".into()]);
        assert_eq!(text_of(&spaced).as_deref(), Some("/bind chat1"));
        assert_eq!(text_of(&Content::Other("picture".into())), None);
    }

    #[test]
    fn command_names_are_case_insensitive_and_args_keep_case() {
        let line = CommandLine::parse(&normalise("／BIND chatAbC")).unwrap();
        assert_eq!(line.name, "bind");
        assert_eq!(line.args, vec!["chatAbC"]);
        assert_eq!(CommandLine::parse("帮助").unwrap().name, "帮助");
        assert_eq!(CommandLine::parse(""), None);
    }

    #[test]
    fn quotes_group_words() {
        assert_eq!(
            tokenize(r#"a "b c" name="张 三" “d e” 「f g」 h"#),
            vec!["a", "b c", "name=张 三", "d e", "f g", "h"]
        );
        assert_eq!(tokenize(r#"x "unclosed y"#), vec!["x", "unclosed y"]);
        assert_eq!(tokenize(r#""""#), vec![""]);
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
}
