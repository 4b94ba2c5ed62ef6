// credentials.js - what the token and key pages share: owner names,
// rotation (keyhold's extension, docs/api/rotation.md) and the rename
// dialog. Each is one API call a client could make with curl.
import { api } from "./api.js";
import { announce, dialog, field, h, showSecret } from "./ui.js";

const owners = new Map(); // user id -> Promise of a display name, for this page load

/** A user's name or email (GET /api/v2/users/{id}); the id when it cannot be read. */
export function ownerName(id) {
  if (!id) return Promise.resolve("—");
  if (!owners.has(id)) {
    owners.set(id, api("GET", `/api/v2/users/${encodeURIComponent(id)}`)
      .then((r) => r.data.attributes.name || r.data.attributes.email || id)
      .catch(() => id));
  }
  return owners.get(id);
}

/** A cell that shows the owner's name once known. */
export function ownerCell(id) {
  const span = h("span", { text: id ? "…" : "—", title: id || "" });
  ownerName(id).then((n) => { span.textContent = n; });
  return span;
}

/** Finds one user by exact email or name through the users list filter; resolves its id or throws. */
export async function findUserId(text) {
  const res = await api("GET", `/api/v2/users?filter=${encodeURIComponent(text)}&page[size]=20`);
  const t = text.toLowerCase();
  const hit = (res.data || []).find((u) => [u.attributes.email, u.attributes.name, u.id].some((v) => v && v.toLowerCase() === t));
  if (!hit) throw new Error(`No user whose email or name is "${text}"`);
  return hit.id;
}

/**
 * Rotates a credential by id: asks how long the previous secret stays
 * accepted, then shows the new secret once. Resolves true when rotated.
 */
export async function rotate(id, label, what) {
  const grace = h("select", {}, [["0", "End it now"], ["3600", "1 hour"], ["86400", "1 day (default)"],
    ["604800", "7 days"]].map(([v, t]) => h("option", { value: v, text: t, selected: v === "86400" })));
  let answer = null;
  const v = await dialog({
    title: `Rotate ${label}`,
    body: [h("p", { text: `A new secret replaces the current one; the ${what} keeps its id, name and scopes. The current ` +
      "secret stays accepted until the overlap ends or the new one is first used." }),
    field("Overlap for the current secret", grace)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Rotate", value: "submit" }],
    onSubmit: async () => {
      answer = await api("POST", `/api/v2/keyhold/credentials/${encodeURIComponent(id)}/rotate`,
        { data: { type: "credential_rotations", attributes: { grace_seconds: Number(grace.value) } } });
    },
  });
  if (v !== "submit" || !answer) return false;
  announce(`${label} rotated`);
  await showSecret(`New secret for ${label}`, answer.data.attributes.key, what);
  return true;
}

/** Asks for a new name and PATCHes it with body(name). Resolves true when renamed. */
export async function rename(label, current, path, body) {
  const input = h("input", { type: "text", value: current, required: true, maxlength: "255", autocomplete: "off" });
  const v = await dialog({ title: `Rename ${label}`, body: [field("New name", input)],
    actions: [{ label: "Cancel", value: "cancel" }, { label: "Rename", value: "submit" }],
    onSubmit: () => api("PATCH", path, body(input.value.trim())) });
  if (v === "submit") announce(`Renamed to ${input.value.trim()}`);
  return v === "submit";
}

/**
 * Revokes a token or deletes a key after a confirmation (lines: what it
 * ends and who still uses it). Without a reason it goes through Datadog's
 * own route (path, DELETE); with one, through keyhold's history extension
 * (POST /api/v2/keyhold/credentials/{id}/revoke, docs/api/history.md), which
 * ends it the same way under the same permissions and keeps the reason.
 * The API's refusal is shown in the dialog. Resolves true when ended.
 */
export async function endCredential({ id, title, lines, label, path }) {
  const reason = h("input", { type: "text", maxlength: "256", autocomplete: "off" });
  const v = await dialog({
    title,
    body: [...lines.map((l) => (l instanceof Node ? l : h("p", { text: l }))), field("Reason (optional)", reason, "Kept in the history with who ended it and when.")],
    actions: [{ label: "Cancel", value: "cancel" }, { label, value: "submit", kind: "danger" }],
    onSubmit: () => (reason.value.trim()
      ? api("POST", `/api/v2/keyhold/credentials/${encodeURIComponent(id)}/revoke`,
        { data: { type: "credential_revocations", attributes: { reason: reason.value.trim() } } })
      : api("DELETE", path)),
  });
  if (v === "submit") announce(`${title.replace(/\?$/, "")}: done`);
  return v === "submit";
}
