//! Benchmark: how a change reaches many open apps of one team repository. DESKTOPS engines wait for
//! changes as the app's watcher does (each holds its own catalog connection and one that LISTENs),
//! another engine changes an artifact CHANGES times, and each change's arrival at every desktop
//! (woken by NOTIFY, stamp read) is timed: p50, p95 and max over all (desktop, change) pairs.
//!
//! `cargo run --release -p imagesmith-engine --example notify_fanout -- NAME DESKTOPS CHANGES`
//! on team repository NAME (secrets from the keyring), which must hold at least one artifact;
//! scripts/bench_team.py runs it after seeding its catalog and counts the catalog's transactions.

use imagesmith_engine::{ArtifactPatch, ArtifactQuery, Engine};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().expect("usage: notify_fanout NAME DESKTOPS CHANGES");
    let desktops: usize = args.next().map(|a| a.parse().expect("DESKTOPS is a number")).unwrap_or(80);
    let changes: usize = args.next().map(|a| a.parse().expect("CHANGES is a number")).unwrap_or(20);
    let open = || Arc::new(imagesmith_engine::team::open(&name, None, None).expect("open the team repository"));

    let opened = Instant::now();
    let engines: Vec<Arc<Engine>> = (0..desktops).map(|_| open()).collect();
    let opening = opened.elapsed();
    let seen: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let listening = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let watchers: Vec<_> = engines
        .iter()
        .map(|e| {
            let (e, seen, listening, stop) = (e.clone(), seen.clone(), listening.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut last = e.change_stamp().expect("stamp").artifacts;
                let mut first = true;
                while !stop.load(Ordering::SeqCst) {
                    // The first wait returns as soon as the LISTEN is in place.
                    e.wait_for_change(Duration::from_millis(500));
                    if std::mem::take(&mut first) {
                        listening.fetch_add(1, Ordering::SeqCst);
                    }
                    let now = e.change_stamp().expect("stamp").artifacts;
                    if now != last {
                        seen.lock().unwrap().push((now, Instant::now()));
                        last = now;
                    }
                }
            })
        })
        .collect();
    while listening.load(Ordering::SeqCst) < desktops {
        std::thread::sleep(Duration::from_millis(20));
    }

    let other = open();
    let artifact = other.list_artifacts(&ArtifactQuery { limit: Some(1), ..Default::default() }).expect("list")[0].id;
    let mut latencies = Vec::with_capacity(desktops * changes);
    for c in 0..changes {
        let before = seen.lock().unwrap().len();
        let at = Instant::now();
        let patch = ArtifactPatch { description: Some(format!("notify fan-out change {c}")), ..Default::default() };
        other.update_artifact(artifact, &patch).expect("change");
        let stamp = other.change_stamp().expect("stamp").artifacts;
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let got: Vec<Duration> =
                seen.lock().unwrap()[before..].iter().filter(|(s, _)| *s >= stamp).map(|(_, t)| t.duration_since(at)).collect();
            if got.len() >= desktops {
                latencies.extend(got);
                break;
            }
            assert!(Instant::now() < deadline, "change {c} reached {} of {desktops} desktops in 40 s", got.len());
            std::thread::sleep(Duration::from_millis(5));
        }
        // Apart, as changes from people are: each is a burst of its own.
        std::thread::sleep(Duration::from_millis(300));
    }
    stop.store(true, Ordering::SeqCst);
    // The watchers end at their next wake (a NOTIFY, or the 30 s safety net): one more change.
    let patch = ArtifactPatch { description: Some("notify fan-out done".into()), ..Default::default() };
    other.update_artifact(artifact, &patch).expect("change");
    for w in watchers {
        w.join().unwrap();
    }

    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "NOTIFY fan-out: {desktops} open desktops ({} connections), {changes} changes: each reached every desktop in \
         p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (the app gathers a burst for 250 ms before it reads); opening them took {:.1} s",
        desktops * 2,
        pick(0.50),
        pick(0.95),
        pick(1.0),
        opening.as_secs_f64()
    );
}
