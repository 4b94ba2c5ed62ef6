-- 001_init.sql - the first keyhold schema (SQLite dialect).
--
-- Ids are UUID strings. Timestamps are INTEGER microseconds since the epoch,
-- UTC; NULL where the API shows null. No secret is stored in plain text:
--   api_keys.key_lookup / app_keys.key_lookup  HMAC-SHA-256(lookup_key, value),
--       the unique index a presented key is found by;
--   api_keys.key_sealed / app_keys.key_sealed  AES-256-GCM(enc_key, value),
--       nonce || ciphertext || tag, decrypted only to answer reads that
--       Datadog's API answers with the full key;
--   tokens.secret_hash  HMAC-SHA-256(token_key, SECRET part of the token).
-- List indexes are partial on live rows and end with id, so a page is an
-- index range scan whatever the table size.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    email           TEXT NOT NULL,
    name            TEXT,
    title           TEXT,
    service_account INTEGER NOT NULL DEFAULT 0,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    modified_at     INTEGER NOT NULL
);
CREATE INDEX users_org_email ON users(org_id, email);

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX roles_org_name ON roles(org_id, name);

CREATE TABLE role_permissions (
    role_id    TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
) WITHOUT ROWID;

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
) WITHOUT ROWID;
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
    created_at                 INTEGER NOT NULL,
    modified_at                INTEGER NOT NULL,
    last_used_at               INTEGER,
    key_lookup                 BLOB NOT NULL UNIQUE,
    key_sealed                 BLOB NOT NULL
);
CREATE INDEX api_keys_org_name ON api_keys(org_id, name COLLATE NOCASE, id);
CREATE INDEX api_keys_org_created ON api_keys(org_id, created_at, id);
CREATE INDEX api_keys_org_modified ON api_keys(org_id, modified_at, id);
CREATE INDEX api_keys_org_last4 ON api_keys(org_id, last4, id);

CREATE TABLE app_keys (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    owner_id     TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    last4        TEXT NOT NULL,
    scopes       TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    key_lookup   BLOB NOT NULL UNIQUE,
    key_sealed   BLOB NOT NULL
);
CREATE INDEX app_keys_org_name ON app_keys(org_id, name COLLATE NOCASE, id);
CREATE INDEX app_keys_owner_name ON app_keys(owner_id, name COLLATE NOCASE, id);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    owner_id     TEXT NOT NULL REFERENCES users(id),
    kind         INTEGER NOT NULL, -- 1 personal access token, 2 service access token
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,    -- JSON array of permission names
    secret_hash  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX tokens_org_name ON tokens(org_id, name COLLATE NOCASE, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_org_created ON tokens(org_id, created_at, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_org_expires ON tokens(org_id, expires_at, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_org_last_used ON tokens(org_id, last_used_at, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_owner_name ON tokens(owner_id, name COLLATE NOCASE, id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_owner_created ON tokens(owner_id, created_at, id) WHERE revoked_at IS NULL;
