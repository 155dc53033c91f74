-- Who is changing a group, until when: one change at a time per group across replicas and
-- processes; a holder that died leaves a lease that runs out.
CREATE TABLE group_leases (
    conversation_id TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms INTEGER NOT NULL
);
-- A claimed run of a schedule that has not finished, and until when its claimant holds it:
-- a run whose claimant died is run by whoever finds its lease ended.
ALTER TABLE schedules ADD COLUMN running_due_ms INTEGER;
ALTER TABLE schedules ADD COLUMN running_until_ms INTEGER;
