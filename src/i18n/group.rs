//! Texts of the group-administration commands (`/mute-all`, `/set`, `/kick`, `/confirm`, …).

use super::catalog;

catalog! {
    GroupTexts
    setting_changed { zh: "已修改{0}：{1} → {2}。", en: "Changed {0}: {1} → {2}." }
    setting_unchanged { zh: "{0}已经是{1}，什么也没有改。", en: "{0} is already {1}; nothing was changed." }
    setting_preview { zh: "预览：{0}将从{1}改为{2}。什么也没有改。", en: "Preview: {0} would change from {1} to {2}. Nothing was changed." }
    setting_unknown_current {
        zh: "钉钉没有返回本群当前的 `{0}`。修改会把没提到的设置一起发给钉钉，猜错就会误改，所以什么也没有改。",
        en: "DingTalk did not report the group's current `{0}`. A change sends every setting along, and a guess could change one nobody named, so nothing was changed."
    }
    set_current { zh: "本群当前的设置（用 `/set <设置> <值>` 修改）：", en: "The group's settings now (change one with `/set <setting> <value>`):" }
    set_needs_both { zh: "`/set` 需要一个设置和它的新值。", en: "`/set` needs a setting and its new value." }
    set_unknown_setting { zh: "没有 `{0}` 这个设置。", en: "There is no setting `{0}`." }
    set_bad_value { zh: "`{0}` 不能设为 `{1}`。", en: "`{0}` cannot be set to `{1}`." }
    set_extra { zh: "多了参数 `{0}`。", en: "Unexpected extra argument `{0}`." }
    set_row { zh: "- `{0}`（{1}）：{2}，可设为 {3}", en: "- `{0}` ({1}): {2}; values {3}" }

    rename_done { zh: "群名已改为 {0}（原来是 {1}）。", en: "The group is now called {0} (was {1})." }
    rename_same { zh: "群名已经是 {0}，什么也没有改。", en: "The group is already called {0}; nothing was changed." }
    rename_preview { zh: "预览：群名将从 {0} 改为 {1}。什么也没有改。", en: "Preview: the group would be renamed from {0} to {1}. Nothing was changed." }
    name_length { zh: "群名要有 1 到 20 个字符，这里是 {0} 个", en: "a group name has 1 to 20 characters, this one has {0}" }
    name_control { zh: "群名不能包含换行或控制字符", en: "a group name cannot contain line breaks or control characters" }
    unnamed { zh: "（未命名）", en: "(unnamed)" }

    target_no_staff_id { zh: "被 @ 的人没有 staffId（外部或跨企业成员）", en: "the person mentioned has no staff id (an external or cross-org member)" }
    target_bad_staff_id { zh: "staffId 不能为空，也不能有空白或控制字符", en: "a staff id is not empty and has no spaces or control characters" }
    target_one { zh: "只能指定一个人", en: "name exactly one person" }
    too_many_members { zh: "一次最多 40 人（钉钉的限制），这里是 {0} 人", en: "at most 40 people at a time (DingTalk's limit), this is {0}" }
    not_members { zh: "{0} 不是本群成员（按钉钉的 chat/get），什么也没有改。", en: "{0} is not a member of this group (per DingTalk's chat/get); nothing was changed." }
    owner_cannot_be_kicked {
        zh: "{0} 是群主，不能移出群：请先用 `/transfer-owner` 把群主转给别人。什么也没有改。",
        en: "{0} owns the group and cannot be removed: transfer ownership first with `/transfer-owner`. Nothing was changed."
    }
    unknown_members {
        zh: "钉钉没有返回本群的成员名单，无法确认谁在群里，所以什么也没有改。",
        en: "DingTalk did not report the group's members, so who is in it cannot be checked; nothing was changed."
    }

    kick_pending {
        zh: "将把 {0} 移出本群。确认请在 {1} 秒内发送 `/confirm {2}`（只有你本人可以确认）。现在什么也没有改。",
        en: "This will remove {0} from the group. To go ahead, send `/confirm {2}` within {1} seconds (only you can). Nothing has changed yet."
    }
    kick_preview { zh: "预览：将把 {0} 移出本群（执行时需要确认）。什么也没有改。", en: "Preview: {0} would be removed from the group (after a confirmation). Nothing was changed." }
    kick_done { zh: "已把 {0} 移出本群。", en: "Removed {0} from the group." }

    add_done { zh: "已把 {0} 拉进本群。", en: "Added {0} to the group." }
    add_preview { zh: "预览：将把 {0} 拉进本群。什么也没有改。", en: "Preview: {0} would be added to the group. Nothing was changed." }
    add_already { zh: "{0} 已经在群里。", en: "{0} already in the group." }
    add_nothing { zh: "{0} 都已经在群里，什么也没有改。", en: "{0} already in the group; nothing was changed." }
    add_full { zh: "本群最多 1000 人：现在 {0} 人，再加 {1} 人就超了。什么也没有改。", en: "A group holds at most 1000 people: it has {0}, and {1} more is too many. Nothing was changed." }

    owner_pending {
        zh: "将把群主从 {0} 转给 {1}。确认请在 {2} 秒内发送 `/confirm {3}`（只有你本人可以确认）。现在什么也没有改。",
        en: "This will make {1} the owner instead of {0}. To go ahead, send `/confirm {3}` within {2} seconds (only you can). Nothing has changed yet."
    }
    owner_preview { zh: "预览：群主将从 {0} 转给 {1}（执行时需要确认）。什么也没有改。", en: "Preview: ownership would pass from {0} to {1} (after a confirmation). Nothing was changed." }
    owner_done { zh: "群主已转给 {0}。", en: "{0} now owns the group." }
    owner_already { zh: "{0} 已经是群主，什么也没有改。", en: "{0} already owns the group; nothing was changed." }

    admin_added { zh: "已设 {0} 为群管理员。", en: "Made {0} group admins." }
    admin_removed { zh: "已取消 {0} 的群管理员。", en: "{0} are no longer group admins." }
    admin_add_preview { zh: "预览：将设 {0} 为群管理员。什么也没有改。", en: "Preview: {0} would become group admins. Nothing was changed." }
    admin_remove_preview { zh: "预览：将取消 {0} 的群管理员。什么也没有改。", en: "Preview: {0} would stop being group admins. Nothing was changed." }
    admin_action { zh: "`add`（添加）或 `remove`（移除）", en: "`add` or `remove`" }

    nick_done { zh: "已把 {0} 的群昵称改为 {1}。", en: "{0}'s nickname in this group is now {1}." }
    nick_preview { zh: "预览：{0} 的群昵称将改为 {1}。什么也没有改。", en: "Preview: {0}'s nickname in this group would become {1}. Nothing was changed." }
    nick_control { zh: "群昵称不能包含换行或控制字符", en: "a nickname cannot contain line breaks or control characters" }

    invite_link { zh: "本群的入群链接（由 {0} 分享）：{1}", en: "This group's join link (shared by {0}): {1}" }
    invite_link_label { zh: "点击加入本群", en: "Join the group" }
    invite_no_staff_id {
        zh: "你没有 staffId（外部或跨企业成员），钉钉不能以你的名义分享入群链接。",
        en: "You have no staff id (external or cross-org member), so DingTalk cannot share the join link in your name."
    }
    invite_unusable { zh: "钉钉返回的入群链接不是 https 链接，没有显示。", en: "DingTalk's join link is not an https link, so it is not shown." }

    confirm_unknown { zh: "本群没有待确认的 `{0}`。确认码只在发起命令的群里有效。", en: "Nothing in this group waits for `{0}`. A code works only in the group where it was given." }
    confirm_used { zh: "`{0}` 已经确认过了，不会再执行一次。", en: "`{0}` was already confirmed; it does not run twice." }
    confirm_expired { zh: "`{0}` 已过期，什么也没有做。请重新发送命令。", en: "`{0}` has expired; nothing was done. Send the command again." }
    confirm_not_requester { zh: "`{0}` 不是你发起的：只有发起命令的人可以确认。什么也没有做。", en: "`{0}` is not yours: only whoever asked for it may confirm it. Nothing was done." }
    confirm_not_owner { zh: "你已经不是本群群主了，而你正是作为群主才算管理员的，所以什么也没有做。", en: "You no longer own the group, which is what made you an admin here; nothing was done." }
    confirm_other_group { zh: "本群的绑定在发起命令后变了，什么也没有做。请重新发送命令。", en: "The group's binding changed since the command was given; nothing was done. Send it again." }
    confirm_preview { zh: "`/confirm` 没有预览：`{0}` 还在等待确认。要预览请在原命令后加 `--dry-run`。", en: "`/confirm` has no preview: `{0}` is still waiting. To preview, add `--dry-run` to the command itself." }
}
