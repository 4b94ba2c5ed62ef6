-- 003_audit.sql - the audit trail of credential events: who did what to
-- which credential, when and from where. Never a secret: ids and last 4 only.

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,   -- microseconds since the epoch, UTC
    org_id      TEXT,
    actor_id    TEXT,               -- the user who acted, when known
    action      TEXT NOT NULL,      -- created, updated, revoked, deleted, disabled, first_use, auth_failure_burst, ...
    target_kind TEXT NOT NULL,      -- api_key, application_key, personal_access_token, ...
    target_id   TEXT,
    source      TEXT                -- the client's address
);
CREATE INDEX audit_events_at ON audit_events(at);
