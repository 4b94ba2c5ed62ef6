-- 006_history.sql - history instead of vanishing (issue 15, item 3); see the
-- SQLite migration 013_history.sql: who revoked a token and why, tombstones
-- of deleted API and application keys (no secret, sealed value or lookup
-- hash), and pruning dead tokens without making every in-memory copy of
-- token names rebuild.
ALTER TABLE tokens ADD COLUMN revoked_by TEXT;
ALTER TABLE tokens ADD COLUMN revoke_reason TEXT;
CREATE INDEX tokens_org_revoked ON tokens(org_id, revoked_at, id) WHERE revoked_at IS NOT NULL;

CREATE TABLE credential_history (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    kind       INTEGER NOT NULL,
    name       TEXT NOT NULL,
    owner_id   TEXT,
    last4      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    ended_at   BIGINT NOT NULL,
    ended_by   TEXT,
    reason     TEXT
);
CREATE INDEX credential_history_org_ended ON credential_history(org_id, ended_at, id);

ALTER TABLE token_rev ADD COLUMN dead_before BIGINT NOT NULL DEFAULT 0;
CREATE OR REPLACE FUNCTION keyhold_token_rev() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r BIGINT;
BEGIN
    -- A dead row (revoked, or expired before the prune's cutoff): only a copy
    -- older than its last change rebuilds (013_history.sql of SQLite).
    IF TG_OP = 'DELETE' AND (OLD.revoked_at IS NOT NULL
                             OR OLD.expires_at <= (SELECT dead_before FROM token_rev WHERE id = 1)) THEN
        UPDATE token_rev SET deleted_rev = OLD.rev WHERE id = 1 AND deleted_rev < OLD.rev;
        RETURN OLD;
    END IF;
    r := NULLIF(current_setting('keyhold.token_rev', true), '')::BIGINT;
    IF r IS NULL THEN
        UPDATE token_rev SET rev = rev + 1 RETURNING rev INTO r;
        PERFORM set_config('keyhold.token_rev', r::text, true);
    END IF;
    IF TG_OP = 'DELETE' THEN
        UPDATE token_rev SET deleted_rev = r WHERE deleted_rev < r;
        RETURN OLD;
    END IF;
    NEW.rev := r;
    RETURN NEW;
END $$;
