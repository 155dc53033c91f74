//! Untrusted text made inert for DingTalk markdown.
//!
//! Replies are markdown under the bot's name, and much of what they say comes from someone
//! else: a member's typed arguments, a nick, a group name or a contact field from DingTalk.
//! Every such piece passes through [`inert`] (or [`code`], for a value shown as code) before
//! it is placed in a reply, so it can never become a link, an image, a heading, emphasis
//! or HTML, and never starts a new line. [`crate::i18n::fill`] applies the same rules to
//! template placeholders.
//!
//! DingTalk's renderer may not honour code spans, so a value is only put between backticks
//! when it is inert without them too; otherwise it is shown as escaped plain text.

/// Echoed user text is shortened to this many characters (an ellipsis included).
pub const ECHO_LIMIT: usize = 100;
/// Text DingTalk holds (a contact's remark, a group's name) is shortened to this many.
pub const DATA_LIMIT: usize = 1000;

/// ASCII characters with a meaning in markdown anywhere in a line: escapes, code,
/// emphasis, link and image brackets, HTML and autolinks, tables, strikethrough. (A `(`
/// only matters after a `]`, a `!` only before a `[`, and a `_` between letters or digits
/// never emphasises. A `&` is escaped so that `&amp;` shows as typed.)
fn is_active(c: char) -> bool {
    matches!(
        c,
        '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '|' | '~' | '&'
    )
}

/// Whether `c` at `i` in `chars` needs a backslash.
fn needs_escape(chars: &[char], i: usize) -> bool {
    let c = chars[i];
    if c == '_' {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        return !(word(i.checked_sub(1)) && word(Some(i + 1)));
    }
    is_active(c)
}

/// Characters that start a heading, quote, list or rule at the start of a line.
fn is_line_marker(c: char) -> bool {
    matches!(c, '-' | '+' | '=' | '.' | '#' | '>')
}

/// Characters that are dropped: controls and the invisible direction and joiner marks
/// that make a text display differently from what it is.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\t')
}

/// `text` cut to `limit` characters, the last being `…`, if it is longer.
pub fn shorten(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(limit) {
        None => text.into(),
        Some(_) => {
            let cut = text
                .char_indices()
                .nth(limit.saturating_sub(1))
                .map_or(text.len(), |(i, _)| i);
            format!("{}…", &text[..cut]).into()
        }
    }
}

/// `text` (at most `limit` characters) as plain markdown text: active characters
/// backslash-escaped, line breaks and tabs as spaces, hidden characters dropped, spaces at
/// either end trimmed, and a leading list or heading marker (`-`, `#`, `1.`, …) escaped.
pub fn inert(text: &str, limit: usize) -> String {
    let text = shorten(text, limit);
    let chars: Vec<char> = text
        .chars()
        .filter(|c| !is_hidden(*c) || is_break(*c))
        .map(|c| if is_break(c) { ' ' } else { c })
        .collect();
    // Spaces at either end could indent a code block or make a hard line break.
    let start = chars
        .iter()
        .position(|c| !c.is_whitespace())
        .unwrap_or(chars.len());
    let end = chars
        .iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(start, |i| i + 1);
    let chars = &chars[start..end];
    let mut out = String::with_capacity(text.len() + 8);
    let mut leading_digits = true;
    for (i, &c) in chars.iter().enumerate() {
        if needs_escape(chars, i)
            || (i == 0 && is_line_marker(c))
            || (leading_digits
                && i > 0
                && matches!(c, '.' | ')')
                && chars.get(i + 1).is_none_or(|n| n.is_whitespace()))
        {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
        leading_digits = leading_digits && c.is_ascii_digit();
    }
    out
}

/// Whether `text` is inert as is, inside a code span or outside one: [`inert`] would
/// leave it unchanged.
pub fn is_code_safe(text: &str) -> bool {
    !text.is_empty() && inert(text, usize::MAX) == text
}

/// `text` (at most `limit` characters) shown as code where that is safe, else as
/// [`inert`] plain text.
pub fn code(text: &str, limit: usize) -> String {
    let short = shorten(text, limit);
    if is_code_safe(&short) {
        format!("`{short}`")
    } else {
        inert(text, limit)
    }
}

/// Test support: what a markdown renderer makes of a reply.
#[cfg(test)]
pub(crate) mod tests_support {
    use pulldown_cmark::{Event, Parser, Tag};

    /// The text `md` shows, and every structural element besides paragraphs, text and
    /// code spans (links, images, headings, emphasis, HTML, lists…).
    pub(crate) fn rendered(md: &str) -> (String, Vec<String>) {
        let mut shown = String::new();
        let mut structure = Vec::new();
        for event in Parser::new(md) {
            match event {
                Event::Text(t) | Event::Code(t) => shown.push_str(&t),
                Event::SoftBreak => shown.push(' '),
                Event::Start(Tag::Paragraph) | Event::End(_) => {}
                other => structure.push(format!("{other:?}")),
            }
        }
        (shown, structure)
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::rendered;
    use super::*;

    #[test]
    fn a_link_in_user_text_stays_text() {
        let hostile = "/x`[点此重新登录](http://evil.example/login)![i](http://e/i.png)";
        for md in [inert(hostile, 200), code(hostile, 200)] {
            let (shown, structure) = rendered(&md);
            assert_eq!(shown, hostile, "{md}");
            assert!(structure.is_empty(), "{md}: {structure:?}");
        }
    }

    #[test]
    fn new_lines_and_hidden_characters_do_not_survive() {
        let md = inert("a\n# 系统通知\r\n> quote\u{1b}[31m\u{202e}x", 200);
        let (shown, structure) = rendered(&md);
        assert_eq!(shown, "a # 系统通知  > quote[31mx");
        assert!(structure.is_empty(), "{structure:?}");
        let (shown, structure) = rendered(&format!("{}\ny", inert("\n\n\n\n    code  ", 100)));
        assert_eq!(
            (shown.as_str(), structure.len()),
            ("code y", 0),
            "no code block, no break"
        );
        for start in [
            "- item", "+ item", "1. item", "12) item", "# h", "> q", "=== x",
        ] {
            let (shown, structure) = rendered(&inert(start, 100));
            assert_eq!(shown, start);
            assert!(structure.is_empty(), "{start}: {structure:?}");
        }
    }

    #[test]
    fn long_text_is_shortened_with_an_ellipsis() {
        let long = "群".repeat(300);
        let md = inert(&long, ECHO_LIMIT);
        assert_eq!(md.chars().count(), ECHO_LIMIT);
        assert!(md.ends_with('…'));
        assert_eq!(inert("short", ECHO_LIMIT), "short");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "ab…");
    }

    #[test]
    fn plain_values_are_shown_as_code() {
        assert_eq!(code("chat0a1b", 100), "`chat0a1b`");
        assert_eq!(code("/lock-friendng", 100), "`/lock-friendng`");
        assert_eq!(code("a`b", 100), "a\\`b");
        assert_eq!(code("top_50", 100), "`top_50`");
        assert_eq!(inert("_x_ a_b", 100), "\\_x\\_ a_b");
        assert_eq!(code("", 100), "");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn hostile() -> impl Strategy<Value = String> {
            proptest::string::string_regex(
                r"[-a-z0-9 \n\r\t`*_\[\]()<>!|~&#;+=.:/\\\u{1b}\u{202e}\u{200b}群@{}]{0,60}",
            )
            .unwrap()
        }

        proptest! {
            #[test]
            fn inert_text_renders_as_exactly_what_was_typed(s in hostile()) {
                let expected: String = s
                    .chars()
                    .filter(|c| !is_hidden(*c) || matches!(c, '\n' | '\r' | '\t'))
                    .map(|c| if matches!(c, '\n' | '\r' | '\t') { ' ' } else { c })
                    .collect();
                for value in [inert(&s, 200), code(&s, 200)] {
                    for md in [format!("x {value}"), format!("{value}\n\ny"), format!("{value}\nz")] {
                        let (_, structure) = rendered(&md);
                        prop_assert!(structure.is_empty(), "{:?}: {:?}", md, structure);
                    }
                    let (shown, _) = rendered(&format!("x {value}"));
                    let want = format!("x {}", expected.trim());
                    prop_assert_eq!(shown.trim_end(), want.trim_end());
                }
            }
        }
    }
}
