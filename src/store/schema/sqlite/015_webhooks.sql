-- 015_webhooks.sql - webhooks per org and their outbox (issue 15, item 5;
-- docs/api/webhooks.md).
--
-- webhooks: where an org's credential events go. The signing secret is kept
-- sealed (AES-256-GCM under the server secret's version secret_version, as
-- API keys are); events is a bit mask of the event types (auth/events.h).
--
-- webhook_deliveries is the outbox: one row per (event, webhook), written in
-- the same transaction as the change that caused the event, so that an event
-- is delivered if and only if its change committed, and a restart loses
-- none. state 0 pending, 1 delivered, 2 given up. A delivery thread claims
-- due rows by setting lease_token and lease_until (several keyhold nodes on
-- one PostgreSQL never send one row at the same time), sends, and records the
-- outcome here and in webhook_attempts (the delivery log). body is the
-- event's JSON: ids, names, kinds, owner and times, never a secret.
--
-- expiry_notices: the expiry warnings already enqueued (notice 1: in 7 days,
-- 2: in 1 day, 3: expired), so that each is sent once.
CREATE TABLE webhooks (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    name           TEXT NOT NULL,
    url            TEXT NOT NULL,
    events         INTEGER NOT NULL,
    enabled        INTEGER NOT NULL,
    secret_version INTEGER NOT NULL,
    secret_sealed  BLOB NOT NULL,
    created_by     TEXT,
    created_at     INTEGER NOT NULL,
    modified_at    INTEGER NOT NULL
);
CREATE INDEX webhooks_org ON webhooks(org_id, created_at, id);

CREATE TABLE webhook_deliveries (
    webhook_id      TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    state           INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_token     TEXT,
    lease_until     INTEGER,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER,
    PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, created_at, event_id);
CREATE INDEX webhook_deliveries_lease ON webhook_deliveries(lease_token);

CREATE TABLE webhook_attempts (
    webhook_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, event_id, attempt)
);

CREATE TABLE expiry_notices (
    token_id TEXT NOT NULL,
    notice   INTEGER NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (token_id, notice)
);
