//! Any text as a typed command: normalising, tokenising and every command's argument
//! parser answer a value or a usage error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qunguan::{
    incoming::{Content, Mention},
    commands::{Args, REGISTRY},
    i18n::Lang,
    message::{CommandLine, fold, text_of, tidy},
};

/// A typed line folded, tidied and its whitespace collapsed.
fn normalise(text: &str) -> String {
    tidy(&fold(text)).split_whitespace().collect::<Vec<_>>().join(" ")
}

fuzz_target!(|text: &str| {
    let once = normalise(text);
    assert_eq!(normalise(&once), once, "normalising twice changed the text");
    let content = Content::RichText(text.split('\n').map(str::to_owned).collect());
    let Some(line) = text_of(&content).and_then(|t| CommandLine::parse(&t)) else {
        return;
    };
    let mentions = [Mention { dingtalk_id: "$:bot".into(), staff_id: None }];
    for spec in REGISTRY {
        let _ = (spec.parse)(&Args { words: &line.args, lang: Lang::Zh, mentions: &mentions });
    }
});
