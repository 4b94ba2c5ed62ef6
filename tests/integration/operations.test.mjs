// operations.test.mjs - every operation of ../shared/spec beyond the seed
// ones (issue 3), through the official client: success and each documented
// error status, the scope and permission rules, disabling users, the one id
// space of application keys, last-used bookkeeping and limits. Every answer
// is also checked against the spec's schema (helpers.mjs -> contract.mjs).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, v1, v2, expectStatus, hoursFromNow } from "./helpers.mjs";

let srv, keys, keysV1, sa, users, roles, auth;
const NONE = "00000000-0000-4000-8000-000000000000";
const appKeyBody = (name, scopes) => ({ body: { data: { type: "application_keys", attributes: { name, ...(scopes !== undefined ? { scopes } : {}) } } } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  srv = await new Server().start("--usage-flush-ms", "100", "--max-app-keys", "20");
  const conf = srv.config();
  keys = new v2.KeyManagementApi(conf);
  keysV1 = new v1.KeyManagementApi(conf);
  sa = new v2.ServiceAccountsApi(conf);
  users = new v2.UsersApi(conf);
  roles = new v2.RolesApi(conf);
  auth = new v1.AuthenticationApi(conf);
});

after(async () => {
  await srv.stop();
});

/** Polls fn until it returns a truthy value (last-used times are written in batches). */
async function eventually(fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(100);
  }
}

describe("API keys v2: get, update, delete", () => {
  test("get answers the full key; update renames it; delete is 204 then 404", async () => {
    const k = (await keys.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "rotate me" } } } })).data;
    srv.remember(k.attributes.key);
    const got = await keys.getAPIKey({ apiKeyId: k.id, include: "created_by" });
    assert.equal(got.data.attributes.key, k.attributes.key);
    assert.equal(got.included[0].id, srv.admin.user_id);
    const upd = await keys.updateAPIKey({
      apiKeyId: k.id,
      body: { data: { type: "api_keys", id: k.id, attributes: { name: "rotated", category: "ci", remoteConfigReadEnabled: false } } },
    });
    assert.equal(upd.data.attributes.name, "rotated");
    assert.equal(upd.data.attributes.category, "ci");
    assert.equal(upd.data.attributes.remoteConfigReadEnabled, false);
    assert.equal(upd.data.attributes.key, k.attributes.key);
    assert.ok(new Date(upd.data.attributes.modifiedAt) >= new Date(k.attributes.modifiedAt));
    await keys.deleteAPIKey({ apiKeyId: k.id });
    assert.deepEqual((await expectStatus(keys.deleteAPIKey({ apiKeyId: k.id }), 404)).errors, ["API key not found"]);
    await expectStatus(keys.getAPIKey({ apiKeyId: k.id }), 404);
    await expectStatus(keys.getAPIKey({ apiKeyId: "invalidId" }), 404);
    const v = await srv.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": k.attributes.key } });
    assert.equal(v.status, 403, "a deleted key no longer validates");
  });

  test("update refuses a mismatched id, a missing name and unknown keys", async () => {
    const id = (await keys.listAPIKeys({})).data[0].id;
    const b = await expectStatus(keys.updateAPIKey({ apiKeyId: id, body: { data: { type: "api_keys", id: NONE, attributes: { name: "x" } } } }), 400);
    assert.match(b.errors[0], /data\.id/);
    await expectStatus(srv.raw("PATCH", `/api/v2/api_keys/${id}`, { headers: srv.keyHeaders(), body: JSON.stringify({ data: { type: "api_keys", id, attributes: {} } }) })
      .then((r) => { if (r.status !== 200) throw { code: r.status, body: r.json }; }), 400);
    await expectStatus(keys.updateAPIKey({ apiKeyId: NONE, body: { data: { type: "api_keys", id: NONE, attributes: { name: "x" } } } }), 404);
  });

  test("the per-org limit answers 400 with the limit", async () => {
    const limited = await new Server().start("--max-api-keys", "2");
    const k2 = new v2.KeyManagementApi(limited.config());
    const extra = await k2.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "second" } } } });
    limited.remember(extra.data.attributes.key);
    const body = await expectStatus(k2.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "third" } } } }), 400);
    assert.match(body.errors[0], /at most 2/);
    assert.equal((await k2.listAPIKeys({})).meta.maxAllowed, 2);
    await limited.stop();
  });
});

describe("API keys v1: get, update, delete by value", () => {
  test("round trip, 200 with the deleted key, then 404", async () => {
    const created = (await keysV1.createAPIKey({ body: { name: "v1 temp" } })).apiKey;
    srv.remember(created.key);
    assert.equal((await keysV1.getAPIKey({ key: created.key })).apiKey.name, "v1 temp");
    const upd = await keysV1.updateAPIKey({ key: created.key, body: { name: "v1 renamed" } });
    assert.equal(upd.apiKey.name, "v1 renamed");
    const del = await keysV1.deleteAPIKey({ key: created.key });
    assert.equal(del.apiKey.key, created.key);
    await expectStatus(keysV1.getAPIKey({ key: created.key }), 404);
    await expectStatus(keysV1.deleteAPIKey({ key: created.key }), 404);
    await expectStatus(keysV1.updateAPIKey({ key: "0".repeat(32), body: { name: "x" } }), 404);
    await expectStatus(keysV1.updateAPIKey({ key: srv.admin.api_key, body: { name: "" } }), 400);
    assert.ok(!srv.log.includes(created.key), "the key in the path is masked in the access log");
  });
});

describe("application keys", () => {
  let mine, account, saKey;
  before(async () => {
    mine = (await keys.createCurrentUserApplicationKey(appKeyBody("my tool", ["api_keys_read"]))).data;
    srv.remember(mine.attributes.key);
    account = (await sa.createServiceAccount({ body: { data: { type: "users", attributes: { email: "bot@one.example", serviceAccount: true } } } })).data;
    saKey = (await sa.createServiceAccountApplicationKey({ serviceAccountId: account.id, ...appKeyBody("bot key") })).data;
    srv.remember(saKey.attributes.key);
  });

  test("current user: create shows the key, get and update show it again, list never", async () => {
    assert.match(mine.attributes.key, /^[0-9a-f]{40}$/);
    assert.deepEqual(mine.attributes.scopes, ["api_keys_read"]);
    const got = await keys.getCurrentUserApplicationKey({ appKeyId: mine.id });
    assert.equal(got.data.attributes.key, mine.attributes.key);
    const upd = await keys.updateCurrentUserApplicationKey({
      appKeyId: mine.id, body: { data: { type: "application_keys", id: mine.id, attributes: { name: "my tool v2", scopes: null } } },
    });
    assert.equal(upd.data.attributes.name, "my tool v2");
    assert.equal(upd.data.attributes.scopes, null);
    assert.equal(upd.data.attributes.key, mine.attributes.key);
    const list = await keys.listCurrentUserApplicationKeys({ pageSize: 100 });
    assert.ok(list.data.some((k) => k.id === mine.id));
    assert.ok(list.data.every((k) => k.attributes.key === undefined));
    assert.equal(list.meta.maxAllowedPerUser, 20);
  });

  test("org: list with filters, sort and include; get and update never show the key", async () => {
    const all = await keys.listApplicationKeys({ pageSize: 100, include: "owned_by" });
    assert.ok(all.data.some((k) => k.id === saKey.id) && all.data.some((k) => k.id === mine.id));
    assert.ok(all.included.some((u) => u.id === srv.admin.user_id));
    const filtered = await keys.listApplicationKeys({ filter: "BOT" });
    assert.deepEqual(filtered.data.map((k) => k.id), [saKey.id]);
    const owned = await srv.raw("GET", `/api/v2/application_keys?filter%5Bowned_by%5D=${account.id}`, { headers: srv.keyHeaders() });
    assert.deepEqual(owned.json.data.map((k) => k.id), [saKey.id]);
    const byName = (await keys.listApplicationKeys({ sort: "-name", pageSize: 100 })).data.map((k) => k.attributes.name.toLowerCase());
    assert.deepEqual(byName, [...byName].sort().reverse());
    const since = (await keys.listApplicationKeys({ filterCreatedAtStart: "2100-01-01T00:00:00+00:00" })).data;
    assert.equal(since.length, 0);
    const got = await keys.getApplicationKey({ appKeyId: saKey.id, include: "owned_by" });
    assert.equal(got.data.attributes.key, undefined);
    assert.equal(got.data.relationships.ownedBy.data.id, account.id);
    const upd = await keys.updateApplicationKey({ appKeyId: saKey.id, body: { data: { type: "application_keys", id: saKey.id, attributes: { name: "bot key 2" } } } });
    assert.equal(upd.data.attributes.name, "bot key 2");
    assert.equal(upd.data.attributes.key, undefined);
    await expectStatus(keys.getApplicationKey({ appKeyId: "invalidId" }), 404);
    const bad = await srv.raw("GET", "/api/v2/application_keys?sort=expires_at", { headers: srv.keyHeaders() });
    assert.equal(bad.status, 400);
  });

  test("service account keys: list, get, update without the key; delete", async () => {
    const list = await sa.listServiceAccountApplicationKeys({ serviceAccountId: account.id });
    assert.deepEqual(list.data.map((k) => k.id), [saKey.id]);
    const got = await sa.getServiceAccountApplicationKey({ serviceAccountId: account.id, appKeyId: saKey.id });
    assert.equal(got.data.attributes.key, undefined);
    const upd = await sa.updateServiceAccountApplicationKey({
      serviceAccountId: account.id, appKeyId: saKey.id,
      body: { data: { type: "application_keys", id: saKey.id, attributes: { name: "renamed bot key", scopes: ["api_keys_read"] } } },
    });
    assert.deepEqual(upd.data.attributes.scopes, ["api_keys_read"]);
    await expectStatus(sa.getServiceAccountApplicationKey({ serviceAccountId: account.id, appKeyId: mine.id }), 404);
    await expectStatus(sa.listServiceAccountApplicationKeys({ serviceAccountId: NONE }), 404);
    const extra = (await sa.createServiceAccountApplicationKey({ serviceAccountId: account.id, ...appKeyBody("short") })).data;
    srv.remember(extra.attributes.key);
    await sa.deleteServiceAccountApplicationKey({ serviceAccountId: account.id, appKeyId: extra.id });
    await expectStatus(sa.deleteServiceAccountApplicationKey({ serviceAccountId: account.id, appKeyId: extra.id }), 404);
  });

  test("one id space: a key deleted under one path is gone under all", async () => {
    const k = (await keys.createCurrentUserApplicationKey(appKeyBody("doomed"))).data;
    srv.remember(k.attributes.key);
    await keys.deleteApplicationKey({ appKeyId: k.id });
    assert.deepEqual((await expectStatus(keys.getCurrentUserApplicationKey({ appKeyId: k.id }), 404)).errors, ["Application key not found"]);
    await expectStatus(keys.deleteCurrentUserApplicationKey({ appKeyId: k.id }), 404);
    await expectStatus(keys.updateApplicationKey({ appKeyId: k.id, body: { data: { type: "application_keys", id: k.id, attributes: { name: "x" } } } }), 404);
    const k2 = (await keys.createCurrentUserApplicationKey(appKeyBody("doomed 2"))).data;
    srv.remember(k2.attributes.key);
    await keys.deleteCurrentUserApplicationKey({ appKeyId: k2.id });
    await expectStatus(keys.getApplicationKey({ appKeyId: k2.id }), 404);
    const asDeleted = await srv.raw("GET", "/api/v2/api_keys", { headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": k2.attributes.key } });
    assert.equal(asDeleted.status, 403);
  });

  test("scopes: known names only, held by the caller; a scoped key can do only what they allow", async () => {
    const b = await expectStatus(keys.createCurrentUserApplicationKey(appKeyBody("bad", ["fly_planes"])), 400);
    assert.match(b.errors[0], /fly_planes/);
    await expectStatus(keys.createCurrentUserApplicationKey(appKeyBody("bad", [])), 400);
    const scoped = (await keys.createCurrentUserApplicationKey(appKeyBody("reader", ["api_keys_read"]))).data;
    const asScoped = new v2.KeyManagementApi(srv.config({ api_key: srv.admin.api_key, app_key: srv.remember(scoped.attributes.key) }));
    await asScoped.listAPIKeys({});
    await expectStatus(asScoped.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "nope" } } } }), 403);
    await expectStatus(asScoped.listCurrentUserApplicationKeys({}), 403);
    const bob = srv.addUser(srv.admin, "bob@one.example", ["user_app_keys"]);
    const asBob = new v2.KeyManagementApi(srv.config(bob));
    await expectStatus(asBob.createCurrentUserApplicationKey(appKeyBody("grab", ["api_keys_read"])), 403);
    const own = (await asBob.createCurrentUserApplicationKey(appKeyBody("bob's"))).data;
    srv.remember(own.attributes.key);
    await expectStatus(asBob.getApplicationKey({ appKeyId: own.id }), 403); // org view needs org_app_keys_read
    await expectStatus(asBob.getCurrentUserApplicationKey({ appKeyId: mine.id }), 404); // not bob's
  });

  test("a call made with a PAT cannot create or update application keys, but may delete them", async () => {
    const pat = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens", attributes: { name: "p", scopes: ["user_app_keys"], expiresAt: hoursFromNow(48) } } } })).data;
    const asPat = new v2.KeyManagementApi(srv.bearer(srv.remember(pat.attributes.key)));
    await expectStatus(asPat.createCurrentUserApplicationKey(appKeyBody("via pat")), 403);
    const k = (await keys.createCurrentUserApplicationKey(appKeyBody("pat target"))).data;
    srv.remember(k.attributes.key);
    await expectStatus(asPat.updateCurrentUserApplicationKey({ appKeyId: k.id, body: { data: { type: "application_keys", id: k.id, attributes: { name: "x" } } } }), 403);
    await asPat.deleteCurrentUserApplicationKey({ appKeyId: k.id });
  });

  test("the per-user limit answers 400", async () => {
    const carol = srv.addUser(srv.admin, "carol@one.example", ["user_app_keys"]);
    const asCarol = new v2.KeyManagementApi(srv.config(carol));
    for (let i = 1; i < 20; i++) srv.remember((await asCarol.createCurrentUserApplicationKey(appKeyBody(`k${i}`))).data.attributes.key);
    const b = await expectStatus(asCarol.createCurrentUserApplicationKey(appKeyBody("one too many")), 400);
    assert.match(b.errors[0], /at most 20/);
  });
});

describe("application keys v1", () => {
  test("list, create, get, update, delete in v1 shapes; name conflicts are 409", async () => {
    const created = (await keysV1.createApplicationKey({ body: { name: "v1 app" } })).applicationKey;
    srv.remember(created.hash);
    assert.match(created.hash, /^[0-9a-f]{40}$/);
    assert.equal(created.owner, "admin@one.example");
    await expectStatus(keysV1.createApplicationKey({ body: { name: "v1 app" } }), 409);
    const list = await keysV1.listApplicationKeys();
    assert.ok(list.applicationKeys.some((k) => k.hash === created.hash));
    assert.equal((await keysV1.getApplicationKey({ key: created.hash })).applicationKey.name, "v1 app");
    const upd = await keysV1.updateApplicationKey({ key: created.hash, body: { name: "v1 app renamed" } });
    assert.equal(upd.applicationKey.name, "v1 app renamed");
    const other = (await keysV1.createApplicationKey({ body: { name: "v1 other" } })).applicationKey;
    srv.remember(other.hash);
    await expectStatus(keysV1.updateApplicationKey({ key: other.hash, body: { name: "v1 app renamed" } }), 409);
    const del = await keysV1.deleteApplicationKey({ key: created.hash });
    assert.equal(del.applicationKey.hash, created.hash);
    await expectStatus(keysV1.getApplicationKey({ key: created.hash }), 404);
    await expectStatus(keysV1.deleteApplicationKey({ key: created.hash }), 404);
    const r = await srv.raw("POST", "/api/v1/application_key", { headers: srv.keyHeaders(), body: '{"name":"x","owner":"y"}' });
    assert.equal(r.status, 400);
  });
});

describe("personal and service access tokens", () => {
  let account, sat;
  before(async () => {
    account = (await sa.createServiceAccount({ body: { data: { type: "users", attributes: { email: "ci@one.example", serviceAccount: true } } } })).data;
    sat = (await sa.createServiceAccountAccessToken({ serviceAccountId: account.id, body: { data: { type: "service_access_tokens", attributes: { name: "ci-main", scopes: ["api_keys_read"] } } } })).data;
    srv.remember(sat.attributes.key);
  });

  test("PAT update changes name and scopes, never expires_at; get shows modified_at", async () => {
    const t = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens", attributes: { name: "old", scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } } })).data;
    srv.remember(t.attributes.key);
    const upd = await keys.updatePersonalAccessToken({ tokenId: t.id, body: { data: { type: "personal_access_tokens", id: t.id, attributes: { name: "new", scopes: ["api_keys_read", "user_app_keys"] } } } });
    assert.equal(upd.data.attributes.name, "new");
    assert.deepEqual(upd.data.attributes.scopes, ["api_keys_read", "user_app_keys"]);
    assert.ok(upd.data.attributes.modifiedAt instanceof Date);
    assert.equal(upd.data.attributes.expiresAt.getTime(), t.attributes.expiresAt.getTime());
    const r = await srv.raw("PATCH", `/api/v2/personal_access_tokens/${t.id}`, { headers: srv.keyHeaders(),
      body: JSON.stringify({ data: { type: "personal_access_tokens", id: t.id, attributes: { expires_at: hoursFromNow(100).toISOString() } } }) });
    assert.equal(r.status, 400);
    assert.match(r.json.errors[0], /expires_at/);
    await expectStatus(keys.updatePersonalAccessToken({ tokenId: t.id, body: { data: { type: "personal_access_tokens", id: NONE, attributes: { name: "x" } } } }), 400);
    await expectStatus(keys.updatePersonalAccessToken({ tokenId: NONE, body: { data: { type: "personal_access_tokens", id: NONE, attributes: { name: "x" } } } }), 404);
  });

  test("PAT last_used_at follows use, without a write per request", async () => {
    const t = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens", attributes: { name: "used", scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } } })).data;
    const before = Date.now();
    await new v2.KeyManagementApi(srv.bearer(srv.remember(t.attributes.key))).listAPIKeys({});
    const used = await eventually(async () => (await keys.getPersonalAccessToken({ tokenId: t.id })).data.attributes.lastUsedAt);
    assert.ok(used instanceof Date && used.getTime() >= before - 1000, String(used));
    const apiKey = await eventually(async () => (await keys.listAPIKeys({ filter: "org API key" })).data[0].attributes.dateLastUsed);
    assert.ok(apiKey, "date_last_used of the API key in use is set");
    const appKeys = await eventually(async () => (await keys.listApplicationKeys({ pageSize: 100 })).data.find((k) => k.attributes.lastUsedAt));
    assert.ok(appKeys, "last_used_at of the application key in use is set");
  });

  test("SAT list, update and revoke", async () => {
    const list = await sa.listServiceAccountAccessTokens({ serviceAccountId: account.id, pageSize: 10, sort: "-created_at", filter: "CI" });
    assert.deepEqual(list.data.map((t) => t.id), [sat.id]);
    assert.equal(list.meta.page.totalFilteredCount, 1);
    const upd = await sa.updateServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: sat.id, body: { data: { type: "service_access_tokens", id: sat.id, attributes: { name: "ci-renamed" } } } });
    assert.equal(upd.data.attributes.name, "ci-renamed");
    await sa.revokeServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: sat.id });
    await sa.revokeServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: sat.id }); // 204 again
    await expectStatus(sa.getServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: sat.id }), 404);
    await expectStatus(sa.revokeServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: NONE }), 404);
    await expectStatus(sa.listServiceAccountAccessTokens({ serviceAccountId: NONE }), 404);
    const r = await srv.raw("GET", `/api/v2/service_accounts/${account.id}/access_tokens?page%5Bsize%5D=0`, { headers: srv.keyHeaders() });
    assert.equal(r.status, 400);
  });
});

describe("validation endpoints", () => {
  test("v2 validate answers the org, key id and scopes; 403 is a JSON:API error", async () => {
    const res = await keys.validate();
    assert.equal(res.data.id, srv.admin.org_id);
    assert.equal(res.data.type, "validate_v2");
    assert.equal(res.data.attributes.valid, true);
    assert.deepEqual(res.data.attributes.apiKeyScopes, []);
    const ids = (await keys.listAPIKeys({ filter: "org API key" })).data.map((k) => k.id);
    assert.ok(ids.includes(res.data.attributes.apiKeyId));
    const bad = new v2.KeyManagementApi(srv.config({ api_key: "0".repeat(32), app_key: "x" }));
    const body = await expectStatus(bad.validate(), 403);
    assert.equal(body.errors[0].status, "403");
    assert.equal(typeof body.errors[0].detail, "string");
  });

  test("validate_keys: ok for a key pair or a PAT; 401 without credentials; 403 for bad ones", async () => {
    assert.equal((await keys.validateAPIKey()).status, "ok");
    const pat = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens", attributes: { name: "vk", scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } } })).data;
    const r = await srv.raw("GET", "/api/v2/validate_keys", { headers: { "DD-APPLICATION-KEY": srv.remember(pat.attributes.key) } });
    assert.deepEqual(r.json, { status: "ok" });
    const none = new v2.KeyManagementApi(srv.config({ api_key: "", app_key: "" }));
    await expectStatus(none.validateAPIKey(), 401);
    const wrong = new v2.KeyManagementApi(srv.config({ api_key: srv.admin.api_key, app_key: "f".repeat(40) }));
    await expectStatus(wrong.validateAPIKey(), 403);
    assert.equal((await auth.validate()).valid, true);
  });
});

describe("users", () => {
  let user;
  test("create, get, list with filters and sort, update", async () => {
    user = (await users.createUser({ body: { data: { type: "users", attributes: { email: "Dana@One.Example", name: "Dana", title: "SRE" } } } })).data;
    assert.equal(user.attributes.email, "dana@one.example");
    assert.equal(user.attributes.serviceAccount, false);
    assert.equal((await users.getUser({ userId: user.id })).data.attributes.name, "Dana");
    const list = await users.listUsers({ filter: "dana", pageSize: 10 });
    assert.deepEqual(list.data.map((u) => u.id), [user.id]);
    assert.equal(list.meta.page.totalFilteredCount, 1);
    assert.ok(list.meta.page.totalCount > 1);
    const sorted = await users.listUsers({ sort: "email", sortDir: "desc", pageSize: 100 });
    const emails = sorted.data.map((u) => u.attributes.email);
    assert.deepEqual(emails, [...emails].sort().reverse());
    const upd = await users.updateUser({ userId: user.id, body: { data: { type: "users", id: user.id, attributes: { name: "Dana S." } } } });
    assert.equal(upd.data.attributes.name, "Dana S.");
    const mismatch = await expectStatus(users.updateUser({ userId: user.id, body: { data: { type: "users", id: NONE, attributes: { name: "x" } } } }), 422);
    assert.deepEqual(mismatch.errors, ["UUID's in the URL and request body do not match"]);
    await expectStatus(users.getUser({ userId: NONE }), 404);
    await expectStatus(users.createUser({ body: { data: { type: "users", attributes: { email: "not-an-email" } } } }), 400);
    const badStatus = await srv.raw("GET", "/api/v2/users?filter%5Bstatus%5D=Sleeping", { headers: srv.keyHeaders() });
    assert.equal(badStatus.status, 400);
  });

  test("disabling a user revokes its application keys and tokens at once", async () => {
    const eve = srv.addUser(srv.admin, "eve@one.example", ["user_app_keys", "api_keys_read"]);
    const asEve = new v2.KeyManagementApi(srv.config(eve));
    const pat = (await asEve.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens", attributes: { name: "eve pat", scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } } })).data;
    const patApi = new v2.KeyManagementApi(srv.bearer(srv.remember(pat.attributes.key)));
    await patApi.listAPIKeys({});
    await asEve.listAPIKeys({});
    await users.disableUser({ userId: eve.user_id });
    await expectStatus(asEve.listAPIKeys({}), 403);
    await expectStatus(patApi.listAPIKeys({}), 403);
    const keysLeft = await keys.listApplicationKeys({ pageSize: 100 });
    assert.ok(!keysLeft.data.some((k) => k.relationships.ownedBy.data.id === eve.user_id));
    const tokensLeft = await keys.listPersonalAccessTokens({ pageSize: 100 });
    assert.ok(!tokensLeft.data.some((t) => t.id === pat.id));
    const got = await users.getUser({ userId: eve.user_id });
    assert.equal(got.data.attributes.disabled, true);
    assert.equal(got.data.attributes.status, "Disabled");
    const disabled = await users.listUsers({ filterStatus: "Disabled" });
    assert.ok(disabled.data.some((u) => u.id === eve.user_id));
    await expectStatus(users.disableUser({ userId: eve.user_id }), 404); // again: Datadog's 404 "<id> not found"
    await expectStatus(users.disableUser({ userId: NONE }), 404);
  });

  test("a service account is disabled through /users and its SATs stop", async () => {
    const acct = (await sa.createServiceAccount({ body: { data: { type: "users", attributes: { email: "gone@one.example", serviceAccount: true } } } })).data;
    const t = (await sa.createServiceAccountAccessToken({ serviceAccountId: acct.id, body: { data: { type: "service_access_tokens", attributes: { name: "x", scopes: ["api_keys_read"] } } } })).data;
    srv.remember(t.attributes.key);
    const upd = await users.updateUser({ userId: acct.id, body: { data: { type: "users", id: acct.id, attributes: { disabled: true } } } });
    assert.equal(upd.data.attributes.disabled, true);
    const r = await srv.raw("GET", "/api/v2/validate_keys", { headers: { Authorization: `Bearer ${t.attributes.key}` } });
    assert.equal(r.status, 403);
    await expectStatus(sa.listServiceAccountAccessTokens({ serviceAccountId: acct.id }), 404);
  });
});

describe("roles and permissions", () => {
  test("permissions list carries Datadog's names and groups", async () => {
    const res = await roles.listPermissions();
    const byName = Object.fromEntries(res.data.map((p) => [p.attributes.name, p]));
    assert.equal(byName.user_app_keys.id, "46a301da-ec5c-11ea-aa9f-73bedeab67ee");
    assert.equal(byName.api_keys_read.attributes.groupName, "API and Application Keys");
    assert.equal(byName.service_account_write.attributes.groupName, "Access Management");
  });

  test("role lifecycle: create, get, list, update, permissions, users, delete", async () => {
    const perms = Object.fromEntries((await roles.listPermissions()).data.map((p) => [p.attributes.name, p.id]));
    const role = (await roles.createRole({ body: { data: { type: "roles", attributes: { name: "Key Readers" },
      relationships: { permissions: { data: [{ id: perms.api_keys_read, type: "permissions" }] } } } } })).data;
    assert.equal(role.attributes.name, "Key Readers");
    // Datadog gives every new role its restricted read permissions as well.
    const defaults = (await roles.listPermissions()).data.filter((p) => p.attributes.restricted).map((p) => p.attributes.name);
    assert.ok(defaults.length > 0);
    assert.deepEqual(role.relationships.permissions.data.map((p) => p.id).sort(),
      [perms.api_keys_read, ...defaults.map((n) => perms[n])].sort());
    const dup = await expectStatus(roles.createRole({ body: { data: { type: "roles", attributes: { name: "Key Readers" } } } }), 400);
    assert.deepEqual(dup.errors, ["A role with the same name already exists"]);
    const ws = await expectStatus(roles.createRole({ body: { data: { type: "roles", attributes: { name: "   " } } } }), 400);
    assert.deepEqual(ws.errors, ["Role names cannot be only whitespace"]);
    assert.equal((await roles.getRole({ roleId: role.id })).data.attributes.userCount, 0);
    const listed = await roles.listRoles({ filter: "readers", sort: "-name", pageSize: 10 });
    assert.deepEqual(listed.data.map((r) => r.id), [role.id]);
    const upd = await roles.updateRole({ roleId: role.id, body: { data: { type: "roles", id: role.id, attributes: { name: "Key Readers 2" } } } });
    assert.equal(upd.data.attributes.name, "Key Readers 2");
    const mismatch = await expectStatus(roles.updateRole({ roleId: role.id, body: { data: { type: "roles", id: NONE, attributes: { name: "x" } } } }), 422);
    assert.match(mismatch.errors[0], /does not match/);

    const added = await roles.addPermissionToRole({ roleId: role.id, body: { data: { type: "permissions", id: perms.user_app_keys } } });
    assert.deepEqual(added.data.map((p) => p.attributes.name).sort(), ["api_keys_read", "user_app_keys", ...defaults].sort());
    const removed = await roles.removePermissionFromRole({ roleId: role.id, body: { data: { type: "permissions", id: perms.api_keys_read } } });
    assert.deepEqual(removed.data.map((p) => p.attributes.name).sort(), ["user_app_keys", ...defaults].sort());
    for (const n of defaults) await roles.removePermissionFromRole({ roleId: role.id, body: { data: { type: "permissions", id: perms[n] } } });
    assert.deepEqual((await roles.listRolePermissions({ roleId: role.id })).data.map((p) => p.attributes.name), ["user_app_keys"]);
    await expectStatus(roles.addPermissionToRole({ roleId: role.id, body: { data: { type: "permissions", id: NONE } } }), 400);

    // A user gains the role's permissions at once, and loses them with it.
    const frank = srv.addUser(srv.admin, "frank@one.example", ["dashboards_read"]);
    const asFrank = new v2.KeyManagementApi(srv.config(frank));
    await expectStatus(asFrank.listPersonalAccessTokens({}), 403);
    const members = await roles.addUserToRole({ roleId: role.id, body: { data: { type: "users", id: frank.user_id } } });
    assert.deepEqual(members.data.map((u) => u.id), [frank.user_id]);
    await asFrank.listPersonalAccessTokens({});
    assert.equal((await roles.listRoleUsers({ roleId: role.id })).meta.page.totalFilteredCount, 1);
    await roles.removeUserFromRole({ roleId: role.id, body: { data: { type: "users", id: frank.user_id } } });
    await expectStatus(asFrank.listPersonalAccessTokens({}), 403);
    await expectStatus(roles.addUserToRole({ roleId: role.id, body: { data: { type: "users", id: NONE } } }), 404);

    await roles.deleteRole({ roleId: role.id });
    await expectStatus(roles.getRole({ roleId: role.id }), 404);
    await expectStatus(roles.deleteRole({ roleId: role.id }), 404);
    await expectStatus(roles.listRolePermissions({ roleId: role.id }), 404);
  });

  test("every user reads users and roles; changing them needs user_access_invite or user_access_manage", async () => {
    const gus = srv.addUser(srv.admin, "gus@one.example", ["user_app_keys"]);
    const asGus = { users: new v2.UsersApi(srv.config(gus)), roles: new v2.RolesApi(srv.config(gus)) };
    assert.ok((await asGus.users.listUsers({})).data.length > 1);
    assert.ok((await asGus.roles.listRoles({})).data.length >= 3);
    await expectStatus(asGus.users.createUser({ body: { data: { type: "users", attributes: { email: "x@one.example" } } } }), 403);
    await expectStatus(asGus.roles.createRole({ body: { data: { type: "roles", attributes: { name: "mine" } } } }), 403);
    await expectStatus(asGus.users.disableUser({ userId: srv.admin.user_id }), 403);
    // A credential scoped away from user_access_read reads neither.
    const pat = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
      attributes: { name: "no users", scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } } })).data;
    const scoped = new v2.UsersApi(srv.bearer(srv.remember(pat.attributes.key)));
    await expectStatus(scoped.listUsers({}), 403);
    const reader = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
      attributes: { name: "users", scopes: ["user_access_read"], expiresAt: hoursFromNow(48) } } } })).data;
    assert.ok((await new v2.UsersApi(srv.bearer(srv.remember(reader.attributes.key))).listUsers({})).data.length > 1);
  });
});
