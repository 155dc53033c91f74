//! `/welcome <text>`, `/welcome`, `/welcome off`: the message that greets people who join
//! the group (sent when DingTalk reports them added: [`crate::group::Greeter`]). `{name}`
//! stands for the newcomers' names.

use super::{
    Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    free_text,
};
use crate::{
    clock::now_ms,
    group::{MAX_WELCOME_CHARS, render_welcome},
    i18n::{catalog, fill, md, text},
    message::fold,
    store::Welcome,
};

pub static SPEC: Spec = Spec {
    name: "welcome",
    alias: "欢迎语",
    args: "[<text>|off]",
    summary: [
        "设置新成员入群时的欢迎语（{name} 代表新成员的名字）；不带参数查看，off（关）取消",
        "Set the message people who join are greeted with ({name} stands for their names); alone, show it; off removes it",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    // Optional: the group's owner counts as an admin; the welcome itself needs no chatid.
    binding: Binding::Used,
    audited: true,
    parse,
};

catalog! {
    WelcomeCommandTexts
    none { zh: "本群还没有欢迎语。用 `/welcome <欢迎语>` 设置，`{name}` 代表新成员的名字。", en: "This group has no welcome. Set one with `/welcome <text>`; `{name}` stands for the newcomers' names." }
    current { zh: "本群的欢迎语（新成员入群时发送）：\n\n{0}", en: "This group's welcome (sent when people join):\n\n{0}" }
    set { zh: "已设置欢迎语。有人入群时会这样欢迎（以你的名字为例）：\n\n{0}", en: "Welcome set. People who join are greeted like this (your name as an example):\n\n{0}" }
    preview { zh: "预览：欢迎语将设置为（以你的名字为例）：\n\n{0}\n\n什么也没有改。", en: "Preview: the welcome would read (your name as an example):\n\n{0}\n\nNothing was changed." }
    removed { zh: "已取消本群的欢迎语。", en: "The group's welcome is removed." }
    remove_preview { zh: "预览：将取消本群的欢迎语。什么也没有改。", en: "Preview: the group's welcome would be removed. Nothing was changed." }
    too_long { zh: "欢迎语最多 500 个字符，这里有 {0} 个", en: "a welcome has at most 500 characters, this one has {0}" }
    control { zh: "欢迎语不能包含控制字符", en: "a welcome cannot contain control characters" }
}

/// What `/welcome` was asked.
#[derive(Debug, PartialEq)]
enum Asked {
    Show,
    Off,
    Set(String),
}

fn parse(args: &Args<'_>) -> Result<Command, UsageError> {
    let asked = read(args)?;
    Ok(Command::new(asked, |ctx, asked| Box::pin(run(ctx, asked))))
}

fn read(args: &Args<'_>) -> Result<Asked, UsageError> {
    let wt = WelcomeCommandTexts::for_lang(args.lang);
    let asked = match args.words {
        [] => Asked::Show,
        [one] if ["off", "关", "关闭"].contains(&fold(one).to_lowercase().as_str()) => {
            Asked::Off
        }
        words => {
            let max = (MAX_WELCOME_CHARS, wt.too_long);
            let lang = args.lang;
            Asked::Set(free_text(words, "<text>", lang, wt.control, Some(max))?)
        }
    };
    Ok(asked)
}

async fn run(ctx: &Context<'_>, asked: Asked) -> Result<Answer, CommandError> {
    let wt = WelcomeCommandTexts::for_lang(ctx.config.lang);
    let group = &ctx.msg.conversation;
    let example =
        |text: &str| render_welcome(text, std::slice::from_ref(&ctx.msg.sender.nick), "、");
    match asked {
        Asked::Show => Ok(match ctx.store.welcome(group).await? {
            None => Answer::done(wt.none),
            Some(welcome) => Answer::done(fill(wt.current, &[text(&welcome.text)])),
        }),
        Asked::Off if ctx.dry_run => Ok(Answer::previewed(wt.remove_preview)),
        Asked::Off => Ok(match ctx.store.remove_welcome(group).await? {
            true => Answer::done(wt.removed),
            false => Answer::done(wt.none),
        }),
        Asked::Set(welcome) if ctx.dry_run => Ok(Answer::previewed(fill(
            wt.preview,
            &[md(&example(&welcome))],
        ))),
        Asked::Set(welcome) => {
            let set_by = ctx.admin()?.staff_id.clone();
            let saved = Welcome {
                text: welcome,
                set_by,
                set_at_ms: now_ms(),
            };
            ctx.store.set_welcome(group, &saved).await?;
            tracing::info!(cid = %group, "welcome set");
            Ok(Answer::done(fill(wt.set, &[md(&example(&saved.text))])))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn asked(words: &[&str]) -> Result<Asked, UsageError> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        read(&Args {
            words: &words,
            lang: Lang::En,
            mentions: &[],
        })
    }

    #[test]
    fn the_texts_say_the_same_in_both_languages() {
        crate::i18n::assert_entries_agree(WelcomeCommandTexts::entries());
    }

    #[test]
    fn a_welcome_is_checked_before_it_is_kept() {
        assert_eq!(asked(&[]).unwrap(), Asked::Show);
        for off in ["OFF", "off", "关", "关闭"] {
            assert_eq!(asked(&[off]).unwrap(), Asked::Off, "{off}");
        }
        assert_eq!(
            asked(&["欢迎", "{name}！"]).unwrap(),
            Asked::Set("欢迎 {name}！".to_owned())
        );
        let long = "长".repeat(MAX_WELCOME_CHARS + 1);
        match asked(&[&long]).err() {
            Some(UsageError::Invalid { why, .. }) => assert!(why.contains("at most 500"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
