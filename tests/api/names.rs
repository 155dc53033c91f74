//! Text that becomes a name people read (a group name, a nickname, the welcome) is
//! refused when nothing of it can be seen and when it can show as something else than it
//! is (bidirectional overrides and isolates), before DingTalk is asked anything; ordinary
//! names of any script, emoji and combining marks are kept and counted as typed.

use crate::helpers::*;

/// The requests qunguan sent DingTalk so far, besides its replies.
fn calls(app: &TestApp) -> Vec<String> {
    app.fake.with_requests(|rs| {
        rs.iter()
            .filter(|r| r.path != "/robot/sendBySession")
            .map(|r| r.path.clone())
            .collect()
    })
}

#[tokio::test]
async fn invisible_blank_and_reversing_names_are_refused_without_calling_dingtalk() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let before = calls(&app);
    let blank = [
        "/rename \u{200b}\u{200b}\u{200b}\u{200b}\u{200b}",
        "/rename \"   \"",
        "/rename 「\u{3000}\u{feff}\u{2060}」",
        "/nick member001 \u{200b}",
        "/welcome \u{00ad}\u{200d}",
    ];
    for line in blank {
        let text = app.say(ADMIN, line).await;
        assert!(text.contains("Wrong arguments"), "{line}: {text}");
        assert!(text.contains("nothing in it can be seen"), "{line}: {text}");
    }
    let reversing = [
        "/rename \u{202e}gnp.exe群",
        "/rename a\u{2066}b\u{2069}",
        "/nick member001 x\u{202d}y",
        "/welcome 欢迎 {name}\u{202b}",
    ];
    for line in reversing {
        let text = app.say(ADMIN, line).await;
        assert!(text.contains("Wrong arguments"), "{line}: {text}");
        assert!(text.contains("reverse"), "{line}: {text}");
        assert!(!text.contains('\u{202e}'), "echoed inert: {text}");
    }
    app.settle().await;
    assert_eq!(calls(&app), before, "DingTalk was not asked");
    let welcome = app.say(ADMIN, "/welcome").await;
    assert!(welcome.contains("has no welcome"), "{welcome}");
}

#[tokio::test]
async fn names_of_any_script_emoji_and_combining_marks_are_kept_and_counted_as_typed() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    // Ten e + U+0301 are twenty characters: as long as a name may be.
    let accents = "e\u{301}".repeat(10);
    for name in [
        "项目群🎉",
        "👨\u{200d}👩\u{200d}👧 家",
        accents.as_str(),
        "Équipe",
    ] {
        let text = app.say(ADMIN, &format!("/rename 「{name}」")).await;
        assert!(text.contains("is now called"), "{name}: {text}");
        assert_eq!(app.fake.group(CHAT).info["name"], name);
    }
    let text = app
        .say(ADMIN, &format!("/rename {}e\u{301}", "e\u{301}".repeat(10)))
        .await;
    assert!(text.contains("this one has 22"), "{text}");
    let text = app.say(ADMIN, "/nick member001 小王\u{200d}🙂").await;
    assert!(text.contains("nickname in this group is now"), "{text}");
    let text = app.say(ADMIN, "/welcome 欢迎 {name} 👋").await;
    assert!(text.contains("Welcome set"), "{text}");
}
