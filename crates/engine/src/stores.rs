//! Image stores: saved IMGAPI (SmartOS, Triton, Danube) and SimpleStreams (Ubuntu cloud images,
//! LXD, MAAS) sources to browse and import from, and the IMGAPI manifests that `import
//! --manifest-url` reads. Everything a store says becomes a [`RemoteImage`]; importing one is an
//! ordinary import item whose URL is downloaded and checked against the size and digest the store
//! declared (see `download`), decompressed when the store serves it compressed.

use crate::checksum::ExpectedDigest;
use crate::clock;
use crate::db::{params, Connection, OptionalExtension, Row};
use crate::error::{code, Error, Result};
use crate::import::ImportItem;
use crate::model::{string_enum, Algo, ArtifactPatch, ExpectedFrom};
use crate::openpgp::TrustedKey;
use crate::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::io::Read;
use std::time::Duration;

string_enum!(
    /// The protocol an image store speaks.
    StoreKind, "store kind", InvalidArgument { Imgapi = "imgapi", Simplestreams = "simplestreams" }
);

string_enum!(
    /// How a store serves an image's bytes (IMGAPI `files[0].compression`); stored decompressed.
    Compression, "compression", InvalidArgument { None = "none", Gzip = "gzip", Bzip2 = "bzip2", Xz = "xz" }
);

/// A saved image store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImageStore {
    pub name: String,
    pub url: String,
    pub kind: StoreKind,
    /// The OpenPGP key a SimpleStreams store's signed (.sjson) files must verify against.
    pub key_fingerprint: Option<String>,
    pub created_at: String,
    /// Who saved it, as `user@host` (none for stores saved before this was recorded).
    pub created_by: Option<String>,
}

/// One image a store offers or a manifest describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RemoteImage {
    /// The IMGAPI uuid, or the SimpleStreams product name.
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub os: Option<String>,
    /// IMGAPI `type` (zvol, zone-dataset, other, …) or the SimpleStreams item's `ftype`.
    pub image_type: Option<String>,
    pub arch: Option<String>,
    /// Bytes as served (compressed when `compression` says so).
    pub size: Option<u64>,
    pub published_at: Option<String>,
    pub public: bool,
    pub tags: Vec<String>,
    pub file_url: String,
    pub manifest_url: Option<String>,
    /// The digest the store declares for the bytes it serves.
    pub digest_algo: Option<Algo>,
    pub digest: Option<String>,
    pub compression: Compression,
    /// The artifact that already holds this image, if any.
    pub in_library: Option<String>,
}

/// What an import item knows of the image behind its URL: checked as the bytes come.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RemoteFile {
    pub manifest_url: Option<String>,
    pub store: Option<String>,
    pub remote_id: Option<String>,
    pub size: Option<u64>,
    pub compression: Option<Compression>,
    pub digest_algo: Option<Algo>,
    pub digest: Option<String>,
}

impl RemoteFile {
    /// The declared digest as expected evidence, naming where it was read.
    pub fn expected(&self, file_url: &str) -> Option<ExpectedDigest> {
        let (algo, hex) = (self.digest_algo?, self.digest.clone()?);
        let source = self.manifest_url.clone().unwrap_or_else(|| file_url.to_string());
        Some(ExpectedDigest { algo, hex: hex.to_ascii_lowercase(), source, from: ExpectedFrom::ChecksumFile, line: None, signature: None })
    }
}

/// `store test`: the store answered and offers this many images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StoreCheck {
    pub store: ImageStore,
    pub images: u32,
}

/// Listings and manifests are JSON of a few MiB at most.
const MAX_JSON: u64 = 64 << 20;
const TIMEOUT: Duration = Duration::from_secs(30);

const COLUMNS: &str = "name, url, kind, key_fingerprint, created_at, created_by";

fn from_row(r: &Row<'_>) -> crate::db::SqlResult<ImageStore> {
    Ok(ImageStore {
        name: r.get(0)?,
        url: r.get(1)?,
        kind: crate::db::word(r, 2)?,
        key_fingerprint: r.get(3)?,
        created_at: r.get(4)?,
        created_by: r.get(5)?,
    })
}

fn find(conn: &Connection, name: &str) -> Result<Option<ImageStore>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM image_stores WHERE name = ?1 COLLATE NOCASE"), [name], from_row).optional()?)
}

/// The store's signing key, when one was configured.
fn signing_key(conn: &Connection, name: &str) -> Result<Option<TrustedKey>> {
    let bytes: Option<Vec<u8>> =
        conn.query_row("SELECT signing_key FROM image_stores WHERE name = ?1 COLLATE NOCASE", [name], |r| r.get(0)).optional()?.flatten();
    bytes.map(|b| crate::openpgp::read_key(&b)).transpose()
}

fn store_not_found(name: &str) -> Error {
    Error::new(
        code::NOT_FOUND,
        format!("There is no image store named \"{name}\"."),
        "An image store is an IMGAPI or SimpleStreams address saved with `store add` or in the app.",
        "List the stores (`imagesmith-cli store list`) and use one of their names, or add it first.",
    )
}

fn bad_url(url: &str) -> Error {
    Error::new(
        code::INVALID_ARGUMENT,
        format!("\"{url}\" is not an http(s) address."),
        "Image stores and manifests are fetched over HTTP or HTTPS.",
        "Give the store's base URL, such as https://images.example.com or https://cloud-images.ubuntu.com/releases.",
    )
}

fn invalid(url: &str, why: impl std::fmt::Display) -> Error {
    Error::new(
        code::INVALID_CONTENT,
        format!("{url} is not a usable image store answer: {why}."),
        "The address answered, but not with the JSON an IMGAPI or SimpleStreams store serves.",
        "Check the URL and the store kind (imgapi or simplestreams).",
    )
}

fn trim(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// GET a JSON document (a listing, a manifest, a SimpleStreams index), at most [`MAX_JSON`] bytes.
pub fn get_json(url: &str) -> Result<Value> {
    let body = get_small(url)?;
    serde_json::from_slice(&body).map_err(|e| invalid(url, e))
}

/// GET a clear-signed JSON document (SimpleStreams .sjson) and parse what `key` signed in it.
fn get_signed_json(url: &str, key: &TrustedKey) -> Result<Value> {
    let body = get_small(url)?;
    let text = String::from_utf8(body).map_err(|e| invalid(url, e))?;
    let signed = crate::openpgp::verify_clearsigned(&text, key, url)?;
    serde_json::from_str(&signed).map_err(|e| invalid(url, e))
}

fn get_small(url: &str) -> Result<Vec<u8>> {
    let client = crate::download::client(TIMEOUT)?;
    let resp = client.get(url).send().map_err(|e| crate::download::unreachable(url, &e))?;
    if !resp.status().is_success() {
        return Err(crate::download::http_status(url, resp.status()));
    }
    let mut body = Vec::new();
    resp.take(MAX_JSON + 1).read_to_end(&mut body).map_err(|e| invalid(url, e))?;
    if body.len() as u64 > MAX_JSON {
        return Err(invalid(url, format!("larger than {MAX_JSON} bytes")));
    }
    Ok(body)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().trim().to_string()
}

fn opt_text(v: &Value, key: &str) -> Option<String> {
    Some(text(v, key)).filter(|s| !s.is_empty())
}

/// Where IMGAPI serves the file of the image whose manifest is at `manifest_url`:
/// `…/images/<uuid>/file`, so the path up to the segment that is the image's uuid, then `file`
/// (`…/images/<uuid>`, `…/images/<uuid>/` and `…/images/<uuid>/manifest.json` all lead there; a
/// query such as `?channel=` is kept). A manifest URL without its uuid in the path names no file.
pub fn imgapi_file_url(manifest_url: &str, uuid: &str) -> Result<String> {
    let no_file = || {
        Error::new(
            code::INVALID_ARGUMENT,
            format!("{manifest_url} does not say where the file of image {uuid} is."),
            "An image store serves a manifest at …/images/UUID and its file at …/images/UUID/file; this address is not of that form.",
            "Give the file's address with --file-url (in the app: the file URL field).",
        )
    };
    let mut url = reqwest::Url::parse(manifest_url.trim()).map_err(|_| no_file())?;
    let segments: Vec<String> = url.path_segments().map(|s| s.map(str::to_string).collect()).unwrap_or_default();
    let at = segments.iter().rposition(|s| s == uuid).ok_or_else(no_file)?;
    let mut path: Vec<&str> = segments[..=at].iter().map(String::as_str).collect();
    path.push("file");
    url.set_path(&path.join("/"));
    url.set_fragment(None);
    Ok(url.to_string())
}

/// An IMGAPI manifest (v2) as a remote image. `manifest_url` is where it was read (or would be,
/// for a listing); the file URL is `file_url` or, as IMGAPI serves it, `…/images/<uuid>/file`
/// ([`imgapi_file_url`]).
pub fn from_imgapi_manifest(m: &Value, manifest_url: &str, file_url: Option<&str>) -> Result<RemoteImage> {
    let uuid = opt_text(m, "uuid").ok_or_else(|| invalid(manifest_url, "the manifest has no uuid"))?;
    let name = opt_text(m, "name").ok_or_else(|| invalid(manifest_url, "the manifest has no name"))?;
    let file = m.get("files").and_then(Value::as_array).and_then(|f| f.first()).cloned().unwrap_or(Value::Null);
    let compression = match opt_text(&file, "compression") {
        Some(c) => c.parse::<Compression>().map_err(|_| invalid(manifest_url, format!("unknown compression \"{c}\"")))?,
        None => Compression::None,
    };
    let (digest_algo, digest) = match (opt_text(&file, "sha1"), opt_text(&file, "sha256")) {
        (_, Some(h)) => (Some(Algo::Sha256), Some(h)),
        (Some(h), None) => (Some(Algo::Sha1), Some(h)),
        (None, None) => (None, None),
    };
    let tags = match m.get("tags") {
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| match v {
                Value::Bool(true) => k.clone(),
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    Ok(RemoteImage {
        file_url: match file_url {
            Some(f) => f.to_string(),
            None => imgapi_file_url(manifest_url, &uuid)?,
        },
        id: uuid,
        name,
        version: text(m, "version"),
        description: text(m, "description"),
        os: opt_text(m, "os"),
        image_type: opt_text(m, "type"),
        arch: m.pointer("/requirements/arch").and_then(Value::as_str).map(str::to_string),
        size: file.get("size").and_then(Value::as_u64),
        published_at: opt_text(m, "published_at"),
        public: m.get("public").and_then(Value::as_bool).unwrap_or(false),
        tags,
        manifest_url: Some(manifest_url.to_string()),
        digest_algo,
        digest,
        compression,
        in_library: None,
    })
}

/// The item types of a SimpleStreams product version, best first, for a disk image to import.
const FTYPES: &[&str] = &["disk1.img", "disk-kvm.img", "uefi1.img", "qcow2", "img", "disk.img", "root.tar.xz", "squashfs"];

/// Every product of a SimpleStreams tree at `base` (`streams/v1/index.json` and the product files
/// it names), each as its newest version's best item. With a key, the signed variants
/// (`index.sjson`, `….sjson`) are read instead and each must verify against it.
fn simplestreams_images(base: &str, key: Option<&TrustedKey>) -> Result<Vec<RemoteImage>> {
    let fetch = |url: &str| match key {
        Some(k) => get_signed_json(&url.strip_suffix(".json").map(|u| format!("{u}.sjson")).unwrap_or_else(|| url.to_string()), k),
        None => get_json(url),
    };
    let index_url = format!("{base}/streams/v1/index.json");
    let index = fetch(&index_url)?;
    let entries = index.get("index").and_then(Value::as_object).ok_or_else(|| invalid(&index_url, "no \"index\" object"))?;
    let mut out = Vec::new();
    for entry in entries.values() {
        if entry.get("format").and_then(Value::as_str).is_some_and(|f| f != "products:1.0") {
            continue;
        }
        let Some(path) = entry.get("path").and_then(Value::as_str) else { continue };
        let products_url = format!("{base}/{}", path.trim_start_matches('/'));
        let doc = fetch(&products_url)?;
        let products = doc.get("products").and_then(Value::as_object).ok_or_else(|| invalid(&products_url, "no \"products\" object"))?;
        let updated = opt_text(&doc, "updated");
        for (pname, p) in products {
            if let Some(img) = simplestreams_product(base, pname, p, updated.as_deref()) {
                out.push(img);
            }
        }
    }
    Ok(out)
}

/// SimpleStreams "condenses" a tree: a field every item shares is written once, at the version or
/// product level (json2streams moves `ftype`, `os`, `arch` up). Reading undoes it: an item is its
/// product's fields, overridden by its version's, overridden by its own.
fn expanded(levels: &[&Value]) -> Value {
    let mut out = Map::new();
    for level in levels {
        if let Some(o) = level.as_object() {
            for (k, v) in o {
                if k != "versions" && k != "items" {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

/// When a SimpleStreams version was published: its serial is the build date (`20261201`,
/// `20261201.1`, LXD's `20261201_07:42`), as RFC 3339 (a date alone when the serial has no time);
/// else the products file's `updated` (RFC 2822), else unknown.
fn simplestreams_published(serial: &str, updated: Option<&str>) -> Option<String> {
    use time::format_description::well_known::{Rfc2822, Rfc3339};
    let digits = serial.get(..8).filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
    let date = digits.and_then(|d| {
        let month = time::Month::try_from(d[4..6].parse::<u8>().ok()?).ok()?;
        time::Date::from_calendar_date(d[..4].parse().ok()?, month, d[6..].parse().ok()?).ok()
    });
    if let Some(date) = date {
        let clock = serial.get(8..).and_then(|rest| rest.strip_prefix('_')).and_then(|t| {
            let (h, m) = t.get(..5)?.split_once(':')?;
            time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
        });
        return Some(match clock {
            Some(t) => date.with_time(t).assume_utc().format(&Rfc3339).ok()?,
            None => format!("{date}"),
        });
    }
    let when = time::OffsetDateTime::parse(updated?.trim(), &Rfc2822).ok()?;
    when.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

fn simplestreams_product(base: &str, pname: &str, p: &Value, updated: Option<&str>) -> Option<RemoteImage> {
    let versions = p.get("versions")?.as_object()?;
    // Serials sort as text (20261201, 20261201.1).
    let (serial, v) = versions.iter().max_by(|a, b| a.0.cmp(b.0))?;
    let items: Vec<Value> = v.get("items")?.as_object()?.values().map(|i| expanded(&[p, v, i])).collect();
    let item =
        FTYPES.iter().find_map(|t| items.iter().find(|i| i.get("ftype").and_then(Value::as_str) == Some(t))).or_else(|| items.first())?;
    let path = item.get("path")?.as_str()?;
    let (digest_algo, digest) = match (opt_text(item, "sha256"), opt_text(item, "md5")) {
        (Some(h), _) => (Some(Algo::Sha256), Some(h)),
        (None, Some(h)) => (Some(Algo::Md5), Some(h)),
        _ => (None, None),
    };
    let os = opt_text(p, "os");
    let release = opt_text(p, "release");
    Some(RemoteImage {
        id: pname.to_string(),
        name: opt_text(p, "release_title")
            .map(|t| format!("{} {t}", os.clone().unwrap_or_default()).trim().to_string())
            .or_else(|| release.clone())
            .unwrap_or_else(|| pname.to_string()),
        version: serial.clone(),
        description: opt_text(p, "release_codename").map(|c| format!("codename {c}")).unwrap_or_default(),
        os: match (os, release) {
            (Some(o), Some(r)) => Some(format!("{o} {r}")),
            (o, r) => o.or(r),
        },
        image_type: opt_text(item, "ftype"),
        arch: opt_text(p, "arch"),
        size: item.get("size").and_then(Value::as_u64),
        published_at: simplestreams_published(serial, updated),
        public: true,
        tags: Vec::new(),
        file_url: format!("{base}/{}", path.trim_start_matches('/')),
        manifest_url: None,
        digest_algo,
        digest,
        compression: Compression::None,
        in_library: None,
    })
}

/// IMGAPI answers `ListImages` with at most this many images (its default and maximum `limit`).
const IMGAPI_PAGE: usize = 1000;
/// Pages read before a listing is cut short (a store of 100,000 images).
const IMGAPI_PAGES: usize = 100;

/// Every image of an IMGAPI listing, page by page: `limit` images sorted by `published_at`, the
/// next page from `marker` = the last image's uuid (which IMGAPI includes again: `>=`). A server
/// that ignores the parameters (a static tree) answers the whole list once, and a page with
/// nothing new ends the walk, so it never loops.
fn imgapi_pages(mut page: impl FnMut(Option<&str>) -> Result<Vec<Value>>) -> Result<Vec<Value>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..IMGAPI_PAGES {
        let images = page(marker.as_deref())?;
        let full = images.len() >= IMGAPI_PAGE;
        let before = out.len();
        for m in images {
            if seen.insert(text(&m, "uuid")) {
                out.push(m);
            }
        }
        if !full || out.len() == before {
            break;
        }
        marker = out.last().map(|m| text(m, "uuid"));
    }
    Ok(out)
}

fn imgapi_images(base: &str) -> Result<Vec<RemoteImage>> {
    let arr = imgapi_pages(|marker| {
        let url = match marker {
            None => format!("{base}/images?limit={IMGAPI_PAGE}"),
            Some(m) => format!("{base}/images?limit={IMGAPI_PAGE}&marker={m}"),
        };
        let list = get_json(&url)?;
        match list {
            Value::Array(a) => Ok(a),
            _ => Err(invalid(&url, "not a JSON array of images")),
        }
    })?;
    arr.iter()
        // IMGAPI lists disabled and unactivated images to their owners only; skip them.
        .filter(|m| m.get("state").and_then(Value::as_str).is_none_or(|s| s == "active"))
        .filter(|m| !m.get("disabled").and_then(Value::as_bool).unwrap_or(false))
        .map(|m| {
            let at = format!("{base}/images/{}", text(m, "uuid"));
            // A listing's file URL is known without parsing the manifest URL back.
            from_imgapi_manifest(m, &at, Some(&format!("{at}/file")))
        })
        .collect()
}

fn images_of(store: &ImageStore, key: Option<&TrustedKey>) -> Result<Vec<RemoteImage>> {
    match store.kind {
        StoreKind::Imgapi => imgapi_images(&store.url),
        StoreKind::Simplestreams => simplestreams_images(&store.url, key),
    }
}

/// The artifact that already holds `img`: imported from the same store id, or the same digest.
fn in_library(conn: &Connection, store: Option<&str>, img: &RemoteImage) -> Result<Option<String>> {
    let by_id: Option<String> = conn
        .query_row(
            "SELECT name FROM artifacts WHERE remote_id = ?1 AND (source_store = ?2 COLLATE NOCASE OR ?2 IS NULL)",
            params![img.id, store],
            |r| r.get(0),
        )
        .optional()?;
    if by_id.is_some() || img.compression != Compression::None {
        return Ok(by_id);
    }
    let column = match img.digest_algo {
        Some(Algo::Sha256) => "sha256",
        Some(Algo::Sha1) => "sha1",
        Some(Algo::Md5) => "md5",
        _ => return Ok(None),
    };
    Ok(conn
        .query_row(
            &format!("SELECT a.name FROM artifacts a JOIN objects o ON o.sha256 = a.sha256 WHERE o.{column} = ?1"),
            [img.digest.as_deref().unwrap_or_default().to_ascii_lowercase()],
            |r| r.get(0),
        )
        .optional()?)
}

/// The import item for a remote image: its file URL, the declared size and digest to check, and
/// the attributes it brings (name-version, version, description, tags, access) under `over`.
pub fn import_item(img: &RemoteImage, store: Option<&str>, over: &ArtifactPatch) -> ImportItem {
    let name = if img.version.is_empty() { img.name.clone() } else { format!("{}-{}", img.name, img.version) };
    let name = name.split_whitespace().collect::<Vec<_>>().join("-");
    let defaults = ArtifactPatch {
        description: Some(img.description.clone()).filter(|d| !d.is_empty()),
        version: Some(img.version.clone()).filter(|v| !v.is_empty()),
        tags: Some(img.tags.clone()).filter(|t| !t.is_empty()),
        access: Some(if img.public { crate::model::Access::Public } else { crate::model::Access::Private }),
        ..ArtifactPatch::default()
    };
    let attributes = ArtifactPatch {
        name: None,
        kind: None,
        os: None,
        alias: over.alias.clone(),
        access: over.access.or(defaults.access),
        owner: over.owner.clone(),
        description: over.description.clone().or(defaults.description),
        version: over.version.clone().or(defaults.version),
        resize: over.resize,
        deploy: over.deploy,
        tags: over.tags.clone().or(defaults.tags),
    };
    ImportItem {
        url: Some(img.file_url.clone()),
        name: Some(name),
        attributes,
        remote: Some(RemoteFile {
            manifest_url: img.manifest_url.clone(),
            store: store.map(str::to_string),
            remote_id: Some(img.id.clone()),
            size: img.size,
            compression: Some(img.compression),
            digest_algo: img.digest_algo,
            digest: img.digest.clone(),
        }),
        ..ImportItem::default()
    }
}

impl Engine {
    /// Save an image store. Without a kind, the address is asked: a SimpleStreams index, else an
    /// IMGAPI image list. A `key` (an OpenPGP public key, armored or binary) makes every
    /// SimpleStreams file be read signed (.sjson) and checked against it.
    pub fn add_store(&self, name: &str, url: &str, kind: Option<StoreKind>, key: Option<&[u8]>) -> Result<ImageStore> {
        let name = crate::catalog::validate_name(name)?;
        let trusted = key.map(crate::openpgp::read_key).transpose()?;
        if !crate::download::is_url(url) {
            return Err(bad_url(url));
        }
        let url = trim(url);
        let kind = match kind {
            Some(k) => k,
            None => {
                if get_json(&format!("{url}/streams/v1/index.json")).is_ok() {
                    StoreKind::Simplestreams
                } else {
                    get_json(&format!("{url}/images")).map_err(|e| {
                        Error::new(
                            e.code,
                            format!("{url} answers neither as an IMGAPI nor as a SimpleStreams store: {}", e.text),
                            e.explanation,
                            "Check the URL, or say which kind it is with --kind imgapi|simplestreams.",
                        )
                    })?;
                    StoreKind::Imgapi
                }
            }
        };
        self.write(|tx| {
            if find(tx, &name)?.is_some() {
                return Err(Error::new(
                    code::NAME_TAKEN,
                    format!("An image store named \"{name}\" already exists."),
                    "Store names are unique (case does not matter).",
                    "Choose another name, or remove the old store first (`imagesmith-cli store remove NAME`).",
                ));
            }
            tx.execute(
                "INSERT INTO image_stores (name, url, kind, signing_key, key_fingerprint, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![name, url, kind.as_str(), key, trusted.as_ref().map(|k| k.fingerprint.clone()), clock::now(), crate::team::who()],
            )?;
            Ok(())
        })?;
        self.get_store(&name)
    }

    pub fn list_stores(&self) -> Result<Vec<ImageStore>> {
        let conn = self.db();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM image_stores ORDER BY name COLLATE NOCASE"))?;
        let rows = stmt.query_map([], from_row)?.collect::<crate::db::SqlResult<_>>()?;
        Ok(rows)
    }

    pub fn get_store(&self, name: &str) -> Result<ImageStore> {
        find(&self.db(), name)?.ok_or_else(|| store_not_found(name))
    }

    /// What the store offers now (read signed when it has a key).
    fn offered(&self, name: &str) -> Result<(ImageStore, Vec<RemoteImage>)> {
        let store = self.get_store(name)?;
        let key = signing_key(&self.db(), &store.name)?;
        let images = images_of(&store, key.as_ref())?;
        Ok((store, images))
    }

    /// Forget a store. What was imported from it stays, naming it as its source.
    pub fn remove_store(&self, name: &str) -> Result<ImageStore> {
        let store = self.get_store(name)?;
        self.write(|tx| {
            tx.execute("DELETE FROM image_stores WHERE name = ?1 COLLATE NOCASE", [&store.name])?;
            crate::deletions::record(tx, crate::deletions::DeletedKind::Store, &store.name, Some(&store.url))
        })?;
        Ok(store)
    }

    /// Ask the store for its images.
    pub fn test_store(&self, name: &str) -> Result<StoreCheck> {
        let (store, images) = self.offered(name)?;
        Ok(StoreCheck { store, images: images.len() as u32 })
    }

    /// The store's images, newest first, each marked when the library has it already. `search`
    /// words must each match the name, version, description, OS, type or id; `os` matches the OS.
    pub fn store_images(&self, name: &str, search: Option<&str>, os: Option<&str>) -> Result<Vec<RemoteImage>> {
        let (store, mut images) = self.offered(name)?;
        let words: Vec<String> = search.unwrap_or_default().split_whitespace().map(str::to_lowercase).collect();
        let os = os.map(str::to_lowercase);
        images.retain(|i| {
            let hay = format!(
                "{} {} {} {} {} {}",
                i.name,
                i.version,
                i.description,
                i.os.as_deref().unwrap_or_default(),
                i.image_type.as_deref().unwrap_or_default(),
                i.id
            )
            .to_lowercase();
            words.iter().all(|w| hay.contains(w))
                && os.as_ref().is_none_or(|o| i.os.as_deref().unwrap_or_default().to_lowercase().contains(o))
        });
        images.sort_by(|a, b| b.published_at.cmp(&a.published_at).then(a.name.cmp(&b.name)));
        let conn = self.db();
        for img in &mut images {
            img.in_library = in_library(&conn, Some(&store.name), img)?;
        }
        Ok(images)
    }

    /// Import items for images of a store, by uuid or product name (each must exist there).
    pub fn store_import_items(&self, name: &str, ids: &[String], over: &ArtifactPatch) -> Result<Vec<ImportItem>> {
        let (store, images) = self.offered(name)?;
        ids.iter()
            .map(|id| {
                let img = images.iter().find(|i| i.id.eq_ignore_ascii_case(id.trim())).ok_or_else(|| {
                    Error::new(
                        code::NOT_FOUND,
                        format!("The store {} has no image {id}.", store.name),
                        "Images are named by their IMGAPI uuid or their SimpleStreams product name.",
                        format!("List them with `imagesmith-cli store images {}`.", store.name),
                    )
                })?;
                Ok(import_item(img, Some(&store.name), over))
            })
            .collect()
    }

    /// The import item for an IMGAPI manifest at `manifest_url` (its file at `file_url`, or
    /// `…/images/<uuid>/file` beside it: [`imgapi_file_url`]).
    pub fn manifest_import_item(
        &self,
        manifest_url: &str,
        file_url: Option<&str>,
        over: &ArtifactPatch,
    ) -> Result<(RemoteImage, ImportItem)> {
        if !crate::download::is_url(manifest_url) {
            return Err(bad_url(manifest_url));
        }
        if let Some(f) = file_url.filter(|f| !crate::download::is_url(f)) {
            return Err(bad_url(f));
        }
        let manifest = get_json(manifest_url)?;
        let mut img = from_imgapi_manifest(&manifest, manifest_url, file_url)?;
        img.in_library = in_library(&self.db(), None, &img)?;
        let item = import_item(&img, None, over);
        Ok((img, item))
    }
}

/// Facts kept about bytes that were served compressed: what came over the wire and its digests.
pub fn download_facts(remote: &RemoteFile, served: &crate::pipeline::Digests) -> Map<String, Value> {
    let mut m = Map::new();
    let mut d = Map::new();
    d.insert("compression".into(), Value::from(remote.compression.unwrap_or(Compression::None).as_str()));
    d.insert("size".into(), Value::from(served.size));
    d.insert("sha256".into(), Value::from(served.sha256.clone()));
    if let Some(s) = &served.sha1 {
        d.insert("sha1".into(), Value::from(s.clone()));
    }
    m.insert("served".into(), Value::Object(d));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imgapi_file_is_beside_its_manifest_under_the_images_uuid() {
        let uuid = "2b683a82-a066-11e3-97ab-2faa44701c5a";
        for (manifest, file) in [
            (format!("https://images.example/images/{uuid}"), format!("https://images.example/images/{uuid}/file")),
            (format!("https://images.example/images/{uuid}/"), format!("https://images.example/images/{uuid}/file")),
            (
                format!("https://h.example/x/images/{uuid}/manifest.json?channel=dev"),
                format!("https://h.example/x/images/{uuid}/file?channel=dev"),
            ),
        ] {
            assert_eq!(imgapi_file_url(&manifest, uuid).unwrap(), file, "{manifest}");
        }
        let err = imgapi_file_url("https://h.example/manifests/rescue.json", uuid).unwrap_err();
        assert_eq!(err.code, code::INVALID_ARGUMENT);
        assert!(err.recovery.contains("--file-url"), "{err:?}");
    }

    #[test]
    fn an_imgapi_listing_is_read_page_by_page_from_each_last_uuid() {
        // A store of 2,500 images answering as IMGAPI does: sorted, `limit`, `marker` inclusive.
        let store: Vec<Value> = (0..2500).map(|i| serde_json::json!({"uuid": format!("u{i:05}")})).collect();
        let mut asked = Vec::new();
        let all = imgapi_pages(|marker| {
            asked.push(marker.map(str::to_string));
            let from = marker.map(|m| store.iter().position(|i| text(i, "uuid") == m).unwrap()).unwrap_or(0);
            Ok(store[from..].iter().take(IMGAPI_PAGE).cloned().collect())
        })
        .unwrap();
        assert_eq!(all, store);
        assert_eq!(asked, [None, Some("u00999".to_string()), Some("u01998".to_string())]);
        // A static tree ignores the parameters: read once, or twice when it holds a full page.
        let mut calls = 0;
        let all = imgapi_pages(|_| {
            calls += 1;
            Ok(store[..1200].to_vec())
        })
        .unwrap();
        assert_eq!((all.len(), calls), (1200, 2));
    }

    #[test]
    fn a_simplestreams_serial_is_read_as_its_publish_date() {
        let updated = Some("Tue, 01 Dec 2026 10:30:00 +0100");
        assert_eq!(simplestreams_published("20261201", None).as_deref(), Some("2026-12-01"));
        assert_eq!(simplestreams_published("20261201.1", updated).as_deref(), Some("2026-12-01"));
        assert_eq!(simplestreams_published("20261201_07:42", None).as_deref(), Some("2026-12-01T07:42:00Z"));
        // Not a date (a release name, an impossible day): the products file's `updated`, in UTC.
        assert_eq!(simplestreams_published("noble-1", updated).as_deref(), Some("2026-12-01T09:30:00Z"));
        assert_eq!(simplestreams_published("20261341", None), None);
    }
}
