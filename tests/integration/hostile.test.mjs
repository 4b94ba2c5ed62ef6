// hostile.test.mjs - bad input over plain HTTP (what the official client
// cannot send): every answer is a 4xx, never a crash or a hang, and the
// server keeps serving afterwards.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { Server } from "./helpers.mjs";

let srv;

before(async () => {
  srv = await new Server().start();
});

after(async () => {
  await srv.stop();
});

/** Writes raw bytes on a fresh connection; resolves what came back before close or timeout. */
function rawSocket(bytes, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = connect(srv.port, "127.0.0.1");
    const chunks = [];
    const done = (why) => {
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), why, ms: Date.now() - started });
    };
    sock.setTimeout(timeoutMs, () => done("timeout"));
    sock.on("data", (c) => chunks.push(c));
    sock.on("end", () => done("closed"));
    sock.on("error", () => done("error"));
    sock.write(bytes);
  });
}

const statusOf = (text) => Number((text.match(/^HTTP\/1\.1 (\d{3})/) || [])[1]);

test("malformed and mistyped JSON bodies get 400 {errors}", async () => {
  const h = srv.keyHeaders();
  const bodies = [
    "{", "null", "\"str\"", "[1,2]", "{\"data\":[]}", "{\"data\":{\"type\":7}}",
    "{\"data\":{\"type\":\"api_keys\",\"attributes\":{\"name\":[\"x\"]}}}",
    "{\"data\":{\"type\":\"api_keys\",\"attributes\":{\"name\":\"x\",\"category\":false}}}",
    "{\"data\":{\"type\":\"api_keys\",\"attributes\":{\"name\":\"" + "n".repeat(300) + "\"}}}",
    "\u0000", "{\"a\":\"\\u0000\"}", "[".repeat(5000) + "]".repeat(5000), "{\"data\":1}garbage",
  ];
  for (const path of ["/api/v2/api_keys", "/api/v2/personal_access_tokens", "/api/v2/service_accounts", "/api/v1/api_key"]) {
    for (const body of bodies) {
      const r = await srv.raw("POST", path, { headers: h, body });
      assert.equal(r.status, 400, `${path} ${body.slice(0, 40)}`);
      assert.equal(typeof r.json.errors[0], "string");
    }
  }
});

test("a body over 1 MiB is refused with 413, before it is sent", async () => {
  // Only the headers: the declared length alone is refused (a client sending
  // the body may see the connection closed under its write instead).
  const head = `POST /api/v2/api_keys HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${srv.admin.api_key}\r\n` +
    `DD-APPLICATION-KEY: ${srv.admin.app_key}\r\nContent-Length: ${1024 * 1024 + 10}\r\n\r\n`;
  const r = await rawSocket(head, { timeoutMs: 5000 });
  assert.equal(statusOf(r.text), 413);
});

test("oversized or too many headers get 431 {errors}", async () => {
  const big = await srv.raw("GET", "/api/v2/api_keys", { headers: { ...srv.keyHeaders(), "X-Big": "b".repeat(20000) } });
  assert.equal(big.status, 431);
  assert.match(big.json.errors[0], /headers too large/);
  const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`x-h${i}`, "v"]));
  // libh2o's parser itself stops at 100 headers and answers 400.
  const st = (await srv.raw("GET", "/api/v2/api_keys", { headers: many })).status;
  assert.ok(st === 400 || st === 431, String(st));
});

test("unknown paths are 404, wrong methods 405, both as JSON", async () => {
  const nf = await srv.raw("GET", "/api/v2/nope", { headers: srv.keyHeaders() });
  assert.equal(nf.status, 404);
  assert.deepEqual(nf.json, { errors: ["Not found"] });
  const m = await srv.raw("PATCH", "/api/v1/validate");
  assert.equal(m.status, 405);
  assert.equal(typeof m.json.errors[0], "string");
  const long = await srv.raw("GET", "/api/v2/personal_access_tokens/" + "a".repeat(5000), { headers: srv.keyHeaders() });
  assert.equal(long.status, 404);
  const enc = await srv.raw("GET", "/api/v2/personal_access_tokens?page%5Bsize%5D=%ZZ", { headers: srv.keyHeaders() });
  assert.equal(enc.status, 400);
});

test("errors from the HTTP layer are 4xx with a JSON body (bar libh2o's fixed answer to unparsable bytes)", async () => {
  const bodyOf = (text) => text.slice(text.indexOf("\r\n\r\n") + 4);
  const fixed = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n" +
    "Content-Length: 11\r\n\r\nBad Request";
  for (const bytes of [
    "GARBAGE\r\n\r\n",
    "GET /api/v1/validate HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n",
    "GET /api/v1/validate HTTP/9.9\r\n\r\n",
    "POST /api/v2/api_keys HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
    "POST /api/v2/api_keys HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  ]) {
    const r = await rawSocket(Buffer.from(bytes, "latin1"), { timeoutMs: 2000 });
    const status = statusOf(r.text);
    assert.ok(status >= 400 && status < 500, JSON.stringify(bytes) + " -> " + r.text.slice(0, 40));
    if (r.text === fixed) continue;
    assert.match(r.text, /\r\ncontent-type: application\/json\r\n/i, JSON.stringify(bytes));
    const json = JSON.parse(bodyOf(r.text));
    assert.equal(typeof json.errors[0], "string");
  }
  const big = await rawSocket("POST /api/v2/api_keys HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n");
  assert.equal(statusOf(big.text), 413);
  assert.match(JSON.parse(bodyOf(big.text)).errors[0], /too large/);
});

test("an error answer keeps the connection alive for the next request", async () => {
  const key = srv.admin.api_key;
  const req = (body) =>
    `POST /api/v2/api_keys HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\nDD-APPLICATION-KEY: ${srv.admin.app_key}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = await rawSocket(req("{") + `GET /api/v1/validate HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\n\r\n`, { timeoutMs: 1500 });
  const statuses = [...r.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [400, 200]);
});

// Request smuggling (RFC 9112 section 6.3): a head whose body length could be
// read two ways is refused and its connection closed, so the bytes after it
// never run as a request of their own.
test("duplicate Content-Length, Content-Length with chunked, and obs-fold get 400 and a closed connection", async () => {
  const key = srv.admin.api_key;
  const smuggled = `GET /api/v1/validate HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\n\r\n`;
  const cases = {
    "two Content-Length": `POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\nContent-Length: 0\r\n` +
      `Content-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    "the same Content-Length twice": `POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\nContent-Length: 0\r\n` +
      `Content-Length: 0\r\n\r\n${smuggled}`,
    "Content-Length and chunked": `POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\n` +
      `Content-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    "chunked and Content-Length": `POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\n` +
      `Transfer-Encoding: chunked\r\nContent-Length: ${5 + smuggled.length}\r\n\r\n0\r\n\r\n${smuggled}`,
    "obs-fold": `GET /api/v1/validate HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\nX-Note: one\r\n two\r\n\r\n${smuggled}`,
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const r = await rawSocket(Buffer.from(bytes, "latin1"), { timeoutMs: 3000 });
    const statuses = [...r.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [400], `${name}: one answer, 400 (${r.text.slice(0, 60)})`);
    assert.equal(r.why, "closed", `${name}: the server closes the connection`);
    assert.match(r.text, /\r\nconnection: close\r\n/i, name);
    assert.match(JSON.parse(r.text.slice(r.text.indexOf("\r\n\r\n") + 4)).errors[0], /^Bad request: /, name);
  }
  // The same requests framed one way only are served, both of them.
  const plain = `GET /api/v1/validate HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${key}\r\nContent-Length: 0\r\n\r\n${smuggled}`;
  const ok = await rawSocket(Buffer.from(plain, "latin1"), { timeoutMs: 1500 });
  assert.deepEqual([...ok.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])), [200, 200]);
});

test("credentials with optional whitespace after them are the same credentials", async () => {
  const h = srv.keyHeaders();
  const created = (await srv.raw("POST", "/api/v2/personal_access_tokens", { headers: { ...h, "content-type": "application/json" },
    body: JSON.stringify({ data: { type: "personal_access_tokens", attributes: { name: "ows", scopes: ["api_keys_read"],
      expires_at: new Date(Date.now() + 48 * 3600e3).toISOString() } } }) })).json.data;
  const token = srv.remember(created.attributes.key);
  const get = (headerLines) => rawSocket(Buffer.from(`GET /api/v2/api_keys HTTP/1.1\r\nHost: x\r\n${headerLines}Connection: close\r\n\r\n`, "latin1"));
  for (const ws of [" ", "\t", " \t ", ""]) {
    const keys = await get(`DD-API-KEY: ${h["DD-API-KEY"]}${ws}\r\nDD-APPLICATION-KEY:${ws} ${h["DD-APPLICATION-KEY"]}${ws}\r\n`);
    assert.equal(statusOf(keys.text), 200, `keys with ${JSON.stringify(ws)} around them`);
    const bearer = await get(`Authorization: Bearer ${token}${ws}\r\n`);
    assert.equal(statusOf(bearer.text), 200, `a bearer token with ${JSON.stringify(ws)} after it`);
  }
  const inside = await get(`DD-API-KEY: ${h["DD-API-KEY"].slice(0, 10)} ${h["DD-API-KEY"].slice(10)}\r\nDD-APPLICATION-KEY: ${h["DD-APPLICATION-KEY"]}\r\n`);
  assert.equal(statusOf(inside.text), 403, "whitespace inside a key is not trimmed");
});

test("filter[created_at][end] at the epoch is a bound like any other: nothing was created before it", async () => {
  const h = srv.keyHeaders();
  const epoch = encodeURIComponent("1970-01-01T00:00:00Z");
  for (const path of ["/api/v2/api_keys", "/api/v2/application_keys", "/api/v2/current_user/application_keys"]) {
    const all = await srv.raw("GET", path, { headers: h });
    assert.ok(all.json.data.length > 0, path);
    const none = await srv.raw("GET", `${path}?filter[created_at][end]=${epoch}`, { headers: h });
    assert.equal(none.status, 200, path);
    assert.deepEqual(none.json.data, [], `${path}: created at or before the epoch`);
    const since = await srv.raw("GET", `${path}?filter[created_at][start]=${epoch}`, { headers: h });
    assert.equal(since.json.data.length, all.json.data.length, `${path}: created at or after the epoch`);
  }
  const modified = await srv.raw("GET", `/api/v2/api_keys?filter[modified_at][end]=${epoch}`, { headers: h });
  assert.deepEqual(modified.json.data, []);
});

test("a client that stalls mid-request gets 408 with a JSON body; an idle one is closed quietly", async () => {
  const quick = await new Server().start("--request-timeout", "2");
  try {
    const rawTo = (bytes) =>
      new Promise((resolve) => {
        const started = Date.now();
        const sock = connect(quick.port, "127.0.0.1");
        const chunks = [];
        const done = (why) => {
          sock.destroy();
          resolve({ text: Buffer.concat(chunks).toString("latin1"), why, ms: Date.now() - started });
        };
        sock.setTimeout(15000, () => done("timeout"));
        sock.on("data", (c) => chunks.push(c));
        sock.on("end", () => done("closed"));
        sock.on("error", () => done("error"));
        if (bytes) sock.write(bytes);
      });
    const [headers, body, idle] = await Promise.all([
      rawTo("GET /api/v1/validate HTTP/1.1\r\nHost: x\r\n"),
      rawTo("POST /api/v2/api_keys HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"data\":"),
      rawTo(""),
    ]);
    for (const r of [headers, body]) {
      assert.equal(r.why, "closed", "the server must end a stalled request itself");
      assert.equal(statusOf(r.text), 408, r.text.slice(0, 60));
      const json = JSON.parse(r.text.slice(r.text.indexOf("\r\n\r\n") + 4));
      assert.match(json.errors[0], /Request Timeout/);
      assert.ok(r.ms >= 1500 && r.ms < 6000, `answered after ${r.ms} ms`);
    }
    assert.equal(idle.why, "closed");
    assert.equal(idle.text, "", "an idle keep-alive connection is closed without an answer");
    const ok = await quick.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": quick.admin.api_key } });
    assert.equal(ok.status, 200);
  } finally {
    await quick.stop();
  }
});

test("no key or token value reaches the access log, whatever the method, path or headers", async () => {
  const { operations } = await import("./contract.mjs");
  const h = srv.keyHeaders();
  const created = (await srv.raw("POST", "/api/v2/personal_access_tokens", { headers: { ...h, "content-type": "application/json" },
    body: JSON.stringify({ data: { type: "personal_access_tokens", attributes: { name: "log", scopes: ["api_keys_read"],
      expires_at: new Date(Date.now() + 48 * 3600e3).toISOString() } } }) })).json.data;
  // Throwaway credentials for the paths: a DELETE of /api/v1/api_key/{key}
  // really deletes the key it names.
  const hj = { ...h, "content-type": "application/json" };
  const apiKey = (await srv.raw("POST", "/api/v2/api_keys", { headers: hj,
    body: JSON.stringify({ data: { type: "api_keys", attributes: { name: "log" } } }) })).json.data;
  const appKey = (await srv.raw("POST", "/api/v2/current_user/application_keys", { headers: hj,
    body: JSON.stringify({ data: { type: "application_keys", attributes: { name: "log" } } }) })).json.data;
  const values = [srv.remember(apiKey.attributes.key), srv.remember(appKey.attributes.key), srv.remember(created.attributes.key)];
  const big = "x".repeat(17 * 1024);
  let sent = 0;
  // The answers here may echo an id the caller put in the path ("<id> not
  // found", as Datadog's do): that is the caller's own text, not a secret
  // shown, so they are left out of the helper's secret scan.
  const scanned = srv.responses.length;
  for (const op of operations().ops) {
    for (const value of values) {
      const path = op.path.replace(/\{[^}]+\}/g, value);
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
        for (const p of [path, `${path}/`, `${path}/${value}`]) {
          await srv.raw(method, p, { headers: h });
          sent++;
        }
      }
      await srv.raw("GET", path, { headers: { ...h, "x-big": big } }); // 431
      sent++;
    }
  }
  srv.responses.length = scanned;
  await new Promise((res) => setTimeout(res, 200));
  assert.ok((srv.log.match(/ access /g) || []).length >= sent, "every request was logged");
  for (const v of values) assert.ok(!srv.log.includes(v), `a value ending ${v.slice(-4)} is in the log`);
  // A route is logged by its template; a path no route matched, masked.
  assert.match(srv.log, /access GET \/api\/v1\/application_key\/\{id\} /);
  assert.match(srv.log, /access OPTIONS unmatched \/api\/v2\/personal_access_tokens\/\*\*\*\*\w{4} 405/);
});

test("after all of that the server still answers", async () => {
  const r = await srv.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": srv.admin.api_key } });
  assert.equal(r.status, 200);
});

/** Opens n connections from localAddress that send half a request and stall. */
function stall(port, n, localAddress) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = connect({ port, host: "127.0.0.1", localAddress });
    s.on("error", () => {});
    s.closedByServer = false;
    s.on("end", () => { s.closedByServer = true; });
    s.on("close", () => { s.closedByServer = true; });
    s.write("GET /api/v1/validate HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    socks.push(s);
  }
  return socks;
}

/** Waits until pred() holds or ms pass; resolves pred(). */
async function eventually(pred, ms = 5000) {
  for (const until = Date.now() + ms; !pred() && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  return pred();
}

test("slowloris: 1000 stalled connections from one address do not stop valid requests from others", async () => {
  const stalled = stall(srv.port, 1000, "127.0.0.2");
  const closedCount = () => stalled.filter((s) => s.closedByServer).length;
  // The default cap of 512 connections per address closes the rest at once.
  assert.ok(await eventually(() => closedCount() >= 488), `${closedCount()} of 1000 closed`);
  for (let i = 0; i < 20; i++) {
    const r = await srv.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": srv.admin.api_key } });
    assert.equal(r.status, 200);
  }
  assert.equal(closedCount(), 488, "exactly the connections past the address's cap were closed");
  for (const s of stalled) s.destroy();
});

test("one address holds at most --max-connections-per-address connections; others are served, and it may reconnect", async () => {
  const capped = await new Server().start("--max-connections-per-address", "16", "--threads", "2");
  const greedy = stall(capped.port, 40, "127.0.0.5");
  const closed = () => greedy.filter((s) => s.closedByServer).length;
  assert.ok(await eventually(() => closed() >= 24), `${closed()} of 40 closed`);
  const other = await capped.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": capped.admin.api_key }, localAddress: "127.0.0.6" });
  assert.equal(other.status, 200, "another address is served");
  assert.equal(closed(), 24, "16 stay open, over both event loops together");
  for (const s of greedy) s.destroy();
  // Closed connections no longer count: the address is served again.
  let again;
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    again = await capped.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": capped.admin.api_key }, localAddress: "127.0.0.5" }).catch((e) => ({ status: e.code }));
    if (again.status === 200) break;
  }
  assert.equal(again.status, 200, "the address may connect again once its connections are closed");
  assert.match(capped.log, /a client address reached its connection cap/);
  await capped.stop();
});

test("at the connection cap the connection that waited longest is closed, so a new client is still served", async () => {
  const capped = await new Server().start("--max-connections", "50", "--threads", "1");
  // 60 stalled connections from 20 addresses (3 each, under the per-address cap).
  const held = [];
  for (let i = 0; i < 60; i++) {
    held.push(...stall(capped.port, 1, `127.0.1.${1 + (i % 20)}`));
    await new Promise((r) => setTimeout(r, 5)); // an order of age
  }
  const closed = () => held.filter((s) => s.closedByServer);
  assert.ok(await eventually(() => closed().length >= 9), `${closed().length} of 60 closed`);
  const r = await capped.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": capped.admin.api_key }, localAddress: "127.0.2.1" });
  assert.equal(r.status, 200, "a new client is served while the cap is full of stalled connections");
  // The ones closed are the oldest: among the first 12 opened.
  for (const s of closed()) assert.ok(held.indexOf(s) < 12, `connection ${held.indexOf(s)} was closed, not one of the oldest`);
  assert.match(capped.log, /closing the connection that waited longest/);
  for (const s of held) s.destroy();
  await capped.stop();
});

test("clients that stop reading their answers cannot hold the connections: the stalled answer is closed", async () => {
  // One loop, a cap of 8 (+1): every place taken by a client that pipelines
  // requests for a 110 KB answer and never reads them.
  const capped = await new Server().start("--max-connections", "8", "--threads", "1", "--request-timeout", "6");
  const h = capped.keyHeaders();
  const one = `GET /api/v2/permissions HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${h["DD-API-KEY"]}\r\nDD-APPLICATION-KEY: ${h["DD-APPLICATION-KEY"]}\r\n\r\n`;
  const readers = [];
  for (let i = 0; i < 9; i++) {
    const s = connect({ port: capped.port, host: "127.0.0.1" });
    s.on("error", () => {});
    s.pause(); // never reads: the kernel's buffers fill, then the server's writes stop
    s.write(one.repeat(300));
    readers.push(s);
  }
  // Once an answer has stalled past 1 s (a slow build may take a while to
  // fill the buffers), a new client is served: the connection whose answer
  // was unread longest makes room, well before the request timeout would.
  let r;
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((res) => setTimeout(res, 250))) {
    r = await capped.raw("GET", "/api/v1/validate", { headers: { "DD-API-KEY": capped.admin.api_key }, localAddress: "127.0.0.7" })
      .catch((e) => ({ status: e.code }));
    if (r.status === 200) break;
  }
  assert.equal(r.status, 200, "a new client is served at the cap");
  assert.match(capped.log, /closing the connection that waited longest on its client/);
  // Past the request timeout, the watch closes the stalled answers too.
  for (const until = Date.now() + 15000; !/has not read its answer/.test(capped.log) && Date.now() < until;)
    await new Promise((res) => setTimeout(res, 100));
  assert.match(capped.log, /closing a connection whose client has not read its answer/);
  for (const s of readers) s.destroy();
  await capped.stop();
});
