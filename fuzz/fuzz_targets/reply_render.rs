//! Hostile text in every kind of reply placement: filled into templates (plain and inside
//! code spans, beside qunguan's own markdown), made inert on its own, and the result
//! bounded and split. Rendered, it never adds a link, image, HTML, heading, quote, list or
//! emphasis the template does not have, and it shows the text it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulldown_cmark::{Event, Parser, TagEnd};
use qunguan::{
    i18n::{Lang, fill, md, text},
    markdown,
    reply::{MAX_PARTS, OPENAPI_TEXT_LIMIT, Reply, WEBHOOK_TEXT_LIMIT, split},
};

/// The structure of rendered markdown: every tag but code spans, and any HTML.
fn structure(md: &str) -> Vec<String> {
    Parser::new(md)
        .filter_map(|e| match e {
            Event::Start(t) => Some(format!("{t:?}")),
            Event::End(TagEnd::Paragraph) | Event::End(_) => Some("end".into()),
            Event::Html(h) | Event::InlineHtml(h) => Some(format!("html {h}")),
            _ => None,
        })
        .collect()
}

/// The text rendered markdown shows.
fn shown(md: &str) -> String {
    Parser::new(md)
        .filter_map(|e| match e {
            Event::Text(t) | Event::Code(t) => Some(t.into_string()),
            Event::SoftBreak => Some(" ".into()),
            _ => None,
        })
        .collect()
}

fuzz_target!(|input: &str| {
    let t = Lang::En.texts();
    let ct = Lang::Zh.contact_texts();
    let templates = [
        t.unknown_command,
        t.usage_error,
        t.usage_invalid,
        t.bind_mismatch,
        t.friending_locked,
        t.whoami,
        t.not_bound,
        ct.contact_header,
        "- **{0}** `{1}` {2}: {0}",
    ];
    for template in templates {
        // Hostile text may leave the template's own emphasis without content (`** **` is
        // no bold), but never adds an element the template lacks, nor any HTML.
        let hostile = fill(template, &[text(input), md("**own**"), text(input)]);
        let plain = fill(template, &[text("x"), md("**own**"), text("z")]);
        let mut allowed = structure(&plain);
        for element in structure(&hostile) {
            let at = allowed.iter().position(|e| *e == element);
            assert!(at.is_some(), "{element} added in {hostile:?}");
            allowed.swap_remove(at.unwrap_or_default());
        }
    }
    let visible: String = markdown::shorten(input, markdown::DATA_LIMIT)
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .filter(|c| !matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'))
        .map(|c| if matches!(c, '\n' | '\r' | '\t') { ' ' } else { c })
        .collect();
    for piece in [
        markdown::inert(input, markdown::DATA_LIMIT),
        markdown::code(input, markdown::DATA_LIMIT),
    ] {
        let line = format!("- a: {piece}");
        let s = structure(&line);
        assert!(s.iter().all(|e| e == "end" || e.starts_with("List") || e == "Item"), "{line:?}: {s:?}");
        assert_eq!(shown(&line).trim_end(), format!("a: {}", visible.trim()).trim_end(), "{line:?}");
    }
    let reply = Reply::new("t", input.repeat(1 + 60_000 / (input.len() + 1))).bounded("…");
    for limit in [WEBHOOK_TEXT_LIMIT, OPENAPI_TEXT_LIMIT] {
        assert!(split(&reply.text, limit).len() <= MAX_PARTS);
    }
});
