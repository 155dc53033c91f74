//! External contacts: extcontact/get and listlabelgroups on the old-style API, and the TOP
//! gateway's `dingtalk.corp.extcontact.update`.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{Api, Auth, DingTalkClient, DingTalkError};

/// How long the label groups are reused (they change rarely; every call costs quota).
const LABELS_TTL: Duration = Duration::from_secs(300);
/// listlabelgroups pages hold at most 100 groups.
const LABEL_PAGE: usize = 100;
/// A bound on paging, in case an answer never gets shorter.
const LABEL_PAGES_MAX: usize = 20;

/// An external contact as extcontact/get returns it and as the TOP update takes it
/// (`OpenExtContact`, snake_case). extcontact/get names the id `userid`; the update wants
/// `user_id`. Fields the update does not take are never serialised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct ExtContact {
    #[serde(alias = "userid")]
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follower_user_id: Option<String>,
    #[serde(deserialize_with = "numbers")]
    pub label_ids: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_user_ids: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_numbers"
    )]
    pub share_dept_ids: Option<Vec<i64>>,
    /// Read-only here: shown (masked in groups), never sent.
    #[serde(skip_serializing)]
    pub mobile: Option<String>,
    #[serde(skip_serializing)]
    pub state_code: Option<String>,
}

fn number(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    Ok(optional_numbers(d)?.unwrap_or_default())
}

fn optional_numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => Some(items.iter().filter_map(number).collect()),
        _ => None,
    })
}

/// One label group of listlabelgroups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct LabelGroup {
    pub name: String,
    pub labels: Vec<Label>,
}

/// One label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Label {
    pub name: String,
    #[serde(deserialize_with = "label_id")]
    pub id: i64,
}

fn label_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(number(&Value::deserialize(d)?).unwrap_or_default())
}

/// The label groups, fetched at most every five minutes.
#[derive(Default)]
pub struct LabelCache {
    current: Mutex<Option<(Instant, Arc<Vec<LabelGroup>>)>>,
}

impl DingTalkClient {
    /// POST {oapi}/topapi/extcontact/get `{user_id}`.
    pub async fn ext_contact(&self, user_id: &str) -> Result<ExtContact, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            result: ExtContact,
        }
        let url = self.oapi("/topapi/extcontact/get");
        let body = serde_json::json!({ "user_id": user_id });
        let answer: Answer = self
            .call(Api::ExtContactGet, Auth::Oapi, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        Ok(answer.result)
    }

    /// Every label group as DingTalk has it now (the cache is refilled): for `/labels`,
    /// and for a label name the cached list does not know (created a minute ago).
    pub async fn label_groups_fresh(&self) -> Result<Arc<Vec<LabelGroup>>, DingTalkError> {
        *self
            .inner
            .labels
            .current
            .lock()
            .expect("label cache poisoned") = None;
        self.label_groups().await
    }

    /// Every label group (POST {oapi}/topapi/extcontact/listlabelgroups, paged), cached.
    pub async fn label_groups(&self) -> Result<Arc<Vec<LabelGroup>>, DingTalkError> {
        if let Some((at, groups)) = self
            .inner
            .labels
            .current
            .lock()
            .expect("label cache poisoned")
            .as_ref()
        {
            if at.elapsed() < LABELS_TTL {
                return Ok(groups.clone());
            }
        }
        let groups = Arc::new(self.fetch_label_groups().await?);
        *self
            .inner
            .labels
            .current
            .lock()
            .expect("label cache poisoned") = Some((Instant::now(), groups.clone()));
        Ok(groups)
    }

    async fn fetch_label_groups(&self) -> Result<Vec<LabelGroup>, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            results: Vec<LabelGroup>,
        }
        let url = self.oapi("/topapi/extcontact/listlabelgroups");
        let mut all = Vec::new();
        for page in 0..LABEL_PAGES_MAX {
            let body = serde_json::json!({ "size": LABEL_PAGE, "offset": page * LABEL_PAGE });
            let answer: Answer = self
                .call(Api::LabelGroups, Auth::Oapi, |http| {
                    http.post(&url).json(&body)
                })
                .await?;
            let last = answer.results.len() < LABEL_PAGE;
            all.extend(answer.results);
            if last {
                break;
            }
        }
        Ok(all)
    }

    /// Sends the complete contact in one TOP `dingtalk.corp.extcontact.update` call:
    /// system parameters in the query (the old-style token as `session`, no `sign`), the
    /// `contact` JSON in a form body. Returns TOP's request id.
    pub async fn update_ext_contact(
        &self,
        contact: &ExtContact,
    ) -> Result<Option<String>, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            request_id: Option<String>,
        }
        let contact = serde_json::to_string(contact).map_err(|e| DingTalkError {
            not_sent: true,
            ..DingTalkError::rejected(Api::ExtContactUpdate, "encode", e.to_string())
        })?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("contact", &contact)
            .finish();
        let url = self.inner.top_url.as_str().to_owned();
        let answer: Answer = self
            .call(Api::ExtContactUpdate, Auth::TopSession, |http| {
                http.post(&url)
                    .query(&[
                        ("method", "dingtalk.corp.extcontact.update"),
                        ("v", "2.0"),
                        ("format", "json"),
                        ("timestamp", &top_timestamp()),
                    ])
                    .header(
                        CONTENT_TYPE,
                        "application/x-www-form-urlencoded; charset=utf-8",
                    )
                    .body(body.clone())
            })
            .await?;
        Ok(answer.request_id)
    }
}

/// Now as TOP wants it: `yyyy-MM-dd HH:mm:ss` in GMT+8.
pub fn top_timestamp() -> String {
    crate::clock::format_gmt8(crate::clock::now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_answers_decode_and_update_serialises_snake_case_without_read_only_fields() {
        let c: ExtContact = serde_json::from_str(
            r#"{"userid":"u1","name":"张三","follower_user_id":"f1","label_ids":[1,"2"],
                "share_dept_ids":[3],"mobile":"13812345678","state_code":"86","email":"x@y"}"#,
        )
        .unwrap();
        assert_eq!(
            (c.user_id.as_str(), c.label_ids.clone()),
            ("u1", vec![1, 2])
        );
        let sent: Value = serde_json::to_value(&c).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"user_id":"u1","name":"张三","follower_user_id":"f1","label_ids":[1,2],"share_dept_ids":[3]})
        );
    }

    #[test]
    fn top_timestamps_have_the_gateway_format() {
        let ts = top_timestamp();
        assert_eq!(ts.len(), 19, "{ts}");
        assert_eq!((&ts[4..5], &ts[10..11], &ts[13..14]), ("-", " ", ":"));
    }
}
