// users.js - users and roles: the users list (filter, status, paging),
// invite, a user's roles and permissions, disable; the roles list with each
// role's permissions. Every change is the API's to allow: a role the caller
// may not grant is refused with the API's message.
import { api, query } from "./api.js";
import { announce, confirmAction, dialog, field, fmtDate, h, pageHeader, pagedTable, rowButton, uid } from "./ui.js";

const roleNames = new Map(); // role id -> Promise of its name

function roleName(id) {
  if (!roleNames.has(id)) roleNames.set(id, api("GET", `/api/v2/roles/${encodeURIComponent(id)}`).then((r) => r.data.attributes.name).catch(() => id));
  return roleNames.get(id);
}

function rolesCell(u) {
  const ids = (u.relationships?.roles?.data || []).map((r) => r.id);
  const span = h("span", { text: ids.length ? "…" : "none" });
  Promise.all(ids.map(roleName)).then((names) => { if (names.length) span.textContent = names.join(", "); });
  return span;
}

async function invite(onDone) {
  const email = h("input", { type: "email", required: true, autocomplete: "off" });
  const name = h("input", { type: "text", autocomplete: "off" });
  const v = await dialog({ title: "Invite a user", body: [field("Email", email), field("Name (optional)", name),
    h("p", { class: "hint", text: "The user is created Pending and an invitation is recorded; keyhold sends no mail." })],
  actions: [{ label: "Cancel", value: "cancel" }, { label: "Invite", value: "submit" }],
  onSubmit: async () => {
    const attributes = { email: email.value.trim() };
    if (name.value.trim()) attributes.name = name.value.trim();
    const user = await api("POST", "/api/v2/users", { data: { type: "users", attributes } });
    await api("POST", "/api/v2/user_invitations", { data: [{ type: "user_invitations",
      relationships: { user: { data: { type: "users", id: user.data.id } } } }] });
  } });
  if (v === "submit") {
    announce(`${email.value.trim()} invited`);
    onDone();
  }
}

/** A dialog listing permission names (of a role or a user). */
async function showPermissions(title, path) {
  const res = await api("GET", path);
  const names = (res.data || []).map((p) => p.attributes.name).sort();
  await dialog({ title, body: names.length ? [h("ul", { class: "perm-list" }, names.map((n) => h("li", {}, h("code", { text: n }))))]
    : [h("p", { class: "state empty", text: "No permissions." })] });
}

async function editRoles(u, onDone) {
  const all = await api("GET", "/api/v2/roles?page[size]=100&sort=name");
  const held = new Set((u.relationships?.roles?.data || []).map((r) => r.id));
  const boxes = (all.data || []).map((r) => {
    const id = uid("role");
    return { role: r, box: h("input", { type: "checkbox", id, checked: held.has(r.id) }),
      label: h("label", { for: id, text: r.attributes.name }) };
  });
  const v = await dialog({ title: `Roles of ${u.attributes.name || u.attributes.email}`,
    body: [h("fieldset", {}, h("legend", { text: "Roles" }), boxes.map((b) => h("div", { class: "check" }, b.box, b.label)))],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save roles", value: "submit" }],
    onSubmit: async () => {
      for (const { role, box } of boxes) {
        const body = { data: { type: "users", id: u.id } };
        if (box.checked && !held.has(role.id)) await api("POST", `/api/v2/roles/${role.id}/users`, body);
        if (!box.checked && held.has(role.id)) await api("DELETE", `/api/v2/roles/${role.id}/users`, body);
      }
    } });
  if (v === "submit") {
    announce("Roles saved");
    onDone();
  }
}

function usersTable() {
  const filter = h("input", { type: "search", autocomplete: "off" });
  const status = h("select", {}, [["", "Any"], ["Active", "Active"], ["Pending", "Pending"], ["Disabled", "Disabled"]]
    .map(([v, t]) => h("option", { value: v, text: t })));
  const table = pagedTable({
    caption: "Users",
    empty: "No users match.",
    load: async (page, size) => {
      const res = await api("GET", `/api/v2/users${query({ "page[size]": size, "page[number]": page, sort: "name",
        filter: filter.value.trim(), "filter[status]": status.value })}`);
      return { rows: res.data || [], total: res.meta?.page?.total_filtered_count ?? res.meta?.page?.total_count };
    },
    columns: [
      { label: "Name", cell: (u) => u.attributes.name || "—" },
      { label: "Email", cell: (u) => u.attributes.email },
      { label: "Kind", cell: (u) => (u.attributes.service_account ? "Service account" : "Person") },
      { label: "Status", cell: (u) => u.attributes.status },
      { label: "Roles", cell: rolesCell },
      { label: "Created", cell: (u) => fmtDate(u.attributes.created_at) },
      { label: "Actions", cell: (u) => {
        const n = u.attributes.name || u.attributes.email;
        return h("div", { class: "row-actions" },
          rowButton("Roles", `Roles of ${n}`, () => editRoles(u, () => table.refresh())),
          rowButton("Permissions", `Permissions of ${n}`, () => showPermissions(`Permissions of ${n}`, `/api/v2/users/${encodeURIComponent(u.id)}/permissions`)),
          u.attributes.disabled ? null : rowButton("Disable", `Disable ${n}`, async () => {
            if (!await confirmAction(`Disable ${n}?`, ["Their keys and tokens stop working at once."], "Disable user")) return;
            await api("DELETE", `/api/v2/users/${encodeURIComponent(u.id)}`);
            announce(`${n} disabled`);
            table.refresh();
          }, "danger"));
      } },
    ],
  });
  const apply = (ev) => { ev?.preventDefault(); table.reload(0); };
  status.addEventListener("change", apply);
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter users", onsubmit: apply },
    field("Filter by name or email", filter), field("Status", status), h("button", { type: "submit", class: "secondary", text: "Apply" }));
  return { table, form };
}

function rolesTable() {
  return pagedTable({
    caption: "Roles",
    empty: "No roles.",
    load: async (page, size) => {
      const res = await api("GET", `/api/v2/roles${query({ "page[size]": size, "page[number]": page, sort: "name" })}`);
      return { rows: res.data || [], total: res.meta?.page?.total_filtered_count ?? res.meta?.page?.total_count };
    },
    columns: [
      { label: "Role", cell: (r) => h("span", {}, r.attributes.name, r.attributes.managed ? h("span", { class: "badge", text: "Managed" }) : null) },
      { label: "Users", cell: (r) => String(r.attributes.user_count ?? "") },
      { label: "Permissions", cell: (r) => String((r.relationships?.permissions?.data || []).length) },
      { label: "Actions", cell: (r) => rowButton("Permissions", `Permissions of ${r.attributes.name}`,
        () => showPermissions(`Permissions of ${r.attributes.name}`, `/api/v2/roles/${encodeURIComponent(r.id)}/permissions`)) },
    ],
  });
}

export function render(main) {
  const { table, form } = usersTable();
  const roles = rolesTable();
  main.append(
    pageHeader("Users and roles", "People and service accounts of the organization, and the roles that give them permissions.",
      h("button", { type: "button", class: "primary", text: "Invite a user", onclick: () => invite(() => table.reload(0)) })),
    h("section", { "aria-labelledby": "users-h" }, h("h2", { id: "users-h", text: "Users" }), form, table.element),
    h("section", { "aria-labelledby": "roles-h" }, h("h2", { id: "roles-h", text: "Roles" }), roles.element));
  table.reload(0);
  roles.reload(0);
}
