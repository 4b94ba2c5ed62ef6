-- 013_history.sql - history instead of vanishing (issue 15, item 3).
--
-- Who revoked a token and why (revoked_at was kept already). A tombstone for
-- each API and application key deleted, written in the transaction of the
-- delete: only what a list shows (name, last4, owner, dates), never the
-- sealed value or the lookup hash. Revoked and expired tokens and the
-- tombstones are listed for a retention period, then pruned by the writer.
ALTER TABLE tokens ADD COLUMN revoked_by TEXT;    -- the actor as the audit trail names it
ALTER TABLE tokens ADD COLUMN revoke_reason TEXT;
CREATE INDEX tokens_org_revoked ON tokens(org_id, revoked_at, id) WHERE revoked_at IS NOT NULL;

CREATE TABLE credential_history (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    kind       INTEGER NOT NULL,   -- 1 API key, 2 application key
    name       TEXT NOT NULL,
    owner_id   TEXT,               -- the application key's owner, the API key's creator
    last4      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at   INTEGER NOT NULL,
    ended_by   TEXT,               -- the actor as the audit trail names it
    reason     TEXT
);
CREATE INDEX credential_history_org_ended ON credential_history(org_id, ended_at, id);

-- Pruning a dead token (revoked, or expired before dead_before, which the
-- prune sets first) must not make every in-memory copy of token names
-- (namecol.c) rebuild: a copy that has seen the row's last change (its rev)
-- no longer shows it (revoked: removed; expired: past its expiry for good),
-- so only a copy older than that rev is told to rebuild. Deleting a live
-- token still moves the revision as before (010).
ALTER TABLE token_rev ADD COLUMN dead_before INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER tokens_rev_delete;
CREATE TRIGGER tokens_rev_delete AFTER DELETE ON tokens
BEGIN
    UPDATE token_rev SET rev = rev + 1, deleted_rev = rev + 1
     WHERE OLD.revoked_at IS NULL AND (OLD.expires_at IS NULL OR OLD.expires_at > dead_before);
    UPDATE token_rev SET deleted_rev = OLD.rev
     WHERE deleted_rev < OLD.rev
       AND NOT (OLD.revoked_at IS NULL AND (OLD.expires_at IS NULL OR OLD.expires_at > dead_before));
END;
