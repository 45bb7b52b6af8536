//! An open team repository outlives its catalog connection: when PostgreSQL ends the session (a
//! restarted server, a network cut, an admin's pg_terminate_backend), the next read or write
//! connects again by itself. Real PostgreSQL and SeaweedFS, started by scripts/servers.sh (`make
//! test` sets IMAGESMITH_SERVERS_ENV); the test has its own database and bucket prefix.

mod common;

use common::{fixture, servers_env};

use imagesmith_engine::secrets::Secret;
use imagesmith_engine::team::{self, ConnectRequest, Migrate, TeamSecrets};
use imagesmith_engine::{ArtifactQuery, CancelToken, Engine, ImportItem, ImportRequest};
use std::collections::HashMap;
use std::process::Command;

/// `sql` as the server's superuser over its socket; the output, trimmed.
fn psql(env: &HashMap<String, String>, db: &str, sql: &str) -> String {
    let out = Command::new(format!("{}/psql", env["TS_PG_BIN"]))
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", &env["TS_PG_SOCKET_DIR"], "-p", &env["TS_PG_PORT"]])
        .args(["-U", "postgres", "-d", db, "-c", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A new team repository named `lab`, with the cache and config folders of this test.
struct NewTeam {
    repo: team::config::TeamRepo,
    secrets: TeamSecrets,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// A new team repository in database `db` (made afresh) and this test's bucket prefix.
fn new_team(env: &HashMap<String, String>, db: &str) -> NewTeam {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::env::set_var("IMAGESMITH_CACHE", dirs.0.path());
    std::env::set_var("IMAGESMITH_CONFIG", dirs.1.path());
    psql(env, "postgres", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    psql(env, "postgres", &format!("CREATE DATABASE {db} OWNER {}", env["TS_PG_USER"]));
    let mut repo = ConnectRequest {
        name: "lab".into(),
        catalog: format!("postgresql://{}@127.0.0.1:{}/{db}?sslmode=disable", env["TS_PG_USER"], env["TS_PG_PORT"]),
        objects: format!("s3://{}/{db}", env["TS_S3_BUCKET"]),
        endpoint: env["TS_S3_ENDPOINT"].clone(),
        region: Some(env["TS_S3_REGION"].clone()),
        access_key_id: env["TS_S3_ACCESS_KEY_ID"].clone(),
    }
    .to_repo()
    .unwrap();
    let secrets =
        TeamSecrets { catalog: Secret::new(env["TS_PG_PASSWORD"].clone()), objects: Secret::new(env["TS_S3_SECRET_ACCESS_KEY"].clone()) };
    repo.repository_id = Some(team::connect(&repo, &secrets, Migrate::Create).unwrap().repository.id);
    NewTeam { repo, secrets, _dirs: dirs }
}

#[test]
fn a_lost_catalog_connection_is_made_again_for_the_next_read_and_write() {
    let env = servers_env();
    let db = format!("t_engine_{}", std::process::id());
    let NewTeam { repo, secrets, _dirs } = new_team(&env, &db);
    let engine = Engine::open_team(&repo, &secrets).unwrap();
    assert_eq!(engine.list_artifacts(&ArtifactQuery::default()).unwrap().len(), 0);

    // The server ends the session (as a restart or a cut would): the next read connects again.
    let ended = psql(&env, "postgres", &format!("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}'"));
    assert_eq!(ended, "1", "the engine's one session was ended");
    assert_eq!(engine.list_artifacts(&ArtifactQuery::default()).unwrap().len(), 0, "read again on a new connection");

    // And a write (an import takes the team's write lock several times) after another cut.
    psql(&env, "postgres", &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"));
    let req = ImportRequest { items: vec![ImportItem { path: fixture("post-install.sh"), ..Default::default() }], ..Default::default() };
    let report = engine.import(&req, &CancelToken::new(), &|_| {}).unwrap();
    assert!(report.items[0].artifact.is_some(), "{report:?}");
    assert_eq!(psql(&env, &db, "SELECT string_agg(name, ',') FROM artifacts"), "post-install.sh");

    // A catalog that stays away is told as such, with what to do.
    let err = {
        drop(engine);
        let engine = Engine::open_team(&repo, &secrets).unwrap();
        psql(&env, "postgres", &format!("ALTER DATABASE {db} WITH ALLOW_CONNECTIONS false"));
        psql(&env, "postgres", &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"));
        let err = engine.list_artifacts(&ArtifactQuery::default()).unwrap_err();
        psql(&env, "postgres", &format!("ALTER DATABASE {db} WITH ALLOW_CONNECTIONS true"));
        err
    };
    assert!(!err.recovery.is_empty(), "{err:?}");
    assert_ne!(err.code, "internal", "{err:?}");
    psql(&env, "postgres", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

/// Another desktop's change reaches an open team repository through the catalog's NOTIFY: the
/// waiting engine wakes within a second of it (its safety-net check comes only every 30 s).
#[test]
fn another_desktops_change_wakes_the_waiting_engine_within_a_second() {
    let env = servers_env();
    let db = format!("t_listen_{}", std::process::id());
    let NewTeam { repo, secrets, _dirs } = new_team(&env, &db);
    let engine = std::sync::Arc::new(Engine::open_team(&repo, &secrets).unwrap());
    let before = engine.change_stamp().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiting = engine.clone();
    std::thread::spawn(move || loop {
        waiting.wait_for_change(std::time::Duration::from_millis(500));
        if waiting.change_stamp().unwrap() != before {
            let _ = tx.send(std::time::Instant::now());
            return;
        }
    });
    // Its listening connection is there (a condition, not a guess at how long it takes).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while psql(&env, "postgres", &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND query = 'LISTEN imagesmith'"))
        != "1"
    {
        assert!(std::time::Instant::now() < deadline, "the engine never listened");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Another desktop starts a job (as psql, straight into the catalog).
    let changed = std::time::Instant::now();
    psql(&env, &db, "INSERT INTO jobs (kind, state, session, created_at, run_by) VALUES ('import', 'running', 'x-1-2', 'now', 'bo@desk')");
    let woke = rx.recv_timeout(std::time::Duration::from_secs(40)).expect("the engine saw the change");
    let after = woke.duration_since(changed);
    assert!(after < std::time::Duration::from_secs(2), "woke {after:?} after the change: not by NOTIFY");
    drop(engine);
    psql(&env, "postgres", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

/// A change another desktop makes after the engine read its stamp but before it listens (its first
/// wait makes the listening connection) is not left for the 30 s safety net: the wait that starts
/// listening returns at once, and the next stamp read sees the change.
#[test]
fn a_change_made_just_before_the_engine_listens_is_seen_at_once() {
    let env = servers_env();
    let db = format!("t_listen_gap_{}", std::process::id());
    let NewTeam { repo, secrets, _dirs } = new_team(&env, &db);
    let engine = Engine::open_team(&repo, &secrets).unwrap();
    let before = engine.change_stamp().unwrap();
    psql(&env, &db, "INSERT INTO jobs (kind, state, session, created_at, run_by) VALUES ('import', 'running', 'x-1-2', 'now', 'bo@desk')");
    // As the app's watcher does: wait, then read the stamp and compare.
    let started = std::time::Instant::now();
    loop {
        engine.wait_for_change(std::time::Duration::from_millis(500));
        if engine.change_stamp().unwrap() != before {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(40), "never seen");
    }
    let after = started.elapsed();
    assert!(after < std::time::Duration::from_secs(2), "seen {after:?} later: by the safety net, not at once");
    drop(engine);
    psql(&env, "postgres", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

/// A job whose one item waits for the test's word before it ends.
struct Waiting(std::sync::Mutex<std::sync::mpsc::Receiver<()>>);

impl imagesmith_engine::Work for Waiting {
    type Item = ();
    type Report = imagesmith_engine::JobSummary;
    const KIND: imagesmith_engine::JobKind = imagesmith_engine::JobKind::Verify;

    fn items(&self) -> Vec<imagesmith_engine::ItemSpec> {
        vec![imagesmith_engine::ItemSpec::new("waits for the test", None)]
    }

    fn run_item(&self, _: &Engine, _: usize, _: &imagesmith_engine::Step<'_>) -> imagesmith_engine::Result<imagesmith_engine::Done<()>> {
        self.0.lock().unwrap().recv().unwrap();
        Ok(imagesmith_engine::Done::new(imagesmith_engine::Outcome::Verified, ()))
    }

    fn report(
        self,
        _: &Engine,
        job: imagesmith_engine::JobSummary,
        _: Vec<imagesmith_engine::ItemEnd<()>>,
    ) -> imagesmith_engine::Result<imagesmith_engine::JobSummary> {
        Ok(job)
    }
}

/// A job that ends while its catalog cannot be reached (a cut, a restarting server) records its
/// end when the catalog is back, instead of failing and leaving its row `running` for every
/// desktop to see.
#[test]
fn a_job_that_ends_while_the_catalog_is_away_records_its_end_when_it_is_back() {
    let env = servers_env();
    let db = format!("t_jobrow_{}", std::process::id());
    let NewTeam { repo, secrets, _dirs } = new_team(&env, &db);
    let engine = Engine::open_team(&repo, &secrets).unwrap();
    let (go, wait) = std::sync::mpsc::channel();
    let ended = std::thread::scope(|s| {
        let running = s.spawn(|| engine.run(Waiting(std::sync::Mutex::new(wait)), &CancelToken::new(), &|_| {}));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while psql(&env, &db, "SELECT count(*) FROM jobs WHERE state = 'running'") != "1" {
            assert!(std::time::Instant::now() < deadline, "the job never ran");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // The catalog goes away: no new connections, the open ones ended. The item ends meanwhile.
        psql(&env, "postgres", &format!("ALTER DATABASE {db} WITH ALLOW_CONNECTIONS false"));
        psql(&env, "postgres", &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"));
        go.send(()).unwrap();
        // Back after a while (the runner is trying meanwhile).
        std::thread::sleep(std::time::Duration::from_millis(1500));
        psql(&env, "postgres", &format!("ALTER DATABASE {db} WITH ALLOW_CONNECTIONS true"));
        running.join().unwrap()
    });
    let job = ended.expect("the job's end was recorded once the catalog was back");
    assert_eq!(job.state, imagesmith_engine::JobState::Succeeded, "{job:?}");
    assert_eq!(psql(&env, &db, "SELECT state || ' ' || (SELECT outcome FROM job_items) FROM jobs"), "succeeded verified");
    drop(engine);
    psql(&env, "postgres", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}
