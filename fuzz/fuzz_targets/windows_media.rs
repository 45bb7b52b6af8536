//! Fuzz target `windows_media`: see `imagesmith_engine::fuzzing::Target::WindowsMedia`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imagesmith_engine::fuzzing::run(imagesmith_engine::fuzzing::Target::WindowsMedia, data));
