//! Fuzz target `checksum_file`: see `imagesmith_engine::fuzzing::Target::ChecksumFile`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imagesmith_engine::fuzzing::run(imagesmith_engine::fuzzing::Target::ChecksumFile, data));
