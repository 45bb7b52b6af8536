//! Shared helpers for the engine's integration tests: the real fixtures and the test servers' facts.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A real fixture file, built by scripts/fixtures.sh (`make test` passes IMAGESMITH_FIXTURES).
pub fn fixture(name: &str) -> PathBuf {
    let dir = std::env::var("IMAGESMITH_FIXTURES").expect("IMAGESMITH_FIXTURES is set by `make test` (scripts/fixtures.sh)");
    Path::new(&dir).join(name)
}

/// The test servers' environment (servers.env); running these tests outside `make test` is an
/// error that says how to start the servers.
pub fn servers_env() -> HashMap<String, String> {
    let path = std::env::var("IMAGESMITH_SERVERS_ENV")
        .expect("IMAGESMITH_SERVERS_ENV is not set: run `make test`, or scripts/with-servers.sh cargo nextest run …");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}
