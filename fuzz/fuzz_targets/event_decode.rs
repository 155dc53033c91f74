//! Any bytes as an event push: the signature check, the decryption and the decoding of
//! what decrypts answer a value or an error, never panic; anything DingTalk's side
//! encrypts decrypts to itself; and any text as a Stream event's data decodes or is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qunguan::{
    crypto::{EventCrypto, EventSecrets},
    events::GroupEvent,
};
use secrecy::SecretString;

fuzz_target!(|input: &[u8]| {
    let secrets = EventSecrets::new(
        SecretString::from("tokenxxxx".to_owned()),
        &SecretString::from("o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus".to_owned()),
    )
    .expect("DingTalk's sample key");
    let crypto = EventCrypto::new(&secrets, "dingxxxxxx");
    let text = String::from_utf8_lossy(input);
    let _ = crypto.verify(&text, "1605695694141", "nonce", &text);
    if let Ok(plain) = crypto.decrypt(&text) {
        let _ = GroupEvent::from_http(&plain);
    }
    let sealed = crypto.encrypt(&text, "WelUQl6bCqcBa2fM");
    assert_eq!(crypto.decrypt(&sealed).as_deref(), Ok(&*text));
    let headers = serde_json::Map::new();
    let _ = GroupEvent::from_stream(&headers, &text);
    let _ = GroupEvent::from_http(&text);
});
