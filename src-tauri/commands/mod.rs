//! The IPC commands: each parses its arguments, calls one engine method and maps its error.

pub mod desktop;
pub mod dialogs;
pub mod gold;
pub mod import;
pub mod jobs;
pub mod keys;
pub mod library;
pub mod profiles;
pub mod publish;
pub mod repository;
pub mod servers;
pub mod snapshots;
pub mod stores;
