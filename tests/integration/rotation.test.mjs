// rotation.test.mjs - rotating a token with an overlap (issue 15, item 1),
// through plain HTTP, every answer validated against keyhold's own OpenAPI
// file (docs/api/keyhold-extensions.yaml, itself validated first): the
// overlap closing at the new secret's first use and at its timeout, at once
// with grace 0, a retried rotation with an Idempotency-Key answering the same
// secret, a rotation within an overlap refused, who may rotate what, the
// Datadog routes unchanged, and a 4xx with a message for every bad input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import YAML from "yaml";
import { Server } from "./helpers.mjs";

const SPEC = new URL("../../docs/api/keyhold-extensions.yaml", import.meta.url).pathname;
const inHours = (h) => new Date(Date.now() + h * 3600e3).toISOString();
let srv, peer, saWriter, validate;

before(async () => {
  srv = await new Server().start();
  peer = srv.addUser(srv.admin, "peer@one.example", ["user_app_keys"]);
  saWriter = srv.addUser(srv.admin, "sa@one.example", ["service_account_write", "api_keys_read"]);
  const doc = YAML.parse(readFileSync(SPEC, "utf8"));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, "ext");
  const op = doc.paths["/api/v2/keyhold/credentials/{credential_id}/rotate"].post;
  validate = (status, body) => {
    const declared = op.responses[String(status)];
    assert.ok(declared, `status ${status} is declared`);
    const ref = declared.$ref ? doc.components.responses.Error : declared;
    const schemaRef = ref.content["application/json"].schema.$ref;
    const v = ajv.getSchema(`ext${schemaRef}`);
    assert.ok(v(body), `${status} answer matches the OpenAPI file: ${ajv.errorsText(v.errors)} ${JSON.stringify(body)}`);
  };
});

after(async () => {
  await srv.stop();
});

async function call(method, path, { headers = srv.keyHeaders(), body, extra = {} } = {}) {
  const h = { ...headers, ...extra };
  if (body !== undefined) h["content-type"] = "application/json";
  return srv.raw(method, path, { headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
}

async function newPat(headers = srv.keyHeaders(), scopes = ["api_keys_read"]) {
  const r = await call("POST", "/api/v2/personal_access_tokens", { headers,
    body: { data: { type: "personal_access_tokens", attributes: { name: "rotate me", scopes, expires_at: inHours(48) } } } });
  assert.equal(r.status, 201, r.body);
  srv.remember(r.json.data.attributes.key);
  return r.json.data;
}

async function rotate(id, { headers, body, key } = {}) {
  const r = await call("POST", `/api/v2/keyhold/credentials/${id}/rotate`, { headers, body, extra: key ? { "Idempotency-Key": key } : {} });
  if (r.json) validate(r.status, r.json);
  if (r.status === 201) srv.remember(r.json.data.attributes.key);
  return r;
}

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
// A read that shows no secret: what a previous secret may still do during its overlap.
const uses = async (token) => (await call("GET", "/api/v2/validate_keys", { headers: bearer(token) })).status;

/** Waits (up to 5 s) for the old secret to be refused: the overlap closes with the next last-used flush. */
async function refusedSoon(token) {
  for (const until = Date.now() + 5000; Date.now() < until;) {
    if ((await uses(token)) === 403) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail("the previous secret is still accepted 5 s after the new one's first use");
}

test("the OpenAPI file of the extensions is a valid OpenAPI document", async () => {
  const api = await SwaggerParser.validate(SPEC);
  assert.ok(api.paths["/api/v2/keyhold/credentials/{credential_id}/rotate"]);
});

test("a rotated PAT keeps its id and public portion; both secrets work until the new one is used", async () => {
  const t = await newPat();
  const old = t.attributes.key;
  const r = await rotate(t.id);
  assert.equal(r.status, 201, r.body);
  const a = r.json.data.attributes;
  assert.equal(r.json.data.id, t.id);
  assert.equal(a.credential_type, "personal_access_tokens");
  assert.equal(a.public_portion, t.attributes.public_portion);
  assert.ok(a.key.startsWith(`${t.attributes.public_portion}_`) && a.key !== old);
  assert.equal(a.grace_seconds, 86400);
  assert.ok(Math.abs(new Date(a.previous_secret_valid_until) - new Date(a.rotated_at) - 86400e3) < 1000);
  assert.equal(await uses(old), 200, "the previous secret works during the overlap");
  assert.equal(await uses(old), 200);
  assert.equal(await uses(a.key), 200, "the new secret works");
  await refusedSoon(old);
  assert.equal(await uses(a.key), 200);
  // The Datadog route answers as before: no new field, no secret.
  const got = await call("GET", `/api/v2/personal_access_tokens/${t.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.json.data.attributes.key, undefined);
  assert.deepEqual(Object.keys(got.json.data.attributes).sort(), Object.keys(t.attributes).filter((k) => k !== "key").concat(["last_used_at", "modified_at"]).filter((k, i, all) => all.indexOf(k) === i).sort());
  // The trail has it.
  const trail = await call("GET", `/api/v2/audit/events?filter%5Bquery%5D=%40action%3Arotated%20%40asset.id%3A${t.id}&filter%5Bfrom%5D=now-1h`);
  assert.equal(trail.json.data.length, 1);
});

test("the overlap ends at its timeout, or at once with grace_seconds 0", async () => {
  const t = await newPat();
  const r = await rotate(t.id, { body: { data: { type: "credential_rotations", attributes: { grace_seconds: 1 } } } });
  assert.equal(r.status, 201, r.body);
  assert.equal(await uses(t.attributes.key), 200);
  await new Promise((res) => setTimeout(res, 1300));
  assert.equal(await uses(t.attributes.key), 403, "refused once the grace has passed, without the new secret used");
  const t2 = await newPat();
  const r2 = await rotate(t2.id, { body: { data: { attributes: { grace_seconds: 0 } } } });
  assert.equal(r2.status, 201);
  assert.equal(r2.json.data.attributes.previous_secret_valid_until, null);
  assert.equal(await uses(t2.attributes.key), 403, "grace 0: the previous secret stops at once");
  assert.equal(await uses(r2.json.data.attributes.key), 200);
});

test("a retried rotation with the same Idempotency-Key answers the same secret; another request with it is refused", async () => {
  const t = await newPat();
  const first = await rotate(t.id, { key: "retry-1" });
  assert.equal(first.status, 201);
  const again = await rotate(t.id, { key: "retry-1" });
  assert.equal(again.status, 201, again.body);
  assert.deepEqual(again.json, first.json, "the same answer, the same secret");
  assert.equal(await uses(t.attributes.key), 200, "one rotation only: the first secret is still the previous one");
  const other = await rotate(t.id, { key: "retry-1", body: { data: { attributes: { grace_seconds: 5 } } } });
  assert.equal(other.status, 422);
  assert.match(other.json.errors[0], /another request/);
  // Another caller's same key is another key (and here a refusal of its own).
  const peerTry = await rotate(t.id, { key: "retry-1", headers: srv.keyHeaders(peer) });
  assert.equal(peerTry.status, 404);
  const trail = await call("GET", `/api/v2/audit/events?filter%5Bquery%5D=%40action%3Arotated%20%40asset.id%3A${t.id}&filter%5Bfrom%5D=now-1h`);
  assert.equal(trail.json.data.length, 1, "one rotation in the trail");
});

test("a token within an overlap is not rotated again", async () => {
  const t = await newPat();
  assert.equal((await rotate(t.id)).status, 201);
  const r = await rotate(t.id);
  assert.equal(r.status, 409);
  assert.match(r.json.errors[0], /previous secret is accepted until/);
});

test("who may rotate: the owner, org_app_keys_write, service_account_write for SATs; never beyond one's permissions", async () => {
  const mine = await newPat(srv.keyHeaders(peer), ["user_app_keys"]);
  const adminPat = await newPat();
  assert.equal((await rotate(adminPat.id, { headers: srv.keyHeaders(peer) })).status, 404, "another's PAT is not shown");
  assert.equal((await rotate(mine.id, { headers: srv.keyHeaders(peer) })).status, 201, "one's own PAT");
  const wide = await newPat(srv.keyHeaders(), ["api_keys_read", "api_keys_write"]);
  const narrow = (await newPat(srv.keyHeaders(), ["org_app_keys_write"])).attributes.key;
  const r = await rotate(wide.id, { headers: bearer(narrow) });
  assert.equal(r.status, 403, r.body);
  assert.match(r.json.errors[0], /api_keys_read|api_keys_write/);
  // user_access_manage is no exception here: the answer is a secret (rule 2 of docs/security.md).
  const manager = srv.addUser(srv.admin, "manager@one.example", ["user_access_manage", "org_app_keys_write"]);
  const m = await rotate(wide.id, { headers: srv.keyHeaders(manager) });
  assert.equal(m.status, 403, m.body);
  assert.match(m.json.errors[0], /shown only to a caller holding every permission/);
  // A SAT: service_account_write.
  const sa = (await call("POST", "/api/v2/service_accounts", { body: { data: { type: "users", attributes: { email: "bot@one.example", service_account: true } } } })).json.data;
  const sat = await call("POST", `/api/v2/service_accounts/${sa.id}/access_tokens`, { body: { data: { type: "service_access_tokens", attributes: { name: "bot", scopes: ["api_keys_read"] } } } });
  assert.equal(sat.status, 201, sat.body);
  srv.remember(sat.json.data.attributes.key);
  assert.equal((await rotate(sat.json.data.id, { headers: srv.keyHeaders(peer) })).status, 403);
  const ok = await rotate(sat.json.data.id, { headers: srv.keyHeaders(saWriter) });
  assert.equal(ok.status, 201, ok.body);
  assert.equal(ok.json.data.attributes.credential_type, "service_access_tokens");
  assert.ok(ok.json.data.attributes.key.startsWith("ddsat_"));
  for (const h of [{}, { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": "0".repeat(40) }])
    assert.ok([401, 403].includes((await call("POST", `/api/v2/keyhold/credentials/${mine.id}/rotate`, { headers: h })).status));
});

test("every bad input answers 4xx with what is wrong", async () => {
  const t = await newPat();
  const revoked = await newPat();
  await call("DELETE", `/api/v2/personal_access_tokens/${revoked.id}`);
  const bad = [
    [t.id, { body: { data: { attributes: { grace_seconds: -1 } } } }, 400, /grace_seconds/],
    [t.id, { body: { data: { attributes: { grace_seconds: 2592001 } } } }, 400, /grace_seconds/],
    [t.id, { body: { data: { attributes: { grace_seconds: "60" } } } }, 400, /grace_seconds/],
    [t.id, { body: { data: { attributes: { grace: 60 } } } }, 400, /grace/],
    [t.id, { body: { data: { type: "tokens" } } }, 400, /type/],
    [t.id, { body: "{" }, 400, /JSON/i],
    [t.id, { key: "x".repeat(256) }, 400, /Idempotency-Key/],
    [t.id, { key: "has space" }, 400, /Idempotency-Key/],
    ["not-a-uuid", {}, 404, /not found/],
    ["00000000-0000-4000-8000-000000000000", {}, 404, /not found/],
    [revoked.id, {}, 404, /not found/],
  ];
  for (const [id, opts, status, msg] of bad) {
    const r = await rotate(id, opts);
    assert.equal(r.status, status, `${id} ${JSON.stringify(opts)}: ${r.body}`);
    assert.match(r.json.errors[0], msg);
  }
  assert.equal(await uses(t.attributes.key), 200, "nothing was rotated by the refused requests");
});

/** Waits (up to 5 s) for fn() to answer 403: an overlap closes with the next last-used flush. */
async function refusedSoonBy(fn, what) {
  for (const until = Date.now() + 5000; Date.now() < until;) {
    if ((await fn()) === 403) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what} is still accepted 5 s after the new value's first use`);
}

test("a rotated API key keeps its id and name; the old value works until the new one is used, then stops", async () => {
  const made = await call("POST", "/api/v2/api_keys", { body: { data: { type: "api_keys", attributes: { name: "rotate this api key" } } } });
  assert.equal(made.status, 201, made.body);
  const id = made.json.data.id, old = made.json.data.attributes.key;
  srv.remember(old);
  const validates = async (k) => (await call("GET", "/api/v1/validate", { headers: { "DD-API-KEY": k } })).status;
  const withApp = async (k) => (await call("GET", "/api/v2/validate_keys", { headers: { "DD-API-KEY": k, "DD-APPLICATION-KEY": srv.admin.app_key } })).status;
  assert.equal((await rotate(id, { headers: srv.keyHeaders(peer) })).status, 403, "api_keys_write is needed");
  const r = await rotate(id);
  assert.equal(r.status, 201, r.body);
  const a = r.json.data.attributes;
  assert.equal(a.credential_type, "api_keys");
  assert.equal(a.key.length, 32);
  assert.notEqual(a.key, old);
  assert.equal(a.last4, a.key.slice(-4));
  assert.equal(a.public_portion, undefined);
  const got = await call("GET", `/api/v2/api_keys/${id}`);
  assert.equal(got.json.data.attributes.key, a.key, "Datadog's GET shows the new value");
  assert.equal(got.json.data.attributes.name, "rotate this api key");
  assert.equal(got.json.data.attributes.last4, a.key.slice(-4));
  assert.equal(await validates(old), 200, "the previous value validates during the overlap");
  assert.equal(await withApp(old), 200, "and authenticates with an application key");
  assert.equal((await call("GET", `/api/v1/api_key/${old}`)).status, 404, "v1 finds a key by its current value only");
  assert.equal((await rotate(id)).status, 409, "not again within the overlap");
  assert.equal(await validates(a.key), 200, "the new value validates");
  await refusedSoonBy(() => validates(old), "the previous API key value");
  assert.equal(await withApp(old), 403);
  assert.equal(await withApp(a.key), 200);
  const again = await rotate(id, { body: { data: { attributes: { grace_seconds: 0 } } } });
  assert.equal(again.status, 201, "rotated again once the overlap closed");
  assert.equal(await validates(a.key), 403, "grace 0: at once");
});

test("a rotated application key: the old value works until the new one is used; owners, org writers and service accounts", async () => {
  const made = await call("POST", "/api/v2/current_user/application_keys", { headers: srv.keyHeaders(peer),
    body: { data: { type: "application_keys", attributes: { name: "rotate this app key" } } } });
  assert.equal(made.status, 201, made.body);
  const id = made.json.data.id, old = made.json.data.attributes.key;
  srv.remember(old);
  const uses = async (k) => (await call("GET", "/api/v2/validate_keys", { headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": k } })).status;
  const adminKey = await call("POST", "/api/v2/current_user/application_keys", { body: { data: { type: "application_keys", attributes: { name: "admin's" } } } });
  srv.remember(adminKey.json.data.attributes.key);
  assert.equal((await rotate(adminKey.json.data.id, { headers: srv.keyHeaders(peer) })).status, 404, "another's key is not shown");
  const pat = (await newPat(srv.keyHeaders(peer), ["user_app_keys"])).attributes.key;
  const byToken = await rotate(id, { headers: bearer(pat) });
  assert.equal(byToken.status, 403, "a token does not rotate application keys");
  const r = await rotate(id, { headers: srv.keyHeaders(peer) });
  assert.equal(r.status, 201, r.body);
  const a = r.json.data.attributes;
  assert.equal(a.credential_type, "application_keys");
  assert.equal(a.key.length, 40);
  assert.equal(a.last4, a.key.slice(-4));
  assert.equal(await uses(old), 200, "the previous value works during the overlap");
  assert.equal(await uses(a.key), 200);
  await refusedSoonBy(() => uses(old), "the previous application key value");
  assert.equal(await uses(a.key), 200);
  // The org's writer may rotate another's key, within its own permissions; a service account's key needs service_account_write.
  const byOrg = await rotate(id, { body: { data: { attributes: { grace_seconds: 0 } } } });
  assert.equal(byOrg.status, 201, byOrg.body);
  assert.equal(await uses(a.key), 403, "grace 0: at once");
  const sa = (await call("POST", "/api/v2/service_accounts", { body: { data: { type: "users", attributes: { email: "keybot@one.example", service_account: true } } } })).json.data;
  const saKey = await call("POST", `/api/v2/service_accounts/${sa.id}/application_keys`, { body: { data: { type: "application_keys", attributes: { name: "bot key" } } } });
  assert.equal(saKey.status, 201, saKey.body);
  srv.remember(saKey.json.data.attributes.key);
  assert.equal((await rotate(saKey.json.data.id, { headers: srv.keyHeaders(peer) })).status, 403);
  const sr = await rotate(saKey.json.data.id, { headers: srv.keyHeaders(saWriter) });
  assert.equal(sr.status, 201, sr.body); // a service account without roles holds nothing the writer lacks
  assert.equal(sr.json.data.attributes.credential_type, "application_keys");
});

test("a previous secret only reads: no write, no key value, no replay of the rotation that replaced it", async () => {
  // An application key rotated with an Idempotency-Key: whoever holds the old value (a leak) must not reach the new one.
  const made = await call("POST", "/api/v2/current_user/application_keys", { body: { data: { type: "application_keys", attributes: { name: "leaked then rotated" } } } });
  assert.equal(made.status, 201, made.body);
  const id = made.json.data.id, old = made.json.data.attributes.key;
  srv.remember(old);
  const r = await rotate(id, { key: "after-the-leak" });
  assert.equal(r.status, 201, r.body);
  const oldHeaders = { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": old };
  assert.equal((await call("GET", "/api/v2/validate_keys", { headers: oldHeaders })).status, 200, "it still reads");
  assert.equal((await call("GET", "/api/v2/users", { headers: oldHeaders })).status, 200);
  for (const [method, path] of [["GET", `/api/v2/current_user/application_keys/${id}`], ["GET", "/api/v1/application_key"],
    ["GET", `/api/v1/application_key/${r.json.data.attributes.key}`], ["GET", "/api/v2/api_keys"], ["GET", "/api/v1/api_key"]]) {
    const got = await call(method, path, { headers: oldHeaders });
    assert.equal(got.status, 403, `${method} ${path}: ${got.body}`);
    assert.match(got.json.errors[0], /previous secret/);
    assert.ok(!got.body.includes(r.json.data.attributes.key));
  }
  const replay = await call("POST", `/api/v2/keyhold/credentials/${id}/rotate`, { headers: oldHeaders, extra: { "Idempotency-Key": "after-the-leak" } });
  assert.equal(replay.status, 403, replay.body);
  assert.ok(!replay.body.includes(r.json.data.attributes.key), "the kept answer is not replayed to the previous secret");
  const mint = await call("POST", "/api/v2/current_user/application_keys", { headers: oldHeaders, body: { data: { type: "application_keys", attributes: { name: "mint" } } } });
  assert.equal(mint.status, 403, "no new credential from a previous secret");
  // The new value does all of it, and the replay still answers the same secret to the caller that rotated.
  const again = await rotate(id, { key: "after-the-leak" });
  assert.equal(again.status, 201);
  assert.deepEqual(again.json, r.json);
  // A PAT's previous secret is held to the same.
  const t = await newPat(srv.keyHeaders(), ["api_keys_read", "user_app_keys"]);
  const rt = await rotate(t.id);
  assert.equal(rt.status, 201);
  assert.equal(await uses(t.attributes.key), 200);
  assert.equal((await call("GET", "/api/v2/api_keys", { headers: bearer(t.attributes.key) })).status, 403);
  assert.equal((await call("POST", "/api/v2/personal_access_tokens", { headers: bearer(t.attributes.key),
    body: { data: { type: "personal_access_tokens", attributes: { name: "mint", scopes: ["api_keys_read"], expires_at: inHours(2) } } } })).status, 403);
});

test("rotating an API key needs api_keys_delete as well as api_keys_write (it ends the value in use)", async () => {
  const writer = srv.addUser(srv.admin, "apiwriter@one.example", ["api_keys_read", "api_keys_write"]);
  const made = await call("POST", "/api/v2/api_keys", { body: { data: { type: "api_keys", attributes: { name: "not to be killed" } } } });
  srv.remember(made.json.data.attributes.key);
  const r = await rotate(made.json.data.id, { headers: srv.keyHeaders(writer), body: { data: { attributes: { grace_seconds: 0 } } } });
  assert.equal(r.status, 403, r.body);
  assert.match(r.json.errors[0], /api_keys_delete/);
  assert.equal((await call("GET", "/api/v1/validate", { headers: { "DD-API-KEY": made.json.data.attributes.key } })).status, 200);
});
