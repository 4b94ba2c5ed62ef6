-- 007_leaks.sql - the leak loop (see the SQLite migration 014_leaks.sql).
CREATE TABLE credential_leaks (
    credential_id    TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    leaked_at        BIGINT NOT NULL,
    last_reported_at BIGINT NOT NULL,
    reports          BIGINT NOT NULL,
    url              TEXT,
    source           TEXT,
    reporter         TEXT NOT NULL,
    action           TEXT NOT NULL
);
CREATE INDEX credential_leaks_org ON credential_leaks(org_id, kind, leaked_at);

CREATE TABLE leak_policies (
    org_id      TEXT PRIMARY KEY,
    policy      TEXT NOT NULL,
    modified_at BIGINT NOT NULL,
    modified_by TEXT NOT NULL
);

CREATE TABLE leak_reports (
    id          TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    reporter    TEXT NOT NULL,
    entries     BIGINT NOT NULL,
    matched     BIGINT NOT NULL
);
CREATE INDEX leak_reports_received ON leak_reports(received_at);
