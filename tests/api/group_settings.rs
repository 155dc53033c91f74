//! The group's settings and name: `/mute-all`, `/unmute-all`, `/set`, `/rename`. Each
//! change reads chat/get and sends all six settings, so nothing the admin did not name
//! changes (the simulator resets an omitted `showHistoryType`, as DingTalk does).

use serde_json::json;

use crate::group_support::*;
use crate::helpers::*;

#[tokio::test]
async fn mute_all_and_unmute_all_change_only_chat_banned_type() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let before = six(&app);
    let text = app.say(ADMIN, "/mute-all").await;
    assert!(text.contains("Changed Everyone muted"), "{text}");
    assert!(text.contains("off → on"), "{text}");
    assert_eq!(six(&app), with(&before, "chatBannedType", 1));
    let sent = &updates(&app)[0];
    assert_eq!(
        sent,
        &json!({"chatid": CHAT, "managementOptions": with(&before, "chatBannedType", 1)}),
        "all six settings, nothing else"
    );
    let text = app.say(ADMIN, "/解除全员禁言").await;
    assert!(text.contains("on → off"), "{text}");
    assert_eq!(six(&app), before);
    assert_eq!(updates(&app).len(), 2);
}

#[tokio::test]
async fn every_setting_of_set_changes_exactly_that_setting() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let cases = [
        ("/set searchable off", "searchable", 0),
        ("/set validation on", "validationType", 1),
        ("/set history 关", "showHistoryType", 0),
        ("/set history on", "showHistoryType", 1),
        ("/set mention-all everyone", "mentionAllAuthority", 0),
        ("/设置 管理类型 群主", "managementType", 1),
        ("/set @all 群主", "mentionAllAuthority", 1),
    ];
    for (command, key, value) in cases {
        let before = six(&app);
        let text = app.say(ADMIN, command).await;
        assert!(text.contains("Changed"), "{command}: {text}");
        assert_eq!(six(&app), with(&before, key, value), "{command}");
    }
    assert_eq!(updates(&app).len(), cases.len());
}

#[tokio::test]
async fn set_without_arguments_or_with_a_wrong_one_shows_the_current_values() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(ADMIN, "/set").await;
    for want in [
        "Usage: `/set <setting> <value>`",
        "- `searchable` (Searchable (可被搜索)): yes; values `on` `off`",
        "- `validation` (Join needs approval (入群验证)): off",
        "- `history` (New members see history (新成员可看历史消息)): yes",
        "- `mention-all` (Who may @all (@all 权限)): owner only",
        "- `management` (Who may manage (管理类型)): everyone",
    ] {
        assert!(text.contains(want), "{want} missing from {text}");
    }
    let text = app.say(ADMIN, "/set searchable maybe").await;
    assert!(
        text.contains("`searchable` cannot be set to `maybe`"),
        "{text}"
    );
    assert!(text.contains("values `on` `off`"), "{text}");
    let text = app.say(ADMIN, "/set colour red").await;
    assert!(text.contains("There is no setting `colour`"), "{text}");
    let text = app.say(ADMIN, "/set history").await;
    assert!(text.contains("needs a setting and its new value"), "{text}");
    assert_nothing_changed(&app).await;
}

#[tokio::test]
async fn a_setting_already_at_its_value_is_not_sent() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(ADMIN, "/set searchable on").await;
    assert!(text.contains("already yes; nothing was changed"), "{text}");
    assert_nothing_changed(&app).await;
}

#[tokio::test]
async fn a_setting_chat_get_leaves_out_refuses_the_change() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 0, "chat_info": {"name": "x", "owner": OWNER, "useridlist": [OWNER],
            "chatBannedType": 0, "searchable": 1, "validationType": 0,
            "mentionAllAuthority": 1, "managementType": 0}}),
        std::time::Duration::ZERO,
    );
    let text = app.say(ADMIN, "/mute-all").await;
    assert!(
        text.contains("did not report the group's current `showHistoryType`"),
        "{text}"
    );
    assert_nothing_changed(&app).await;
}

#[tokio::test]
async fn rename_keeps_the_name_as_typed_and_refuses_more_than_20_characters() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let before = six(&app);
    let text = app.say(ADMIN, "/rename Ｑ３ 项目群").await;
    assert!(
        text.contains("now called Ｑ３ 项目群 (was group chat0a1b2c3d)"),
        "{text}"
    );
    assert_eq!(app.fake.group(CHAT).info["name"], "Ｑ３ 项目群", "no NFKC");
    assert_eq!(six(&app), before, "renaming keeps every setting");
    assert!(updates(&app)[0].get("del_useridlist").is_none());
    let long = "一".repeat(21);
    let text = app.say(ADMIN, &format!("/改群名 {long}")).await;
    assert!(
        text.contains("1 to 20 characters, this one has 21"),
        "{text}"
    );
    let text = app.say(ADMIN, "/rename").await;
    assert!(text.contains("<name> is missing"), "{text}");
    app.settle().await;
    assert_eq!(updates(&app).len(), 1);
    let text = app
        .say(ADMIN, &format!("/rename {}", "二".repeat(20)))
        .await;
    assert!(text.contains("now called"), "{text}");
}

#[tokio::test]
async fn a_change_made_in_the_client_a_moment_ago_is_kept() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    // /info fills the few-seconds chat/get cache; then the owner hides the history in the
    // DingTalk client.
    app.say(ADMIN, "/info").await;
    app.fake.set_group_field(CHAT, "showHistoryType", json!(0));
    let before = six(&app);
    app.say(ADMIN, "/mute-all").await;
    assert_eq!(
        six(&app),
        with(&before, "chatBannedType", 1),
        "read fresh, not cached"
    );
}

#[tokio::test]
async fn two_changes_to_one_group_at_the_same_moment_both_hold() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    // The first change's chat/get is slow: the second arrives while it waits.
    let first = app.group_message(ADMIN, "/mute-all");
    send_with_slow_chat_get(&app, &first).await;
    let second = app.group_message(ADMIN, "/set history off");
    assert!(app.post_callback(&second).await.status().is_success());
    app.settle().await;
    let now = six(&app);
    assert_eq!(now["chatBannedType"], 1, "{now}");
    assert_eq!(
        now["showHistoryType"], 0,
        "the mute must not send back the history it read before the /set: {now}"
    );
}
