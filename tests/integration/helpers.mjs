// helpers.mjs - starts a real keyhold server on a free port against a fresh
// store, and builds official-client configurations for its credentials.
//
// KEYHOLD_BIN picks the binary (default ../../build/keyhold); the suite runs
// once against the normal build and once against the ASan/UBSan build. When
// the server stops, its log is checked for sanitizer reports and for every
// secret the test handed to `remember()`.
//
// With KEYHOLD_TEST_PG set to a PostgreSQL URL (a throwaway cluster the
// Makefile starts with tests/pg/cluster.sh) every Server's store is a schema
// of its own in that database instead of a SQLite file, its secret a file in
// its directory (KEYHOLD_SECRET_FILE for every command it runs), and the
// store scanned for secrets through pg_dump. Tests of what only a SQLite
// file has skip themselves there (SQLITE_ONLY).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, readFileSync, appendFileSync, existsSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { request as httpRequest } from "node:http";
import assert from "node:assert/strict";
import { after } from "node:test";
import { client, v1, v2 } from "@datadog/datadog-api-client";
import { ContractCheckingHttp, findOperation, leakedSecrets } from "./contract.mjs";
import { shapeProblems } from "./shapes.mjs";

// Where each suite notes the operations whose answers it compared with a
// recording (coverage.test.mjs then checks every recording was used).
const SHAPES_FILE = process.env.KEYHOLD_COVERAGE_FILE ? `${process.env.KEYHOLD_COVERAGE_FILE}.shapes` : "";

export { client, v1, v2 };

// Servers still running when a test file ends are stopped (with every check
// of stop()), so that a test failing before its own stop() never leaves the
// runner waiting on a child process.
const live = new Set();
after(async () => {
  await Promise.all([...live].map((s) => s.stop()));
});

export const BIN = resolve(process.env.KEYHOLD_BIN || new URL("../../build/keyhold", import.meta.url).pathname);

/** The PostgreSQL database under test, or "" for SQLite. */
export const PG = process.env.KEYHOLD_TEST_PG || "";
/** Options for node:test that skip a test of SQLite files on PostgreSQL. */
export const SQLITE_ONLY = { skip: PG ? "SQLite store files only" : false };

/** Runs SQL on the PostgreSQL database under test. */
export function pgExec(sql) {
  execFileSync("psql", [PG, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql], { stdio: ["ignore", "pipe", "pipe"] });
}

export class Server {
  /** A server on a fresh store, or on the store in an existing dir. */
  constructor(dir) {
    this.dir = dir || mkdtempSync(join(tmpdir(), "keyhold-it-"));
    this.db = join(this.dir, "keyhold.db");
    this.env = {};
    if (PG) {
      // A server made on another's directory serves the same store.
      const named = join(this.dir, "pg-schema");
      this.ownsSchema = !existsSync(named);
      this.schema = this.ownsSchema ? `kh_${randomBytes(8).toString("hex")}` : readFileSync(named, "utf8");
      this.db = `${PG}${PG.includes("?") ? "&" : "?"}options=-csearch_path%3D${this.schema}`;
      this.env = { KEYHOLD_SECRET_FILE: join(this.dir, "keyhold.secret") };
    }
    this.log = "";
    this.secrets = new Set();
    this.contractProblems = [];
    this.responses = []; // {id, text} of every answer, client or raw, for the secret scan
  }

  /** The transport every client configuration uses: answers are checked against the spec. */
  http() {
    return new ContractCheckingHttp(client.IsomorphicFetchHttpLibrary, this.contractProblems, this.responses);
  }

  /** Makes the PostgreSQL schema of this server's store, once, when first needed. */
  ensureSchema() {
    if (!this.schema || !this.ownsSchema || this.schemaMade) return;
    pgExec(`CREATE SCHEMA ${this.schema}`);
    writeFileSync(join(this.dir, "pg-schema"), this.schema);
    this.schemaMade = true;
  }

  cli(...args) {
    this.ensureSchema();
    return execFileSync(BIN, [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...this.env } });
  }

  cliJson(...args) {
    const out = JSON.parse(this.cli(...args, "--json"));
    for (const k of ["api_key", "app_key"]) if (out[k]) this.remember(out[k]);
    return out;
  }

  /** Initialises the store (first org) and starts serving on a free port. */
  async start(...serveArgs) {
    this.admin = this.cliJson("init", "--db", this.db, "--org", "Org One", "--admin-email", "admin@one.example");
    return this.serve(...serveArgs);
  }

  /** Starts `keyhold serve --ephemeral` (no store on disk): the org's keys and
   * address come on stdout as one JSON line. Resolves with that line, parsed. */
  async ephemeral(...serveArgs) {
    this.log = "";
    this.isEphemeral = true;
    const env = { ...process.env, ...(this.env || {}) };
    this.proc = spawn(BIN, ["serve", "--ephemeral", "--threads", "2", ...serveArgs], { stdio: ["ignore", "pipe", "pipe"], env });
    live.add(this);
    this.exited = new Promise((res) => this.proc.on("exit", (code, signal) => {
      live.delete(this);
      res({ code, signal });
    }));
    this.proc.stderr.on("data", (d) => { this.log += d.toString(); });
    const line = await new Promise((res, rej) => {
      let out = "";
      const timer = setTimeout(() => rej(new Error("no JSON line on stdout:\n" + this.log)), 15000);
      this.proc.stdout.on("data", (d) => {
        out += d.toString();
        if (out.includes("\n")) {
          clearTimeout(timer);
          res(out.slice(0, out.indexOf("\n")));
        }
      });
      this.proc.on("exit", () => rej(new Error("server exited:\n" + this.log)));
    });
    const info = JSON.parse(line);
    this.admin = { api_key: this.remember(info.api_key), app_key: this.remember(info.app_key), org_id: info.org_id, user_id: info.user_id };
    this.port = info.port;
    this.base = info.url;
    return info;
  }

  /** Starts `keyhold serve` on the existing store and waits for its port. */
  async serve(...serveArgs) {
    this.ensureSchema();
    this.log = "";
    this.proc = spawn(BIN, ["serve", "--db", this.db, "--listen", "127.0.0.1:0", "--threads", "2", ...serveArgs], {
      stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...this.env },
    });
    live.add(this);
    this.exited = new Promise((res) => this.proc.on("exit", (code, signal) => {
      live.delete(this);
      res({ code, signal });
    }));
    this.port = await new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error("server did not start:\n" + this.log)), 15000);
      this.proc.stderr.on("data", (d) => {
        this.log += d.toString();
        const m = this.log.match(/keyhold listening on (https?):\/\/127\.0\.0\.1:(\d+)/);
        if (m) {
          clearTimeout(timer);
          this.scheme = m[1];
          // The admin listener (--admin-listen) is logged before the API's.
          const admin = this.log.match(/admin listening on https?:\/\/127\.0\.0\.1:(\d+)/);
          this.adminPort = admin ? Number(admin[1]) : undefined;
          res(Number(m[2]));
        }
      });
      this.proc.on("exit", () => rej(new Error("server exited:\n" + this.log)));
    });
    this.base = `${this.scheme}://127.0.0.1:${this.port}`;
    return this;
  }

  /** Records a secret that must never appear in the server's log. */
  remember(secret) {
    this.secrets.add(secret);
    return secret;
  }

  /** Another org with its own admin. */
  addOrg(name, email) {
    return this.cliJson("org", "add", "--db", this.db, "--name", name, "--admin-email", email);
  }

  /** A user of org whose role holds exactly perms; returns {user_id, app_key, api_key}. */
  addUser(org, email, perms) {
    const u = this.cliJson("user", "add", "--db", this.db, "--org", org.org_id, "--email", email, "--permissions",
      perms.join(","));
    return { ...u, api_key: org.api_key, org_id: org.org_id };
  }

  /** Official client configuration authenticating with API + application key. */
  config(creds = this.admin, extra = {}) {
    const conf = client.createConfiguration({
      baseServer: new client.BaseServerConfiguration(this.base, {}),
      authMethods: { apiKeyAuth: creds.api_key, appKeyAuth: creds.app_key, ...extra },
      httpApi: this.http(),
      enableRetry: false,
    });
    conf.unstableOperations["v2.validate"] = true;
    return conf;
  }

  /** Configuration authenticating only with a bearer token (PAT/SAT). */
  bearer(token) {
    const conf = client.createConfiguration({
      baseServer: new client.BaseServerConfiguration(this.base, {}),
      authMethods: { AuthZ: { accessToken: token } },
      httpApi: this.http(),
      enableRetry: false,
    });
    conf.unstableOperations["v2.validate"] = true;
    return conf;
  }

  /** Plain HTTP for what the client cannot express, from localAddress when
   * given (any of 127.0.0.0/8). Resolves {status, headers, body, json}. */
  raw(method, path, { headers = {}, body, localAddress } = {}) {
    // An explicit length: node frames a DELETE body with neither length nor chunking.
    if (body !== undefined) headers = { ...headers, "content-length": Buffer.byteLength(body) };
    return new Promise((res, rej) => {
      const req = httpRequest(`${this.base}${path}`, { method, headers, localAddress, agent: localAddress ? false : undefined }, (r) => {
        const chunks = [];
        r.on("data", (c) => chunks.push(c));
        r.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const op = findOperation(method, new URL(`${this.base}${path}`).pathname);
          if (op) this.responses.push({ id: `${op.version}.${op.operationId}`, status: r.statusCode, text });
          res({ status: r.statusCode, headers: r.headers, body: text, json });
        });
      });
      req.on("error", rej);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  keyHeaders(creds = this.admin) {
    return { "DD-API-KEY": creds.api_key, "DD-APPLICATION-KEY": creds.app_key };
  }

  /** SIGTERM, expect a clean exit, no sanitizer report, no secret in the log,
   * and every answer the client received conforming to the spec. With keep,
   * the store's files stay for the test to look at (and remove). */
  async stop({ keep = false } = {}) {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = null;
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 15000);
    const { code } = await this.exited;
    clearTimeout(killer);
    assert.deepEqual(this.contractProblems, [], "answers that do not match the spec");
    const shapes = shapeProblems(this.responses);
    if (SHAPES_FILE) for (const id of shapes.compared) appendFileSync(SHAPES_FILE, JSON.stringify({ id }) + "\n");
    assert.deepEqual(shapes.problems, [], "answers without a field of Datadog's recorded answer");
    assert.deepEqual(leakedSecrets(this.responses, this.secrets), [], "secrets shown where they must not be");
    assert.equal(code, 0, "server exit status\n" + this.log);
    assert.doesNotMatch(this.log, /AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer/,
      "sanitizer report in server log");
    for (const s of this.secrets) assert.ok(!this.log.includes(s), "a secret appeared in the server log");
    // A store the test made itself elsewhere (external) is its to look at.
    if (!this.isEphemeral && !this.external && (!this.schema || (this.ownsSchema && this.schemaMade))) {
      const db = this.schema
        ? execFileSync("pg_dump", ["--schema", this.schema, "--data-only", PG], { maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "ignore"] })
        : readFileSync(this.db);
      for (const s of this.secrets) assert.ok(!db.includes(Buffer.from(s)), "a secret is stored in plain text");
      if (this.schema) pgExec(`DROP SCHEMA ${this.schema} CASCADE`);
    }
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Expects an ApiException with this HTTP status from the client; returns its body. */
export async function expectStatus(promise, status) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, status, `expected HTTP ${status}, got ${e.code}: ${JSON.stringify(e.body)}`);
    return e.body;
  }
  assert.fail(`expected HTTP ${status}, the call succeeded`);
}

/** An ISO timestamp `hours` from now. */
export function hoursFromNow(hours) {
  return new Date(Date.now() + hours * 3600 * 1000);
}
