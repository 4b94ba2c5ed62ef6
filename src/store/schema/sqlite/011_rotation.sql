-- 011_rotation.sql - rotating a token with an overlap (issue 15, item 1):
-- the new secret's hash replaces secret_hash; the previous one is kept, with
-- its secret version, until prev_valid_until (the grace chosen at rotation,
-- or the new secret's first use, whichever comes first). And the answers of
-- rotations made with an Idempotency-Key, sealed, for ten minutes.
ALTER TABLE tokens ADD COLUMN prev_secret_hash BLOB;
ALTER TABLE tokens ADD COLUMN prev_secret_version INTEGER;
ALTER TABLE tokens ADD COLUMN prev_valid_until INTEGER;
ALTER TABLE tokens ADD COLUMN rotated_at INTEGER;

CREATE TABLE idempotency_keys (
    key_hash       BLOB PRIMARY KEY,  -- HMAC of the caller's credential and the header's value
    org_id         TEXT NOT NULL,
    request_hash   BLOB NOT NULL,     -- SHA-256 of the method, path and body it answered
    created_at     INTEGER NOT NULL,
    status         INTEGER NOT NULL,
    secret_version INTEGER NOT NULL,
    sealed_answer  BLOB NOT NULL      -- the answer's body, AES-256-GCM under that version
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
