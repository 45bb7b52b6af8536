//! The table test over libosinfo's own list of media (Debian's osinfo-db, installed by
//! scripts/setup.sh): for every media rule, volume fields generated from the rule's own regexes
//! (rand_regex) are identified, and the test reports how many name that rule's OS — the rest are
//! rules another OS's rule claims as well (libosinfo's "-unknown" catch-alls, overlapping point
//! releases). It fails when the database is missing or the share named right drops.

use imagesmith_engine::osid::{from_osinfo, load_report, osinfo_db, osinfo_dir, OsinfoMedia, VolumeFields};
use rand::SeedableRng;

#[test]
fn libosinfos_media_rules_are_named_right() {
    let dir = osinfo_dir().join("os");
    assert!(dir.is_dir(), "{} is missing: scripts/setup.sh installs osinfo-db", dir.display());
    let (rules, unreadable) = load_report(&dir);
    let db = osinfo_db();
    assert!(db.len() > 1500, "only {} media rules read from {}", db.len(), dir.display());
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (mut tried, mut right, mut same_name) = (0usize, 0usize, 0usize);
    let mut wrong: Vec<String> = Vec::new();
    let mut no_sample = 0usize;
    for m in db {
        let Some(fields) = sample(m, &mut rng) else {
            no_sample += 1;
            continue;
        };
        tried += 1;
        let v = VolumeFields {
            volume_id: &fields.0,
            publisher: &fields.1,
            application: &fields.2,
            system_id: &fields.3,
            volume_bytes: m.volume_size_for_test(),
        };
        match from_osinfo(db, &v) {
            Some(found) if found.short_id == m.short_id => right += 1,
            // Another rule of an OS with the same name (a point release libosinfo lists twice).
            Some(found) if found.name == m.name => same_name += 1,
            Some(found) => wrong.push(format!("{:?} ({}) -> {} instead of {}", fields.0, m.arch, found.short_id, m.short_id)),
            None => wrong.push(format!("{:?} -> nothing instead of {}", fields.0, m.short_id)),
        }
    }
    let share = (right + same_name) as f64 / tried as f64;
    eprintln!(
        "osinfo-db media rules: {rules} read ({unreadable} with regexes this reader cannot take), {tried} tried ({no_sample} without a \
         printable sample), {right} named right, \
         {same_name} named as an OS of the same name, {} claimed by another OS's rule ({:.1}% right)",
        wrong.len(),
        share * 100.0
    );
    for w in wrong.iter().take(15) {
        eprintln!("  {w}");
    }
    assert!(share >= 0.80, "only {:.1}% of libosinfo's media named right", share * 100.0);
}

/// A volume id, publisher, application and system id that satisfy the rule's regexes.
fn sample(m: &OsinfoMedia, rng: &mut rand::rngs::StdRng) -> Option<(String, String, String, String)> {
    let gen = |r: Option<&imagesmith_engine::osid::Rule>, rng: &mut rand::rngs::StdRng| -> Option<String> {
        let Some(r) = r else { return Some(String::new()) };
        let g = rand_regex::Regex::compile(&ascii_dots(r.as_str()), 8).ok()?;
        use rand::Rng;
        // A sample the rule itself accepts, in printable ASCII as ISO 9660 fields are.
        (0..200).map(|_| rng.sample::<String, _>(&g)).find(|s| r.is_match(s) && s.chars().all(|c| c.is_ascii_graphic() || c == ' '))
    };
    let (v, p, a, s) = m.rules_for_test();
    Some((gen(v, rng)?, gen(p, rng)?, gen(a, rng)?, gen(s, rng)?))
}

/// The pattern with each `.` outside a class made `[ -~]`: samples stay printable ASCII.
fn ascii_dots(pattern: &str) -> String {
    let (mut out, mut in_class, mut escaped) = (String::new(), false, false);
    for c in pattern.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                out.push(c);
            }
            '\\' => {
                escaped = true;
                out.push(c);
            }
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            '.' if !in_class => out.push_str("[ -~]"),
            _ => out.push(c),
        }
    }
    out
}
