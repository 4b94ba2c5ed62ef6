-- 005_token_counts.sql - live (unrevoked) tokens per org, owner and kind,
-- kept by triggers in the same transaction as every token write, so that a
-- list page's total count costs a handful of rows instead of a scan of the
-- org's tokens. Tokens past their expiry are still counted here; list
-- queries subtract them with a range scan of tokens_org_expires, whose cost
-- follows the expired-but-unrevoked tokens, not the table.
CREATE TABLE token_counts (
    org_id   TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    kind     INTEGER NOT NULL,
    live     INTEGER NOT NULL,
    PRIMARY KEY (org_id, owner_id, kind)
) WITHOUT ROWID;

INSERT INTO token_counts (org_id, owner_id, kind, live)
    SELECT org_id, owner_id, kind, count(*) FROM tokens WHERE revoked_at IS NULL GROUP BY org_id, owner_id, kind;

CREATE TRIGGER tokens_count_insert AFTER INSERT ON tokens WHEN NEW.revoked_at IS NULL
BEGIN
    INSERT INTO token_counts (org_id, owner_id, kind, live) VALUES (NEW.org_id, NEW.owner_id, NEW.kind, 1)
        ON CONFLICT (org_id, owner_id, kind) DO UPDATE SET live = live + 1;
END;

CREATE TRIGGER tokens_count_revoke AFTER UPDATE OF revoked_at ON tokens
    WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    UPDATE token_counts SET live = live - 1
        WHERE org_id = OLD.org_id AND owner_id = OLD.owner_id AND kind = OLD.kind;
END;

CREATE TRIGGER tokens_count_delete AFTER DELETE ON tokens WHEN OLD.revoked_at IS NULL
BEGIN
    UPDATE token_counts SET live = live - 1
        WHERE org_id = OLD.org_id AND owner_id = OLD.owner_id AND kind = OLD.kind;
END;
