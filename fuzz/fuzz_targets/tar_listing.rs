//! Fuzz target `tar_listing`: see `imagesmith_engine::fuzzing::Target::TarListing`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imagesmith_engine::fuzzing::run(imagesmith_engine::fuzzing::Target::TarListing, data));
