// stall.test.mjs - no event loop writes to the store (issue 11, finding 8).
// Another process holds the store's write lock, as a long write elsewhere
// would. Reads that used to write an audit row on the event loop (a
// credential's first use, every use of an expired token) must still be
// answered at once, and so must the requests beside them on the same loops;
// their events land once the lock is gone, one first_use per credential
// however many connections used it first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { Server, BIN, PG } from "./helpers.mjs";

// The store waits this long for a lock before giving up (store_sqlite.c,
// BUSY_TIMEOUT_MS): a read that writes on the event loop would wait for it.
const STORE_BUSY_TIMEOUT_MS = 5000;

/** Holds the store's write lock until release() is called: SQLite's on the
 * file, or on PostgreSQL the advisory lock every keyhold writer takes
 * (store_pg.c, WRITE_LOCK_KEY), from a psql session. */
async function holdWriteLock(db) {
  const proc = PG
    ? spawn("psql", [PG, "-qAt"], { stdio: ["pipe", "pipe", "pipe"] })
    : spawn("sqlite3", [db], { stdio: ["pipe", "pipe", "pipe"] });
  const begin = PG ? "BEGIN;\nSELECT pg_advisory_xact_lock(7166513);\nSELECT 'locked';\n"
    : "PRAGMA busy_timeout=10000;\nBEGIN IMMEDIATE;\nSELECT 'locked';\n";
  let out = "";
  await new Promise((res, rej) => {
    proc.stdout.on("data", (d) => {
      out += d;
      if (out.includes("locked")) res();
    });
    proc.on("error", rej);
    proc.on("exit", (code) => rej(new Error(`sqlite3 exited ${code}`)));
    proc.stdin.write(begin);
  });
  return {
    release: () => new Promise((res) => {
      proc.removeAllListeners("exit");
      proc.on("exit", res);
      proc.stdin.end(PG ? "ROLLBACK;\n\\q\n" : "ROLLBACK;\n.quit\n");
    }),
  };
}

const pat = (name, expiresAt) => JSON.stringify({
  data: { type: "personal_access_tokens", attributes: { name, scopes: ["api_keys_read"], expires_at: expiresAt.toISOString() } },
});

function p99(ms) {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

test("first uses and expired tokens are answered at once while the store is locked; their events land after", async (t) => {
  // The flood is of failed authentications on purpose: no limit on those here.
  const srv = await new Server().start("--usage-flush-ms", "100", "--rate-limit-auth-failures", "0");
  const h = { ...srv.keyHeaders(), "content-type": "application/json" };
  const fresh = [];
  for (let i = 0; i < 6; i++) {
    const r = await srv.raw("POST", "/api/v2/personal_access_tokens", { headers: h, body: pat(`fresh ${i}`, new Date(Date.now() + 48 * 3600e3)) });
    assert.equal(r.status, 201, r.body);
    fresh.push({ id: r.json.data.id, token: srv.remember(r.json.data.attributes.key) });
  }
  // An expired token: a service account's, expiring in 1.5 s (a PAT may not
  // be that short-lived).
  const roleId = (await srv.raw("GET", "/api/v2/roles?filter=Admin", { headers: h })).json.data[0].id;
  const sa = await srv.raw("POST", "/api/v2/service_accounts", { headers: h, body: JSON.stringify({
    data: { type: "users", attributes: { email: "robot@one.example", service_account: true },
      relationships: { roles: { data: [{ id: roleId, type: "roles" }] } } } }) });
  assert.equal(sa.status, 201, sa.body);
  const soon = new Date(Date.now() + 1500);
  const r = await srv.raw("POST", `/api/v2/service_accounts/${sa.json.data.id}/access_tokens`, { headers: h, body: JSON.stringify({
    data: { type: "service_access_tokens", attributes: { name: "expiring", scopes: ["api_keys_read"], expires_at: soon.toISOString() } } }) });
  assert.equal(r.status, 201, r.body);
  const expired = { id: r.json.data.id, token: srv.remember(r.json.data.attributes.key), owner: sa.json.data.id };
  await new Promise((res) => setTimeout(res, Math.max(0, soon - Date.now()) + 200));
  // Warm the admin's credentials (their own first use) before the lock.
  assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders() })).status, 200);
  await new Promise((res) => setTimeout(res, 300));

  const lock = await holdWriteLock(srv.db);
  const timed = async (headers, want) => {
    const started = performance.now();
    const res = await srv.raw("GET", "/api/v2/api_keys", { headers });
    assert.equal(res.status, want, res.body);
    return performance.now() - started;
  };
  let firstUses, floods, others;
  try {
    // Each fresh token first used from four connections at once (both loops).
    firstUses = await Promise.all(fresh.flatMap(({ token }) =>
      Array.from({ length: 4 }, () => timed({ Authorization: `Bearer ${token}` }, 200))));
    floods = [];
    others = [];
    for (let round = 0; round < 20; round++) {
      const batch = await Promise.all([
        ...Array.from({ length: 10 }, () => timed({ Authorization: `Bearer ${expired.token}` }, 403)),
        timed(srv.keyHeaders(), 200),
      ]);
      floods.push(...batch.slice(0, 10));
      others.push(batch[10]);
    }
  } finally {
    await lock.release();
  }
  const bound = STORE_BUSY_TIMEOUT_MS / 5;
  const ms = (v) => `${v.toFixed(1)} ms`;
  t.diagnostic(`store locked: first uses max ${ms(Math.max(...firstUses))}, expired-token flood max ${ms(Math.max(...floods))}, ` +
    `other requests p99 ${ms(p99(others))} (a write on the loop would wait up to ${STORE_BUSY_TIMEOUT_MS} ms)`);
  assert.ok(Math.max(...firstUses) < bound, `a first use waited ${Math.max(...firstUses)} ms for the store`);
  assert.ok(Math.max(...floods) < bound, `an expired token waited ${Math.max(...floods)} ms for the store`);
  assert.ok(p99(others) < bound, `other requests: p99 ${p99(others)} ms`);

  // After the lock: one first_use per fresh token, with who and from where,
  // and the expired token's uses as a handful of events, not one per request.
  let events = [];
  const of = (action, id) => events.filter((e) => e.action === action && e.target_id === id);
  for (const until = Date.now() + 15000; Date.now() < until; await new Promise((res) => setTimeout(res, 100))) {
    const out = spawnSync(BIN, ["audit", "--db", srv.db, "--json"], { encoding: "utf8" });
    assert.equal(out.status, 0, out.stderr);
    events = JSON.parse(out.stdout);
    if (fresh.every(({ id }) => of("first_use", id).length) && of("expired_use", expired.id).length) break;
  }
  for (const { id } of fresh) {
    const e = of("first_use", id);
    assert.equal(e.length, 1, `first_use events of ${id}`);
    assert.equal(e[0].target_kind, "personal_access_token");
    assert.equal(e[0].actor_id, srv.admin.user_id);
    assert.equal(e[0].org_id, srv.admin.org_id);
    assert.equal(e[0].source, "127.0.0.1");
  }
  const exp = of("expired_use", expired.id);
  assert.ok(exp.length >= 1 && exp.length <= 5, `${exp.length} expired_use events for 200 uses`);
  assert.equal(exp[0].actor_id, expired.owner);
  assert.equal(exp[0].org_id, srv.admin.org_id);
  await srv.stop();
});
