-- 010_token_revs.sql - a revision number on every token row and one counter,
-- so that an in-memory copy of an org's token names (src/store/namecol.c,
-- the name filter of the token lists) can be brought up to date exactly: a
-- reader reads the counter and the rows changed since its copy (rev > the
-- copy's) in one read transaction, i.e. one snapshot.
--
-- Triggers, in the same transaction as the write, take the next value of
-- token_rev.rev for every inserted row and for every update of a column a
-- list depends on (not last_used_at, which changes all the time and no
-- in-memory list uses). A deleted row leaves no row to find, so a delete
-- records its revision in deleted_rev: a copy older than that is rebuilt.
-- SQLite runs one writer at a time, so revisions follow commit order. (On
-- PostgreSQL a transaction's rows share one revision: see its 003.)
ALTER TABLE tokens ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_org_rev ON tokens(org_id, rev, id);

CREATE TABLE token_rev (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    rev         INTEGER NOT NULL,
    deleted_rev INTEGER NOT NULL
);
INSERT INTO token_rev (id, rev, deleted_rev) VALUES (1, 0, 0);

CREATE TRIGGER tokens_rev_insert AFTER INSERT ON tokens
BEGIN
    UPDATE token_rev SET rev = rev + 1;
    UPDATE tokens SET rev = (SELECT rev FROM token_rev) WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER tokens_rev_update
    AFTER UPDATE OF id, org_id, owner_id, kind, name, created_at, expires_at, revoked_at ON tokens
BEGIN
    UPDATE token_rev SET rev = rev + 1;
    UPDATE tokens SET rev = (SELECT rev FROM token_rev) WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER tokens_rev_delete AFTER DELETE ON tokens
BEGIN
    UPDATE token_rev SET rev = rev + 1, deleted_rev = rev + 1;
END;
