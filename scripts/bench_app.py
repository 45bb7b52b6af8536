#!/usr/bin/env python3
"""App benchmark for `make bench`: launch to an interactive library and idle memory, measured in a
real window (Xvfb + tauri-driver + WebKitWebDriver) on a repository seeded with 10,000 artifacts and
100,000 jobs. Speaks the W3C WebDriver protocol directly (stdlib only)."""
import json, os, signal, socket, subprocess, sys, time, urllib.request

APP, REPO, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
PORT = 4744


def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}")


def tree(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def mem_kb(pid, field):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def comm(pid):
    try:
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        return "?"


env = dict(os.environ, IMAGESMITH_HOME=REPO, XDG_DATA_HOME=f"{WORK}/data", XDG_CONFIG_HOME=f"{WORK}/config",
           XDG_CACHE_HOME=f"{WORK}/cache")
driver = subprocess.Popen(["tauri-driver", "--port", str(PORT), "--native-port", str(PORT + 1)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                sys.exit("tauri-driver did not start")
            time.sleep(0.1)
    t0 = time.monotonic()
    caps = {"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": APP}}}}
    for attempt in range(3):  # WebKitWebDriver may still be settling on its port
        try:
            session = call("POST", "/session", caps)["value"]["sessionId"]
            break
        except OSError:
            if attempt == 2:
                raise
            time.sleep(1)
            t0 = time.monotonic()
    t_window = time.monotonic()
    while True:
        rows = call("POST", f"/session/{session}/elements", {"using": "css selector", "value": "[data-testid=artifact-row]"})["value"]
        if rows:
            break
        if time.monotonic() - t0 > 60:
            sys.exit("the library never showed a row")
        time.sleep(0.02)
    t_ready = time.monotonic()
    count = call("POST", f"/session/{session}/element", {"using": "css selector", "value": "[data-testid=library-count]"})["value"]
    count_text = call("GET", f"/session/{session}/element/{list(count.values())[0]}/text")["value"]
    time.sleep(5)  # idle
    app_pid = int(subprocess.check_output(["pgrep", "-n", "-f", APP]).split()[0])
    procs = tree(app_pid)
    rss = sum(mem_kb(p, "Rss") for p in procs)
    pss = sum(mem_kb(p, "Pss") for p in procs)
    print(f"library rows shown: {count_text}")
    print(f"launch to window (WebDriver session up):  {t_window - t0:6.2f} s")
    print(f"launch to interactive library:            {t_ready - t0:6.2f} s   (target < 1.5 s)")
    print(f"idle memory, app + webview processes:     {pss / 1024:6.1f} MiB PSS, {rss / 1024:.1f} MiB RSS   (target < 250 MB)")
    print("  processes: " + ", ".join(f"{comm(p)} {mem_kb(p, 'Pss') / 1024:.0f} MiB" for p in procs))
    call("DELETE", f"/session/{session}")
finally:
    driver.send_signal(signal.SIGTERM)
    driver.wait(timeout=10)
