//! IPC tests on tauri's mock runtime with the real config and capabilities: every command is
//! registered and permitted for the main window, errors cross as {code, text, explanation, recovery},
//! and what the window may not do is refused.

use std::sync::Arc;

use imagesmith_engine::{DataLayout, Engine};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow};

struct Harness {
    _dir: tempfile::TempDir,
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(DataLayout::new(dir.path().join("repo"))).unwrap());
    let mut app = imagesmith_app::app_builder(tauri::test::mock_builder(), engine)
        .build(tauri::generate_context!("tauri.conf.json"))
        .expect("app builds on the mock runtime");
    app.run_iteration(|_, _| {}); // runs setup(): managed state, events, change watcher
    // setup() created the "main" window from tauri.conf.json, the one the capabilities name
    let window = app.get_webview_window("main").expect("the main window exists");
    Harness { _dir: dir, _app: app, window }
}

fn invoke(h: &Harness, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        &h.window,
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
    assert_eq!(digest, json!({"algo": "sha256", "hex": "ab".repeat(32), "source": "entered"}));
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
fn plan_import_reviews_real_files() {
    let h = harness();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.exe");
    std::fs::write(&file, b"MZ not really").unwrap();
    let plan = invoke(&h, "plan_import", json!({"request": {"paths": [file], "checksum_files": []}})).unwrap();
    assert_eq!(plan["items"].as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(plan["items"][0]["file_name"], "notes.exe");
}

#[test]
fn unknown_and_ungranted_commands_are_refused() {
    let h = harness();
    assert!(invoke(&h, "no_such_command", json!({})).is_err());
    // the fs plugin is not part of the app, and the opener's commands are not granted
    assert!(invoke(&h, "plugin:fs|read_text_file", json!({"path": "/etc/passwd"})).is_err());
    assert!(invoke(&h, "plugin:opener|open_path", json!({"path": "/"})).is_err());
}

#[test]
fn every_command_is_granted_to_the_main_window_and_nothing_more() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let caps: Value = serde_json::from_str(&std::fs::read_to_string(root.join("capabilities/main.json")).unwrap()).unwrap();
    let granted: Vec<String> = caps["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
    let build = std::fs::read_to_string(root.join("build.rs")).unwrap();
    let bindings = std::fs::read_to_string(root.join(imagesmith_app::BINDINGS_PATH)).unwrap();
    let mut app_grants = 0;
    for line in build.lines().map(str::trim).filter(|l| l.starts_with('"') && l.ends_with("\",")) {
        let cmd = line.trim_matches(|c| c == '"' || c == ',');
        let perm = format!("allow-{}", cmd.replace('_', "-"));
        assert!(granted.contains(&perm), "{perm} is not granted in capabilities/main.json");
        assert!(bindings.contains(&format!("\"{cmd}\"")), "{cmd} is missing from the generated bindings");
        app_grants += 1;
    }
    assert_eq!(app_grants, 14);
    assert!(granted.iter().all(|p| !p.starts_with("fs:") && !p.starts_with("opener:") && !p.starts_with("shell:")));
    assert_eq!(granted.len(), app_grants + 3, "only events and the open dialog besides our commands: {granted:?}");
}
