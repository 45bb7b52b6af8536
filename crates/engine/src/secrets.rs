//! Secrets of file servers and cloud targets: kept in the OS keyring (Secret Service), or given for
//! one use (asked for by the app, `IMAGESMITH_PASSWORD` or stdin in the CLI); never in SQLite or logs.
//!
//! An entry is named by the repository and the thing it opens (`server` or `target`, and its name),
//! so two repositories on one desktop keep their own secrets. A team repository's own secrets (its
//! catalog's password, its object store's secret key) are named by the team repository's name and
//! where it points ([`team_account`]), so pointing a name somewhere else never reuses a stale one.

use crate::error::{code, Error, Result};
use crate::Engine;
use std::fmt;

/// The keyring service name every entry is stored under.
pub const SERVICE: &str = "Imagesmith";

/// What a secret opens: a saved file server, a cloud target, or a team repository's catalog
/// (PostgreSQL password) or object store (S3 secret access key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Server,
    Target,
    Catalog,
    Objects,
}

impl Owner {
    fn as_str(self) -> &'static str {
        match self {
            Owner::Server => "server",
            Owner::Target => "target",
            Owner::Catalog => "catalog",
            Owner::Objects => "objects",
        }
    }
}

/// The keyring account of a team repository's catalog or object-store secret: its name and where
/// it points (`catalog team @ postgresql://u@db:5432/images`).
pub fn team_account(owner: Owner, name: &str, target: &str) -> String {
    format!("{} {} @ {target}", owner.as_str(), name.to_lowercase())
}

/// Keep a secret in the OS keyring under `account`; `keyring_unavailable` when there is none.
pub fn store_at(account: &str, secret: &Secret) -> Result<()> {
    entry(account).and_then(|e| e.set_password(secret.expose())).map_err(|e| keyring_error(e, "store the password"))
}

/// The secret kept under `account`, `None` when there is no entry or no keyring to ask.
pub fn stored_at(account: &str) -> Option<Secret> {
    entry(account).and_then(|e| e.get_password()).ok().map(Secret)
}

/// Forget the secret under `account` (no entry or no keyring is not an error: nothing to forget).
pub fn forget_at(account: &str) -> Result<()> {
    match entry(account).and_then(|e| e.delete_credential()) {
        Ok(()) | Err(keyring::Error::NoEntry) | Err(keyring::Error::PlatformFailure(_)) | Err(keyring::Error::NoStorageAccess(_)) => Ok(()),
        Err(e) => Err(keyring_error(e, "remove the password")),
    }
}

/// The `secret_required` error for something named `what` ("the catalog of team repository x").
pub fn required(what: &str) -> Error {
    Error::new(
        code::SECRET_REQUIRED,
        format!("The password for {what} is needed."),
        "It is not in the OS keyring (none is available, or it was not saved there).",
        "Enter it when asked; in the CLI set IMAGESMITH_PASSWORD or pipe it to --password-stdin.",
    )
}

/// A password, passphrase or application-credential secret. Never printed: `Debug` and `Display`
/// show a placeholder, so it cannot leak into logs or error texts by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("…")
    }
}

/// Where a secret came from when it was needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Keyring,
    Given,
}

fn entry(account: &str) -> std::result::Result<keyring::Entry, keyring::Error> {
    keyring::Entry::new(SERVICE, account)
}

fn keyring_error(e: keyring::Error, doing: &str) -> Error {
    Error::new(
        code::KEYRING_UNAVAILABLE,
        format!("The OS keyring could not {doing}: {e}."),
        "Imagesmith keeps passwords in the desktop's Secret Service (GNOME Keyring, KWallet). None is \
         running or it is locked in this session.",
        "Unlock or start your keyring, or enter the password each time it is needed \
         (the CLI reads IMAGESMITH_PASSWORD or --password-stdin).",
    )
}

impl Engine {
    /// The keyring account for a server's or target's secret in this repository.
    pub fn secret_account(&self, owner: Owner, name: &str) -> String {
        format!("{} {} @ {}", owner.as_str(), name.to_lowercase(), self.layout().root.display())
    }

    /// Keep a secret in the OS keyring. Fails with `keyring_unavailable` when there is none; the
    /// caller then asks for the secret each time instead (nothing is written anywhere else).
    pub fn store_secret(&self, owner: Owner, name: &str, secret: &Secret) -> Result<()> {
        store_at(&self.secret_account(owner, name), secret)
    }

    /// The stored secret, `None` when there is no entry or no keyring to ask.
    pub fn stored_secret(&self, owner: Owner, name: &str) -> Option<Secret> {
        stored_at(&self.secret_account(owner, name))
    }

    /// Forget a stored secret (no entry or no keyring is not an error: there is nothing to forget).
    pub fn forget_secret(&self, owner: Owner, name: &str) -> Result<()> {
        forget_at(&self.secret_account(owner, name))
    }

    /// The secret to use now: the one given for this call, else the keyring's; otherwise
    /// `secret_required`, which the app answers by asking and the CLI by reading its input.
    pub fn secret_for(&self, owner: Owner, name: &str, given: Option<&Secret>) -> Result<(Secret, Found)> {
        if let Some(s) = given {
            return Ok((s.clone(), Found::Given));
        }
        match self.stored_secret(owner, name) {
            Some(s) => Ok((s, Found::Keyring)),
            None => Err(required(&format!("{} \"{name}\"", owner.as_str()))),
        }
    }
}
