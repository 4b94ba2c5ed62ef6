// tokens.js - personal and service access tokens in one list, as
// GET /api/v2/personal_access_tokens serves them: Datadog's sort, filter and
// owner filter, one page at a time. Create (scopes from the catalog, an
// expiry), rename, change scopes, rotate, revoke.
import { api, query } from "./api.js";
import { endCredential, findUserId, ownerCell, rename, rotate } from "./credentials.js";
import { scopePicker } from "./scopes.js";
import { usageLines } from "./usage.js";
import { announce, dialog, field, fmtDate, h, pageHeader, pagedTable, rowButton, showSecret } from "./ui.js";

const SORTS = [["name", "Name, A to Z"], ["-name", "Name, Z to A"], ["-created_at", "Newest first"],
  ["created_at", "Oldest first"], ["expires_at", "Expiring soonest"], ["-expires_at", "Expiring last"],
  ["-last_used_at", "Recently used"], ["last_used_at", "Least recently used"]];

const isSat = (t) => t.type === "service_access_tokens";
const ownerOf = (t) => t.relationships?.owned_by?.data?.id;

/** Where a token is changed: a SAT under its service account, a PAT by itself. */
const tokenPath = (t) => isSat(t)
  ? `/api/v2/service_accounts/${encodeURIComponent(ownerOf(t))}/access_tokens/${encodeURIComponent(t.id)}`
  : `/api/v2/personal_access_tokens/${encodeURIComponent(t.id)}`;

/** A date `days` from now, as the API takes it. */
const daysAhead = (days) => new Date(Date.now() + days * 86400000).toISOString().replace(/\.\d+Z$/, "Z");

export async function createToken(onDone, { path = "/api/v2/personal_access_tokens", type = "personal_access_tokens", whose = "" } = {}) {
  const picker = await scopePicker();
  const name = h("input", { type: "text", required: true, maxlength: "255", autocomplete: "off" });
  // A PAT must expire (at most a year ahead); a SAT may also never expire.
  const sat = type === "service_access_tokens";
  const expiry = h("select", {}, [["30", "30 days"], ["90", "90 days"], ["180", "180 days"], ["365", "1 year"],
    ["custom", "On a date…"], ...(sat ? [["never", "Never"]] : [])].map(([v, t]) => h("option", { value: v, text: t, selected: v === "30" })));
  const date = h("input", { type: "date", min: daysAhead(1).slice(0, 10), max: daysAhead(365).slice(0, 10) });
  const dateField = field("Expiry date (UTC)", date);
  dateField.hidden = true;
  expiry.addEventListener("change", () => { dateField.hidden = expiry.value !== "custom"; });
  let created = null;
  const v = await dialog({
    title: `New access token${whose}`,
    body: [field("Name", name), field("Expires", expiry, "At most one year ahead."), dateField,
      h("h3", { text: "Scopes" }), h("p", { class: "hint", text: "The token can do only what its owner's roles allow and these scopes name." }), picker.element],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Create token", value: "submit" }],
    onSubmit: async () => {
      if (!picker.selected().length) throw new Error("Choose at least one scope.");
      const attrs = { name: name.value.trim(), scopes: picker.selected() };
      if (expiry.value === "custom" && !date.value) throw new Error("Choose an expiry date.");
      if (expiry.value !== "never") attrs.expires_at = expiry.value === "custom" ? `${date.value}T23:59:59Z` : daysAhead(Number(expiry.value));
      created = await api("POST", path, { data: { type, attributes: attrs } });
    },
  });
  if (v !== "submit" || !created) return;
  announce(`Token ${created.data.attributes.name} created`);
  await showSecret(`Token ${created.data.attributes.name} created`, created.data.attributes.key, "token");
  onDone();
}

async function changeScopes(t, onDone) {
  const picker = await scopePicker(t.attributes.scopes || []);
  const v = await dialog({ title: `Scopes of ${t.attributes.name}`, body: [picker.element],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Save scopes", value: "submit" }],
    onSubmit: () => {
      if (!picker.selected().length) throw new Error("A token needs at least one scope.");
      return api("PATCH", tokenPath(t), { data: { type: t.type, id: t.id, attributes: { scopes: picker.selected() } } });
    } });
  if (v === "submit") {
    announce("Scopes saved");
    onDone();
  }
}

async function revoke(t, onDone) {
  const a = t.attributes;
  // Who still uses it, so that nobody revokes a token a deployment depends on unawares.
  const ok = await endCredential({ id: t.id, path: tokenPath(t), title: `Revoke ${a.name}?`, label: "Revoke token", lines: [
    `Anything that still uses ${a.public_portion || "this token"} is refused from now on; this cannot be undone.`,
    ...await usageLines(t.id, a.last_used_at)] });
  if (ok) onDone();
}

/** The tokens list (also used, narrowed to one owner, by the service account page). */
export function tokenTable(params, refreshAll) {
  const table = pagedTable({
    caption: "Access tokens",
    empty: "No access tokens match. Create one with “New access token”.",
    load: async (page, size) => {
      const res = await api("GET", `/api/v2/personal_access_tokens${query({ "page[size]": size, "page[number]": page, ...params() })}`);
      return { rows: res.data || [], total: res.meta?.page?.total_filtered_count ?? 0 };
    },
    columns: [
      { label: "Name", cell: (t) => h("span", { class: "name", text: t.attributes.name }) },
      { label: "Kind", cell: (t) => h("span", { class: `badge ${isSat(t) ? "sat" : "pat"}`, text: isSat(t) ? "Service" : "Personal" }) },
      { label: "Owner", cell: (t) => ownerCell(ownerOf(t)) },
      { label: "Token", cell: (t) => h("code", { text: t.attributes.public_portion || "" }) },
      { label: "Scopes", cell: (t) => h("span", { class: "scopes-cell", text: (t.attributes.scopes || []).join(", ") }) },
      { label: "Created", cell: (t) => fmtDate(t.attributes.created_at) },
      { label: "Expires", cell: (t) => fmtDate(t.attributes.expires_at) },
      { label: "Last used", cell: (t) => fmtDate(t.attributes.last_used_at) },
      { label: "Actions", cell: (t) => {
        const n = t.attributes.name;
        const again = () => refreshAll();
        return h("div", { class: "row-actions" },
          rowButton("Rename", `Rename ${n}`, () => rename(n, n, tokenPath(t),
            (name) => ({ data: { type: t.type, id: t.id, attributes: { name } } })).then((ok) => ok && again())),
          rowButton("Scopes", `Change scopes of ${n}`, () => changeScopes(t, again)),
          rowButton("Rotate", `Rotate ${n}`, () => rotate(t.id, n, "token").then((ok) => ok && again())),
          rowButton("Revoke", `Revoke ${n}`, () => revoke(t, again), "danger"));
      } },
    ],
  });
  return table;
}

export function render(main) {
  const filter = h("input", { type: "search", name: "filter", autocomplete: "off" });
  const owners = h("datalist", { id: "owner-suggestions" });
  const owner = h("input", { type: "text", name: "owner", autocomplete: "off", placeholder: "email or name", list: "owner-suggestions" });
  // Suggestions as the owner is typed: ten users at most, from the users list's own filter.
  let typing;
  owner.addEventListener("input", () => {
    clearTimeout(typing);
    const text = owner.value.trim();
    if (text.length < 2) return;
    typing = setTimeout(async () => {
      const res = await api("GET", `/api/v2/users${query({ filter: text, "page[size]": 10 })}`).catch(() => ({ data: [] }));
      owners.replaceChildren(...(res.data || []).map((u) => h("option", { value: u.attributes.email, text: u.attributes.name || u.attributes.email })));
    }, 250);
  });
  const sort = h("select", { name: "sort" }, SORTS.map(([v, t]) => h("option", { value: v, text: t })));
  const problem = h("p", { class: "state error", role: "alert", hidden: true });
  let ownerId = "";
  const table = tokenTable(() => ({ sort: sort.value, filter: filter.value.trim(), "filter[owned_by]": ownerId }), () => table.refresh());
  const apply = async (ev) => {
    ev?.preventDefault();
    problem.hidden = true;
    try {
      ownerId = owner.value.trim() ? await findUserId(owner.value.trim()) : "";
    } catch (e) {
      problem.textContent = e.message;
      problem.hidden = false;
      return;
    }
    table.reload(0);
  };
  sort.addEventListener("change", apply);
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter access tokens", onsubmit: apply },
    field("Filter by name", filter), field("Owner", owner), owners, field("Sort", sort),
    h("button", { type: "submit", class: "secondary", text: "Apply" }));
  main.append(
    pageHeader("Access tokens", "Personal access tokens (PATs) and service access tokens (SATs) of the organization.",
      h("button", { type: "button", class: "primary", text: "New access token", onclick: () => createToken(() => table.reload(0)) })),
    form, problem, table.element);
  table.reload(0);
}
