//! Greeting newcomers with their group's welcome (`/welcome`). At most one welcome goes to
//! a group per [`WINDOW`], here and on every replica (the store hands out the turns), so
//! people who join in a burst are greeted together, and each joining is greeted once.
//! Shutdown waits for the welcomes still due ([`Greeter::drain`]), and names the groups
//! whose newcomers it could not wait for.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::{
    clock::now_ms,
    dingtalk::{DingTalkClient, OpenApiTarget},
    i18n::{Lang, catalog},
    ids::{OpenConversationId, StaffId},
    markdown,
    store::{Store, WelcomeTurn},
};

/// The least time between two welcomes to one group.
pub const WINDOW: Duration = Duration::from_secs(10);
/// The longest welcome, in characters.
pub const MAX_WELCOME_CHARS: usize = 500;
/// What stands for the newcomers' names in a welcome.
pub const NAME_PLACEHOLDER: &str = "{name}";
/// Tries to take a group's turn before the people waiting are given up (and logged).
const ATTEMPTS: usize = 30;

catalog! {
    WelcomeTexts
    title { zh: "欢迎新成员", en: "Welcome" }
    separator { zh: "、", en: ", " }
}

/// The people waiting for their group's welcome, and what a welcome is sent with.
pub struct Greeter {
    waiting: Mutex<HashMap<OpenConversationId, Vec<StaffId>>>,
    /// The groups' turns being waited for, so shutdown can wait for them.
    sending: TaskTracker,
    dingtalk: DingTalkClient,
    store: Arc<dyn Store>,
    lang: Lang,
}

impl Greeter {
    pub fn new(dingtalk: DingTalkClient, store: Arc<dyn Store>, lang: Lang) -> Self {
        Self {
            waiting: Mutex::default(),
            sending: TaskTracker::new(),
            dingtalk,
            store,
            lang,
        }
    }

    /// Greets `people`, who joined `group`: now, or with whoever else joins before the
    /// group's next turn.
    pub fn greet(self: &Arc<Self>, group: OpenConversationId, people: Vec<StaffId>) {
        let first = match self.lock().entry(group.clone()) {
            Entry::Vacant(slot) => {
                slot.insert(people);
                true
            }
            Entry::Occupied(mut slot) => {
                slot.get_mut().extend(people);
                false
            }
        };
        if first {
            let span = tracing::Span::current();
            let work = self.clone().send_in_turn(group).instrument(span);
            self.sending.spawn(work);
        }
    }

    /// Stops taking newcomers and waits up to `deadline` for the welcomes due; logs the
    /// groups whose newcomers are left unwelcomed when it passes.
    pub async fn drain(&self, deadline: Duration) {
        self.sending.close();
        if tokio::time::timeout(deadline, self.sending.wait())
            .await
            .is_err()
        {
            for (group, people) in self.lock().iter() {
                tracing::error!(cid = %group, people = people.len(), "newcomers were not welcomed: the shutdown deadline passed");
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OpenConversationId, Vec<StaffId>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Everyone waiting in `group`, who are greeted now (or never).
    fn take(&self, group: &OpenConversationId) -> Vec<StaffId> {
        let mut people = self.lock().remove(group).unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        people.retain(|p| seen.insert(p.clone()));
        people
    }

    /// Waits for the group's turn, then greets everyone waiting by then, together.
    async fn send_in_turn(self: Arc<Self>, group: OpenConversationId) {
        let window_ms = WINDOW.as_millis() as i64;
        for _ in 0..ATTEMPTS {
            match self.store.claim_welcome(&group, now_ms(), window_ms).await {
                Ok(WelcomeTurn::Send(text)) => {
                    let people = self.take(&group);
                    self.send(&group, &text, &people).await;
                    return;
                }
                Ok(WelcomeTurn::WaitUntil(at_ms)) => {
                    let wait = (at_ms - now_ms()).clamp(50, window_ms) as u64;
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                Ok(WelcomeTurn::Off) => {
                    self.take(&group);
                    return;
                }
                Err(e) => {
                    tracing::warn!(cid = %group, error = %e, "cannot take the group's turn to welcome; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        let people = self.take(&group);
        tracing::error!(cid = %group, people = people.len(), "newcomers were not welcomed: the database did not answer");
    }

    /// Sends the welcome to the group through the OpenAPI; a failure is logged, not
    /// retried (greeting twice is worse than not at all).
    async fn send(&self, group: &OpenConversationId, text: &str, people: &[StaffId]) {
        let names = self.dingtalk.names_of(people, self.lang).await;
        let names: Vec<String> = people
            .iter()
            .zip(names)
            .map(|(id, name)| name.unwrap_or_else(|| id.as_str().to_owned()))
            .collect();
        let texts = WelcomeTexts::for_lang(self.lang);
        let message = render(text, &names, texts.separator);
        let to = OpenApiTarget::Group(group);
        match self.dingtalk.send_markdown(to, texts.title, &message).await {
            Ok(()) => tracing::info!(cid = %group, people = people.len(), "newcomers welcomed"),
            Err(e) => tracing::warn!(cid = %group, error = %e, "the welcome could not be sent"),
        }
    }
}

/// The welcome as the group reads it: the admin's text and the names, each made inert,
/// `{name}` standing for the names (joined by `separator`).
pub fn render(text: &str, names: &[String], separator: &str) -> String {
    /// Holds the names' place while the text is made inert (a private-use character, which
    /// markdown leaves alone; one typed in the text is dropped first).
    const SLOT: char = '\u{E000}';
    let names: Vec<String> = names
        .iter()
        .map(|n| markdown::inert(n, markdown::ECHO_LIMIT))
        .collect();
    let text: String = text.chars().filter(|c| *c != SLOT).collect();
    let slotted = text.replace(NAME_PLACEHOLDER, &SLOT.to_string());
    markdown::inert(&slotted, markdown::DATA_LIMIT).replace(SLOT, &names.join(separator))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_say_the_same_in_both_languages() {
        crate::i18n::assert_entries_agree(WelcomeTexts::entries());
    }

    #[test]
    fn names_stand_for_the_placeholder_and_nothing_is_markup() {
        let names = ["李娜".to_owned(), "**王**".to_owned()];
        let text = render("欢迎 {name}！请看[公告](http://x)", &names, "、");
        assert!(text.starts_with("欢迎 李娜、"), "{text}");
        assert!(
            text.contains(r"\*\*王\*\*") && text.contains(r"\[公告\]"),
            "{text}"
        );
        assert_eq!(render("hello", &names, ", "), "hello");
    }
}
