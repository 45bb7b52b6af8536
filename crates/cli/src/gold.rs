//! `gold …` and `series …`: capture software homes as gold images, promote, archive, provision and
//! check working copies, diff versions, group versions into series.

use crate::output;
use clap::Subcommand;
use imagesmith_engine::export::ArchiveFormat;
use imagesmith_engine::gold::{CaptureRequest, Drift, GoldImage, GoldState, ProvisionRequest, Series};
use imagesmith_engine::{Engine, Error};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum GoldAction {
    /// Capture a folder (a software home) as a gold image: every file stored once by SHA-256.
    Create {
        name: String,
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// software (default), oracle-db, oracle-gi, or your own word.
        #[arg(long = "type")]
        image_type: Option<String>,
        /// Put it at the end of this series (created if missing).
        #[arg(long)]
        series: Option<String>,
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List gold images, by series.
    List {
        #[arg(long)]
        series: Option<String>,
        #[arg(long)]
        state: Option<GoldState>,
        #[arg(long)]
        json: bool,
    },
    /// Show one image; --files lists its manifest.
    Show {
        name: String,
        #[arg(long)]
        files: bool,
        #[arg(long)]
        json: bool,
    },
    /// Move an image to testable, restricted or published.
    Promote {
        name: String,
        state: GoldState,
        #[arg(long)]
        json: bool,
    },
    /// Hide an image from new provisioning (refused while working copies use it).
    Archive {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Bring an archived image back (as testable).
    Unarchive {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an image (refused while working copies use it).
    Delete {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a working copy into a new or empty folder, every file checked as it is written.
    Provision {
        name: String,
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// Provision a testable or restricted image all the same.
        #[arg(long = "allow-unpublished")]
        allow_unpublished: bool,
        #[arg(long)]
        json: bool,
    },
    /// Working copies (of one image, or all).
    Copies {
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Stop tracking a working copy (the folder is left as it is).
    ForgetCopy {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Compare a folder with the image it came from (or --image): exit 0 identical, 1 drifted.
    Check {
        dir: PathBuf,
        #[arg(long)]
        image: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write an image as NAME.tar.gz or NAME.zip (gold.json, home/, SHA256SUMS) with a .sha256
    /// beside it. A zip keeps modes and symlinks; a hardlink becomes a copy and times are rounded
    /// to 2 s (gold.json keeps both, and `gold import` puts them back).
    Export {
        name: String,
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        #[arg(long, value_parser = ["tar.gz", "zip"], default_value = "tar.gz")]
        format: String,
        #[arg(long)]
        json: bool,
    },
    /// Make an image from an archive: one `gold export` wrote (checked against its SHA256SUMS), or
    /// any tar.gz or zip of a home.
    Import {
        file: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        series: Option<String>,
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// What changed from one image to another.
    Diff {
        a: String,
        b: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum SeriesAction {
    /// Create an empty series.
    Create {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Every series with its versions.
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Put an image at the end of a series.
    Add {
        series: String,
        image: String,
        #[arg(long)]
        json: bool,
    },
    /// Take an image out of a series.
    Remove {
        series: String,
        image: String,
        #[arg(long)]
        json: bool,
    },
    /// Make an image of the series its current one.
    Current {
        series: String,
        image: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn gold_wants_json(a: &GoldAction) -> bool {
    match a {
        GoldAction::Create { json, .. }
        | GoldAction::List { json, .. }
        | GoldAction::Show { json, .. }
        | GoldAction::Promote { json, .. }
        | GoldAction::Archive { json, .. }
        | GoldAction::Unarchive { json, .. }
        | GoldAction::Delete { json, .. }
        | GoldAction::Provision { json, .. }
        | GoldAction::Copies { json, .. }
        | GoldAction::ForgetCopy { json, .. }
        | GoldAction::Check { json, .. }
        | GoldAction::Diff { json, .. }
        | GoldAction::Export { json, .. }
        | GoldAction::Import { json, .. } => *json,
    }
}

pub fn series_wants_json(a: &SeriesAction) -> bool {
    match a {
        SeriesAction::Create { json, .. }
        | SeriesAction::List { json }
        | SeriesAction::Show { json, .. }
        | SeriesAction::Add { json, .. }
        | SeriesAction::Remove { json, .. }
        | SeriesAction::Current { json, .. } => *json,
    }
}

/// What a capture or an import made: the report as JSON, or one line ("captured NAME — …").
fn captured(report: &imagesmith_engine::gold::CaptureReport, json: bool, verb: &str) {
    if json {
        output::json(report);
    } else if let Some(g) = &report.image {
        println!(
            "{verb} {} — {} files, {} ({} new in the store)",
            g.name,
            g.files,
            output::human_size(g.size),
            output::human_size(g.new_bytes)
        );
    }
}

/// An image changed by a command: as JSON, or one line saying `what`.
fn changed(g: &GoldImage, json: bool, what: &str) {
    if json {
        output::json(g);
    } else {
        println!("{} {what}", g.name);
    }
}

fn series_out(s: &Series, json: bool) {
    if json {
        output::json(s);
    } else {
        series_text(s);
    }
}

/// Gold images as a table: name, version, state, files, size, bytes new to the store, series.
fn image_table(images: &[GoldImage], indent: &'static str) {
    let mut table = crate::table::Table::new(&["NAME", "VERSION", "STATE", "FILES>", "SIZE>", "NEW>", "SERIES"]).indented(indent);
    for g in images {
        let series = match (&g.series, g.current) {
            (Some(s), true) => format!("{s} (current)"),
            (Some(s), false) => s.clone(),
            (None, _) => "-".into(),
        };
        table.row([
            g.name.clone(),
            if g.version.is_empty() { "-".into() } else { g.version.clone() },
            g.state.as_str().to_string(),
            g.files.to_string(),
            output::human_size(g.size),
            output::human_size(g.new_bytes),
            series,
        ]);
    }
    table.print();
}

fn image_details(g: &GoldImage) {
    let row = |k: &str, v: &str| println!("{k:>14}: {v}");
    row("name", &g.name);
    row("type", &g.image_type);
    row("state", g.state.as_str());
    if let Some(s) = &g.series {
        row("series", &format!("{s}{}", if g.current { " (current)" } else { "" }));
    }
    if !g.version.is_empty() {
        row("version", &g.version);
    }
    if !g.description.is_empty() {
        row("description", &g.description);
    }
    row("files", &g.files.to_string());
    row("size", &format!("{} ({} new when captured)", output::human_size(g.size), output::human_size(g.new_bytes)));
    row("captured from", &g.source);
    row("created", &g.created_at);
    if let Some(by) = &g.created_by {
        row("captured by", by);
    }
    for (i, c) in g.copies.iter().enumerate() {
        row(if i == 0 { "working copies" } else { "" }, &format!("{} ({})", c.path, c.provisioned_at));
    }
}

fn drift_text(d: &Drift) {
    if d.is_empty() {
        println!("identical");
        return;
    }
    for (word, paths) in [("changed", &d.changed), ("added", &d.added), ("removed", &d.removed), ("mode", &d.mode_changed)] {
        for p in paths {
            println!("{word:<8} {p}");
        }
    }
    println!(
        "{} changed, {} added, {} removed, {} with another mode",
        d.changed.len(),
        d.added.len(),
        d.removed.len(),
        d.mode_changed.len()
    );
}

fn series_text(s: &Series) {
    println!("{} ({} versions{})", s.name, s.images.len(), s.current.as_deref().map(|c| format!(", current {c}")).unwrap_or_default());
    if !s.images.is_empty() {
        image_table(&s.images, "  ");
    }
}

pub fn run(engine: &Engine, action: GoldAction) -> Result<ExitCode, Error> {
    match action {
        GoldAction::Create { name, from, image_type, series, version, description, json } => {
            let cancel = crate::cancel_on_ctrl_c();
            let bar = output::ProgressBar::new(json);
            let req = CaptureRequest { name, from, image_type, series, version, description };
            let report = engine.capture(req, &cancel, &|p| bar.update(p));
            bar.finish();
            captured(&report?, json, "captured");
        }
        GoldAction::List { series, state, json } => {
            let list = engine.list_gold(series.as_deref(), state)?;
            if json {
                output::json(&list);
            } else if list.is_empty() {
                println!("No gold images yet: capture one with `imagesmith-cli gold create NAME --from DIR`.");
            } else {
                image_table(&list, "");
            }
        }
        GoldAction::Show { name, files, json } => {
            let g = engine.get_gold(&name)?;
            let entries = if files { Some(engine.gold_files(&name)?) } else { None };
            if json {
                let mut v = serde_json::to_value(&g).expect("a gold image serialises");
                if let Some(e) = &entries {
                    v["entries"] = serde_json::to_value(e).expect("entries serialise");
                }
                output::json(&v);
            } else {
                image_details(&g);
                for e in entries.iter().flatten() {
                    let what = match (&e.target, &e.link) {
                        (Some(t), _) => format!("-> {t}"),
                        (_, Some(l)) => format!("= {l}"),
                        _ => e.sha256.as_deref().map(|s| s[..16].to_string()).unwrap_or_default(),
                    };
                    println!("{:<7} {:04o} {:>10} {} {what}", e.kind.as_str(), e.mode, e.size, e.path);
                }
            }
        }
        GoldAction::Promote { name, state, json } => {
            let g = engine.promote_gold(&name, state)?;
            changed(&g, json, &format!("is {}.", g.state));
        }
        GoldAction::Archive { name, json } => changed(&engine.archive_gold(&name)?, json, "is archived: hidden from new provisioning."),
        GoldAction::Unarchive { name, json } => {
            let g = engine.unarchive_gold(&name)?;
            changed(&g, json, &format!("is {} again.", g.state));
        }
        GoldAction::Delete { name, json } => changed(&engine.delete_gold(&name)?, json, "was deleted."),
        GoldAction::Provision { name, to, allow_unpublished, json } => {
            let cancel = crate::cancel_on_ctrl_c();
            let bar = output::ProgressBar::new(json);
            let req = ProvisionRequest { image: name, to, allow_unpublished };
            let report = engine.provision(&req, &cancel, &|p| bar.update(p));
            bar.finish();
            let report = report?;
            if json {
                output::json(&report);
            } else if let Some(c) = &report.copy {
                println!("provisioned {} into {}", c.image, c.path);
            }
        }
        GoldAction::Copies { name, json } => {
            let copies = engine.gold_copies(name.as_deref())?;
            if json {
                output::json(&copies);
            } else if copies.is_empty() {
                println!("No working copies.");
            } else {
                let mut table = crate::table::Table::new(&["PATH", "IMAGE", "PROVISIONED"]);
                for c in &copies {
                    table.row([c.path.clone(), c.image.clone(), c.provisioned_at.clone()]);
                }
                table.print();
            }
        }
        GoldAction::ForgetCopy { dir, json } => {
            let c = engine.forget_copy(&dir)?;
            if json {
                output::json(&c);
            } else {
                println!("Forgot the working copy {} (of {}); the folder is left as it is.", c.path, c.image);
            }
        }
        GoldAction::Check { dir, image, json } => {
            let d = engine.check_copy(&dir, image.as_deref())?;
            if json {
                output::json(&d);
            } else {
                drift_text(&d);
            }
            return Ok(if d.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        GoldAction::Export { name, to, format, json } => {
            let cancel = crate::cancel_on_ctrl_c();
            let bar = output::ProgressBar::new(json);
            let report = engine.export_gold(
                &imagesmith_engine::gold::GoldExportRequest {
                    image: name,
                    dir: to,
                    format: if format == "zip" { ArchiveFormat::Zip } else { ArchiveFormat::TarGz },
                },
                &cancel,
                &|p| bar.update(p),
            );
            bar.finish();
            output::export_report(&report?, json, "");
        }
        GoldAction::Import { file, name, series, version, json } => {
            let cancel = crate::cancel_on_ctrl_c();
            let bar = output::ProgressBar::new(json);
            let req = imagesmith_engine::gold::GoldImportRequest { archive: file, name, series, version };
            let report = engine.import_gold(req, &cancel, &|p| bar.update(p));
            bar.finish();
            captured(&report?, json, "imported");
        }
        GoldAction::Diff { a, b, json } => {
            let d = engine.diff_gold(&a, &b)?;
            if json {
                output::json(&d);
            } else {
                drift_text(&d);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_series(engine: &Engine, action: SeriesAction) -> Result<ExitCode, Error> {
    match action {
        SeriesAction::Create { name, json } => series_out(&engine.create_series(&name)?, json),
        SeriesAction::List { json } => {
            let all = engine.list_series()?;
            if json {
                output::json(&all);
            } else if all.is_empty() {
                println!("No series yet.");
            } else {
                all.iter().for_each(series_text);
            }
        }
        SeriesAction::Show { name, json } => {
            let s = engine.get_series(&name)?;
            if json {
                output::json(&s);
            } else {
                series_text(&s);
            }
        }
        SeriesAction::Add { series, image, json } => series_out(&engine.series_add(&series, &image)?, json),
        SeriesAction::Remove { series, image, json } => series_out(&engine.series_remove(&series, &image)?, json),
        SeriesAction::Current { series, image, json } => series_out(&engine.series_current(&series, &image)?, json),
    }
    Ok(ExitCode::SUCCESS)
}
