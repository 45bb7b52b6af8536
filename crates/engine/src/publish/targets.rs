//! Cloud targets in SQLite: what a target is (auth method, URLs, user, project) — never its secret.

use super::{NewTarget, Target};
use crate::clock;
use crate::db::{params, Connection, OptionalExtension, Row};
use crate::error::{code, Error, Result};

const COLUMNS: &str = "id, name, auth, auth_url, image_url, region, interface, username, user_domain, project, \
     project_domain, app_credential_id, created_at, updated_at, created_by";

fn from_row(r: &Row<'_>) -> crate::db::SqlResult<Target> {
    Ok(Target {
        id: r.get(0)?,
        name: r.get(1)?,
        auth: crate::db::word(r, 2)?,
        auth_url: r.get(3)?,
        image_url: r.get(4)?,
        region: r.get(5)?,
        interface: crate::db::word(r, 6)?,
        username: r.get(7)?,
        user_domain: r.get(8)?,
        project: r.get(9)?,
        project_domain: r.get(10)?,
        application_credential_id: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        created_by: r.get(14)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<Target>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM targets ORDER BY name COLLATE NOCASE"))?;
    let rows = stmt.query_map([], from_row)?.collect::<crate::db::SqlResult<_>>()?;
    Ok(rows)
}

pub fn find(conn: &Connection, name: &str) -> Result<Option<Target>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM targets WHERE name = ?1 COLLATE NOCASE"), [name], from_row).optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<Target>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM targets WHERE id = ?1"), [id], from_row).optional()?)
}

pub fn get(conn: &Connection, name: &str) -> Result<Target> {
    find(conn, name)?.ok_or_else(|| target_not_found(name))
}

pub fn target_not_found(name: &str) -> Error {
    Error::new(
        code::NOT_FOUND,
        format!("There is no target named \"{name}\"."),
        "A target is a cloud account added with `imagesmith-cli target add` or in the app's publish wizard.",
        "List the targets (`imagesmith-cli target list`) and use one of their names, or add it first.",
    )
}

pub fn insert(conn: &Connection, t: &NewTarget) -> Result<i64> {
    if find(conn, &t.name)?.is_some() {
        return Err(Error::new(
            code::NAME_TAKEN,
            format!("A target named \"{}\" already exists.", t.name),
            "Target names are unique (case does not matter); they name the keyring entry of the secret too.",
            "Choose another name, or remove the old target first (`imagesmith-cli target remove NAME`).",
        ));
    }
    let now = clock::now();
    Ok(conn.query_row(
        &format!(
            "INSERT INTO targets ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING id",
            &COLUMNS[4..]
        ),
        params![
            t.name,
            t.auth.as_str(),
            t.auth_url,
            t.image_url,
            t.region,
            t.interface.unwrap_or_default().as_str(),
            t.username,
            t.user_domain,
            t.project,
            t.project_domain,
            t.application_credential_id,
            now,
            now,
            crate::team::who()
        ],
        |r| r.get(0),
    )?)
}

pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM targets WHERE id = ?1", [id])?;
    Ok(())
}
