//! IPC tests on tauri's mock runtime with the real config and capabilities: commands answer the main
//! window, errors cross as {code, text, explanation, recovery}, and what the capability does not grant
//! is refused (tests/commands.rs holds the command list, the grants and the client to each other).

use std::sync::Arc;

use imagesmith_engine::{DataLayout, Engine};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow};

struct Harness {
    dir: tempfile::TempDir,
    engine: Arc<Engine>,
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

/// The native dialogs, answered as a person would: `confirm` says yes or no, and records what it was asked.
struct Answers {
    yes: bool,
    asked: std::sync::Mutex<Vec<String>>,
    /// What the folder dialog returns (None: cancelled).
    folder: Option<std::path::PathBuf>,
    /// What the one-file dialog returns (None: cancelled).
    file: Option<std::path::PathBuf>,
}

impl imagesmith_app::commands::dialogs::Dialogs for Answers {
    fn pick_files(&self, _: &str) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
    fn pick_folder(&self, title: &str, start: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
        self.asked.lock().unwrap().push(format!("{title}\nstarts in {}", start.map(|p| p.display().to_string()).unwrap_or_default()));
        self.folder.clone()
    }
    fn pick_file(&self, title: &str, filter: &str, extensions: &[&str]) -> Option<std::path::PathBuf> {
        self.asked.lock().unwrap().push(format!("{title}\n{filter}: {}", extensions.join(" ")));
        self.file.clone()
    }
    fn confirm(&self, title: &str, text: &str, _: &str) -> bool {
        self.asked.lock().unwrap().push(format!("{title}\n{text}"));
        self.yes
    }
    fn ask(&self, title: &str, text: &str, _: [&str; 3]) -> usize {
        self.asked.lock().unwrap().push(format!("{title}\n{text}"));
        if self.yes {
            0
        } else {
            2
        }
    }
}

fn harness() -> Harness {
    harness_answering(None)
}

fn harness_answering(dialogs: Option<Arc<Answers>>) -> Harness {
    harness_with(dialogs, Vec::new())
}

/// The app started with `opened` on its command line (what "Open with Imagesmith" passes).
fn harness_opening(opened: Vec<std::path::PathBuf>) -> Harness {
    harness_with(None, opened)
}

fn harness_with(dialogs: Option<Arc<Answers>>, opened: Vec<std::path::PathBuf>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(DataLayout::new(dir.path().join("repo"))).unwrap());
    let dialogs = dialogs.map(|d| d as Arc<dyn imagesmith_app::commands::dialogs::Dialogs>);
    let settings = Arc::new(imagesmith_app::settings::Store::at(None));
    let mut app = imagesmith_app::app_builder_opening(tauri::test::mock_builder(), engine.clone(), dialogs, settings, opened)
        .build(tauri::generate_context!("tauri.conf.json"))
        .expect("app builds on the mock runtime");
    // One iteration runs setup() (managed state, events, change watcher) and keeps the app for the
    // test to drive; run_return would run it to its end. Deprecated only for use in a loop.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    // setup() created the "main" window from tauri.conf.json, the one the capabilities name
    let window = app.get_webview_window("main").expect("the main window exists");
    Harness { dir, engine, _app: app, window }
}

/// What a person choosing `paths` in a native dialog (or dropping them) hands the shell.
fn chosen(h: &Harness, paths: &[&std::path::Path]) {
    let paths: Vec<std::path::PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    imagesmith_app::grants::grant(h.window.app_handle(), &paths);
}

fn invoke(h: &Harness, cmd: &str, args: Value) -> Result<Value, Value> {
    invoke_from(&h.window, cmd, args)
}

fn invoke_from(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}

fn assert_error_shape(err: &Value) {
    let obj = err.as_object().unwrap_or_else(|| panic!("error is not an object: {err}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "explanation", "recovery", "text"], "error shape: {err}");
    for k in keys {
        assert!(obj[k].as_str().is_some_and(|s| !s.is_empty()), "{k} is empty in {err}");
    }
}

#[test]
fn read_commands_answer_on_an_empty_repository() {
    let h = harness();
    let aq = json!({"query": {"kind": null, "os": null, "search": null, "sort": "name", "descending": false, "limit": 50, "offset": 0}});
    assert_eq!(invoke(&h, "list_artifacts", aq.clone()).unwrap(), json!([]));
    assert_eq!(invoke(&h, "count_artifacts", aq).unwrap(), json!(0));
    let jq = json!({"query": {"state": null, "kind": null, "before_id": null, "limit": 50}});
    assert_eq!(invoke(&h, "list_jobs", jq.clone()).unwrap(), json!([]));
    assert_eq!(invoke(&h, "count_jobs", jq).unwrap(), json!(0));
    let info = invoke(&h, "repository_info", json!({})).unwrap();
    assert!(info["root"].as_str().unwrap().ends_with("repo"), "{info}");
    let digest = invoke(&h, "parse_expected", json!({"text": format!("sha256:{}", "ab".repeat(32))})).unwrap();
    assert_eq!(
        digest,
        json!({"algo": "sha256", "hex": "ab".repeat(32), "source": "entered", "from": "typed", "line": null, "signature": null})
    );
}

#[test]
fn engine_errors_cross_as_code_text_explanation_recovery() {
    let h = harness();
    let err = invoke(&h, "get_artifact", json!({"idOrName": "no-such-thing"})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_found");

    let err = invoke(&h, "get_job", json!({"jobId": 4242})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "job_not_found");

    let err = invoke(&h, "parse_expected", json!({"text": "not a checksum"})).unwrap_err();
    assert_error_shape(&err);

    let err = invoke(&h, "delete_artifact", json!({"id": 99})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_found");
}

#[test]
fn paths_the_person_did_not_choose_are_refused() {
    let h = harness();
    // /etc/hostname exists and is readable, but was never chosen or dropped in this window
    let hostname = std::path::Path::new("/etc/hostname");
    let err = invoke(&h, "plan_import", json!({"request": {"paths": [hostname], "checksum_files": []}})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_chosen", "{err}");
    let request = json!({"items": [{"path": hostname, "kind": null, "os": null, "image": null, "name": null, "expected": null}], "checksum_files": []});
    let err = invoke(&h, "start_import", json!({"request": request, "onProgress": "__CHANNEL__:1"})).unwrap_err();
    assert_eq!(err["code"], "not_chosen", "{err}");
    // a file inside a chosen folder is allowed; `..` out of it is not
    let dir = tempfile::tempdir().unwrap();
    let inside = dir.path().join("ks.cfg");
    std::fs::copy(fixture("ks.cfg"), &inside).unwrap();
    chosen(&h, &[dir.path()]);
    assert!(invoke(&h, "plan_import", json!({"request": {"paths": [inside], "checksum_files": []}})).is_ok());
    let climbing = dir.path().join("../../etc/hostname");
    let err = invoke(&h, "plan_import", json!({"request": {"paths": [climbing], "checksum_files": []}})).unwrap_err();
    assert_eq!(err["code"], "not_chosen", "{err}");
}

#[test]
fn plan_import_reviews_real_files() {
    let h = harness();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.exe");
    std::fs::write(&file, b"MZ not really").unwrap();
    chosen(&h, &[&file]);
    let plan = invoke(&h, "plan_import", json!({"request": {"paths": [file], "checksum_files": []}})).unwrap();
    assert_eq!(plan["items"].as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(plan["items"][0]["file_name"], "notes.exe");
}

#[test]
fn files_given_at_start_are_granted_and_handed_to_the_window_once() {
    // What "Open with Imagesmith" does: `imagesmith /d/notes.exe /d/drivers` (the shell keeps only
    // existing files and folders, see opened.rs).
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("notes.exe");
    std::fs::write(&file, b"MZ not really").unwrap();
    let folder = files.path().join("drivers");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(fixture("ks.cfg"), folder.join("ks.cfg")).unwrap();
    let h = harness_opening(vec![file.clone(), folder.clone()]);

    let given = invoke(&h, "opened_files", json!({})).unwrap();
    assert_eq!(given, json!([file, folder]));
    assert_eq!(invoke(&h, "opened_files", json!({})).unwrap(), json!([]), "handed over once: a reloaded page does not review them again");

    // granted like dropped files: the review plans them, a file in the folder included
    let plan = invoke(&h, "plan_import", json!({"request": {"paths": [file, folder], "checksum_files": []}})).unwrap();
    let names: Vec<&str> = plan["items"].as_array().unwrap().iter().map(|i| i["file_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["notes.exe", "ks.cfg"], "{plan}");
    // and nothing else is
    let err = invoke(&h, "plan_import", json!({"request": {"paths": ["/etc/hostname"], "checksum_files": []}})).unwrap_err();
    assert_eq!(err["code"], "not_chosen", "{err}");
    // an app started without files hands over none
    assert_eq!(invoke(&harness(), "opened_files", json!({})).unwrap(), json!([]));
}

/// A refusal by the ACL: debug builds explain it ("dialog.save not allowed. Permissions associated
/// with this command: …"), release builds say "Command … not allowed by ACL".
fn assert_refused_by_acl(what: &str, answer: Result<Value, Value>) {
    let err = answer.expect_err(what);
    assert!(err.as_str().is_some_and(|text| text.contains("not allowed")), "{what} was not refused by the ACL: {err}");
}

#[test]
fn what_the_capability_does_not_grant_is_refused() {
    let h = harness();
    assert_refused_by_acl("an unknown command", invoke(&h, "no_such_command", json!({})));
    // The dialog plugin is registered for the shell's own use; the page may open none of its
    // dialogs (the shell opens them and remembers what was chosen).
    assert_refused_by_acl("plugin:dialog|open", invoke(&h, "plugin:dialog|open", json!({})));
    assert_refused_by_acl("plugin:dialog|save", invoke(&h, "plugin:dialog|save", json!({})));
    assert_refused_by_acl("plugin:dialog|message", invoke(&h, "plugin:dialog|message", json!({})));

    // Our own commands answer the main window only: another window of the app is not covered.
    assert!(invoke(&h, "repository_info", json!({})).is_ok());
    let other = tauri::WebviewWindowBuilder::new(h.window.app_handle(), "other", tauri::WebviewUrl::default()).build().unwrap();
    assert_refused_by_acl("repository_info from the window \"other\"", invoke_from(&other, "repository_info", json!({})));
}

/// The project's fixtures (scripts/fixtures.sh), built here when this test runs before them.
fn fixture(name: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("IMAGESMITH_FIXTURES").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target/fixtures"));
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        if !dir.join(".stamp").is_file() {
            let ok = std::process::Command::new(root.join("scripts/fixtures.sh")).arg(&dir).status().expect("scripts/fixtures.sh runs");
            assert!(ok.success(), "scripts/fixtures.sh failed");
        }
    });
    let path = dir.join(name);
    assert!(path.is_file(), "fixture {name} is missing from {}", dir.display());
    path
}

/// A library to compose from: a RHEL image, a Linux driver disk, a kickstart, a script, and a
/// Windows driver that must not fit a RHEL profile.
fn library(h: &Harness) {
    use imagesmith_engine::{CancelToken, ImportItem, ImportRequest};
    let items = ["rhel-9.6-x86_64-dvd.iso", "dud-kmod-example.iso", "ks.cfg", "autoyast.xml", "post-install.sh", "win-nic-driver.zip"]
        .iter()
        .map(|n| ImportItem { path: fixture(n), ..Default::default() })
        .collect();
    let report =
        h.engine.import(&ImportRequest { items, checksum_files: vec![], ..Default::default() }, &CancelToken::new(), &|_| {}).unwrap();
    assert!(report.items.iter().all(|i| i.error.is_none()), "{report:?}");
}

#[test]
fn the_release_filter_lists_the_exact_os_releases_the_library_holds() {
    let h = harness();
    assert_eq!(invoke(&h, "list_os_releases", json!({})).unwrap(), json!([]));
    // A RHEL DVD among files with no exact OS (a driver disk, answer files, a script, a zip).
    library(&h);
    let releases = invoke(&h, "list_os_releases", json!({})).unwrap();
    assert_eq!(releases, json!([{"os_id": "rhel9.6", "os_name": "Red Hat Enterprise Linux 9.6", "count": 1}]));
}

fn member_names(p: &Value) -> Vec<String> {
    p["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{} {}", m["role"].as_str().unwrap(), m["artifact"]["name"].as_str().unwrap()))
        .collect()
}

fn wait_for_job(h: &Harness, id: i64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let detail = invoke(h, "get_job", json!({"jobId": id})).unwrap();
        let state = detail["state"].as_str().unwrap().to_string();
        if !["queued", "running"].contains(&state.as_str()) {
            return detail;
        }
        assert!(std::time::Instant::now() < deadline, "job {id} did not finish: {detail}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_profile_is_composed_through_the_commands_and_refuses_what_does_not_fit() {
    let h = harness();
    library(&h);
    let p =
        invoke(&h, "create_profile", json!({"name": "rhel9-web", "base": "rhel-9.6-x86_64-dvd.iso", "description": "RHEL 9 web"})).unwrap();
    assert_eq!(p["base"]["name"], "rhel-9.6-x86_64-dvd.iso");
    assert_eq!(p["os"], "linux");
    let err = invoke(&h, "create_profile", json!({"name": "RHEL9-WEB", "base": "rhel-9.6-x86_64-dvd.iso", "description": ""})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "name_taken");

    let p =
        invoke(&h, "add_to_profile", json!({"profile": "rhel9-web", "artifacts": ["dud-kmod-example.iso", "ks.cfg", "post-install.sh"]}))
            .unwrap();
    assert_eq!(member_names(&p), ["custom post-install.sh", "driver dud-kmod-example.iso", "unattend ks.cfg"]);
    for (artifact, hint) in [("win-nic-driver.zip", "is for windows"), ("autoyast.xml", "already has an answer file (ks.cfg)")] {
        let err = invoke(&h, "add_to_profile", json!({"profile": "rhel9-web", "artifacts": [artifact]})).unwrap_err();
        assert_error_shape(&err);
        assert_eq!(err["code"], "unsupported_type", "{artifact}");
        assert!(err["text"].as_str().unwrap().contains(hint), "{artifact}: {err}");
    }
    let p = invoke(&h, "remove_from_profile", json!({"profile": "rhel9-web", "artifacts": ["post-install.sh"]})).unwrap();
    assert_eq!(p["members"].as_array().unwrap().len(), 2);

    let p = invoke(
        &h,
        "set_profile_options",
        json!({"profile": "rhel9-web", "options": {"hostname": "web01", "timezone": "UTC", "ntp": "pool.ntp.org"}}),
    )
    .unwrap();
    assert_eq!(p["options"], json!({"hostname": "web01", "ntp": "pool.ntp.org", "timezone": "UTC"}));
    let p = invoke(&h, "set_profile_options", json!({"profile": "rhel9-web", "options": {"ntp": ""}})).unwrap();
    assert_eq!(p["options"], json!({"hostname": "web01", "timezone": "UTC"}), "an empty value removes the option");
    let err = invoke(&h, "set_profile_options", json!({"profile": "rhel9-web", "options": {"bad key!": "x"}})).unwrap_err();
    assert_eq!(err["code"], "invalid_argument");

    let p = invoke(&h, "update_profile", json!({"profile": "rhel9-web", "name": "rhel9-app", "description": null})).unwrap();
    assert_eq!((p["name"].as_str(), p["description"].as_str()), (Some("rhel9-app"), Some("RHEL 9 web")));
    assert_eq!(invoke(&h, "free_profile_name", json!({"name": "rhel9-app"})).unwrap(), json!("rhel9-app (2)"));
    let c = invoke(&h, "clone_profile", json!({"profile": "rhel9-app", "newName": "rhel9-app (2)"})).unwrap();
    assert_eq!(member_names(&c), member_names(&p));
    assert_eq!(c["options"], p["options"]);
    let names: Vec<Value> = invoke(&h, "list_profiles", json!({})).unwrap().as_array().unwrap().iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, [json!("rhel9-app"), json!("rhel9-app (2)")]);

    // a member cannot leave the library while a profile uses it; the refusal names the profiles
    let ks = invoke(&h, "get_artifact", json!({"idOrName": "ks.cfg"})).unwrap();
    let err = invoke(&h, "delete_artifact", json!({"id": ks["id"]})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "in_use");
    assert!(err["text"].as_str().unwrap().contains("rhel9-app, rhel9-app (2)"), "{err}");

    invoke(&h, "delete_profile", json!({"profile": "rhel9-app (2)"})).unwrap();
    invoke(&h, "delete_profile", json!({"profile": "rhel9-app"})).unwrap();
    assert_eq!(invoke(&h, "list_profiles", json!({})).unwrap(), json!([]));
    invoke(&h, "delete_artifact", json!({"id": ks["id"]})).expect("free to go once no profile uses it");
    let err = invoke(&h, "get_profile", json!({"profile": "rhel9-app"})).unwrap_err();
    assert_eq!(err["code"], "not_found");
}

#[test]
fn export_and_import_run_as_jobs_and_answer_with_the_job_id() {
    let h = harness();
    library(&h);
    invoke(&h, "create_profile", json!({"name": "rhel9-web", "base": "rhel-9.6-x86_64-dvd.iso", "description": ""})).unwrap();
    invoke(&h, "add_to_profile", json!({"profile": "rhel9-web", "artifacts": ["dud-kmod-example.iso", "ks.cfg"]})).unwrap();
    let out = h.dir.path().join("exports");
    std::fs::create_dir(&out).unwrap();
    let channels = json!({"onProgress": "__CHANNEL__:1", "onReport": "__CHANNEL__:2"});

    // a folder nobody chose in the app's dialog is refused, however it exists: nothing is written
    let jq = json!({"query": {"state": null, "kind": null, "before_id": null, "limit": 50}});
    let jobs_before = invoke(&h, "count_jobs", jq.clone()).unwrap();
    let mut args = json!({"request": {"profile": "rhel9-web", "dir": out, "include_os": false}});
    args.as_object_mut().unwrap().extend(channels.as_object().unwrap().clone());
    let err = invoke(&h, "export_profile", args).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_chosen", "{err}");
    assert!(std::fs::read_dir(&out).unwrap().next().is_none());
    assert_eq!(invoke(&h, "count_jobs", jq).unwrap(), jobs_before, "no job for a refusal");
    chosen(&h, &[&out]);

    // a folder that does not exist is refused before any job is recorded
    let mut args = json!({"request": {"profile": "rhel9-web", "dir": out.join("missing"), "include_os": false}});
    args.as_object_mut().unwrap().extend(channels.as_object().unwrap().clone());
    let err = invoke(&h, "export_profile", args).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "file_not_found");

    let mut args = json!({"request": {"profile": "rhel9-web", "dir": out, "include_os": false}});
    args.as_object_mut().unwrap().extend(channels.as_object().unwrap().clone());
    let id = invoke(&h, "export_profile", args).unwrap().as_i64().expect("a job id");
    let detail = wait_for_job(&h, id);
    assert_eq!(detail["kind"], "export");
    assert_eq!(detail["state"], "succeeded", "{detail}");
    assert!(out.join("rhel9-web.tar.gz").is_file());
    let check = std::process::Command::new("sha256sum").arg("-c").arg("rhel9-web.tar.gz.sha256").current_dir(&out).output().unwrap();
    assert!(check.status.success(), "sha256sum -c: {}", String::from_utf8_lossy(&check.stdout));

    let mut args = json!({"archive": out.join("rhel9-web.tar.gz"), "name": null});
    args.as_object_mut().unwrap().extend(channels.as_object().unwrap().clone());
    let id = invoke(&h, "import_profile", args).unwrap().as_i64().expect("a job id");
    let detail = wait_for_job(&h, id);
    assert_eq!(detail["kind"], "profile_import");
    assert_eq!(detail["state"], "succeeded", "{detail}");
    let copy = invoke(&h, "get_profile", json!({"profile": "rhel9-web (2)"})).unwrap();
    assert_eq!(member_names(&copy), ["driver dud-kmod-example.iso", "unattend ks.cfg"]);

    // an archive elsewhere is refused until chosen
    let elsewhere = h.dir.path().join("elsewhere.tar.gz");
    std::fs::copy(out.join("rhel9-web.tar.gz"), &elsewhere).unwrap();
    let mut args = json!({"archive": elsewhere, "name": null});
    args.as_object_mut().unwrap().extend(channels.as_object().unwrap().clone());
    assert_eq!(invoke(&h, "import_profile", args).unwrap_err()["code"], "not_chosen");

    let mut args = json!({"archive": out.join("nothing-here.tar.gz"), "name": null});
    args.as_object_mut().unwrap().extend(channels.as_object().unwrap().clone());
    let err = invoke(&h, "import_profile", args).unwrap_err();
    assert_error_shape(&err);
}

#[test]
fn cloud_accounts_are_added_listed_and_removed_and_secrets_are_asked_for() {
    let h = harness();
    assert_eq!(invoke(&h, "list_targets", json!({})).unwrap(), json!([]));
    let lab = json!({"name": "lab", "auth": "none", "auth_url": null, "image_url": "http://127.0.0.1:9/", "region": null, "interface": null,
        "username": null, "user_domain": null, "project": null, "project_domain": null, "application_credential_id": null});
    let added = invoke(&h, "add_target", json!({"spec": lab, "secret": null})).unwrap();
    assert_eq!(added["target"]["name"], "lab");
    assert_eq!(added["secret_stored"], false);
    let err = invoke(&h, "add_target", json!({"spec": lab, "secret": null})).unwrap_err();
    assert_error_shape(&err);

    // a Keystone account saved without its password: every call that signs in asks for it
    let ks = json!({"name": "ks", "auth": "password", "auth_url": "http://127.0.0.1:9/v3", "image_url": null, "region": null, "interface": null,
        "username": "demo", "user_domain": null, "project": "demo", "project_domain": null, "application_credential_id": null});
    let added = invoke(&h, "add_target", json!({"spec": ks, "secret": null})).unwrap();
    assert_eq!(added["target"]["user_domain"], "Default");
    let err = invoke(&h, "test_target", json!({"name": "ks", "secret": null})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "secret_required");
    // given once, the password is used (nothing listens on port 9: the cloud is unreachable, not the secret missing)
    let err = invoke(&h, "test_target", json!({"name": "ks", "secret": "demopw"})).unwrap_err();
    assert_error_shape(&err);
    assert_ne!(err["code"], "secret_required");
    let err = invoke(&h, "test_target", json!({"name": "lab", "secret": null})).unwrap_err();
    assert_error_shape(&err);
    assert_ne!(err["code"], "secret_required", "a no-auth Glance needs no secret");

    let names: Vec<Value> = invoke(&h, "list_targets", json!({})).unwrap().as_array().unwrap().iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names, [json!("ks"), json!("lab")]);
    assert_eq!(invoke(&h, "remove_target", json!({"name": "ks"})).unwrap()["name"], "ks");
    let err = invoke(&h, "remove_target", json!({"name": "ks"})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_found");

    let err = invoke(&h, "remember_secret", json!({"owner": "printer", "name": "lab", "secret": "x"})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "invalid_argument");
}

#[test]
fn publish_refusals_come_back_before_any_job_and_publications_start_empty() {
    let h = harness();
    library(&h);
    let ks = json!({"name": "ks", "auth": "password", "auth_url": "http://127.0.0.1:9/v3", "image_url": null, "region": null, "interface": null,
        "username": "demo", "user_domain": null, "project": "demo", "project_domain": null, "application_credential_id": null});
    invoke(&h, "add_target", json!({"spec": ks, "secret": null})).unwrap();
    let options = json!({"name": null, "visibility": "private", "disk_format": null, "container_format": null, "no_convert": false, "min_disk_gb": null,
        "min_ram_mb": null, "tags": [], "protected": false, "properties": {}});
    let request = json!({"artifacts": ["rhel-9.6-x86_64-dvd.iso"], "target": "ks", "options": options});

    let err = invoke(&h, "plan_publish", json!({"request": request, "secret": null})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "secret_required");
    let err = invoke(
        &h,
        "plan_publish",
        json!({"request": {"artifacts": ["rhel-9.6-x86_64-dvd.iso"], "target": "nope", "options": options}, "secret": null}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "not_found");

    let args = json!({"request": request, "secret": null, "onProgress": "__CHANNEL__:1", "onReport": "__CHANNEL__:2"});
    let err = invoke(&h, "publish", args).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "secret_required", "the window asks for the password and calls again");
    let jq = json!({"query": {"state": null, "kind": "publish", "before_id": null, "limit": 50}});
    assert_eq!(invoke(&h, "list_jobs", jq).unwrap(), json!([]), "no job was recorded for a refused publish");

    assert_eq!(invoke(&h, "list_publications", json!({"artifact": null})).unwrap(), json!([]));
    assert_eq!(invoke(&h, "list_publications", json!({"artifact": "rhel-9.6-x86_64-dvd.iso"})).unwrap(), json!([]));
    for cmd in ["refresh_publication", "unpublish"] {
        let err = invoke(&h, cmd, json!({"id": 404, "secret": null})).unwrap_err();
        assert_error_shape(&err);
        assert_eq!(err["code"], "not_found", "{cmd}");
    }
}

#[test]
fn file_servers_are_saved_without_connecting_and_ask_for_what_they_need() {
    let h = harness();
    assert_eq!(invoke(&h, "list_servers", json!({})).unwrap(), json!([]));
    let dav = json!({"name": "dav", "protocol": "webdav", "host": "127.0.0.1", "port": 9, "path": "/exports", "user": "davuser", "key_file": null, "host_key_fingerprint": null});
    let added = invoke(&h, "add_server", json!({"spec": dav, "secret": null})).unwrap();
    assert_eq!(added["server"]["url"], "http://davuser@127.0.0.1:9/exports");
    assert_eq!(added["server"]["secret_in_keyring"], false);
    assert_eq!(added["keyring_error"], Value::Null);
    let err = invoke(&h, "test_server", json!({"name": "dav", "secret": null})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "secret_required");
    let err = invoke(&h, "test_server", json!({"name": "dav", "secret": "davpass"})).unwrap_err();
    assert_error_shape(&err);
    assert_ne!(err["code"], "secret_required", "the password given once is used");
    let err = invoke(&h, "trust_host_key", json!({"name": "dav", "fingerprint": format!("SHA256:{}", "A".repeat(43))})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "invalid_argument", "only sftp servers have host keys");
    let err = invoke(&h, "probe_host_key", json!({"host": "127.0.0.1", "port": 9})).unwrap_err();
    assert_error_shape(&err);

    let args = json!({"request": {"profile": "nope", "server": "dav", "path": null, "include_os": false}, "secret": null,
        "onProgress": "__CHANNEL__:1", "onReport": "__CHANNEL__:2"});
    let err = invoke(&h, "export_profile_to_server", args).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_found");

    assert_eq!(invoke(&h, "remove_server", json!({"name": "dav"})).unwrap()["name"], "dav");
    assert_eq!(invoke(&h, "list_servers", json!({})).unwrap(), json!([]));
}

#[test]
fn a_host_key_is_trusted_only_after_a_yes_in_the_native_confirmation() {
    let fp = format!("SHA256:{}", "Q".repeat(43));
    let sftp = json!({"name": "depot", "protocol": "sftp", "host": "127.0.0.1", "port": 9, "path": "/srv", "user": "deploy", "key_file": null, "host_key_fingerprint": null});
    for yes in [false, true] {
        let answers = Arc::new(Answers { yes, asked: Default::default(), folder: None, file: None });
        let h = harness_answering(Some(answers.clone()));
        invoke(&h, "add_server", json!({"spec": sftp, "secret": null})).unwrap();
        let answer = invoke(&h, "trust_host_key", json!({"name": "depot", "fingerprint": fp}));
        let asked = answers.asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "the person was asked once");
        assert!(asked[0].contains(&fp) && asked[0].contains("depot"), "the question shows the server and the key: {}", asked[0]);
        let servers = invoke(&h, "list_servers", json!({})).unwrap();
        if yes {
            assert_eq!(answer.unwrap()["host_key_fingerprint"], fp.as_str());
            assert_eq!(servers[0]["host_key_fingerprint"], fp.as_str());
        } else {
            let err = answer.unwrap_err();
            assert_error_shape(&err);
            assert_eq!(err["code"], "cancelled");
            assert!(servers[0]["host_key_fingerprint"].is_null(), "page script alone trusts nothing: {servers}");
        }
    }
}

#[test]
fn verify_runs_as_a_job_for_one_artifact_or_the_whole_repository() {
    let h = harness();
    library(&h);
    for artifacts in [json!(["ks.cfg"]), json!([])] {
        let id =
            invoke(&h, "start_verify", json!({"artifacts": artifacts, "onProgress": "__CHANNEL__:1"})).unwrap().as_i64().expect("a job id");
        let detail = wait_for_job(&h, id);
        assert_eq!(detail["kind"], "verify");
        assert_eq!(detail["state"], "succeeded", "{detail}");
        let items = detail["items"].as_array().unwrap();
        assert_eq!(items.len(), if artifacts.as_array().unwrap().is_empty() { 6 } else { 1 }, "{detail}");
        assert!(items.iter().all(|i| i["outcome"] == "verified"), "{detail}");
    }
    let err = invoke(&h, "start_verify", json!({"artifacts": ["no-such-file"], "onProgress": "__CHANNEL__:1"})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_found", "refused before any job: {err}");
}

/// A small software home: files, a subfolder, a symlink, an executable.
fn small_home(at: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(at.join("bin")).unwrap();
    std::fs::write(at.join("README"), "a small home\n").unwrap();
    std::fs::write(at.join("bin/run.sh"), "#!/bin/sh\necho run\n").unwrap();
    std::fs::set_permissions(at.join("bin/run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("bin/run.sh", at.join("run")).unwrap();
}

#[test]
fn a_gold_image_is_captured_promoted_provisioned_and_checked_through_the_commands() {
    let folder = tempfile::tempdir().unwrap();
    let answers = Arc::new(Answers { yes: true, asked: Default::default(), folder: Some(folder.path().join("copy")), file: None });
    let h = harness_answering(Some(answers.clone()));
    let home = h.dir.path().join("app-home");
    small_home(&home);
    let channels = json!({"onProgress": "__CHANNEL__:1", "onReport": "__CHANNEL__:2"});
    let with_channels = |mut args: Value| {
        args.as_object_mut().unwrap().extend(channels.as_object().unwrap().clone());
        args
    };
    let jq = json!({"query": {"state": null, "kind": null, "before_id": null, "limit": 50}});

    // a folder nobody chose or dropped is neither read nor captured, and no job is recorded
    let err = invoke(&h, "plan_capture", json!({"from": home})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_chosen", "{err}");
    let request =
        json!({"name": "app-1.0", "from": home, "image_type": "software", "series": "app", "version": "1.0", "description": "first"});
    let err = invoke(&h, "start_capture", with_channels(json!({"request": request}))).unwrap_err();
    assert_eq!(err["code"], "not_chosen", "{err}");
    assert_eq!(invoke(&h, "count_jobs", jq.clone()).unwrap(), json!(0), "no job for a refusal");

    chosen(&h, &[&home]);
    let plan = invoke(&h, "plan_capture", json!({"from": home})).unwrap();
    assert_eq!((plan["files"].as_u64(), plan["dirs"].as_u64(), plan["symlinks"].as_u64()), (Some(2), Some(1), Some(1)), "{plan}");
    let id = invoke(&h, "start_capture", with_channels(json!({"request": request}))).unwrap().as_i64().expect("a job id");
    let detail = wait_for_job(&h, id);
    assert_eq!(detail["kind"], "capture");
    assert_eq!(detail["state"], "succeeded", "{detail}");

    let images = invoke(&h, "list_gold", json!({})).unwrap();
    assert_eq!(images.as_array().unwrap().len(), 1, "{images}");
    let image = &images[0];
    assert_eq!(
        (image["name"].as_str(), image["state"].as_str(), image["series"].as_str()),
        (Some("app-1.0"), Some("testable"), Some("app"))
    );
    assert_eq!(image["current"], true, "the first image of a new series is its current one");
    let files = invoke(&h, "gold_files", json!({"name": "app-1.0"})).unwrap();
    let paths: Vec<&str> = files.as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["README", "bin", "bin/run.sh", "run"]);
    assert_eq!(files[3]["kind"], "symlink");
    assert_eq!(files[3]["target"], "bin/run.sh");
    assert_eq!(files[2]["mode"], 0o755);
    let series = invoke(&h, "list_series", json!({})).unwrap();
    assert_eq!(series[0]["current"], "app-1.0", "{series}");

    // a testable image is provisioned only when the person confirmed it (allow_unpublished)
    let chosen_dir = invoke(&h, "choose_gold_folder", json!({"purpose": "provision"})).unwrap();
    let copy = folder.path().join("copy");
    assert_eq!(chosen_dir, json!(copy.display().to_string()));
    let err =
        invoke(&h, "start_provision", with_channels(json!({"request": {"image": "app-1.0", "to": copy, "allow_unpublished": false}})))
            .unwrap_err();
    assert_eq!(err["code"], "not_published", "{err}");
    let promoted = invoke(&h, "promote_gold", json!({"name": "app-1.0", "to": "published"})).unwrap();
    assert_eq!(promoted["state"], "published");

    // provisioning into a folder nobody chose is refused; into the chosen one it runs as a job
    let elsewhere = h.dir.path().join("elsewhere");
    let err =
        invoke(&h, "start_provision", with_channels(json!({"request": {"image": "app-1.0", "to": elsewhere, "allow_unpublished": false}})))
            .unwrap_err();
    assert_eq!(err["code"], "not_chosen", "{err}");
    assert!(!elsewhere.exists());
    let id = invoke(&h, "start_provision", with_channels(json!({"request": {"image": "app-1.0", "to": copy, "allow_unpublished": false}})))
        .unwrap()
        .as_i64()
        .expect("a job id");
    let detail = wait_for_job(&h, id);
    assert_eq!(detail["kind"], "provision");
    assert_eq!(detail["state"], "succeeded", "{detail}");
    assert_eq!(std::fs::read_link(copy.join("run")).unwrap(), std::path::Path::new("bin/run.sh"));
    let copies = invoke(&h, "list_working_copies", json!({"image": "app-1.0"})).unwrap();
    assert_eq!(copies.as_array().unwrap().len(), 1, "{copies}");

    // the next provision dialog opens beside the last working copy
    invoke(&h, "choose_gold_folder", json!({"purpose": "provision"})).unwrap();
    let asked = answers.asked.lock().unwrap().clone();
    assert!(asked.last().unwrap().ends_with(&format!("starts in {}", folder.path().display())), "{asked:?}");

    // drift: a changed file and an added one
    let drift = invoke(&h, "check_copy", json!({"path": copy})).unwrap();
    assert_eq!(drift, json!({"changed": [], "added": [], "removed": [], "mode_changed": []}));
    std::fs::write(copy.join("README"), "edited\n").unwrap();
    std::fs::write(copy.join("NEW"), "new\n").unwrap();
    let drift = invoke(&h, "check_copy", json!({"path": copy})).unwrap();
    assert_eq!(drift["changed"], json!(["README"]));
    assert_eq!(drift["added"], json!(["NEW"]));
    // a folder the catalog does not record as a working copy is not read
    let err = invoke(&h, "check_copy", json!({"path": home})).unwrap_err();
    assert_eq!(err["code"], "not_found", "{err}");

    // archive and delete are refused while the copy exists, naming it; forgotten, delete goes through
    for cmd in ["archive_gold", "delete_gold"] {
        let err = invoke(&h, cmd, json!({"name": "app-1.0"})).unwrap_err();
        assert_error_shape(&err);
        assert_eq!(err["code"], "in_use", "{cmd}: {err}");
        assert!(err["text"].as_str().unwrap().contains(&copy.display().to_string()), "{err}");
    }
    invoke(&h, "forget_copy", json!({"path": copy})).unwrap();

    // a second version in the series, diffed against the first
    std::fs::write(home.join("README"), "a small home, version 2\n").unwrap();
    let request = json!({"name": "app-2.0", "from": home, "image_type": "software", "series": "app", "version": "2.0", "description": ""});
    let id = invoke(&h, "start_capture", with_channels(json!({"request": request}))).unwrap().as_i64().unwrap();
    assert_eq!(wait_for_job(&h, id)["state"], "succeeded");
    let diff = invoke(&h, "diff_gold", json!({"from": "app-1.0", "to": "app-2.0"})).unwrap();
    assert_eq!(diff["changed"], json!(["README"]));
    let series = invoke(&h, "set_series_current", json!({"series": "app", "image": "app-2.0"})).unwrap();
    assert_eq!(series["current"], "app-2.0");
    assert_eq!(invoke(&h, "archive_gold", json!({"name": "app-1.0"})).unwrap()["state"], "archived");
    assert_eq!(invoke(&h, "unarchive_gold", json!({"name": "app-1.0"})).unwrap()["state"], "testable");
    invoke(&h, "delete_gold", json!({"name": "app-1.0"})).unwrap();
    let names: Vec<String> =
        invoke(&h, "list_gold", json!({})).unwrap().as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["app-2.0"]);
    assert_eq!(invoke(&h, "get_gold", json!({"name": "app-1.0"})).unwrap_err()["code"], "not_found");
}

#[test]
fn a_gold_image_goes_out_as_an_archive_and_comes_back_through_the_commands() {
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("app-1.0.zip");
    // the archive as it arrives elsewhere (a folder the export dialog did not grant)
    let incoming = tempfile::tempdir().unwrap();
    let arrived = incoming.path().join("app-1.0.zip");
    let answers =
        Arc::new(Answers { yes: true, asked: Default::default(), folder: Some(out.path().to_path_buf()), file: Some(arrived.clone()) });
    let h = harness_answering(Some(answers.clone()));
    let home = h.dir.path().join("app-home");
    small_home(&home);
    let with_channels = |mut args: Value| {
        args.as_object_mut()
            .unwrap()
            .extend(json!({"onProgress": "__CHANNEL__:1", "onReport": "__CHANNEL__:2"}).as_object().unwrap().clone());
        args
    };
    let jq = json!({"query": {"state": null, "kind": null, "before_id": null, "limit": 50}});

    // what was dropped: the folder alone is a folder, a file a file; what nobody dropped is not looked at
    chosen(&h, &[&home]);
    assert_eq!(
        invoke(&h, "path_kinds", json!({"paths": [home, home.join("README"), home.join("run")]})).unwrap(),
        json!(["folder", "file", "other"])
    );
    let err = invoke(&h, "path_kinds", json!({"paths": ["/etc"]})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_chosen", "{err}");

    let request = json!({"name": "app-1.0", "from": home, "image_type": "software", "series": "app", "version": "1.0", "description": ""});
    let id = invoke(&h, "start_capture", with_channels(json!({"request": request}))).unwrap().as_i64().unwrap();
    assert_eq!(wait_for_job(&h, id)["state"], "succeeded");
    let jobs_before = invoke(&h, "count_jobs", jq.clone()).unwrap();

    // an export into a folder nobody chose is refused before any job
    let err = invoke(&h, "start_gold_export", with_channels(json!({"request": {"image": "app-1.0", "dir": out.path(), "format": "zip"}})))
        .unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_chosen", "{err}");
    assert_eq!(invoke(&h, "count_jobs", jq.clone()).unwrap(), jobs_before, "no job for a refusal");

    // the folder from the export dialog: zip when asked, tar.gz when no format is named
    assert_eq!(
        invoke(&h, "choose_folder", json!({"title": "Export app-1.0 to a folder"})).unwrap(),
        json!(out.path().display().to_string())
    );
    let id = invoke(&h, "start_gold_export", with_channels(json!({"request": {"image": "app-1.0", "dir": out.path(), "format": "zip"}})))
        .unwrap()
        .as_i64()
        .expect("a job id");
    let detail = wait_for_job(&h, id);
    assert_eq!(detail["kind"], "export");
    assert_eq!(detail["state"], "succeeded", "{detail}");
    assert!(zip.is_file(), "{detail}");
    let id = invoke(&h, "start_gold_export", with_channels(json!({"request": {"image": "app-1.0", "dir": out.path()}})))
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(wait_for_job(&h, id)["state"], "succeeded");
    for archive in ["app-1.0.zip", "app-1.0.tar.gz"] {
        let check =
            std::process::Command::new("sha256sum").arg("-c").arg(format!("{archive}.sha256")).current_dir(out.path()).output().unwrap();
        assert!(check.status.success(), "sha256sum -c {archive}.sha256: {}", String::from_utf8_lossy(&check.stdout));
    }

    // an import of an archive nobody chose is refused; the one from the file dialog comes back
    std::fs::copy(&zip, &arrived).unwrap();
    let request = json!({"archive": arrived, "name": "app-1.0-back", "series": "app", "version": "1.0.1"});
    let err = invoke(&h, "start_gold_import", with_channels(json!({"request": request}))).unwrap_err();
    assert_eq!(err["code"], "not_chosen", "{err}");
    assert_eq!(invoke(&h, "choose_gold_archive", json!({})).unwrap(), json!(arrived.display().to_string()));
    assert!(answers.asked.lock().unwrap().iter().any(|a| a.starts_with("Import a gold image archive\nHome archives: tar.gz tgz zip")));
    let id = invoke(&h, "start_gold_import", with_channels(json!({"request": request}))).unwrap().as_i64().expect("a job id");
    let detail = wait_for_job(&h, id);
    assert_eq!(detail["kind"], "capture");
    assert_eq!(detail["state"], "succeeded", "{detail}");
    let back = invoke(&h, "get_gold", json!({"name": "app-1.0-back"})).unwrap();
    assert_eq!((back["series"].as_str(), back["version"].as_str()), (Some("app"), Some("1.0.1")), "{back}");
    let diff = invoke(&h, "diff_gold", json!({"from": "app-1.0", "to": "app-1.0-back"})).unwrap();
    assert_eq!(diff, json!({"changed": [], "added": [], "removed": [], "mode_changed": []}));

    // series from the details: out of one, into a new one, made current
    let series = invoke(&h, "remove_from_series", json!({"series": "app", "image": "app-1.0-back"})).unwrap();
    assert_eq!(series["images"].as_array().unwrap().len(), 1, "{series}");
    invoke(&h, "create_series", json!({"name": "app-next"})).unwrap();
    let series = invoke(&h, "add_to_series", json!({"series": "app-next", "image": "app-1.0-back"})).unwrap();
    assert_eq!(series["current"], "app-1.0-back", "{series}");
    let err = invoke(&h, "create_series", json!({"name": "app-next"})).unwrap_err();
    assert_error_shape(&err);
}

/// A small HTTP/1.1 server on 127.0.0.1 serving `files` (name, bytes) with GET, one connection at a
/// time, `Connection: close`, ignoring queries; answers 404 to anything else. Returns its base URL.
fn serve(files: Vec<(&'static str, Vec<u8>)>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).map(|n| n == 1).unwrap_or(false) {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            // A query (`/images?limit=1000`) is ignored, as a static file server ignores it.
            let target = head.split_whitespace().nth(1).unwrap_or("/");
            let path = target.split('?').next().unwrap_or_default().trim_start_matches('/').to_string();
            let answer = match files.iter().find(|(name, _)| *name == path) {
                Some((_, body)) => {
                    let mut a = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
                    a.extend_from_slice(body);
                    a
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = stream.write_all(&answer);
        }
    });
    base
}

#[test]
fn urls_are_checked_in_rust_and_imported_as_a_job_with_their_checksum_file_and_attributes() {
    let h = harness();
    let start = |request: Value| invoke(&h, "start_url_import", json!({"request": request, "onProgress": "__CHANNEL__:1"}));
    let attrs = json!({"name": null, "description": null, "version": null, "tags": null});
    // refused before any job: not http(s), nothing given, a checksum or an alias for several files
    for bad in ["ftp://example.org/x.iso", "file:///etc/hostname", "/etc/hostname", "javascript:alert(1)", "http://"] {
        let err = start(json!({"urls": [bad], "checksum": null, "attributes": attrs})).unwrap_err();
        assert_error_shape(&err);
        assert_eq!(err["code"], "invalid_argument", "{bad}: {err}");
    }
    let err = start(json!({"urls": ["  ", ""], "checksum": null, "attributes": attrs})).unwrap_err();
    assert_eq!(err["code"], "invalid_argument", "{err}");
    let two = json!(["http://127.0.0.1:9/a.sh", "http://127.0.0.1:9/b.sh"]);
    let err = start(json!({"urls": two, "checksum": format!("sha256:{}", "a".repeat(64)), "attributes": attrs})).unwrap_err();
    assert!(err["text"].as_str().unwrap().contains("one file"), "{err}");
    let err = start(json!({"urls": two, "checksum": null, "attributes": {"name": null, "description": null, "version": null, "tags": null, "alias": "x"}})).unwrap_err();
    assert!(err["text"].as_str().unwrap().contains("alias"), "{err}");
    let jq = json!({"query": {"state": null, "kind": null, "before_id": null, "limit": null}});
    assert_eq!(invoke(&h, "count_jobs", jq).unwrap(), json!(0), "no job for a refusal");

    // a script and the SHA256SUMS that covers it, from a real HTTP server
    let script = b"#!/bin/sh\necho provisioned from a URL\n".to_vec();
    let sha = {
        let file = h.dir.path().join("setup.sh");
        std::fs::write(&file, &script).unwrap();
        let out = std::process::Command::new("sha256sum").arg(&file).output().unwrap();
        String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
    };
    let base = serve(vec![("setup.sh", script.clone()), ("SHA256SUMS", format!("{sha}  setup.sh\n").into_bytes())]);
    let request = json!({
        "urls": [format!("{base}/setup.sh"), format!("{base}/SHA256SUMS")],
        "checksum": null,
        "attributes": {"name": null, "description": "first boot", "version": "2", "tags": ["lab"], "alias": "setup", "access": "public", "owner": "ops", "resize": null, "deploy": true},
    });
    let id = start(request).unwrap().as_i64().unwrap();
    let job = wait_for_job(&h, id);
    assert_eq!(job["state"], "succeeded", "{job}");
    let a = invoke(&h, "get_artifact", json!({"idOrName": "setup"})).unwrap();
    assert_eq!((a["alias"].as_str(), a["access"].as_str(), a["owner"].as_str()), (Some("setup"), Some("public"), Some("ops")), "{a}");
    assert_eq!(
        (a["deploy"].as_bool(), a["description"].as_str(), a["version"].as_str()),
        (Some(true), Some("first boot"), Some("2")),
        "{a}"
    );
    assert_eq!(a["source"]["kind"], "url");
    assert_eq!(a["source"]["url"], format!("{base}/setup.sh"));
    assert_eq!(a["sha256"], sha);
    let from: Vec<String> = a["verification"].as_array().unwrap().iter().map(|v| v["source_file"].to_string()).collect();
    assert!(from.iter().any(|f| f.contains("SHA256SUMS")), "verified against the fetched SHA256SUMS: {from:?}");
    // the fetched checksum file is gone from downloads/ once the job was built
    let sums_dir = imagesmith_engine::download::download_dir(&h.engine.layout().downloads(), &format!("{base}/SHA256SUMS"));
    assert!(!sums_dir.exists(), "{} is left behind", sums_dir.display());

    // a wrong pasted checksum fails the item with checksum_mismatch and stores nothing new
    let id = start(json!({"urls": [format!("{base}/setup.sh")], "checksum": format!("sha256:{}", "0".repeat(64)), "attributes": attrs}))
        .unwrap();
    let job = wait_for_job(&h, id.as_i64().unwrap());
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["items"][0]["error"]["code"], "checksum_mismatch", "{job}");
}

#[test]
fn image_store_commands_refuse_bad_urls_unchosen_keys_and_empty_choices_before_any_job() {
    let file = std::env::temp_dir().join(format!("imagesmith-ipc-notakey-{}.asc", std::process::id()));
    std::fs::write(&file, "this is not an OpenPGP key\n").unwrap();
    let answers = Arc::new(Answers { yes: true, asked: Default::default(), folder: None, file: Some(file.clone()) });
    let h = harness_answering(Some(answers.clone()));
    let add = |spec: Value| invoke(&h, "add_store", json!({"spec": spec}));
    // URLs are checked in Rust: anything but http(s) with a host is refused
    for bad in ["ftp://example.org/", "file:///etc", "/srv/images", "javascript:alert(1)", "http://"] {
        let err = add(json!({"name": "s", "url": bad, "kind": "imgapi", "key_file": null})).unwrap_err();
        assert_error_shape(&err);
        assert_eq!(err["code"], "invalid_argument", "{bad}: {err}");
    }
    // a key file the page names but the person did not choose is never read
    let err = add(json!({"name": "s", "url": "http://127.0.0.1:9/", "kind": "simplestreams", "key_file": "/etc/passwd"})).unwrap_err();
    assert_eq!(err["code"], "not_chosen", "{err}");
    // chosen in the native dialog: read, and refused because it is not a key
    let chosen = invoke(&h, "choose_signing_key", json!({})).unwrap();
    assert_eq!(chosen.as_str(), Some(file.to_str().unwrap()));
    assert!(answers.asked.lock().unwrap().iter().any(|a| a.contains("OpenPGP public keys")), "the key dialog filters keys");
    let err = add(json!({"name": "s", "url": "http://127.0.0.1:9/", "kind": "simplestreams", "key_file": chosen})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "invalid_content", "{err}");
    assert_eq!(invoke(&h, "list_stores", json!({})).unwrap(), json!([]), "nothing saved");
    // unknown stores
    for (cmd, args) in [
        ("test_store", json!({"name": "nope"})),
        ("remove_store", json!({"name": "nope"})),
        ("store_images", json!({"name": "nope", "search": null, "os": null})),
    ] {
        let err = invoke(&h, cmd, args).unwrap_err();
        assert_eq!(err["code"], "not_found", "{cmd}: {err}");
    }
    let attrs = json!({"name": null, "description": null, "version": null, "tags": null});
    let start = |request: Value| invoke(&h, "start_store_import", json!({"request": request, "onProgress": "__CHANNEL__:1"}));
    let err = start(json!({"store": "nope", "ids": [" "], "attributes": attrs})).unwrap_err();
    assert_eq!(err["code"], "invalid_argument", "no image chosen: {err}");
    let alias = json!({"name": null, "description": null, "version": null, "tags": null, "alias": "x"});
    let err = start(json!({"store": "nope", "ids": ["a", "b"], "attributes": alias})).unwrap_err();
    assert!(err["text"].as_str().unwrap().contains("alias"), "{err}");
    let err = start(json!({"store": "nope", "ids": ["a"], "attributes": attrs})).unwrap_err();
    assert_eq!(err["code"], "not_found", "{err}");
    let manifest = |request: Value| invoke(&h, "start_manifest_import", json!({"request": request, "onProgress": "__CHANNEL__:1"}));
    for (m, f) in [("file:///etc/hostname", None), ("ftp://h/images/u", None), ("http://127.0.0.1:9/images/u", Some("file:///etc/shadow"))]
    {
        let err = manifest(json!({"manifest_url": m, "file_url": f, "attributes": attrs})).unwrap_err();
        assert_eq!(err["code"], "invalid_argument", "{m} {f:?}: {err}");
    }
    let jq = json!({"query": {"state": null, "kind": null, "before_id": null, "limit": null}});
    assert_eq!(invoke(&h, "count_jobs", jq).unwrap(), json!(0), "no job for a refusal");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn an_imgapi_store_is_browsed_and_an_image_imported_as_a_job_then_marked_in_library() {
    let h = harness();
    const UUID: &str = "2b683a82-a066-11e3-97ab-2faa44701c5a";
    let body = b"#!/bin/sh\necho from an image store\n".to_vec();
    let sha1 = {
        let file = h.dir.path().join("file");
        std::fs::write(&file, &body).unwrap();
        let out = std::process::Command::new("sha1sum").arg(&file).output().unwrap();
        String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
    };
    let manifest = json!({"v": 2, "uuid": UUID, "name": "firstboot", "version": "1.0", "public": true, "os": "linux", "type": "other",
        "published_at": "2026-11-20T10:00:00Z", "description": "a first-boot script",
        "files": [{"sha1": sha1, "size": body.len(), "compression": "none"}]});
    let other_body = b"#!/bin/sh\necho after the install\n".to_vec();
    let other_sha1 = {
        let file = h.dir.path().join("other");
        std::fs::write(&file, &other_body).unwrap();
        let out = std::process::Command::new("sha1sum").arg(&file).output().unwrap();
        String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
    };
    let other = json!({"uuid": "c02a2044-c1bd-11e4-bd8c-dfc1db8b0182", "name": "postinstall", "version": "2", "public": false,
        "files": [{"sha1": other_sha1, "size": other_body.len()}]});
    let base = serve(vec![
        ("images", serde_json::to_vec(&json!([manifest])).unwrap()),
        ("images/2b683a82-a066-11e3-97ab-2faa44701c5a", manifest.to_string().into_bytes()),
        ("images/2b683a82-a066-11e3-97ab-2faa44701c5a/file", body),
        ("other.json", other.to_string().into_bytes()),
        ("other.sh", other_body),
    ]);
    let store = invoke(&h, "add_store", json!({"spec": {"name": "lab", "url": base, "kind": null, "key_file": null}})).unwrap();
    assert_eq!((store["kind"].as_str(), store["key_fingerprint"].as_str()), (Some("imgapi"), None), "found out: {store}");
    assert_eq!(invoke(&h, "test_store", json!({"name": "lab"})).unwrap()["images"], 1);
    let images = invoke(&h, "store_images", json!({"name": "lab", "search": "  ", "os": "linux"})).unwrap();
    assert_eq!(images[0]["id"], UUID, "{images}");
    assert_eq!(images[0]["in_library"], Value::Null);
    assert_eq!(invoke(&h, "store_images", json!({"name": "lab", "search": "windows", "os": null})).unwrap(), json!([]));
    let attrs = json!({"name": null, "description": null, "version": null, "tags": ["lab"], "alias": "fb", "access": "public"});
    let id = invoke(
        &h,
        "start_store_import",
        json!({"request": {"store": "lab", "ids": [UUID], "attributes": attrs}, "onProgress": "__CHANNEL__:1"}),
    )
    .unwrap();
    let job = wait_for_job(&h, id.as_i64().unwrap());
    assert_eq!(job["state"], "succeeded", "{job}");
    let a = invoke(&h, "get_artifact", json!({"idOrName": "fb"})).unwrap();
    assert_eq!(
        (a["source"]["kind"].as_str(), a["source"]["store"].as_str(), a["source"]["remote_id"].as_str()),
        (Some("store"), Some("lab"), Some(UUID)),
        "{a}"
    );
    let images = invoke(&h, "store_images", json!({"name": "lab", "search": null, "os": null})).unwrap();
    assert_eq!(images[0]["in_library"], a["name"], "{images}");
    // another image by its manifest URL, its file at a URL of its own: an import job too, its
    // defaults from the manifest
    let id = invoke(
        &h,
        "start_manifest_import",
        json!({"request": {"manifest_url": format!("{base}/other.json"), "file_url": format!("{base}/other.sh"),
            "attributes": {"name": null, "description": null, "version": null, "tags": null}}, "onProgress": "__CHANNEL__:1"}),
    )
    .unwrap();
    let job = wait_for_job(&h, id.as_i64().unwrap());
    assert_eq!(job["state"], "succeeded", "{job}");
    let b = invoke(&h, "get_artifact", json!({"idOrName": "postinstall-2"})).unwrap();
    assert_eq!(
        (b["access"].as_str(), b["source"]["manifest_url"].as_str()),
        (Some("private"), Some(format!("{base}/other.json").as_str())),
        "{b}"
    );
    let removed = invoke(&h, "remove_store", json!({"name": "lab"})).unwrap();
    assert_eq!(removed["name"], "lab");
    assert_eq!(invoke(&h, "list_stores", json!({})).unwrap(), json!([]));
}

/// A 16 MiB qcow2 with two internal snapshots of different contents, made with qemu-img and qemu-io.
fn qcow2_with_snapshots(at: &std::path::Path) {
    let run = |cmd: &str, args: &[&str]| {
        let out = std::process::Command::new(cmd).args(args).arg(at).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let out = std::process::Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(at).arg("16M").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    run("qemu-io", &["-f", "qcow2", "-c", "write -P 0x11 0 1M"]);
    run("qemu-img", &["snapshot", "-c", "first"]);
    run("qemu-io", &["-f", "qcow2", "-c", "write -P 0x22 1M 1M"]);
    run("qemu-img", &["snapshot", "-c", "second"]);
}

#[test]
fn snapshot_commands_read_only_a_chosen_disk_file_refuse_before_any_job_and_cut_an_image_as_a_job() {
    let files = tempfile::tempdir().unwrap();
    let disk = files.path().join("web-disk.qcow2");
    qcow2_with_snapshots(&disk);
    let answers = Arc::new(Answers { yes: true, asked: Default::default(), folder: None, file: Some(disk.clone()) });
    let h = harness_answering(Some(answers.clone()));
    let jq = json!({"query": {"state": null, "kind": null, "before_id": null, "limit": null}});
    let source = json!({"type": "disk_file", "path": disk});
    let attrs =
        json!({"name": null, "description": "web before the app", "version": null, "tags": ["web"], "alias": "wb", "access": "public"});
    let request = |snapshot: &str, name: &str, disk_id: Value| {
        json!({"request": {"source": source, "snapshot": snapshot, "disk_id": disk_id, "format": "qcow2", "name": name, "attributes": attrs},
            "onProgress": "__CHANNEL__:1", "onReport": "__CHANNEL__:2"})
    };

    // a disk file the page names but nobody chose is not even read, and no job is recorded
    let err = invoke(&h, "list_snapshots", json!({"source": source, "diskId": null})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "not_chosen", "{err}");
    let err = invoke(&h, "start_snapshot_image", request("first", "web-base", Value::Null)).unwrap_err();
    assert_eq!(err["code"], "not_chosen", "{err}");
    let elsewhere = json!({"source": {"type": "disk_file", "path": "/etc/passwd"}, "diskId": null});
    assert_eq!(invoke(&h, "list_snapshots", elsewhere).unwrap_err()["code"], "not_chosen");

    // chosen in the native dialog (filtered to disk images): its disk and both snapshots
    let chosen = invoke(&h, "choose_disk_file", json!({})).unwrap();
    assert_eq!(chosen.as_str(), Some(disk.to_str().unwrap()));
    assert!(answers.asked.lock().unwrap().iter().any(|a| a.contains("qcow2")), "{:?}", answers.asked.lock().unwrap());
    let disks = invoke(&h, "list_snapshots", json!({"source": source, "diskId": null})).unwrap();
    assert_eq!(disks.as_array().unwrap().len(), 1, "{disks}");
    assert_eq!((disks[0]["disk"]["disk_id"].as_u64(), disks[0]["disk"]["format"].as_str()), (Some(1), Some("qcow2")), "{disks}");
    let names: Vec<&str> = disks[0]["snapshots"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["first", "second"]);
    assert!(disks[0]["snapshots"].as_array().unwrap().iter().all(|s| s["usable"] == true && s["location"] == "internal"), "{disks}");

    // Danube's refusals come back before a job exists
    let err = invoke(&h, "list_snapshots", json!({"source": source, "diskId": 2})).unwrap_err();
    assert_eq!(err["code"], "invalid_disk", "{err}");
    assert!(err["text"].as_str().unwrap().contains("valid disk ids are 1"), "{err}");
    let err = invoke(&h, "start_snapshot_image", request("first", "web-base", json!(2))).unwrap_err();
    assert_eq!(err["code"], "invalid_disk", "{err}");
    let err = invoke(&h, "start_snapshot_image", request("third", "web-base", Value::Null)).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "snapshot_unusable", "{err}");
    assert!(err["text"].as_str().unwrap().contains("first, second"), "names the snapshots there are: {err}");
    assert_eq!(invoke(&h, "count_jobs", jq.clone()).unwrap(), json!(0), "no job for a refusal");

    // the image is cut as a job; the artifact names its source
    let id = invoke(&h, "start_snapshot_image", request("first", "web-base", json!(1))).unwrap().as_i64().expect("a job id");
    let detail = wait_for_job(&h, id);
    assert_eq!((detail["kind"].as_str(), detail["state"].as_str()), (Some("snapshot_image"), Some("succeeded")), "{detail}");
    assert_eq!(detail["items"][0]["artifact"]["name"], "web-base", "{detail}");
    let a = invoke(&h, "get_artifact", json!({"idOrName": "wb"})).unwrap();
    assert_eq!((a["kind"].as_str(), a["version"].as_str(), a["access"].as_str()), (Some("disk_image"), Some("1.0"), Some("public")), "{a}");
    assert_eq!(a["source"]["kind"], "snapshot");
    assert_eq!((a["source"]["snapshot"].as_str(), a["source"]["disk_id"].as_u64()), (Some("first"), Some(1)), "{a}");
    assert_eq!(a["source"]["disk_file"].as_str(), Some(std::fs::canonicalize(&disk).unwrap().to_str().unwrap()));
    assert_eq!(a["detected"]["snapshot_format"], "qcow2", "{a}");
    assert!(a["detected"].get("disk_target").is_none(), "a disk file has no guest device: {a}");

    // the same name again is name_taken; a library image without snapshots has none to cut
    let err = invoke(&h, "start_snapshot_image", request("second", "web-base", Value::Null)).unwrap_err();
    assert_eq!(err["code"], "name_taken", "{err}");
    let lib = json!({"type": "artifact", "key": "web-base"});
    let listed = invoke(&h, "list_snapshots", json!({"source": lib, "diskId": null})).unwrap();
    assert_eq!(listed[0]["snapshots"], json!([]), "{listed}");
    let from_lib = json!({"request": {"source": lib, "snapshot": "first", "disk_id": null, "format": "raw", "name": "again", "attributes": attrs},
        "onProgress": "__CHANNEL__:1", "onReport": "__CHANNEL__:2"});
    assert_eq!(invoke(&h, "start_snapshot_image", from_lib).unwrap_err()["code"], "snapshot_unusable");
    assert_eq!(invoke(&h, "count_jobs", jq).unwrap(), json!(1), "one job: the image made");
}

#[test]
fn libvirt_connections_that_would_run_a_program_are_refused_and_an_unreachable_one_is_connection_failed() {
    let h = harness();
    for uri in
        ["qemu+ext:///system?command=/bin/sh", "qemu+ssh://h/system?command=/tmp/x", "qemu+ssh://h/system?netcat=/tmp/x", "/etc/passwd"]
    {
        let err = invoke(&h, "list_vms", json!({"connect": uri})).unwrap_err();
        assert_error_shape(&err);
        assert_eq!(err["code"], "invalid_argument", "{uri}: {err}");
        let source = json!({"type": "vm", "vm": "web", "connect": uri});
        assert_eq!(
            invoke(&h, "list_snapshots", json!({"source": source, "diskId": null})).unwrap_err()["code"],
            "invalid_argument",
            "{uri}"
        );
    }
    let nowhere = format!("qemu:///system?socket={}/no-such-libvirt-sock", h.dir.path().display());
    let err = invoke(&h, "list_vms", json!({"connect": nowhere})).unwrap_err();
    assert_error_shape(&err);
    assert_eq!(err["code"], "connection_failed", "{err}");
}
