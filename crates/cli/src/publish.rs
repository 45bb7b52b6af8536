//! The publishing commands: `target add|list|test|remove`, `publish`, `publications`, `unpublish`.

use crate::output;
use crate::secret_input::given_password;
use crate::Command;
use clap::{Args, Subcommand};
use imagesmith_engine::publish::{
    AuthMethod, Interface, NewTarget, Publication, PublicationStatus, PublishOptions, PublishPlan, PublishRequest, Target, Visibility,
};
use imagesmith_engine::{Engine, Error};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TargetAction {
    /// Add a target: Keystone v3 (--auth-url, --user, --project) or a Glance without auth
    /// (--image-url --no-auth). --password-stdin keeps the password in the OS keyring.
    Add(TargetAddArgs),
    List {
        #[arg(long)]
        json: bool,
    },
    /// Sign in and show who you are, the project and the image endpoint found.
    Test {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a target and forget its keyring entry (its publications stay in the history).
    Remove { name: String },
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("auth").required(true).args(["auth_url", "no_auth"]))]
pub struct TargetAddArgs {
    name: String,
    /// Keystone v3 URL (https://cloud:5000/v3).
    #[arg(long, value_name = "URL")]
    auth_url: Option<String>,
    #[arg(long, value_name = "USER", conflicts_with = "application_credential_id")]
    user: Option<String>,
    #[arg(long, value_name = "PROJECT", conflicts_with = "application_credential_id")]
    project: Option<String>,
    #[arg(long, value_name = "D")]
    user_domain: Option<String>,
    #[arg(long, value_name = "D")]
    project_domain: Option<String>,
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// Catalog interface of the image endpoint (public, internal, admin).
    #[arg(long, value_name = "I")]
    interface: Option<Interface>,
    /// Sign in with a Keystone application credential (its secret from --password-stdin).
    #[arg(long, value_name = "ID")]
    application_credential_id: Option<String>,
    /// Glance's URL: the target itself with --no-auth, else an override of the catalog's endpoint.
    #[arg(long, value_name = "URL")]
    image_url: Option<String>,
    #[arg(long, requires = "image_url")]
    no_auth: bool,
    /// Read the password (or application credential secret) from stdin and keep it in the OS keyring.
    #[arg(long, conflicts_with = "no_auth")]
    password_stdin: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct PublishArgs {
    #[arg(required = true, value_name = "ID_OR_NAME")]
    images: Vec<String>,
    #[arg(long, value_name = "NAME")]
    target: String,
    /// Display name in the cloud (one image only; default: the library name).
    #[arg(long, value_name = "DISPLAY_NAME")]
    name: Option<String>,
    #[arg(long, default_value = "private", value_parser = ["private", "shared", "community", "public"])]
    visibility: String,
    /// Glance disk format; another than the stored one is converted with qemu-img first.
    #[arg(long, value_name = "F")]
    disk_format: Option<String>,
    #[arg(long, value_name = "F")]
    container_format: Option<String>,
    /// Declare --disk-format without converting (the stored bytes are sent as they are).
    #[arg(long, requires = "disk_format")]
    no_convert: bool,
    /// Image property (repeatable); overrides os_distro/os_version prefilled from the library.
    #[arg(long = "property", value_name = "KEY=VALUE")]
    properties: Vec<String>,
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    #[arg(long, value_name = "GB")]
    min_disk: Option<u32>,
    #[arg(long, value_name = "MB")]
    min_ram: Option<u32>,
    /// Protect the image from deletion once it is verified.
    #[arg(long)]
    protected: bool,
    /// Only check: sign-in, catalog, formats, size, names already taken.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

/// Whether a publishing command asked for JSON (errors are then printed as JSON too).
pub fn wants_json(c: &Command) -> bool {
    match c {
        Command::Target { action } => match action {
            TargetAction::Add(a) => a.json,
            TargetAction::List { json } | TargetAction::Test { json, .. } => *json,
            TargetAction::Remove { .. } => false,
        },
        Command::Publish(a) => a.json,
        Command::Publications { json, .. } | Command::Unpublish { json, .. } => *json,
        _ => false,
    }
}

pub fn target(engine: &Engine, action: TargetAction) -> Result<ExitCode, Error> {
    match action {
        TargetAction::Add(a) => {
            let auth = if a.no_auth {
                AuthMethod::None
            } else if a.application_credential_id.is_some() {
                AuthMethod::ApplicationCredential
            } else {
                AuthMethod::Password
            };
            let secret = if a.password_stdin { given_password(true)? } else { None };
            let spec = NewTarget {
                name: a.name,
                auth,
                auth_url: a.auth_url,
                image_url: a.image_url,
                region: a.region,
                interface: a.interface,
                username: a.user,
                user_domain: a.user_domain,
                project: a.project,
                project_domain: a.project_domain,
                application_credential_id: a.application_credential_id,
            };
            let added = engine.add_target(&spec, secret.as_ref())?;
            if a.json {
                output::json(&added);
            } else {
                println!("Added target {} ({}).", added.target.name, describe(&added.target));
                if added.secret_stored {
                    println!("The password is kept in the OS keyring.");
                }
                if let Some(e) = &added.secret_error {
                    output::print_error(e, "");
                    println!("The password will be asked for each time (IMAGESMITH_PASSWORD or --password-stdin).");
                }
            }
        }
        TargetAction::List { json } => {
            let list = engine.list_targets()?;
            if json {
                output::json(&list);
            } else if list.is_empty() {
                println!("No targets. Add one with `imagesmith-cli target add NAME --auth-url URL --user USER --project PROJECT`.");
            } else {
                let mut table = crate::table::Table::new(&["NAME", "SIGN-IN", "WHERE"]);
                for t in &list {
                    table.row([t.name.clone(), t.auth.as_str().to_string(), describe(t)]);
                }
                table.print();
            }
        }
        TargetAction::Test { name, json } => {
            let check = engine.test_target(&name, given_password(false)?.as_ref())?;
            if json {
                output::json(&check);
            } else {
                if let Some(user) = &check.user {
                    println!("signed in as {user} ({})", check.user_id.as_deref().unwrap_or("-"));
                    println!("project {} ({})", check.project.as_deref().unwrap_or("-"), check.project_id.as_deref().unwrap_or("-"));
                    println!("roles {}", check.roles.join(", "));
                } else {
                    println!("no sign-in (Glance without auth)");
                }
                println!("image endpoint {}", check.image_endpoint);
                println!("Glance API {}", check.glance_version.as_deref().unwrap_or("unknown"));
            }
        }
        TargetAction::Remove { name } => {
            let t = engine.remove_target(&name)?;
            println!("Removed target {} (its keyring entry is forgotten).", t.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(t: &Target) -> String {
    match t.auth {
        AuthMethod::None => t.image_url.clone().unwrap_or_default(),
        AuthMethod::Password => format!(
            "{} user {} project {}{}",
            t.auth_url.as_deref().unwrap_or(""),
            t.username.as_deref().unwrap_or("-"),
            t.project.as_deref().unwrap_or("-"),
            t.region.as_deref().map(|r| format!(" region {r}")).unwrap_or_default()
        ),
        AuthMethod::ApplicationCredential => format!(
            "{} application credential {}",
            t.auth_url.as_deref().unwrap_or(""),
            t.application_credential_id.as_deref().unwrap_or("-")
        ),
    }
}

pub fn publish(engine: &Engine, a: PublishArgs) -> Result<ExitCode, Error> {
    let mut properties = std::collections::BTreeMap::new();
    for p in &a.properties {
        match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                properties.insert(k.trim().to_string(), v.to_string());
            }
            _ => return Ok(super::usage(&format!("properties are KEY=VALUE, not \"{p}\""))),
        }
    }
    if a.name.is_some() && a.images.len() > 1 {
        return Ok(super::usage("--name applies to one image; publish the others separately or without --name"));
    }
    let req = PublishRequest {
        artifacts: a.images,
        target: a.target,
        options: PublishOptions {
            name: a.name,
            visibility: a.visibility.parse::<Visibility>()?,
            disk_format: a.disk_format,
            container_format: a.container_format,
            no_convert: a.no_convert,
            min_disk_gb: a.min_disk,
            min_ram_mb: a.min_ram,
            tags: a.tags,
            protected: a.protected,
            properties,
        },
    };
    let given = given_password(false)?;
    if a.dry_run {
        let plan = engine.plan_publish(&req, given.as_ref())?;
        if a.json {
            output::json(&plan);
        } else {
            print_plan(&plan);
        }
        return Ok(if plan.ready { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    let cancel = super::cancel_on_ctrl_c();
    let bar = output::ProgressBar::new(a.json);
    let report = engine.publish(&req, given.as_ref(), &cancel, &|p| bar.update(p));
    bar.finish();
    let report = report?;
    if a.json {
        output::json(&report);
    } else {
        for p in &report.publications {
            print_publication_line(p);
        }
        println!("job {}: {} — {}", report.job.id, report.job.state.as_str(), report.job.summary);
    }
    Ok(output::job_exit(report.job.state))
}

fn print_plan(plan: &PublishPlan) {
    let t = &plan.target;
    println!(
        "target {}: {} — image endpoint {} (Glance {})",
        t.target,
        t.user
            .as_deref()
            .map(|u| format!("signed in as {u}, project {}", t.project.as_deref().unwrap_or("-")))
            .unwrap_or_else(|| "no sign-in".into()),
        t.image_endpoint,
        t.glance_version.as_deref().unwrap_or("?")
    );
    if let Some(left) = plan.storage_left {
        println!("storage left in the project: {}", output::human_size(left));
    }
    for i in &plan.items {
        let conv = if i.convert { format!("convert {} -> {}", i.source_format, i.disk_format) } else { i.disk_format.clone() };
        println!("{} -> \"{}\" ({conv}, {}, {})", i.artifact.name, i.name, i.container_format, output::human_size(i.size));
        for (k, v) in &i.properties {
            println!("  property {k} = {v}");
        }
        for e in &i.problems {
            output::print_error(e, "  ");
        }
        for e in &i.warnings {
            println!("  warning [{}]: {}", e.code, e.text);
        }
    }
    println!("{}", if plan.ready { "ready to publish" } else { "not ready: fix the problems above" });
}

fn print_publication_line(p: &Publication) {
    let state = if p.verified { "verified" } else { p.status.as_str() };
    println!("{:<11} {} -> {} as \"{}\" ({})", state, p.artifact.name, p.target, p.name, p.remote_id.as_deref().unwrap_or("no image"));
    if let Some(advice) = p.artifact_state.and_then(output::state_advice) {
        println!("  {} is {advice}", p.artifact.name);
    }
    if let Some(e) = &p.error {
        output::print_error(e, "  ");
    }
}

pub fn publications(engine: &Engine, artifact: Option<String>, refresh: bool, json: bool) -> Result<ExitCode, Error> {
    let mut list = engine.list_publications(artifact.as_deref())?;
    if refresh {
        let given = given_password(false)?;
        for p in list.iter_mut().filter(|p| p.status != PublicationStatus::Deleted && p.remote_id.is_some()) {
            *p = engine.refresh_publication(p.id, given.as_ref())?;
        }
    }
    if json {
        output::json(&list);
    } else if list.is_empty() {
        println!("No publications. Publish an image with `imagesmith-cli publish IMAGE --target NAME`.");
    } else {
        let mut table = crate::table::Table::new(&["ID>", "ARTIFACT", "TARGET", "REMOTE ID", "STATUS", "VERIFIED", "UPDATED"]);
        for p in &list {
            table.row([
                p.id.to_string(),
                p.artifact.name.clone(),
                p.target.clone(),
                p.remote_id.clone().unwrap_or_else(|| "-".into()),
                p.status.as_str().to_string(),
                (if p.verified { "yes" } else { "no" }).to_string(),
                p.updated_at.clone(),
            ]);
        }
        table.print();
    }
    Ok(ExitCode::SUCCESS)
}

pub fn unpublish(engine: &Engine, id: i64, json: bool) -> Result<ExitCode, Error> {
    let p = engine.unpublish(id, given_password(false)?.as_ref())?;
    if json {
        output::json(&p);
    } else {
        println!("Deleted {} from {}; publication {} is marked deleted.", p.remote_id.as_deref().unwrap_or("the image"), p.target, p.id);
    }
    Ok(ExitCode::SUCCESS)
}
