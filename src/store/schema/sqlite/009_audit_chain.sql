-- 009_audit_chain.sql - the audit trail as a hash chain per org, so that a
-- changed, deleted or reordered event is found (`keyhold audit verify`).
-- Each event carries the hash of the org's previous event and its own hash
-- (SHA-256 over that and its fields, store_audit_hash); audit_heads keeps
-- each org's last hash and event count so that an insert needs no scan; the
-- signed checkpoints (HMAC under the server secret, written by the server)
-- let a verifier notice events removed from the end too. Events made before
-- this migration are chained at the first new event of their org.
ALTER TABLE audit_events ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_events ADD COLUMN hash BLOB;

CREATE TABLE audit_heads (
    org_key TEXT PRIMARY KEY,      -- the org id, or '' for events of no org
    count   INTEGER NOT NULL,      -- events chained so far
    hash    BLOB NOT NULL          -- the last one's hash
) WITHOUT ROWID;

CREATE TABLE audit_checkpoints (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_key        TEXT NOT NULL,
    count          INTEGER NOT NULL,
    hash           BLOB NOT NULL,
    at             INTEGER NOT NULL,
    secret_version INTEGER NOT NULL,
    mac            BLOB NOT NULL   -- HMAC-SHA-256 under that version's audit key
);
CREATE INDEX audit_checkpoints_org ON audit_checkpoints(org_key, count);

-- The Audit Trail API reads an org's events by time (GET /api/v2/audit/events).
CREATE INDEX audit_events_org_at ON audit_events(org_id, at, seq);
