-- 009_audit_chain.sql - the audit trail as a hash chain per org, so that a
-- changed, deleted or reordered event is found (`keyhold audit verify`).
-- Each event carries the hash of the org's previous event and its own hash
-- (SHA-256 over that and its fields, store_audit_hash); audit_heads keeps
-- each org's last hash and event count so that an insert needs no scan; the
-- signed checkpoints (HMAC under the server secret, written by the server)
-- let a verifier notice a chain rewritten or cut short too. Events made
-- before this migration are chained when a server next starts.
ALTER TABLE audit_events ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_events ADD COLUMN hash BLOB;

CREATE TABLE audit_heads (
    org_key TEXT PRIMARY KEY,      -- the org id, or '' for events of no org
    count   INTEGER NOT NULL,      -- events chained so far
    hash    BLOB NOT NULL          -- the last one's hash
) WITHOUT ROWID;

-- One signed checkpoint per beat, numbered without gaps, each naming every
-- org's chain head as of event max_seq and the digest of the checkpoint
-- before it: removing, changing or reordering checkpoints breaks that
-- chain, and a later checkpoint vouches for the earlier ones.
CREATE TABLE audit_checkpoints (
    number         INTEGER PRIMARY KEY,  -- 1, 2, 3, ...
    at             INTEGER NOT NULL,
    max_seq        INTEGER NOT NULL,     -- the events it covers: seq <= max_seq
    heads          TEXT NOT NULL,         -- "<org> <count> <hash hex>" lines, sorted by org ('-' for no org)
    prev_digest    BLOB NOT NULL,       -- SHA-256 of the checkpoint before (zeros for the first)
    secret_version INTEGER NOT NULL,
    mac            BLOB NOT NULL        -- HMAC-SHA-256 under that version's audit key
);

-- The Audit Trail API reads an org's events by time (GET /api/v2/audit/events).
CREATE INDEX audit_events_org_at ON audit_events(org_id, at, seq);
