-- 008_webhooks.sql - webhooks per org, their outbox and delivery log, and
-- the expiry warnings already sent (see the SQLite migration 015_webhooks.sql).
CREATE TABLE webhooks (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    name           TEXT NOT NULL,
    url            TEXT NOT NULL,
    events         BIGINT NOT NULL,
    enabled        INTEGER NOT NULL,
    secret_version INTEGER NOT NULL,
    secret_sealed  BYTEA NOT NULL,
    created_by     TEXT,
    created_at     BIGINT NOT NULL,
    modified_at    BIGINT NOT NULL
);
CREATE INDEX webhooks_org ON webhooks(org_id, created_at, id);

CREATE TABLE webhook_deliveries (
    webhook_id      TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    state           INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_token     TEXT,
    lease_until     BIGINT,
    last_attempt_at BIGINT,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    BIGINT,
    PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, created_at, event_id);
CREATE INDEX webhook_deliveries_lease ON webhook_deliveries(lease_token);

CREATE TABLE webhook_attempts (
    webhook_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    status_code INTEGER,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, event_id, attempt)
);

CREATE TABLE expiry_notices (
    token_id TEXT NOT NULL,
    notice   INTEGER NOT NULL,
    sent_at  BIGINT NOT NULL,
    PRIMARY KEY (token_id, notice)
);
