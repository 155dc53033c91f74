-- The message sent when people join a group (/welcome), and when the last one was sent.
CREATE TABLE welcomes (
    conversation_id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at_ms BIGINT NOT NULL,
    last_sent_ms BIGINT
);
