//! External contacts: the TOP wire format, merge semantics, argument checks, errors.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{fake::Recorded, helpers::*};

const EXT: &str = "ext001";
const TOP: &str = "/router/rest";

async fn app_with_contact() -> TestApp {
    let app = spawn_app().await;
    app.fake.set_label_groups(&[
        ("等级", &[(11, "VIP"), (12, "普通")]),
        ("来源", &[(21, "展会"), (22, "VIP")]),
    ]);
    app.fake.add_contact(json!({
        "userid": EXT, "name": "王客户", "follower_user_id": OWNER, "label_ids": [12],
        "title": "采购", "company_name": "甲公司", "address": "杭州", "remark": "老客户",
        "share_user_ids": [MEMBER], "share_dept_ids": [5],
        "mobile": "13812345678", "state_code": "86", "email": "w@example.com"
    }));
    app
}

/// The `contact` form field of a TOP call, decoded.
fn sent_contact(call: &Recorded) -> Value {
    let form: std::collections::HashMap<String, String> = url::form_urlencoded::parse(&call.body)
        .into_owned()
        .collect();
    serde_json::from_str(&form["contact"]).expect("contact is a JSON string")
}

#[tokio::test]
async fn an_update_is_one_top_call_in_the_documented_wire_format() {
    let app = app_with_contact().await;
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} title=经理"))
        .await;
    assert!(text.contains("Title: 采购 → 经理"), "{text}");
    let calls = app.fake.requests_to(TOP);
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.query["method"], "dingtalk.corp.extcontact.update");
    assert_eq!(call.query["v"], "2.0");
    assert_eq!(call.query["format"], "json");
    assert_eq!(call.query["session"], "oapi-token-1");
    let ts = &call.query["timestamp"];
    assert!(
        ts.len() == 19 && &ts[4..5] == "-" && &ts[10..11] == " " && &ts[16..17] == ":",
        "{ts}"
    );
    assert!(!call.query.contains_key("sign") && !call.query.contains_key("app_key"));
    assert_eq!(
        call.headers["content-type"],
        "application/x-www-form-urlencoded; charset=utf-8"
    );
    // Merge: every field the contact had is carried over; only the title changed.
    assert_eq!(
        sent_contact(call),
        json!({"user_id": EXT, "name": "王客户", "follower_user_id": OWNER, "label_ids": [12],
               "title": "经理", "company_name": "甲公司", "address": "杭州", "remark": "老客户",
               "share_user_ids": [MEMBER], "share_dept_ids": [5]})
    );
    assert_eq!(app.fake.contact(EXT)["title"], "经理");
}

#[tokio::test]
async fn label_names_are_resolved_and_quoted_values_kept_whole() {
    let app = app_with_contact().await;
    let text = app
        .say(
            ADMIN,
            &format!(r#"/contact-update {EXT} labels=展会,11 address="杭州 西湖区""#),
        )
        .await;
    assert!(
        text.contains("Labels: 普通 (12) → 展会 (21), VIP (11)"),
        "{text}"
    );
    let sent = sent_contact(&app.fake.requests_to(TOP)[0]);
    assert_eq!(
        (sent["label_ids"].clone(), sent["address"].clone()),
        (json!([21, 11]), json!("杭州 西湖区"))
    );
}

#[tokio::test]
async fn an_ambiguous_or_unknown_label_name_is_refused_without_a_top_call() {
    let app = app_with_contact().await;
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} labels=VIP"))
        .await;
    assert!(
        text.contains("等级/VIP (11)") && text.contains("来源/VIP (22)"),
        "{text}"
    );
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} labels=展览"))
        .await;
    assert!(
        text.contains("no label named “展览”") && text.contains("来源/展会 (21)"),
        "{text}"
    );
    app.settle().await;
    assert_eq!(app.fake.count(TOP), 0);
}

#[tokio::test]
async fn a_mentioned_member_becomes_the_follower() {
    let app = app_with_contact().await;
    let mut body = app.group_message(ADMIN, &format!("/contact-update {EXT} follower=@李四"));
    body["atUsers"] = json!([{"dingtalkId": "$:LWCP_v1:$bot"}, {"dingtalkId": "$:LWCP_v1:$lisi", "staffId": "lisi"}]);
    let text = reply_text(&app.ask(&body).await);
    assert!(
        text.contains(&format!("Follower: {OWNER} → lisi")),
        "{text}"
    );
    assert_eq!(
        sent_contact(&app.fake.requests_to(TOP)[0])["follower_user_id"],
        "lisi"
    );
}

#[tokio::test]
async fn every_bad_argument_is_refused_with_usage_and_no_top_call() {
    let app = app_with_contact().await;
    for (line, expect) in [
        (
            format!("/contact-update {EXT} titel=x"),
            "Did you mean `title`?",
        ),
        (
            format!("/contact-update {EXT} share-depts=abc"),
            "share-depts `abc` is not valid",
        ),
        (
            format!("/contact-update {EXT} name="),
            "name `` is not valid",
        ),
        (
            format!("/contact-update {EXT} follower=@nobody"),
            "follower `@nobody` is not valid",
        ),
        (
            format!("/contact-update {EXT} title=a title=b"),
            "given twice",
        ),
        (format!("/contact-update {EXT}"), "key=value is missing"),
        ("/contact-update".to_owned(), "<userId> is missing"),
    ] {
        let text = app.say(ADMIN, &line).await;
        assert!(
            text.contains(expect) && text.contains("Usage: `/contact-update"),
            "{line}: {text}"
        );
    }
    app.settle().await;
    assert_eq!(app.fake.count(TOP), 0);
    assert_eq!(app.fake.count("/topapi/extcontact/get"), 0);
}

#[tokio::test]
async fn a_dry_run_shows_the_change_and_changes_nothing() {
    let app = app_with_contact().await;
    for flag in ["--dry-run", "预览"] {
        let text = app
            .say(
                ADMIN,
                &format!("/contact-update {EXT} remark=新备注 {flag}"),
            )
            .await;
        assert!(
            text.contains("Preview, nothing changed") && text.contains("Remark: 老客户 → 新备注"),
            "{text}"
        );
    }
    app.settle().await;
    assert_eq!(app.fake.count(TOP), 0);
    assert_eq!(app.fake.contact(EXT)["remark"], "老客户");
}

#[tokio::test]
async fn business_and_gateway_errors_become_short_replies() {
    let app = app_with_contact().await;
    app.fake.script("POST", TOP, 200, json!({"dingtalk_corp_extcontact_update_response": {"result": {"ding_open_errcode": 40000, "error_msg": "内部细节", "success": false}, "request_id": "rq-1"}}), Duration::ZERO);
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} title=x"))
        .await;
    assert!(
        text.contains("errcode 40000") && text.contains("rq-1") && !text.contains("内部细节"),
        "{text}"
    );
    app.fake.script("POST", TOP, 200, json!({"error_response": {"code": 50, "msg": "Remote service error", "sub_code": "isv.invalid-parameter", "sub_msg": "非法参数"}}), Duration::ZERO);
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} title=y"))
        .await;
    assert!(
        text.contains("errcode top_50:isv.invalid-parameter") && !text.contains("非法参数"),
        "{text}"
    );
    app.fake.script("POST", TOP, 200, json!({"dingtalk_corp_extcontact_update_response": {"result": {"ding_open_errcode": 60011, "success": false}}}), Duration::ZERO);
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} title=z"))
        .await;
    assert!(text.contains("qyapi_ext_write"), "{text}");
}

#[tokio::test]
async fn a_top_timeout_is_retried_and_a_bad_session_refreshes_the_token() {
    let app = app_with_contact().await;
    app.fake.script("POST", TOP, 200, json!({"error_response": {"code": 15, "msg": "Remote service error", "sub_code": "isp.top-remote-connection-timeout"}}), Duration::ZERO);
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} title=一"))
        .await;
    assert!(text.contains("Updated"), "{text}");
    assert_eq!(app.fake.count(TOP), 2);
    app.fake.revoke_tokens();
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} title=二"))
        .await;
    assert!(text.contains("Updated"), "{text}");
    assert_eq!(app.fake.count("/gettoken"), 2);
}

#[tokio::test]
async fn contact_shows_every_field_with_label_names_and_masks_the_mobile_in_groups() {
    let app = app_with_contact().await;
    let text = app.say(ADMIN, &format!("/contact {EXT}")).await;
    for want in [
        "**王客户**",
        "Company: 甲公司",
        "Title: 采购",
        "Labels: 普通 (12)",
        &format!("Follower: {OWNER}"),
        &format!("Shared with staff: {MEMBER}"),
        "Shared with departments: 5",
        "Remark: 老客户",
        "Address: 杭州",
        // Escaped markdown: it renders as 138****5678.
        r"Mobile: 138\*\*\*\*5678",
    ] {
        assert!(text.contains(want), "{want} missing from {text}");
    }
    assert!(!text.contains("13812345678"));
    let direct = reply_text(
        &app.ask(&app.direct_message(ADMIN, &format!("/contact {EXT}")))
            .await,
    );
    assert!(direct.contains("13812345678"), "{direct}");
}

#[tokio::test]
async fn labels_lists_groups_with_ids() {
    let app = app_with_contact().await;
    let text = app.say(ADMIN, "/labels").await;
    for want in ["**等级**", "`11` VIP", "`12` 普通", "**来源**", "`21` 展会"] {
        assert!(text.contains(want), "{want} missing from {text}");
    }
    app.say(ADMIN, "/标签").await;
    assert_eq!(
        app.fake.count("/topapi/extcontact/listlabelgroups"),
        2,
        "/labels shows what DingTalk has now, not the cache"
    );
}

#[tokio::test]
async fn contact_commands_are_for_admins_only() {
    let app = app_with_contact().await;
    for line in [
        format!("/contact {EXT}"),
        format!("/contact-update {EXT} title=x"),
        "/labels".into(),
    ] {
        let text = app.say(MEMBER, &line).await;
        assert!(text.contains("Only admins"), "{line}: {text}");
    }
    app.assert_only_replies_sent().await;
}

#[tokio::test]
async fn free_text_reaches_dingtalk_exactly_as_typed() {
    let app = app_with_contact().await;
    let text = app
        .say(
            ADMIN,
            &format!("／contact-update {EXT} remark＝老客户，优先跟进（重要）"),
        )
        .await;
    assert!(
        text.contains("Remark: 老客户 → 老客户，优先跟进（重要）"),
        "{text}"
    );
    assert_eq!(
        sent_contact(&app.fake.requests_to(TOP)[0])["remark"],
        "老客户，优先跟进（重要）"
    );
}

#[tokio::test]
async fn quoted_values_keep_their_line_breaks_and_spaces() {
    let app = app_with_contact().await;
    app.say(
        ADMIN,
        &format!("/contact-update {EXT} address=\"line1\nline2  two\" remark=「a\t b」"),
    )
    .await;
    let sent = sent_contact(&app.fake.requests_to(TOP)[0]);
    assert_eq!(sent["address"], "line1\nline2  two");
    assert_eq!(sent["remark"], "a\t b");
}

#[tokio::test]
async fn a_label_created_after_the_labels_were_cached_is_found_by_name() {
    let app = app_with_contact().await;
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} labels=展会"))
        .await;
    assert!(text.contains("Updated"), "{text}");
    // Created in the console a minute later: the cached list does not have it.
    app.fake.set_label_groups(&[
        ("等级", &[(11, "VIP"), (12, "普通")]),
        ("来源", &[(21, "展会"), (22, "VIP"), (23, "新渠道")]),
    ]);
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} labels=新渠道"))
        .await;
    assert!(text.contains("Updated"), "{text}");
    let calls = app.fake.requests_to("/router/rest");
    assert_eq!(
        sent_contact(calls.last().unwrap())["label_ids"],
        json!([23])
    );
    assert_eq!(app.fake.count("/topapi/extcontact/listlabelgroups"), 2);
    let text = app
        .say(ADMIN, &format!("/contact-update {EXT} labels=没有这个"))
        .await;
    assert!(text.contains("没有这个"), "{text}");
    assert_eq!(
        app.fake.count("/topapi/extcontact/listlabelgroups"),
        3,
        "an unknown name is looked up once more, not again and again"
    );
}
