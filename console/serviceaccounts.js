// serviceaccounts.js - service accounts: create, disable, and one account's
// application keys and access tokens (#/service-accounts/<id>). Service
// accounts are users with service_account set; the users list has no
// filter for them, so each page of users shows the service accounts on it.
import { api, query } from "./api.js";
import { appKeyTable, createAppKey } from "./appkeys.js";
import { endCredential, rename, rotate } from "./credentials.js";
import { createToken } from "./tokens.js";
import { usageLines } from "./usage.js";
import { announce, confirmAction, dialog, field, fmtDate, h, pageHeader, pagedTable, rowButton } from "./ui.js";

async function createAccount(onDone) {
  const name = h("input", { type: "text", required: true, autocomplete: "off" });
  const email = h("input", { type: "email", required: true, autocomplete: "off" });
  const v = await dialog({ title: "New service account", body: [field("Name", name), field("Email", email, "Where notices about it go; no mail is sent.")],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Create service account", value: "submit" }],
    onSubmit: () => api("POST", "/api/v2/service_accounts", { data: { type: "users",
      attributes: { name: name.value.trim(), email: email.value.trim(), service_account: true } } }) });
  if (v === "submit") {
    announce(`Service account ${name.value.trim()} created`);
    onDone();
  }
}

function list(main, navigate) {
  const table = pagedTable({
    caption: "Service accounts",
    pageSize: 50,
    empty: "No service accounts yet. Create one with “New service account”.",
    load: async (page, size) => {
      const res = await api("GET", `/api/v2/users${query({ "page[size]": size, "page[number]": page, sort: "name" })}`);
      const users = res.data || [];
      return { rows: users.filter((u) => u.attributes.service_account), more: users.length === size };
    },
    columns: [
      { label: "Name", cell: (u) => h("a", { href: `#/service-accounts/${encodeURIComponent(u.id)}`, text: u.attributes.name || u.attributes.email }) },
      { label: "Email", cell: (u) => u.attributes.email },
      { label: "Status", cell: (u) => h("span", { class: `badge ${u.attributes.disabled ? "danger" : ""}`, text: u.attributes.disabled ? "Disabled" : u.attributes.status }) },
      { label: "Created", cell: (u) => fmtDate(u.attributes.created_at) },
      { label: "Actions", cell: (u) => h("div", { class: "row-actions" },
        rowButton("Keys and tokens", `Keys and tokens of ${u.attributes.name}`, () => navigate(`#/service-accounts/${encodeURIComponent(u.id)}`)),
        u.attributes.disabled ? null : rowButton("Disable", `Disable ${u.attributes.name}`, async () => {
          if (!await confirmAction(`Disable ${u.attributes.name}?`, ["Its application keys and tokens stop working at once."], "Disable service account")) return;
          await api("DELETE", `/api/v2/users/${encodeURIComponent(u.id)}`);
          announce(`${u.attributes.name} disabled`);
          table.refresh();
        }, "danger")) },
    ],
  });
  main.append(pageHeader("Service accounts", "Non-person users for automation, with their own keys and tokens.",
    h("button", { type: "button", class: "primary", text: "New service account", onclick: () => createAccount(() => table.reload(0)) })),
  table.element);
  table.reload(0);
}

async function detail(main, id) {
  const base = `/api/v2/service_accounts/${encodeURIComponent(id)}`;
  let name = id;
  try {
    const u = await api("GET", `/api/v2/users/${encodeURIComponent(id)}`);
    name = u.data.attributes.name || u.data.attributes.email;
  } catch { /* the lists below show the API's own message */ }
  const keys = appKeyTable(`${base}/application_keys`, { caption: `Application keys of ${name}` });
  const tokens = pagedTable({
    caption: `Access tokens of ${name}`,
    empty: "No access tokens yet.",
    load: async (page, size) => {
      const res = await api("GET", `${base}/access_tokens${query({ "page[size]": size, "page[number]": page })}`);
      return { rows: res.data || [], total: res.meta?.page?.total_filtered_count ?? (res.data || []).length };
    },
    columns: [
      { label: "Name", cell: (t) => t.attributes.name },
      { label: "Token", cell: (t) => h("code", { text: t.attributes.public_portion || "" }) },
      { label: "Scopes", cell: (t) => (t.attributes.scopes || []).join(", ") },
      { label: "Expires", cell: (t) => fmtDate(t.attributes.expires_at) },
      { label: "Last used", cell: (t) => fmtDate(t.attributes.last_used_at) },
      { label: "Actions", cell: (t) => {
        const n = t.attributes.name;
        const path = `${base}/access_tokens/${encodeURIComponent(t.id)}`;
        return h("div", { class: "row-actions" },
          rowButton("Rename", `Rename ${n}`, () => rename(n, n, path, (nm) => ({ data: { type: "service_access_tokens", id: t.id, attributes: { name: nm } } }))
            .then((ok) => ok && tokens.refresh())),
          rowButton("Rotate", `Rotate ${n}`, () => rotate(t.id, n, "token").then((ok) => ok && tokens.refresh())),
          rowButton("Revoke", `Revoke ${n}`, async () => {
            if (await endCredential({ id: t.id, path, title: `Revoke ${n}?`, label: "Revoke token", lines: [
              "Anything still using it is refused from now on.", ...await usageLines(t.id, t.attributes.last_used_at)] })) tokens.refresh();
          }, "danger"));
      } },
    ],
  });
  main.append(
    pageHeader(`Service account ${name}`, "Its application keys and access tokens.",
      h("a", { href: "#/service-accounts", class: "button secondary", text: "All service accounts" })),
    h("section", { "aria-labelledby": "sak-h" }, h("div", { class: "section-head" }, h("h2", { id: "sak-h", text: "Application keys" }),
      h("button", { type: "button", class: "secondary", text: "New application key", onclick: () => createAppKey(`${base}/application_keys`, () => keys.reload(0), ` for ${name}`) })),
    keys.element),
    h("section", { "aria-labelledby": "sat-h" }, h("div", { class: "section-head" }, h("h2", { id: "sat-h", text: "Access tokens" }),
      h("button", { type: "button", class: "secondary", text: "New access token", onclick: () => createToken(() => tokens.reload(0),
        { path: `${base}/access_tokens`, type: "service_access_tokens", whose: ` for ${name}` }) })),
    tokens.element));
  keys.reload(0);
  tokens.reload(0);
}

export function render(main, { param, navigate }) {
  if (param) return detail(main, param);
  return list(main, navigate);
}
