// usage.js - who still uses a credential, from keyhold's usage extension
// (GET /api/v2/keyhold/credentials/{id}/usage, docs/api/usage.md), for the
// confirmations before a revoke or delete. Optional by design: on a server
// without the route, or a caller who may not read it, the confirmation
// falls back to the last use Datadog's own lists show.
import { api } from "./api.js";
import { fmtDate, h } from "./ui.js";

/** Lines (text, or a list of clients as a node) saying who used the credential lately, or [`Last used: ...`] when usage cannot be read. */
export async function usageLines(id, lastUsed) {
  let u;
  try {
    u = (await api("GET", `/api/v2/keyhold/credentials/${encodeURIComponent(id)}/usage`)).data.attributes;
  } catch {
    return [`Last used: ${fmtDate(lastUsed)}.`];
  }
  const lines = [`Last used: ${fmtDate(u.last_used_at)}; ${u.requests_last_30_days} request${u.requests_last_30_days === 1 ? "" : "s"} in the last 30 days.`];
  const clients = (u.clients || []).slice(0, 3);
  if (clients.length) {
    // A list, each user agent in its own labelled <code>: whoever uses the
    // credential chooses its user agent, which must not read as part of
    // the sentence around it.
    lines.push("Still used from:");
    lines.push(h("ul", { class: "clients" }, clients.map((c) => h("li", {},
      `${c.address}, last ${fmtDate(c.last_seen_at)}`,
      c.user_agent ? [", user agent ", h("code", { text: c.user_agent })] : ", no user agent"))));
  } else {
    lines.push("No client has used it in the last 30 days.");
  }
  return lines;
}
