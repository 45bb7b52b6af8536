//! What the CLI prints: JSON documents, readable tables, errors with explanation and recovery, a progress bar.

use crate::table::Table;
use imagesmith_engine::import::ImportReport;
use imagesmith_engine::wim::WindowsEdition;
use imagesmith_engine::{
    Artifact, ArtifactState, DriverEntry, DriverInfo, Error, JobDetail, JobProgress, JobSummary, Outcome, VerifyReport,
};
use serde::Serialize;
use std::io::IsTerminal;
use std::process::ExitCode;

pub fn json<T: Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("serialisable"));
}

/// Print a whole-command error and return exit status 1.
pub fn fail(e: &Error, as_json: bool) -> ExitCode {
    if as_json {
        json(&serde_json::json!({ "error": e }));
    }
    eprintln!("error [{}]: {}", e.code, e.text);
    eprintln!("  why: {}", e.explanation);
    eprintln!("  what to do: {}", e.recovery);
    ExitCode::from(1)
}

pub fn human_size(bytes: u64) -> String {
    imagesmith_engine::info::human_bytes(bytes)
}

fn os_label(a: &Artifact) -> String {
    match (&a.os, &a.distro) {
        (Some(os), Some(d)) => format!("{os}/{d}"),
        (Some(os), None) => os.to_string(),
        _ => "-".into(),
    }
}

pub fn artifact_table(list: &[Artifact]) {
    if list.is_empty() {
        println!("No artifacts. Import files with `imagesmith-cli import FILE…`.");
        return;
    }
    // A STATE column only when something is missing or damaged: the usual table stays as it was.
    let states = list.iter().any(|a| a.state != ArtifactState::Ok);
    let mut headings = vec!["ID>", "NAME", "KIND", "OS", "SIZE>", "SHA256", "CREATED"];
    if states {
        headings.push("STATE");
    }
    let mut table = Table::new(&headings);
    for a in list {
        let mut cells = vec![
            a.id.to_string(),
            truncate(&a.name, 40),
            a.kind.to_string(),
            os_label(a),
            human_size(a.size),
            a.sha256[..16].to_string(),
            a.created_at.clone(),
        ];
        if states {
            cells.push(a.state.to_string());
        }
        table.row(cells);
    }
    table.print();
    let lost = list.iter().filter(|a| a.state != ArtifactState::Ok).count();
    if lost > 0 {
        println!(
            "{lost} stored cop{} missing or damaged: import the original files again to restore them, or delete them.",
            if lost == 1 { "y is" } else { "ies are" }
        );
    }
}

/// `list --full` (every attribute) and `list --extended` (also where each is used, its source and
/// its last verify): one block per artifact, as `show` prints its rows.
pub fn artifact_rows(list: &[Artifact], extended: bool) {
    if list.is_empty() {
        println!("No artifacts. Import files with `imagesmith-cli import FILE…`.");
        return;
    }
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let row = |k: &str, v: &str| println!("{k:>12}: {v}");
        row("id", &a.id.to_string());
        row("name", &a.name);
        row("alias", a.alias.as_deref().unwrap_or("—"));
        row("kind", a.kind.as_str());
        row("os", &os_label(a));
        row("size", &human_size(a.size));
        row("access", a.access.as_str());
        row("owner", if a.owner.is_empty() { "—" } else { &a.owner });
        row("version", if a.version.is_empty() { "—" } else { &a.version });
        row("description", if a.description.is_empty() { "—" } else { &a.description });
        row("resize", if a.resize { "yes" } else { "no" });
        row("deploy", if a.deploy { "yes" } else { "no" });
        row("tags", &if a.tags.is_empty() { "—".to_string() } else { a.tags.join(", ") });
        row("created", &a.created_at);
        if extended {
            let mut used: Vec<String> = a.profiles.iter().map(|p| format!("profile {p}")).collect();
            used.extend(a.published_to.iter().map(|p| format!("published {p}")));
            used.extend(a.used_by.iter().map(|u| format!("image of {}", u.name)));
            row("used by", &if used.is_empty() { "—".to_string() } else { used.join(", ") });
            row("source", &source_label(&a.source));
            row("last verify", a.last_verified_at.as_deref().unwrap_or("never"));
        }
    }
}

/// "file", "url https://…", "store ubuntu (uuid)", "snapshot s1 of disk 2 of VM web (taken …)".
pub fn source_label(s: &imagesmith_engine::model::ArtifactSource) -> String {
    if s.kind == imagesmith_engine::model::SourceKind::Snapshot {
        let of = match (&s.vm, &s.artifact, &s.disk_file) {
            (Some(vm), _, _) => format!("disk {} of VM {vm}", s.disk_id.unwrap_or(1)),
            (None, Some(a), _) => format!("library image {a}"),
            (None, None, Some(f)) => f.clone(),
            (None, None, None) => "a disk".into(),
        };
        let at = s.snapshot_at.as_deref().map(|t| format!(" (taken {t})")).unwrap_or_default();
        return format!("snapshot {} of {of}{at}", s.snapshot.as_deref().unwrap_or("?"));
    }
    let mut out = s.kind.as_str().to_string();
    for part in [&s.store, &s.url, &s.manifest_url, &s.remote_id].into_iter().flatten() {
        out.push(' ');
        out.push_str(part);
    }
    out
}

/// What to tell the user about an artifact whose stored copy is not ok.
pub fn state_advice(state: ArtifactState) -> Option<&'static str> {
    match state {
        ArtifactState::Ok => None,
        ArtifactState::Missing => Some("missing — its stored copy is gone; import the original file again to restore it, or delete it"),
        ArtifactState::Damaged => {
            Some("damaged — its stored copy no longer matches its SHA-256; import the original file again to restore it, or delete it")
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

pub fn artifact_details(a: &Artifact) {
    // A row without a name continues the one above (the lines of a table under `editions`).
    let row = |k: &str, v: &str| if k.is_empty() { println!("{:16}{v}", "") } else { println!("{k:>14}: {v}") };
    row("id", &a.id.to_string());
    row("name", &a.name);
    row("kind", a.kind.as_str());
    row("os", &os_label(a));
    if a.os_id.is_some() || a.os_name.is_some() {
        let arch = a.arch.as_deref().map(|x| format!(", {x}")).unwrap_or_default();
        let id = a.os_id.as_deref().map(|x| format!(" ({x})")).unwrap_or_default();
        row("exact os", &format!("{}{id}{arch}", a.os_name.as_deref().unwrap_or("?")));
    } else if a.detected.get("installer") == Some(&serde_json::Value::Bool(false)) {
        row("exact os", "not an OS installer");
    }
    row("size", &format!("{} ({} bytes)", human_size(a.size), a.size));
    row("sha256", &a.sha256);
    if let Some(advice) = state_advice(a.state) {
        row("state", advice);
    }
    for (k, v) in [("md5", &a.md5), ("sha1", &a.sha1), ("sha512", &a.sha512)] {
        if let Some(v) = v {
            row(k, v);
        }
    }
    for (i, v) in a.verification.iter().enumerate() {
        row(if i == 0 { "verified" } else { "" }, &v.describe());
    }
    if a.verification.is_empty() {
        row("verified", "no expected checksum was given at import");
    }
    row("signature", &a.signature.describe());
    if let Some(m) = &a.media_check {
        let text = match (m.status, &m.md5) {
            (imagesmith_engine::model::MediaCheckStatus::Passed, Some(md5)) => {
                format!("passed: the MD5 implanted in the ISO ({md5}) matched")
            }
            (imagesmith_engine::model::MediaCheckStatus::Absent, _) => {
                "absent: the ISO carries no embedded checksum (isomd5sum)".to_string()
            }
            (status, _) => status.to_string(),
        };
        row("media check", &text);
    }
    if let Some(findings) = &a.lint {
        let text = match findings.iter().filter(|f| f.is_error()).count() {
            _ if findings.is_empty() => "clean".to_string(),
            errors => format!("{errors} error(s), {} warning(s) (imagesmith-cli lint shows them)", findings.len() - errors),
        };
        row("lint", &text);
        for f in findings.iter().take(5) {
            row("", &format!("line {}: {} {} — {}", f.line, f.severity, f.code, f.message));
        }
    }
    if let Some(at) = &a.last_verified_at {
        row("last verify", &format!("stored copy re-hashed intact, {} UTC", at.get(..16).unwrap_or(at).replace('T', " ")));
    }
    if let Some(img) = &a.image {
        row("image", &format!("{} (id {})", img.name, img.id));
    }
    for (i, w) in a.warnings.iter().enumerate() {
        row(if i == 0 { "warning" } else { "" }, &format!("{} ({})", w.text, w.code));
    }
    if !a.used_by.is_empty() {
        row("used by", &a.used_by.iter().map(|u| format!("{} (id {})", u.name, u.id)).collect::<Vec<_>>().join(", "));
    }
    if !a.profiles.is_empty() {
        row("profiles", &a.profiles.join(", "));
    }
    if !a.published_to.is_empty() {
        row("published", &a.published_to.join(", "));
    }
    row("original name", &a.original_name);
    if !a.description.is_empty() {
        row("description", &a.description);
    }
    if !a.version.is_empty() {
        row("version", &a.version);
    }
    if !a.tags.is_empty() {
        row("tags", &a.tags.join(", "));
    }
    if let Some(alias) = &a.alias {
        row("alias", alias);
    }
    row("access", a.access.as_str());
    if !a.owner.is_empty() {
        row("owner", &a.owner);
    }
    row("resize", if a.resize { "yes" } else { "no" });
    row("deploy", if a.deploy { "yes" } else { "no" });
    row("source", &source_label(&a.source));
    if let Some(obj) = a.detected.as_object().filter(|o| !o.is_empty()) {
        // The driver and the editions have their own rows below.
        for (k, v) in obj.iter().filter(|(k, _)| *k != "driver" && *k != "editions") {
            let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            row(k, &text);
        }
    }
    if let Some(d) = &a.driver {
        driver_rows(d, &row);
    }
    edition_rows(&a.editions, &row);
    row("created", &a.created_at);
    if let Some(by) = &a.created_by {
        row("added by", by);
    }
    row("updated", &a.updated_at);
    if let Some(by) = &a.updated_by {
        row("changed by", by);
    }
}

fn list_or_dash(list: &[String]) -> String {
    if list.is_empty() {
        "—".into()
    } else {
        list.join(", ")
    }
}

/// The images of a Windows install.wim/esd as a table under `editions`: index, name, edition id,
/// build, architecture, languages.
fn edition_rows(editions: &[WindowsEdition], row: &dyn Fn(&str, &str)) {
    if editions.is_empty() {
        return;
    }
    let dash = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    let mut table = Table::new(&["INDEX>", "NAME", "EDITION ID", "BUILD>", "ARCH", "LANGUAGES"]);
    for e in editions {
        table.row([
            e.index.to_string(),
            e.name.clone(),
            dash(e.edition_id.clone()),
            dash(e.build.map(|b| b.to_string())),
            dash(e.arch.map(|a| a.as_str().to_string())),
            list_or_dash(&e.languages),
        ]);
    }
    for (i, line) in table.lines().iter().enumerate() {
        row(if i == 0 { "editions" } else { "" }, line);
    }
}

/// What `show` prints of a driver: what it is for, its files, what is missing.
fn driver_rows(d: &DriverInfo, row: &dyn Fn(&str, &str)) {
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    if d.class.is_some() || d.class_guid.is_some() {
        row("driver class", format!("{} {}", text(&d.class), d.class_guid.as_deref().unwrap_or("")).trim_end());
    }
    row("provider", &text(&d.provider));
    row("driver version", &format!("{} ({})", text(&d.version), text(&d.date)));
    row("architectures", &list_or_dash(&d.arch));
    if !d.os_versions.is_empty() {
        row("os versions", &d.os_versions.join(", "));
    }
    if !d.kernels.is_empty() || !d.kmods.is_empty() {
        row("kernels", &list_or_dash(&d.kernels));
        row("modules", &list_or_dash(&d.kmods));
    }
    if let Some(p) = &d.package {
        row("package", p);
    }
    if d.packages.len() > 1 {
        row("packages", &d.packages.join(", "));
    }
    if !d.infs.is_empty() {
        row("inf files", &d.infs.join(", "));
        let catalog = match (&d.catalog, d.catalog_present) {
            (Some(c), true) => format!("{c} (present)"),
            (Some(c), false) => format!("{c} (MISSING: the driver cannot be verified as signed)"),
            (None, _) => "none named (unsigned)".into(),
        };
        row("catalog", &catalog);
    }
    if !d.missing_files.is_empty() {
        row("missing files", &format!("{} — named by an .inf but not in the package", d.missing_files.join(", ")));
    }
    let ids = &d.hardware_ids;
    if !ids.is_empty() {
        const SHOWN: usize = 20;
        for (i, id) in ids.iter().take(SHOWN).enumerate() {
            row(if i == 0 { "hardware ids" } else { "" }, id);
        }
        if ids.len() > SHOWN {
            row("", &format!("… and {} more (show --json lists them all)", ids.len() - SHOWN));
        }
    }
}

/// `drivers`: one line per driver; with --hwid, the IDs that matched under each.
pub fn driver_table(list: &[DriverEntry], hwid: Option<&str>) {
    if list.is_empty() {
        match hwid {
            Some(h) => println!("No driver in the library supports {h}."),
            None => println!("No drivers. Import driver packages with `imagesmith-cli import FILE…`."),
        }
        return;
    }
    let mut table = Table::new(&["ID>", "NAME", "OS", "CLASS", "PROVIDER", "VERSION", "ARCH", "IDS>", "FOR"]);
    for e in list {
        let os = match (&e.os, &e.distro) {
            (Some(os), Some(d)) => format!("{os}/{d}"),
            (Some(os), None) => os.to_string(),
            _ => "-".into(),
        };
        let none = DriverInfo::default();
        let d = e.driver.as_ref().unwrap_or(&none);
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        // What it fits: Windows versions, or kernels for Linux.
        let fits = match (d.os_versions.is_empty(), d.kernels.is_empty()) {
            (false, _) => d.os_versions.join(", "),
            (true, false) => d.kernels.join(", "),
            (true, true) => "-".into(),
        };
        table.row([
            e.id.to_string(),
            truncate(&e.name, 40),
            os,
            truncate(&dash(&d.class), 10),
            truncate(&dash(&d.provider), 16),
            truncate(&dash(&d.version), 12),
            truncate(&if d.arch.is_empty() { "-".into() } else { d.arch.join(",") }, 16),
            d.hardware_ids.len().to_string(),
            if e.driver.is_none() { "not described (imported before drivers were read)".into() } else { fits },
        ]);
    }
    let lines = table.lines();
    println!("{}", lines[0]);
    for (e, line) in list.iter().zip(&lines[1..]) {
        println!("{line}");
        for id in &e.matched_ids {
            println!("{:>7}matches {id}", "");
        }
    }
}

pub fn print_error(e: &Error, indent: &str) {
    println!("{indent}error [{}]: {}", e.code, e.text);
    println!("{indent}  why: {}", e.explanation);
    println!("{indent}  what to do: {}", e.recovery);
}

pub fn import_table(r: &ImportReport) {
    for c in &r.checksum_files {
        match &c.error {
            None => println!(
                "checksum file {} ({} entries, {} format, {}) matched: {}",
                c.file_name,
                c.entries,
                c.format,
                c.signature.describe(),
                if c.matched.is_empty() { "no file being imported".into() } else { c.matched.join(", ") }
            ),
            Some(e) => {
                println!("checksum file {}: not usable", c.file_name);
                print_error(e, "  ");
            }
        }
    }
    for item in &r.items {
        match (item.outcome, &item.artifact) {
            (Outcome::Imported, Some(a)) => {
                let verified: String = item.verified.iter().map(|v| format!(", {} verified from {}", v.algo.tag(), v.source)).collect();
                let signature = imagesmith_engine::model::SignatureCheck::best(item.verified.iter().filter_map(|v| v.signature.as_ref()));
                let verified = match signature.status {
                    imagesmith_engine::model::SignatureStatus::None => verified,
                    _ => format!("{verified}, {}", signature.describe()),
                };
                println!(
                    "imported   {} -> {} (id {}, {}, {}, {}{verified})",
                    item.path,
                    a.name,
                    a.id,
                    a.kind,
                    os_label(a),
                    human_size(a.size)
                );
                print_warnings(&a.warnings, "  ");
            }
            (Outcome::Duplicate, Some(a)) => {
                println!("duplicate  {} is already in the repository as {} (id {}); nothing new was stored", item.path, a.name, a.id)
            }
            (Outcome::Cancelled, _) => println!("cancelled  {}", item.path),
            _ => {
                println!("failed     {}", item.path);
                if let Some(e) = &item.error {
                    print_error(e, "  ");
                }
            }
        }
    }
    println!("job {}: {} — {}", r.job.id, r.job.state.as_str(), r.job.summary);
}

/// A job's exit status: 0 when it succeeded, 130 when cancelled (as after Ctrl-C), else 1.
pub fn job_exit(state: imagesmith_engine::JobState) -> ExitCode {
    match state {
        imagesmith_engine::JobState::Succeeded => ExitCode::SUCCESS,
        imagesmith_engine::JobState::Cancelled => ExitCode::from(130),
        _ => ExitCode::from(1),
    }
}

/// What a `repo push` or `repo pull` did, one line per artifact or profile.
pub fn copy_table(r: &imagesmith_engine::transfer::CopyReport, push: bool, team: &str) {
    let there = if push { format!("team repository \"{team}\"") } else { "the local repository".to_string() };
    for item in &r.items {
        let what = if item.what == "artifact" { item.name.clone() } else { format!("{} {}", item.what, item.name) };
        match item.outcome {
            Outcome::Copied => match (&item.artifact, &item.gold) {
                (Some(a), _) => println!("copied     {what} ({}, {})", a.kind, human_size(a.size)),
                (_, Some(g)) => println!("copied     {what} ({} files, {}; {} sent)", g.files, human_size(g.size), human_size(g.new_bytes)),
                _ => println!("copied     {what}"),
            },
            Outcome::Duplicate => match &item.artifact {
                Some(a) if a.name != item.name => println!("duplicate  {what} is already in {there} as {}; nothing was sent", a.name),
                _ => println!("duplicate  {what} is already in {there}; nothing was sent"),
            },
            Outcome::Cancelled => println!("cancelled  {what}"),
            _ => {
                println!("failed     {what}");
                if let Some(e) = &item.error {
                    print_error(e, "  ");
                }
            }
        }
    }
    println!("job {}: {} — {}", r.job.id, r.job.state.as_str(), r.job.summary);
}

pub fn deletion_table(rows: &[imagesmith_engine::deletions::Deletion]) {
    if rows.is_empty() {
        println!("Nothing has been deleted.");
        return;
    }
    let mut table = Table::new(&["DELETED", "WHAT", "NAME", "BY", "DETAIL"]);
    for d in rows {
        table.row([
            d.deleted_at.clone(),
            d.what.as_str().to_string(),
            d.name.clone(),
            d.deleted_by.clone().unwrap_or_else(|| "-".into()),
            d.detail.clone().unwrap_or_default(),
        ]);
    }
    table.print();
}

pub fn job_table(jobs: &[JobSummary]) {
    if jobs.is_empty() {
        println!("No jobs yet.");
        return;
    }
    let mut table = Table::new(&["ID>", "KIND", "STATE", "ITEMS>", "CREATED", "FINISHED", "SUMMARY"]);
    for j in jobs {
        table.row([
            j.id.to_string(),
            j.kind.to_string(),
            j.state.to_string(),
            j.item_count.to_string(),
            j.created_at.clone(),
            j.finished_at.clone().unwrap_or_else(|| "-".into()),
            j.summary.clone(),
        ]);
    }
    table.print();
}

pub fn job_details(j: &JobDetail) {
    let s = &j.job;
    println!("job {} ({}) {}", s.id, s.kind, s.state.as_str());
    println!(
        "  created {}  started {}  finished {}",
        s.created_at,
        s.started_at.as_deref().unwrap_or("-"),
        s.finished_at.as_deref().unwrap_or("-")
    );
    if let Some(by) = &s.run_by {
        println!("  run by {by}");
    }
    println!("  progress: {} — {} of {}", s.phase, human_size(s.bytes_done), human_size(s.bytes_total));
    if !s.summary.is_empty() {
        println!("  {}", s.summary);
    }
    if let Some(e) = &s.error {
        print_error(e, "  ");
    }
    for item in &j.items {
        let artifact = item.artifact.as_ref().map(|a| format!(" -> {} (id {})", a.name, a.id)).unwrap_or_default();
        println!("  [{}] {:<9} {}{artifact}", item.seq, item.outcome.as_str(), item.path);
        for v in &item.verification {
            println!("      {}", v.describe());
        }
        if let Some(e) = &item.error {
            print_error(e, "      ");
        }
    }
}

pub fn verify_table(r: &VerifyReport) {
    for item in &r.items {
        match &item.error {
            None => println!("{:<9} {} (id {})", item.outcome.as_str(), item.artifact.name, item.artifact.id),
            Some(e) => {
                println!("{:<9} {} (id {})", item.outcome.as_str(), item.artifact.name, item.artifact.id);
                print_error(e, "  ");
            }
        }
    }
    for g in &r.gold {
        println!("{:<9} gold image {} ({} stored files)", g.outcome.as_str(), g.image, g.files);
        if let Some(e) = &g.error {
            print_error(e, "  ");
        }
    }
    let named = |code: imagesmith_engine::ErrorCode| {
        r.items.iter().filter(|i| i.error.as_ref().is_some_and(|e| e.code == code)).map(|i| i.artifact.name.as_str()).collect::<Vec<_>>()
    };
    for (code, word) in
        [(imagesmith_engine::error::code::OBJECT_MISSING, "missing"), (imagesmith_engine::error::code::OBJECT_CORRUPTED, "damaged")]
    {
        let names = named(code);
        if !names.is_empty() {
            println!("{word}: {} — marked {word}; import the original files again to restore them", names.join(", "));
        }
    }
    if !r.orphans.is_empty() {
        println!(
            "removed {} orphan object{} (stored files no artifact named, left by a process that was killed):",
            r.orphans.len(),
            if r.orphans.len() == 1 { "" } else { "s" }
        );
        for sha in &r.orphans {
            println!("  {sha}");
        }
    }
    if !r.collected.is_empty() {
        let n = r.collected.len();
        println!("removed {n} deleted object{} from the team's bucket (their grace period was over):", if n == 1 { "" } else { "s" });
        for sha in &r.collected {
            println!("  {sha}");
        }
    }
    println!("job {}: {} — {}", r.job.id, r.job.state.as_str(), r.job.summary);
}

/// A progress bar on stderr with bytes, rate and ETA — only when stderr is a terminal.
pub struct ProgressBar(Option<indicatif::ProgressBar>);

impl ProgressBar {
    pub fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return ProgressBar(None);
        }
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:20!} [{bar:16}] {bytes:>9}/{total_bytes:9} {binary_bytes_per_sec:>11} ETA {eta:>3}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        ProgressBar(Some(bar))
    }

    pub fn update(&self, p: &JobProgress) {
        if let Some(bar) = &self.0 {
            bar.set_length(p.bytes_total);
            bar.set_position(p.bytes_done);
            let name = p.item_path.rsplit('/').next().unwrap_or("");
            bar.set_message(format!("{}/{} {name}", p.item_index + 1, p.item_count));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// What `profile export` prints: `{"job", "file", "sha256"}` as JSON, or a short summary
/// (`note` says where else the digest is, and what was checked).
pub fn export_report(r: &imagesmith_engine::export::ExportReport, json: bool, note: &str) {
    if json {
        self::json(&serde_json::json!({ "job": r.job, "file": r.file, "sha256": r.sha256, "size": r.size }));
    } else {
        println!("exported {} ({})\nsha256 {}  (also in {}.sha256{note})", r.file, human_size(r.size), r.sha256, r.file);
    }
}

pub fn profile_table(list: &[imagesmith_engine::Profile]) {
    if list.is_empty() {
        println!("No profiles. Create one with `imagesmith-cli profile create NAME --os-image IMAGE`.");
        return;
    }
    let mut table = Table::new(&["ID>", "NAME", "BASE IMAGE", "OS", "MEMBERS>", "UPDATED"]);
    for p in list {
        table.row([
            p.id.to_string(),
            truncate(&p.name, 32),
            truncate(&p.base.name, 32),
            p.os.map(|o| o.to_string()).unwrap_or_else(|| "-".into()),
            p.members.len().to_string(),
            p.updated_at.clone(),
        ]);
    }
    table.print();
}

/// Warnings, one a line: "warning: TEXT (code)".
pub fn print_warnings(warnings: &[imagesmith_engine::compat::Warning], indent: &str) {
    for w in warnings {
        println!("{indent}warning: {} ({})", w.text, w.code);
    }
}

pub fn profile_details(p: &imagesmith_engine::Profile) {
    println!("profile {} (id {})", p.name, p.id);
    if !p.description.is_empty() {
        println!("  {}", p.description);
    }
    if let Some(by) = &p.created_by {
        println!("  made by {by} on {}", p.created_at);
    }
    let os = match (&p.os, &p.distro) {
        (Some(o), Some(d)) => format!("{o}/{d}"),
        (Some(o), None) => o.to_string(),
        _ => "unknown OS".into(),
    };
    let flag = |state: ArtifactState| if state == ArtifactState::Ok { String::new() } else { format!(" [{state}]") };
    println!("  base image: {} (id {}, {os}){}", p.base.name, p.base.id, flag(p.base_state));
    match (&p.edition, p.editions.len()) {
        (Some(e), _) => {
            println!("  edition: {} {}{}", e.index, e.name, e.edition_id.as_ref().map(|id| format!(" ({id})")).unwrap_or_default())
        }
        (None, 0) => {}
        (None, n) => println!("  edition: not chosen ({n} in the image; Setup asks unless the answer file selects one)"),
    }
    if p.members.is_empty() {
        println!("  no members yet: add drivers, boot files, custom files and an answer file");
    }
    for m in &p.members {
        println!(
            "  {:<9} {} (id {}, {}, {}){}",
            m.role.as_str(),
            m.artifact.name,
            m.artifact.id,
            m.kind,
            human_size(m.size),
            flag(m.state)
        );
        print_warnings(&m.warnings, "            ");
    }
    let lost = p.members.iter().filter(|m| m.state != ArtifactState::Ok).count() + usize::from(p.base_state != ArtifactState::Ok);
    if lost > 0 {
        println!(
            "  {lost} of its files {} missing or damaged: it cannot be exported until they are imported again",
            if lost == 1 { "is" } else { "are" }
        );
    }
    for (k, v) in &p.options {
        println!("  option {k} = {v}");
    }
    match &p.updated_by {
        Some(by) => println!("  updated {} by {by}", p.updated_at),
        None => println!("  updated {}", p.updated_at),
    }
}

/// An answer file's lint: what it was checked as, then one finding per line with its fix.
pub fn lint(file: &std::path::Path, r: &imagesmith_engine::lint::LintReport) {
    let (errors, warnings) = (r.errors(), r.warnings());
    println!("{} — checked as {}: {errors} error(s), {warnings} warning(s)", file.display(), r.checked_as);
    for f in &r.findings {
        println!("  {:>5}:{:<3} {:<7} {:<20} {}", f.line, f.column, f.severity.as_str(), f.code.as_str(), f.message);
        println!("  {:>38}fix: {}", "", f.fix);
    }
}
