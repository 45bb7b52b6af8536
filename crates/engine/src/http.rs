//! What every HTTP client of the engine shares (downloads, image stores, clouds): the user agent,
//! the coded error when a client cannot be set up, and the one-thread runtime that drives reqwest's
//! async client from a plain thread.
//!
//! Bulk transfers use the async client on such a runtime, owned by the thread that moves the bytes:
//! `block_on` there runs hyper's connection task on that same thread, so no body chunk crosses to
//! another thread (reqwest's blocking client hands every chunk over from a runtime thread of its own).

use crate::error::{code, Error, Result};
use std::sync::Arc;

pub(crate) const USER_AGENT: &str = concat!("imagesmith/", env!("CARGO_PKG_VERSION"));

/// How long any client waits for a TCP (and TLS) connection before it says the host is unreachable.
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The error of a client (or its runtime) that could not be built.
pub(crate) fn client_error(e: impl std::fmt::Display) -> Error {
    Error::new(
        code::REMOTE_FAILED,
        format!("Could not set up the HTTP client: {e}."),
        "The system's TLS setup could not be loaded.",
        "Check the system's certificate store, then try again.",
    )
}

/// A runtime that runs on the thread calling `block_on` and on no other (timers and sockets
/// enabled): reqwest's async client driven from one thread.
pub(crate) fn one_thread_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(client_error)
}

/// A TLS client configuration (FTPS, the team catalog) that verifies certificates as the platform does (on Linux: the
/// system's CA bundle, or SSL_CERT_FILE when set), with the same crypto as reqwest's.
pub(crate) fn tls_config() -> std::result::Result<Arc<rustls::ClientConfig>, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    Ok(Arc::new(config))
}
