//! The publish job: for each image — convert if asked, create the Glance image, stream the upload
//! with progress, wait for `active`, compare Glance's MD5 and SHA-512 with what was sent. Any
//! failure or cancel deletes the half-made remote image.

use super::cloud::{RemoteImage, Session};
use super::publications::{self, NewPublication};
use super::upload::HashingBody;
use super::{convert, PlanItem, Publication, PublicationStatus, PublishReport, PublishRequest};
use crate::cancel::CancelToken;
use crate::error::{code, Error, Result};
use crate::jobs::{JobKind, JobProgress, JobSummary, Outcome};
use crate::model::{Algo, Artifact, ArtifactRef};
use crate::pipeline::{self, watch, Counter, MeteredReader};
use crate::runner::{Done, ItemEnd, ItemSpec, Step, Work};
use crate::secrets::Secret;
use crate::Engine;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long Glance may take to turn an uploaded image `active` (it hashes and stores it).
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(600);

/// Glance's image record for the create call: core fields, then properties as extra fields.
fn image_record(item: &PlanItem, o: &super::PublishOptions) -> Value {
    let mut record = json!({
        "name": item.name,
        "disk_format": item.disk_format,
        "container_format": item.container_format,
        "visibility": o.visibility.as_str(),
    });
    if let Some(d) = o.min_disk_gb {
        record["min_disk"] = json!(d);
    }
    if let Some(r) = o.min_ram_mb {
        record["min_ram"] = json!(r);
    }
    if !o.tags.is_empty() {
        record["tags"] = json!(o.tags);
    }
    for (k, v) in &item.properties {
        record[k.as_str()] = json!(v);
    }
    record
}

/// A staging folder removed in every outcome.
struct StagingDir(PathBuf);

impl Drop for StagingDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One image's run through the job, reporting through the runner's step.
struct Run<'a> {
    engine: &'a Engine,
    step: &'a Step<'a>,
    cancel: &'a CancelToken,
}

impl Run<'_> {
    fn phase(&mut self, phase: &str) {
        self.step.phase(phase);
    }

    fn tick(&mut self, item_done: u64) {
        self.step.progress(item_done);
    }

    fn check_cancel(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(Error::cancelled())
        } else {
            Ok(())
        }
    }

    /// The file to upload: the stored object, or a qemu-img conversion of it in staging.
    fn source(&mut self, a: &Artifact, item: &PlanItem, staging: &mut Option<StagingDir>) -> Result<PathBuf> {
        // On a team repository, this desktop's cached copy (fetched from the bucket first).
        let object = self.engine.object_file(&a.sha256, &crate::CancelToken::new(), &mut |_| {})?;
        if !object.exists() {
            return Err(crate::store::object_missing(&a.sha256, &a.name));
        }
        if !item.convert {
            return Ok(object);
        }
        // qemu-img reads the object itself: re-hash it first, so a damaged one is never converted and sent.
        self.phase("checking");
        let d = pipeline::hash_file(&object, &[], self.cancel, &mut |done| self.tick(done.min(a.size)))?;
        if d.sha256 != a.sha256 || d.size != a.size {
            return Err(crate::store::object_damaged(
                &a.name,
                &a.sha256,
                &format!("it reads with SHA-256 {} ({} bytes)", d.sha256, d.size),
            ));
        }
        self.phase("converting");
        let dir = StagingDir(self.engine.store.staging_dir("publish")?);
        let out = dir.0.join(format!("image.{}", item.disk_format));
        *staging = Some(dir);
        let size = a.size;
        convert::convert(&object, &item.source_format, &out, &item.disk_format, self.cancel, &mut |pct| {
            // Conversion is shown as the item's bytes, scaled from qemu-img's percentage.
            let done = (size as f64 * pct / 100.0) as u64;
            self.step.progress(done.min(size));
        })?;
        Ok(out)
    }

    /// Upload `path` into the image on a helper thread while this one reports progress; `object`:
    /// the artifact when `path` is its stored object, re-hashed as it is sent (`object_damaged`).
    /// Returns the bytes sent and their MD5 and SHA-512.
    fn upload(&mut self, session: &Session, id: &str, path: &Path, object: Option<&Artifact>) -> Result<(u64, String, String)> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, &e, false))?;
        let len = file.metadata().map_err(|e| Error::io(path, &e, false))?.len();
        let counter = Counter::new();
        let mut reader = MeteredReader::new(file, &counter, self.cancel).hashing(&[Algo::Md5, Algo::Sha512]);
        if let Some(a) = object {
            reader = reader.expecting(&a.name, &a.sha256, a.size);
        }
        let body = HashingBody::new(reader, len);
        self.step.phase_sized("uploading", len);
        let result = watch(&counter, &mut |done| self.tick(done), || session.upload(id, body, len));
        let done = counter.get();
        // A read stopped on purpose shows up as a dropped connection: it was the cancel, or a damaged object.
        if let Some(e) = counter.stopped() {
            return Err(e);
        }
        if self.cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        if let Err(mut e) = result {
            if e.is(code::REMOTE_UNAVAILABLE) && done < len {
                // A server refusing mid-body (413 over the size cap or quota) closes the connection
                // right after answering; when the close wins the race the answer is lost.
                e.explanation = format!(
                    "{} The cloud stopped reading after {done} of {len} bytes: it may also have refused the image as over its size cap or the project's quota.",
                    e.explanation
                );
                e.recovery = format!("{} Check the project's image quota and the cloud's image size limit.", e.recovery);
            }
            return Err(e);
        }
        let sent = counter.digests().ok_or_else(|| {
            Error::new(
                code::REMOTE_FAILED,
                format!("The cloud accepted the image after {done} of {len} bytes."),
                "The upload ended before the whole image was sent, so what the cloud holds cannot be checked.",
                "Publish again.",
            )
        })?;
        Ok((sent.size, sent.md5.unwrap_or_default(), sent.sha512.unwrap_or_default()))
    }

    /// Poll until Glance has the image `active` (or `killed`).
    fn wait_active(&mut self, session: &Session, id: &str, name: &str) -> Result<RemoteImage> {
        self.phase("verifying");
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            self.check_cancel()?;
            let image = session.image(id)?.ok_or_else(|| {
                Error::new(
                    code::REMOTE_FAILED,
                    format!("The image {name} disappeared from the cloud during the publish."),
                    "Someone or something deleted it while it was being uploaded.",
                    "Publish again.",
                )
            })?;
            match image.status.as_str() {
                "active" => return Ok(image),
                "killed" | "deleted" | "pending_delete" => {
                    return Err(Error::new(
                        code::REMOTE_FAILED,
                        format!("Glance gave up on the image {name} (status {}).", image.status),
                        "The cloud could not store the uploaded data (its store failed or refused it).",
                        "Publish again; if it fails again, tell the cloud's operators.",
                    ))
                }
                _ if started.elapsed() > ACTIVE_TIMEOUT => {
                    return Err(Error::new(
                        code::REMOTE_UNAVAILABLE,
                        format!("The image {name} was still {} after {} minutes.", image.status, ACTIVE_TIMEOUT.as_secs() / 60),
                        "The cloud is taking unusually long to process the upload.",
                        "Refresh the publication later; unpublish and publish again if it stays stuck.",
                    ))
                }
                _ => {}
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}

impl Engine {
    /// The publish job for `req`. Sign-in problems (`secret_required`, `auth_failed`, …) are
    /// refused here, before a job exists; each image then ends verified, failed (its own coded
    /// error) or cancelled.
    pub fn publish_work(&self, req: &PublishRequest, given: Option<&Secret>) -> Result<PublishWork> {
        let (target, artifacts) = self.resolve_request(req)?;
        let session = self.connect_target(&target, given)?;
        let formats = session.formats().unwrap_or_default();
        let plans: Vec<PlanItem> = artifacts.iter().map(|a| self.plan_item(a, &req.options, &formats)).collect();
        let publications = Mutex::new(vec![None; artifacts.len()]);
        Ok(PublishWork { target, session: Mutex::new(session), artifacts, plans, options: req.options.clone(), publications })
    }

    /// Publish one or more images to a target as one job, in the calling thread (the CLI).
    pub fn publish(
        &self,
        req: &PublishRequest,
        given: Option<&Secret>,
        cancel: &CancelToken,
        sink: &(dyn Fn(&JobProgress) + Sync),
    ) -> Result<PublishReport> {
        self.run(self.publish_work(req, given)?, cancel, sink)
    }
}

/// The publish job: one item per image, one after another over one signed-in session.
pub struct PublishWork {
    target: super::Target,
    session: Mutex<Session>,
    artifacts: Vec<Artifact>,
    plans: Vec<PlanItem>,
    options: super::PublishOptions,
    /// The publication row of each image that got one.
    publications: Mutex<Vec<Option<i64>>>,
}

impl Work for PublishWork {
    type Item = ();
    type Report = PublishReport;
    const KIND: JobKind = JobKind::Publish;

    fn items(&self) -> Vec<ItemSpec> {
        self.artifacts.iter().zip(&self.plans).map(|(a, p)| ItemSpec::new(a.name.clone(), Some(p.size))).collect()
    }

    fn run_item(&self, engine: &Engine, seq: usize, step: &Step<'_>) -> Result<Done<()>> {
        let (a, plan) = (&self.artifacts[seq], &self.plans[seq]);
        let artifact = ArtifactRef { id: a.id, name: a.name.clone() };
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let pid = engine.write(|tx| {
            publications::insert(
                tx,
                &NewPublication {
                    artifact: &artifact,
                    target_id: self.target.id,
                    target: &self.target.name,
                    job_id: step.job_id(),
                    image_url: &session.image_url,
                    name: &plan.name,
                    disk_format: &plan.disk_format,
                    container_format: &plan.container_format,
                    visibility: self.options.visibility,
                },
            )
        })?;
        self.publications.lock().unwrap_or_else(|p| p.into_inner())[seq] = Some(pid);
        let mut run = Run { engine, step, cancel: step.cancel() };
        session.ensure_fresh().and_then(|()| publish_one(&mut run, &session, pid, a, plan, &self.options))?;
        Ok(Done::with_artifact(Outcome::Published, artifact, ()))
    }

    fn summary(&self, ends: &[ItemEnd<()>]) -> String {
        let verified = ends.iter().filter(|e| e.outcome == Outcome::Published).count();
        let failed = ends.iter().filter(|e| e.outcome == Outcome::Failed).count();
        format!("{verified} published and verified on {}, {failed} failed", self.target.name)
    }

    fn report(self, engine: &Engine, job: JobSummary, _ends: Vec<ItemEnd<()>>) -> Result<PublishReport> {
        let ids = self.publications.into_inner().unwrap_or_else(|p| p.into_inner());
        let publications = ids.into_iter().flatten().map(|pid| engine.get_publication(pid)).collect::<Result<Vec<Publication>>>()?;
        Ok(PublishReport { job, publications })
    }
}

/// One image: its publication row is `pid`; the row ends active+verified, failed or cancelled,
/// and any remote image of a failed attempt is deleted.
fn publish_one(run: &mut Run<'_>, session: &Session, pid: i64, a: &Artifact, plan: &PlanItem, o: &super::PublishOptions) -> Result<()> {
    let engine = run.engine;
    let mut remote_id: Option<String> = None;
    let mut staging = None;
    let mut sent: Option<(u64, String, String)> = None;
    let mut last_status: Option<String> = None;
    let result = (|| -> Result<()> {
        if let Some(p) = plan.problems.first() {
            return Err(p.clone());
        }
        let path = run.source(a, plan, &mut staging)?;
        run.check_cancel()?;
        run.phase("creating");
        let image = session.create_image(&image_record(plan, o))?;
        engine.write(|tx| publications::set_remote(tx, pid, &image.id, &image.status))?;
        remote_id = Some(image.id.clone());
        // Unconverted, what is sent is the stored object: re-hashed as it is read.
        let (size, md5, sha512) = run.upload(session, &image.id, &path, (!plan.convert).then_some(a))?;
        sent = Some((size, md5.clone(), sha512.clone()));
        let image = run.wait_active(session, &image.id, &plan.name)?;
        last_status = Some(image.status.clone());
        publications::compare_digests(&image, &md5, &sha512, &plan.name)?;
        if o.protected {
            session.patch_image(&image.id, &json!([{"op": "replace", "path": "/protected", "value": true}]))?;
        }
        Ok(())
    })();
    drop(staging);
    let (size, md5, sha512) = match &sent {
        Some((s, m, h)) => (Some(*s), Some(m.as_str()), Some(h.as_str())),
        None => (None, None, None),
    };
    let (status, error) = match &result {
        Ok(()) => (PublicationStatus::Active, None),
        Err(e) => {
            // Nothing half-made stays in the cloud.
            if let Some(id) = &remote_id {
                if session.delete_image(id).is_ok() {
                    last_status = Some("deleted".into());
                }
            }
            let status = if e.is(code::CANCELLED) { PublicationStatus::Cancelled } else { PublicationStatus::Failed };
            (status, Some(e.clone()).filter(|e| !e.is(code::CANCELLED)))
        }
    };
    engine.write(|tx| {
        publications::finish(
            tx,
            pid,
            &publications::Outcome {
                status,
                size,
                md5,
                sha512,
                remote_status: last_status.as_deref(),
                verified: result.is_ok(),
                error: error.as_ref(),
            },
        )
    })?;
    result
}
