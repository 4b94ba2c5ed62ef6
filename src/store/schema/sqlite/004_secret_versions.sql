-- 004_secret_versions.sql - the server secret is versioned (keyhold
-- rotate-secret): every sealed key and token hash records the version of the
-- secret it was made under. Rows made before versioning are version 1.
ALTER TABLE api_keys ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE app_keys ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tokens ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 1;
