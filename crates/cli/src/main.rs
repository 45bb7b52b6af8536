//! imagesmith-cli: the Imagesmith engine from a terminal — import, list, show, update, delete, jobs, verify,
//! profiles, and publishing to clouds.

/// `println!` for this crate (defined before the modules so they use it too): a closed pipe
/// (`imagesmith-cli list | head`) ends the process as it ends `cat`, quietly by SIGPIPE, instead of
/// std's "failed printing to stdout: Broken pipe" panic and exit 101.
macro_rules! println {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` with the same end on a closed pipe.
#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// Write to stdout; a reader that went away (EPIPE) ends the process by SIGPIPE, as it would
/// have without Rust ignoring that signal (std ignores it so that sockets report EPIPE instead;
/// it is restored only here, at the moment of exit).
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // SAFETY: restoring the default action of a signal and raising it in our own process.
            unsafe {
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                libc::raise(libc::SIGPIPE);
            }
            std::process::exit(141); // not reached: SIGPIPE's default action ends the process
        }
        eprintln!("imagesmith-cli: could not write the output: {e}");
        std::process::exit(1);
    }
}

mod gold;
mod keys;
mod output;
mod publish;
mod repo;
mod secret_input;
mod servers;
mod snapshots;
mod stores;
mod table;

use clap::{Args, Parser, Subcommand};
use imagesmith_engine::checksum::{expected_for, parse_expected};
use imagesmith_engine::import::split_checksum_files;
use imagesmith_engine::logging;
use imagesmith_engine::{
    Access, Algo, ArtifactPatch, ArtifactQuery, CancelToken, DataLayout, DriverQuery, Engine, Error, ExpectedDigest, ImportItem,
    ImportRequest, JobKind, JobQuery, JobState, Kind, OsFamily, Outcome, SortKey,
};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "imagesmith-cli", version, about = "Imagesmith's verified, deduplicated image repository from a terminal")]
struct Cli {
    /// Repository folder (default: the per-user repository the desktop app uses).
    #[arg(long, global = true, env = "IMAGESMITH_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// Work on this team repository (`local`: the desktop's own) instead of the current one
    /// chosen with `repo use`; it wins over IMAGESMITH_HOME, not over --home.
    #[arg(long, global = true, env = "IMAGESMITH_REPO", value_name = "NAME")]
    repo: Option<String>,
    /// More detail in the log file and a copy of it on stderr: -v debug, -vv trace (the log file
    /// is always written, at info: see IMAGESMITH_LOG_DIR and RUST_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import files: verify checksums, detect kind and OS, store each file once.
    Import(Box<ImportArgs>),
    /// List artifacts.
    List {
        #[arg(long)]
        kind: Option<Kind>,
        #[arg(long)]
        os: Option<OsFamily>,
        #[arg(long, default_value = "name", value_parser = ["name", "created", "size"])]
        sort: String,
        /// Words that must each match the name, alias, description, version, a tag, a driver's
        /// hardware ID, or (6+ hex digits) the start of a checksum.
        #[arg(long)]
        search: Option<String>,
        /// Only artifacts with this access (public, private, deleted).
        #[arg(long)]
        access: Option<Access>,
        /// Only images of this exact OS: a libosinfo short id (rhel9.6, ubuntu24.04, win2k22);
        /// rhel9 also takes rhel9.6.
        #[arg(long, value_name = "ID")]
        os_id: Option<String>,
        /// Deleted artifacts too (hidden unless asked for).
        #[arg(long)]
        all: bool,
        /// Every attribute (alias, access, owner, version, resize, deploy, tags).
        #[arg(long, conflicts_with = "extended")]
        full: bool,
        /// Every attribute, where each artifact is used, its source and its last verify.
        #[arg(long)]
        extended: bool,
        #[arg(long)]
        json: bool,
    },
    /// Check an answer file (kickstart, AutoYaST, unattend.xml) for what stops or breaks an
    /// unattended install: exit status 0 when clean or warnings only, 1 with errors.
    Lint {
        file: PathBuf,
        /// The OS it installs: a distribution and version or libosinfo id (rhel9.6, rhel-8,
        /// fedora42); kickstart is checked against that release's syntax (RHEL 9 when not given).
        #[arg(long, value_name = "OS_OR_OS_ID", conflicts_with = "image")]
        os: Option<String>,
        /// The OS image it goes with, whose release and architecture it is checked against.
        #[arg(long, value_name = "ID_OR_NAME")]
        image: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one artifact with every digest and attribute, where it is used, its source and checks.
    Show {
        id_or_name: String,
        /// Accepted for Danube's `extended`: what `show` prints already includes it.
        #[arg(long)]
        extended: bool,
        #[arg(long)]
        json: bool,
    },
    /// Drivers in the library: class, provider, version, architectures and how many hardware IDs;
    /// with --hwid only those that support a device.
    Drivers {
        /// A hardware ID (any case): `PCI\VEN_8086&DEV_1572` finds drivers listing it or a more
        /// specific ID; a full device ID (`…&SUBSYS_00008086&REV_01`) finds less specific ones too.
        #[arg(long, value_name = "ID")]
        hwid: Option<String>,
        /// Only drivers that belong to this OS image.
        #[arg(long = "os-image", value_name = "ID_OR_NAME")]
        os_image: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Change an artifact's name, description, version, tags, kind or OS.
    Update {
        id_or_name: String,
        #[arg(long)]
        name: Option<String>,
        /// A new kind (checked against the support matrix, as at import).
        #[arg(long)]
        kind: Option<Kind>,
        /// A new OS: a family (linux, windows, vmware) or a distro (rhel, ubuntu, esxi, …); "" for none.
        #[arg(long)]
        os: Option<String>,
        #[command(flatten)]
        attributes: AttributeArgs,
        #[arg(long)]
        json: bool,
    },
    /// Delete an artifact (refused while others name it as their OS image).
    Delete { id_or_name: String },
    /// Job history, newest first; `jobs show ID` for one job.
    Jobs {
        #[command(subcommand)]
        action: Option<JobsAction>,
        /// Only jobs of this kind (import, verify, export, server_export, profile_import, publish, recover,
        /// capture, provision, snapshot_image).
        #[arg(long)]
        kind: Option<JobKind>,
        /// Only jobs in this state (queued, running, succeeded, partly_succeeded, failed, cancelled, interrupted).
        #[arg(long)]
        state: Option<JobState>,
        #[arg(long)]
        json: bool,
    },
    /// What was deleted, when and by whom (artifacts, profiles, gold images, working copies, trusted
    /// keys, image stores, file servers, cloud targets), newest first.
    Deleted {
        /// Only deletions of this kind (artifact, profile, gold, working_copy, key, store, server, target).
        #[arg(long)]
        what: Option<imagesmith_engine::deletions::DeletedKind>,
        /// How many to show.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Deployment profiles: a base OS image plus drivers, boot files, custom files and an answer file.
    Profile {
        #[command(subcommand)]
        action: ProfileAction,
    },
    /// Cloud accounts to publish to: OpenStack (Keystone v3) or a Glance without auth.
    Target {
        #[command(subcommand)]
        action: publish::TargetAction,
    },
    /// Publish images to a target's Glance: convert if asked, upload, verify MD5 and SHA-512.
    Publish(publish::PublishArgs),
    /// Where images were published, newest first.
    Publications {
        /// Only the publications of this artifact (id or name).
        #[arg(long, value_name = "ID_OR_NAME")]
        artifact: Option<String>,
        /// Ask each cloud for the images' status first (and compare the digests again).
        #[arg(long)]
        refresh: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete a published image from its cloud; the publication stays, marked deleted.
    Unpublish {
        publication_id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Gold images: software homes captured as versioned, deduplicated images; working copies.
    Gold {
        #[command(subcommand)]
        action: gold::GoldAction,
    },
    /// Series: the versions of a gold image in order, with one current image.
    Series {
        #[command(subcommand)]
        action: gold::SeriesAction,
    },
    /// OpenPGP public keys trusted for signatures: `key add FILE`, `key list`, `key remove FINGERPRINT`.
    Key {
        #[command(subcommand)]
        action: keys::KeyAction,
    },
    /// Image stores (IMGAPI, SimpleStreams) to browse and import images from.
    Store {
        #[command(subcommand)]
        action: stores::StoreAction,
    },
    /// libvirt VMs: `vm list` shows each with its state, disks and snapshot count.
    Vm {
        #[command(subcommand)]
        action: snapshots::VmAction,
    },
    /// Snapshots of a VM's disk, a qcow2 file or a library image; `snapshot image` cuts a disk
    /// image from one.
    Snapshot {
        #[command(subcommand)]
        action: snapshots::SnapshotAction,
    },
    /// Saved file servers (SFTP, FTP, FTPS, WebDAV) to export profiles to.
    Server {
        #[command(subcommand)]
        action: servers::ServerAction,
    },
    /// Re-hash stored objects and report damaged or missing ones.
    Verify {
        ids_or_names: Vec<String>,
        /// Only this many artifacts: those checked longest ago (never first), so that runs one
        /// after another go round the whole repository.
        #[arg(long, value_name = "N", conflicts_with = "ids_or_names")]
        sample: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Where the repository is, what it holds and how much room is left; --diagnostics prints the
    /// report for a support request (versions, paths, figures, last failed jobs; no secrets).
    Info {
        #[arg(long)]
        diagnostics: bool,
        #[arg(long)]
        json: bool,
    },
    /// Create the repository (--home or IMAGESMITH_HOME) when its folder does not exist yet; other
    /// commands refuse a configured folder that is missing (a disk or share not mounted).
    Init {
        #[arg(long)]
        json: bool,
    },
    /// Team repositories: connect one (catalog in PostgreSQL, bytes in an S3 bucket), list, choose,
    /// check and disconnect them.
    Repo {
        #[command(subcommand)]
        action: repo::RepoAction,
    },
    /// Set a damaged catalog aside and rebuild one from the stored files (names, profiles and
    /// history are not in the files: artifacts come back as recovered-<sha256>.<ext>).
    RebuildCatalog {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ProfileAction {
    /// Create a profile on an OS image.
    Create {
        name: String,
        #[arg(long = "os-image", value_name = "ID_OR_NAME")]
        os_image: String,
        #[arg(long, default_value = "")]
        description: String,
        /// On a Windows installer: the edition to install (its index, edition id or name).
        #[arg(long, value_name = "EDITION")]
        edition: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Choose the Windows edition a profile installs (index, edition id such as ServerDatacenter,
    /// or name); --clear leaves the choice to Setup.
    Edition {
        name: String,
        #[arg(required_unless_present = "clear", conflicts_with = "clear")]
        edition: Option<String>,
        #[arg(long)]
        clear: bool,
        #[arg(long)]
        json: bool,
    },
    /// Add library items (drivers, boot files, scripts, software, configs, one answer file).
    Add {
        name: String,
        #[arg(required = true, value_name = "ID_OR_NAME")]
        artifacts: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove members.
    Remove {
        name: String,
        #[arg(required = true, value_name = "ID_OR_NAME")]
        artifacts: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Set install options (hostname, locale, timezone, keyboard, or your own); KEY= removes one.
    Set {
        name: String,
        #[arg(required = true, value_name = "KEY=VALUE")]
        options: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    Delete {
        name: String,
    },
    /// Import an exported profile (.tar.gz): verified, members imported, profile recreated.
    Import {
        file: PathBuf,
        /// Name for the recreated profile (default: its exported name, or a free variant of it).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Export as one checksummed tar.gz (plus a .sha256 sidecar) into a folder or to a saved file server.
    #[command(group = clap::ArgGroup::new("destination").required(true).args(["to", "server"]))]
    Export {
        name: String,
        #[arg(long = "to", value_name = "DIR")]
        to: Option<PathBuf>,
        /// A saved file server (`server add`); the archive is read back and verified there.
        #[arg(long, value_name = "SERVER")]
        server: Option<String>,
        /// With --server: a folder below the server's path (or an absolute path replacing it).
        #[arg(long, value_name = "PATH", requires = "server")]
        path: Option<String>,
        /// Include the base OS image (left out by default).
        #[arg(long = "include-os")]
        include_os: bool,
        /// Export although the answer files have lint errors, for this reason (recorded in
        /// profile.json with the errors).
        #[arg(long = "override-lint", value_name = "REASON")]
        override_lint: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum JobsAction {
    Show {
        job_id: i64,
        #[arg(long)]
        json: bool,
    },
}

/// The attributes every artifact carries, at import and in update (tags replace the old ones).
#[derive(Args, Default)]
pub(crate) struct AttributeArgs {
    /// A short unique name, usable wherever an id or name is ("" removes it).
    #[arg(long)]
    alias: Option<String>,
    /// public, private (the default) or deleted (hidden from lists and new use).
    #[arg(long)]
    access: Option<Access>,
    /// Whom it belongs to (default: the OS user who imports it).
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    description: Option<String>,
    #[arg(long)]
    version: Option<String>,
    /// A deployment may grow the disk to the VM's size.
    #[arg(long, overrides_with = "no_resize")]
    resize: bool,
    #[arg(long)]
    no_resize: bool,
    /// Deployed once, as is.
    #[arg(long, overrides_with = "no_deploy")]
    deploy: bool,
    #[arg(long)]
    no_deploy: bool,
    /// A tag (repeat for several).
    #[arg(long = "tag")]
    tags: Vec<String>,
}

impl AttributeArgs {
    pub(crate) fn patch(self) -> ArtifactPatch {
        let flag = |on: bool, off: bool| {
            if on {
                Some(true)
            } else if off {
                Some(false)
            } else {
                None
            }
        };
        ArtifactPatch {
            alias: self.alias,
            access: self.access,
            owner: self.owner,
            description: self.description,
            version: self.version,
            resize: flag(self.resize, self.no_resize),
            deploy: flag(self.deploy, self.no_deploy),
            tags: (!self.tags.is_empty()).then_some(self.tags),
            ..Default::default()
        }
    }
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("digest").multiple(false))]
struct ImportArgs {
    #[arg(long)]
    kind: Option<Kind>,
    /// OS family (linux, windows, vmware) or distribution (rhel, sles, ubuntu, …).
    #[arg(long)]
    os: Option<String>,
    /// Name or id of the OS image these files belong to.
    #[arg(long)]
    image: Option<String>,
    /// Name for the artifact (one file only).
    #[arg(long)]
    name: Option<String>,
    #[arg(long, group = "digest", value_name = "HEX")]
    md5: Option<String>,
    #[arg(long, group = "digest", value_name = "HEX")]
    sha1: Option<String>,
    #[arg(long, group = "digest", value_name = "HEX")]
    sha256: Option<String>,
    #[arg(long, group = "digest", value_name = "HEX")]
    sha512: Option<String>,
    /// ALGO:HEX, or a bare hex digest (algorithm by length).
    #[arg(long, group = "digest", value_name = "ALGO:HEX")]
    checksum: Option<String>,
    /// A checksum file (sha256sum or BSD style, or a sidecar) to verify against, a path or a URL;
    /// repeatable.
    #[arg(long = "checksum-file", value_name = "FILE_OR_URL")]
    checksum_files: Vec<PathBuf>,
    /// Seconds a server may send nothing before a download fails (default 30).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// An IMGAPI image manifest (Danube, SmartOS, Triton): its file is downloaded and checked
    /// against the manifest's size and digest; name, version, description, tags and access come
    /// from it unless given.
    #[arg(long, value_name = "URL", conflicts_with = "files")]
    manifest_url: Option<String>,
    /// Where the manifest's file is, when not at MANIFEST_URL/file (as IMGAPI serves it).
    #[arg(long, value_name = "URL", requires = "manifest_url")]
    file_url: Option<String>,
    #[command(flatten)]
    attributes: AttributeArgs,
    /// Refuse every file that no checksum list signed by a trusted key vouches for (the
    /// repository's policy may require this already: `key policy`).
    #[arg(long)]
    require_signature: bool,
    /// Import files whose checksum list is signed by a key not trusted here, or by an expired
    /// trusted key, as if it were not signed (what the signature was is recorded).
    #[arg(long)]
    allow_unknown_key: bool,
    #[arg(long)]
    json: bool,
    /// Files, folders (everything below them but hidden files, links not followed) and http(s)
    /// URLs (downloaded, resumable; checksum files among them are matched by name).
    #[arg(required_unless_present = "manifest_url", value_name = "FILE_OR_URL")]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Both named on the command line is a mistake; from the environment, --repo wins.
    let on_line = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if on_line("repo") && on_line("home") {
        return usage("--repo and --home each name a repository; give one of them");
    }
    if let Err(e) = logging::init(&logging::LogOptions::cli(cli.verbose)) {
        // Commands work without a log file; say once why there is none.
        eprintln!("warning [{}]: no log file: {} {}", e.code, e.text, e.recovery);
    }
    let layout = match cli.home.clone() {
        // A folder the user names must be there: a missing one is a disk not mounted, not a new repository.
        Some(home) => DataLayout::configured(home),
        None => match DataLayout::default_for_user() {
            Ok(l) => l,
            Err(e) => return output::fail(&e, false),
        },
    };
    let json = matches!(
        &cli.command,
        Command::List { json: true, .. }
            | Command::Show { json: true, .. }
            | Command::Lint { json: true, .. }
            | Command::Drivers { json: true, .. }
            | Command::Update { json: true, .. }
            | Command::Jobs { json: true, .. }
            | Command::Deleted { json: true, .. }
            | Command::Jobs { action: Some(JobsAction::Show { json: true, .. }), .. }
            | Command::Verify { json: true, .. }
            | Command::RebuildCatalog { json: true }
            | Command::Init { json: true }
            | Command::Info { json: true, .. }
            | Command::Server { action: servers::ServerAction::List { json: true } }
            | Command::Profile {
                action: ProfileAction::Create { json: true, .. }
                    | ProfileAction::Add { json: true, .. }
                    | ProfileAction::Remove { json: true, .. }
                    | ProfileAction::Set { json: true, .. }
                    | ProfileAction::Edition { json: true, .. }
                    | ProfileAction::List { json: true }
                    | ProfileAction::Show { json: true, .. }
                    | ProfileAction::Export { json: true, .. }
                    | ProfileAction::Import { json: true, .. }
            }
    ) || matches!(&cli.command, Command::Import(a) if a.json)
        || publish::wants_json(&cli.command)
        || matches!(&cli.command, Command::Gold { action } if gold::gold_wants_json(action))
        || matches!(&cli.command, Command::Series { action } if gold::series_wants_json(action))
        || matches!(&cli.command, Command::Store { action } if stores::wants_json(action))
        || matches!(&cli.command, Command::Key { action } if keys::wants_json(action))
        || matches!(&cli.command, Command::Repo { action } if repo::wants_json(action))
        || matches!(&cli.command, Command::Vm { action } if snapshots::vm_wants_json(action))
        || matches!(&cli.command, Command::Snapshot { action } if snapshots::snapshot_wants_json(action));
    // --home on the command line beats IMAGESMITH_REPO; --repo (either way) beats IMAGESMITH_HOME.
    let repo_arg = if on_line("home") && !on_line("repo") { None } else { cli.repo.as_deref() };
    let team = match repo::chosen(repo_arg, cli.home.is_some()) {
        Ok(t) => t,
        Err(e) => return output::fail(&e, json),
    };
    if let Command::Repo { action } = cli.command {
        return match repo::run(action, &layout, team) {
            Ok(code) => code,
            Err(e) => output::fail(&e, json),
        };
    }
    // Lint needs no repository unless the OS image is looked up in one.
    if let Command::Lint { file, os, image: None, json } = &cli.command {
        let target = os.as_deref().map(imagesmith_engine::lint::target_from_os).unwrap_or_default();
        return match imagesmith_engine::lint::lint_file(file, &target) {
            Ok(report) => lint_output(file, &report, *json),
            Err(e) => output::fail(&e, *json),
        };
    }
    if let Some(name) = team {
        if !repo::runs_on_team(&cli.command) {
            return output::fail(&repo::not_on_team(&name), json);
        }
        let engine = match repo::open_team(&name) {
            Ok(e) => e,
            Err(e) => return output::fail(&e, json),
        };
        return match run(&engine, cli.command) {
            Ok(code) => code,
            Err(e) => output::fail(&e, json),
        };
    }
    // Before opening: the repository does not open while its catalog is damaged.
    if let Command::RebuildCatalog { json } = cli.command {
        return match imagesmith_engine::rebuild::rebuild_catalog(&layout) {
            Ok(report) if json => {
                output::json(&report);
                ExitCode::SUCCESS
            }
            Ok(report) => {
                if let Some(old) = &report.set_aside {
                    println!("The damaged catalog was kept as {old}.");
                }
                println!("Rebuilt the catalog: {} stored file(s) recovered.", report.recovered.len());
                for name in &report.recovered {
                    println!("  {name}");
                }
                if !report.lost_and_found.is_empty() {
                    println!("{} stored file(s) no longer match their checksum and were moved to:", report.lost_and_found.len());
                    for path in &report.lost_and_found {
                        println!("  {path}");
                    }
                }
                println!(
                    "Rename the recovered files and recreate profiles with `imagesmith-cli update` and `imagesmith-cli profile create`."
                );
                ExitCode::SUCCESS
            }
            Err(e) => output::fail(&e, json),
        };
    }
    let init = matches!(cli.command, Command::Init { .. });
    let engine = match Engine::open(if init { layout.creating() } else { layout }) {
        Ok(e) => e,
        Err(e) => return output::fail(&e, json),
    };
    // Objects an earlier boot left unsettled are re-hashed first (a `recover` job in the history).
    match engine.recover(&CancelToken::new(), &|_| {}) {
        Ok(Some(r)) if !r.lost.is_empty() => {
            eprintln!("imagesmith: {} stored file(s) did not survive a restart and were marked lost: {}", r.lost.len(), r.lost.join(", "))
        }
        Ok(_) => {}
        Err(e) => return output::fail(&e, json),
    }
    match run(&engine, cli.command) {
        Ok(code) => code,
        Err(e) => output::fail(&e, json),
    }
}

/// A lint report printed; exit status 1 when it has errors.
fn lint_output(file: &std::path::Path, report: &imagesmith_engine::lint::LintReport, json: bool) -> ExitCode {
    if json {
        output::json(report);
    } else {
        output::lint(file, report);
    }
    if report.errors() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Ctrl-C cancels the running job; the job then cleans up and the command exits.
pub(crate) fn cancel_on_ctrl_c() -> CancelToken {
    let token = CancelToken::new();
    let t = token.clone();
    let _ = ctrlc::set_handler(move || {
        if t.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("\nCancelling… (press Ctrl-C again to quit at once)");
        t.cancel();
    });
    token
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn run(engine: &Engine, command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Import(args) => import(engine, *args),
        Command::List { kind, os, sort, search, access, os_id, all, full, extended, json } => {
            let q = ArtifactQuery { kind, os, sort: sort.parse::<SortKey>()?, search, access, all, os_id, ..Default::default() };
            let artifacts = engine.list_artifacts(&q)?;
            if json {
                output::json(&artifacts);
            } else if full || extended {
                output::artifact_rows(&artifacts, extended);
            } else {
                output::artifact_table(&artifacts);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lint { file, os, image, json } => {
            let report = engine.lint_path(&file, os.as_deref(), image.as_deref())?;
            Ok(lint_output(&file, &report, json))
        }
        Command::Show { id_or_name, json, .. } => {
            let a = engine.get_artifact(&id_or_name)?;
            if json {
                output::json(&a);
            } else {
                output::artifact_details(&a);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Drivers { hwid, os_image, json } => {
            let drivers = engine.drivers(&DriverQuery { hwid: hwid.clone(), os_image })?;
            if json {
                output::json(&drivers);
            } else {
                output::driver_table(&drivers, hwid.as_deref());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Update { id_or_name, name, kind, os, attributes, json } => {
            let a = engine.get_artifact(&id_or_name)?;
            let patch = ArtifactPatch { name, kind, os, ..attributes.patch() };
            let a = engine.update_artifact(a.id, &patch)?;
            if json {
                output::json(&a);
            } else {
                output::artifact_details(&a);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Delete { id_or_name } => {
            let a = engine.get_artifact(&id_or_name)?;
            let a = engine.delete_artifact(a.id)?;
            println!("Deleted {} (id {}).", a.name, a.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Jobs { action: Some(JobsAction::Show { job_id, json }), json: json_outer, .. } => {
            let job = engine.get_job(job_id)?;
            if json || json_outer {
                output::json(&job);
            } else {
                output::job_details(&job);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Deleted { what, limit, json } => {
            let rows = engine.deletions(what, limit)?;
            if json {
                output::json(&rows);
            } else {
                output::deletion_table(&rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Jobs { action: None, kind, state, json } => {
            let jobs = engine.list_jobs(&JobQuery { kind, state, ..Default::default() })?;
            if json {
                let details = jobs.iter().map(|j| engine.get_job(j.id)).collect::<Result<Vec<_>, _>>()?;
                output::json(&details);
            } else {
                output::job_table(&jobs);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Profile { action } => profile(engine, action),
        Command::Target { action } => publish::target(engine, action),
        Command::Publish(args) => publish::publish(engine, args),
        Command::Publications { artifact, refresh, json } => publish::publications(engine, artifact, refresh, json),
        Command::Unpublish { publication_id, json } => publish::unpublish(engine, publication_id, json),
        Command::Server { action } => servers::run(engine, action),
        Command::Gold { action } => gold::run(engine, action),
        Command::Key { action } => keys::run(engine, action),
        Command::Store { action } => stores::run(engine, action),
        Command::Vm { action } => snapshots::run_vm(engine, action),
        Command::Snapshot { action } => snapshots::run_snapshot(engine, action),
        Command::Series { action } => gold::run_series(engine, action),
        Command::RebuildCatalog { .. } => unreachable!("rebuild-catalog runs before the repository is opened"),
        Command::Repo { .. } => unreachable!("repo runs before the repository is opened"),
        Command::Info { diagnostics, json } => {
            if diagnostics {
                let text = engine.diagnostics("imagesmith-cli")?;
                if json {
                    output::json(&serde_json::json!({ "diagnostics": text }));
                } else {
                    println!("{text}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let stats = engine.repository_stats()?;
            if json {
                output::json(&serde_json::json!({ "root": engine.layout().root, "team": engine.team(), "stats": stats }));
            } else {
                if let Some(t) = engine.team() {
                    println!("team        {} (repository {})", t.name, t.repository_id);
                    println!("this desktop's part {}", engine.layout().root.display());
                } else {
                    println!("repository  {}", engine.layout().root.display());
                }
                println!("artifacts   {}", stats.artifacts);
                println!("stored      {} files, {} bytes", stats.objects, stats.stored_bytes);
                if stats.lost > 0 {
                    println!("lost        {} missing or damaged (imagesmith-cli verify)", stats.lost);
                }
                if let Some(free) = stats.free_bytes {
                    println!("free        {free} bytes");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { json } => {
            let root = engine.layout().root.display().to_string();
            if json {
                output::json(&serde_json::json!({ "root": root }));
            } else {
                println!("The repository is ready at {root}.");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { ids_or_names, sample, json } => {
            let cancel = cancel_on_ctrl_c();
            let bar = output::ProgressBar::new(json);
            let work = match sample {
                Some(n) => engine.verify_sample_work(n)?,
                None => engine.verify_work(&ids_or_names)?,
            };
            let report = engine.run(work, &cancel, &|p| bar.update(p))?;
            bar.finish();
            if json {
                output::json(&report);
            } else {
                output::verify_table(&report);
            }
            Ok(output::job_exit(report.job.state))
        }
    }
}

fn command_line_digest(args: &ImportArgs) -> Result<Option<ExpectedDigest>, Error> {
    let typed = [
        (Algo::Md5, &args.md5, "--md5"),
        (Algo::Sha1, &args.sha1, "--sha1"),
        (Algo::Sha256, &args.sha256, "--sha256"),
        (Algo::Sha512, &args.sha512, "--sha512"),
    ];
    for (algo, value, flag) in typed {
        if let Some(hex) = value {
            return expected_for(algo, hex, flag).map(Some);
        }
    }
    args.checksum.as_deref().map(|c| parse_expected(c, "--checksum")).transpose()
}

fn import(engine: &Engine, mut args: ImportArgs) -> Result<ExitCode, Error> {
    use imagesmith_engine::download::{self, is_url};
    if let Some(manifest_url) = args.manifest_url.clone() {
        let attributes = std::mem::take(&mut args.attributes).patch();
        let (_, mut item) = engine.manifest_import_item(&manifest_url, args.file_url.as_deref(), &attributes)?;
        item.kind = args.kind;
        item.os = args.os.clone();
        item.image = args.image.clone();
        item.name = args.name.clone().or(item.name);
        item.expected = command_line_digest(&args)?;
        let req = ImportRequest {
            items: vec![item],
            read_timeout_secs: args.timeout,
            require_signature: args.require_signature,
            ..ImportRequest::default()
        };
        return run_import(engine, &req, args.json);
    }
    let timeout = args.timeout.map(std::time::Duration::from_secs).unwrap_or(download::DEFAULT_READ_TIMEOUT);
    let (urls, paths): (Vec<PathBuf>, Vec<PathBuf>) = args.files.iter().cloned().partition(|p| is_url(&p.to_string_lossy()));
    let urls: Vec<String> = urls.iter().map(|u| u.to_string_lossy().into_owned()).collect();
    // Checksum files among the URLs (by name, as they cannot be read before they are fetched) and
    // given with --checksum-file URL are fetched first; they are then read like local ones.
    let (mut sum_urls, urls) = download::split_checksum_urls(urls);
    let (named_sum_urls, local_sums): (Vec<PathBuf>, Vec<PathBuf>) =
        args.checksum_files.iter().cloned().partition(|p| is_url(&p.to_string_lossy()));
    sum_urls.extend(named_sum_urls.iter().map(|u| u.to_string_lossy().into_owned()));
    let fetched_sums = engine.fetch_checksum_urls(&sum_urls, timeout)?;
    args.checksum_files = local_sums;
    let (files, found_sums) = split_checksum_files(&imagesmith_engine::import::expand_folders(&paths)?);
    let files: Vec<(PathBuf, Option<String>)> =
        files.into_iter().map(|f| (f, None)).chain(urls.into_iter().map(|u| (PathBuf::new(), Some(u)))).collect();
    let expected = command_line_digest(&args)?;
    import_files(engine, args, files, found_sums, fetched_sums.paths().to_vec(), expected)
}

type FoundSums = Vec<(PathBuf, Result<imagesmith_engine::checksum::ChecksumFile, Error>)>;

fn import_files(
    engine: &Engine,
    mut args: ImportArgs,
    files: Vec<(PathBuf, Option<String>)>,
    found_sums: FoundSums,
    fetched_sums: Vec<PathBuf>,
    expected: Option<ExpectedDigest>,
) -> Result<ExitCode, Error> {
    if files.is_empty() {
        return Ok(usage("no files to import (only checksum files were given)"));
    }
    if expected.is_some() && files.len() > 1 {
        return Ok(usage("a checksum given on the command line applies to one file; use --checksum-file for several"));
    }
    if args.name.is_some() && files.len() > 1 {
        return Ok(usage("--name applies to one file; import the others separately or without --name"));
    }
    if args.attributes.alias.as_deref().is_some_and(|a| !a.trim().is_empty()) && files.len() > 1 {
        return Ok(usage("--alias names one file; import the others separately or without --alias"));
    }
    let mut checksum_files: Vec<PathBuf> = args.checksum_files.clone();
    for (path, found) in &found_sums {
        checksum_files.push(path.clone());
        // The detached signature found beside it goes with it.
        checksum_files.extend(found.as_ref().ok().and_then(|f| f.signature_path.clone()).map(PathBuf::from));
    }
    checksum_files.extend(fetched_sums);
    let attributes = std::mem::take(&mut args.attributes).patch();
    let req = ImportRequest {
        items: files
            .iter()
            .map(|(p, url)| ImportItem {
                path: p.clone(),
                url: url.clone(),
                kind: args.kind,
                os: args.os.clone(),
                image: args.image.clone(),
                name: args.name.clone(),
                expected: expected.clone(),
                attributes: attributes.clone(),
                remote: None,
            })
            .collect(),
        checksum_files,
        read_timeout_secs: args.timeout,
        require_signature: args.require_signature,
        accept_unverified_signatures: args.allow_unknown_key,
    };
    run_import(engine, &req, args.json)
}

/// Run an import job with a progress bar (or not, for --json), print its report, and say by the
/// exit code whether anything failed (1) or was cancelled (130). `import` and `store import` use it.
fn run_import(engine: &Engine, req: &ImportRequest, json: bool) -> Result<ExitCode, Error> {
    let cancel = cancel_on_ctrl_c();
    let bar = output::ProgressBar::new(json);
    let report = engine.import(req, &cancel, &|p| bar.update(p))?;
    bar.finish();
    if json {
        output::json(&report);
    } else {
        output::import_table(&report);
    }
    let any = |o: Outcome| report.items.iter().any(|i| i.outcome == o);
    let bad_sums = report.checksum_files.iter().any(|c| c.error.is_some());
    Ok(if any(Outcome::Failed) || bad_sums {
        ExitCode::from(1)
    } else if any(Outcome::Cancelled) {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_profile(p: &imagesmith_engine::Profile, json: bool) {
    if json {
        output::json(p);
    } else {
        output::profile_details(p);
    }
}

fn profile(engine: &Engine, action: ProfileAction) -> Result<ExitCode, Error> {
    match action {
        ProfileAction::Create { name, os_image, description, edition, json } => {
            print_profile(&engine.create_profile(&name, &os_image, &description, edition.as_deref())?, json)
        }
        ProfileAction::Edition { name, edition, json, .. } => print_profile(&engine.set_profile_edition(&name, edition.as_deref())?, json),
        ProfileAction::Add { name, artifacts, json } => print_profile(&engine.add_to_profile(&name, &artifacts)?, json),
        ProfileAction::Remove { name, artifacts, json } => print_profile(&engine.remove_from_profile(&name, &artifacts)?, json),
        ProfileAction::Set { name, options, json } => {
            let mut pairs = Vec::new();
            for o in &options {
                match o.split_once('=') {
                    Some((k, v)) => pairs.push((k.to_string(), v.to_string())),
                    None => return Ok(usage(&format!("install options are KEY=VALUE, not \"{o}\""))),
                }
            }
            print_profile(&engine.set_profile_options(&name, &pairs)?, json)
        }
        ProfileAction::List { json } => {
            let list = engine.list_profiles()?;
            if json {
                output::json(&list);
            } else {
                output::profile_table(&list);
            }
        }
        ProfileAction::Show { name, json } => print_profile(&engine.get_profile(&name)?, json),
        ProfileAction::Delete { name } => {
            let p = engine.delete_profile(&name)?;
            println!("Deleted profile {}.", p.name);
        }
        ProfileAction::Import { file, name, json } => {
            let cancel = cancel_on_ctrl_c();
            let bar = output::ProgressBar::new(json);
            let report = engine.import_profile(&file, name.as_deref(), &cancel, &|p| bar.update(p));
            bar.finish();
            let report = report?;
            if json {
                output::json(&report);
            } else {
                println!(
                    "imported profile {} ({} members{})",
                    report.profile.name,
                    report.members.len(),
                    if report.sidecar_verified { ", archive checked against its .sha256" } else { "" }
                );
                output::profile_details(&report.profile);
            }
        }
        ProfileAction::Export { name, to: None, server: Some(server), path, include_os, override_lint, json } => {
            let req = imagesmith_engine::ServerExportRequest { profile: name, server, path, include_os, lint_override: override_lint };
            return servers::export(engine, req, &cancel_on_ctrl_c(), json);
        }
        ProfileAction::Export { name, to, include_os, override_lint, json, .. } => {
            let to = to.expect("clap requires --to or --server");
            let cancel = cancel_on_ctrl_c();
            let bar = output::ProgressBar::new(json);
            let req = imagesmith_engine::export::ExportRequest { profile: name, dir: to, include_os, lint_override: override_lint };
            let report = engine.export_profile(&req, &cancel, &|p| bar.update(p));
            bar.finish();
            output::export_report(&report?, json, "");
        }
    }
    Ok(ExitCode::SUCCESS)
}
