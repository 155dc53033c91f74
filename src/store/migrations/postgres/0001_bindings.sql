-- Bindings (openConversationId → chatid) and the msgIds the replay defence has seen.
CREATE TABLE bindings (
    conversation_id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL UNIQUE,
    bound_at_ms BIGINT NOT NULL
);
CREATE TABLE seen_messages (
    msg_id TEXT PRIMARY KEY,
    keep_until_ms BIGINT NOT NULL
);
CREATE INDEX seen_messages_keep_until ON seen_messages (keep_until_ms);
