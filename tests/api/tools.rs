//! The `demo`, `send` and `healthcheck` subcommands, run as the real binary.

use std::process::{Command, Output};

use crate::helpers::*;

/// Runs `qunguan args…` off the async threads, with no `.env` or DingTalk settings
/// inherited, and returns its output.
async fn qunguan(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_qunguan"));
    command
        .args(args)
        .current_dir(dir.path())
        .env_remove("DINGTALK_APP_SECRET")
        .env_remove("QUNGUAN_LANG")
        .env_remove("QUNGUAN_LISTEN")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs");
    drop(dir);
    output
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn script(lines: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, lines.as_bytes()).unwrap();
    file
}

#[tokio::test]
async fn the_tour_script_runs_clean_and_changes_show_in_the_simulator() {
    let tour = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tour.txt");
    let out = qunguan(&["demo", "--script", tour, "--lang", "en"], &[]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains(", 0 failed."), "{text}");
    // The lock reached the simulator, and the reply @-mentions the sender by name.
    assert!(
        text.contains("Members can no longer add each other as friends"),
        "{text}"
    );
    assert!(text.contains("friending locked"), "{text}");
    assert!(text.contains("@张伟"), "{text}");
    // The contact change is in the simulator: the later /contact reads it back.
    let after = text.rsplit("› /contact ext001").next().unwrap();
    assert!(after.contains("Title: 采购总监"), "{after}");
    assert!(
        after.contains("Labels: 重点客户 (101), 展会 (201)"),
        "{after}"
    );
    // A mute, a rename and a kick with its confirmation, each in the simulator.
    assert!(
        text.contains("Changed Everyone muted (全员禁言): off → on."),
        "{text}"
    );
    assert!(
        text.contains("The group is now called 群管演示群（已改名）"),
        "{text}"
    );
    let confirm = text.split("› /confirm ").nth(1).expect("the tour confirms");
    assert!(
        confirm.starts_with(|c: char| c.is_ascii_digit()),
        "{confirm}"
    );
    assert!(
        confirm.contains("Removed 李娜 (member02) from the group."),
        "{confirm}"
    );
    assert!(
        confirm.contains(r#"members ["owner01","itadmin03"] · muted 0"#),
        "{confirm}"
    );
    // A schedule ran when the demo's clock reached it, announced in the group.
    let at = text
        .split("› :at 22:00")
        .nth(1)
        .expect("the tour moves the clock");
    assert!(
        at.contains("Ran /mute-all as scheduled (#1, set by 张伟)"),
        "{at}"
    );
    // A policy over the sample group and 200 more: drift, applied, then none.
    let checks: Vec<&str> = text.split("› :policy ").skip(1).collect();
    assert_eq!(checks.len(), 3, "{text}");
    assert!(
        checks[0].contains("of 201 group(s) differ from the file"),
        "{}",
        checks[0]
    );
    assert!(
        checks[1].contains("in 178 of 201 group(s)."),
        "{}",
        checks[1]
    );
    assert!(
        checks[2].contains("201 group(s) checked: nothing differs"),
        "{}",
        checks[2]
    );
    assert!(!text.contains('`'), "markdown left unrendered: {text}");
}

#[tokio::test]
async fn a_refused_command_in_a_script_fails_the_run() {
    let file = script("/info\n:as member02\n/lock-friending\n/whoami\n");
    let out = qunguan(&["demo", "--script", file.path().to_str().unwrap()], &[]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("script line 3 failed"), "{text}");
    assert!(text.contains("4 lines, 1 failed."), "{text}");
    assert!(
        text.contains("群管：没有执行"),
        "Chinese by default: {text}"
    );
}

#[tokio::test]
async fn a_mistyped_prompt_command_fails_a_script_and_a_missing_script_is_named() {
    let file = script(":ass owner01\n");
    let out = qunguan(&["demo", "--script", file.path().to_str().unwrap()], &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("`:ass owner01` is not a prompt command"));

    let out = qunguan(&["demo", "--script", "no/such/script.txt"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read the script no/such/script.txt"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn the_prompt_reads_stdin_until_it_ends() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qunguan"));
    command
        .args(["demo", "--lang", "en"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let out = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, b":as member02\n/whoami\n:help\n").unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("李娜 (member02) › /whoami"), "{text}");
    assert!(
        text.contains("Your staff id: member02"),
        "the reply: {text}"
    );
    assert!(text.contains(":as <staffId>"), "{text}");
}

#[tokio::test]
async fn send_with_the_right_secret_is_accepted_and_answered() {
    let app = spawn_app().await;
    let session = "send-check";
    let webhook = app.fake.webhook_url(session);
    let url = app.url("/callback");
    let out = qunguan(
        &[
            "send",
            "--url",
            &url,
            "--conversation-id",
            CID,
            "--sender",
            OWNER,
            "--webhook",
            &webhook,
            "/whoami",
        ],
        &[("DINGTALK_APP_SECRET", SECRET)],
    )
    .await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("HTTP 200: accepted"), "{text}");
    // qunguan verified it, ran it, and answered the sender.
    let reply = reply_text(&app.fake.webhook_reply(session).await);
    assert!(reply.contains(OWNER), "{reply}");

    // --admin sets the callback's isAdmin flag, which qunguan trusts by default.
    let session = "send-admin-check";
    let webhook = app.fake.webhook_url(session);
    let out = qunguan(
        &[
            "send",
            "--url",
            &url,
            "--conversation-id",
            CID,
            "--sender",
            MEMBER,
            "--admin",
            "--webhook",
            &webhook,
            "/whoami",
        ],
        &[("DINGTALK_APP_SECRET", SECRET)],
    )
    .await;
    assert!(out.status.success(), "{}", stdout(&out));
    let reply = reply_text(&app.fake.webhook_reply(session).await);
    assert!(reply.contains("are an org admin (isAdmin)"), "{reply}");
}

#[tokio::test]
async fn send_with_a_wrong_secret_says_401_and_blames_the_secret_not_the_clock() {
    let app = spawn_app().await;
    let url = app.url("/callback");
    let out = qunguan(&["send", "--url", &url, "--secret", "not-the-secret"], &[]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(text.contains("DINGTALK_APP_SECRET"), "{text}");
    assert!(text.contains("secret is the likely cause"), "{text}");
    app.settle().await;
    assert_eq!(
        app.fake.requests().len(),
        0,
        "a forged callback reached DingTalk"
    );
}

#[tokio::test]
async fn send_without_a_secret_or_a_server_explains_itself() {
    let out = qunguan(&["send", "--url", "http://127.0.0.1:9/callback"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no app secret"), "{}", stderr(&out));

    let out = qunguan(
        &[
            "send",
            "--url",
            "http://127.0.0.1:9/callback",
            "--secret",
            "s",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no answer from"), "{}", stderr(&out));
}

#[tokio::test]
async fn healthcheck_passes_on_a_running_server_and_fails_without_one() {
    let app = spawn_app().await;
    let listen = app.server.addr.to_string();
    let out = qunguan(&["healthcheck"], &[("QUNGUAN_LISTEN", &listen)]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("200 OK ok"), "{}", stdout(&out));

    let out = qunguan(&["healthcheck", "--url", "http://127.0.0.1:9/healthz"], &[]).await;
    assert_eq!(out.status.code(), Some(1));

    let out = qunguan(&["healthcheck"], &[("QUNGUAN_LISTEN", "nowhere")]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("QUNGUAN_LISTEN"), "{}", stderr(&out));
}

#[tokio::test]
async fn the_tour_runs_over_stream_too() {
    let tour = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tour.txt");
    let out = qunguan(
        &["demo", "--script", tour, "--lang", "en", "--mode", "stream"],
        &[],
    )
    .await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("connected to the simulated Stream gateway"),
        "{text}"
    );
    assert!(text.contains(", 0 failed."), "{text}");
    assert!(
        text.contains("Removed 李娜 (member02) from the group."),
        "{text}"
    );
}

#[tokio::test]
async fn in_the_demo_a_mention_names_the_member_and_the_client_greets_newcomers() {
    let script = script(
        ":as owner01\n/kick @李娜 --dry-run\n/welcome Hello {name}!\n:add member09 新同事\n:rename 新名字\n/audit 2\n",
    );
    let path = script.path().to_str().unwrap().to_owned();
    let out = qunguan(&["demo", "--script", &path, "--lang", "en"], &[]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("Preview: 李娜 (member02) would be removed from the group"),
        "the @mention is the member: {text}"
    );
    assert!(text.contains("Hello 新同事!"), "the welcome: {text}");
    assert!(
        text.contains("in DingTalk: renamed the group to 新名字"),
        "{text}"
    );
}

#[tokio::test]
async fn the_demo_over_stream_hears_the_clients_events_too() {
    let script = script(":as owner01\n/welcome 欢迎 {name}\n:add member09 新同事\n");
    let path = script.path().to_str().unwrap().to_owned();
    let out = qunguan(
        &[
            "demo", "--script", &path, "--lang", "en", "--mode", "stream",
        ],
        &[],
    )
    .await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("欢迎 新同事"), "{text}");
}
