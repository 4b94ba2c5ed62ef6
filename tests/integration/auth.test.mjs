// auth.test.mjs - who may do what: credential forms, permission rules, scope
// narrowing, org isolation and revocation, through the official client.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, v1, v2, expectStatus, hoursFromNow } from "./helpers.mjs";

let srv, org2, alice, bob, reader, writer, nobody;

const pat = (name, scopes) => ({
  body: { data: { type: "personal_access_tokens", attributes: { name, scopes, expiresAt: hoursFromNow(48) } } },
});
const keysAs = (creds) => new v2.KeyManagementApi(srv.config(creds));

before(async () => {
  srv = await new Server().start();
  org2 = srv.addOrg("Org Two", "admin@two.example");
  const org1 = srv.admin;
  alice = srv.addUser(org1, "alice@one.example", ["user_app_keys", "api_keys_read"]);
  bob = srv.addUser(org1, "bob@one.example", ["user_app_keys"]);
  reader = srv.addUser(org1, "reader@one.example", ["org_app_keys_read"]);
  writer = srv.addUser(org1, "writer@one.example", ["org_app_keys_write"]);
  nobody = srv.addUser(org1, "nobody@one.example", ["dashboards_read"]);
});

after(async () => {
  await srv.stop();
});

describe("credentials", () => {
  test("no credentials, a wrong key, or a mismatched pair: 403 with a JSON error", async () => {
    const cases = [
      {},
      { "DD-API-KEY": srv.admin.api_key },
      { "DD-APPLICATION-KEY": srv.admin.app_key },
      { "DD-API-KEY": "0".repeat(32), "DD-APPLICATION-KEY": srv.admin.app_key },
      { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": "0".repeat(40) },
      { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": org2.app_key }, // keys of two orgs
      { "DD-API-KEY": srv.admin.api_key + "x", "DD-APPLICATION-KEY": srv.admin.app_key },
      { Authorization: "Bearer nope" },
      { Authorization: "Basic " + Buffer.from("a:b").toString("base64") },
      { Authorization: "Bearer ddpat_5TnZu0gjGUZ8B5p9KHLWOL_Mgs29LiGDtuUABV2VofNPKqpwKXqGC1N9aVZ" },
    ];
    for (const headers of cases) {
      for (const path of ["/api/v2/api_keys", "/api/v2/personal_access_tokens", "/api/v1/api_key"]) {
        const r = await srv.raw("GET", path, { headers });
        assert.equal(r.status, 403, `${path} ${JSON.stringify(headers)}`);
        assert.equal(typeof r.json.errors[0], "string");
      }
    }
  });

  test("a PAT works as a bearer token and alone in DD-APPLICATION-KEY", async () => {
    const t = (await keysAs(srv.admin).createPersonalAccessToken(pat("bearer", ["api_keys_read"]))).data;
    const token = srv.remember(t.attributes.key);
    assert.ok((await new v2.KeyManagementApi(srv.bearer(token)).listAPIKeys({})).data.length >= 1);
    const r = await srv.raw("GET", "/api/v2/api_keys", { headers: { "DD-APPLICATION-KEY": token } });
    assert.equal(r.status, 200);
    // With a PAT in DD-APPLICATION-KEY, DD-API-KEY is not evaluated (docs/datadog.md, "Authentication headers").
    const r2 = await srv.raw("GET", "/api/v2/api_keys", { headers: { "DD-APPLICATION-KEY": token, "DD-API-KEY": "junk" } });
    assert.equal(r2.status, 200);
    // A token whose checksum does not match is refused without a lookup.
    const tampered = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: { Authorization: `Bearer ${tampered}` } })).status, 403);
  });

  test("a token's scopes narrow what it may do", async () => {
    const t = (await keysAs(srv.admin).createPersonalAccessToken(pat("narrow", ["api_keys_read"]))).data;
    const asToken = new v2.KeyManagementApi(srv.bearer(srv.remember(t.attributes.key)));
    await asToken.listAPIKeys({});
    await expectStatus(asToken.listPersonalAccessTokens({}), 403); // needs user_app_keys
    await expectStatus(asToken.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "x" } } } }), 403);
  });

  test("nobody grants a scope they do not hold; a token cannot outlive itself", async () => {
    const body = await expectStatus(keysAs(bob).createPersonalAccessToken(pat("greedy", ["api_keys_read"])), 403);
    assert.match(body.errors[0], /api_keys_read/);
    const t = (await keysAs(alice).createPersonalAccessToken({
      body: { data: { type: "personal_access_tokens", attributes: { name: "short", scopes: ["user_app_keys"], expiresAt: hoursFromNow(30) } } },
    })).data;
    const asToken = new v2.KeyManagementApi(srv.bearer(srv.remember(t.attributes.key)));
    await expectStatus(asToken.createPersonalAccessToken(pat("wider", ["user_app_keys", "api_keys_read"])), 403);
    await expectStatus(asToken.createPersonalAccessToken(pat("longer", ["user_app_keys"])), 403); // 48h > 30h
    const ok = await asToken.createPersonalAccessToken({
      body: { data: { type: "personal_access_tokens", attributes: { name: "child", scopes: ["user_app_keys"], expiresAt: hoursFromNow(25) } } },
    });
    srv.remember(ok.data.attributes.key);
  });
});

describe("expiry", () => {
  test("a token stops authenticating at its expires_at and disappears from reads", async () => {
    // The admin's role, read from the included user of the API key list.
    const inc = await keysAs(srv.admin).listAPIKeys({ include: "created_by" });
    const roleId = inc.included[0].relationships.roles.data[0].id;
    const sa = new v2.ServiceAccountsApi(srv.config());
    const account = (await sa.createServiceAccount({
      body: { data: { type: "users", attributes: { email: "ephemeral@one.example", serviceAccount: true },
        relationships: { roles: { data: [{ id: roleId, type: "roles" }] } } } },
    })).data;
    assert.deepEqual(account.relationships.roles.data.map((r) => r.id), [roleId]);
    const expiresAt = new Date(Date.now() + 3000);
    const r = await srv.raw("POST", `/api/v2/service_accounts/${account.id}/access_tokens`, {
      headers: srv.keyHeaders(),
      body: JSON.stringify({ data: { type: "service_access_tokens", attributes: { name: "brief", scopes: ["api_keys_read"], expires_at: expiresAt.toISOString() } } }),
    });
    assert.equal(r.status, 201);
    const sat = srv.remember(r.json.data.attributes.key);
    const asSat = new v2.KeyManagementApi(srv.bearer(sat));
    assert.ok((await asSat.listAPIKeys({})).data.length >= 1);
    await new Promise((res) => setTimeout(res, Math.max(0, expiresAt - Date.now()) + 300));
    await expectStatus(asSat.listAPIKeys({}), 403);
    await expectStatus(sa.getServiceAccountAccessToken({ serviceAccountId: account.id, tokenId: r.json.data.id }), 404);
    const list = await keysAs(srv.admin).listPersonalAccessTokens({ pageSize: 100 });
    assert.ok(!list.data.some((t) => t.id === r.json.data.id));
  });
});

describe("permission rules for access tokens", () => {
  let aliceTok, bobTok;
  before(async () => {
    aliceTok = (await keysAs(alice).createPersonalAccessToken(pat("alice token", ["user_app_keys"]))).data;
    bobTok = (await keysAs(bob).createPersonalAccessToken(pat("bob token", ["user_app_keys"]))).data;
    srv.remember(aliceTok.attributes.key);
    srv.remember(bobTok.attributes.key);
  });

  test("user_app_keys alone lists only the caller's own tokens", async () => {
    const res = await keysAs(bob).listPersonalAccessTokens({ pageSize: 100 });
    assert.ok(res.data.length >= 1);
    assert.ok(res.data.every((t) => t.relationships.ownedBy.data.id === bob.user_id));
    assert.equal(res.meta.page.totalFilteredCount, res.data.length);
    const others = await keysAs(bob).listPersonalAccessTokens({ filterOwnedBy: [alice.user_id] });
    assert.equal(others.data.length, 0);
  });

  test("org_app_keys_read lists and reads every token of the org", async () => {
    const res = await keysAs(reader).listPersonalAccessTokens({ pageSize: 100 });
    const owners = new Set(res.data.map((t) => t.relationships.ownedBy.data.id));
    assert.ok(owners.has(alice.user_id) && owners.has(bob.user_id));
    assert.equal((await keysAs(reader).getPersonalAccessToken({ tokenId: aliceTok.id })).data.id, aliceTok.id);
    await expectStatus(keysAs(reader).revokePersonalAccessToken({ tokenId: aliceTok.id }), 403);
  });

  test("user_app_keys cannot read or revoke another user's token", async () => {
    await expectStatus(keysAs(bob).getPersonalAccessToken({ tokenId: aliceTok.id }), 404);
    await expectStatus(keysAs(bob).revokePersonalAccessToken({ tokenId: aliceTok.id }), 404);
    assert.equal((await keysAs(alice).getPersonalAccessToken({ tokenId: aliceTok.id })).data.id, aliceTok.id);
  });

  test("without any key permission: 403", async () => {
    await expectStatus(keysAs(nobody).listPersonalAccessTokens({}), 403);
    await expectStatus(keysAs(nobody).createPersonalAccessToken(pat("x", ["dashboards_read"])), 403);
    await expectStatus(keysAs(nobody).listAPIKeys({}), 403);
    await expectStatus(new v1.KeyManagementApi(srv.config(nobody)).listAPIKeys(), 403);
    const saNobody = new v2.ServiceAccountsApi(srv.config(nobody));
    await expectStatus(saNobody.createServiceAccount({
      body: { data: { type: "users", attributes: { email: "x@one.example", serviceAccount: true } } },
    }), 403);
    const none = "00000000-0000-4000-8000-000000000000";
    await expectStatus(saNobody.getServiceAccountAccessToken({ serviceAccountId: none, tokenId: none }), 403);
    await expectStatus(new v2.ServiceAccountsApi(srv.config(bob)).createServiceAccountAccessToken({
      serviceAccountId: none,
      body: { data: { type: "service_access_tokens", attributes: { name: "x", scopes: ["user_app_keys"] } } },
    }), 403);
  });

  test("org_app_keys_write revokes anyone's token; the owner's use stops at once", async () => {
    const asBob = new v2.KeyManagementApi(srv.bearer(bobTok.attributes.key));
    assert.ok((await asBob.listPersonalAccessTokens({})).data.length >= 1);
    await keysAs(writer).revokePersonalAccessToken({ tokenId: bobTok.id });
    await expectStatus(asBob.listPersonalAccessTokens({}), 403);
    await expectStatus(keysAs(bob).getPersonalAccessToken({ tokenId: bobTok.id }), 404);
  });
});

// Authentication outcomes are kept in memory per event loop (src/auth/authcache.h) and
// count only while nothing has been committed: each credential below is used many times
// first, so that it is answered from memory, then revoked; the next request must fail.
describe("revocation with a warm authentication cache", () => {
  const warm = async (path, headers, times = 20) => {
    for (let i = 0; i < times; i++) assert.equal((await srv.raw("GET", path, { headers })).status, 200);
  };

  test("a deleted API key is refused by the very next validate", async () => {
    const keys = keysAs(srv.admin);
    const k = (await keys.createAPIKey({ body: { data: { type: "api_keys", attributes: { name: "warm" } } } })).data;
    const headers = { "DD-API-KEY": srv.remember(k.attributes.key) };
    await warm("/api/v1/validate", headers);
    await warm("/api/v2/validate", headers);
    await keys.deleteAPIKey({ apiKeyId: k.id });
    assert.equal((await srv.raw("GET", "/api/v1/validate", { headers })).status, 403);
    assert.equal((await srv.raw("GET", "/api/v2/validate", { headers })).status, 403);
  });

  test("a deleted application key is refused by the very next request", async () => {
    const keys = keysAs(srv.admin);
    const body = { body: { data: { type: "application_keys", attributes: { name: "warm app" } } } };
    const k = (await keys.createCurrentUserApplicationKey(body)).data;
    const headers = { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": srv.remember(k.attributes.key) };
    await warm("/api/v2/validate_keys", headers);
    await warm("/api/v2/api_keys", headers, 5);
    await keys.deleteCurrentUserApplicationKey({ appKeyId: k.id });
    assert.equal((await srv.raw("GET", "/api/v2/validate_keys", { headers })).status, 403);
    assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers })).status, 403);
  });

  test("a disabled user's keys are refused by the very next request", async () => {
    const carol = srv.addUser(srv.admin, "carol@one.example", ["api_keys_read"]); // another process writes
    const headers = { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": carol.app_key };
    await warm("/api/v2/validate_keys", headers);
    await new v2.UsersApi(srv.config()).disableUser({ userId: carol.user_id });
    assert.equal((await srv.raw("GET", "/api/v2/validate_keys", { headers })).status, 403);
  });

  test("a revoked PAT is refused by the very next request", async () => {
    const t = (await keysAs(srv.admin).createPersonalAccessToken(pat("warm pat", ["api_keys_read"]))).data;
    const headers = { Authorization: `Bearer ${srv.remember(t.attributes.key)}` };
    await warm("/api/v2/api_keys", headers);
    await keysAs(srv.admin).revokePersonalAccessToken({ tokenId: t.id });
    assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers })).status, 403);
  });
});

describe("org isolation", () => {
  let token1, account1, sat1;
  before(async () => {
    token1 = (await keysAs(srv.admin).createPersonalAccessToken(pat("org1 token", ["api_keys_read"]))).data;
    srv.remember(token1.attributes.key);
    const sa = new v2.ServiceAccountsApi(srv.config());
    account1 = (await sa.createServiceAccount({
      body: { data: { type: "users", attributes: { email: "svc@one.example", serviceAccount: true } } },
    })).data;
    sat1 = (await sa.createServiceAccountAccessToken({
      serviceAccountId: account1.id,
      body: { data: { type: "service_access_tokens", attributes: { name: "s", scopes: ["api_keys_read"] } } },
    })).data;
    srv.remember(sat1.attributes.key);
  });

  test("another org's admin sees none of this org's tokens or keys", async () => {
    const k2 = keysAs(org2);
    const tokens = await k2.listPersonalAccessTokens({ pageSize: 100 });
    assert.ok(!tokens.data.some((t) => t.id === token1.id || t.id === sat1.id));
    const apiKeys = await k2.listAPIKeys({ pageSize: 100 });
    assert.deepEqual(apiKeys.data.map((k) => k.attributes.last4), [org2.api_key.slice(-4)]);
    const v1keys = await new v1.KeyManagementApi(srv.config(org2)).listAPIKeys();
    assert.deepEqual(v1keys.apiKeys.map((k) => k.key), [org2.api_key]);
  });

  test("ids of another org are 404 for read, revoke and token creation", async () => {
    const k2 = keysAs(org2);
    const sa2 = new v2.ServiceAccountsApi(srv.config(org2));
    await expectStatus(k2.getPersonalAccessToken({ tokenId: token1.id }), 404);
    await expectStatus(k2.revokePersonalAccessToken({ tokenId: token1.id }), 404);
    await expectStatus(sa2.getServiceAccountAccessToken({ serviceAccountId: account1.id, tokenId: sat1.id }), 404);
    await expectStatus(sa2.createServiceAccountAccessToken({
      serviceAccountId: account1.id,
      body: { data: { type: "service_access_tokens", attributes: { name: "steal", scopes: ["api_keys_read"] } } },
    }), 404);
    // Still there for its own org.
    assert.equal((await keysAs(srv.admin).getPersonalAccessToken({ tokenId: token1.id })).data.id, token1.id);
  });
});
