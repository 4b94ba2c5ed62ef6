-- 005_usage.sql - who still uses a credential: requests per day, routes and
-- the last few clients per credential id (see the SQLite migration
-- 012_usage.sql).
CREATE TABLE credential_usage_days (
    credential_id TEXT NOT NULL,
    day           BIGINT NOT NULL,
    requests      BIGINT NOT NULL,
    PRIMARY KEY (credential_id, day)
);
CREATE INDEX credential_usage_days_day ON credential_usage_days(day);

CREATE TABLE credential_usage_routes (
    credential_id TEXT NOT NULL,
    route         TEXT NOT NULL,
    requests      BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    PRIMARY KEY (credential_id, route)
);
CREATE INDEX credential_usage_routes_seen ON credential_usage_routes(last_seen);

CREATE TABLE credential_usage_clients (
    credential_id TEXT NOT NULL,
    address       TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    last_seen     BIGINT NOT NULL,
    PRIMARY KEY (credential_id, address, user_agent)
);
CREATE INDEX credential_usage_clients_seen ON credential_usage_clients(last_seen);
