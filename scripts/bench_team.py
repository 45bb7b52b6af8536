#!/usr/bin/env python3
"""Team repository scale benchmark for `make bench` (scripts/bench.sh, part "team").

Run under scripts/with-servers.sh with PostgreSQL, SeaweedFS and a Secret Service up:
    bench_team.py CLI SEED_CATALOG_CMD WORKDIR [PROCESSES] [FILES] [KIB]

1. PROCESSES desktops (own config, cache and logs each) import FILES distinct files of KIB KiB
   each into one team repository at once, one `import` job per file, as admins do; then the same
   work into one local repository. Prints throughput and the p50/p95/max latency of each job as the
   admin waits for it (the CLI call) and as the job row records it (created -> finished).
2. A team catalog seeded with 100,000 artifacts and 100,000 jobs (rows written with
   generate_series, as the local bench writes them straight into SQLite): the app's launch queries
   timed by `seed_catalog --team`.
3. NOTIFY fan-out (`notify_fanout`, an example next to seed_catalog): BENCH_TEAM_DESKTOPS (80) open
   apps waiting for changes as the app's watcher does, another desktop changing an artifact
   BENCH_TEAM_CHANGES (20) times; how long each change takes to reach every desktop, and the
   catalog's transactions per change per desktop (pg_stat_database).
Figures go to docs/SCALING.md and docs/BENCHMARKS.md; nothing here asserts a time.
"""
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime

cli, seed_cmd, work = sys.argv[1], sys.argv[2], sys.argv[3]
procs = int(sys.argv[4]) if len(sys.argv) > 4 else 4
files = int(sys.argv[5]) if len(sys.argv) > 5 else 200
kib = int(sys.argv[6]) if len(sys.argv) > 6 else 256

env_file = os.environ["IMAGESMITH_SERVERS_ENV"]
facts = dict(l.split("=", 1) for l in open(env_file).read().splitlines() if "=" in l and not l.startswith("#"))


def psql(db, sql):
    out = subprocess.run(
        [f"{facts['TS_PG_BIN']}/psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", facts["TS_PG_SOCKET_DIR"],
         "-p", facts["TS_PG_PORT"], "-U", "postgres", "-d", db, "-c", sql],
        check=True, capture_output=True, text=True)
    return out.stdout.strip()


def new_db(name):
    psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql("postgres", f"CREATE DATABASE {name} OWNER {facts['TS_PG_USER']}")


shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def desk_env(n, team_name=None):
    """A desktop of its own: config (repositories.json), cache, logs; secrets through the test keyring."""
    d = os.path.join(work, f"desk{n}")
    for sub in ("config", "cache", "logs", "data"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    e = dict(os.environ)
    for k in ("IMAGESMITH_HOME", "IMAGESMITH_REPO", "RUST_LOG", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        e.pop(k, None)
    e.update({
        "IMAGESMITH_CONFIG": os.path.join(d, "config"),
        "IMAGESMITH_CACHE": os.path.join(d, "cache"),
        "IMAGESMITH_LOG_DIR": os.path.join(d, "logs"),
        "XDG_DATA_HOME": os.path.join(d, "data"),
        "DBUS_SESSION_BUS_ADDRESS": facts["TS_KEYRING_DBUS_ADDRESS"],
        "SSL_CERT_FILE": facts["TS_CA_CERT"],
    })
    return e


def connect(env, name, db):
    url = f"postgresql://{facts['TS_PG_USER']}@{facts['TS_PG_HOST']}:{facts['TS_PG_PORT']}/{db}"
    secrets = f"{facts['TS_PG_PASSWORD']}\n{facts['TS_S3_SECRET_ACCESS_KEY']}\n"
    subprocess.run([cli, "repo", "connect", name, "--catalog", url, "--objects", f"s3://{facts['TS_S3_BUCKET']}/{db}",
                    "--endpoint", facts["TS_S3_ENDPOINT"], "--access-key-id", facts["TS_S3_ACCESS_KEY_ID"],
                    "--password-stdin", "--json"], input=secrets, env=env, check=True, capture_output=True, text=True)


# Distinct incompressible files, each process its own FILES.
src = os.path.join(work, "files")
os.makedirs(src)
paths = [[os.path.join(src, f"p{p}-f{i:04}.img") for i in range(files)] for p in range(procs)]
for p in range(procs):
    for path in paths[p]:
        with open(path, "wb") as f:
            f.write(os.urandom(kib * 1024))
total_mib = procs * files * kib / 1024


def stamp(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def run_desk(argv_prefix, env, mine):
    waits, jobs = [], []
    for path in mine:
        t = time.monotonic()
        out = subprocess.run(argv_prefix + ["import", path, "--kind", "disk_image", "--json"], env=env, capture_output=True, text=True)
        waits.append(time.monotonic() - t)
        if out.returncode != 0:
            raise SystemExit(f"import failed: {out.stdout}\n{out.stderr}")
        job = json.loads(out.stdout)["job"]
        jobs.append(stamp(job["finished_at"]) - stamp(job["created_at"]))
    return waits, jobs


def contest(label, argv_prefix, envs):
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(procs) as pool:
        results = list(pool.map(lambda i: run_desk(argv_prefix, envs[i], paths[i]), range(procs)))
    wall = time.monotonic() - start
    waits = sorted(w for r in results for w in r[0])
    jobs = sorted(j for r in results for j in r[1])
    q = lambda xs, p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] * 1000
    row = {"label": label, "wall": wall, "jobs_s": len(waits) / wall, "mib_s": total_mib / wall,
           "wait_p50": q(waits, 0.5), "wait_p95": q(waits, 0.95), "wait_max": waits[-1] * 1000,
           "job_p50": q(jobs, 0.5), "job_p95": q(jobs, 0.95), "job_max": jobs[-1] * 1000}
    return row


# ---- 1. PROCESSES desktops importing at once: team against local ----
db = "bench_team_import"
new_db(db)
team_envs = [desk_env(i) for i in range(procs)]
for e in team_envs:
    connect(e, "team", db)
team = contest("team repository (PostgreSQL + SeaweedFS)", [cli, "--repo", "team"], team_envs)
assert psql(db, "SELECT count(*) FROM artifacts") == str(procs * files), "every file imported once"

local_home = os.path.join(work, "local-repo")
os.makedirs(local_home)
local_envs = []
for i in range(procs):
    e = desk_env(100 + i)
    e["IMAGESMITH_HOME"] = local_home
    local_envs.append(e)
local = contest("local repository (SQLite + files)", [cli], local_envs)

print(f"\n{procs} processes importing {files} files of {kib} KiB each ({total_mib:.0f} MiB), one import job per file\n")
print("| repository | wall s | jobs/s | MiB/s | wait p50 ms | wait p95 ms | wait max ms | job p50 ms | job p95 ms | job max ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in (team, local):
    print(f"| {r['label']} | {r['wall']:.1f} | {r['jobs_s']:.1f} | {r['mib_s']:.1f} | {r['wait_p50']:.0f} | {r['wait_p95']:.0f} "
          f"| {r['wait_max']:.0f} | {r['job_p50']:.0f} | {r['job_p95']:.0f} | {r['job_max']:.0f} |")
print(f"\nteam / local throughput = {team['jobs_s'] / local['jobs_s']:.2f}x; p95 job latency team / local = "
      f"{team['job_p95'] / local['job_p95']:.2f}x (wait: {team['wait_p95'] / local['wait_p95']:.2f}x)")
print("wait = the CLI call as the admin waits for it (process start, opening the repository, the job); "
      "job = the job row's created -> finished")

# ---- 2. The app's launch queries on a team catalog of 100,000 artifacts and 100,000 jobs ----
db = "bench_team_list"
new_db(db)
env = desk_env(200)
connect(env, "big", db)
t = time.monotonic()
psql(db, """
INSERT INTO objects (sha256, size, md5, created_at)
  SELECT lpad(to_hex(i), 64, '0'), (i::bigint * 7919) % 6442450944, lpad(to_hex(i + 7), 32, '0'),
         format('2026-%s-%sT%s:%s:00.000Z', lpad((1 + i % 12)::text, 2, '0'), lpad((1 + i % 28)::text, 2, '0'),
                lpad((i % 24)::text, 2, '0'), lpad((i % 60)::text, 2, '0'))
  FROM generate_series(0, 99999) i;
INSERT INTO artifacts (name, kind, os, sha256, original_name, detected, created_at, updated_at)
  SELECT k.kind || '-' || k.os || '-' || lpad(i::text, 5, '0') || '.iso', k.kind, k.os, o.sha256,
         k.kind || '-' || k.os || '-' || lpad(i::text, 5, '0') || '.iso', '{}', o.created_at, o.created_at
  FROM generate_series(0, 99999) i
  JOIN objects o ON o.sha256 = lpad(to_hex(i), 64, '0')
  CROSS JOIN LATERAL (SELECT (ARRAY['os','driver','os','driver','unattend','script','config','software'])[1 + i % 8] AS kind,
                             (ARRAY['linux','linux','windows','windows','linux','windows','vmware','linux'])[1 + i % 8] AS os) k;
INSERT INTO jobs (kind, state, session, created_at, started_at, finished_at, phase, bytes_done, bytes_total, summary)
  SELECT CASE WHEN j % 10 = 0 THEN 'verify' ELSE 'import' END,
         (ARRAY['succeeded','succeeded','succeeded','failed','cancelled','interrupted'])[1 + j % 6], 'seed',
         '2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', 'done', j * 4096, j * 4096,
         (1 + j % 3) || ' imported'
  FROM generate_series(0, 99999) j;
INSERT INTO job_items (job_id, seq, path, size, outcome)
  SELECT id, 0, '/srv/isos/file-' || id || '.iso', 4096, CASE WHEN state = 'failed' THEN 'failed' ELSE 'imported' END FROM jobs;
ANALYZE;
""")
print(f"\nTeam catalog seeded with 100,000 artifacts and 100,000 jobs in {time.monotonic() - t:.1f} s "
      f"(database size {psql(db, 'SELECT pg_size_pretty(pg_database_size(current_database()))')}); "
      "the app's launch queries on a newly opened team repository:")
subprocess.run(seed_cmd.split() + ["--team", "big", "100000"], env=env, check=True)

# ---- 3. NOTIFY fan-out: many open apps waiting on that catalog, another desktop changing it ----
fanout = seed_cmd.replace("seed_catalog", "notify_fanout")
desktops = int(os.environ.get("BENCH_TEAM_DESKTOPS", "80"))
changes = int(os.environ.get("BENCH_TEAM_CHANGES", "20"))
xacts = lambda: int(psql(db, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"))
before = xacts()
print()
subprocess.run(fanout.split() + ["big", str(desktops), str(changes)], env=env, check=True)
per = (xacts() - before) / (desktops * (changes + 1))
print(f"catalog transactions in that run, per change per open desktop: {per:.1f} "
      "(opening each desktop, its stamp reads and the changes themselves included)")
