//! The fuzz targets on stable, as `make test` runs them: every seed of `fuzz/corpus/<target>/` and
//! every input a fuzzing run once crashed on (`fuzz/regressions/<target>/`) must go through its
//! parser without a panic, then a few hundred deterministic mutations of the seeds (bit flips,
//! cuts, splices, extreme length fields) must too. `make fuzz` does the coverage-guided search.

use imagesmith_engine::fuzzing::{run, Target};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

/// xorshift64*: the same mutations on every machine, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => data.truncate(rng.below(len)),
            2 => {
                let at = rng.below(len + 1);
                let n = rng.below(64);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            3 if !other.is_empty() => {
                // a piece of another seed: headers of one format inside another
                let from = rng.below(other.len());
                let n = rng.below(512).min(other.len() - from);
                let at = rng.below(len + 1);
                data.splice(at..at, other[from..from + n].iter().copied());
            }
            4 if len >= 4 => {
                // a length or count field at its extreme
                let i = rng.below(len - 3);
                let v: [u8; 4] = if rng.below(2) == 0 { [0xff; 4] } else { [0x7f, 0xff, 0xff, 0xff] };
                data[i..i + 4].copy_from_slice(&v);
            }
            _ if len > 1 => {
                // repeat a chunk: nesting, repeated headers
                let from = rng.below(len);
                let n = rng.below(256).min(len - from);
                let chunk = data[from..from + n].to_vec();
                for _ in 0..rng.below(8) {
                    data.splice(from..from, chunk.iter().copied());
                }
            }
            _ => {}
        }
    }
    data
}

/// Mutations per target: detection writes each input to seven files, so it gets fewer.
fn rounds(target: Target) -> usize {
    match target {
        Target::Detect => 1500,
        // each input becomes a disc image of up to 8 MiB
        Target::WindowsMedia => 1500,
        _ => 8000,
    }
}

#[test]
fn every_seed_regression_and_mutation_goes_through_its_parser_without_a_panic() {
    std::panic::set_hook(Box::new(|_| {})); // panics are collected below, with their input saved
    let findings_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-findings");
    let mut findings = Vec::new();
    let mut ran = 0usize;
    for &target in Target::ALL {
        let seeds = inputs(&fuzz_dir().join("corpus").join(target.as_str()));
        assert!(!seeds.is_empty(), "fuzz/corpus/{target} has seeds");
        let regressions = inputs(&fuzz_dir().join("regressions").join(target.as_str()));
        let mut check = |label: String, data: &[u8]| {
            ran += 1;
            if catch_unwind(AssertUnwindSafe(|| run(target, data))).is_err() {
                std::fs::create_dir_all(&findings_dir).unwrap();
                let saved = findings_dir.join(format!("{target}-{}", findings.len()));
                std::fs::write(&saved, data).unwrap();
                findings.push(format!("{target}: {label} panicked (input saved as {})", saved.display()));
            }
        };
        for (path, data) in seeds.iter().chain(&regressions) {
            check(path.display().to_string(), data);
        }
        let mut rng = Rng(0x1234_5678_9abc_def1 ^ target.as_str().len() as u64);
        for n in 0..rounds(target) {
            let seed = &seeds[rng.below(seeds.len())].1;
            let other = &seeds[rng.below(seeds.len())].1;
            let data = mutate(&mut rng, seed, other);
            check(format!("mutation {n}"), &data);
        }
    }
    let _ = std::panic::take_hook();
    assert!(findings.is_empty(), "{} of {ran} inputs crashed a parser:\n{}", findings.len(), findings.join("\n"));
}
