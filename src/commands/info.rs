//! `/info`: the group as chat/get describes it, every setting in words.

use super::{
    Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, context::person, no_args,
};
use crate::{
    dingtalk::ChatInfo,
    group::{Words, in_words},
    i18n::{Texts, fill, text},
    ids::{ChatId, OpenConversationId, StaffId},
    markdown,
};

pub static SPEC: Spec = Spec {
    name: "info",
    alias: "群信息",
    args: "",
    summary: [
        "显示本群的信息和设置",
        "Show this group's details and settings",
    ],
    access: Access::Anyone,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: false,
    parse: |args| {
        no_args(args)?;
        Ok(Command::in_group((), |ctx, chat, ()| {
            Box::pin(run(ctx, chat))
        }))
    },
};

async fn run(ctx: &Context<'_>, chat: &ChatId) -> Result<Answer, CommandError> {
    let info = ctx.dingtalk.chat_info(chat).await?;
    let owner = match info.owner.as_deref().map(StaffId::parse) {
        Some(Ok(owner)) => ctx.dingtalk.name_of(&owner, ctx.config.lang).await,
        _ => None,
    };
    let group = Group {
        cid: &ctx.msg.conversation,
        chat,
        owner_name: owner.as_deref(),
    };
    Ok(Answer::done(render(&info, &group, ctx.texts)))
}

/// The group `/info` describes, besides what chat/get says.
#[derive(Clone, Copy)]
struct Group<'a> {
    cid: &'a OpenConversationId,
    chat: &'a ChatId,
    /// The owner's name, where DingTalk gives it.
    owner_name: Option<&'a str>,
}

fn render(info: &ChatInfo, group: &Group<'_>, t: &Texts) -> String {
    let Group {
        cid,
        chat,
        owner_name,
    } = *group;
    let status = match info.status {
        None => t.info_missing.to_owned(),
        Some(1) => t.info_status_normal.to_owned(),
        Some(2) => t.info_status_dissolved.to_owned(),
        Some(n) => fill(t.info_unknown_value, &[text(&n.to_string())]),
    };
    let members = info
        .useridlist
        .as_ref()
        .map_or(t.info_missing.to_owned(), |l| l.len().to_string());
    let rows = [
        (t.info_owner, owner(info, owner_name, t)),
        (t.info_members, members),
        (t.info_status, status),
        (
            t.info_banned,
            in_words(info.chat_banned_type, Words::OnOff, t),
        ),
        (
            t.info_searchable,
            in_words(info.searchable, Words::YesNo, t),
        ),
        (
            t.info_validation,
            in_words(info.validation_type, Words::OnOff, t),
        ),
        (
            t.info_mention_all,
            in_words(info.mention_all_authority, Words::EveryoneOwner, t),
        ),
        (
            t.info_management,
            in_words(info.management_type, Words::EveryoneOwner, t),
        ),
        (
            t.info_history,
            in_words(info.show_history_type, Words::YesNo, t),
        ),
        ("openConversationId", markdown::code(cid.as_str(), 256)),
        ("chatid", markdown::code(chat.as_str(), 256)),
    ];
    let name = info.name.as_deref().filter(|n| !n.is_empty()).map_or_else(
        || t.info_unnamed.to_owned(),
        |n| markdown::inert(n, markdown::DATA_LIMIT),
    );
    let mut text = format!("**{name}**\n\n");
    for (label, value) in rows {
        text.push_str(&format!("- {label}: {value}\n"));
    }
    text
}

/// The owner as "name (staff id)", or the staff id alone when DingTalk gave no name.
fn owner(info: &ChatInfo, name: Option<&str>, t: &Texts) -> String {
    info.owner
        .as_deref()
        .map_or_else(|| t.info_missing.to_owned(), |owner| person(owner, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_setting_is_in_words() {
        let info: ChatInfo = serde_json::from_str(
            r#"{"name":"项目群","owner":"boss","useridlist":["a","b","boss"],"chatBannedType":1,
                "searchable":0,"validationType":1,"mentionAllAuthority":1,"managementType":0,
                "showHistoryType":1,"status":1}"#,
        )
        .unwrap();
        let cid = OpenConversationId::parse("cid1==").unwrap();
        let chat = ChatId::parse("chat1").unwrap();
        let group = Group {
            cid: &cid,
            chat: &chat,
            owner_name: None,
        };
        let text = render(&info, &group, Lang::Zh.texts());
        let named = Group {
            owner_name: Some("李群主"),
            ..group
        };
        assert!(render(&info, &named, Lang::Zh.texts()).contains("群主: 李群主 (boss)"));
        for want in [
            "**项目群**",
            "群主: boss",
            "成员数: 3",
            "状态: 正常",
            "全员禁言: 开启",
            "可被搜索: 否",
            "入群验证: 开启",
            "@all 权限: 仅群主",
            "管理类型: 所有人",
            "新成员可看历史消息: 是",
            "`cid1==`",
            "`chat1`",
        ] {
            assert!(text.contains(want), "{want} missing from:\n{text}");
        }
    }

    #[test]
    fn missing_and_unexpected_values_are_shown_as_such() {
        let info: ChatInfo = serde_json::from_str(r#"{"searchable":7}"#).unwrap();
        let cid = OpenConversationId::parse("cid1").unwrap();
        let chat = ChatId::parse("chat1").unwrap();
        let group = Group {
            cid: &cid,
            chat: &chat,
            owner_name: None,
        };
        let text = render(&info, &group, Lang::En.texts());
        assert!(
            text.contains("(unnamed group)") && text.contains("unknown (7)"),
            "{text}"
        );
        assert!(text.contains("Status: —"), "{text}");
    }
}
