//! Windows unattend.xml lint: configuration passes and the components each may hold, components
//! built for another processor architecture than the image's (Setup skips them silently), a
//! windowsPE pass that installs without choosing the image (Setup stops to ask), and passwords
//! written with `<PlainText>true</PlainText>`.

use super::{did_you_mean, pos, suggest, Finding, LintCode as C, LintReport, Severity, Target};

const NS: &str = "urn:schemas-microsoft-com:unattend";

const PASSES: &[&str] = &["windowsPE", "offlineServicing", "generalize", "specialize", "auditSystem", "auditUser", "oobeSystem"];

/// Components an answer file commonly sets, and the passes each is valid in (Microsoft's Unattended
/// Windows Setup Reference).
const COMPONENTS: &[(&str, &[&str])] = &[
    ("Microsoft-Windows-Setup", &["windowsPE"]),
    ("Microsoft-Windows-International-Core-WinPE", &["windowsPE"]),
    ("Microsoft-Windows-PnpCustomizationsWinPE", &["windowsPE"]),
    ("Microsoft-Windows-PnpCustomizationsNonWinPE", &["offlineServicing", "auditSystem"]),
    ("Microsoft-Windows-International-Core", &["specialize", "oobeSystem"]),
    ("Microsoft-Windows-Shell-Setup", &["offlineServicing", "generalize", "specialize", "auditSystem", "auditUser", "oobeSystem"]),
    ("Microsoft-Windows-Deployment", &["offlineServicing", "generalize", "specialize", "auditSystem", "auditUser", "oobeSystem"]),
    ("Microsoft-Windows-UnattendedJoin", &["specialize"]),
    ("Microsoft-Windows-TCPIP", &["windowsPE", "specialize"]),
    ("Microsoft-Windows-DNS-Client", &["specialize"]),
    ("Microsoft-Windows-NetBT", &["specialize"]),
    ("Microsoft-Windows-TerminalServices-LocalSessionManager", &["offlineServicing", "generalize", "specialize"]),
    ("Microsoft-Windows-TerminalServices-RDP-WinStationExtensions", &["generalize", "specialize"]),
    ("Networking-MPSSVC-Svc", &["specialize"]),
    ("Microsoft-Windows-Security-SPP", &["generalize", "specialize"]),
    ("Microsoft-Windows-Security-SPP-UX", &["specialize"]),
    ("Microsoft-Windows-IE-ESC", &["specialize"]),
    ("Microsoft-Windows-IE-InternetExplorer", &["specialize"]),
    ("Microsoft-Windows-ServerManager-SvrMgrNc", &["specialize"]),
    ("Microsoft-Windows-OutOfBoxExperience", &["oobeSystem"]),
    ("Microsoft-Windows-SystemRestore-Main", &["specialize"]),
    ("Microsoft-Windows-ErrorReportingCore", &["specialize"]),
    ("Microsoft-Windows-Sidebar", &["specialize"]),
    ("Microsoft-Windows-SQMApi", &["specialize"]),
    ("Microsoft-Windows-Embedded-BootExp", &["specialize", "oobeSystem"]),
    ("Microsoft-Windows-CodeIntegrity", &["offlineServicing", "specialize"]),
    ("Microsoft-Windows-LUA-Settings", &["offlineServicing"]),
    ("Microsoft-Windows-Printing-Spooler-Core", &["specialize"]),
    ("Microsoft-Windows-Lsa", &["offlineServicing", "specialize"]),
    ("Microsoft-Windows-Firewall-Core", &["specialize"]),
    ("Microsoft-Windows-Web-Services-for-Management-Core", &["specialize"]),
    ("Microsoft-Windows-HelpAndSupport", &["specialize"]),
    ("Microsoft-Windows-MapControl-Desktop", &["specialize"]),
    ("Microsoft-Windows-Deployment-Services-Client", &["windowsPE"]),
    ("Microsoft-Windows-Setup-ConfigureNetwork", &["windowsPE"]),
];

const ARCHES: &[&str] = &["x86", "amd64", "arm64", "arm", "ia64", "wow64"];

/// The unattend name of an image's architecture (x86_64 → amd64).
fn windows_arch(arch: &str) -> Option<&'static str> {
    Some(match arch.to_ascii_lowercase().as_str() {
        "x86_64" | "amd64" | "x64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "i386" | "i686" | "x86" => "x86",
        _ => return None,
    })
}

/// A file that is not well-formed XML: Setup ignores it whole.
pub(super) fn xml_error(text: &str, error: &str) -> Finding {
    // roxmltree says "… at 12:5": take the place it names.
    let place = error.rsplit(" at ").next().and_then(|p| {
        let (l, c) = p.split_once(':')?;
        Some((l.trim().parse::<usize>().ok()?, c.trim().parse::<usize>().ok()?))
    });
    let (line, column) = place.unwrap_or((text.lines().count().max(1), 1));
    Finding::new(
        line,
        column,
        Severity::Error,
        C::InvalidXml,
        format!("The file is not well-formed XML ({error}): the installer ignores all of it."),
        "Fix the XML at this place: an & must be written &amp;, a < in text &lt;, every element closed.",
    )
}

pub(super) fn lint(text: &str, target: &Target) -> LintReport {
    let want = target.arch.as_deref().and_then(windows_arch);
    let checked_as = match want {
        Some(a) => format!("unattend.xml ({a})"),
        None => "unattend.xml".to_string(),
    };
    let mut findings = Vec::new();
    let doc = match crate::detect::parse_xml(text) {
        Ok(d) => d,
        Err(e) => {
            findings.push(xml_error(text, &e));
            return LintReport { checked_as, findings };
        }
    };
    let root = doc.root_element();
    if !root.has_tag_name((NS, "unattend")) {
        let (l, c) = pos(&doc, root);
        findings.push(Finding::new(
            l,
            c,
            Severity::Error,
            C::WrongRoot,
            format!("The root element is <{}>; Windows Setup reads <unattend xmlns=\"{NS}\">.", root.tag_name().name()),
            format!("Start the file with <unattend xmlns=\"{NS}\">."),
        ));
        return LintReport { checked_as, findings };
    }
    let mut seen_passes: Vec<(&str, usize)> = Vec::new();
    for settings in root.children().filter(|c| c.has_tag_name((NS, "settings"))) {
        let (l, c) = pos(&doc, settings);
        let pass = settings.attribute("pass").unwrap_or("");
        if !PASSES.contains(&pass) {
            findings.push(Finding::new(
                l,
                c,
                Severity::Error,
                C::UnknownPass,
                format!("\"{pass}\" is not a configuration pass: Setup ignores these settings."),
                did_you_mean(pass, suggest(pass, PASSES.iter().copied()), &format!("Use one of: {}.", PASSES.join(", "))),
            ));
            continue;
        }
        if let Some((_, first)) = seen_passes.iter().find(|(p, _)| *p == pass) {
            findings.push(Finding::new(
                l,
                c,
                Severity::Warning,
                C::DuplicatePass,
                format!("The {pass} pass appears a second time (first on line {first})."),
                "Merge the components into one <settings> element for the pass.",
            ));
        } else {
            seen_passes.push((pass, l));
        }
        for component in settings.children().filter(|c| c.has_tag_name((NS, "component"))) {
            component_findings(&doc, component, pass, want, &mut findings);
        }
        if pass == "windowsPE" {
            image_selection(&doc, settings, want, &mut findings);
        }
    }
    for node in root.descendants().filter(|n| n.has_tag_name((NS, "PlainText"))) {
        if node.text().is_some_and(|t| t.trim().eq_ignore_ascii_case("true")) {
            let (l, c) = pos(&doc, node);
            let what = node.parent().map(|p| p.tag_name().name()).unwrap_or("Password");
            findings.push(Finding::new(
                l,
                c,
                Severity::Warning,
                C::PlaintextPassword,
                format!("A password ({what}) is written in plain text."),
                "Hide it the way Windows System Image Manager does (the value base64-encoded with its element name appended, <PlainText>false</PlainText>), or set it after install.",
            ));
        }
    }
    LintReport { checked_as, findings }
}

fn component_findings(
    doc: &roxmltree::Document<'_>,
    component: roxmltree::Node<'_, '_>,
    pass: &str,
    want: Option<&str>,
    findings: &mut Vec<Finding>,
) {
    let (l, c) = pos(doc, component);
    let name = component.attribute("name").unwrap_or("");
    match COMPONENTS.iter().find(|(n, _)| *n == name) {
        None => findings.push(Finding::new(
            l,
            c,
            Severity::Warning,
            C::UnknownComponent,
            format!("{name} is not a component this linter knows; check its spelling."),
            did_you_mean(
                name,
                suggest(name, COMPONENTS.iter().map(|(n, _)| *n)),
                "Compare the name with Windows System Image Manager's list for this image.",
            ),
        )),
        Some((_, passes)) if !passes.contains(&pass) => findings.push(Finding::new(
            l,
            c,
            Severity::Error,
            C::WrongPass,
            format!("{name} is not applied in the {pass} pass: Setup ignores it there."),
            format!("Move it to the {} pass.", passes.join(" or ")),
        )),
        Some(_) => {}
    }
    let arch = component.attribute("processorArchitecture").unwrap_or("");
    if !ARCHES.contains(&arch) {
        findings.push(Finding::new(
            l,
            c,
            Severity::Error,
            C::InvalidValue,
            format!("{name} has processorArchitecture=\"{arch}\", which Windows does not know."),
            "Use amd64, x86 or arm64 (the image's architecture).",
        ));
    } else if let Some(want) = want.filter(|w| *w != arch && arch != "wow64" && !has_twin(component, name, w)) {
        findings.push(Finding::new(
            l,
            c,
            Severity::Error,
            C::ArchitectureMismatch,
            format!("{name} is for {arch}, but the image is {want}: Setup skips the component, and its settings with it."),
            format!("Set processorArchitecture=\"{want}\" on the component."),
        ));
    }
}

/// Answer files made for two architectures carry each component twice; Setup applies the one for
/// its own. Is there a copy of `name` for `arch` in the same pass?
fn has_twin(component: roxmltree::Node<'_, '_>, name: &str, arch: &str) -> bool {
    component.parent().is_some_and(|settings| {
        settings.children().any(|c| {
            c.has_tag_name((NS, "component")) && c.attribute("name") == Some(name) && c.attribute("processorArchitecture") == Some(arch)
        })
    })
}

/// Setup needs to know which image of install.wim to apply: without `ImageInstall/OSImage` it
/// asks, and an unattended install waits at that screen.
fn image_selection(doc: &roxmltree::Document<'_>, settings: roxmltree::Node<'_, '_>, want: Option<&str>, findings: &mut Vec<Finding>) {
    let setups: Vec<roxmltree::Node<'_, '_>> = settings
        .children()
        .filter(|c| c.has_tag_name((NS, "component")) && c.attribute("name") == Some("Microsoft-Windows-Setup"))
        .collect();
    // The copy Setup applies: the one for the image's architecture, when there is one.
    let Some(setup) = setups.iter().find(|c| want.is_some() && c.attribute("processorArchitecture") == want).or(setups.first()).copied()
    else {
        return;
    };
    let os_image = setup
        .children()
        .find(|c| c.has_tag_name((NS, "ImageInstall")))
        .and_then(|i| i.children().find(|c| c.has_tag_name((NS, "OSImage"))));
    let chosen = os_image.is_some_and(|o| {
        o.children().any(|c| c.has_tag_name((NS, "InstallFrom")) && c.descendants().any(|d| d.has_tag_name((NS, "MetaData"))))
    });
    if !chosen {
        let (l, c) = pos(doc, setup);
        findings.push(Finding::new(
            l,
            c,
            Severity::Warning,
            C::NoImageSelection,
            "Microsoft-Windows-Setup chooses no image (ImageInstall/OSImage/InstallFrom/MetaData): on media with several editions Setup stops to ask.".into(),
            "Add <ImageInstall><OSImage><InstallFrom><MetaData wcm:action=\"add\"><Key>/IMAGE/INDEX</Key><Value>2</Value></MetaData></InstallFrom>… naming the edition.",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_components_architecture_image_choice_and_clear_passwords() {
        let text = r#"<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="windowsPE">
    <component name="Microsoft-Windows-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <UserData><AcceptEula>true</AcceptEula></UserData>
    </component>
  </settings>
  <settings pass="specialise"/>
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="x86" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <UserAccounts><AdministratorPassword><Value>secret</Value><PlainText>true</PlainText></AdministratorPassword></UserAccounts>
    </component>
    <component name="Microsoft-Windows-UnattendedJoin" processorArchitecture="amd64"/>
  </settings>
</unattend>
"#;
        let t = Target { arch: Some("x86_64".into()), ..Target::default() };
        let r = crate::lint::lint_text(crate::detect::Format::Unattend, text, &t).unwrap();
        let got: Vec<(u32, &str)> = r.findings.iter().map(|f| (f.line, f.code.as_str())).collect();
        assert_eq!(
            got,
            [(4, "no_image_selection"), (8, "unknown_pass"), (10, "architecture_mismatch"), (11, "plaintext_password"), (13, "wrong_pass")]
        );
        assert!(r.findings[1].fix.contains("specialize"), "{:?}", r.findings[1]);
        assert_eq!(r.checked_as, "unattend.xml (amd64)");
    }

    #[test]
    fn a_file_for_two_architectures_is_not_a_mismatch() {
        let text = r#"<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="specialize">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="x86"/>
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64"/>
  </settings>
</unattend>"#;
        let t = Target { arch: Some("x86_64".into()), ..Target::default() };
        let r = crate::lint::lint_text(crate::detect::Format::Unattend, text, &t).unwrap();
        assert_eq!(r.findings, [], "{r:?}");
    }

    #[test]
    fn a_stray_ampersand_is_found_where_it_is() {
        let f = crate::lint::lint_text(
            crate::detect::Format::Unattend,
            "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\n  <x>a & b</x>\n</unattend>\n",
            &Target::default(),
        )
        .unwrap();
        assert_eq!((f.findings[0].line, f.findings[0].code), (2, C::InvalidXml), "{f:?}");
    }
}
