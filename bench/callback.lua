-- wrk script: signed DingTalk robot callbacks, a unique msgId per request.
-- Derived from ../shared/bench/callback.lua, with two fixes: msgIds are unique per wrk
-- thread (the shared script's `local tid` shadows the per-thread value, so every thread
-- sends msgBENCH0-N and a deduplicating bot drops half of them), and unique per run (RUN),
-- since qunguan remembers msgIds for twice the signature window.
-- Env: TS, SIGN (precomputed for TS), CMD, WEBHOOK, CALLBACK_PATH (default /), ADMIN, RUN.
local ts = os.getenv("TS")
local sign = os.getenv("SIGN")
local cmd = os.getenv("CMD") or "/help"
local webhook = os.getenv("WEBHOOK") or "http://127.0.0.1:18081/robot/sendBySession?session=bench"
local path = os.getenv("CALLBACK_PATH") or "/"
local admin = os.getenv("ADMIN") or "true"
local run = os.getenv("RUN") or "0"
local counter = 0
local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_no", next_thread)
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"msgtype":"text","text":{"content":" %s"},"msgId":"msgBENCH%s-%s-%d","createAt":%s,' ..
    '"conversationType":"2","conversationId":"cidBENCHgroup%d","conversationTitle":"bench",' ..
    '"senderId":"$:LWCP_v1:$bench","senderNick":"bench","senderCorpId":"dingbench","senderStaffId":"staff%d",' ..
    '"chatbotUserId":"$:LWCP_v1:$bot","chatbotCorpId":"dingbench","robotCode":"dingbenchrobot","isAdmin":%s,"isInAtList":true,' ..
    '"atUsers":[{"dingtalkId":"$:LWCP_v1:$bot"}],' ..
    '"sessionWebhook":"%s","sessionWebhookExpiredTime":%s}',
    cmd, run, tostring(thread_no), counter, ts, counter % 16, counter % 64, admin, webhook, tostring(tonumber(ts) + 5400000))
  return wrk.format("POST", path, {["Content-Type"] = "application/json; charset=utf-8", ["timestamp"] = ts, ["sign"] = sign}, body)
end
