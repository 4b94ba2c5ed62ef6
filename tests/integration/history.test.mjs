// history.test.mjs - history instead of vanishing (issue 15, item 3), through
// plain HTTP, every answer of keyhold's routes validated against its own
// OpenAPI file (docs/api/keyhold-extensions.yaml): revoked and expired tokens
// and deleted API and application keys listed with who ended them, when and
// why; Datadog's routes still answering 404 and leaving them out; who may see
// which row and revoke what (the Datadog routes' permissions); the retention
// hiding rows and the writer forgetting them; a 4xx with a message for every
// bad input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import YAML from "yaml";
import { Server } from "./helpers.mjs";

const SPEC = new URL("../../docs/api/keyhold-extensions.yaml", import.meta.url).pathname;
const LIST = "/api/v2/keyhold/credentials";
const inSeconds = (s) => new Date(Date.now() + s * 1000).toISOString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let srv, peer, apiReader, orgReader, saWriter, nobody, other, validators;

before(async () => {
  srv = await new Server().start("--test-mode");
  peer = srv.addUser(srv.admin, "peer@one.example", ["user_app_keys"]);
  apiReader = srv.addUser(srv.admin, "apireader@one.example", ["api_keys_read", "api_keys_delete"]);
  orgReader = srv.addUser(srv.admin, "orgreader@one.example", ["org_app_keys_read"]);
  saWriter = srv.addUser(srv.admin, "sa@one.example", ["service_account_write"]);
  nobody = srv.addUser(srv.admin, "nobody@one.example", ["dashboards_read"]);
  other = srv.addOrg("Org Two", "admin@two.example");
  const doc = YAML.parse(readFileSync(SPEC, "utf8"));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, "ext");
  validators = (path, method) => (status, body) => {
    const op = doc.paths[path][method];
    const declared = op.responses[String(status)];
    assert.ok(declared, `${method} ${path}: status ${status} is declared`);
    if (status === 204) return;
    const ref = declared.$ref ? doc.components.responses.Error : declared;
    const v = ajv.getSchema(`ext${ref.content["application/json"].schema.$ref}`);
    assert.ok(v(body), `${status} answer matches the OpenAPI file: ${ajv.errorsText(v.errors)} ${JSON.stringify(body)}`);
  };
});

after(async () => {
  await srv.stop();
});

async function call(method, path, { headers = srv.keyHeaders(), body } = {}) {
  const h = { ...headers };
  if (body !== undefined) h["content-type"] = "application/json";
  return srv.raw(method, path, { headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
}

/** GET the history (query: a string after "?"), validated. */
async function history(query = "", headers = srv.keyHeaders(), on = srv) {
  const r = await on.raw("GET", `${LIST}${query ? `?${query}` : ""}`, { headers });
  validators(LIST, "get")(r.status, r.json);
  return r;
}

/** Every row of the history one caller sees, by id. */
async function seen(headers = srv.keyHeaders(), query = "page%5Bsize%5D=100") {
  const r = await history(query, headers);
  assert.equal(r.status, 200, r.body);
  return new Map(r.json.data.map((d) => [d.id, d.attributes]));
}

async function revoke(id, { headers = srv.keyHeaders(), reason, body, on = srv } = {}) {
  const payload = body !== undefined ? body : reason === undefined ? undefined
    : { data: { type: "credential_revocations", attributes: { reason } } };
  const h = { ...headers };
  if (payload !== undefined) h["content-type"] = "application/json";
  const r = await on.raw("POST", `${LIST}/${id}/revoke`, { headers: h,
    body: payload === undefined ? undefined : typeof payload === "string" ? payload : JSON.stringify(payload) });
  validators(`${LIST}/{credential_id}/revoke`, "post")(r.status, r.json);
  return r;
}

async function newPat(headers = srv.keyHeaders(), { expires = inSeconds(48 * 3600), name = "history pat", scopes = ["api_keys_read"] } = {}) {
  const r = await call("POST", "/api/v2/personal_access_tokens", { headers,
    body: { data: { type: "personal_access_tokens", attributes: { name, scopes, expires_at: expires } } } });
  assert.equal(r.status, 201, r.body);
  srv.remember(r.json.data.attributes.key);
  return r.json.data;
}

async function newApiKey(name = "history api key") {
  const r = await call("POST", "/api/v2/api_keys", { body: { data: { type: "api_keys", attributes: { name } } } });
  assert.equal(r.status, 201, r.body);
  srv.remember(r.json.data.attributes.key);
  return r.json.data;
}

async function newAppKey(headers = srv.keyHeaders(), name = "history app key") {
  const r = await call("POST", "/api/v2/current_user/application_keys", { headers,
    body: { data: { type: "application_keys", attributes: { name } } } });
  assert.equal(r.status, 201, r.body);
  srv.remember(r.json.data.attributes.key);
  return r.json.data;
}

async function newServiceAccount(email) {
  const r = await call("POST", "/api/v2/service_accounts", { body: { data: { type: "users", attributes: { email, service_account: true } } } });
  assert.equal(r.status, 201, r.body);
  return r.json.data;
}

test("the OpenAPI file of the extensions is a valid OpenAPI document with both history routes", async () => {
  const api = await SwaggerParser.validate(SPEC);
  assert.ok(api.paths[LIST].get);
  assert.ok(api.paths[`${LIST}/{credential_id}/revoke`].post);
});

test("a revoked token is listed with who revoked it and why; Datadog's routes answer 404 and leave it out", async () => {
  const t = await newPat();
  assert.equal((await revoke(t.id, { reason: "seen in a CI log" })).status, 204);
  assert.equal((await call("GET", `/api/v2/personal_access_tokens/${t.id}`)).status, 404);
  const list = await call("GET", "/api/v2/personal_access_tokens?page%5Bsize%5D=100");
  assert.ok(!list.json.data.some((d) => d.id === t.id), "absent from Datadog's list");
  assert.equal((await call("DELETE", `/api/v2/personal_access_tokens/${t.id}`)).status, 204, "revoking again: 204, as Datadog");
  const r = await history("state=revoked&filter%5Bkind%5D=personal_access_token&page%5Bsize%5D=100");
  const row = r.json.data.find((d) => d.id === t.id);
  assert.ok(row, r.body);
  assert.equal(row.type, "credential_history");
  assert.deepEqual({ ...row.attributes, created_at: undefined, ended_at: undefined, expires_at: undefined }, {
    kind: "personal_access_token", state: "revoked", name: "history pat", owner_id: srv.admin.user_id,
    created_at: undefined, expires_at: undefined, ended_at: undefined, ended_by: srv.admin.user_id,
    ended_by_email: "admin@one.example", reason: "seen in a CI log", last4: null, public_portion: t.attributes.public_portion });
  assert.ok(Math.abs(new Date(row.attributes.ended_at) - Date.now()) < 60e3);
  assert.equal(r.json.meta.retention_seconds, 90 * 86400, "90 days by default");
  // Datadog's own revocation records who (no reason).
  const t2 = await newPat();
  assert.equal((await call("DELETE", `/api/v2/personal_access_tokens/${t2.id}`, { headers: srv.keyHeaders(peer) })).status, 404);
  assert.equal((await call("DELETE", `/api/v2/personal_access_tokens/${t2.id}`)).status, 204);
  const row2 = (await seen()).get(t2.id);
  assert.equal(row2.ended_by, srv.admin.user_id);
  assert.equal(row2.reason, null);
  // The trail has the revocation too.
  const trail = await call("GET", `/api/v2/audit/events?filter%5Bquery%5D=%40action%3Arevoked%20%40asset.id%3A${t.id}&filter%5Bfrom%5D=now-1h`);
  assert.equal(trail.json.data.length, 1);
});

test("an expired token is listed under expired, not revoked", async () => {
  const t = await newPat(srv.keyHeaders(), { expires: inSeconds(2), name: "short lived" });
  assert.ok(!(await seen()).has(t.id), "not history while it lives");
  await sleep(2300);
  assert.equal((await call("GET", `/api/v2/personal_access_tokens/${t.id}`)).status, 404);
  const expired = await seen(srv.keyHeaders(), "state=expired&page%5Bsize%5D=100");
  const row = expired.get(t.id);
  assert.ok(row, "listed as expired");
  assert.equal(row.state, "expired");
  assert.equal(row.ended_by, null);
  assert.equal(row.ended_at, row.expires_at);
  assert.ok(!(await seen(srv.keyHeaders(), "state=revoked&page%5Bsize%5D=100")).has(t.id));
  assert.equal((await revoke(t.id)).status, 404, "an expired token is not revoked again");
});

test("deleted API and application keys are listed; their Datadog routes answer 404", async () => {
  const ak = await newApiKey();
  assert.equal((await call("DELETE", `/api/v2/api_keys/${ak.id}`)).status, 204);
  assert.equal((await call("GET", `/api/v2/api_keys/${ak.id}`)).status, 404);
  const keys = await call("GET", "/api/v2/api_keys?page%5Bsize%5D=100");
  assert.ok(!keys.json.data.some((d) => d.id === ak.id));
  const app = await newAppKey(srv.keyHeaders(peer));
  assert.equal((await revoke(app.id, { headers: srv.keyHeaders(peer), reason: "left the team" })).status, 204);
  assert.equal((await call("GET", `/api/v2/application_keys/${app.id}`)).status, 404);
  assert.equal((await call("GET", `/api/v2/current_user/application_keys/${app.id}`, { headers: srv.keyHeaders(peer) })).status, 404);
  const ak2 = await newApiKey("v1 deleted");
  const v1 = await call("DELETE", `/api/v1/api_key/${ak2.attributes.key}`);
  assert.equal(v1.status, 200, v1.body);
  const rows = await seen();
  assert.equal(rows.get(ak.id).kind, "api_key");
  assert.equal(rows.get(ak.id).last4, ak.attributes.last4);
  assert.equal(rows.get(ak.id).state, "revoked");
  assert.equal(rows.get(ak.id).ended_by, srv.admin.user_id);
  assert.equal(rows.get(ak2.id).ended_by, srv.admin.user_id, "v1 deletes are history too");
  const a = rows.get(app.id);
  assert.equal(a.kind, "application_key");
  assert.equal(a.owner_id, peer.user_id);
  assert.equal(a.ended_by, peer.user_id);
  assert.equal(a.ended_by_email, "peer@one.example");
  assert.equal(a.reason, "left the team");
  assert.equal(a.last4, app.attributes.last4);
  assert.equal(a.public_portion, null);
  // The shell's revocations are history too, ended by "operator".
  const shelled = await newApiKey("revoked from the shell");
  srv.cli("key", "revoke", "--db", srv.db, shelled.id);
  const byShell = (await seen()).get(shelled.id);
  assert.equal(byShell.ended_by, "operator");
  assert.equal(byShell.ended_by_email, null);
  // Nothing secret in a row: no value, no hash.
  for (const attrs of rows.values()) assert.deepEqual(Object.keys(attrs).filter((k) => /key|hash|secret/.test(k)), []);
});

test("disabling a user leaves its keys and tokens in the history, ended by whoever disabled it", async () => {
  const u = srv.addUser(srv.admin, "leaver@one.example", ["user_app_keys"]);
  const k = await newAppKey(srv.keyHeaders(u), "leaver's key");
  const t = await newPat(srv.keyHeaders(u), { name: "leaver's pat", scopes: ["user_app_keys"] });
  assert.equal((await call("DELETE", `/api/v2/users/${u.user_id}`)).status, 204);
  const rows = await seen();
  for (const id of [k.id, t.id]) {
    assert.equal(rows.get(id)?.state, "revoked", id);
    assert.equal(rows.get(id).ended_by, srv.admin.user_id);
    assert.equal(rows.get(id).reason, "owner disabled");
  }
});

test("each caller sees only the rows it could read live", async () => {
  const mine = await newPat(srv.keyHeaders(peer), { name: "peer's", scopes: ["user_app_keys"] });
  await revoke(mine.id, { headers: srv.keyHeaders(peer) });
  const adminPat = await newPat();
  await revoke(adminPat.id);
  const ak = await newApiKey("seen by api readers");
  await revoke(ak.id);
  const sa = await newServiceAccount("history-bot@one.example");
  const sat = await call("POST", `/api/v2/service_accounts/${sa.id}/access_tokens`, { body: { data: { type: "service_access_tokens", attributes: { name: "bot", scopes: ["api_keys_read"] } } } });
  assert.equal(sat.status, 201, sat.body);
  srv.remember(sat.json.data.attributes.key);
  const saKey = await call("POST", `/api/v2/service_accounts/${sa.id}/application_keys`, { body: { data: { type: "application_keys", attributes: { name: "bot key" } } } });
  assert.equal(saKey.status, 201, saKey.body);
  srv.remember(saKey.json.data.attributes.key);
  assert.equal((await revoke(sat.json.data.id, { headers: srv.keyHeaders(saWriter) })).status, 204);
  assert.equal((await revoke(saKey.json.data.id, { headers: srv.keyHeaders(saWriter) })).status, 204);

  const admin = await seen();
  for (const id of [mine.id, adminPat.id, ak.id, sat.json.data.id, saKey.json.data.id]) assert.ok(admin.has(id), `the admin sees ${id}`);
  const p = await seen(srv.keyHeaders(peer));
  assert.ok(p.has(mine.id));
  for (const [, row] of p) assert.equal(row.owner_id, peer.user_id, "user_app_keys: one's own only");
  const a = await seen(srv.keyHeaders(apiReader));
  assert.ok(a.has(ak.id));
  for (const [, row] of a) assert.equal(row.kind, "api_key", "api_keys_read: API keys only");
  const o = await seen(srv.keyHeaders(orgReader));
  assert.ok(o.has(mine.id) && o.has(adminPat.id) && o.has(saKey.json.data.id) && !o.has(ak.id) && !o.has(sat.json.data.id));
  const s = await seen(srv.keyHeaders(saWriter));
  assert.ok(s.has(sat.json.data.id) && s.has(saKey.json.data.id));
  for (const [, row] of s) assert.ok(row.kind === "service_access_token" || row.owner_id === sa.id, JSON.stringify(row));
  const none = await history("", srv.keyHeaders(nobody));
  assert.equal(none.status, 403);
  assert.match(none.json.errors[0], /api_keys_read/);
  const elsewhere = await seen(srv.keyHeaders(other));
  assert.ok(![...elsewhere.keys()].some((id) => admin.has(id)), "another org sees none of it");
  // A scoped token of the admin narrows what it sees.
  const scoped = (await newPat(srv.keyHeaders(), { name: "reader" })).attributes.key;
  const viaToken = await seen({ Authorization: `Bearer ${scoped}` });
  for (const [, row] of viaToken) assert.equal(row.kind, "api_key", "a token scoped to api_keys_read sees API keys only");
});

test("revoking needs exactly what the matching Datadog route needs", async () => {
  const adminPat = await newPat();
  const r1 = await revoke(adminPat.id, { headers: srv.keyHeaders(peer) });
  assert.equal(r1.status, 404, "another's PAT is not shown (user_app_keys)");
  const r2 = await revoke(adminPat.id, { headers: srv.keyHeaders(orgReader) });
  assert.equal(r2.status, 403, "org_app_keys_read does not revoke");
  const ak = await newApiKey();
  assert.equal((await revoke(ak.id, { headers: srv.keyHeaders(peer) })).status, 403, "api_keys_delete is needed");
  const adminKey = await newAppKey();
  assert.equal((await revoke(adminKey.id, { headers: srv.keyHeaders(peer) })).status, 404, "another's application key");
  assert.equal((await revoke(adminKey.id, { headers: srv.keyHeaders(apiReader) })).status, 403);
  assert.equal((await revoke(adminKey.id, { headers: srv.keyHeaders(saWriter) })).status, 404, "not a service account's key");
  const sa = await newServiceAccount("revoke-bot@one.example");
  const sat = await call("POST", `/api/v2/service_accounts/${sa.id}/access_tokens`, { body: { data: { type: "service_access_tokens", attributes: { name: "bot", scopes: ["api_keys_read"] } } } });
  srv.remember(sat.json.data.attributes.key);
  assert.equal((await revoke(sat.json.data.id, { headers: srv.keyHeaders(peer) })).status, 403, "SATs need service_account_write");
  // Those allowed succeed, once.
  assert.equal((await revoke(ak.id, { headers: srv.keyHeaders(apiReader), reason: "unused" })).status, 204);
  assert.equal((await revoke(ak.id, { headers: srv.keyHeaders(apiReader) })).status, 404, "already deleted");
  assert.equal((await revoke(adminPat.id)).status, 204);
  assert.equal((await revoke(adminKey.id)).status, 204);
  // Another org's admin cannot touch this org's credentials.
  const mine = await newPat();
  assert.equal((await revoke(mine.id, { headers: srv.keyHeaders(other) })).status, 404);
  assert.equal((await call("GET", `/api/v2/personal_access_tokens/${mine.id}`)).status, 200, "still live");
  for (const h of [{}, { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": "0".repeat(40) }]) {
    assert.ok([401, 403].includes((await revoke(mine.id, { headers: h })).status));
    assert.ok([401, 403].includes((await history("", h)).status));
  }
});

test("paging is Datadog's: page[size], page[number], meta.page.total_filtered_count; sort by ended_at", async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const k = await newApiKey(`paged ${i}`);
    await revoke(k.id);
    ids.push(k.id);
  }
  const all = await history("filter%5Bkind%5D=api_key&page%5Bsize%5D=100");
  const total = all.json.meta.page.total_filtered_count;
  assert.equal(all.json.data.length, total);
  assert.deepEqual(all.json.data.slice(0, 3).map((d) => d.id), [...ids].reverse(), "newest ended first");
  const page = await history("filter%5Bkind%5D=api_key&page%5Bsize%5D=2&page%5Bnumber%5D=1");
  assert.equal(page.json.meta.page.total_filtered_count, total);
  assert.deepEqual(page.json.data.map((d) => d.id), all.json.data.slice(2, 4).map((d) => d.id));
  const oldest = await history("filter%5Bkind%5D=api_key&page%5Bsize%5D=100&sort=ended_at");
  assert.deepEqual(oldest.json.data.map((d) => d.id), all.json.data.map((d) => d.id).reverse());
  const leaked = await history("state=leaked");
  assert.equal(leaked.status, 200);
  assert.deepEqual(leaked.json.data, []);
});

test("every bad input answers 4xx with what is wrong", async () => {
  const t = await newPat();
  const badLists = [
    ["state=gone", /state/], ["filter%5Bkind%5D=token", /filter\[kind\]/], ["page%5Bsize%5D=0", /page\[size\]/],
    ["page%5Bsize%5D=101", /page\[size\]/], ["page%5Bnumber%5D=-1", /page\[number\]/], ["sort=name", /sort/],
  ];
  for (const [q, msg] of badLists) {
    const r = await history(q);
    assert.equal(r.status, 400, `${q}: ${r.body}`);
    assert.match(r.json.errors[0], msg);
  }
  const bad = [
    [{ data: { attributes: { reason: "x".repeat(257) } } }, /reason/],
    [{ data: { attributes: { reason: 42 } } }, /reason/],
    [{ data: { attributes: { reason: "two\nlines" } } }, /control characters/],
    [{ data: { attributes: { reason: "ok\u202eevil" } } }, /control characters/],
    [{ data: { attributes: { reason: "ok\u2028next" } } }, /control characters/],
    [{ data: { attributes: { reason: "c1\u0085" } } }, /control characters/],
    [{ data: { attributes: { why: "x" } } }, /why/],
    [{ data: { type: "tokens" } }, /type/],
    ["{", /JSON/i],
  ];
  for (const [body, msg] of bad) {
    const r = await revoke(t.id, { body });
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.match(r.json.errors[0], msg);
  }
  for (const id of ["not-a-uuid", "00000000-0000-4000-8000-000000000000"]) {
    const r = await revoke(id);
    assert.equal(r.status, 404);
    assert.match(r.json.errors[0], /not found/);
  }
  assert.equal((await call("GET", `/api/v2/personal_access_tokens/${t.id}`)).status, 200, "nothing was revoked by the refused requests");
  assert.equal((await revoke(t.id, { reason: "x".repeat(256) })).status, 204, "256 bytes is the limit");
});

test("the retention hides ended credentials, and the writer forgets them", { timeout: 60000 }, async () => {
  const short = await new Server().start("--test-mode", "--history-retention", "3s");
  try {
    const h = short.keyHeaders();
    const pat = await short.raw("POST", "/api/v2/personal_access_tokens", { headers: { ...h, "content-type": "application/json" },
      body: JSON.stringify({ data: { type: "personal_access_tokens", attributes: { name: "short", scopes: ["api_keys_read"], expires_at: inSeconds(3600) } } }) });
    assert.equal(pat.status, 201, pat.body);
    short.remember(pat.json.data.attributes.key);
    const key = await short.raw("POST", "/api/v2/api_keys", { headers: { ...h, "content-type": "application/json" },
      body: JSON.stringify({ data: { type: "api_keys", attributes: { name: "short key" } } }) });
    short.remember(key.json.data.attributes.key);
    assert.equal((await revoke(pat.json.data.id, { headers: h, on: short, reason: "done" })).status, 204);
    assert.equal((await revoke(key.json.data.id, { headers: h, on: short })).status, 204);
    const listed = await history("", h, short);
    assert.deepEqual(listed.json.data.map((d) => d.id).sort(), [pat.json.data.id, key.json.data.id].sort());
    assert.equal(listed.json.meta.retention_seconds, 3);
    // A leak report (of nothing) is logged, and that log is kept as long as the history.
    const report = await short.raw("POST", "/api/v2/keyhold/leaks", { headers: { ...h, "content-type": "application/json" },
      body: JSON.stringify([{ token: "not-a-secret-of-anything-0000000", type: "keyhold_api_key", url: "https://example.com/x" }]) });
    assert.equal(report.status, 202, report.body);
    assert.equal((await short.raw("DELETE", `/api/v2/personal_access_tokens/${pat.json.data.id}`, { headers: h })).status, 204,
      "kept: revoking again answers 204");
    await sleep(3300);
    const gone = await history("", h, short);
    assert.deepEqual(gone.json.data, [], "past the retention: not listed");
    assert.equal(gone.json.meta.page.total_filtered_count, 0);
    // Stopping runs the writer's upkeep, which forgets them; a restart shows it.
    short.proc.kill("SIGTERM");
    assert.equal((await short.exited).code, 0);
    short.proc = null;
    const rows = JSON.parse(short.cli("check", "--db", short.db, "--json")).rows;
    assert.equal(rows.credential_history, 0, "the tombstone is gone");
    assert.equal(rows.leak_reports, 0, "the log of leak reports past the retention too");
    await short.serve("--test-mode", "--history-retention", "3s");
    assert.equal((await short.raw("DELETE", `/api/v2/personal_access_tokens/${pat.json.data.id}`, { headers: h })).status, 404,
      "the token's row is gone too");
    assert.equal((await short.raw("GET", "/api/v2/personal_access_tokens", { headers: h })).status, 200);
  } finally {
    await short.stop();
  }
});

test("--history-retention is checked", () => {
  for (const bad of ["0", "3651d", "1w", "-5s", "d"]) {
    assert.throws(() => srv.cli("serve", "--db", srv.db, "--history-retention", bad), (e) => {
      assert.match(e.stderr.toString(), /--history-retention wants a duration/);
      return e.status === 2;
    });
  }
  const shown = srv.cli("serve", "--db", srv.db, "--history-retention", "12h", "--print-config");
  assert.match(shown, /history_retention = 12h/);
});

test("a revocation can be previewed with ?dry_run=true: what would stop, the same refusals, nothing revoked", async () => {
  const pat = await newPat(srv.keyHeaders(), { name: "preview me" });
  const uses = async () => (await call("GET", "/api/v2/validate_keys", { headers: { Authorization: `Bearer ${pat.attributes.key}` } })).status;
  assert.equal(await uses(), 200);
  const trailBefore = await call("GET", `/api/v2/audit/events?filter%5Bquery%5D=%40asset.id%3A${pat.id}&filter%5Bfrom%5D=now-1h`);
  const preview = await srv.raw("POST", `${LIST}/${pat.id}/revoke?dry_run=true`, { headers: srv.keyHeaders() });
  validators(`${LIST}/{credential_id}/revoke`, "post")(preview.status, preview.json);
  assert.equal(preview.status, 200, preview.body);
  const a = preview.json.data.attributes;
  assert.equal(a.action, "revoke");
  assert.equal(a.dry_run, true);
  assert.equal(a.credential_type, "personal_access_tokens");
  assert.equal(a.name, "preview me");
  assert.match(a.effect, /refused at once/);
  assert.ok(a.usage, "what would stop working: the usage");
  assert.ok(!preview.body.includes(pat.attributes.key));
  assert.equal(await uses(), 200, "nothing was revoked");
  assert.equal((await seen()).has(pat.id), false, "not in the history");
  const trailAfter = await call("GET", `/api/v2/audit/events?filter%5Bquery%5D=%40asset.id%3A${pat.id}&filter%5Bfrom%5D=now-1h`);
  assert.equal(trailAfter.json.data.length, trailBefore.json.data.length, "no audit event");
  // The same refusals as the revocation itself.
  const refused = await srv.raw("POST", `${LIST}/${pat.id}/revoke?dry_run=true`, { headers: srv.keyHeaders(nobody) });
  assert.equal(refused.status, 403, refused.body); // as the revocation refuses it: neither user_app_keys nor org_app_keys_write
  const bad = await srv.raw("POST", `${LIST}/${pat.id}/revoke?dry_run=yes`, { headers: srv.keyHeaders() });
  assert.equal(bad.status, 400);
  assert.match(bad.json.errors[0], /dry_run/);
  assert.equal(await uses(), 200);
  // An API key's preview, then the real thing.
  const key = await newApiKey("preview api key");
  const kp = await srv.raw("POST", `${LIST}/${key.id}/revoke?dry_run=true`, { headers: srv.keyHeaders() });
  assert.equal(kp.status, 200, kp.body);
  assert.equal(kp.json.data.attributes.credential_type, "api_keys");
  assert.equal((await call("GET", `/api/v2/api_keys/${key.id}`)).status, 200, "still there");
  assert.equal((await revoke(pat.id, { reason: "previewed first" })).status, 204);
  assert.equal(await uses(), 403);
});

test("a preview shows the usage only to a caller that may read the credential", async () => {
  const deleter = srv.addUser(srv.admin, "deleter@one.example", ["api_keys_delete"]);
  const key = await newApiKey("previewed by a deleter");
  const usage = await call("GET", `${LIST}/${key.id}/usage`, { headers: srv.keyHeaders(deleter) });
  assert.equal(usage.status, 404, "it may not read the key's usage");
  const p = await srv.raw("POST", `${LIST}/${key.id}/revoke?dry_run=true`, { headers: srv.keyHeaders(deleter) });
  validators(`${LIST}/{credential_id}/revoke`, "post")(p.status, p.json);
  assert.equal(p.status, 200, p.body);
  assert.equal(p.json.data.attributes.usage, null, "deleting is not reading: no usage");
  const admin = await srv.raw("POST", `${LIST}/${key.id}/revoke?dry_run=true`, { headers: srv.keyHeaders() });
  assert.ok(admin.json.data.attributes.usage, "a reader sees it");
});
