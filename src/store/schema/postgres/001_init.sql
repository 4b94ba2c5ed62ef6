-- 001_init.sql - keyhold's schema on PostgreSQL: the SQLite schema's tables
-- as its migrations 001-008 leave them (src/store/schema/sqlite/), in
-- PostgreSQL's types, so that sql.c runs the same statements on both.
--
-- Ids are UUID strings. Timestamps are BIGINT microseconds since the epoch,
-- UTC; NULL where the API shows null. Flags are INTEGER 0/1, as in SQLite.
-- No secret is stored in plain text:
--   api_keys.key_lookup / app_keys.key_lookup  HMAC-SHA-256(lookup_key, value),
--       the unique index a presented key is found by;
--   api_keys.key_sealed / app_keys.key_sealed  AES-256-GCM(enc_key, value);
--   tokens.secret_hash  HMAC-SHA-256(token_key, SECRET part of the token).
-- The case-insensitive indexes are on lower(column): the sorts sql.c asks
-- PostgreSQL for are by lower(name) / lower(email) (the dialect in
-- store_pg.c).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX orgs_name_nocase ON orgs(lower(name));

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    email           TEXT NOT NULL,
    name            TEXT,
    title           TEXT,
    service_account INTEGER NOT NULL DEFAULT 0,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL,
    verified        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX users_org_email ON users(org_id, email);
CREATE INDEX users_org_email_nocase ON users(org_id, lower(email));
CREATE INDEX users_org_name ON users(org_id, lower(name), id);
CREATE INDEX users_org_created ON users(org_id, created_at, id);

CREATE TABLE roles (
    id                        TEXT PRIMARY KEY,
    org_id                    TEXT NOT NULL REFERENCES orgs(id),
    name                      TEXT NOT NULL,
    created_at                BIGINT NOT NULL,
    modified_at               BIGINT NOT NULL,
    managed                   INTEGER NOT NULL DEFAULT 0,
    receives_permissions_from TEXT
);
CREATE UNIQUE INDEX roles_org_name ON roles(org_id, name);

CREATE TABLE role_permissions (
    role_id    TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles(role_id);

CREATE TABLE api_keys (
    id                         TEXT PRIMARY KEY,
    org_id                     TEXT NOT NULL REFERENCES orgs(id),
    name                       TEXT NOT NULL,
    last4                      TEXT NOT NULL,
    category                   TEXT NOT NULL DEFAULT 'default',
    remote_config_read_enabled INTEGER NOT NULL DEFAULT 1,
    created_by                 TEXT NOT NULL,
    modified_by                TEXT,
    created_at                 BIGINT NOT NULL,
    modified_at                BIGINT NOT NULL,
    last_used_at               BIGINT,
    key_lookup                 BYTEA NOT NULL UNIQUE,
    key_sealed                 BYTEA NOT NULL,
    secret_version             INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX api_keys_org_name ON api_keys(org_id, lower(name), id);
CREATE INDEX api_keys_org_created ON api_keys(org_id, created_at, id);
CREATE INDEX api_keys_org_modified ON api_keys(org_id, modified_at, id);
CREATE INDEX api_keys_org_last4 ON api_keys(org_id, last4, id);

CREATE TABLE app_keys (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    owner_id       TEXT NOT NULL REFERENCES users(id),
    name           TEXT NOT NULL,
    last4          TEXT NOT NULL,
    scopes         TEXT,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT,
    key_lookup     BYTEA NOT NULL UNIQUE,
    key_sealed     BYTEA NOT NULL,
    secret_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX app_keys_org_name ON app_keys(org_id, lower(name), id);
CREATE INDEX app_keys_owner_name ON app_keys(owner_id, lower(name), id);
CREATE INDEX app_keys_org_created ON app_keys(org_id, created_at, id);
CREATE INDEX app_keys_org_last4 ON app_keys(org_id, last4, id);
CREATE INDEX app_keys_owner_created ON app_keys(owner_id, created_at, id);

CREATE TABLE tokens (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    owner_id       TEXT NOT NULL REFERENCES users(id),
    kind           INTEGER NOT NULL, -- 1 personal access token, 2 service access token
    name           TEXT NOT NULL,
    scopes         TEXT NOT NULL,    -- JSON array of permission names
    secret_hash    BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    modified_at    BIGINT,
    expires_at     BIGINT,
    last_used_at   BIGINT,
    revoked_at     BIGINT,
    secret_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tokens_org_name ON tokens(org_id, lower(name), expires_at, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_org_created ON tokens(org_id, created_at, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_org_expires ON tokens(org_id, expires_at, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_org_last_used ON tokens(org_id, last_used_at, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_owner_name ON tokens(owner_id, lower(name), expires_at, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_owner_created ON tokens(owner_id, created_at, id) WHERE revoked_at IS NULL;

-- Live (unrevoked) tokens per org, owner and kind, kept by a trigger in the
-- same transaction as every token write (see the SQLite schema's 005).
CREATE TABLE token_counts (
    org_id   TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    kind     INTEGER NOT NULL,
    live     BIGINT NOT NULL,
    PRIMARY KEY (org_id, owner_id, kind)
);

CREATE FUNCTION keyhold_count_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.revoked_at IS NULL THEN
        INSERT INTO token_counts (org_id, owner_id, kind, live) VALUES (NEW.org_id, NEW.owner_id, NEW.kind, 1)
            ON CONFLICT (org_id, owner_id, kind) DO UPDATE SET live = token_counts.live + 1;
    ELSIF TG_OP = 'UPDATE' AND OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        UPDATE token_counts SET live = live - 1
            WHERE org_id = OLD.org_id AND owner_id = OLD.owner_id AND kind = OLD.kind;
    ELSIF TG_OP = 'DELETE' AND OLD.revoked_at IS NULL THEN
        UPDATE token_counts SET live = live - 1
            WHERE org_id = OLD.org_id AND owner_id = OLD.owner_id AND kind = OLD.kind;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tokens_count AFTER INSERT OR UPDATE OF revoked_at OR DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION keyhold_count_tokens();

CREATE TABLE audit_events (
    seq         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    org_id      TEXT,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id   TEXT,
    source      TEXT
);
CREATE INDEX audit_events_at ON audit_events(at);

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    invite_type  TEXT NOT NULL,
    login_method TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX invitations_user ON invitations(user_id);

-- Every committed change is announced on the channel keyhold_changes, once
-- per transaction (PostgreSQL folds equal notifications of a transaction,
-- and delivers them only when it commits): the other nodes' change stamps
-- move, and their authentication caches forget what the change may touch.
CREATE FUNCTION keyhold_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('keyhold_changes', txid_current()::text);
    RETURN NULL;
END $$;
DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['meta', 'orgs', 'users', 'roles', 'role_permissions', 'user_roles', 'api_keys',
                             'app_keys', 'tokens', 'invitations'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION keyhold_announce_change()', t || '_changes', t);
    END LOOP;
END $$;
