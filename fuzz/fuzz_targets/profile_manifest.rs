//! Fuzz target `profile_manifest`: see `imagesmith_engine::fuzzing::Target::ProfileManifest`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imagesmith_engine::fuzzing::run(imagesmith_engine::fuzzing::Target::ProfileManifest, data));
