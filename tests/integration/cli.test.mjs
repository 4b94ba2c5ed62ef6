// cli.test.mjs - the command-line contract (init, org add, user add, help)
// and the server's lifecycle: access log, graceful SIGINT/SIGTERM with
// requests in flight, data intact after a restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { statSync, existsSync, rmSync, copyFileSync, readFileSync, writeFileSync, symlinkSync } from "node:fs";
import { Server, BIN, v2, SQLITE_ONLY } from "./helpers.mjs";

const run = (...args) => spawnSync(BIN, args, { encoding: "utf8" });
/** Runs a command on srv's store (with its secret file on PostgreSQL). */
const runFor = (srv, ...args) => spawnSync(BIN, args, { encoding: "utf8", env: { ...process.env, ...srv.env } });

test("--help describes keyhold and each command", () => {
  const top = run("--help");
  assert.equal(top.status, 0);
  for (const c of ["init", "org add", "user add", "serve"]) assert.ok(top.stdout.includes(c), c);
  for (const args of [["init", "--help"], ["serve", "--help"], ["org", "add", "--help"], ["user", "add", "--help"]]) {
    const r = run(...args);
    assert.equal(r.status, 0, args.join(" "));
    assert.match(r.stdout, /^usage: keyhold /);
  }
  assert.equal(run("frobnicate").status, 2);
  assert.equal(run("serve", "--listen", "nonsense").status, 2);
});

test("init creates a private secret and refuses an initialised store", SQLITE_ONLY, () => {
  const srv = new Server();
  const first = srv.cliJson("init", "--db", srv.db);
  for (const k of ["org_id", "user_id", "api_key", "app_key"]) assert.ok(first[k], k);
  assert.match(first.api_key, /^[0-9a-f]{32}$/);
  assert.match(first.app_key, /^[0-9a-f]{40}$/);
  assert.equal(statSync(srv.db + ".secret").mode & 0o777, 0o600);
  assert.equal(statSync(srv.db).mode & 0o077, 0);
  const again = run("init", "--db", srv.db);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already initialised/);
  const text = run("org", "add", "--db", srv.db, "--name", "Two", "--admin-email", "a@two.example");
  assert.equal(text.status, 0);
  assert.match(text.stdout, /API key:\s+[0-9a-f]{32}/);
  const bad = run("user", "add", "--db", srv.db, "--org", first.org_id, "--email", "x@y.z", "--permissions", "fly");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown permission 'fly'/);
  const noOrg = run("user", "add", "--db", srv.db, "--org", "00000000-0000-4000-8000-000000000000", "--email", "x@y.z",
    "--permissions", "user_app_keys");
  assert.equal(noOrg.status, 1);
  const fresh = new Server();
  const notInit = run("serve", "--db", fresh.db);
  assert.equal(notInit.status, 1);
  assert.match(notInit.stderr, /init/);
  assert.ok(!existsSync(fresh.db + ".secret"));
  rmSync(srv.dir, { recursive: true, force: true });
  rmSync(fresh.dir, { recursive: true, force: true });
});

test("one access line per request, without query strings or secrets", async () => {
  const srv = await new Server().start();
  const r = await srv.raw("GET", `/api/v1/validate?api_key=${srv.admin.api_key}`);
  assert.equal(r.status, 200);
  await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders() });
  await new Promise((res) => setTimeout(res, 100));
  assert.match(srv.log, /access GET \/api\/v1\/validate 200 [\d.]+ms/);
  assert.match(srv.log, /access GET \/api\/v2\/api_keys 200 [\d.]+ms/);
  assert.ok(!srv.log.includes("api_key="));
  await srv.stop(); // also checks: exit 0, no secret in log or in the database file
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  test(`${signal} finishes in-flight requests, exits 0, and the data survives a restart`, async () => {
    // A flush interval longer than the test: last uses reach the store only at shutdown.
    const srv = await new Server().start("--usage-flush-ms", "60000");
    const keys = new v2.KeyManagementApi(srv.config());
    const created = await keys.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "durable" } } } });
    srv.remember(created.data.attributes.key);
    const inflight = Array.from({ length: 40 }, () =>
      srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders() }).then((r) => r.status, () => "refused"));
    srv.proc.kill(signal);
    const results = await Promise.all(inflight);
    const { code } = await srv.exited;
    assert.equal(code, 0);
    assert.match(srv.log, /finishing in-flight requests/);
    // Every answered request got a complete answer; the rest were refused outright.
    for (const r of results) assert.ok(r === 200 || r === "refused", String(r));
    srv.proc = null;
    // Restart on the same store: the key is there and still validates.
    const again = Object.assign(new Server(srv.dir), { admin: srv.admin, secrets: srv.secrets });
    await again.serve();
    // The admin's key was used before the signal: its last use was written at shutdown.
    const listed = await again.raw("GET", "/api/v2/api_keys?filter=org%20API%20key", { headers: again.keyHeaders() });
    assert.notEqual(listed.json.data[0].attributes.date_last_used, null);
    const v = await again.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": created.data.attributes.key } });
    assert.equal(v.status, 200);
    await again.stop();
  });
}

test("backup while serving, check, restore, and serve the restored store", SQLITE_ONLY, async () => {
  const srv = await new Server().start();
  const h = { ...srv.keyHeaders(), "content-type": "application/json" };
  const before = await srv.raw("POST", "/api/v2/api_keys", { headers: h, body: JSON.stringify({ data: { type: "api_keys", attributes: { name: "in backup" } } }) });
  srv.remember(before.json.data.attributes.key);
  // Writes keep going while the backup runs.
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing && i < 200; i++)
      await srv.raw("POST", "/api/v2/personal_access_tokens", { headers: h, body: JSON.stringify({ data: { type: "personal_access_tokens", attributes: { name: `w${i}`, scopes: ["api_keys_read"], expires_at: new Date(Date.now() + 48 * 3600e3).toISOString() } } }) })
        .then((r) => r.json?.data && srv.remember(r.json.data.attributes.key));
  })();
  // The backup goes beside the store it will be restored into (srv.stop() removes srv.dir).
  const restored = Object.assign(new Server(), { admin: srv.admin, secrets: srv.secrets });
  const copy = `${restored.dir}/backup.db`;
  const b = run("backup", "--db", srv.db, "--to", copy);
  writing = false;
  await writer;
  assert.equal(b.status, 0, b.stderr);
  assert.equal(run("backup", "--db", srv.db, "--to", copy).status, 1, "never overwrites a backup");
  const chk = run("check", "--db", copy);
  assert.equal(chk.status, 0, chk.stdout + chk.stderr);
  assert.equal(chk.stdout.split("\n")[0], "ok");
  assert.match(chk.stdout, /^rows: meta \d+, orgs 1, users \d+, /m);

  // Restore into a fresh place and serve it with the original secret, kept apart.
  const secretCopy = `${restored.dir}/kept.secret`;
  copyFileSync(srv.db + ".secret", secretCopy);
  await srv.stop();
  const r = run("restore", "--from", copy, "--db", restored.db, "--secret", secretCopy);
  assert.equal(r.status, 0, r.stderr);
  await restored.serve("--secret", secretCopy);
  const v = await restored.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": before.json.data.attributes.key } });
  assert.equal(v.status, 200);
  const keys = await restored.raw("GET", "/api/v2/api_keys", { headers: restored.keyHeaders() });
  assert.ok(keys.json.data.some((k) => k.attributes.name === "in backup"));
  await restored.stop();
});

test("the audit trail records credential events with actor and address, never a secret", async () => {
  const srv = await new Server().start("--rate-limit-auth-failures", "3/600", "--usage-flush-ms", "50");
  const h = { ...srv.keyHeaders(), "content-type": "application/json" };
  const t = (await srv.raw("POST", "/api/v2/personal_access_tokens", { headers: h, body: JSON.stringify({ data: { type: "personal_access_tokens", attributes: { name: "audited", scopes: ["api_keys_read"], expires_at: new Date(Date.now() + 48 * 3600e3).toISOString() } } }) })).json.data;
  const token = srv.remember(t.attributes.key);
  assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  await srv.raw("PATCH", `/api/v2/personal_access_tokens/${t.id}`, { headers: h, body: JSON.stringify({ data: { type: "personal_access_tokens", id: t.id, attributes: { name: "audited 2" } } }) });
  await srv.raw("DELETE", `/api/v2/personal_access_tokens/${t.id}`, { headers: h });
  for (let i = 0; i < 4; i++)
    await srv.raw("GET", "/api/v2/api_keys", { headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": String(i).repeat(40) } });
  // Events of reads (first use, the failure burst) reach the store through
  // the writer, within a flush or two.
  let out, events;
  const of = (action, kind) => events.filter((e) => e.action === action && e.target_kind === kind);
  for (const until = Date.now() + 10000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    out = runFor(srv, "audit", "--db", srv.db, "--json");
    assert.equal(out.status, 0, out.stderr);
    events = JSON.parse(out.stdout);
    if (of("first_use", "personal_access_token").length && of("auth_failure_burst", "client_address").length) break;
  }
  for (const e of events)
    for (const field of ["at", "org_id", "actor_id", "action", "target_kind", "target_id", "source"])
      assert.ok(e[field], `${e.action} ${e.target_kind}: ${field} is filled`);
  for (const action of ["created", "first_use", "updated", "revoked"]) {
    const e = of(action, "personal_access_token");
    assert.equal(e.length, 1, action);
    assert.equal(e[0].target_id, t.id);
    assert.equal(e[0].source, "127.0.0.1");
  }
  assert.equal(of("created", "personal_access_token")[0].actor_id, srv.admin.user_id);
  const burst = of("auth_failure_burst", "client_address");
  assert.equal(burst.length, 1);
  assert.equal(burst[0].target_id, "127.0.0.1");
  assert.equal(burst[0].source, "127.0.0.1");
  for (const s of srv.secrets) assert.ok(!out.stdout.includes(s), "no secret in the audit trail");
  const text = runFor(srv, "audit", "--db", srv.db, "--since", new Date(Date.now() + 3600e3).toISOString());
  assert.equal(text.stdout, "", "--since filters by time");
  await srv.stop();
});

test("rotate-secret: a running server follows the new version; keys and tokens keep working; prune", SQLITE_ONLY, async () => {
  const srv = await new Server().start();
  const keys = new v2.KeyManagementApi(srv.config());
  const made = (await keys.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "before" } } } })).data;
  const apiKey = srv.remember(made.attributes.key);
  const pat = (await keys.createPersonalAccessToken({
    body: { data: { type: "personal_access_tokens", attributes: { name: "old", scopes: ["api_keys_read"], expiresAt: new Date(Date.now() + 864e5) } } },
  })).data;
  const token = srv.remember(pat.attributes.key);
  const validate = (headers) => srv.raw("GET", "/api/v1/validate", { headers });
  const secretFile = srv.db + ".secret";

  const r = run("rotate-secret", "--db", srv.db, "--wait", "2");
  await new Promise((res) => setTimeout(res, 200)); // spawnSync held node's loop: let the server's log in
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /server secret v2 written/);
  assert.match(r.stdout, /re-encrypted 2 API keys and 1 application keys under v2/);
  assert.equal(statSync(secretFile).mode & 0o777, 0o600);
  assert.equal(readFileSync(secretFile, "utf8").trim().split("\n").length, 2);
  assert.match(srv.log, /server secret reloaded: 2 versions, current v2/);

  // Re-sealed keys are found and shown as they were; the token minted under v1 still authenticates.
  assert.equal((await validate({ "DD-API-KEY": apiKey })).status, 200);
  assert.equal((await validate({ "DD-API-KEY": srv.admin.api_key })).status, 200);
  assert.equal((await keys.getAPIKey({ apiKeyId: made.id })).data.attributes.key, apiKey);
  const bearerKeys = new v2.KeyManagementApi(srv.bearer(token));
  assert.ok((await bearerKeys.listAPIKeys({})).data.length >= 2);
  // New credentials are made under v2.
  const after = (await keys.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "after" } } } })).data;
  assert.equal((await validate({ "DD-API-KEY": srv.remember(after.attributes.key) })).status, 200);

  // v1 is kept while the live token needs it, dropped once it is revoked.
  const keep = run("rotate-secret", "--db", srv.db, "--prune");
  assert.equal(keep.status, 0, keep.stderr);
  assert.match(keep.stdout, /keeps 2 versions, current v2/);
  await keys.revokePersonalAccessToken({ tokenId: pat.id });
  const drop = run("rotate-secret", "--db", srv.db, "--prune");
  assert.equal(drop.status, 0, drop.stderr);
  assert.match(drop.stdout, /removed v1/);
  assert.equal(readFileSync(secretFile, "utf8").trim().split("\n").length, 1);
  await new Promise((res) => setTimeout(res, 1500));
  assert.match(srv.log, /server secret reloaded: 1 version, current v2/);
  assert.equal((await validate({ "DD-API-KEY": apiKey })).status, 200);
  assert.equal((await validate({ "DD-API-KEY": srv.admin.api_key })).status, 200);

  const audit = run("audit", "--db", srv.db, "--json");
  assert.match(audit.stdout, /"action":"rotated"/);
  assert.match(audit.stdout, /"action":"version_removed"/);
  await srv.stop();
});

test("rotate-secret refuses a store without its secret and a bad option", SQLITE_ONLY, () => {
  const srv = new Server();
  assert.equal(run("rotate-secret").status, 2);
  assert.equal(run("rotate-secret", "--db", srv.db, "--wait", "-1").status, 2);
  const missing = run("rotate-secret", "--db", srv.db, "--wait", "0");
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no store at/);
  srv.cliJson("init", "--db", srv.db);
  rmSync(srv.db + ".secret");
  const noSecret = run("rotate-secret", "--db", srv.db, "--wait", "0");
  assert.equal(noSecret.status, 1);
  assert.match(noSecret.stderr, /no server secret at .*\.secret/);
  rmSync(srv.dir, { recursive: true, force: true });
});

// ---- what operators run into (issue 11, findings 11-16) ----

test("only init makes a store: every other command refuses a path with no store, and makes nothing", SQLITE_ONLY, () => {
  const srv = new Server();
  const typo = `${srv.dir}/typo.db`;
  for (const args of [
    ["audit", "--db", typo], ["check", "--db", typo], ["backup", "--db", typo, "--to", `${srv.dir}/b.db`],
    ["serve", "--db", typo, "--listen", "127.0.0.1:0"], ["org", "add", "--db", typo, "--name", "X", "--admin-email", "a@x.example"],
    ["user", "add", "--db", typo, "--org", "00000000-0000-4000-8000-000000000000", "--email", "u@x.example", "--role", "R"],
    ["seed", "--db", typo, "--org", "o", "--owner", "u", "--tokens", "1"], ["rotate-secret", "--db", typo, "--wait", "0"],
    ["restore", "--db", typo, "--from", `${srv.dir}/nothing.db`, "--secret", `${srv.dir}/none.secret`],
  ]) {
    const r = run(...args);
    assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /no store at/, args.join(" "));
    assert.ok(!existsSync(typo), `${args.join(" ")} made ${typo}`);
    assert.ok(!existsSync(`${srv.dir}/b.db`));
  }
  rmSync(srv.dir, { recursive: true, force: true });
});

test("restore refuses while a server has the store open, and works once it has stopped", SQLITE_ONLY, async () => {
  const srv = await new Server().start();
  const h = { ...srv.keyHeaders(), "content-type": "application/json" };
  const backup = `${srv.dir}/backup.db`;
  assert.equal(run("backup", "--db", srv.db, "--to", backup).status, 0);
  // Work done after the backup: a revoked token, which must stay revoked.
  const t = (await srv.raw("POST", "/api/v2/personal_access_tokens", { headers: h, body: JSON.stringify({ data: { type: "personal_access_tokens", attributes: { name: "later", scopes: ["api_keys_read"], expires_at: new Date(Date.now() + 48 * 3600e3).toISOString() } } }) })).json.data;
  srv.remember(t.attributes.key);
  const r = run("restore", "--from", backup, "--db", srv.db);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /a server has .* open; stop it/);
  assert.doesNotMatch(r.stdout, /restored/);
  // Nor under another spelling of its path (a symbolic link to it).
  symlinkSync(srv.db, `${srv.dir}/link.db`);
  const viaLink = run("restore", "--from", backup, "--db", `${srv.dir}/link.db`);
  assert.equal(viaLink.status, 1, viaLink.stdout);
  assert.match(viaLink.stderr, /a server has .* open/);
  // The server still serves the store it had, with everything in it.
  const got = await srv.raw("GET", `/api/v2/personal_access_tokens/${t.id}`, { headers: srv.keyHeaders() });
  assert.equal(got.status, 200);
  // A second server on the same store may run beside it (the lock is shared).
  const second = Object.assign(new Server(srv.dir), { admin: srv.admin, secrets: srv.secrets });
  await second.serve();
  assert.equal((await second.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": srv.admin.api_key } })).status, 200);
  await second.proc.kill("SIGTERM");
  await second.exited;
  // Stopped: the restore goes through (the secret kept apart, as srv.stop() removes srv.dir).
  const again = new Server();
  copyFileSync(backup, `${again.dir}/backup.db`);
  copyFileSync(srv.db + ".secret", `${again.dir}/kept.secret`);
  await srv.stop();
  const ok = run("restore", "--from", `${again.dir}/backup.db`, "--db", again.db, "--secret", `${again.dir}/kept.secret`);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /restored/);
  rmSync(again.dir, { recursive: true, force: true });
});

test("while a restore holds the store, commands that write to it and servers refuse to start", SQLITE_ONLY, async () => {
  const srv = new Server();
  srv.admin = srv.cliJson("init", "--db", srv.db);
  // What restore does: the lock beside the store, exclusively (flock(1), util-linux).
  const holder = spawn("flock", ["-x", `${srv.db}-lock`, "-c", "echo held; sleep 30"], { stdio: ["ignore", "pipe", "inherit"], detached: true });
  await new Promise((res) => holder.stdout.once("data", res));
  try {
    for (const args of [["org", "add", "--db", srv.db, "--name", "Two", "--admin-email", "a@two.example"],
      ["serve", "--db", srv.db, "--listen", "127.0.0.1:0"], ["rotate-secret", "--db", srv.db, "--wait", "0"]]) {
      const r = run(...args);
      assert.equal(r.status, 1, args.join(" "));
      assert.match(r.stderr, /is being restored/, args.join(" "));
    }
  } finally {
    process.kill(-holder.pid, "SIGKILL"); // flock and its shell, which holds the descriptor too
  }
  rmSync(srv.dir, { recursive: true, force: true });
});

test("restore refuses a backup its secret file cannot open: missing, another store's, or pruned of a version in use", SQLITE_ONLY, async () => {
  const a = await new Server().start();
  const h = { ...a.keyHeaders(), "content-type": "application/json" };
  // A token made under v1, then a rotation to v2: the token keeps v1.
  const t = (await a.raw("POST", "/api/v2/personal_access_tokens", { headers: h, body: JSON.stringify({ data: { type: "personal_access_tokens", attributes: { name: "v1 token", scopes: ["api_keys_read"], expires_at: new Date(Date.now() + 48 * 3600e3).toISOString() } } }) })).json.data;
  a.remember(t.attributes.key);
  const backup = `${a.dir}/with-v1-token.db`;
  assert.equal(run("backup", "--db", a.db, "--to", backup).status, 0);
  assert.equal(run("rotate-secret", "--db", a.db, "--wait", "2").status, 0); // the server loads v2 within 1 s
  assert.equal((await a.raw("DELETE", `/api/v2/personal_access_tokens/${t.id}`, { headers: a.keyHeaders() })).status, 204);
  const pruned = run("rotate-secret", "--db", a.db, "--prune");
  assert.equal(pruned.status, 0, pruned.stderr);
  assert.match(pruned.stdout, /removed v1/);

  const other = new Server();
  other.cliJson("init", "--db", other.db);
  const target = `${other.dir}/restored.db`;
  const cases = [
    [[], /no server secret at .*restored\.db\.secret.*put the secret file kept with this backup there/s],
    [["--secret", other.db + ".secret"], /is not the one .* was made with/],
    [["--secret", a.db + ".secret"], /credentials made under server secret v1, which the secret file .* does not have/],
  ];
  for (const [extra, why] of cases) {
    const r = run("restore", "--from", backup, "--db", target, ...extra);
    assert.equal(r.status, 1, extra.join(" "));
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stderr, /keyhold init/);
    assert.ok(!existsSync(target), "nothing restored");
  }
  await a.stop();
  rmSync(other.dir, { recursive: true, force: true });
});

test("serve and check refuse another store's secret file, naming it; a missing one gets advice about the secret", SQLITE_ONLY, async () => {
  const a = new Server();
  a.admin = a.cliJson("init", "--db", a.db);
  const b = new Server();
  b.cliJson("init", "--db", b.db);
  const wrong = run("serve", "--db", a.db, "--listen", "127.0.0.1:0", "--secret", b.db + ".secret");
  assert.equal(wrong.status, 1);
  assert.ok(wrong.stderr.includes(b.db + ".secret"), wrong.stderr);
  assert.match(wrong.stderr, /is not the one .* was made with/);
  const chk = run("check", "--db", a.db, "--secret", b.db + ".secret");
  assert.equal(chk.status, 1);
  assert.match(chk.stderr, /is not the one/);
  assert.equal(run("check", "--db", a.db).status, 0, "its own secret passes");
  // A store whose secret file is not beside it (as after a restore elsewhere).
  copyFileSync(a.db, `${b.dir}/moved.db`);
  const missing = run("serve", "--db", `${b.dir}/moved.db`, "--listen", "127.0.0.1:0");
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no server secret at .*moved\.db\.secret.*restored from a backup/s);
  assert.doesNotMatch(missing.stderr, /run `keyhold init`/);
  // With the right one it serves; another store's file copied over it while
  // it runs is not taken up (the server checks it every second).
  await a.serve();
  assert.equal((await a.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": a.admin.api_key } })).status, 200);
  const own = readFileSync(a.db + ".secret");
  copyFileSync(b.db + ".secret", a.db + ".secret");
  for (const until = Date.now() + 5000; !/server secret not reloaded/.test(a.log) && Date.now() < until;)
    await new Promise((r) => setTimeout(r, 100));
  assert.match(a.log, /server secret not reloaded: .* is not the store's secret/);
  assert.equal((await a.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": a.admin.api_key } })).status, 200);
  writeFileSync(a.db + ".secret", own, { mode: 0o600 });
  await a.stop();
  rmSync(b.dir, { recursive: true, force: true });
});

test("a second serve on an address already served fails with 'address in use'", async () => {
  const srv = await new Server().start();
  const second = spawnSync(BIN, ["serve", "--db", srv.db, "--listen", `127.0.0.1:${srv.port}`],
    { encoding: "utf8", timeout: 10000, env: { ...process.env, ...srv.env } });
  assert.equal(second.status, 1, second.stderr);
  assert.match(second.stderr, /address already in use/i);
  for (let i = 0; i < 10; i++)
    assert.equal((await srv.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": srv.admin.api_key } })).status, 200);
  await srv.stop();
});

test("duplicate org names and user emails are refused (409 through the API); seed keeps to the API key limit", async () => {
  const srv = await new Server().start();
  const dupOrg = runFor(srv, "org", "add", "--db", srv.db, "--name", "org one", "--admin-email", "x@two.example");
  assert.equal(dupOrg.status, 1);
  assert.match(dupOrg.stderr, /already an org named/);
  const dupUser = runFor(srv, "user", "add", "--db", srv.db, "--org", srv.admin.org_id, "--email", "ADMIN@one.example", "--role", "Datadog Standard Role");
  assert.equal(dupUser.status, 1);
  assert.match(dupUser.stderr, /already has a user with the email/);
  const h = { ...srv.keyHeaders(), "content-type": "application/json" };
  const create = (path, email, extra = {}) => srv.raw("POST", path, { headers: h, body: JSON.stringify({ data: { type: "users", attributes: { email, ...extra } } }) });
  assert.equal((await create("/api/v2/users", "new@one.example")).status, 201);
  const again = await create("/api/v2/users", "New@One.example");
  assert.equal(again.status, 409);
  assert.match(again.json.errors[0], /already exists/);
  assert.equal((await create("/api/v2/service_accounts", "new@one.example", { service_account: true })).status, 409);
  const sa = await create("/api/v2/service_accounts", "robot@one.example", { service_account: true });
  assert.equal(sa.status, 201);
  const rename = await srv.raw("PATCH", `/api/v2/users/${sa.json.data.id}`, { headers: h, body: JSON.stringify({ data: { type: "users", id: sa.json.data.id, attributes: { email: "new@one.example" } } }) });
  assert.equal(rename.status, 409);
  // Another org may have the same email.
  const two = srv.addOrg("Org Two", "admin@two.example");
  const other = await srv.raw("POST", "/api/v2/users", { headers: { ...srv.keyHeaders(two), "content-type": "application/json" }, body: JSON.stringify({ data: { type: "users", attributes: { email: "new@one.example" } } }) });
  assert.equal(other.status, 201);

  const seed = (n, ...extra) => runFor(srv, "seed", "--db", srv.db, "--org", srv.admin.org_id, "--owner", srv.admin.user_id, "--api-keys", String(n), ...extra);
  const count = async () => (await srv.raw("GET", "/api/v2/api_keys?page[size]=100", { headers: srv.keyHeaders() })).json.meta.page.total_filtered_count;
  const before = await count();
  const over = seed(50);
  assert.equal(over.status, 1);
  assert.match(over.stderr, /limit of 50/);
  assert.equal(await count(), before, "nothing was added");
  assert.equal(seed(50 - before).status, 0);
  assert.equal(await count(), 50);
  assert.equal(seed(10, "--max-api-keys", "60").status, 0, "a higher limit, as the server would be started with");
  await srv.stop();
});
