//! People by name: `POST {oapi}/topapi/v2/user/get {userid, language}` → `result.name`
//! (permission `qyapi_get_member`), cached, so the welcome, `/info`, `/audit` and the
//! confirmation texts show "李娜" rather than a staff id.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde::Deserialize;

use super::{Api, Auth, DingTalkClient, DingTalkError};
use crate::{i18n::Lang, ids::StaffId};

/// How long a name is reused: people rarely rename themselves.
const NAME_TTL: Duration = Duration::from_secs(3600);
/// How long a failed lookup is not tried again (a missing permission, a person gone).
const FAILURE_TTL: Duration = Duration::from_secs(60);
/// Names remembered at most; past it, expired ones are dropped, and if none has, all.
const MAX_NAMES: usize = 20_000;
/// A name longer than this is not shown whole.
const MAX_NAME_CHARS: usize = 64;

/// Staff id → name (or `None`: the lookup failed) and when that answer expires.
#[derive(Default)]
pub struct NameCache {
    entries: Mutex<HashMap<StaffId, (Instant, Option<String>)>>,
}

impl NameCache {
    fn get(&self, who: &StaffId) -> Option<Option<String>> {
        let entries = self.entries.lock().expect("name cache poisoned");
        entries
            .get(who)
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, name)| name.clone())
    }

    fn put(&self, who: &StaffId, name: Option<String>) {
        let ttl = if name.is_some() {
            NAME_TTL
        } else {
            FAILURE_TTL
        };
        let mut entries = self.entries.lock().expect("name cache poisoned");
        if entries.len() >= MAX_NAMES {
            let now = Instant::now();
            entries.retain(|_, (until, _)| now < *until);
            if entries.len() >= MAX_NAMES {
                entries.clear();
            }
        }
        entries.insert(who.clone(), (Instant::now() + ttl, name));
    }
}

impl DingTalkClient {
    /// `who`'s name as DingTalk's contacts give it, cached for an hour (a failure for a
    /// minute); `None` if DingTalk does not say. Never fails: a name is a nicety.
    pub async fn name_of(&self, who: &StaffId, lang: Lang) -> Option<String> {
        if let Some(known) = self.inner.names.get(who) {
            return known;
        }
        let name = match self.fetch_name(who, lang).await {
            Ok(name) => name,
            Err(e) => {
                tracing::debug!(error = %e, "a member's name is not available; the staff id is shown");
                None
            }
        };
        self.inner.names.put(who, name.clone());
        name
    }

    /// The names of `people`, in order ([`DingTalkClient::name_of`] for each, at once).
    pub async fn names_of(&self, people: &[StaffId], lang: Lang) -> Vec<Option<String>> {
        let lookups = people.iter().map(|who| self.name_of(who, lang));
        futures_util::future::join_all(lookups).await
    }

    async fn fetch_name(&self, who: &StaffId, lang: Lang) -> Result<Option<String>, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            result: Option<Person>,
        }
        #[derive(Deserialize)]
        struct Person {
            #[serde(default)]
            name: Option<String>,
        }
        let url = self.oapi("/topapi/v2/user/get");
        let language = match lang {
            Lang::Zh => "zh_CN",
            Lang::En => "en_US",
        };
        let body = serde_json::json!({ "userid": who.as_str(), "language": language });
        let answer: Answer = self
            .call(Api::UserGet, Auth::Oapi, |http| http.post(&url).json(&body))
            .await?;
        Ok(answer
            .result
            .and_then(|p| p.name)
            .map(|n| n.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
            .filter(|n| !n.is_empty()))
    }
}
