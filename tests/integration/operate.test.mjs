// operate.test.mjs - what running keyhold as a service needs: health and
// readiness probes, Prometheus metrics on the admin listener, JSON access
// logs with request ids and refusal reasons, TLS (curl, node's TLS client,
// the official client over HTTPS) with certificates reloaded on SIGHUP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync, readFileSync, mkdtempSync, rmSync, renameSync, chmodSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpRequest } from "node:http";
import { Server, v1, v2, PG, BIN, pgExec, expectStatus, hoursFromNow } from "./helpers.mjs";

const pat = (name, scopes) => ({
  body: { data: { type: "personal_access_tokens", attributes: { name, scopes, expiresAt: hoursFromNow(48) } } },
});

/** GET on another port of this host (the admin listener). */
function get(port, path) {
  return new Promise((res, rej) => {
    httpRequest({ host: "127.0.0.1", port, path, agent: false }, (r) => {
      const chunks = [];
      r.on("data", (c) => chunks.push(c));
      r.on("end", () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString() }));
    }).on("error", rej).end();
  });
}

/** A scrape of the admin listener, parsed by the Prometheus project's own
 * parser (prometheus_parse.py): its samples. */
async function scrape(port) {
  const r = await get(port, "/metrics");
  assert.equal(r.status, 200);
  assert.match(r.headers["content-type"], /^text\/plain; version=0\.0\.4/);
  const parsed = spawnSync("/usr/bin/python3", [new URL("prometheus_parse.py", import.meta.url).pathname],
    { input: r.body, encoding: "utf8" });
  assert.equal(parsed.status, 0, "the exposition parses: " + parsed.stderr);
  return JSON.parse(parsed.stdout);
}

/** The value of the sample `name` whose labels include `labels` (0 when none). */
function sample(scraped, name, labels = {}) {
  const s = scraped.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? s.value : 0;
}

/** Whether a family was exposed (with its HELP and TYPE). */
function hasFamily(scraped, name) {
  return scraped.families.some((f) => f.name === name || f.name === name.replace(/_total$/, ""));
}

/** Polls /readyz until its answer satisfies ok (at most 5 s); returns that answer. */
async function until(srv, ok) {
  let r;
  for (let i = 0; i < 100; i++) {
    r = await srv.raw("GET", "/readyz");
    if (ok(r)) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`/readyz never answered as expected; last: ${r.status} ${r.body}`);
}

/** Makes schema_migrations claim a later version than this build knows. */
function pretendNewerSchema(srv, on) {
  const sql = on ? "INSERT INTO schema_migrations VALUES (9999, 0)" : "DELETE FROM schema_migrations WHERE version = 9999";
  if (PG) pgExec(`SET search_path TO ${srv.schema}; ${sql}`);
  else execFileSync("sqlite3", [srv.db, sql]);
}

test("/healthz and /readyz answer without credentials, and readiness follows the store", async () => {
  const srv = new Server();
  await srv.start();
  const live = await srv.raw("GET", "/healthz");
  assert.equal(live.status, 200);
  assert.deepEqual(live.json, { status: "ok" });
  const ready = await srv.raw("GET", "/readyz");
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json, { status: "ok" });
  for (const r of [live, ready]) assert.doesNotMatch(r.headers.server || "", /\d/, "no version in the banner");

  // The store is asked at most once a second, however often the probe comes.
  pretendNewerSchema(srv, true);
  const notReady = await until(srv, (r) => r.status === 503);
  assert.deepEqual(notReady.json, { errors: ["store schema newer than this keyhold"] });
  assert.equal((await srv.raw("GET", "/healthz")).status, 200, "alive all the same");
  pretendNewerSchema(srv, false);
  await until(srv, (r) => r.status === 200);
  assert.equal((srv.log.match(/readyz: not ready: store schema newer than this keyhold/g) || []).length, 1,
    "a change of state is logged once, not per probe");
  await srv.stop();
});

test("metrics on the admin listener only, moving with traffic", async () => {
  const srv = new Server();
  await srv.start("--admin-listen", "127.0.0.1:0");
  assert.ok(srv.adminPort, "the admin listener's port is logged");
  assert.equal((await srv.raw("GET", "/metrics")).status, 404, "not on the API listener");

  const before = await scrape(srv.adminPort);
  for (const name of [
    "keyhold_http_requests_total", "keyhold_http_request_duration_seconds", "keyhold_auth_outcomes_total",
    "keyhold_auth_cache_total", "keyhold_writer_batch_size", "keyhold_writer_commit_seconds",
    "keyhold_store_errors_total", "keyhold_open_connections", "keyhold_rate_limited_total",
    "keyhold_secret_version", "keyhold_build_info",
  ]) assert.ok(hasFamily(before, name), `family ${name}`);
  assert.equal(sample(before, "keyhold_secret_version"), 1);
  assert.equal(sample(before, "keyhold_build_info"), 1);

  const validate = new v1.AuthenticationApi(srv.config());
  for (let i = 0; i < 5; i++) await validate.validate();
  await expectStatus(new v1.AuthenticationApi(srv.config({ ...srv.admin, api_key: "0".repeat(32) })).validate(), 403);
  const made = await new v2.KeyManagementApi(srv.config()).createPersonalAccessToken(pat("metrics", ["api_keys_read"]));
  srv.remember(made.data.attributes.key);

  const after = await scrape(srv.adminPort);
  const route = "GET /api/v1/validate";
  assert.equal(sample(after, "keyhold_http_requests_total", { route, status: "200" })
    - sample(before, "keyhold_http_requests_total", { route, status: "200" }), 5);
  assert.equal(sample(after, "keyhold_http_requests_total", { route, status: "403" })
    - sample(before, "keyhold_http_requests_total", { route, status: "403" }), 1);
  assert.ok(sample(after, "keyhold_http_request_duration_seconds_count", { route }) >= 6, "latency histogram counts");
  assert.equal(sample(after, "keyhold_http_request_duration_seconds_bucket", { route, le: "+Inf" }),
    sample(after, "keyhold_http_request_duration_seconds_count", { route }));
  assert.equal(sample(after, "keyhold_auth_outcomes_total", { kind: "api_key", outcome: "unknown" })
    - sample(before, "keyhold_auth_outcomes_total", { kind: "api_key", outcome: "unknown" }), 1);
  assert.ok(sample(after, "keyhold_auth_outcomes_total", { kind: "api_key", outcome: "ok" }) >= 5);
  assert.ok(sample(after, "keyhold_auth_cache_total", { result: "hit" }) >= 4, "repeated validations are cache hits");
  assert.ok(sample(after, "keyhold_writer_batch_size_count") >= 1, "the create went through the writer");
  assert.ok(sample(after, "keyhold_writer_commit_seconds_count") >= 1);
  assert.ok(sample(after, "keyhold_open_connections") >= 0);

  // GET and HEAD only; and a small cap of its own, so that whoever reaches
  // the port cannot take the loop's descriptors or memory.
  const head = await new Promise((res, rej) => httpRequest({ host: "127.0.0.1", port: srv.adminPort, path: "/readyz", method: "HEAD" },
    (r) => { r.resume(); r.on("end", () => res(r.statusCode)); }).on("error", rej).end());
  assert.equal(head, 200);
  const post = await new Promise((res, rej) => httpRequest({ host: "127.0.0.1", port: srv.adminPort, path: "/metrics", method: "POST" },
    (r) => { r.resume(); r.on("end", () => res(r.statusCode)); }).on("error", rej).end("x"));
  assert.equal(post, 405);
  const idle = await Promise.all(Array.from({ length: 16 }, () => new Promise((res, rej) => {
    const s = netConnect(srv.adminPort, "127.0.0.1", () => res(s));
    s.on("error", rej);
  })));
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(get(srv.adminPort, "/metrics"), "the 17th connection is refused");
  for (const s of idle) s.destroy();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await get(srv.adminPort, "/metrics")).status, 200, "served again once they closed");
  assert.match(srv.log, /admin listener: 16 connections open, refusing more/);
  await srv.stop();
});

test("a revoked token and a garbled one are told apart in metrics and the log, never to the client", async () => {
  const srv = new Server();
  await srv.start("--admin-listen", "127.0.0.1:0", "--log-format", "json");
  const keys = new v2.KeyManagementApi(srv.config());
  const made = await keys.createPersonalAccessToken(pat("to revoke", ["api_keys_read"]));
  const token = srv.remember(made.data.attributes.key);
  const mine = new v2.KeyManagementApi(srv.bearer(token));
  await mine.listAPIKeys({});
  await keys.revokePersonalAccessToken({ tokenId: made.data.id });
  const refused = await srv.raw("GET", "/api/v2/api_keys", { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(refused.status, 403);
  assert.doesNotMatch(refused.body, /revoked/i, "the client is not told why");
  const garbled = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA"); // its checksum no longer holds
  assert.equal((await srv.raw("GET", "/api/v2/api_keys", { headers: { Authorization: `Bearer ${garbled}` } })).status, 403);

  const m = await scrape(srv.adminPort);
  assert.equal(sample(m, "keyhold_auth_outcomes_total", { kind: "pat", outcome: "revoked" }), 1);
  assert.equal(sample(m, "keyhold_auth_outcomes_total", { kind: "none", outcome: "unknown" }), 1);
  const lines = srv.log.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const reasons = lines.filter((l) => l.msg === "request" && l.status === 403).map((l) => l.reason);
  assert.ok(reasons.includes("revoked"), JSON.stringify(reasons));
  assert.ok(reasons.includes("unknown"), JSON.stringify(reasons));
  await srv.stop();
});

test("JSON access log: one parseable line per request, request ids accepted or made, route templates", async () => {
  const srv = new Server();
  await srv.start("--log-format", "json");
  const apiKeyId = (await new v1.KeyManagementApi(srv.config()).listAPIKeys()).apiKeys[0].key;
  const given = await srv.raw("GET", "/api/v1/validate", { headers: { ...srv.keyHeaders(), "X-Request-Id": "req-abc.123" } });
  assert.equal(given.headers["x-request-id"], "req-abc.123");
  const made = await srv.raw("GET", "/api/v1/validate", { headers: srv.keyHeaders() });
  assert.match(made.headers["x-request-id"], /^[0-9a-f]{32}$/);
  const hostile = await srv.raw("GET", "/api/v1/validate", { headers: { ...srv.keyHeaders(), "X-Request-Id": "a b\"c" } });
  assert.match(hostile.headers["x-request-id"], /^[0-9a-f]{32}$/, "an id that is not a plain token is replaced");
  await srv.raw("GET", `/api/v1/api_key/${apiKeyId}`, { headers: srv.keyHeaders() });
  await srv.raw("GET", "/api/v2/api_keys", { headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": "f".repeat(40) } });
  await srv.stop();

  const lines = srv.log.split("\n").filter(Boolean);
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not JSON: ${l}`);
  const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
  for (const r of requests) {
    for (const f of ["time", "level", "request_id", "method", "route", "status", "duration_ms", "client"]) assert.ok(f in r, `${f} in ${JSON.stringify(r)}`);
  }
  const byId = requests.find((r) => r.request_id === "req-abc.123");
  assert.equal(byId.route, "/api/v1/validate");
  assert.equal(byId.status, 200);
  assert.equal(byId.org_id, srv.admin.org_id);
  assert.equal(byId.credential_kind, "api_key");
  assert.ok(byId.credential_id, "the key's id");
  const v1key = requests.find((r) => r.route === "/api/v1/api_key/{id}");
  assert.ok(v1key, "a v1 key route is logged by its template");
  assert.ok(!srv.log.includes(apiKeyId), "never the raw path of a v1 key route");
  const refused = requests.find((r) => r.route === "/api/v2/api_keys");
  assert.equal(refused.status, 403);
  assert.equal(refused.reason, "unknown");
  assert.equal(refused.credential_kind, "app_key");
});

test("--log-level debug says why each authentication ended", async () => {
  const srv = new Server();
  await srv.start("--log-level", "debug");
  await srv.raw("GET", "/api/v2/api_keys", { headers: { "DD-API-KEY": srv.admin.api_key, "DD-APPLICATION-KEY": "f".repeat(40) } });
  await srv.stop();
  assert.match(srv.log, / debug authentication refused: app_key unknown/);
});

/** A throwaway CA and a server certificate for 127.0.0.1 and localhost, made by openssl. */
function makeCerts(dir, serial) {
  const o = (...a) => execFileSync("openssl", a, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  if (serial === 1) {
    o("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", "/CN=keyhold test CA", "-keyout", "ca.key", "-out", "ca.pem");
  }
  o("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
    "-keyout", `server${serial}.key`, "-out", `server${serial}.csr`);
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  o("x509", "-req", "-in", `server${serial}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", String(serial),
    "-days", "2", "-extfile", "ext.cnf", "-out", `server${serial}.pem`);
}

/** Connects with node's TLS client; resolves the protocol and the certificate's serial, or rejects. */
function tlsHello(port, ca, opts = {}) {
  return new Promise((res, rej) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost", ...opts }, () => {
      const out = { protocol: s.getProtocol(), serial: s.getPeerCertificate().serialNumber };
      s.end();
      res(out);
    });
    s.on("error", rej);
  });
}

test("TLS: curl and the official client over HTTPS, TLS 1.2 and 1.3 only, certificates reloaded on SIGHUP", async () => {
  const dir = mkdtempSync(join(tmpdir(), "keyhold-tls-"));
  makeCerts(dir, 1);
  const cert = join(dir, "cert.pem"), key = join(dir, "key.pem");
  writeFileSync(cert, readFileSync(join(dir, "server1.pem")));
  writeFileSync(key, readFileSync(join(dir, "server1.key")), { mode: 0o600 });
  // A private key every local user can read is refused.
  writeFileSync(join(dir, "open.key"), readFileSync(join(dir, "server1.key")), { mode: 0o644 });
  chmodSync(join(dir, "open.key"), 0o644);
  const open = spawnSync(BIN, ["serve", "--ephemeral", "--tls-cert", cert, "--tls-key", join(dir, "open.key")], { encoding: "utf8", timeout: 15000 });
  assert.equal(open.status, 1);
  assert.match(open.stderr, /readable by every user/);
  const ca = readFileSync(join(dir, "ca.pem"));
  const srv = new Server();
  await srv.start("--tls-cert", cert, "--tls-key", key, "--admin-listen", "127.0.0.1:0", "--request-timeout", "1");
  assert.match(srv.base, /^https:/);

  const curl = spawnSync("curl", ["-sS", "--cacert", join(dir, "ca.pem"), "-H", `DD-API-KEY: ${srv.admin.api_key}`,
    `https://127.0.0.1:${srv.port}/api/v1/validate`], { encoding: "utf8" });
  assert.equal(curl.status, 0, curl.stderr);
  assert.deepEqual(JSON.parse(curl.stdout), { valid: true });
  const plain = spawnSync("curl", ["-sS", `http://127.0.0.1:${srv.port}/api/v1/validate`], { encoding: "utf8" });
  assert.notEqual(plain.status, 0, "plain HTTP is not answered on a TLS listener");
  const untrusted = spawnSync("curl", ["-sS", `https://127.0.0.1:${srv.port}/healthz`], { encoding: "utf8" });
  assert.notEqual(untrusted.status, 0, "curl refuses a certificate it cannot verify");
  const adminCurl = spawnSync("curl", ["-sS", "--cacert", join(dir, "ca.pem"), `https://127.0.0.1:${srv.adminPort}/metrics`], { encoding: "utf8" });
  assert.equal(adminCurl.status, 0, "the admin listener speaks TLS too: " + adminCurl.stderr);
  assert.match(adminCurl.stdout, /keyhold_build_info/);

  assert.equal((await tlsHello(srv.port, ca)).protocol, "TLSv1.3");
  assert.equal((await tlsHello(srv.port, ca, { maxVersion: "TLSv1.2" })).protocol, "TLSv1.2");
  await assert.rejects(tlsHello(srv.port, ca, { maxVersion: "TLSv1.1", minVersion: "TLSv1" }), "TLS 1.1 is refused");

  // The official client, in a process that trusts the test CA.
  const script = `
    import { client, v1 } from "@datadog/datadog-api-client";
    const conf = client.createConfiguration({ baseServer: new client.BaseServerConfiguration(process.argv[1], {}),
      authMethods: { apiKeyAuth: process.argv[2], appKeyAuth: process.argv[3] }, enableRetry: false });
    const r = await new v1.AuthenticationApi(conf).validate();
    const keys = await new v1.KeyManagementApi(conf).listAPIKeys();
    console.log(JSON.stringify({ valid: r.valid, keys: keys.apiKeys.length }));`;
  const sdk = spawnSync(process.execPath, ["--input-type=module", "-e", script, srv.base, srv.admin.api_key, srv.admin.app_key],
    { encoding: "utf8", cwd: new URL(".", import.meta.url).pathname, env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, "ca.pem") } });
  assert.equal(sdk.status, 0, sdk.stderr);
  assert.deepEqual(JSON.parse(sdk.stdout), { valid: true, keys: 1 });

  // A request left half-sent is timed out by closing the connection: no
  // plain-text 408 may be written into the encrypted stream (Python's TLS
  // client reports such bytes; node's ignores them).
  const probe = `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n")
        try:
            got = s.recv(4096)
            print("eof" if not got else "data " + repr(got[:40]))
        except Exception as e:
            print(type(e).__name__, e)
`;
  const stalled = spawnSync("/usr/bin/python3", ["-c", probe, String(srv.port), join(dir, "ca.pem")], { encoding: "utf8", timeout: 15000 });
  assert.equal(stalled.status, 0, stalled.stderr);
  assert.doesNotMatch(stalled.stdout, /WRONG_VERSION|data /, `the timed-out TLS connection: ${stalled.stdout}`);

  // A new certificate, swapped in place, is served after SIGHUP.
  assert.equal((await tlsHello(srv.port, ca)).serial, "01");
  makeCerts(dir, 2);
  writeFileSync(join(dir, "cert.tmp"), readFileSync(join(dir, "server2.pem")));
  writeFileSync(join(dir, "key.tmp"), readFileSync(join(dir, "server2.key")), { mode: 0o600 });
  renameSync(join(dir, "key.tmp"), key);
  renameSync(join(dir, "cert.tmp"), cert);
  srv.proc.kill("SIGHUP");
  let serial;
  for (let i = 0; i < 50 && serial !== "02"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    serial = (await tlsHello(srv.port, ca)).serial;
  }
  assert.equal(serial, "02", "the reloaded certificate is served");
  // A broken pair is refused and the last good one kept.
  writeFileSync(key, "not a key\n", { mode: 0o600 });
  srv.proc.kill("SIGHUP");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await tlsHello(srv.port, ca)).serial, "02");
  assert.match(srv.log, /TLS certificate not reloaded/);
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("configuration: flag over environment over file over default, --print-config, unknown keys refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "keyhold-config-"));
  const file = join(dir, "keyhold.conf");
  writeFileSync(file, [
    "# settings of one node", "[serve]", "threads = 3", "max_api_keys = 7", "log_format = json",
    "admin_listen = 127.0.0.1:0", "api_key = abcdefghijklmnopqrstuvwxyz012345", "",
  ].join("\n"), { mode: 0o600 });
  const print = spawnSync(BIN, ["serve", "--config", file, "--print-config", "--threads", "2"],
    { encoding: "utf8", env: { ...process.env, KEYHOLD_THREADS: "4", KEYHOLD_MAX_API_KEYS: "9" } });
  assert.equal(print.status, 0, print.stderr);
  const lines = Object.fromEntries(print.stdout.split("\n").filter((l) => l && !l.startsWith("#"))
    .map((l) => { const m = l.match(/^(\w+) = (.*?)  # (.*)$/); return [m[1], { value: m[2], source: m[3] }]; }));
  assert.deepEqual(lines.threads, { value: "2", source: "flag --threads" });
  assert.deepEqual(lines.max_api_keys, { value: "9", source: "environment KEYHOLD_MAX_API_KEYS" });
  assert.deepEqual(lines.log_format, { value: "json", source: `file ${file}` });
  assert.deepEqual(lines.max_app_keys, { value: "1000", source: "default" });
  assert.deepEqual(lines.api_key, { value: "(set, not shown)", source: `file ${file}` });
  assert.ok(!print.stdout.includes("abcdefghijklmnopqrstuvwxyz012345"), "a credential is never printed");

  writeFileSync(join(dir, "typo.conf"), "[serve]\nthreads = 2\nmax_api_key = 7\n");
  const typo = spawnSync(BIN, ["serve", "--config", join(dir, "typo.conf")], { encoding: "utf8" });
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /typo\.conf:3: unknown setting 'max_api_key'/);
  writeFileSync(join(dir, "section.conf"), "[init]\nthreads = 2\n");
  assert.equal(spawnSync(BIN, ["serve", "--config", join(dir, "section.conf")], { encoding: "utf8" }).status, 2);

  // A server started from the file serves with its settings; the
  // environment names the file too (KEYHOLD_CONFIG).
  const srv = new Server();
  srv.env = { ...srv.env, KEYHOLD_CONFIG: file };
  writeFileSync(file, ["[serve]", "log_format = json", "admin_listen = 127.0.0.1:0", "max_api_keys = 1", ""].join("\n"));
  await srv.start();
  assert.ok(srv.adminPort, "admin_listen from the file");
  assert.equal((await get(srv.adminPort, "/healthz")).status, 200);
  await new v1.AuthenticationApi(srv.config()).validate();
  await srv.stop();
  assert.ok(srv.log.split("\n").filter(Boolean).every((l) => l.startsWith("{")), "log_format from the file");
  rmSync(dir, { recursive: true, force: true });
});
