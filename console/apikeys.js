// apikeys.js - the org's API keys (GET /api/v2/api_keys with
// include=created_by,modified_by): list with filter and sort, create,
// rename, rotate, delete; a key reported leaked is flagged.
import { api, query } from "./api.js";
import { endCredential, rename, rotate } from "./credentials.js";
import { usageLines } from "./usage.js";
import { announce, dialog, field, fmtDate, h, pageHeader, pagedTable, rowButton, showSecret } from "./ui.js";

const SORTS = [["-created_at", "Newest first"], ["created_at", "Oldest first"], ["name", "Name, A to Z"],
  ["-name", "Name, Z to A"], ["-last4", "Last 4, Z to A"], ["last4", "Last 4, A to Z"]];

/** The name or email of a user in the answer's `included`. */
function includedUser(res, rel) {
  const id = rel?.data?.id;
  const u = (res.included || []).find((x) => x.type === "users" && x.id === id);
  return u ? u.attributes.name || u.attributes.email : id || "—";
}

async function createKey(onDone) {
  const name = h("input", { type: "text", required: true, maxlength: "255", autocomplete: "off" });
  let created = null;
  const v = await dialog({ title: "New API key", body: [field("Name", name)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Create API key", value: "submit" }],
    onSubmit: async () => { created = await api("POST", "/api/v2/api_keys", { data: { type: "api_keys", attributes: { name: name.value.trim() } } }); } });
  if (v !== "submit" || !created) return;
  announce(`API key ${created.data.attributes.name} created`);
  await showSecret(`API key ${created.data.attributes.name} created`, created.data.attributes.key, "API key");
  onDone();
}

export function render(main) {
  const filter = h("input", { type: "search", autocomplete: "off" });
  const sort = h("select", {}, SORTS.map(([v, t]) => h("option", { value: v, text: t })));
  const table = pagedTable({
    caption: "API keys",
    empty: "No API keys match. Create one with “New API key”.",
    load: async (page, size) => {
      const res = await api("GET", `/api/v2/api_keys${query({ "page[size]": size, "page[number]": page, sort: sort.value,
        filter: filter.value.trim(), include: "created_by,modified_by" })}`);
      const rows = (res.data || []).map((k) => ({ ...k, createdBy: includedUser(res, k.relationships?.created_by),
        modifiedBy: includedUser(res, k.relationships?.modified_by) }));
      return { rows, total: res.meta?.page?.total_filtered_count ?? 0 };
    },
    columns: [
      { label: "Name", cell: (k) => h("span", { class: "name" }, k.attributes.name,
        k.relationships?.leak_information?.data ? h("span", { class: "badge danger", text: "Leaked" }) : null) },
      { label: "Key", cell: (k) => h("code", { text: `••••${k.attributes.last4}` }) },
      { label: "Created", cell: (k) => `${fmtDate(k.attributes.created_at)} by ${k.createdBy}` },
      { label: "Modified", cell: (k) => `${fmtDate(k.attributes.modified_at)} by ${k.modifiedBy}` },
      { label: "Last used", cell: (k) => fmtDate(k.attributes.date_last_used) },
      { label: "Actions", cell: (k) => {
        const n = k.attributes.name;
        const path = `/api/v2/api_keys/${encodeURIComponent(k.id)}`;
        return h("div", { class: "row-actions" },
          rowButton("Rename", `Rename ${n}`, () => rename(n, n, path, (name) => ({ data: { type: "api_keys", id: k.id, attributes: { name } } }))
            .then((ok) => ok && table.refresh())),
          rowButton("Rotate", `Rotate ${n}`, () => rotate(k.id, n, "API key").then((ok) => ok && table.refresh())),
          rowButton("Delete", `Delete ${n}`, async () => {
            if (await endCredential({ id: k.id, path, title: `Delete ${n}?`, label: "Delete API key", lines: [
              `Every client sending the key ending ${k.attributes.last4} is refused from now on; this cannot be undone.`,
              ...await usageLines(k.id, k.attributes.date_last_used)] })) table.refresh();
          }, "danger"));
      } },
    ],
  });
  const apply = (ev) => { ev?.preventDefault(); table.reload(0); };
  sort.addEventListener("change", apply);
  main.append(
    pageHeader("API keys", "Keys that identify the organization to the API. Each request also needs an application key or a token.",
      h("button", { type: "button", class: "primary", text: "New API key", onclick: () => createKey(() => table.reload(0)) })),
    h("form", { class: "filters", role: "search", "aria-label": "Filter API keys", onsubmit: apply },
      field("Filter by name", filter), field("Sort", sort), h("button", { type: "submit", class: "secondary", text: "Apply" })),
    table.element);
  table.reload(0);
}
