//! `/info`: the group as chat/get describes it, every setting in words.

use super::{Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, no_args};
use crate::{
    dingtalk::ChatInfo,
    group::{Words, in_words},
    i18n::{Texts, fill, text},
    ids::{ChatId, OpenConversationId},
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
    binding: Binding::Required,
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
    let text = render(&info, &ctx.msg.conversation, chat, ctx.texts);
    Ok(Answer::done(text))
}

fn render(info: &ChatInfo, cid: &OpenConversationId, chat: &ChatId, t: &Texts) -> String {
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
        (
            t.info_owner,
            info.owner.as_deref().map_or_else(
                || t.info_missing.to_owned(),
                |o| markdown::inert(o, markdown::ECHO_LIMIT),
            ),
        ),
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
        let text = render(&info, &cid, &chat, Lang::Zh.texts());
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
        let text = render(&info, &cid, &chat, Lang::En.texts());
        assert!(
            text.contains("(unnamed group)") && text.contains("unknown (7)"),
            "{text}"
        );
        assert!(text.contains("Status: —"), "{text}");
    }
}
