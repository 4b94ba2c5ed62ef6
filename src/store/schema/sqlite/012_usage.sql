-- 012_usage.sql - who still uses a credential (issue 15, item 2): requests
-- per day, the routes called and the last few distinct clients, for every
-- API key, application key and token, by credential id (ids are UUIDs, never
-- shared between kinds). Written only by the writer thread's flush of the
-- event loops' usage buffers (src/auth/usage.h): one upsert per credential
-- and day, route and client per flush, adding to what is there, never a
-- write per request. The writer's upkeep forgets what is older than 30 days;
-- a credential keeps at most its 5 latest clients.
CREATE TABLE credential_usage_days (
    credential_id TEXT NOT NULL,
    day           INTEGER NOT NULL,  -- days since 1970-01-01, UTC
    requests      INTEGER NOT NULL,
    PRIMARY KEY (credential_id, day)
) WITHOUT ROWID;
CREATE INDEX credential_usage_days_day ON credential_usage_days(day);

CREATE TABLE credential_usage_routes (
    credential_id TEXT NOT NULL,
    route         TEXT NOT NULL,     -- "GET /api/v2/api_keys/{id}": the route's template, never a path
    requests      INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    PRIMARY KEY (credential_id, route)
) WITHOUT ROWID;
CREATE INDEX credential_usage_routes_seen ON credential_usage_routes(last_seen);

CREATE TABLE credential_usage_clients (
    credential_id TEXT NOT NULL,
    address       TEXT NOT NULL,     -- the client's address as the server saw it
    user_agent    TEXT NOT NULL,     -- printable ASCII, cut to 200 bytes; '' when none was sent
    last_seen     INTEGER NOT NULL,
    PRIMARY KEY (credential_id, address, user_agent)
) WITHOUT ROWID;
CREATE INDEX credential_usage_clients_seen ON credential_usage_clients(last_seen);
