// appkeys.js - application keys: the signed-in user's own
// (/api/v2/current_user/application_keys), the org's
// (/api/v2/application_keys, which needs org_app_keys_read) and, from the
// service accounts page, a service account's. Create (optionally scoped),
// rename, rotate, delete.
import { api, query } from "./api.js";
import { endCredential, ownerCell, rename, rotate } from "./credentials.js";
import { scopePicker } from "./scopes.js";
import { usageLines } from "./usage.js";
import { announce, dialog, field, fmtDate, h, pageHeader, pagedTable, rowButton, showSecret } from "./ui.js";

/** Creates an application key under base (a collection path); then onDone. */
export async function createAppKey(base, onDone, whose = "") {
  const picker = await scopePicker();
  const name = h("input", { type: "text", required: true, maxlength: "255", autocomplete: "off" });
  let created = null;
  const v = await dialog({ title: `New application key${whose}`,
    body: [field("Name", name), h("h3", { text: "Scopes (optional)" }),
      h("p", { class: "hint", text: "Without scopes the key can do all its owner's roles allow." }), picker.element],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Create application key", value: "submit" }],
    onSubmit: async () => {
      const attributes = { name: name.value.trim() };
      if (picker.selected().length) attributes.scopes = picker.selected();
      created = await api("POST", base, { data: { type: "application_keys", attributes } });
    } });
  if (v !== "submit" || !created) return;
  announce(`Application key ${created.data.attributes.name} created`);
  await showSecret(`Application key ${created.data.attributes.name} created`, created.data.attributes.key, "application key");
  onDone();
}

/** A list of application keys under base; withOwner adds the owner column (the org's list). */
export function appKeyTable(base, { withOwner = false, caption = "Application keys" } = {}) {
  const table = pagedTable({
    caption,
    empty: "No application keys here yet.",
    load: async (page, size) => {
      const res = await api("GET", `${base}${query({ "page[size]": size, "page[number]": page, sort: "-created_at" })}`);
      return { rows: res.data || [], total: res.meta?.page?.total_filtered_count ?? 0 };
    },
    columns: [
      { label: "Name", cell: (k) => h("span", { class: "name" }, k.attributes.name,
        k.relationships?.leak_information?.data ? h("span", { class: "badge danger", text: "Leaked" }) : null) },
      { label: "Key", cell: (k) => h("code", { text: `••••${k.attributes.last4}` }) },
      ...(withOwner ? [{ label: "Owner", cell: (k) => ownerCell(k.relationships?.owned_by?.data?.id) }] : []),
      { label: "Scopes", cell: (k) => (k.attributes.scopes ? k.attributes.scopes.join(", ") : "all of its owner's") },
      { label: "Created", cell: (k) => fmtDate(k.attributes.created_at) },
      { label: "Last used", cell: (k) => fmtDate(k.attributes.last_used_at) },
      { label: "Actions", cell: (k) => {
        const n = k.attributes.name;
        const path = `${base}/${encodeURIComponent(k.id)}`;
        return h("div", { class: "row-actions" },
          rowButton("Rename", `Rename ${n}`, () => rename(n, n, path, (name) => ({ data: { type: "application_keys", id: k.id, attributes: { name } } }))
            .then((ok) => ok && table.refresh())),
          rowButton("Rotate", `Rotate ${n}`, () => rotate(k.id, n, "application key").then((ok) => ok && table.refresh())),
          rowButton("Delete", `Delete ${n}`, async () => {
            if (await endCredential({ id: k.id, path, title: `Delete ${n}?`, label: "Delete application key", lines: [
              `Every client sending the key ending ${k.attributes.last4} is refused from now on; this cannot be undone.`,
              ...await usageLines(k.id, k.attributes.last_used_at)] })) table.refresh();
          }, "danger"));
      } },
    ],
  });
  return table;
}

export function render(main) {
  const mine = appKeyTable("/api/v2/current_user/application_keys", { caption: "My application keys" });
  const org = appKeyTable("/api/v2/application_keys", { withOwner: true, caption: "The organization's application keys" });
  main.append(
    pageHeader("Application keys", "Keys that act as their owner. Service accounts' keys are on the service accounts page.",
      h("button", { type: "button", class: "primary", text: "New application key",
        onclick: () => createAppKey("/api/v2/current_user/application_keys", () => { mine.reload(0); org.reload(0); }) })),
    h("section", { "aria-labelledby": "mine-h" }, h("h2", { id: "mine-h", text: "Mine" }), mine.element),
    h("section", { "aria-labelledby": "org-h" }, h("h2", { id: "org-h", text: "The organization's" }), org.element));
  mine.reload(0);
  org.reload(0);
}
