//! Texts of the external-contact commands (`/contact`, `/contact-update`, `/labels`) and
//! `/audit`.

use super::catalog;

catalog! {
    ContactTexts
    field_name { zh: "名称", en: "Name" }
    field_title { zh: "职位", en: "Title" }
    field_company { zh: "公司", en: "Company" }
    field_address { zh: "地址", en: "Address" }
    field_remark { zh: "备注", en: "Remark" }
    field_labels { zh: "标签", en: "Labels" }
    field_follower { zh: "负责人", en: "Follower" }
    field_share_users { zh: "共享给员工", en: "Shared with staff" }
    field_share_depts { zh: "共享给部门", en: "Shared with departments" }
    field_mobile { zh: "手机", en: "Mobile" }
    empty { zh: "（空）", en: "(empty)" }

    contact_header { zh: "**{0}**（外部联系人 `{1}`）", en: "**{0}** (external contact `{1}`)" }
    update_done { zh: "已更新外部联系人 `{0}`：", en: "Updated external contact `{0}`:" }
    update_preview {
        zh: "预览，没有修改：外部联系人 `{0}` 将会这样变化：",
        en: "Preview, nothing changed: external contact `{0}` would change like this:"
    }
    update_nothing {
        zh: "外部联系人 `{0}` 已经是这样了，没有需要修改的字段，什么也没有改。",
        en: "External contact `{0}` already looks like that; nothing to change, nothing was changed."
    }
    update_missing_required {
        zh: "外部联系人 `{0}` 缺少必填字段 {1}，钉钉不接受这样的更新。请在命令里一起给出，例如 `{2}=…`。什么也没有改。",
        en: "External contact `{0}` lacks the required field {1}, which DingTalk needs for an update. Give it in the command, e.g. `{2}=…`. Nothing was changed."
    }

    arg_user_id { zh: "外部联系人的 userId", en: "the external contact's userId" }
    arg_pairs { zh: "至少一个 key=value", en: "at least one key=value" }
    not_key_value { zh: "应该是 key=value 形式", en: "should be key=value" }
    unknown_key { zh: "不是可以修改的字段。{0}可用字段：{1}", en: "is not a field that can be changed. {0}Fields: {1}" }
    did_you_mean { zh: "你是不是想写 `{0}`？", en: "Did you mean `{0}`? " }
    duplicate_key { zh: "写了两次", en: "is given twice" }
    expects_text { zh: "不能为空", en: "must not be empty" }
    expects_labels {
        zh: "需要标签 ID 或标签名，用逗号分隔，最多 20 个",
        en: "expects label ids or label names, comma-separated, at most 20"
    }
    expects_staff {
        zh: "需要一个 staffId 或 @群成员",
        en: "expects one staff id or an @mention of a group member"
    }
    expects_staff_list {
        zh: "需要 staffId 或 @群成员，用逗号分隔，最多 20 个",
        en: "expects staff ids or @mentions of group members, comma-separated, at most 20"
    }
    expects_depts {
        zh: "需要部门 ID（正整数），用逗号分隔，最多 20 个",
        en: "expects department ids (positive whole numbers), comma-separated, at most 20"
    }
    mention_unmatched {
        zh: "对应不到被 @ 的群成员（或对方没有 staffId），请改用 staffId",
        en: "cannot be matched to an @mentioned group member with a staff id; use the staff id"
    }
    label_unknown { zh: "没有叫“{0}”的标签。{1}", en: "There is no label named “{0}”. {1}" }
    label_candidates { zh: "相近的标签：{0}。", en: "Close ones: {0}." }
    label_ambiguous {
        zh: "有多个叫“{0}”的标签：{1}。请改用标签 ID。什么也没有改。",
        en: "Several labels are named “{0}”: {1}. Use the label id instead. Nothing was changed."
    }
    label_nothing_changed { zh: "什么也没有改。发送 `/labels` 查看所有标签。", en: "Nothing was changed. Send `/labels` for every label." }

    labels_header { zh: "**外部联系人标签**", en: "**External-contact labels**" }
    labels_none { zh: "还没有任何外部联系人标签。", en: "There are no external-contact labels yet." }

    audit_header { zh: "**本群最近 {0} 条变更**（通过群管和在钉钉里的）", en: "**The last {0} changes in this group** (through qunguan and in DingTalk)" }
    audit_none { zh: "本群还没有变更记录（通过群管或在钉钉里的）。", en: "Nothing has been changed in this group yet (through qunguan or in DingTalk)." }
    audit_done { zh: "完成", en: "done" }
    audit_refused { zh: "被拒绝", en: "refused" }
    audit_dry_run { zh: "预览（没有修改）", en: "dry run (nothing changed)" }
    audit_pending { zh: "等待确认", en: "waiting for confirmation" }
    audit_skipped { zh: "跳过（错过了执行时间）", en: "skipped (its time was missed)" }
    audit_source { zh: "（来自 {0}）", en: " (from {0})" }
    audit_failed { zh: "失败（{0}）", en: "failed ({0})" }
    audit_request { zh: "请求 ID `{0}`", en: "request id `{0}`" }
    audit_bad_count { zh: "需要 1 到 50 之间的整数", en: "expects a whole number from 1 to 50" }
    audit_in_dingtalk { zh: "在钉钉里", en: "in DingTalk" }
    audit_someone { zh: "有人", en: "someone" }
    audit_added { zh: "把 {0} 拉进了群", en: "added {0}" }
    audit_removed { zh: "把 {0} 移出了群", en: "removed {0}" }
    audit_quit { zh: "退出了群", en: "left the group" }
    audit_new_owner { zh: "把群主转给了 {0}", en: "made {0} the owner" }
    audit_renamed { zh: "把群名改为 {0}", en: "renamed the group to {0}" }
    audit_disbanded { zh: "解散了群", en: "dissolved the group" }
    audit_bound { zh: "（钉钉事件）本群自动绑定到 chatid `{0}`", en: "(a DingTalk event) bound the group to its chatid `{0}`" }
    arg_count { zh: "条数", en: "the count" }
}
