//! Texts of the core commands, the dispatcher and error replies.

use super::catalog;

catalog! {
    Texts
    title_reply { zh: "群管", en: "qunguan" }
    title_refused { zh: "群管：没有执行", en: "qunguan: not done" }
    title_error { zh: "群管：出错了", en: "qunguan: something went wrong" }
    title_preview { zh: "群管：预览（没有修改）", en: "qunguan: preview (nothing changed)" }
    title_pending { zh: "群管：等待确认", en: "qunguan: waiting for confirmation" }
    reply_cut { zh: "……（回复太长，后面的部分省略了）", en: "… (the reply is too long; the rest is left out)" }

    help_header { zh: "**群管** 可用命令：", en: "**qunguan** commands:" }
    help_footer {
        zh: "发送 `/help <命令>` 查看某个命令的用法。标注“管理员”的命令只有管理员能执行；会做修改的命令都可以加 `--dry-run`（或“预览”），先看会改什么。",
        en: "Send `/help <command>` for one command's usage. Commands marked “admin” are for admins only; every command that changes something takes `--dry-run` to show what it would change first."
    }
    help_admin_mark { zh: "管理员", en: "admin" }
    help_group_mark { zh: "仅群聊", en: "groups only" }
    help_usage { zh: "用法：`{0}`", en: "Usage: `{0}`" }
    help_alias { zh: "别名：`{0}`", en: "Alias: `{0}`" }
    help_who_admin { zh: "谁能用：管理员", en: "Who: admins" }
    help_who_anyone { zh: "谁能用：所有人", en: "Who: anyone" }
    help_where_group { zh: "只能在群聊中使用。", en: "Works in groups only." }

    unknown_command { zh: "没有 `{0}` 这个命令。", en: "There is no command `{0}`." }
    did_you_mean { zh: "你是不是想用 `{0}`？", en: "Did you mean `{0}`?" }
    command_list { zh: "可用命令：{0}。发送 `/help` 查看说明。", en: "Commands: {0}. Send `/help` for details." }
    empty_message { zh: "你好！发送 `/help` 查看我能做什么。", en: "Hello! Send `/help` to see what I can do." }
    non_text_direct {
        zh: "我只读得懂文字命令，例如 `/help`。",
        en: "I only understand text commands, such as `/help`."
    }
    usage_error { zh: "`{0}` 的参数不对：{1}\n\n用法：`{2}`", en: "Wrong arguments for `{0}`: {1}\n\nUsage: `{2}`" }
    usage_missing { zh: "缺少 {0}", en: "{0} is missing" }
    usage_extra { zh: "多了参数 `{0}`", en: "unexpected extra argument `{0}`" }
    usage_invalid { zh: "{0} `{1}` 无效：{2}", en: "{0} `{1}` is not valid: {2}" }
    text_invisible {
        zh: "里面没有看得见的字，只有空白或不可见的字符",
        en: "nothing in it can be seen: it is only spaces or invisible characters"
    }
    text_reversing {
        zh: "含有改变文字方向的控制字符（U+202A–U+202E、U+2066–U+2069），显示出来会和实际的字不一样",
        en: "it holds characters that reverse the direction of the text (U+202A–U+202E, U+2066–U+2069), so it would show as something it is not"
    }
    group_only { zh: "`{0}` 只能在群聊中使用：请在群里 @我 发送。", en: "`{0}` works in a group only: @mention me in the group." }
    not_bound {
        zh: "本群还没有绑定 chatid，所以无法执行 `{0}`，什么也没有改。\n\n最简单的办法：在钉钉里改一下群名（可以再改回来）或拉一个人进群，本群就会自动绑定，然后再发一次命令。\n\n也可以由管理员在本群发送 `/bind <chatid>`。chatid 以 `chat` 开头：创建群的接口（chat/create）会返回它，也可以用客户端 JSAPI `chooseChat` 或部门群的 `dept_group_chat_id` 获得。本群的 openConversationId 是 `{1}`。",
        en: "This group is not bound to its chatid yet, so `{0}` cannot run; nothing was changed.\n\nThe easy way: rename the group in DingTalk (you can rename it back) or add someone to it, and it binds itself; then send the command again.\n\nOr an admin can send `/bind <chatid>` here. A chatid starts with `chat`: the group-creation API (chat/create) returns it, and so do the client JSAPI `chooseChat` and a department group's `dept_group_chat_id`. This group's openConversationId is `{1}`."
    }
    refused_not_admin {
        zh: "只有管理员可以执行 `{0}`，什么也没有改。你{1}。",
        en: "Only admins may run `{0}`; nothing was changed. You {1}."
    }

    admin_yes { zh: "是管理员", en: "are an admin" }
    admin_no { zh: "不是管理员", en: "are not an admin" }
    why_config_admin { zh: "在 QUNGUAN_ADMINS 名单中", en: "are listed in QUNGUAN_ADMINS" }
    why_owner { zh: "是本群群主", en: "own this group" }
    why_org_admin {
        zh: "是企业管理员（isAdmin），且 QUNGUAN_TRUST_ORG_ADMINS 已开启",
        en: "are an org admin (isAdmin) and QUNGUAN_TRUST_ORG_ADMINS is on"
    }
    why_no_staff_id {
        zh: "没有 staffId（外部或跨企业成员），所以不能执行管理命令",
        en: "have no staff id (external or cross-org member), so admin commands are not open to you"
    }
    why_not_listed {
        zh: "不在 QUNGUAN_ADMINS 名单中，也不是群主",
        en: "are not in QUNGUAN_ADMINS and do not own this group"
    }
    why_not_listed_unbound {
        zh: "不在 QUNGUAN_ADMINS 名单中；本群未绑定，无法确认群主",
        en: "are not in QUNGUAN_ADMINS; this group is not bound, so its owner cannot be checked"
    }
    why_org_admin_untrusted {
        zh: "（你是企业管理员，但 QUNGUAN_TRUST_ORG_ADMINS 已关闭）",
        en: " (you are an org admin, but QUNGUAN_TRUST_ORG_ADMINS is off)"
    }
    whoami {
        zh: "**你的 staffId**：`{0}`\n\n你{1}：你{2}。",
        en: "**Your staff id**: `{0}`\n\nYou {1}: you {2}."
    }
    whoami_no_staff_id { zh: "（没有）", en: "(none)" }

    info_owner { zh: "群主", en: "Owner" }
    info_members { zh: "成员数", en: "Members" }
    info_status { zh: "状态", en: "Status" }
    info_status_normal { zh: "正常", en: "active" }
    info_status_dissolved { zh: "已解散", en: "dissolved" }
    info_banned { zh: "全员禁言", en: "Everyone muted (全员禁言)" }
    info_searchable { zh: "可被搜索", en: "Searchable (可被搜索)" }
    info_validation { zh: "入群验证", en: "Join needs approval (入群验证)" }
    info_mention_all { zh: "@all 权限", en: "Who may @all (@all 权限)" }
    info_management { zh: "管理类型", en: "Who may manage (管理类型)" }
    info_history { zh: "新成员可看历史消息", en: "New members see history (新成员可看历史消息)" }
    info_on { zh: "开启", en: "on" }
    info_off { zh: "关闭", en: "off" }
    info_yes { zh: "是", en: "yes" }
    info_no { zh: "否", en: "no" }
    info_everyone { zh: "所有人", en: "everyone" }
    info_owner_only { zh: "仅群主", en: "owner only" }
    info_unknown_value { zh: "未知（{0}）", en: "unknown ({0})" }
    info_missing { zh: "—", en: "—" }
    info_unnamed { zh: "（未命名群）", en: "(unnamed group)" }

    friending_locked {
        zh: "已禁止群成员互相加好友和私聊（{0}）。",
        en: "Members can no longer add each other as friends or chat privately ({0})."
    }
    friending_unlocked {
        zh: "已允许群成员互相加好友和私聊（{0}）。",
        en: "Members may add each other as friends and chat privately again ({0})."
    }

    friending_lock_preview {
        zh: "预览：将禁止群成员互相加好友和私聊（{0}）。什么也没有改。",
        en: "Preview: members would no longer be able to add each other as friends or chat privately ({0}). Nothing was changed."
    }
    friending_unlock_preview {
        zh: "预览：将允许群成员互相加好友和私聊（{0}）。什么也没有改。",
        en: "Preview: members would be allowed to add each other as friends and chat privately ({0}). Nothing was changed."
    }
    bind_preview { zh: "预览：将绑定本群 `{0}` ↔ chatid `{1}`。什么也没有改。", en: "Preview: this group `{0}` would be bound to chatid `{1}`. Nothing was changed." }
    bind_done { zh: "已绑定：本群 `{0}` ↔ chatid `{1}`。", en: "Bound: this group `{0}` ↔ chatid `{1}`." }
    bind_already { zh: "本群已经绑定到 chatid `{0}`，无需再绑定。", en: "This group is already bound to chatid `{0}`; nothing to do." }
    bind_replaced { zh: "已改绑：本群现在绑定到 chatid `{0}`（原来是 `{1}`）。", en: "Rebound: this group is now bound to chatid `{0}` (was `{1}`)." }
    bind_taken {
        zh: "chatid `{0}` 已经绑定到另一个群，没有绑定。请先在那个群里 `/unbind`。",
        en: "Chatid `{0}` is already bound to another group, so it was not bound. Run `/unbind` in that group first."
    }
    bind_mismatch {
        zh: "chatid `{0}` 不是本群的：钉钉说它属于会话 `{1}`，而本群是 `{2}`。没有绑定。",
        en: "Chatid `{0}` is not this group's: DingTalk says it belongs to conversation `{1}`, and this group is `{2}`. Not bound."
    }
    bind_unknown_chat {
        zh: "钉钉找不到 chatid `{0}`（或它不属于本企业），没有绑定。",
        en: "DingTalk does not know chatid `{0}` (or it is not in this organisation); not bound."
    }
    chatid_is_cid {
        zh: "这是 openConversationId（cid…），不是 chatid（chat…）",
        en: "that is an openConversationId (cid…), not a chatid (chat…)"
    }
    chatid_shape {
        zh: "chatid 以 `chat` 开头，后面是字母和数字",
        en: "a chatid starts with `chat` followed by letters and digits"
    }
    unbind_done { zh: "已解绑：本群不再对应 chatid `{0}`。", en: "Unbound: this group no longer maps to chatid `{0}`." }
    unbind_preview { zh: "预览：本群将不再对应 chatid `{0}`。什么也没有改。", en: "Preview: this group would no longer map to chatid `{0}`. Nothing was changed." }
    unbind_not_bound { zh: "本群没有绑定，无需解绑。", en: "This group is not bound; nothing to unbind." }

    err_invalid_chatid {
        zh: "钉钉说绑定的 chatid 无效，请重新绑定：`/unbind` 后 `/bind <chatid>`。",
        en: "DingTalk says the bound chatid is not valid; rebind it: `/unbind`, then `/bind <chatid>`."
    }
    err_no_permission {
        zh: "应用缺少权限 {0}，请在钉钉开发者后台为应用开通后重试。",
        en: "The app lacks the permission {0}; grant it in the DingTalk developer console and try again."
    }
    err_ip_whitelist {
        zh: "本服务器的出口 IP 不在应用的白名单中，请在开发者后台添加。",
        en: "This server's egress IP is not whitelisted for the app; add it in the developer console."
    }
    err_throttled { zh: "钉钉限流了，请稍后再试。", en: "DingTalk is throttling us; try again shortly." }
    err_quota { zh: "本企业本月的钉钉接口调用额度已用完。", en: "The organisation's monthly DingTalk API quota is used up." }
    err_unavailable { zh: "钉钉暂时无法访问或太慢，请稍后再试。", en: "DingTalk is slow or unreachable right now; try again shortly." }
    err_credentials {
        zh: "无法获取钉钉访问令牌：请检查 DINGTALK_APP_KEY 和 DINGTALK_APP_SECRET。",
        en: "Could not get a DingTalk access token: check DINGTALK_APP_KEY and DINGTALK_APP_SECRET."
    }
    err_other { zh: "钉钉拒绝了请求（错误码 {0}）。", en: "DingTalk refused the request (errcode {0})." }
    err_internal { zh: "内部错误，已记录日志。", en: "Internal error; it has been logged." }
    err_permission_check {
        zh: "钉钉的权限校验没有通过：群主不在应用的可见范围内，或应用缺少 qyapi_chat_manage 权限。请在开发者后台检查应用的可见范围和权限。",
        en: "DingTalk's permission check failed: the group's owner is outside the app's visibility, or the app lacks the permission qyapi_chat_manage. Check both in the developer console."
    }
    err_invalid_parameter {
        zh: "钉钉拒绝了这次修改的参数（群名、成员或群主不符合钉钉的要求）。",
        en: "DingTalk refused the values of this change (the name, a member or the owner is not acceptable to it)."
    }
    err_banned_content { zh: "钉钉拒绝了这段文字：其中有不允许使用的内容。", en: "DingTalk refused the text: it contains words that are not allowed." }
    err_not_member { zh: "钉钉说这个人不是本群成员。", en: "DingTalk says this person is not a member of the group." }
    err_unknown_user { zh: "钉钉找不到这个人：请检查 staffId。", en: "DingTalk does not know this person: check the staff id." }
    err_too_many_admins { zh: "本群的管理员已经到上限了，请先取消一些管理员。", en: "The group has as many admins as it may have; remove some first." }
    err_group_dissolved { zh: "本群已经解散了。", en: "This group has been dissolved." }
    err_request_id { zh: "请求 ID：`{0}`", en: "Request id: `{0}`" }
}
