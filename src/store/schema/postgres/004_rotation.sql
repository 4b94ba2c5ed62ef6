-- 004_rotation.sql - rotating a token with an overlap, and idempotent
-- rotations (see the SQLite migration 011_rotation.sql).
ALTER TABLE tokens ADD COLUMN prev_secret_hash BYTEA;
ALTER TABLE tokens ADD COLUMN prev_secret_version INTEGER;
ALTER TABLE tokens ADD COLUMN prev_valid_until BIGINT;
ALTER TABLE tokens ADD COLUMN rotated_at BIGINT;

CREATE TABLE idempotency_keys (
    key_hash       BYTEA PRIMARY KEY,
    org_id         TEXT NOT NULL,
    request_hash   BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    status         INTEGER NOT NULL,
    secret_version INTEGER NOT NULL,
    sealed_answer  BYTEA NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
