//! `/schedule <when> <command…>`, `/schedule list`, `/schedule remove <id>`: changing
//! commands that run later, as their creator, from the store (so on whichever replica
//! claims them). The command is checked now, with its own parser, so a wrong one is
//! refused at creation and not at 22:00. The runs themselves are [`crate::scheduler`]'s.

pub mod rule;

use self::rule::{Rule, RuleError, format_local};
use super::{
    Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    answer::not_bound, lookup, permission::AdminReason, refusals::usage_reason,
};
use crate::{
    clock::now_ms,
    i18n::{Lang, ScheduleTexts, fill, md, text},
    ids::StaffId,
    store::{NewSchedule, Schedule},
};

/// The most schedules one group may have.
pub const MAX_PER_GROUP: usize = 50;

/// Commands that cannot be scheduled: they need a person at the keyboard (a
/// confirmation code) or would nest.
const NOT_SCHEDULABLE: [&str; 4] = ["kick", "transfer-owner", "confirm", "schedule"];

pub static SPEC: Spec = Spec {
    name: "schedule",
    alias: "定时",
    args: "<when> <command…> | list | remove <id>",
    summary: [
        "定时执行命令：daily/weekdays/weekends HH:MM 或 once YYYY-MM-DD HH:MM",
        "Run a command later: daily/weekdays/weekends HH:MM, or once YYYY-MM-DD HH:MM",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse,
};

enum ScheduleCommand {
    Create {
        rule: Rule,
        /// The command scheduled, and its line as stored.
        spec: &'static Spec,
        command: String,
        /// Whether its run needs the group's chatid.
        needs_chat: bool,
    },
    List,
    Remove {
        id: i64,
    },
}

fn parse(args: &Args<'_>) -> Result<Command, UsageError> {
    let command = what(args)?;
    let audited = match &command {
        ScheduleCommand::Create { rule, command, .. } => {
            Some(format!("{} {command}", rule.canonical()))
        }
        _ => None,
    };
    let command = Command::new(command, |ctx, command| Box::pin(run(ctx, command)));
    Ok(match audited {
        Some(args) => command.audited_as(SPEC.name, args),
        None => command,
    })
}

/// What the words ask for: a new schedule, the list, or a removal.
fn what(args: &Args<'_>) -> Result<ScheduleCommand, UsageError> {
    let st = args.lang.schedule_texts();
    let Some(first) = args.words.first() else {
        return Err(UsageError::Missing("<when>"));
    };
    let extra = |rest: &[String]| match rest.first() {
        Some(extra) => Err(UsageError::Extra(extra.clone())),
        None => Ok(()),
    };
    match crate::message::fold(first).to_lowercase().as_str() {
        "list" | "列表" => {
            extra(&args.words[1..])?;
            return Ok(ScheduleCommand::List);
        }
        "remove" | "删除" => {
            let Some(raw) = args.words.get(1) else {
                return Err(UsageError::Missing("<id>"));
            };
            extra(&args.words[2..])?;
            let id = crate::message::fold(raw)
                .trim_start_matches('#')
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| UsageError::Invalid {
                    arg: "<id>",
                    value: raw.clone(),
                    why: st.bad_id.to_owned(),
                })?;
            return Ok(ScheduleCommand::Remove { id });
        }
        _ => {}
    }
    let (rule, rest) = Rule::parse(args.words).map_err(|e| rule_error(e, st))?;
    if !args.mentions.is_empty() {
        return Err(UsageError::Invalid {
            arg: "<command…>",
            value: "@".to_owned(),
            why: st.no_mentions.to_owned(),
        });
    }
    let (spec, command, needs_chat) = checked_command(rest, args.lang)?;
    Ok(ScheduleCommand::Create {
        rule,
        spec,
        command,
        needs_chat,
    })
}

fn rule_error(e: RuleError, st: &ScheduleTexts) -> UsageError {
    match e {
        RuleError::Kind(value) => UsageError::Invalid {
            arg: "<when>",
            value,
            why: st.rule_kind.to_owned(),
        },
        RuleError::MissingTime => UsageError::Missing("HH:MM"),
        RuleError::BadTime(value) => UsageError::Invalid {
            arg: "HH:MM",
            value,
            why: st.rule_time.to_owned(),
        },
        RuleError::BadDate(value) => UsageError::Invalid {
            arg: "YYYY-MM-DD",
            value,
            why: st.rule_date.to_owned(),
        },
    }
}

/// The command after the rule, parsed by its own parser now; returns its spec, the line to
/// store (`/set history on`, with the canonical name and the arguments quoted so that the
/// run reads back the same words: [`crate::message::quoted_line`]) and whether its run
/// needs the group's chatid.
fn checked_command(
    words: &[String],
    lang: Lang,
) -> Result<(&'static Spec, String, bool), UsageError> {
    let st = lang.schedule_texts();
    let Some((name, inner)) = words.split_first() else {
        return Err(UsageError::Invalid {
            arg: "<command…>",
            value: String::new(),
            why: st.no_command.to_owned(),
        });
    };
    let invalid = |why: String| UsageError::Invalid {
        arg: "<command…>",
        value: name.clone(),
        why,
    };
    let folded = crate::message::fold(name).to_lowercase();
    let Some(spec) = folded.strip_prefix('/').and_then(lookup) else {
        return Err(invalid(st.not_a_command.to_owned()));
    };
    if !spec.audited || NOT_SCHEDULABLE.contains(&spec.name) {
        return Err(invalid(st.not_schedulable.to_owned()));
    }
    let args = Args {
        words: inner,
        lang,
        mentions: &[],
    };
    let (problem, needs_chat) = match (spec.parse)(&args) {
        Ok(command) => (
            command.deferred_usage().map(str::to_owned),
            command.needs_chat(),
        ),
        Err(e) => (Some(usage_reason(&e, lang.texts())), false),
    };
    if let Some(problem) = problem {
        let why = fill(st.inner_usage, &[md(&problem), md(&spec.usage())]);
        return Err(invalid(why));
    }
    // Quoted so that the run reads back exactly the words checked here.
    let line = if inner.is_empty() {
        format!("/{}", spec.name)
    } else {
        format!("/{} {}", spec.name, crate::message::quoted_line(inner))
    };
    Ok((spec, line, needs_chat))
}

async fn run(ctx: &Context<'_>, command: ScheduleCommand) -> Result<Answer, CommandError> {
    let st = ctx.config.lang.schedule_texts();
    match command {
        ScheduleCommand::List => list(ctx, st).await,
        ScheduleCommand::Remove { id } => remove(ctx, st, id).await,
        ScheduleCommand::Create {
            rule,
            spec,
            command,
            needs_chat,
        } => create(ctx, st, rule, (spec, needs_chat), command).await,
    }
}

async fn create(
    ctx: &Context<'_>,
    st: &ScheduleTexts,
    rule: Rule,
    scheduled: (&'static Spec, bool),
    command: String,
) -> Result<Answer, CommandError> {
    let zone = &ctx.config.timezone;
    let zone_name = zone.iana_name().unwrap_or("UTC");
    let now = now_ms();
    if rule.too_far_ahead(now, zone) {
        let years = rule::MAX_YEARS_AHEAD.to_string();
        let text = fill(st.too_far, &[text(&rule.canonical()), text(&years)]);
        return Ok(Answer::refused(text));
    }
    let Some(next) = rule.next_after(now, zone) else {
        let text = fill(
            st.passed,
            &[text(&rule.canonical()), text(&format_local(now, zone))],
        );
        return Ok(Answer::refused(text));
    };
    let creator = match creator(ctx, st, scheduled).await? {
        Ok(creator) => creator,
        Err(refusal) => return Ok(refusal),
    };
    let group = &ctx.msg.conversation;
    let when = format_local(next, zone);
    let canonical = rule.canonical();
    if ctx.dry_run {
        let args = [
            text(&canonical),
            text(&command),
            text(&when),
            text(zone_name),
        ];
        return Ok(Answer::previewed(fill(st.preview, &args)));
    }
    let new = NewSchedule {
        group: group.clone(),
        creator,
        creator_nick: ctx.msg.sender.nick.clone(),
        rule: rule.canonical(),
        command: command.clone(),
        created_at_ms: now,
        next_run_ms: next,
    };
    // Counted again as it is saved: another admin (or replica) may have just added one.
    let Some(id) = ctx.store.add_schedule(&new, MAX_PER_GROUP).await? else {
        return Ok(too_many(st, MAX_PER_GROUP));
    };
    tracing::info!(schedule = id, cid = %group, rule = %rule.canonical(), command = ?command, next_run_ms = next, "schedule created");
    let id_text = id.to_string();
    let args = [
        text(&id_text),
        text(&canonical),
        text(&command),
        text(&when),
        text(zone_name),
    ];
    Ok(Answer::done(fill(st.created, &args)))
}

/// Who the schedule runs as, or why it cannot be made here, by this sender, of the command
/// `spec` (whose run `needs_chat` or not).
async fn creator(
    ctx: &Context<'_>,
    st: &ScheduleTexts,
    (spec, needs_chat): (&Spec, bool),
) -> Result<Result<StaffId, Answer>, CommandError> {
    // A command that needs the chatid would be refused at its time: say so now.
    if needs_chat && ctx.binding.is_none() {
        let cid = ctx.msg.conversation.as_str();
        return Ok(Err(not_bound(ctx.texts, &spec.usage(), cid)));
    }
    // Only what can be checked again at run time makes a creator an admin here.
    let admin = ctx.admin()?;
    if admin.reason == AdminReason::OrgAdmin {
        return Ok(Err(Answer::refused(st.org_admin_only)));
    }
    let existing = ctx.store.schedules(&ctx.msg.conversation).await?.len();
    if existing >= MAX_PER_GROUP {
        return Ok(Err(too_many(st, existing)));
    }
    Ok(Ok(admin.staff_id.clone()))
}

/// The refusal of a group that has `count` schedules, as many as it may.
fn too_many(st: &ScheduleTexts, count: usize) -> Answer {
    Answer::refused(fill(st.too_many, &[text(&count.to_string())]))
}

async fn list(ctx: &Context<'_>, st: &ScheduleTexts) -> Result<Answer, CommandError> {
    let schedules = ctx.store.schedules(&ctx.msg.conversation).await?;
    if schedules.is_empty() {
        return Ok(Answer::unchanged(ctx.dry_run, st.list_empty));
    }
    let zone = &ctx.config.timezone;
    let mut out = fill(st.list_head, &[text(zone.iana_name().unwrap_or("UTC"))]);
    for s in &schedules {
        out.push('\n');
        out.push_str(&row(s, st, zone));
    }
    Ok(Answer::unchanged(ctx.dry_run, out))
}

fn row(s: &Schedule, st: &ScheduleTexts, zone: &jiff::tz::TimeZone) -> String {
    let next = s
        .next_run_ms
        .map_or_else(|| st.list_finished.to_owned(), |ms| format_local(ms, zone));
    let last = match (s.last_run_ms, &s.last_outcome) {
        (Some(at), Some(outcome)) => fill(
            st.list_last,
            &[text(&format_local(at, zone)), text(outcome)],
        ),
        _ => String::new(),
    };
    let who = format!("{} ({})", s.creator_nick, s.creator.as_str());
    fill(
        st.list_row,
        &[
            text(&s.id.to_string()),
            text(&s.rule),
            text(&s.command),
            text(&who),
            text(&next),
            md(&last),
        ],
    )
}

async fn remove(ctx: &Context<'_>, st: &ScheduleTexts, id: i64) -> Result<Answer, CommandError> {
    let group = &ctx.msg.conversation;
    let schedules = ctx.store.schedules(group).await?;
    let Some(found) = schedules.iter().find(|s| s.id == id) else {
        return Ok(Answer::refused(fill(st.no_such, &[text(&id.to_string())])));
    };
    let id_text = id.to_string();
    let args = [text(&id_text), text(&found.rule), text(&found.command)];
    if ctx.dry_run {
        return Ok(Answer::previewed(fill(st.remove_preview, &args)));
    }
    if !ctx.store.remove_schedule(group, id).await? {
        return Ok(Answer::refused(fill(st.no_such, &[text(&id.to_string())])));
    }
    tracing::info!(schedule = id, cid = %group, "schedule removed");
    Ok(Answer::done(fill(st.removed, &args)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Result<String, UsageError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        let (_, rest) = Rule::parse(&words).unwrap();
        checked_command(rest, Lang::En).map(|(_, line, _)| line)
    }

    #[test]
    fn the_command_is_checked_by_its_own_parser_when_the_schedule_is_made() {
        assert_eq!(parsed("daily 22:00 /mute-all").unwrap(), "/mute-all");
        assert_eq!(parsed("daily 22:00 /全员禁言").unwrap(), "/mute-all");
        assert_eq!(
            parsed("daily 22:00 /SET history on").unwrap(),
            "/set history on"
        );
        let why = |r: Result<String, UsageError>| match r.unwrap_err() {
            UsageError::Invalid { why, .. } => why,
            other => panic!("{other:?}"),
        };
        assert!(why(parsed("daily 22:00 /set history maybe")).contains("usage: `/set"));
        assert!(why(parsed("daily 22:00 /mute-all now")).contains("unexpected extra argument"));
        assert!(why(parsed("daily 22:00 /nosuch")).contains("no such command"));
        for refused in [
            "/kick u1",
            "/transfer-owner u1",
            "/confirm 123456",
            "/schedule list",
            "/info",
            "/help",
        ] {
            assert!(
                why(parsed(&format!("daily 22:00 {refused}"))).contains("only changing commands"),
                "{refused}"
            );
        }
        assert!(why(parsed("daily 22:00")).contains("followed by a command"));
    }
}
