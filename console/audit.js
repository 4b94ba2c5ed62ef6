// audit.js - the audit trail (GET /api/v2/audit/events): a search query
// (filter[query], Datadog's syntax, e.g. @action:created), a time window
// (filter[from]) and cursor paging (page[cursor] from meta.page.after). The
// cursors already seen are kept so that "Previous page" can go back.
import { api, query } from "./api.js";
import { ownerCell } from "./credentials.js";
import { field, fmtDate, h, pageHeader, pagedTable } from "./ui.js";

const WINDOWS = [["now-15m", "Last 15 minutes"], ["now-1h", "Last hour"], ["now-1d", "Last day"],
  ["now-7d", "Last 7 days"], ["now-30d", "Last 30 days"], ["now-90d", "Last 90 days"]];

export function render(main) {
  const q = h("input", { type: "search", autocomplete: "off", placeholder: "e.g. @action:revoked" });
  const from = h("select", {}, WINDOWS.map(([v, t]) => h("option", { value: v, text: t, selected: v === "now-1d" })));
  let cursors = [""]; // cursors[n]: where page n starts
  const table = pagedTable({
    caption: "Audit events, newest first",
    pageSize: 25,
    empty: "No events in this window match.",
    load: async (page, size) => {
      const res = await api("GET", `/api/v2/audit/events${query({ "filter[query]": q.value.trim(), "filter[from]": from.value,
        sort: "-timestamp", "page[limit]": size, "page[cursor]": cursors[page] })}`);
      const after = res.meta?.page?.after;
      if (after) cursors[page + 1] = after;
      return { rows: res.data || [], more: Boolean(after) && (res.data || []).length === size };
    },
    columns: [
      { label: "When", cell: (e) => fmtDate(e.attributes.timestamp) },
      { label: "Action", cell: (e) => h("code", { text: e.attributes.attributes?.action || "" }) },
      { label: "What", cell: (e) => `${e.attributes.attributes?.asset?.type || ""} ${e.attributes.attributes?.asset?.id || ""}` },
      { label: "Who", cell: (e) => ownerCell(e.attributes.attributes?.usr?.id) },
      { label: "From", cell: (e) => e.attributes.attributes?.network?.client?.ip || "" },
    ],
  });
  const apply = (ev) => {
    ev?.preventDefault();
    cursors = [""];
    table.reload(0);
  };
  from.addEventListener("change", apply);
  main.append(pageHeader("Audit trail", "Every change to a credential, user or role, and notable authentications, as recorded."),
    h("form", { class: "filters", role: "search", "aria-label": "Filter audit events", onsubmit: apply },
      field("Search", q, "Datadog's syntax: @action:created, @asset.type:api_key, -@action:first_use"), field("Time window", from),
      h("button", { type: "submit", class: "secondary", text: "Apply" })),
    table.element);
  table.reload(0);
}
