// authz-matrix.test.mjs - every operation of ../shared/spec under every kind
// of caller, with the exact status each must get. Zero unexpected 2xx.
//
// Callers (columns):
//   none      no credentials at all
//   wrong     a well-formed API key and application key that do not exist
//   revoked   a revoked PAT (Authorization: Bearer)
//   expired   a SAT past its expires_at (Authorization: Bearer)
//   disabled  the API key plus the application key of a disabled user
//   otherorg  another org's admin, on ids that exist in this org (creating
//             and listing succeed, in and of its own org)
//   peer      a user holding only user_app_keys (and, as every user, reading
//             users and roles: user_access_read), on another user's objects
//   scoped    a PAT of the admin whose only scope is dashboards_read
//   admin     this org's admin: the operation succeeds
//
// Each row: the operation, how to call it (ids come from fixtures made for
// that row), and the expected status per caller. Defaults: 403 for every
// non-admin caller, 2xx for admin; a row lists only what differs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, v2, hoursFromNow } from "./helpers.mjs";

const NONE = "00000000-0000-4000-8000-000000000000";
const OK = "2xx";
const pat = (name, scopes, hours = 48) => ({ data: { type: "personal_access_tokens", attributes: { name, scopes, expires_at: hoursFromNow(hours).toISOString() } } });
const appKey = (name) => ({ data: { type: "application_keys", attributes: { name } } });

// validate endpoints only look at the API key (v1, v2) or any valid credential (validate_keys).
const API_KEY_ONLY = { none: 403, wrong: 403, revoked: 403, expired: 403, disabled: OK, otherorg: OK, peer: OK, scoped: 403 };

// An org's emails are unique: every user a row creates gets a new one.
let emails = 0;
const uniqueEmail = () => `m-${++emails}@x.example`;

const ROWS = [
  // [operation, method, path(f), body(f) or null, expected overrides]
  ["v1.Validate", "GET", () => "/api/v1/validate", null, API_KEY_ONLY],
  ["v2.Validate", "GET", () => "/api/v2/validate", null, API_KEY_ONLY],
  ["v2.ValidateAPIKey", "GET", () => "/api/v2/validate_keys", null, { none: 401, otherorg: OK, peer: OK, scoped: OK }],
  ["v1.ListAPIKeys", "GET", () => "/api/v1/api_key", null, { otherorg: OK }],
  ["v1.CreateAPIKey", "POST", () => "/api/v1/api_key", () => ({ name: "m" }), { otherorg: OK }],
  ["v1.GetAPIKey", "GET", (f) => `/api/v1/api_key/${f.apiKeyValue}`, null, { otherorg: 404 }],
  ["v1.UpdateAPIKey", "PUT", (f) => `/api/v1/api_key/${f.apiKeyValue}`, () => ({ name: "m2" }), { otherorg: 404 }],
  ["v1.DeleteAPIKey", "DELETE", (f) => `/api/v1/api_key/${f.apiKeyValue}`, null, { otherorg: 404 }],
  ["v2.ListAPIKeys", "GET", () => "/api/v2/api_keys", null, { otherorg: OK }],
  ["v2.CreateAPIKey", "POST", () => "/api/v2/api_keys", () => ({ data: { type: "api_keys", attributes: { name: "m" } } }), { otherorg: OK }],
  ["v2.GetAPIKey", "GET", (f) => `/api/v2/api_keys/${f.apiKeyId}`, null, { otherorg: 404 }],
  ["v2.UpdateAPIKey", "PATCH", (f) => `/api/v2/api_keys/${f.apiKeyId}`, (f) => ({ data: { type: "api_keys", id: f.apiKeyId, attributes: { name: "m2" } } }), { otherorg: 404 }],
  ["v2.DeleteAPIKey", "DELETE", (f) => `/api/v2/api_keys/${f.apiKeyId}`, null, { otherorg: 404 }],
  ["v1.ListApplicationKeys", "GET", () => "/api/v1/application_key", null, { otherorg: OK, peer: OK }],
  ["v1.CreateApplicationKey", "POST", () => "/api/v1/application_key", () => ({ name: `m${Math.random()}` }), { otherorg: OK, peer: OK }],
  ["v1.GetApplicationKey", "GET", (f) => `/api/v1/application_key/${f.appKeyValue}`, null, { otherorg: 404, peer: 404 }],
  ["v1.UpdateApplicationKey", "PUT", (f) => `/api/v1/application_key/${f.appKeyValue}`, () => ({ name: `m${Math.random()}` }), { otherorg: 404, peer: 404 }],
  ["v1.DeleteApplicationKey", "DELETE", (f) => `/api/v1/application_key/${f.appKeyValue}`, null, { otherorg: 404, peer: 404 }],
  ["v2.ListApplicationKeys", "GET", () => "/api/v2/application_keys", null, { otherorg: OK }],
  ["v2.GetApplicationKey", "GET", (f) => `/api/v2/application_keys/${f.appKeyId}`, null, { otherorg: 404 }],
  ["v2.UpdateApplicationKey", "PATCH", (f) => `/api/v2/application_keys/${f.appKeyId}`, (f) => ({ data: { type: "application_keys", id: f.appKeyId, attributes: { name: "m2" } } }), { otherorg: 404 }],
  ["v2.DeleteApplicationKey", "DELETE", (f) => `/api/v2/application_keys/${f.appKeyId}`, null, { otherorg: 404 }],
  ["v2.ListCurrentUserApplicationKeys", "GET", () => "/api/v2/current_user/application_keys", null, { otherorg: OK, peer: OK }],
  ["v2.CreateCurrentUserApplicationKey", "POST", () => "/api/v2/current_user/application_keys", () => appKey("m"), { otherorg: OK, peer: OK }],
  ["v2.GetCurrentUserApplicationKey", "GET", (f) => `/api/v2/current_user/application_keys/${f.appKeyId}`, null, { otherorg: 404, peer: 404 }],
  ["v2.UpdateCurrentUserApplicationKey", "PATCH", (f) => `/api/v2/current_user/application_keys/${f.appKeyId}`, (f) => ({ data: { type: "application_keys", id: f.appKeyId, attributes: { name: "m2" } } }), { otherorg: 404, peer: 404 }],
  ["v2.DeleteCurrentUserApplicationKey", "DELETE", (f) => `/api/v2/current_user/application_keys/${f.appKeyId}`, null, { otherorg: 404, peer: 404 }],
  ["v2.ListPersonalAccessTokens", "GET", () => "/api/v2/personal_access_tokens", null, { otherorg: OK, peer: OK }],
  ["v2.CreatePersonalAccessToken", "POST", () => "/api/v2/personal_access_tokens", () => pat("m", ["dashboards_read"]), { otherorg: OK, peer: 403 }],
  ["v2.GetPersonalAccessToken", "GET", (f) => `/api/v2/personal_access_tokens/${f.patId}`, null, { otherorg: 404, peer: 404 }],
  ["v2.UpdatePersonalAccessToken", "PATCH", (f) => `/api/v2/personal_access_tokens/${f.patId}`, (f) => ({ data: { type: "personal_access_tokens", id: f.patId, attributes: { name: "m2" } } }), { otherorg: 404, peer: 404 }],
  ["v2.RevokePersonalAccessToken", "DELETE", (f) => `/api/v2/personal_access_tokens/${f.patId}`, null, { otherorg: 404, peer: 404 }],
  ["v2.CreateServiceAccount", "POST", () => "/api/v2/service_accounts", () => ({ data: { type: "users", attributes: { email: uniqueEmail(), service_account: true } } }), { otherorg: OK }],
  ["v2.ListServiceAccountAccessTokens", "GET", (f) => `/api/v2/service_accounts/${f.saId}/access_tokens`, null, { otherorg: 404 }],
  ["v2.CreateServiceAccountAccessToken", "POST", (f) => `/api/v2/service_accounts/${f.saId}/access_tokens`, () => ({ data: { type: "service_access_tokens", attributes: { name: "m", scopes: ["dashboards_read"] } } }), { otherorg: 404 }],
  ["v2.GetServiceAccountAccessToken", "GET", (f) => `/api/v2/service_accounts/${f.saId}/access_tokens/${f.satId}`, null, { otherorg: 404 }],
  ["v2.UpdateServiceAccountAccessToken", "PATCH", (f) => `/api/v2/service_accounts/${f.saId}/access_tokens/${f.satId}`, (f) => ({ data: { type: "service_access_tokens", id: f.satId, attributes: { name: "m2" } } }), { otherorg: 404 }],
  ["v2.RevokeServiceAccountAccessToken", "DELETE", (f) => `/api/v2/service_accounts/${f.saId}/access_tokens/${f.satId}`, null, { otherorg: 404 }],
  ["v2.ListServiceAccountApplicationKeys", "GET", (f) => `/api/v2/service_accounts/${f.saId}/application_keys`, null, { otherorg: 404 }],
  ["v2.CreateServiceAccountApplicationKey", "POST", (f) => `/api/v2/service_accounts/${f.saId}/application_keys`, () => appKey("m"), { otherorg: 404 }],
  ["v2.GetServiceAccountApplicationKey", "GET", (f) => `/api/v2/service_accounts/${f.saId}/application_keys/${f.saKeyId}`, null, { otherorg: 404 }],
  ["v2.UpdateServiceAccountApplicationKey", "PATCH", (f) => `/api/v2/service_accounts/${f.saId}/application_keys/${f.saKeyId}`, (f) => ({ data: { type: "application_keys", id: f.saKeyId, attributes: { name: "m2" } } }), { otherorg: 404 }],
  ["v2.DeleteServiceAccountApplicationKey", "DELETE", (f) => `/api/v2/service_accounts/${f.saId}/application_keys/${f.saKeyId}`, null, { otherorg: 404 }],
  ["v2.ListUsers", "GET", () => "/api/v2/users", null, { otherorg: OK, peer: OK }],
  ["v2.CreateUser", "POST", () => "/api/v2/users", () => ({ data: { type: "users", attributes: { email: uniqueEmail() } } }), { otherorg: OK }],
  ["v2.GetUser", "GET", (f) => `/api/v2/users/${f.userId}`, null, { otherorg: 404, peer: OK }],
  ["v2.ListUserPermissions", "GET", (f) => `/api/v2/users/${f.userId}/permissions`, null, { otherorg: 404, peer: OK }],
  // x-permission OPEN: anyone reads their own; another user's needs user_access_read, as GetUser.
  ["v2.ListUserOrganizations", "GET", (f) => `/api/v2/users/${f.userId}/orgs`, null, { otherorg: 404, peer: OK }],
  // Another org's admin names a user it cannot see: 400, as any unknown user.
  ["v2.SendInvitations", "POST", () => "/api/v2/user_invitations", (f) => ({ data: [{ type: "user_invitations", relationships: { user: { data: { type: "users", id: f.userId } } } }] }), { otherorg: 400 }],
  ["v2.GetInvitation", "GET", (f) => `/api/v2/user_invitations/${f.invitationId}`, null, { otherorg: 404 }],
  ["v2.UpdateUser", "PATCH", (f) => `/api/v2/users/${f.userId}`, (f) => ({ data: { type: "users", id: f.userId, attributes: { name: "m2" } } }), { otherorg: 404 }],
  ["v2.DisableUser", "DELETE", (f) => `/api/v2/users/${f.userId}`, null, { otherorg: 404 }],
  ["v2.ListRoles", "GET", () => "/api/v2/roles", null, { otherorg: OK, peer: OK }],
  ["v2.ListRoleTemplates", "GET", () => "/api/v2/roles/templates", null, { otherorg: OK, peer: OK }],
  ["v2.CreateRole", "POST", () => "/api/v2/roles", () => ({ data: { type: "roles", attributes: { name: `m${Math.random()}` } } }), { otherorg: OK }],
  ["v2.GetRole", "GET", (f) => `/api/v2/roles/${f.roleId}`, null, { otherorg: 404, peer: OK }],
  ["v2.CloneRole", "POST", (f) => `/api/v2/roles/${f.roleId}/clone`, () => ({ data: { type: "roles", attributes: { name: `m${Math.random()}` } } }), { otherorg: 404 }],
  ["v2.UpdateRole", "PATCH", (f) => `/api/v2/roles/${f.roleId}`, (f) => ({ data: { type: "roles", id: f.roleId, attributes: { name: `m${Math.random()}` } } }), { otherorg: 404 }],
  ["v2.DeleteRole", "DELETE", (f) => `/api/v2/roles/${f.roleId}`, null, { otherorg: 404 }],
  ["v2.ListRolePermissions", "GET", (f) => `/api/v2/roles/${f.roleId}/permissions`, null, { otherorg: 404, peer: OK }],
  ["v2.AddPermissionToRole", "POST", (f) => `/api/v2/roles/${f.roleId}/permissions`, (f) => ({ data: { type: "permissions", id: f.permId } }), { otherorg: 404 }],
  ["v2.RemovePermissionFromRole", "DELETE", (f) => `/api/v2/roles/${f.roleId}/permissions`, (f) => ({ data: { type: "permissions", id: f.permId } }), { otherorg: 404 }],
  ["v2.ListRoleUsers", "GET", (f) => `/api/v2/roles/${f.roleId}/users`, null, { otherorg: 404, peer: OK }],
  ["v2.AddUserToRole", "POST", (f) => `/api/v2/roles/${f.roleId}/users`, (f) => ({ data: { type: "users", id: f.userId } }), { otherorg: 404 }],
  ["v2.RemoveUserFromRole", "DELETE", (f) => `/api/v2/roles/${f.roleId}/users`, (f) => ({ data: { type: "users", id: f.userId } }), { otherorg: 404 }],
  ["v2.ListPermissions", "GET", () => "/api/v2/permissions", null, { otherorg: OK, peer: OK }],
  // the Audit Trail API (audit_logs_read): another org's admin reads its own org's trail
  ["v2.ListAuditLogs", "GET", () => "/api/v2/audit/events?filter%5Bfrom%5D=now-1h", null, { otherorg: OK }],
  ["v2.SearchAuditLogs", "POST", () => "/api/v2/audit/events/search", () => ({ filter: { query: "*", from: "now-1h" } }), { otherorg: OK }],
];

const CALLERS = ["none", "wrong", "revoked", "expired", "disabled", "otherorg", "peer", "scoped", "admin"];

let srv, org2, peer, headersOf;

/** Creates a fixture object as the admin; fails loudly if it cannot. */
async function make(path, body) {
  const r = await rawJson("POST", path, srv.keyHeaders(), body);
  assert.ok(r.status === 200 || r.status === 201, `fixture ${path}: ${r.status} ${r.body.slice(0, 200)}`);
  return r.json.data;
}

async function rawJson(method, path, headers, body) {
  const r = await srv.raw(method, path, { headers: { ...headers, "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
  if (r.json?.data?.attributes?.key) srv.remember(r.json.data.attributes.key);
  if (r.json?.api_key?.key) srv.remember(r.json.api_key.key);
  if (r.json?.application_key?.hash) srv.remember(r.json.application_key.hash);
  return r;
}

let fixtureCount = 0;

/** Fresh objects of this org (owned by the admin) for one row and caller;
 * their emails are new each time (an org's emails are unique). */
async function fixtures() {
  const n = ++fixtureCount;
  const apiKey = await make("/api/v2/api_keys", { data: { type: "api_keys", attributes: { name: "fx" } } });
  const appK = await make("/api/v2/current_user/application_keys", appKey("fx"));
  const patR = await make("/api/v2/personal_access_tokens", pat("fx", ["dashboards_read"]));
  const sa = await make("/api/v2/service_accounts", { data: { type: "users", attributes: { email: `fx-${n}@one.example`, service_account: true } } });
  const sat = await make(`/api/v2/service_accounts/${sa.id}/access_tokens`, { data: { type: "service_access_tokens", attributes: { name: "fx", scopes: ["dashboards_read"] } } });
  const saKey = await make(`/api/v2/service_accounts/${sa.id}/application_keys`, appKey("fx"));
  const user = await make("/api/v2/users", { data: { type: "users", attributes: { email: `fx-user-${n}@one.example` } } });
  const role = await make("/api/v2/roles", { data: { type: "roles", attributes: { name: `fx ${Math.random()}` } } });
  await make(`/api/v2/roles/${role.id}/users`, { data: { type: "users", id: user.id } });
  const invitation = (await make("/api/v2/user_invitations", { data: [{ type: "user_invitations", relationships: { user: { data: { type: "users", id: user.id } } } }] }))[0];
  return {
    invitationId: invitation.id,
    apiKeyId: apiKey.id, apiKeyValue: apiKey.attributes.key, appKeyId: appK.id, appKeyValue: appK.attributes.key,
    patId: patR.id, saId: sa.id, satId: sat.id, saKeyId: saKey.id, userId: user.id, roleId: role.id, permId: headersOf.permId,
  };
}

before(async () => {
  // The matrix fails hundreds of authentications on purpose: no limit on that here. It also
  // sends thousands of requests a second with the admin's key, more than the quarter of the
  // org's budget one credential gets by default (limits.test.mjs tests that share).
  srv = await new Server().start("--max-api-keys", "1000", "--rate-limit-auth-failures", "0",
    "--rate-limit-credential-share", "100");
  org2 = srv.addOrg("Org Two", "admin@two.example");
  peer = srv.addUser(srv.admin, "peer@one.example", ["user_app_keys"]);
  const gone = srv.addUser(srv.admin, "gone@one.example", ["user_app_keys", "api_keys_read"]);
  const h = srv.keyHeaders();
  const revokedTok = (await rawJson("POST", "/api/v2/personal_access_tokens", h, pat("revoked", ["api_keys_read"]))).json.data;
  await srv.raw("DELETE", `/api/v2/personal_access_tokens/${revokedTok.id}`, { headers: h });
  const scopedTok = (await rawJson("POST", "/api/v2/personal_access_tokens", h, pat("scoped", ["dashboards_read"]))).json.data;
  // An expired token: a SAT of a service account holding the admin's role, expiring in 2 s.
  const roleId = (await srv.raw("GET", "/api/v2/roles?filter=Admin", { headers: h })).json.data[0].id;
  const sa = (await rawJson("POST", "/api/v2/service_accounts", h, { data: { type: "users", attributes: { email: "exp@one.example", service_account: true }, relationships: { roles: { data: [{ id: roleId, type: "roles" }] } } } })).json.data;
  const expiring = (await rawJson("POST", `/api/v2/service_accounts/${sa.id}/access_tokens`, h, { data: { type: "service_access_tokens", attributes: { name: "exp", scopes: ["api_keys_read"], expires_at: new Date(Date.now() + 2000).toISOString() } } })).json.data;
  await srv.raw("DELETE", `/api/v2/users/${gone.user_id}`, { headers: h });
  const perms = (await srv.raw("GET", "/api/v2/permissions", { headers: h })).json.data;
  headersOf = {
    none: {},
    wrong: { "DD-API-KEY": "0".repeat(32), "DD-APPLICATION-KEY": "0".repeat(40) },
    revoked: { Authorization: `Bearer ${revokedTok.attributes.key}` },
    expired: { Authorization: `Bearer ${expiring.attributes.key}` },
    disabled: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": gone.app_key },
    otherorg: srv.keyHeaders(org2),
    peer: srv.keyHeaders(peer),
    scoped: { Authorization: `Bearer ${scopedTok.attributes.key}` },
    admin: h,
    permId: perms.find((p) => p.attributes.name === "dashboards_read").id,
  };
  await new Promise((r) => setTimeout(r, Math.max(0, new Date(expiring.attributes.expires_at) - Date.now()) + 200));
});

after(async () => {
  await srv.stop();
});

test("the matrix covers every operation of the spec", async () => {
  const { operations } = await import("./contract.mjs");
  const specIds = operations().ops.map((o) => `${o.version}.${o.operationId}`).sort();
  assert.deepEqual(ROWS.map((r) => r[0]).sort(), specIds);
});

test("a malformed id in any path answers 4xx with an error body, never 5xx or a dropped connection", async () => {
  const problems = [];
  // (dot segments are left out: the client resolves them before sending)
  const bad = ["x", "%00", "%ff%fe", "a".repeat(128), "a".repeat(129), "00000000-0000-4000-8000-00000000000Z", "%20", "%2F"];
  for (const [op, method, path, body] of ROWS) {
    if (path.length === 0) continue; // no id in this path
    for (const id of bad) {
      const f = new Proxy({}, { get: () => id });
      let r;
      try {
        r = await rawJson(method, path(f), headersOf.admin, body ? body(f) : null);
      } catch (e) {
        problems.push(`${op} with id ${id}: ${e.code || e.message}`);
        continue;
      }
      if (r.status < 400 || r.status >= 500) problems.push(`${op} with id ${id}: ${r.status}`);
      else if (!(r.json && Array.isArray(r.json.errors))) problems.push(`${op} with id ${id}: error body is not {errors:[...]}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("every operation answers every caller with the expected status", async () => {
  const problems = [];
  for (const [op, method, path, body, overrides] of ROWS) {
    for (const caller of CALLERS) {
      const f = await fixtures();
      const want = caller === "admin" ? OK : overrides[caller] ?? 403;
      const r = await rawJson(method, path(f), headersOf[caller], body ? body(f) : null);
      const got = r.status >= 200 && r.status < 300 ? OK : r.status;
      if (got !== want) problems.push(`${op} as ${caller}: ${r.status} (expected ${want}) ${r.body.slice(0, 100)}`);
      if (got !== OK && !(r.json && Array.isArray(r.json.errors))) problems.push(`${op} as ${caller}: error body is not {errors:[...]}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("keyhold's probes (/healthz, /readyz) answer every caller alike, credentials or not, and say nothing of them", async () => {
  for (const path of ["/healthz", "/readyz"]) {
    const answers = new Set();
    for (const caller of CALLERS) {
      const r = await rawJson("GET", path, headersOf[caller]);
      assert.equal(r.status, 200, `${path} as ${caller}`);
      answers.add(r.body);
    }
    assert.deepEqual([...answers], ['{"status":"ok"}'], `${path}: one answer for every caller`);
  }
});
