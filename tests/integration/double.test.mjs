// double.test.mjs - keyhold as a test double for suites written against
// Datadog's API: `serve --ephemeral` (a store in memory, keys on stdout,
// port 0, fixed keys from options or the environment), `--test-mode` (PAT
// expiry in seconds, no failed-authentication limit, each relaxation listed)
// and POST /api/v2/keyhold/reset (a clean slate between tests).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, BIN, v1, v2, expectStatus, hoursFromNow } from "./helpers.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const API_KEY = "0123456789abcdef0123456789abcdef";
const APP_KEY = "fedcba9876543210fedcba9876543210fedcba98";

/** Paths of the regular files a process holds open (not sockets, pipes, devices). */
function openFiles(pid) {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).map((fd) => { try { return readlinkSync(`${dir}/${fd}`); } catch { return ""; } })
    .filter((p) => p.startsWith("/") && !p.startsWith("/dev/") && !p.startsWith("/proc/"));
}

test("--ephemeral prints its org's keys and address, serves the official client, and keeps nothing on disk", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "keyhold-eph-"));
  const srv = new Server(cwd);
  const info = await srv.ephemeral("--org", "Tests", "--admin-email", "ci@tests.example");
  assert.deepEqual(Object.keys(info).sort(), ["api_key", "app_key", "org_id", "port", "url", "user_id"]);
  assert.match(info.api_key, /^[0-9a-f]{32}$/);
  assert.match(info.app_key, /^[0-9a-f]{40}$/);
  assert.ok(info.port > 0);
  assert.equal(info.url, `http://127.0.0.1:${info.port}`);
  assert.equal((await new v1.AuthenticationApi(srv.config()).validate()).valid, true);
  const keys = new v2.KeyManagementApi(srv.config());
  const created = (await keys.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "ci" } } } })).data;
  srv.remember(created.attributes.key);
  assert.ok((await keys.listAPIKeys({})).data.some((k) => k.id === created.id));
  const me = (await new v2.UsersApi(srv.config()).getUser({ userId: info.user_id })).data;
  assert.equal(me.attributes.email, "ci@tests.example");
  assert.deepEqual(openFiles(srv.proc.pid), [], "an ephemeral server holds no file open");
  assert.deepEqual(readdirSync(cwd), [], "and writes none");
  await srv.stop();
  rmSync(cwd, { recursive: true, force: true });
});

test("--api-key and --app-key, or KEYHOLD_API_KEY and KEYHOLD_APP_KEY, fix the keys in advance", async () => {
  const a = new Server();
  const info = await a.ephemeral("--api-key", API_KEY, "--app-key", APP_KEY);
  assert.equal(info.api_key, API_KEY);
  assert.equal(info.app_key, APP_KEY);
  assert.equal((await new v2.KeyManagementApi(a.config({ api_key: API_KEY, app_key: APP_KEY })).validateAPIKey()).status, "ok");
  await a.stop();
  const b = new Server();
  b.env = { KEYHOLD_API_KEY: API_KEY, KEYHOLD_APP_KEY: APP_KEY };
  const fromEnv = await b.ephemeral();
  assert.equal(fromEnv.api_key, API_KEY);
  assert.equal(fromEnv.app_key, APP_KEY);
  await b.stop();
  for (const bad of [["--api-key", "short"], ["--app-key", "ddpat_" + "x".repeat(34)], ["--api-key", "x".repeat(31) + "!"]]) {
    const r = spawnSync(BIN, ["serve", "--ephemeral", ...bad], { encoding: "utf8" });
    assert.equal(r.status, 2, bad.join(" "));
    assert.match(r.stderr, /must be (32|40) characters/);
  }
  for (const args of [["init", "--db", "memory:x"], ["serve", "--db", "memory:x"], ["audit", "--db", "memory:x"]]) {
    const r = spawnSync(BIN, args, { encoding: "utf8" });
    assert.equal(r.status, 1, args.join(" "));
    assert.match(r.stderr, /only `keyhold serve --ephemeral`/);
  }
  const notEph = spawnSync(BIN, ["serve", "--api-key", API_KEY], { encoding: "utf8" });
  assert.equal(notEph.status, 2);
  assert.match(notEph.stderr, /--ephemeral/);
});

test("test mode lists every relaxation in --help and prints each at start", async () => {
  const help = spawnSync(BIN, ["serve", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  for (const s of ["--ephemeral", "--test-mode", "expires_at may be any future time", "failed-authentication limit",
    "/api/v2/keyhold/reset", "expiry warnings for webhooks"]) assert.ok(help.stdout.includes(s), s);
  const srv = await new Server().start("--test-mode");
  assert.equal((srv.log.match(/test mode: /g) || []).length, 4);
  await srv.stop();
  const plain = await new Server().start();
  assert.doesNotMatch(plain.log, /test mode/);
  await plain.stop();
});

test("in test mode a PAT may expire in a second, and is refused once it has", async () => {
  const srv = new Server();
  await srv.ephemeral();
  const keys = new v2.KeyManagementApi(srv.config());
  const expiresAt = new Date(Date.now() + 1500);
  const pat = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
    attributes: { name: "short", scopes: ["api_keys_read"], expiresAt } } } })).data;
  const asPat = new v2.KeyManagementApi(srv.bearer(srv.remember(pat.attributes.key)));
  await asPat.listAPIKeys({});
  await sleep(Math.max(0, expiresAt - Date.now()) + 300);
  await expectStatus(asPat.listAPIKeys({}), 403);
  await expectStatus(keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
    attributes: { name: "past", scopes: ["api_keys_read"], expiresAt: new Date(Date.now() - 1000) } } } }), 400);
  await srv.stop();
  // Without test mode the rule of Datadog's API holds: at least 24 hours ahead.
  const strict = await new Server().start();
  const body = await expectStatus(new v2.KeyManagementApi(strict.config()).createPersonalAccessToken({ body: { data: {
    type: "personal_access_tokens", attributes: { name: "short", scopes: ["api_keys_read"], expiresAt: new Date(Date.now() + 60000) } } } }), 400);
  assert.match(body.errors[0], /24 hours/);
  await strict.stop();
});

test("in test mode failed authentications are not limited per address", async () => {
  const srv = new Server();
  await srv.ephemeral();
  const wrong = { "DD-API-KEY": "1".repeat(32), "DD-APPLICATION-KEY": "1".repeat(40) };
  const statuses = new Set();
  for (let i = 0; i < 80; i++) statuses.add((await srv.raw("GET", "/api/v2/api_keys", { headers: wrong })).status);
  assert.deepEqual([...statuses], [403]);
  assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders() })).status, 200);
  await srv.stop();
});

test("reset wipes everything but the first org, its admin and their two keys", async () => {
  const srv = new Server();
  await srv.ephemeral();
  const conf = srv.config();
  const keys = new v2.KeyManagementApi(conf);
  const users = new v2.UsersApi(conf);
  const roles = new v2.RolesApi(conf);
  const sa = new v2.ServiceAccountsApi(conf);
  const before = async () => ({
    apiKeys: (await keys.listAPIKeys({ pageSize: 100 })).data.map((k) => k.id).sort(),
    appKeys: (await keys.listApplicationKeys({ pageSize: 100 })).data.map((k) => k.id).sort(),
    users: (await users.listUsers({ pageSize: 100 })).data.map((u) => u.id).sort(),
    roles: (await roles.listRoles({ pageSize: 100 })).data.map((r) => [r.attributes.name, r.relationships.permissions.data.length]).sort(),
    tokens: (await keys.listPersonalAccessTokens({ pageSize: 100 })).meta.page.totalFilteredCount,
  });
  const clean = await before();
  // Make a mess.
  const apiKey = (await keys.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "mess" } } } })).data;
  srv.remember(apiKey.attributes.key);
  const appKey = (await keys.createCurrentUserApplicationKey({ body: { data: { type: "application_keys", attributes: { name: "mess" } } } })).data;
  srv.remember(appKey.attributes.key);
  const pat = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
    attributes: { name: "mess", scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } } })).data;
  srv.remember(pat.attributes.key);
  const user = (await users.createUser({ body: { data: { type: "users", attributes: { email: "mess@tests.example" } } } })).data;
  const invite = (await users.sendInvitations({ body: { data: [{ type: "user_invitations",
    relationships: { user: { data: { type: "users", id: user.id } } } }] } })).data[0];
  const role = (await roles.createRole({ body: { data: { type: "roles", attributes: { name: "mess" } } } })).data;
  const readOnly = (await roles.listRoles({ filter: "Datadog Read Only Role" })).data[0];
  await roles.addUserToRole({ roleId: readOnly.id, body: { data: { type: "users", id: user.id } } });
  const acct = (await sa.createServiceAccount({ body: { data: { type: "users", attributes: { email: "sa@tests.example", serviceAccount: true } } } })).data;
  assert.notDeepEqual(await before(), clean);

  // Only the first org's admin, unscoped, may reset.
  const scoped = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
    attributes: { name: "scoped", scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } } })).data;
  const refused = await srv.raw("POST", "/api/v2/keyhold/reset", { headers: { Authorization: `Bearer ${srv.remember(scoped.attributes.key)}` } });
  assert.equal(refused.status, 403);
  assert.ok(Array.isArray(refused.json.errors));
  assert.equal((await srv.raw("POST", "/api/v2/keyhold/reset", {})).status, 403);

  const r = await srv.raw("POST", "/api/v2/keyhold/reset", { headers: srv.keyHeaders() });
  assert.equal(r.status, 204);
  assert.deepEqual(await before(), clean);
  await expectStatus(users.getUser({ userId: user.id }), 404);
  await expectStatus(users.getUser({ userId: acct.id }), 404);
  await expectStatus(users.getInvitation({ userInvitationUuid: invite.id }), 404);
  await expectStatus(roles.getRole({ roleId: role.id }), 404);
  await expectStatus(new v2.KeyManagementApi(srv.bearer(pat.attributes.key)).listAPIKeys({}), 403);
  const gone = new v2.KeyManagementApi(srv.config({ api_key: apiKey.attributes.key, app_key: appKey.attributes.key }));
  await expectStatus(gone.listAPIKeys({}), 403);
  assert.equal((await roles.getRole({ roleId: readOnly.id })).data.attributes.userCount, 0);
  // The first org's keys still work, and a reset of a clean store changes nothing.
  assert.equal((await srv.raw("POST", "/api/v2/keyhold/reset", { headers: srv.keyHeaders() })).status, 204);
  assert.deepEqual(await before(), clean);
  await srv.stop();
});

test("on a store made by init, test mode's reset is refused to everyone but the first org's admin", async () => {
  const srv = await new Server().start("--test-mode");
  const two = srv.addOrg("Org Two", "admin@two.example");
  const peer = srv.addUser(srv.admin, "peer@one.example", ["user_access_manage", "api_keys_read"]);
  for (const [who, headers] of [["another org's admin", srv.keyHeaders(two)], ["a user of the first org", srv.keyHeaders(peer)]]) {
    const r = await srv.raw("POST", "/api/v2/keyhold/reset", { headers });
    assert.equal(r.status, 403, who);
  }
  assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders(two) })).status, 200);
  const r = await srv.raw("POST", "/api/v2/keyhold/reset", { headers: srv.keyHeaders() });
  assert.equal(r.status, 204);
  assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders(two) })).status, 403, "other orgs are gone");
  await srv.stop();
});

test("reset does not exist without test mode", async () => {
  const srv = await new Server().start();
  const r = await srv.raw("POST", "/api/v2/keyhold/reset", { headers: srv.keyHeaders() });
  assert.equal(r.status, 404);
  assert.ok((await new v2.KeyManagementApi(srv.config()).listAPIKeys({})).data.length >= 1);
  await srv.stop();
});
