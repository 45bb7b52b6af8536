//! Fuzz target `lint`: see `imagesmith_engine::fuzzing::Target::Lint`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imagesmith_engine::fuzzing::run(imagesmith_engine::fuzzing::Target::Lint, data));
