-- 007_roles_invitations.sql - Datadog's managed roles and the rest of the
-- Roles and Users APIs (issue 10).
--
-- roles.managed: one of Datadog's three managed roles ("Datadog Admin Role",
-- "Datadog Standard Role", "Datadog Read Only Role"), whose permissions
-- follow the catalogue and cannot be changed through the API. Orgs made
-- before this migration had an admin role of that name, made by init.
-- roles.receives_permissions_from: JSON array of managed role names whose
-- new permissions the role also receives, or NULL.
ALTER TABLE roles ADD COLUMN managed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE roles ADD COLUMN receives_permissions_from TEXT;
UPDATE roles SET managed = 1 WHERE name = 'Datadog Admin Role';

-- Invitations to join an org (POST /api/v2/user_invitations). Nothing is
-- mailed: an invitation is stored, audited and can be read back by id.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    invite_type  TEXT NOT NULL,
    login_method TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX invitations_user ON invitations(user_id);

-- users.verified: 0 while a user made through the API has not joined
-- (Datadog's "Pending" status); users made by the command line, and
-- service accounts, are verified from the start.
ALTER TABLE users ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;
