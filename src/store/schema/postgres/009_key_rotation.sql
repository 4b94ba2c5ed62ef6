-- 009_key_rotation.sql - rotating an API or application key with an overlap
-- (issue 15, item 1), as 004 does for tokens: the new value's lookup hash
-- and sealed value replace the old ones; the old lookup hash is kept, with
-- the secret version whose lookup key made it, until prev_valid_until (the
-- grace chosen at rotation, or the new value's first use, whichever comes
-- first). The old value itself is not kept: nothing shows it again.
ALTER TABLE api_keys ADD COLUMN prev_key_lookup BYTEA;
ALTER TABLE api_keys ADD COLUMN prev_secret_version INTEGER;
ALTER TABLE api_keys ADD COLUMN prev_valid_until BIGINT;
ALTER TABLE api_keys ADD COLUMN rotated_at BIGINT;
ALTER TABLE app_keys ADD COLUMN prev_key_lookup BYTEA;
ALTER TABLE app_keys ADD COLUMN prev_secret_version INTEGER;
ALTER TABLE app_keys ADD COLUMN prev_valid_until BIGINT;
ALTER TABLE app_keys ADD COLUMN rotated_at BIGINT;
-- Only keys in an overlap are in these: a presented value that matches no
-- key is looked up here too, at the cost of a probe of a near-empty index.
CREATE INDEX api_keys_prev_lookup ON api_keys(prev_key_lookup) WHERE prev_key_lookup IS NOT NULL;
CREATE INDEX app_keys_prev_lookup ON app_keys(prev_key_lookup) WHERE prev_key_lookup IS NOT NULL;
