//! `server add|list|test|remove` and `profile export --server`: saved file servers from a terminal.
//! Passwords come from --password-stdin or IMAGESMITH_PASSWORD (never an argument) and go to the
//! OS keyring; SFTP host keys are confirmed with --trust-host-key after reading the fingerprint.

use crate::output;
use crate::secret_input::given_password;
use clap::Subcommand;
use imagesmith_engine::remote::{host_key_mismatch, host_key_unknown, KnownHost};
use imagesmith_engine::{CancelToken, Engine, Error, Protocol, Server, ServerExportRequest, ServerSpec};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ServerAction {
    /// Save a file server to export profiles to (the password goes to the OS keyring).
    Add {
        name: String,
        #[arg(long, value_parser = ["sftp", "ftp", "ftps", "webdav", "webdavs"])]
        protocol: String,
        #[arg(long)]
        host: String,
        /// Default: the protocol's (22, 21, 80, 443).
        #[arg(long)]
        port: Option<u16>,
        /// Folder to export to: relative to the login folder, or absolute with a leading /.
        #[arg(long, default_value = "")]
        path: String,
        #[arg(long)]
        user: String,
        /// SFTP: log in with this private key (its passphrase, if any, is the password).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// Read the password (or key passphrase) from one line of stdin; else IMAGESMITH_PASSWORD.
        #[arg(long = "password-stdin")]
        password_stdin: bool,
        /// SFTP: trust the server's host key when ~/.ssh/known_hosts does not list it (compare the
        /// fingerprint shown first).
        #[arg(long = "trust-host-key")]
        trust_host_key: bool,
    },
    /// List saved servers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Connect, log in, create the folder if missing, write and remove a small file.
    Test { name: String },
    /// Remove a saved server and its password in the keyring.
    Remove { name: String },
}

pub fn run(engine: &Engine, action: ServerAction) -> Result<ExitCode, Error> {
    match action {
        ServerAction::Add { name, protocol, host, port, path, user, key, password_stdin, trust_host_key } => {
            let protocol: Protocol = protocol.parse()?;
            let secret = given_password(password_stdin)?;
            let mut fingerprint = None;
            if protocol == Protocol::Sftp {
                let port = port.unwrap_or(protocol.default_port());
                let probe = engine.probe_host_key(&host, port)?;
                match probe.known_hosts {
                    KnownHost::Match => {}
                    KnownHost::Mismatch => {
                        return Err(host_key_mismatch(&host, port, &probe.fingerprint, "the key listed in ~/.ssh/known_hosts"))
                    }
                    KnownHost::Unknown if trust_host_key => {
                        eprintln!("Trusting the {} host key of {host}:{port}: {}", probe.key_type, probe.fingerprint);
                        fingerprint = Some(probe.fingerprint);
                    }
                    KnownHost::Unknown => return Err(host_key_unknown(&host, port, &probe.fingerprint)),
                }
            }
            let spec = ServerSpec { name, protocol, host, port, path, user, key_file: key, host_key_fingerprint: fingerprint };
            let report = engine.add_server(&spec, secret.as_ref())?;
            let s = &report.server;
            println!("Added {} server {} ({}).", s.protocol, s.name, s.url);
            if s.secret_in_keyring {
                println!("The password is kept in the OS keyring.");
            }
            if let Some(e) = &report.keyring_error {
                eprintln!(
                    "warning [{}]: {}\n  The password was not kept; it is needed each time (IMAGESMITH_PASSWORD or --password-stdin).",
                    e.code, e.text
                );
            }
        }
        ServerAction::List { json } => {
            let list = engine.list_servers()?;
            if json {
                output::json(&list);
            } else {
                server_table(&list);
            }
        }
        ServerAction::Test { name } => {
            let secret = given_password(false)?;
            let r = engine.test_server(&name, secret.as_ref())?;
            println!("server {}: OK — {}", r.server, r.url);
            println!("  connected and logged in{}", r.banner.as_ref().map(|b| format!(" ({b})")).unwrap_or_default());
            if let Some(fp) = &r.host_key_fingerprint {
                println!("  host key {fp}");
            }
            if let Some(tls) = &r.tls {
                println!("  {tls}");
            }
            println!("  folder {}; writable: {}", if r.path_created { "created" } else { "exists" }, if r.writable { "yes" } else { "no" });
            if r.leftovers_removed > 0 {
                println!("  removed {} temp file(s) that failed uploads had left", r.leftovers_removed);
            }
        }
        ServerAction::Remove { name } => {
            let s = engine.remove_server(&name)?;
            println!("Removed server {}.", s.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn server_table(list: &[Server]) {
    if list.is_empty() {
        println!("No file servers. Add one with `imagesmith-cli server add NAME --protocol sftp --host HOST --user USER`.");
        return;
    }
    let mut table = crate::table::Table::new(&["NAME", "PROTOCOL", "URL", "LOGIN", "SECRET"]);
    for s in list {
        let login = if s.key_file.is_some() { "key" } else { "password" };
        let secret = if s.secret_in_keyring { "in keyring" } else { "asked" };
        table.row([s.name.clone(), s.protocol.to_string(), s.url.clone(), login.to_string(), secret.to_string()]);
    }
    table.print();
}

/// `profile export NAME --server SERVER [--path PATH]`.
pub fn export(engine: &Engine, req: ServerExportRequest, cancel: &CancelToken, json: bool) -> Result<ExitCode, Error> {
    let secret = given_password(false)?;
    let bar = output::ProgressBar::new(json);
    let report = engine.export_profile_to_server(&req, secret.as_ref(), cancel, &|p| bar.update(p));
    bar.finish();
    output::export_report(&report?, json, ", read back and verified on the server");
    Ok(ExitCode::SUCCESS)
}
