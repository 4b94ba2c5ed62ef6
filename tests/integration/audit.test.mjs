// audit.test.mjs - Datadog's Audit Trail API over keyhold's audit trail
// (issue 15, item 6), through the official client: the caller's org's
// events and no other's, Datadog's query syntax on the fields keyhold
// records, paging by cursor in both orders (each event once), the hash
// chain visible in the events, audit_logs_read required, and a 400 with a
// specific message for every bad input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Server, v2, expectStatus, hoursFromNow } from "./helpers.mjs";

let srv, org2, reader, peer, audit, tokens, started;

const pat = (name) => ({ data: { type: "personal_access_tokens", attributes: { name, scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } });

before(async () => {
  srv = await new Server().start();
  started = new Date(Date.now() - 2000);
  org2 = srv.addOrg("Org Two", "admin@two.example");
  reader = srv.addUser(srv.admin, "auditor@one.example", ["audit_logs_read"]);
  peer = srv.addUser(srv.admin, "peer@one.example", ["user_app_keys"]);
  const keys = new v2.KeyManagementApi(srv.config());
  tokens = [];
  for (const name of ["alpha", "beta", "gamma", "delta"])
    tokens.push((await keys.createPersonalAccessToken({ body: pat(name) })).data);
  await keys.revokePersonalAccessToken({ tokenId: tokens[1].id });
  await new v2.KeyManagementApi(srv.config(org2)).createPersonalAccessToken({ body: pat("elsewhere") });
  audit = new v2.AuditApi(srv.config());
});

after(async () => {
  await srv.stop();
});

const all = async (gen) => {
  const out = [];
  for await (const e of gen) out.push(e);
  return out;
};

test("the org's events, with Datadog's fields, and no other org's", async () => {
  const r = await audit.listAuditLogs({ filterQuery: "@asset.type:personal_access_token", filterFrom: started, pageLimit: 100 });
  const mine = new Set(tokens.map((t) => t.id));
  assert.equal(r.data.length, 5, JSON.stringify(r.data.map((e) => e.attributes.message)));
  for (const e of r.data) {
    assert.equal(e.type, "audit");
    assert.equal(e.attributes.service, "keyhold");
    assert.ok(e.attributes.timestamp instanceof Date && e.attributes.timestamp >= started);
    const a = e.attributes.attributes;
    assert.ok(mine.has(a.asset.id), `an event of this org only: ${e.attributes.message}`);
    assert.equal(a.org.id, srv.admin.org_id);
    assert.equal(a.usr.id, srv.admin.user_id);
    assert.equal(a.network.client.ip, "127.0.0.1");
    assert.ok(e.attributes.tags.includes(`action:${a.action}`));
    assert.match(e.attributes.message, new RegExp(`^personal_access_token ${a.asset.id} ${a.action} by `));
  }
  assert.deepEqual(r.data.map((e) => e.attributes.attributes.action).sort(), ["created", "created", "created", "created", "revoked"]);
  assert.equal(r.meta.status, "done");
  assert.equal(r.meta.page, undefined, "one page holds them all: no cursor");

  const other = await new v2.AuditApi(srv.config(org2)).listAuditLogs({ filterQuery: "@asset.type:personal_access_token", filterFrom: started });
  assert.equal(other.data.length, 1);
  assert.equal(other.data[0].attributes.attributes.org.id, org2.org_id);
});

test("query syntax: attributes, free text, OR, NOT, -, parentheses, wildcards, quotes", async () => {
  const count = async (filterQuery) => (await audit.listAuditLogs({ filterQuery, filterFrom: started, pageLimit: 1000 })).data.length;
  const total = await count("*");
  assert.ok(total >= 7, `the org's events: ${total}`); // auditor and peer made by the CLI, 4 PATs made, 1 revoked
  assert.equal(await count("@action:revoked"), 1);
  assert.equal(await count("@action:revoked OR @action:created @asset.type:personal_access_token"), 5);
  assert.equal(await count("(@action:revoked OR @action:created) AND @asset.type:personal_access_token"), 5);
  assert.equal(await count("@asset.type:personal_access_token -@action:created"), 1);
  assert.equal(await count("@asset.type:personal_access_token NOT @action:created"), 1);
  assert.equal(await count(`@asset.id:${tokens[2].id.slice(0, 20)}*`), 1);
  assert.equal(await count(`"${tokens[3].id}"`), 1, "free text, quoted");
  assert.equal(await count("REVOKED"), 1, "free text ignores case");
  assert.equal(await count("@asset.type:personal_acc*"), 5);
  assert.equal(await count("service:keyhold @action:revoked"), 1);
  assert.equal(await count("service:other"), 0);
  assert.equal(await count("@no.such.attribute:x"), 0);
  assert.equal(await count(`@usr.id:${srv.admin.user_id} @action:created @asset.type:user`), 0, "users were made by the CLI");
  const byCli = await count("@usr.id:operator @asset.type:user");
  assert.ok(byCli >= 2, "the auditor and the peer, made by the CLI");
  assert.equal(byCli, await count("@asset.type:user @action:created"));
  for (const [q, msg] of [["(@action:created", "not closed"], ["@action:", "value is missing"], ["OR @action:x", "term is missing"],
    ["@action", "without a value"], ['"open', "not closed"], [`${"(".repeat(40)}x${")".repeat(40)}`, "nested deeper"]]) {
    const body = await expectStatus(audit.listAuditLogs({ filterQuery: q }), 400);
    assert.match(body.errors[0], new RegExp(msg), q);
  }
});

test("paging by cursor reads each event once, oldest or newest first, by GET and by search", async () => {
  const want = (await audit.listAuditLogs({ filterFrom: started, pageLimit: 1000 })).data.map((e) => e.id);
  assert.ok(want.length >= 7);
  const asc = await all(audit.listAuditLogsWithPagination({ filterFrom: started, pageLimit: 2 }));
  assert.deepEqual(asc.map((e) => e.id), want);
  for (let i = 1; i < asc.length; i++) assert.ok(asc[i].attributes.timestamp >= asc[i - 1].attributes.timestamp);
  const desc = await all(audit.listAuditLogsWithPagination({ filterFrom: started, pageLimit: 3, sort: "-timestamp" }));
  assert.deepEqual(desc.map((e) => e.id), [...want].reverse());
  const searched = await all(audit.searchAuditLogsWithPagination({ body: {
    filter: { query: "@asset.type:personal_access_token", from: "now-1h", to: "now" }, sort: "-timestamp", page: { limit: 2 } } }));
  assert.equal(searched.length, 5);
  assert.deepEqual(searched.map((e) => e.id), want.filter((id) => searched.some((e) => e.id === id)).reverse());
  // A page's links.next is a GET that continues it.
  const first = await srv.raw("GET", "/api/v2/audit/events?page%5Blimit%5D=2&filter%5Bfrom%5D=now-1h", { headers: srv.keyHeaders() });
  assert.equal(first.status, 200);
  const next = await srv.raw("GET", first.json.links.next, { headers: srv.keyHeaders() });
  assert.equal(next.status, 200, next.body);
  assert.deepEqual([...first.json.data, ...next.json.data].map((e) => e.id).slice(0, 4), want.slice(0, 4));
});

test("each event carries the hash chain: its prev_hash is the hash of the org's event before it", async () => {
  const events = await all(audit.listAuditLogsWithPagination({ filterFrom: new Date(Date.now() - 3600e3), pageLimit: 50 }));
  let prev = null;
  for (const e of events) {
    const k = e.attributes.attributes.keyhold;
    assert.match(k.hash, /^[0-9a-f]{64}$/);
    if (prev) assert.equal(k.prev_hash, prev, `event ${e.id} follows the one before it`);
    prev = k.hash;
  }
});

test("audit_logs_read is required; a user holding only it reads the trail", async () => {
  const body = await expectStatus(new v2.AuditApi(srv.config(peer)).listAuditLogs({}), 403);
  assert.ok(body.errors[0].length > 0);
  await expectStatus(new v2.AuditApi(srv.config(peer)).searchAuditLogs({ body: {} }), 403);
  const r = await new v2.AuditApi(srv.config(reader)).searchAuditLogs({ body: { filter: { from: "now-1h", query: "@action:revoked" } } });
  assert.equal(r.data.length, 1);
  await expectStatus(new v2.AuditApi(srv.config({ api_key: srv.admin.api_key, app_key: "0".repeat(40) })).listAuditLogs({}), 403);
});

test("every bad input answers 400 with what is wrong", async () => {
  const h = { ...srv.keyHeaders(), "content-type": "application/json" };
  const get = (q) => srv.raw("GET", `/api/v2/audit/events?${q}`, { headers: h });
  const post = (body) => srv.raw("POST", "/api/v2/audit/events/search", { headers: h, body: typeof body === "string" ? body : JSON.stringify(body) });
  const cursor = (await get("page%5Blimit%5D=1&filter%5Bfrom%5D=now-1h")).json.meta.page.after;
  const cases = [
    [await get("sort=name"), /Invalid sort/],
    [await get("page%5Blimit%5D=0"), /page\[limit\]/],
    [await get("page%5Blimit%5D=1001"), /page\[limit\]/],
    [await get("page%5Blimit%5D=ten"), /page\[limit\]/],
    [await get("page%5Bcursor%5D=zz"), /Invalid page cursor/],
    [await get(`page%5Bcursor%5D=${cursor}&sort=-timestamp`), /other order/],
    [await get("filter%5Bfrom%5D=yesterday"), /Invalid from/],
    [await get("filter%5Bto%5D=now-1x"), /Invalid to/],
    [await get("filter%5Bfrom%5D=now&filter%5Bto%5D=now-1h"), /from is after to/],
    [await post("{"), /./],
    [await post("[1]"), /object/],
    [await post({ filter: "x" }), /Invalid filter/],
    [await post({ filter: { query: 7 } }), /filter\.query/],
    [await post({ page: { limit: "5" } }), /page\.limit/],
    [await post({ page: { limit: 0 } }), /page\.limit/],
    [await post({ sort: "oldest" }), /Invalid sort/],
    [await post({ options: { timezone: "Europe/Paris" } }), /UTC/],
    [await post({ options: { timezone: "UTC", time_offset: 60 } }), /not both/],
    [await post({ options: { time_offset: "60" } }), /time_offset/],
  ];
  for (const [r, msg] of cases) {
    assert.equal(r.status, 400, r.body);
    assert.match(r.json.errors[0], msg);
  }
  const ok = await post({});
  assert.equal(ok.status, 200, "an empty search is every event of the last 15 minutes");
  assert.ok(ok.json.data.length >= 1);
  const cont = await get(`page%5Bcursor%5D=${cursor}&filter%5Bfrom%5D=now-1h`);
  assert.equal(cont.status, 200);
});
