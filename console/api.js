// api.js - the console's only way to the server: keyhold's own HTTP API,
// with the headers any client sends (DD-API-KEY + DD-APPLICATION-KEY, or
// Authorization: Bearer <token>). No cookies: the credentials live in this
// tab's sessionStorage and go with each request explicitly, so another site
// cannot make the browser act for the user (no CSRF), and closing the tab
// forgets them.

const STORE = "keyhold.console.credentials";

/** An answer other than 2xx; message is the API's own errors[] text. */
export class ApiError extends Error {
  constructor(status, messages) {
    super(messages.join("; ") || `HTTP ${status}`);
    this.status = status;
    this.messages = messages;
  }
}

/** The sign-in of this tab, or null: {kind: "keys", apiKey, appKey} or {kind: "token", token}. */
export function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE));
  } catch {
    return null;
  }
}

export function signIn(creds) {
  sessionStorage.setItem(STORE, JSON.stringify(creds));
}

export function signOut() {
  sessionStorage.removeItem(STORE);
}

function authHeaders(creds) {
  if (!creds) return {};
  if (creds.kind === "token") return { Authorization: `Bearer ${creds.token}` };
  return { "DD-API-KEY": creds.apiKey, "DD-APPLICATION-KEY": creds.appKey };
}

// Called when the sign-in itself stopped working (expired, revoked): set by app.js.
let onSignInLost = () => {};
export function whenSignInLost(fn) {
  onSignInLost = fn;
}

/** A query string from an object; arrays repeat the name, empty values are left out. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined && one !== null && one !== "") q.append(k, one);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function send(method, path, body, creds) {
  const headers = { Accept: "application/json", ...authHeaders(creds) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // credentials: "omit" - nothing ambient (cookies, HTTP auth) ever goes along.
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit", cache: "no-store" });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const errors = json && Array.isArray(json.errors) ? json.errors.map(String) : [];
    throw new ApiError(res.status, errors);
  }
  return json;
}

/** Checks credentials without keeping them: resolves, or throws ApiError. */
export function validate(creds) {
  return send("GET", "/api/v2/validate_keys", undefined, creds);
}

/**
 * One API call with this tab's credentials. A 401 or 403 may mean the
 * permission is missing (the API's message is shown) or that the sign-in is
 * no longer any good (revoked, expired): the API answers both alike, so the
 * credentials are checked again, and a dead sign-in goes back to sign-in.
 */
export async function api(method, path, body) {
  const creds = credentials();
  try {
    return await send(method, path, body, creds);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403) && creds) {
      let alive = true;
      try {
        await validate(creds);
      } catch (v) {
        alive = !(v instanceof ApiError && (v.status === 401 || v.status === 403));
      }
      if (!alive) {
        signOut();
        onSignInLost();
      }
    }
    throw e;
  }
}
