// install.test.mjs - `make install` (issue 13, part 6): the binary, the man
// page keyhold(1) and the systemd unit land under DESTDIR/PREFIX; the unit
// passes `systemd-analyze verify` and a hardening review; the installed man
// page renders; and serve tells systemd it is ready (sd_notify) only once it
// listens.
//
// systemd-analyze verify needs no running systemd (this runs in containers),
// but it checks ExecStart's binary on the real root and prints problems
// (an unknown key, a bad value) as warnings while still exiting 0: so the
// unit is verified as installed, with ExecStart pointed at the binary under
// DESTDIR, and the check is "exit 0 and nothing printed"; a broken copy
// shows that the check would catch a mistake.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BIN } from "./helpers.mjs";

const REPO = resolve(new URL("../..", import.meta.url).pathname);

test("make install DESTDIR=... PREFIX=/usr installs the binary, keyhold(1) and a unit systemd accepts", () => {
  const dest = mkdtempSync(join(tmpdir(), "keyhold-install-"));
  try {
    const make = spawnSync("make", ["-s", "-C", REPO, "install", `DESTDIR=${dest}`, "PREFIX=/usr"], { encoding: "utf8" });
    assert.equal(make.status, 0, make.stdout + make.stderr);
    const bin = join(dest, "usr/bin/keyhold"), man = join(dest, "usr/share/man/man1/keyhold.1");
    const unit = join(dest, "usr/lib/systemd/system/keyhold.service");
    for (const f of [bin, man, unit]) assert.ok(existsSync(f), `${f} installed`);
    assert.ok(statSync(bin).mode & 0o111, "the binary is executable");
    assert.match(spawnSync(bin, ["version"], { encoding: "utf8" }).stdout, /^keyhold \d/);

    const text = readFileSync(unit, "utf8");
    assert.match(text, /^ExecStart=\/usr\/bin\/keyhold serve$/m, "ExecStart under the install prefix");
    for (const line of ["Type=notify", "DynamicUser=yes", "StateDirectory=keyhold", "ProtectSystem=strict",
      "NoNewPrivileges=yes", "Restart=on-failure", "Environment=KEYHOLD_DB=/var/lib/keyhold/keyhold.db"])
      assert.ok(text.split("\n").includes(line), line);

    // verify: the installed unit, its ExecStart pointed at the binary under DESTDIR.
    const check = (name, body) => {
      const dir = mkdtempSync(join(tmpdir(), "keyhold-unit-"));
      writeFileSync(join(dir, name), body.replace("ExecStart=/usr/bin/keyhold", `ExecStart=${bin}`));
      const r = spawnSync("systemd-analyze", ["verify", "--man=no", join(dir, name)], { encoding: "utf8" });
      rmSync(dir, { recursive: true, force: true });
      return r;
    };
    const ok = check("keyhold.service", text);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout + ok.stderr, "", "systemd-analyze verify has nothing to say");
    const broken = check("keyhold.service", text.replace("Type=notify", "Type=notifyy").replace("ProtectSystem=strict", "ProtectSytem=strict"));
    assert.match(broken.stderr, /Failed to parse service type/, "a bad value is reported");
    assert.match(broken.stderr, /Unknown key 'ProtectSytem'/, "an unknown key is reported");

    // Hardening as systemd scores it: exposure 2.0 or less (0 is best, 10 worst).
    const sec = spawnSync("systemd-analyze", ["security", "--offline=true", "--threshold=20", unit], { encoding: "utf8" });
    assert.equal(sec.status, 0, sec.stdout.split("\n").slice(-3).join("\n"));

    const page = spawnSync("man", ["-l", man], { encoding: "utf8", env: { ...process.env, LC_ALL: "C", MANWIDTH: "100" } });
    assert.equal(page.status, 0, page.stderr);
    assert.match(page.stdout, /keyhold key revoke/);
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
});

test("serve sends READY=1 through sd_notify once it listens (Type=notify)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "keyhold-notify-"));
  const sock = join(dir, "notify");
  // socat receives the datagram as systemd would (AF_UNIX, SOCK_DGRAM).
  const receiver = spawn("socat", ["-u", `UNIX-RECV:${sock}`, "STDOUT"], { stdio: ["ignore", "pipe", "inherit"] });
  for (const until = Date.now() + 5000; !existsSync(sock) && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
  const srv = spawn(BIN, ["serve", "--ephemeral", "--threads", "1"], {
    stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NOTIFY_SOCKET: sock },
  });
  try {
    const message = await new Promise((res, rej) => {
      let got = "";
      const timer = setTimeout(() => rej(new Error(`no READY=1: ${got}`)), 15000);
      receiver.stdout.on("data", (d) => {
        got += d.toString();
        if (/READY=1/.test(got) && /STATUS=.*:\d+/.test(got)) {
          clearTimeout(timer);
          res(got);
        }
      });
    });
    // When READY=1 arrives, the port it names accepts connections already.
    const port = Number(message.match(/STATUS=.*:(\d+)/)[1]);
    await new Promise((res, rej) => {
      const c = connect(port, "127.0.0.1", () => { c.end(); res(); });
      c.on("error", rej);
    });
  } finally {
    srv.kill("SIGTERM");
    receiver.kill("SIGTERM");
    await new Promise((r) => srv.on("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
});
