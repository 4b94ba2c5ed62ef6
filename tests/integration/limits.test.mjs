// limits.test.mjs - rate limits per credential, per org and on failed
// authentications per client address, with Datadog's headers and message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Server, v2, expectStatus } from "./helpers.mjs";

const MESSAGE = (n, p) => `Rate limit of ${n} requests in ${p} seconds reached. Please try again later.`;

test("per credential: headers on every answer, 429 past the limit, other credentials unaffected", async () => {
  const srv = await new Server().start("--rate-limit-credential", "5/60", "--rate-limit-org", "1000/60");
  const bob = srv.addUser(srv.admin, "bob@one.example", ["api_keys_read"]);
  const remaining = [];
  for (let i = 0; i < 5; i++) {
    const r = await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders() });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-ratelimit-limit"], "5");
    assert.equal(r.headers["x-ratelimit-period"], "60");
    assert.equal(r.headers["x-ratelimit-name"], "credential");
    assert.ok(Number(r.headers["x-ratelimit-reset"]) >= 1 && Number(r.headers["x-ratelimit-reset"]) <= 60);
    remaining.push(Number(r.headers["x-ratelimit-remaining"]));
  }
  // A window boundary may fall inside the loop and reset the count; otherwise it counts down.
  if (remaining[0] === 4) assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
  const limited = await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders() });
  if (remaining[0] === 4) {
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.json, { errors: [MESSAGE(5, 60)] });
    assert.equal(limited.headers["x-ratelimit-remaining"], "0");
    // The official client surfaces it as a 429 too.
    await expectStatus(new v2.KeyManagementApi(srv.config()).listAPIKeys({}), 429);
  }
  const other = await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders(bob) });
  assert.equal(other.status, 200);
  await srv.stop();
});

test("per org: every credential of the org shares the org's allowance", async () => {
  const srv = await new Server().start("--rate-limit-org", "4/60", "--rate-limit-credential", "0");
  const bob = srv.addUser(srv.admin, "bob@one.example", ["api_keys_read"]);
  const org2 = srv.addOrg("Two", "a@two.example");
  const statuses = [];
  for (const creds of [srv.admin, bob, srv.admin, bob, srv.admin, bob])
    statuses.push((await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders(creds) })).status);
  // Four answered, then 429 (unless a window boundary fell in between).
  assert.ok(statuses.filter((s) => s === 429).length >= 1, statuses.join(","));
  const limited = await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders(bob) });
  if (limited.status === 429) assert.equal(limited.headers["x-ratelimit-name"], "org");
  assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders(org2) })).status, 200, "other orgs are not affected");
  await srv.stop();
});

test("failed authentications per address: guessing stops, a key that already worked keeps working", async () => {
  const srv = await new Server().start("--rate-limit-auth-failures", "5/600");
  const known = srv.keyHeaders();
  assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: known })).status, 200);
  const bob = srv.addUser(srv.admin, "bob@one.example", ["api_keys_read"]); // never used from here
  const guesses = [];
  for (let i = 0; i < 8; i++) {
    const guess = { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": i.toString(16).padStart(40, "0") };
    guesses.push((await srv.raw("GET", "/api/v2/api_keys", { headers: guess })).status);
  }
  assert.deepEqual(guesses, [403, 403, 403, 403, 403, 429, 429, 429]);
  const v1guess = await srv.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": "f".repeat(32) } });
  assert.equal(v1guess.status, 429, "guessing through /api/v1/validate is limited too");
  const limited = await srv.raw("GET", "/api/v2/api_keys", { headers: known });
  assert.equal(limited.status, 200, "the key that already succeeded from this address is not locked out");
  const unknown = await srv.raw("GET", "/api/v2/api_keys", { headers: srv.keyHeaders(bob) });
  assert.equal(unknown.status, 429, "credentials not yet seen from this address wait for the window");
  assert.equal(unknown.headers["x-ratelimit-name"], "auth_failures");
  await srv.stop();
});
