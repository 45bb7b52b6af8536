//! `store …`: saved image stores (IMGAPI, SimpleStreams) — add, list, test, remove, browse their
//! images and import some as one job.

use crate::{output, run_import, AttributeArgs};
use clap::Subcommand;
use imagesmith_engine::stores::{ImageStore, RemoteImage, StoreKind};
use imagesmith_engine::{Engine, Error, ImportRequest, Kind};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum StoreAction {
    /// Save an image store (the kind is asked of the address when not given).
    Add {
        name: String,
        #[arg(long)]
        url: String,
        #[arg(long)]
        kind: Option<StoreKind>,
        /// The publisher's OpenPGP public key (armored or binary): a SimpleStreams store is then
        /// read from its signed .sjson files, each checked against this key.
        #[arg(long, value_name = "FILE")]
        key: Option<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The saved stores.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Ask a store for its images and say how many it offers.
    Test {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Forget a store (what was imported from it stays).
    Remove {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// The images a store offers, newest first, marked when the library has them.
    Images {
        name: String,
        /// Words that must each match the name, version, description, OS, type or id.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        os: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Import images of a store (IMGAPI uuids or SimpleStreams product names) as one job: each is
    /// downloaded, checked against the size and digest the store declares, and decompressed.
    Import {
        name: String,
        #[arg(required = true, value_name = "UUID_OR_PRODUCT")]
        ids: Vec<String>,
        #[arg(long)]
        kind: Option<Kind>,
        #[arg(long)]
        os: Option<String>,
        /// Seconds a server may send nothing before a download fails (default 30).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        #[command(flatten)]
        attributes: AttributeArgs,
        #[arg(long)]
        json: bool,
    },
}

pub fn wants_json(a: &StoreAction) -> bool {
    match a {
        StoreAction::Add { json, .. }
        | StoreAction::List { json }
        | StoreAction::Test { json, .. }
        | StoreAction::Remove { json, .. }
        | StoreAction::Images { json, .. }
        | StoreAction::Import { json, .. } => *json,
    }
}

fn print_store(s: &ImageStore, json: bool) {
    if json {
        output::json(s);
    } else {
        let key = s.key_fingerprint.as_deref().map(|f| format!("  signed by {f}")).unwrap_or_default();
        println!("{}  {}  {}{key}", s.name, s.kind, s.url);
    }
}

pub fn run(engine: &Engine, action: StoreAction) -> Result<ExitCode, Error> {
    match action {
        StoreAction::Add { name, url, kind, key, json } => {
            let key = key.map(|k| std::fs::read(&k).map_err(|e| Error::io(&k, &e, false))).transpose()?;
            print_store(&engine.add_store(&name, &url, kind, key.as_deref())?, json)
        }
        StoreAction::List { json } => {
            let stores = engine.list_stores()?;
            if json {
                output::json(&stores);
            } else if stores.is_empty() {
                println!("No image stores. Add one with `imagesmith-cli store add NAME --url URL`.");
            } else {
                stores.iter().for_each(|s| print_store(s, false));
            }
        }
        StoreAction::Test { name, json } => {
            let check = engine.test_store(&name)?;
            if json {
                output::json(&check);
            } else {
                println!("{} answers as {} and offers {} images.", check.store.name, check.store.kind, check.images);
            }
        }
        StoreAction::Remove { name, json } => print_store(&engine.remove_store(&name)?, json),
        StoreAction::Images { name, search, os, json } => {
            let images = engine.store_images(&name, search.as_deref(), os.as_deref())?;
            if json {
                output::json(&images);
            } else {
                image_table(&images);
            }
        }
        StoreAction::Import { name, ids, kind, os, timeout, attributes, json } => {
            let over = attributes.patch();
            let mut items = engine.store_import_items(&name, &ids, &over)?;
            for item in &mut items {
                item.kind = kind;
                item.os = os.clone();
            }
            if over.alias.as_deref().is_some_and(|a| !a.trim().is_empty()) && items.len() > 1 {
                return Ok(crate::usage("--alias names one image; import the others separately or without --alias"));
            }
            let req = ImportRequest { items, read_timeout_secs: timeout, ..ImportRequest::default() };
            return run_import(engine, &req, json);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn image_table(images: &[RemoteImage]) {
    if images.is_empty() {
        println!("No images match.");
        return;
    }
    let mut table = crate::table::Table::new(&["ID", "NAME", "VERSION", "OS", "SIZE>", "PUBLISHED", "LIBRARY"]);
    for i in images {
        table.row([
            i.id.clone(),
            i.name.clone(),
            i.version.clone(),
            i.os.clone().unwrap_or_else(|| "—".into()),
            i.size.map(output::human_size).unwrap_or_else(|| "?".into()),
            i.published_at.clone().unwrap_or_else(|| "—".into()),
            i.in_library.clone().unwrap_or_default(),
        ]);
    }
    table.print();
}
