//! What every group-administration command shares: admins only, dry runs that call
//! nothing but reads, and an audit of each run.

use crate::group_support::*;
use crate::helpers::*;

/// One of each changing command, as an admin would type it.
const CHANGES: [&str; 12] = [
    "/mute-all",
    "/unmute-all",
    "/rename 新名字",
    "/set searchable off",
    "/kick member001",
    "/add u9",
    "/transfer-owner member001",
    "/admin add member001",
    "/nick member001 小王",
    "/lock-friending",
    "/unlock-friending",
    "/unbind",
];

#[tokio::test]
async fn plain_members_are_refused_and_nothing_is_changed() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let before = app.fake.group(CHAT).info;
    for command in CHANGES {
        let text = app.say(MEMBER, command).await;
        assert!(text.contains("Only admins may run"), "{command}: {text}");
    }
    assert_nothing_changed(&app).await;
    assert_eq!(app.fake.group(CHAT).info, before);
}

#[tokio::test]
async fn dry_runs_call_nothing_but_reads_and_are_audited_as_dry_runs() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let before = app.fake.group(CHAT).info;
    for command in CHANGES {
        for flag in ["--dry-run", "预览"] {
            let reply = app
                .ask(&app.group_message(ADMIN, &format!("{command} {flag}")))
                .await;
            let text = reply_text(&reply);
            assert_eq!(
                reply["markdown"]["title"], "qunguan: preview (nothing changed)",
                "{command} {flag}: {text}"
            );
        }
    }
    assert_nothing_changed(&app).await;
    assert_eq!(app.fake.group(CHAT).info, before);
    assert!(
        app.say(ADMIN, "/info").await.contains("chat0a1b2c3d"),
        "still bound"
    );
    let audit = app.say(ADMIN, "/audit 25").await;
    let lines: Vec<&str> = audit.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(lines.len(), 25, "{audit}");
    for line in &lines[..24] {
        assert!(line.ends_with(": dry run (nothing changed)"), "{line}");
    }
    assert!(lines[24].contains("`/bind chat0a1b2c3d`: done"), "{audit}");
    assert!(audit.contains("`/unbind 预览`: dry run"), "{audit}");
}

#[tokio::test]
async fn every_change_is_in_the_audit_trail_under_its_canonical_name() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    app.say(ADMIN, "/全员禁言").await;
    app.say(ADMIN, "/改群名 新名字").await;
    app.say(MEMBER, "/mute-all").await;
    let audit = app.say(ADMIN, "/audit").await;
    for want in [
        "`/mute-all`: done",
        "`/rename 新名字`: done",
        &format!("({MEMBER}) `/mute-all`: refused"),
    ] {
        assert!(audit.contains(want), "{want} missing from {audit}");
    }
}

#[tokio::test]
async fn a_mistyped_chinese_name_suggests_the_chinese_alias() {
    let app = spawn_app().await;
    let text = app.say(ADMIN, "/禁言").await;
    assert!(text.contains("Did you mean `/全员禁言`?"), "{text}");
    let text = app.say(ADMIN, "/help").await;
    for name in [
        "/mute-all",
        "/transfer-owner",
        "/invite-link",
        "/confirm",
        "/全员禁言",
    ] {
        assert!(text.contains(name), "{name} missing from /help: {text}");
    }
}
