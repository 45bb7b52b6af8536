//! `repo push` and `repo pull`: copy artifacts, profiles and gold images from one repository into
//! another (the desktop's own into a team repository, or back for offline work) as a job on the
//! receiving one.
//! Bytes are read from the sender's store (a team's through this desktop's cache), hashed again on
//! the way and checked against the digests the sender recorded; bytes the receiver holds already
//! are not copied (the `duplicate` outcome). Rows keep what the sender knew: name, kind, OS,
//! attributes, tags, where the file came from, its evidence and who added it.

use crate::catalog::{self, NewArtifact};
use crate::error::{code, Error, Result};
use crate::gold::GoldImage;
use crate::import::RemoveOnDrop;
use crate::jobs::{JobKind, JobSummary, Outcome};
use crate::model::{Algo, Artifact, ArtifactPatch, ArtifactRef, ArtifactState};
use crate::pipeline::{self, Sink};
use crate::profile::Profile;
use crate::runner::{Done, ItemEnd, ItemSpec, Step, Work};
use crate::{checksum::ExpectedDigest, db::params, db::OptionalExtension, Engine};
use serde::{Deserialize, Serialize};

/// What to copy. With no names and neither `profiles` nor `gold`: every artifact, profile and gold image.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CopyRequest {
    /// Artifacts (ids, names or aliases) in the sending repository; with `profiles`, profile names
    /// (each copied with its base image and members).
    pub names: Vec<String>,
    /// The names are profiles; with no names, every profile and what it uses.
    #[serde(default)]
    pub profiles: bool,
    /// The names are gold images or series (every image of one); with no names, every gold image.
    #[serde(default)]
    pub gold: bool,
}

/// Which way a copy goes, seen from the desktop: into the team repository or out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Push,
    Pull,
}

/// What one item of a copy came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CopyItem {
    /// The artifact's or profile's name in the sending repository.
    pub name: String,
    /// `artifact`, `profile` or `gold`.
    pub what: String,
    pub outcome: Outcome,
    /// The artifact as the receiving repository has it now (new, or the one holding these bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The profile as the receiving repository has it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// The gold image as the receiving repository has it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gold: Option<GoldImage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CopyReport {
    pub job: JobSummary,
    pub items: Vec<CopyItem>,
}

/// What a good item hands the report.
pub enum Copied {
    Artifact(Box<Artifact>),
    Profile(Box<Profile>),
    Gold(Box<GoldImage>),
}

enum Target {
    Artifact(Box<Artifact>),
    Profile(Box<Profile>),
    Gold(Box<GoldImage>),
}

/// The copy job, run on the receiving repository; `from` is the sending one.
pub struct CopyWork {
    from: Engine,
    direction: Direction,
    targets: Vec<Target>,
    /// The receiver's trusted keys (fingerprint, expired): a signature is good here only by one.
    trusted: Vec<(String, bool)>,
    /// The receiver's policy: every file needs a good signature.
    require_signature: bool,
}

impl Engine {
    /// The job that copies `req`'s artifacts and profiles from `from` into this repository. Names
    /// are looked up (and refused) before any job exists; an artifact's OS image and a profile's
    /// base and members come along, images first.
    pub fn copy_work(&self, from: Engine, direction: Direction, req: &CopyRequest) -> Result<CopyWork> {
        if from.layout().root == self.layout().root {
            return Err(Error::invalid_argument(
                "The sending and the receiving repository are the same.",
                "Push from the local repository to a team repository (--repo NAME), or pull the other way.",
            ));
        }
        self.check_writable()?;
        let (artifacts, profiles) = {
            let conn = from.db();
            let mut profiles: Vec<Profile> = Vec::new();
            let mut ids: Vec<i64> = Vec::new();
            if req.profiles && req.gold {
                return Err(Error::invalid_argument(
                    "Copy profiles or gold images, not both at once.",
                    "Name profiles with --profiles and gold images with --gold in two commands, or copy everything with no names.",
                ));
            }
            if req.gold {
                // Gold images only: below.
            } else if req.names.is_empty() {
                if !req.profiles {
                    ids = conn
                        .prepare("SELECT id FROM artifacts ORDER BY id")?
                        .query_map([], |r| r.get(0))?
                        .collect::<crate::db::SqlResult<_>>()?;
                }
                let all: Vec<i64> = conn
                    .prepare("SELECT id FROM profiles ORDER BY name COLLATE NOCASE")?
                    .query_map([], |r| r.get(0))?
                    .collect::<crate::db::SqlResult<_>>()?;
                for id in all {
                    profiles.push(crate::profile::load_profile(&conn, id)?);
                }
            } else if req.profiles {
                for name in &req.names {
                    profiles.push(crate::profile::load_profile(&conn, crate::profile::find_id(&conn, name)?)?);
                }
            } else {
                for name in &req.names {
                    ids.push(catalog::get(&conn, name)?.id);
                }
            }
            for p in &profiles {
                ids.push(p.base.id);
                ids.extend(p.members.iter().map(|m| m.artifact.id));
            }
            // Each artifact once, its OS image before it.
            let mut ordered: Vec<Artifact> = Vec::new();
            for id in ids {
                let a = catalog::by_id(&conn, id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))?;
                if let Some(image) = &a.image {
                    if !ordered.iter().any(|o| o.id == image.id) {
                        let img = catalog::by_id(&conn, image.id)?.ok_or_else(|| Error::not_found("artifact", &image.id.to_string()))?;
                        ordered.push(img);
                    }
                }
                if !ordered.iter().any(|o| o.id == a.id) {
                    ordered.push(a);
                }
            }
            (ordered, profiles)
        };
        let everything = req.names.is_empty() && !req.profiles && !req.gold;
        let gold = if req.gold || everything { from.gold_to_copy(&req.names)? } else { Vec::new() };
        let mut targets: Vec<Target> = artifacts.into_iter().map(|a| Target::Artifact(Box::new(a))).collect();
        targets.extend(profiles.into_iter().map(|p| Target::Profile(Box::new(p))));
        targets.extend(gold.into_iter().map(|g| Target::Gold(Box::new(g))));
        let trusted = self.trusted_keys()?.into_iter().map(|k| (k.fingerprint, k.expired)).collect();
        let require_signature = self.signature_policy()?.require_signature;
        Ok(CopyWork { from, direction, targets, trusted, require_signature })
    }

    /// Copy one artifact of `from` here: its bytes (unless here already) and its row.
    fn copy_artifact(
        &self,
        from: &Engine,
        src: &Artifact,
        trust: (&[(String, bool)], bool),
        job: i64,
        step: &Step<'_>,
    ) -> Result<(Outcome, Artifact)> {
        let same = catalog::by_sha256(&self.db(), &src.sha256)?;
        if let Some(here) = same.as_ref().filter(|a| a.state == ArtifactState::Ok) {
            return Ok((Outcome::Duplicate, here.clone()));
        }
        // Refused before a byte moves (and again under the lock, below).
        if catalog::name_taken(&self.db(), &src.name, same.map(|a| a.id))? {
            return Err(name_taken_here(&src.name));
        }
        if src.state != ArtifactState::Ok {
            return Err(not_intact(src));
        }
        // The sender's signatures as this repository sees them, and its policy, before a byte moves.
        let evidence = evidence_of(src, trust.0);
        if trust.1 {
            let best = crate::model::SignatureCheck::best(evidence.iter().filter_map(|e| e.signature.as_ref()));
            if best.status != crate::model::SignatureStatus::Good {
                return Err(Error::new(
                    code::SIGNATURE_REQUIRED,
                    format!("{} has no good signature by a key this repository trusts.", src.name),
                    "The receiving repository requires a good signature on every file; what vouched for it where it comes from is not trusted here, or nothing did.",
                    "Trust the signer's key in the receiving repository (imagesmith-cli key add) and copy again, or import the file there with its signed checksum list.",
                ));
            }
        }
        let cancel = step.cancel();
        let mut progress = |phase: &str, done: u64| {
            step.phase(phase);
            step.progress(done);
        };
        let path = from.object_file(&src.sha256, cancel, &mut |n| progress("fetching", n))?;
        // The digests the sender recorded are hashed again on the way and must come out the same.
        let extra: Vec<Algo> = [Algo::Md5, Algo::Sha1, Algo::Sha512].into_iter().filter(|a| digest_of(src, *a).is_some()).collect();
        let (mut staged_file, staged) = self.store.staging_file()?;
        let guard = RemoveOnDrop(Some(staged.clone()));
        let mut input = pipeline::sequential(crate::detect::open_regular(&path)?);
        let digests =
            pipeline::copy_and_hash(&mut input, &path, Some(Sink { file: &mut staged_file, path: &staged }), &extra, cancel, &mut |n| {
                progress("copying", n)
            })?;
        drop(staged_file);
        for algo in std::iter::once(Algo::Sha256).chain(extra.iter().copied()) {
            let (want, got) = (digest_of(src, algo).unwrap_or_default(), digests.get(algo).unwrap_or_default());
            if want != got {
                return Err(crate::store::object_corrupted(&src.sha256, &digests.sha256, &src.name));
            }
        }
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let image_id = match &src.image {
            Some(image) => Some(self.counterpart(from, image)?),
            None => None,
        };
        let (outcome, id) = self.land_bytes(&staged, &digests, cancel, &mut progress, |tx, existing, landing| {
            if let Some(existing) = existing {
                catalog::record_verifications(tx, existing.id, &evidence, Some(job))?;
                if existing.state != ArtifactState::Ok {
                    landing.heal(tx)?;
                    return Ok((Outcome::Copied, existing.id));
                }
                return Ok((Outcome::Duplicate, existing.id));
            }
            if catalog::name_taken(tx, &src.name, None)? {
                return Err(name_taken_here(&src.name));
            }
            let id = catalog::insert(
                tx,
                &NewArtifact {
                    name: &src.name,
                    kind: src.kind,
                    os: src.os,
                    distro: src.distro.as_deref(),
                    digests: &digests,
                    image_id,
                    original_name: &src.original_name,
                    detected: &src.detected,
                },
            )?;
            let attributes = ArtifactPatch {
                description: Some(src.description.clone()),
                version: Some(src.version.clone()),
                tags: Some(src.tags.clone()),
                alias: src.alias.clone(),
                access: Some(src.access),
                owner: Some(src.owner.clone()),
                resize: Some(src.resize),
                deploy: Some(src.deploy),
                ..ArtifactPatch::default()
            };
            catalog::update(tx, id, &attributes)?;
            catalog::set_source(tx, id, &src.source)?;
            catalog::record_verifications(tx, id, &evidence, Some(job))?;
            if let Some(m) = &src.media_check {
                catalog::record_media_check(tx, &src.sha256, m)?;
            }
            // Who added and changed it, and when, stay the sender's: a copy is not a new file.
            tx.execute(
                "UPDATE artifacts SET created_at = ?2, created_by = ?3, updated_at = ?4, updated_by = ?5 WHERE id = ?1",
                params![id, src.created_at, src.created_by, src.updated_at, src.updated_by],
            )?;
            landing.commit()?;
            Ok((Outcome::Copied, id))
        })?;
        drop(guard);
        let artifact = catalog::by_id(&self.db(), id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))?;
        Ok((outcome, artifact))
    }

    /// The artifact here that holds the bytes of `from`'s artifact `a`.
    fn counterpart(&self, from: &Engine, a: &ArtifactRef) -> Result<i64> {
        let sha: String = from.db().query_row("SELECT sha256 FROM artifacts WHERE id = ?1", [a.id], |r| r.get(0))?;
        self.db().query_row("SELECT id FROM artifacts WHERE sha256 = ?1", [&sha], |r| r.get(0)).optional()?.ok_or_else(|| {
            Error::new(
                code::NOT_FOUND,
                format!("{} is not in the receiving repository.", a.name),
                "What uses it is copied after it; it was not copied (see its own item).",
                "Mend what stopped it and copy again: what is there already is not copied twice.",
            )
        })
    }

    /// Copy profile `p` of `from` here, its base and members found by their bytes. A profile of
    /// the same name that is the same (base, members, options, edition) is already there; one
    /// that differs is refused, never overwritten.
    fn copy_profile(&self, from: &Engine, p: &Profile) -> Result<(Outcome, Profile)> {
        let base = self.counterpart(from, &p.base)?;
        let mut members = Vec::new();
        for m in &p.members {
            members.push((self.counterpart(from, &m.artifact)?, m.role.as_str()));
        }
        let edition: Option<i64> = from.db().query_row("SELECT edition FROM profiles WHERE id = ?1", [p.id], |r| r.get(0))?;
        self.write(|tx| {
            let existing: Option<i64> =
                tx.query_row("SELECT id FROM profiles WHERE name = ?1 COLLATE NOCASE", [&p.name], |r| r.get(0)).optional()?;
            if let Some(id) = existing {
                let here = crate::profile::load_profile(tx, id)?;
                let here_edition: Option<i64> = tx.query_row("SELECT edition FROM profiles WHERE id = ?1", [id], |r| r.get(0))?;
                let mut theirs: Vec<(i64, &str)> = here.members.iter().map(|m| (m.artifact.id, m.role.as_str())).collect();
                let mut ours = members.clone();
                theirs.sort();
                ours.sort();
                if here.base.id == base && theirs == ours && here.options == p.options && here_edition == edition {
                    return Ok((Outcome::Duplicate, here));
                }
                return Err(Error::new(
                    code::NAME_TAKEN,
                    format!("The receiving repository has another profile named \"{}\".", p.name),
                    "It differs in its base image, members, options or edition; a copy never overwrites a profile.",
                    format!("Rename one of them in the app's Profiles screen, or delete it (imagesmith-cli profile delete \"{}\"), and copy again.", p.name),
                ));
            }
            let id: i64 = tx.query_row(
                "INSERT INTO profiles (name, description, base_id, edition, created_at, updated_at, created_by, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                params![p.name, p.description, base, edition, p.created_at, p.updated_at, p.created_by, p.updated_by],
                |r| r.get(0),
            )?;
            for (artifact, role) in &members {
                tx.execute("INSERT INTO profile_members (profile_id, artifact_id, role) VALUES (?1, ?2, ?3)", params![id, artifact, role])?;
            }
            for (k, v) in &p.options {
                tx.execute("INSERT INTO profile_options (profile_id, key, value) VALUES (?1, ?2, ?3)", params![id, k, v])?;
            }
            Ok((Outcome::Copied, crate::profile::load_profile(tx, id)?))
        })
    }
}

fn digest_of(a: &Artifact, algo: Algo) -> Option<&str> {
    match algo {
        Algo::Sha256 => Some(&a.sha256),
        Algo::Md5 => a.md5.as_deref(),
        Algo::Sha1 => a.sha1.as_deref(),
        Algo::Sha512 => a.sha512.as_deref(),
    }
}

/// The sender's evidence, as digests to record again: each still holds, since the copy's bytes
/// were hashed again and came out the same. A signature counts as good here only when the
/// receiver trusts its key (`trusted`: fingerprint, expired): else it is an unknown (or expired) key.
fn evidence_of(a: &Artifact, trusted: &[(String, bool)]) -> Vec<ExpectedDigest> {
    use crate::model::SignatureStatus;
    a.verification
        .iter()
        .filter_map(|v| {
            let mut signature = v.signature.clone();
            if signature.status == SignatureStatus::Good {
                let here = signature.fingerprint.as_deref().and_then(|fp| trusted.iter().find(|(t, _)| t.eq_ignore_ascii_case(fp)));
                signature.status = match here {
                    Some((_, false)) => SignatureStatus::Good,
                    Some((_, true)) => SignatureStatus::ExpiredKey,
                    None => SignatureStatus::UnknownKey,
                };
            }
            Some(ExpectedDigest {
                algo: v.algo,
                hex: digest_of(a, v.algo)?.to_string(),
                source: v.source_file.clone().unwrap_or_default(),
                from: v.expected_from,
                line: v.line,
                signature: Some(signature),
            })
        })
        .collect()
}

fn name_taken_here(name: &str) -> Error {
    Error::new(
        code::NAME_TAKEN,
        format!("The receiving repository has another file named \"{name}\"."),
        "Names are unique (ignoring case), and the file there has other bytes.",
        format!("Rename one of them (imagesmith-cli update \"{name}\" --name NEW) and copy it again."),
    )
}

fn not_intact(a: &Artifact) -> Error {
    Error::new(
        code::OBJECT_CORRUPTED,
        format!("The sending repository's copy of {} is {}.", a.name, a.state.as_str()),
        "Only bytes that are there and intact are copied.",
        "Run verify on the sending repository and import the file again there to mend it.",
    )
}

impl Work for CopyWork {
    type Item = Copied;
    type Report = CopyReport;
    const KIND: JobKind = JobKind::Push;

    fn kind(&self) -> JobKind {
        match self.direction {
            Direction::Push => JobKind::Push,
            Direction::Pull => JobKind::Pull,
        }
    }

    fn items(&self) -> Vec<ItemSpec> {
        self.targets
            .iter()
            .map(|t| match t {
                Target::Artifact(a) => ItemSpec::new(a.name.clone(), Some(a.size)),
                Target::Profile(p) => ItemSpec::new(format!("profile {}", p.name), None),
                Target::Gold(g) => ItemSpec::new(format!("gold {}", g.name), Some(g.size)),
            })
            .collect()
    }

    fn run_item(&self, engine: &Engine, seq: usize, step: &Step<'_>) -> Result<Done<Copied>> {
        step.phase("checking");
        match &self.targets[seq] {
            Target::Artifact(a) => {
                let trust = (self.trusted.as_slice(), self.require_signature);
                let (outcome, artifact) = engine.copy_artifact(&self.from, a, trust, step.job_id(), step)?;
                let r = ArtifactRef { id: artifact.id, name: artifact.name.clone() };
                Ok(Done::with_artifact(outcome, r, Copied::Artifact(Box::new(artifact))))
            }
            Target::Profile(p) => {
                let (outcome, profile) = engine.copy_profile(&self.from, p)?;
                Ok(Done::new(outcome, Copied::Profile(Box::new(profile))))
            }
            Target::Gold(g) => {
                let (outcome, image) = engine.copy_gold(&self.from, g, step)?;
                Ok(Done::new(outcome, Copied::Gold(Box::new(image))))
            }
        }
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<Copied>>) -> Result<CopyReport> {
        let items = ends
            .into_iter()
            .map(|e| {
                let (name, what) = match &self.targets[e.seq] {
                    Target::Artifact(a) => (a.name.clone(), "artifact"),
                    Target::Profile(p) => (p.name.clone(), "profile"),
                    Target::Gold(g) => (g.name.clone(), "gold"),
                };
                let (mut artifact, mut profile, mut gold) = (None, None, None);
                match e.value {
                    Some(Copied::Artifact(a)) => artifact = Some(*a),
                    Some(Copied::Profile(p)) => profile = Some(*p),
                    Some(Copied::Gold(g)) => gold = Some(*g),
                    None => {}
                }
                CopyItem { name, what: what.into(), outcome: e.outcome, artifact, profile, gold, error: e.error }
            })
            .collect();
        Ok(CopyReport { job, items })
    }
}
