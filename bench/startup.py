#!/usr/bin/env python3
"""bench/startup.py - how long `keyhold serve --ephemeral` takes from exec to
its first answer, against nginx started the same way in the same run (the
reference). Each round starts both once, alternating; the time is from the
spawn until GET /api/v1/validate (keyhold, with the API key fixed by
--api-key) or GET / (nginx) first answers 200 on loopback, polled every
0.5 ms. Medians and the ratio go to bench/STARTUP.md.
Usage: python3 bench/startup.py [ROUNDS]   (make bench-startup)"""
import os, socket, statistics, subprocess, sys, tempfile, time, shutil

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "keyhold")
API_KEY = "0123456789abcdef0123456789abcdef"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def first_200(port, path, headers, started, deadline=10.0):
    req = f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n".encode()
    while time.perf_counter() - started < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(req)
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.0005)
    raise RuntimeError(f"no 200 on port {port} within {deadline}s")


def keyhold_once():
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([BIN, "serve", "--ephemeral", "--listen", f"127.0.0.1:{port}", "--threads", "2",
                          "--api-key", API_KEY, "--log-level", "warn"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        return first_200(port, "/api/v1/validate", f"DD-API-KEY: {API_KEY}\r\n", t0)
    finally:
        p.terminate()
        p.wait()


def nginx_once(work):
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2; error_log {work}/error.log; pid {work}/nginx.pid;
events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen 127.0.0.1:{port};
  location / {{ default_type application/json; return 200 '{{"valid":true}}'; }} }} }}
""")
    t0 = time.perf_counter()
    p = subprocess.Popen([NGINX, "-c", conf, "-p", work, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        return first_200(port, "/", "", t0)
    finally:
        p.terminate()
        p.wait()


def main():
    if not os.path.exists(NGINX):
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx-light"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="keyhold-startup-")
    k, n = [], []
    try:
        for _ in range(ROUNDS):
            k.append(keyhold_once())
            n.append(nginx_once(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    km, nm = statistics.median(k) * 1000, statistics.median(n) * 1000
    lines = [
        "# Start-up of `keyhold serve --ephemeral` (bench/startup.py)",
        "",
        f"Exec to the first 200 answer on loopback, {ROUNDS} rounds alternating with nginx "
        "(2 workers, a fixed JSON answer) started the same way; medians.",
        "",
        "| server | median ms | max ms |",
        "|---|---|---|",
        f"| keyhold serve --ephemeral (store in memory, one org with its 3 managed roles) | {km:.1f} | {max(k) * 1000:.1f} |",
        f"| nginx | {nm:.1f} | {max(n) * 1000:.1f} |",
        "",
        f"keyhold / nginx: {km / nm:.2f}x",
        "",
    ]
    with open(os.path.join(ROOT, "bench", "STARTUP.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
