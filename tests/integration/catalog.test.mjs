// catalog.test.mjs - Datadog's permission catalogue as keyhold serves it:
// GET /api/v2/permissions answers exactly the records of the contract's
// permissions.json (Datadog's own recorded answer), every one of them works
// as a scope of an application key, a PAT and a SAT, and an unknown name is
// refused with a message naming it. Also: the managed roles every org gets.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Server, v2, expectStatus, hoursFromNow } from "./helpers.mjs";

const SPEC_DIR = resolve(process.env.KEYHOLD_SPEC_DIR || new URL("../../../shared/spec", import.meta.url).pathname);
const recorded = JSON.parse(readFileSync(`${SPEC_DIR}/permissions.json`, "utf8")).data;
const names = recorded.map((p) => p.attributes.name);

let srv, keys, roles, users, sa;

before(async () => {
  srv = await new Server().start();
  const conf = srv.config();
  keys = new v2.KeyManagementApi(conf);
  roles = new v2.RolesApi(conf);
  users = new v2.UsersApi(conf);
  sa = new v2.ServiceAccountsApi(conf);
});

after(async () => {
  await srv.stop();
});

test("the repository's copy of the catalogue is the contract's", () => {
  const copy = readFileSync(new URL("../../data/permissions.json", import.meta.url), "utf8");
  assert.equal(copy, readFileSync(`${SPEC_DIR}/permissions.json`, "utf8"));
});

test("GET /api/v2/permissions answers Datadog's records: same ids, names, groups and attributes, same order", async () => {
  const r = await srv.raw("GET", "/api/v2/permissions", { headers: srv.keyHeaders() });
  assert.equal(r.status, 200);
  assert.equal(r.json.data.length, recorded.length);
  assert.deepEqual(r.json.data, recorded);
  // and through the official client
  const listed = (await roles.listPermissions()).data;
  assert.deepEqual(listed.map((p) => [p.id, p.attributes.name, p.attributes.groupName]),
    recorded.map((p) => [p.id, p.attributes.name, p.attributes.group_name]));
});

test("include_scopes=true adds the permissions that are only scopes, with Datadog's records", async () => {
  const all = (await roles.listPermissions({ includeScopes: true })).data;
  assert.equal(all.length, recorded.length + 1);
  const extra = all.find((p) => p.attributes.name === "user_access_read");
  assert.equal(extra.id, "68d1ed9e-33ad-11ed-8a72-da7ad0900002");
  assert.equal(extra.attributes.restricted, true);
  assert.deepEqual(all.slice(0, recorded.length).map((p) => p.id), recorded.map((p) => p.id));
  assert.equal((await roles.listPermissions({ includeScopes: false })).data.length, recorded.length);
  const bad = await srv.raw("GET", "/api/v2/permissions?include_scopes=maybe", { headers: srv.keyHeaders() });
  assert.equal(bad.status, 400);
  assert.match(bad.json.errors[0], /include_scopes/);
  // A scope, not a role permission: a role cannot be granted it.
  const custom = (await roles.createRole({ body: { data: { type: "roles", attributes: { name: "scope holder" } } } })).data;
  const refused = await expectStatus(roles.addPermissionToRole({ roleId: custom.id, body: { data: { type: "permissions", id: extra.id } } }), 400);
  assert.match(refused.errors[0], /not found/);
});

test("every catalogue permission is a valid scope of an application key, a PAT and a SAT", async () => {
  const appKey = (await keys.createCurrentUserApplicationKey({ body: { data: { type: "application_keys",
    attributes: { name: "every scope", scopes: names } } } })).data;
  srv.remember(appKey.attributes.key);
  assert.deepEqual([...appKey.attributes.scopes].sort(), [...names].sort());
  const pat = (await keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
    attributes: { name: "every scope", scopes: names, expiresAt: hoursFromNow(48) } } } })).data;
  srv.remember(pat.attributes.key);
  assert.equal(pat.attributes.scopes.length, names.length);
  const acct = (await sa.createServiceAccount({ body: { data: { type: "users", attributes: { email: "sat@one.example", serviceAccount: true },
    relationships: { roles: { data: [{ id: (await roles.listRoles({ filter: "Datadog Admin Role" })).data[0].id, type: "roles" }] } } } } })).data;
  const sat = (await sa.createServiceAccountAccessToken({ serviceAccountId: acct.id, body: { data: { type: "service_access_tokens",
    attributes: { name: "every scope", scopes: names } } } })).data;
  srv.remember(sat.attributes.key);
  assert.equal(sat.attributes.scopes.length, names.length);
  // The client's own scenario: three dashboard permissions keyhold once refused.
  const dash = (await keys.createCurrentUserApplicationKey({ body: { data: { type: "application_keys",
    attributes: { name: "dashboards", scopes: ["dashboards_read", "dashboards_write", "dashboards_public_share"] } } } })).data;
  srv.remember(dash.attributes.key);
  assert.deepEqual(dash.attributes.scopes, ["dashboards_read", "dashboards_write", "dashboards_public_share"]);
  // A token carrying every scope still does what its owner may.
  const asPat = new v2.KeyManagementApi(srv.bearer(pat.attributes.key));
  await asPat.listAPIKeys({});
});

test("an unknown scope is refused with a message naming it", async () => {
  const body = await expectStatus(keys.createCurrentUserApplicationKey({ body: { data: { type: "application_keys",
    attributes: { name: "bad", scopes: ["dashboards_read", "dashboards_levitate"] } } } }), 400);
  assert.match(body.errors[0], /dashboards_levitate/);
  const tok = await expectStatus(keys.createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
    attributes: { name: "bad", scopes: ["not_a_permission"], expiresAt: hoursFromNow(48) } } } }), 400);
  assert.match(tok.errors[0], /not_a_permission/);
  // A permission id is not a scope name (Terraform's scopes must be names).
  const byId = await expectStatus(keys.createCurrentUserApplicationKey({ body: { data: { type: "application_keys",
    attributes: { name: "bad", scopes: [recorded[0].id] } } } }), 400);
  assert.match(byId.errors[0], new RegExp(recorded[0].id));
});

test("every org has Datadog's three managed roles, and its admin holds the Admin role", async () => {
  const list = (await roles.listRoles({ pageSize: 100 })).data;
  const managed = Object.fromEntries(list.filter((r) => r.attributes.additionalProperties?.managed ?? r.attributes.managed).map((r) => [r.attributes.name, r]));
  assert.deepEqual(Object.keys(managed).sort(), ["Datadog Admin Role", "Datadog Read Only Role", "Datadog Standard Role"]);
  const idsOf = async (role) => new Set((await roles.listRolePermissions({ roleId: role.id })).data.map((p) => p.attributes.name));
  const admin = await idsOf(managed["Datadog Admin Role"]);
  const standard = await idsOf(managed["Datadog Standard Role"]);
  const readOnly = await idsOf(managed["Datadog Read Only Role"]);
  assert.equal(admin.size, names.length, "Admin holds every permission");
  for (const p of readOnly) assert.ok(standard.has(p), `Standard inherits ${p} from Read Only`);
  for (const p of standard) assert.ok(admin.has(p), `Admin inherits ${p} from Standard`);
  const byName = Object.fromEntries(recorded.map((p) => [p.attributes.name, p.attributes]));
  for (const p of readOnly) assert.equal(byName[p].display_type, "read", `Read Only holds only reads: ${p}`);
  for (const p of ["dashboards_read", "monitors_read", "logs_read_data", "process_tags_read"]) assert.ok(readOnly.has(p), p);
  for (const p of ["dashboards_write", "monitors_write", "user_app_keys", "user_access_invite"]) {
    assert.ok(standard.has(p), p);
    assert.ok(!readOnly.has(p), p);
  }
  for (const p of ["api_keys_read", "api_keys_write", "org_app_keys_read", "user_access_manage", "service_account_write", "billing_read", "admin"]) {
    assert.ok(admin.has(p), p);
    assert.ok(!standard.has(p), `${p} is Admin only`);
  }
  const me = (await users.getUser({ userId: srv.admin.user_id })).data;
  assert.deepEqual(me.relationships.roles.data.map((r) => r.id), [managed["Datadog Admin Role"].id]);
  const members = (await roles.listRoleUsers({ roleId: managed["Datadog Admin Role"].id, pageSize: 100 })).data;
  assert.ok(members.some((u) => u.id === srv.admin.user_id));
  assert.equal(managed["Datadog Admin Role"].attributes.userCount, members.length);
  // The other org's are its own.
  const two = srv.addOrg("Org Two", "admin@two.example");
  const theirs = (await new v2.RolesApi(srv.config(two)).listRoles({ pageSize: 100 })).data;
  assert.equal(theirs.length, 3);
  assert.ok(theirs.every((r) => !list.some((m) => m.id === r.id)));
});

test("keyhold user add --role gives a managed role; its permissions are the role's", async () => {
  const reader = srv.cliJson("user", "add", "--db", srv.db, "--org", srv.admin.org_id, "--email", "ro@one.example",
    "--role", "Datadog Read Only Role");
  const asReader = { keys: new v2.KeyManagementApi(srv.config({ ...reader, api_key: srv.admin.api_key })),
    users: new v2.UsersApi(srv.config({ ...reader, api_key: srv.admin.api_key })) };
  await expectStatus(asReader.keys.listAPIKeys({}), 403); // api_keys_read is Admin only
  const perms = (await asReader.users.listUserPermissions({ userId: reader.user_id })).data.map((p) => p.attributes.displayType);
  assert.ok(perms.length > 50 && perms.every((t) => t === "read"));
  const none = srv.cli.bind(srv);
  assert.throws(() => none("user", "add", "--db", srv.db, "--org", srv.admin.org_id, "--email", "x@one.example", "--role", "Astronauts"),
    /no role named 'Astronauts'/);
});
