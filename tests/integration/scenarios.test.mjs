// scenarios.test.mjs - the official client's own BDD scenarios for key
// management, service accounts, authentication, roles and users
// (features/, copied from Datadog's client repositories with their
// provenance), run live against `keyhold serve --ephemeral` through the
// official TypeScript client, the way the client's suite runs them with
// RECORD=none: every scenario not tagged @skip, @generated or @replay-only.
//
// The runner understands the steps those features use. Fixtures come from
// the features' given.json, cleanup from undo.json (each created object is
// undone as the client's suite undoes it), and between scenarios the test
// double's POST /api/v2/keyhold/reset makes the store clean again.
// Assertions read the answer as sent on the wire (snake_case JSON).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { Server, client, v1, v2 } from "./helpers.mjs";

const FEATURES = new URL("./features/", import.meta.url);
const given = JSON.parse(readFileSync(new URL("v2/given.json", FEATURES), "utf8")).entries;
const undo = JSON.parse(readFileSync(new URL("v2/undo.json", FEATURES), "utf8"));
const SKIP_TAGS = ["@skip", "@generated", "@replay-only"];
// Parameter names the features' versions spell differently from the pinned
// client (the PAT path parameter was pat_id, then pat_uuid, now token_id).
const PARAM_ALIASES = { pat_id: "token_id", pat_uuid: "token_id" };

let srv;

before(async () => {
  srv = new Server();
  await srv.ephemeral();
});

after(async () => {
  await srv.stop();
});

/** Scenarios of a feature file: [{name, tags, steps}], background steps first. */
function parseFeature(text) {
  const scenarios = [];
  let background = [];
  let tags = [];
  let cur = null;
  let inBackground = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.startsWith("@")) {
      tags = line.split(/\s+/);
    } else if (line.startsWith("Background:")) {
      inBackground = true;
    } else if (line.startsWith("Scenario:")) {
      inBackground = false;
      cur = { name: line.slice("Scenario:".length).trim(), tags, steps: [] };
      scenarios.push(cur);
      tags = [];
    } else if (/^(Given|And|When|Then|But) /.test(line)) {
      const step = line.replace(/^(Given|And|When|Then|But) /, "");
      (inBackground ? background : cur.steps).push(step);
    }
  }
  return scenarios.map((s) => ({ ...s, steps: [...background, ...s.steps] }));
}

const camel = (s) => s.replace(/[_\[\]]+([a-z])/g, (_, c) => c.toUpperCase()).replace(/[\[\]]/g, "").replace(/^[A-Z]/, (c) => c.toLowerCase());
const apiClass = (name) => name.replace(/\s+/g, "");

/** Reads "a.b[0].c" from a JSON value. */
function lookup(value, path) {
  let v = value;
  for (const part of path.match(/[^.[\]]+/g)) {
    if (v === undefined || v === null) return undefined;
    v = v[/^\d+$/.test(part) ? Number(part) : part];
  }
  return v;
}

class World {
  constructor(scenario, version) {
    this.version = version;
    const stamp = Math.floor(Date.now() / 1000);
    this.unique = `Test-${scenario.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "")}-${stamp}`;
    this.fixtures = {};
    this.auth = {};
    this.undos = [];
  }

  template(text) {
    return text.replace(/{{\s*([^}]+?)\s*}}/g, (_, expr) => {
      if (expr === "unique") return this.unique;
      if (expr === "unique_lower") return this.unique.toLowerCase();
      const time = expr.match(/^timeISO\('now\+(\d+)d'\)$/);
      if (time) return new Date(Date.now() + Number(time[1]) * 86400000).toISOString();
      const v = lookup(this.fixtures, expr);
      if (v === undefined) throw new Error(`template: nothing at ${expr}`);
      return String(v);
    });
  }

  config() {
    const conf = client.createConfiguration({
      baseServer: new client.BaseServerConfiguration(srv.base, {}),
      authMethods: { ...(this.auth.api ? { apiKeyAuth: srv.admin.api_key } : {}), ...(this.auth.app ? { appKeyAuth: srv.admin.app_key } : {}) },
      httpApi: srv.http(),
      enableRetry: false,
    });
    Object.assign(conf.unstableOperations, this.unstable || {});
    return conf;
  }

  /** Calls operationId of the API `tag` with wire-level params and body; returns {status, json}. */
  async call(tag, operationId, params, body) {
    const mod = this.version === "v1" ? v1 : v2;
    const api = new mod[`${apiClass(tag)}Api`](this.config());
    const method = camel(operationId);
    const args = {};
    for (const [k, v] of Object.entries(params)) args[camel(PARAM_ALIASES[k] || k)] = v;
    if (body !== undefined) {
      const type = api.requestFactory[method].toString().match(/serialize\(body, "(\w+)"/)[1];
      args.body = mod.ObjectSerializer.deserialize(body, type, "");
    }
    const seen = srv.responses.length;
    // Operations without parameters take only an optional configuration.
    const takesParams = api.requestFactory[method].length > 1;
    try {
      await (takesParams ? api[method](args) : api[method]());
    } catch (e) {
      if (e.code === undefined) throw e;
    }
    const r = srv.responses[srv.responses.length - 1];
    assert.ok(srv.responses.length > seen, `${operationId}: no answer recorded`);
    let json;
    try {
      json = r.text ? JSON.parse(r.text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: r.status, json };
  }

  /** What the client's suite undoes for an operation that created something. */
  noteUndo(operationId, params, json) {
    const u = undo[operationId]?.undo;
    if (!u || u.type !== "unsafe" || !json) return;
    const p = {};
    for (const prm of u.parameters || []) p[prm.name] = prm.source ? lookup(json, prm.source) : prm.template ? this.template(prm.template) : JSON.parse(prm.value);
    this.undos.push({ tag: u.tag || undo[u.operationId]?.tag || undo[operationId].tag, operationId: u.operationId, params: p });
  }

  async step(text) {
    let m;
    if ((m = text.match(/^a valid "(apiKeyAuth|appKeyAuth)" key in the system$/))) {
      this.auth[m[1] === "apiKeyAuth" ? "api" : "app"] = true;
    } else if ((m = text.match(/^an instance of "(.+)" API$/))) {
      this.tag = m[1];
    } else if ((m = text.match(/^operation "(\w+)" enabled$/))) {
      this.unstable = { ...(this.unstable || {}), [`${this.version}.${camel(m[1])}`]: true };
    } else if ((m = text.match(/^new "(\w+)" request$/))) {
      this.request = { operationId: m[1], params: {}, body: undefined };
    } else if ((m = text.match(/^request contains "([^"]+)" parameter from "([^"]+)"$/))) {
      this.request.params[m[1]] = lookup(this.fixtures, m[2]);
    } else if ((m = text.match(/^request contains "([^"]+)" parameter with value (.+)$/))) {
      this.request.params[m[1]] = JSON.parse(this.template(m[2]));
    } else if ((m = text.match(/^body with value (.+)$/))) {
      this.request.body = JSON.parse(this.template(m[1]));
    } else if (text === "the request is sent") {
      const { operationId, params, body } = this.request;
      this.response = await this.call(this.tag, operationId, params, body);
      if (this.response.status < 300) this.noteUndo(operationId, params, this.response.json);
    } else if ((m = text.match(/^the response status is (\d+)/))) {
      assert.equal(this.response.status, Number(m[1]), JSON.stringify(this.response.json));
    } else if ((m = text.match(/^the response "([^"]+)" is equal to (.+)$/))) {
      assert.deepEqual(lookup(this.response.json, m[1]), JSON.parse(this.template(m[2])), m[1]);
    } else if ((m = text.match(/^the response "([^"]+)" has the same value as "([^"]+)"$/))) {
      assert.deepEqual(lookup(this.response.json, m[1]), lookup(this.fixtures, m[2]), m[1]);
    } else if ((m = text.match(/^the response "([^"]+)" is (false|true)$/))) {
      assert.equal(lookup(this.response.json, m[1]), m[2] === "true", m[1]);
    } else if ((m = text.match(/^the response "([^"]+)" has field "([^"]+)"$/))) {
      const v = lookup(this.response.json, m[1]);
      assert.ok(v && Object.prototype.hasOwnProperty.call(v, m[2]), `${m[1]} has no field ${m[2]}`);
    } else if ((m = text.match(/^the response "([^"]+)" has length (\d+)$/))) {
      assert.equal(lookup(this.response.json, m[1]).length, Number(m[2]), m[1]);
    } else if ((m = text.match(/^the response "([^"]+)" has item with field "([^"]+)" with value (.+)$/))) {
      const want = JSON.parse(this.template(m[3]));
      const items = lookup(this.response.json, m[1]);
      assert.ok(Array.isArray(items) && items.some((it) => JSON.stringify(lookup(it, m[2])) === JSON.stringify(want)),
        `${m[1]} has no item with ${m[2]} = ${m[3]}`);
    } else if (await this.givenStep(text)) {
      // a fixture of given.json
    } else {
      throw new Error(`step not understood: ${text}`);
    }
  }

  /** Steps of given.json: makes the fixture through its operation. */
  async givenStep(text) {
    const g = given.find((e) => e.step === text);
    if (!g) return false;
    const params = {};
    let body;
    for (const p of g.parameters || []) {
      const value = p.source ? lookup(this.fixtures, p.source) : JSON.parse(this.template(p.value));
      if (p.name === "body") body = value;
      else params[p.name] = value;
    }
    const r = await this.call(g.tag, g.operationId, params, body);
    assert.ok(r.status >= 200 && r.status < 300, `given "${text}": ${r.status} ${JSON.stringify(r.json)}`);
    this.fixtures[g.key] = g.source ? lookup(r.json, g.source) : r.json;
    this.noteUndo(g.operationId, params, r.json);
    return true;
  }

  async cleanup() {
    for (const u of this.undos.reverse()) {
      const r = await this.call(u.tag, u.operationId, u.params);
      assert.ok(r.status < 300 || r.status === 404, `undo ${u.operationId}: ${r.status} ${JSON.stringify(r.json)}`);
    }
  }
}

const files = [
  ...readdirSync(new URL("v2/", FEATURES)).filter((f) => f.endsWith(".feature")).map((f) => ["v2", f]),
  ...readdirSync(new URL("v1/", FEATURES)).filter((f) => f.endsWith(".feature")).map((f) => ["v1", f]),
];

for (const [version, file] of files) {
  for (const sc of parseFeature(readFileSync(new URL(`${version}/${file}`, FEATURES), "utf8"))) {
    const skip = sc.tags.some((t) => SKIP_TAGS.includes(t));
    test(`${version}/${file}: ${sc.name}`, { skip: skip && `tagged ${sc.tags.filter((t) => SKIP_TAGS.includes(t)).join(" ")}` }, async () => {
      const w = new World(sc.name, version);
      try {
        for (const step of sc.steps) await w.step(step);
      } finally {
        await w.cleanup();
        const r = await srv.raw("POST", "/api/v2/keyhold/reset", { headers: srv.keyHeaders() });
        assert.equal(r.status, 204, "reset between scenarios");
      }
    });
  }
}

test("the features hold the runnable scenarios keyhold is held to", () => {
  let runnable = 0;
  for (const [version, file] of files) {
    runnable += parseFeature(readFileSync(new URL(`${version}/${file}`, FEATURES), "utf8"))
      .filter((s) => !s.tags.some((t) => SKIP_TAGS.includes(t))).length;
  }
  assert.equal(runnable, 61);
});
