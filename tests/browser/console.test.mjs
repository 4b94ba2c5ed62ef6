// console.test.mjs - the web console (docs/console.md) in a real browser:
// Debian's chromium, headless, driven by playwright-core (which downloads
// nothing: it is pointed at /usr/bin/chromium). A real keyhold serves it on
// a free port (the integration suite's Server). Every page is screenshotted
// under build/console-screenshots/ and checked with axe-core; every request
// the pages make is recorded and must stay on keyhold's origin; any console
// message about the Content-Security-Policy fails the run.
//
// KEYHOLD_BIN picks the binary; CHROMIUM overrides /usr/bin/chromium;
// KEYHOLD_DOCS_SCREENSHOT=1 also writes docs/console-tokens.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { Server } from "../integration/helpers.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SHOTS = join(ROOT, "build", "console-screenshots");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let srv, browser, context, page, origin;
const requests = []; // every URL any page asked for
const cspProblems = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  srv = new Server();
  await srv.start();
  origin = new URL(srv.base).origin;
  // --no-sandbox: CI and containers run this as root, where chromium's sandbox refuses to start; the
  // browser only ever loads keyhold's own pages here. Nothing is downloaded: the executable is Debian's.
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.on("request", (r) => requests.push(r.url()));
  context.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspProblems.push(m.text());
  });
  page = await context.newPage();
  page.on("pageerror", (e) => cspProblems.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** The API with the admin's keys, for setting up and checking what the console did. */
async function adminApi(method, path, body) {
  const r = await srv.raw(method, path, { headers: { ...srv.keyHeaders(), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined });
  return r;
}

async function makeToken(name, scopes) {
  const r = await adminApi("POST", "/api/v2/personal_access_tokens", { data: { type: "personal_access_tokens",
    attributes: { name, scopes, expires_at: new Date(Date.now() + 30 * 86400000).toISOString() } } });
  assert.equal(r.status, 201, r.body);
  return { id: r.json.data.id, key: srv.remember(r.json.data.attributes.key) };
}

/** axe-core on the page as it is: no serious or critical violation. */
async function accessible(what) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => globalThis.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }));
  assert.ok(result.passes.length > 10, `axe ran its checks on ${what}`);
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`), [],
    `accessibility problems on ${what}`);
}

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Goes to a page by its navigation link and waits for its list to settle. */
async function open(label) {
  await page.getByRole("navigation", { name: "Console sections" }).getByRole("link", { name: label, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: label }).waitFor();
  await settle();
}

async function settle() {
  await page.waitForFunction(() => !document.querySelector(".state.loading") && !document.querySelector("[aria-busy=true]"));
}

async function signInWithKeys() {
  await page.goto(`${srv.base}/console/`);
  await page.getByLabel("API key", { exact: true }).fill(srv.admin.api_key);
  await page.getByLabel("Application key", { exact: true }).fill(srv.admin.app_key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Access tokens" }).waitFor();
  await settle();
}

async function signInWithToken(token) {
  await page.goto(`${srv.base}/console/`);
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.getByLabel("A personal access token").check();
  await page.getByLabel("Personal access token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const tokenRows = () => page.locator("table tbody tr");
const rowOf = (name) => tokenRows().filter({ has: page.locator("td[data-label=Name]", { hasText: new RegExp(`^${name}$`) }) });

test("the console's answers carry the security headers, a Content-Type and an ETag", async () => {
  const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  const types = { "/console/": "text/html; charset=utf-8", "/console/app.js": "text/javascript; charset=utf-8",
    "/console/console.css": "text/css; charset=utf-8", "/console/favicon.svg": "image/svg+xml" };
  for (const [path, type] of Object.entries(types)) {
    const r = await srv.raw("GET", path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers["content-type"], type, path);
    assert.equal(r.headers["content-security-policy"], csp, path);
    assert.equal(r.headers["x-frame-options"], "DENY", path);
    assert.equal(r.headers["referrer-policy"], "no-referrer", path);
    assert.equal(r.headers["x-content-type-options"], "nosniff", path);
    assert.equal(r.headers["cache-control"], "no-cache", path);
    assert.match(r.headers.etag, /^"[0-9a-f]{32}"$/, path);
    assert.equal(r.headers["set-cookie"], undefined, `${path}: no cookies`);
    const again = await srv.raw("GET", path, { headers: { "if-none-match": r.headers.etag } });
    assert.equal(again.status, 304, `${path} revalidated`);
    assert.equal(again.body, "");
  }
  const html = (await srv.raw("GET", "/console/")).body;
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=/i, "no inline script, style or handler");
  assert.doesNotMatch(html, /https?:\/\//, "nothing from another origin");
  // The sources themselves: no HTML sinks and no eval anywhere, so nothing the API returns can become markup or code.
  for (const f of readdirSync(join(ROOT, "console")).filter((n) => n.endsWith(".js"))) {
    const src = readFileSync(join(ROOT, "console", f), "utf8").replace(/^\s*\/\/.*$/gm, "");
    assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, f);
  }
  // ...and no address of another origin in any script, stylesheet or page.
  for (const f of readdirSync(join(ROOT, "console")).filter((n) => /\.(js|css|html)$/.test(n))) {
    assert.doesNotMatch(readFileSync(join(ROOT, "console", f), "utf8"), /https?:\/\/|\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, f);
  }
  const moved = await srv.raw("GET", "/console");
  assert.equal(moved.status, 308);
  assert.equal(moved.headers.location, "/console/");
  const missing = await srv.raw("GET", "/console/nothing.js");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers["x-frame-options"], "DENY");
  assert.equal(missing.headers["content-security-policy"], csp);
  // The console needs no credentials, and sending some changes nothing.
  const withKeys = await srv.raw("GET", "/console/", { headers: srv.keyHeaders() });
  assert.equal(withKeys.body, html);
  // Datadog's routes answer as before: no console header on them.
  const api = await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders() });
  assert.equal(api.status, 200);
  assert.equal(api.headers["content-security-policy"], undefined);
});

test("sign in with an application key and the API key; the tokens page", async () => {
  await page.goto(`${srv.base}/console/`);
  await page.getByRole("heading", { name: "Sign in to keyhold" }).waitFor();
  await shot("sign-in");
  await accessible("the sign-in page");
  // Wrong credentials: the API's answer, still on the sign-in page.
  await page.getByLabel("API key", { exact: true }).fill("0".repeat(32));
  await page.getByLabel("Application key", { exact: true }).fill("0".repeat(40));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not accepted" }).waitFor();
  await signInWithKeys();
  assert.match(await page.locator("#who-text").textContent(), /application key ••••/);
  const stored = await page.evaluate(() => ({ local: localStorage.length, cookies: document.cookie }));
  assert.deepEqual(stored, { local: 0, cookies: "" }, "credentials only in sessionStorage");
});

test("create a PAT with two scopes: its secret is shown once and never again after a reload", async () => {
  await makeToken("alpha-existing", ["user_access_read"]);
  await page.reload();
  await settle();
  await page.getByRole("button", { name: "New access token" }).click();
  const dlg = page.getByRole("dialog", { name: "New access token" });
  await dlg.getByLabel("Name").fill("zulu-console-pat");
  await dlg.getByLabel("Expires").selectOption("90");
  for (const scope of ["api_keys_read", "user_app_keys"]) {
    await dlg.getByLabel("Find a permission").fill(scope);
    await dlg.locator(`[data-scope="${scope}"] input`).check();
  }
  await dlg.getByText("2 scopes chosen").waitFor();
  await shot("tokens-create");
  await accessible("the new token dialog");
  await dlg.getByRole("button", { name: "Create token" }).click();
  const shown = page.getByRole("dialog", { name: /Token zulu-console-pat created/ });
  await shown.waitFor();
  const secret = await shown.getByLabel("New token").inputValue();
  srv.remember(secret);
  assert.match(secret, /^ddpat_[A-Za-z0-9]+_[A-Za-z0-9]+$/);
  await shown.getByText("shown only this once").waitFor();
  await shown.getByRole("button", { name: "Copy" }).waitFor();
  await shot("tokens-secret");
  await accessible("the new secret dialog");
  await shown.getByRole("button", { name: "I have copied it" }).click();
  await settle();
  const row = rowOf("zulu-console-pat");
  await row.waitFor();
  assert.equal(await row.locator("td[data-label=Scopes]").textContent(), "api_keys_read, user_app_keys");
  // Gone from the page once the dialog closes, and nowhere after a reload.
  assert.ok(!(await page.content()).includes(secret), "the secret is not left in the page");
  await page.reload();
  await settle();
  assert.ok(!(await page.content()).includes(secret), "the secret after a reload");
  const storage = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
  assert.ok(!storage.includes(secret.slice(-20)), "the secret is not stored");
  // The API agrees: two scopes, and the secret works.
  const check = await srv.raw("GET", "/api/v2/validate_keys", { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(check.status, 200);
});

test("find the token by filter and by sort, rename it, revoke it and see it gone", async () => {
  await page.getByLabel("Filter by name").fill("console-pat");
  await page.getByRole("button", { name: "Apply" }).click();
  await settle();
  assert.deepEqual(await page.locator("td[data-label=Name]").allTextContents(), ["zulu-console-pat"]);
  await shot("tokens-filtered");
  await page.getByLabel("Filter by name").fill("");
  await page.getByLabel("Sort").selectOption("-name");
  await settle();
  let names = await page.locator("td[data-label=Name]").allTextContents();
  assert.equal(names[0], "zulu-console-pat", `Z to A: ${names}`);
  await page.getByLabel("Sort").selectOption("name");
  await settle();
  names = await page.locator("td[data-label=Name]").allTextContents();
  assert.equal(names[0], "alpha-existing", `A to Z: ${names}`);
  assert.equal(names.at(-1), "zulu-console-pat");
  // The owner filter: the admin owns both; an unknown owner is told apart.
  await page.getByLabel("Owner").fill("admin@");
  await page.waitForFunction(() => [...document.querySelectorAll("#owner-suggestions option")].some((o) => o.value === "admin@one.example"));
  await page.getByLabel("Owner").fill("admin@one.example");
  await page.getByRole("button", { name: "Apply" }).click();
  await settle();
  assert.equal(await tokenRows().count(), 2);
  await page.getByLabel("Owner").fill("nobody@one.example");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByRole("alert").filter({ hasText: "No user" }).waitFor();
  await page.getByLabel("Owner").fill("");
  await page.getByRole("button", { name: "Apply" }).click();
  await settle();

  await page.getByRole("button", { name: "Rename zulu-console-pat" }).click();
  const rn = page.getByRole("dialog", { name: "Rename zulu-console-pat" });
  await rn.getByLabel("New name").fill("zulu-renamed");
  await rn.getByRole("button", { name: "Rename" }).click();
  await rowOf("zulu-renamed").waitFor();
  const id = (await (await adminApi("GET", "/api/v2/personal_access_tokens?filter=zulu-renamed")).json).data[0].id;

  // Change its scopes: one of the two dropped.
  await page.getByRole("button", { name: "Change scopes of zulu-renamed" }).click();
  const sc = page.getByRole("dialog", { name: "Scopes of zulu-renamed" });
  await sc.locator('[data-scope="user_app_keys"] input').uncheck();
  await sc.getByRole("button", { name: "Save scopes" }).click();
  await page.waitForFunction(() => [...document.querySelectorAll("td[data-label=Scopes]")].some((td) => td.textContent === "api_keys_read"));
  const after = (await adminApi("GET", `/api/v2/personal_access_tokens/${id}`)).json.data.attributes.scopes;
  assert.deepEqual(after, ["api_keys_read"]);

  // Rotate it (keyhold's extension): a new secret, shown once.
  await page.getByRole("button", { name: "Rotate zulu-renamed" }).click();
  const rot = page.getByRole("dialog", { name: "Rotate zulu-renamed" });
  await rot.getByLabel("Overlap for the current secret").selectOption("0");
  await rot.getByRole("button", { name: "Rotate" }).click();
  const fresh = page.getByRole("dialog", { name: "New secret for zulu-renamed" });
  const rotated = srv.remember(await fresh.getByLabel("New token").inputValue());
  assert.match(rotated, /^ddpat_/);
  await fresh.getByRole("button", { name: "I have copied it" }).click();
  await settle();
  assert.equal((await srv.raw("GET", "/api/v2/validate_keys", { headers: { authorization: `Bearer ${rotated}` } })).status, 200);

  // Its uses so far (validated above) reach the usage counts with the next flush (--usage-flush-ms, 2 s).
  for (let i = 0; i < 50; i++) {
    const u = await adminApi("GET", `/api/v2/keyhold/credentials/${id}/usage`);
    if (u.status === 200 && u.json.data.attributes.requests_last_30_days > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.getByRole("button", { name: "Revoke zulu-renamed" }).click();
  const confirm = page.getByRole("dialog", { name: "Revoke zulu-renamed?" });
  await confirm.getByText("Last used:").waitFor();
  await confirm.getByText(/[1-9]\d* requests? in the last 30 days/).waitFor(); // keyhold's usage extension: who still uses it
  await confirm.getByText("Still used from:").waitFor();
  await confirm.locator("ul.clients > li").filter({ hasText: "127.0.0.1, last " }).first().waitFor(); // each client apart, its user agent in <code>
  await shot("tokens-revoke");
  await accessible("the revoke confirmation");
  await confirm.getByLabel("Reason (optional)").fill("console test: no longer needed");
  await confirm.getByRole("button", { name: "Revoke token" }).click();
  await settle();
  await rowOf("zulu-renamed").waitFor({ state: "detached" });
  assert.equal((await adminApi("GET", `/api/v2/personal_access_tokens/${id}`)).status, 404, "revoked for the API too");
  await shot("tokens");
  await accessible("the tokens page");
});

test("create an API key; every other page loads, is screenshotted and passes axe", async () => {
  await open("API keys");
  await page.getByRole("button", { name: "New API key" }).click();
  const dlg = page.getByRole("dialog", { name: "New API key" });
  await dlg.getByLabel("Name").fill("console-api-key");
  await dlg.getByRole("button", { name: "Create API key" }).click();
  const shown = page.getByRole("dialog", { name: /API key console-api-key created/ });
  const value = srv.remember(await shown.getByLabel("New API key").inputValue());
  assert.match(value, /^[0-9a-f]{32}$/);
  await shown.getByRole("button", { name: "I have copied it" }).click();
  await settle();
  await rowOf("console-api-key").waitFor();
  assert.match(await rowOf("console-api-key").locator("td[data-label=Created]").textContent(), /by admin@one\.example/);
  await shot("api-keys");
  await accessible("the API keys page");
  // Deleted without a reason: through Datadog's own route.
  await page.getByRole("button", { name: "Delete console-api-key" }).click();
  await page.getByRole("dialog", { name: "Delete console-api-key?" }).getByRole("button", { name: "Delete API key" }).click();
  await rowOf("console-api-key").waitFor({ state: "detached" });
  assert.equal((await srv.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": value } })).status, 403, "the deleted key is refused");

  for (const [label, name] of [["Application keys", "app-keys"], ["Service accounts", "service-accounts"],
    ["Users and roles", "users"], ["Audit trail", "audit"], ["History", "history"], ["Leaks", "leaks"], ["More", "more"]]) {
    await open(label);
    const errors = page.locator(".state.error:visible");
    assert.equal(await errors.count(), 0, `${label}: ${await errors.allTextContents()}`);
    await shot(name);
    await accessible(`the ${label} page`);
  }
  // The audit trail shows what the console just did.
  await open("Audit trail");
  await page.getByLabel("Search").fill("@action:revoked");
  await page.getByRole("button", { name: "Apply" }).click();
  await settle();
  assert.ok((await page.locator("td[data-label=Action]").allTextContents()).every((a) => a === "revoked"));
  assert.ok((await tokenRows().count()) >= 1);

  // The history shows the token revoked above: who ended it.
  await open("History");
  await page.getByLabel("Kind").selectOption("personal_access_token");
  await settle();
  const ended = rowOf("zulu-renamed");
  await ended.waitFor();
  assert.equal(await ended.locator("td[data-label=State]").textContent(), "revoked");
  assert.equal(await ended.locator("td[data-label=By]").textContent(), "admin@one.example");
  assert.equal(await ended.locator("td[data-label=Reason]").textContent(), "console test: no longer needed");

  // Invite a user and give them a role.
  await open("Users and roles");
  await page.getByRole("button", { name: "Invite a user" }).click();
  const inv = page.getByRole("dialog", { name: "Invite a user" });
  await inv.getByLabel("Email").fill("invitee@one.example");
  await inv.getByRole("button", { name: "Invite" }).click();
  await settle();
  const invitee = tokenRows().filter({ hasText: "invitee@one.example" });
  await invitee.waitFor();
  assert.equal(await invitee.locator("td[data-label=Status]").textContent(), "Pending");
  await page.getByRole("button", { name: "Roles of invitee@one.example" }).click();
  const roles = page.getByRole("dialog", { name: "Roles of invitee@one.example" });
  await roles.getByLabel("Datadog Read Only Role").check();
  await roles.getByRole("button", { name: "Save roles" }).click();
  await page.waitForFunction(() => [...document.querySelectorAll("td[data-label=Roles]")].some((td) => td.textContent === "Datadog Read Only Role"));

  // A secret found in the open, reported from the Leaks page: revoked by the default policy.
  const leaky = await makeToken("leaky-console", ["api_keys_read"]);
  await open("Leaks");
  assert.equal(await page.getByLabel("When a credential is reported leaked").inputValue(), "revoke");
  await page.getByLabel("Secret found", { exact: true }).fill(leaky.key);
  await page.getByLabel("Where", { exact: true }).fill("ci.log line 12");
  await page.getByRole("button", { name: "Report leak" }).click();
  await page.getByText("Reported: the credential was handled by the policy.").waitFor();
  await settle();
  const leakRow = tokenRows().filter({ hasText: leaky.id });
  await leakRow.waitFor();
  assert.equal(await leakRow.locator("td[data-label=Action]").textContent(), "revoked");
  assert.equal(await leakRow.locator("td[data-label=Where]").textContent(), "ci.log line 12");
  assert.equal((await srv.raw("GET", "/api/v2/validate_keys", { headers: { authorization: `Bearer ${leaky.key}` } })).status, 403);
  assert.ok(!(await page.content()).includes(leaky.key), "the reported secret is not left in the page");
  // ...and the History page lists it as leaked.
  await open("History");
  await page.getByLabel("How it ended").selectOption("leaked");
  await settle();
  await rowOf("leaky-console").waitFor();
  await open("Leaks");
  await shot("leaks");
  await accessible("the Leaks page with a report");

  // A service account, and its own page of keys and tokens.
  await open("Service accounts");
  await page.getByRole("button", { name: "New service account" }).click();
  const sa = page.getByRole("dialog", { name: "New service account" });
  await sa.getByLabel("Name").fill("deploy-bot");
  await sa.getByLabel("Email").fill("deploy-bot@one.example");
  await sa.getByRole("button", { name: "Create service account" }).click();
  await settle();
  await page.getByRole("button", { name: "Keys and tokens of deploy-bot" }).click();
  await page.getByRole("heading", { level: 1, name: "Service account deploy-bot" }).waitFor();
  await settle();
  await page.getByRole("button", { name: "New access token" }).click();
  const sat = page.getByRole("dialog", { name: "New access token for deploy-bot" });
  await sat.getByLabel("Name").fill("deploy-sat");
  await sat.getByLabel("Find a permission").fill("api_keys_read");
  await sat.locator('[data-scope="api_keys_read"] input').check();
  await sat.getByRole("button", { name: "Create token" }).click();
  const satShown = page.getByRole("dialog", { name: /Token deploy-sat created/ });
  assert.match(srv.remember(await satShown.getByLabel("New token").inputValue()), /^ddsat_/);
  await satShown.getByRole("button", { name: "I have copied it" }).click();
  await settle();
  await rowOf("deploy-sat").waitFor();
  await shot("service-account");
  await accessible("a service account's page");
});

test("the tokens page with PATs and SATs (the README's picture)", async () => {
  await makeToken("ci-deploy", ["api_keys_read", "api_keys_write"]);
  await open("Access tokens");
  await rowOf("deploy-sat").waitFor();
  await shot("tokens-overview");
  if (process.env.KEYHOLD_DOCS_SCREENSHOT) copyFileSync(join(SHOTS, "tokens-overview.png"), join(ROOT, "docs", "console-tokens.png"));
});

test("a phone-width window and 200% zoom (half the CSS width): no sideways scrolling", async () => {
  for (const [width, name] of [[390, "tokens-phone"], [640, "tokens-zoom200"]]) {
    await page.setViewportSize({ width, height: 844 });
    await open("Access tokens");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `at ${width}px the page is ${overflow}px wider than the window`);
    await shot(name);
    await accessible(`the tokens page ${width}px wide`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("keyboard only: skip link, navigation, a dialog opened, cancelled with Escape, focus back", async () => {
  await page.goto(`${srv.base}/console/#/tokens`);
  await page.reload(); // a fresh load: focus starts at the top of the document
  await settle();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id || document.activeElement.outerHTML.slice(0, 80)), "skip");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none", "focus is visible");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.id), "main");
  await page.getByRole("button", { name: "New access token" }).focus();
  await page.keyboard.press("Enter");
  const dlg = page.getByRole("dialog", { name: "New access token" });
  await dlg.waitFor();
  assert.ok(await page.evaluate(() => Boolean(document.activeElement.closest("dialog"))), "focus moved into the dialog");
  await page.keyboard.press("Escape");
  await dlg.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "New access token", "focus returned");
  // The navigation by keyboard: focus a link, Enter, and the new page's heading has focus.
  await page.getByRole("link", { name: "API keys", exact: true }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { level: 1, name: "API keys" }).waitFor();
  await settle();
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "API keys");
});

test("sign out; a PAT that lacks permissions sees the API's 403 message", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to keyhold" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "signed out: nothing kept");
  const weak = await makeToken("weak-console", ["user_access_read"]);
  await signInWithToken(weak.key);
  await page.getByRole("heading", { level: 1, name: "Access tokens" }).waitFor();
  const alert = page.locator(".list .state.error");
  await alert.waitFor();
  assert.equal(await alert.textContent(), "403: Forbidden: this operation requires the user_app_keys or org_app_keys_read permission");
  assert.match(await page.locator("#who-text").textContent(), /token ddpat_/);
  await shot("forbidden");
  await accessible("a 403 answer");
});

test("a sign-in that is revoked meanwhile goes back to sign-in", async () => {
  const t = await makeToken("short-lived-console", ["user_app_keys"]);
  await signInWithToken(t.key);
  await page.getByRole("heading", { level: 1, name: "Access tokens" }).waitFor();
  await settle();
  assert.equal((await adminApi("DELETE", `/api/v2/personal_access_tokens/${t.id}`)).status, 204);
  await open("API keys").catch(() => {}); // the page starts, its call is refused
  await page.getByRole("heading", { name: "Sign in to keyhold" }).waitFor();
  await page.getByRole("alert").filter({ hasText: "expired or was revoked" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test("no page asked for anything from another origin, and nothing broke the Content-Security-Policy", () => {
  assert.ok(requests.length > 20, `requests recorded: ${requests.length}`);
  const foreign = requests.filter((u) => new URL(u).origin !== origin);
  assert.deepEqual(foreign, [], "requests to another origin");
  assert.deepEqual(cspProblems, [], "CSP violations or page errors");
  for (const u of requests) assert.match(new URL(u).pathname, /^\/(console\/|api\/v[12]\/)/, u);
});
