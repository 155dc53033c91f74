//! Group administration as DingTalk documents it: group/update (with its reset of an
//! omitted `showHistoryType`, the owner and membership checks, 40 additions per call),
//! subAdministrators, updategroupnick and qrcode/get.

use axum::{http::StatusCode, response::Response};
use serde_json::{Map, Value, json};

use super::{Group, Request, Simulator, api_error, json_ok, lock, oapi_error};

/// group/update adds at most this many members per call; a group holds at most
/// [`MAX_MEMBERS`].
const MAX_ADD: usize = 40;
const MAX_MEMBERS: usize = 1000;
/// The six switches of `managementOptions`, as chat/get names them.
pub const SETTINGS: [&str; 6] = [
    "chatBannedType",
    "searchable",
    "validationType",
    "mentionAllAuthority",
    "managementType",
    "showHistoryType",
];
/// A nickname containing this is refused with 41049, as DingTalk refuses banned words.
pub const BANNED_WORD: &str = "违禁词";

fn invalid(message: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, "parameter.invalid", message)
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn members(g: &Group) -> Vec<String> {
    strings(&g.info["useridlist"]).unwrap_or_default()
}

impl Simulator {
    pub(super) fn group_update(&self, r: &Request) -> Response {
        let body = r.json();
        let Some(chatid) = body["chatid"].as_str() else {
            return invalid("chatid 不能为空");
        };
        let mut groups = lock(&self.inner.groups);
        let Some(group) = groups.get_mut(chatid) else {
            return invalid("chatid 不存在");
        };
        let mut next = group.info.clone();
        if let Err(why) = apply(&mut next, &body) {
            return invalid(why);
        }
        group.info = next;
        json_ok(json!({"success": true}))
    }

    pub(super) fn sub_administrators(&self, r: &Request) -> Response {
        let body = r.json();
        let bad = |code: &str, message: &str| api_error(StatusCode::BAD_REQUEST, code, message);
        let (Some(cid), Some(users), Some(role)) = (
            body["openConversationId"].as_str(),
            strings(&body["userIds"]).filter(|u| !u.is_empty()),
            body["role"].as_i64(),
        ) else {
            return bad("invalidParameter", "缺少参数");
        };
        if role != 2 && role != 3 {
            return bad("invalidParamter.role", "role 不合法");
        }
        let mut groups = lock(&self.inner.groups);
        let Some(group) = groups.values_mut().find(|g| g.cid == cid) else {
            return bad("invalidParameter.openConversationId.invalid", "群不存在");
        };
        let members = members(group);
        if let Some(stranger) = users.iter().find(|u| !members.contains(u)) {
            return bad("staff.not.found", &format!("{stranger} 不在群里"));
        }
        for user in users {
            group.admins.retain(|a| *a != user);
            if role == 2 {
                group.admins.push(user);
            }
        }
        json_ok(json!({"success": "true"}))
    }

    pub(super) fn update_group_nick(&self, r: &Request) -> Response {
        let body = r.json();
        let (Some(chatid), Some(user), Some(nick)) = (
            body["chatid"].as_str(),
            body["userid"].as_str(),
            body["group_nick"].as_str(),
        ) else {
            return oapi_error(400002, "缺少参数");
        };
        let mut groups = lock(&self.inner.groups);
        let Some(group) = groups.get_mut(chatid) else {
            return oapi_error(34001, "无效的chatid");
        };
        if !members(group).iter().any(|m| m == user) {
            return oapi_error(60124, "用户不在群中");
        }
        if nick.contains(BANNED_WORD) {
            return oapi_error(41049, "包含违禁内容");
        }
        group.nicks.insert(user.to_owned(), nick.to_owned());
        json_ok(json!({"errcode": 0, "errmsg": "ok", "request_id": "req-groupnick"}))
    }

    pub(super) fn qrcode_get(&self, r: &Request) -> Response {
        let body = r.json();
        let (Some(chatid), Some(user)) = (body["chatid"].as_str(), body["userid"].as_str()) else {
            return oapi_error(400002, "缺少参数");
        };
        let groups = lock(&self.inner.groups);
        let Some(group) = groups.get(chatid) else {
            return oapi_error(34001, "无效的chatid");
        };
        if !members(group).iter().any(|m| m == user) {
            return oapi_error(60124, "用户不在群中");
        }
        let url = format!("https://qr.dingtalk.com/action/joingroup?code={chatid}.{user}");
        json_ok(json!({"errcode": 0, "errmsg": "ok", "result": url}))
    }
}

/// One group/update applied to chat/get's `chat_info`, all or nothing.
fn apply(info: &mut Value, body: &Value) -> Result<(), &'static str> {
    if let Some(name) = body.get("name") {
        let name = name.as_str().ok_or("name 不合法")?;
        let chars = name.chars().count();
        if chars == 0 || chars > 20 {
            return Err("群名称长度不合法");
        }
        info["name"] = json!(name);
    }
    let add = strings(&body["add_useridlist"]).ok_or("add_useridlist 不合法")?;
    let del = strings(&body["del_useridlist"]).ok_or("del_useridlist 不合法")?;
    let mut members = strings(&info["useridlist"]).unwrap_or_default();
    let owner = info["owner"].as_str().unwrap_or_default().to_owned();
    if add.len() > MAX_ADD {
        return Err("一次最多添加 40 人");
    }
    if add.iter().any(|a| del.contains(a)) {
        return Err("添加和删除的成员重复");
    }
    if del.contains(&owner) {
        return Err("不能移除群主");
    }
    if del.iter().any(|d| !members.contains(d)) {
        return Err("被移除的人不是群成员");
    }
    members.retain(|m| !del.contains(m));
    for a in add {
        if !members.contains(&a) {
            members.push(a);
        }
    }
    if members.len() > MAX_MEMBERS {
        return Err("群成员已满");
    }
    if let Some(new_owner) = body.get("owner") {
        let new_owner = new_owner.as_str().ok_or("owner 不合法")?;
        if !members.iter().any(|m| m == new_owner) {
            return Err("新群主必须是群成员");
        }
        info["owner"] = json!(new_owner);
    }
    info["useridlist"] = json!(members);
    let options = settings(body);
    for key in SETTINGS {
        match options.get(key) {
            Some(v) if v.as_i64().is_some() => info[key] = v.clone(),
            Some(_) => return Err("managementOptions 不合法"),
            // What DingTalk does: an omitted showHistoryType means "history hidden".
            None if key == "showHistoryType" => info[key] = json!(0),
            None => {}
        }
    }
    Ok(())
}

/// The settings of a body: `managementOptions` as in the documented example, or flat as
/// the field table lists them.
fn settings(body: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for key in SETTINGS {
        let value = body["managementOptions"].get(key).or_else(|| body.get(key));
        if let Some(v) = value {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out
}
