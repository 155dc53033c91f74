//! A command's answer and how it reaches the group.
//!
//! The reply is a markdown message to the callback's sessionWebhook, @-mentioning the
//! sender. If the webhook is missing, fails the origin check, expires within
//! [`WEBHOOK_MARGIN_MS`], or fails (300001 included), the OpenAPI carries it instead: the
//! group send in a group (without the @, which that API cannot do), the 1:1 send to the
//! sender in a 1:1 chat. Long replies are split. A send that failed for a local reason (no
//! file descriptor, no free connection to DingTalk) is neither a failure of its path nor
//! dropped: it waits and is sent again, within the caller's deadline.

use std::{future::Future, time::Duration};

use serde_json::json;

use crate::{
    dingtalk::{DingTalkClient, DingTalkError, ErrorKind, OpenApiTarget},
    incoming::{ConversationKind, Incoming},
    metrics::Metrics,
};

/// A webhook expiring sooner than this is not used: a reply must not race its expiry.
pub const WEBHOOK_MARGIN_MS: i64 = 60_000;
/// Replies longer than this are split (DingTalk's webhook limit is 20,000 bytes a body;
/// the rest is room for the title, the @ and JSON).
pub const WEBHOOK_TEXT_LIMIT: usize = 18_000;
/// The OpenAPI's `msgParam` holds at most 15,000 bytes.
pub const OPENAPI_TEXT_LIMIT: usize = 13_000;
/// The most parts one reply is sent in, on either path; a longer reply is cut (see
/// [`Reply::bounded`]), so one message can never become a flood in the group.
pub const MAX_PARTS: usize = 3;
/// Room kept in the last part for the note that says a reply was cut.
const NOTE_ROOM: usize = 256;
/// The wait before a part that failed for a local reason is sent again.
const LOCAL_RETRY: Duration = Duration::from_millis(500);

/// What a command answers: a markdown message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Shown in the conversation list preview; never empty.
    pub title: String,
    /// Markdown body.
    pub text: String,
}

impl Reply {
    pub fn new(title: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            text: text.into(),
        }
    }

    /// The same reply, cut to what [`MAX_PARTS`] parts hold on either path, and ended with
    /// `note` (at most [`NOTE_ROOM`] bytes) if it was longer. Parts end at line breaks, so
    /// this counts parts, not bytes: long lines fill a part sooner.
    pub fn bounded(mut self, note: &str) -> Self {
        let parts = split(&self.text, OPENAPI_TEXT_LIMIT - NOTE_ROOM);
        if parts.len() > MAX_PARTS {
            // The parts end at line breaks (or mid-line in a line longer than a part);
            // split again at either path's larger limit, they pack into no more parts.
            self.text = parts[..MAX_PARTS].concat();
            self.text.push_str("\n\n");
            self.text.push_str(note);
        }
        self
    }
}

/// Which path carried a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyPath {
    Webhook,
    OpenApi,
}

/// Sends `reply` to the group (or 1:1 chat) `incoming` came from.
pub async fn deliver(
    client: &DingTalkClient,
    metrics: &Metrics,
    incoming: &Incoming,
    reply: &Reply,
    now_ms: i64,
) -> Result<ReplyPath, DingTalkError> {
    let webhook = incoming.webhook.as_ref().and_then(|w| {
        let fresh = webhook_is_fresh(w.expires_at_ms, now_ms);
        let allowed = client.allowed_webhook(&w.url);
        if allowed.is_none() {
            tracing::warn!("sessionWebhook is not on the DingTalk origin; using the OpenAPI");
        }
        allowed.filter(|_| fresh)
    });
    if let Some(webhook) = webhook {
        let parts = split(&reply.text, WEBHOOK_TEXT_LIMIT);
        for (i, part) in parts.iter().enumerate().take(MAX_PARTS) {
            let title = part_title(&reply.title, i, parts.len());
            let message = markdown_message(&title, part, incoming);
            match until_sent(|| client.send_by_session(&webhook, &message)).await {
                Ok(()) => metrics.reply("webhook", "ok"),
                Err(e) => {
                    metrics.reply("webhook", "failed");
                    tracing::warn!(error = %e, "sessionWebhook failed; falling back to the OpenAPI");
                    // Parts keep their line breaks, so the rest is their concatenation.
                    let rest = parts[i..].concat();
                    return send_openapi(client, metrics, incoming, &reply.title, &rest).await;
                }
            }
        }
        return Ok(ReplyPath::Webhook);
    }
    send_openapi(client, metrics, incoming, &reply.title, &reply.text).await
}

/// Whether a webhook expiring at `expires_at_ms` (the callback's own, untrusted number)
/// may still be used at `now_ms`: not within [`WEBHOOK_MARGIN_MS`] of its expiry.
/// Saturating, so no value wraps into the future.
pub fn webhook_is_fresh(expires_at_ms: Option<i64>, now_ms: i64) -> bool {
    expires_at_ms.is_none_or(|at| at.saturating_sub(WEBHOOK_MARGIN_MS) > now_ms)
}

async fn send_openapi(
    client: &DingTalkClient,
    metrics: &Metrics,
    incoming: &Incoming,
    title: &str,
    text: &str,
) -> Result<ReplyPath, DingTalkError> {
    let parts = split(text, OPENAPI_TEXT_LIMIT);
    let parts = &parts[..parts.len().min(MAX_PARTS)];
    for (i, part) in parts.iter().enumerate() {
        let title = part_title(title, i, parts.len());
        let to = match (incoming.kind, &incoming.sender.staff_id) {
            (ConversationKind::Direct, Some(member)) => OpenApiTarget::Member(member),
            _ => OpenApiTarget::Group(&incoming.conversation),
        };
        let result = until_sent(|| client.send_markdown(to, &title, part)).await;
        metrics.reply("openapi", if result.is_ok() { "ok" } else { "failed" });
        result?;
    }
    Ok(ReplyPath::OpenApi)
}

/// Sends with `send` until it succeeds or fails for a reason other than a local one, which
/// waits and sends again; the caller's deadline bounds it.
async fn until_sent<F: Future<Output = Result<(), DingTalkError>>>(
    mut send: impl FnMut() -> F,
) -> Result<(), DingTalkError> {
    loop {
        match send().await {
            Err(e) if e.kind == ErrorKind::Local => {
                tracing::warn!(error = %e, "reply not sent for a local reason; trying again");
                tokio::time::sleep(LOCAL_RETRY).await;
            }
            sent => return sent,
        }
    }
}

/// The title of part `index` of `count`: "title (2/3)", or the title alone.
pub fn part_title(title: &str, index: usize, count: usize) -> String {
    if count > 1 {
        format!("{title} ({}/{count})", index + 1)
    } else {
        title.to_owned()
    }
}

/// The webhook body: markdown with the sender @-mentioned (`at.atUserIds` and `@id` in
/// the text, which markdown needs for the mention to render).
pub fn markdown_message(title: &str, text: &str, incoming: &Incoming) -> serde_json::Value {
    match &incoming.sender.staff_id {
        Some(id) => json!({
            "msgtype": "markdown",
            "markdown": { "title": title, "text": format!("{text}\n\n@{id}") },
            "at": { "atUserIds": [id.as_str()], "isAtAll": false },
        }),
        None => json!({
            "msgtype": "markdown",
            "markdown": { "title": title, "text": text },
        }),
    }
}

/// Splits `text` into parts of at most `limit` bytes, at line breaks where possible and
/// never inside a character.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if current.len() + line.len() > limit && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        let mut line = line;
        while line.len() > limit {
            let mut cut = limit;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            parts.push(line[..cut].to_owned());
            line = &line[cut..];
        }
        current.push_str(line);
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split("hello\nworld", 100), vec!["hello\nworld"]);
        assert_eq!(split("", 100), vec![""]);
    }

    #[test]
    fn long_text_splits_at_lines_within_the_limit() {
        let line = "项目协作群成员\n"; // 22 bytes
        let text = line.repeat(2000);
        let parts = split(&text, WEBHOOK_TEXT_LIMIT);
        assert!(parts.len() > 1);
        assert!(
            parts
                .iter()
                .all(|p| p.len() <= WEBHOOK_TEXT_LIMIT && p.ends_with('\n'))
        );
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn a_single_huge_line_splits_on_character_boundaries() {
        let text = "群".repeat(10_000); // 30,000 bytes, no newline
        let parts = split(&text, 20_000);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.len() <= 20_000));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn a_reply_too_long_for_its_parts_is_cut_at_a_line_with_a_note() {
        let text = "群成员 member0001\n".repeat(5_000);
        let reply = Reply::new("t", text).bounded("(cut)");
        assert!(
            reply.text.ends_with("member0001\n\n\n(cut)"),
            "{}",
            &reply.text[reply.text.len() - 40..]
        );
        assert_eq!(Reply::new("t", "short").bounded("(cut)").text, "short");
        // Lines just over half a part: one line a part, so bytes alone would allow six.
        let long_lines = format!("{}\n", "x".repeat(6_600)).repeat(6);
        let reply = Reply::new("t", long_lines).bounded("(cut)");
        for limit in [WEBHOOK_TEXT_LIMIT, OPENAPI_TEXT_LIMIT] {
            assert!(
                split(&reply.text, limit).len() <= MAX_PARTS,
                "limit {limit}"
            );
        }
        assert!(reply.text.ends_with("(cut)"));
    }

    mod bounded_properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn a_bounded_reply_fits_its_parts_on_either_path(
                lines in proptest::collection::vec(0usize..20_000, 1..40),
            ) {
                let text: String = lines.iter().map(|n| format!("{}\n", "群".repeat(n / 3))).collect();
                let reply = Reply::new("t", text).bounded("……（回复太长，后面的部分省略了）");
                for limit in [WEBHOOK_TEXT_LIMIT, OPENAPI_TEXT_LIMIT] {
                    prop_assert!(split(&reply.text, limit).len() <= MAX_PARTS);
                }
            }
        }
    }

    #[test]
    fn a_webhook_that_expired_long_ago_is_not_used() {
        let now = 1_700_000_000_000;
        assert!(!webhook_is_fresh(Some(i64::MIN), now));
        assert!(!webhook_is_fresh(Some(now + WEBHOOK_MARGIN_MS), now));
        assert!(webhook_is_fresh(Some(now + WEBHOOK_MARGIN_MS + 1), now));
        assert!(webhook_is_fresh(Some(i64::MAX), now));
        assert!(webhook_is_fresh(None, now));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn freshness_is_exact_for_every_expiry(at in any::<i64>(), now in 0i64..=i64::MAX / 2) {
                let exact = (at as i128) - (WEBHOOK_MARGIN_MS as i128) > now as i128;
                prop_assert_eq!(webhook_is_fresh(Some(at), now), exact);
            }

            #[test]
            fn freshness_holds_at_the_extremes(
                at in prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0i64), Just(-1i64), any::<i64>()],
                now in prop_oneof![Just(0i64), Just(i64::MAX), Just(i64::MIN), any::<i64>()],
            ) {
                let exact = (at as i128) - (WEBHOOK_MARGIN_MS as i128) > now as i128;
                prop_assert_eq!(webhook_is_fresh(Some(at), now), exact);
            }
        }
    }

    #[tokio::test]
    async fn a_send_failing_for_a_local_reason_is_sent_again_and_others_are_not() {
        let failure = |kind| DingTalkError {
            api: crate::dingtalk::Api::SessionWebhook,
            kind,
            code: "x".into(),
            message: String::new(),
            request_id: None,
            not_sent: true,
        };
        let mut tries = 0;
        let sent = until_sent(|| {
            tries += 1;
            let result = if tries < 3 {
                Err(failure(ErrorKind::Local))
            } else {
                Ok(())
            };
            async move { result }
        })
        .await;
        assert!(sent.is_ok());
        assert_eq!(tries, 3);
        let mut tries = 0;
        let sent = until_sent(|| {
            tries += 1;
            async { Err(failure(ErrorKind::Unreachable)) }
        })
        .await;
        assert_eq!((sent.unwrap_err().kind, tries), (ErrorKind::Unreachable, 1));
    }

    #[test]
    fn numbered_titles_only_when_split() {
        assert_eq!(part_title("t", 0, 1), "t");
        assert_eq!(part_title("t", 1, 3), "t (2/3)");
    }
}
