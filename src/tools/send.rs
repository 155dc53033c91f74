//! `qunguan send`: checks a deployment's signing from outside by posting one callback
//! signed the way DingTalk signs it, and says what the answer means.

use std::{
    process::ExitCode,
    time::{Duration, SystemTime},
};

use secrecy::SecretString;

use crate::{
    clock::now_ms,
    tools::signed::{self, Draft, random_hex},
};

/// What to send.
#[derive(Debug, Clone)]
pub struct Options {
    /// The deployment's callback URL, e.g. `https://bot.example.com/callback`.
    pub url: String,
    pub secret: SecretString,
    /// What the member types after the bot's @name.
    pub text: String,
    pub conversation_id: String,
    pub sender: String,
    pub is_admin: bool,
    /// A 1:1 chat with the bot rather than a group.
    pub direct: bool,
    /// Where the bot should reply.
    pub webhook: String,
}

/// What the deployment answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: u16,
    /// Whether DingTalk would count the callback as delivered.
    pub accepted: bool,
    /// What the status means for this deployment, in words.
    pub meaning: String,
}

/// `qunguan send`: prints what was sent and what the answer means; exit 0 if accepted.
pub fn main(options: Options) -> ExitCode {
    super::block_on(async {
        println!(
            "POST {} as {} in {}: {:?}",
            options.url, options.sender, options.conversation_id, options.text
        );
        match run(&options).await {
            Ok(verdict) => {
                println!("HTTP {}: {}", verdict.status, verdict.meaning);
                if verdict.accepted {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("qunguan send: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Posts the callback and explains the answer. `Err` if no HTTP answer came at all.
pub async fn run(options: &Options) -> Result<Verdict, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        // DingTalk does not follow redirects; neither does this check.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let draft = Draft {
        msg_id: format!("msgSEND{}==", random_hex(24)),
        conversation_id: options.conversation_id.clone(),
        direct: options.direct,
        sender_staff_id: options.sender.clone(),
        sender_nick: options.sender.clone(),
        is_admin: options.is_admin,
        text: options.text.clone(),
        session_webhook: options.webhook.clone(),
    };
    let sent_at = now_ms();
    let response = signed::post(&http, &options.url, &options.secret, &draft.body(sent_at))
        .await
        .map_err(|e| {
            format!(
                "no answer from {}: {}",
                options.url,
                crate::telemetry::causes(&e)
            )
        })?;
    let received_at = now_ms();
    let status = response.status();
    let headers = response.headers();
    // The server's clock minus ours, halfway through the exchange; the Date header has
    // whole seconds only.
    let skew_ms = headers
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|d| d.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64 - (sent_at + received_at) / 2);
    let location = headers
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    let retry_after = headers
        .get("retry-after")
        .and_then(|r| r.to_str().ok())
        .map(str::to_owned);
    Ok(Verdict {
        status: status.as_u16(),
        accepted: status.is_success(),
        meaning: meaning(status.as_u16(), skew_ms, location, retry_after),
    })
}

fn meaning(
    status: u16,
    skew_ms: Option<i64>,
    location: Option<String>,
    retry_after: Option<String>,
) -> String {
    match status {
        200..=299 => "accepted: the signature verified and the message will be processed. \
             The reply goes to the callback's sessionWebhook (see --webhook), which this \
             check does not receive; the server's log shows how it went."
            .to_owned(),
        401 => {
            let clock = match skew_ms {
                Some(ms) => format!(
                    "The server's clock is {} this machine's; qunguan accepts timestamps \
                     within QUNGUAN_SIGNATURE_WINDOW_SECS (3600 s by default), so {}.",
                    describe_skew(ms),
                    if ms.abs() > 3_600_000 {
                        "the clock is the likely cause: set the server's time (NTP)"
                    } else {
                        "the clock is probably fine and the secret is the likely cause \
                         (or this machine's clock is off against DingTalk's)"
                    }
                ),
                None => "The answer had no Date header, so the clock skew is unknown.".to_owned(),
            };
            format!(
                "the signature was rejected: either the app secret used here differs from \
                 the server's DINGTALK_APP_SECRET (the AppSecret of the app that owns the \
                 robot), or a clock is wrong. {clock}"
            )
        }
        301..=308 => format!(
            "redirected to {}: DingTalk does not follow redirects, so configure the final \
             URL as the robot's message-receiving address",
            location.as_deref().unwrap_or("an unnamed place")
        ),
        400 => "the body was refused as malformed: is this URL qunguan's /callback?".to_owned(),
        404 | 405 => "nothing takes callbacks here: qunguan's route is POST /callback \
             (check the path and the proxy's location block)"
            .to_owned(),
        413 => "the body is over qunguan's 64 KiB limit (or the proxy's)".to_owned(),
        429 | 503 => format!(
            "busy: qunguan is running QUNGUAN_MAX_IN_FLIGHT commands and asks DingTalk to \
             retry{}; or the proxy has no healthy upstream",
            retry_after
                .map(|r| format!(" after {r} s"))
                .unwrap_or_default()
        ),
        502 | 504 => "the proxy could not reach qunguan: is it running, and is the proxy's \
             upstream its QUNGUAN_LISTEN address?"
            .to_owned(),
        _ => "unexpected: DingTalk treats anything but 2xx as a failed delivery".to_owned(),
    }
}

/// "3 s ahead of", "2 min behind", "within a second of".
fn describe_skew(ms: i64) -> String {
    let secs = (ms.unsigned_abs() + 500) / 1000;
    if ms.unsigned_abs() < 1000 {
        return "within a second of".to_owned();
    }
    let amount = if secs >= 120 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    };
    let direction = if ms > 0 { "ahead of" } else { "behind" };
    format!("{amount} {direction}")
}

#[cfg(test)]
mod tests {
    use super::{describe_skew, meaning};

    #[test]
    fn skew_reads_as_words() {
        assert_eq!(describe_skew(400), "within a second of");
        assert_eq!(describe_skew(3_200), "3 s ahead of");
        assert_eq!(describe_skew(-7_200_000), "120 min behind");
    }

    #[test]
    fn a_401_blames_the_clock_only_when_it_is_off() {
        let off = meaning(401, Some(-7_200_000), None, None);
        assert!(off.contains("120 min behind"), "{off}");
        assert!(off.contains("clock is the likely cause"), "{off}");
        let fine = meaning(401, Some(0), None, None);
        assert!(fine.contains("secret is the likely cause"), "{fine}");
        let unknown = meaning(401, None, None, None);
        assert!(unknown.contains("skew is unknown"), "{unknown}");
    }

    #[test]
    fn redirects_and_busy_answers_say_what_to_do() {
        let moved = meaning(301, None, Some("https://b.example/callback".into()), None);
        assert!(moved.contains("https://b.example/callback"), "{moved}");
        let busy = meaning(503, None, None, Some("5".into()));
        assert!(busy.contains("retry after 5 s"), "{busy}");
    }
}
