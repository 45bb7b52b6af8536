//! The About dialog lists every component the app ships and its license: src-tauri/third_party.json,
//! generated from `cargo metadata` (the crates linked into the Linux app: normal dependencies only,
//! no build or dev tools) and ui/package-lock.json (npm packages that are not dev-only). This test
//! fails when the file is stale; `UPDATE_LICENSES=1 cargo test --test licenses` rewrites it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

fn crates(root: &Path) -> Vec<Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", "x86_64-unknown-linux-gnu"])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages: BTreeMap<&str, &Value> = meta["packages"].as_array().unwrap().iter().map(|p| (p["id"].as_str().unwrap(), p)).collect();
    let nodes: BTreeMap<&str, &Value> =
        meta["resolve"]["nodes"].as_array().unwrap().iter().map(|n| (n["id"].as_str().unwrap(), n)).collect();
    let app = packages.values().find(|p| p["name"] == "imagesmith").unwrap()["id"].as_str().unwrap();
    // Walk what is linked in: edges whose kinds include a normal (not build, not dev) dependency.
    let mut seen = BTreeSet::new();
    let mut todo = vec![app];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().unwrap() {
            if dep["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()) {
                todo.push(dep["pkg"].as_str().unwrap());
            }
        }
    }
    seen.iter()
        .map(|id| packages[id])
        .filter(|p| p["source"].is_string()) // our own workspace crates are Imagesmith itself
        .map(|p| {
            json!({
                "name": p["name"],
                "version": p["version"],
                "license": p["license"].as_str().unwrap_or("see its repository"),
                "ecosystem": "crate",
            })
        })
        .collect()
}

fn npm(root: &Path) -> Vec<Value> {
    let lock: Value = serde_json::from_str(&std::fs::read_to_string(root.join("ui/package-lock.json")).unwrap()).unwrap();
    let mut out: Vec<Value> = lock["packages"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, p)| !key.is_empty() && p["dev"] != true)
        .map(|(key, p)| {
            let name = key.rsplit("node_modules/").next().unwrap();
            json!({
                "name": name,
                "version": p["version"],
                "license": p["license"].as_str().unwrap_or("see its repository"),
                "ecosystem": "npm",
            })
        })
        .collect();
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    out.dedup();
    out
}

#[test]
fn the_about_dialog_lists_every_shipped_component_with_its_license() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = crates(root);
    all.sort_by(|a, b| (a["name"].as_str(), a["version"].as_str()).cmp(&(b["name"].as_str(), b["version"].as_str())));
    all.extend(npm(root));
    let names: Vec<&str> = all.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for shipped in ["tauri", "rusqlite", "sha2", "svelte", "virtua"] {
        assert!(names.contains(&shipped), "{shipped} is shipped and must be listed");
    }
    for tool in ["vitest", "tauri-build", "fantoccini", "jsdom"] {
        assert!(!names.contains(&tool), "{tool} is a build or test tool, not shipped");
    }
    let fresh = serde_json::to_string_pretty(&all).unwrap() + "\n";
    let path = root.join("src-tauri/third_party.json");
    if std::env::var_os("UPDATE_LICENSES").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == fresh, "{} is stale: run `UPDATE_LICENSES=1 cargo test --test licenses` and commit it", path.display());
}
