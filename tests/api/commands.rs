//! Each command end to end, asserting on what qunguan sent to DingTalk.

use crate::helpers::*;

#[tokio::test]
async fn help_lists_every_command_with_its_alias_in_groups_and_direct_chats() {
    let app = spawn_app().await;
    let group = app.say(MEMBER, "/help").await;
    let direct = reply_text(&app.ask(&app.direct_message(MEMBER, "/help")).await);
    for text in [group, direct] {
        for (name, alias) in [
            ("help", "帮助"),
            ("whoami", "我是谁"),
            ("info", "群信息"),
            ("lock-friending", "禁止加好友"),
            ("unlock-friending", "允许加好友"),
            ("bind", "绑定"),
            ("unbind", "解绑"),
        ] {
            assert!(
                text.contains(&format!("/{name}")) && text.contains(&format!("/{alias}")),
                "{name} in {text}"
            );
        }
    }
}

#[tokio::test]
async fn replies_are_markdown_mentioning_the_sender() {
    let app = spawn_app().await;
    let reply = app.ask(&app.group_message(MEMBER, "/help")).await;
    assert_eq!(reply["at"]["atUserIds"], serde_json::json!([MEMBER]));
    assert!(reply_text(&reply).ends_with(&format!("@{MEMBER}")));
}

#[tokio::test]
async fn help_for_one_command_shows_its_usage() {
    let app = spawn_app().await;
    let text = app.say(MEMBER, "/help bind").await;
    assert!(
        text.contains("Usage: `/bind <chatid>`") && text.contains("admins"),
        "{text}"
    );
    let text = app.say(MEMBER, "/帮助 /群信息").await;
    assert!(text.contains("/info"), "{text}");
}

#[tokio::test]
async fn aliases_full_width_and_case_are_understood() {
    let app = spawn_app().await;
    for typed in [
        "/我是谁",
        "／ＷＨＯＡＭＩ",
        "/WhoAmI",
        "\u{3000}/whoami\u{3000}",
    ] {
        let text = app.say(MEMBER, typed).await;
        assert!(text.contains(MEMBER), "{typed}: {text}");
    }
}

#[tokio::test]
async fn an_unknown_command_suggests_the_closest_and_names_help() {
    let app = spawn_app().await;
    let text = app.say(MEMBER, "/lock-frienidng").await;
    assert!(text.contains("Did you mean `/lock-friending`?"), "{text}");
    let text = app.say(MEMBER, "/qwertyuiop").await;
    assert!(
        text.contains("/help") && !text.contains("Did you mean"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_arguments_get_the_commands_usage() {
    let app = spawn_app().await;
    let text = app.say(MEMBER, "/info now").await;
    assert!(
        text.contains("unexpected extra argument `now`") && text.contains("Usage: `/info`"),
        "{text}"
    );
    let text = app.say(ADMIN, "/bind").await;
    assert!(
        text.contains("<chatid> is missing") && text.contains("Usage: `/bind <chatid>`"),
        "{text}"
    );
    let text = app.say(ADMIN, &format!("/bind {CID}")).await;
    assert!(text.contains("openConversationId"), "{text}");
    app.assert_only_replies_sent().await;
}

#[tokio::test]
async fn group_only_commands_in_a_direct_chat_say_so() {
    let app = spawn_app().await;
    let text = reply_text(&app.ask(&app.direct_message(ADMIN, "/lock-friending")).await);
    assert!(text.contains("works in a group"), "{text}");
    app.settle().await;
    assert_eq!(app.fake.count("/topapi/chat/member/friendswitch/update"), 0);
}

#[tokio::test]
async fn info_in_an_unbound_group_explains_binding_and_calls_nothing() {
    let app = spawn_app().await;
    let text = app.say(MEMBER, "/info").await;
    assert!(
        text.contains("/bind <chatid>") && text.contains(CID),
        "{text}"
    );
    app.assert_only_replies_sent().await;
}

#[tokio::test]
async fn info_shows_the_group_from_chat_get() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(MEMBER, "/info").await;
    for want in [
        &format!("group {CHAT}"),
        &format!("Owner: {OWNER}"),
        "Members: 3",
        "Status: active",
        "Everyone muted (全员禁言): off",
        "Searchable (可被搜索): yes",
        "Who may @all (@all 权限): owner only",
        "New members see history (新成员可看历史消息): yes",
        CID,
        CHAT,
    ] {
        assert!(text.contains(want), "{want} missing from {text}");
    }
    let call = &app.fake.requests_to("/chat/get")[0];
    assert_eq!(call.query["chatid"], CHAT);
    assert_eq!(call.query["access_token"], "oapi-token-1");
}

#[tokio::test]
async fn lock_and_unlock_friending_send_is_prohibit() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(ADMIN, "/lock-friending").await;
    assert!(text.contains("can no longer add each other"), "{text}");
    assert_eq!(app.fake.group(CHAT).friending_locked, Some(true));
    let text = app.say(ADMIN, "/允许加好友").await;
    assert!(text.contains("may add each other"), "{text}");
    assert_eq!(app.fake.group(CHAT).friending_locked, Some(false));
    let calls = app
        .fake
        .requests_to("/topapi/chat/member/friendswitch/update");
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].json(),
        serde_json::json!({"chatid": CHAT, "is_prohibit": true})
    );
    assert_eq!(
        calls[1].json(),
        serde_json::json!({"chatid": CHAT, "is_prohibit": false})
    );
    assert_eq!(calls[0].query["access_token"], "oapi-token-1");
}

#[tokio::test]
async fn bind_converts_the_chatid_and_binds_only_a_match() {
    let app = spawn_app().await;
    let text = app.say(ADMIN, &format!("/bind {CHAT}")).await;
    assert!(text.contains("Bound") && text.contains(CID), "{text}");
    let call = &app
        .fake
        .requests_to(&format!("/v1.0/im/chat/{CHAT}/convertToOpenConversationId"))[0];
    assert_eq!(call.headers["x-acs-dingtalk-access-token"], "api-token-1");
    let text = app.say(ADMIN, &format!("/bind {CHAT}")).await;
    assert!(text.contains("already bound"), "{text}");
}

#[tokio::test]
async fn bind_refuses_a_chatid_of_another_group() {
    let app = spawn_app().await;
    app.fake
        .add_group("chatOther99", "cidOther==", OWNER, &[OWNER]);
    let text = app.say(ADMIN, "/bind chatOther99").await;
    assert!(
        text.contains("is not this group's") && text.contains("cidOther=="),
        "{text}"
    );
    let text = app.say(MEMBER, "/info").await;
    assert!(text.contains("not bound"), "{text}");
}

#[tokio::test]
async fn bind_refuses_a_chatid_dingtalk_does_not_know() {
    let app = spawn_app().await;
    let text = app.say(ADMIN, "/bind chatNoSuch1").await;
    assert!(text.contains("does not know chatid"), "{text}");
}

#[tokio::test]
async fn a_chatid_bound_to_another_group_is_refused() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    // DingTalk (say, after the group was rebuilt) now converts the chatid to a second
    // group: the stored binding of the first group wins and nothing changes.
    app.fake.script(
        "POST",
        &format!("/v1.0/im/chat/{CHAT}/convertToOpenConversationId"),
        200,
        serde_json::json!({"openConversationId": "cidSecondGroup=="}),
        std::time::Duration::ZERO,
    );
    let mut other = app.group_message(ADMIN, &format!("/bind {CHAT}"));
    other["conversationId"] = serde_json::json!("cidSecondGroup==");
    let text = reply_text(&app.ask(&other).await);
    assert!(text.contains("already bound to another group"), "{text}");
    let text = app.say(MEMBER, "/info").await;
    assert!(
        text.contains(CHAT),
        "the first group keeps its binding: {text}"
    );
}

#[tokio::test]
async fn unbind_removes_the_binding() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(ADMIN, "/unbind").await;
    assert!(text.contains("Unbound") && text.contains(CHAT), "{text}");
    let text = app.say(MEMBER, "/info").await;
    assert!(text.contains("not bound"), "{text}");
    let text = app.say(ADMIN, "/解绑").await;
    assert!(text.contains("not bound"), "{text}");
}

#[tokio::test]
async fn configured_groups_are_bound_at_start_up() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", &format!("{CHAT},chatUnknown7"))]).await;
    let text = app.say(MEMBER, "/info").await;
    assert!(text.contains(&format!("group {CHAT}")), "{text}");
}

#[tokio::test]
async fn replies_are_in_chinese_by_default() {
    let app = spawn_app_with(&[("QUNGUAN_LANG", "")]).await;
    let text = app.say(MEMBER, "/help").await;
    assert!(
        text.contains("**群管** 可用命令：") && text.contains("/禁止加好友"),
        "{text}"
    );
    let text = app.say(MEMBER, "/info").await;
    assert!(text.contains("本群还没有绑定 chatid"), "{text}");
}
