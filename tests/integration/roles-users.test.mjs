// roles-users.test.mjs - the rest of Datadog's Roles and Users APIs through
// the official client: role templates, cloning, managed roles that refuse
// changes, receives_permissions_from, role users and user_count, user
// invitations (stored and audited, never mailed), a user's orgs and
// effective permissions, Pending users, and user list filters and paging.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, v2, expectStatus } from "./helpers.mjs";

const NONE = "00000000-0000-4000-8000-000000000000";
let srv, roles, users, perms;

before(async () => {
  srv = await new Server().start();
  const conf = srv.config();
  conf.unstableOperations["v2.listRoleTemplates"] = true;
  roles = new v2.RolesApi(conf);
  users = new v2.UsersApi(conf);
  perms = Object.fromEntries((await roles.listPermissions()).data.map((p) => [p.attributes.name, p]));
});

after(async () => {
  await srv.stop();
});

const managedRole = async (name) => (await roles.listRoles({ filter: name })).data.find((r) => r.attributes.name === name);
const permNames = async (roleId) => (await roles.listRolePermissions({ roleId })).data.map((p) => p.attributes.name).sort();
const isManaged = (r) => r.attributes.additionalProperties?.managed ?? r.attributes.managed;

test("role templates are the managed roles, and each can be cloned", async () => {
  const templates = (await roles.listRoleTemplates()).data;
  assert.deepEqual(templates.map((t) => t.attributes.name).sort(),
    ["Datadog Admin Role", "Datadog Read Only Role", "Datadog Standard Role"]);
  for (const t of templates) {
    assert.equal(t.type, "roles");
    assert.ok(t.attributes.description.length > 10);
    const source = await roles.getRole({ roleId: t.id });
    assert.equal(source.data.attributes.name, t.attributes.name);
  }
});

test("cloning copies the permissions into a new, changeable role", async () => {
  const std = await managedRole("Datadog Standard Role");
  assert.equal(isManaged(std), true);
  const clone = (await roles.cloneRole({ roleId: std.id, body: { data: { type: "roles", attributes: { name: "Std clone" } } } })).data;
  assert.equal(clone.attributes.name, "Std clone");
  assert.notEqual(clone.id, std.id);
  assert.ok(!isManaged(clone));
  assert.deepEqual(await permNames(clone.id), await permNames(std.id));
  // The clone can be changed; the source stays as it was.
  await roles.removePermissionFromRole({ roleId: clone.id, body: { data: { type: "permissions", id: perms.dashboards_write.id } } });
  assert.ok(!(await permNames(clone.id)).includes("dashboards_write"));
  assert.ok((await permNames(std.id)).includes("dashboards_write"));
  // Datadog's errors.
  const dup = await expectStatus(roles.cloneRole({ roleId: std.id, body: { data: { type: "roles", attributes: { name: "Std clone" } } } }), 409);
  assert.deepEqual(dup.errors, ["A role with the same name already exists"]);
  const blank = await expectStatus(roles.cloneRole({ roleId: std.id, body: { data: { type: "roles", attributes: { name: "    " } } } }), 400);
  assert.deepEqual(blank.errors, ["Role names cannot be only whitespace"]);
  const missing = await srv.raw("POST", `/api/v2/roles/${std.id}/clone`, { headers: { ...srv.keyHeaders(), "content-type": "application/json" },
    body: JSON.stringify({ data: { type: "roles", attributes: {} } }) });
  assert.equal(missing.status, 400);
  assert.match(missing.json.errors[0], /name/);
  await expectStatus(roles.cloneRole({ roleId: NONE, body: { data: { type: "roles", attributes: { name: "x" } } } }), 404);
});

test("managed roles refuse changes through the API but take members", async () => {
  const ro = await managedRole("Datadog Read Only Role");
  const before = await permNames(ro.id);
  const changes = [
    () => roles.updateRole({ roleId: ro.id, body: { data: { type: "roles", id: ro.id, attributes: { name: "Mine now" } } } }),
    () => roles.addPermissionToRole({ roleId: ro.id, body: { data: { type: "permissions", id: perms.api_keys_write.id } } }),
    () => roles.removePermissionFromRole({ roleId: ro.id, body: { data: { type: "permissions", id: perms.dashboards_read.id } } }),
  ];
  for (const c of changes) {
    const body = await expectStatus(c(), 400);
    assert.match(body.errors[0], /managed role/);
  }
  const del = await expectStatus(roles.deleteRole({ roleId: ro.id }), 403); // DeleteRole declares no 400
  assert.match(del.errors[0], /managed role/);
  assert.deepEqual(await permNames(ro.id), before);
  assert.equal((await roles.getRole({ roleId: ro.id })).data.attributes.name, "Datadog Read Only Role");
  // Its name stays taken: no custom role can pass for it.
  await expectStatus(roles.createRole({ body: { data: { type: "roles", attributes: { name: "Datadog Read Only Role" } } } }), 400);
  const u = (await users.createUser({ body: { data: { type: "users", attributes: { email: "member@one.example" } } } })).data;
  const members = await roles.addUserToRole({ roleId: ro.id, body: { data: { type: "users", id: u.id } } });
  assert.ok(members.data.some((m) => m.id === u.id));
  assert.equal((await roles.getRole({ roleId: ro.id })).data.attributes.userCount, 1);
  await roles.removeUserFromRole({ roleId: ro.id, body: { data: { type: "users", id: u.id } } });
  assert.equal((await roles.getRole({ roleId: ro.id })).data.attributes.userCount, 0);
});

test("receives_permissions_from is kept and answered; only managed role names are accepted", async () => {
  const r = (await roles.createRole({ body: { data: { type: "roles", attributes: { name: "Follower",
    receivesPermissionsFrom: ["Datadog Read Only Role"] } } } })).data;
  assert.deepEqual(r.attributes.receivesPermissionsFrom, ["Datadog Read Only Role"]);
  assert.deepEqual((await roles.getRole({ roleId: r.id })).data.attributes.receivesPermissionsFrom, ["Datadog Read Only Role"]);
  const upd = await roles.updateRole({ roleId: r.id, body: { data: { type: "roles", id: r.id, attributes: { receivesPermissionsFrom: [] } } } });
  assert.equal(upd.data.attributes.receivesPermissionsFrom, undefined);
  await expectStatus(roles.createRole({ body: { data: { type: "roles", attributes: { name: "Bad follower",
    receivesPermissionsFrom: ["Some Custom Role"] } } } }), 400);
});

test("role users: list with filter, sort and paging; user_count follows membership", async () => {
  const role = (await roles.createRole({ body: { data: { type: "roles", attributes: { name: "Team" } } } })).data;
  const made = [];
  for (const name of ["Cy", "Ann", "Bo"]) {
    const u = (await users.createUser({ body: { data: { type: "users", attributes: { email: `${name.toLowerCase()}@team.example`, name } } } })).data;
    await roles.addUserToRole({ roleId: role.id, body: { data: { type: "users", id: u.id } } });
    made.push(u);
  }
  const listed = await roles.listRoleUsers({ roleId: role.id, sort: "name", pageSize: 2 });
  assert.deepEqual(listed.data.map((u) => u.attributes.name), ["Ann", "Bo"]);
  assert.equal(listed.meta.page.totalFilteredCount, 3);
  const page2 = await roles.listRoleUsers({ roleId: role.id, sort: "name", pageSize: 2, pageNumber: 1 });
  assert.deepEqual(page2.data.map((u) => u.attributes.name), ["Cy"]);
  const desc = await roles.listRoleUsers({ roleId: role.id, sort: "-name" });
  assert.deepEqual(desc.data.map((u) => u.attributes.name), ["Cy", "Bo", "Ann"]);
  const filtered = await roles.listRoleUsers({ roleId: role.id, filter: "bo@" });
  assert.deepEqual(filtered.data.map((u) => u.attributes.name), ["Bo"]);
  assert.equal((await roles.getRole({ roleId: role.id })).data.attributes.userCount, 3);
  const sortedRoles = (await roles.listRoles({ sort: "-user_count", pageSize: 100 })).data.map((r) => r.attributes.userCount);
  assert.deepEqual(sortedRoles, [...sortedRoles].sort((a, b) => b - a));
  const after = await roles.removeUserFromRole({ roleId: role.id, body: { data: { type: "users", id: made[0].id } } });
  assert.deepEqual(after.data.map((u) => u.id).sort(), [made[1].id, made[2].id].sort());
  assert.equal((await roles.getRole({ roleId: role.id })).data.attributes.userCount, 2);
  await expectStatus(roles.listRoleUsers({ roleId: NONE }), 404);
});

test("a user created through the API is Pending; invitations are stored, answered and audited", async () => {
  const u = (await users.createUser({ body: { data: { type: "users", attributes: { email: "Invitee@One.Example", name: "Invitee" } } } })).data;
  assert.equal(u.attributes.status, "Pending");
  assert.equal(u.attributes.verified, false);
  assert.match(u.attributes.icon, /^https:\/\/secure\.gravatar\.com\/avatar\/[0-9a-f]{32}\?s=48&d=retro$/);
  assert.equal(u.attributes.additionalProperties?.uuid ?? u.attributes.uuid, u.id);
  const pending = await users.listUsers({ filterStatus: "Pending", pageSize: 100 });
  assert.ok(pending.data.some((x) => x.id === u.id));
  assert.ok(pending.data.every((x) => x.attributes.status === "Pending"));
  const active = await users.listUsers({ filterStatus: "Active", pageSize: 100 });
  assert.ok(active.data.some((x) => x.id === srv.admin.user_id) && !active.data.some((x) => x.id === u.id));
  const both = await users.listUsers({ filterStatus: "Active,Pending", pageSize: 100 });
  assert.equal(both.meta.page.totalFilteredCount, active.meta.page.totalFilteredCount + pending.meta.page.totalFilteredCount);

  const sent = (await users.sendInvitations({ body: { data: [{ type: "user_invitations",
    relationships: { user: { data: { type: "users", id: u.id } } } }] } })).data;
  assert.equal(sent.length, 1);
  const inv = sent[0];
  assert.equal(inv.type, "user_invitations");
  assert.equal(inv.attributes.uuid, inv.id);
  assert.equal(inv.relationships.user.data.id, u.id);
  assert.ok(inv.attributes.expiresAt > inv.attributes.createdAt);
  const got = (await users.getInvitation({ userInvitationUuid: inv.id })).data;
  assert.equal(got.id, inv.id);
  assert.equal(got.relationships.user.data.id, u.id);
  await expectStatus(users.getInvitation({ userInvitationUuid: NONE }), 404);
  await expectStatus(users.sendInvitations({ body: { data: [] } }), 400);
  await expectStatus(users.sendInvitations({ body: { data: [{ type: "user_invitations",
    relationships: { user: { data: { type: "users", id: NONE } } } }] } }), 400);
  // Another org cannot read it.
  const two = srv.addOrg("Org Two", "admin@two.example");
  await expectStatus(new v2.UsersApi(srv.config(two)).getInvitation({ userInvitationUuid: inv.id }), 404);
  // Nothing was mailed; the audit trail has it.
  const trail = JSON.parse(srv.cli("audit", "--db", srv.db, "--json"));
  const events = Array.isArray(trail) ? trail : trail.events;
  assert.ok(events.some((e) => e.action === "created" && e.target_kind === "user_invitation" && e.target_id === inv.id));
});

test("a user's orgs and effective permissions", async () => {
  const orgs = await users.listUserOrganizations({ userId: srv.admin.user_id });
  assert.equal(orgs.data.id, srv.admin.user_id);
  assert.equal(orgs.included.length, 1);
  assert.equal(orgs.included[0].type, "orgs");
  assert.equal(orgs.included[0].id, srv.admin.org_id);
  assert.equal(orgs.included[0].attributes.name, "Org One");
  await expectStatus(users.listUserOrganizations({ userId: NONE }), 404);
  // Another user's orgs need user_access_read, which a credential's scopes can leave out; one's own do not.
  const pat = (await new v2.KeyManagementApi(srv.config()).createPersonalAccessToken({ body: { data: { type: "personal_access_tokens",
    attributes: { name: "orgs", scopes: ["dashboards_read"], expiresAt: new Date(Date.now() + 48 * 3600e3) } } } })).data;
  const scoped = new v2.UsersApi(srv.bearer(srv.remember(pat.attributes.key)));
  assert.equal((await scoped.listUserOrganizations({ userId: srv.admin.user_id })).data.id, srv.admin.user_id);

  const mine = (await users.listUserPermissions({ userId: srv.admin.user_id })).data;
  assert.equal(mine.length, Object.keys(perms).length);
  const carol = srv.addUser(srv.admin, "carol@one.example", ["api_keys_read", "dashboards_read"]);
  const extra = (await roles.createRole({ body: { data: { type: "roles", attributes: { name: "Extra" },
    relationships: { permissions: { data: [{ type: "permissions", id: perms.monitors_write.id }] } } } } })).data;
  await roles.addUserToRole({ roleId: extra.id, body: { data: { type: "users", id: carol.user_id } } });
  const theirs = (await users.listUserPermissions({ userId: carol.user_id })).data.map((p) => p.attributes.name);
  const expected = new Set(["api_keys_read", "dashboards_read", "monitors_write",
    ...Object.values(perms).filter((p) => p.attributes.restricted).map((p) => p.attributes.name)]);
  assert.deepEqual(theirs.sort(), [...expected].sort());
  await expectStatus(users.listUserPermissions({ userId: NONE }), 404);
  await expectStatus(scoped.listUserOrganizations({ userId: carol.user_id }), 403);
  // Any user of the org may read its own orgs (x-permission OPEN); another org's may not.
  const asCarol = new v2.UsersApi(srv.config(carol));
  assert.equal((await asCarol.listUserOrganizations({ userId: carol.user_id })).included[0].id, srv.admin.org_id);
  const two = srv.addOrg("Org Three", "admin@three.example");
  await expectStatus(new v2.UsersApi(srv.config(two)).listUserOrganizations({ userId: carol.user_id }), 404);
});

test("listing users page by page with the client's paginator visits each user once", async () => {
  const seen = [];
  for await (const u of users.listUsersWithPagination({ pageSize: 2 })) seen.push(u.id);
  const all = await users.listUsers({ pageSize: 100 });
  assert.equal(seen.length, all.meta.page.totalCount);
  assert.equal(new Set(seen).size, seen.length);
});
