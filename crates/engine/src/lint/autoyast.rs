//! AutoYaST lint: the profile's namespace and root, its top-level sections (resources AutoYaST
//! knows), the types of typed elements (`config:type="boolean"` holds true or false), common
//! booleans written without their type (AutoYaST then reads "false" as a true string), and user
//! passwords in the clear.

use super::{did_you_mean, pos, suggest, Finding, LintCode as C, LintReport, Severity};

const YAST_NS: &str = "http://www.suse.com/1.0/yast2ns";
const CONFIG_NS: &str = "http://www.suse.com/1.0/configns";

/// The resources (top-level sections) AutoYaST handles on SLES 15 and openSUSE Leap 15/16.
const SECTIONS: &[&str] = &[
    "add-on",
    "audit-laf",
    "auth-client",
    "bootloader",
    "ca_mgm",
    "configuration_management",
    "dasd",
    "deploy_image",
    "dhcp-server",
    "dns-server",
    "fcoe-client",
    "files",
    "firewall",
    "firstboot",
    "ftp-server",
    "general",
    "groups",
    "host",
    "http-server",
    "iscsi-client",
    "iscsi-target",
    "kdump",
    "keyboard",
    "language",
    "ldap",
    "login_settings",
    "mail",
    "networking",
    "nfs",
    "nfs_server",
    "nis",
    "nis_server",
    "ntp-client",
    "partitioning",
    "printer",
    "proxy",
    "report",
    "runlevel",
    "samba-client",
    "scripts",
    "security",
    "services-manager",
    "software",
    "sound",
    "ssh_import",
    "suse_register",
    "sysconfig",
    "tftp-server",
    "timezone",
    "upgrade",
    "user_defaults",
    "users",
    "x11",
    "zfcp",
    "kernel_settings",
    "product_settings",
    "fonts",
    "lan",
    "storage",
    "properties",
];

/// Elements AutoYaST reads as booleans: written without `config:type="boolean"`, the text "false"
/// is a non-empty string, which counts as true.
const BOOLEANS: &[&str] = &[
    "confirm",
    "second_stage",
    "final_reboot",
    "final_halt",
    "halt",
    "forceboot",
    "kexec_reboot",
    "initialize",
    "create",
    "format",
    "resize",
    "encrypted",
    "install_recommended",
    "do_online_update",
    "kernel_upgrade",
    "import_gpg_key",
    "accept_unsigned_file",
    "accept_unknown_gpg_key",
    "accept_non_trusted_gpg_key",
    "accept_file_without_checksum",
    "accept_verification_failed",
    "enable_firewall",
    "start_firewall",
    "auto_accept",
    "keep_install_network",
    "setup_before_proposal",
    "dhcp_hostname",
    "write_hostname",
    "ipv6",
    "managed",
    "ntp_sync",
    "start_ntpd",
    "hwclock",
    "show_feedback",
    "abort",
    "errors",
    "messages",
    "warnings",
    "yesno_messages",
];

pub(super) fn lint(text: &str) -> LintReport {
    let mut findings = Vec::new();
    let report = |findings| LintReport { checked_as: "AutoYaST".into(), findings };
    let doc = match crate::detect::parse_xml(text) {
        Ok(d) => d,
        Err(e) => {
            findings.push(super::unattend::xml_error(text, &e));
            return report(findings);
        }
    };
    let root = doc.root_element();
    if root.tag_name().name() != "profile" || root.tag_name().namespace() != Some(YAST_NS) {
        let (l, c) = pos(&doc, root);
        findings.push(Finding::new(
            l,
            c,
            Severity::Error,
            C::WrongRoot,
            format!(
                "The root element is <{}> in {}; AutoYaST reads <profile> in {YAST_NS}.",
                root.tag_name().name(),
                root.tag_name().namespace().unwrap_or("no namespace")
            ),
            format!("Start the profile with <profile xmlns=\"{YAST_NS}\" xmlns:config=\"{CONFIG_NS}\">."),
        ));
        return report(findings);
    }
    for section in root.children().filter(|c| c.is_element()) {
        let name = section.tag_name().name();
        if !SECTIONS.contains(&name) {
            let (l, c) = pos(&doc, section);
            findings.push(Finding::new(
                l,
                c,
                Severity::Warning,
                C::UnknownSection,
                format!("<{name}> is not a section AutoYaST knows; it is ignored."),
                did_you_mean(
                    &format!("<{name}>"),
                    suggest(name, SECTIONS.iter().copied()),
                    "Remove it, or move its settings into the section they belong to.",
                ),
            ));
        }
    }
    for node in root.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        let value = node.text().unwrap_or("").trim();
        let leaf = !node.children().any(|c| c.is_element());
        let (l, c) = pos(&doc, node);
        // config:type, or the short t="…" newer profiles use.
        let typed = node.attribute((CONFIG_NS, "type")).or_else(|| node.attribute("t"));
        match typed {
            Some("boolean") if !matches!(value, "true" | "false") => findings.push(Finding::new(
                l,
                c,
                Severity::Error,
                C::InvalidValue,
                format!("<{name}> is a boolean but holds \"{value}\"."),
                "Write true or false.",
            )),
            Some("integer") if value.parse::<i64>().is_err() => findings.push(Finding::new(
                l,
                c,
                Severity::Error,
                C::InvalidValue,
                format!("<{name}> is an integer but holds \"{value}\"."),
                "Write a whole number, or drop config:type=\"integer\" if it is text.",
            )),
            Some("symbol") if value.is_empty() || value.contains(char::is_whitespace) => findings.push(Finding::new(
                l,
                c,
                Severity::Error,
                C::InvalidValue,
                format!("<{name}> is a symbol but holds \"{value}\"."),
                "A symbol is one word, such as auto or mbr.",
            )),
            Some("boolean" | "integer" | "symbol" | "list" | "string" | "map" | "base64") | None => {}
            Some(other) => findings.push(Finding::new(
                l,
                c,
                Severity::Error,
                C::InvalidType,
                format!("<{name}> has config:type=\"{other}\", which AutoYaST does not know."),
                "Use boolean, integer, symbol, list, map, base64 or string.",
            )),
        }
        if leaf && typed.is_none() && BOOLEANS.contains(&name) && matches!(value, "true" | "false") {
            findings.push(Finding::new(
                l,
                c,
                Severity::Error,
                C::UntypedBoolean,
                format!("<{name}>{value}</{name}> has no config:type=\"boolean\": AutoYaST reads it as text, and any text counts as true."),
                format!("Write <{name} config:type=\"boolean\">{value}</{name}>."),
            ));
        }
        if name == "user_password" {
            let user = node.parent().filter(|p| p.has_tag_name((YAST_NS, "user")));
            let encrypted = user
                .and_then(|u| u.children().find(|c| c.has_tag_name((YAST_NS, "encrypted"))))
                .and_then(|e| e.text())
                .is_some_and(|t| t.trim() == "true");
            if !encrypted && !value.is_empty() {
                findings.push(Finding::new(
                    l,
                    c,
                    Severity::Warning,
                    C::PlaintextPassword,
                    "A user password is given in plain text.".into(),
                    "Put a hash (openssl passwd -6) in <user_password> and add <encrypted config:type=\"boolean\">true</encrypted>.",
                ));
            }
        }
    }
    report(findings)
}

#[cfg(test)]
mod tests {

    #[test]
    fn untyped_booleans_bad_values_and_clear_passwords_are_found_on_their_lines() {
        let text = r#"<?xml version="1.0"?>
<profile xmlns="http://www.suse.com/1.0/yast2ns" xmlns:config="http://www.suse.com/1.0/configns">
  <general><mode><confirm>false</confirm></mode></general>
  <partitioning config:type="list"><drive><initialize config:type="boolean">yes</initialize></drive></partitioning>
  <netwrking/>
  <users config:type="list"><user><username>root</username><user_password>secret</user_password></user></users>
</profile>
"#;
        let r = crate::lint::lint_text(crate::detect::Format::AutoYast, text, &Default::default()).unwrap();
        let got: Vec<(u32, &str)> = r.findings.iter().map(|f| (f.line, f.code.as_str())).collect();
        assert_eq!(got, [(3, "untyped_boolean"), (4, "invalid_value"), (5, "unknown_section"), (6, "plaintext_password")]);
        assert!(r.findings[2].fix.contains("networking"), "{:?}", r.findings[2]);

        // The short t="…" form and the map type are AutoYaST's too.
        let short = r#"<profile xmlns="http://www.suse.com/1.0/yast2ns" xmlns:config="http://www.suse.com/1.0/configns">
  <general t="map"><mode t="map"><confirm t="boolean">false</confirm></mode></general>
</profile>"#;
        let r = crate::lint::lint_text(crate::detect::Format::AutoYast, short, &Default::default()).unwrap();
        assert_eq!(r.findings, [], "{r:?}");
    }
}
