//! One list of app commands: src-tauri/commands.txt, which build.rs turns into the app manifest, must
//! name exactly the commands the shell registers (src-tauri/lib.rs), the commands capabilities/main.json
//! grants and the commands of the generated client; the ACL compiled into the app lets the main window
//! call each of them. A failure names every command that is in one place and missing from another.
//! Also what the .deb is made from: the file associations, the run-time dependencies and the desktop
//! entry that hands "Open with" files to the app.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The list: one command per line, `#` comments and blank lines skipped (as build.rs reads it).
fn listed() -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("src-tauri/commands.txt")).unwrap();
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

/// The commands a TypeScript client invokes: every `__TAURI_INVOKE("name"` in it.
fn invoked_by(client: &str) -> BTreeSet<String> {
    client.split("__TAURI_INVOKE(\"").skip(1).map(|rest| rest[..rest.find('"').expect("a closing quote")].to_string()).collect()
}

/// The commands the shell registers: tauri-specta's builder is also the app's invoke handler
/// (`app_builder`), so the client it exports invokes exactly those.
fn registered() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bindings.ts");
    imagesmith_app::specta_builder::<tauri::test::MockRuntime>()
        .export(specta_typescript::Typescript::default(), &out)
        .expect("tauri-specta could not export the bindings");
    invoked_by(&std::fs::read_to_string(out).unwrap())
}

/// capabilities/main.json's grants, split into our commands' (`allow-<command>`) and the rest.
fn grants() -> (Vec<String>, Vec<String>) {
    let caps: Value = serde_json::from_str(&std::fs::read_to_string(Path::new(ROOT).join("capabilities/main.json")).unwrap()).unwrap();
    let ids = caps["permissions"].as_array().unwrap().iter().map(|p| p.as_str().or(p["identifier"].as_str()).unwrap().to_string());
    ids.partition(|id| !id.contains(':'))
}

/// "what a has that b lacks" in both directions, or nothing when they agree.
fn differences(a_name: &str, a: &BTreeSet<String>, b_name: &str, b: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let only_a: Vec<&str> = a.difference(b).map(String::as_str).collect();
    let only_b: Vec<&str> = b.difference(a).map(String::as_str).collect();
    if !only_a.is_empty() {
        out.push(format!("in {a_name} but not in {b_name}: {}", only_a.join(", ")));
    }
    if !only_b.is_empty() {
        out.push(format!("in {b_name} but not in {a_name}: {}", only_b.join(", ")));
    }
    out
}

#[test]
fn the_command_list_matches_the_shell_the_grants_and_the_client() {
    let list = listed();
    let listed_set: BTreeSet<String> = list.iter().cloned().collect();
    assert!(list.len() > 40, "src-tauri/commands.txt lists only {} commands", list.len());
    let mut problems = Vec::new();
    if listed_set.len() != list.len() {
        let mut seen = BTreeSet::new();
        let twice: Vec<&str> = list.iter().filter(|c| !seen.insert(*c)).map(String::as_str).collect();
        problems.push(format!("listed twice in src-tauri/commands.txt: {}", twice.join(", ")));
    }

    problems.extend(differences("src-tauri/commands.txt", &listed_set, "the commands src-tauri/lib.rs registers", &registered()));

    let client = std::fs::read_to_string(Path::new(ROOT).join(imagesmith_app::BINDINGS_PATH)).unwrap();
    problems.extend(differences("src-tauri/commands.txt", &listed_set, imagesmith_app::BINDINGS_PATH, &invoked_by(&client)));

    // tauri-build names a command's permission allow-<command with - for _>
    let (ours, _) = grants();
    let wanted: BTreeSet<String> = list.iter().map(|c| format!("allow-{}", c.replace('_', "-"))).collect();
    problems.extend(differences("src-tauri/commands.txt (as allow-…)", &wanted, "capabilities/main.json", &ours.into_iter().collect()));

    assert!(problems.is_empty(), "the app's commands disagree:\n  {}", problems.join("\n  "));
}

#[test]
fn the_main_window_is_granted_nothing_but_our_commands_and_events() {
    let (_, others) = grants();
    assert_eq!(
        others,
        ["core:event:allow-listen", "core:event:allow-unlisten"],
        "least privilege: no dialog:, fs:, opener: or shell: grants (the shell opens the dialogs itself)"
    );
}

#[test]
fn the_acl_built_into_the_app_lets_the_main_window_call_every_listed_command() {
    use tauri::ipc::Origin;
    let mut context: tauri::Context<tauri::test::MockRuntime> = tauri::generate_context!("tauri.conf.json");
    let acl = context.runtime_authority_mut();
    let refused: Vec<String> = listed().into_iter().filter(|c| acl.resolve_access(c, "main", "main", &Origin::Local).is_none()).collect();
    assert!(
        refused.is_empty(),
        "build.rs's app manifest and capabilities/main.json do not let the main window call: {}",
        refused.join(", ")
    );
    assert!(acl.resolve_access("no_such_command", "main", "main", &Origin::Local).is_none(), "an unlisted command is refused");
    assert!(acl.resolve_access("repository_info", "other", "other", &Origin::Local).is_none(), "only the main window is covered");
}

#[test]
fn the_production_window_opens_centred_not_pinned_to_a_corner() {
    let conf: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(Path::new(ROOT).join("tauri.conf.json")).unwrap()).unwrap();
    let main = &conf["app"]["windows"][0];
    assert_eq!(main["label"], "main");
    assert!(main.get("x").is_none() && main.get("y").is_none(), "no fixed position (the e2e tests place the window themselves): {main}");
    assert_eq!(main["center"], true, "{main}");
    assert_eq!((main["minWidth"].as_u64(), main["minHeight"].as_u64()), (Some(900), Some(560)), "the minimum size the layout is tested at");
}

/// The parts of tauri.conf.json the .deb is made from, read the way the Tauri CLI reads them
/// (tauri-utils' `Config`, which refuses a misspelt key).
fn bundle_config() -> tauri::utils::config::BundleConfig {
    let text = std::fs::read_to_string(Path::new(ROOT).join("tauri.conf.json")).unwrap();
    let conf: tauri::utils::config::Config = serde_json::from_str(&text).expect("tauri.conf.json is a Tauri v2 config");
    conf.bundle
}

#[test]
fn the_deb_opens_isos_disk_images_and_profiles_and_depends_on_what_the_app_runs() {
    let bundle = bundle_config();
    let associations = bundle.file_associations.clone().unwrap_or_default();
    let declared: Vec<(String, String)> =
        associations.iter().flat_map(|a| a.ext.iter().map(move |e| (e.0.clone(), a.mime_type.clone().unwrap_or_default()))).collect();
    for (ext, mime) in [
        ("iso", "application/x-cd-image"),
        ("iso", "application/x-iso9660-image"),
        ("qcow2", "application/x-qemu-disk"),
        ("tar.gz", "application/x-compressed-tar"),
    ] {
        assert!(declared.contains(&(ext.into(), mime.into())), "no file association .{ext} {mime} in tauri.conf.json: {declared:?}");
    }
    let depends = bundle.linux.deb.depends.clone().unwrap_or_default();
    // the engine runs `qemu-img info` on every disk image it imports and `qemu-img convert` to publish
    assert!(depends.iter().any(|d| d == "qemu-utils"), "the .deb must depend on qemu-utils: {depends:?}");
    // libssh2 (SFTP) links OpenSSL 3, the keyring client libdbus (see `readelf -d` in README)
    assert!(depends.iter().any(|d| d.split('|').any(|alt| alt.trim() == "libssl3")), "{depends:?}");
    assert!(depends.iter().any(|d| d == "libdbus-1-3"), "{depends:?}");
}

/// The .desktop entry the .deb installs, rendered from our template with what tauri-bundler fills in
/// (`categories`, `comment`, `exec`, `icon`, `name`, `mime_type` = the associations' MIME types
/// joined by `;`): only `{{var}}` and `{{#if var}}…{{/if}}` lines, all our template uses.
fn desktop_entry(bundle: &tauri::utils::config::BundleConfig) -> String {
    let template = bundle.linux.deb.desktop_template.as_ref().expect("bundle.linux.deb.desktopTemplate is set");
    let template = std::fs::read_to_string(Path::new(ROOT).join(template)).unwrap();
    let mimes: Vec<String> = bundle.file_associations.iter().flatten().filter_map(|a| a.mime_type.clone()).collect();
    let vars = [
        ("categories", "Utility;".to_string()),
        ("comment", bundle.short_description.clone().unwrap_or_default()),
        ("exec", "imagesmith".into()),
        ("icon", "imagesmith".into()),
        ("name", "Imagesmith".into()),
        ("mime_type", mimes.join(";")),
    ];
    let mut out = String::new();
    let mut shown = true;
    for line in template.lines() {
        if let Some(var) = line.strip_prefix("{{#if ").and_then(|l| l.strip_suffix("}}")) {
            shown = vars.iter().any(|(k, v)| *k == var && !v.is_empty());
        } else if line == "{{/if}}" {
            shown = true;
        } else if shown {
            let mut line = line.to_string();
            for (k, v) in &vars {
                line = line.replace(&format!("{{{{{k}}}}}"), v);
            }
            assert!(!line.contains("{{"), "the template uses a variable tauri-bundler does not fill in: {line}");
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_desktop_entry_hands_opened_files_to_the_app_and_names_their_types() {
    let entry = desktop_entry(&bundle_config());
    let lines: Vec<&str> = entry.lines().collect();
    assert_eq!(lines.first(), Some(&"[Desktop Entry]"), "{entry}");
    // %F: the file manager passes every selected file as a path (src-tauri/opened.rs takes them);
    // without a field code "Open with" would start the app with none.
    assert!(lines.contains(&"Exec=imagesmith %F"), "{entry}");
    let mime = lines.iter().find_map(|l| l.strip_prefix("MimeType=")).unwrap_or_else(|| panic!("no MimeType= in\n{entry}"));
    let types: Vec<&str> = mime.split(';').filter(|t| !t.is_empty()).collect();
    assert_eq!(types, ["application/x-cd-image", "application/x-iso9660-image", "application/x-qemu-disk", "application/x-compressed-tar"]);
    assert!(mime.ends_with(';'), "a desktop entry list ends with ';': {mime}");
    assert!(lines.contains(&"Type=Application") && lines.contains(&"Icon=imagesmith"), "{entry}");
}
