//! Kickstart lint: the file read the way Anaconda's parser (pykickstart) reads it — commands, then
//! `%section … %end` blocks — and checked against the grammar of the target release: commands
//! unknown, misspelt, removed or deprecated there; options unknown, deprecated, missing their value
//! or required; sections unknown or left open; single-use commands given twice; plaintext passwords.

use super::{did_you_mean, suggest, Finding, LintCode as C, LintReport, Severity, Target};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

#[derive(Deserialize)]
struct Grammar {
    classes: HashMap<String, Class>,
    versions: HashMap<String, Release>,
}

#[derive(Deserialize)]
struct Class {
    state: State,
    #[serde(flatten)]
    opts: Opts,
    #[serde(default)]
    multi: bool,
    /// Commands that cannot be used together with this one.
    #[serde(default)]
    conflicts: Vec<String>,
    /// Words besides its options it needs at least (`lang en_US`, `part /boot`).
    #[serde(default)]
    positional: usize,
    /// It needs some word after it, an option or an argument (`keyboard us`, `timezone UTC`).
    #[serde(default)]
    needs_words: bool,
}

/// The options of a command or section header.
#[derive(Deserialize, Default)]
struct Opts {
    #[serde(default)]
    options: Vec<String>,
    /// Those that take a value.
    #[serde(default)]
    valued: Vec<String>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    deprecated: Vec<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum State {
    Ok,
    Deprecated,
    Removed,
}

#[derive(Deserialize)]
struct Release {
    commands: BTreeMap<String, String>,
    /// Section headers and their options; None takes any words (`%addon com_redhat_kdump --enable`).
    sections: BTreeMap<String, Option<Opts>>,
}

fn grammar() -> &'static Grammar {
    static GRAMMAR: OnceLock<Grammar> = OnceLock::new();
    GRAMMAR.get_or_init(|| serde_json::from_str(include_str!("kickstart-grammar.json")).expect("the kickstart grammar is valid JSON"))
}

/// The releases the grammar knows, and the one used when the target's is not known.
const DEFAULT_RELEASE: &str = "RHEL9";
const FEDORA: (u32, u32) = (40, 44);

/// The kickstart syntax for a distribution and version: RHEL and its rebuilds by major version,
/// Fedora by number (older or newer ones get the nearest known); RHEL 9 when nothing is known.
pub fn release_for(target: &Target) -> &'static str {
    let major = target.version.as_deref().and_then(|v| v.split(['.', '-']).next()).and_then(|m| m.parse::<u32>().ok());
    let distro = target.distro.as_deref().unwrap_or("").to_ascii_lowercase();
    let rhel_like = ["rhel", "centos", "rocky", "almalinux", "alma", "ol", "oraclelinux", "redhat"].iter().any(|d| distro.starts_with(d));
    match (distro.as_str(), major) {
        ("fedora", Some(n)) => {
            let n = n.clamp(FEDORA.0, FEDORA.1);
            ["F40", "F41", "F42", "F43", "F44"][(n - FEDORA.0) as usize]
        }
        (_, Some(8)) if rhel_like => "RHEL8",
        (_, Some(9)) if rhel_like => "RHEL9",
        (_, Some(n)) if rhel_like && n >= 10 => "RHEL10",
        _ => DEFAULT_RELEASE,
    }
}

fn release_label(release: &str) -> String {
    match release.strip_prefix("RHEL") {
        Some(n) => format!("RHEL {n}"),
        None => format!("Fedora {}", release.trim_start_matches('F')),
    }
}

/// A word of a line, where it starts (column counting from 1, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    text: String,
    column: usize,
}

/// Split a line as the shell does (quotes, backslashes), dropping a `#` comment; each word keeps
/// the column it starts at. The second value is the column of a quote left open (the installer
/// refuses such a line).
fn words(line: &str) -> (Vec<Word>, Option<usize>) {
    let mut out = Vec::new();
    let mut cur: Option<Word> = None;
    let mut quote: Option<(char, usize)> = None;
    let mut chars = line.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        let col = i + 1;
        match quote.map(|(q, _)| q) {
            Some(q) if c == q => quote = None,
            // In double quotes a backslash escapes only a quote or a backslash.
            Some('"') if c == '\\' && matches!(chars.peek(), Some((_, '"' | '\\'))) => {
                if let Some((_, n)) = chars.next() {
                    cur.get_or_insert(Word { text: String::new(), column: col }).text.push(n);
                }
            }
            Some(_) => cur.get_or_insert(Word { text: String::new(), column: col }).text.push(c),
            None if c.is_whitespace() => out.extend(cur.take()),
            None if c == '#' => break,
            None if c == '\'' || c == '"' => {
                quote = Some((c, col));
                cur.get_or_insert(Word { text: String::new(), column: col });
            }
            None if c == '\\' => {
                if let Some((_, n)) = chars.next() {
                    cur.get_or_insert(Word { text: String::new(), column: col }).text.push(n);
                }
            }
            None => cur.get_or_insert(Word { text: String::new(), column: col }).text.push(c),
        }
    }
    out.extend(cur);
    (out, quote.map(|(_, col)| col))
}

struct Open {
    name: String,
    line: usize,
}

pub(super) fn lint(text: &str, target: &Target) -> LintReport {
    let release = release_for(target);
    let g = grammar();
    let rel = &g.versions[release];
    let label = release_label(release);
    let mut findings = Vec::new();
    let mut section: Option<Open> = None;
    let mut seen: HashMap<String, usize> = HashMap::new();
    // Each command used, by its grammar class (part and partition are one), with its first line.
    let mut used: HashMap<String, usize> = HashMap::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if let Some(open) = &section {
            if !trimmed.starts_with('%') {
                continue;
            }
            let first = trimmed.split_whitespace().next().unwrap_or("");
            if first == "%end" {
                section = None;
                continue;
            }
            if first == "%include" {
                // Read inside a section too: it needs its file.
                if trimmed.split_whitespace().nth(1).is_none() {
                    findings.push(include_without_file(n, line.len() - trimmed.len() + 1));
                }
                continue;
            }
            if !rel.sections.contains_key(first) {
                // A line of the script that happens to start with %.
                continue;
            }
            // A new section before this one's %end: Anaconda stops here.
            findings.push(unterminated(open, n));
            section = None;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (ws, open_quote) = words(line);
        if let Some(col) = open_quote {
            findings.push(Finding::new(
                n,
                col,
                Severity::Error,
                C::UnclosedQuote,
                "A quote opened here is not closed on the line: the installer cannot read it.".into(),
                "Close the quote, or escape it with a backslash.",
            ));
            continue;
        }
        let Some(first) = ws.first() else { continue };
        let name = first.text.as_str();
        match name {
            "%include" => {
                if ws.len() < 2 {
                    findings.push(include_without_file(n, first.column));
                }
                continue;
            }
            "%ksappend" => continue,
            "%end" => {
                findings.push(Finding::new(
                    n,
                    first.column,
                    Severity::Error,
                    C::StrayEnd,
                    "%end closes no section here.".into(),
                    "Remove this %end, or add the section header (%packages, %post…) it was meant to close.",
                ));
                continue;
            }
            _ => {}
        }
        if let Some(header) = name.strip_prefix('%') {
            match rel.sections.get(name) {
                None => {
                    let known = suggest(name, rel.sections.keys().map(String::as_str));
                    findings.push(Finding::new(
                        n,
                        first.column,
                        Severity::Error,
                        C::UnknownSection,
                        format!("Unknown kickstart section {name} (for {label})."),
                        did_you_mean(
                            name,
                            known,
                            "Use a section Anaconda knows: %packages, %pre, %pre-install, %post, %onerror, %addon, each closed by %end.",
                        ),
                    ));
                }
                Some(Some(opts)) => {
                    check_options(&ws[1..], opts, n, &format!("section %{header}"), &mut findings);
                }
                Some(None) => {}
            }
            section = Some(Open { name: name.to_string(), line: n });
            continue;
        }
        command(&ws, rel, g, &label, n, Seen { by_name: &mut seen, by_class: &mut used }, &mut findings);
    }
    if let Some(open) = &section {
        findings.push(unterminated(open, lines.len().max(1)));
    }
    LintReport { checked_as: format!("kickstart ({label})"), findings }
}

fn include_without_file(n: usize, column: usize) -> Finding {
    Finding::new(
        n,
        column,
        Severity::Error,
        C::MissingArgument,
        "%include names no file to include.".into(),
        "Give the file to include: %include /tmp/part-include (often written by a %pre script).",
    )
}

fn unterminated(open: &Open, at: usize) -> Finding {
    Finding::new(
        at,
        1,
        Severity::Error,
        C::UnterminatedSection,
        format!("Section {} (line {}) does not end with %end.", open.name, open.line),
        format!("Add a line %end after the last line of the {} section.", open.name),
    )
}

/// What the commands before this line left: single-use commands by name and every command by its
/// grammar class, each with the line it was first given on.
struct Seen<'a> {
    by_name: &'a mut HashMap<String, usize>,
    by_class: &'a mut HashMap<String, usize>,
}

fn command(ws: &[Word], rel: &Release, g: &Grammar, label: &str, n: usize, seen: Seen<'_>, findings: &mut Vec<Finding>) {
    let Seen { by_name: seen, by_class: used } = seen;
    let first = &ws[0];
    let name = first.text.as_str();
    let class_name = rel.commands.get(name).map(String::as_str).unwrap_or("");
    let Some(class) = rel.commands.get(name).map(|c| &g.classes[c]) else {
        let known = suggest(name, rel.commands.keys().map(String::as_str));
        findings.push(Finding::new(
            n,
            first.column,
            Severity::Error,
            C::UnknownCommand,
            format!("Unknown command {name} (for {label})."),
            did_you_mean(
                name,
                known,
                "Remove the line, or use a command the target release knows (see the Anaconda kickstart documentation).",
            ),
        ));
        return;
    };
    match class.state {
        State::Removed => {
            findings.push(Finding::new(
                n,
                first.column,
                Severity::Error,
                C::RemovedCommand,
                format!("{name} has been removed from kickstart in {label}: the installer stops on it."),
                format!("Remove the {name} line{}.", replacement(name).map(|r| format!(" ({r})")).unwrap_or_default()),
            ));
            return;
        }
        State::Deprecated => {
            findings.push(Finding::new(
                n,
                first.column,
                Severity::Error,
                C::DeprecatedCommand,
                format!("{name} is deprecated in {label} and has no effect any more; a later release refuses it."),
                format!("Remove the {name} line{}.", replacement(name).map(|r| format!(" ({r})")).unwrap_or_default()),
            ));
            return;
        }
        State::Ok => {}
    }
    // Two ways to say the same thing (autopart and part, mount and logvol…): the installer refuses
    // the second.
    if let Some((other, at)) = class.conflicts.iter().find_map(|o| rel.commands.get(o).and_then(|c| used.get(c)).map(|at| (o, *at))) {
        findings.push(Finding::new(
            n,
            first.column,
            Severity::Error,
            C::ConflictingCommand,
            format!("{name} cannot be used together with {other} (line {at})."),
            format!("Keep one of them: remove the {name} line or the {other} line."),
        ));
    }
    used.entry(class_name.to_string()).or_insert(n);
    // authconfig lives on in RHEL 8 and 9 only as a translation to authselect, and says so.
    if class_name == "F28_Authconfig" {
        findings.push(Finding::new(
            n,
            first.column,
            Severity::Error,
            C::DeprecatedCommand,
            format!("{name} (authconfig) is deprecated in {label}: authselect replaced it."),
            "Use authselect instead, e.g. authselect select sssd --force.",
        ));
    }
    if !class.multi {
        match seen.get(name) {
            Some(first_line) => findings.push(Finding::new(
                n,
                first.column,
                Severity::Warning,
                C::DuplicateCommand,
                format!("{name} is given a second time (first on line {first_line}); only this last one counts."),
                format!("Keep one {name} line with the settings you want."),
            )),
            None => {
                seen.insert(name.to_string(), n);
            }
        }
    }
    // These read their line themselves (authconfig's and authselect's own options, realm's
    // getopt): their words are not kickstart options to check.
    if !FREE_FORM.contains(&name) {
        let given = check_options(&ws[1..], &class.opts, n, name, findings);
        let missing = if given < class.positional {
            Some(format!("{name} needs {} more word(s) after it ({} given)", class.positional - given, given))
        } else if class.needs_words && ws.len() == 1 {
            Some(format!("{name} needs a value or an option after it"))
        } else {
            None
        };
        if let Some(what) = missing {
            findings.push(Finding::new(
                n,
                first.column,
                Severity::Error,
                C::MissingArgument,
                format!("{what}: the installer stops on this line."),
                match name {
                    "lang" => "Name the language: lang en_US.UTF-8".to_string(),
                    "part" | "partition" | "logvol" | "raid" => format!("Give the mount point first: {name} /boot …"),
                    "keyboard" => "Name the layout: keyboard --xlayouts=us".to_string(),
                    "timezone" => "Name the time zone: timezone Europe/Berlin --utc".to_string(),
                    _ => format!("Complete the {name} line (see the kickstart documentation)."),
                },
            ));
        }
    }
    for w in &ws[1..] {
        // Warned about only when written out in full, as the installer checks it.
        let option = w.text.split('=').next().unwrap_or(&w.text);
        if let Some((_, _, fix)) = WARNED.iter().find(|(c, o, _)| *c == class_name && *o == option) {
            findings.push(Finding::new(
                n,
                w.column,
                Severity::Error,
                C::DeprecatedOption,
                format!("{name}: the option {option} is deprecated in {label}."),
                fix.to_string(),
            ));
        }
    }
    for req in &class.opts.required {
        let given = ws[1..].iter().any(|w| resolve(&w.text, &class.opts.options) == Some(req.as_str()));
        if !given {
            findings.push(Finding::new(
                n,
                first.column,
                Severity::Error,
                C::MissingOption,
                format!("{name} needs the option {req}."),
                format!("Add {req}=… to the {name} line."),
            ));
        }
    }
    plaintext(name, ws, &class.opts.options, n, findings);
}

/// Commands whose words the installer hands on as they are (to authconfig, authselect, realm).
const FREE_FORM: &[&str] = &["auth", "authconfig", "authselect", "realm"];

/// Options a release still reads but warns about (in the command's code rather than its option
/// table): the command's grammar class, the option, and what replaces it.
const WARNED: &[(&str, &str, &str)] = &[
    ("F32_Timezone", "--isUtc", "Write --utc instead of --isUtc."),
    ("F33_Timezone", "--isUtc", "Write --utc instead of --isUtc."),
    ("F33_Timezone", "--ntpservers", "Use one timesource --ntp-server=HOST line per server instead."),
    ("F33_Timezone", "--nontp", "Use timesource --ntp-disable instead."),
];

/// What the removed or deprecated command's job went to, where that is well known.
fn replacement(name: &str) -> Option<&'static str> {
    Some(match name {
        "install" | "upgrade" => "installation is the default; an upgrade is done with Leapp or dnf system-upgrade",
        "auth" | "authconfig" => "use authselect",
        "btrfs" => "RHEL does not support Btrfs; use part, logvol or stratis",
        "method" => "use url, cdrom, harddrive, nfs or liveimg",
        "device" | "deviceprobe" => "drivers are loaded automatically; use a driver disk for others",
        "dmraid" | "multipath" => "devices are found automatically",
        "autostep" => "it no longer does anything",
        _ => return None,
    })
}

/// An option word (`--utc`, `--bootproto=dhcp`) resolved to the option it names: exact, or a
/// unique prefix of one (as argparse, and so Anaconda, accepts).
fn resolve<'a>(word: &str, options: &'a [String]) -> Option<&'a str> {
    let key = word.split('=').next().unwrap_or(word);
    if let Some(o) = options.iter().find(|o| *o == key) {
        return Some(o);
    }
    if !key.starts_with("--") || key.len() < 3 {
        return None;
    }
    let mut matches = options.iter().filter(|o| o.starts_with(key));
    match (matches.next(), matches.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// Check the options among `args`; the number of other words (arguments) is returned.
fn check_options(args: &[Word], opts: &Opts, n: usize, what: &str, findings: &mut Vec<Finding>) -> usize {
    let Opts { options, valued, deprecated, .. } = opts;
    let mut positional = 0;
    let mut i = 0;
    while i < args.len() {
        let w = &args[i];
        i += 1;
        if !w.text.starts_with('-') || w.text == "-" || w.text.parse::<f64>().is_ok() {
            positional += 1;
            continue;
        }
        let key = w.text.split('=').next().unwrap_or(&w.text);
        let Some(option) = resolve(&w.text, options) else {
            let known = suggest(key, options.iter().map(String::as_str));
            findings.push(Finding::new(
                n,
                w.column,
                Severity::Error,
                C::UnknownOption,
                format!("{what} has no option {key}."),
                did_you_mean(key, known, &format!("Remove {key}, or use an option {what} knows.")),
            ));
            continue;
        };
        let has_inline = w.text.contains('=');
        if valued.iter().any(|v| v == option) {
            if !has_inline {
                // The value is the next word, unless that is another option or there is none.
                match args.get(i) {
                    Some(next) if !next.text.starts_with("--") => i += 1,
                    _ => findings.push(Finding::new(
                        n,
                        w.column,
                        Severity::Error,
                        C::MissingValue,
                        format!("{what}: the option {option} needs a value."),
                        format!("Give it one: {option}=VALUE."),
                    )),
                }
            }
        } else if has_inline {
            findings.push(Finding::new(
                n,
                w.column,
                Severity::Error,
                C::UnexpectedValue,
                format!("{what}: the option {option} takes no value."),
                format!("Write {option} alone, without =…"),
            ));
        }
        if deprecated.iter().any(|d| d == option) {
            findings.push(Finding::new(
                n,
                w.column,
                Severity::Error,
                C::DeprecatedOption,
                format!("{what}: the option {option} is deprecated and has no effect any more."),
                format!("Remove {option}."),
            ));
        }
    }
    positional
}

/// Passwords written in the clear: anyone who can read the answer file (or the export, or the
/// install server) can read them.
fn plaintext(name: &str, ws: &[Word], options: &[String], n: usize, findings: &mut Vec<Finding>) {
    let has = |o: &str| ws[1..].iter().any(|w| resolve(&w.text, options) == Some(o));
    let (clear, column) = match name {
        "rootpw" => (!has("--iscrypted") && !has("--lock"), ws.get(1).map_or(ws[0].column, |w| w.column)),
        "user" | "sshpw" | "bootloader" => {
            let pw = ws[1..].iter().find(|w| resolve(&w.text, options) == Some("--password"));
            match pw {
                Some(w) => (!has("--iscrypted"), w.column),
                None if name == "sshpw" => (!has("--iscrypted") && !has("--lock"), ws[0].column),
                None => (false, 0),
            }
        }
        _ => (false, 0),
    };
    if clear {
        findings.push(Finding::new(
            n,
            column,
            Severity::Warning,
            C::PlaintextPassword,
            format!("{name} gives a password in plain text."),
            match name {
                "bootloader" => "Use a hashed password: --iscrypted --password=$(grub2-mkpasswd-pbkdf2 output).".to_string(),
                _ => "Use a hashed password with --iscrypted (make one with openssl passwd -6), or --lock the account.".to_string(),
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<(u32, &'static str)> {
        let r = lint(text, &Target::default());
        r.findings.iter().map(|f| (f.line, f.code.as_str())).collect()
    }

    #[test]
    fn words_are_split_as_the_shell_splits_them_and_keep_their_columns() {
        let (w, open) = words(r#"network --bootproto=dhcp --hostname "web 01" --x="a\b" # a comment"#);
        assert_eq!(open, None);
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["network", "--bootproto=dhcp", "--hostname", "web 01", "--x=a\\b"]);
        assert_eq!(words("lang 'en_US").1, Some(6));
        assert_eq!(w[3].column, 37);
    }

    #[test]
    fn the_release_follows_the_target_os() {
        let t = |d: &str, v: &str| release_for(&Target { distro: Some(d.into()), version: Some(v.into()), arch: None });
        assert_eq!(
            (t("rhel", "8.10"), t("rocky", "9.4"), t("rhel", "10.0"), t("fedora", "42"), t("fedora", "31")),
            ("RHEL8", "RHEL9", "RHEL10", "F42", "F40")
        );
        assert_eq!(release_for(&Target::default()), "RHEL9");
    }

    #[test]
    fn a_clean_file_has_no_findings_and_each_mistake_is_named_on_its_line() {
        let clean = "lang en_US.UTF-8\nkeyboard us\ntimezone UTC --utc\nrootpw --iscrypted $6$x$y\n%packages\n@core\n%end\n%post --log=/root/post.log\necho %done\n%end\n";
        assert_eq!(codes(clean), []);
        assert_eq!(codes("langg en_US\n"), [(1, "unknown_command")]);
        assert_eq!(codes("lang en_US\ninstall\n"), [(2, "removed_command")]);
        assert_eq!(codes("timezone UTC --utcc\n"), [(1, "unknown_option")]);
        assert_eq!(codes("lang en_US\n%packages\n@core\n"), [(3, "unterminated_section")]);
        assert_eq!(codes("%pre\necho\n%packages\n@core\n%end\n"), [(3, "unterminated_section")]);
        assert_eq!(codes("lang en_US\nlang de_DE\n"), [(2, "duplicate_command")]);
        assert_eq!(codes("rootpw secret\n"), [(1, "plaintext_password")]);
        assert_eq!(codes("%foo\nx\n%end\n"), [(1, "unknown_section")]);
        assert_eq!(codes("network --bootproto\n"), [(1, "missing_value")]);
        assert_eq!(codes("authselect select sssd --force\nrealm join --one-time-password=x ad.example.org\n"), []);
        assert_eq!(codes("lang 'en_US\n"), [(1, "unclosed_quote")]);
        assert_eq!(codes("autopart\npartition / --size=1000\n"), [(2, "conflicting_command")]);
        assert_eq!(codes("part / --size=1000\nautopart\n"), [(2, "conflicting_command")]);
        assert_eq!(
            codes("lang\nkeyboard\npart --size=100\nrootpw --lock\n"),
            [(1, "missing_argument"), (2, "missing_argument"), (3, "missing_argument")]
        );
        assert_eq!(codes("%post\n%include\n%end\n"), [(2, "missing_argument")]);
    }
}
