//! `repo connect|list|use|status|disconnect` and the global `--repo NAME`: which repository the
//! CLI works on, the desktop's own or a team repository (catalog in PostgreSQL, bytes in an S3
//! bucket). Secrets come from --password-stdin (two lines) or the environment and go to the OS
//! keyring; the connection settings go to repositories.json, never a secret.

use crate::output;
use crate::secret_input::{self, given_team_secrets};
use clap::Subcommand;
use imagesmith_engine::secrets::{stored_at, Secret};
use imagesmith_engine::team::config::{Repositories, TeamRepo};
use imagesmith_engine::team::{self, ConnectRequest, Migrate, Prefer, TeamSecrets, TeamStatus};
use imagesmith_engine::transfer::{CopyRequest, Direction};
use imagesmith_engine::{CancelToken, DataLayout, Engine, Error};
use serde_json::json;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum RepoAction {
    /// Connect a team repository: check both servers, make the catalog's schema in an empty
    /// database, and keep the secrets in the OS keyring.
    Connect {
        name: String,
        /// postgresql://USER@HOST[:PORT]/DB (TLS verified; ?sslmode=disable only on this machine).
        #[arg(long, value_name = "URL")]
        catalog: String,
        /// s3://BUCKET[/PREFIX]
        #[arg(long, value_name = "URL")]
        objects: String,
        /// The S3 server: https://HOST[:PORT] (http:// only on this machine).
        #[arg(long, value_name = "URL")]
        endpoint: String,
        /// Default: us-east-1.
        #[arg(long)]
        region: Option<String>,
        #[arg(long, env = "AWS_ACCESS_KEY_ID", value_name = "ID")]
        access_key_id: Option<String>,
        /// Read the catalog's password from the first line of stdin and the object store's
        /// secret key from the second; else IMAGESMITH_PASSWORD and AWS_SECRET_ACCESS_KEY.
        #[arg(long = "password-stdin")]
        password_stdin: bool,
        /// Upgrade the team repository's schema when it is older than this Imagesmith's (every
        /// admin then needs this version or a newer one).
        #[arg(long)]
        upgrade: bool,
        #[arg(long)]
        json: bool,
    },
    /// Upgrade a team repository's schema to this Imagesmith's (every admin then needs this
    /// version or a newer one).
    Upgrade { name: String },
    /// This desktop's cache of the team repository (--repo NAME, or the current one): how big it
    /// is; --limit keeps it under a size (pruned, least recently used first, whenever the
    /// repository is opened); --prune prunes it now (to the limit, or all it can). Every cached
    /// file is in the bucket too and is fetched again when needed; files used in the last 10
    /// minutes and files the catalog calls damaged stay.
    Cache {
        /// The most to keep, like 20GiB, 500MiB or 1T (powers of 1024); `none` for no limit.
        #[arg(long, value_name = "SIZE")]
        limit: Option<String>,
        #[arg(long)]
        prune: bool,
        #[arg(long)]
        json: bool,
    },
    /// The desktop's own repository and the team repositories connected here.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Work on this repository from now on (`local`: the desktop's own).
    Use { name: String },
    /// Which repository commands work on; for a team repository, how both servers answer now.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Forget a team repository on this desktop, with its secrets in the keyring (its data stays
    /// on the servers).
    Disconnect { name: String },
    /// Copy the local repository into the team repository (--repo NAME, or the current one):
    /// everything (artifacts, profiles, gold images), or the artifacts named (with --profiles: the
    /// profiles named, with what they use; with --gold: the gold images or series named). Bytes
    /// the team has already are not sent again.
    Push {
        #[arg(value_name = "ID_OR_NAME")]
        names: Vec<String>,
        /// The names are profiles (with none: every profile and what it uses).
        #[arg(long, conflicts_with = "gold")]
        profiles: bool,
        /// The names are gold images or series (with none: every gold image).
        #[arg(long)]
        gold: bool,
        #[arg(long)]
        json: bool,
    },
    /// Copy artifacts (with --profiles: profiles, with what they use; with --gold: gold images or
    /// whole series) from the team repository (--repo NAME, or the current one) into the local
    /// repository, for offline work.
    Pull {
        #[arg(value_name = "ID_OR_NAME", required = true)]
        names: Vec<String>,
        #[arg(long, conflicts_with = "gold")]
        profiles: bool,
        #[arg(long)]
        gold: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn wants_json(action: &RepoAction) -> bool {
    matches!(
        action,
        RepoAction::Connect { json: true, .. }
            | RepoAction::List { json: true }
            | RepoAction::Status { json: true }
            | RepoAction::Push { json: true, .. }
            | RepoAction::Pull { json: true, .. }
            | RepoAction::Cache { json: true, .. }
    )
}

/// The team repository a command runs on: `--repo` (or IMAGESMITH_REPO), else none when a folder
/// was named with --home, else the current one saved by `repo use`. `None`: the local repository.
pub fn chosen(repo: Option<&str>, home_given: bool) -> Result<Option<String>, Error> {
    match repo {
        Some(n) if n.eq_ignore_ascii_case("local") => Ok(None),
        Some(n) => {
            let repos = Repositories::load()?;
            repos.get(n).map(|r| Some(r.name.clone())).ok_or_else(|| repos.unknown(n))
        }
        None if home_given => Ok(None),
        None => Ok(Repositories::load()?.current),
    }
}

/// Whether `command` runs on a team repository: everything but a local repository's own upkeep
/// (init makes one, rebuild-catalog rebuilds a local catalog from its objects folder).
pub fn runs_on_team(command: &crate::Command) -> bool {
    use crate::Command as C;
    !matches!(command, C::Init { .. } | C::RebuildCatalog { .. })
}

/// Open team repository `name` (secrets from the keyring, else the environment, else asked for on
/// a terminal).
pub fn open_team(name: &str) -> Result<imagesmith_engine::Engine, Error> {
    let repos = Repositories::load()?;
    let repo = repos.get(name).ok_or_else(|| repos.unknown(name))?;
    let secrets = team_secrets(repo, false, Prefer::Keyring)?;
    Engine::open_team(repo, &secrets)
}

/// The secrets for `repo`: given to this command (`--password-stdin`, else the environment) or
/// kept in the keyring, whichever `prefer` names first; on a terminal, one that neither has is
/// asked for, as ssh and psql ask. The keyring is asked once per secret.
fn team_secrets(repo: &TeamRepo, from_stdin: bool, prefer: Prefer) -> Result<TeamSecrets, Error> {
    let (catalog, objects) = given_team_secrets(from_stdin)?;
    if from_stdin || !secret_input::interactive() {
        return team::secrets_for(repo, catalog, objects, prefer);
    }
    let (catalog_account, objects_account) = team::accounts(repo);
    let one = |given: Option<Secret>, account: &str, prompt: String| {
        let found = match prefer {
            Prefer::Given => given.or_else(|| stored_at(account)),
            Prefer::Keyring => stored_at(account).or(given),
        };
        found.map_or_else(|| secret_input::ask(&prompt), |s| Ok(Some(s)))
    };
    let catalog =
        one(catalog, &catalog_account, format!("Password for the catalog of team repository \"{}\" ({}): ", repo.name, repo.catalog))?;
    let objects = one(
        objects,
        &objects_account,
        format!(
            "Secret key for the object store of team repository \"{}\" ({}, access key {}): ",
            repo.name,
            repo.objects_url(),
            repo.access_key_id
        ),
    )?;
    // Found or typed: nothing is looked up again.
    team::secrets_for(repo, catalog, objects, Prefer::Given)
}

/// The error of a command that does not run on a team repository yet.
pub fn not_on_team(name: &str) -> Error {
    Error::new(
        imagesmith_engine::error::code::NOT_ON_TEAM_REPOSITORY,
        format!("This command does not work on team repository \"{name}\" yet."),
        "On a team repository everything runs but a local repository's own upkeep (init, rebuild-catalog), \
         which runs on the desktop's own repository.",
        "Run it on the local repository: add --repo local, or switch back with `imagesmith-cli repo use local`.",
    )
}

pub fn run(action: RepoAction, local: &DataLayout, chosen_team: Option<String>) -> Result<ExitCode, Error> {
    match action {
        RepoAction::Connect { name, catalog, objects, endpoint, region, access_key_id, password_stdin, upgrade, json } => {
            let req = ConnectRequest { name, catalog, objects, endpoint, region, access_key_id: access_key_id.unwrap_or_default() };
            let (catalog_pw, objects_key) = match req.to_repo() {
                Ok(repo) => {
                    let s = team_secrets(&repo, password_stdin, Prefer::Given)?;
                    (Some(s.catalog), Some(s.objects))
                }
                // connect_and_keep says what is wrong with the request.
                Err(_) => given_team_secrets(password_stdin)?,
            };
            let done = team::connect_and_keep(req, catalog_pw, objects_key, if upgrade { Migrate::Upgrade } else { Migrate::Create })?;
            if let Some(e) = &done.secrets_not_kept {
                eprintln!("warning [{}]: {} The secrets will be asked for each time.", e.code, e.text);
            }
            if json {
                output::json(&json!({"status": done.status, "secrets_stored": done.secrets_not_kept.is_none(), "current": done.current}));
            } else {
                print_status(&done.status);
                if done.secrets_not_kept.is_none() {
                    println!("Secrets kept in the OS keyring.");
                }
                if !done.current {
                    println!(
                        "Work on it with: imagesmith-cli repo use {}   (or --repo {} on one command)",
                        done.status.name, done.status.name
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RepoAction::List { json } => {
            let repos = Repositories::load()?;
            let current = repos.current.clone();
            if json {
                let mut rows = vec![json!({"name": "local", "kind": "local", "current": current.is_none(), "root": local.root})];
                rows.extend(repos.team.iter().map(|r| {
                    json!({"name": r.name, "kind": "team", "current": current.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&r.name)), "catalog": r.catalog,
                           "objects": r.objects_url(), "endpoint": r.endpoint, "region": r.region, "access_key_id": r.access_key_id,
                           "repository_id": r.repository_id, "cache_limit": r.cache_limit})
                }));
                output::json(&rows);
            } else {
                let mark = |on: bool| if on { "*" } else { " " };
                println!("{} local  {}", mark(current.is_none()), local.root.display());
                for r in &repos.team {
                    println!(
                        "{} {}  {}  {} at {}{}",
                        mark(current.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&r.name))),
                        r.name,
                        r.catalog,
                        r.objects_url(),
                        r.endpoint,
                        r.cache_limit.map(|l| format!("  (cache at most {})", output::human_size(l))).unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RepoAction::Use { name } => {
            let repos = Repositories::use_repository(&name)?;
            if std::env::var_os("IMAGESMITH_HOME").is_some_and(|v| !v.is_empty()) {
                eprintln!("warning: IMAGESMITH_HOME is set here, so commands in this environment keep using that folder until it is unset (or given --repo).");
            }
            match &repos.current {
                Some(n) => println!("Commands now work on team repository \"{n}\"."),
                None => println!("Commands now work on the local repository ({}).", local.root.display()),
            }
            Ok(ExitCode::SUCCESS)
        }
        RepoAction::Status { json } => {
            let Some(name) = chosen_team else {
                if json {
                    output::json(&json!({"name": "local", "kind": "local", "root": local.root, "online": true}));
                } else {
                    println!("local repository: {}", local.root.display());
                }
                return Ok(ExitCode::SUCCESS);
            };
            let repos = Repositories::load()?;
            let repo = repos.get(&name).ok_or_else(|| repos.unknown(&name))?;
            let secrets = team_secrets(repo, false, Prefer::Keyring)?;
            match team::connect(repo, &secrets, Migrate::Never) {
                Ok(status) if json => {
                    output::json(&json!({"kind": "team", "online": true, "status": status}));
                    Ok(ExitCode::SUCCESS)
                }
                Ok(status) => {
                    print_status(&status);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) if json => {
                    output::json(&json!({"kind": "team", "name": repo.name, "online": false, "error": e}));
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e),
            }
        }
        RepoAction::Cache { limit, prune, json } => cache(chosen_team, limit.as_deref(), prune, json),
        RepoAction::Upgrade { name } => {
            let repos = Repositories::load()?;
            let repo = repos.get(&name).ok_or_else(|| repos.unknown(&name))?;
            let secrets = team_secrets(repo, false, Prefer::Keyring)?;
            let status = team::connect(repo, &secrets, Migrate::Upgrade)?;
            print_status(&status);
            Ok(ExitCode::SUCCESS)
        }
        RepoAction::Push { names, profiles, gold, json } => {
            copy(local, chosen_team, Direction::Push, CopyRequest { names, profiles, gold }, json)
        }
        RepoAction::Pull { names, profiles, gold, json } => {
            copy(local, chosen_team, Direction::Pull, CopyRequest { names, profiles, gold }, json)
        }
        RepoAction::Disconnect { name } => {
            let (repo, was_current) = team::disconnect(&name)?;
            println!("Disconnected team repository \"{}\" from this desktop; its data stays on the servers.", repo.name);
            if was_current {
                println!("Commands now work on the local repository ({}).", local.root.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `repo cache`: set the limit, prune, and say what this desktop keeps.
fn cache(team_name: Option<String>, limit: Option<&str>, prune: bool, json: bool) -> Result<ExitCode, Error> {
    let Some(name) = team_name else {
        return Err(Error::new(
            imagesmith_engine::error::code::INVALID_ARGUMENT,
            "Which team repository? The local one is open, and it is not a cache.",
            "Its files are the only copy; only a team repository's copies on this desktop can be pruned.",
            "Name it with --repo NAME, or make it the current one with `imagesmith-cli repo use NAME`.",
        ));
    };
    let limit = limit.map(parse_size).transpose()?;
    // Opened first: a new limit is then pruned to here, and said so, not by the opening.
    let engine = open_team(&name)?;
    let saved = match limit {
        Some(limit) => team::set_cache_limit(&name, limit)?,
        None => {
            let repos = Repositories::load()?;
            repos.get(&name).cloned().ok_or_else(|| repos.unknown(&name))?
        }
    };
    let pruned = if prune { Some(engine.prune_cache(saved.cache_limit.unwrap_or(0), team::cache::IN_USE)?) } else { None };
    let usage = engine.cache_usage(saved.cache_limit)?;
    if json {
        output::json(&json!({"cache": usage, "pruned": pruned}));
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(p) = &pruned {
        println!("pruned {} file(s), {} freed", p.removed, output::human_size(p.freed));
    }
    let limit = usage.limit.map(output::human_size).unwrap_or_else(|| "none".to_string());
    println!("cache of team repository \"{name}\": {} file(s), {}; limit {limit}", usage.objects, output::human_size(usage.bytes));
    println!("  folder: {}", usage.path);
    Ok(ExitCode::SUCCESS)
}

/// `20GiB`, `500M`, `1t`, `4096` (bytes), powers of 1024; `none`: no limit.
fn parse_size(text: &str) -> Result<Option<u64>, Error> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => 64,
    };
    match number.parse::<f64>() {
        Ok(n) if shift < 64 && n >= 0.0 && n.is_finite() => Ok(Some((n * (1u64 << shift) as f64) as u64)),
        _ => Err(Error::invalid_argument(
            format!("\"{text}\" is not a size."),
            "Give a number with an optional unit: 20GiB, 500MiB, 1T (powers of 1024), or none.",
        )),
    }
}

/// `repo push` / `repo pull`: the copy runs as a job on the receiving repository (a push is in the
/// team's history, a pull in the desktop's).
fn copy(local: &DataLayout, team: Option<String>, direction: Direction, req: CopyRequest, json: bool) -> Result<ExitCode, Error> {
    let Some(name) = team else {
        return Err(Error::new(
            imagesmith_engine::error::code::INVALID_ARGUMENT,
            "Which team repository? The local one is open.",
            "A push copies the local repository into a team repository, and a pull copies from one.",
            "Name it with --repo NAME, or make it the current one with `imagesmith-cli repo use NAME`.",
        ));
    };
    let team = open_team(&name)?;
    let desk = Engine::open(local.clone())?;
    desk.recover(&CancelToken::new(), &|_| {})?;
    let (to, from) = match direction {
        Direction::Push => (team, desk),
        Direction::Pull => (desk, team),
    };
    let work = to.copy_work(from, direction, &req)?;
    let cancel = crate::cancel_on_ctrl_c();
    let bar = output::ProgressBar::new(json);
    let report = to.run(work, &cancel, &|p| bar.update(p))?;
    bar.finish();
    if json {
        output::json(&report);
    } else {
        output::copy_table(&report, direction == Direction::Push, &name);
    }
    Ok(output::job_exit(report.job.state))
}

fn print_status(s: &TeamStatus) {
    let tls = |on: bool| if on { "TLS verified" } else { "plain, this machine only" };
    println!("team repository \"{}\" (\"{}\", id {})", s.name, s.repository.name, s.repository.id);
    println!("  made:     {} by {}", s.repository.created_at, s.repository.created_by);
    let f = &s.figures;
    println!(
        "  holds:    {} artifact(s) in {} stored file(s), {}; {} job(s) in the history",
        f.artifacts,
        f.objects,
        output::human_size(f.stored_bytes),
        f.jobs
    );
    println!(
        "  catalog:  {} — PostgreSQL {}, schema {} of {}, {}, {} ms",
        s.catalog,
        s.postgres_version,
        s.repository.version,
        s.schema_expected,
        tls(s.catalog_tls),
        s.catalog_ms
    );
    println!("  objects:  {} at {} ({}), {}, write/read/delete {} ms", s.objects, s.endpoint, s.region, tls(s.objects_tls), s.objects_ms);
}
