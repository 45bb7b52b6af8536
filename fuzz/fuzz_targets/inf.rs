//! Fuzz target `inf`: see `imagesmith_engine::fuzzing::Target::Inf`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imagesmith_engine::fuzzing::run(imagesmith_engine::fuzzing::Target::Inf, data));
