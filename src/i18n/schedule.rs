//! Texts of `/schedule` and of the runs it announces.

use super::catalog;

catalog! {
    ScheduleTexts
    created { zh: "已创建定时任务 #{0}：{1} 执行 `{2}`，下次执行 {3}（{4}）。", en: "Created schedule #{0}: {1}, `{2}`; next run {3} ({4})." }
    preview { zh: "预览：将创建定时任务：{0} 执行 `{1}`，下次执行 {2}（{3}）。什么也没有改。", en: "Preview: would create a schedule: {0}, `{1}`; next run {2} ({3}). Nothing was changed." }
    passed { zh: "{0} 已经过去了（{1}），什么也没有创建。", en: "{0} has already passed ({1}); nothing was created." }
    too_far { zh: "{0} 太远了：一次性任务最多安排在 {1} 年以内，什么也没有创建。", en: "{0} is too far ahead: a one-off is at most {1} years away; nothing was created." }
    too_many { zh: "本群已有 {0} 个定时任务（上限），请先用 `/schedule remove <编号>` 删除一些。", en: "This group has {0} schedules, the most it may have; remove some first with `/schedule remove <id>`." }
    org_admin_only {
        zh: "定时任务到时会以你的身份执行，并再次检查你是否是管理员；那时只能核对 `QUNGUAN_ADMINS` 和群主，无法核对企业管理员身份，所以什么也没有创建。",
        en: "A schedule runs as you and checks again then that you are an admin; at that time only `QUNGUAN_ADMINS` and the group owner can be checked, not org-admin status, so nothing was created."
    }
    list_empty { zh: "本群没有定时任务。用 `/schedule <时间> <命令>` 创建。", en: "This group has no schedules. Create one with `/schedule <when> <command>`." }
    list_head { zh: "本群的定时任务（时间按 {0}）：", en: "This group's schedules (times in {0}):" }
    list_row { zh: "- #{0} {1} `{2}`，由 {3} 设置；下次：{4}{5}", en: "- #{0} {1} `{2}`, set by {3}; next: {4}{5}" }
    list_finished { zh: "不再执行", en: "none" }
    list_last { zh: "；上次：{0}（{1}）", en: "; last: {0} ({1})" }
    removed { zh: "已删除定时任务 #{0}（{1} `{2}`）。", en: "Removed schedule #{0} ({1} `{2}`)." }
    remove_preview { zh: "预览：将删除定时任务 #{0}（{1} `{2}`）。什么也没有改。", en: "Preview: would remove schedule #{0} ({1} `{2}`). Nothing was changed." }
    no_such { zh: "本群没有定时任务 #{0}。用 `/schedule list` 查看。", en: "This group has no schedule #{0}. See `/schedule list`." }
    announce_title { zh: "按计划执行 {0}", en: "Scheduled {0}" }
    announce { zh: "按计划执行 `{0}`（{1} 设置的 #{2}）", en: "Ran `{0}` as scheduled (#{2}, set by {1})" }

    rule_kind { zh: "应为 daily、weekdays、weekends 或 once（每天、工作日、周末、一次）", en: "expected daily, weekdays, weekends or once" }
    rule_time { zh: "时间应为 HH:MM，00:00 到 23:59", en: "a time is HH:MM, 00:00 to 23:59" }
    rule_date { zh: "日期应为 YYYY-MM-DD", en: "a date is YYYY-MM-DD" }
    no_command { zh: "时间后面要跟一个命令，例如 `/mute-all`", en: "the time is followed by a command, e.g. `/mute-all`" }
    not_a_command { zh: "没有这个命令", en: "there is no such command" }
    not_schedulable { zh: "只能定时执行会修改的命令，不能是 /kick、/transfer-owner、/confirm 或 /schedule", en: "only changing commands can be scheduled, not /kick, /transfer-owner, /confirm or /schedule" }
    no_mentions { zh: "定时命令不能 @ 人：请直接写 staffId", en: "a scheduled command cannot @mention people: type their staff ids" }
    inner_usage { zh: "{0}；用法：`{1}`", en: "{0}; usage: `{1}`" }
    bad_id { zh: "编号是一个正整数，如 3 或 #3", en: "an id is a whole number, like 3 or #3" }
}
