-- 002_lists.sql - indexes for the application key, user and role lists of
-- issue 3, so their pages are index range scans like the token lists.

CREATE INDEX app_keys_org_created ON app_keys(org_id, created_at, id);
CREATE INDEX app_keys_org_last4 ON app_keys(org_id, last4, id);
CREATE INDEX app_keys_owner_created ON app_keys(owner_id, created_at, id);
CREATE INDEX users_org_name ON users(org_id, name COLLATE NOCASE, id);
CREATE INDEX users_org_created ON users(org_id, created_at, id);
