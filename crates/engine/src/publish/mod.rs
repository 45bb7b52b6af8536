//! Publishing images to clouds (OpenStack Glance, with Keystone v3 or without auth): targets, the
//! wizard's dry run, the publish job, and the publications it leaves.
//!
//! A target's secret lives in the OS keyring (see `secrets`), never in SQLite. Publications are
//! kept as history: `unpublish` deletes the image in the cloud and marks the row `deleted`.

mod cloud;
use crate::qemu as convert;
mod http_errors;
mod job;
mod publications;
mod targets;
mod upload;

use crate::error::{code, Error, Result};
use crate::model::{string_enum, Artifact, ArtifactRef, Kind, OsFamily};
use crate::secrets::{Owner, Secret};
use crate::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

pub use cloud::Session;

string_enum!(
    /// How a target signs in: Keystone v3 password, Keystone application credential, or not at all
    /// (a Glance that needs no token, as in labs).
    AuthMethod, "auth_method", InvalidAuthMethod { Password = "password", ApplicationCredential = "application_credential", None = "none" }
);

string_enum!(
    /// Which of the catalog's endpoints to use.
    Interface, "interface", InvalidInterface { Public = "public", Internal = "internal", Admin = "admin" }
);

string_enum!(
    /// Who can see a published image.
    Visibility, "visibility", InvalidVisibility { Private = "private", Shared = "shared", Community = "community", Public = "public" }
);

#[allow(clippy::derivable_impls)] // string_enum! cannot put #[default] on a variant
impl Default for AuthMethod {
    fn default() -> Self {
        AuthMethod::Password
    }
}

#[allow(clippy::derivable_impls)] // string_enum! cannot put #[default] on a variant
impl Default for Interface {
    fn default() -> Self {
        Interface::Public
    }
}

#[allow(clippy::derivable_impls)] // string_enum! cannot put #[default] on a variant
impl Default for Visibility {
    fn default() -> Self {
        Visibility::Private
    }
}

/// A cloud account to publish to, as stored (no secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Target {
    pub id: i64,
    pub name: String,
    pub auth: AuthMethod,
    /// Keystone v3 (`https://cloud:5000/v3`); none for a no-auth Glance.
    pub auth_url: Option<String>,
    /// Glance's URL: required without auth; with Keystone it overrides the catalog's endpoint.
    pub image_url: Option<String>,
    pub region: Option<String>,
    pub interface: Interface,
    pub username: Option<String>,
    pub user_domain: Option<String>,
    pub project: Option<String>,
    pub project_domain: Option<String>,
    pub application_credential_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Who saved it, as `user@host` (none for targets saved before this was recorded).
    pub created_by: Option<String>,
}

/// What the user enters to add a target. Domains default to `Default`, the interface to `public`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewTarget {
    pub name: String,
    pub auth: AuthMethod,
    pub auth_url: Option<String>,
    pub image_url: Option<String>,
    pub region: Option<String>,
    pub interface: Option<Interface>,
    pub username: Option<String>,
    pub user_domain: Option<String>,
    pub project: Option<String>,
    pub project_domain: Option<String>,
    pub application_credential_id: Option<String>,
}

/// The result of adding a target: the row, and whether its secret went into the keyring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TargetAdded {
    pub target: Target,
    pub secret_stored: bool,
    /// Why the secret could not be kept (`keyring_unavailable`): it will be asked for each time.
    pub secret_error: Option<Error>,
}

/// "Test connection": who you are, in which project, and the image endpoint found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TargetCheck {
    pub target: String,
    pub auth: AuthMethod,
    pub user: Option<String>,
    pub user_id: Option<String>,
    pub project: Option<String>,
    pub project_id: Option<String>,
    pub roles: Vec<String>,
    pub image_endpoint: String,
    /// The current image API version (`v2.17`).
    pub glance_version: Option<String>,
    pub token_expires_at: Option<String>,
}

/// Options of a publish (the wizard's third step). `None` means the default: the artifact's name,
/// its own disk format (an ISO publishes as `iso`), container `bare`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PublishOptions {
    /// Display name in the cloud (one image only).
    pub name: Option<String>,
    pub visibility: Visibility,
    /// Glance disk format; differs from the stored one → converted with qemu-img first.
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    /// Send the stored bytes as they are and only declare `disk_format` (the cloud checks them).
    pub no_convert: bool,
    pub min_disk_gb: Option<u32>,
    pub min_ram_mb: Option<u32>,
    pub tags: Vec<String>,
    pub protected: bool,
    /// Image properties; they override the ones prefilled from the library (os_distro, os_version, …).
    pub properties: BTreeMap<String, String>,
}

/// One or more artifacts to publish to one target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PublishRequest {
    /// Artifact ids or names.
    pub artifacts: Vec<String>,
    pub target: String,
    pub options: PublishOptions,
}

/// The dry run for one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
// The type's name only (JSON is unchanged): the app's generated client has the import review's `PlanItem`.
#[serde(rename = "PublishPlanItem")]
pub struct PlanItem {
    pub artifact: ArtifactRef,
    pub name: String,
    pub source_format: String,
    pub disk_format: String,
    pub container_format: String,
    /// True when qemu-img converts the image first.
    pub convert: bool,
    /// Bytes to upload (the stored size; an estimate when converting).
    pub size: u64,
    pub properties: BTreeMap<String, String>,
    /// Would not go through (unsupported format, over the quota): publish refuses these items.
    pub problems: Vec<Error>,
    /// Goes through but worth a look (`name_taken`: an image of that name exists already).
    pub warnings: Vec<Error>,
}

/// The wizard's review step: the sign-in and catalog worked (else `plan_publish` fails with the
/// cloud's error), and what each image would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PublishPlan {
    pub target: TargetCheck,
    pub disk_formats: Vec<String>,
    pub container_formats: Vec<String>,
    /// Bytes the project may still store, when the cloud reveals a limit.
    pub storage_left: Option<u64>,
    pub items: Vec<PlanItem>,
    /// No item has a problem.
    pub ready: bool,
}

/// Where a publication stands: `uploading` while its job runs, then `active`, `failed` or
/// `cancelled`; `deleted` once unpublished (or found gone); `interrupted` when the process running
/// the upload died.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PublicationStatus {
    Uploading,
    Active,
    Failed,
    Cancelled,
    Deleted,
    Interrupted,
}

impl PublicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PublicationStatus::Uploading => "uploading",
            PublicationStatus::Active => "active",
            PublicationStatus::Failed => "failed",
            PublicationStatus::Cancelled => "cancelled",
            PublicationStatus::Deleted => "deleted",
            PublicationStatus::Interrupted => "interrupted",
        }
    }

    const ALL: [PublicationStatus; 6] = [
        PublicationStatus::Uploading,
        PublicationStatus::Active,
        PublicationStatus::Failed,
        PublicationStatus::Cancelled,
        PublicationStatus::Deleted,
        PublicationStatus::Interrupted,
    ];
}

impl FromStr for PublicationStatus {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        PublicationStatus::ALL.into_iter().find(|p| p.as_str() == s).ok_or(())
    }
}

/// One image published (or attempted) to one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Publication {
    pub id: i64,
    /// The artifact (`id` 0 once the artifact was deleted from the library; its name stays).
    pub artifact: ArtifactRef,
    /// The target's name (it stays after the target is removed).
    pub target: String,
    pub job_id: Option<i64>,
    pub image_url: String,
    /// Glance's image id.
    pub remote_id: Option<String>,
    pub name: String,
    pub disk_format: String,
    pub container_format: String,
    pub visibility: Visibility,
    pub size: Option<u64>,
    /// Digests of exactly what was uploaded.
    pub md5: Option<String>,
    pub sha512: Option<String>,
    pub status: PublicationStatus,
    /// Glance's status when last seen (queued, saving, active, killed, deactivated, …).
    pub remote_status: Option<String>,
    /// Glance's checksum (MD5) and os_hash_value (SHA-512) equal the local digests.
    // (At publish, and at the last refresh while the image is there; kept after unpublishing.
    // A plain comment: doc comments reach the app's generated TypeScript client.)
    pub verified: bool,
    pub error: Option<Error>,
    pub created_at: String,
    pub updated_at: String,
    /// Whether the published artifact's stored copy is still there and intact (`None` once the
    /// artifact was deleted): a missing or damaged one cannot be published again until re-imported.
    pub artifact_state: Option<crate::model::ArtifactState>,
}

/// What `publish` returns: the job as the history shows it and one publication per image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PublishReport {
    pub job: crate::JobSummary,
    pub publications: Vec<Publication>,
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A URL as a message may show it: no user, password or query.
fn without_credentials(u: &reqwest::Url) -> String {
    let mut shown = u.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    format!("\"{shown}\"")
}

/// An http(s) URL with a host and no credentials in it. A password typed into a URL would be stored
/// in the catalog and shown in lists and logs, so it is refused — and never repeated in the message.
fn check_url(what: &str, url: &str) -> Result<()> {
    let parsed = reqwest::Url::parse(url);
    let shown = match &parsed {
        Ok(u) => without_credentials(u),
        Err(_) if url.contains('@') => "(not shown: it may hold a password)".to_string(),
        Err(_) => format!("\"{}\"", url.escape_default()),
    };
    let u = match parsed {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => u,
        _ => {
            return Err(Error::invalid_argument(
                format!("The {what} {shown} is not an http(s) URL."),
                format!("Give the {what} as https://host:port/… ."),
            ))
        }
    };
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Error::new(
            code::INVALID_ARGUMENT,
            format!("The {what} {shown} holds a user name or password; it was not saved."),
            "Targets keep their URLs in the catalog, where lists, exports and logs show them; a password belongs in the OS keyring.",
            "Give the URL without user@ or user:password@, the user with --user, and the password with --password-stdin (kept in the keyring) or when asked.",
        ));
    }
    Ok(())
}

/// The new target with blanks dropped and its settings checked against its sign-in method.
fn validated(t: &NewTarget) -> Result<NewTarget> {
    let mut t = NewTarget {
        name: t.name.trim().to_string(),
        auth: t.auth,
        auth_url: non_empty(&t.auth_url),
        image_url: non_empty(&t.image_url),
        region: non_empty(&t.region),
        interface: t.interface,
        username: non_empty(&t.username),
        user_domain: non_empty(&t.user_domain),
        project: non_empty(&t.project),
        project_domain: non_empty(&t.project_domain),
        application_credential_id: non_empty(&t.application_credential_id),
    };
    if t.name.is_empty() || t.name.chars().any(|c| c.is_control()) {
        return Err(Error::new(
            code::INVALID_NAME,
            "A target needs a name.",
            "The name identifies the target in lists, commands and the keyring.",
            "Give a short name such as \"lab-cloud\".",
        ));
    }
    let need = |v: &Option<String>, flag: &str| {
        if v.is_none() {
            Err(Error::invalid_argument(format!("Target \"{}\" needs {flag} for {} sign-in.", t.name, t.auth), format!("Give {flag}.")))
        } else {
            Ok(())
        }
    };
    match t.auth {
        AuthMethod::None => {
            need(&t.image_url, "the image URL (--image-url)")?;
            t.auth_url = None;
            t.username = None;
            t.project = None;
            t.application_credential_id = None;
        }
        AuthMethod::Password => {
            need(&t.auth_url, "the Keystone URL (--auth-url)")?;
            need(&t.username, "a user (--user)")?;
            need(&t.project, "a project (--project)")?;
            t.user_domain.get_or_insert_with(|| "Default".into());
            t.project_domain.get_or_insert_with(|| "Default".into());
            t.application_credential_id = None;
        }
        AuthMethod::ApplicationCredential => {
            need(&t.auth_url, "the Keystone URL (--auth-url)")?;
            need(&t.application_credential_id, "an application credential id")?;
            t.username = None;
            t.project = None;
        }
    }
    if let Some(u) = &t.auth_url {
        check_url("auth URL", u)?;
    }
    if let Some(u) = &t.image_url {
        check_url("image URL", u)?;
    }
    Ok(t)
}

/// Glance's `os_distro` for a library distro name (the values Glance's docs list).
fn os_distro(a: &Artifact) -> Option<&'static str> {
    match (a.os, a.distro.as_deref()) {
        (_, Some("rhel")) => Some("rhel"),
        (_, Some("centos")) => Some("centos"),
        (_, Some("rocky")) => Some("rocky"),
        (_, Some("alma")) => Some("almalinux"),
        (_, Some("oracle")) => Some("ol"),
        (_, Some("fedora")) => Some("fedora"),
        (_, Some("sles")) => Some("sles"),
        (_, Some("opensuse")) => Some("opensuse"),
        (_, Some("ubuntu")) => Some("ubuntu"),
        (_, Some("debian")) => Some("debian"),
        (_, Some("esxi")) | (Some(OsFamily::Vmware), _) => Some("esxi"),
        (Some(OsFamily::Windows), _) => Some("windows"),
        _ => None,
    }
}

/// Image properties prefilled from what the library knows: os_type, os_distro, os_version,
/// architecture.
pub fn suggested_properties(a: &Artifact) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    if let Some(os) = a.os {
        if os != OsFamily::Vmware {
            p.insert("os_type".into(), os.as_str().into());
        }
    }
    if let Some(d) = os_distro(a) {
        p.insert("os_distro".into(), d.into());
    }
    let detected = |k: &str| a.detected.get(k).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(v) = detected("version").or_else(|| (!a.version.trim().is_empty()).then(|| a.version.trim().to_string())) {
        p.insert("os_version".into(), v);
    }
    if let Some(arch) = detected("arch") {
        p.insert("architecture".into(), arch);
    }
    p
}

/// The disk format an artifact is stored in, as Glance names it.
fn stored_format(a: &Artifact) -> Result<String> {
    match a.kind {
        Kind::DiskImage => Ok(a.detected.get("disk_format").and_then(|v| v.as_str()).unwrap_or("raw").to_string()),
        Kind::Os => Ok("iso".to_string()),
        other => Err(Error::new(
            code::UNSUPPORTED_TYPE,
            format!("{} is a {other}, which cannot be published to a cloud.", a.name),
            "Clouds take disk images (qcow2, raw, vmdk, vhdx) and installer ISOs.",
            "Choose a disk image or an OS ISO from the library.",
        )),
    }
}

impl Engine {
    // ---- targets ----

    /// Add a target; with `secret`, keep it in the OS keyring (if the keyring cannot take it, the
    /// target is still added and `secret_error` says why: the secret is then asked for each time).
    pub fn add_target(&self, spec: &NewTarget, secret: Option<&Secret>) -> Result<TargetAdded> {
        let spec = validated(spec)?;
        let id = self.write(|tx| targets::insert(tx, &spec))?;
        let target = targets::by_id(&self.db(), id)?.ok_or_else(|| targets::target_not_found(&spec.name))?;
        let (secret_stored, secret_error) = match (secret, target.auth) {
            (Some(s), AuthMethod::Password | AuthMethod::ApplicationCredential) => {
                match self.store_secret(Owner::Target, &target.name, s) {
                    Ok(()) => (true, None),
                    Err(e) => (false, Some(e)),
                }
            }
            _ => (false, None),
        };
        Ok(TargetAdded { target, secret_stored, secret_error })
    }

    pub fn list_targets(&self) -> Result<Vec<Target>> {
        targets::list(&self.db())
    }

    pub fn get_target(&self, name: &str) -> Result<Target> {
        targets::get(&self.db(), name)
    }

    /// Remove a target and forget its keyring entry. Its publications stay, naming it.
    pub fn remove_target(&self, name: &str) -> Result<Target> {
        let target = self.write(|tx| {
            let t = targets::get(tx, name)?;
            targets::delete(tx, t.id)?;
            let at = t.image_url.as_deref().or(t.auth_url.as_deref());
            crate::deletions::record(tx, crate::deletions::DeletedKind::Target, &t.name, at)?;
            Ok(t)
        })?;
        self.forget_secret(Owner::Target, &target.name)?;
        Ok(target)
    }

    /// Sign in to the target: the secret given for this call, else the keyring's, else
    /// `secret_required`.
    pub fn connect_target(&self, target: &Target, given: Option<&Secret>) -> Result<Session> {
        let secret = match target.auth {
            AuthMethod::None => None,
            _ => Some(self.secret_for(Owner::Target, &target.name, given)?.0),
        };
        Session::connect(target, secret)
    }

    /// "Test connection": sign in, find the image endpoint, ask Glance its API version.
    pub fn test_target(&self, name: &str, given: Option<&Secret>) -> Result<TargetCheck> {
        let target = self.get_target(name)?;
        let session = self.connect_target(&target, given)?;
        let mut check = session.check.clone();
        check.glance_version = Some(session.glance_version()?);
        Ok(check)
    }

    // ---- the dry run ----

    /// The wizard's review: sign-in and catalog (errors end the plan), then for each image its
    /// formats, conversion, size against the cloud's limit, and an image of the same name.
    pub fn plan_publish(&self, req: &PublishRequest, given: Option<&Secret>) -> Result<PublishPlan> {
        let (target, artifacts) = self.resolve_request(req)?;
        let session = self.connect_target(&target, given)?;
        let mut check = session.check.clone();
        check.glance_version = Some(session.glance_version()?);
        let formats = session.formats().unwrap_or_default();
        let storage_left = session.storage_left();
        let mut items = Vec::new();
        let mut left = storage_left;
        for a in &artifacts {
            let mut item = self.plan_item(a, &req.options, &formats);
            if let Some(l) = left {
                if item.size > l {
                    item.problems.push(Error::new(
                        code::TOO_LARGE,
                        format!("{} ({} bytes) is larger than the {l} bytes the project may still store.", item.name, item.size),
                        "The cloud enforces an image storage limit for this project and reports how much of it is used.",
                        "Delete images you no longer need in that project, ask for more quota, or publish a smaller image (qcow2).",
                    ));
                }
                left = Some(l.saturating_sub(item.size));
            }
            match session.images_named(&item.name) {
                Ok(found) if !found.is_empty() => item.warnings.push(Error::new(
                    code::NAME_TAKEN,
                    format!("Target \"{}\" already has {} image(s) named \"{}\".", target.name, found.len(), item.name),
                    "Glance allows several images of one name; people and tools picking an image by name may get the wrong one.",
                    "Choose another display name, or go ahead if a second image of that name is what you want.",
                )),
                Ok(_) => {}
                Err(e) => item.warnings.push(e),
            }
            items.push(item);
        }
        let ready = items.iter().all(|i| i.problems.is_empty());
        Ok(PublishPlan { target: check, disk_formats: formats.disk, container_formats: formats.container, storage_left, items, ready })
    }

    fn resolve_request(&self, req: &PublishRequest) -> Result<(Target, Vec<Artifact>)> {
        if req.artifacts.is_empty() {
            return Err(Error::invalid_argument("No image was chosen to publish.", "Choose one or more disk images or ISOs."));
        }
        if req.options.name.is_some() && req.artifacts.len() > 1 {
            return Err(Error::invalid_argument(
                "A display name applies to one image, and several were chosen.",
                "Publish the images one at a time to name each, or leave the name out (each keeps its library name).",
            ));
        }
        let target = self.get_target(&req.target)?;
        let conn = self.db();
        let artifacts = req.artifacts.iter().map(|k| crate::catalog::get_usable(&conn, k)).collect::<Result<Vec<_>>>()?;
        Ok((target, artifacts))
    }

    fn plan_item(&self, a: &Artifact, o: &PublishOptions, formats: &cloud::Formats) -> PlanItem {
        let mut problems = Vec::new();
        let source = stored_format(a).unwrap_or_else(|e| {
            problems.push(e);
            String::new()
        });
        let disk_format = o.disk_format.clone().map(|f| f.trim().to_ascii_lowercase()).unwrap_or_else(|| source.clone());
        let container_format = o.container_format.clone().map(|f| f.trim().to_ascii_lowercase()).unwrap_or_else(|| "bare".into());
        let convert = !o.no_convert && !source.is_empty() && disk_format != source;
        if convert && (convert::qemu_format(&source).is_none() || convert::qemu_format(&disk_format).is_none()) {
            problems.push(Error::new(
                code::FORMAT_UNSUPPORTED,
                format!("{} is {source} and cannot be converted to {disk_format}.", a.name),
                "qemu-img converts between raw, qcow2, vmdk, vhdx, vhd and vdi; an ISO is published as iso.",
                format!("Publish it as {source}, or choose one of the formats qemu-img writes."),
            ));
        }
        for (kind, chosen, allowed) in [("disk", &disk_format, &formats.disk), ("container", &container_format, &formats.container)] {
            if !allowed.is_empty() && !chosen.is_empty() && !allowed.contains(chosen) {
                problems.push(Error::new(
                    code::FORMAT_UNSUPPORTED,
                    format!("This cloud does not take the {kind} format \"{chosen}\"."),
                    format!("Its Glance accepts the {kind} formats: {}.", allowed.join(", ")),
                    format!("Choose one of those {kind} formats."),
                ));
            }
        }
        let virtual_size = a.detected.get("virtual_size").and_then(|v| v.as_u64());
        // Converting to raw writes the whole virtual disk; other formats stay near the used size.
        let size = if convert && disk_format == "raw" { virtual_size.unwrap_or(a.size) } else { a.size };
        let mut properties = suggested_properties(a);
        properties.extend(o.properties.clone());
        PlanItem {
            artifact: ArtifactRef { id: a.id, name: a.name.clone() },
            name: o.name.clone().unwrap_or_else(|| a.name.clone()),
            source_format: source,
            disk_format,
            container_format,
            convert,
            size,
            properties,
            problems,
            warnings: Vec::new(),
        }
    }

    // ---- publications ----

    /// Publications, newest first; only those of one artifact (id or name) when given.
    pub fn list_publications(&self, artifact: Option<&str>) -> Result<Vec<Publication>> {
        let conn = self.db();
        let artifact_id = artifact.map(|k| crate::catalog::get(&conn, k).map(|a| a.id)).transpose()?;
        publications::list(&conn, artifact_id)
    }

    pub fn get_publication(&self, id: i64) -> Result<Publication> {
        publications::get(&self.db(), id)
    }

    fn publication_session(&self, p: &Publication, given: Option<&Secret>) -> Result<Session> {
        let target = targets::find(&self.db(), &p.target)?.ok_or_else(|| {
            Error::new(
                code::NOT_FOUND,
                format!("Publication {} went to target \"{}\", which was removed.", p.id, p.target),
                "Without the target's settings Imagesmith cannot reach that cloud.",
                "Add the target again under the same name, then try again.",
            )
        })?;
        self.connect_target(&target, given)
    }

    /// Ask Glance for the image's status now; gone → `deleted`, killed → `failed`. The digests
    /// are compared again.
    pub fn refresh_publication(&self, id: i64, given: Option<&Secret>) -> Result<Publication> {
        let p = self.get_publication(id)?;
        let Some(remote_id) = p.remote_id.clone() else { return Ok(p) };
        let session = self.publication_session(&p, given)?;
        let remote = session.image(&remote_id)?;
        self.write(|tx| publications::refresh(tx, &p, remote.as_ref()))?;
        self.get_publication(id)
    }

    /// Delete the image in the cloud (an image already gone is fine); the publication stays in
    /// the history as `deleted`.
    pub fn unpublish(&self, id: i64, given: Option<&Secret>) -> Result<Publication> {
        let p = self.get_publication(id)?;
        if let Some(remote_id) = &p.remote_id {
            if p.status != PublicationStatus::Deleted {
                let session = self.publication_session(&p, given)?;
                session.delete_image(remote_id)?;
            }
        }
        self.write(|tx| publications::mark_deleted(tx, id))?;
        self.get_publication(id)
    }
}
