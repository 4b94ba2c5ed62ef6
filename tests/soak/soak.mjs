// soak.mjs - mixed traffic against one keyhold server for SOAK_SECONDS
// (default 600): validate, list, create, revoke, from 32 concurrent clients
// on loopback, bounded in time and count. Passes when there was no 5xx, no
// error line in the server log, resident memory at the end within 10% of
// its value after the first minute (or a tenth of the run, when shorter),
// and the store's integrity check is clean. Prints the figures.
import { Agent, request } from "node:http";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { Server, BIN, hoursFromNow } from "../integration/helpers.mjs";

const SECONDS = Number(process.env.SOAK_SECONDS || 600);
const CONCURRENCY = 32;
const MAX_REQUESTS = 50_000_000;

const rss = (pid) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]) / 1024;

function call(agent, port, method, path, headers, body) {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, method, path, agent,
      headers: body ? { ...headers, "content-length": Buffer.byteLength(body) } : headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        let json;
        try { json = JSON.parse(Buffer.concat(chunks).toString()); } catch {}
        resolve({ status: res.statusCode, json });
      });
    });
    req.on("error", () => resolve({ status: 0 }));
    if (body) req.write(body);
    req.end();
  });
}

const srv = await new Server().start("--rate-limit-org", "0", "--rate-limit-credential", "0", "--max-api-keys", "1000000");
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const h = { ...srv.keyHeaders(), "content-type": "application/json" };
const statuses = new Map();
const live = [];
let requests = 0, stop = false;
const started = Date.now();
const warmupMs = Math.min(60_000, SECONDS * 100);

async function worker(w) {
  while (!stop && requests < MAX_REQUESTS) {
    const n = requests++;
    let r;
    switch (n % 10) {
      case 0: case 1: case 2: case 3:
        r = await call(agent, srv.port, "GET", "/api/v1/validate", { "DD-API-KEY": srv.admin.api_key });
        break;
      case 4: case 5:
        r = await call(agent, srv.port, "GET", "/api/v2/personal_access_tokens?page%5Bsize%5D=50&sort=-created_at", h);
        break;
      case 6: case 7:
        r = await call(agent, srv.port, "POST", "/api/v2/personal_access_tokens", h, JSON.stringify({ data: { type: "personal_access_tokens", attributes: { name: `soak ${n}`, scopes: ["api_keys_read"], expires_at: hoursFromNow(48).toISOString() } } }));
        if (r.status === 201) live.push(r.json.data.id);
        break;
      case 8:
        if (live.length) r = await call(agent, srv.port, "DELETE", `/api/v2/personal_access_tokens/${live.shift()}`, h);
        else r = await call(agent, srv.port, "GET", "/api/v2/api_keys", h);
        break;
      default:
        r = await call(agent, srv.port, "GET", "/api/v2/api_keys?page%5Bsize%5D=10", h);
    }
    statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
  }
}

const workers = Array.from({ length: CONCURRENCY }, (_, w) => worker(w));
await new Promise((r) => setTimeout(r, warmupMs));
const rssWarm = rss(srv.proc.pid);
await new Promise((r) => setTimeout(r, Math.max(0, SECONDS * 1000 - warmupMs)));
stop = true;
await Promise.all(workers);
const rssEnd = rss(srv.proc.pid);
agent.destroy();
const elapsed = (Date.now() - started) / 1000;
const check = spawnSync(BIN, ["check", "--db", srv.db], { encoding: "utf8" });
const errorLines = srv.log.split("\n").filter((l) => / error /.test(l));
const fiveXX = [...statuses].filter(([s]) => s >= 500 || s === 0).reduce((a, [, c]) => a + c, 0);
const growth = (rssEnd - rssWarm) / rssWarm;
console.log(`soak: ${requests} requests in ${elapsed.toFixed(0)} s (${(requests / elapsed).toFixed(0)}/s), statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
console.log(`soak: RSS ${rssWarm.toFixed(1)} MB after warm-up, ${rssEnd.toFixed(1)} MB at the end (${(growth * 100).toFixed(1)}%)`);
console.log(`soak: integrity check: ${check.stdout.trim()}; server log error lines: ${errorLines.length}`);
srv.secrets.clear(); // the soak creates thousands of tokens; the suites already scan for secrets
await srv.stop();
const failures = [];
if (fiveXX) failures.push(`${fiveXX} answers were 5xx or lost connections`);
if (errorLines.length) failures.push(`error lines in the log:\n${errorLines.slice(0, 5).join("\n")}`);
if (growth > 0.10) failures.push(`resident memory grew ${(growth * 100).toFixed(1)}% after warm-up`);
if (check.stdout.trim() !== "ok") failures.push(`integrity check: ${check.stdout}`);
if (failures.length) {
  console.error("soak FAILED:\n" + failures.join("\n"));
  process.exit(1);
}
console.log("soak: 1 passed, 0 failed");
