//! Members, owner, admins, nicknames and the join link: `/kick` and `/transfer-owner`
//! with their `/confirm`, `/add`, `/admin`, `/nick`, `/invite-link`.

use std::time::Duration;

use serde_json::json;

use crate::group_support::*;
use crate::helpers::*;

/// Another configured admin, a member of the sample group.
const ADMIN2: &str = "admin002";

async fn app_with_two_admins(extra: &[(&str, &str)]) -> TestApp {
    let admins = format!("{ADMIN},{ADMIN2}");
    let mut settings = vec![("QUNGUAN_ADMINS", admins.as_str())];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    app.fake
        .add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN, ADMIN2]);
    app.bind_sample_group().await;
    app
}

#[tokio::test]
async fn kick_waits_for_its_confirmation_then_removes_exactly_those_members() {
    let app = app_with_two_admins(&[]).await;
    let before = six(&app);
    let text = say_mentioning(&app, ADMIN, "/kick @成员", &[MEMBER]).await;
    assert!(text.contains(&format!("remove `{MEMBER}`")), "{text}");
    let code = confirm_code(&text);
    assert_eq!(code.len(), 6, "{text}");
    assert_nothing_changed(&app).await;
    assert!(members(&app).contains(&MEMBER.to_owned()));

    let text = app.say(ADMIN, &format!("/确认 {code}")).await;
    assert!(text.contains(&format!("Removed `{MEMBER}`")), "{text}");
    assert_eq!(members(&app), [OWNER, ADMIN, ADMIN2]);
    assert_eq!(six(&app), before, "kicking keeps every setting");
    let sent = &updates(&app)[0];
    assert_eq!(sent["del_useridlist"], json!([MEMBER]));
    assert!(sent.get("add_useridlist").is_none() && sent.get("owner").is_none());

    let audit = app.say(ADMIN, "/audit").await;
    assert!(
        audit.contains(&format!("`/kick {MEMBER}`: done")),
        "{audit}"
    );
    assert!(
        audit.contains(&format!("`/kick {MEMBER}`: waiting for confirmation")),
        "{audit}"
    );
}

#[tokio::test]
async fn a_confirmation_is_refused_to_another_admin_when_reused_and_when_expired() {
    let app = app_with_two_admins(&[("QUNGUAN_CONFIRM_SECS", "1")]).await;
    let code = confirm_code(&app.say(ADMIN, &format!("/kick {MEMBER}")).await);
    let text = app.say(ADMIN2, &format!("/confirm {code}")).await;
    assert!(text.contains("is not yours"), "{text}");
    assert_nothing_changed(&app).await;
    // Still pending for its requester, who confirms it once.
    let text = app.say(ADMIN, &format!("/confirm {code}")).await;
    assert!(text.contains("Removed"), "{text}");
    let text = app.say(ADMIN, &format!("/confirm {code}")).await;
    assert!(text.contains("was already confirmed"), "{text}");
    assert_eq!(updates(&app).len(), 1);

    let code = confirm_code(&app.say(ADMIN, &format!("/transfer-owner {ADMIN2}")).await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let text = app.say(ADMIN, &format!("/confirm {code}")).await;
    assert!(text.contains("has expired"), "{text}");
    let text = app.say(ADMIN, "/confirm 000000").await;
    assert!(
        text.contains("Nothing in this group waits for `000000`"),
        "{text}"
    );
    app.settle().await;
    assert_eq!(
        updates(&app).len(),
        1,
        "nothing ran after the first confirmation"
    );
    assert_eq!(app.fake.group(CHAT).info["owner"], OWNER);
}

#[tokio::test]
async fn a_code_works_only_in_the_group_it_was_given_in() {
    let app = app_with_two_admins(&[]).await;
    let code = confirm_code(&app.say(ADMIN, &format!("/kick {MEMBER}")).await);
    app.fake
        .add_group("chat99", "cidOther==", OWNER, &[OWNER, MEMBER, ADMIN]);
    let elsewhere = |text: &str| {
        let mut body = app.group_message(ADMIN, text);
        body["conversationId"] = json!("cidOther==");
        body
    };
    let text = reply_text(&app.ask(&elsewhere("/bind chat99")).await);
    assert!(text.contains("Bound"), "{text}");
    let text = reply_text(&app.ask(&elsewhere(&format!("/confirm {code}"))).await);
    assert!(text.contains("Nothing in this group waits"), "{text}");
    assert_nothing_changed(&app).await;
}

#[tokio::test]
async fn the_owner_and_non_members_are_refused_before_any_change() {
    let app = app_with_two_admins(&[]).await;
    let text = app.say(ADMIN, &format!("/kick {MEMBER} {OWNER}")).await;
    assert!(
        text.contains(&format!("`{OWNER}` owns the group and cannot be removed")),
        "{text}"
    );
    assert!(!text.contains("/confirm"), "{text}");
    let text = app.say(ADMIN, "/移出群 stranger9").await;
    assert!(text.contains("`stranger9` is not a member"), "{text}");
    let text = app.say(ADMIN, "/transfer-owner stranger9").await;
    assert!(text.contains("`stranger9` is not a member"), "{text}");
    let text = app.say(ADMIN, &format!("/transfer-owner {OWNER}")).await;
    assert!(text.contains("already owns the group"), "{text}");
    let text = app.say(ADMIN, "/kick").await;
    assert!(text.contains("<@member|staffId> is missing"), "{text}");
    assert_nothing_changed(&app).await;
}

#[tokio::test]
async fn transfer_owner_after_confirmation_changes_only_the_owner() {
    let app = app_with_two_admins(&[]).await;
    let before = six(&app);
    let text = say_mentioning(&app, ADMIN, "/转让群主 @成员", &[MEMBER]).await;
    assert!(
        text.contains(&format!("make `{MEMBER}` the owner instead of `{OWNER}`")),
        "{text}"
    );
    assert_nothing_changed(&app).await;
    let text = app
        .say(ADMIN, &format!("/confirm {}", confirm_code(&text)))
        .await;
    assert!(
        text.contains(&format!("`{MEMBER}` now owns the group")),
        "{text}"
    );
    assert_eq!(app.fake.group(CHAT).info["owner"], MEMBER);
    assert_eq!(members(&app), [OWNER, MEMBER, ADMIN, ADMIN2]);
    assert_eq!(six(&app), before);
    assert_eq!(updates(&app)[0]["owner"], MEMBER);
    let audit = app.say(ADMIN, "/audit").await;
    assert!(
        audit.contains(&format!("`/transfer-owner {MEMBER}`: done")),
        "{audit}"
    );
}

#[tokio::test]
async fn add_refuses_41_people_before_any_call_and_adds_only_the_new_ones() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let many: Vec<String> = (1..=41).map(|i| format!("u{i}")).collect();
    let text = app.say(ADMIN, &format!("/add {}", many.join(" "))).await;
    assert!(
        text.contains("at most 40 people at a time (DingTalk's limit), this is 41"),
        "{text}"
    );
    assert_nothing_changed(&app).await;
    assert_eq!(app.fake.count("/chat/get"), 0, "refused before any call");

    let before = six(&app);
    let text = app.say(ADMIN, &format!("/拉人 u1 u2 {MEMBER}")).await;
    assert!(text.contains("Added `u1`, `u2` to the group."), "{text}");
    assert!(
        text.contains(&format!("`{MEMBER}` already in the group")),
        "{text}"
    );
    assert_eq!(members(&app), [OWNER, MEMBER, ADMIN, "u1", "u2"]);
    assert_eq!(six(&app), before);
    assert_eq!(updates(&app)[0]["add_useridlist"], json!(["u1", "u2"]));
    let text = app
        .say(ADMIN, &format!("/add {}", many[..40].join(" ")))
        .await;
    assert!(text.contains("Added"), "{text}");
    assert_eq!(
        updates(&app)[1]["add_useridlist"].as_array().unwrap().len(),
        38
    );
    let text = app.say(ADMIN, "/add u1").await;
    assert!(
        text.contains("`u1` already in the group; nothing was changed"),
        "{text}"
    );
    assert_eq!(updates(&app).len(), 2);
}

#[tokio::test]
async fn admin_add_and_remove_work_in_an_unbound_group() {
    let app = spawn_app().await;
    let before = app.fake.group(CHAT).info;
    let text = say_mentioning(&app, ADMIN, "/admin add @成员", &[MEMBER]).await;
    assert!(
        text.contains(&format!("Made `{MEMBER}` group admins")),
        "{text}"
    );
    let sent = app.fake.requests_to("/v1.0/im/subAdministrators")[0].json();
    assert_eq!(
        sent,
        json!({"openConversationId": CID, "userIds": [MEMBER], "role": 2})
    );
    assert_eq!(app.fake.group(CHAT).admins, [MEMBER]);
    let text = app.say(ADMIN, &format!("/群管理员 remove {MEMBER}")).await;
    assert!(text.contains("no longer group admins"), "{text}");
    assert_eq!(
        app.fake.requests_to("/v1.0/im/subAdministrators")[1].json()["role"],
        3
    );
    assert!(app.fake.group(CHAT).admins.is_empty());
    assert_eq!(
        app.fake.group(CHAT).info,
        before,
        "name, members and settings as they were"
    );
    let text = app.say(ADMIN, &format!("/admin promote {MEMBER}")).await;
    assert!(text.contains("`add` or `remove`"), "{text}");
    assert_eq!(app.fake.count("/v1.0/im/subAdministrators"), 2);
}

#[tokio::test]
async fn nick_sets_the_nickname_and_dingtalk_refusals_read_as_sentences() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let before = app.fake.group(CHAT).info;
    let text = app.say(ADMIN, &format!("/nick {MEMBER} 小王 二号")).await;
    assert!(
        text.contains("nickname in this group is now 小王 二号"),
        "{text}"
    );
    let sent = app.fake.requests_to("/topapi/chat/updategroupnick")[0].json();
    assert_eq!(
        sent,
        json!({"userid": MEMBER, "chatid": CHAT, "group_nick": "小王 二号"})
    );
    assert_eq!(app.fake.group(CHAT).nicks[MEMBER], "小王 二号");
    let text = say_mentioning(&app, ADMIN, "/群昵称 @成员 违禁词", &[MEMBER]).await;
    assert!(
        text.contains("contains words that are not allowed"),
        "{text}"
    );
    let text = app.say(ADMIN, "/nick stranger9 x").await;
    assert!(text.contains("is not a member of the group"), "{text}");
    assert_eq!(app.fake.group(CHAT).nicks[MEMBER], "小王 二号");
    assert_eq!(
        app.fake.group(CHAT).info,
        before,
        "name, members and settings as they were"
    );
}

#[tokio::test]
async fn invite_link_is_for_any_member_and_shared_in_their_name() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(MEMBER, "/入群链接").await;
    assert!(
        text.contains("[Join the group](https://qr.dingtalk.com/action/joingroup?code="),
        "{text}"
    );
    let sent = app.fake.requests_to("/topapi/chat/qrcode/get")[0].json();
    assert_eq!(sent, json!({"chatid": CHAT, "userid": MEMBER}));
    app.fake.script(
        "POST",
        "/topapi/chat/qrcode/get",
        200,
        json!({"errcode": 0, "result": "javascript:alert(1)"}),
        Duration::ZERO,
    );
    let text = app.say(MEMBER, "/invite-link").await;
    assert!(
        text.contains("not an https link") && !text.contains("javascript"),
        "{text}"
    );
}

#[tokio::test]
async fn dingtalk_refusals_of_a_change_read_as_sentences() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let cases = [
        (
            "/v1.0/im/group/update",
            "permession.checkFailed",
            "/mute-all",
            "outside the app's visibility",
        ),
        (
            "/v1.0/im/group/update",
            "parameter.invalid",
            "/rename 新群名",
            "refused the values",
        ),
        (
            "/v1.0/im/subAdministrators",
            "subadmin.exceed",
            "/admin add member001",
            "as many admins as it may have",
        ),
        (
            "/v1.0/im/subAdministrators",
            "staff.not.found",
            "/admin add nobody",
            "does not know this person",
        ),
    ];
    for (path, code, command, want) in cases {
        app.fake.script(
            "POST",
            path,
            400,
            json!({"code": code, "message": "拒绝", "requestid": "rq-1"}),
            Duration::ZERO,
        );
        let text = app.say(ADMIN, command).await;
        assert!(text.contains(want), "{command}: {text}");
        assert!(
            !text.contains("拒绝"),
            "DingTalk's own words are not echoed: {text}"
        );
    }
    app.fake.script(
        "POST",
        "/topapi/chat/updategroupnick",
        200,
        json!({"errcode": 40003, "errmsg": "无效的userid"}),
        Duration::ZERO,
    );
    let text = app.say(ADMIN, &format!("/nick {MEMBER} 新")).await;
    assert!(
        text.contains("does not know this person: check the staff id"),
        "{text}"
    );
}

#[tokio::test]
async fn only_members_named_after_the_command_are_its_targets() {
    let app = spawn_app().await;
    let subadmins = |app: &TestApp| -> Vec<serde_json::Value> {
        app.fake
            .requests_to("/v1.0/im/subAdministrators")
            .iter()
            .map(|r| r.json()["userIds"].clone())
            .collect()
    };
    // The member is mentioned before the command: not a target.
    let text = say_mentioning(&app, ADMIN, &format!("@成员 /admin add {OWNER}"), &[MEMBER]).await;
    assert!(
        text.contains(&format!("Made `{OWNER}` group admins")),
        "{text}"
    );
    // An atUsers entry whose name is nowhere in the text is not a target either.
    let text = say_mentioning(&app, ADMIN, &format!("/admin add {OWNER}"), &[MEMBER]).await;
    assert!(
        text.contains(&format!("Made `{OWNER}` group admins")),
        "{text}"
    );
    // Mentions after the command still are, in the order written, with typed ids.
    let line = format!("@某人 /admin add {OWNER} @成员");
    let text = say_mentioning(&app, ADMIN, &line, &[ADMIN, MEMBER]).await;
    assert!(
        text.contains(&format!("Made `{OWNER}`, `{MEMBER}` group admins")),
        "{text}"
    );
    assert_eq!(
        subadmins(&app),
        [json!([OWNER]), json!([OWNER]), json!([OWNER, MEMBER])]
    );
}

#[tokio::test]
async fn a_kick_dingtalk_made_but_whose_answer_was_lost_is_reported_done() {
    let app = app_with_two_admins(&[]).await;
    let text = say_mentioning(&app, ADMIN, "/kick @成员", &[MEMBER]).await;
    let code = confirm_code(&text);
    app.fake.lose_answer("POST", "/v1.0/im/group/update");
    let text = app.say(ADMIN, &format!("/确认 {code}")).await;
    assert!(text.contains(&format!("Removed `{MEMBER}`")), "{text}");
    assert!(!members(&app).contains(&MEMBER.to_owned()));
    let audit = app.say(ADMIN, "/audit").await;
    assert!(
        audit.contains(&format!("`/kick {MEMBER}`: done")),
        "{audit}"
    );
}
