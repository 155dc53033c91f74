-- The audit trail: one row per run of a changing command.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    msg_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    chat_id TEXT,
    sender_staff_id TEXT,
    sender_nick TEXT NOT NULL,
    command TEXT NOT NULL,
    args TEXT NOT NULL,
    outcome TEXT NOT NULL,
    errcode TEXT,
    request_id TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX audit_by_group ON audit (conversation_id, id);
