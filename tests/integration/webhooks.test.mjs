// webhooks.test.mjs - webhooks (issue 15, item 5) through plain HTTP, every
// answer validated against keyhold's own OpenAPI file
// (docs/api/keyhold-extensions.yaml): a local receiver gets the credential
// events (created, rotated, revoked, expiring, expired) with signatures this
// test verifies (HMAC-SHA-256 of "<t>.<body>" under the secret shown once);
// every event arrives after the receiver was down for a while and keyhold
// was restarted in between; no delivered body holds a secret; the delivery
// log; who may manage webhooks; and a 4xx with a message for every bad
// input, loopback and private hosts included on a server without
// --webhook-allow-private (also when a host name resolves to one).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import YAML from "yaml";
import { Server, PG } from "./helpers.mjs";

const SPEC = new URL("../../docs/api/keyhold-extensions.yaml", import.meta.url).pathname;
const inSeconds = (s) => new Date(Date.now() + s * 1000).toISOString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SERVE_ARGS = ["--test-mode", "--webhook-allow-private", "--webhook-retry-base-ms", "200"];
let srv, doc, ajv;
const values = []; // every key and token value made: none may be in a delivered body

/** A receiver on 127.0.0.1 that can go down and come back on the same port. */
class Receiver {
  constructor() {
    this.got = []; // {headers, body, status answered}
    this.status = 200;
  }
  async up(port = 0) {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => { body += c; });
      req.on("end", () => {
        this.got.push({ headers: req.headers, body, status: this.status });
        res.writeHead(this.status).end("ok");
      });
    });
    await new Promise((r) => this.server.listen(port, "127.0.0.1", r));
    this.port = this.server.address().port;
    return this;
  }
  async down() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
  url(path = "/hook") {
    return `http://127.0.0.1:${this.port}${path}`;
  }
  /** The events accepted (answered 2xx). */
  events() {
    return this.got.filter((g) => g.status < 300).map((g) => JSON.parse(g.body));
  }
  /** Waits (up to ms) until pred holds over the events received. */
  async until(pred, ms = 15000, what = "events") {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (pred(this.events())) return;
    assert.fail(`timed out waiting for ${what}; received: ${this.got.map((g) => g.body).join("\n")}`);
  }
}

/** Verifies a delivery's signature as a receiver would (docs/api/webhooks.md). */
function verify(secret, { headers, body }) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(headers["keyhold-signature"] || "");
  assert.ok(m, `a Keyhold-Signature header: ${headers["keyhold-signature"]}`);
  const expected = createHmac("sha256", secret).update(`${m[1]}.${body}`).digest();
  assert.ok(timingSafeEqual(expected, Buffer.from(m[2], "hex")), "the signature verifies");
  assert.ok(Math.abs(Date.now() / 1000 - Number(m[1])) < 300, "the signature's time is now");
  assert.equal(headers["keyhold-event-id"], JSON.parse(body).id);
  assert.equal(headers["content-type"], "application/json");
  for (const v of values) assert.ok(!body.includes(v), "no secret in a delivered body");
  assert.doesNotMatch(body, /whsec_|secret|hash/i);
}

function validator(path, method, status) {
  const op = doc.paths[path][method];
  const declared = op.responses[String(status)];
  assert.ok(declared, `${method} ${path}: status ${status} is declared`);
  if (status === 204) return () => {};
  const content = declared.$ref ? doc.components.responses.Error.content : declared.content;
  const v = ajv.getSchema(`ext${content["application/json"].schema.$ref}`);
  return (body) => assert.ok(v(body), `${status} answer of ${method} ${path} matches the OpenAPI file: ${ajv.errorsText(v.errors)} ${JSON.stringify(body)}`);
}

const ROUTES = [
  [/^\/api\/v2\/keyhold\/webhooks(\?.*)?$/, "/api/v2/keyhold/webhooks"],
  [/^\/api\/v2\/keyhold\/webhooks\/[^/]+\/deliveries(\?.*)?$/, "/api/v2/keyhold/webhooks/{webhook_id}/deliveries"],
  [/^\/api\/v2\/keyhold\/webhooks\/[^/?]+$/, "/api/v2/keyhold/webhooks/{webhook_id}"],
];

/** A call; answers of the webhook routes are validated against the OpenAPI file. */
async function call(method, path, { headers = srv.keyHeaders(), body, on = srv } = {}) {
  const h = { ...headers };
  if (body !== undefined) h["content-type"] = "application/json";
  const r = await on.raw(method, path, { headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const route = ROUTES.find(([re]) => re.test(path));
  if (route) validator(route[1], method.toLowerCase(), r.status)(r.json);
  return r;
}

async function newWebhook(url, { events, name = "receiver", headers, on } = {}) {
  const r = await call("POST", "/api/v2/keyhold/webhooks", { headers, on,
    body: { data: { type: "webhooks", attributes: { name, url, ...(events ? { events } : {}) } } } });
  assert.equal(r.status, 201, r.body);
  (on || srv).remember(r.json.data.attributes.secret);
  return r.json.data;
}

async function newPat(name, expiresAt = inSeconds(3 * 86400)) {
  const r = await call("POST", "/api/v2/personal_access_tokens", {
    body: { data: { type: "personal_access_tokens", attributes: { name, scopes: ["api_keys_read"], expires_at: expiresAt } } } });
  assert.equal(r.status, 201, r.body);
  values.push(srv.remember(r.json.data.attributes.key));
  return r.json.data;
}

async function deliveries(id) {
  const r = await call("GET", `/api/v2/keyhold/webhooks/${id}/deliveries?page%5Bsize%5D=100`);
  assert.equal(r.status, 200, r.body);
  return r.json.data;
}

/** SIGTERM and serve the same store again. */
async function restart() {
  const proc = srv.proc;
  srv.proc = null;
  proc.kill("SIGTERM");
  const { code } = await srv.exited;
  assert.equal(code, 0, srv.log);
  await srv.serve(...SERVE_ARGS);
}

before(async () => {
  srv = await new Server().start(...SERVE_ARGS);
  doc = YAML.parse(readFileSync(SPEC, "utf8"));
  ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, "ext");
  values.push(srv.admin.api_key, srv.admin.app_key);
});

after(async () => {
  await srv.stop();
});

test("the OpenAPI file of the extensions is valid and has the webhook routes", async () => {
  const api = await SwaggerParser.validate(SPEC);
  for (const [, p] of ROUTES) assert.ok(api.paths[p], p);
});

test("a webhook is created with a secret shown once, listed, read, changed and deleted", async () => {
  const w = await newWebhook("https://hooks.invalid/in", { events: ["credential.revoked"] });
  assert.match(w.attributes.secret, /^whsec_[0-9A-Za-z]{40}$/);
  assert.deepEqual(w.attributes.events, ["credential.revoked"]);
  assert.equal(w.attributes.enabled, true);
  const got = await call("GET", `/api/v2/keyhold/webhooks/${w.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.json.data.attributes.secret, undefined, "the secret is shown only at creation");
  const list = await call("GET", "/api/v2/keyhold/webhooks");
  assert.equal(list.status, 200);
  assert.ok(list.json.data.some((x) => x.id === w.id && x.attributes.secret === undefined));
  assert.ok(list.json.meta.page.total_count >= 1);
  const changed = await call("PATCH", `/api/v2/keyhold/webhooks/${w.id}`, { body: { data: { type: "webhooks", id: w.id,
    attributes: { name: "renamed", enabled: false, events: ["credential.created", "credential.expired"] } } } });
  assert.equal(changed.status, 200, changed.body);
  assert.equal(changed.json.data.attributes.name, "renamed");
  assert.equal(changed.json.data.attributes.enabled, false);
  assert.deepEqual(changed.json.data.attributes.events, ["credential.created", "credential.expired"]);
  assert.equal(changed.json.data.attributes.url, "https://hooks.invalid/in");
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
  assert.equal((await call("GET", `/api/v2/keyhold/webhooks/${w.id}`)).status, 404);
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 404);
  assert.equal((await call("GET", `/api/v2/keyhold/webhooks/${w.id}/deliveries`)).status, 404);
});

test("bad inputs are refused with a message", async () => {
  const bad = async (attributes, re, type = "webhooks") => {
    const r = await call("POST", "/api/v2/keyhold/webhooks", { body: { data: { type, attributes } } });
    assert.equal(r.status, 400, `${JSON.stringify(attributes)}: ${r.body}`);
    assert.match(r.json.errors[0], re);
  };
  await bad({ name: "x", url: "ftp://hooks.invalid/" }, /http:\/\/ or https:\/\//);
  await bad({ name: "x", url: "https://user:pw@hooks.invalid/" }, /credentials/);
  await bad({ name: "x", url: "https://hooks.invalid/#frag" }, /fragment/);
  await bad({ name: "x", url: "https://hooks.invalid:99999/" }, /port/);
  await bad({ name: "x", url: "https://hooks example.com/" }, /spaces/);
  await bad({ name: "x", url: "https://[::1/" }, /IPv6/);
  await bad({ name: "x", url: "https://h.invalid/", events: ["credential.exploded"] }, /unknown event type/);
  await bad({ name: "x", url: "https://h.invalid/", events: [] }, /at least one/);
  await bad({ url: "https://h.invalid/" }, /name/);
  await bad({ name: "x" }, /url/);
  await bad({ name: "x", url: "https://h.invalid/", secret: "mine" }, /secret/);
  await bad({ name: "x", url: "https://h.invalid/" }, /type/, "users");
  await bad({ name: "x", url: "https://h.invalid/", events: null }, /events' must not be null/);
  await bad({ name: "x", url: "https://h.invalid/", enabled: null }, /enabled' must not be null/);
  await bad({ name: "x\u202eevil\n", url: "https://h.invalid/" }, /control characters/);
  const w = await newWebhook("https://hooks.invalid/other");
  const widen = await call("PATCH", `/api/v2/keyhold/webhooks/${w.id}`, { body: { data: { type: "webhooks", id: w.id, attributes: { events: null } } } });
  assert.equal(widen.status, 400, "null does not widen a subscription to every type");
  const nothing = await call("PATCH", `/api/v2/keyhold/webhooks/${w.id}`, { body: { data: { type: "webhooks", id: w.id, attributes: null } } });
  assert.equal(nothing.status, 400, nothing.body);
  const r = await call("PATCH", `/api/v2/keyhold/webhooks/${w.id}`, { body: { data: { type: "webhooks", id: "00000000-0000-4000-8000-000000000000", attributes: { name: "y" } } } });
  assert.equal(r.status, 400);
  const r2 = await call("PATCH", `/api/v2/keyhold/webhooks/${w.id}`, { body: { data: { type: "webhooks", id: w.id, attributes: { enabled: "yes" } } } });
  assert.equal(r2.status, 400);
  assert.equal((await call("GET", "/api/v2/keyhold/webhooks?page%5Bsize%5D=0")).status, 400);
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
});

test("a receiver gets every credential event, signed, and the log shows each delivery", async () => {
  const rx = await new Receiver().up();
  const w = await newWebhook(rx.url());
  const pat = await newPat("deploy");
  const rot = await call("POST", `/api/v2/keyhold/credentials/${pat.id}/rotate`, { body: { data: { attributes: { grace_seconds: 0 } } } });
  assert.equal(rot.status, 201, rot.body);
  values.push(srv.remember(rot.json.data.attributes.key));
  assert.equal((await call("DELETE", `/api/v2/personal_access_tokens/${pat.id}`)).status, 204);
  const key = await call("POST", "/api/v2/api_keys", { body: { data: { type: "api_keys", attributes: { name: "ingest" } } } });
  assert.equal(key.status, 201);
  values.push(srv.remember(key.json.data.attributes.key));
  assert.equal((await call("DELETE", `/api/v2/api_keys/${key.json.data.id}`)).status, 204);
  const wanted = [["credential.created", pat.id], ["credential.rotated", pat.id], ["credential.revoked", pat.id],
    ["credential.created", key.json.data.id], ["credential.revoked", key.json.data.id]];
  await rx.until((evs) => wanted.every(([t, id]) => evs.some((e) => e.type === t && e.data.credential.id === id)));
  for (const g of rx.got) verify(w.attributes.secret, g);
  const created = rx.events().find((e) => e.type === "credential.created" && e.data.credential.id === pat.id);
  assert.equal(created.data.credential.kind, "personal_access_token");
  assert.equal(created.data.credential.name, "deploy");
  assert.equal(created.data.credential.owner_id, srv.admin.user_id);
  assert.equal(created.data.actor_id, srv.admin.user_id);
  assert.equal(created.org_id, srv.admin.org_id);
  const payload = ajv.getSchema("ext#/components/schemas/WebhookEvent");
  for (const e of rx.events()) assert.ok(payload(e), ajv.errorsText(payload.errors));
  // a forged or altered body does not verify
  const g = rx.got[0];
  assert.throws(() => verify(w.attributes.secret, { ...g, body: g.body.replace("credential", "kredential") }));
  assert.throws(() => verify("whsec_" + "x".repeat(40), g));
  const log = await deliveries(w.id);
  assert.ok(log.length >= wanted.length);
  for (const d of log.filter((x) => x.attributes.state === "delivered")) {
    assert.equal(d.attributes.last_status_code, 200);
    assert.ok(d.attributes.attempt_log.length >= 1);
    assert.equal(d.attributes.attempt_log.at(-1).error, null);
    assert.equal(d.attributes.payload.id, d.id);
  }
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
  await rx.down();
});

test("events made while the receiver is down arrive after it is back, across a keyhold restart", async () => {
  const rx = await new Receiver().up();
  const port = rx.port;
  await rx.down();
  const w = await newWebhook(rx.url(), { events: ["credential.created", "credential.revoked"] });
  const pats = [];
  for (let i = 0; i < 4; i++) pats.push(await newPat(`offline ${i}`));
  assert.equal((await call("DELETE", `/api/v2/personal_access_tokens/${pats[0].id}`)).status, 204);
  // the receiver was tried and failed (connection refused); a failed attempt holds the webhook's other
  // deliveries back until its next try, so not every event costs an attempt; all are still pending
  for (const end = Date.now() + 10000; ; await sleep(200)) {
    const log = await deliveries(w.id);
    if (log.length === 5 && log.some((d) => d.attributes.attempts >= 1)) {
      for (const d of log) {
        assert.equal(d.attributes.state, "pending");
        assert.equal(d.attributes.last_status_code, null);
        assert.ok(d.attributes.next_attempt_at);
        if (d.attributes.attempts >= 1) assert.ok(d.attributes.last_error);
      }
      break;
    }
    assert.ok(Date.now() < end, `the failed attempts are logged: ${JSON.stringify(log.map((d) => d.attributes.attempts))}`);
  }
  await restart();
  // one more event while keyhold is back but the receiver is not
  const late = await newPat("after restart");
  await sleep(500);
  rx.status = 503; // back, but failing at first
  await rx.up(port);
  await sleep(700);
  rx.status = 200;
  const ids = [...pats.map((p) => p.id), late.id];
  await rx.until((evs) => ids.every((id) => evs.some((e) => e.type === "credential.created" && e.data.credential.id === id))
    && evs.some((e) => e.type === "credential.revoked" && e.data.credential.id === pats[0].id), 30000, "every event after the outage");
  assert.ok(rx.got.some((g) => g.status === 503), "attempts answered 503 were retried");
  for (const g of rx.got) verify(w.attributes.secret, g);
  const evs = rx.events();
  for (const id of ids) assert.ok(evs.some((e) => e.type === "credential.created" && e.data.credential.id === id), `created ${id}`);
  assert.ok(evs.some((e) => e.type === "credential.revoked" && e.data.credential.id === pats[0].id));
  // the log ends delivered for each; those made during the outage after failed attempts (nobody listening, then 503)
  for (const end = Date.now() + 30000; ; await sleep(200)) {
    const log = await deliveries(w.id);
    if (log.length === 6 && log.every((d) => d.attributes.state === "delivered")) {
      const first = new Set(pats.map((p) => p.id));
      const outage = log.filter((x) => first.has(x.attributes.payload.data.credential.id));
      for (const d of outage) {
        assert.equal(d.attributes.attempt_log.length, d.attributes.attempts);
        assert.equal(d.attributes.attempt_log.at(-1).status_code, 200);
      }
      assert.ok(outage.some((d) => d.attributes.attempts >= 2 && d.attributes.attempt_log[0].status_code === null),
        "a delivery first found nobody listening, and was retried");
      break;
    }
    assert.ok(Date.now() < end, `every delivery ends delivered: ${JSON.stringify(log.map((d) => d.attributes.state))}`);
  }
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
  await rx.down();
});

test("a revocation by the CLI (keyhold token revoke) is sent too", async () => {
  const rx = await new Receiver().up();
  const w = await newWebhook(rx.url(), { events: ["credential.revoked"] });
  const pat = await newPat("revoked by the operator");
  srv.cli("token", "revoke", "--db", srv.db, pat.id);
  await rx.until((evs) => evs.some((e) => e.type === "credential.revoked" && e.data.credential.id === pat.id));
  const e = rx.events().find((x) => x.data.credential.id === pat.id);
  assert.equal(e.data.actor_id, "operator");
  assert.equal(e.data.credential.name, "revoked by the operator");
  for (const g of rx.got) verify(w.attributes.secret, g);
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
  await rx.down();
});

test("disabling a user sends a revoked event for each of its credentials; a deleted key's event has its name", async () => {
  const rx = await new Receiver().up();
  const w = await newWebhook(rx.url(), { events: ["credential.revoked"] });
  const u = srv.addUser(srv.admin, "leaving@one.example", ["user_app_keys", "api_keys_read"]);
  values.push(u.api_key, u.app_key);
  const own = srv.keyHeaders(u);
  const pat = await call("POST", "/api/v2/personal_access_tokens", { headers: own,
    body: { data: { type: "personal_access_tokens", attributes: { name: "theirs", scopes: ["api_keys_read"], expires_at: inSeconds(3 * 86400) } } } });
  assert.equal(pat.status, 201, pat.body);
  values.push(srv.remember(pat.json.data.attributes.key));
  const keys = await call("GET", "/api/v2/current_user/application_keys", { headers: own });
  const appKeyId = keys.json.data[0].id;
  assert.equal((await call("DELETE", `/api/v2/users/${u.user_id}`)).status, 204);
  await rx.until((evs) => [pat.json.data.id, appKeyId].every((id) => evs.some((e) => e.data.credential.id === id)));
  const byId = Object.fromEntries(rx.events().map((e) => [e.data.credential.id, e]));
  assert.equal(byId[pat.json.data.id].data.credential.name, "theirs");
  assert.equal(byId[appKeyId].data.credential.kind, "application_key");
  assert.equal(byId[appKeyId].data.credential.owner_id, u.user_id);
  assert.ok(byId[appKeyId].data.credential.name, "the deleted key's name, from the history");
  assert.equal(byId[appKeyId].data.actor_id, srv.admin.user_id);
  for (const g of rx.got) verify(w.attributes.secret, g);
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
  await rx.down();
});

test("a leak report reaches webhooks: leaked, then revoked under the default policy", async () => {
  const rx = await new Receiver().up();
  const w = await newWebhook(rx.url(), { events: ["credential.leaked", "credential.revoked"] });
  const r = await call("POST", "/api/v2/personal_access_tokens", {
    body: { data: { type: "personal_access_tokens", attributes: { name: "leaky", scopes: ["api_keys_read"], expires_at: inSeconds(3 * 86400) } } } });
  assert.equal(r.status, 201);
  const value = srv.remember(r.json.data.attributes.key);
  values.push(value);
  const rep = await call("POST", "/api/v2/keyhold/leaks", { body: [{ token: value, type: "keyhold_personal_access_token",
    url: "https://github.com/acme/app/blob/abc/.env", source: "content" }] });
  assert.equal(rep.status, 202, rep.body);
  const id = r.json.data.id;
  await rx.until((evs) => ["credential.leaked", "credential.revoked"].every((t) => evs.some((e) => e.type === t && e.data.credential.id === id)));
  const leaked = rx.events().find((e) => e.type === "credential.leaked");
  assert.equal(leaked.data.credential.name, "leaky");
  for (const g of rx.got) verify(w.attributes.secret, g);
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
  await rx.down();
});

test("two keyhold nodes on one PostgreSQL send each delivery once (leases)", { skip: PG ? false : "several nodes need the PostgreSQL store" }, async () => {
  const rx = await new Receiver().up();
  const w = await newWebhook(rx.url(), { events: ["credential.created"] });
  const node2 = Object.assign(new Server(srv.dir), { admin: srv.admin, secrets: srv.secrets });
  await node2.serve(...SERVE_ARGS);
  try {
    const ids = [];
    for (let i = 0; i < 24; i++) ids.push((await newPat(`two nodes ${i}`)).id);
    await rx.until((evs) => ids.every((id) => evs.some((e) => e.data.credential.id === id)), 30000, "every event");
    await sleep(1500); // time enough for a second send, if a node were to make one
    const sent = rx.events().filter((e) => ids.includes(e.data.credential.id)).map((e) => e.id);
    assert.equal(sent.length, new Set(sent).size, "no event was sent twice");
    assert.equal(sent.length, ids.length);
    for (const g of rx.got) verify(w.attributes.secret, g);
  } finally {
    await node2.stop({ keep: true });
  }
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
  await rx.down();
});

test("expiry warnings are sent once each: within a day, then expired", async () => {
  const rx = await new Receiver().up();
  const w = await newWebhook(rx.url(), { events: ["credential.expiring_in_7_days", "credential.expiring_in_1_day", "credential.expired"] });
  const soon = await newPat("expires soon", inSeconds(4));
  const later = await newPat("expires in 3 days", inSeconds(3 * 86400));
  const of = (id, type) => rx.events().filter((e) => e.data.credential.id === id && e.type === type);
  await rx.until(() => of(soon.id, "credential.expiring_in_1_day").length && of(later.id, "credential.expiring_in_7_days").length,
    15000, "the warnings before expiry");
  await rx.until(() => of(soon.id, "credential.expired").length, 15000, "the expired warning");
  await sleep(2500); // two more scans: nothing is sent twice
  assert.equal(of(soon.id, "credential.expiring_in_1_day").length, 1);
  assert.equal(of(soon.id, "credential.expired").length, 1);
  assert.equal(of(soon.id, "credential.expiring_in_7_days").length, 0, "a token within a day gets the 1-day warning only");
  assert.equal(of(later.id, "credential.expiring_in_7_days").length, 1);
  const e = of(soon.id, "credential.expired")[0];
  assert.equal(e.data.actor_id, null);
  assert.equal(e.data.credential.name, "expires soon");
  assert.ok(e.data.credential.expires_at);
  for (const g of rx.got) verify(w.attributes.secret, g);
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`)).status, 204);
  await rx.down();
});

test("who may manage webhooks: org_management, and what reads every credential kind to set one up or read its deliveries", async () => {
  const reader = srv.addUser(srv.admin, "orgman@one.example", ["org_management"]);
  const full = srv.addUser(srv.admin, "orgman2@one.example", ["org_management", "api_keys_read", "org_app_keys_read", "service_account_write"]);
  const noSats = srv.addUser(srv.admin, "orgman3@one.example", ["org_management", "api_keys_read", "org_app_keys_read"]);
  values.push(noSats.app_key, noSats.api_key);
  const none = srv.addUser(srv.admin, "plain@one.example", ["api_keys_read", "org_app_keys_read"]);
  values.push(reader.app_key, full.app_key, none.app_key, reader.api_key, full.api_key, none.api_key);
  const body = { data: { type: "webhooks", attributes: { name: "p", url: "https://hooks.invalid/p" } } };
  const refused = await call("POST", "/api/v2/keyhold/webhooks", { headers: srv.keyHeaders(reader), body });
  assert.equal(refused.status, 403);
  assert.match(refused.json.errors[0], /api_keys_read, org_app_keys_read and service_account_write/);
  const refusedSats = await call("POST", "/api/v2/keyhold/webhooks", { headers: srv.keyHeaders(noSats), body });
  assert.equal(refusedSats.status, 403, "a service account's tokens are read with service_account_write: without it, no webhook");
  assert.equal((await call("POST", "/api/v2/keyhold/webhooks", { headers: srv.keyHeaders(none), body })).status, 403);
  assert.equal((await call("GET", "/api/v2/keyhold/webhooks", { headers: srv.keyHeaders(none) })).status, 403);
  const w = await newWebhook("https://hooks.invalid/p", { headers: srv.keyHeaders(full) });
  assert.equal((await call("GET", `/api/v2/keyhold/webhooks/${w.id}`, { headers: srv.keyHeaders(reader) })).status, 200);
  const log = await call("GET", `/api/v2/keyhold/webhooks/${w.id}/deliveries`, { headers: srv.keyHeaders(reader) });
  assert.equal(log.status, 403, "the delivery log shows credentials' names and owners: not to org_management alone");
  assert.equal((await call("GET", `/api/v2/keyhold/webhooks/${w.id}/deliveries`, { headers: srv.keyHeaders(full) })).status, 200);
  assert.equal((await call("PATCH", `/api/v2/keyhold/webhooks/${w.id}`, { headers: srv.keyHeaders(reader),
    body: { data: { type: "webhooks", id: w.id, attributes: { url: "https://elsewhere.invalid/" } } } })).status, 403);
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`, { headers: srv.keyHeaders(none) })).status, 403);
  // another org sees none of it
  const other = srv.addOrg("Org Webhooks Two", "admin@two.example");
  values.push(other.api_key, other.app_key);
  assert.equal((await call("GET", `/api/v2/keyhold/webhooks/${w.id}`, { headers: srv.keyHeaders(other) })).status, 404);
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`, { headers: srv.keyHeaders(other) })).status, 404);
  const theirs = await call("GET", "/api/v2/keyhold/webhooks", { headers: srv.keyHeaders(other) });
  assert.ok(!theirs.json.data.some((x) => x.id === w.id));
  assert.equal((await call("DELETE", `/api/v2/keyhold/webhooks/${w.id}`, { headers: srv.keyHeaders(reader) })).status, 204);
});

test("without --webhook-allow-private, loopback and private hosts are refused, also through a name", async () => {
  const strict = new Server();
  await strict.ephemeral();
  try {
    for (const url of ["http://127.0.0.1:9/x", "http://10.0.0.8/x", "http://[::1]:80/x", "http://localhost/x",
      "https://169.254.169.254/latest", "http://192.168.0.1/", "http://app.localhost/x", "http://127.0.0.1./x"]) {
      const r = await call("POST", "/api/v2/keyhold/webhooks", { on: strict, headers: strict.keyHeaders(),
        body: { data: { type: "webhooks", attributes: { name: "p", url } } } });
      assert.equal(r.status, 400, `${url}: ${r.body}`);
      assert.match(r.json.errors[0], /loopback, private or link-local/);
    }
    // numeric hosts in the resolver's other forms are refused, whatever address they name
    for (const url of ["http://2130706433/x", "http://0x7f000001/x", "http://127.1/x", "http://0177.0.0.1/x", "http://8.8.8.010/x"]) {
      const r = await call("POST", "/api/v2/keyhold/webhooks", { on: strict, headers: strict.keyHeaders(),
        body: { data: { type: "webhooks", attributes: { name: "p", url } } } });
      assert.equal(r.status, 400, `${url}: ${r.body}`);
      assert.match(r.json.errors[0], /four decimal numbers/);
    }
    // a name that resolves to a loopback address passes the check of the URL, and is refused when connecting
    const name = hostname();
    const addr = await lookup(name).catch(() => null);
    if (addr && /^127\./.test(addr.address) && /^[a-z0-9.-]+$/i.test(name) && !/localhost/i.test(name)) {
      const rx = await new Receiver().up();
      const w = await newWebhook(`http://${name}:${rx.port}/hook`, { on: strict, headers: strict.keyHeaders() });
      const t = await call("POST", "/api/v2/personal_access_tokens", { on: strict, headers: strict.keyHeaders(),
        body: { data: { type: "personal_access_tokens", attributes: { name: "n", scopes: ["api_keys_read"], expires_at: inSeconds(86400 * 3) } } } });
      assert.equal(t.status, 201);
      strict.remember(t.json.data.attributes.key);
      for (const end = Date.now() + 10000; ; await sleep(200)) {
        const r = await call("GET", `/api/v2/keyhold/webhooks/${w.id}/deliveries`, { on: strict, headers: strict.keyHeaders() });
        const d = r.json.data[0];
        if (d && d.attributes.attempts >= 1) {
          assert.match(d.attributes.last_error, /loopback, private or link-local/);
          break;
        }
        assert.ok(Date.now() < end, "the refused attempt is logged");
      }
      assert.equal(rx.got.length, 0, "nothing reached the receiver");
      await rx.down();
    }
  } finally {
    await strict.stop();
  }
});
