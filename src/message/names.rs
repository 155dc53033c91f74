//! Free text that becomes a name people read (a group name, a nickname, a welcome): what
//! cannot be seen, and what shows as other text.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Why free text cannot become a name people read (a group name, a nickname, a welcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Nothing is left once whitespace and invisible characters are taken out.
    Invisible,
    /// It holds a bidirectional override or isolate, which makes it show as other text
    /// (`\u{202e}gnp.exe` shows as `exe.png`).
    Reversing,
}

/// Whether `text` shows as what it is, and is not blank. Combining marks, emoji joiners
/// and any script are fine; only what is there and cannot be seen, or turns the text
/// around, is not.
pub fn unreadable(text: &str) -> Option<Unreadable> {
    if text.chars().any(is_bidi_control) {
        return Some(Unreadable::Reversing);
    }
    text.chars()
        .all(|c| c.is_whitespace() || is_invisible(c))
        .then_some(Unreadable::Invisible)
}

/// U+202A–U+202E (embeddings and overrides) and U+2066–U+2069 (isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A format character (general category Cf: zero-width space and joiners, the BOM, the
/// soft hyphen, …) or another default-ignorable one (Hangul fillers, variation
/// selectors, the combining grapheme joiner), which a client draws as nothing.
fn is_invisible(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
        || matches!(
            c,
            '\u{034f}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{ffa0}'
                | '\u{e0100}'..='\u{e01ef}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_be_seen_or_that_reverse_are_unreadable() {
        for blank in [
            "\u{200b}\u{200b}",
            "   ",
            "\u{3000}\u{feff}",
            "\u{00ad}\u{2060}",
            "\u{3164}",
        ] {
            assert_eq!(unreadable(blank), Some(Unreadable::Invisible), "{blank:?}");
        }
        for reversing in ["\u{202e}gnp.exe群", "a\u{2066}b", "\u{202a}"] {
            assert_eq!(
                unreadable(reversing),
                Some(Unreadable::Reversing),
                "{reversing:?}"
            );
        }
        for fine in [
            "群",
            "e\u{301}",
            "\u{301}",
            "👨\u{200d}👩",
            "a\u{200b}b",
            "Q3 项目群",
        ] {
            assert_eq!(unreadable(fine), None, "{fine:?}");
        }
    }
}
