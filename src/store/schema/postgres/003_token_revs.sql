-- 003_token_revs.sql - as the SQLite schema's 010: a revision number on
-- every token row and one counter, so that an in-memory copy of an org's
-- token names (src/store/namecol.c) can be brought up to date exactly from
-- the rows changed since it was made (rev > the copy's), read in the same
-- snapshot as the counter.
--
-- A BEFORE trigger gives each inserted row, and each row whose listed
-- columns are updated (not last_used_at), the next value of token_rev.rev.
-- The counter row's lock is held until the writing transaction ends, so a
-- second writer takes its revision only after the first has committed (or
-- rolled back): revisions follow commit order, and a snapshot that sees the
-- counter at R sees every row with rev <= R and none above. A delete
-- records its revision in deleted_rev: a copy older than that is rebuilt.
ALTER TABLE tokens ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tokens_org_rev ON tokens(org_id, rev);

CREATE TABLE token_rev (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    rev         BIGINT NOT NULL,
    deleted_rev BIGINT NOT NULL
);
INSERT INTO token_rev (id, rev, deleted_rev) VALUES (1, 0, 0);

CREATE FUNCTION keyhold_token_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE token_rev SET rev = rev + 1, deleted_rev = rev + 1;
        RETURN OLD;
    END IF;
    UPDATE token_rev SET rev = rev + 1 RETURNING rev INTO NEW.rev;
    RETURN NEW;
END $$;
CREATE TRIGGER tokens_rev BEFORE INSERT OR DELETE
    OR UPDATE OF id, org_id, owner_id, kind, name, created_at, expires_at, revoked_at ON tokens
    FOR EACH ROW EXECUTE FUNCTION keyhold_token_rev();
