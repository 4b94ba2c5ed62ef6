// scopes.js - choosing scopes from the permission catalog
// (GET /api/v2/permissions), grouped by each permission's group_name as
// Datadog's own pages group them. The catalog is asked for once per page
// load; a credential can only be given scopes its owner holds, and the API
// says so when one is not (its message is shown as is).
import { api } from "./api.js";
import { h, uid } from "./ui.js";

let catalog = null;

/** The catalog as [{group, perms: [{name, display_name, description}]}], by group name. */
export async function permissionGroups() {
  if (!catalog) {
    const res = await api("GET", "/api/v2/permissions");
    const groups = new Map();
    for (const p of res.data || []) {
      const a = p.attributes || {};
      const g = a.group_name || "Other";
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push({ name: a.name, display_name: a.display_name || a.name, description: a.description || "" });
    }
    catalog = [...groups.entries()].sort((x, y) => x[0].localeCompare(y[0]))
      .map(([group, perms]) => ({ group, perms: perms.sort((x, y) => x.name.localeCompare(y.name)) }));
  }
  return catalog;
}

/**
 * A scope picker: a search box and one collapsible fieldset per group.
 * Resolves {element, selected()} with `chosen` ticked.
 */
export async function scopePicker(chosen = []) {
  const groups = await permissionGroups();
  const picked = new Set(chosen);
  const count = h("p", { class: "hint", role: "status" });
  const search = h("input", { type: "search", id: uid(), placeholder: "e.g. api_keys", autocomplete: "off" });
  const sections = [];
  const updateCount = () => { count.textContent = `${picked.size} scope${picked.size === 1 ? "" : "s"} chosen`; };
  for (const { group, perms } of groups) {
    const boxes = perms.map((p) => {
      const id = uid("scope");
      const box = h("input", { type: "checkbox", id, value: p.name, checked: picked.has(p.name),
        onchange: (ev) => { ev.target.checked ? picked.add(p.name) : picked.delete(p.name); updateCount(); } });
      return h("div", { class: "check", "data-scope": p.name, "data-text": `${p.name} ${p.display_name}`.toLowerCase() },
        box, h("label", { for: id }, h("code", { text: p.name }), ` ${p.display_name}`));
    });
    const details = h("details", { open: chosen.length > 0 && perms.some((p) => picked.has(p.name)) },
      h("summary", { text: `${group} (${perms.length})` }), h("fieldset", {}, h("legend", { class: "visually-hidden", text: group }), boxes));
    sections.push({ details, boxes });
  }
  // Narrowing by text opens the groups with a match and hides the rest.
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    for (const { details, boxes } of sections) {
      let any = false;
      for (const b of boxes) {
        const hit = !q || b.dataset.text.includes(q);
        b.hidden = !hit;
        any ||= hit;
      }
      details.hidden = !any;
      if (q) details.open = any;
    }
  });
  updateCount();
  const element = h("div", { class: "scopes" },
    h("div", { class: "field" }, h("label", { for: search.id, text: "Find a permission" }), search), count,
    h("div", { class: "scope-groups", role: "group", "aria-label": "Scopes by permission group" }, sections.map((s) => s.details)));
  return { element, selected: () => [...picked] };
}
