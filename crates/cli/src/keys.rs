//! `key …`: the OpenPGP public keys the admin trusts for signatures — add (after confirming the
//! fingerprint), list, remove — and the repository's signature policy.

use crate::output;
use clap::Subcommand;
use imagesmith_engine::trust::grouped_fingerprint;
use imagesmith_engine::{Engine, Error, KeyInfo};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum KeyAction {
    /// Trust a public key (armored or binary file): its fingerprint and user ids are shown and
    /// must be confirmed, or given as confirmed with --yes.
    Add {
        file: PathBuf,
        /// The fingerprint shown was checked against the publisher's: trust it without asking.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// The trusted keys.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a key (its whole fingerprint or its last 16 hex digits).
    Remove {
        fingerprint: String,
        #[arg(long)]
        json: bool,
    },
    /// The repository's signature policy; with --require-signature or --no-require-signature,
    /// change it. Required, every import needs a checksum list signed by a trusted key.
    Policy {
        #[arg(long, conflicts_with = "no_require_signature")]
        require_signature: bool,
        #[arg(long)]
        no_require_signature: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn wants_json(a: &KeyAction) -> bool {
    match a {
        KeyAction::Add { json, .. } | KeyAction::List { json } | KeyAction::Remove { json, .. } | KeyAction::Policy { json, .. } => *json,
    }
}

fn describe(k: &KeyInfo) {
    println!("fingerprint {}", grouped_fingerprint(&k.fingerprint));
    for u in &k.user_ids {
        println!("  user id   {u}");
    }
    println!("  {} key, {} subkey{}, created {}", k.algorithm, k.subkeys, if k.subkeys == 1 { "" } else { "s" }, k.created_at);
    if k.revoked {
        println!("  REVOKED by its owner: what it signs is refused as bad_signature");
    }
    match (&k.expires_at, k.expired) {
        (Some(e), true) => println!("  EXPIRED {e}: signatures it makes are reported as expired_key"),
        (Some(e), false) => println!("  expires {e}"),
        (None, _) => println!("  does not expire"),
    }
    if let Some(a) = &k.added_at {
        println!("  trusted since {a}");
    }
}

fn confirmation_needed(k: &KeyInfo) -> Error {
    Error::new(
        imagesmith_engine::ErrorCode::InvalidArgument,
        format!("The key {} was not trusted: its fingerprint was not confirmed.", k.fingerprint),
        "A key is trusted only after the admin compares its fingerprint with the one its publisher gives (their web page, release notes or keyring package).",
        "Compare the fingerprint, then run again with --yes (or answer yes at the prompt in a terminal).",
    )
}

pub fn run(engine: &Engine, action: KeyAction) -> Result<ExitCode, Error> {
    match action {
        KeyAction::Add { file, yes, json } => {
            let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, &e, false))?;
            let shown = imagesmith_engine::trust::inspect_key(&bytes)?;
            if !yes {
                if json || !std::io::stdin().is_terminal() {
                    return Err(confirmation_needed(&shown));
                }
                describe(&shown);
                print!("Is this the publisher's fingerprint? Trust this key [y/N]: ");
                let _ = std::io::stdout().flush();
                let mut answer = String::new();
                let _ = std::io::stdin().lock().read_line(&mut answer);
                if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                    return Err(confirmation_needed(&shown));
                }
            }
            let added = engine.add_trusted_key(&bytes, &shown.fingerprint)?;
            if json {
                output::json(&added);
            } else {
                println!("Trusted key {}.", grouped_fingerprint(&added.fingerprint));
                if yes {
                    describe(&added);
                }
            }
        }
        KeyAction::List { json } => {
            let keys = engine.trusted_keys()?;
            if json {
                output::json(&keys);
            } else if keys.is_empty() {
                println!("No trusted keys. Add the publisher's public key with `imagesmith-cli key add FILE`.");
            } else {
                for k in &keys {
                    describe(k);
                }
            }
        }
        KeyAction::Remove { fingerprint, json } => {
            let removed = engine.remove_trusted_key(&fingerprint)?;
            if json {
                output::json(&removed);
            } else {
                println!(
                    "No longer trusted: {} ({}).",
                    grouped_fingerprint(&removed.fingerprint),
                    removed.user_ids.first().map(String::as_str).unwrap_or("no user id")
                );
            }
        }
        KeyAction::Policy { require_signature, no_require_signature, json } => {
            let policy = if require_signature || no_require_signature {
                engine.set_signature_policy(imagesmith_engine::trust::SignaturePolicy { require_signature })?
            } else {
                engine.signature_policy()?
            };
            if json {
                output::json(&policy);
            } else if policy.require_signature {
                println!("Every import needs a good signature: a checksum list signed by a trusted key.");
            } else {
                println!("A good signature is not required (signed checksum lists are still checked; a bad signature always refuses).");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
