//! Publications in SQLite: one row per image sent to a target, from `uploading` to its outcome.

use super::cloud::RemoteImage;
use super::{Publication, PublicationStatus, Visibility};
use crate::clock;
use crate::db::{params, Connection, OptionalExtension, Row};
use crate::error::{code, Error, Result};
use crate::model::{ArtifactRef, ArtifactState};

// A publication still `uploading` whose job is no longer running was cut off by a process that died.
const COLUMNS: &str = "p.id, p.artifact_id, p.artifact_name, p.target_name, p.job_id, p.image_url, p.remote_id, p.name, \
     p.disk_format, p.container_format, p.visibility, p.size, p.md5, p.sha512, \
     CASE WHEN p.status = 'uploading' AND (j.state IS NULL OR j.state NOT IN ('queued', 'running')) THEN 'interrupted' ELSE p.status END, \
     p.remote_status, p.verified, p.error, p.created_at, p.updated_at, o.state";
const FROM: &str = "publications p LEFT JOIN jobs j ON j.id = p.job_id \
     LEFT JOIN artifacts a ON a.id = p.artifact_id LEFT JOIN objects o ON o.sha256 = a.sha256";

fn from_row(r: &Row<'_>) -> crate::db::SqlResult<Publication> {
    Ok(Publication {
        id: r.get(0)?,
        artifact: ArtifactRef { id: r.get::<_, Option<i64>>(1)?.unwrap_or(0), name: r.get(2)? },
        target: r.get(3)?,
        job_id: r.get(4)?,
        image_url: r.get(5)?,
        remote_id: r.get(6)?,
        name: r.get(7)?,
        disk_format: r.get(8)?,
        container_format: r.get(9)?,
        visibility: crate::db::word(r, 10)?,
        size: r.get::<_, Option<i64>>(11)?.map(|s| s as u64),
        md5: r.get(12)?,
        sha512: r.get(13)?,
        status: crate::db::word(r, 14)?,
        remote_status: r.get(15)?,
        verified: r.get(16)?,
        error: crate::db::stored_error(r, 17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
        artifact_state: match r.get_ref(20)? {
            crate::db::Value::Null => None,
            _ => Some(ArtifactState::from_column(r, 20)?),
        },
    })
}

pub fn list(conn: &Connection, artifact_id: Option<i64>) -> Result<Vec<Publication>> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE p.artifact_id = ?1 OR ?1 IS NULL ORDER BY p.id DESC");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([artifact_id], from_row)?.collect::<crate::db::SqlResult<_>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: i64) -> Result<Publication> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM {FROM} WHERE p.id = ?1"), [id], from_row).optional()?.ok_or_else(|| {
        Error::new(
            code::NOT_FOUND,
            format!("There is no publication {id}."),
            "Publication ids are the numbers `imagesmith-cli publications` lists.",
            "List the publications and use one of their ids.",
        )
    })
}

/// What a new publication row records before the upload starts.
pub struct NewPublication<'a> {
    pub artifact: &'a ArtifactRef,
    pub target_id: i64,
    pub target: &'a str,
    pub job_id: i64,
    pub image_url: &'a str,
    pub name: &'a str,
    pub disk_format: &'a str,
    pub container_format: &'a str,
    pub visibility: Visibility,
}

pub fn insert(conn: &Connection, p: &NewPublication<'_>) -> Result<i64> {
    let now = clock::now();
    Ok(conn.query_row(
        "INSERT INTO publications (artifact_id, artifact_name, target_id, target_name, job_id, image_url, name, disk_format,
             container_format, visibility, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'uploading', ?11, ?11) RETURNING id",
        params![
            p.artifact.id,
            p.artifact.name,
            p.target_id,
            p.target,
            p.job_id,
            p.image_url,
            p.name,
            p.disk_format,
            p.container_format,
            p.visibility.as_str(),
            now
        ],
        |r| r.get(0),
    )?)
}

pub fn set_remote(conn: &Connection, id: i64, remote_id: &str, remote_status: &str) -> Result<()> {
    conn.execute(
        "UPDATE publications SET remote_id = ?1, remote_status = ?2, updated_at = ?3 WHERE id = ?4",
        params![remote_id, remote_status, clock::now(), id],
    )?;
    Ok(())
}

/// The outcome of the publish: digests of what was sent, Glance's last status, verified or the error.
pub struct Outcome<'a> {
    pub status: PublicationStatus,
    pub size: Option<u64>,
    pub md5: Option<&'a str>,
    pub sha512: Option<&'a str>,
    pub remote_status: Option<&'a str>,
    pub verified: bool,
    pub error: Option<&'a Error>,
}

pub fn finish(conn: &Connection, id: i64, o: &Outcome<'_>) -> Result<()> {
    conn.execute(
        "UPDATE publications SET status = ?1, size = ?2, md5 = ?3, sha512 = ?4, remote_status = COALESCE(?5, remote_status),
             verified = ?6, error = ?7, updated_at = ?8 WHERE id = ?9",
        params![
            o.status.as_str(),
            o.size.map(|s| s as i64),
            o.md5,
            o.sha512,
            o.remote_status,
            o.verified,
            o.error.map(|e| serde_json::to_string(e).unwrap_or_default()),
            clock::now(),
            id
        ],
    )?;
    Ok(())
}

/// Compare Glance's checksum (MD5) and os_hash_value (SHA-512) with what was sent; `Ok` when both
/// that can be compared match and Glance reports at least the MD5.
pub fn compare_digests(remote: &RemoteImage, md5: &str, sha512: &str, name: &str) -> Result<()> {
    let mut differ = Vec::new();
    match remote.checksum.as_deref() {
        Some(c) if c.eq_ignore_ascii_case(md5) => {}
        Some(c) => differ.push(format!("MD5 {c} (sent {md5})")),
        None => differ.push("no MD5 checksum".to_string()),
    }
    if remote.os_hash_algo.as_deref().is_none_or(|a| a.eq_ignore_ascii_case("sha512")) {
        match remote.os_hash_value.as_deref() {
            Some(h) if h.eq_ignore_ascii_case(sha512) => {}
            Some(h) => differ.push(format!("SHA-512 {}… (sent {}…)", &h[..h.len().min(16)], &sha512[..16])),
            None => differ.push("no SHA-512 hash".to_string()),
        }
    }
    if differ.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        code::REMOTE_CHECKSUM_MISMATCH,
        format!("The cloud's copy of {name} is not what was sent: Glance reports {}.", differ.join(" and ")),
        "The bytes changed on the way or in the cloud's store (a proxy, a faulty disk or network), so the image cannot be trusted.",
        "Publish again (unpublish this one if it is still there); if it happens again, tell the cloud's operators.",
    ))
}

/// The publication after Glance's answer: gone → deleted, killed → failed, digests compared again.
pub fn refresh(conn: &Connection, p: &Publication, remote: Option<&RemoteImage>) -> Result<()> {
    let now = clock::now();
    let Some(remote) = remote else {
        conn.execute(
            "UPDATE publications SET status = 'deleted', remote_status = 'not_found', updated_at = ?1 WHERE id = ?2",
            params![now, p.id],
        )?;
        return Ok(());
    };
    let status = match remote.status.as_str() {
        "deleted" | "pending_delete" => PublicationStatus::Deleted,
        "killed" => PublicationStatus::Failed,
        "active" | "deactivated" => PublicationStatus::Active,
        _ => p.status,
    };
    let check = match (&p.md5, &p.sha512) {
        (Some(m), Some(s)) if status == PublicationStatus::Active => Some(compare_digests(remote, m, s, &p.name)),
        _ => None,
    };
    let (verified, error) = match check {
        Some(Ok(())) => (true, None),
        Some(Err(e)) => (false, Some(e)),
        None => (p.verified && status != PublicationStatus::Failed, p.error.clone()),
    };
    conn.execute(
        "UPDATE publications SET status = ?1, remote_status = ?2, verified = ?3, error = ?4, updated_at = ?5 WHERE id = ?6",
        params![status.as_str(), remote.status, verified, error.map(|e| serde_json::to_string(&e).unwrap_or_default()), now, p.id],
    )?;
    Ok(())
}

pub fn mark_deleted(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE publications SET status = 'deleted', remote_status = 'deleted', updated_at = ?1 WHERE id = ?2",
        params![clock::now(), id],
    )?;
    Ok(())
}
