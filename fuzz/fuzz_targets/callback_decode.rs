//! Any bytes as a callback body: decoding answers Ok or an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qunguan::{incoming::Incoming, message::text_of};

fuzz_target!(|body: &[u8]| {
    if let Ok(incoming) = Incoming::from_json(body) {
        let _ = text_of(&incoming.content);
    }
});
