// scan.test.mjs - `keyhold scan` (issue 15, item 4, offline): on a fixture
// tree holding a PAT and a SAT minted by a real server, its API and
// application keys, near-misses and wrong checksums, the scan reports
// exactly the real secrets at the right file:line (and nothing else), never
// prints a secret, answers 0/1/2 like grep, prints one JSON object per
// finding with --json, and with --git finds a token in a repository's
// history after a later commit deleted it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, BIN, v2, hoursFromNow } from "./helpers.mjs";

let srv, pat, sat, dir, tree;

/** Every secret of the fixtures: none of it may ever be printed. */
const secrets = () => [pat.slice(29), sat.slice(29), srv.admin.api_key, srv.admin.app_key];

/** Runs keyhold scan; checks that no secret appears in what it printed. */
function scan(...args) {
  const r = spawnSync(BIN, ["scan", ...args], { encoding: "utf8" });
  for (const s of secrets()) {
    assert.ok(!r.stdout.includes(s), `a secret on stdout of scan ${args.join(" ")}`);
    assert.ok(!r.stderr.includes(s), `a secret on stderr of scan ${args.join(" ")}`);
  }
  assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error:/);
  return r;
}

const lines = (text) => text.split("\n").filter((l) => l !== "").sort();
/** A token with one character changed (to another base62 one): its checksum no longer holds. */
const change = (token, i) => token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);

before(async () => {
  srv = await new Server().start();
  const keys = new v2.KeyManagementApi(srv.config());
  pat = srv.remember((await keys.createPersonalAccessToken({
    body: { data: { type: "personal_access_tokens", attributes: { name: "leaky", scopes: ["api_keys_read"], expiresAt: hoursFromNow(48) } } },
  })).data.attributes.key);
  const sa = new v2.ServiceAccountsApi(srv.config());
  const account = (await sa.createServiceAccount({
    body: { data: { type: "users", attributes: { email: "robot@one.example", serviceAccount: true, name: "robot" } } },
  })).data;
  sat = srv.remember((await sa.createServiceAccountAccessToken({
    serviceAccountId: account.id,
    body: { data: { type: "service_access_tokens", attributes: { name: "ci", scopes: ["api_keys_read"] } } },
  })).data.attributes.key);
  assert.match(pat, /^ddpat_[0-9A-Za-z]{22}_[0-9A-Za-z]{36}$/);
  assert.match(sat, /^ddsat_[0-9A-Za-z]{22}_[0-9A-Za-z]{36}$/);
  assert.match(srv.admin.api_key, /^[0-9a-f]{32}$/);
  assert.match(srv.admin.app_key, /^[0-9a-f]{40}$/);

  dir = mkdtempSync(join(tmpdir(), "keyhold-scan-"));
  tree = join(dir, "tree");
  const put = (path, text) => {
    mkdirSync(join(tree, path, ".."), { recursive: true });
    writeFileSync(join(tree, path), text);
  };
  put("config/app.env", `# settings\nDD_PAT=${pat}\nDD_API_KEY=${srv.admin.api_key}\nDD_APP_KEY=${srv.admin.app_key}\n`);
  put("deploy/values.yaml", `service:\n  auth:\n    token: "${sat}"\n`);
  put("src/client.js", `const h = { Authorization: "Bearer ${pat}" };\nfetch(\`https://h.example/api?token=${sat}&x=1\`);\n`);
  put("data/tokens.json", JSON.stringify({ tokens: [pat, sat], n: 2 }));
  put("windows.txt", `first\r\nsecond ${sat}\r\n`);
  // A line far longer than the scanner's window, the token across its first edge.
  put("long.txt", `${" ".repeat(65536 - 40)}${pat}${" x".repeat(100000)}\n`);
  // Near-misses: none is a secret.
  put("near/misses.txt", [
    change(pat, 64), change(pat, 40), change(pat, 10), change(sat, 30), change(sat, 0),
    pat.slice(0, 64), `${pat}A`, `xx${pat}`, `Q${pat}Q`, `${pat}_suffix`,
    `ddpax_${pat.slice(6)}`, `DDPAT_${pat.slice(6)}`, `Ddsat_${sat.slice(6)}`,
    `${pat.slice(0, 28)}-${pat.slice(29)}`,
    srv.admin.api_key, `commit ${srv.admin.app_key}`, `DD_API_KEY=${srv.admin.app_key}`,
    `DD_API_KEY=${srv.admin.api_key.toUpperCase()}`, `${srv.admin.api_key} is the DD_API_KEY`,
  ].join("\n") + "\n");
  // Skipped: git's own files, binary files, links out of the tree.
  put(".git/config", `token = ${pat}\n`);
  put("assets/logo.bin", Buffer.concat([Buffer.from([0x89, 0x50, 0, 1]), Buffer.from(`\n${pat}\n`)]));
  mkdirSync(join(dir, "outside"));
  writeFileSync(join(dir, "outside", "secret.txt"), `${pat}\n`);
  symlinkSync(join(dir, "outside"), join(tree, "link-out"));
  symlinkSync(join(dir, "outside", "secret.txt"), join(tree, "link-file"));
});

after(async () => {
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

const P = () => `ddpat public_portion=${pat.slice(0, 28)}`;
const S = () => `ddsat public_portion=${sat.slice(0, 28)}`;

function expectedTokens() {
  return [
    `${tree}/config/app.env:2: ${P()}`,
    `${tree}/data/tokens.json:1: ${P()}`,
    `${tree}/data/tokens.json:1: ${S()}`,
    `${tree}/deploy/values.yaml:3: ${S()}`,
    `${tree}/long.txt:1: ${P()}`,
    `${tree}/src/client.js:1: ${P()}`,
    `${tree}/src/client.js:2: ${S()}`,
    `${tree}/windows.txt:2: ${S()}`,
  ].sort();
}

test("exactly the real tokens, at their file:line, and no near-miss", () => {
  const r = scan(tree);
  assert.equal(r.stderr, "");
  assert.deepEqual(lines(r.stdout), expectedTokens());
  assert.equal(r.status, 1);
  // The public portion the scan shows is the one the API shows.
  assert.ok(r.stdout.includes(pat.slice(0, 28)) && r.stdout.includes(sat.slice(0, 28)));
});

test("API and application keys only with --include-unverified, named, with last4", () => {
  const r = scan("--include-unverified", tree);
  const keys = [
    `${tree}/config/app.env:3: api_key last4=${srv.admin.api_key.slice(-4)} (unverified: no checksum)`,
    `${tree}/config/app.env:4: application_key last4=${srv.admin.app_key.slice(-4)} (unverified: no checksum)`,
  ];
  assert.deepEqual(lines(r.stdout), [...expectedTokens(), ...keys].sort());
  assert.equal(r.status, 1);
});

test("--json: one object per finding with file, line, column, kind and public portion", () => {
  const r = scan("--json", "--include-unverified", join(tree, "config"), join(tree, "windows.txt"), join(tree, "long.txt"));
  assert.equal(r.status, 1);
  const found = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(found, [
    { file: `${tree}/config/app.env`, line: 2, column: 8, kind: "ddpat", public_portion: pat.slice(0, 28), verified: true },
    { file: `${tree}/config/app.env`, line: 3, column: 12, kind: "api_key", last4: srv.admin.api_key.slice(-4), verified: false },
    { file: `${tree}/config/app.env`, line: 4, column: 12, kind: "application_key", last4: srv.admin.app_key.slice(-4), verified: false },
    { file: `${tree}/windows.txt`, line: 2, column: 8, kind: "ddsat", public_portion: sat.slice(0, 28), verified: true },
    { file: `${tree}/long.txt`, line: 1, column: 65536 - 40 + 1, kind: "ddpat", public_portion: pat.slice(0, 28), verified: true },
  ]);
});

test("- reads standard input; a PATH given as a symbolic link is followed", () => {
  const r = spawnSync(BIN, ["scan", "-"], { encoding: "utf8", input: `one\ntwo ${sat}\n${change(pat, 20)}\n` });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, `(standard input):2: ${S()}\n`);
  assert.ok(!r.stdout.includes(sat.slice(29)));
  const viaLinks = scan(join(tree, "link-file"), join(tree, "link-out"));
  assert.equal(viaLinks.status, 1, viaLinks.stderr);
  assert.deepEqual(lines(viaLinks.stdout), [`${tree}/link-file:1: ${P()}`, `${tree}/link-out/secret.txt:1: ${P()}`]);
});

test("exit status: 0 for nothing found, 2 for usage and unreadable paths", () => {
  const clean = join(dir, "clean");
  mkdirSync(clean);
  writeFileSync(join(clean, "readme.md"), `nothing here but ${change(pat, 50)} and ${srv.admin.api_key}\n`);
  let r = scan(clean);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, "");
  assert.equal(scan("--include-unverified", join(tree, "near")).status, 0);
  r = scan(join(dir, "no-such-file"));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read .*no-such-file/);
  // Found and failed: 2 wins (the scan was not complete), and what was found is still printed.
  r = scan(join(tree, "windows.txt"), join(dir, "no-such-file"));
  assert.equal(r.status, 2);
  assert.equal(lines(r.stdout).length, 1);
  assert.equal(scan().status, 2);
  assert.equal(scan("--frobnicate", tree).status, 2);
  r = scan("--help");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^usage: keyhold scan /);
  assert.match(r.stdout, /--report URL/, "the online half is documented in --help");
  if (process.getuid() !== 0) {
    const locked = join(dir, "locked.txt");
    writeFileSync(locked, `${pat}\n`);
    chmodSync(locked, 0);
    assert.equal(scan(locked).status, 2);
  }
});

test("--git finds a token in history after a later commit deleted it, once, where it was added", () => {
  const repo = join(dir, "repo");
  mkdirSync(repo);
  const env = {
    ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.com", GIT_CONFIG_NOSYSTEM: "1", HOME: dir,
  };
  const git = (...args) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", env }).trim();
  git("init", "-q", "-b", "main");
  writeFileSync(join(repo, "app.env"), `# app\nTOKEN=${pat}\nNEAR=${change(pat, 33)}\n`);
  writeFileSync(join(repo, "readme.md"), "hello\n");
  git("add", ".");
  git("commit", "-qm", "add settings");
  const added = git("rev-parse", "HEAD");
  writeFileSync(join(repo, "readme.md"), "hello\n-- x\n--- y\n+++ z\n");
  writeFileSync(join(repo, "app.env"), `# app\nTOKEN=${pat}\nMORE=1\n`);
  git("commit", "-qam", "keep the token, change the rest");
  git("rm", "-q", "app.env");
  git("commit", "-qm", "remove the token");
  // A token pasted into a commit message (line 3 of the message).
  git("commit", "-q", "--allow-empty", "-m", `rotate the CI token\n\nthe old one was ${sat}`);
  const message = git("rev-parse", "HEAD");
  // A token on another branch only, in a file with a space in its name.
  git("checkout", "-qb", "side");
  writeFileSync(join(repo, "my notes.txt"), `one\ntwo\n  sat: ${sat}\n`);
  git("add", ".");
  git("commit", "-qm", "notes");
  const side = git("rev-parse", "HEAD");
  git("checkout", "-q", "main");

  // The working tree holds no token any more, and .git is not read as files.
  assert.equal(scan(repo).status, 0);
  const r = scan("--git", repo);
  assert.equal(r.stderr, "");
  assert.equal(r.status, 1);
  assert.deepEqual(lines(r.stdout), [
    `${added}:app.env:2: ${P()}`,
    `${side}:my notes.txt:3: ${S()}`,
    `${message}:(commit message):3: ${S()}`,
  ].sort());
  const j = scan("--git", "--json", repo);
  const found = j.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(found.find((f) => f.kind === "ddpat"), {
    repository: repo, commit: added, file: "app.env", line: 2, column: 7, kind: "ddpat",
    public_portion: pat.slice(0, 28), verified: true,
  });
  assert.deepEqual(found.find((f) => f.commit === message), {
    repository: repo, commit: message, file: null, line: 3, column: 17, kind: "ddsat",
    public_portion: sat.slice(0, 28), verified: true,
  });
  // Not a repository: git says why, the scan exits 2.
  assert.equal(scan("--git", tree).status, 2);
});
