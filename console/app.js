// app.js - the console's shell: sign-in and sign-out, the navigation, and
// the hash router (#/tokens, #/service-accounts/<id>) that gives each page
// module the main area. Hash routes need nothing of the server: every file
// is under /console/, and a reload lands on the same page.
import { ApiError, credentials, signIn, signOut, validate, whenSignInLost } from "./api.js";
import * as apikeys from "./apikeys.js";
import * as appkeys from "./appkeys.js";
import * as audit from "./audit.js";
import * as extensions from "./extensions.js";
import * as history from "./history.js";
import * as leaks from "./leaks.js";
import * as serviceaccounts from "./serviceaccounts.js";
import * as tokens from "./tokens.js";
import { clear, errorText, field, h } from "./ui.js";
import * as users from "./users.js";

// The pages, in the order the navigation shows them.
const PAGES = [
  ["tokens", "Access tokens", tokens],
  ["api-keys", "API keys", apikeys],
  ["app-keys", "Application keys", appkeys],
  ["service-accounts", "Service accounts", serviceaccounts],
  ["users", "Users and roles", users],
  ["audit", "Audit trail", audit],
  ["history", "History", history],
  ["leaks", "Leaks", leaks],
  ["more", "More", extensions],
];

const $ = (id) => document.getElementById(id);
let notice = ""; // shown once on the sign-in page (why the user is there)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function route() {
  const m = /^#\/([a-z-]+)(?:\/([^/]+))?$/.exec(location.hash);
  const page = m && PAGES.find((p) => p[0] === m[1]);
  // A page's parameter is an id (a UUID) or nothing: anything else ("..", a
  // path) would be put in API paths the page builds from it.
  const param = m && m[2] ? m[2] : "";
  if (page && param && !UUID.test(param)) return { page, param: "" };
  return page ? { page, param } : { page: PAGES[0], param: "" };
}

function navigate(hash) {
  if (location.hash === hash) render(true);
  else location.hash = hash;
}

/** A short, non-secret name for the sign-in: a token's public portion, a key's last 4. */
function whoText(c) {
  if (c.kind === "token") return `Signed in with token ${c.token.split("_").slice(0, 2).join("_")}`;
  return `Signed in with application key ••••${c.appKey.slice(-4)}`;
}

function renderSignIn(main) {
  const kind = (value, label, checked) => {
    const id = `kind-${value}`;
    return h("div", { class: "check" }, h("input", { type: "radio", name: "kind", id, value, checked }), h("label", { for: id, text: label }));
  };
  const apiKey = h("input", { type: "password", name: "api_key", autocomplete: "off", spellcheck: "false" });
  const appKey = h("input", { type: "password", name: "app_key", autocomplete: "off", spellcheck: "false" });
  const token = h("input", { type: "password", name: "token", autocomplete: "off", spellcheck: "false" });
  const keys = h("div", {}, field("API key", apiKey), field("Application key", appKey));
  const tok = h("div", { hidden: true }, field("Personal access token", token, "ddpat_… Only its scopes and its owner's roles apply."));
  const problem = h("p", { class: "state error", role: "alert", hidden: !notice, text: notice });
  notice = "";
  const submit = h("button", { type: "submit", class: "primary", text: "Sign in" });
  const form = h("form", { class: "sign-in", "aria-labelledby": "signin-h" },
    h("h1", { id: "signin-h", text: "Sign in to keyhold", tabindex: "-1" }),
    h("p", { class: "intro", text: "The console calls keyhold's API with the credentials you give here, as any client would. " +
      "They are kept in this tab only (sessionStorage) and forgotten when it closes." }),
    h("fieldset", {}, h("legend", { text: "Sign in with" }), kind("keys", "An application key and the org's API key", true),
      kind("token", "A personal access token", false)),
    keys, tok, problem, submit);
  form.addEventListener("change", (ev) => {
    if (ev.target.name !== "kind") return;
    keys.hidden = ev.target.value !== "keys";
    tok.hidden = ev.target.value !== "token";
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const c = form.elements.kind.value === "token"
      ? { kind: "token", token: token.value.trim() }
      : { kind: "keys", apiKey: apiKey.value.trim(), appKey: appKey.value.trim() };
    problem.hidden = true;
    submit.disabled = true;
    try {
      await validate(c);
      signIn(c);
      navigate(location.hash.startsWith("#/") ? location.hash : "#/tokens");
    } catch (e) {
      problem.textContent = e instanceof ApiError && (e.status === 401 || e.status === 403)
        ? `These credentials are not accepted (${errorText(e)}).` : errorText(e);
      problem.hidden = false;
      submit.disabled = false;
    }
  });
  main.append(form);
  return form.querySelector("h1");
}

function renderNav(current) {
  const list = $("nav-list");
  clear(list).append(...PAGES.map(([id, label]) => h("li", {}, h("a", { href: `#/${id}`, text: label,
    "aria-current": id === current ? "page" : undefined }))));
}

/** Renders the page of the current route; moveFocus after a navigation (not on first load, where the skip link comes first). */
async function render(moveFocus = false) {
  const main = clear($("page"));
  const alert = $("page-alert");
  alert.hidden = true;
  const c = credentials();
  $("nav").hidden = !c;
  $("who").hidden = !c;
  if (!c) {
    document.title = "Sign in · keyhold console";
    const heading = renderSignIn(main);
    if (moveFocus) heading.focus();
    return;
  }
  $("who-text").textContent = whoText(c);
  const { page, param } = route();
  renderNav(page[0]);
  document.title = `${page[1]} · keyhold console`;
  await page[2].render(main, { param, navigate });
  // Focus follows navigation, so keyboard and screen-reader users land on the new page's heading.
  const heading = main.querySelector("h1");
  if (moveFocus && heading && (document.activeElement === document.body || !document.activeElement)) heading.focus();
}

function start() {
  whenSignInLost(() => {
    notice = "Your sign-in is no longer accepted (it expired or was revoked). Sign in again.";
    document.querySelectorAll("dialog").forEach((d) => d.remove());
    render(true);
  });
  // A row action that failed outside a dialog (a refused delete): the API's message, in the page.
  window.addEventListener("unhandledrejection", (ev) => {
    if (!credentials()) return;
    const alert = $("page-alert");
    alert.textContent = errorText(ev.reason);
    alert.hidden = false;
  });
  $("sign-out").addEventListener("click", () => {
    signOut();
    navigate("#/tokens");
  });
  // The skip link jumps to the content without changing the route.
  $("skip").addEventListener("click", (ev) => {
    ev.preventDefault();
    $("main").focus();
  });
  window.addEventListener("hashchange", () => { document.activeElement?.blur(); render(true); });
  render();
}

start();
