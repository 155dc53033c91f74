//! `qunguan policy check|apply FILE`, run as the real binary against the fake DingTalk
//! holding many groups.

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::Duration,
};

use qunguan::{
    config::Database,
    ids::OpenConversationId,
    store::{PostgresStore, Replay, SqliteStore, Store},
};
use serde_json::json;

use crate::{fake::FakeDingTalk, helpers::*, process::binary};

const GROUPS: usize = 200;

pub fn chat(i: usize) -> String {
    format!("chatFLEET{i:03}")
}

fn cid(i: usize) -> String {
    format!("cidFLEET{i:03}==")
}

/// A fake holding 200 groups; every tenth is muted and every seventh searchable off
/// (the simulator's groups start unmuted and searchable).
pub async fn fleet() -> FakeDingTalk {
    let fake = FakeDingTalk::start().await;
    for i in 0..GROUPS {
        fake.add_group(&chat(i), &cid(i), OWNER, &[OWNER, MEMBER]);
        if i % 10 == 0 {
            fake.set_group_field(&chat(i), "chatBannedType", json!(1));
        }
        if i % 7 == 0 {
            fake.set_group_field(&chat(i), "searchable", json!(0));
        }
    }
    fake
}

/// `qunguan policy VERB FILE` with the settings of `serve` pointed at `fake`.
async fn policy(fake: &FakeDingTalk, dir: &Path, verb: &str, file: &Path) -> Output {
    let database = format!("sqlite://{}", dir.join("qunguan.db").display());
    policy_on(fake, dir, verb, file, &database).await
}

/// [`policy`] on the database `database`.
pub async fn policy_on(
    fake: &FakeDingTalk,
    dir: &Path,
    verb: &str,
    file: &Path,
    database: &str,
) -> Output {
    let settings = [
        ("QUNGUAN_DATABASE_URL", database),
        ("QUNGUAN_RATE_LIMIT_PER_SEC", "2000"),
    ];
    let (mut command, _) = binary(
        Command::new(env!("CARGO_BIN_EXE_qunguan")),
        fake,
        dir,
        &settings,
    );
    command
        .args(["policy", verb])
        .arg(file)
        .stdout(Stdio::piped());
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails unless `run` exited with `code`, showing what it printed.
pub fn assert_exit(run: &Output, code: i32) {
    assert_eq!(run.status.code(), Some(code), "{}{}", out(run), err(run));
}

pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn fleet_file(dir: &Path, extra_group: Option<&str>) -> std::path::PathBuf {
    let mut groups: Vec<String> = (0..GROUPS).map(|i| format!("\"{}\"", chat(i))).collect();
    if let Some(extra) = extra_group {
        groups.push(format!("\"{extra}\""));
    }
    let text = format!(
        "# every group of the fleet\n[[policy]]\ngroups = [{}]\nmute-all = false\nsearchable = false\nfriending = \"locked\"\n",
        groups.join(", ")
    );
    write(dir, "fleet.toml", &text)
}

fn changing_calls(fake: &FakeDingTalk) -> (usize, usize) {
    (
        fake.count("/v1.0/im/group/update"),
        fake.count("/topapi/chat/member/friendswitch/update"),
    )
}

#[tokio::test]
async fn check_shows_the_drift_and_apply_changes_only_it_over_200_groups_with_one_failing() {
    let fake = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let file = fleet_file(dir.path(), Some("chatGONE"));
    let muted = (0..GROUPS).filter(|i| i % 10 == 0).count();
    let drifted: Vec<usize> = (0..GROUPS).filter(|i| i % 10 == 0 || i % 7 != 0).collect();
    let unsearchable_only = (0..GROUPS).filter(|i| i % 7 == 0 && i % 10 != 0).count();
    assert_eq!(drifted.len(), GROUPS - unsearchable_only);

    let check = policy(&fake, dir.path(), "check", &file).await;
    assert_eq!(check.status.code(), Some(1), "{}", err(&check));
    let table = out(&check);
    let header = table.lines().next().unwrap();
    for column in ["GROUP", "SETTING", "NOW", "WANTED", "LINE"] {
        assert!(header.contains(column), "{header}");
    }
    let row = |c: &str, setting: &str, now: &str, want: &str, line: usize| {
        table.lines().any(|l| {
            l.split_whitespace().collect::<Vec<_>>() == [c, setting, now, want, &line.to_string()]
        })
    };
    assert!(row(&chat(0), "mute-all", "true", "false", 4), "{table}");
    assert!(row(&chat(1), "searchable", "true", "false", 5), "{table}");
    assert!(
        !table.contains(&format!("{} ", chat(7))),
        "as the file says: {table}"
    );
    let rows = table.lines().filter(|l| l.starts_with("chatFLEET")).count();
    assert_eq!(
        rows,
        muted + (0..GROUPS).filter(|i| i % 7 != 0).count(),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "{} of {} group(s) differ",
            drifted.len(),
            GROUPS + 1
        )),
        "{table}"
    );
    assert!(
        table.contains("1 group(s) failed:\n  chatGONE: "),
        "{table}"
    );
    assert_eq!(changing_calls(&fake), (0, 0), "check changes nothing");
    assert!(
        err(&check).contains(&format!("[{}/{}] ", GROUPS + 1, GROUPS + 1)),
        "progress lines"
    );

    let apply = policy(&fake, dir.path(), "apply", &file).await;
    assert_eq!(
        apply.status.code(),
        Some(1),
        "a group failed: {}",
        err(&apply)
    );
    let said = out(&apply);
    assert!(said.contains("1 group(s) failed:\n  chatGONE: "), "{said}");
    assert_eq!(
        changing_calls(&fake),
        (drifted.len(), GROUPS),
        "one group/update per drifted group; friending set everywhere it can be"
    );
    for i in 0..GROUPS {
        let info = fake.group(&chat(i)).info;
        assert_eq!(info["chatBannedType"], 0, "{i}");
        assert_eq!(info["searchable"], 0, "{i}");
        assert_eq!(
            info["validationType"], 0,
            "{i}: not in the file, not changed"
        );
        assert_eq!(
            info["showHistoryType"], 1,
            "{i}: not in the file, not changed"
        );
        assert_eq!(fake.group(&chat(i)).friending_locked, Some(true), "{i}");
    }

    // Every change is audited with the file as its source.
    let file = Database::SqliteFile(dir.path().join("qunguan.db"));
    let store = SqliteStore::open(&file, Replay::default()).unwrap();
    let audit = store
        .recent_audit(&OpenConversationId::parse(&cid(10)).unwrap(), 10)
        .await
        .unwrap();
    let mut entries: Vec<(String, String, String)> = audit
        .iter()
        .map(|r| (r.command.clone(), r.args.clone(), r.outcome.clone()))
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            ("lock-friending".into(), String::new(), "done".into()),
            ("set".into(), "searchable off".into(), "done".into()),
            ("unmute-all".into(), String::new(), "done".into()),
        ]
    );
    assert!(
        audit
            .iter()
            .all(|r| r.source.as_deref() == Some("policy fleet.toml"))
    );

    // Without the group that does not exist, nothing differs any more.
    let file = fleet_file(dir.path(), None);
    let check = policy(&fake, dir.path(), "check", &file).await;
    assert_exit(&check, 0);
    assert!(
        out(&check).contains("200 group(s) checked: nothing differs"),
        "{}",
        out(&check)
    );
    let apply = policy(&fake, dir.path(), "apply", &file).await;
    assert_eq!(apply.status.code(), Some(0), "{}", err(&apply));
    assert_eq!(
        changing_calls(&fake),
        (drifted.len(), 2 * GROUPS),
        "no group/update when nothing differs; friending is always set"
    );
}

#[tokio::test]
async fn a_bad_file_exits_2_naming_every_problem_by_line_before_any_call() {
    let fake = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.toml",
        r#"[[policy]]
groups = ["chatFLEET000", "cidNOTACHAT=="]
mute-all = "no"
colour = "red"

[[policy]]
history = true
"#,
    );
    let run = policy(&fake, dir.path(), "check", &file).await;
    assert_eq!(run.status.code(), Some(2));
    let text = err(&run);
    let path = file.display().to_string();
    for want in [
        format!("{path}:2: `cidNOTACHAT==` is not a chatid"),
        format!("{path}:3: `mute-all` takes true or false"),
        format!("{path}:4: unknown key `colour`"),
        format!("{path}:6: this [[policy]] has no `groups`"),
    ] {
        assert!(text.contains(&want), "{want}\n{text}");
    }
    assert!(fake.requests().is_empty(), "nothing was asked of DingTalk");

    let clash = write(
        dir.path(),
        "clash.toml",
        "[[policy]]\ngroups = [\"chatFLEET001\"]\nmention-all = \"owner\"\n\n[[policy]]\ngroups = [\"chatFLEET001\"]\nmention-all = \"everyone\"\n",
    );
    let run = policy(&fake, dir.path(), "apply", &clash).await;
    assert_eq!(run.status.code(), Some(2));
    assert!(
        err(&run)
            .contains(":7: `mention-all` of chatFLEET001 is everyone here but owner on line 3"),
        "{}",
        err(&run)
    );
    let missing = policy(&fake, dir.path(), "check", &dir.path().join("nope.toml")).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        err(&missing).contains("nope.toml: cannot read the policy file"),
        "{}",
        err(&missing)
    );
    assert_eq!(changing_calls(&fake), (0, 0));
}

#[tokio::test]
async fn all_means_every_bound_group() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let file = write(
        app.dir.path(),
        "all.toml",
        "[[policy]]\ngroups = \"all\"\nhistory = false\n",
    );
    let check = policy(&app.fake, app.dir.path(), "check", &file).await;
    assert_eq!(check.status.code(), Some(1), "{}", err(&check));
    let table = out(&check);
    assert!(table.contains(CHAT), "{table}");
    assert!(table.contains("1 of 1 group(s) differ"), "{table}");
    assert!(!table.contains("friending"), "not in this file: {table}");
    let apply = policy(&app.fake, app.dir.path(), "apply", &file).await;
    assert_eq!(apply.status.code(), Some(0), "{}", err(&apply));
    assert_eq!(app.fake.group(CHAT).info["showHistoryType"], 0);
    let text = app.say(ADMIN, "/audit 1").await;
    assert!(
        text.contains("policy (from policy all.toml) `/set history off`: done"),
        "{text}"
    );
}

#[tokio::test]
async fn apply_on_postgresql_waits_for_a_group_a_replica_is_changing() {
    let fake = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let database = crate::postgres::fresh_database().await;
    let file = fleet_file(dir.path(), None);
    // A replica is changing group 3 (it holds the group's lease).
    let replica = PostgresStore::open(
        &crate::store_contract::postgres_url(&database),
        Replay::default(),
    )
    .await
    .unwrap();
    let three = OpenConversationId::parse(&cid(3)).unwrap();
    let now = qunguan::clock::now_ms();
    assert!(
        replica
            .lease_group(&three, "a-replica", now, now + 60_000)
            .await
            .unwrap()
    );
    let drifted = (0..GROUPS).filter(|i| i % 10 == 0 || i % 7 != 0).count();
    let (apply, ()) = tokio::join!(
        policy_on(&fake, dir.path(), "apply", &file, &database),
        async {
            fake.wait_until("every other group changed", Duration::from_secs(30), |rs| {
                rs.iter()
                    .filter(|r| r.path == "/v1.0/im/group/update")
                    .count()
                    >= drifted - 1
            })
            .await;
            assert_eq!(
                fake.group(&chat(3)).info["searchable"],
                1,
                "group 3 waits for the replica's change"
            );
            replica.end_group_lease(&three, "a-replica").await.unwrap();
        }
    );
    assert_exit(&apply, 0);
    for i in 0..GROUPS {
        assert_eq!(fake.group(&chat(i)).info["searchable"], 0, "{i}");
    }
}

#[tokio::test]
async fn apply_retries_a_transient_error_from_dingtalk() {
    let fake = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "two.toml",
        &format!(
            "[[policy]]\ngroups = [\"{}\", \"{}\"]\nsearchable = false\n",
            chat(1),
            chat(2)
        ),
    );
    // DingTalk is busy once: the read is retried and both groups change.
    fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": -1, "errmsg": "系统繁忙"}),
        Duration::ZERO,
    );
    let apply = policy(&fake, dir.path(), "apply", &file).await;
    assert_exit(&apply, 0);
    assert_eq!(fake.group(&chat(1)).info["searchable"], 0);
    assert_eq!(fake.group(&chat(2)).info["searchable"], 0);
    assert_eq!(fake.count("/chat/get"), 3, "two reads and one retry");
}
