//! Deployment profiles: a base OS image plus drivers, boot files, custom files, one answer file and
//! install options — validated against the base OS as members are added.

use crate::catalog;
use crate::clock;
use crate::compat::{self, ImageFacts};
use crate::db::{params, Connection, OptionalExtension};
use crate::driver_info::DriverInfo;
use crate::error::{code, Error, Result};
use crate::model::{Artifact, ArtifactRef, ArtifactState, Kind, OsFamily};
use crate::wim::WindowsEdition;
use crate::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a member goes in an exported profile, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Driver,
    Boot,
    Custom,
    Unattend,
}

impl Role {
    pub fn for_kind(kind: Kind) -> Option<Role> {
        match kind {
            Kind::Driver => Some(Role::Driver),
            Kind::Boot => Some(Role::Boot),
            Kind::Unattend => Some(Role::Unattend),
            Kind::Script | Kind::Software | Kind::Config | Kind::Bundle | Kind::BundleSig => Some(Role::Custom),
            Kind::Os | Kind::OsProfile | Kind::GoldImage | Kind::DiskImage => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Driver => "driver",
            Role::Boot => "boot",
            Role::Custom => "custom",
            Role::Unattend => "unattend",
        }
    }

    /// The folder the member goes into in an exported archive.
    pub fn folder(self) -> &'static str {
        match self {
            Role::Driver => "drivers",
            Role::Boot => "boot",
            Role::Custom => "custom",
            Role::Unattend => "unattend",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Role, ()> {
        [Role::Driver, Role::Boot, Role::Custom, Role::Unattend].into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProfileMember {
    pub artifact: ArtifactRef,
    pub kind: Kind,
    pub os: Option<OsFamily>,
    pub role: Role,
    pub size: u64,
    pub sha256: String,
    /// Whether its stored copy is there and intact; an export needs every member `ok`.
    pub state: ArtifactState,
    /// What to know before installing it with the profile's image (a driver built for another
    /// kernel release of the image's series, …); see `compat`.
    pub warnings: Vec<crate::compat::Warning>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub base: ArtifactRef,
    /// Whether the base image's stored copy is there and intact.
    pub base_state: ArtifactState,
    pub os: Option<OsFamily>,
    pub distro: Option<String>,
    pub members: Vec<ProfileMember>,
    /// Install options: free key/values plus the common hostname, locale, timezone, keyboard.
    pub options: BTreeMap<String, String>,
    /// On a Windows image: the edition (install.wim image) it installs; None when none is chosen
    /// (Setup asks, unless the answer file selects one).
    pub edition: Option<WindowsEdition>,
    /// The editions the base image offers to choose from (empty for anything but a Windows installer).
    pub editions: Vec<WindowsEdition>,
    pub created_at: String,
    pub updated_at: String,
    /// Who made it, as `user@host`; none for profiles from before Imagesmith recorded it.
    pub created_by: Option<String>,
    /// Who last changed it (members, options, name, description, edition), as `user@host`.
    pub updated_by: Option<String>,
}

/// The install options every profile offers in the editor.
pub const COMMON_OPTIONS: &[&str] = &["hostname", "locale", "timezone", "keyboard"];

fn profile_not_found(key: &str) -> Error {
    Error::new(
        code::NOT_FOUND,
        format!("No profile named or numbered \"{key}\" exists."),
        "The profile may have been deleted or renamed.",
        "List the profiles (`imagesmith-cli profile list`) and use one of their names.",
    )
}

fn refuse(text: String, explanation: &str, recovery: impl Into<String>) -> Error {
    Error::new(code::UNSUPPORTED_TYPE, text, explanation, recovery)
}

pub(crate) fn find_id(conn: &Connection, key: &str) -> Result<i64> {
    let by_name: Option<i64> = conn.query_row("SELECT id FROM profiles WHERE name = ?1 COLLATE NOCASE", [key], |r| r.get(0)).optional()?;
    if let Some(id) = by_name {
        return Ok(id);
    }
    if let Ok(id) = key.trim().parse::<i64>() {
        if conn.query_row("SELECT 1 FROM profiles WHERE id = ?1", [id], |_| Ok(())).optional()?.is_some() {
            return Ok(id);
        }
    }
    Err(profile_not_found(key))
}

fn load(conn: &Connection, id: i64) -> Result<Profile> {
    type Head = (String, String, i64, String, String, Option<u32>, Option<String>, Option<String>);
    let (name, description, base_id, created_at, updated_at, edition, created_by, updated_by): Head = conn.query_row(
        "SELECT name, description, base_id, created_at, updated_at, edition, created_by, updated_by FROM profiles WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
    )?;
    let base = catalog::by_id(conn, base_id)?.ok_or_else(|| Error::not_found("artifact", &base_id.to_string()))?;
    let image = ImageFacts::of(&base);
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.name, a.kind, a.os, m.role, o.size, a.sha256, o.state, a.detected FROM profile_members m
         JOIN artifacts a ON a.id = m.artifact_id JOIN objects o ON o.sha256 = a.sha256
         WHERE m.profile_id = ?1 ORDER BY m.role, a.name COLLATE NOCASE",
    )?;
    let members = stmt
        .query_map([id], |r| {
            let role: Role = crate::db::word(r, 4)?;
            let warnings = if role == Role::Driver {
                let detected: serde_json::Value = serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default();
                let driver = DriverInfo::from_fact(detected.get("driver"));
                compat::warnings(driver.as_ref(), &image)
            } else {
                Vec::new()
            };
            Ok(ProfileMember {
                artifact: ArtifactRef { id: r.get(0)?, name: r.get(1)? },
                kind: crate::db::word(r, 2)?,
                os: crate::db::word_opt(r, 3)?,
                role,
                size: r.get::<_, i64>(5)? as u64,
                sha256: r.get(6)?,
                state: ArtifactState::from_column(r, 7)?,
                warnings,
            })
        })?
        .collect::<crate::db::SqlResult<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached("SELECT key, value FROM profile_options WHERE profile_id = ?1")?;
    let options = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<crate::db::SqlResult<BTreeMap<_, _>>>()?;
    Ok(Profile {
        id,
        name,
        description,
        base: ArtifactRef { id: base.id, name: base.name.clone() },
        base_state: base.state,
        os: base.os,
        distro: base.distro,
        members,
        options,
        edition: edition.and_then(|i| base.editions.iter().find(|e| e.index == i).cloned()),
        editions: base.editions,
        created_at,
        updated_at,
        created_by,
        updated_by,
    })
}

/// The edition of `base` that `wanted` names: its index, its edition id (ServerDatacenter) or its
/// name, ignoring case. An edition id that two editions share (a Server Core and a Desktop
/// Experience image) is refused: the index tells them apart.
pub(crate) fn pick_edition(base: &Artifact, wanted: &str) -> Result<WindowsEdition> {
    let wanted = wanted.trim();
    if base.editions.is_empty() {
        return Err(Error::new(
            code::INVALID_ARGUMENT,
            format!("{} has no Windows editions to choose from.", base.name),
            "Editions are the images inside a Windows installer's sources/install.wim or install.esd; only a profile on such an image installs one of them.",
            "Leave the edition out, or create the profile on a Windows installer ISO.",
        ));
    }
    let list = || base.editions.iter().map(edition_label).collect::<Vec<_>>().join("; ");
    let found: Vec<&WindowsEdition> = match wanted.parse::<u32>() {
        Ok(i) => base.editions.iter().filter(|e| e.index == i).collect(),
        Err(_) => {
            let by_id: Vec<_> =
                base.editions.iter().filter(|e| e.edition_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(wanted))).collect();
            if by_id.is_empty() {
                base.editions.iter().filter(|e| e.name.eq_ignore_ascii_case(wanted)).collect()
            } else {
                by_id
            }
        }
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::new(
            code::INVALID_ARGUMENT,
            format!("{} has no edition \"{wanted}\".", base.name),
            "An edition is named by its index in install.wim, its edition id or its name.",
            format!("Choose one of: {}.", list()),
        )),
        many => Err(Error::new(
            code::INVALID_ARGUMENT,
            format!("\"{wanted}\" names {} editions of {}.", many.len(), base.name),
            "Images of one edition id differ by installation type (Server Core or Desktop Experience); the index tells them apart.",
            format!("Choose by index: {}.", many.iter().map(|e| edition_label(e)).collect::<Vec<_>>().join("; ")),
        )),
    }
}

/// "2 Windows Server 2022 SERVERDATACENTER (ServerDatacenter)": how a refusal lists an edition.
fn edition_label(e: &WindowsEdition) -> String {
    match &e.edition_id {
        Some(id) => format!("{} {} ({id})", e.index, e.name),
        None => format!("{} {}", e.index, e.name),
    }
}

/// Set (or with None clear) the edition profile `id` installs, inside the caller's transaction.
pub(crate) fn set_edition(tx: &Connection, id: i64, edition: Option<&str>) -> Result<()> {
    let index = match edition {
        None => None,
        Some(wanted) => {
            let base_id: i64 = tx.query_row("SELECT base_id FROM profiles WHERE id = ?1", [id], |r| r.get(0))?;
            let base = catalog::by_id(tx, base_id)?.ok_or_else(|| Error::not_found("artifact", &base_id.to_string()))?;
            Some(pick_edition(&base, wanted)?.index)
        }
    };
    tx.execute("UPDATE profiles SET edition = ?1 WHERE id = ?2", params![index, id])?;
    touch(tx, id)
}

fn touch(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("UPDATE profiles SET updated_at = ?1, updated_by = ?3 WHERE id = ?2", params![clock::now(), id, crate::team::who()])?;
    Ok(())
}

/// Can `a` join `p` (on `image`)? Refusals say why, in the words of the support matrix, or for a
/// driver that does not fit the image, `incompatible_driver` with the reason; a boot file, `incompatible_boot_file`.
fn check_member(p: &Profile, image: &ImageFacts, a: &Artifact) -> Result<Role> {
    let role = Role::for_kind(a.kind).ok_or_else(|| {
        refuse(
            format!(
                "{} is {} and cannot be a member of a profile.",
                a.name,
                match a.kind {
                    Kind::Os => "an OS image",
                    Kind::OsProfile => "an exported profile",
                    _ => "not a deployment file",
                }
            ),
            "A profile has exactly one base OS image; its members are drivers, boot files, custom files and one answer file.",
            "Add drivers, boot files, scripts, software, configs or an answer file; to use another OS image, create a profile on it.",
        )
    })?;
    if role == Role::Boot && p.os != Some(OsFamily::Windows) {
        return Err(refuse(
            format!("{} is a WinPE boot file, which only fits a Windows profile; {} is based on {}.", a.name, p.name, os_words(p.os)),
            "Boot files are supported for Windows only (support matrix).",
            "Leave the boot file out, or add it to a profile based on a Windows image.",
        ));
    }
    let profile_os = p.os.or_else(|| p.members.iter().find_map(|m| m.os));
    if let (Some(mine), Some(theirs)) = (a.os, profile_os) {
        if mine != theirs {
            return Err(refuse(
                format!("{} is for {mine}, but the profile {} is for {theirs}.", a.name, p.name),
                "Every file in a profile must be for the operating system of its base image (a Windows .inf driver cannot go into a RHEL profile).",
                format!("Choose a {theirs} file instead, or add this one to a {mine} profile."),
            ));
        }
    }
    match role {
        Role::Driver => {
            compat::check_driver(&a.name, a.driver.as_ref(), image)?;
        }
        Role::Boot => {
            if let Some(e) = compat::boot_refusal(a, image) {
                return Err(e);
            }
        }
        _ => {}
    }
    if role == Role::Unattend {
        if let Some(existing) = p.members.iter().find(|m| m.role == Role::Unattend && m.artifact.id != a.id) {
            return Err(refuse(
                format!("{} already has an answer file ({}); a profile has one.", p.name, existing.artifact.name),
                "The installer reads one answer file (kickstart, AutoYaST or unattend.xml) per installation.",
                format!("Remove {} from the profile first, then add {}.", existing.artifact.name, a.name),
            ));
        }
    }
    Ok(role)
}

fn os_words(os: Option<OsFamily>) -> String {
    os.map(|o| o.to_string()).unwrap_or_else(|| "an image of unknown OS".into())
}

fn validate_option_key(key: &str) -> Result<String> {
    let k = key.trim();
    if k.is_empty() || k.len() > 64 || !k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(Error::invalid_argument(
            format!("\"{key}\" is not a valid install option name."),
            "Option names are 1 to 64 letters, digits, '_', '-' or '.' (for example hostname, timezone).",
        ));
    }
    Ok(k.to_ascii_lowercase())
}

impl Engine {
    pub fn list_profiles(&self) -> Result<Vec<Profile>> {
        let conn = self.db();
        let ids: Vec<i64> = conn
            .prepare("SELECT id FROM profiles ORDER BY name COLLATE NOCASE")?
            .query_map([], |r| r.get(0))?
            .collect::<crate::db::SqlResult<_>>()?;
        ids.into_iter().map(|id| load(&conn, id)).collect()
    }

    pub fn get_profile(&self, key: &str) -> Result<Profile> {
        let conn = self.db();
        let id = find_id(&conn, key)?;
        load(&conn, id)
    }

    /// Create a profile on an OS image; on a Windows installer, `edition` (index, edition id or
    /// name) picks the edition it installs. Nothing is created when the edition is refused.
    pub fn create_profile(&self, name: &str, base: &str, description: &str, edition: Option<&str>) -> Result<Profile> {
        let name = catalog::validate_name(name)?;
        self.write(|tx| {
            let id = create(tx, &name, base, description)?;
            if edition.is_some() {
                set_edition(tx, id, edition)?;
            }
            load(tx, id)
        })
    }

    /// Choose the Windows edition a profile installs (index, edition id or name), or with None
    /// leave the choice to Setup.
    pub fn set_profile_edition(&self, key: &str, edition: Option<&str>) -> Result<Profile> {
        self.write(|tx| {
            let id = find_id(tx, key)?;
            set_edition(tx, id, edition)?;
            load(tx, id)
        })
    }

    /// Add artifacts; all are checked first, and nothing changes if one is refused.
    pub fn add_to_profile(&self, key: &str, artifacts: &[String]) -> Result<Profile> {
        self.write(|tx| {
            let id = find_id(tx, key)?;
            add_members(tx, id, artifacts)?;
            load(tx, id)
        })
    }

    pub fn remove_from_profile(&self, key: &str, artifacts: &[String]) -> Result<Profile> {
        self.write(|tx| {
            let id = find_id(tx, key)?;
            let profile = load(tx, id)?;
            for a_key in artifacts {
                let a = catalog::get(tx, a_key)?;
                if !profile.members.iter().any(|m| m.artifact.id == a.id) {
                    return Err(Error::invalid_argument(
                        format!("{} is not a member of {}.", a.name, profile.name),
                        "Show the profile to see its members.",
                    ));
                }
                tx.execute("DELETE FROM profile_members WHERE profile_id = ?1 AND artifact_id = ?2", params![id, a.id])?;
            }
            touch(tx, id)?;
            load(tx, id)
        })
    }

    /// Set install options; an empty value removes the option.
    pub fn set_profile_options(&self, key: &str, options: &[(String, String)]) -> Result<Profile> {
        self.write(|tx| {
            let id = find_id(tx, key)?;
            set_options(tx, id, options)?;
            load(tx, id)
        })
    }

    /// Rename and/or describe a profile.
    pub fn update_profile(&self, key: &str, name: Option<&str>, description: Option<&str>) -> Result<Profile> {
        self.write(|tx| {
            let id = find_id(tx, key)?;
            if let Some(n) = name {
                let n = catalog::validate_name(n)?;
                let other: Option<i64> =
                    tx.query_row("SELECT id FROM profiles WHERE name = ?1 COLLATE NOCASE", [&n], |r| r.get(0)).optional()?;
                if other.is_some_and(|o| o != id) {
                    return Err(profile_name_taken(&n));
                }
                tx.execute("UPDATE profiles SET name = ?1 WHERE id = ?2", params![n, id])?;
            }
            if let Some(d) = description {
                tx.execute("UPDATE profiles SET description = ?1 WHERE id = ?2", params![d.trim(), id])?;
            }
            touch(tx, id)?;
            load(tx, id)
        })
    }

    /// Copy a profile (members, options and edition) under a new name.
    pub fn clone_profile(&self, key: &str, new_name: &str) -> Result<Profile> {
        let new_name = catalog::validate_name(new_name)?;
        self.write(|tx| {
            let id = find_id(tx, key)?;
            if name_exists(tx, &new_name)? {
                return Err(profile_name_taken(&new_name));
            }
            let now = clock::now();
            let new_id: i64 = tx.query_row(
                "INSERT INTO profiles (name, description, base_id, edition, created_at, updated_at, created_by)
                 SELECT ?1, description, base_id, edition, ?2, ?2, ?4 FROM profiles WHERE id = ?3 RETURNING id",
                params![new_name, now, id, crate::team::who()],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO profile_members SELECT ?1, artifact_id, role FROM profile_members WHERE profile_id = ?2",
                params![new_id, id],
            )?;
            tx.execute(
                "INSERT INTO profile_options SELECT ?1, key, value FROM profile_options WHERE profile_id = ?2",
                params![new_id, id],
            )?;
            load(tx, new_id)
        })
    }

    /// `name`, or `name (2)`, `name (3)`, … — the first profile name not taken.
    pub fn free_profile_name(&self, name: &str) -> Result<String> {
        free_name(&self.db(), name)
    }

    pub fn delete_profile(&self, key: &str) -> Result<Profile> {
        self.write(|tx| {
            let id = find_id(tx, key)?;
            let p = load(tx, id)?;
            tx.execute("DELETE FROM profiles WHERE id = ?1", [id])?;
            crate::deletions::record(tx, crate::deletions::DeletedKind::Profile, &p.name, None)?;
            Ok(p)
        })
    }
}

/// Insert a profile named `name` (validated) on the OS image `base`, inside the caller's transaction.
pub(crate) fn create(tx: &Connection, name: &str, base: &str, description: &str) -> Result<i64> {
    if name_exists(tx, name)? {
        return Err(profile_name_taken(name));
    }
    let image = catalog::usable(catalog::find_os_image(tx, base)?)?;
    let now = clock::now();
    Ok(tx.query_row(
        "INSERT INTO profiles (name, description, base_id, created_at, updated_at, created_by) VALUES (?1, ?2, ?3, ?4, ?4, ?5) RETURNING id",
        params![name, description.trim(), image.id, now, crate::team::who()],
        |r| r.get(0),
    )?)
}

/// Add artifacts (ids or names) to profile `id`, each checked against the profile first.
pub(crate) fn add_members(tx: &Connection, id: i64, artifacts: &[String]) -> Result<()> {
    let base_id = load(tx, id)?.base.id;
    let base = catalog::by_id(tx, base_id)?.ok_or_else(|| Error::not_found("artifact", &base_id.to_string()))?;
    let image = ImageFacts::of(&base);
    for a_key in artifacts {
        // reloaded for each: what was just added counts (one answer file, no duplicate)
        let profile = load(tx, id)?;
        let a = catalog::get_usable(tx, a_key)?;
        let role = check_member(&profile, &image, &a)?;
        tx.execute(
            "INSERT INTO profile_members (profile_id, artifact_id, role) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![id, a.id, role.as_str()],
        )?;
    }
    touch(tx, id)
}

/// Set install options of profile `id`; an empty value removes the option.
pub(crate) fn set_options(tx: &Connection, id: i64, options: &[(String, String)]) -> Result<()> {
    for (k, v) in options {
        let k = validate_option_key(k)?;
        if v.trim().is_empty() {
            tx.execute("DELETE FROM profile_options WHERE profile_id = ?1 AND key = ?2", params![id, k])?;
        } else {
            tx.execute(
                "INSERT INTO profile_options (profile_id, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(profile_id, key) DO UPDATE SET value = excluded.value",
                params![id, k, v.trim()],
            )?;
        }
    }
    touch(tx, id)
}

/// Whether a profile of this name (ignoring case) exists.
pub(crate) fn name_exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row("SELECT 1 FROM profiles WHERE name = ?1 COLLATE NOCASE", [name], |_| Ok(())).optional()?.is_some())
}

/// `name`, or `name (2)`, `name (3)`, … — the first profile name not taken.
pub(crate) fn free_name(conn: &Connection, name: &str) -> Result<String> {
    if !name_exists(conn, name)? {
        return Ok(name.to_string());
    }
    let mut n = 2;
    loop {
        let candidate = format!("{name} ({n})");
        if !name_exists(conn, &candidate)? {
            return Ok(candidate);
        }
        n += 1;
    }
}

pub(crate) fn load_profile(conn: &Connection, id: i64) -> Result<Profile> {
    load(conn, id)
}

pub(crate) fn profile_name_taken(name: &str) -> Error {
    Error::new(
        code::NAME_TAKEN,
        format!("A profile named \"{name}\" already exists."),
        "Profile names are unique (ignoring case) so exports and imports can refer to them.",
        "Choose another name, or rename or delete the existing profile first.",
    )
}

/// Names of the profiles that use an artifact as base image or member (for `in_use`).
pub fn profiles_using(conn: &Connection, artifact_id: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM profiles WHERE base_id = ?1
         UNION SELECT p.name FROM profiles p JOIN profile_members m ON m.profile_id = p.id WHERE m.artifact_id = ?1
         ORDER BY 1",
    )?;
    let names = stmt.query_map([artifact_id], |r| r.get(0))?.collect::<crate::db::SqlResult<_>>()?;
    Ok(names)
}
