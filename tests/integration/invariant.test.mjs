// invariant.test.mjs - the effective-permission rule of docs/security.md as a
// generated test. Thousands of seeded random cases: a random caller (a user
// with a random set of permissions, its application key unscoped or scoped,
// its PAT, a service account's application key or SAT, a scoped admin key)
// calls a random operation of the spec (all 66, the Audit Trail API's 2, keyhold's own routes and probes, with fixtures and bodies
// drawn at random, many of them attempts to escalate), and the result must
// obey the rule:
//   - a credential made or widened, a user re-enabled, a role given to a user
//     or a permission given to a role holds nothing the caller's effective
//     permissions lack, unless the caller holds user_access_manage;
//   - a secret of an existing credential appears in an answer only when the
//     caller holds every permission of that credential (no exception).
// Ground truth is read as the admin after each change and the effective
// permissions computed here, independently of the server. The seed is
// printed on failure; KEYHOLD_INVARIANT_SEED replays it and
// KEYHOLD_INVARIANT_CASES sets how many cases run (default 2500).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, hoursFromNow } from "./helpers.mjs";

const SEED = Number(process.env.KEYHOLD_INVARIANT_SEED || Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.KEYHOLD_INVARIANT_CASES || 2500);
const MANAGE = "user_access_manage";
// The permissions keyhold's own operations check, and two it does not.
const PERMS = ["api_keys_read", "api_keys_write", "api_keys_delete", "user_app_keys", "org_app_keys_read",
  "org_app_keys_write", "service_account_write", "user_access_invite", MANAGE, "audit_logs_read", "dashboards_read", "monitors_write",
  "org_management"];
const NONE = "00000000-0000-4000-8000-000000000000";

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(SEED);
const pick = (a) => a[Math.floor(rand() * a.length)];
const chance = (p) => rand() < p;
const subset = (a, p = 0.4) => a.filter(() => chance(p));

let srv, permIdOf, permNameOf;
// The observer reads the ground truth; no drawn request ever names it, its
// role or its key, so what it sees cannot be taken from it.
const observer = { headers: null, userId: null, roleId: null, keyId: null, value: null };
const callers = []; // {label, headers, ownerId, scopes (null = unscoped), id}
const saIds = [];
const webhookIds = []; // made by the admin in before(), and by drawn requests
const secrets = new Map(); // value -> {kind, id}

async function raw(method, path, headers, body) {
  const r = await srv.raw(method, path, { headers: { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body) });
  return r;
}
const admin = () => srv.keyHeaders();

async function make(path, body, headers = admin()) {
  const r = await raw("POST", path, headers, body);
  assert.ok(r.status >= 200 && r.status < 300, `fixture ${path}: ${r.status} ${r.body.slice(0, 200)}`);
  return r.json;
}

function remember(kind, id, value) {
  if (!value) return;
  srv.remember(value);
  secrets.set(value, { kind, id });
}

/** Every page of a list, as the admin. */
async function all(path) {
  const out = [];
  for (let n = 0; ; n++) {
    const sep = path.includes("?") ? "&" : "?";
    const r = await raw("GET", `${path}${sep}page%5Bsize%5D=100&page%5Bnumber%5D=${n}`, observer.headers);
    assert.equal(r.status, 200, `${path}: ${r.body.slice(0, 200)}`);
    out.push(...r.json.data);
    if (r.json.data.length < 100) return out;
  }
}

/** The security-relevant state, read as the admin. */
async function snapshot() {
  const s = { users: new Map(), roles: new Map(), keys: new Map(), tokens: new Map() };
  for (const u of await all("/api/v2/users")) {
    s.users.set(u.id, { disabled: u.attributes.disabled, roles: u.relationships.roles.data.map((r) => r.id),
      sa: Boolean(u.attributes.service_account) });
  }
  for (const r of await all("/api/v2/roles")) {
    s.roles.set(r.id, new Set(r.relationships.permissions.data.map((p) => permNameOf[p.id]).filter(Boolean)));
  }
  for (const k of await all("/api/v2/application_keys")) {
    s.keys.set(k.id, { owner: k.relationships.owned_by.data.id, scopes: k.attributes.scopes });
  }
  for (const t of await all("/api/v2/personal_access_tokens")) {
    s.tokens.set(t.id, { owner: t.relationships.owned_by.data.id, scopes: t.attributes.scopes });
  }
  return s;
}

/** What the owner holds (every enabled user also holds user_access_read). */
function ownerPerms(s, ownerId) {
  const u = s.users.get(ownerId);
  if (!u || u.disabled) return new Set();
  const held = new Set(["user_access_read"]);
  for (const r of u.roles) for (const p of s.roles.get(r) || []) held.add(p);
  return held;
}
function credentialPerms(s, ownerId, scopes) {
  const held = ownerPerms(s, ownerId);
  return scopes ? new Set([...held].filter((p) => scopes.includes(p))) : held;
}
const excess = (target, held) => [...target].filter((p) => !held.has(p));

before(async () => {
  srv = await new Server().start("--max-api-keys", "100000", "--max-app-keys", "100000", "--rate-limit-org", "0",
    "--rate-limit-credential", "0", "--rate-limit-auth-failures", "0");
  const perms = (await raw("GET", "/api/v2/permissions", admin())).json.data;
  permIdOf = Object.fromEntries(perms.map((p) => [p.attributes.name, p.id]));
  permNameOf = Object.fromEntries(perms.map((p) => [p.id, p.attributes.name]));
  const watch = (await make("/api/v2/roles", { data: { type: "roles", attributes: { name: "observer" }, relationships: {
    permissions: { data: ["org_app_keys_read", "user_app_keys"].map((p) => ({ type: "permissions", id: permIdOf[p] })) } } } })).data;
  const o = srv.cliJson("user", "add", "--db", srv.db, "--org", srv.admin.org_id, "--email", "observer@one.example", "--role", "observer");
  Object.assign(observer, { headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": o.app_key }, userId: o.user_id,
    roleId: watch.id, value: o.app_key });
  observer.keyId = (await raw("GET", "/api/v2/current_user/application_keys", observer.headers)).json.data[0].id;
  remember("app_key", observer.keyId, o.app_key);
  callers.push({ label: "admin", headers: admin(), ownerId: srv.admin.user_id, scopes: null, kind: "app_key", value: srv.admin.app_key });
  // Users holding random permissions, each with an unscoped key, a scoped key and a PAT.
  for (let i = 0; i < 7; i++) {
    const mine = subset(PERMS, 0.45);
    if (!mine.length) mine.push(pick(PERMS));
    const u = srv.addUser(srv.admin, `u${i}@one.example`, mine);
    const own = { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": u.app_key };
    callers.push({ label: `user ${i} [${mine}] unscoped key`, headers: own, ownerId: u.user_id, scopes: null, kind: "app_key", value: u.app_key });
    remember("app_key", null, u.app_key);
    if (mine.includes("user_app_keys")) {
      const scopes = [...subset(mine, 0.5), "user_app_keys"];
      const k = (await make("/api/v2/current_user/application_keys", { data: { type: "application_keys",
        attributes: { name: `u${i} scoped`, scopes } } }, own)).data;
      remember("app_key", k.id, k.attributes.key);
      callers.push({ label: `user ${i} key scoped [${scopes}]`, id: k.id, kind: "app_key", ownerId: u.user_id, scopes,
        headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": k.attributes.key } });
      const t = (await make("/api/v2/personal_access_tokens", { data: { type: "personal_access_tokens",
        attributes: { name: `u${i} pat`, scopes, expires_at: hoursFromNow(48).toISOString() } } }, own)).data;
      remember("token", t.id, t.attributes.key);
      callers.push({ label: `user ${i} PAT [${scopes}]`, id: t.id, kind: "token", ownerId: u.user_id, scopes,
        headers: { Authorization: `Bearer ${t.attributes.key}` } });
    }
  }
  // Custom roles, and service accounts holding managed and custom roles.
  const roles = (await raw("GET", "/api/v2/roles?page%5Bsize%5D=100", admin())).json.data;
  const adminRole = roles.find((r) => r.attributes.name === "Datadog Admin Role").id;
  const roleIds = roles.map((r) => r.id);
  for (let i = 0; i < 3; i++) {
    const grant = subset(PERMS, 0.4).map((p) => ({ type: "permissions", id: permIdOf[p] }));
    roleIds.push((await make("/api/v2/roles", { data: { type: "roles", attributes: { name: `custom ${i}` },
      relationships: { permissions: { data: grant } } } })).data.id);
  }
  for (let i = 0; i < 4; i++) {
    const role = i === 0 ? adminRole : pick(roleIds);
    const sa = (await make("/api/v2/service_accounts", { data: { type: "users", attributes: { email: `sa${i}@one.example`,
      service_account: true }, relationships: { roles: { data: [{ type: "roles", id: role }] } } } })).data;
    saIds.push(sa.id);
    const k = (await make(`/api/v2/service_accounts/${sa.id}/application_keys`, { data: { type: "application_keys",
      attributes: { name: `sa${i} key` } } })).data;
    remember("app_key", k.id, k.attributes.key);
    callers.push({ label: `sa ${i} unscoped key`, id: k.id, kind: "app_key", ownerId: sa.id, scopes: null,
      headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": k.attributes.key } });
    const scopes = [...subset(PERMS, 0.4), "service_account_write"];
    const t = (await make(`/api/v2/service_accounts/${sa.id}/access_tokens`, { data: { type: "service_access_tokens",
      attributes: { name: `sa${i} sat`, scopes } } })).data;
    remember("token", t.id, t.attributes.key);
    callers.push({ label: `sa ${i} SAT [${scopes}]`, id: t.id, kind: "token", ownerId: sa.id, scopes,
      headers: { Authorization: `Bearer ${t.attributes.key}` } });
  }
  // A disabled service account holding the Admin role (finding 3: re-enabled and used).
  const dormant = (await make("/api/v2/service_accounts", { data: { type: "users", attributes: { email: "dormant@one.example",
    service_account: true }, relationships: { roles: { data: [{ type: "roles", id: adminRole }] } } } })).data;
  await raw("DELETE", `/api/v2/users/${dormant.id}`, admin());
  saIds.push(dormant.id);
  // The admin's key scoped to service_account_write (finding 3).
  for (const scopes of [["service_account_write"], ["user_app_keys"], ["org_app_keys_read", "user_app_keys"]]) {
    const k = (await make("/api/v2/current_user/application_keys", { data: { type: "application_keys",
      attributes: { name: `admin ${scopes}`, scopes } } })).data;
    remember("app_key", k.id, k.attributes.key);
    callers.push({ label: `admin key scoped [${scopes}]`, id: k.id, kind: "app_key", ownerId: srv.admin.user_id, scopes,
      headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": k.attributes.key } });
  }
  remember("app_key", null, srv.admin.app_key);
  webhookIds.push((await make("/api/v2/keyhold/webhooks", { data: { type: "webhooks",
    attributes: { name: "fixture", url: "https://hooks.invalid/in" } } })).data.id);
});

after(async () => {
  await srv.stop();
});

/** A random request for each of the spec's 66 operations, with fixtures from state s. */
function requests(s) {
  const users = [...s.users.keys()].filter((id) => id !== observer.userId);
  const keyIds = [...s.keys.keys()].filter((id) => id !== observer.keyId);
  const tokenIds = [...s.tokens.keys()];
  const roleIds = [...s.roles.keys()].filter((id) => id !== observer.roleId);
  const values = [...secrets.keys()].filter((v) => !v.startsWith("dd") && v !== observer.value);
  const anyId = (ids) => (ids.length && chance(0.9) ? pick(ids) : NONE);
  const scopes = () => (chance(0.3) ? null : chance(0.1) ? undefined : subset([...PERMS, "user_access_read"], 0.35));
  const keyBody = (id) => ({ data: { type: "application_keys", ...(id ? { id } : {}), attributes: { name: `k${rand()}`,
    ...(() => { const sc = scopes(); return sc === undefined ? {} : { scopes: sc && sc.length ? sc : null }; })() } } });
  const tokenScopes = () => { const sc = subset(PERMS, 0.4); return sc.length ? sc : [pick(PERMS)]; };
  const role = () => anyId(roleIds);
  const user = () => anyId(users);
  const sa = () => (chance(0.9) ? pick(saIds) : user());
  const key = () => anyId(keyIds);
  const token = () => anyId(tokenIds);
  const value = () => (values.length ? pick(values) : "0".repeat(40));
  const callerValues = new Set(callers.flatMap((c) => Object.values(c.headers)).map((h) => h.replace(/^Bearer /, "")));
  const leakables = [...secrets.keys()].filter((v) => !callerValues.has(v) && v !== observer.value && v !== srv.admin.api_key);
  const leakable = () => (leakables.length ? pick(leakables) : "0".repeat(32));
  const webhook = () => anyId(webhookIds);
  const EVENTS = ["credential.created", "credential.rotated", "credential.revoked", "credential.leaked",
    "credential.expiring_in_7_days", "credential.expiring_in_1_day", "credential.expired"];
  return [
    ["GET", "/api/v1/validate"], ["GET", "/api/v2/validate"], ["GET", "/api/v2/validate_keys"],
    ["GET", "/api/v1/api_key"], ["POST", "/api/v1/api_key", { name: "x" }],
    ["GET", `/api/v1/api_key/${"0".repeat(32)}`], ["PUT", `/api/v1/api_key/${"0".repeat(32)}`, { name: "y" }],
    ["DELETE", `/api/v1/api_key/${"0".repeat(32)}`],
    ["GET", "/api/v2/api_keys"], ["POST", "/api/v2/api_keys", { data: { type: "api_keys", attributes: { name: "x" } } }],
    ["GET", `/api/v2/api_keys/${NONE}`], ["PATCH", `/api/v2/api_keys/${NONE}`, { data: { type: "api_keys", id: NONE, attributes: { name: "y" } } }],
    ["DELETE", `/api/v2/api_keys/${NONE}`],
    ["GET", "/api/v1/application_key"], ["POST", "/api/v1/application_key", { name: `v1 ${rand()}` }],
    ["GET", `/api/v1/application_key/${value()}`], ["PUT", `/api/v1/application_key/${value()}`, { name: `v1 ${rand()}` }],
    ["DELETE", `/api/v1/application_key/${value()}`],
    ["GET", "/api/v2/application_keys"], ["GET", `/api/v2/application_keys/${key()}`],
    (() => { const id = key(); return ["PATCH", `/api/v2/application_keys/${id}`, keyBody(id)]; })(),
    ["DELETE", `/api/v2/application_keys/${key()}`],
    ["GET", "/api/v2/current_user/application_keys"], ["POST", "/api/v2/current_user/application_keys", keyBody()],
    ["GET", `/api/v2/current_user/application_keys/${key()}`],
    (() => { const id = key(); return ["PATCH", `/api/v2/current_user/application_keys/${id}`, keyBody(id)]; })(),
    ["DELETE", `/api/v2/current_user/application_keys/${key()}`],
    (() => { const a = sa(); return ["GET", `/api/v2/service_accounts/${a}/application_keys`]; })(),
    (() => { const a = sa(); return ["POST", `/api/v2/service_accounts/${a}/application_keys`, keyBody()]; })(),
    (() => { const a = sa(); return ["GET", `/api/v2/service_accounts/${a}/application_keys/${key()}`]; })(),
    (() => { const a = sa(); const id = key(); return ["PATCH", `/api/v2/service_accounts/${a}/application_keys/${id}`, keyBody(id)]; })(),
    (() => { const a = sa(); return ["DELETE", `/api/v2/service_accounts/${a}/application_keys/${key()}`]; })(),
    ["GET", "/api/v2/personal_access_tokens"],
    ["POST", "/api/v2/personal_access_tokens", { data: { type: "personal_access_tokens", attributes: { name: "t",
      scopes: tokenScopes(), expires_at: hoursFromNow(48).toISOString() } } }],
    ["GET", `/api/v2/personal_access_tokens/${token()}`],
    (() => { const id = token(); return ["PATCH", `/api/v2/personal_access_tokens/${id}`, { data: { type: "personal_access_tokens", id,
      attributes: { scopes: tokenScopes() } } }]; })(),
    ["DELETE", `/api/v2/personal_access_tokens/${token()}`],
    ["POST", "/api/v2/service_accounts", { data: { type: "users", attributes: { email: `n${rand()}@one.example`, service_account: true },
      relationships: { roles: { data: [{ type: "roles", id: role() }] } } } }],
    (() => { const a = sa(); return ["GET", `/api/v2/service_accounts/${a}/access_tokens`]; })(),
    (() => { const a = sa(); return ["POST", `/api/v2/service_accounts/${a}/access_tokens`, { data: { type: "service_access_tokens",
      attributes: { name: "s", scopes: tokenScopes() } } }]; })(),
    (() => { const a = sa(); return ["GET", `/api/v2/service_accounts/${a}/access_tokens/${token()}`]; })(),
    (() => { const a = sa(); const id = token(); return ["PATCH", `/api/v2/service_accounts/${a}/access_tokens/${id}`,
      { data: { type: "service_access_tokens", id, attributes: { scopes: tokenScopes() } } }]; })(),
    (() => { const a = sa(); return ["DELETE", `/api/v2/service_accounts/${a}/access_tokens/${token()}`]; })(),
    ["GET", "/api/v2/users"],
    ["POST", "/api/v2/users", { data: { type: "users", attributes: { email: `p${rand()}@one.example` },
      relationships: { roles: { data: [{ type: "roles", id: role() }] } } } }],
    ["GET", `/api/v2/users/${user()}`],
    (() => { const id = user(); return ["PATCH", `/api/v2/users/${id}`, { data: { type: "users", id, attributes: { disabled: chance(0.2) } } }]; })(),
    ["DELETE", `/api/v2/users/${chance(0.1) ? user() : NONE}`],
    ["GET", `/api/v2/users/${user()}/permissions`], ["GET", `/api/v2/users/${user()}/orgs`],
    ["POST", "/api/v2/user_invitations", { data: [{ type: "user_invitations", relationships: { user: { data: { type: "users", id: user() } } } }] }],
    ["GET", `/api/v2/user_invitations/${NONE}`],
    ["GET", "/api/v2/roles"], ["GET", "/api/v2/roles/templates"],
    ["POST", "/api/v2/roles", { data: { type: "roles", attributes: { name: `r${rand()}` }, relationships: { permissions: {
      data: subset(PERMS, 0.3).map((p) => ({ type: "permissions", id: permIdOf[p] })) } } } }],
    ["GET", `/api/v2/roles/${role()}`],
    (() => { const id = role(); return ["PATCH", `/api/v2/roles/${id}`, { data: { type: "roles", id, relationships: { permissions: {
      data: subset(PERMS, 0.5).map((p) => ({ type: "permissions", id: permIdOf[p] })) } } } }]; })(),
    ["DELETE", `/api/v2/roles/${chance(0.2) ? role() : NONE}`],
    ["POST", `/api/v2/roles/${role()}/clone`, { data: { type: "roles", attributes: { name: `c${rand()}` } } }],
    ["GET", `/api/v2/roles/${role()}/permissions`],
    ["POST", `/api/v2/roles/${role()}/permissions`, { data: { type: "permissions", id: permIdOf[pick(PERMS)] } }],
    ["DELETE", `/api/v2/roles/${role()}/permissions`, { data: { type: "permissions", id: permIdOf[pick(PERMS)] } }],
    ["GET", `/api/v2/roles/${role()}/users`],
    ["POST", `/api/v2/roles/${role()}/users`, { data: { type: "users", id: user() } }],
    ["DELETE", `/api/v2/roles/${role()}/users`, { data: { type: "users", id: user() } }],
    ["GET", "/api/v2/permissions"],
    // the Audit Trail API: reads only, never a secret
    ["GET", "/api/v2/audit/events?filter%5Bfrom%5D=now-1h&page%5Blimit%5D=50"],
    ["POST", "/api/v2/audit/events/search", { filter: { query: pick(["*", "@action:created", "-@asset.type:user"]), from: "now-1h" }, sort: "-timestamp" }],
    // keyhold's own routes: rotating a token or an application key (a new secret of an existing credential)...
    ["POST", `/api/v2/keyhold/credentials/${chance(0.5) ? token() : key()}/rotate`, chance(0.3) ? undefined
      : { data: { type: "credential_rotations", attributes: { grace_seconds: pick([0, 0, 60]) } } }],
    // ...its dry run (changes nothing, shows no secret), and who uses a credential of any kind (a read)...
    ["POST", `/api/v2/keyhold/credentials/${chance(0.5) ? token() : key()}/rotate?dry_run=true`, chance(0.3) ? undefined
      : { data: { type: "credential_rotations", attributes: { grace_seconds: pick([0, 60]) } } }],
    ["GET", `/api/v2/keyhold/credentials/${chance(0.5) ? token() : key()}/usage`],
    // ...the history of ended credentials (each row only to who may read it live) and revoking any kind...
    ["GET", `/api/v2/keyhold/credentials?${pick(["", "state=revoked", "state=expired", "state=leaked", "filter%5Bkind%5D=application_key", "page%5Bsize%5D=100"])}`],
    ["POST", `/api/v2/keyhold/credentials/${chance(0.5) ? key() : token()}/revoke`, chance(0.5) ? undefined
      : { data: { type: "credential_revocations", attributes: { reason: "drawn" } } }],
    ["POST", `/api/v2/keyhold/credentials/${chance(0.5) ? key() : token()}/revoke?dry_run=true`],
    // ...webhooks (org settings that receive every credential's name, never a secret)...
    ["GET", "/api/v2/keyhold/webhooks"],
    ["POST", "/api/v2/keyhold/webhooks", { data: { type: "webhooks", attributes: { name: `w${rand()}`,
      url: "https://hooks.invalid/in", ...(chance(0.5) ? { events: [pick(EVENTS), pick(EVENTS)] } : {}) } } }],
    ["GET", `/api/v2/keyhold/webhooks/${webhook()}`],
    (() => { const id = webhook(); return ["PATCH", `/api/v2/keyhold/webhooks/${id}`, { data: { type: "webhooks", id,
      attributes: { enabled: chance(0.7), events: [pick(EVENTS)] } } }]; })(),
    ["DELETE", `/api/v2/keyhold/webhooks/${chance(0.2) ? webhook() : NONE}`],
    ["GET", `/api/v2/keyhold/webhooks/${webhook()}/deliveries`],
    // ...and the probes (unauthenticated, reveal nothing)
    ["GET", "/healthz"], ["GET", "/readyz"],
    // the leak loop: a report only takes access away (never a caller's own credential here, so that callers last)
    ["POST", "/api/v2/keyhold/leaks", [{ token: chance(0.5) ? leakable() : `ddpat_${"0".repeat(59)}`, type: "t", url: null, source: null }]],
    ["GET", "/api/v2/keyhold/leaks"], ["GET", "/api/v2/keyhold/leak_policy"],
    ["PATCH", "/api/v2/keyhold/leak_policy", { data: { type: "leak_policies", attributes: { policy: pick(["revoke", "quarantine"]) } } }],
    // the web console's static files (unauthenticated, hold no data)
    ["GET", "/console/"], ["GET", "/console/app.js"],
  ];
}

/** The scopes a caller's credential has in state s (another case may have changed them). */
function currentScopes(s, caller) {
  const c = caller.kind === "token" ? s.tokens.get(caller.id) : s.keys.get(caller.id);
  return c ? c.scopes : caller.scopes;
}

/** The rule's violations by one call: before and after states, the caller, the exchange. */
function violations(before, after, caller, sent, answer) {
  const out = [];
  const held = credentialPerms(before, caller.ownerId, currentScopes(before, caller));
  const manages = held.has(MANAGE);
  const grant = (what, target) => {
    const over = excess(target, held);
    if (over.length && !manages) out.push(`${what} holds ${over.join(",")}, which the caller lacks`);
  };
  for (const [id, k] of after.keys) {
    const was = before.keys.get(id);
    const now = credentialPerms(after, k.owner, k.scopes);
    if (!was) grant(`new application key ${id}`, now);
    else if (excess(now, credentialPerms(before, was.owner, was.scopes)).length) grant(`widened application key ${id}`, now);
  }
  for (const [id, t] of after.tokens) {
    const was = before.tokens.get(id);
    const now = credentialPerms(after, t.owner, t.scopes);
    if (!was) grant(`new token ${id}`, now);
    else if (excess(now, credentialPerms(before, was.owner, was.scopes)).length) grant(`widened token ${id}`, now);
  }
  for (const [id, u] of after.users) {
    const was = before.users.get(id);
    if (was && was.disabled && !u.disabled) grant(`re-enabled user ${id}`, ownerPerms(after, id));
    for (const r of u.roles) if (!was || !was.roles.includes(r)) grant(`role ${r} given to ${id}`, after.roles.get(r) || new Set());
  }
  for (const [id, perms] of after.roles) {
    const was = before.roles.get(id);
    if (!was) continue; // a new role is held by nobody yet; giving it is checked above
    const added = new Set([...perms].filter((p) => !was.has(p)));
    const holders = [...after.users.values()].some((u) => u.roles.includes(id));
    if (added.size && holders) grant(`permissions added to role ${id} held by users`, added);
  }
  // A rotation answers a new secret of an existing token or key: only to a caller holding all it holds.
  let parsed = null;
  try {
    parsed = JSON.parse(answer);
  } catch { /* not JSON */ }
  const rotation = parsed?.data;
  if (rotation?.type === "credential_rotations" && rotation.attributes?.key) {
    const was = before.tokens.get(rotation.id) ?? before.keys.get(rotation.id);
    const over = was ? excess(credentialPerms(before, was.owner, was.scopes), held) : ["(a credential unknown before)"];
    if (over.length) out.push(`a new secret of ${rotation.attributes.credential_type} ${rotation.id} (holding ${over.join(",")} beyond the caller) was revealed`);
  }
  // A dry run changes nothing and answers no secret.
  if (sent.includes("dry_run=true")) {
    const text = (m) => JSON.stringify([...m].map(([k, v]) => [k, v instanceof Set ? [...v] : v]));
    for (const kind of ["keys", "tokens", "users", "roles"])
      if (text(before[kind]) !== text(after[kind])) out.push(`a dry run changed the ${kind}`);
    if (rotation?.attributes?.key) out.push("a dry run answered a secret");
  }
  // The history shows a row only to a caller that could read that credential live.
  if (Array.isArray(parsed?.data)) {
    for (const row of parsed.data.filter((d) => d.type === "credential_history")) {
      const a = row.attributes;
      const own = a.owner_id === caller.ownerId;
      const ofSa = Boolean(before.users.get(a.owner_id)?.sa);
      const may = a.kind === "api_key" ? held.has("api_keys_read")
        : a.kind === "application_key" ? held.has("org_app_keys_read") || (own && held.has("user_app_keys")) || (ofSa && held.has("service_account_write"))
        : a.kind === "personal_access_token" ? held.has("org_app_keys_read") || (own && held.has("user_app_keys"))
        : held.has("service_account_write");
      if (!may) out.push(`history row ${row.id} (${a.kind} of ${a.owner_id}) was shown to a caller that may not read it`);
    }
  }
  for (const [value, cred] of secrets) {
    if (!answer.includes(value) || sent.includes(value)) continue;
    const owner = cred.kind === "token" ? before.tokens.get(cred.id)?.owner : before.keys.get(cred.id)?.owner;
    const scopes = cred.kind === "token" ? before.tokens.get(cred.id)?.scopes : before.keys.get(cred.id)?.scopes;
    if (!owner) continue; // a key revoked or deleted before this call
    const over = excess(credentialPerms(before, owner, scopes), held);
    if (over.length) out.push(`the secret of ${cred.kind} ${cred.id} (holding ${over.join(",")} beyond the caller) was revealed`);
  }
  return out;
}

test(`no credential reaches beyond its own permissions (${CASES} cases, seed ${SEED})`, { timeout: 1800000 }, async (t) => {
  const problems = [];
  let state = await snapshot();
  // the bootstrap keys of users made by the CLI are known by value only: find their ids
  for (const [value, cred] of secrets) {
    if (cred.id) continue;
    const r = await raw("GET", "/api/v2/current_user/application_keys?page%5Bsize%5D=100", { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": value });
    const last4 = value.slice(-4);
    const mine = r.json?.data?.find((k) => k.attributes.last4 === last4);
    if (mine) cred.id = mine.id;
    for (const c of callers) if (c.value === value) c.id = cred.id;
  }
  const counts = new Map();
  let succeeded = 0;
  for (let i = 0; i < CASES && problems.length < 10; i++) {
    const caller = pick(callers);
    const [method, path, body] = pick(requests(state));
    const r = await raw(method, path, caller.headers, body);
    const op = `${method} ${path.replace(/[0-9a-f-]{36}|[0-9a-f]{32,40}/g, "{}")}`;
    counts.set(op, (counts.get(op) || 0) + 1);
    if (r.status >= 500) problems.push(`case ${i}: ${caller.label} ${method} ${path}: ${r.status}`);
    const changed = r.status >= 200 && r.status < 300 && method !== "GET";
    if (changed) succeeded++;
    const next = changed ? await snapshot() : state;
    const sent = `${path} ${JSON.stringify(body || "")} ${JSON.stringify(caller.headers)}`;
    for (const v of violations(state, next, caller, sent, r.body)) problems.push(`case ${i}: ${caller.label} ${method} ${path}: ${v}`);
    // New credentials join the secrets checked from now on.
    const made = r.json?.data?.attributes?.key;
    if (changed && made && r.json.data.id) remember(r.json.data.type === "application_keys" ? "app_key" : "token", r.json.data.id, made);
    if (changed && r.json?.data?.type === "webhooks" && method === "POST") webhookIds.push(r.json.data.id);
    state = next;
  }
  t.diagnostic(`${counts.size} operations drawn, ${succeeded} changes made`);
  assert.deepEqual(problems, [], `seed ${SEED}: replay with KEYHOLD_INVARIANT_SEED=${SEED}`);
  assert.ok(counts.size >= 60, `only ${counts.size} operations were drawn`);
});
