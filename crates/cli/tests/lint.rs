//! Answer-file lint through the CLI: kickstart compared with pykickstart's ksvalidator (the parser
//! Anaconda uses) over a corpus of valid and broken files for several releases, AutoYaST and
//! unattend.xml findings on their lines, lint on imported artifacts, and export stopped by lint
//! errors unless overridden with a reason that profile.json records.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kickstart")
}

/// pykickstart's ksvalidator: `make test` builds it into target/ks-venv (scripts/lint/ks-venv.sh)
/// and names it in KSVALIDATOR.
fn ksvalidator() -> PathBuf {
    let path = std::env::var_os("KSVALIDATOR").map(PathBuf::from).unwrap_or_else(|| fixtures().join("../ks-venv/bin/ksvalidator"));
    assert!(path.is_file(), "ksvalidator is missing at {} (scripts/lint/ks-venv.sh makes it)", path.display());
    path
}

/// What ksvalidator says of a file: whether it has errors, and the line of the first problem when
/// it names one ("on line 3", "from line 3").
fn oracle(file: &Path, release: &str) -> (bool, Option<u32>) {
    let out = Command::new(ksvalidator()).args(["-v", release]).arg(file).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let line = regex_line(&text);
    (!out.status.success(), line)
}

fn regex_line(text: &str) -> Option<u32> {
    for marker in ["on line ", "from line "] {
        if let Some(at) = text.find(marker) {
            let digits: String = text[at + marker.len()..].chars().take_while(char::is_ascii_digit).collect();
            return digits.parse().ok();
        }
    }
    None
}

fn lint(repo: &Repo, file: &Path, args: &[&str]) -> (i32, Value) {
    let mut all: Vec<std::ffi::OsString> = vec!["lint".into(), file.as_os_str().to_owned()];
    all.extend(args.iter().map(|a| a.into()));
    repo.json(all)
}

#[test]
fn kickstart_lint_agrees_with_ksvalidator_on_which_files_have_errors_and_where_the_first_is() {
    let repo = Repo::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus is there: {files:?}");
    let mut compared = 0;
    let mut with_errors = 0;
    for file in &files {
        for (os, release) in [("rhel9.6", "RHEL9"), ("rhel-8.10", "RHEL8"), ("rhel10.0", "RHEL10"), ("fedora42", "F42")] {
            let (code, report) = lint(&repo, file, &["--os", os]);
            let findings = report["findings"].as_array().unwrap_or_else(|| panic!("{report:#}"));
            let errors: Vec<&Value> = findings.iter().filter(|f| f["severity"] == "error").collect();
            let (oracle_errors, oracle_line) = oracle(file, release);
            let name = file.file_name().unwrap().to_string_lossy();
            assert_eq!(
                !errors.is_empty(),
                oracle_errors,
                "{name} for {release}: ksvalidator says errors = {oracle_errors}; lint: {report:#}"
            );
            assert_eq!(code, i32::from(oracle_errors), "{name} for {release}: the exit status says whether there are errors");
            if let (Some(line), Some(first)) = (oracle_line, errors.first()) {
                assert_eq!(first["line"], line, "{name} for {release}: the first error is on ksvalidator's line: {report:#}");
            }
            compared += 1;
            with_errors += usize::from(oracle_errors);
            for f in findings {
                for key in ["line", "column", "severity", "code", "message", "fix"] {
                    assert!(!f[key].is_null() && f[key] != "", "{name}: every finding has its {key}: {f:#}");
                }
            }
        }
    }
    assert!(with_errors > 20 && compared - with_errors > 5, "the corpus has both: {with_errors} of {compared} with errors");
}

#[test]
fn kickstart_findings_name_the_fix_warnings_alone_exit_zero_and_the_release_comes_from_the_image() {
    let repo = Repo::new();
    let (code, report) = lint(&repo, &corpus().join("misspelt-command.ks"), &[]);
    assert_eq!(code, 1, "{report:#}");
    let f = &report["findings"][0];
    assert_eq!((&f["line"], &f["column"], &f["code"]), (&Value::from(2), &Value::from(1), &Value::from("unknown_command")), "{report:#}");
    assert!(f["fix"].as_str().unwrap().contains("keyboard"), "a misspelling gets its correction: {f:#}");
    assert_eq!(report["checked_as"], "kickstart (RHEL 9)", "RHEL 9 syntax when no OS is named");

    let (code, report) = lint(&repo, &corpus().join("duplicate-and-plaintext.ks"), &[]);
    assert_eq!(code, 0, "warnings alone pass: {report:#}");
    let codes: Vec<(&Value, &Value)> = report["findings"].as_array().unwrap().iter().map(|f| (&f["line"], &f["code"])).collect();
    assert_eq!(
        codes,
        [
            (&Value::from(2), &Value::from("duplicate_command")),
            (&Value::from(4), &Value::from("plaintext_password")),
            (&Value::from(5), &Value::from("plaintext_password"))
        ],
        "{report:#}"
    );

    // Named by its image: the RHEL 9.6 DVD in the library makes it RHEL 9 syntax, where `timesource`
    // exists (RHEL 8 has none).
    let (code, report) = repo.import(&[], &[fixture("rhel-9.6-x86_64-dvd.iso")]);
    assert_eq!(code, 0, "{report:#}");
    let (code, report) = lint(&repo, &corpus().join("rhel9-server.ks"), &["--image", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!((code, report["findings"].as_array().map(Vec::len)), (0, Some(0)), "{report:#}");
    let (code, report) = lint(&repo, &corpus().join("rhel9-server.ks"), &["--os", "rhel8"]);
    assert_eq!((code, &report["findings"][0]["code"]), (1, &Value::from("unknown_command")), "{report:#}");

    // No repository is needed to lint a file by itself.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imagesmith-cli"))
        .args(["--home", "/nonexistent/imagesmith-repo", "lint", "--json"])
        .arg(corpus().join("misspelt-command.ks"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["findings"][0]["code"], "unknown_command", "{r:#}");

    // Not an answer file at all.
    let (code, e) = lint(&repo, &fixture("ipxe.iso"), &[]);
    assert_eq!((code, &e["error"]["code"]), (1, &Value::from("invalid_argument")), "{e:#}");
}

#[test]
fn unattend_and_autoyast_findings_are_on_their_lines_and_imported_answer_files_carry_theirs() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    let unattend = dir.path().join("autounattend.xml");
    std::fs::write(
        &unattend,
        r#"<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="windowsPE">
    <component name="Microsoft-Windows-Setup" processorArchitecture="x86" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <ImageInstall><OSImage><InstallFrom><MetaData><Key>/IMAGE/INDEX</Key><Value>2</Value></MetaData></InstallFrom></OSImage></ImageInstall>
    </component>
  </settings>
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <UserAccounts><AdministratorPassword><Value>P@ssw0rd</Value><PlainText>true</PlainText></AdministratorPassword></UserAccounts>
    </component>
  </settings>
</unattend>
"#,
    )
    .unwrap();
    // The Windows Server 2022 media in the library is amd64: the x86 Setup component is skipped.
    let (code, report) = repo.import(&[], &[fixture("win-server-2022.iso")]);
    assert_eq!(code, 0, "{report:#}");
    let (code, report) = lint(&repo, &unattend, &["--image", "win-server-2022.iso"]);
    assert_eq!(code, 1, "{report:#}");
    let got: Vec<(&Value, &Value)> = report["findings"].as_array().unwrap().iter().map(|f| (&f["line"], &f["code"])).collect();
    assert_eq!(
        got,
        [(&Value::from(4), &Value::from("architecture_mismatch")), (&Value::from(10), &Value::from("plaintext_password"))],
        "{report:#}"
    );

    // An & written bare: Setup ignores the whole file; lint says where.
    let broken = dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\n  <settings pass=\"specialize\">R&D</settings>\n</unattend>\n",
    )
    .unwrap();
    let (code, report) = lint(&repo, &broken, &[]);
    assert_eq!(
        (code, &report["findings"][0]["code"], &report["findings"][0]["line"]),
        (1, &Value::from("invalid_xml"), &Value::from(2)),
        "{report:#}"
    );

    let autoyast = dir.path().join("autoinst.xml");
    std::fs::write(
        &autoyast,
        "<?xml version=\"1.0\"?>\n<profile xmlns=\"http://www.suse.com/1.0/yast2ns\" xmlns:config=\"http://www.suse.com/1.0/configns\">\n  <general><mode><confirm>false</confirm></mode></general>\n</profile>\n",
    )
    .unwrap();
    let (code, report) = lint(&repo, &autoyast, &[]);
    assert_eq!(
        (code, &report["findings"][0]["code"], &report["findings"][0]["line"]),
        (1, &Value::from("untyped_boolean"), &Value::from(3)),
        "{report:#}"
    );

    // Imported, an answer file shows its lint in `show` (and in the import report).
    let ks = dir.path().join("web.ks");
    std::fs::copy(corpus().join("duplicate-and-plaintext.ks"), &ks).unwrap();
    let (code, report) = repo.import(&["--os", "rhel"], &[ks]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item(&report, "web.ks")["artifact"]["lint"][0]["code"], "duplicate_command", "{report:#}");
    let (_, a) = repo.json(["show", "web.ks"]);
    assert_eq!(a["lint"].as_array().map(Vec::len), Some(3), "{a:#}");
    let (_, iso) = repo.json(["show", "win-server-2022.iso"]);
    assert_eq!(iso["lint"], Value::Null, "only answer files are linted");
}

#[test]
fn an_export_with_lint_errors_is_stopped_unless_overridden_with_a_reason_that_profile_json_records() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("broken.ks");
    std::fs::copy(corpus().join("misspelt-command.ks"), &ks).unwrap();
    let (code, report) = repo.import(&["--os", "rhel"], &[fixture("rhel-9.6-x86_64-dvd.iso"), ks]);
    assert_eq!(code, 0, "{report:#}");
    for args in [&["profile", "create", "web", "--os-image", "rhel-9.6-x86_64-dvd.iso"][..], &["profile", "add", "web", "broken.ks"][..]] {
        let (code, out) = repo.json(args);
        assert_eq!(code, 0, "{args:?}: {out:#}");
    }
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let to = out_dir.to_str().unwrap();
    let (code, e) = repo.json(["profile", "export", "web", "--to", to]);
    assert_eq!((code, &e["error"]["code"]), (1, &Value::from("lint_errors")), "{e:#}");
    assert!(e["error"]["text"].as_str().unwrap().contains("broken.ks line 2"), "{e:#}");
    assert!(e["error"]["recovery"].as_str().unwrap().contains("--override-lint"), "{e:#}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "nothing is written when the export is stopped");

    let (code, r) = repo.json(["profile", "export", "web", "--to", to, "--override-lint", "keybaord is fixed by the %pre script"]);
    assert_eq!(code, 0, "{r:#}");
    let archive = PathBuf::from(r["file"].as_str().unwrap());
    let listing = Command::new("tar").arg("-xzOf").arg(&archive).arg("profile.json").output().unwrap();
    let manifest: Value = serde_json::from_slice(&listing.stdout).unwrap();
    let o = &manifest["lint_override"];
    assert_eq!(o["reason"], "keybaord is fixed by the %pre script", "{manifest:#}");
    assert_eq!(
        (&o["errors"][0]["file"], &o["errors"][0]["line"], &o["errors"][0]["code"]),
        (&Value::from("broken.ks"), &Value::from(2), &Value::from("unknown_command")),
        "{manifest:#}"
    );
}
