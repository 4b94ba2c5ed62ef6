-- 003_token_revs.sql - as the SQLite schema's 010: a revision number on
-- every token row and one counter, so that an in-memory copy of an org's
-- token names (src/store/namecol.c) can be brought up to date exactly from
-- the rows changed since it was made (rev > the copy's), read in the same
-- snapshot as the counter.
--
-- A BEFORE trigger gives each inserted row, and each row whose listed
-- columns are updated (not last_used_at), the revision of its transaction:
-- the first such row of a transaction takes the next value of
-- token_rev.rev, and the transaction's later rows the same (a
-- transaction-local setting remembers it). Once per transaction, because
-- PostgreSQL writes a new version of the counter row at each update, and a
-- transaction updating it 100,000 times (keyhold seed) would walk ever
-- longer chains of versions. The counter row's lock is held until the
-- writing transaction ends, so a second writer takes its revision only after
-- the first has committed (or rolled back): revisions follow commit order,
-- and a snapshot that sees the counter at R sees every row with rev <= R and
-- none above. A delete records its revision in deleted_rev: a copy older
-- than that is rebuilt.
ALTER TABLE tokens ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tokens_org_rev ON tokens(org_id, rev, id);

CREATE TABLE token_rev (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    rev         BIGINT NOT NULL,
    deleted_rev BIGINT NOT NULL
);
INSERT INTO token_rev (id, rev, deleted_rev) VALUES (1, 0, 0);

CREATE FUNCTION keyhold_token_rev() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r BIGINT := NULLIF(current_setting('keyhold.token_rev', true), '')::BIGINT;
BEGIN
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
CREATE TRIGGER tokens_rev BEFORE INSERT OR DELETE
    OR UPDATE OF id, org_id, owner_id, kind, name, created_at, expires_at, revoked_at ON tokens
    FOR EACH ROW EXECUTE FUNCTION keyhold_token_rev();
