// leaks.test.mjs - the leak loop's online half (issue 15, item 4), through
// plain HTTP, every answer of keyhold's extensions validated against
// docs/api/keyhold-extensions.yaml: reports in GitHub's secret scanning
// partner format signed with a key pair made here (node:crypto, ECDSA P-256)
// and loaded with serve --leak-public-keys, forged and unknown signatures
// refused, the same answer to a signed reporter whether anything matched or
// not, the org's policy (revoke by default, quarantine),
// Datadog's leaked_keys on the API key routes, reports by authenticated
// callers, and `keyhold scan --report` end to end.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import YAML from "yaml";
import { readFileSync } from "node:fs";
import { Server, BIN } from "./helpers.mjs";

const SPEC = new URL("../../docs/api/keyhold-extensions.yaml", import.meta.url).pathname;
const KEY_ID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a";
const inHours = (h) => new Date(Date.now() + h * 3600e3).toISOString();
let srv, dir, github, other, org2, validators;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "keyhold-leaks-"));
  github = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }); // a forger's
  const pem = github.publicKey.export({ type: "spki", format: "pem" });
  const keysFile = join(dir, "github-keys.json");
  writeFileSync(keysFile, JSON.stringify({ public_keys: [
    { key_identifier: "old-key", key: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "pem" }), is_current: false },
    { key_identifier: KEY_ID, key: pem, is_current: true },
  ] }));
  srv = await new Server().start("--leak-public-keys", keysFile);
  org2 = srv.addOrg("Org Two", "admin@two.example");
  const doc = YAML.parse(readFileSync(SPEC, "utf8"));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, "ext");
  validators = { doc, ajv };
});

after(async () => {
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Checks an answer of an extension against the OpenAPI file. */
function validate(path, method, status, body) {
  const { doc, ajv } = validators;
  const declared = doc.paths[path][method].responses[String(status)];
  assert.ok(declared, `${method} ${path}: status ${status} is declared`);
  const res = declared.$ref ? doc.components.responses.Error : declared;
  const v = ajv.getSchema(`ext${res.content["application/json"].schema.$ref}`);
  assert.ok(v(body), `${status} answer matches the OpenAPI file: ${ajv.errorsText(v.errors)} ${JSON.stringify(body)}`);
}

async function call(method, path, { headers = srv.keyHeaders(), body } = {}) {
  const h = { ...headers };
  if (body !== undefined) h["content-type"] = "application/json";
  const r = await srv.raw(method, path, { headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  if (path.startsWith("/api/v2/keyhold/leak")) validate(path.split("?")[0], method.toLowerCase(), r.status, r.json);
  return r;
}

const signWith = (key, body) => sign("sha256", Buffer.from(body), key).toString("base64");

/** A signed report: GitHub's headers, nothing else. */
async function signedReport(entries, { key = github.privateKey, keyId = KEY_ID, raw } = {}) {
  const body = raw ?? JSON.stringify(entries);
  const headers = { "Github-Public-Key-Identifier": keyId, "Github-Public-Key-Signature": signWith(key, body) };
  return call("POST", "/api/v2/keyhold/leaks", { headers, body });
}

async function newPat(headers = srv.keyHeaders()) {
  const r = await call("POST", "/api/v2/personal_access_tokens", { headers,
    body: { data: { type: "personal_access_tokens", attributes: { name: "leaky", scopes: ["api_keys_read"], expires_at: inHours(48) } } } });
  assert.equal(r.status, 201, r.body);
  return { id: r.json.data.id, key: srv.remember(r.json.data.attributes.key) };
}

async function newApiKey(headers = srv.keyHeaders()) {
  const r = await call("POST", "/api/v2/api_keys", { headers, body: { data: { type: "api_keys", attributes: { name: "leaky key" } } } });
  assert.equal(r.status, 201, r.body);
  return { id: r.json.data.id, key: srv.remember(r.json.data.attributes.key) };
}

const entry = (token, url = "https://github.com/acme/app/blob/abc/config.env") =>
  ({ token, type: "keyhold_personal_access_token", url, source: "content" });
const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const uses = async (token) => (await call("GET", "/api/v2/api_keys", { headers: bearer(token) })).status;
const setPolicy = (policy, headers = srv.keyHeaders()) =>
  call("PATCH", "/api/v2/keyhold/leak_policy", { headers, body: { data: { type: "leak_policies", attributes: { policy } } } });
const leaks = async (headers = srv.keyHeaders()) => (await call("GET", "/api/v2/keyhold/leaks", { headers })).json.data;

test("a signed report of a live PAT: 200 [], the token revoked (the default policy), the leak listed and audited", async () => {
  const pat = await newPat();
  assert.equal(await uses(pat.key), 200);
  const policy = await call("GET", "/api/v2/keyhold/leak_policy");
  assert.equal(policy.status, 200);
  assert.deepEqual(policy.json.data.attributes, { policy: "revoke", default: true, modified_at: null, modified_by: null });
  const r = await signedReport([entry(pat.key)]);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, "[]");
  assert.equal(await uses(pat.key), 403, "a leaked token is revoked at once");
  const found = (await leaks()).find((l) => l.id === pat.id);
  assert.ok(found, "listed as leaked");
  assert.equal(found.attributes.action, "revoked");
  assert.equal(found.attributes.credential_type, "personal_access_token");
  assert.equal(found.attributes.url, "https://github.com/acme/app/blob/abc/config.env");
  assert.equal(found.attributes.reporter, `github:${KEY_ID.slice(0, 50)}`);
  const trail = await call("GET", `/api/v2/audit/events?filter%5Bquery%5D=%40asset.id%3A${pat.id}&filter%5Bfrom%5D=now-1h`);
  const actions = trail.json.data.map((e) => e.attributes.attributes.action).sort();
  assert.deepEqual(actions, ["created", "leaked", "revoked"], "created, then the leak and its revocation");
  // The Datadog route answers as Datadog does for a revoked token.
  assert.equal((await call("GET", `/api/v2/personal_access_tokens/${pat.id}`)).status, 404);
  // The history (docs/api/history.md) lists it as leaked, and as revoked by the leak.
  const hist = await call("GET", "/api/v2/keyhold/credentials?state=leaked");
  assert.equal(hist.status, 200, hist.body);
  const row = hist.json.data.find((h) => h.id === pat.id);
  assert.ok(row, "in the history's leaked state");
  assert.equal(row.attributes.state, "leaked");
  assert.equal(row.attributes.reason, "revoked");
  assert.equal(row.attributes.ended_by, `github:${KEY_ID.slice(0, 50)}`);
  const revoked = (await call("GET", "/api/v2/keyhold/credentials?state=revoked")).json.data.find((h) => h.id === pat.id);
  assert.match(revoked.attributes.reason, /leaked/);
});

test("forged, unknown, malformed and missing signatures are refused with a message; nothing changes", async () => {
  const pat = await newPat();
  const body = JSON.stringify([entry(pat.key)]);
  const forged = await signedReport(null, { key: other.privateKey, raw: body });
  assert.equal(forged.status, 403);
  assert.match(forged.json.errors[0], /does not verify/);
  const tampered = await call("POST", "/api/v2/keyhold/leaks", { body: JSON.stringify([entry(pat.key, "https://elsewhere")]),
    headers: { "Github-Public-Key-Identifier": KEY_ID, "Github-Public-Key-Signature": signWith(github.privateKey, body) } });
  assert.equal(tampered.status, 403, "a signature over another body");
  const unknown = await signedReport(null, { keyId: "no-such-key", raw: body });
  assert.equal(unknown.status, 403);
  assert.match(unknown.json.errors[0], /names no public key/);
  const oldKey = await signedReport(null, { keyId: "old-key", raw: body });
  assert.equal(oldKey.status, 403, "signed by github's key but named as another");
  const malformed = await call("POST", "/api/v2/keyhold/leaks", { body,
    headers: { "Github-Public-Key-Identifier": KEY_ID, "Github-Public-Key-Signature": "not*base64" } });
  assert.equal(malformed.status, 403);
  assert.match(malformed.json.errors[0], /base64/);
  const missing = await call("POST", "/api/v2/keyhold/leaks", { body, headers: { "Github-Public-Key-Identifier": KEY_ID } });
  assert.equal(missing.status, 401);
  assert.match(missing.json.errors[0], /sign the report/);
  const none = await call("POST", "/api/v2/keyhold/leaks", { body, headers: {} });
  assert.equal(none.status, 401);
  assert.equal(await uses(pat.key), 200, "no refused report touched the token");
  assert.equal((await leaks()).find((l) => l.id === pat.id), undefined);
});

test("a signed reporter is answered the same whether a token matched or not", async () => {
  const pat = await newPat();
  const strip = (r) => {
    const { date, "x-request-id": _id, ...h } = r.headers;
    return { status: r.status, headers: h, body: r.body };
  };
  const miss = [entry(pat.key.slice(0, -6) + "AAAAAA"), entry("ddpat_" + "0".repeat(59)), entry("0123456789abcdef0123456789abcdef")];
  const t0 = process.hrtime.bigint();
  const a = await signedReport(miss);
  const t1 = process.hrtime.bigint();
  const b = await signedReport([entry(pat.key), miss[1], miss[2]]);
  const t2 = process.hrtime.bigint();
  assert.deepEqual(strip(a), strip(b));
  assert.equal(b.status, 200);
  assert.equal(await uses(pat.key), 403, "the match did take effect");
  // Not asserted (a shared machine's timing is noise), shown for the record.
  console.log(`# signed report: miss ${Number(t1 - t0) / 1e6} ms, match ${Number(t2 - t1) / 1e6} ms`);
});

test("quarantine keeps a leaked token working and flagged; revoke (another org's default) does not", async () => {
  const denied = srv.addUser(srv.admin, "reader@one.example", ["api_keys_read"]);
  const refused = await setPolicy("quarantine", srv.keyHeaders(denied));
  assert.equal(refused.status, 403, "setting the policy needs org_management");
  const set = await setPolicy("quarantine");
  assert.equal(set.status, 200, set.body);
  assert.equal(set.json.data.attributes.policy, "quarantine");
  assert.equal(set.json.data.attributes.default, false);
  assert.equal(set.json.data.attributes.modified_by, srv.admin.user_id);
  assert.equal((await call("GET", "/api/v2/keyhold/leak_policy", { headers: srv.keyHeaders(denied) })).json.data.attributes.policy, "quarantine");
  const mine = await newPat();
  const theirs = await newPat(srv.keyHeaders(org2));
  const r = await signedReport([entry(mine.key), entry(theirs.key)]);
  assert.equal(r.status, 200);
  assert.equal(await uses(mine.key), 200, "quarantined: still works");
  assert.equal(await uses(theirs.key), 403, "org two's default policy revokes");
  const flagged = (await leaks()).find((l) => l.id === mine.id);
  assert.equal(flagged.attributes.action, "quarantined");
  const hist = (await call("GET", "/api/v2/keyhold/credentials?state=leaked")).json.data;
  assert.equal(hist.find((h) => h.id === mine.id)?.attributes.reason, "quarantined", "a quarantined token is in the history's leaked state");
  assert.equal(hist.find((h) => h.id === theirs.id), undefined, "not another org's");
  assert.equal((await leaks()).find((l) => l.id === theirs.id), undefined, "org two's leak is not org one's to see");
  assert.equal((await leaks(srv.keyHeaders(org2))).find((l) => l.id === theirs.id).attributes.action, "revoked");
  // The shell's lists flag it too (and only it).
  const listed = JSON.parse(srv.cli("token", "list", "--db", srv.db, "--org", srv.admin.org_id, "--json"));
  assert.equal(listed.find((t) => t.id === mine.id).leaked, "quarantined");
  assert.ok(listed.filter((t) => t.id !== mine.id).every((t) => t.leaked === undefined));
  assert.match(srv.cli("token", "list", "--db", srv.db, "--org", srv.admin.org_id), new RegExp(`${mine.id}.*\\(leaked: quarantined\\)`));
  // Reported again (twice in one report: handled once): counted, still quarantined.
  await signedReport([entry(mine.key), entry(mine.key, "https://github.com/acme/app/blob/def/other.env")]);
  const again = (await leaks()).find((l) => l.id === mine.id).attributes;
  assert.equal(again.reports, 2);
  assert.equal(again.url, "https://github.com/acme/app/blob/abc/config.env", "where it was first seen");
  // Bad policy bodies.
  for (const body of [{}, { data: { type: "leak_policies", attributes: { policy: "ignore" } } },
    { data: { type: "wrong", attributes: { policy: "revoke" } } }, "not json"]) {
    const bad = await call("PATCH", "/api/v2/keyhold/leak_policy", { body });
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.ok(bad.json.errors[0].length > 10);
  }
  assert.equal((await setPolicy("revoke")).status, 200);
});

test("a quarantined API key is Datadog's leaked_keys on the API key routes; other answers do not change", async () => {
  const before = await call("GET", "/api/v2/api_keys?page%5Bsize%5D=100");
  assert.equal(before.status, 200);
  assert.equal(before.json.included, undefined, "no leak, no included");
  assert.ok(before.json.data.every((k) => k.relationships.leak_information.data === null));
  assert.equal((await setPolicy("quarantine")).status, 200);
  const key = await newApiKey();
  const r = await signedReport([{ token: key.key, type: "keyhold_api_key", url: "https://github.com/acme/app/blob/abc/.env", source: "commit" }]);
  assert.equal(r.status, 200);
  const v = await call("GET", "/api/v1/validate", { headers: { "DD-API-KEY": key.key } });
  assert.equal(v.status, 200, "quarantined: the key still works");
  const keys = JSON.parse(srv.cli("key", "list", "--db", srv.db, "--org", srv.admin.org_id, "--kind", "api", "--json"));
  assert.equal(keys.find((k) => k.id === key.id).leaked, "quarantined");
  const list = await call("GET", "/api/v2/api_keys?page%5Bsize%5D=100");
  const row = list.json.data.find((k) => k.id === key.id);
  assert.deepEqual(row.relationships.leak_information.data, { id: key.id, type: "leaked_keys" });
  const leaked = list.json.included.filter((i) => i.type === "leaked_keys");
  assert.equal(leaked.length, 1);
  assert.equal(leaked[0].id, key.id);
  assert.equal(leaked[0].attributes.leak_source, "https://github.com/acme/app/blob/abc/.env");
  assert.ok(!Number.isNaN(Date.parse(leaked[0].attributes.date)));
  assert.ok(list.json.data.filter((k) => k.id !== key.id).every((k) => k.relationships.leak_information.data === null));
  // With include=created_by: the users and the leaked key together.
  const withUsers = await call("GET", "/api/v2/api_keys?include=created_by&page%5Bsize%5D=100");
  assert.deepEqual(withUsers.json.included.map((i) => i.type).sort(), ["leaked_keys", "users"]);
  const got = await call("GET", `/api/v2/api_keys/${key.id}`);
  assert.deepEqual(got.json.data.relationships.leak_information.data, { id: key.id, type: "leaked_keys" });
  assert.equal(got.json.included[0].type, "leaked_keys");
  const other = await call("GET", `/api/v2/api_keys/${before.json.data[0].id}`);
  assert.equal(other.json.included, undefined);
  assert.equal(other.json.data.relationships.leak_information.data, null);
  // The official client reads it (the spec's LeakedKey).
  assert.equal((await setPolicy("revoke")).status, 200);
  const key2 = await newApiKey();
  await signedReport([{ token: key2.key, type: "keyhold_api_key", url: null, source: null }]);
  assert.equal((await call("GET", "/api/v1/validate", { headers: { "DD-API-KEY": key2.key } })).status, 403, "revoke: deleted");
  assert.equal((await call("GET", `/api/v2/api_keys/${key2.id}`)).status, 404);
});

test("a quarantined application key is Datadog's leaked_keys on the application key routes", async () => {
  const plain = await call("GET", "/api/v2/application_keys?page%5Bsize%5D=100");
  assert.equal(plain.json.included, undefined);
  assert.equal((await setPolicy("quarantine")).status, 200);
  const made = await call("POST", "/api/v2/current_user/application_keys", { body: { data: { type: "application_keys", attributes: { name: "leaky quarantined app" } } } });
  assert.equal(made.status, 201);
  const app = { id: made.json.data.id, key: srv.remember(made.json.data.attributes.key) };
  assert.equal((await signedReport([{ token: app.key, type: "keyhold_application_key", url: "https://gist.github.com/x", source: "gist" }])).status, 200);
  assert.equal((await call("GET", "/api/v2/validate_keys", { headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": app.key } })).status, 200, "still works");
  const list = await call("GET", "/api/v2/application_keys?page%5Bsize%5D=100");
  assert.deepEqual(list.json.data.find((k) => k.id === app.id).relationships.leak_information.data, { id: app.id, type: "leaked_keys" });
  assert.deepEqual(list.json.included.map((i) => [i.type, i.id, i.attributes.leak_source]), [["leaked_keys", app.id, "https://gist.github.com/x"]]);
  for (const path of [`/api/v2/application_keys/${app.id}`, `/api/v2/current_user/application_keys/${app.id}`]) {
    const got = await call("GET", path);
    assert.equal(got.status, 200, path);
    assert.deepEqual(got.json.data.relationships.leak_information.data, { id: app.id, type: "leaked_keys" });
    assert.ok(got.json.included.some((i) => i.type === "leaked_keys" && i.id === app.id), path);
  }
  const mine = await call("GET", "/api/v2/current_user/application_keys?page%5Bsize%5D=100");
  assert.ok(mine.json.included.some((i) => i.type === "leaked_keys"));
  assert.equal((await setPolicy("revoke")).status, 200);
});

test("a rotated credential's previous value, reported in its overlap, ends at once; the credential and its new value stay", async () => {
  const key = await newApiKey();
  const rot = await call("POST", `/api/v2/keyhold/credentials/${key.id}/rotate`, { body: { data: { type: "credential_rotations", attributes: { grace_seconds: 3600 } } } });
  assert.equal(rot.status, 201, rot.body);
  const fresh = srv.remember(rot.json.data.attributes.key);
  const validates = async (k) => (await call("GET", "/api/v1/validate", { headers: { "DD-API-KEY": k } })).status;
  assert.equal(await validates(key.key), 200, "the previous value works in the overlap");
  const r = await signedReport([{ token: key.key, type: "keyhold_api_key" }]);
  assert.equal(r.status, 200);
  assert.equal(r.body, "[]", "the signed reporter learns nothing, as for any report");
  assert.equal(await validates(key.key), 403, "the reported previous value is refused at once");
  assert.equal(await validates(fresh), 200, "the new value, which did not leak, still works (whatever the policy)");
  const listed = (await leaks()).find((l) => l.id === key.id);
  assert.equal(listed.attributes.action, "previous_ended");
  const trail = await call("GET", `/api/v2/audit/events?filter%5Bquery%5D=%40action%3Aleaked%20%40asset.id%3A${key.id}&filter%5Bfrom%5D=now-1h`);
  assert.equal(trail.json.data.length, 1, "the leak is in the trail");
  // The same for a token: reported by a caller of another org holding only the old secret, it cannot end the token.
  const pat = await newPat();
  const rp = await call("POST", `/api/v2/keyhold/credentials/${pat.id}/rotate`, { body: { data: { attributes: { grace_seconds: 3600 } } } });
  assert.equal(rp.status, 201);
  srv.remember(rp.json.data.attributes.key);
  const reads = async (token) => (await call("GET", "/api/v2/validate_keys", { headers: bearer(token) })).status;
  assert.equal(await reads(pat.key), 200, "the previous secret reads during the overlap");
  assert.equal((await signedReport([entry(pat.key)])).status, 200);
  assert.equal(await reads(pat.key), 403, "the previous secret ended");
  assert.equal(await uses(rp.json.data.attributes.key), 200, "the token and its new secret stay");
  // The new value itself reported: the policy applies (revoke by default).
  assert.equal((await signedReport([entry(rp.json.data.attributes.key)])).status, 200);
  assert.equal(await uses(rp.json.data.attributes.key), 403, "the new secret leaked too: revoked");
});

test("an authenticated caller reports without a signature and learns only its own org's matches", async () => {
  const mine = await newPat();
  const theirs = await newPat(srv.keyHeaders(org2));
  const app = await call("POST", "/api/v2/current_user/application_keys", { body: { data: { type: "application_keys", attributes: { name: "leaky app" } } } });
  assert.equal(app.status, 201);
  srv.remember(app.json.data.attributes.key);
  const r = await call("POST", "/api/v2/keyhold/leaks", { body: [entry(mine.key), entry(theirs.key), entry(app.json.data.attributes.key), entry("nothing")] });
  assert.equal(r.status, 202, r.body);
  assert.equal(r.json.data.attributes.entries, 4);
  assert.equal(r.json.data.attributes.matched_in_org, 2, "the PAT and the application key of org one");
  assert.equal(await uses(mine.key), 403);
  assert.equal(await uses(theirs.key), 403, "org two's token is revoked too, without org one being told");
  const seenByTwo = (await leaks(srv.keyHeaders(org2))).find((l) => l.id === theirs.id);
  assert.equal(seenByTwo.attributes.reporter, "credential of another org", "org one's caller is not named to org two");
  assert.match((await leaks()).find((l) => l.id === mine.id).attributes.reporter, /^credential:[0-9a-f-]{36}$/, "its own org's caller is");
  assert.equal((await call("GET", `/api/v2/current_user/application_keys/${app.json.data.id}`)).status, 404, "the application key is deleted");
  const withToken = await call("POST", "/api/v2/keyhold/leaks", { headers: bearer((await newPat()).key), body: [entry("x")] });
  assert.equal(withToken.status, 202, "any valid credential may report");
  const wrong = await call("POST", "/api/v2/keyhold/leaks", { headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": "0".repeat(40) }, body: [entry("x")] });
  assert.equal(wrong.status, 403, "credentials sent are credentials checked");
  const viaQuery = await call("POST", `/api/v2/keyhold/leaks?api_key=${srv.admin.api_key}&application_key=${srv.admin.app_key}`, { headers: {}, body: [entry("x")] });
  assert.equal(viaQuery.status, 202, "Datadog's deprecated query-string credentials count too");
});

test("bad reports get a 400 with a specific message; too large a body 413", async () => {
  const cases = [
    ["not json", /not valid JSON/],
    ["{}", /JSON array/],
    ["[]", /empty/],
    ["[1]", /Entry 0 of the report must be an object/],
    [JSON.stringify([{ type: "t" }]), /Entry 0 of the report has no 'token'/],
    [JSON.stringify([{ token: "x" }]), /has no 'type'/],
    [JSON.stringify([{ token: 5, type: "t" }]), /'token' must be a string/],
    [JSON.stringify([{ token: "x", type: "t", url: 3 }]), /'url' must be a string/],
    [JSON.stringify([{ token: "x".repeat(300), type: "t" }]), /'token' is longer than 256 bytes/],
    [JSON.stringify(Array.from({ length: 501 }, () => ({ token: "x", type: "t" }))), /at most 500/],
  ];
  for (const [body, re] of cases) {
    const r = await call("POST", "/api/v2/keyhold/leaks", { body });
    assert.equal(r.status, 400, body.slice(0, 60));
    assert.match(r.json.errors[0], re);
    const s = await signedReport(null, { raw: body });
    assert.equal(s.status, 400, "signed too: " + body.slice(0, 60));
  }
  const big = JSON.stringify([{ token: "x", type: "t", url: "u".repeat(300 * 1024) }]);
  const r = await call("POST", "/api/v2/keyhold/leaks", { body: big });
  assert.equal(r.status, 413);
});

test("keyhold scan --report posts what it finds as an authenticated caller", async () => {
  const pat = await newPat();
  const tree = join(dir, "tree");
  spawnSync("mkdir", ["-p", join(tree, "deploy")]);
  writeFileSync(join(tree, "deploy", "values.yaml"), `token: ${pat.key}\nnot: ddpat_${"0".repeat(59)}\n`);
  const run = (...args) => spawnSync(BIN, ["scan", ...args], { encoding: "utf8" });
  const usage = run("--report", srv.base, tree);
  assert.equal(usage.status, 2, "--report needs credentials");
  const r = run("--report", srv.base, "--api-key", srv.admin.api_key, "--app-key", srv.admin.app_key, tree);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /reported 1 secret\(s\) to .*\/api\/v2\/keyhold\/leaks; 1 matched live credentials of your org/);
  assert.ok(!r.stdout.includes(pat.key.slice(29)) && !r.stderr.includes(pat.key.slice(29)), "never prints the secret");
  assert.equal(await uses(pat.key), 403, "revoked by the report");
  const found = (await leaks()).find((l) => l.id === pat.id);
  assert.equal(found.attributes.source, "keyhold scan");
  assert.equal(found.attributes.url, `${tree}/deploy/values.yaml:1`);
  const refused = run("--report", srv.base, "--api-key", srv.admin.api_key, "--app-key", "0".repeat(40), tree);
  assert.equal(refused.status, 2, "a refused report is an error");
  assert.match(refused.stderr, /the server answered 403/);
});

test("listing leaks needs api_keys_read or org_app_keys_read, and shows each only what it may read", async () => {
  const nobody = srv.addUser(srv.admin, "nobody@one.example", ["dashboards_read"]);
  const r = await call("GET", "/api/v2/keyhold/leaks", { headers: srv.keyHeaders(nobody) });
  assert.equal(r.status, 403);
  const keysOnly = srv.addUser(srv.admin, "keys@one.example", ["api_keys_read"]);
  const seen = await leaks(srv.keyHeaders(keysOnly));
  assert.ok(seen.length > 0 && seen.every((l) => l.attributes.credential_type === "api_key"));
  const policy = await call("GET", "/api/v2/keyhold/leak_policy", { headers: srv.keyHeaders(nobody) });
  assert.equal(policy.status, 403);
});
