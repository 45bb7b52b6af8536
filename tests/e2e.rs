//! End-to-end tests in a real window: the built app under Xvfb, driven through tauri-driver and
//! WebKitWebDriver with fantoccini, files arriving by a real XDND drag from another X client or
//! through the native GTK file dialog. Each step leaves a screenshot in target/e2e/.
//!
//! Ignored by a plain `cargo test` (they need a display, tauri-driver and WebKitWebDriver);
//! `scripts/app.sh test` runs them: `xvfb-run … cargo test --test e2e -- --ignored --test-threads=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const APP: &str = env!("CARGO_BIN_EXE_imagesmith");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Where the app window sits (tauri.conf.json: x 40, y 40, 1280x820; no window manager under Xvfb).
const DROP_AT: (i32, i32) = (600, 420);
/// Where the drag source window is put, right of the app window.
const SOURCE_AT: (i32, i32) = (1500, 200);

fn shots_dir() -> PathBuf {
    let dir = Path::new(ROOT).join("target/e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The test's own world: repository, XDG dirs, files to import.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::Builder::new().prefix("imagesmith-e2e").tempdir().unwrap();
        for sub in ["repo", "data", "config", "cache", "files to import"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Home { dir }
    }
    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }
    fn files(&self) -> PathBuf {
        self.path("files to import")
    }
    /// Stored objects in the repository (nothing half-written may remain after a failure/cancel).
    fn stored_objects(&self) -> usize {
        fn walk(p: &Path) -> usize {
            std::fs::read_dir(p).map(|rd| rd.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum()).unwrap_or(0)
        }
        walk(&self.path("repo/objects"))
    }
}

/// ipxe.iso and the SHA256SUMS covering it, from the project's fixtures; when they are not built
/// (no IMAGESMITH_FIXTURES), an ISO made here with xorriso and its own SHA256SUMS.
fn fixture_iso(into: &Path) -> (PathBuf, PathBuf, String) {
    let iso = into.join("ipxe.iso");
    let sums = into.join("SHA256SUMS");
    let fixtures = std::env::var_os("IMAGESMITH_FIXTURES").map(PathBuf::from).unwrap_or_else(|| Path::new(ROOT).join("target/fixtures"));
    if fixtures.join("ipxe.iso").is_file() && fixtures.join("SHA256SUMS").is_file() {
        std::fs::copy(fixtures.join("ipxe.iso"), &iso).unwrap();
        std::fs::copy(fixtures.join("SHA256SUMS"), &sums).unwrap();
    } else {
        let src = into.join(".iso-src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("README.TXT"), "Imagesmith e2e test image\n").unwrap();
        let ok = Command::new("xorriso")
            .args(["-as", "mkisofs", "-quiet", "-V", "IMAGESMITH_E2E", "-o"])
            .arg(&iso)
            .arg(&src)
            .status()
            .expect("xorriso runs");
        assert!(ok.success());
        std::fs::remove_dir_all(&src).unwrap();
        let out = Command::new("sha256sum").arg("ipxe.iso").current_dir(into).output().unwrap();
        std::fs::write(&sums, &out.stdout).unwrap();
    }
    // Padded (sparse) to 512 MiB: the import then runs long enough to show its progress even on a
    // busy machine. ISO readers ignore what follows the volume; SHA256SUMS is written for the padded file.
    std::fs::OpenOptions::new().write(true).open(&iso).unwrap().set_len(512 << 20).unwrap();
    let out = Command::new("sha256sum").arg("ipxe.iso").current_dir(into).output().unwrap();
    assert!(out.status.success());
    std::fs::write(&sums, &out.stdout).unwrap();
    let text = std::fs::read_to_string(&sums).unwrap();
    let sha = text
        .lines()
        .find(|l| l.trim_end().ends_with("ipxe.iso"))
        .and_then(|l| l.split_whitespace().next())
        .expect("SHA256SUMS covers ipxe.iso")
        .to_lowercase();
    (iso, sums, sha)
}

struct App {
    driver: Child,
    client: Client,
    step: u32,
    name: &'static str,
}

impl App {
    /// Start the app through a fresh tauri-driver. Creating the WebDriver session now and then
    /// fails on a busy machine (WebKitWebDriver does not answer while it launches the app); then
    /// the driver is stopped and the start tried again on the next two ports, at most three times.
    /// The drivers' stderr goes to target/e2e/<name>-driver-<port>.log.
    async fn start(home: &Home, name: &'static str, port: u16) -> App {
        Self::start_program(home, name, port, APP, &[]).await
    }

    /// [`App::start`] with another program in place of the app (a wrapper that sets the stage, then
    /// execs the app with the arguments WebKitWebDriver gives it).
    async fn start_program(home: &Home, name: &'static str, port: u16, program: &str, args: &[&Path]) -> App {
        let mut failures = Vec::new();
        for attempt in 0..3u16 {
            let port = port + 2 * attempt;
            match Self::try_start(home, name, port, program, args).await {
                Ok(app) => {
                    if !failures.is_empty() {
                        eprintln!("{name}: WebDriver session started on port {port} after {failures:?}");
                    }
                    return app;
                }
                Err(e) => failures.push(format!("port {port}: {e}")),
            }
        }
        panic!("no WebDriver session on the app: {failures:?}");
    }

    async fn try_start(home: &Home, name: &'static str, port: u16, program: &str, args: &[&Path]) -> Result<App, String> {
        let log = std::fs::File::create(shots_dir().join(format!("{name}-driver-{port}.log"))).unwrap();
        let driver = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &(port + 1).to_string()])
            .env("IMAGESMITH_HOME", home.path("repo"))
            .env("XDG_DATA_HOME", home.path("data"))
            .env("XDG_CONFIG_HOME", home.path("config"))
            .env("XDG_CACHE_HOME", home.path("cache"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("tauri-driver is installed (scripts/setup.sh)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                stop_driver(driver);
                return Err(format!("tauri-driver did not listen on {port}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        let args: Vec<String> = args.iter().map(|a| a.display().to_string()).collect();
        caps.insert("tauri:options".into(), json!({ "application": program, "args": args }));
        caps.insert("browserName".into(), json!("wry"));
        let connected = ClientBuilder::rustls().unwrap().capabilities(caps).connect(&format!("http://127.0.0.1:{port}")).await;
        let client = match connected {
            Ok(client) => client,
            Err(e) => {
                // no App to drop yet: stop the driver here, or it keeps its ports after the test
                stop_driver(driver);
                return Err(e.to_string());
            }
        };
        // The app opens centred; the tests' drags and shots need it here.
        if let Err(e) = client.set_window_rect(40, 40, 1280, 820).await {
            let _ = client.close().await;
            stop_driver(driver);
            return Err(format!("placing the window: {e}"));
        }
        let app = App { driver, client, step: 0, name };
        app.wait_for("[data-testid=library-count]").await;
        Ok(app)
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_for_within(css, Duration::from_secs(30)).await
    }

    async fn wait_for_within(&self, css: &str, timeout: Duration) -> fantoccini::elements::Element {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            assert!(Instant::now() < deadline, "{css} did not appear within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element is shown (`true`) or hidden or gone (`false`), as CSS lays it out.
    /// Wait (30 s at most) until the element `css` reads `text`.
    async fn wait_text(&self, css: &str, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if now == text {
                return;
            }
            assert!(Instant::now() < deadline, "{css} read {now:?}, not {text:?}, after 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_shown(&self, css: &str, shown: bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.is_displayed().await.unwrap_or(false),
                Err(_) => false,
            };
            if now == shown {
                return;
            }
            assert!(Instant::now() < deadline, "{css} was not {} within 30 s", if shown { "shown" } else { "hidden" });
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    async fn click(&self, css: &str) {
        let el = self.wait_for(css).await;
        // WebKitWebDriver does not scroll nested scroll containers (the profile editor) on its own
        let arg = serde_json::to_value(&el).unwrap();
        let _ = self.client.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await;
        el.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// The whole X screen as a person sees it (drag source and native dialog included). Taken
    /// with imagemagick rather than WebDriver: WebKitWebDriver's snapshot can stall the session.
    async fn shot(&mut self, what: &str) {
        tokio::time::sleep(Duration::from_millis(400)).await; // let the window repaint
        self.shot_screen(what).await;
    }

    async fn shot_screen(&mut self, what: &str) {
        let file = self.next_shot(what);
        let ok = Command::new("import").args(["-window", "root"]).arg(&file).status().map(|s| s.success()).unwrap_or(false);
        assert!(ok, "imagemagick's import could not take a screenshot");
    }

    fn next_shot(&mut self, what: &str) -> PathBuf {
        self.step += 1;
        shots_dir().join(format!("{}-{:02}-{what}.png", self.name, self.step))
    }

    async fn choose_os(&self, row_file: &str, os: &str) {
        let select = self.wait_for(&format!("[data-testid=review-row][data-file='{row_file}'] [data-testid=os-select]")).await;
        select.select_by_value(os).await.unwrap();
    }

    /// Starts recording what the jobs panel's progress line says (before a job starts).
    async fn watch_progress(&self) {
        self.client
            .execute(
                "window.__progress = []; new MutationObserver(() => { \
                   for (const el of document.querySelectorAll('[data-testid=job-progress]')) window.__progress.push(el.innerText); \
                 }).observe(document.body, { subtree: true, childList: true, characterData: true });",
                vec![],
            )
            .await
            .unwrap();
    }

    /// Progress lines seen while a job ran ("512 KiB of 1.0 MiB · rate · ETA"), placeholders left out.
    async fn progress_seen(&self) -> Vec<String> {
        let seen = self.client.execute("return window.__progress || [];", vec![]).await.unwrap();
        seen.as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.contains(" of ") && !t.contains(" of 0 B"))
            .collect()
    }

    async fn job_state(&self, wanted: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(card) = self.client.find(Locator::Css("[data-testid=job-card]")).await {
                if let Ok(Some(state)) = card.attr("data-state").await {
                    if wanted.contains(&state.as_str()) {
                        return state;
                    }
                }
            }
            assert!(Instant::now() < deadline, "no job reached {wanted:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn quit(self) {
        let _ = self.client.clone().close().await;
        drop(self);
    }
}

impl Drop for App {
    /// Also on a failed assertion: stop the driver (and with it the app), so the next test's window
    /// is the only one on the screen. SIGTERM, not SIGKILL: a killed tauri-driver leaves
    /// WebKitWebDriver holding its port.
    fn drop(&mut self) {
        terminate(&mut self.driver);
    }
}

/// SIGTERM, then SIGKILL after 10 s: tauri-driver passes SIGTERM on to WebKitWebDriver.
fn terminate(driver: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(driver.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while driver.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

fn stop_driver(mut driver: Child) {
    terminate(&mut driver);
}

fn xdotool(args: &[&str]) {
    let ok = Command::new("xdotool").args(args).status().expect("xdotool is installed").success();
    assert!(ok, "xdotool {args:?} failed");
}

/// A real XDND drag of `files` from another X client onto the app window.
async fn drag_onto_app(app: &mut App, files: &[&Path]) {
    let mut source = Command::new("/usr/bin/python3")
        .arg(Path::new(ROOT).join("tests/support/drag_source.py"))
        .arg(SOURCE_AT.0.to_string())
        .arg(SOURCE_AT.1.to_string())
        .args(files)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3-gi drag source starts");
    let mut line = String::new();
    BufReader::new(source.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "drag source did not come up");
    let (sx, sy) = (SOURCE_AT.0 + 120, SOURCE_AT.1 + 80);
    xdotool(&["mousemove", &sx.to_string(), &sy.to_string()]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    xdotool(&["mousedown", "1"]);
    let steps = 8;
    for i in 1..=steps {
        let x = sx + (DROP_AT.0 - sx) * i / steps;
        let y = sy + (DROP_AT.1 - sy) * i / steps;
        xdotool(&["mousemove", &x.to_string(), &y.to_string()]);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.shot_screen("drag-over-window").await;
    xdotool(&["mouseup", "1"]);
    // let the XDND exchange finish (XdndFinished) before the source goes away
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _ = source.kill();
    let _ = source.wait();
}

async fn library_sha256(app: &App, name: &str) -> String {
    app.click("[data-testid=nav-library]").await;
    app.click(&format!("[data-testid=artifact-row][data-name='{name}']")).await;
    app.text("[data-testid='digest-SHA-256']").await
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn drag_iso_with_sha256sums_imports_verified() {
    let home = Home::new();
    let (iso, sums, sha) = fixture_iso(&home.files());
    let mut app = App::start(&home, "1-drag", 4500).await;
    app.shot("empty-library").await;

    drag_onto_app(&mut app, &[&iso, &sums]).await;
    app.wait_for("[data-testid=import-review] [data-testid=review-row]").await;
    let source = app.text("[data-testid=review-row][data-file='ipxe.iso'] [data-testid=expected-source]").await;
    assert_eq!(source, "SHA-256 from SHA256SUMS");
    let input = app.wait_for("[data-testid=review-row][data-file='ipxe.iso'] [data-testid=expected-input]").await;
    assert_eq!(input.prop("value").await.unwrap().unwrap_or_default(), sha);
    assert!(app.text("[data-testid=checksum-file]").await.contains("SHA256SUMS"));
    assert_eq!(app.client.find_all(Locator::Css("[data-testid=review-row]")).await.unwrap().len(), 1, "SHA256SUMS is not an artifact");
    app.choose_os("ipxe.iso", "linux").await;
    app.shot("review-prefilled-from-sha256sums").await;
    app.shot_screen("screen-after-drop").await;

    app.watch_progress().await;
    app.click("[data-testid=start-import]").await;
    assert_eq!(app.job_state(&["succeeded", "failed", "cancelled"]).await, "succeeded");
    let seen = app.progress_seen().await;
    assert!(!seen.is_empty(), "no progress with the file's size was shown while the import ran");
    app.wait_for("[data-testid=toast]").await;
    app.shot("import-finished").await;

    assert_eq!(library_sha256(&app, "ipxe.iso").await, sha);
    assert_eq!(app.text("[data-testid=library-count]").await, "1 artifact");
    app.shot("library-shows-artifact").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn wrong_checksum_fails_with_recovery_and_stores_nothing() {
    let home = Home::new();
    let (iso, _sums, _sha) = fixture_iso(&home.files());
    let mut app = App::start(&home, "2-mismatch", 4510).await;

    drag_onto_app(&mut app, &[&iso]).await;
    let input = app.wait_for("[data-testid=review-row][data-file='ipxe.iso'] [data-testid=expected-input]").await;
    input.send_keys(&format!("sha256:{}\u{E004}", "0".repeat(64))).await.unwrap();
    let label = app.text("[data-testid=review-row][data-file='ipxe.iso'] [data-testid=expected-source]").await;
    assert_eq!(label, "SHA-256, entered by hand");
    app.choose_os("ipxe.iso", "linux").await;
    app.shot("review-wrong-checksum-entered").await;

    app.click("[data-testid=start-import]").await;
    assert_eq!(app.job_state(&["succeeded", "failed", "cancelled"]).await, "failed");
    let item = app.wait_for("[data-testid=item-error]").await;
    let text = item.text().await.unwrap();
    let code = app.wait_for("[data-testid=item-error] [data-code]").await.attr("data-code").await.unwrap();
    assert_eq!(code.as_deref(), Some("checksum_mismatch"), "{text}");
    let recovery = app.text("[data-testid=item-error] .recovery").await;
    assert!(recovery.starts_with("What to do:") && recovery.len() > 20, "recovery shown: {recovery}");
    app.shot("item-failed-with-recovery").await;

    app.click("[data-testid=nav-library]").await;
    assert_eq!(app.text("[data-testid=library-count]").await, "0 artifacts");
    assert_eq!(home.stored_objects(), 0);
    app.shot("library-unchanged").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn add_files_through_the_native_dialog() {
    let home = Home::new();
    let (iso, _sums, sha) = fixture_iso(&home.files());
    let mut app = App::start(&home, "3-dialog", 4520).await;

    app.click("[data-testid=add-files]").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let window = loop {
        let out = Command::new("xdotool").args(["search", "--name", "Add files to the repository"]).output().unwrap();
        let ids = String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect::<Vec<_>>();
        if let Some(id) = ids.last() {
            break id.clone();
        }
        assert!(Instant::now() < deadline, "the native file dialog did not open");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    xdotool(&["windowfocus", "--sync", &window]);
    xdotool(&["key", "--clearmodifiers", "ctrl+l"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    xdotool(&["type", "--delay", "20", iso.to_str().unwrap()]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.shot_screen("native-dialog").await;
    xdotool(&["key", "Return"]);

    app.wait_for("[data-testid=review-row][data-file='ipxe.iso']").await;
    app.choose_os("ipxe.iso", "linux").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.shot_screen("review-from-dialog").await;
    app.click("[data-testid=start-import]").await;
    assert_eq!(app.job_state(&["succeeded", "failed", "cancelled"]).await, "succeeded");
    assert_eq!(library_sha256(&app, "ipxe.iso").await, sha);
    app.shot_screen("library-after-dialog-import").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn cancel_a_large_import_keeps_nothing() {
    let home = Home::new();
    let (iso, _sums, _sha) = fixture_iso(&home.files());
    // A large, valid ISO: the fixture padded to 6 GiB (sparse, so it costs no disk until copied).
    let big = home.files().join("big.iso");
    std::fs::copy(&iso, &big).unwrap();
    std::fs::OpenOptions::new().write(true).open(&big).unwrap().set_len(6 << 30).unwrap();
    let mut app = App::start(&home, "4-cancel", 4530).await;

    drag_onto_app(&mut app, &[&big]).await;
    app.wait_for("[data-testid=review-row][data-file='big.iso']").await;
    app.choose_os("big.iso", "linux").await;
    app.click("[data-testid=start-import]").await;
    app.wait_for("[data-testid=job-card][data-state=running] [data-testid=job-progress]").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    app.shot("large-import-running").await;
    app.click("[data-testid=cancel-job]").await;
    assert_eq!(app.job_state(&["succeeded", "failed", "cancelled"]).await, "cancelled");
    app.shot("import-cancelled").await;

    app.click("[data-testid=nav-library]").await;
    assert_eq!(app.text("[data-testid=library-count]").await, "0 artifacts");
    assert_eq!(home.stored_objects(), 0, "a cancelled import left an object behind");
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn history_survives_quit_and_restart() {
    let home = Home::new();
    let (iso, sums, _sha) = fixture_iso(&home.files());
    let mut app = App::start(&home, "5-restart", 4540).await;
    drag_onto_app(&mut app, &[&iso, &sums]).await;
    app.choose_os("ipxe.iso", "linux").await;
    app.click("[data-testid=start-import]").await;
    assert_eq!(app.job_state(&["succeeded", "failed", "cancelled"]).await, "succeeded");
    // Ctrl+Q with no job running closes at once, and the window's size and place are remembered
    app.client.set_window_rect(100, 80, 1100, 700).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await; // let the X server apply it
    let settings = home.path("config/io.imagesmith.desktop/settings.json");
    // (the reply to the keys may be lost: the window is gone before WebDriver answers)
    let _ = app.wait_for("[data-testid=library-list]").await.send_keys("\u{E009}q\u{E000}").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let saved: serde_json::Value = loop {
        if let Some(v) = std::fs::read(&settings).ok().and_then(|b| serde_json::from_slice(&b).ok()) {
            break v;
        }
        assert!(Instant::now() < deadline, "Ctrl+Q did not close the window (no {})", settings.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((&saved["window"]["width"], &saved["window"]["height"]), (&json!(1100), &json!(700)), "{saved}");
    app.quit().await;

    let mut app = App::start(&home, "5-restart", 4550).await;
    app.click("[data-testid=nav-history]").await;
    let row = app.wait_for("[data-testid=history-row]").await;
    assert_eq!(row.attr("data-state").await.unwrap().as_deref(), Some("succeeded"));
    assert_eq!(app.text("[data-testid=history-count]").await, "1 job");
    row.click().await.unwrap();
    let item = app.wait_for("[data-testid=job-item]").await;
    assert_eq!(item.attr("data-outcome").await.unwrap().as_deref(), Some("imported"));
    app.step = 10;
    app.shot("history-after-restart").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn an_import_by_another_process_shows_up_live() {
    use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest, Kind};
    let home = Home::new();
    let (iso, _sums, sha) = fixture_iso(&home.files());
    let mut app = App::start(&home, "6-other-process", 4560).await;

    // the same repository opened from this test process, as imagesmith-cli would
    let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
    let request = ImportRequest {
        items: vec![ImportItem { path: iso.clone(), kind: Some(Kind::Os), os: Some("linux".into()), ..Default::default() }],
        checksum_files: vec![],
        ..Default::default()
    };
    let report = engine.import(&request, &CancelToken::new(), &|_| {}).unwrap();
    assert_eq!(report.items.len(), 1);

    // the shell polls the change stamp and emits catalog-changed / jobs-changed
    app.wait_for_within("[data-testid=artifact-row][data-name='ipxe.iso']", Duration::from_secs(10)).await;
    assert_eq!(app.job_state(&["succeeded"]).await, "succeeded");
    assert_eq!(library_sha256(&app, "ipxe.iso").await, sha);
    app.shot("appears-without-reload").await;
    app.quit().await;
}

/// A fixture file of the project's set (scripts/fixtures.sh; app.sh builds them for this run).
fn fixture(name: &str) -> PathBuf {
    let dir = std::env::var_os("IMAGESMITH_FIXTURES").map(PathBuf::from).unwrap_or_else(|| Path::new(ROOT).join("target/fixtures"));
    let path = dir.join(name);
    assert!(path.is_file(), "fixture {} is missing: run scripts/fixtures.sh {}", name, dir.display());
    path
}

impl App {
    /// Tick a row of the "Add from library" picker.
    async fn pick(&self, name: &str) {
        self.click(&format!("[data-testid=picker-row][data-name='{name}'] input")).await;
    }

    /// The engine error shown inside `css`: (code, text).
    async fn error_in(&self, css: &str) -> (String, String) {
        let el = self.wait_for(&format!("{css} [data-code]")).await;
        let code = el.attr("data-code").await.unwrap().unwrap_or_default();
        (code, el.text().await.unwrap())
    }

    async fn set_theme(&self, theme: &str) {
        self.click("[data-testid=nav-settings]").await;
        // the toasts of what came before stand over the lower left of the screen: dismiss them as a
        // person would, so the theme choice (below the trusted keys) can be clicked
        while let Ok(dismiss) = self.client.find(Locator::Css("[data-testid=toast] button[aria-label=Dismiss]")).await {
            dismiss.click().await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.click(&format!("input[name=theme][value={theme}]")).await;
        self.click("[data-testid=nav-profiles]").await;
        self.wait_for("[data-testid=profile-editor]").await;
    }

    /// Choose `folder` in the native GTK folder dialog titled `title`: leave "Recent" for the home
    /// folder (Alt+Home; in Recent nothing can be chosen), type the folder into the location bar
    /// and Return; if the dialog is still up (GTK only opened the folder), Return once more.
    async fn choose_native_folder(&mut self, title: &str, folder: &Path, shot: &str) {
        let find = || {
            // visible only: a dialog closed earlier may linger unmapped under the same title
            let out = Command::new("xdotool").args(["search", "--onlyvisible", "--name", title]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).split_whitespace().last().map(str::to_string)
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        let window = loop {
            if let Some(id) = find() {
                break id;
            }
            assert!(Instant::now() < deadline, "the native dialog \"{title}\" did not open");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        tokio::time::sleep(Duration::from_millis(800)).await;
        xdotool(&["windowfocus", "--sync", &window]);
        xdotool(&["key", "--clearmodifiers", "alt+Home"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        xdotool(&["key", "--clearmodifiers", "ctrl+l"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        xdotool(&["type", "--delay", "20", folder.to_str().unwrap()]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.shot_screen(shot).await;
        xdotool(&["key", "Return"]);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let visible = Command::new("xdotool").args(["search", "--onlyvisible", "--name", title]).output().unwrap();
        if !String::from_utf8_lossy(&visible.stdout).trim().is_empty() {
            self.shot_screen("native-folder-dialog-in-folder").await;
            xdotool(&["windowfocus", "--sync", &window]);
            xdotool(&["key", "Return"]);
        }
    }
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn compose_a_profile_and_export_it_through_the_native_dialog() {
    use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest};
    let home = Home::new();
    // the library, imported as imagesmith-cli would (the same engine, the same repository)
    {
        let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
        let items = ["rhel-9.6-x86_64-dvd.iso", "dud-kmod-example.iso", "ks.cfg", "autoyast.xml", "win-nic-driver.zip"]
            .iter()
            .map(|n| ImportItem { path: fixture(n), ..Default::default() })
            .collect();
        let report =
            engine.import(&ImportRequest { items, checksum_files: vec![], ..Default::default() }, &CancelToken::new(), &|_| {}).unwrap();
        assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
    }
    let script = home.files().join("post-install.sh");
    std::fs::copy(fixture("post-install.sh"), &script).unwrap();
    let windows_script = home.files().join("join-domain.cmd");
    std::fs::copy(fixture("join-domain.cmd"), &windows_script).unwrap();
    let out = home.path("exports");
    std::fs::create_dir_all(&out).unwrap();
    let mut app = App::start(&home, "7-profile", 4570).await;

    // create the profile on the RHEL image
    app.click("[data-testid=nav-profiles]").await;
    app.click("[data-testid=new-profile]").await;
    app.wait_for("[data-testid=profile-base] option").await;
    app.wait_for("[data-testid=profile-name]").await.send_keys("rhel9-web").await.unwrap();
    app.wait_for("[data-testid=profile-description]").await.send_keys("RHEL 9 web servers").await.unwrap();
    app.click("[data-testid=create-profile]").await;
    app.wait_for("[data-testid=profile-editor][data-profile='rhel9-web']").await;
    assert!(app.text("[data-testid=profile-base-card]").await.contains("rhel-9.6-x86_64-dvd.iso"));

    // add from the library: what fits the base OS is offered, the Windows driver is not
    app.click("[data-testid=add-from-library]").await;
    app.wait_for("[data-testid=picker-row][data-name='ks.cfg']").await;
    assert!(
        app.client.find(Locator::Css("[data-testid=picker-row][data-name='win-nic-driver.zip']")).await.is_err(),
        "a Windows driver is offered for a RHEL profile"
    );
    app.pick("dud-kmod-example.iso").await;
    app.pick("ks.cfg").await;
    app.click("[data-testid=picker-add]").await;
    app.wait_for("[data-testid=member][data-name='ks.cfg']").await;
    app.wait_for("[data-testid=member][data-name='dud-kmod-example.iso']").await;

    // what does not fit is refused by the engine with the reason and what to do
    app.click("[data-testid=add-from-library]").await;
    app.pick("autoyast.xml").await;
    app.click("[data-testid=picker-add]").await;
    let (code, text) = app.error_in("[data-testid=picker-error]").await;
    assert_eq!(code, "unsupported_type", "{text}");
    assert!(text.contains("already has an answer file (ks.cfg)") && text.contains("What to do:"), "{text}");
    app.shot("second-answer-file-refused").await;
    app.pick("autoyast.xml").await; // untick
    app.click("[data-testid=picker-show-all]").await;
    app.pick("win-nic-driver.zip").await;
    app.click("[data-testid=picker-add]").await;
    let (code, text) = app.error_in("[data-testid=picker-error]").await;
    assert_eq!(code, "unsupported_type");
    assert!(text.contains("is for windows, but the profile rhel9-web is for linux"), "{text}");
    app.shot("windows-driver-refused").await;
    app.client.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap(); // Escape closes the dialog
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.client.find(Locator::Css("[data-testid=library-picker]")).await.is_ok() {
        assert!(Instant::now() < deadline, "Escape did not close the picker");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.client.find_all(Locator::Css("[data-testid=member]")).await.unwrap().len(), 2, "a refused addition changed the profile");

    // files dropped onto the open profile are imported; what fits is added, a misfit (a Windows
    // script on a Linux profile) is named with its reason
    drag_onto_app(&mut app, &[&script, &windows_script]).await;
    app.wait_for("[data-testid=review-target]").await;
    app.wait_for("[data-testid=review-row][data-file='post-install.sh']").await;
    if app
        .client
        .find(Locator::Css("[data-testid=review-row][data-file='post-install.sh'] [data-testid=os-select][aria-invalid=true]"))
        .await
        .is_ok()
    {
        app.choose_os("post-install.sh", "linux").await;
    }
    app.click("[data-testid=start-import]").await;
    app.wait_for_within("[data-testid=member][data-name='post-install.sh']", Duration::from_secs(30)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let mut texts = Vec::new();
        for t in app.client.find_all(Locator::Css("[data-testid=toast]")).await.unwrap() {
            texts.push(t.text().await.unwrap_or_default());
        }
        if let Some(t) = texts.into_iter().find(|t| t.contains("join-domain.cmd")) {
            break t;
        }
        assert!(Instant::now() < deadline, "no notice names the Windows script that did not fit");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(refused.contains("was not added to rhel9-web") && refused.contains("windows"), "{refused}");
    app.shot("dropped-files-one-added-one-refused").await;

    // install options: the common ones as fields plus a free key/value row
    app.wait_for("[data-testid=option-hostname]").await.send_keys("web01").await.unwrap();
    app.wait_for("[data-testid=option-timezone]").await.send_keys("Europe/Berlin").await.unwrap();
    app.click("[data-testid=add-option]").await;
    app.wait_for("[data-testid=option-row] [data-testid=option-key]").await.send_keys("ntp").await.unwrap();
    app.wait_for("[data-testid=option-row] [data-testid=option-value]").await.send_keys("pool.ntp.org").await.unwrap();
    app.click("[data-testid=save-options]").await;
    app.wait_for("[data-testid=options-saved]").await;
    let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
    let saved = engine.get_profile("rhel9-web").unwrap();
    assert_eq!(saved.options.get("timezone").map(String::as_str), Some("Europe/Berlin"));
    assert_eq!(saved.options.get("ntp").map(String::as_str), Some("pool.ntp.org"));
    assert_eq!(saved.members.len(), 3);
    app.step = 20;
    for theme in ["light", "dark"] {
        app.set_theme(theme).await;
        app.shot(&format!("profile-editor-{theme}")).await;
        let form = app.wait_for("[data-testid=options-form]").await;
        let arg = serde_json::to_value(&form).unwrap();
        app.client.execute("arguments[0].scrollIntoView({block: 'end'});", vec![arg]).await.unwrap();
        app.shot(&format!("profile-options-{theme}")).await;
    }
    app.set_theme("light").await;

    // export into a folder chosen through the native GTK dialog
    app.click("[data-testid=export-profile]").await;
    app.click("[data-testid=choose-export-folder]").await;
    app.choose_native_folder("Export rhel9-web to a folder", &out, "native-folder-dialog").await;
    let shown = app.wait_for("[data-testid=export-folder]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while shown.text().await.unwrap() != out.display().to_string() {
        assert!(Instant::now() < deadline, "the chosen folder did not reach the dialog: {}", shown.text().await.unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.shot("export-dialog").await;
    app.click("[data-testid=start-export]").await;
    app.wait_for_within("[data-testid=export-done]", Duration::from_secs(60)).await;
    let file = app.text("[data-testid=export-file]").await;
    let sha = app.text("[data-testid=export-sha256]").await;
    app.shot("export-done").await;
    assert_eq!(Path::new(&file), out.join("rhel9-web.tar.gz"));
    let sidecar = std::fs::read_to_string(out.join("rhel9-web.tar.gz.sha256")).unwrap();
    assert_eq!(sidecar, format!("{sha}  rhel9-web.tar.gz\n"));
    let check = Command::new("sha256sum").arg("-c").arg("rhel9-web.tar.gz.sha256").current_dir(&out).output().unwrap();
    assert!(check.status.success(), "sha256sum -c: {}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
    let listing = Command::new("tar").arg("tzf").arg(&file).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for entry in ["profile.json", "SHA256SUMS", "drivers/dud-kmod-example.iso", "unattend/ks.cfg", "custom/post-install.sh"] {
        assert!(listing.lines().any(|l| l == entry), "{entry} missing from the archive:\n{listing}");
    }
    assert!(!listing.contains("os/"), "the OS image was included without being asked for");
    let card = app.wait_for("[data-testid=job-card][data-state=succeeded]").await;
    assert!(card.text().await.unwrap().contains("Export #"), "the jobs panel does not show the export");
    app.wait_for("[data-testid=show-in-folder]").await;
    app.click("[data-testid=close-export]").await;

    // the library says a member cannot be deleted before it is tried, naming the profile
    app.click("[data-testid=nav-library]").await;
    app.click("[data-testid=artifact-row][data-name='ks.cfg']").await;
    assert!(app.text("[data-testid=used-by]").await.contains("rhel9-web"), "Used by names the profile");
    app.click("[data-testid=delete-artifact]").await;
    let text = app.text("[data-testid=delete-blocked]").await;
    assert!(text.contains("rhel9-web"), "{text}");
    let confirm = app.wait_for("[data-testid=confirm-delete]").await;
    assert!(!confirm.is_enabled().await.unwrap(), "Delete is not offered while a profile uses it");
    app.shot("member-delete-refused").await;
    app.click("[data-testid=keep-artifact]").await;

    // the exported archive dropped back onto the window is imported as a profile
    drag_onto_app(&mut app, &[Path::new(&file)]).await;
    app.wait_for("[data-testid=review-row][data-file='rhel9-web.tar.gz'] [data-testid=profile-archive-note]").await;
    app.click("[data-testid=start-import]").await;
    app.wait_for_within("[data-testid=profile-editor][data-profile='rhel9-web (2)']", Duration::from_secs(30)).await;
    assert_eq!(app.client.find_all(Locator::Css("[data-testid=profile-editor] [data-testid=member]")).await.unwrap().len(), 3);
    app.shot("profile-imported").await;

    // a stored file damaged on disk is refused at export, naming it, and nothing is left behind
    let ks_sha = engine.get_artifact("ks.cfg").unwrap().sha256;
    let object = home.path("repo/objects/sha256").join(&ks_sha[..2]).join(&ks_sha[2..]);
    Command::new("chmod").arg("u+w").arg(&object).status().unwrap();
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&object, bytes).unwrap();
    let out2 = home.path("exports again");
    std::fs::create_dir_all(&out2).unwrap();
    app.click("[data-testid=profile-row][data-name='rhel9-web']").await;
    app.wait_for("[data-testid=profile-editor][data-profile='rhel9-web']").await;
    app.click("[data-testid=profile-editor][data-profile='rhel9-web'] [data-testid=export-profile]").await;
    app.click("[data-testid=choose-export-folder]").await;
    app.choose_native_folder("Export rhel9-web to a folder", &out2, "native-folder-dialog-again").await;
    app.click("[data-testid=start-export]").await;
    let error = app.wait_for_within("[data-testid=export-error]", Duration::from_secs(60)).await.text().await.unwrap();
    assert!(error.contains("object_damaged") && error.contains("ks.cfg"), "{error}");
    app.shot("export-refused-damaged-object").await;
    assert_eq!(std::fs::read_dir(&out2).unwrap().count(), 0, "no archive, no .sha256, no temp file is left");
    app.quit().await;
}

/// The Glance the publish test talks to: scripts/app.sh starts one (scripts/with-servers.sh, TS_WITH=glance) and
/// passes its servers.env; run by hand, point IMAGESMITH_SERVERS_ENV at a servers.env of scripts/servers.sh.
fn glance_url() -> String {
    let env = std::env::var_os("IMAGESMITH_SERVERS_ENV")
        .expect("IMAGESMITH_SERVERS_ENV is not set: run the e2e tests through scripts/app.sh test, which starts a local Glance");
    let text = std::fs::read_to_string(&env).unwrap_or_else(|e| panic!("{}: {e}", Path::new(&env).display()));
    text.lines()
        .find_map(|l| l.strip_prefix("TS_GLANCE_URL="))
        .expect("servers.env has TS_GLANCE_URL (TS_WITH includes glance)")
        .trim()
        .to_string()
}

/// Glance's record of an image, asked directly (not through Imagesmith); None when it is gone.
fn glance_image(url: &str, id: &str) -> Option<serde_json::Value> {
    let out = Command::new("curl")
        .args(["-s", "-m", "20", "-w", "\n%{http_code}"])
        .arg(format!("{url}/v2/images/{id}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap();
    match status {
        "200" => Some(serde_json::from_str(body).unwrap()),
        "404" => None,
        other => panic!("Glance answered {other}: {body}"),
    }
}

fn digest(tool: &str, file: &Path) -> String {
    let out = Command::new(tool).arg(file).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

async fn set_value(app: &App, css: &str, value: &str) {
    let el = app.wait_for(css).await;
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

async fn values(app: &App, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for el in app.client.find_all(Locator::Css(css)).await.unwrap() {
        out.push(el.prop("value").await.unwrap().unwrap_or_default());
    }
    out
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and a local Glance: scripts/app.sh test"]
async fn publish_wizard_to_a_real_glance_verifies_the_image() {
    use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest, Kind};
    let glance = glance_url();
    let home = Home::new();
    let fixtures = std::env::var_os("IMAGESMITH_FIXTURES").map(PathBuf::from).unwrap_or_else(|| Path::new(ROOT).join("target/fixtures"));
    let iso = home.files().join("ubuntu-24.04-server-amd64.iso");
    std::fs::copy(fixtures.join("ubuntu-24.04-server-amd64.iso"), &iso).expect("the ubuntu fixture ISO (scripts/fixtures.sh)");
    {
        let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
        let request = ImportRequest {
            items: vec![ImportItem { path: iso.clone(), kind: Some(Kind::Os), os: Some("linux".into()), ..Default::default() }],
            checksum_files: vec![],
            ..Default::default()
        };
        let report = engine.import(&request, &CancelToken::new(), &|_| {}).unwrap();
        assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
    }
    let mut app = App::start(&home, "8-publish", 4600).await;

    // Clouds & servers: a no-auth Glance, tested
    app.click("[data-testid=nav-remotes]").await;
    app.click("[data-testid=add-target]").await;
    set_value(&app, "[data-testid=target-name]", "lab-glance").await;
    app.click("[data-testid=target-kind-none]").await;
    set_value(&app, "[data-testid=target-image-url]", &glance).await;
    app.shot("add-cloud-account").await;
    app.click("[data-testid=save-target]").await;
    app.click("[data-testid=target-row][data-name='lab-glance'] [data-testid=test-target]").await;
    let endpoint = app.text("[data-testid=target-test-result] [data-testid=test-endpoint]").await;
    assert!(endpoint.starts_with(&glance), "the image endpoint found: {endpoint}");
    app.shot("cloud-account-tested").await;

    // the wizard, from the artifact's details
    app.click("[data-testid=nav-library]").await;
    app.click("[data-testid=artifact-row][data-name='ubuntu-24.04-server-amd64.iso']").await;
    app.click("[data-testid=publish-artifact]").await;
    let candidate = app.wait_for("[data-testid=publish-candidate][data-name='ubuntu-24.04-server-amd64.iso']").await;
    assert_eq!(candidate.prop("checked").await.unwrap().as_deref(), Some("true"), "the selected artifact is chosen");
    app.shot("wizard-1-images").await;
    app.click("[data-testid=wizard-next]").await;
    let radio = app.wait_for("[data-testid=publish-target][data-name='lab-glance']").await;
    assert_eq!(radio.prop("checked").await.unwrap().as_deref(), Some("true"), "the only account is chosen");
    app.shot("wizard-2-target").await;
    app.click("[data-testid=wizard-next]").await;
    let name = app.wait_for("[data-testid=publish-name]").await;
    assert_eq!(name.prop("value").await.unwrap().as_deref(), Some("ubuntu-24.04-server-amd64"));
    let props = values(&app, "[data-testid=property-value]").await;
    assert!(props.contains(&"ubuntu".to_string()), "os_distro prefilled from the library: {props:?}");
    app.click("[data-testid=visibility-shared]").await;
    set_value(&app, "[data-testid=publish-name]", "Ubuntu 24.04 installer (e2e)").await;
    app.shot("wizard-3-options").await;
    // Enter in a field goes to the next step
    app.wait_for("[data-testid=publish-name]").await.send_keys("\u{E007}").await.unwrap();
    app.wait_for_within("[data-testid=plan-item]", Duration::from_secs(60)).await;
    for check in app.client.find_all(Locator::Css("[data-testid=plan-check]")).await.unwrap() {
        let level = check.attr("data-level").await.unwrap().unwrap_or_default();
        assert_eq!(level, "ok", "dry run: {}", check.text().await.unwrap());
    }
    assert!(app.text("[data-testid=publish-review]").await.contains(&glance), "the review says where it goes");
    app.shot("wizard-4-review").await;
    app.click("[data-testid=wizard-publish]").await;
    let result = app.wait_for_within("[data-testid=publish-result]", Duration::from_secs(120)).await;
    assert_eq!(result.attr("data-verified").await.unwrap().as_deref(), Some("true"), "{}", result.text().await.unwrap());
    let remote_id = app.text("[data-testid=publish-remote-id]").await;
    app.shot("wizard-published-verified").await;

    // what Glance itself says: active, and the digests of the very file imported
    let image = glance_image(&glance, &remote_id).expect("the image exists in Glance");
    assert_eq!(image["status"], "active");
    assert_eq!(image["name"], "Ubuntu 24.04 installer (e2e)");
    assert_eq!(image["disk_format"], "iso");
    assert_eq!(image["visibility"], "shared");
    assert_eq!(image["os_distro"], "ubuntu");
    assert_eq!(image["checksum"].as_str(), Some(digest("md5sum", &iso).as_str()));
    assert_eq!(image["os_hash_value"].as_str(), Some(digest("sha512sum", &iso).as_str()));

    // the publication in the artifact's details
    app.click("[data-testid=wizard-close]").await;
    let status = app.text("[data-testid=publication][data-target='lab-glance'] [data-testid=publication-status]").await;
    assert_eq!(status, "Verified");
    assert_eq!(app.text("[data-testid=publication-remote-id]").await, remote_id);
    app.shot("publication-verified").await;
    app.click("[data-testid=refresh-publication]").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.text("[data-testid=publication-status]").await, "Verified", "still verified after asking Glance again");

    // dark theme: the publication, and the review of a second publish under the same name (warned)
    app.click("[data-testid=nav-settings]").await;
    app.click("input[name=theme][value=dark]").await;
    app.click("[data-testid=nav-library]").await;
    app.click("[data-testid=artifact-row][data-name='ubuntu-24.04-server-amd64.iso']").await;
    app.wait_for("[data-testid=publication]").await;
    app.shot("publication-verified-dark").await;
    app.click("[data-testid=publish-artifact]").await;
    app.click("[data-testid=wizard-next]").await;
    app.click("[data-testid=wizard-next]").await;
    set_value(&app, "[data-testid=publish-name]", "Ubuntu 24.04 installer (e2e)").await;
    app.shot("wizard-3-options-dark").await;
    app.click("[data-testid=wizard-next]").await;
    let warned = app.wait_for_within("[data-testid=plan-check][data-level=warn]", Duration::from_secs(60)).await;
    assert!(warned.text().await.unwrap().contains("already has"), "name taken is a warning");
    let publish = app.wait_for("[data-testid=wizard-publish]").await;
    assert!(publish.is_enabled().await.unwrap(), "a warning does not block publishing");
    app.shot("wizard-4-review-name-taken-dark").await;
    app.click("[data-testid=wizard-cancel]").await;

    // delete it from the cloud, with a confirmation
    app.click("[data-testid=unpublish]").await;
    app.shot("unpublish-confirm-dark").await;
    app.click("[data-testid=confirm-unpublish]").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.text("[data-testid=publication-status]").await != "Deleted from the cloud" {
        assert!(Instant::now() < deadline, "the publication did not show as deleted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(glance_image(&glance, &remote_id).is_none(), "the image is gone from Glance");
    app.shot("unpublished-dark").await;
    app.quit().await;
}

/// A value of the servers.env scripts/app.sh passes (see `glance_url`).
fn server_env(key: &str) -> String {
    let env = std::env::var_os("IMAGESMITH_SERVERS_ENV")
        .expect("IMAGESMITH_SERVERS_ENV is not set: run the e2e tests through scripts/app.sh test");
    let text = std::fs::read_to_string(&env).unwrap();
    let prefix = format!("{key}=");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("servers.env has no {key} (APP_E2E_SERVERS must include the server)"))
        .trim()
        .to_string()
}

/// Answer the password prompt the engine's `secret_required` brought up.
async fn enter_password(app: &App, password: &str) {
    let input = app.wait_for_within("[data-testid=secret-input]", Duration::from_secs(30)).await;
    input.send_keys(password).await.unwrap();
    app.click("[data-testid=secret-submit]").await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and a local WebDAV server: scripts/app.sh test"]
async fn export_a_profile_to_a_real_webdav_server() {
    use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest};
    let (port, user, password, root) = (
        server_env("TS_WEBDAV_PORT"),
        server_env("TS_WEBDAV_USER"),
        server_env("TS_WEBDAV_PASSWORD"),
        PathBuf::from(server_env("TS_WEBDAV_ROOT")),
    );
    let home = Home::new();
    let fixtures = std::env::var_os("IMAGESMITH_FIXTURES").map(PathBuf::from).unwrap_or_else(|| Path::new(ROOT).join("target/fixtures"));
    {
        let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
        let items =
            ["rhel-9.6-x86_64-dvd.iso", "ks.cfg"].iter().map(|n| ImportItem { path: fixtures.join(n), ..Default::default() }).collect();
        let report =
            engine.import(&ImportRequest { items, checksum_files: vec![], ..Default::default() }, &CancelToken::new(), &|_| {}).unwrap();
        assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
        engine.create_profile("rhel9-dav", "rhel-9.6-x86_64-dvd.iso", "", None).unwrap();
        engine.add_to_profile("rhel9-dav", &["ks.cfg".to_string()]).unwrap();
    }
    let sub = format!("e2e-{}", std::process::id());
    let mut app = App::start(&home, "9-webdav", 4610).await;

    // the server, saved without its password (asked for each time), and tested
    app.click("[data-testid=nav-remotes]").await;
    app.click("[data-testid=add-server]").await;
    set_value(&app, "[data-testid=server-name]", "lab-dav").await;
    app.wait_for("[data-testid=server-protocol]").await.select_by_value("webdav").await.unwrap();
    set_value(&app, "[data-testid=server-host]", "127.0.0.1").await;
    set_value(&app, "[data-testid=server-port]", &port).await;
    set_value(&app, "[data-testid=server-path]", "/exports").await;
    set_value(&app, "[data-testid=server-user]", &user).await;
    app.click("[data-testid=server-remember]").await;
    app.shot("add-webdav-server").await;
    app.click("[data-testid=save-server]").await;
    app.click("[data-testid=server-row][data-name='lab-dav'] [data-testid=test-server]").await;
    enter_password(&app, &password).await;
    let result = app.text("[data-testid=server-test-result]").await;
    assert!(result.contains("writable"), "{result}");
    app.shot("webdav-server-tested").await;

    // export the profile to it from the export dialog
    app.click("[data-testid=nav-profiles]").await;
    app.click("[data-testid=profile-row][data-name='rhel9-dav']").await;
    app.click("[data-testid=export-profile]").await;
    app.click("[data-testid=export-to-server]").await;
    app.wait_for("[data-testid=export-server]").await.select_by_value("lab-dav").await.unwrap();
    set_value(&app, "[data-testid=export-server-path]", &sub).await;
    app.shot("export-dialog-to-server").await;
    app.click("[data-testid=start-export]").await;
    enter_password(&app, &password).await;
    app.wait_for_within("[data-testid=export-done]", Duration::from_secs(60)).await;
    let file = app.text("[data-testid=export-file]").await;
    assert_eq!(file, format!("http://{user}@127.0.0.1:{port}/exports/{sub}/rhel9-dav.tar.gz"));
    let sha = app.text("[data-testid=export-sha256]").await;
    app.shot("exported-to-webdav").await;

    // what the server holds: the archive and its sidecar, which sha256sum -c accepts
    let dir = root.join("exports").join(&sub);
    assert_eq!(digest("sha256sum", &dir.join("rhel9-dav.tar.gz")), sha);
    let check = Command::new("sha256sum").arg("-c").arg("rhel9-dav.tar.gz.sha256").current_dir(&dir).output().unwrap();
    assert!(check.status.success(), "sha256sum -c: {}", String::from_utf8_lossy(&check.stdout));
    app.quit().await;
}

/// (width, height) of the window's content: the app's minimum, a small laptop, full HD.
const SIZES: [(u32, u32); 3] = [(900, 560), (1280, 720), (1920, 1080)];

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn narrow_windows_keep_the_details_pane_usable_with_the_jobs_panel_open() {
    let home = Home::new();
    {
        // a library with a long name and a finished job, made before the window opens
        let long = home.files().join("rhel-9.6-x86_64-dvd-with-a-very-long-descriptive-name-from-the-vendor-portal.iso");
        std::fs::copy(fixture("rhel-9.6-x86_64-dvd.iso"), &long).unwrap();
        let engine = seeded(&home, vec![long, fixture("ks.cfg"), fixture("post-install.sh")]);
        let os = engine.list_artifacts(&Default::default()).unwrap().into_iter().find(|a| a.name.starts_with("rhel")).unwrap();
        engine.create_profile("web", &os.id.to_string(), "", None).unwrap();
        // History with more kinds: an export of the profile and its import under another name
        let out = home.path("exports");
        std::fs::create_dir_all(&out).unwrap();
        let request =
            imagesmith_engine::export::ExportRequest { profile: "web".into(), dir: out.clone(), include_os: false, lint_override: None };
        engine.export_profile(&request, &imagesmith_engine::CancelToken::new(), &|_| {}).unwrap();
        engine.import_profile(&out.join("web.tar.gz"), Some("web copy"), &imagesmith_engine::CancelToken::new(), &|_| {}).unwrap();
    }
    let mut app = App::start(&home, "10-narrow", 4620).await;
    if app.client.find(Locator::Css("[data-testid=jobs-panel]")).await.is_err() {
        app.click("[data-testid=toggle-jobs]").await;
    }
    app.click("[data-testid=artifact-row][data-name='ks.cfg']").await;
    app.wait_for("[data-testid=details-name]").await;
    // Ctrl+F goes to the library's search (not the webview's find bar); Escape-free: type and it filters
    let list = app.wait_for("[data-testid=library-list]").await;
    list.send_keys("\u{E009}f\u{E000}").await.unwrap(); // Control down, f, all keys up
    let focused = app.client.execute("return document.activeElement?.dataset?.testid ?? null;", vec![]).await.unwrap();
    assert_eq!(focused, json!("library-search"), "Ctrl+F focuses the search");
    for (w, h) in SIZES {
        app.client.set_window_rect(0, 0, w, h).await.unwrap(); // at the corner: 1920x1080 is the whole screen
        tokio::time::sleep(Duration::from_millis(400)).await; // let the window manager apply it
        for theme in ["light", "dark"] {
            // as Settings applies it, without leaving the library
            app.client.execute("document.documentElement.dataset.theme = arguments[0];", vec![json!(theme)]).await.unwrap();
            app.shot(&format!("library-jobs-open-{w}x{h}-{theme}")).await;
        }
        let details = app.wait_for("[data-testid=artifact-details]").await;
        let (_, _, width, _) = details.rectangle().await.unwrap();
        assert!(width >= 280.0, "at {w}x{h} the details pane is {width} px wide, too narrow to read");
        let list = app.wait_for("[data-testid=library-list]").await;
        let (_, _, list_width, _) = list.rectangle().await.unwrap();
        assert!(list_width >= 240.0, "at {w}x{h} the list is {list_width} px wide");
        let (_, _, jobs_width, _) = app.wait_for("[data-testid=jobs-panel]").await.rectangle().await.unwrap();
        assert!(jobs_width >= 280.0, "at {w}x{h} the jobs panel is {jobs_width} px wide");

        // History: each row keeps to its height (no wrapped date over the next row), nothing sticks out
        app.click("[data-testid=nav-history]").await;
        app.click("[data-testid=history-row]").await;
        let rows = app.text("[data-testid=history-list]").await;
        for kind in ["Import #1", "Export #2", "Profile import #3"] {
            assert!(rows.contains(kind), "History names every kind: {kind} missing from {rows}");
        }
        app.shot(&format!("history-{w}x{h}")).await;
        let fits = app
            .client
            .execute(
                "return [...document.querySelectorAll('[data-testid=history-row], [data-testid=job-card]')]
                   .filter(e => e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1).length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fits, json!(0), "at {w}x{h} a history row or job card overflows");
        app.click("[data-testid=nav-library]").await;
        app.wait_for("[data-testid=details-name]").await;
    }

    // Verify from the details pane, then the whole repository from Settings: each a job in the panel
    app.client.execute("document.documentElement.dataset.theme = 'light';", vec![]).await.unwrap();
    app.click("[data-testid=verify-artifact]").await;
    app.wait_for("[data-testid=job-card][data-job-id='4'][data-state=succeeded]").await;
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=verify-repository]").await;
    app.wait_for("[data-testid=job-card][data-job-id='5'][data-state=succeeded]").await;
    // the card's state can turn before its summary replaces the item count: wait for the summary
    let text = wait_for_text(&app, "[data-testid=job-card][data-job-id='5']", "3 verified").await;
    assert!(text.contains("Verify #5"), "{text}");
    app.shot("settings-verified-repository").await;

    // Every screen this work changed, at the minimum size and full HD, light and dark, to look at
    for (w, h) in [(900, 560), (1920, 1080)] {
        app.client.set_window_rect(0, 0, w, h).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        for theme in ["light", "dark"] {
            app.client.execute("document.documentElement.dataset.theme = arguments[0];", vec![json!(theme)]).await.unwrap();
            let at = format!("{w}x{h}-{theme}");
            app.click("[data-testid=nav-settings]").await;
            app.shot(&format!("look-settings-{at}")).await;
            app.click("[data-testid=nav-history]").await;
            app.shot(&format!("look-history-{at}")).await;
            app.click("[data-testid=nav-library]").await;
            app.click("[data-testid=artifact-row][data-name='ks.cfg']").await;
            app.click("[data-testid=delete-artifact]").await;
            app.shot(&format!("look-library-delete-{at}")).await;
            app.click("[data-testid=keep-artifact]").await;
            app.click("[data-testid=nav-profiles]").await;
            // open already (a narrow window then shows the editor alone, without the list)
            if app.client.find(Locator::Css("[data-testid=profile-editor][data-profile='web']")).await.is_err() {
                app.click("[data-testid=profile-row][data-name='web']").await;
            }
            app.click("[data-testid=add-from-library]").await;
            app.wait_for("[data-testid=picker-kind]").await;
            app.shot(&format!("look-picker-{at}")).await;
            app.client.execute("document.querySelector('dialog[open]')?.close();", vec![]).await.unwrap();
            app.click("[data-testid=nav-library]").await;
        }
    }
    app.quit().await;
}

/// The test's repository with `files` imported, as imagesmith-cli would before the window opens
/// (the same engine, the same repository).
fn seeded(home: &Home, files: Vec<PathBuf>) -> imagesmith_engine::Engine {
    use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest};
    let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
    let items = files.into_iter().map(|path| ImportItem { path, ..Default::default() }).collect();
    let report =
        engine.import(&ImportRequest { items, checksum_files: vec![], ..Default::default() }, &CancelToken::new(), &|_| {}).unwrap();
    assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
    engine
}

/// `n` small distinct shell scripts (step-1.sh …) in `dir`, for a library of thousands.
fn scripts(dir: &Path, n: usize) -> Vec<PathBuf> {
    (1..=n)
        .map(|i| {
            let path = dir.join(format!("step-{i}.sh"));
            std::fs::write(&path, format!("#!/bin/sh\necho step {i}\n")).unwrap();
            path
        })
        .collect()
}

/// How many artifacts the repository holds, asked by another process (this test) as the CLI would.
fn artifacts_in(home: &Home) -> usize {
    use imagesmith_engine::{DataLayout, Engine};
    Engine::open(DataLayout::configured(home.path("repo"))).unwrap().list_artifacts(&Default::default()).unwrap().len()
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn a_library_of_2000_artifacts_picker_multi_select_undo_and_bulk_delete() {
    let home = Home::new();
    {
        let mut files = scripts(&home.files(), 2000);
        files.push(fixture("rhel-9.6-x86_64-dvd.iso"));
        let engine = seeded(&home, files);
        let os = engine.list_artifacts(&Default::default()).unwrap().into_iter().find(|a| a.name.starts_with("rhel")).unwrap();
        engine.create_profile("web", &os.id.to_string(), "", None).unwrap();
    }
    assert_eq!(artifacts_in(&home), 2001);
    let mut app = App::start(&home, "11-big-library", 4640).await;
    app.wait_for("[data-testid=artifact-row]").await;
    assert!(app.text("[data-testid=library-count]").await.contains("2001"), "the count is the whole library");

    // The picker searches the whole library on the server: the 1,999th script is found and added.
    app.click("[data-testid=nav-profiles]").await;
    app.click("[data-testid=profile-row][data-name='web']").await;
    app.click("[data-testid=add-from-library]").await;
    let search = app.wait_for("[data-testid=picker-search]").await;
    search.send_keys("step-1999").await.unwrap();
    app.click("[data-testid=picker-row][data-name='step-1999.sh'] input").await;
    assert_eq!(
        app.client.execute("return document.querySelector('[data-testid=picker-search]').value", vec![]).await.unwrap(),
        json!("step-1999"),
        "typing is not wiped by the search it starts"
    );
    app.shot("picker-found-in-2001").await;
    app.click("[data-testid=picker-add]").await;
    app.wait_for("[data-testid=member][data-name='step-1999.sh']").await;

    // Multi-select: search narrows to step-19… (111 scripts), Ctrl+A takes them all.
    app.click("[data-testid=nav-library]").await;
    let search = app.wait_for("[data-testid=library-search]").await;
    search.send_keys("step-19").await.unwrap();
    app.wait_for("[data-testid=artifact-row][data-name='step-19.sh']").await;
    app.click("[data-testid=artifact-row][data-name='step-19.sh']").await;
    let list = app.wait_for("[data-testid=library-list]").await;
    list.send_keys("\u{E009}a\u{E000}").await.unwrap(); // Control down, a, all keys up
    let count = app.wait_for("[data-testid=selection-count]").await;
    assert!(count.text().await.unwrap().contains("111"), "Ctrl+A selects the 111 matches");
    app.shot("multi-select-111").await;

    // The context menu of a selected row acts on the selection; Escape closes it.
    let row = app.wait_for("[data-testid=artifact-row][data-name='step-190.sh']").await;
    app.client
        .execute(
            "arguments[0].dispatchEvent(new MouseEvent('contextmenu', {bubbles: true, cancelable: true, clientX: 300, clientY: 300}));",
            vec![serde_json::to_value(&row).unwrap()],
        )
        .await
        .unwrap();
    app.wait_for("[data-testid=context-menu]").await;
    app.shot("context-menu").await;
    app.client
        .execute("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));", vec![])
        .await
        .unwrap();

    // Delete asks once, names the one a profile uses, and can be undone.
    app.click("[data-testid=bulk-delete]").await;
    let dialog = app.wait_for("[data-testid=bulk-delete-dialog]").await;
    let said = dialog.text().await.unwrap();
    assert!(said.contains("step-1999.sh") && said.contains("web"), "the dialog names what stays and why: {said}");
    app.shot("bulk-delete-dialog").await;
    app.click("[data-testid=confirm-bulk-delete]").await;
    app.wait_for("[data-testid=toast-action]").await;
    app.click("[data-testid=toast-action]").await; // Undo
    app.wait_for("[data-testid=artifact-row][data-name='step-19.sh']").await;
    assert_eq!(artifacts_in(&home), 2001, "an undone delete removes nothing");

    // Again, without Undo: after the undo window the 110 go, the profile's member stays.
    list.send_keys("\u{E009}a\u{E000}").await.unwrap();
    app.click("[data-testid=bulk-delete]").await;
    app.click("[data-testid=confirm-bulk-delete]").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while artifacts_in(&home) != 2001 - 110 {
        assert!(Instant::now() < deadline, "the deletes did not happen: {} artifacts", artifacts_in(&home));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.wait_for("[data-testid=artifact-row][data-name='step-1999.sh']").await;
    app.shot("after-bulk-delete").await;

    // The screens this adds, at the minimum size and full HD, light and dark (the whole library shown)
    let search = app.wait_for("[data-testid=library-search]").await;
    search.send_keys("\u{E009}a\u{E000}\u{E003}").await.unwrap(); // Ctrl+A, Backspace
    app.wait_for("[data-testid=artifact-row][data-name='step-1.sh']").await;
    for (w, h) in [(900, 560), (1920, 1080)] {
        app.client.set_window_rect(0, 0, w, h).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        for theme in ["light", "dark"] {
            app.client.execute("document.documentElement.dataset.theme = arguments[0];", vec![json!(theme)]).await.unwrap();
            let at = format!("{w}x{h}-{theme}");
            // (a toast may lie over the row at 900x560: the row is clicked as the page sees it)
            let row = app.wait_for("[data-testid=artifact-row][data-name='step-1.sh']").await;
            app.client.execute("arguments[0].click();", vec![serde_json::to_value(&row).unwrap()]).await.unwrap();
            app.shot(&format!("look-details-evidence-{at}")).await;
            app.click("[data-testid=edit-artifact]").await;
            app.wait_for("[data-testid=edit-kind]").await;
            app.shot(&format!("look-details-edit-{at}")).await;
            app.click("form.edit button[type=button]").await; // Cancel
                                                              // the whole library selected: the selection bar and a row's own menu
            let list = app.wait_for("[data-testid=library-list]").await;
            list.send_keys("\u{E009}a\u{E000}").await.unwrap();
            app.wait_for("[data-testid=selection-bar]").await;
            app.shot(&format!("look-selection-{at}")).await;
            let row = app.wait_for("[data-testid=artifact-row][data-name='step-1.sh']").await;
            app.client
                .execute(
                    "const r = arguments[0].getBoundingClientRect(); arguments[0].dispatchEvent(new MouseEvent('contextmenu', \
                     {bubbles: true, cancelable: true, clientX: r.left + 40, clientY: r.top + 10}));",
                    vec![serde_json::to_value(&row).unwrap()],
                )
                .await
                .unwrap();
            app.wait_for("[data-testid=context-menu]").await;
            app.shot(&format!("look-context-menu-{at}")).await;
            app.client
                .execute("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));", vec![])
                .await
                .unwrap();
            app.click("[data-testid=bulk-clear]").await;
            // F1: every shortcut
            app.wait_for("[data-testid=library-list]").await.send_keys("\u{E031}").await.unwrap();
            app.wait_for("[data-testid=help]").await;
            app.shot(&format!("look-help-{at}")).await;
            app.client.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap();
            app.click("[data-testid=nav-settings]").await;
            app.click("[data-testid=open-about]").await;
            app.wait_for("[data-testid=about-components]").await;
            app.shot(&format!("look-about-{at}")).await;
            app.click("[data-testid=close-about]").await;
            app.click("[data-testid=nav-library]").await;
        }
    }
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and private mount namespaces: scripts/app.sh test"]
async fn a_read_only_repository_opens_for_browsing_with_the_reason_shown() {
    let ok = Command::new("unshare").args(["--mount", "--map-root-user", "true"]).status().is_ok_and(|s| s.success());
    if !ok {
        // The only case this test does not check: the machine forbids the namespace it acts in.
        eprintln!("SKIPPED: this machine does not allow private mount namespaces (unshare --mount --map-root-user)");
        return;
    }
    let home = Home::new();
    seeded(&home, vec![fixture("ks.cfg")]);
    // The app, in a private mount namespace where its repository is mounted read-only (as on a
    // write-protected USB disk or a read-only share); the machine's mounts are untouched.
    let wrapper = home.path("read-only-app.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec unshare --mount --map-root-user --propagation private sh -euc \
             'mount --bind \"$IMAGESMITH_HOME\" \"$IMAGESMITH_HOME\"; mount -o remount,bind,ro \"$IMAGESMITH_HOME\"; exec \"$0\" \"$@\"' {APP} \"$@\"\n"
        ),
    )
    .unwrap();
    Command::new("chmod").arg("755").arg(&wrapper).status().unwrap();
    let mut app = App::start_program(&home, "12-read-only", 4660, wrapper.to_str().unwrap(), &[]).await;
    app.wait_for("[data-testid=artifact-row][data-name='ks.cfg']").await;
    let badge = app.wait_for("[data-testid=read-only]").await;
    assert!(badge.attr("title").await.unwrap().unwrap_or_default().contains("read-only"), "the badge says why");
    let add = app.wait_for("[data-testid=add-files]").await;
    assert_eq!(add.attr("disabled").await.unwrap().as_deref(), Some("true"), "nothing can be added");
    app.shot("read-only-library").await;
    app.click("[data-testid=read-only]").await;
    let reason = app.text("[data-testid=read-only-reason]").await;
    assert!(reason.contains("repository_read_only") || reason.to_lowercase().contains("read-only"), "{reason}");
    app.shot("read-only-settings").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn files_opened_with_the_app_are_reviewed_and_a_failed_one_retried() {
    let home = Home::new();
    let (iso, _sums, sha) = fixture_iso(&home.files());
    // a checksum file with one wrong digit for the ISO: its import fails, the answer file's succeeds
    let wrong = home.files().join("SHA256SUMS");
    let flipped = format!("{}{}", if sha.starts_with('0') { '1' } else { '0' }, &sha[1..]);
    std::fs::write(&wrong, format!("{flipped}  ipxe.iso\n")).unwrap();
    let ks = home.files().join("ks.cfg");
    std::fs::copy(fixture("ks.cfg"), &ks).unwrap();

    // "Open with Imagesmith" (or `imagesmith FILE...`): the files arrive as arguments
    let mut app = App::start_program(&home, "13-open-with", 4680, APP, &[&iso, &wrong, &ks]).await;
    app.wait_for("[data-testid=review-row][data-file='ipxe.iso']").await;
    app.wait_for("[data-testid=review-row][data-file='ks.cfg']").await;
    app.shot("review-of-opened-files").await;
    looks(&mut app, "review").await;
    app.choose_os("ipxe.iso", "linux").await;
    app.click("[data-testid=start-import]").await;
    assert_eq!(app.job_state(&["succeeded", "partly_succeeded", "failed", "cancelled"]).await, "partly_succeeded");
    app.wait_for("[data-testid=retry-failed]").await;
    looks(&mut app, "job-retry").await;

    // Retry from the job: the failed file goes back to the review, without the wrong checksum file
    app.click("[data-testid=job-card][data-state=partly_succeeded] [data-testid=retry-failed]").await;
    app.wait_for("[data-testid=review-row][data-file='ipxe.iso']").await;
    assert!(
        app.client.find(Locator::Css("[data-testid=review-row][data-file='ks.cfg']")).await.is_err(),
        "only the failed file is retried"
    );
    app.shot("retry-in-review").await;
    app.choose_os("ipxe.iso", "linux").await;
    app.click("[data-testid=start-import]").await;
    app.wait_for_within("[data-testid=artifact-row][data-name='ipxe.iso']", Duration::from_secs(60)).await;
    assert_eq!(artifacts_in(&home), 2);
    app.quit().await;
}

/// Wait until the element's text contains `wanted` (a status that is replaced in place).
async fn wait_for_text(app: &App, css: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = match app.client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(wanted) {
            return text;
        }
        assert!(Instant::now() < deadline, "{css} did not come to say {wanted:?}; it says {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn capture_a_home_promote_provision_it_and_see_drift() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    // a small software home: files, a subfolder, a symlink, an executable
    let src = home.path("homes/app-1.0");
    std::fs::create_dir_all(src.join("bin")).unwrap();
    std::fs::create_dir_all(src.join("conf")).unwrap();
    std::fs::create_dir_all(src.join("lib")).unwrap();
    std::fs::write(src.join("README"), "App 1.0: a small software home\n").unwrap();
    std::fs::write(src.join("conf/app.conf"), "port = 8080\n").unwrap();
    std::fs::write(src.join("bin/app"), "#!/bin/sh\necho app 1.0\n").unwrap();
    std::fs::set_permissions(src.join("bin/app"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(src.join("lib/libapp.so.1"), vec![7u8; 64 * 1024]).unwrap();
    std::os::unix::fs::symlink("libapp.so.1", src.join("lib/libapp.so")).unwrap();
    let target = home.path("copies/app-1.0-copy");
    std::fs::create_dir_all(&target).unwrap();
    let mut app = App::start(&home, "14-gold", 4700).await;

    app.click("[data-testid=nav-gold]").await;
    app.wait_for("[data-testid=new-gold]").await;
    app.shot("gold-empty").await;

    // New gold image…: the folder from the native dialog, its counts, the fields
    app.click("[data-testid=new-gold]").await;
    app.click("[data-testid=choose-capture-folder]").await;
    app.choose_native_folder("Capture a folder as a gold image", &src, "capture-folder-dialog").await;
    let counts = wait_for_text(&app, "[data-testid=capture-counts]", "files").await;
    assert!(counts.contains("4 files") && counts.contains("3 folders") && counts.contains("1 link"), "{counts}");
    let name = app.wait_for("[data-testid=capture-name]").await;
    assert_eq!(name.prop("value").await.unwrap().as_deref(), Some("app-1.0"), "the name comes from the folder");
    app.wait_for("[data-testid=capture-series]").await.select_by_value(" new").await.unwrap();
    app.wait_for("[data-testid=capture-new-series]").await.send_keys("app").await.unwrap();
    app.wait_for("[data-testid=capture-version]").await.send_keys("1.0").await.unwrap();
    app.wait_for("[data-testid=capture-description]").await.send_keys("The first release").await.unwrap();
    app.shot("capture-review").await;
    app.click("[data-testid=start-capture]").await;

    // the job runs in the jobs panel; the new image opens, testable, current in its series
    app.wait_for_within("[data-testid=job-card][data-state=succeeded]", Duration::from_secs(60)).await;
    assert!(app.text("[data-testid=job-card]").await.contains("Capture #1"));
    app.wait_for("[data-testid=gold-details][data-name='app-1.0']").await;
    assert_eq!(app.text("[data-testid=gold-state]").await, "Testable");
    let row = app.text("[data-testid=gold-row][data-name='app-1.0']").await;
    assert!(row.contains("Current") && row.contains("new"), "{row}");
    app.wait_for("[data-testid=gold-file][data-path='lib/libapp.so']").await;
    app.shot("captured").await;
    // the rows' text as the DOM has it (a row below the pane's fold reads as empty to WebDriver)
    let text_of = |css: &'static str| {
        let client = app.client.clone();
        async move { client.execute("return document.querySelector(arguments[0])?.textContent ?? '';", vec![json!(css)]).await.unwrap() }
    };
    let link = text_of("[data-testid=gold-file][data-path='lib/libapp.so']").await;
    let link = link.as_str().unwrap_or_default();
    assert!(link.contains("libapp.so.1"), "the link's target is shown: {link:?}");
    let exe = text_of("[data-testid=gold-file][data-path='bin/app']").await;
    let exe = exe.as_str().unwrap_or_default();
    assert!(exe.contains("0755"), "the mode is shown: {exe:?}");

    // promote to published, then provision through the native folder dialog (no question asked)
    app.wait_for("[data-testid=promote-state]").await.select_by_value("published").await.unwrap();
    wait_for_text(&app, "[data-testid=gold-state]", "Published").await;
    app.click("[data-testid=provision-gold]").await;
    app.choose_native_folder("Provision a working copy into a folder", &target, "provision-folder-dialog").await;
    let copy = format!("[data-testid=working-copy][data-path='{}']", target.display());
    app.wait_for_within(&copy, Duration::from_secs(60)).await;
    assert_eq!(std::fs::read_link(target.join("lib/libapp.so")).unwrap(), Path::new("libapp.so.1"));
    assert_eq!(std::fs::metadata(target.join("bin/app")).unwrap().permissions().mode() & 0o777, 0o755);
    assert_eq!(std::fs::read(target.join("README")).unwrap(), std::fs::read(src.join("README")).unwrap());

    // Check now: identical; a file edited in the copy is reported as changed
    app.click(&format!("{copy} [data-testid=check-copy]")).await;
    wait_for_text(&app, &format!("{copy} [data-testid=drift-status]"), "No differences").await;
    std::fs::write(target.join("conf/app.conf"), "port = 9090\n").unwrap();
    app.click(&format!("{copy} [data-testid=check-copy]")).await;
    let status = wait_for_text(&app, &format!("{copy} [data-testid=drift-status]"), "changed").await;
    assert_eq!(status, "1 changed");
    app.click(&format!("{copy} [data-testid=drift-changed] button")).await;
    wait_for_text(&app, &format!("{copy} [data-testid=drift-changed]"), "conf/app.conf").await;
    app.shot("drift").await;

    // the screen at full HD and the smallest window, light and dark, with the jobs panel open
    for (w, h) in [(1920, 1080), (900, 560)] {
        app.client.set_window_rect(0, 0, w, h).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        for theme in ["light", "dark"] {
            app.client.execute("document.documentElement.dataset.theme = arguments[0];", vec![json!(theme)]).await.unwrap();
            app.shot(&format!("look-gold-{w}x{h}-{theme}")).await;
            app.click("[data-testid=new-gold]").await;
            app.wait_for("[data-testid=capture-review]").await;
            app.shot(&format!("look-capture-{w}x{h}-{theme}")).await;
            app.click("[data-testid=cancel-capture]").await;
        }
    }
    app.quit().await;
}

/// Mark what `looks` keeps in view, and only that (an earlier mark may sit behind a dialog).
async fn look_at(app: &App, selector: &str) {
    let js = "document.querySelectorAll('[data-look-focus]').forEach((e) => delete e.dataset.lookFocus);
              document.querySelector(arguments[0]).dataset.lookFocus = '';";
    app.client.execute(js, vec![json!(selector)]).await.unwrap();
}

/// Screenshots of what is on screen now at the minimum window size and full HD, light and dark;
/// the window is put back where the tests expect it.
async fn looks(app: &mut App, what: &str) {
    for (w, h) in [(900, 560), (1920, 1080)] {
        app.client.set_window_rect(0, 0, w, h).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await; // let the X server apply it
                                                              // What the test marked as the point of the shot stays in view at every size.
        app.client.execute("document.querySelector('[data-look-focus]')?.scrollIntoView({block: 'center'});", vec![]).await.unwrap();
        for theme in ["light", "dark"] {
            app.client.execute("document.documentElement.dataset.theme = arguments[0];", vec![json!(theme)]).await.unwrap();
            app.shot(&format!("look-{what}-{w}x{h}-{theme}")).await;
        }
    }
    app.client.execute("document.documentElement.dataset.theme = 'light';", vec![]).await.unwrap();
    app.client.set_window_rect(40, 40, 1280, 820).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// A small software home like the one `capture_a_home_promote_provision_it_and_see_drift` makes:
/// files, a subfolder, a symlink, an executable.
fn app_home(at: &Path, version: &str) {
    use std::os::unix::fs::PermissionsExt;
    for sub in ["bin", "conf", "lib"] {
        std::fs::create_dir_all(at.join(sub)).unwrap();
    }
    std::fs::write(at.join("README"), format!("App {version}: a small software home\n")).unwrap();
    std::fs::write(at.join("conf/app.conf"), "port = 8080\n").unwrap();
    std::fs::write(at.join("bin/app"), format!("#!/bin/sh\necho app {version}\n")).unwrap();
    std::fs::set_permissions(at.join("bin/app"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(at.join("lib/libapp.so.1"), vec![7u8; 64 * 1024]).unwrap();
    std::os::unix::fs::symlink("libapp.so.1", at.join("lib/libapp.so")).unwrap();
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn a_dropped_folder_is_captured_exported_as_zip_compared_side_by_side_and_moved_between_series() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    // version 1.0, captured as imagesmith-cli would before the window opens
    let v1 = home.path("homes/app-1.0");
    app_home(&v1, "1.0");
    {
        use imagesmith_engine::gold::CaptureRequest;
        use imagesmith_engine::{CancelToken, DataLayout, Engine};
        let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
        let request = CaptureRequest {
            name: "app-1.0".into(),
            from: v1.clone(),
            image_type: Some("software".into()),
            series: Some("app".into()),
            version: Some("1.0".into()),
            description: Some("The first release".into()),
        };
        engine.capture(request, &CancelToken::new(), &|_| {}).unwrap();
    }
    // version 1.1: the README is gone, the config and the program changed (and the program is no
    // longer world-executable), the library is readable by its owner only, and 400 translations
    // came in (1,202 added paths with their folders: enough rows to scroll)
    let v2 = home.path("homes/app-1.1");
    app_home(&v2, "1.1");
    std::fs::remove_file(v2.join("README")).unwrap();
    std::fs::write(v2.join("conf/app.conf"), "port = 9090\n").unwrap();
    std::fs::set_permissions(v2.join("bin/app"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::set_permissions(v2.join("lib/libapp.so.1"), std::fs::Permissions::from_mode(0o600)).unwrap();
    for i in 0..400 {
        let dir = v2.join(format!("share/locale/l{i:03}/LC_MESSAGES"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app.mo"), format!("translation {i}\n")).unwrap();
    }
    let exports = home.path("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let mut app = App::start(&home, "15-gold-move", 4720).await;
    app.click("[data-testid=nav-gold]").await;
    app.wait_for("[data-testid=gold-row][data-name='app-1.0']").await;

    // one folder dropped on the window: straight into the capture review, which offers the import
    drag_onto_app(&mut app, &[&v2]).await;
    app.wait_for("[data-testid=capture-review][data-dropped=true]").await;
    assert_eq!(app.text("[data-testid=capture-folder]").await, v2.display().to_string());
    assert!(app.text("[data-testid=import-instead]").await.contains("Import the files inside instead"));
    let counts = wait_for_text(&app, "[data-testid=capture-counts]", "files").await;
    assert!(counts.contains("403 files"), "{counts}");
    assert!(app.client.find(Locator::Css("[data-testid=import-review]")).await.is_err(), "no import review for one folder");
    app.wait_for("[data-testid=capture-series] option[value=app]").await;
    app.wait_for("[data-testid=capture-series]").await.select_by_value("app").await.unwrap();
    app.wait_for("[data-testid=capture-version]").await.send_keys("1.1").await.unwrap();
    app.shot("dropped-folder-capture-review").await;
    app.click("[data-testid=start-capture]").await;
    app.wait_for_within("[data-testid=gold-details][data-name='app-1.1']", Duration::from_secs(60)).await;
    assert_eq!(app.text("[data-testid=gold-series-name]").await, "app");

    // export as zip into a folder chosen in the native dialog; the job ends and the archive checks out
    app.click("[data-testid=export-gold]").await;
    app.wait_for("[data-testid=gold-export-dialog]").await;
    app.click("[data-testid='gold-export-format-zip']").await;
    app.click("[data-testid=choose-gold-export-folder]").await;
    app.choose_native_folder("Export app-1.1 to a folder", &exports, "export-folder-dialog").await;
    wait_for_text(&app, "[data-testid=gold-export-folder]", &exports.display().to_string()).await;
    assert!(app.text("[data-testid=gold-export-dialog]").await.contains("app-1.1.zip"));
    looks(&mut app, "gold-export").await;
    app.click("[data-testid=start-gold-export]").await;
    let file = app.wait_for_within("[data-testid=gold-export-file]", Duration::from_secs(60)).await.text().await.unwrap();
    assert_eq!(file, exports.join("app-1.1.zip").display().to_string());
    app.wait_for_within("[data-testid=job-card][data-state=succeeded]", Duration::from_secs(60)).await;
    let sums = Command::new("sha256sum").args(["-c", "app-1.1.zip.sha256"]).current_dir(&exports).output().unwrap();
    assert!(sums.status.success(), "{}", String::from_utf8_lossy(&sums.stdout));
    let listing = Command::new("unzip").arg("-l").arg(exports.join("app-1.1.zip")).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("home/bin/app") && listing.contains("gold.json") && listing.contains("SHA256SUMS"), "{listing}");
    app.wait_for("[data-testid=gold-export-show]").await;
    app.shot("exported").await;
    app.click("[data-testid=close-gold-export]").await;

    // the two versions side by side: the older on the left, rows grouped, filtered, searched
    app.wait_for("[data-testid=diff-against]").await.select_by_value("app-1.0").await.unwrap();
    let status = wait_for_text(&app, "[data-testid=gold-diff] [data-testid=drift-status]", "changed").await;
    assert!(status.contains("added") && status.contains("removed") && status.contains("mode changed"), "{status}");
    app.click("[data-testid=side-by-side]").await;
    app.wait_for("[data-testid=compare-row][data-path='bin/app']").await;
    // as the DOM has them (WebKitWebDriver leaves out a name cut with an ellipsis)
    let content = |css: &'static str| {
        let client = app.client.clone();
        async move {
            let text = client.execute("return document.querySelector(arguments[0])?.textContent ?? '';", vec![json!(css)]).await.unwrap();
            text.as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
        }
    };
    let (left, right) = (content("[data-testid=compare-left]").await, content("[data-testid=compare-right]").await);
    assert!(left.contains("app-1.0") && left.contains("Version 1.0"), "{left:?}");
    assert!(right.contains("app-1.1") && right.contains("Version 1.1"), "{right:?}");
    let row = "[data-testid=compare-row][data-path='bin/app']";
    assert_eq!(app.text(&format!("{row} [data-testid=cell-left] .mode")).await, "0755");
    assert_eq!(app.text(&format!("{row} [data-testid=cell-right] .mode")).await, "0750");
    let added = content("[data-testid=compare-filter-added]").await.replace(',', "");
    assert_eq!(added, "Added 1202", "400 files and their 802 folders");
    assert_eq!(content("[data-testid=compare-filter-changed]").await, "Changed 2");
    looks(&mut app, "gold-side-by-side").await;
    app.click("[data-testid=compare-filter-mode_changed]").await;
    let rendered = app
        .client
        .execute("return [...document.querySelectorAll('[data-testid=compare-row]')].map(r => r.dataset.path);", vec![])
        .await
        .unwrap();
    assert_eq!(rendered, json!(["lib/libapp.so.1"]));
    assert_eq!(app.text("[data-testid=compare-row][data-path='lib/libapp.so.1'] [data-testid=cell-right] .mode").await, "0600");
    app.click("[data-testid=compare-filter-removed]").await;
    assert_eq!(app.text("[data-testid=compare-row][data-path='README'] [data-testid=cell-right]").await, "—");
    app.click("[data-testid=compare-filter-all]").await;
    app.wait_for("[data-testid=compare-search]").await.send_keys("l399").await.unwrap();
    wait_for_text(&app, "[data-testid=compare-summary]", "shown").await;
    app.wait_for("[data-testid=compare-row][data-path='share/locale/l399/LC_MESSAGES/app.mo']").await;
    app.shot("side-by-side-searched").await;
    app.client.execute("document.querySelector('[data-testid=close-compare]').click();", vec![]).await.unwrap();

    // series from the details: out of app, into a new series, back into app and made current
    app.click("[data-testid=remove-from-series]").await;
    wait_for_text(&app, "[data-testid=gold-series]", "Not in a series").await;
    app.wait_for("[data-testid=series-group][data-series=''] [data-testid=gold-row][data-name='app-1.1']").await;
    app.wait_for("[data-testid=series-choice]").await.select_by_value(" new").await.unwrap();
    app.wait_for("[data-testid=new-series-name]").await.send_keys("app-lts").await.unwrap();
    app.click("[data-testid=put-in-series]").await;
    app.wait_for("[data-testid=series-group][data-series='app-lts'] [data-testid=gold-row][data-name='app-1.1']").await;
    wait_for_text(&app, "[data-testid=gold-series-name]", "app-lts").await;
    app.wait_for("[data-testid=series-choice] option[value=app]").await;
    app.wait_for("[data-testid=series-choice]").await.select_by_value("app").await.unwrap();
    app.click("[data-testid=put-in-series]").await;
    app.wait_for("[data-testid=series-group][data-series='app'] [data-testid=gold-row][data-name='app-1.1']").await;
    app.click("[data-testid=make-current]").await;
    app.wait_for("[data-testid=gold-row][data-name='app-1.1'] [data-testid=current-marker]").await;
    app.shot("series-moved").await;

    // the exported zip comes back through the native file dialog and the import form
    app.click("[data-testid=import-gold-archive]").await;
    app.choose_native_folder("Import a gold image archive", &exports.join("app-1.1.zip"), "import-archive-dialog").await;
    app.wait_for("[data-testid=gold-import-form]").await;
    let name = app.wait_for("[data-testid=gold-import-name]").await;
    assert_eq!(name.prop("value").await.unwrap().as_deref(), Some("app-1.1-2"), "the name comes from the file, free among the images");
    app.wait_for("[data-testid=gold-import-version]").await.send_keys("1.1").await.unwrap();
    looks(&mut app, "gold-import").await;
    app.click("[data-testid=start-gold-import]").await;
    app.wait_for_within("[data-testid=gold-details][data-name='app-1.1-2']", Duration::from_secs(60)).await;
    app.wait_for("[data-testid=diff-against]").await.select_by_value("app-1.1").await.unwrap();
    wait_for_text(&app, "[data-testid=gold-diff] [data-testid=drift-status]", "No differences").await;
    app.shot("imported-back").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and a local nginx: scripts/app.sh test"]
async fn attributes_at_import_a_url_import_and_an_in_use_image_marked_deleted() {
    use imagesmith_engine::{DataLayout, Engine, ImportItem, ImportRequest, Kind};
    let (http_url, http_root) = (server_env("TS_HTTP_URL"), PathBuf::from(server_env("TS_HTTP_ROOT")));
    let home = Home::new();
    // the library: an OS image the profile "web" is built on (in use: it cannot be deleted)
    let iso = home.files().join("grub-rescue-cdrom.iso");
    std::fs::copy(fixture("grub-rescue-cdrom.iso"), &iso).unwrap();
    {
        let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
        let items = vec![ImportItem { path: iso.clone(), kind: Some(Kind::Os), os: Some("linux".into()), ..Default::default() }];
        let report =
            engine.import(&ImportRequest { items, ..Default::default() }, &imagesmith_engine::CancelToken::new(), &|_| {}).unwrap();
        assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
        engine.create_profile("web", "grub-rescue-cdrom.iso", "web servers", None).unwrap();
    }
    // on the web server: a first-boot script and the SHA256SUMS that covers it
    let served = http_root.join(format!("e2e-attributes-{}", std::process::id()));
    std::fs::create_dir_all(&served).unwrap();
    std::fs::write(served.join("firstboot.sh"), "#!/bin/sh\necho first boot, from the web\n").unwrap();
    let sums = Command::new("sha256sum").arg("firstboot.sh").current_dir(&served).output().unwrap();
    std::fs::write(served.join("SHA256SUMS"), &sums.stdout).unwrap();
    let base = format!("{http_url}/{}", served.file_name().unwrap().to_string_lossy());
    // a file opened with the app goes to the import review
    let post = home.files().join("post-install.sh");
    std::fs::copy(fixture("post-install.sh"), &post).unwrap();
    let mut app = App::start_program(&home, "16-attributes", 4740, APP, &[&post]).await;

    // the import review: a file's attributes open under its row
    app.click("[data-testid=review-row][data-file='post-install.sh'] [data-testid=attrs-toggle]").await;
    set_value(&app, "[data-testid=attrs-row] [data-testid=review-attr-alias]", "post").await;
    app.wait_for("[data-testid=attrs-row] [data-testid=review-attr-access]").await.select_by_value("public").await.unwrap();
    set_value(&app, "[data-testid=attrs-row] [data-testid=review-attr-owner]", "ops").await;
    set_value(&app, "[data-testid=attrs-row] [data-testid=review-attr-version]", "1.2").await;
    app.click("[data-testid=attrs-row] [data-testid=review-attr-resize]").await;
    app.shot("review-attributes").await;
    looks(&mut app, "review-attributes").await;
    app.click("[data-testid=start-import]").await;
    app.wait_for_within("[data-testid=artifact-row][data-alias='post'][data-access='public']", Duration::from_secs(60)).await;

    // Import from URL…: a script and its SHA256SUMS, with attributes
    app.click("[data-testid=import-url]").await;
    // one link per line (Enter in the box starts the next)
    let urls = format!("{base}/firstboot.sh\u{E007}{base}/SHA256SUMS");
    set_value(&app, "[data-testid=url-input]", &urls).await;
    let roles: Vec<String> = {
        let mut r = Vec::new();
        for el in app.client.find_all(Locator::Css("[data-testid=url-line]")).await.unwrap() {
            r.push(el.attr("data-role").await.unwrap().unwrap_or_default());
        }
        r
    };
    assert_eq!(roles, ["file", "checksum"], "the checksum file is told apart");
    set_value(&app, "[data-testid=url-attr-alias]", "firstboot").await;
    app.wait_for("[data-testid=url-attr-access]").await.select_by_value("public").await.unwrap();
    set_value(&app, "[data-testid=url-attr-owner]", "ops").await;
    set_value(&app, "[data-testid=url-attr-tags]", "lab, web").await;
    app.click("[data-testid=url-attr-deploy]").await;
    app.shot("url-import-dialog").await;
    looks(&mut app, "url-import").await;
    app.click("[data-testid=start-url-import]").await;
    assert_eq!(app.job_state(&["succeeded", "partly_succeeded", "failed", "cancelled"]).await, "succeeded");
    app.click("[data-testid=artifact-row][data-alias='firstboot']").await;
    wait_for_text(&app, "[data-testid=details-name]", "firstboot.sh").await;
    assert_eq!(app.text("[data-testid=attr-access]").await, "Public");
    assert_eq!(app.text("[data-testid=attr-owner]").await, "ops");
    assert_eq!(app.text("[data-testid=source-url]").await, format!("{base}/firstboot.sh"));
    assert!(app.text("[data-testid=evidence]").await.contains("SHA256SUMS"), "verified against the fetched SHA256SUMS");
    app.shot("url-imported-details").await;
    looks(&mut app, "details-attributes").await;

    // the OS image the profile uses: Delete is refused, Mark deleted hides it from the list
    app.click("[data-testid=artifact-row][data-name='grub-rescue-cdrom.iso']").await;
    // the details pane is rebuilt for the artifact clicked: wait for it before pressing its Delete
    wait_for_text(&app, "[data-testid=details-name]", "grub-rescue-cdrom.iso").await;
    app.click("[data-testid=delete-artifact]").await;
    app.wait_for("[data-testid=mark-deleted]").await;
    assert!(!app.wait_for("[data-testid=confirm-delete]").await.is_enabled().await.unwrap(), "an image in use cannot be deleted");
    app.shot("delete-in-use-offers-mark-deleted").await;
    looks(&mut app, "mark-deleted").await;
    app.click("[data-testid=mark-deleted]").await;
    app.wait_for("[data-testid=deleted-notice]").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.client.find(Locator::Css("[data-testid=artifact-row][data-name='grub-rescue-cdrom.iso']")).await.is_ok() {
        assert!(Instant::now() < deadline, "the deleted image stayed in the list");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.shot("marked-deleted").await;
    app.click("[data-testid=show-deleted]").await;
    app.wait_for("[data-testid=artifact-row][data-name='grub-rescue-cdrom.iso'] [data-testid=deleted-badge]").await;
    app.click("[data-testid=artifact-row][data-name='grub-rescue-cdrom.iso']").await;
    app.wait_for("[data-testid=deleted-notice]").await;
    looks(&mut app, "library-show-deleted").await;
    app.quit().await;

    // what the engine says, asked as the CLI would
    let engine = Engine::open(DataLayout::configured(home.path("repo"))).unwrap();
    let iso = engine.get_artifact("grub-rescue-cdrom.iso").unwrap();
    assert_eq!(iso.access, imagesmith_engine::Access::Deleted);
    assert_eq!(engine.get_profile("web").unwrap().base.name, "grub-rescue-cdrom.iso", "the profile keeps working");
    let web = engine.get_artifact("firstboot").unwrap();
    assert_eq!((web.owner.as_str(), web.deploy, web.tags.clone()), ("ops", true, vec!["lab".to_string(), "web".to_string()]));
    assert_eq!(web.source.url.as_deref(), Some(format!("{base}/firstboot.sh").as_str()));
    let post = engine.get_artifact("post").unwrap();
    assert_eq!(
        (post.access, post.owner.as_str(), post.version.as_str(), post.resize),
        (imagesmith_engine::Access::Public, "ops", "1.2", true)
    );
    let _ = std::fs::remove_dir_all(&served);
}

/// An IMGAPI image in `root` (images/UUID/file, images/UUID/manifest.json, as crates/cli/tests/stores.rs
/// lays them out for the test nginx); `file` None: a manifest only (an image listed, not fetched).
fn imgapi_image(root: &Path, uuid: &str, name: &str, version: &str, os: &str, kind: &str, file: Option<&Path>) -> serde_json::Value {
    let dir = root.join("images").join(uuid);
    std::fs::create_dir_all(&dir).unwrap();
    let (sha1, size) = match file {
        Some(f) => {
            std::fs::copy(f, dir.join("file")).unwrap();
            (digest("sha1sum", &dir.join("file")), std::fs::metadata(f).unwrap().len())
        }
        None => ("0".repeat(40), 1_500_000_000 + name.len() as u64 * 7_340_032),
    };
    let day = 1 + (name.len() + version.len()) % 28;
    let m = json!({
        "v": 2, "uuid": uuid, "owner": "930896af-bf8c-48d4-885c-6573a94b1853", "name": name, "version": version,
        "state": "active", "disabled": false, "public": true, "published_at": format!("2026-11-{day:02}T10:00:00Z"),
        "type": kind, "os": os, "description": format!("{name} {version} for KVM"),
        "tags": {"role": "os"}, "requirements": {"arch": "x86_64"},
        "files": [{"sha1": sha1, "size": size, "compression": "none"}]
    });
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    m
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and a local nginx: scripts/app.sh test"]
async fn an_imgapi_store_is_added_browsed_and_an_image_imported_with_progress_then_marked_in_library() {
    const UUID: &str = "2b683a82-a066-11e3-97ab-2faa44701c5a";
    let (http_url, http_root) = (server_env("TS_HTTP_URL"), PathBuf::from(server_env("TS_HTTP_ROOT")));
    let home = Home::new();
    // the store on the test nginx: ipxe.iso grown to 160 MiB (a download long enough to show its
    // progress), and a listing of other images (manifests only) to browse and filter
    let rel = format!("e2e-store-{}", std::process::id());
    let root = http_root.join(&rel);
    std::fs::create_dir_all(&root).unwrap();
    let big = home.files().join("ipxe-big.iso");
    std::fs::copy(fixture("ipxe.iso"), &big).unwrap();
    std::fs::OpenOptions::new().append(true).open(&big).unwrap().set_len(160 << 20).unwrap();
    let mut manifests = vec![imgapi_image(&root, UUID, "ipxe", "1.21.1", "linux", "zvol", Some(&big))];
    let others = [
        ("ubuntu-24.04", "20261201", "linux", "zvol"),
        ("ubuntu-22.04", "20261115", "linux", "zvol"),
        ("debian-12", "12.8.0", "linux", "zvol"),
        ("rocky-9", "9.5", "linux", "zvol"),
        ("alma-9", "9.5", "linux", "zvol"),
        ("base-64-lts", "24.4.0", "smartos", "zone-dataset"),
        ("base-multiarch-lts", "24.4.0", "smartos", "zone-dataset"),
        ("minimal-64", "24.4.1", "smartos", "zone-dataset"),
        ("windows-server-2022", "20261110", "windows", "zvol"),
        ("windows-server-2025", "20261120", "windows", "zvol"),
        ("freebsd-14", "14.2", "bsd", "zvol"),
        ("nginx-appliance", "1.27", "linux", "lx-dataset"),
    ];
    for (n, (name, version, os, kind)) in others.iter().enumerate() {
        let uuid = format!("00000000-0000-4000-8000-{:012}", n + 1);
        manifests.push(imgapi_image(&root, &uuid, name, version, os, kind, None));
    }
    std::fs::write(root.join("images/index.json"), serde_json::to_vec(&manifests).unwrap()).unwrap();
    let base = format!("{http_url}/{rel}");
    let mut app = App::start(&home, "17-stores", 4760).await;

    // Image stores: empty at first; Add store… finds out the kind and opens the store
    app.click("[data-testid=nav-stores]").await;
    app.wait_for("[data-testid=add-store]").await;
    app.shot("stores-empty").await;
    app.click("[data-testid=add-store]").await;
    set_value(&app, "[data-testid=store-name]", "lab").await;
    set_value(&app, "[data-testid=store-url-input]", &base).await;
    app.shot("add-store").await;
    app.click("[data-testid=save-store]").await;
    let row = "[data-testid=store-row][data-name='lab']";
    assert_eq!(app.text(&format!("{row} [data-testid=store-kind]")).await, "IMGAPI");
    assert_eq!(app.text(&format!("{row} [data-testid=store-url]")).await, base);
    app.click(&format!("{row} [data-testid=test-store]")).await;
    wait_for_text(&app, "[data-testid=store-test-result]", "13 images").await;
    let image = format!("[data-testid=store-image][data-id='{UUID}']");
    app.wait_for(&image).await;
    looks(&mut app, "stores").await;

    // filters: the OS is asked of the store, the type filtered in the window
    app.wait_for("[data-testid=store-os]").await.select_by_value("smartos").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.client.find_all(Locator::Css("[data-testid=store-image]")).await.unwrap().len() != 3 {
        assert!(Instant::now() < deadline, "the OS filter did not leave the three SmartOS images");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.wait_for("[data-testid=store-os]").await.select_by_value("").await.unwrap();
    set_value(&app, "[data-testid=store-search]", "ipxe").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.client.find_all(Locator::Css("[data-testid=store-image]")).await.unwrap().len() != 1 {
        assert!(Instant::now() < deadline, "the search did not leave ipxe alone");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // choose it and import it with attributes: a job card with progress
    app.click(&format!("{image} [data-testid=store-image-check]")).await;
    app.click("[data-testid=store-import]").await;
    app.wait_for("[data-testid=store-import-dialog]").await;
    set_value(&app, "[data-testid=store-attr-tags]", "lab, pxe").await;
    app.shot("store-import-dialog").await;
    app.watch_progress().await;
    app.click("[data-testid=start-store-import]").await;
    assert_eq!(app.job_state(&["succeeded", "partly_succeeded", "failed", "cancelled"]).await, "succeeded");
    let seen = app.progress_seen().await;
    assert!(!seen.is_empty(), "the job card showed the download's progress");
    eprintln!("progress seen: {seen:?}");

    // the image is marked in the library, naming the artifact
    let marked = format!("{image}[data-in-library='ipxe-1.21.1'] [data-testid=in-library]");
    wait_for_text(&app, &marked, "ipxe-1.21.1").await;
    // an emptied search box asks for the whole list again
    let clear = "const e = document.querySelector('[data-testid=store-search]'); e.value = ''; e.dispatchEvent(new Event('input', { bubbles: true }));";
    app.client.execute(clear, vec![]).await.unwrap();
    app.wait_for("[data-testid=store-image][data-id='00000000-0000-4000-8000-000000000001']").await;
    app.wait_for(&marked).await;
    looks(&mut app, "store-browse").await;

    // From manifest URL…: the file URL may be left empty (…/images/UUID/file beside the manifest)
    app.click("[data-testid=import-manifest]").await;
    app.wait_for("[data-testid=manifest-import]").await;
    set_value(&app, "[data-testid=manifest-url]", &format!("{base}/images/{UUID}")).await;
    assert!(app.text("[data-testid=manifest-import]").await.contains("…/images/UUID/file beside the manifest"));
    looks(&mut app, "manifest-import").await;
    app.client.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap(); // Escape
    app.wait_shown("[data-testid=manifest-import]", false).await;

    // a SimpleStreams store (as Ubuntu's cloud images publish): its serial is the publish date
    let ss = http_root.join(format!("{rel}-ss"));
    std::fs::create_dir_all(ss.join("streams/v1")).unwrap();
    std::fs::create_dir_all(ss.join("server")).unwrap();
    std::fs::copy(fixture("ubuntu-24.04-server-amd64.iso"), ss.join("server/noble.img")).unwrap();
    let products = "com.ubuntu.cloud:released:download";
    let index = json!({"format": "index:1.0", "index": {products: {"format": "products:1.0",
        "path": format!("streams/v1/{products}.json"), "products": ["com.ubuntu.cloud:server:24.04:amd64"]}}});
    std::fs::write(ss.join("streams/v1/index.json"), index.to_string()).unwrap();
    let item = json!({"ftype": "disk1.img", "path": "server/noble.img", "size": std::fs::metadata(ss.join("server/noble.img")).unwrap().len(),
        "sha256": digest("sha256sum", &ss.join("server/noble.img"))});
    let doc = json!({"format": "products:1.0", "content_id": products, "updated": "Tue, 01 Dec 2026 10:00:00 +0000",
        "products": {"com.ubuntu.cloud:server:24.04:amd64": {"os": "ubuntu", "release": "noble", "release_title": "24.04 LTS",
            "arch": "amd64", "versions": {"20261201": {"items": {"disk1.img": item}}}}}});
    std::fs::write(ss.join(format!("streams/v1/{products}.json")), doc.to_string()).unwrap();
    app.click("[data-testid=add-store]").await;
    set_value(&app, "[data-testid=store-name]", "ubuntu").await;
    set_value(&app, "[data-testid=store-url-input]", &format!("{http_url}/{rel}-ss")).await;
    app.click("[data-testid=save-store]").await;
    let ubuntu = "[data-testid=store-image][data-id='com.ubuntu.cloud:server:24.04:amd64']";
    app.wait_for(ubuntu).await;
    let shown = app.text(ubuntu).await;
    assert!(shown.contains("2026") && !shown.contains("AM") && !shown.contains("PM"), "a date without a time: {shown}");
    looks(&mut app, "store-browse-simplestreams").await;
    app.quit().await;
    let _ = std::fs::remove_dir_all(&ss);

    // what the engine says, asked as the CLI would
    let engine = imagesmith_engine::Engine::open(imagesmith_engine::DataLayout::configured(home.path("repo"))).unwrap();
    let a = engine.get_artifact("ipxe-1.21.1").unwrap();
    assert_eq!((a.source.store.as_deref(), a.source.remote_id.as_deref()), (Some("lab"), Some(UUID)));
    assert_eq!(a.tags, vec!["lab".to_string(), "pxe".to_string()]);
    assert_eq!(a.sha256, digest("sha256sum", &big));
    let _ = std::fs::remove_dir_all(&root);
}

/// Run a command that must succeed; its stdout.
fn must(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A qcow2 disk with internal snapshots made with qemu-img and qemu-io: `first` holds 192 MiB of
/// 0x11 (enough for the job to show its progress), `second` 64 MiB of 0x22 more, and the live state
/// 1 MiB of 0x33 on top.
fn disk_with_snapshots(at: &Path) {
    let io = |op: &str| must(Command::new("qemu-io").args(["-f", "qcow2", "-c", op]).arg(at));
    must(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(at).arg("1G"));
    io("write -P 0x11 0 192M");
    must(Command::new("qemu-img").args(["snapshot", "-c", "first"]).arg(at));
    io("write -P 0x22 192M 64M");
    must(Command::new("qemu-img").args(["snapshot", "-c", "second"]).arg(at));
    io("write -P 0x33 0 1M");
}

/// Whether two disk images hold the same contents (`qemu-img compare`, any formats).
fn same_disk_contents(a: &Path, b: &Path) -> bool {
    Command::new("qemu-img").args(["compare", "-q", "-U"]).arg(a).arg(b).status().unwrap().success()
}

/// qemu-img's own extraction of a snapshot of `disk`, as raw: what an image cut from it must hold.
fn snapshot_reference(disk: &Path, snapshot: &str, out: &Path) {
    must(Command::new("qemu-img").args(["convert", "-U", "-l", &format!("snapshot.name={snapshot}"), "-O", "raw"]).arg(disk).arg(out));
}

impl App {
    /// Starts recording every phase a job card showed while running ("extracting · …").
    async fn watch_phases(&self) {
        self.client
            .execute(
                "window.__phases = []; new MutationObserver(() => { \
                   for (const el of document.querySelectorAll('[data-testid=job-phase]')) window.__phases.push(el.innerText); \
                 }).observe(document.body, { subtree: true, childList: true, characterData: true });",
                vec![],
            )
            .await
            .unwrap();
    }

    async fn phases_seen(&self) -> Vec<String> {
        let seen = self.client.execute("return window.__phases || [];", vec![]).await.unwrap();
        let mut out: Vec<String> = seen
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(|s| s.split(" · ").next().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        out.dedup();
        out
    }

    /// Make an image from snapshot `snapshot` of the disk shown: the dialog's name and format, a
    /// screenshot of it, then Make image.
    async fn make_snapshot_image(&mut self, snapshot: &str, name: &str, format: &str, shot: &str) {
        self.click(&format!("[data-testid=snapshot-row][data-name='{snapshot}'] [data-testid=make-image]")).await;
        self.wait_for("[data-testid=snapshot-image-dialog]").await;
        set_value(self, "[data-testid=snapshot-image-name]", name).await;
        self.click(&format!("[data-testid=snapshot-format-{format}]")).await;
        self.shot(shot).await;
        self.click("[data-testid=start-snapshot-image]").await;
    }
}

/// The ids of the job cards shown now.
async fn job_ids(app: &App) -> Vec<String> {
    let mut ids = Vec::new();
    for card in app.client.find_all(Locator::Css("[data-testid=job-card]")).await.unwrap() {
        ids.extend(card.attr("data-job-id").await.unwrap());
    }
    ids
}

/// Wait for a job card that was not among `before` to end; its state and text.
async fn new_job_ends(app: &App, before: &[String]) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        for card in app.client.find_all(Locator::Css("[data-testid=job-card]")).await.unwrap() {
            let id = card.attr("data-job-id").await.unwrap().unwrap_or_default();
            let state = card.attr("data-state").await.unwrap().unwrap_or_default();
            if !before.contains(&id) && !["queued", "running"].contains(&state.as_str()) {
                return (state, card.text().await.unwrap_or_default());
            }
        }
        assert!(Instant::now() < deadline, "no new job ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many elements match `css`.
async fn count(app: &App, css: &str) -> usize {
    app.client.find_all(Locator::Css(css)).await.unwrap().len()
}

/// The text of `css` as the page has it: WebKitWebDriver reads an element that clips its text
/// with an ellipsis (a title, a VM name, a description) as empty.
async fn dom_text(app: &App, css: &str) -> String {
    let js = "return document.querySelector(arguments[0])?.textContent ?? '';";
    let text = app.client.execute(js, vec![json!(css)]).await.unwrap();
    text.as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Wait until `css` holds `wanted` (read as [`dom_text`] does).
async fn wait_for_dom_text(app: &App, css: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = dom_text(app, css).await;
        if text.contains(wanted) {
            return text;
        }
        assert!(Instant::now() < deadline, "{css} did not come to say {wanted:?}; it says {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until a toast says `title`; the toast.
async fn toast_saying(app: &App, title: &str) -> fantoccini::elements::Element {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        for t in app.client.find_all(Locator::Css("[data-testid=toast]")).await.unwrap() {
            if t.text().await.unwrap_or_default().contains(title) {
                return t;
            }
        }
        assert!(Instant::now() < deadline, "no toast said {title:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn images_are_cut_from_snapshots_of_a_chosen_qcow2_file_and_of_a_library_image() {
    let home = Home::new();
    let disk = home.files().join("web-disk.qcow2");
    disk_with_snapshots(&disk);
    let untouched = must(Command::new("sha256sum").arg(&disk));
    // the same disk, imported beforehand: a qcow2 image of the library that holds snapshots
    let base = home.files().join("base.qcow2");
    std::fs::copy(&disk, &base).unwrap();
    drop(seeded(&home, vec![base.clone()]));
    let mut app = App::start(&home, "18-snapshots", 4800).await;

    // the Snapshots screen asks libvirt's default connection at once (here: none runs, or it has VMs)
    app.click("[data-testid=nav-snapshots]").await;
    app.wait_for("[data-testid=libvirt-uri]").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.client.find(Locator::Css("[data-testid=vm-list], [aria-label='Snapshot sources'] [data-code]")).await.is_err() {
        assert!(Instant::now() < deadline, "the default connection was neither listed nor refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    looks(&mut app, "snapshots-default-connection").await;

    // a qcow2 file from the native dialog: its disk and snapshots
    app.click("[data-testid=snapshot-mode-file]").await;
    app.click("[data-testid=choose-disk-file]").await;
    // (the folder helper chooses a file as well: the location bar, Return, and Return again if needed)
    app.choose_native_folder("Choose a qcow2 disk file", &disk, "disk-file-dialog").await;
    wait_for_dom_text(&app, "[data-testid=snapshot-source-title]", "web-disk.qcow2").await;
    app.wait_for("[data-testid=snapshot-row][data-name='second']").await;
    assert_eq!(count(&app, "[data-testid=snapshot-row]").await, 2);
    let line = app.text("[data-testid=disk-line]").await;
    assert!(line.contains("Disk 1") && line.contains("qcow2") && line.contains("1.0 GiB"), "{line}");
    looks(&mut app, "snapshots-file").await;

    // Make image… on `second`: the dialog, then the job's phases and progress in the jobs panel
    app.watch_progress().await;
    app.watch_phases().await;
    app.click("[data-testid=snapshot-row][data-name='second'] [data-testid=make-image]").await;
    app.wait_for("[data-testid=snapshot-image-dialog]").await;
    let name = app.wait_for("[data-testid=snapshot-image-name]").await;
    assert_eq!(name.prop("value").await.unwrap().as_deref(), Some("web-disk-second"), "a name is suggested");
    let version = app.wait_for("[data-testid=snapshot-attr-version]").await;
    assert_eq!(version.prop("value").await.unwrap().as_deref(), Some("1.0"));
    set_value(&app, "[data-testid=snapshot-image-name]", "web-app").await;
    set_value(&app, "[data-testid=snapshot-attr-tags]", "web, snapshot").await;
    looks(&mut app, "snapshot-image-dialog").await;
    let before = job_ids(&app).await;
    app.click("[data-testid=start-snapshot-image]").await;
    let (state, card) = new_job_ends(&app, &before).await;
    assert_eq!(state, "succeeded", "{card}");
    assert!(card.contains("Snapshot image #"), "the job is named by its kind: {card}");
    let seen = app.progress_seen().await;
    let phases = app.phases_seen().await;
    eprintln!("progress seen: {seen:?}\nphases seen: {phases:?}");
    assert!(!seen.is_empty(), "the job card showed the job's progress");
    assert!(phases.iter().any(|p| p == "extracting") && phases.iter().any(|p| p == "hashing"), "{phases:?}");

    // the toast names the image and leads to it in the library, its source said plainly
    let toast = toast_saying(&app, "Snapshot image finished: web-app").await;
    app.shot("snapshot-image-toast").await;
    toast.find(Locator::Css("[data-testid=toast-action]")).await.unwrap().click().await.unwrap();
    wait_for_text(&app, "[data-testid=details-name]", "web-app").await;
    let source = app.text("[data-testid=source-snapshot]").await;
    assert!(source.starts_with("Snapshot second of web-disk.qcow2, taken "), "{source}");
    assert!(app.text("[data-testid=source-disk-file]").await.ends_with("web-disk.qcow2"));
    looks(&mut app, "snapshot-image-in-library").await;

    // the same name again: refused in the dialog with the engine's name_taken, nothing started
    app.click("[data-testid=nav-snapshots]").await;
    app.make_snapshot_image("first", "web-app", "qcow2", "make-image-name-taken").await;
    let (code, text) = app.error_in("[data-testid=snapshot-image-dialog]").await;
    assert_eq!(code, "name_taken", "{text}");
    looks(&mut app, "snapshot-image-name-taken").await;
    app.client.execute("document.querySelector('dialog[open]').dispatchEvent(new Event('cancel'))", vec![]).await.unwrap();

    // the library's qcow2 image: "Image from a snapshot…" opens the screen on it
    app.click("[data-testid=nav-library]").await;
    app.click("[data-testid=artifact-row][data-name='base.qcow2']").await;
    wait_for_text(&app, "[data-testid=artifact-snapshots]", "first, second").await;
    app.click("[data-testid=image-from-snapshot]").await;
    wait_for_dom_text(&app, "[data-testid=snapshot-source-title]", "base.qcow2").await;
    let before = job_ids(&app).await;
    app.make_snapshot_image("first", "base-first", "raw", "make-image-from-library").await;
    assert_eq!(new_job_ends(&app, &before).await.0, "succeeded");
    toast_saying(&app, "Snapshot image finished: base-first").await;
    app.quit().await;

    // what the engine says, asked as the CLI would: sources, and exactly each snapshot's contents
    let engine = imagesmith_engine::Engine::open(imagesmith_engine::DataLayout::configured(home.path("repo"))).unwrap();
    let web = engine.get_artifact("web-app").unwrap();
    assert_eq!((web.source.snapshot.as_deref(), web.source.disk_id), (Some("second"), Some(1)));
    assert_eq!(web.tags, vec!["snapshot".to_string(), "web".to_string()]);
    let first = engine.get_artifact("base-first").unwrap();
    assert_eq!((first.source.artifact.as_deref(), first.source.snapshot.as_deref()), (Some("base.qcow2"), Some("first")));
    let object = |sha: &str| home.path("repo/objects/sha256").join(&sha[..2]).join(&sha[2..]);
    let reference = home.path("second.raw");
    snapshot_reference(&disk, "second", &reference);
    assert!(same_disk_contents(&object(&web.sha256), &reference), "web-app holds exactly the snapshot second");
    snapshot_reference(&disk, "first", &reference);
    assert_eq!(first.sha256, digest("sha256sum", &reference), "a raw image is byte for byte the snapshot first");
    assert_eq!(must(Command::new("sha256sum").arg(&disk)), untouched, "the disk file was only read");
}

/// A VM defined in the libvirt test server by scripts/servers/libvirt-vm.sh; undefined (with its
/// snapshots' metadata) when dropped.
struct TestVm {
    uri: String,
    name: String,
    facts: std::collections::HashMap<String, String>,
}

impl TestVm {
    fn create(uri: &str, dir: &Path, name: &str) -> TestVm {
        std::fs::create_dir_all(dir).unwrap();
        let out = must(Command::new(Path::new(ROOT).join("scripts/servers/libvirt-vm.sh")).args(["create", uri]).arg(dir).arg(name));
        let facts = out.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
        TestVm { uri: uri.to_string(), name: name.to_string(), facts }
    }

    fn undefine(&self) {
        let _ = Command::new("virsh")
            .args(["--connect", &self.uri, "undefine", "--snapshots-metadata", "--", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for TestVm {
    fn drop(&mut self) {
        self.undefine();
    }
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and the libvirt test server: scripts/app.sh test"]
async fn an_image_is_cut_from_a_disk_snapshot_of_a_libvirt_vm() {
    let uri = server_env("TS_LIBVIRT_URI");
    let home = Home::new();
    let name = format!("e2e-web-{}", std::process::id());
    let vm = TestVm::create(&uri, &home.path("vms"), &name);
    let disk2 = PathBuf::from(vm.facts.get("DISK2").expect("libvirt-vm.sh names the second disk"));
    // s3-updated deleted from the first disk behind libvirt's back: libvirt still lists it there
    let disk1 = PathBuf::from(vm.facts.get("DISK1").expect("libvirt-vm.sh names the first disk"));
    must(Command::new("qemu-img").args(["snapshot", "-d", "s3-updated"]).arg(&disk1));
    let mut app = App::start(&home, "19-vm-snapshots", 4810).await;

    // the connection URI, Connect: the VM with its state, disks and snapshots
    app.click("[data-testid=nav-snapshots]").await;
    set_value(&app, "[data-testid=libvirt-uri]", &uri).await;
    app.click("[data-testid=libvirt-connect]").await;
    let row = format!("[data-testid=vm-row][data-name='{name}']");
    wait_for_dom_text(&app, &format!("{row} [data-testid=vm-state]"), "shut off").await;
    assert!(dom_text(&app, &row).await.contains("2 disks · 3 snapshots"));
    app.click(&row).await;
    wait_for_dom_text(&app, "[data-testid=snapshot-source-title]", &name).await;
    app.wait_for("[data-testid=disk-tab][data-disk-id='2']").await;
    assert_eq!(count(&app, "[data-testid=disk-tab]").await, 2, "both disks");
    // the first disk: the snapshot its file no longer holds is greyed, with why, and cannot be used
    app.click("[data-testid=disk-tab][data-disk-id='1']").await;
    let gone = "[data-testid=snapshot-row][data-name='s3-updated'][data-usable=false]";
    app.wait_for(gone).await;
    assert!(dom_text(&app, &format!("{gone} [data-testid=snapshot-problem]")).await.contains("holds a snapshot of that name"));
    assert!(!app.wait_for(&format!("{gone} [data-testid=make-image]")).await.is_enabled().await.unwrap());
    app.shot("snapshots-vm-unusable").await;
    app.click("[data-testid=disk-tab][data-disk-id='2']").await;
    wait_for_text(&app, "[data-testid=disk-line]", "Disk 2 · vdb · qcow2 · 32.0 MiB").await;
    assert_eq!(app.text("[data-testid=disk-file]").await, disk2.display().to_string());
    let rows = "[data-testid=snapshot-row]";
    app.wait_for(&format!("{rows}[data-name='s3-updated']")).await;
    assert_eq!(count(&app, rows).await, 3);
    let s2 = dom_text(&app, &format!("{rows}[data-name='s2-configured']")).await;
    assert!(s2.contains("Internal") && s2.contains("VM was shutoff") && s2.contains("Configured"), "{s2}");
    looks(&mut app, "snapshots-vm").await;

    // Make image… on s2-configured of disk 2, with attributes: the job, its progress, the toast
    app.watch_phases().await;
    app.click(&format!("{rows}[data-name='s2-configured'] [data-testid=make-image]")).await;
    app.wait_for("[data-testid=snapshot-image-dialog]").await;
    let suggested = app.wait_for("[data-testid=snapshot-image-name]").await.prop("value").await.unwrap();
    assert_eq!(suggested.as_deref(), Some(format!("{name}-vdb-s2-configured").as_str()));
    set_value(&app, "[data-testid=snapshot-image-name]", "web-data-configured").await;
    set_value(&app, "[data-testid=snapshot-attr-alias]", "webdata").await;
    set_value(&app, "[data-testid=snapshot-attr-description]", "The data disk, configured").await;
    app.click("[data-testid=snapshot-attr-resize]").await;
    looks(&mut app, "snapshot-vm-image-dialog").await;
    let before = job_ids(&app).await;
    app.click("[data-testid=start-snapshot-image]").await;
    let (state, card) = new_job_ends(&app, &before).await;
    assert_eq!(state, "succeeded", "{card}");
    let phases = app.phases_seen().await;
    eprintln!("phases seen: {phases:?}");
    assert!(phases.iter().any(|p| p == "extracting"), "{phases:?}");
    let toast = toast_saying(&app, "Snapshot image finished: web-data-configured").await;
    app.shot("snapshot-vm-toast").await;
    toast.find(Locator::Css("[data-testid=toast-action]")).await.unwrap().click().await.unwrap();
    wait_for_text(&app, "[data-testid=details-name]", "web-data-configured").await;
    let source = app.text("[data-testid=source-snapshot]").await;
    assert!(source.starts_with(&format!("Snapshot s2-configured of disk 2 (vdb) of VM {name}, taken ")), "{source}");
    assert_eq!(app.text("[data-testid=source-connection]").await, format!("on {uri}"));
    looks(&mut app, "snapshot-vm-image-in-library").await;

    // the VM undefined meanwhile: Make image… is refused with vm_not_found, shown in the dialog
    vm.undefine();
    app.click("[data-testid=nav-snapshots]").await;
    app.make_snapshot_image("s1-installed", "web-data-installed", "qcow2", "make-image-vm-gone").await;
    let (code, text) = app.error_in("[data-testid=snapshot-image-dialog]").await;
    assert_eq!(code, "vm_not_found", "{text}");
    looks(&mut app, "snapshot-vm-not-found").await;
    app.quit().await;

    // what the engine recorded, and exactly the snapshot's contents of that disk
    let engine = imagesmith_engine::Engine::open(imagesmith_engine::DataLayout::configured(home.path("repo"))).unwrap();
    let a = engine.get_artifact("webdata").unwrap();
    assert_eq!(
        (a.source.vm.as_deref(), a.source.disk_id, a.source.snapshot.as_deref(), a.source.connect.as_deref()),
        (Some(name.as_str()), Some(2), Some("s2-configured"), Some(uri.as_str()))
    );
    assert_eq!(a.source.disk_file.as_deref(), Some(disk2.to_str().unwrap()));
    assert!(a.resize && a.description == "The data disk, configured", "{a:?}");
    let object = home.path("repo/objects/sha256").join(&a.sha256[..2]).join(&a.sha256[2..]);
    let reference = home.path("s2.raw");
    snapshot_reference(&disk2, "s2-configured", &reference);
    assert!(same_disk_contents(&object, &reference), "the image holds exactly s2-configured of vdb");
    assert!(engine.get_artifact("web-data-installed").is_err(), "nothing made for the refusal");
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn the_review_and_the_library_name_the_exact_os_of_installer_isos() {
    let home = Home::new();
    let isos: Vec<PathBuf> = ["rhel-9.6-x86_64-dvd.iso", "debian-12.7.0-amd64-DVD-1.iso", "grub-rescue-cdrom.iso"]
        .iter()
        .map(|n| {
            let to = home.files().join(n);
            std::fs::copy(fixture(n), &to).unwrap();
            to
        })
        .collect();
    let mut app = App::start(&home, "20-exact-os", 4830).await;
    drag_onto_app(&mut app, &isos.iter().map(PathBuf::as_path).collect::<Vec<_>>()).await;

    // The review says what each ISO is before anything is stored
    let rhel = "[data-testid=review-row][data-file='rhel-9.6-x86_64-dvd.iso'] [data-testid=review-exact-os]";
    assert_eq!(app.text(rhel).await, "Red Hat Enterprise Linux 9.6 (rhel9.6), x86_64");
    let debian = "[data-testid=review-row][data-file='debian-12.7.0-amd64-DVD-1.iso'] [data-testid=review-exact-os]";
    assert_eq!(app.text(debian).await, "Debian GNU/Linux 12.7.0 (debian12), x86_64");
    let rescue = "[data-testid=review-row][data-file='grub-rescue-cdrom.iso']";
    app.wait_for(rescue).await;
    assert_eq!(app.text(&format!("{rescue} [data-testid=review-exact-os]")).await, "Not an OS installer");
    looks(&mut app, "review-exact-os").await;
    // nothing names its OS: the admin says which family it boots, as for any unnamed ISO
    app.choose_os("grub-rescue-cdrom.iso", "linux").await;
    app.click("[data-testid=start-import]").await;
    app.wait_for_within("[data-testid=artifact-row][data-name='rhel-9.6-x86_64-dvd.iso']", Duration::from_secs(60)).await;
    app.wait_for_within("[data-testid=artifact-row][data-name='debian-12.7.0-amd64-DVD-1.iso']", Duration::from_secs(60)).await;

    // The library's row badge and its release filter
    let badge = app.text("[data-testid=artifact-row][data-name='rhel-9.6-x86_64-dvd.iso'] [data-testid=row-release]").await;
    assert_eq!(badge, "rhel9.6");
    let filter = app.wait_for("[data-testid=filter-release]").await;
    let options = values(&app, "[data-testid=filter-release] option").await;
    assert!(options.iter().any(|o| o == "rhel9.6") && options.iter().any(|o| o.starts_with("debian12")), "{options:?}");
    filter.select_by_value("rhel9.6").await.unwrap();
    wait_for_text(&app, "[data-testid=library-count]", "1 artifact").await;
    assert_eq!(count(&app, "[data-testid=artifact-row]").await, 1);

    // Details: the exact OS among the attributes
    app.click("[data-testid=artifact-row][data-name='rhel-9.6-x86_64-dvd.iso']").await;
    assert_eq!(app.text("[data-testid=attr-exact-os]").await, "Red Hat Enterprise Linux 9.6 (rhel9.6), x86_64");
    looks(&mut app, "library-exact-os").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn a_driver_that_does_not_fit_the_image_is_refused_in_the_profile_editor_and_a_near_miss_warned() {
    use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest};
    let home = Home::new();
    {
        let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
        let items = [
            "rhel-9.6-x86_64-dvd.iso",
            "kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm",
            "kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm",
            "dud-ixgbe-rhel9.4.iso",
        ]
        .iter()
        .map(|n| ImportItem { path: fixture(n), ..Default::default() })
        .collect();
        let report =
            engine.import(&ImportRequest { items, checksum_files: vec![], ..Default::default() }, &CancelToken::new(), &|_| {}).unwrap();
        assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
    }
    let mut app = App::start(&home, "21-compat", 4840).await;
    app.click("[data-testid=nav-profiles]").await;
    app.click("[data-testid=new-profile]").await;
    app.wait_for("[data-testid=profile-base] option").await;
    app.wait_for("[data-testid=profile-name]").await.send_keys("rhel96-nic").await.unwrap();
    app.click("[data-testid=create-profile]").await;
    app.wait_for("[data-testid=profile-editor][data-profile='rhel96-nic']").await;

    // an aarch64 kmod on the x86_64 image: refused, with the reason
    app.click("[data-testid=add-from-library]").await;
    app.pick("kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm").await;
    app.click("[data-testid=picker-add]").await;
    let (code, text) = app.error_in("[data-testid=picker-error]").await;
    assert_eq!(code, "incompatible_driver", "{text}");
    assert!(text.contains("built for aarch64") && text.contains("What to do:"), "{text}");
    looks(&mut app, "driver-refused").await;
    app.pick("kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm").await; // untick

    // the 9.6 kmod fits; the 9.4 driver disk is a later kernel release of its series: a warning
    app.pick("kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm").await;
    app.pick("dud-ixgbe-rhel9.4.iso").await;
    app.click("[data-testid=picker-add]").await;
    app.wait_for("[data-testid=member][data-name='kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm']").await;
    let warned = "[data-testid=member][data-name='dud-ixgbe-rhel9.4.iso'] [data-testid=member-warning]";
    let warning = app.wait_for(warned).await;
    assert_eq!(warning.attr("data-code").await.unwrap().as_deref(), Some("kernel_other_release"));
    assert_eq!(count(&app, "[data-testid=member-warning]").await, 1, "only the 9.4 driver disk is warned about");
    looks(&mut app, "driver-warned-in-profile").await;

    // At the minimum window size with the jobs panel open the editor has the screen to itself, with
    // a way back to the list that leaves the profile it came from focused
    app.client.set_window_rect(0, 0, 1920, 1080).await.unwrap();
    app.wait_shown("[data-testid=back-to-profiles]", false).await;
    app.wait_shown("[data-testid=profile-list]", true).await;
    app.client.set_window_rect(0, 0, 900, 560).await.unwrap();
    app.wait_shown("[data-testid=back-to-profiles]", true).await;
    app.wait_shown("[data-testid=profile-list]", false).await;
    app.click("[data-testid=back-to-profiles]").await;
    app.wait_shown("[data-testid=profile-list]", true).await;
    app.wait_shown("[data-testid=profile-editor]", false).await;
    let focused = app.client.execute("return document.activeElement?.dataset?.name ?? null;", vec![]).await.unwrap();
    assert_eq!(focused, json!("rhel96-nic"), "the profile row is focused after going back");
    app.shot("narrow-profile-list").await;
    app.client.execute("document.activeElement.click();", vec![]).await.unwrap();
    app.wait_shown("[data-testid=profile-editor][data-profile='rhel96-nic']", true).await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn a_windows_installers_editions_are_shown_and_a_profile_picks_the_one_it_installs() {
    use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest};
    let home = Home::new();
    {
        let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
        let items = vec![ImportItem { path: fixture("win-server-2022-udf.iso"), ..Default::default() }];
        let report =
            engine.import(&ImportRequest { items, checksum_files: vec![], ..Default::default() }, &CancelToken::new(), &|_| {}).unwrap();
        assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
    }
    let mut app = App::start(&home, "22-editions", 4850).await;

    // The details list every image of install.wim
    app.click("[data-testid=nav-library]").await;
    app.click("[data-testid=artifact-row][data-name='win-server-2022-udf.iso']").await;
    app.wait_for("[data-testid=editions]").await;
    assert_eq!(count(&app, "[data-testid=edition]").await, 2);
    let table = app.text("[data-testid=editions]").await;
    assert!(table.contains("ServerStandard") && table.contains("ServerDatacenter") && table.contains("20348"), "{table}");
    looks(&mut app, "editions-in-details").await;

    // New profile on it: the edition is chosen with the base image
    app.click("[data-testid=nav-profiles]").await;
    app.click("[data-testid=new-profile]").await;
    app.wait_for("[data-testid=profile-base] option").await;
    app.wait_for("[data-testid=profile-name]").await.send_keys("dc01").await.unwrap();
    let choice = app.wait_for("[data-testid=profile-create-edition]").await;
    assert_eq!(choice.prop("value").await.unwrap().as_deref(), Some(""), "no edition chosen until the admin picks one");
    choice.select_by_value("2").await.unwrap();
    app.shot("new-profile-edition").await;
    app.click("[data-testid=create-profile]").await;
    app.wait_for("[data-testid=profile-editor][data-profile='dc01']").await;
    let shown = app.wait_for("[data-testid=profile-edition]").await;
    assert_eq!(shown.prop("value").await.unwrap().as_deref(), Some("2"));

    // Changed in the editor: the engine keeps it
    shown.select_by_value("1").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let engine = imagesmith_engine::Engine::open(imagesmith_engine::DataLayout::new(home.path("repo"))).unwrap();
        let p = engine.get_profile("dc01").unwrap();
        if p.edition.as_ref().map(|e| e.index) == Some(1) {
            assert_eq!(p.edition.unwrap().edition_id.as_deref(), Some("ServerStandard"));
            break;
        }
        assert!(Instant::now() < deadline, "the edition chosen in the editor was not saved: {:?}", p.edition);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    looks(&mut app, "profile-edition").await;
    app.quit().await;
}

/// `gpg` with a throwaway home: the key tests' source of real keys.
fn gpg(home: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("gpg")
        .env("GNUPGHOME", home)
        .args(["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A GnuPG home in the test's world with a new signing key, "Release Signer <release@example.org>",
/// and that key's public half, armored.
fn release_signer(home: &Home) -> (PathBuf, Vec<u8>) {
    let gnupg = home.path("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    gpg(&gnupg, &["--quick-gen-key", "Release Signer <release@example.org>", "ed25519", "sign", "2y"]);
    let signer = gpg(&gnupg, &["--armor", "--export", "release@example.org"]);
    (gnupg, signer)
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn trusted_keys_are_listed_and_a_pasted_key_is_shown_before_it_is_trusted() {
    let home = Home::new();
    // one key trusted already (made by GnuPG here), and Debian's archive key, armored, to paste
    let (gnupg, signer) = release_signer(&home);
    let debian = gpg(
        &gnupg,
        &["--no-default-keyring", "--keyring", "/usr/share/keyrings/debian-archive-bookworm-stable.gpg", "--armor", "--export"],
    );
    let debian_fpr = imagesmith_engine::trust::inspect_key(&debian).unwrap().fingerprint;
    {
        let engine = imagesmith_engine::Engine::open(imagesmith_engine::DataLayout::new(home.path("repo"))).unwrap();
        let k = imagesmith_engine::trust::inspect_key(&signer).unwrap();
        engine.add_trusted_key(&signer, &k.fingerprint).unwrap();
    }
    let mut app = App::start(&home, "23-keys", 4860).await;
    app.click("[data-testid=nav-settings]").await;
    app.wait_for("[data-testid=trusted-key]").await;
    assert!(app.text("[data-testid=trusted-keys]").await.contains("Release Signer <release@example.org>"));

    app.click("[data-testid=paste-key]").await;
    // typed as pasted: WebDriver types a line break as the Enter key
    set_value(&app, "[data-testid=pasted-key]", &String::from_utf8(debian).unwrap().replace('\n', "\u{E007}")).await;
    app.click("[data-testid=show-pasted-key]").await;
    let shown = app.text("[data-testid=preview-fingerprint]").await.replace(' ', "");
    assert_eq!(shown, debian_fpr, "the preview shows the key's own fingerprint");
    assert!(app.text("[data-testid=key-preview]").await.contains("Debian Stable Release Key (12/bookworm)"));
    looks(&mut app, "key-preview").await;
    // Cancel: nothing trusted
    app.client.execute("document.querySelector('dialog[open]')?.close();", vec![]).await.unwrap();
    app.client
        .execute("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));", vec![])
        .await
        .unwrap();
    look_at(&app, "[data-testid=require-signature]").await;
    looks(&mut app, "trusted-keys").await;
    assert_eq!(count(&app, "[data-testid=trusted-key]").await, 1);
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn a_signed_import_names_its_signer_and_its_media_check_and_a_changed_signed_list_is_refused_with_its_recovery() {
    let home = Home::new();
    let (gnupg, signer) = release_signer(&home);
    let fpr = imagesmith_engine::trust::inspect_key(&signer).unwrap().fingerprint;
    {
        let engine = imagesmith_engine::Engine::open(imagesmith_engine::DataLayout::new(home.path("repo"))).unwrap();
        engine.add_trusted_key(&signer, &fpr).unwrap();
    }
    // Ubuntu's way: SHA256SUMS with a detached binary signature, SHA256SUMS.gpg; the ISO carries
    // an MD5 implanted by implantisomd5, as Fedora media do.
    let (iso, sums, _sha) = fixture_iso(&home.files());
    let implanted = Command::new("implantisomd5").arg(&iso).output().unwrap();
    assert!(implanted.status.success(), "{}", String::from_utf8_lossy(&implanted.stderr));
    let listed = Command::new("sha256sum").arg("ipxe.iso").current_dir(home.files()).output().unwrap();
    std::fs::write(&sums, listed.stdout).unwrap();
    let sig = home.files().join("SHA256SUMS.gpg");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    gpg(&gnupg, &["--yes", "--local-user", "release@example.org", "--output", &s(&sig), "--detach-sign", &s(&sums)]);

    let mut app = App::start(&home, "24-signed", 4870).await;
    drag_onto_app(&mut app, &[&iso, &sums, &sig]).await;
    app.wait_for("[data-testid=import-review] [data-testid=review-row]").await;
    assert_eq!(count(&app, "[data-testid=review-row]").await, 1, "neither the list nor its signature is an artifact");
    let signed = app.text("[data-testid=checksum-signature]").await;
    assert!(signed.contains("Signed by Release Signer <release@example.org>"), "{signed}");
    assert!(signed.replace(' ', "").contains(&fpr), "the fingerprint is shown: {signed}");
    assert!(app.text("[data-testid=checksum-file]").await.contains("SHA256SUMS with SHA256SUMS.gpg"));
    let row_sig = app.text("[data-testid=review-row][data-file='ipxe.iso'] [data-testid=expected-signature]").await;
    assert_eq!(row_sig, "Signed by Release Signer <release@example.org>");
    app.choose_os("ipxe.iso", "linux").await;
    looks(&mut app, "signed-review").await;
    app.click("[data-testid=start-import]").await;
    assert_eq!(app.job_state(&["succeeded", "failed", "cancelled"]).await, "succeeded");

    app.click("[data-testid=nav-library]").await;
    let badge = app.wait_for("[data-testid=artifact-row][data-name='ipxe.iso'] [data-testid=signed-badge]").await;
    assert_eq!(badge.attr("data-status").await.unwrap().as_deref(), Some("good"));
    app.click("[data-testid=artifact-row][data-name='ipxe.iso']").await;
    let details = wait_for_text(&app, "[data-testid=signature]", "Signed by").await;
    assert!(details.contains("Release Signer") && details.replace(' ', "").contains(&fpr), "{details}");
    assert!(app.text("[data-testid=evidence]").await.contains("SHA-256 matched SHA256SUMS"));
    let media = app.wait_for("[data-testid=media-check]").await;
    assert_eq!(media.attr("data-status").await.unwrap().as_deref(), Some("passed"));
    assert!(app.text("[data-testid=media-check]").await.contains("Embedded media checksum (isomd5sum) passed"));
    look_at(&app, "[data-testid=evidence]").await;
    looks(&mut app, "signed-details").await;

    // The list changed after it was signed: a line for a script added and a signature that no
    // longer covers it. The review refuses the script, saying why and what to do.
    let later = home.files().join("later");
    std::fs::create_dir_all(&later).unwrap();
    let script = later.join("post-install.sh");
    std::fs::write(&script, "#!/bin/sh\necho configured\n").unwrap();
    let list = later.join("SHA256SUMS");
    std::fs::write(&list, "# nothing yet\n0000000000000000000000000000000000000000000000000000000000000000  placeholder\n").unwrap();
    let list_sig = later.join("SHA256SUMS.gpg");
    gpg(&gnupg, &["--yes", "--local-user", "release@example.org", "--output", &s(&list_sig), "--detach-sign", &s(&list)]);
    let out = Command::new("sha256sum").arg(&script).output().unwrap();
    let digest = String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string();
    std::fs::write(&list, format!("{digest}  post-install.sh\n")).unwrap();
    drag_onto_app(&mut app, &[&script, &list, &list_sig]).await;
    let refusal = app.wait_for("[data-testid=review-row][data-file='post-install.sh'] [data-testid=refusal]").await.text().await.unwrap();
    assert!(refusal.contains("does not verify") && refusal.contains("Release Signer"), "{refusal}");
    assert!(refusal.contains("Download the checksum list and its signature again"), "the recovery is shown: {refusal}");
    let shown = app.text("[data-testid=checksum-signature]").await;
    assert!(shown.contains("does not verify"), "{shown}");
    assert!(app.wait_for("[data-testid=start-import]").await.attr("disabled").await.unwrap().is_some(), "nothing can be imported");
    looks(&mut app, "bad-signature-review").await;
    assert_eq!(home.stored_objects(), 1);

    // Import from URL… tells a list's signature from the files, and offers to accept an untrusted signer.
    app.client.execute("document.querySelector('dialog[open]')?.close();", vec![]).await.unwrap();
    app.click("[data-testid=import-url]").await;
    let base = "https://cloud-images.ubuntu.com/noble/current";
    let urls = format!("{base}/SHA256SUMS\u{E007}{base}/SHA256SUMS.gpg\u{E007}{base}/noble-server-cloudimg-amd64.img");
    set_value(&app, "[data-testid=url-input]", &urls).await;
    app.wait_for("[data-testid=url-line][data-role=signature]").await;
    app.wait_for("[data-testid=url-accept-unverified]").await;
    looks(&mut app, "url-signature").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn an_answer_files_lint_findings_show_in_the_profile_editor_open_it_at_their_line_and_gate_the_export() {
    use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest};
    let home = Home::new();
    // A kickstart with a misspelt command (an error) and a root password in the clear (a warning).
    let ks = home.files().join("web.ks");
    // The warning is far down the file, so the read-only view has to scroll to it.
    let mut text = String::from("# web servers, RHEL 9\nlang en_US.UTF-8\nkeybaord us\ntimezone Europe/Berlin --utc\n");
    for i in 0..40 {
        text.push_str(&format!("# site note {i}: web tier, rack {}, VLAN 20\n", i % 4));
    }
    text.push_str("rootpw changeme\n%packages\n@core\n%end\n");
    std::fs::write(&ks, text).unwrap();
    {
        let engine = Engine::open(DataLayout::new(home.path("repo"))).unwrap();
        let items = vec![
            ImportItem { path: fixture("rhel-9.6-x86_64-dvd.iso"), ..Default::default() },
            ImportItem { path: ks, os: Some("rhel".into()), ..Default::default() },
        ];
        let report =
            engine.import(&ImportRequest { items, checksum_files: vec![], ..Default::default() }, &CancelToken::new(), &|_| {}).unwrap();
        assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
        engine.create_profile("web", "rhel-9.6-x86_64-dvd.iso", "", None).unwrap();
        engine.add_to_profile("web", &["web.ks".into()]).unwrap();
    }
    let mut app = App::start(&home, "25-lint", 4880).await;
    app.click("[data-testid=nav-profiles]").await;
    app.click("[data-testid=profile-row][data-name='web']").await;
    let lint = "[data-testid=member][data-name='web.ks'] [data-testid=member-lint]";
    app.wait_for(&format!("{lint} [data-testid=lint-finding]")).await;
    assert_eq!(count(&app, &format!("{lint} [data-testid=lint-finding]")).await, 2);
    let first = app.wait_for(&format!("{lint} [data-testid=lint-finding][data-code=unknown_command]")).await;
    assert_eq!(first.attr("data-line").await.unwrap().as_deref(), Some("3"));
    assert!(app.text(lint).await.contains("Did you mean keyboard?"));
    look_at(&app, "[data-testid=member-lint]").await;
    looks(&mut app, "lint-in-editor").await;

    // A finding opens the file read-only at its line, marked.
    app.click(&format!("{lint} [data-testid=lint-finding][data-code=plaintext_password] button")).await;
    app.wait_for("[data-testid=answer-file-view][data-line='45'] [data-testid=code-line][data-line='45'][aria-current=true]").await;
    assert!(app.text("[data-testid=answer-file-view] [data-testid=code-line][data-line='3']").await.contains("keybaord us"));
    // It scrolled there: line 45 is inside the list's visible box, line 1 is not.
    let visible = app
        .client
        .execute(
            "const list = document.querySelector('[data-testid=answer-file-view] ol'); const box = list.getBoundingClientRect();
             const seen = (n) => { const r = list.querySelector(`[data-testid=code-line][data-line='${n}']`).getBoundingClientRect();
                                   return r.top >= box.top && r.bottom <= box.bottom; };
             return [list.scrollHeight > list.clientHeight, seen(45), seen(1)];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(visible, json!([true, true, false]), "the view scrolls to the finding's line");
    look_at(&app, "[data-testid=answer-file-view] [data-testid=code-line][data-line='45']").await;
    looks(&mut app, "answer-file-at-line").await;
    // Another finding from the view's own list moves to its line.
    app.click("[data-testid=answer-file-lint] [data-testid=lint-finding][data-code=unknown_command] button").await;
    app.wait_for("[data-testid=answer-file-view][data-line='3']").await;
    app.click("[data-testid=close-answer-file]").await;

    // Export asks for a reason before going out over the error.
    app.click("[data-testid=export-profile]").await;
    assert!(app.text("[data-testid=export-lint]").await.contains("1 lint error"));
    look_at(&app, "[data-testid=export-lint]").await;
    looks(&mut app, "export-lint-reason").await;
    app.client.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap(); // Escape closes the dialog
    app.wait_shown("[data-testid=export-dialog]", false).await;

    // The library's details show the same findings (checked against the file's own OS).
    app.click("[data-testid=nav-library]").await;
    app.click("[data-testid=artifact-row][data-name='web.ks']").await;
    app.wait_for("[data-testid=artifact-lint] [data-testid=lint-finding][data-code=unknown_command]").await;
    look_at(&app, "[data-testid=artifact-lint]").await;
    looks(&mut app, "lint-in-details").await;
    app.quit().await;
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: scripts/app.sh test"]
async fn team_repositories_connected_on_this_desktop_are_listed_in_settings() {
    let home = Home::new();
    // What `imagesmith-cli repo connect` leaves in the app's config folder (crates/cli/tests/
    // team_connect.rs connects real PostgreSQL and S3 servers; the list needs neither).
    let config = home.path("config/io.imagesmith.desktop");
    std::fs::create_dir_all(&config).unwrap();
    let team = |name: &str, prefix: &str| {
        json!({"name": name, "catalog": format!("postgresql://alice@db.example.net:5432/{name}"), "bucket": "images",
               "prefix": prefix, "endpoint": "https://s3.example.net", "region": "eu-west-1",
               "access_key_id": "AKIAEXAMPLE", "repository_id": "6f1c1f0e-7d7e-4d55-9a55-0c2f3a1b2c3d"})
    };
    let repos = json!({"current": "lab", "team": [team("lab", "site-a"), team("staging", "")]});
    std::fs::write(config.join("repositories.json"), serde_json::to_vec_pretty(&repos).unwrap()).unwrap();

    let mut app = App::start(&home, "26-team", 4890).await;
    app.click("[data-testid=nav-settings]").await;
    app.wait_for("[data-testid=team-repository]").await;
    assert_eq!(count(&app, "[data-testid=team-repository]").await, 2);
    let listed = app.text("[data-testid=team-repositories]").await;
    assert!(listed.contains("postgresql://alice@db.example.net:5432/lab"), "{listed}");
    assert!(listed.contains("s3://images/site-a at https://s3.example.net (eu-west-1)"), "{listed}");
    assert_eq!(count(&app, "[data-testid=team-current]").await, 1);
    assert!(!listed.contains("AKIAEXAMPLE"), "the key id is not shown: {listed}");
    look_at(&app, "[data-testid=team-repositories]").await;
    looks(&mut app, "team-repositories").await;
    app.quit().await;
}

/// A team repository opens in the window when it is the current one (or IMAGESMITH_REPO names it):
/// the library is the team's — what another desktop imported is there, and what it imports while
/// the window is open appears — and the header and Settings say which repository is open. The
/// servers are real: PostgreSQL and SeaweedFS started by scripts/app.sh (APP_E2E_SERVERS), the
/// secrets in the test's own Secret Service. The "other desktop" is this test process, with a
/// cache folder of its own, through the engine as imagesmith-cli would.
#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and the team servers: scripts/app.sh test"]
async fn a_team_repository_opens_in_the_window_and_shows_what_another_desktop_imports() {
    let home = Home::new();
    let db = format!("e2e_{}", std::process::id());
    // Connected as `imagesmith-cli repo connect` does: schema made, secrets in the keyring, the
    // connection saved in the app's config folder as the current one.
    let (repo, secrets, bus) = current_team_repository(&home, &db, "lab", true);

    // Another desktop imports an ISO before the window opens.
    let other = off_runtime(|| imagesmith_engine::Engine::open_team(&repo, &secrets).unwrap());
    let import = |path: PathBuf, kind: Option<imagesmith_engine::Kind>| {
        let req = imagesmith_engine::ImportRequest {
            items: vec![imagesmith_engine::ImportItem { path, kind, os: kind.map(|_| "linux".to_string()), ..Default::default() }],
            ..Default::default()
        };
        let report = off_runtime(|| other.import(&req, &imagesmith_engine::CancelToken::new(), &|_| {}).unwrap());
        assert!(report.items.iter().all(|i| i.artifact.is_some()), "{report:?}");
    };
    import(fixture("ipxe.iso"), Some(imagesmith_engine::Kind::Os));

    // The window opens the current repository, the team's (IMAGESMITH_HOME would otherwise win).
    let wrapper = home.path("team-app.sh");
    // Its cache folder is its own (XDG_CACHE_HOME), not the other desktop's.
    let script =
        format!("#!/bin/sh\nunset IMAGESMITH_CACHE\nexport IMAGESMITH_REPO=lab DBUS_SESSION_BUS_ADDRESS='{bus}'\nexec {APP} \"$@\"\n");
    std::fs::write(&wrapper, script).unwrap();
    Command::new("chmod").arg("755").arg(&wrapper).status().unwrap();
    let mut app = App::start_program(&home, "27-team-open", 4900, wrapper.to_str().unwrap(), &[]).await;
    app.wait_for("[data-testid=artifact-row][data-name='ipxe.iso']").await;
    assert_eq!(app.text("[data-testid=team-badge]").await, "Team: lab");
    // What another desktop imports with the command-line tool now appears in the open window.
    let out = other_desktop_cli(&home, &bus).args(["import", fixture("post-install.sh").to_str().unwrap(), "--json"]).output().unwrap();
    assert!(out.status.success(), "imagesmith-cli import: {}", String::from_utf8_lossy(&out.stderr));
    app.wait_for("[data-testid=artifact-row][data-name='post-install.sh']").await;
    look_at(&app, "[data-testid=team-badge]").await;
    looks(&mut app, "team-library").await;

    // Another admin changes it: the details say who added it and who changed it.
    std::env::set_var("USER", "bob");
    off_runtime(|| {
        let all = other.list_artifacts(&imagesmith_engine::ArtifactQuery::default()).unwrap();
        let script = all.iter().find(|a| a.name == "post-install.sh").unwrap();
        let patch = imagesmith_engine::ArtifactPatch { description: Some("first boot, by bob".into()), ..Default::default() };
        other.update_artifact(script.id, &patch).unwrap();
    });
    std::env::remove_var("USER");
    app.click("[data-testid=artifact-row][data-name='post-install.sh']").await;
    let changed = app.wait_for_within("[data-testid=attr-updated-by]", Duration::from_secs(10)).await.text().await.unwrap();
    assert!(changed.starts_with("bob@"), "{changed}");
    look_at(&app, "[data-testid=attr-updated-by]").await;
    looks(&mut app, "team-changed-by").await;

    app.click("[data-testid=nav-settings]").await;
    let said = app.text("[data-testid=open-team]").await;
    assert!(said.contains("Team repository lab is open"), "{said}");
    assert_eq!(app.text("[data-testid=team-open]").await, "Open in this window");
    let part = app.text("[data-testid=repository-path]").await;
    let own = home.path("cache/io.imagesmith.desktop/teams").join(repo.repository_id.as_deref().unwrap());
    assert_eq!(part, own.display().to_string(), "this desktop's part is its own cache folder for the repository");
    let figures = app.text("[data-testid=repository-figures]").await;
    assert!(figures.starts_with("2 artifacts in 2 stored files"), "the team's figures, read when Settings is shown: {figures}");
    let cache = app.text("[data-testid=team-cache-usage]").await;
    assert!(cache.starts_with("This desktop's cache:") && cache.ends_with("no limit"), "{cache}");
    look_at(&app, "[data-testid=open-team]").await;
    looks(&mut app, "team-settings").await;

    // The history is the team's, and another desktop's job appears in it while it runs, with who
    // runs it (the command-line tool's import, held with its file sent and no row yet), and ends
    // there when it ends.
    app.click("[data-testid=nav-history]").await;
    app.wait_text("[data-testid=history-count]", "2 jobs").await;
    let paused = home.path("other-desktop-paused");
    let mut running = other_desktop_cli(&home, &bus)
        .env("IMAGESMITH_FAILPOINT", format!("team.upload.done:pause={}", paused.display()))
        .args(["import", fixture("ks.cfg").to_str().unwrap(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !paused.exists() {
        assert!(running.try_wait().unwrap().is_none(), "imagesmith-cli ended before its upload was done (built without failpoints?)");
        assert!(start.elapsed() < Duration::from_secs(60), "imagesmith-cli never reached team.upload.done");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.wait_text("[data-testid=history-count]", "3 jobs").await;
    let row = app.wait_for("[data-testid=history-row][data-state=running]").await;
    let id = row.attr("data-job-id").await.unwrap().expect("a job id");
    app.click("[data-testid=history-row][data-state=running]").await;
    let who = app.text("[data-testid=job-run-by]").await;
    assert!(who.contains('@'), "who runs it: {who}");
    look_at(&app, "[data-testid=job-run-by]").await;
    looks(&mut app, "team-history-running").await;
    std::fs::remove_file(&paused).unwrap();
    let out = running.wait_with_output().unwrap();
    assert!(out.status.success(), "imagesmith-cli import: {}", String::from_utf8_lossy(&out.stderr));
    app.wait_for_within(&format!("[data-testid=history-row][data-job-id='{id}'][data-state=succeeded]"), Duration::from_secs(10)).await;
    // The open job's details follow it to its end too.
    app.wait_text("[data-testid=job-detail] header .badge", "Succeeded").await;
    looks(&mut app, "team-history").await;

    // Another admin deletes a file: the History's Deleted dialog says what, when and by whom,
    // read again while it is open.
    app.click("[data-testid=show-deletions]").await;
    app.wait_for("[data-testid=deleted-what]").await;
    std::env::set_var("USER", "bob");
    off_runtime(|| {
        let all = other.list_artifacts(&imagesmith_engine::ArtifactQuery::default()).unwrap();
        let ks = all.iter().find(|a| a.name == "ks.cfg").unwrap();
        other.delete_artifact(ks.id).unwrap();
    });
    std::env::remove_var("USER");
    let row = app.wait_for_within("[data-testid=deletion][data-what=artifact]", Duration::from_secs(10)).await.text().await.unwrap();
    assert!(row.contains("ks.cfg") && row.contains("bob@"), "{row}");
    look_at(&app, "[data-testid=deletions]").await;
    looks(&mut app, "team-deleted").await;
    app.client.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap(); // Escape closes the dialog
    app.wait_shown("[data-testid=deletions]", false).await;

    // The catalog goes away (no new connections, the open ones ended): the window says so, keeps
    // what it showed and adds nothing; when it is back, the window is online again by itself.
    psql_as_postgres(&format!("ALTER DATABASE {db} WITH ALLOW_CONNECTIONS false"));
    psql_as_postgres(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"));
    let banner = app.wait_for_within("[data-testid=offline-banner]", Duration::from_secs(30)).await;
    assert!(banner.text().await.unwrap().contains("lab cannot be reached"));
    assert!(!app.wait_for("[data-testid=add-files]").await.is_enabled().await.unwrap(), "nothing is added while offline");
    app.click("[data-testid=nav-library]").await;
    app.wait_for("[data-testid=artifact-row][data-name='post-install.sh']").await;
    look_at(&app, "[data-testid=offline-banner]").await;
    looks(&mut app, "team-offline").await;
    psql_as_postgres(&format!("ALTER DATABASE {db} WITH ALLOW_CONNECTIONS true"));
    app.wait_shown("[data-testid=offline-banner]", false).await;
    assert!(app.wait_for("[data-testid=add-files]").await.is_enabled().await.unwrap());
    app.quit().await;
    off_runtime(move || drop(other));
    psql_as_postgres(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

/// Issue 18: a team repository whose secrets are not in the OS keyring (none kept, or none
/// running) opens the local repository without a message box; the header offers the team one, a
/// wrong password is said in its dialog, and the right ones open it in the window, which then
/// shows what another desktop imported and keeps the secrets in the keyring.
#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and the team servers: scripts/app.sh test"]
async fn a_team_repository_whose_secrets_are_not_in_the_keyring_is_opened_with_the_secrets_typed() {
    use imagesmith_engine::team;
    let home = Home::new();
    let db = format!("e2e_unlock_{}", std::process::id());
    // Saved as the current repository, its secrets nowhere: not in the keyring.
    let (repo, secrets, bus) = current_team_repository(&home, &db, "vault", false);
    let other = off_runtime(|| imagesmith_engine::Engine::open_team(&repo, &secrets).unwrap());
    let req = imagesmith_engine::ImportRequest {
        items: vec![imagesmith_engine::ImportItem {
            path: fixture("ipxe.iso"),
            kind: Some(imagesmith_engine::Kind::Os),
            os: Some("linux".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    off_runtime(|| other.import(&req, &imagesmith_engine::CancelToken::new(), &|_| {}).unwrap());

    let wrapper = home.path("unlock-app.sh");
    let script =
        format!("#!/bin/sh\nunset IMAGESMITH_CACHE\nexport IMAGESMITH_REPO=vault DBUS_SESSION_BUS_ADDRESS='{bus}'\nexec {APP} \"$@\"\n");
    std::fs::write(&wrapper, script).unwrap();
    Command::new("chmod").arg("755").arg(&wrapper).status().unwrap();
    let mut app = App::start_program(&home, "29-team-unlock", 4920, wrapper.to_str().unwrap(), &[]).await;
    // The local repository is open (no message box stood in the way); the header offers the team's.
    let offer = app.wait_for_within("[data-testid=team-unlock]", Duration::from_secs(30)).await.text().await.unwrap();
    assert!(offer.contains("Open team repository vault"), "{offer}");
    assert!(app.client.find(Locator::Css("[data-testid=team-badge]")).await.is_err(), "the local repository is open");
    look_at(&app, "[data-testid=team-unlock]").await;
    looks(&mut app, "offered").await;

    app.click("[data-testid=team-unlock]").await;
    app.wait_for("[data-testid=unlock-catalog-password]").await.send_keys("not-the-password").await.unwrap();
    app.wait_for("[data-testid=unlock-secret-key]").await.send_keys(&server_env("TS_S3_SECRET_ACCESS_KEY")).await.unwrap();
    app.click("[data-testid=team-unlock-open]").await;
    let said = app.wait_for_within("[data-testid=team-unlock-error]", Duration::from_secs(30)).await.text().await.unwrap();
    assert!(said.to_lowercase().contains("password"), "{said}");
    look_at(&app, "[data-testid=team-unlock-form]").await;
    looks(&mut app, "refused").await;

    let password = app.wait_for("[data-testid=unlock-catalog-password]").await;
    password.clear().await.unwrap();
    password.send_keys(&server_env("TS_PG_PASSWORD")).await.unwrap();
    app.click("[data-testid=team-unlock-open]").await;
    // The window reads everything again on the team repository.
    let badge = app.wait_for_within("[data-testid=team-badge]", Duration::from_secs(30)).await.text().await.unwrap();
    assert_eq!(badge, "Team: vault");
    app.wait_for("[data-testid=artifact-row][data-name='ipxe.iso']").await;
    app.wait_shown("[data-testid=team-unlock]", false).await;
    // What the other desktop imports now appears too: the change watcher follows the new repository.
    let req = imagesmith_engine::ImportRequest {
        items: vec![imagesmith_engine::ImportItem { path: fixture("post-install.sh"), ..Default::default() }],
        ..Default::default()
    };
    off_runtime(|| other.import(&req, &imagesmith_engine::CancelToken::new(), &|_| {}).unwrap());
    // Within a second (NOTIFY, or the lists read again when the watcher moves to the new
    // repository, should the import come before that).
    app.wait_for_within("[data-testid=artifact-row][data-name='post-install.sh']", Duration::from_secs(10)).await;
    looks(&mut app, "opened").await;
    // The typed secrets went to the keyring: the next launch opens the team repository by itself.
    let kept = off_runtime(|| team::secrets_for(&repo, None, None, team::Prefer::Keyring).is_ok());
    assert!(kept, "the secrets are in the keyring now");
    app.quit().await;
    off_runtime(move || drop(other));
    psql_as_postgres(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

/// Issue 18: a team repository connected from Settings — the dialog, a wrong password said in it,
/// then the connection (both real servers checked, the schema made in an empty database, the
/// secrets in the test's own Secret Service), and Disconnect after a confirmation.
#[tokio::test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and the team servers: scripts/app.sh test"]
async fn a_team_repository_is_connected_from_settings_and_disconnected_again() {
    use imagesmith_engine::team;
    let home = Home::new();
    let db = format!("e2e_connect_{}", std::process::id());
    new_team_database(&db);
    // The app (through tauri-driver) and this test reach the same Secret Service and config folder.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", server_env("TS_KEYRING_DBUS_ADDRESS"));
    std::env::set_var("XDG_CONFIG_HOME", home.path("config"));
    std::env::set_var("IMAGESMITH_CACHE", home.path("test-cache"));

    let mut app = App::start(&home, "28-team-connect", 4910).await;
    app.click("[data-testid=nav-settings]").await;
    app.wait_for("[data-testid=no-team-repositories]").await;
    app.click("[data-testid=connect-team]").await;
    let catalog = format!("postgresql://{}@127.0.0.1:{}/{db}?sslmode=disable", server_env("TS_PG_USER"), server_env("TS_PG_PORT"));
    let objects = format!("s3://{}/{db}", server_env("TS_S3_BUCKET"));
    for (field, value) in [
        ("team-name", "lab".to_string()),
        ("team-catalog-url", catalog),
        ("team-catalog-password", "not-the-password".to_string()),
        ("team-objects-url", objects),
        ("team-endpoint", server_env("TS_S3_ENDPOINT")),
        ("team-region", server_env("TS_S3_REGION")),
        ("team-key-id", server_env("TS_S3_ACCESS_KEY_ID")),
        ("team-secret-key", server_env("TS_S3_SECRET_ACCESS_KEY")),
    ] {
        app.wait_for(&format!("[data-testid={field}]")).await.send_keys(&value).await.unwrap();
    }
    // A wrong password: said in the dialog, which stays open with what was typed.
    app.click("[data-testid=team-connect]").await;
    let said = app.wait_for_within("[data-testid=team-connect-error]", Duration::from_secs(30)).await.text().await.unwrap();
    assert!(said.to_lowercase().contains("password"), "{said}");
    look_at(&app, "[data-testid=team-form]").await;
    looks(&mut app, "team-connect-refused").await;

    let password = app.wait_for("[data-testid=team-catalog-password]").await;
    password.clear().await.unwrap();
    password.send_keys(&server_env("TS_PG_PASSWORD")).await.unwrap();
    app.click("[data-testid=team-connect]").await;
    let notice = app.wait_for_within("[data-testid=team-connected]", Duration::from_secs(30)).await.text().await.unwrap();
    assert!(notice.contains("Connected lab: PostgreSQL 15"), "{notice}");
    assert!(notice.contains("Secrets kept in the OS keyring"), "{notice}");
    app.wait_shown("[data-testid=team-form]", false).await;
    assert!(app.text("[data-testid=team-repository]").await.contains("lab"));
    look_at(&app, "[data-testid=team-connected]").await;
    looks(&mut app, "team-connected").await;
    // Connected for the command line too: the saved connection and the keyring's secrets open it.
    let opened = off_runtime(|| team::open("lab", None, None).map(|e| e.team().cloned()));
    assert_eq!(opened.unwrap().map(|t| t.name), Some("lab".to_string()));

    // Disconnect… asks first; then the team repository is forgotten here, secrets included.
    app.click("[data-testid=team-disconnect]").await;
    look_at(&app, "[data-testid=team-disconnect-confirm]").await;
    app.shot("team-disconnect-confirm").await;
    app.click("[data-testid=team-disconnect-confirm]").await;
    app.wait_for("[data-testid=no-team-repositories]").await;
    let gone = off_runtime(|| team::open("lab", None, None).err().map(|e| e.code));
    assert_eq!(gone, Some(imagesmith_engine::error::code::NOT_FOUND), "forgotten on this desktop");
    app.quit().await;
    psql_as_postgres(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

/// `sql` run by the test PostgreSQL's superuser over its socket.
fn psql_as_postgres(sql: &str) {
    let out = Command::new(format!("{}/psql", server_env("TS_PG_BIN")))
        .args(["-X", "-q", "-h", &server_env("TS_PG_SOCKET_DIR"), "-p", &server_env("TS_PG_PORT"), "-U", "postgres", "-c", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
}

/// An empty database `db` for a team repository, owned by the test user (made afresh).
/// A team repository for a window test, made as `imagesmith-cli repo connect` makes one: database
/// `db` on the test PostgreSQL with the team's schema, saved in the app's config folder as the
/// current repository `name`, its secrets in the test's Secret Service when `keep_secrets`. This
/// process (the "other desktop") uses the test keyring and a cache folder of its own. Returns the
/// repository, its secrets and the keyring's bus address (for the app's environment).
fn current_team_repository(
    home: &Home,
    db: &str,
    name: &str,
    keep_secrets: bool,
) -> (imagesmith_engine::team::config::TeamRepo, imagesmith_engine::team::TeamSecrets, String) {
    use imagesmith_engine::secrets::Secret;
    use imagesmith_engine::team::{self, ConnectRequest, Migrate, TeamSecrets};
    new_team_database(db);
    let bus = server_env("TS_KEYRING_DBUS_ADDRESS");
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus);
    std::env::set_var("IMAGESMITH_CACHE", home.path("other-desktop-cache"));
    let mut repo = ConnectRequest {
        name: name.into(),
        catalog: format!("postgresql://{}@127.0.0.1:{}/{db}?sslmode=disable", server_env("TS_PG_USER"), server_env("TS_PG_PORT")),
        objects: format!("s3://{}/{db}", server_env("TS_S3_BUCKET")),
        endpoint: server_env("TS_S3_ENDPOINT"),
        region: Some(server_env("TS_S3_REGION")),
        access_key_id: server_env("TS_S3_ACCESS_KEY_ID"),
    }
    .to_repo()
    .unwrap();
    let secrets =
        TeamSecrets { catalog: Secret::new(server_env("TS_PG_PASSWORD")), objects: Secret::new(server_env("TS_S3_SECRET_ACCESS_KEY")) };
    // The catalog's client is synchronous: it runs off the test's async runtime.
    let status = off_runtime(|| team::connect(&repo, &secrets, Migrate::Create).unwrap());
    repo.repository_id = Some(status.repository.id.clone());
    if keep_secrets {
        team::store_secrets(&repo, &secrets).unwrap();
    }
    let config = home.path("config/io.imagesmith.desktop");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("repositories.json"), serde_json::to_vec_pretty(&json!({"current": name, "team": [repo]})).unwrap())
        .unwrap();
    (repo, secrets, bus)
}

/// The command-line tool as another desktop of the team repository `lab` that
/// [`current_team_repository`] saved: the config folder the window reads, the test keyring, a
/// cache and logs of its own. The binary is the one the CLI's tests built next to the app's, with
/// the engine's failpoints (scripts/app.sh builds it before these tests).
fn other_desktop_cli(home: &Home, bus: &str) -> Command {
    let bin = Path::new(APP).with_file_name("imagesmith-cli");
    assert!(bin.exists(), "{} missing: build it with `cargo test --no-run -p imagesmith-engine -p imagesmith-cli`", bin.display());
    let mut c = Command::new(bin);
    c.env_remove("IMAGESMITH_HOME")
        .env("XDG_CONFIG_HOME", home.path("config"))
        .env("XDG_DATA_HOME", home.path("other-desktop-data"))
        .env("IMAGESMITH_CACHE", home.path("other-desktop-cache"))
        .env("IMAGESMITH_LOG_DIR", home.path("other-desktop-logs"))
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args(["--repo", "lab"]);
    c
}

fn new_team_database(db: &str) {
    psql_as_postgres(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    psql_as_postgres(&format!("CREATE DATABASE {db} OWNER {}", server_env("TS_PG_USER")));
}

/// Run `f` on a thread of its own: the engine's PostgreSQL client blocks on a runtime of its own,
/// which it may not start on the test's async runtime.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}
