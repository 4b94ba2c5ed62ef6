// history.js - what ended: revoked and expired tokens and deleted keys,
// with when, by whom and why, from keyhold's history extension
// (GET /api/v2/keyhold/credentials, docs/api/history.md). Datadog's own
// routes forget a credential once it ends; this page is where to look for
// it. On a server without the extension the list shows the API's 404.
import { api, query } from "./api.js";
import { field, fmtDate, h, pageHeader, pagedTable } from "./ui.js";

const KINDS = [["", "Any kind"], ["personal_access_token", "Personal access tokens"], ["service_access_token", "Service access tokens"],
  ["api_key", "API keys"], ["application_key", "Application keys"]];
const STATES = [["", "Revoked or expired"], ["revoked", "Revoked or deleted"], ["expired", "Expired"], ["leaked", "Reported leaked"]];

export function render(main) {
  const kind = h("select", {}, KINDS.map(([v, t]) => h("option", { value: v, text: t })));
  const state = h("select", {}, STATES.map(([v, t]) => h("option", { value: v, text: t })));
  const table = pagedTable({
    caption: "Ended credentials, newest first",
    empty: "Nothing has ended in the retention period, or nothing you may see.",
    load: async (page, size) => {
      const res = await api("GET", `/api/v2/keyhold/credentials${query({ "page[size]": size, "page[number]": page,
        sort: "-ended_at", state: state.value, "filter[kind]": kind.value })}`);
      return { rows: res.data || [], total: res.meta?.page?.total_filtered_count ?? 0 };
    },
    columns: [
      { label: "Name", cell: (c) => c.attributes.name },
      { label: "Kind", cell: (c) => c.attributes.kind.replaceAll("_", " ") },
      { label: "Credential", cell: (c) => h("code", { text: c.attributes.public_portion || (c.attributes.last4 ? `••••${c.attributes.last4}` : "") }) },
      { label: "State", cell: (c) => h("span", { class: `badge ${c.attributes.state === "revoked" ? "danger" : ""}`, text: c.attributes.state }) },
      { label: "Ended", cell: (c) => fmtDate(c.attributes.ended_at) },
      { label: "By", cell: (c) => c.attributes.ended_by_email || c.attributes.ended_by || "—" },
      { label: "Reason", cell: (c) => c.attributes.reason || "—" },
    ],
  });
  const apply = (ev) => { ev?.preventDefault(); table.reload(0); };
  kind.addEventListener("change", apply);
  state.addEventListener("change", apply);
  main.append(pageHeader("History", "Revoked and expired tokens and deleted keys: when, by whom and why."),
    h("form", { class: "filters", role: "search", "aria-label": "Filter the history", onsubmit: apply },
      field("Kind", kind), field("How it ended", state), h("button", { type: "submit", class: "secondary", text: "Apply" })),
    table.element);
  table.reload(0);
}
