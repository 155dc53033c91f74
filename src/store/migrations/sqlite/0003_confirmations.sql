-- Commands waiting for /confirm.
CREATE TABLE confirmations (
    conversation_id TEXT NOT NULL,
    code TEXT NOT NULL,
    requester TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    command TEXT NOT NULL,
    args TEXT NOT NULL,
    action TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER,
    PRIMARY KEY (conversation_id, code)
);
CREATE INDEX confirmations_expiry ON confirmations (expires_at_ms);
