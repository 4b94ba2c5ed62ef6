-- 002_audit_chain.sql - the audit trail as a hash chain per org (see the
-- SQLite migration 009_audit_chain.sql for what each part is for).
ALTER TABLE audit_events ADD COLUMN prev_hash BYTEA;
ALTER TABLE audit_events ADD COLUMN hash BYTEA;

CREATE TABLE audit_heads (
    org_key TEXT PRIMARY KEY,
    count   BIGINT NOT NULL,
    hash    BYTEA NOT NULL
);

-- One signed checkpoint per beat, numbered without gaps, each naming every
-- org's chain head as of event max_seq and the digest of the checkpoint
-- before it: removing, changing or reordering checkpoints breaks that
-- chain, and a later checkpoint vouches for the earlier ones.
CREATE TABLE audit_checkpoints (
    number         BIGINT PRIMARY KEY,  -- 1, 2, 3, ...
    at             BIGINT NOT NULL,
    max_seq        BIGINT NOT NULL,     -- the events it covers: seq <= max_seq
    heads          TEXT NOT NULL,         -- "<org> <count> <hash hex>" lines, sorted by org ('-' for no org)
    prev_digest    BYTEA NOT NULL,       -- SHA-256 of the checkpoint before (zeros for the first)
    secret_version INTEGER NOT NULL,
    mac            BYTEA NOT NULL        -- HMAC-SHA-256 under that version's audit key
);

-- The Audit Trail API reads an org's events by time (GET /api/v2/audit/events).
CREATE INDEX audit_events_org_at ON audit_events(org_id, at, seq);
