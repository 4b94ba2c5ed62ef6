// usage.test.mjs - who still uses a credential (issue 15, item 2), through
// plain HTTP, every answer validated against keyhold's own OpenAPI file
// (docs/api/keyhold-extensions.yaml): uses of an API key, an application key,
// a PAT and a SAT from different addresses and user agents appearing after
// the flush, with today's count and the routes; who may read a credential's
// usage (404 for everyone else); a rotation's dry run answering the usage and
// what would happen while changing nothing (the token, its secrets, the audit
// trail, the Idempotency-Key), refused as the rotation would be; bad dry_run
// values; and `keyhold usage` on the served store.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import YAML from "yaml";
import { Server } from "./helpers.mjs";

const SPEC = new URL("../../docs/api/keyhold-extensions.yaml", import.meta.url).pathname;
const USAGE = "/api/v2/keyhold/credentials/{credential_id}/usage";
const ROTATE = "/api/v2/keyhold/credentials/{credential_id}/rotate";
const inHours = (h) => new Date(Date.now() + h * 3600e3).toISOString();
const today = () => new Date().toISOString().slice(0, 10);
let srv, peer, keysReader, saWriter, validators;

before(async () => {
  srv = await new Server().start("--usage-flush-ms", "100");
  peer = srv.addUser(srv.admin, "peer@one.example", ["user_app_keys"]);
  keysReader = srv.addUser(srv.admin, "reader@one.example", ["api_keys_read"]);
  saWriter = srv.addUser(srv.admin, "sa@one.example", ["service_account_write", "api_keys_read"]);
  const doc = YAML.parse(readFileSync(SPEC, "utf8"));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, "ext");
  const validator = (op) => (status, body) => {
    const declared = op.responses[String(status)];
    assert.ok(declared, `status ${status} is declared`);
    const ref = declared.$ref ? doc.components.responses.Error : declared;
    const v = ajv.getSchema(`ext${ref.content["application/json"].schema.$ref}`);
    assert.ok(v(body), `${status} answer matches the OpenAPI file: ${ajv.errorsText(v.errors)} ${JSON.stringify(body)}`);
  };
  validators = { usage: validator(doc.paths[USAGE].get), rotate: validator(doc.paths[ROTATE].post) };
});

after(async () => {
  await srv.stop();
});

async function call(method, path, { headers = srv.keyHeaders(), body, extra = {}, localAddress } = {}) {
  const h = { ...headers, ...extra };
  if (body !== undefined) h["content-type"] = "application/json";
  return srv.raw(method, path, { headers: h, localAddress,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
}

const bearer = (token) => ({ Authorization: `Bearer ${token}` });

async function usage(id, headers = srv.keyHeaders()) {
  const r = await call("GET", `/api/v2/keyhold/credentials/${id}/usage`, { headers });
  if (r.json) validators.usage(r.status, r.json);
  return r;
}

/** Polls the usage of id (as the admin) until check(attributes) holds; up to 5 s (the flush is every 100 ms). */
async function usageSoon(id, check) {
  let last;
  for (const until = Date.now() + 5000; Date.now() < until;) {
    last = await usage(id);
    assert.equal(last.status, 200, last.body);
    if (check(last.json.data.attributes)) return last.json.data.attributes;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`usage of ${id} never showed what was expected: ${last.body}`);
}

async function newPat(headers = srv.keyHeaders(), scopes = ["api_keys_read"]) {
  const r = await call("POST", "/api/v2/personal_access_tokens", { headers,
    body: { data: { type: "personal_access_tokens", attributes: { name: "used", scopes, expires_at: inHours(48) } } } });
  assert.equal(r.status, 201, r.body);
  srv.remember(r.json.data.attributes.key);
  return r.json.data;
}

async function rotate(id, { query = "?dry_run=true", headers, body, key } = {}) {
  const r = await call("POST", `/api/v2/keyhold/credentials/${id}/rotate${query}`, { headers, body,
    extra: key ? { "Idempotency-Key": key } : {} });
  if (r.json) validators.rotate(r.status, r.json);
  if (r.status === 201) srv.remember(r.json.data.attributes.key);
  return r;
}

const today_ = (a) => a.days[a.days.length - 1];

test("the OpenAPI file declares the usage route and the rotation's dry run", async () => {
  const api = await SwaggerParser.validate(SPEC);
  assert.ok(api.paths[USAGE].get);
  assert.ok(api.paths[ROTATE].post.parameters.some((p) => p.name === "dry_run"));
  assert.ok(api.paths[ROTATE].post.responses["200"]);
});

test("uses from different addresses and user agents appear after the flush, with today's count and the routes", async () => {
  const t = await newPat();
  const fresh = await usage(t.id);
  assert.equal(fresh.status, 200, fresh.body);
  const a0 = fresh.json.data.attributes;
  assert.equal(fresh.json.data.type, "credential_usage");
  assert.equal(fresh.json.data.id, t.id);
  assert.equal(a0.credential_type, "personal_access_tokens");
  assert.equal(a0.last_used_at, null);
  assert.equal(a0.requests_last_30_days, 0);
  assert.equal(a0.days.length, 30);
  assert.equal(today_(a0).date, today());
  assert.deepEqual([a0.clients, a0.routes], [[], []]);

  const h = bearer(t.attributes.key);
  const sent = [
    ["127.0.0.2", "deploy-bot/1.0", "GET", "/api/v2/api_keys"],
    ["127.0.0.2", "deploy-bot/1.0", "GET", "/api/v2/api_keys"],
    ["127.0.0.3", "cron/2 (linux)", "GET", "/api/v2/api_keys"],
    ["127.0.0.3", "cron/2 (linux)", "GET", `/api/v2/personal_access_tokens/${t.id}`], // 403 out of scope: still a use
    ["127.0.0.4", undefined, "GET", "/api/v2/validate_keys"],
  ];
  for (const [addr, ua, method, path] of sent) {
    const r = await call(method, path, { headers: ua ? { ...h, "User-Agent": ua } : h, localAddress: addr });
    assert.ok(r.status === 200 || r.status === 403, `${path}: ${r.status}`);
  }
  const a = await usageSoon(t.id, (x) => x.requests_last_30_days === sent.length);
  assert.equal(today_(a).requests, 5);
  assert.equal(a.days.slice(0, 29).reduce((n, d) => n + d.requests, 0), 0);
  assert.ok(a.last_used_at && Date.now() - new Date(a.last_used_at) < 60e3);
  const clients = a.clients.map((c) => `${c.address} ${c.user_agent}`);
  assert.deepEqual(clients, ["127.0.0.4 null", "127.0.0.3 cron/2 (linux)", "127.0.0.2 deploy-bot/1.0"], "latest first");
  const routes = Object.fromEntries(a.routes.map((r) => [r.route, r.requests]));
  assert.deepEqual(routes, { "GET /api/v2/api_keys": 3, "GET /api/v2/personal_access_tokens/{id}": 1,
    "GET /api/v2/validate_keys": 1 });
  assert.equal(a.routes[0].route, "GET /api/v2/api_keys", "most requests first");
  // The token's own Datadog answer is unchanged by all this: no new field.
  const got = await call("GET", `/api/v2/personal_access_tokens/${t.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.json.data.attributes.requests_last_30_days, undefined);
});

test("more than five clients: the five latest are kept", async () => {
  const t = await newPat();
  for (let i = 0; i < 7; i++)
    assert.equal((await call("GET", "/api/v2/api_keys", { headers: { ...bearer(t.attributes.key), "User-Agent": `agent/${i}` } })).status, 200);
  const a = await usageSoon(t.id, (x) => x.requests_last_30_days === 7);
  assert.deepEqual(a.clients.map((c) => c.user_agent), ["agent/6", "agent/5", "agent/4", "agent/3", "agent/2"]);
});

test("an API key, an application key and a SAT have their usage too", async () => {
  const keys = (await call("GET", "/api/v2/api_keys")).json.data;
  const apiKey = keys.find((k) => k.attributes.last4 === srv.admin.api_key.slice(-4));
  const appKey = (await call("GET", "/api/v2/current_user/application_keys")).json.data
    .find((k) => k.attributes.last4 === srv.admin.app_key.slice(-4));
  const before = (await usage(apiKey.id)).json.data.attributes.requests_last_30_days;
  await call("GET", "/api/v1/validate", { headers: { "DD-API-KEY": srv.admin.api_key, "User-Agent": "validator/1" } });
  const a = await usageSoon(apiKey.id, (x) => x.clients.some((c) => c.user_agent === "validator/1"));
  assert.equal(a.credential_type, "api_keys");
  assert.ok(a.requests_last_30_days > before);
  assert.ok(a.routes.some((r) => r.route === "GET /api/v1/validate"));
  const app = await usageSoon(appKey.id, (x) => x.routes.some((r) => r.route === "GET /api/v2/keyhold/credentials/{id}/usage"));
  assert.equal(app.credential_type, "application_keys");
  assert.ok(!app.routes.some((r) => r.route === "GET /api/v1/validate"), "the API key alone was used there");

  const sa = (await call("POST", "/api/v2/service_accounts", { body: { data: { type: "users",
    attributes: { email: "bot@one.example", service_account: true } } } })).json.data;
  const sat = await call("POST", `/api/v2/service_accounts/${sa.id}/access_tokens`, { body: { data: {
    type: "service_access_tokens", attributes: { name: "bot", scopes: ["api_keys_read"] } } } });
  assert.equal(sat.status, 201, sat.body);
  srv.remember(sat.json.data.attributes.key);
  await call("GET", "/api/v2/api_keys", { headers: { ...bearer(sat.json.data.attributes.key), "User-Agent": "sa-bot/3" } });
  const s = await usageSoon(sat.json.data.id, (x) => x.requests_last_30_days === 1);
  assert.equal(s.credential_type, "service_access_tokens");
  assert.equal(s.clients[0].user_agent, "sa-bot/3");
  // service_account_write reads a SAT's usage; user_app_keys alone does not.
  assert.equal((await usage(sat.json.data.id, srv.keyHeaders(saWriter))).status, 200);
  assert.equal((await usage(sat.json.data.id, srv.keyHeaders(peer))).status, 404);
});

test("who may read a credential's usage: as its Datadog reads; 404 for everyone else, never a secret", async () => {
  const mine = await newPat(srv.keyHeaders(peer), ["user_app_keys"]);
  const adminPat = await newPat();
  const apiKey = (await call("GET", "/api/v2/api_keys")).json.data[0];
  const peerKey = (await call("GET", "/api/v2/current_user/application_keys", { headers: srv.keyHeaders(peer) })).json.data[0];
  const cases = [
    [mine.id, srv.keyHeaders(peer), 200, "one's own PAT with user_app_keys"],
    [peerKey.id, srv.keyHeaders(peer), 200, "one's own application key"],
    [adminPat.id, srv.keyHeaders(peer), 404, "another's PAT without org_app_keys_read"],
    [apiKey.id, srv.keyHeaders(peer), 404, "an API key without api_keys_read"],
    [apiKey.id, srv.keyHeaders(keysReader), 200, "an API key with api_keys_read"],
    [peerKey.id, srv.keyHeaders(keysReader), 404, "another's application key"],
    [mine.id, srv.keyHeaders(), 200, "the admin: org_app_keys_read"],
    [mine.id, bearer(mine.attributes.key), 200, "the PAT itself (its owner's, scoped to user_app_keys)"],
    [adminPat.id, bearer(adminPat.attributes.key), 404, "a PAT scoped to api_keys_read, even its own"],
    ["not-a-uuid", srv.keyHeaders(), 404, "not an id"],
    ["00000000-0000-4000-8000-000000000000", srv.keyHeaders(), 404, "no such credential"],
  ];
  for (const [id, headers, status, why] of cases) {
    const r = await usage(id, headers);
    assert.equal(r.status, status, `${why}: ${r.body}`);
    if (status === 404) assert.match(r.json.errors[0], /not found/i);
  }
  // Another org's credential is not found, whatever the caller holds.
  const other = srv.addOrg("Org Two", "admin@two.example");
  const otherKey = (await call("GET", "/api/v2/api_keys", { headers: srv.keyHeaders(other) })).json.data[0];
  assert.equal((await usage(otherKey.id)).status, 404);
  assert.equal((await usage(otherKey.id, srv.keyHeaders(other))).status, 200);
  // A revoked token has no usage route (its Datadog read is 404 too).
  await call("DELETE", `/api/v2/personal_access_tokens/${adminPat.id}`);
  assert.equal((await usage(adminPat.id)).status, 404);
  // No credentials: refused before anything is looked up.
  assert.equal((await usage(mine.id, {})).status, 403);
});

test("a rotation's dry run answers what would stop working and changes nothing", async () => {
  const t = await newPat();
  const old = t.attributes.key;
  await call("GET", "/api/v2/api_keys", { headers: { ...bearer(old), "User-Agent": "still-using/1" }, localAddress: "127.0.0.5" });
  await usageSoon(t.id, (x) => x.requests_last_30_days === 1);
  const trailQuery = `/api/v2/audit/events?filter%5Bquery%5D=%40asset.id%3A${t.id}&filter%5Bfrom%5D=now-1h&page%5Blimit%5D=1000`;
  const recentQuery = "/api/v2/audit/events?filter%5Bfrom%5D=now-1h&page%5Blimit%5D=1000";
  const before = { token: (await call("GET", `/api/v2/personal_access_tokens/${t.id}`)).json,
    trail: (await call("GET", trailQuery)).json.data, recent: (await call("GET", recentQuery)).json.data.length };

  const r = await rotate(t.id, { key: "dry-1", body: { data: { attributes: { grace_seconds: 600 } } } });
  assert.equal(r.status, 200, r.body);
  const a = r.json.data.attributes;
  assert.equal(r.json.data.type, "credential_previews");
  assert.equal(r.json.data.id, t.id);
  assert.equal(a.action, "rotate");
  assert.equal(a.dry_run, true);
  assert.equal(a.grace_seconds, 600);
  assert.equal(a.ends_at_first_use_of_new_secret, true);
  assert.ok(Math.abs(new Date(a.secret_in_use_valid_until) - Date.now() - 600e3) < 60e3);
  assert.match(a.effect, /would keep working until/);
  assert.equal(a.key, undefined, "no secret in a dry run");
  assert.deepEqual(a.usage.clients.map((c) => [c.address, c.user_agent]), [["127.0.0.5", "still-using/1"]]);
  assert.equal(a.usage.routes[0].route, "GET /api/v2/api_keys");
  assert.ok(!r.body.includes(old) && !/ddpat_[A-Za-z0-9]+_[A-Za-z0-9]{20,}/.test(r.body), "no secret");
  const zero = await rotate(t.id, { body: { data: { attributes: { grace_seconds: 0 } } } });
  assert.equal(zero.status, 200);
  assert.equal(zero.json.data.attributes.ends_at_first_use_of_new_secret, false);
  assert.match(zero.json.data.attributes.effect, /refused at once/);

  // Nothing changed: the token, the trail, and the old secret still works alone.
  assert.deepEqual((await call("GET", `/api/v2/personal_access_tokens/${t.id}`)).json, before.token);
  assert.deepEqual((await call("GET", trailQuery)).json.data, before.trail);
  assert.equal((await call("GET", recentQuery)).json.data.length, before.recent, "no audit event at all");
  assert.equal((await call("GET", "/api/v2/api_keys", { headers: bearer(old) })).status, 200);
  // No kept answer either: the same Idempotency-Key with another request rotates (no 422, no replay).
  const real = await rotate(t.id, { query: "", key: "dry-1", body: { data: { attributes: { grace_seconds: 0 } } } });
  assert.equal(real.status, 201, real.body);
  assert.equal((await call("GET", "/api/v2/api_keys", { headers: bearer(old) })).status, 403, "the real rotation did");
  const after = (await call("GET", trailQuery)).json.data;
  assert.equal(after.length, before.trail.length + 1);
});

test("an API key's and an application key's dry runs answer their usage and change nothing", async () => {
  const apiKey = (await call("GET", "/api/v2/api_keys")).json.data.find((k) => k.attributes.last4 === srv.admin.api_key.slice(-4));
  const appKey = (await call("GET", "/api/v2/current_user/application_keys", { headers: srv.keyHeaders(peer) })).json.data[0];
  await call("GET", "/api/v2/current_user/application_keys", { headers: { ...srv.keyHeaders(peer), "User-Agent": "peer-tool/2" } });
  await usageSoon(appKey.id, (x) => x.clients.some((c) => c.user_agent === "peer-tool/2"));
  // What Datadog's GET shows, but the last use (the dry run is itself a use of the caller's keys).
  const shown = async (type, id) => {
    const j = (await call("GET", type === "api_keys" ? `/api/v2/api_keys/${id}` : `/api/v2/application_keys/${id}`)).json;
    for (const k of ["last_used_at", "date_last_used", "last_used_date", "used_in_last_24_hours"]) delete j.data.attributes[k];
    return j;
  };
  for (const [id, headers, type] of [[apiKey.id, srv.keyHeaders(), "api_keys"], [appKey.id, srv.keyHeaders(peer), "application_keys"]]) {
    const before = await shown(type, id);
    const r = await rotate(id, { headers, body: { data: { attributes: { grace_seconds: 0 } } } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.data.attributes.credential_type, type);
    assert.equal(r.json.data.attributes.usage.credential_type, type);
    assert.ok(r.json.data.attributes.usage.requests_last_30_days > 0);
    await new Promise((res) => setTimeout(res, 300)); // past the flush: a write would show by now
    assert.deepEqual(await shown(type, id), before);
  }
  // The keys still work, unchanged.
  assert.equal((await call("GET", "/api/v2/current_user/application_keys", { headers: srv.keyHeaders(peer) })).status, 200);
  assert.equal((await call("GET", "/api/v1/validate", { headers: { "DD-API-KEY": srv.admin.api_key } })).status, 200);
});

test("a dry run is refused as the rotation would be", async () => {
  const mine = await newPat(srv.keyHeaders(peer), ["user_app_keys"]);
  const adminPat = await newPat();
  const wide = await newPat(srv.keyHeaders(), ["api_keys_read", "api_keys_write"]);
  const narrow = (await newPat(srv.keyHeaders(), ["org_app_keys_write"])).attributes.key;
  const rotated = await newPat();
  assert.equal((await rotate(rotated.id, { query: "" })).status, 201);
  const apiKey = (await call("GET", "/api/v2/api_keys")).json.data[0];
  const cases = [
    [adminPat.id, { headers: srv.keyHeaders(peer) }, 404, /not found/],
    [mine.id, { headers: srv.keyHeaders(peer) }, 200, null],
    [wide.id, { headers: bearer(narrow) }, 403, /api_keys_read|api_keys_write/],
    [rotated.id, {}, 409, /previous secret is accepted until/],
    [apiKey.id, { headers: srv.keyHeaders(keysReader) }, 403, /api_keys_write/],
    ["00000000-0000-4000-8000-000000000000", {}, 404, /not found/],
    [adminPat.id, { body: { data: { attributes: { grace_seconds: -1 } } } }, 400, /grace_seconds/],
    [adminPat.id, { key: "has space" }, 400, /Idempotency-Key/],
  ];
  for (const [id, opts, status, msg] of cases) {
    const r = await rotate(id, opts);
    assert.equal(r.status, status, `${id} ${JSON.stringify(opts.body)}: ${r.body}`);
    if (msg) assert.match(r.json.errors[0], msg);
  }
});

test("bad dry_run values, dry_run twice and unknown query parameters are refused 400; nothing rotates", async () => {
  const t = await newPat();
  for (const q of ["?dry_run=yes", "?dry_run=1", "?dry_run=", "?dry_run=TRUE", "?dry_run=true&dry_run=false",
    "?dryrun=true", "?dry-run=true", "?dry_run=true&grace=5"]) {
    const r = await rotate(t.id, { query: q });
    assert.equal(r.status, 400, `${q}: ${r.body}`);
    assert.match(r.json.errors[0], /dry_run|query parameter/);
  }
  assert.equal((await rotate(t.id, { query: "?dry_run=false" })).status, 201, "false is the rotation itself");
});

test("keyhold usage shows a credential's usage from the shell, as the API does", async () => {
  const t = await newPat();
  await call("GET", "/api/v2/api_keys", { headers: { ...bearer(t.attributes.key), "User-Agent": "shell-check/1" } });
  const api = await usageSoon(t.id, (x) => x.requests_last_30_days === 1);
  const out = JSON.parse(srv.cli("usage", "--db", srv.db, "--json", t.id));
  assert.equal(out.id, t.id);
  assert.equal(out.kind, "pat");
  assert.equal(out.org_id, srv.admin.org_id);
  assert.equal(out.state, "live");
  assert.equal(out.requests_last_30_days, 1);
  assert.deepEqual(out.days, api.days);
  assert.deepEqual(out.clients, api.clients);
  assert.deepEqual(out.routes, api.routes);
  assert.equal(out.last_used_at, api.last_used_at);
  const text = srv.cli("usage", "--db", srv.db, t.id);
  assert.match(text, /requests +1 in the last 30 days/);
  assert.match(text, /shell-check\/1/);
  assert.match(text, /GET \/api\/v2\/api_keys/);
  assert.ok(!text.includes(t.attributes.key));
  // A revoked token's usage stays readable from the shell.
  await call("DELETE", `/api/v2/personal_access_tokens/${t.id}`);
  assert.equal(JSON.parse(srv.cli("usage", "--db", srv.db, "--json", t.id)).state, "revoked");
  assert.throws(() => srv.cli("usage", "--db", srv.db, "00000000-0000-4000-8000-000000000000"), /no API key, application key or token/);
  assert.throws(() => srv.cli("usage", "--db", srv.db, "--org", "00000000-0000-4000-8000-000000000000", t.id), /no org/);
});

test("keyhold usage shows a name's control characters as '?': no escape sequence or forged line reaches the terminal", async () => {
  const name = "ci\u001b[2J\u001b]0;owned\u0007\nFAKE LINE: revoked by admin\u202e";
  const made = await call("POST", "/api/v2/api_keys", { body: { data: { type: "api_keys", attributes: { name } } } });
  assert.equal(made.status, 201, made.body);
  srv.remember(made.json.data.attributes.key);
  const text = srv.cli("usage", "--db", srv.db, made.json.data.id);
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/.test(text), JSON.stringify(text));
  assert.ok(!text.split("\n").some((l) => l.startsWith("FAKE LINE")), "no forged line");
  assert.match(text, /ci\?\[2J\?\]0;owned\?\?FAKE LINE: revoked by admin\?/);
  // JSON keeps the name as it is (jansson escapes it).
  assert.equal(JSON.parse(srv.cli("usage", "--db", srv.db, "--json", made.json.data.id)).name, name);
});
