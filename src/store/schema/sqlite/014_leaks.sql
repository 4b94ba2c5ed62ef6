-- 014_leaks.sql - the leak loop (issue 15, item 4; docs/operations/leaks.md).
--
-- credential_leaks: one row per credential a report proved leaked (a
-- reported value matched it through the same keyed lookup hashes
-- authentication uses). It outlives the credential (a revoked token stays,
-- a deleted key's row goes), so that a leak is remembered. No secret is
-- stored: only the credential's id and what the report said about where it
-- was seen. action is what the org's policy did at the latest report:
-- 'revoked' (token revoked, key deleted) or 'quarantined' (kept working,
-- flagged).
CREATE TABLE credential_leaks (
    credential_id    TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    kind             TEXT NOT NULL,     -- api_key, application_key, personal_access_token, service_access_token
    leaked_at        INTEGER NOT NULL,  -- the first report
    last_reported_at INTEGER NOT NULL,
    reports          INTEGER NOT NULL,
    url              TEXT,              -- where the first report saw it (the report's url)
    source           TEXT,              -- the report's source (GitHub: content, commit, ...)
    reporter         TEXT NOT NULL,     -- 'github:<key id>' or 'credential:<id>' of an authenticated caller
    action           TEXT NOT NULL      -- revoked | quarantined
) WITHOUT ROWID;
CREATE INDEX credential_leaks_org ON credential_leaks(org_id, kind, leaked_at);

-- What an org does with a leaked credential; no row = the default (revoke).
CREATE TABLE leak_policies (
    org_id      TEXT PRIMARY KEY,
    policy      TEXT NOT NULL,          -- revoke | quarantine
    modified_at INTEGER NOT NULL,
    modified_by TEXT NOT NULL
) WITHOUT ROWID;

-- Every report received, matched or not (so that each one writes and
-- commits the same way, and an operator sees the reports arrive).
CREATE TABLE leak_reports (
    id          TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    reporter    TEXT NOT NULL,
    entries     INTEGER NOT NULL,
    matched     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX leak_reports_received ON leak_reports(received_at);
