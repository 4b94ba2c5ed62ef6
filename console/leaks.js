// leaks.js - keyhold's leak loop (docs/api/leaks.md): the org's leaked
// credentials (GET /api/v2/keyhold/leaks), its leak policy (revoke or
// quarantine, GET/PATCH /api/v2/keyhold/leak_policy), and reporting a
// secret found somewhere it should not be (POST /api/v2/keyhold/leaks, as an
// authenticated caller: a live credential it names is marked leaked and
// revoked or quarantined by its org's policy). The list route has no
// paging of its own, so the page shows it ten rows at a time.
import { api } from "./api.js";
import { announce, errorBox, field, fmtDate, h, pageHeader, pagedTable } from "./ui.js";

function policySection() {
  const select = h("select", {}, [["revoke", "Revoke a leaked credential at once"], ["quarantine", "Quarantine it (flag, keep working)"]]
    .map(([v, t]) => h("option", { value: v, text: t })));
  const status = h("div");
  const save = h("button", { type: "submit", class: "secondary", text: "Save policy" });
  const form = h("form", { class: "filters", "aria-label": "Leak policy", onsubmit: async (ev) => {
    ev.preventDefault();
    status.replaceChildren();
    try {
      await api("PATCH", "/api/v2/keyhold/leak_policy", { data: { type: "leak_policies", attributes: { policy: select.value } } });
      announce("Leak policy saved");
      status.append(h("p", { class: "hint", role: "status", text: "Saved." }));
    } catch (e) {
      status.append(errorBox(e));
    }
  } }, field("When a credential is reported leaked", select), save);
  api("GET", "/api/v2/keyhold/leak_policy")
    .then((r) => { select.value = r.data.attributes.policy; })
    .catch((e) => status.append(errorBox(e)));
  return h("section", { "aria-labelledby": "policy-h" }, h("h2", { id: "policy-h", text: "Policy" }), form, status);
}

function reportSection(onDone) {
  const secret = h("input", { type: "password", autocomplete: "off", spellcheck: "false", required: true });
  const where = h("input", { type: "text", autocomplete: "off", placeholder: "where it was found (optional)" });
  const status = h("div");
  const form = h("form", { class: "filters", "aria-label": "Report a leaked secret", onsubmit: async (ev) => {
    ev.preventDefault();
    status.replaceChildren();
    try {
      const r = await api("POST", "/api/v2/keyhold/leaks", [{ token: secret.value.trim(), type: "keyhold_console_report",
        url: where.value.trim() || null, source: "console" }]);
      secret.value = "";
      const n = r?.data?.attributes?.matched_in_org ?? 0;
      status.append(h("p", { class: "hint", role: "status", text: n ? "Reported: the credential was handled by the policy." : "Reported: it names no live credential of this organization." }));
      onDone();
    } catch (e) {
      status.append(errorBox(e));
    }
  } }, field("Secret found", secret), field("Where", where), h("button", { type: "submit", class: "danger", text: "Report leak" }));
  return h("section", { "aria-labelledby": "report-h" }, h("h2", { id: "report-h", text: "Report a secret found in the open" }), form, status);
}

export function render(main) {
  let rows = null;
  const table = pagedTable({
    caption: "Leaked credentials",
    empty: "No credential of this organization has been reported leaked.",
    load: async (page, size) => {
      if (!rows || page === 0) rows = (await api("GET", "/api/v2/keyhold/leaks")).data || [];
      return { rows: rows.slice(page * size, (page + 1) * size), total: rows.length };
    },
    columns: [
      { label: "Credential", cell: (l) => h("span", {}, l.attributes.credential_type.replaceAll("_", " "), " ", h("code", { text: l.id })) },
      { label: "Action", cell: (l) => h("span", { class: "badge danger", text: l.attributes.action }) },
      { label: "Leaked", cell: (l) => fmtDate(l.attributes.leaked_at) },
      { label: "Reports", cell: (l) => String(l.attributes.reports) },
      { label: "Where", cell: (l) => h("code", { text: l.attributes.url || l.attributes.source || "—" }) },
    ],
  });
  main.append(pageHeader("Leaks", "Credentials reported found in the open, and what keyhold did about them."),
    policySection(), reportSection(() => table.reload(0)),
    h("section", { "aria-labelledby": "leaks-h" }, h("h2", { id: "leaks-h", text: "Reported" }), table.element));
  table.reload(0);
}
