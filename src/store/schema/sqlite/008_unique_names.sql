-- 008_unique_names.sql - an org's name and a user's email within an org are
-- unique, compared without regard to ASCII case (issue 11): Datadog answers
-- 409 to a second user with an email its org already has.
--
-- Not unique indexes: a store made before this migration may already hold
-- such duplicates, and a migration that failed on them would lock the store
-- out. The inserts and updates check instead (store_sqlite.c, in the same
-- statement or transaction); these indexes keep that check an index lookup.

CREATE INDEX users_org_email_nocase ON users(org_id, lower(email));
CREATE INDEX orgs_name_nocase ON orgs(lower(name));
