//! The artifact catalog in SQLite: insert, find by id or name, list, update, delete with in-use checks.

use crate::checksum::ExpectedDigest;
use crate::clock;
use crate::db::{params, Connection, Dialect, OptionalExtension, Row};
use crate::error::{code, Error, Result};
use crate::model::{
    Access, Artifact, ArtifactPatch, ArtifactQuery, ArtifactRef, ArtifactSource, ArtifactState, ExpectedFrom, Kind, MediaCheck,
    MediaCheckStatus, OsFamily, SignatureCheck, SignatureStatus, SortKey, Verification,
};
use crate::pipeline::Digests;

const COLUMNS: &str = "a.id, a.name, a.kind, a.os, a.distro, o.size, a.sha256, o.md5, o.sha1, o.sha512, \
     a.image_id, (SELECT name FROM artifacts i WHERE i.id = a.image_id), a.original_name, a.description, \
     a.version, a.detected, a.created_at, a.updated_at, o.state, o.last_verified_at, a.alias, a.access, a.owner, \
     a.resize, a.deploy, COALESCE(CASE WHEN s.artifact_id IS NOT NULL THEN 'snapshot' END, a.source_kind), a.source_url, \
     a.manifest_url, a.source_store, a.remote_id, s.vm, s.connect_uri, s.disk_id, s.snapshot, s.disk_file, s.from_artifact, \
     s.snapshot_at, o.media_check, o.media_md5, a.created_by, a.updated_by";

/// The tables `COLUMNS` reads (an artifact, its object, and the snapshot it was cut from if any).
const FROM: &str = "artifacts a JOIN objects o ON o.sha256 = a.sha256 LEFT JOIN snapshot_sources s ON s.artifact_id = a.id";

fn from_row(r: &Row<'_>) -> crate::db::SqlResult<Artifact> {
    let mut a = artifact_row(r)?;
    let fact = |k: &str| a.detected.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
    (a.os_id, a.os_name, a.os_version, a.arch) = (fact("os_id"), fact("os_name"), fact("os_version"), fact("arch"));
    Ok(a)
}

fn artifact_row(r: &Row<'_>) -> crate::db::SqlResult<Artifact> {
    let image_id: Option<i64> = r.get(10)?;
    let image_name: Option<String> = r.get(11)?;
    let detected: serde_json::Value = serde_json::from_str(&r.get::<_, String>(15)?).unwrap_or(serde_json::Value::Null);
    let driver = crate::driver_info::DriverInfo::from_fact(detected.get("driver"));
    let editions = detected.get("editions").and_then(|e| serde_json::from_value(e.clone()).ok()).unwrap_or_default();
    Ok(Artifact {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: crate::db::word(r, 2)?,
        os: crate::db::word_opt(r, 3)?,
        distro: r.get(4)?,
        size: r.get::<_, i64>(5)? as u64,
        sha256: r.get(6)?,
        state: ArtifactState::from_column(r, 18)?,
        md5: r.get(7)?,
        sha1: r.get(8)?,
        sha512: r.get(9)?,
        image: image_id.map(|id| ArtifactRef { id, name: image_name.unwrap_or_default() }),
        used_by: Vec::new(),
        profiles: Vec::new(),
        published_to: Vec::new(),
        original_name: r.get(12)?,
        description: r.get(13)?,
        version: r.get(14)?,
        tags: Vec::new(),
        alias: r.get(20)?,
        access: crate::db::word(r, 21)?,
        owner: r.get(22)?,
        resize: r.get(23)?,
        deploy: r.get(24)?,
        source: ArtifactSource {
            kind: crate::db::word(r, 25)?,
            url: r.get(26)?,
            manifest_url: r.get(27)?,
            store: r.get(28)?,
            remote_id: r.get(29)?,
            vm: r.get(30)?,
            connect: r.get(31)?,
            disk_id: r.get(32)?,
            snapshot: r.get(33)?,
            disk_file: r.get(34)?,
            artifact: r.get(35)?,
            snapshot_at: r.get(36)?,
        },
        os_id: None,
        os_name: None,
        os_version: None,
        arch: None,
        detected,
        driver,
        editions,
        warnings: Vec::new(),
        verification: Vec::new(),
        signature: SignatureCheck::none(),
        media_check: match crate::db::word_opt::<MediaCheckStatus>(r, 37)? {
            Some(status) => Some(MediaCheck { status, md5: r.get(38)?, computed: None }),
            None => None,
        },
        lint: None,
        last_verified_at: r.get(19)?,
        created_by: r.get(39)?,
        updated_by: r.get(40)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
    })
}

/// Tags, users, profiles, publications, evidence and warnings of every artifact in `list`: one
/// query per relation for a whole page, not per artifact (a team catalog is a network round trip
/// away, and a library page is 200 artifacts).
fn fill_relations(conn: &Connection, list: &mut [Artifact]) -> Result<()> {
    let at: std::collections::HashMap<i64, usize> = list.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    for a in list.iter_mut() {
        (a.tags, a.used_by, a.profiles, a.published_to, a.verification) = Default::default();
    }
    let ids: Vec<i64> = list.iter().map(|a| a.id).collect();
    for (set, args) in id_sets(&ids) {
        let pairs = |sql: String| -> Result<Vec<(i64, String)>> {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(crate::db::params_from_iter(args.iter()), |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<crate::db::SqlResult<_>>()?)
        };
        for (id, tag) in pairs(format!("SELECT artifact_id, tag FROM artifact_tags WHERE artifact_id IN ({set}) ORDER BY tag"))? {
            list[at[&id]].tags.push(tag);
        }
        for (id, name) in pairs(format!(
            "SELECT base_id, name FROM profiles WHERE base_id IN ({set})
             UNION SELECT m.artifact_id, p.name FROM profiles p JOIN profile_members m ON m.profile_id = p.id WHERE m.artifact_id IN ({set})
             ORDER BY 2"
        ))? {
            list[at[&id]].profiles.push(name);
        }
        for (id, place) in pairs(format!(
            "SELECT artifact_id, target_name || ': ' || name FROM publications WHERE artifact_id IN ({set}) AND status <> 'deleted'
             ORDER BY target_name, name"
        ))? {
            list[at[&id]].published_to.push(place);
        }
        let mut stmt = conn
            .prepare_cached(&format!("SELECT image_id, id, name FROM artifacts WHERE image_id IN ({set}) ORDER BY name COLLATE NOCASE"))?;
        let used: Vec<(i64, i64, String)> = stmt
            .query_map(crate::db::params_from_iter(args.iter()), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<crate::db::SqlResult<_>>()?;
        for (image, id, name) in used {
            list[at[&image]].used_by.push(ArtifactRef { id, name });
        }
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT artifact_id, {VERIFICATION_COLUMNS} FROM verifications WHERE artifact_id IN ({set}) ORDER BY verified_at, algo"
        ))?;
        let evidence: Vec<(i64, Verification)> = stmt
            .query_map(crate::db::params_from_iter(args.iter()), |r| Ok((r.get(0)?, verification_row(r, 1)?)))?
            .collect::<crate::db::SqlResult<_>>()?;
        for (id, v) in evidence {
            list[at[&id]].verification.push(v);
        }
    }
    for a in list.iter_mut() {
        signature_and_warnings(conn, a)?;
    }
    Ok(())
}

/// `ids` as `IN (…)` parameter lists of a few fixed sizes (1, 8, 64, 256; a longer list in sets of
/// 256), each padded with its first id: a PostgreSQL catalog keeps every statement it prepared,
/// so a handful of statement texts serve every page instead of one per page.
fn id_sets(ids: &[i64]) -> Vec<(String, Vec<i64>)> {
    ids.chunks(256)
        .map(|chunk| {
            let size = [1, 8, 64, 256].into_iter().find(|&n| n >= chunk.len()).unwrap_or(256);
            let mut args = chunk.to_vec();
            args.resize(size, chunk[0]);
            let set = (1..=size).map(|n| format!("?{n}")).collect::<Vec<_>>().join(", ");
            (set, args)
        })
        .collect()
}

/// What an artifact's evidence and OS image say of it: its best signature and its warnings.
fn signature_and_warnings(conn: &Connection, a: &mut Artifact) -> Result<()> {
    a.signature = SignatureCheck::best(a.verification.iter().map(|v| &v.signature));
    a.warnings = image_warnings(conn, a)?;
    if a.kind == Kind::Bundle && a.verified_signature_file().is_none() {
        // Imported by an earlier version, when a .asc beside the zip was enough.
        a.warnings.push(crate::compat::Warning {
            code: crate::compat::WarningCode::UnsignedBundle,
            text: "No verified signature vouches for this bundle (it was imported before bundle signatures were checked): import it again together with its .asc; until then it cannot be exported.".into(),
        });
    }
    Ok(())
}

/// A driver's warnings against the OS image it belongs to.
fn image_warnings(conn: &Connection, a: &Artifact) -> Result<Vec<crate::compat::Warning>> {
    let (Some(driver), Some(image)) = (&a.driver, &a.image) else { return Ok(Vec::new()) };
    if a.kind != Kind::Driver {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached("SELECT os, detected FROM artifacts WHERE id = ?1")?;
    let row: Option<(Option<String>, String)> = stmt.query_row([image.id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    let Some((os, detected)) = row else { return Ok(Vec::new()) };
    let detected: serde_json::Value = serde_json::from_str(&detected).unwrap_or(serde_json::Value::Null);
    let os = os.and_then(|o| o.parse::<OsFamily>().ok());
    Ok(crate::compat::warnings(Some(driver), &crate::compat::ImageFacts::new(&image.name, os, &detected)))
}

const VERIFICATION_COLUMNS: &str = "algo, expected_from, source_file, line, verified_at, job_id, \
     signature_status, signer, signer_fingerprint, signed_at, signature_file";

/// A [`Verification`] from `VERIFICATION_COLUMNS`, starting at column `at`.
fn verification_row(r: &Row<'_>, at: usize) -> crate::db::SqlResult<Verification> {
    let source: String = r.get(at + 2)?;
    let line: u32 = r.get(at + 3)?;
    Ok(Verification {
        algo: crate::db::word(r, at)?,
        expected_from: crate::db::word(r, at + 1)?,
        source_file: (!source.is_empty()).then_some(source),
        line: (line > 0).then_some(line),
        verified_at: r.get(at + 4)?,
        job_id: r.get(at + 5)?,
        signature: SignatureCheck {
            status: crate::db::word(r, at + 6)?,
            signer: r.get(at + 7)?,
            fingerprint: r.get(at + 8)?,
            signed_at: r.get(at + 9)?,
            signature_file: r.get(at + 10)?,
        },
    })
}

/// The evidence recorded for an artifact, oldest first; with `job`, only what that job checked.
pub(crate) fn verifications(conn: &Connection, id: i64, job: Option<i64>) -> Result<Vec<Verification>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {VERIFICATION_COLUMNS} FROM verifications
         WHERE artifact_id = ?1 AND (job_id = ?2 OR ?2 IS NULL) ORDER BY verified_at, algo"
    ))?;
    let rows = stmt.query_map(params![id, job], |r| verification_row(r, 0))?;
    Ok(rows.collect::<crate::db::SqlResult<_>>()?)
}

/// Keep the proof that `id`'s bytes matched each of `expected` (checked by the caller); the same
/// evidence again refreshes its time and job.
/// Keep what an ISO's embedded media check came to with its bytes (passed or absent).
pub fn record_media_check(conn: &Connection, sha256: &str, check: &MediaCheck) -> Result<()> {
    if check.status == MediaCheckStatus::Failed {
        return Err(crate::runner::internal("a failed media check reached the catalog"));
    }
    conn.execute(
        "UPDATE objects SET media_check = ?2, media_md5 = ?3 WHERE sha256 = ?1",
        params![sha256, check.status.as_str(), check.md5],
    )?;
    Ok(())
}

pub fn record_verifications(conn: &Connection, id: i64, expected: &[ExpectedDigest], job_id: Option<i64>) -> Result<()> {
    let now = clock::now();
    // The same evidence again keeps the strongest signature it was ever seen with: importing the
    // bytes once more with the list unsigned, or after its key was removed, does not rewrite it.
    // The ranking is SignatureStatus::rank, written out as SQL.
    let rank = |col: &str| {
        let arms: String = SignatureStatus::ALL.iter().map(|s| format!(" WHEN '{}' THEN {}", s.as_str(), s.rank())).collect();
        format!("(CASE {col}{arms} ELSE 0 END)")
    };
    let stronger = format!("{} >= {}", rank("excluded.signature_status"), rank("verifications.signature_status"));
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO verifications (artifact_id, algo, expected_from, source_file, line, verified_at, job_id,
                                    signature_status, signer, signer_fingerprint, signed_at, signature_file)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (artifact_id, algo, expected_from, source_file, line) DO UPDATE SET verified_at = excluded.verified_at, job_id = excluded.job_id,
             signature_status = CASE WHEN {stronger} THEN excluded.signature_status ELSE verifications.signature_status END,
             signer = CASE WHEN {stronger} THEN excluded.signer ELSE verifications.signer END,
             signer_fingerprint = CASE WHEN {stronger} THEN excluded.signer_fingerprint ELSE verifications.signer_fingerprint END,
             signed_at = CASE WHEN {stronger} THEN excluded.signed_at ELSE verifications.signed_at END,
             signature_file = CASE WHEN {stronger} THEN excluded.signature_file ELSE verifications.signature_file END"
    ))?;
    for e in expected {
        let source = if e.from == ExpectedFrom::Typed { "" } else { e.source.as_str() };
        let sig = e.signature.clone().unwrap_or_default();
        if sig.status == SignatureStatus::Bad {
            // Refused before it gets here; never kept as evidence.
            return Err(crate::runner::internal("a digest from a checksum file with a bad signature reached the catalog"));
        }
        stmt.execute(params![
            id,
            e.algo.as_str(),
            e.from.as_str(),
            source,
            e.line.unwrap_or(0),
            now,
            job_id,
            sig.status.as_str(),
            sig.signer,
            sig.fingerprint,
            sig.signed_at,
            sig.signature_file
        ])?;
    }
    Ok(())
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<Artifact>> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE a.id = ?1");
    let found = conn.query_row(&sql, [id], from_row).optional()?;
    found
        .map(|mut a| {
            fill_relations(conn, std::slice::from_mut(&mut a))?;
            Ok(a)
        })
        .transpose()
}

fn by_name(conn: &Connection, name: &str) -> Result<Option<Artifact>> {
    let id: Option<i64> = conn.query_row("SELECT id FROM artifacts WHERE name = ?1 COLLATE NOCASE", [name], |r| r.get(0)).optional()?;
    match id {
        Some(id) => by_id(conn, id),
        None => Ok(None),
    }
}

pub fn by_sha256(conn: &Connection, sha256: &str) -> Result<Option<Artifact>> {
    let id: Option<i64> = conn.query_row("SELECT id FROM artifacts WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()?;
    match id {
        Some(id) => by_id(conn, id),
        None => Ok(None),
    }
}

/// An exact name wins over an alias, an alias over a number; a number is an id.
/// The OS image `key` (id, name or alias) names, or `image_not_found`.
pub fn find_os_image(conn: &Connection, key: &str) -> Result<Artifact> {
    find(conn, key)?.filter(|a| a.kind == Kind::Os).ok_or_else(|| Error::image_not_found(key))
}

pub fn find(conn: &Connection, id_or_name: &str) -> Result<Option<Artifact>> {
    if let Some(a) = by_name(conn, id_or_name)? {
        return Ok(Some(a));
    }
    let aliased: Option<i64> =
        conn.query_row("SELECT id FROM artifacts WHERE alias = ?1 COLLATE NOCASE", [id_or_name.trim()], |r| r.get(0)).optional()?;
    if let Some(id) = aliased {
        return by_id(conn, id);
    }
    match id_or_name.trim().parse::<i64>() {
        Ok(id) => by_id(conn, id),
        Err(_) => Ok(None),
    }
}

pub fn get(conn: &Connection, id_or_name: &str) -> Result<Artifact> {
    find(conn, id_or_name)?.ok_or_else(|| Error::not_found("artifact", id_or_name))
}

/// [`get`] for new use (a profile, a publication): an artifact marked deleted is refused.
pub fn get_usable(conn: &Connection, id_or_name: &str) -> Result<Artifact> {
    usable(get(conn, id_or_name)?)
}

/// `a`, unless it is marked deleted (`image_deleted`).
pub fn usable(a: Artifact) -> Result<Artifact> {
    if a.access != Access::Deleted {
        return Ok(a);
    }
    Err(Error::new(
        code::IMAGE_DELETED,
        format!("{} is marked deleted and cannot be used anew.", a.name),
        "An image marked deleted is kept only for what already uses it: existing profiles and publications keep working, nothing new may take it.",
        format!("Use another image, or make it usable again (`update {} --access private`).", a.name),
    ))
}

fn where_clause(q: &ArtifactQuery, dialect: Dialect) -> (String, Vec<crate::db::Value>) {
    let mut clauses = Vec::new();
    let mut args: Vec<crate::db::Value> = Vec::new();
    if let Some(kind) = q.kind {
        args.push(kind.as_str().to_string().into());
        clauses.push(format!("a.kind = ?{}", args.len()));
    }
    if let Some(os) = q.os {
        args.push(os.as_str().to_string().into());
        clauses.push(format!("a.os = ?{}", args.len()));
    }
    if let Some(id) = q.os_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        args.push(id.to_ascii_lowercase().into());
        let n = args.len();
        args.push(format!("{}.%", id.to_ascii_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")).into());
        clauses.push(format!(
            "(json_extract(a.detected, '$.os_id') = ?{n} OR json_extract(a.detected, '$.os_id') LIKE ?{} ESCAPE '\\')",
            n + 1
        ));
    }
    match q.access {
        Some(access) => {
            args.push(access.as_str().to_string().into());
            clauses.push(format!("a.access = ?{}", args.len()));
        }
        None if !q.all => clauses.push("a.access <> 'deleted'".into()),
        None => {}
    }
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // Every word must match the name, description, version, original file name, a tag or a
        // driver's hardware ID; a word of 6+ hex digits also matches the start of any stored digest
        // (pasted from a vendor page).
        for word in search.split_whitespace() {
            let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            args.push(format!("%{escaped}%").into());
            let n = args.len();
            let mut any = format!(
                "a.name LIKE ?{n} ESCAPE '\\' OR a.alias LIKE ?{n} ESCAPE '\\' OR a.description LIKE ?{n} ESCAPE '\\' \
                 OR a.version LIKE ?{n} ESCAPE '\\' \
                 OR a.original_name LIKE ?{n} ESCAPE '\\' \
                 OR json_extract(a.detected, '$.os_id') LIKE ?{n} ESCAPE '\\' OR json_extract(a.detected, '$.os_name') LIKE ?{n} ESCAPE '\\' \
                 OR EXISTS (SELECT 1 FROM artifact_tags t WHERE t.artifact_id = a.id AND t.tag LIKE ?{n} ESCAPE '\\')"
            );
            // A driver's hardware IDs: any part of one, or a full device ID that one is a less
            // specific form of (`…&DEV_1572&SUBSYS_00008086&REV_01` finds `…&DEV_1572`).
            args.push(word.to_ascii_uppercase().into());
            let w = args.len();
            // SQLite's json_each over a column that may not hold JSON; PostgreSQL's catalog holds
            // only what the engine wrote, and a missing or non-list value reads as none.
            let ids = match dialect {
                Dialect::Sqlite => "json_each(CASE WHEN json_valid(a.detected) THEN a.detected ELSE '{}' END, '$.driver.hardware_ids') h",
                Dialect::Postgres => {
                    "jsonb_array_elements_text(CASE WHEN jsonb_typeof(a.detected::jsonb -> 'driver' -> 'hardware_ids') = 'array' \
                     THEN a.detected::jsonb -> 'driver' -> 'hardware_ids' ELSE '[]'::jsonb END) h(value)"
                }
            };
            any.push_str(&format!(
                " OR EXISTS (SELECT 1 FROM {ids} WHERE h.value LIKE ?{n} ESCAPE '\\' \
                 OR substr(?{w}, 1, length(h.value) + 1) IN (upper(h.value) || '&', upper(h.value) || '\\'))"
            ));
            let hex = word.to_ascii_lowercase();
            if hex.len() >= 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                args.push(format!("{hex}%").into());
                let h = args.len();
                any.push_str(&format!(
                    " OR a.sha256 LIKE ?{h} OR EXISTS (SELECT 1 FROM objects d WHERE d.sha256 = a.sha256 \
                     AND (d.md5 LIKE ?{h} OR d.sha1 LIKE ?{h} OR d.sha512 LIKE ?{h}))"
                ));
            }
            clauses.push(format!("({any})"));
        }
    }
    let sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    (sql, args)
}

/// The statement `list` runs for `q`, and its parameters. Public, hidden, for the test that
/// prepares the engine's statements on a team catalog (PostgreSQL) through `team::dialect`.
#[doc(hidden)]
pub fn list_statement(q: &ArtifactQuery, dialect: Dialect) -> (String, Vec<crate::db::Value>) {
    let (filter, args) = where_clause(q, dialect);
    let dir = if q.descending { "DESC" } else { "ASC" };
    let order = match q.sort {
        SortKey::Name => format!("a.name COLLATE NOCASE {dir}, a.id {dir}"),
        SortKey::Created => format!("a.created_at {dir}, a.id {dir}"),
        SortKey::Size => format!("o.size {dir}, a.id {dir}"),
    };
    // Not SQLite's LIMIT -1 (PostgreSQL refuses it); SQLite wants a LIMIT before any OFFSET.
    let page = match (q.limit, q.offset) {
        (Some(l), o) => format!(" LIMIT {l} OFFSET {o}"),
        (None, 0) => String::new(),
        (None, o) => format!(" LIMIT {} OFFSET {o}", i64::MAX),
    };
    (format!("SELECT {COLUMNS} FROM {FROM} {filter} ORDER BY {order}{page}"), args)
}

/// The statement `count` runs for `q` (hidden, as [`list_statement`]).
#[doc(hidden)]
pub fn count_statement(q: &ArtifactQuery, dialect: Dialect) -> (String, Vec<crate::db::Value>) {
    let (filter, args) = where_clause(q, dialect);
    (format!("SELECT COUNT(*) FROM artifacts a {filter}"), args)
}

/// What `os_releases` runs (hidden, as [`list_statement`]).
#[doc(hidden)]
pub const OS_RELEASES: &str =
    "SELECT json_extract(detected, '$.os_id') AS os_id, MAX(json_extract(detected, '$.os_name')), COUNT(*) FROM artifacts
         WHERE json_extract(detected, '$.os_id') IS NOT NULL AND access <> 'deleted' GROUP BY 1 ORDER BY 1";

pub fn list(conn: &Connection, q: &ArtifactQuery) -> Result<Vec<Artifact>> {
    let (sql, args) = list_statement(q, conn.dialect());
    let mut stmt = conn.prepare(&sql)?;
    let mut out: Vec<Artifact> = stmt.query_map(crate::db::params_from_iter(args), from_row)?.collect::<crate::db::SqlResult<_>>()?;
    fill_relations(conn, &mut out)?;
    Ok(out)
}

/// The exact OS releases of the library's artifacts (those not marked deleted), by id.
pub fn os_releases(conn: &Connection) -> Result<Vec<crate::model::OsRelease>> {
    let mut stmt = conn.prepare(OS_RELEASES)?;
    let rows = stmt.query_map([], |r| Ok(crate::model::OsRelease { os_id: r.get(0)?, os_name: r.get(1)?, count: r.get(2)? }))?;
    Ok(rows.collect::<crate::db::SqlResult<_>>()?)
}

pub fn count(conn: &Connection, q: &ArtifactQuery) -> Result<u64> {
    let (sql, args) = count_statement(q, conn.dialect());
    Ok(conn.query_row(&sql, crate::db::params_from_iter(args), |r| r.get::<_, i64>(0))? as u64)
}

/// Whether another artifact than `except` is named `name` or has it as its alias: a name that
/// equals someone's alias would take that alias's place wherever a name is looked up.
pub fn name_taken(conn: &Connection, name: &str, except: Option<i64>) -> Result<bool> {
    Ok(taken_by(conn, name, except)?.is_some())
}

/// The name of the artifact other than `except` that is named or aliased `name`, if any.
fn taken_by(conn: &Connection, name: &str, except: Option<i64>) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT name FROM artifacts WHERE (name = ?1 COLLATE NOCASE OR alias = ?1 COLLATE NOCASE) AND id <> ?2 LIMIT 1",
            params![name.trim(), except.unwrap_or(-1)],
            |r| r.get(0),
        )
        .optional()?)
}

/// `name`, or `name (2)`, `name (3)`, … — the first that is free.
pub fn free_name(conn: &Connection, name: &str) -> Result<String> {
    if !name_taken(conn, name, None)? {
        return Ok(name.to_string());
    }
    for n in 2.. {
        let candidate = format!("{name} ({n})");
        if !name_taken(conn, &candidate, None)? {
            return Ok(candidate);
        }
    }
    unreachable!("the naturals are unbounded")
}

/// A name made from a file name: what `validate_name` would refuse is replaced, not passed on — control
/// characters (escape sequences that would drive a terminal) and bidirectional overrides (which make a
/// name read differently from what it is) become `_`, and it is cut to 255 bytes.
pub fn name_from_file(file_name: &str) -> String {
    let mut out: String = file_name.chars().map(|c| if unfit_in_name(c) { '_' } else { c }).collect();
    if out.len() > 255 {
        let mut end = 255;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    let out = out.trim();
    if out.is_empty() {
        "unnamed".to_string()
    } else {
        out.to_string()
    }
}

/// Control characters, and the bidirectional marks and overrides that reorder how a name reads.
fn unfit_in_name(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

pub fn validate_name(name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.len() > 255 || trimmed.chars().any(unfit_in_name) {
        return Err(Error::new(
            code::INVALID_NAME,
            format!("\"{}\" cannot be used as a name.", name.escape_default()),
            "Names are 1 to 255 characters, without line breaks, control characters or text-direction overrides.",
            "Choose a shorter, single-line name.",
        ));
    }
    Ok(trimmed.to_string())
}

pub fn name_taken_error(name: &str) -> Error {
    Error::new(
        code::NAME_TAKEN,
        format!("An artifact named or aliased \"{name}\" already exists."),
        "Names and aliases are unique in a repository (ignoring case) so that drivers, profiles and scripts can refer to images by either.",
        "Choose another name, or rename, re-alias or delete the existing artifact first.",
    )
}

/// What a new artifact row holds.
pub struct NewArtifact<'a> {
    pub name: &'a str,
    pub kind: Kind,
    pub os: Option<OsFamily>,
    pub distro: Option<&'a str>,
    pub digests: &'a Digests,
    pub image_id: Option<i64>,
    pub original_name: &'a str,
    pub detected: &'a serde_json::Value,
}

/// Insert the object row (if new) and the artifact row. Returns the new artifact id.
pub fn insert(conn: &Connection, a: &NewArtifact<'_>) -> Result<i64> {
    let now = clock::now();
    let d = a.digests;
    conn.execute(
        "INSERT INTO objects (sha256, size, md5, sha1, sha512, created_at, unsettled_boot) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(sha256) DO UPDATE SET md5 = COALESCE(objects.md5, excluded.md5),
             sha1 = COALESCE(objects.sha1, excluded.sha1), sha512 = COALESCE(objects.sha512, excluded.sha512)",
        params![d.sha256, d.size as i64, d.md5, d.sha1, d.sha512, now, crate::durability::boot_id()],
    )?;
    Ok(conn.query_row(
        "INSERT INTO artifacts (name, kind, os, distro, sha256, image_id, original_name, detected, created_at, updated_at, owner, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11) RETURNING id",
        params![
            a.name,
            a.kind.as_str(),
            a.os.map(|o| o.as_str()),
            a.distro,
            d.sha256,
            a.image_id,
            a.original_name,
            a.detected.to_string(),
            now,
            os_user(),
            crate::team::who()
        ],
        |r| r.get(0),
    )?)
}

/// The owner of what this user imports: the OS user's name (USER, then LOGNAME, then the passwd entry).
pub fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().is_empty() {
                return v.trim().to_string();
            }
        }
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; read at once, not kept.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned();
        }
    }
    String::new()
}

pub fn update(conn: &Connection, id: i64, patch: &ArtifactPatch) -> Result<()> {
    if let Some(name) = &patch.name {
        let name = validate_name(name)?;
        if name_taken(conn, &name, Some(id))? {
            return Err(name_taken_error(&name));
        }
        conn.execute("UPDATE artifacts SET name = ?1 WHERE id = ?2", params![name, id])?;
    }
    if let Some(d) = &patch.description {
        conn.execute("UPDATE artifacts SET description = ?1 WHERE id = ?2", params![d.trim(), id])?;
    }
    if let Some(v) = &patch.version {
        conn.execute("UPDATE artifacts SET version = ?1 WHERE id = ?2", params![v.trim(), id])?;
    }
    if let Some(alias) = &patch.alias {
        let alias = alias.trim();
        if alias.is_empty() {
            conn.execute("UPDATE artifacts SET alias = NULL WHERE id = ?1", [id])?;
        } else {
            let alias = validate_name(alias)?;
            if let Some(other) = taken_by(conn, &alias, Some(id))? {
                return Err(Error::new(
                    code::NAME_TAKEN,
                    format!("The alias {alias} is taken by {other}."),
                    "An alias names one artifact wherever an id or name is accepted, so it must differ from every other alias and name.",
                    "Choose another alias.",
                ));
            }
            conn.execute("UPDATE artifacts SET alias = ?1 WHERE id = ?2", params![alias, id])?;
        }
    }
    if let Some(access) = patch.access {
        conn.execute("UPDATE artifacts SET access = ?1 WHERE id = ?2", params![access.as_str(), id])?;
    }
    if let Some(owner) = &patch.owner {
        conn.execute("UPDATE artifacts SET owner = ?1 WHERE id = ?2", params![owner.trim(), id])?;
    }
    if let Some(resize) = patch.resize {
        conn.execute("UPDATE artifacts SET resize = ?1 WHERE id = ?2", params![resize, id])?;
    }
    if let Some(deploy) = patch.deploy {
        conn.execute("UPDATE artifacts SET deploy = ?1 WHERE id = ?2", params![deploy, id])?;
    }
    if let Some(tags) = &patch.tags {
        conn.execute("DELETE FROM artifact_tags WHERE artifact_id = ?1", [id])?;
        for tag in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            conn.execute("INSERT INTO artifact_tags (artifact_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![id, tag])?;
        }
    }
    conn.execute("UPDATE artifacts SET updated_at = ?1, updated_by = ?3 WHERE id = ?2", params![clock::now(), id, crate::team::who()])?;
    Ok(())
}

/// Record where an artifact's bytes came from (a URL, an image store).
pub fn set_source(conn: &Connection, id: i64, s: &crate::model::ArtifactSource) -> Result<()> {
    if s.kind == crate::model::SourceKind::Snapshot {
        // 0012: a snapshot source is its row in snapshot_sources (source_kind stays 'file').
        conn.execute(
            "INSERT INTO snapshot_sources (artifact_id, vm, connect_uri, disk_id, snapshot, disk_file, from_artifact, snapshot_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                s.vm,
                s.connect,
                s.disk_id.unwrap_or(1),
                s.snapshot.as_deref().unwrap_or_default(),
                s.disk_file,
                s.artifact,
                s.snapshot_at
            ],
        )?;
        return Ok(());
    }
    conn.execute(
        "UPDATE artifacts SET source_kind = ?1, source_url = ?2, manifest_url = ?3, source_store = ?4, remote_id = ?5 WHERE id = ?6",
        params![s.kind.as_str(), s.url, s.manifest_url, s.store, s.remote_id, id],
    )?;
    Ok(())
}

/// Give `a` a new kind and OS (already checked against the support matrix). Refused while
/// profiles use it (they were checked against what it was), while files name it as their OS image
/// and it would stop being one of that OS, or when it belongs to an image of another OS.
pub fn reclassify(conn: &Connection, a: &Artifact, kind: Kind, os: Option<OsFamily>, distro: Option<&str>) -> Result<()> {
    if (kind, os, distro) == (a.kind, a.os, a.distro.as_deref()) {
        return Ok(());
    }
    let refuse = |why: String, recovery: &str| {
        Err(Error::new(
            code::IN_USE,
            format!("The kind and OS of {} were not changed: {why}.", a.name),
            "Profiles and files that belong to an OS image were checked against what it is now; changing it under them would break them.",
            recovery,
        ))
    };
    if !a.profiles.is_empty() {
        return refuse(format!("the profile(s) {} use it", a.profiles.join(", ")), "Remove it from those profiles first, then change it.");
    }
    if !a.used_by.is_empty() && (kind != Kind::Os || os != a.os) {
        let users: Vec<&str> = a.used_by.iter().map(|u| u.name.as_str()).collect();
        return refuse(format!("{} name it as their OS image", users.join(", ")), "Change or delete those files first.");
    }
    if let Some(image) = &a.image {
        let image_os: Option<String> =
            conn.query_row("SELECT os FROM artifacts WHERE id = ?1", [image.id], |r| r.get(0)).optional()?.flatten();
        if kind == Kind::Os || (os.is_some() && os.map(|o| o.as_str().to_string()) != image_os) {
            return refuse(format!("it belongs to the OS image {}", image.name), "Import it again without an image, or keep its OS.");
        }
    }
    conn.execute(
        "UPDATE artifacts SET kind = ?1, os = ?2, distro = ?3 WHERE id = ?4",
        params![kind.as_str(), os.map(|o| o.as_str()), distro, a.id],
    )?;
    Ok(())
}

pub fn in_use_error(a: &Artifact) -> Error {
    let users: Vec<&str> = a.used_by.iter().map(|u| u.name.as_str()).collect();
    Error::new(
        code::IN_USE,
        format!(
            "{} is in use and was not deleted: {} name{} it as their OS image.",
            a.name,
            users.join(", "),
            if users.len() == 1 { "s" } else { "" }
        ),
        "An OS image cannot be deleted while drivers, boot files or other files belong to it.",
        format!(
            "Delete those files first (or import them again without this image), then delete the image — or mark it deleted (`update {} --access deleted`): hidden from lists and new use, while what uses it keeps working.",
            a.name
        ),
    )
}

/// Delete the artifact row; returns the object's sha256 when nothing references it any more.
pub fn delete(conn: &Connection, a: &Artifact) -> Result<Option<String>> {
    if !a.used_by.is_empty() {
        return Err(in_use_error(a));
    }
    let profiles = crate::profile::profiles_using(conn, a.id)?;
    if !profiles.is_empty() {
        return Err(Error::new(
            code::IN_USE,
            format!(
                "{} is in use and was not deleted: the profile{} {} use{} it.",
                a.name,
                if profiles.len() == 1 { "" } else { "s" },
                profiles.join(", "),
                if profiles.len() == 1 { "s" } else { "" }
            ),
            "Files that deployment profiles are built from cannot be deleted while a profile uses them.",
            format!(
                "Remove it from those profiles (or delete the profiles) first, then delete it — or mark it deleted (`update {} --access deleted`): hidden from lists and new profiles, while those profiles keep working.",
                a.name
            ),
        ));
    }
    conn.execute("DELETE FROM artifacts WHERE id = ?1", [a.id])?;
    // The same bytes may be another artifact's or a file of a gold image.
    if crate::gold::object_in_use(conn, &a.sha256)? {
        return Ok(None);
    }
    conn.execute("DELETE FROM objects WHERE sha256 = ?1", [&a.sha256])?;
    if conn.dialect() == Dialect::Postgres {
        // A team repository keeps the bucket's copy for a grace period (object_tombstones).
        crate::team::objects::tombstone(conn, &a.sha256)?;
    }
    Ok(Some(a.sha256.clone()))
}

/// Every artifact's (id, name, sha256), for verify.
pub fn all_objects(conn: &Connection) -> Result<Vec<(i64, String, String, u64)>> {
    let mut stmt =
        conn.prepare("SELECT a.id, a.name, a.sha256, o.size FROM artifacts a JOIN objects o ON o.sha256 = a.sha256 ORDER BY a.id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<crate::db::SqlResult<_>>()?;
    Ok(rows)
}
