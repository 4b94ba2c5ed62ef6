// nodes.test.mjs - several keyhold nodes on one PostgreSQL store (issue 12).
// Credentials made on one node work on the others; a revocation on one node
// is refused by the others at their next request once the change
// notification has arrived, for every kind of credential; the lag from a
// revocation's 204 on one node to the first 403 on another is measured
// under load; kill -9 of a node loses no acknowledged write; a PostgreSQL
// restart gives 503s, then the nodes recover by themselves.
//
// PostgreSQL only (KEYHOLD_TEST_PG, with KEYHOLD_TEST_PG_DIR naming the
// cluster tests/pg/with-cluster.sh started, for the restart).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request as httpRequest } from "node:http";
import { Server, PG, BIN, hoursFromNow } from "./helpers.mjs";

const skip = PG ? false : "several nodes need the PostgreSQL store";
const CLUSTER = new URL("../pg/cluster.sh", import.meta.url).pathname;
let a, b, c;
// The load here is one credential's, on purpose: no rate limits.
const NODE_ARGS = ["--usage-flush-ms", "200", "--rate-limit-org", "0", "--rate-limit-credential", "0",
  "--rate-limit-auth-failures", "0"];

before(async () => {
  if (skip) return;
  a = await new Server().start(...NODE_ARGS);
  b = Object.assign(new Server(a.dir), { admin: a.admin, secrets: a.secrets });
  c = Object.assign(new Server(a.dir), { admin: a.admin, secrets: a.secrets });
  await b.serve(...NODE_ARGS);
  await c.serve(...NODE_ARGS);
});

after(async () => {
  if (skip) return;
  for (const n of [c, b]) if (n.proc) await n.stop();
  if (a.proc) await a.stop();
});

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One request on a keep-alive connection; resolves {status, json, ms}. */
function call(node, method, path, headers = {}, body) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest({ host: "127.0.0.1", port: node.port, method, path, agent,
      headers: body ? { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) } : headers }, (res) => {
      const chunks = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => {
        let json;
        try { json = JSON.parse(Buffer.concat(chunks).toString()); } catch { json = undefined; }
        resolve({ status: res.statusCode, json, ms: performance.now() - started });
      });
    });
    req.on("error", (e) => resolve({ status: 0, error: e.code, ms: performance.now() - started }));
    if (body) req.write(body);
    req.end();
  });
}

const admin = () => ({ "DD-API-KEY": a.admin.api_key, "DD-APPLICATION-KEY": a.admin.app_key });
const bearer = (t) => ({ Authorization: `Bearer ${t}` });
const pat = (name) => JSON.stringify({ data: { type: "personal_access_tokens",
  attributes: { name, scopes: ["api_keys_read"], expires_at: hoursFromNow(48).toISOString() } } });

/** Polls node until path answers want (as fast as it answers); resolves the ms it took, or Infinity. */
async function untilStatus(node, path, headers, want, limitMs = 5000) {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    const r = await call(node, "GET", path, headers);
    if (r.status === want) return performance.now() - started;
  }
  return Infinity;
}

function percentile(values, p) {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

test("credentials made on one node work on every node", { skip }, async () => {
  const made = await call(a, "POST", "/api/v2/personal_access_tokens", admin(), pat("shared"));
  assert.equal(made.status, 201);
  const token = a.remember(made.json.data.attributes.key);
  for (const n of [a, b, c]) assert.equal((await call(n, "GET", "/api/v2/api_keys", bearer(token))).status, 200);
  const key = await call(b, "POST", "/api/v2/api_keys", admin(), JSON.stringify({ data: { type: "api_keys", attributes: { name: "made on b" } } }));
  assert.equal(key.status, 201);
  a.remember(key.json.data.attributes.key);
  for (const n of [a, b, c])
    assert.equal((await call(n, "GET", "/api/v1/validate", { "DD-API-KEY": key.json.data.attributes.key })).status, 200);
});

test("every kind of credential revoked on one node is refused by the others", { skip }, async () => {
  // An API key, an application key, a PAT, a SAT and a user's keys, each used
  // on b and c first (so that they are cached there), then revoked on a.
  const h = admin();
  const apiKey = (await call(a, "POST", "/api/v2/api_keys", h, JSON.stringify({ data: { type: "api_keys", attributes: { name: "to delete" } } }))).json.data;
  const appKey = (await call(a, "POST", "/api/v2/current_user/application_keys", h, JSON.stringify({ data: { type: "application_keys", attributes: { name: "to delete" } } }))).json.data;
  const token = (await call(a, "POST", "/api/v2/personal_access_tokens", h, pat("to revoke"))).json.data;
  const roleId = (await call(a, "GET", "/api/v2/roles?filter=Admin", h)).json.data[0].id;
  const sa = (await call(a, "POST", "/api/v2/service_accounts", h, JSON.stringify({ data: { type: "users",
    attributes: { email: "robot@nodes.example", service_account: true }, relationships: { roles: { data: [{ id: roleId, type: "roles" }] } } } }))).json.data;
  const sat = (await call(a, "POST", `/api/v2/service_accounts/${sa.id}/access_tokens`, h, JSON.stringify({ data: {
    type: "service_access_tokens", attributes: { name: "to revoke", scopes: ["api_keys_read"] } } }))).json.data;
  const user = (await call(a, "POST", "/api/v2/users", h, JSON.stringify({ data: { type: "users", attributes: { email: "leaver@nodes.example" },
    relationships: { roles: { data: [{ id: roleId, type: "roles" }] } } } }))).json.data;
  const usersKey = (await call(a, "POST", `/api/v2/service_accounts/${sa.id}/application_keys`, h,
    JSON.stringify({ data: { type: "application_keys", attributes: { name: "sa key" } } }))).json.data;
  for (const x of [apiKey, appKey, token, sat, usersKey]) a.remember(x.attributes.key);
  const cases = [
    ["API key", { "DD-API-KEY": apiKey.attributes.key }, "/api/v1/validate", () => call(a, "DELETE", `/api/v2/api_keys/${apiKey.id}`, h)],
    ["application key", { "DD-API-KEY": a.admin.api_key, "DD-APPLICATION-KEY": appKey.attributes.key }, "/api/v2/api_keys",
      () => call(a, "DELETE", `/api/v2/current_user/application_keys/${appKey.id}`, h)],
    ["PAT", bearer(token.attributes.key), "/api/v2/api_keys", () => call(a, "DELETE", `/api/v2/personal_access_tokens/${token.id}`, h)],
    ["SAT", bearer(sat.attributes.key), "/api/v2/api_keys",
      () => call(a, "DELETE", `/api/v2/service_accounts/${sa.id}/access_tokens/${sat.id}`, h)],
    ["disabled owner", { "DD-API-KEY": a.admin.api_key, "DD-APPLICATION-KEY": usersKey.attributes.key }, "/api/v2/api_keys",
      () => call(a, "PATCH", `/api/v2/users/${sa.id}`, h, JSON.stringify({ data: { type: "users", id: sa.id, attributes: { disabled: true } } }))],
  ];
  assert.ok(user.id);
  for (const [kind, headers, path, revoke] of cases) {
    for (const n of [b, c]) assert.equal((await call(n, "GET", path, headers)).status, 200, `${kind} works on the node first`);
    const r = await revoke();
    assert.ok(r.status === 204 || r.status === 200, `${kind}: revoked (${r.status})`);
    for (const n of [b, c]) {
      const lag = await untilStatus(n, path, headers, 403);
      assert.ok(lag < Infinity, `${kind} is refused by the other node`);
    }
  }
});

test("revocation lag across nodes, under validate load: p50, p99, max", { skip, timeout: 300000 }, async (t) => {
  const N = 200;
  const tokens = [];
  for (let i = 0; i < N; i++) {
    const r = await call(a, "POST", "/api/v2/personal_access_tokens", admin(), pat(`lag ${i}`));
    assert.equal(r.status, 201);
    tokens.push({ id: r.json.data.id, key: a.remember(r.json.data.attributes.key) });
  }
  // Validate load on every node while the revocations run.
  let loading = true, served = 0;
  const load = Array.from({ length: 6 }, (_, i) => (async () => {
    const n = [a, b, c][i % 3];
    while (loading) if ((await call(n, "GET", "/api/v1/validate", { "DD-API-KEY": a.admin.api_key })).status === 200) served++;
  })());
  const lags = [];
  try {
    for (const tok of tokens) {
      assert.equal((await call(b, "GET", "/api/v2/api_keys", bearer(tok.key))).status, 200); // cached on b
      const r = await call(a, "DELETE", `/api/v2/personal_access_tokens/${tok.id}`, admin());
      assert.equal(r.status, 204);
      const lag = await untilStatus(b, "/api/v2/api_keys", bearer(tok.key), 403);
      assert.ok(lag < Infinity, "refused on the other node");
      lags.push(lag);
    }
  } finally {
    loading = false;
    await Promise.all(load);
  }
  const fmt = (v) => `${v.toFixed(2)} ms`;
  t.diagnostic(`revocation lag (204 on node a to first 403 on node b), ${N} revocations under validate load ` +
    `(${served} validations meanwhile): p50 ${fmt(percentile(lags, 0.5))}, p99 ${fmt(percentile(lags, 0.99))}, ` +
    `max ${fmt(Math.max(...lags))}`);
  assert.ok(served > 0);
});

test("kill -9 of a node during creates loses no acknowledged write", { skip }, async () => {
  const acknowledged = [];
  let stop = false;
  const workers = Array.from({ length: 8 }, (_, w) => (async () => {
    for (let i = 0; !stop; i++) {
      const r = await call(c, "POST", "/api/v2/personal_access_tokens", admin(), pat(`kill ${w}-${i}`));
      if (r.status === 201) acknowledged.push(r.json.data.id);
      if (r.status === 0) return;
    }
  })());
  await new Promise((r) => setTimeout(r, 800));
  c.proc.kill("SIGKILL");
  await c.exited;
  stop = true;
  await Promise.all(workers);
  c.proc = null;
  assert.ok(acknowledged.length > 0);
  for (const id of acknowledged)
    assert.equal((await call(a, "GET", `/api/v2/personal_access_tokens/${id}`, admin())).status, 200, `token ${id} survives`);
  // A node started again on the store serves at once.
  await c.serve(...NODE_ARGS);
  assert.equal((await call(c, "GET", "/api/v1/validate", { "DD-API-KEY": a.admin.api_key })).status, 200);
});

test("readiness follows the database: /readyz answers 503 while PostgreSQL is down, /healthz 200", { skip, timeout: 60000 }, async () => {
  const restarting = new Promise((res, rej) => {
    const p = spawn(CLUSTER, ["restart", process.env.KEYHOLD_TEST_PG_DIR, "2"], { stdio: "ignore" });
    p.on("exit", (code) => (code === 0 ? res() : rej(new Error(`cluster.sh restart: ${code}`))));
  });
  const seen = {};
  let done = false;
  restarting.finally(() => { done = true; });
  while (!done) {
    const r = await call(a, "GET", "/readyz");
    const key = `${r.status} ${r.json ? JSON.stringify(r.json) : ""}`;
    seen[key] = (seen[key] || 0) + 1;
    if (r.status === 503) assert.equal((await call(a, "GET", "/healthz")).status, 200, "alive while not ready");
    await new Promise((res) => setTimeout(res, 50));
  }
  await restarting;
  assert.ok(seen['503 {"errors":["store unreachable"]}'] >= 1, `readyz while PostgreSQL was down: ${JSON.stringify(seen)}`);
  assert.deepEqual(Object.keys(seen).filter((k) => !/^(200 \{"status":"ok"\}|503 \{"errors":\["store unreachable"\]\})$/.test(k)), []);
  let ready;
  for (let i = 0; i < 100 && ready !== 200; i++) {
    ready = (await call(a, "GET", "/readyz")).status;
    if (ready !== 200) await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(ready, 200, "ready again once PostgreSQL is back, without a restart of keyhold");
});

test("a PostgreSQL restart under load gives 503s, then every node recovers by itself", { skip, timeout: 120000 }, async (t) => {
  const statuses = {};
  let loading = true;
  const load = Array.from({ length: 6 }, (_, i) => (async () => {
    const n = [a, b, c][i % 3];
    while (loading) {
      const r = await call(n, "POST", "/api/v2/personal_access_tokens", admin(), pat(`restart ${i}`));
      statuses[r.status] = (statuses[r.status] || 0) + 1;
    }
  })());
  await new Promise((r) => setTimeout(r, 300));
  const down = performance.now();
  const back = {};
  try {
    execFileSync(CLUSTER, ["restart", process.env.KEYHOLD_TEST_PG_DIR]);
    // Every node answers again without a restart of keyhold.
    for (const [name, n] of [["a", a], ["b", b], ["c", c]]) {
      const started = performance.now();
      let ok = false;
      while (!ok && performance.now() - started < 30000) {
        const r = await call(n, "POST", "/api/v2/api_keys", admin(), JSON.stringify({ data: { type: "api_keys", attributes: { name: `after restart ${name}` } } }));
        if (r.status === 201) {
          ok = true;
          a.remember(r.json.data.attributes.key);
        } else {
          assert.ok([503, 0].includes(r.status) || r.status === 429, `only 503s meanwhile, got ${r.status}`);
          await new Promise((res) => setTimeout(res, 50));
        }
      }
      assert.ok(ok, `node ${name} recovers`);
      back[name] = performance.now() - down;
    }
  } finally {
    loading = false;
    await Promise.all(load);
  }
  const unexpected = Object.keys(statuses).filter((s) => !["201", "503", "0"].includes(s));
  assert.deepEqual(unexpected, [], `statuses under the restart: ${JSON.stringify(statuses)}`);
  t.diagnostic(`PostgreSQL restart: statuses ${JSON.stringify(statuses)}; nodes serving writes again after ` +
    Object.entries(back).map(([n, ms]) => `${n} ${ms.toFixed(0)} ms`).join(", "));
  for (const n of [a, b, c]) assert.doesNotMatch(n.log, /AddressSanitizer|runtime error/);
});

test("keyhold migrate copies a SQLite store into PostgreSQL, which then serves it with the same secret", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "keyhold-migrate-"));
  const file = join(dir, "one.db");
  const sh = (...args) => {
    const r = spawnSync(BIN, args, { encoding: "utf8", env: { ...process.env, KEYHOLD_SECRET_FILE: "" } });
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const first = JSON.parse(sh("init", "--db", file, "--json"));
  const bob = JSON.parse(sh("user", "add", "--db", file, "--org", first.org_id, "--email", "bob@one.example",
    "--permissions", "api_keys_read,user_app_keys", "--json"));
  sh("seed", "--db", file, "--org", first.org_id, "--owner", first.user_id, "--tokens", "300", "--api-keys", "5");
  // The destination: an empty PostgreSQL store (a schema of its own), served later with the file's secret.
  const pg = new Server();
  pg.ensureSchema();
  copyFileSync(`${file}.secret`, join(pg.dir, "keyhold.secret"));
  const out = sh("migrate", "--from", file, "--to", pg.db);
  const from = out.match(/^from: (.*)$/m)[1], to = out.match(/^to {2}: (.*)$/m)[1];
  assert.equal(to, from, "the same rows in both");
  assert.match(from, /tokens 300, /);
  // keyhold check on both agrees on the counts.
  const rows = (db, env = {}) => spawnSync(BIN, ["check", "--db", db], { encoding: "utf8", env: { ...process.env, ...env } })
    .stdout.match(/^rows: (.*)$/m)[1];
  assert.equal(rows(pg.db, pg.env), rows(file));
  // A second migrate into it is refused: it is not empty any more.
  const again = spawnSync(BIN, ["migrate", "--from", file, "--to", pg.db], { encoding: "utf8" });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds a store/);
  // Served from PostgreSQL: the keys of the file work, with their values readable.
  Object.assign(pg, { admin: first, secrets: new Set([first.api_key, first.app_key, bob.app_key]) });
  await pg.serve();
  assert.equal((await call(pg, "GET", "/api/v1/validate", { "DD-API-KEY": first.api_key })).status, 200);
  const bobs = await call(pg, "GET", "/api/v2/api_keys", { "DD-API-KEY": first.api_key, "DD-APPLICATION-KEY": bob.app_key });
  assert.equal(bobs.status, 200);
  assert.equal(bobs.json.meta.page.total_filtered_count, 6);
  const tokens = await call(pg, "GET", "/api/v2/personal_access_tokens?page[size]=1",
    { "DD-API-KEY": first.api_key, "DD-APPLICATION-KEY": first.app_key });
  assert.equal(tokens.json.meta.page.total_filtered_count, 300);
  const key = await call(pg, "GET", `/api/v2/current_user/application_keys`, { "DD-API-KEY": first.api_key, "DD-APPLICATION-KEY": first.app_key });
  assert.equal(key.status, 200);
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("failover: primary killed, synchronous standby promoted: no acknowledged create lost, nodes follow by themselves",
  { skip, timeout: 180000 }, async (t) => {
    // Clusters of this test's own: a primary that waits for its standby on
    // every commit, and that standby.
    const base = mkdtempSync(join(tmpdir(), "keyhold-failover-"));
    chmodSync(base, 0o755); // the clusters run as the postgres user
    const primaryDir = join(base, "primary"), standbyDir = join(base, "standby");
    const cluster = (...args) => execFileSync(CLUSTER, args, { encoding: "utf8" }).trim();
    cluster("start", primaryDir, "", "synchronous_standby_names=standby1");
    cluster("standby", standbyDir, primaryDir);
    const hosts = [primaryDir, standbyDir].map((d) => `127.0.0.1:${execFileSync("cat", [join(d, "port")], { encoding: "utf8" }).trim()}`);
    const dsn = `postgres://keyhold@${hosts.join(",")}/postgres?target_session_attrs=read-write`;
    const one = Object.assign(new Server(), { schema: null, db: dsn, external: true });
    one.env = { KEYHOLD_SECRET_FILE: join(one.dir, "keyhold.secret") };
    const nodes = [one];
    try {
      await one.start(...NODE_ARGS);
      const two = Object.assign(new Server(one.dir), { schema: null, db: dsn, external: true, env: one.env, admin: one.admin,
        secrets: one.secrets });
      await two.serve(...NODE_ARGS);
      nodes.push(two);
      const h = { "DD-API-KEY": one.admin.api_key, "DD-APPLICATION-KEY": one.admin.app_key };
      const acknowledged = [];
      let running = true;
      const workers = Array.from({ length: 6 }, (_, i) => (async () => {
        const node = nodes[i % 2];
        for (let n = 0; running; n++) {
          const r = await call(node, "POST", "/api/v2/personal_access_tokens", h, pat(`failover ${i}-${n}`));
          if (r.status === 201) acknowledged.push(r.json.data.id);
          else await new Promise((res) => setTimeout(res, 20));
        }
      })());
      await new Promise((r) => setTimeout(r, 700));
      const before = acknowledged.length;
      const killed = performance.now();
      cluster("kill", primaryDir);
      cluster("promote", standbyDir);
      // Each node serves a write again, by itself.
      const back = [];
      for (const node of nodes) {
        let ok = false;
        while (!ok && performance.now() - killed < 60000) {
          const r = await call(node, "POST", "/api/v2/personal_access_tokens", h, pat("after failover"));
          ok = r.status === 201;
          if (!ok) await new Promise((res) => setTimeout(res, 50));
        }
        assert.ok(ok, "the node serves writes again after the failover");
        back.push(performance.now() - killed);
      }
      running = false;
      await Promise.all(workers);
      assert.ok(before > 0 && acknowledged.length > before, "creates were acknowledged before and after the failover");
      for (const id of acknowledged) {
        let r;
        for (let tries = 0; tries < 100 && (!r || r.status === 503); tries++) // a loop's own reconnection
          r = await call(one, "GET", `/api/v2/personal_access_tokens/${id}`, h);
        assert.equal(r.status, 200, `token ${id} survives`);
      }
      t.diagnostic(`failover: ${acknowledged.length} acknowledged creates, none lost; nodes writing again ` +
        `${back.map((ms) => `${ms.toFixed(0)} ms`).join(" and ")} after the primary was killed (promotion included)`);
    } finally {
      for (const n of nodes) if (n.proc) await n.stop();
      cluster("stop", standbyDir);
      cluster("stop", primaryDir);
      rmSync(base, { recursive: true, force: true });
    }
  });
