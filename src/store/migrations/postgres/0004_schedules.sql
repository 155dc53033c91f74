-- Where a run came from (a schedule, a policy file), and the schedules.
ALTER TABLE audit ADD COLUMN source TEXT;
CREATE TABLE schedules (
    id BIGSERIAL PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    creator TEXT NOT NULL,
    creator_nick TEXT NOT NULL,
    rule TEXT NOT NULL,
    command TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    next_run_ms BIGINT,
    last_run_ms BIGINT,
    last_outcome TEXT
);
CREATE INDEX schedules_by_group ON schedules (conversation_id, id);
CREATE INDEX schedules_due ON schedules (next_run_ms);
