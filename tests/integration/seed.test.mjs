// seed.test.mjs - the five seed operations (issue 2) and the operations that
// create their data, through the official Datadog client.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, v1, v2, expectStatus, hoursFromNow } from "./helpers.mjs";

// Credentials get time-ordered (version 7) UUIDs: the store appends to its
// indexes instead of writing a random page of each (docs/internals/performance.md).
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const uuid7Millis = (id) => parseInt(id.replace(/-/g, "").slice(0, 12), 16);
const PAT = /^ddpat_[0-9A-Za-z]{22}_[0-9A-Za-z]{36}$/;
const SAT = /^ddsat_[0-9A-Za-z]{22}_[0-9A-Za-z]{36}$/;

let srv, keys, keysV1, sa, auth;

function patBody(name, scopes = ["api_keys_read", "user_app_keys"], expiresAt = hoursFromNow(48)) {
  return { data: { type: "personal_access_tokens", attributes: { name, scopes, expiresAt } } };
}

before(async () => {
  srv = await new Server().start();
  const conf = srv.config();
  keys = new v2.KeyManagementApi(conf);
  keysV1 = new v1.KeyManagementApi(conf);
  sa = new v2.ServiceAccountsApi(conf);
  auth = new v1.AuthenticationApi(conf);
});

after(async () => {
  await srv.stop();
});

describe("POST and GET /api/v2/personal_access_tokens", () => {
  test("create answers 201 with the secret once, in Datadog's format", async () => {
    const expiresAt = new Date(Date.now() + 48 * 3600 * 1000);
    expiresAt.setUTCMilliseconds(540);
    const res = await keys.createPersonalAccessToken({ body: patBody("deploy bot", ["api_keys_read"], expiresAt) });
    const t = res.data;
    assert.match(t.id, UUID7);
    assert.ok(Math.abs(uuid7Millis(t.id) - t.attributes.createdAt.getTime()) < 1000, "the id carries its creation time");
    assert.equal(t.type, "personal_access_tokens");
    assert.match(srv.remember(t.attributes.key), PAT);
    assert.equal(t.attributes.name, "deploy bot");
    assert.deepEqual(t.attributes.scopes, ["api_keys_read"]);
    // The client sends whole seconds (dateToRFC3339String drops the fraction).
    assert.equal(t.attributes.expiresAt.getTime(), Math.floor(expiresAt.getTime() / 1000) * 1000);
    assert.ok(Math.abs(t.attributes.createdAt.getTime() - Date.now()) < 60000);
    assert.equal(t.attributes.publicPortion, t.attributes.key.slice(0, 28));
    assert.equal(t.relationships.ownedBy.data.id, srv.admin.user_id);
    assert.equal(t.relationships.ownedBy.data.type, "users");

    const got = await keys.getPersonalAccessToken({ tokenId: t.id });
    assert.equal(got.data.id, t.id);
    assert.equal(got.data.attributes.key, undefined, "the secret is never shown again");
    assert.equal(got.data.attributes.lastUsedAt, null);
    assert.equal(got.data.attributes.publicPortion, t.attributes.publicPortion);
  });

  test("expires_at is echoed as sent, trailing zeros of the fraction trimmed", async () => {
    const exp = hoursFromNow(50);
    exp.setUTCMilliseconds(540);
    const body = { data: { type: "personal_access_tokens", attributes: { name: "trim", scopes: ["api_keys_read"], expires_at: exp.toISOString() } } };
    const r = await srv.raw("POST", "/api/v2/personal_access_tokens", { headers: srv.keyHeaders(), body: JSON.stringify(body) });
    assert.equal(r.status, 201);
    srv.remember(r.json.data.attributes.key);
    assert.equal(r.json.data.attributes.expires_at, exp.toISOString().replace(".540Z", ".54Z"));
    assert.match(r.json.data.attributes.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  test("token endpoints answer application/vnd.api+json, key endpoints application/json", async () => {
    const h = srv.keyHeaders();
    const tokens = await srv.raw("GET", "/api/v2/personal_access_tokens", { headers: h });
    assert.equal(tokens.headers["content-type"], "application/vnd.api+json");
    const apiKeys = await srv.raw("GET", "/api/v2/api_keys", { headers: h });
    assert.equal(apiKeys.headers["content-type"], "application/json");
    assert.equal(apiKeys.headers["content-length"], String(Buffer.byteLength(apiKeys.body)));
  });

  test("create refuses bad bodies with a 400 naming the field", async () => {
    const h = { ...srv.keyHeaders(), "content-type": "application/json" };
    const exp = hoursFromNow(48).toISOString();
    const cases = [
      [{ data: { type: "personal_access_tokens", attributes: { name: "x", scopes: ["api_keys_read"] } } }, "expires_at"],
      [{ data: { type: "personal_access_tokens", attributes: { name: "x", expires_at: exp } } }, "scopes"],
      [{ data: { type: "personal_access_tokens", attributes: { scopes: ["api_keys_read"], expires_at: exp } } }, "name"],
      [{ data: { type: "personal_access_tokens", attributes: { name: "x", scopes: [], expires_at: exp } } }, "scopes"],
      [{ data: { type: "personal_access_tokens", attributes: { name: "x", scopes: ["no_such_perm"], expires_at: exp } } }, "no_such_perm"],
      [{ data: { type: "personal_access_tokens", attributes: { name: "x", scopes: [7], expires_at: exp } } }, "scopes[0]"],
      [{ data: { type: "api_keys", attributes: { name: "x", scopes: ["api_keys_read"], expires_at: exp } } }, "data.type"],
      [{ data: { type: "personal_access_tokens", attributes: { name: "x", scopes: ["api_keys_read"], expires_at: "soon" } } }, "expires_at"],
      [{ data: { type: "personal_access_tokens", attributes: { name: "x", scopes: ["api_keys_read"], expires_at: hoursFromNow(23).toISOString() } } }, "24 hours"],
      [{ data: { type: "personal_access_tokens", attributes: { name: "x", scopes: ["api_keys_read"], expires_at: hoursFromNow(24 * 367).toISOString() } } }, "one year"],
    ];
    for (const [body, needle] of cases) {
      const r = await srv.raw("POST", "/api/v2/personal_access_tokens", { headers: h, body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(r.json.errors[0].includes(needle), `${r.json.errors[0]} should name ${needle}`);
    }
  });

  test("get of an unknown or malformed id is 404", async () => {
    await expectStatus(keys.getPersonalAccessToken({ tokenId: "00000000-0000-4000-8000-000000000000" }), 404);
    await expectStatus(keys.getPersonalAccessToken({ tokenId: "nope" }), 404);
  });
});

describe("GET /api/v2/personal_access_tokens", () => {
  let sat, account;
  const names = ["Zulu tools", "alpha build", "Mike deploy", "bravo BUILD", "kilo"];
  const created = [];

  before(async () => {
    for (const n of names) {
      created.push((await keys.createPersonalAccessToken({ body: patBody(n) })).data);
      await new Promise((r) => setTimeout(r, 5));
    }
    account = (await sa.createServiceAccount({
      body: { data: { type: "users", attributes: { email: "Robot@One.Example", serviceAccount: true, name: "robot" } } },
    })).data;
    sat = (await sa.createServiceAccountAccessToken({
      serviceAccountId: account.id,
      body: { data: { type: "service_access_tokens", attributes: { name: "robot token", scopes: ["api_keys_read"] } } },
    })).data;
    srv.remember(sat.attributes.key);
  });

  test("lists personal and service tokens of the org with their owner types", async () => {
    const res = await keys.listPersonalAccessTokens({ pageSize: 100 });
    const byId = new Map(res.data.map((t) => [t.id, t]));
    const s = byId.get(sat.id);
    assert.equal(s.type, "service_access_tokens");
    assert.equal(s.relationships.ownedBy.data.type, "service_account");
    assert.equal(s.relationships.ownedBy.data.id, account.id);
    assert.equal(s.attributes.expiresAt, null);
    const p = byId.get(created[0].id);
    assert.equal(p.type, "personal_access_tokens");
    assert.equal(p.relationships.ownedBy.data.type, "users");
    assert.equal(res.meta.page.totalFilteredCount, res.data.length);
    for (const t of res.data) assert.equal(t.attributes.key, undefined);
  });

  test("sorts by name by default, case-insensitively, and by every sort field both ways", async () => {
    const all = (await keys.listPersonalAccessTokens({ pageSize: 100 })).data;
    const lower = all.map((t) => t.attributes.name.toLowerCase());
    assert.deepEqual(lower, [...lower].sort());
    const desc = (await keys.listPersonalAccessTokens({ pageSize: 100, sort: "-name" })).data.map((t) => t.id);
    assert.deepEqual(desc, all.map((t) => t.id).reverse());
    for (const field of ["created_at", "expires_at", "last_used_at"]) {
      for (const dir of ["", "-"]) {
        const res = await keys.listPersonalAccessTokens({ pageSize: 100, sort: dir + field });
        assert.equal(res.data.length, all.length, field);
      }
    }
    const byCreated = (await keys.listPersonalAccessTokens({ pageSize: 100, sort: "created_at" })).data;
    const times = byCreated.map((t) => t.attributes.createdAt.getTime());
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    const newest = (await keys.listPersonalAccessTokens({ pageSize: 1, sort: "-created_at" })).data[0];
    assert.equal(newest.id, sat.id);
  });

  test("pages with page[size] and zero-based page[number]; total counts every match", async () => {
    const all = (await keys.listPersonalAccessTokens({ pageSize: 100 })).data.map((t) => t.id);
    const pages = [];
    for (let n = 0; n * 2 < all.length; n++) {
      const res = await keys.listPersonalAccessTokens({ pageSize: 2, pageNumber: n });
      assert.equal(res.meta.page.totalFilteredCount, all.length);
      pages.push(...res.data.map((t) => t.id));
    }
    assert.deepEqual(pages, all);
    const beyond = await keys.listPersonalAccessTokens({ pageSize: 2, pageNumber: 1000 });
    assert.equal(beyond.data.length, 0);
    const dflt = await keys.listPersonalAccessTokens({});
    assert.equal(dflt.data.length, Math.min(10, all.length));
  });

  test("filter is a case-insensitive substring of the name", async () => {
    const res = await keys.listPersonalAccessTokens({ filter: "build" });
    assert.deepEqual(res.data.map((t) => t.attributes.name).sort(), ["alpha build", "bravo BUILD"]);
    assert.equal(res.meta.page.totalFilteredCount, 2);
    const none = await keys.listPersonalAccessTokens({ filter: "%" });
    assert.equal(none.data.length, 0);
  });

  test("filter[owned_by] takes repeated ids and comma lists", async () => {
    const mine = await keys.listPersonalAccessTokens({ pageSize: 100, filterOwnedBy: [srv.admin.user_id] });
    assert.ok(mine.data.every((t) => t.relationships.ownedBy.data.id === srv.admin.user_id));
    assert.ok(!mine.data.some((t) => t.id === sat.id));
    const both = await keys.listPersonalAccessTokens({ pageSize: 100, filterOwnedBy: [srv.admin.user_id, account.id] });
    assert.equal(both.data.length, mine.data.length + 1);
    const r = await srv.raw("GET",
      `/api/v2/personal_access_tokens?page%5Bsize%5D=100&filter%5Bowned_by%5D=${srv.admin.user_id},${account.id}`,
      { headers: srv.keyHeaders() });
    assert.equal(r.status, 200);
    assert.equal(r.json.data.length, both.data.length);
  });

  test("bad query values get 400 with a message naming the parameter", async () => {
    const bad = {
      "page%5Bsize%5D=0": "page[size]",
      "page%5Bsize%5D=101": "page[size]",
      "page%5Bsize%5D=abc": "page[size]",
      "page%5Bnumber%5D=-1": "page[number]",
      "sort=size": "sort",
      "sort=%2Bname": "sort",
    };
    for (const [q, needle] of Object.entries(bad)) {
      const r = await srv.raw("GET", `/api/v2/personal_access_tokens?${q}`, { headers: srv.keyHeaders() });
      assert.equal(r.status, 400, q);
      assert.ok(r.json.errors[0].includes(needle), r.json.errors[0]);
    }
    const many = Array.from({ length: 40 }, (_, i) => `filter%5Bowned_by%5D=u${i}`).join("&");
    const r = await srv.raw("GET", `/api/v2/personal_access_tokens?${many}`, { headers: srv.keyHeaders() });
    assert.equal(r.status, 400);
  });
});

describe("DELETE /api/v2/personal_access_tokens/{token_id}", () => {
  test("revoke answers 204; the token stops authenticating at once and vanishes", async () => {
    const t = (await keys.createPersonalAccessToken({ body: patBody("short lived") })).data;
    const token = srv.remember(t.attributes.key);
    const asToken = new v2.KeyManagementApi(srv.bearer(token));
    assert.ok((await asToken.listAPIKeys({})).data.length >= 1);

    await keys.revokePersonalAccessToken({ tokenId: t.id });
    await expectStatus(asToken.listAPIKeys({}), 403);
    const appKeyHeader = await srv.raw("GET", "/api/v2/api_keys", { headers: { "DD-APPLICATION-KEY": token } });
    assert.equal(appKeyHeader.status, 403);
    await expectStatus(keys.getPersonalAccessToken({ tokenId: t.id }), 404);
    const list = await keys.listPersonalAccessTokens({ pageSize: 100 });
    assert.ok(!list.data.some((x) => x.id === t.id));
    // A repeated revoke is 204 again, as Datadog answers; an unknown id is 404.
    await keys.revokePersonalAccessToken({ tokenId: t.id });
    await expectStatus(keys.revokePersonalAccessToken({ tokenId: "00000000-0000-4000-8000-000000000000" }), 404);
  });
});

describe("GET /api/v2/service_accounts/{id}/access_tokens/{token_id}", () => {
  let account, other, sat, pat;
  before(async () => {
    const mk = async (email) => (await sa.createServiceAccount({
      body: { data: { type: "users", attributes: { email, serviceAccount: true } } },
    })).data;
    account = await mk("svc-a@one.example");
    other = await mk("svc-b@one.example");
    sat = (await sa.createServiceAccountAccessToken({
      serviceAccountId: account.id,
      body: { data: { type: "service_access_tokens", attributes: { name: "ci", scopes: ["api_keys_read"], expiresAt: hoursFromNow(72) } } },
    })).data;
    srv.remember(sat.attributes.key);
    pat = (await keys.createPersonalAccessToken({ body: patBody("mine") })).data;
  });

  test("service account creation answers the user object", () => {
    assert.equal(account.type, "users");
    assert.equal(account.attributes.serviceAccount, true);
    assert.equal(account.attributes.email, "svc-a@one.example");
    assert.equal(account.attributes.handle, account.id);
    assert.equal(account.attributes.disabled, false);
  });

  test("service account creation validates email, flag and roles", async () => {
    const h = srv.keyHeaders();
    const body = (attributes, relationships) => JSON.stringify({ data: { type: "users", attributes, ...(relationships ? { relationships } : {}) } });
    const cases = [
      [body({ service_account: true }), /email/],
      [body({ email: "x@one.example" }), /service_account/],
      [body({ email: "x@one.example", service_account: false }), /must be true/],
      [body({ email: "not-an-email", service_account: true }), /email/],
      [body({ email: "x@one.example", service_account: true }, { roles: { data: [{ id: "nope", type: "roles" }] } }), /Role nope not found/],
      [body({ email: "x@one.example", service_account: true }, { roles: { data: ["x"] } }), /must be an object/],
      [body({ email: "x@one.example", service_account: true }, { roles: { data: [{ id: "00000000-0000-4000-8000-000000000000", type: "roles" }] } }), /not found/],
    ];
    for (const [b, re] of cases) {
      const r = await srv.raw("POST", "/api/v2/service_accounts", { headers: h, body: b });
      assert.equal(r.status, 400, b);
      assert.match(r.json.errors[0], re);
    }
  });

  test("SAT create answers the secret once, with owner type service_account", () => {
    assert.match(sat.attributes.key, SAT);
    assert.equal(sat.type, "service_access_tokens");
    assert.equal(sat.relationships.ownedBy.data.type, "service_account");
    assert.equal(sat.relationships.ownedBy.data.id, account.id);
  });

  test("get answers the token without its secret", async () => {
    const got = await sa.getServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: sat.id });
    assert.equal(got.data.id, sat.id);
    assert.equal(got.data.type, "service_access_tokens");
    assert.equal(got.data.attributes.key, undefined);
    assert.equal(got.data.attributes.name, "ci");
    assert.deepEqual(got.data.attributes.scopes, ["api_keys_read"]);
    assert.equal(got.data.attributes.publicPortion, sat.attributes.publicPortion);
  });

  test("404 for an unknown account, an unknown token, or a token that is not this account's SAT", async () => {
    const none = "00000000-0000-4000-8000-000000000000";
    await expectStatus(sa.getServiceAccountAccessToken({ serviceAccountId: none, tokenId: sat.id }), 404);
    await expectStatus(sa.getServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: none }), 404);
    await expectStatus(sa.getServiceAccountAccessToken({ serviceAccountId: other.id, tokenId: sat.id }), 404);
    await expectStatus(sa.getServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: pat.id }), 404);
    await expectStatus(sa.getServiceAccountAccessToken({ serviceAccountId: srv.admin.user_id, tokenId: pat.id }), 404);
  });

  test("the SAT authenticates alone as a bearer token, within its scopes", async () => {
    const asSat = new v2.KeyManagementApi(srv.bearer(sat.attributes.key));
    // The service account holds no role, so even its api_keys_read scope grants nothing.
    await expectStatus(asSat.listAPIKeys({}), 403);
  });
});

describe("API keys", () => {
  let created = [];
  before(async () => {
    for (const [name, category, rc] of [["prod-ingest", "ci", true], ["Staging", "default", false], ["prod-batch", "ci", false]]) {
      created.push((await keys.createAPIKey({
        body: { data: { type: "api_keys", attributes: { name, category, remoteConfigReadEnabled: rc } } },
      })).data);
      srv.remember(created.at(-1).attributes.key);
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  test("v2 create answers 201 with the full key", () => {
    for (const k of created) {
      assert.match(k.attributes.key, /^[0-9a-f]{32}$/);
      assert.equal(k.attributes.last4, k.attributes.key.slice(-4));
      assert.equal(k.type, "api_keys");
      assert.equal(k.relationships.createdBy.data.id, srv.admin.user_id);
    }
  });

  test("GET /api/v2/api_keys lists partial keys with meta", async () => {
    const res = await keys.listAPIKeys({ pageSize: 100 });
    assert.equal(res.data.length, 4);
    assert.equal(res.meta.maxAllowed, 50);
    assert.equal(res.meta.page.totalFilteredCount, 4);
    for (const k of res.data) {
      assert.equal(k.attributes.key, undefined, "no secret in list items");
      assert.match(k.attributes.last4, /^[0-9a-f]{4}$/);
    }
    assert.equal(res.included, undefined);
  });

  test("sort by every field, both directions", async () => {
    for (const f of ["name", "created_at", "modified_at", "last4"]) {
      const asc = (await keys.listAPIKeys({ sort: f })).data;
      const desc = (await keys.listAPIKeys({ sort: "-" + f })).data;
      assert.deepEqual(desc.map((k) => k.id), asc.map((k) => k.id).reverse(), f);
      const attr = { name: "name", created_at: "createdAt", modified_at: "modifiedAt", last4: "last4" }[f];
      const vals = asc.map((k) => (f === "name" ? k.attributes.name.toLowerCase() : String(k.attributes[attr])));
      if (f !== "created_at" && f !== "modified_at") assert.deepEqual(vals, [...vals].sort(), f);
    }
    const byCreated = (await keys.listAPIKeys({ sort: "created_at" })).data.map((k) => new Date(k.attributes.createdAt).getTime());
    assert.deepEqual(byCreated, [...byCreated].sort((a, b) => a - b));
  });

  test("filters: name, created/modified ranges (inclusive), remote config, category; paging", async () => {
    assert.deepEqual((await keys.listAPIKeys({ filter: "PROD" })).data.map((k) => k.attributes.name).sort(),
      ["prod-batch", "prod-ingest"]);
    // Exact microsecond timestamps, as the server wrote them (the client's Date loses microseconds).
    const raw = (await srv.raw("GET", "/api/v2/api_keys?page%5Bsize%5D=100", { headers: srv.keyHeaders() })).json.data;
    const stamps = Object.fromEntries(raw.map((k) => [k.id, k.attributes]));
    const mid = created[1];
    const at = stamps[mid.id].created_at;
    assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    const exact = await keys.listAPIKeys({ filterCreatedAtStart: at, filterCreatedAtEnd: at });
    assert.deepEqual(exact.data.map((k) => k.id), [mid.id]);
    const after = await keys.listAPIKeys({ filterCreatedAtStart: at });
    assert.deepEqual(after.data.map((k) => k.id).sort(), [created[1].id, created[2].id].sort());
    const modBefore = await keys.listAPIKeys({ filterModifiedAtEnd: stamps[mid.id].modified_at });
    assert.equal(modBefore.data.length, 3);
    const modAfter = await keys.listAPIKeys({ filterModifiedAtStart: stamps[mid.id].modified_at });
    assert.equal(modAfter.data.length, 2);
    const rcOff = await keys.listAPIKeys({ filterRemoteConfigReadEnabled: false });
    assert.deepEqual(rcOff.data.map((k) => k.attributes.name).sort(), ["Staging", "prod-batch"]);
    const ci = await keys.listAPIKeys({ filterCategory: "ci" });
    assert.equal(ci.meta.page.totalFilteredCount, 2);
    const page = await keys.listAPIKeys({ pageSize: 3, pageNumber: 1, sort: "name" });
    assert.equal(page.data.length, 1);
    assert.equal(page.meta.page.totalFilteredCount, 4);
  });

  test("include=created_by,modified_by adds the users once", async () => {
    const res = await keys.listAPIKeys({ include: "created_by,modified_by" });
    assert.equal(res.included.length, 1);
    assert.equal(res.included[0].id, srv.admin.user_id);
    assert.equal(res.included[0].type, "users");
    assert.equal(res.included[0].attributes.email, "admin@one.example");
  });

  test("bad query values and bodies get 400", async () => {
    for (const q of ["sort=expires_at", "filter%5Bcreated_at%5D%5Bstart%5D=yesterday",
      "filter%5Bmodified_at%5D%5Bend%5D=2021-02-30", "filter%5Bremote_config_read_enabled%5D=1",
      "include=owned_by", "page%5Bsize%5D=0", "page%5Bnumber%5D=x"]) {
      const r = await srv.raw("GET", `/api/v2/api_keys?${q}`, { headers: srv.keyHeaders() });
      assert.equal(r.status, 400, q);
      assert.equal(typeof r.json.errors[0], "string");
    }
    const r = await srv.raw("POST", "/api/v2/api_keys", { headers: srv.keyHeaders(), body: '{"data":{"type":"api_keys","attributes":{}}}' });
    assert.equal(r.status, 400);
    assert.match(r.json.errors[0], /data\.attributes\.name/);
  });

  test("GET /api/v1/api_key lists every key with its value", async () => {
    const res = await keysV1.listAPIKeys();
    assert.equal(res.apiKeys.length, 4);
    const values = res.apiKeys.map((k) => k.key);
    for (const k of created) assert.ok(values.includes(k.attributes.key));
    assert.ok(values.includes(srv.admin.api_key));
    for (const k of res.apiKeys) {
      assert.equal(k.createdBy, "admin@one.example");
      assert.match(k.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    }
  });

  test("POST /api/v1/api_key creates a key; unknown fields are refused", async () => {
    const res = await keysV1.createAPIKey({ body: { name: "v1 key" } });
    assert.match(srv.remember(res.apiKey.key), /^[0-9a-f]{32}$/);
    assert.equal(res.apiKey.name, "v1 key");
    const r = await srv.raw("POST", "/api/v1/api_key", { headers: srv.keyHeaders(), body: '{"name":"x","owner":"me"}' });
    assert.equal(r.status, 400);
    assert.equal(r.json.errors[0], "Additional properties are not allowed ('owner' was unexpected)");
    const v = await new v1.AuthenticationApi(srv.config({ api_key: res.apiKey.key, app_key: "" })).validate();
    assert.equal(v.valid, true);
  });
});

describe("GET /api/v1/validate", () => {
  test("valid key: exactly {\"valid\":true}", async () => {
    assert.equal((await auth.validate()).valid, true);
    const r = await srv.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": srv.admin.api_key } });
    assert.equal(r.body, '{"valid":true}');
  });

  test("missing key: 403 API key required; wrong key: 403 Forbidden", async () => {
    const none = await srv.raw("GET", "/api/v1/validate");
    assert.equal(none.status, 403);
    assert.deepEqual(none.json, { errors: ["API key required"] });
    const wrong = await srv.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": "0".repeat(32) } });
    assert.equal(wrong.status, 403);
    assert.deepEqual(wrong.json, { errors: ["Forbidden"] });
    const bad = new v1.AuthenticationApi(srv.config({ api_key: "f".repeat(32), app_key: "x" }));
    await expectStatus(bad.validate(), 403);
  });
});
