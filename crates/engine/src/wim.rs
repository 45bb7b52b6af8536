//! Windows imaging files (install.wim, install.esd, boot.wim): the editions their XML metadata
//! lists, read from the header and the XML resource only — never the image data.
//!
//! Public API:
//! - [`wim_editions`] — every image of a WIM or ESD as a [`WindowsEdition`] (index, name, edition
//!   id, version and build, architecture, languages, installation type, product name).
//! - [`wim_editions_streamed`] — the same from a WIM read front to back (a zip entry), the image
//!   data read and dropped on the way to the XML.
//! - [`WindowsArch`], [`InstallationType`] — the closed sets those fields come from.
//!
//! The WIM header (208 bytes) holds at 0x48 the resource header of the XML data: size (7 bytes),
//! flags, offset, original size. Microsoft's tools and wimlib write that resource uncompressed, as
//! UTF-16LE with a byte-order mark, in WIMs and solid ESDs alike. It is read only when it is at most
//! [`MAX_XML_BYTES`] long, uncompressed and inside the file; a compressed one is refused as
//! `format_unsupported`. Parsing goes through [`crate::detect::parse_xml`] (bounded depth and nodes).

use crate::error::{code, Error, Result};
use crate::model::string_enum;
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom};

/// The XML of a real install.wim with a dozen editions is ~60 KiB; this leaves room for hundreds.
pub const MAX_XML_BYTES: u64 = 4 << 20;
const HEADER_LEN: usize = 208;
const XML_RESOURCE_AT: usize = 0x48;
/// Resource header flag: the resource is compressed (with the WIM's codec).
const RESHDR_COMPRESSED: u8 = 0x04;

string_enum!(
    /// `WINDOWS/ARCH` of an image (PROCESSOR_ARCHITECTURE_*: 0, 5, 6, 9, 12), named as libosinfo
    /// names architectures; [`WindowsArch::windows_name`] gives Windows' own word (amd64, …).
    WindowsArch, "Windows architecture", InvalidArgument {
        X86 = "i686", Arm = "armv7l", Ia64 = "ia64", X64 = "x86_64", Arm64 = "aarch64",
    }
);

impl WindowsArch {
    /// From the number in `WINDOWS/ARCH`.
    pub fn from_wim(number: u32) -> Option<Self> {
        match number {
            0 => Some(WindowsArch::X86),
            5 => Some(WindowsArch::Arm),
            6 => Some(WindowsArch::Ia64),
            9 => Some(WindowsArch::X64),
            12 => Some(WindowsArch::Arm64),
            _ => None,
        }
    }

    /// The word Windows uses in paths and INF decorations: x86, arm, ia64, amd64, arm64.
    pub fn windows_name(self) -> &'static str {
        match self {
            WindowsArch::X86 => "x86",
            WindowsArch::Arm => "arm",
            WindowsArch::Ia64 => "ia64",
            WindowsArch::X64 => "amd64",
            WindowsArch::Arm64 => "arm64",
        }
    }
}

string_enum!(
    /// `WINDOWS/INSTALLATIONTYPE` of an image: a desktop, a server with or without its desktop,
    /// or Windows PE (boot.wim: Windows Setup and WinPE boot media).
    InstallationType, "installation type", InvalidArgument {
        Client = "client", Server = "server", ServerCore = "server_core", WindowsPe = "windows_pe",
    }
);

impl InstallationType {
    /// From the text of `WINDOWS/INSTALLATIONTYPE`: Client, Server, Server Core, WindowsPE.
    pub fn from_wim(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "client" => Some(InstallationType::Client),
            "server" => Some(InstallationType::Server),
            "server core" => Some(InstallationType::ServerCore),
            "windowspe" => Some(InstallationType::WindowsPe),
            _ => None,
        }
    }
}

/// One image in a WIM: what the deployment tools call an edition (index 1 = the first image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WindowsEdition {
    pub index: u32,
    /// `NAME`, e.g. "Windows Server 2022 SERVERSTANDARD".
    pub name: String,
    pub description: Option<String>,
    /// `DISPLAYNAME`, e.g. "Windows Server 2022 Standard (Desktop Experience)".
    pub display_name: Option<String>,
    /// `WINDOWS/EDITIONID`, e.g. ServerStandard, Professional, WindowsPE.
    pub edition_id: Option<String>,
    /// `FLAGS`: the edition id again in install images, a number in boot.wim (9 = Windows PE).
    pub flags: Option<String>,
    pub arch: Option<WindowsArch>,
    /// `WINDOWS/VERSION` as MAJOR.MINOR.BUILD.SPBUILD (or the parts present), e.g. "10.0.20348.587".
    pub version: Option<String>,
    pub build: Option<u32>,
    /// `WINDOWS/LANGUAGES/LANGUAGE`, e.g. ["en-US"].
    pub languages: Vec<String>,
    pub default_language: Option<String>,
    /// None when the image does not say or says something else than the known types.
    pub installation_type: Option<InstallationType>,
    /// `WINDOWS/PRODUCTNAME`, e.g. "Microsoft® Windows® Operating System".
    pub product_name: Option<String>,
    /// `WINDOWS/PRODUCTTYPE`: WinNT (client), ServerNT, LanmanNT (domain controller).
    pub product_type: Option<String>,
}

impl WindowsEdition {
    /// Is this a server image (by installation type, else product type or edition id)?
    pub fn is_server(&self) -> bool {
        match self.installation_type {
            Some(InstallationType::Server | InstallationType::ServerCore) => true,
            Some(_) => false,
            None => {
                self.product_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("ServerNT") || t.eq_ignore_ascii_case("LanmanNT"))
                    || self.edition_id.as_deref().is_some_and(|e| e.to_ascii_lowercase().starts_with("server"))
            }
        }
    }

    /// Is this a Windows PE image (installation type or edition id WindowsPE, or FLAGS 9)?
    pub fn is_windows_pe(&self) -> bool {
        self.installation_type == Some(InstallationType::WindowsPe)
            || self.edition_id.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("WindowsPE"))
            || self.flags.as_deref().is_some_and(|f| f.trim() == "9" || f.trim().eq_ignore_ascii_case("WindowsPE"))
    }
}

fn invalid(what: impl Into<String>) -> Error {
    Error::new(
        code::INVALID_CONTENT,
        format!("This is not a readable Windows image file: {}.", what.into()),
        "A WIM or ESD starts with a 208-byte header (MSWIM) that points to its XML description; this one is damaged, truncated or another kind of file.",
        "Copy the image again from the installation media and check its checksum.",
    )
}

fn read_err(err: &std::io::Error) -> Error {
    if err.kind() == std::io::ErrorKind::UnexpectedEof {
        return invalid("it ends before its header or its XML description");
    }
    Error::new(
        code::READ_FAILED,
        format!("Could not read the Windows image file: {err}."),
        "The file may be on a disconnected drive, unreadable for your user, or on damaged media.",
        "Check that the file opens for your user, then try again.",
    )
}

/// Every image listed in the XML metadata of the WIM or ESD `reader` is positioned anywhere in.
/// Reads the 208-byte header and the XML resource, nothing else.
pub fn wim_editions<R: Read + Seek>(mut reader: R) -> Result<Vec<WindowsEdition>> {
    let len = reader.seek(SeekFrom::End(0)).map_err(|e| read_err(&e))?;
    reader.seek(SeekFrom::Start(0)).map_err(|e| read_err(&e))?;
    let (offset, size) = xml_resource(&mut reader, len)?;
    reader.seek(SeekFrom::Start(offset)).map_err(|e| read_err(&e))?;
    parse_editions(&read_text(&mut reader, size)?)
}

/// The same from a WIM that can only be read front to back (one inside a zip), `len` bytes long:
/// the bytes before the XML resource (at the end of the WIMs Microsoft's tools and wimlib write)
/// are read and dropped, so this reads at most `len` bytes.
pub fn wim_editions_streamed<R: Read>(mut reader: R, len: u64) -> Result<Vec<WindowsEdition>> {
    let (offset, size) = xml_resource(&mut reader, len)?;
    let skip = offset - HEADER_LEN as u64;
    let skipped = std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink()).map_err(|e| read_err(&e))?;
    if skipped != skip {
        return Err(invalid("it ends before its XML description"));
    }
    parse_editions(&read_text(&mut reader, size)?)
}

/// Read the header from the start of `reader` and check it: where the XML resource is (its byte
/// offset, past the header, and its length, at most [`MAX_XML_BYTES`]) in a file of `len` bytes.
fn xml_resource<R: Read>(reader: &mut R, len: u64) -> Result<(u64, u64)> {
    let mut header = [0u8; HEADER_LEN];
    reader.read_exact(&mut header).map_err(|e| read_err(&e))?;
    match &header[..8] {
        b"MSWIM\0\0\0" => {}
        b"WLPWM\0\0\0" => {
            return Err(Error::new(
                code::FORMAT_UNSUPPORTED,
                "This is a pipable WIM (wimlib's --pipable), whose description is at its end.",
                "Pipable WIMs are made for streaming; installation media carry ordinary WIMs.",
                "Export it as an ordinary WIM with `wimlib-imagex export SRC all DST`.",
            ))
        }
        _ => return Err(invalid("it does not start with MSWIM")),
    }
    let res = &header[XML_RESOURCE_AT..XML_RESOURCE_AT + 24];
    let mut size_bytes = [0u8; 8];
    size_bytes[..7].copy_from_slice(&res[..7]);
    let size = u64::from_le_bytes(size_bytes);
    let flags = res[7];
    let offset = u64::from_le_bytes(res[8..16].try_into().unwrap_or([0; 8]));
    if size == 0 {
        return Err(invalid("it has no XML description"));
    }
    if flags & RESHDR_COMPRESSED != 0 {
        return Err(Error::new(
            code::FORMAT_UNSUPPORTED,
            "This Windows image's XML description is compressed.",
            "Microsoft's tools and wimlib store it uncompressed; a compressed one is rare and not read.",
            "Export the image with `wimlib-imagex export`, which writes the description uncompressed.",
        ));
    }
    if size > MAX_XML_BYTES {
        return Err(invalid(format!("its XML description claims {size} bytes, more than the {MAX_XML_BYTES} a real one needs")));
    }
    if offset < HEADER_LEN as u64 || offset.checked_add(size).is_none_or(|end| end > len) {
        return Err(invalid(format!("its XML description (at byte {offset}, {size} bytes) lies outside the {len}-byte file")));
    }
    Ok((offset, size))
}

/// The `size` bytes of the XML resource at the reader's position (checked against
/// [`MAX_XML_BYTES`] by [`xml_resource`]), UTF-16LE after an optional byte-order mark, as text.
fn read_text<R: Read>(reader: &mut R, size: u64) -> Result<String> {
    let mut bytes = vec![0u8; size as usize];
    reader.read_exact(&mut bytes).map_err(|e| read_err(&e))?;
    let body = bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(&bytes);
    let units: Vec<u16> = body.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let text = String::from_utf16(&units).map_err(|_| invalid("its XML description is not UTF-16 text"))?;
    Ok(text.trim_end_matches('\0').to_string())
}

/// The editions in a WIM's XML description (`<WIM><IMAGE INDEX="1">…</IMAGE>…</WIM>`).
pub(crate) fn parse_editions(xml: &str) -> Result<Vec<WindowsEdition>> {
    let doc = crate::detect::parse_xml(xml).map_err(|e| invalid(format!("its XML description does not parse: {e}")))?;
    let root = doc.root_element();
    if !root.has_tag_name("WIM") {
        return Err(invalid(format!("its XML description is a <{}>, not a <WIM>", root.tag_name().name())));
    }
    let mut out = Vec::new();
    for (i, image) in root.children().filter(|n| n.has_tag_name("IMAGE")).enumerate() {
        let text = |path: &str| -> Option<String> {
            let mut node = image;
            for part in path.split('/') {
                node = node.children().find(|c| c.has_tag_name(part))?;
            }
            let t = node.text().unwrap_or("").trim();
            (!t.is_empty()).then(|| t.to_string())
        };
        let number = |path: &str| text(path).and_then(|t| t.parse::<u32>().ok());
        let index = image.attribute("INDEX").and_then(|i| i.trim().parse().ok()).unwrap_or(i as u32 + 1);
        let version_parts: Vec<u32> =
            ["MAJOR", "MINOR", "BUILD", "SPBUILD"].iter().map_while(|p| number(&format!("WINDOWS/VERSION/{p}"))).collect();
        let version = (!version_parts.is_empty()).then(|| version_parts.iter().map(u32::to_string).collect::<Vec<_>>().join("."));
        let languages = image
            .children()
            .find(|c| c.has_tag_name("WINDOWS"))
            .and_then(|w| w.children().find(|c| c.has_tag_name("LANGUAGES")))
            .map(|l| {
                l.children()
                    .filter(|c| c.has_tag_name("LANGUAGE"))
                    .filter_map(|c| c.text())
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        out.push(WindowsEdition {
            index,
            name: text("NAME").unwrap_or_default(),
            description: text("DESCRIPTION"),
            display_name: text("DISPLAYNAME"),
            edition_id: text("WINDOWS/EDITIONID"),
            flags: text("FLAGS"),
            arch: number("WINDOWS/ARCH").and_then(WindowsArch::from_wim),
            version,
            build: number("WINDOWS/VERSION/BUILD"),
            languages,
            default_language: text("WINDOWS/LANGUAGES/DEFAULT"),
            installation_type: text("WINDOWS/INSTALLATIONTYPE").and_then(|t| InstallationType::from_wim(&t)),
            product_name: text("WINDOWS/PRODUCTNAME"),
            product_type: text("WINDOWS/PRODUCTTYPE"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const XML: &str = r#"<WIM><TOTALBYTES>4960</TOTALBYTES>
<IMAGE INDEX="1"><DIRCOUNT>3</DIRCOUNT><NAME>Windows Server 2016 SERVERSTANDARDCORE</NAME>
<DESCRIPTION>Windows Server 2016 SERVERSTANDARDCORE</DESCRIPTION><FLAGS>ServerStandardCore</FLAGS>
<WINDOWS><ARCH>9</ARCH><PRODUCTNAME>Microsoft® Windows® Operating System</PRODUCTNAME>
<EDITIONID>ServerStandard</EDITIONID><INSTALLATIONTYPE>Server Core</INSTALLATIONTYPE>
<PRODUCTTYPE>ServerNT</PRODUCTTYPE><LANGUAGES><LANGUAGE>en-US</LANGUAGE><LANGUAGE>fr-FR</LANGUAGE>
<DEFAULT>en-US</DEFAULT></LANGUAGES><VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>14393</BUILD>
<SPBUILD>0</SPBUILD><SPLEVEL>0</SPLEVEL></VERSION></WINDOWS></IMAGE>
<IMAGE INDEX="2"><NAME>Windows 10 Pro</NAME><WINDOWS><ARCH>0</ARCH><EDITIONID>Professional</EDITIONID>
<INSTALLATIONTYPE>Client</INSTALLATIONTYPE><VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>19045</BUILD></VERSION></WINDOWS></IMAGE>
<IMAGE INDEX="3"><NAME>odd</NAME><FLAGS>9</FLAGS><WINDOWS><ARCH>77</ARCH><INSTALLATIONTYPE>Embedded</INSTALLATIONTYPE></WINDOWS></IMAGE>
</WIM>"#;

    /// A WIM as far as the editions need it: the header, then the XML resource (UTF-16LE, BOM).
    fn wim(xml: &str, flags: u8) -> Vec<u8> {
        let mut body = vec![0xFF, 0xFE];
        body.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let mut out = vec![0u8; HEADER_LEN];
        out[..8].copy_from_slice(b"MSWIM\0\0\0");
        out[8..12].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        out[12..16].copy_from_slice(&0x10d00u32.to_le_bytes());
        out[0x2C..0x30].copy_from_slice(&3u32.to_le_bytes());
        out[0x48..0x4F].copy_from_slice(&(body.len() as u64).to_le_bytes()[..7]);
        out[0x4F] = flags;
        out[0x50..0x58].copy_from_slice(&(HEADER_LEN as u64).to_le_bytes());
        out[0x58..0x60].copy_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn every_image_and_its_fields_are_read() {
        let editions = wim_editions(Cursor::new(wim(XML, 0x02))).unwrap();
        assert_eq!(editions.len(), 3);
        let core = &editions[0];
        assert_eq!((core.index, core.name.as_str()), (1, "Windows Server 2016 SERVERSTANDARDCORE"));
        assert_eq!(core.edition_id.as_deref(), Some("ServerStandard"));
        assert_eq!(core.flags.as_deref(), Some("ServerStandardCore"));
        assert_eq!(core.installation_type, Some(InstallationType::ServerCore));
        assert_eq!(core.arch, Some(WindowsArch::X64));
        assert_eq!(core.version.as_deref(), Some("10.0.14393.0"));
        assert_eq!(core.build, Some(14393));
        assert_eq!(core.languages, ["en-US", "fr-FR"]);
        assert!(core.is_server() && !core.is_windows_pe());
        let pro = &editions[1];
        assert_eq!(pro.arch, Some(WindowsArch::X86));
        assert_eq!(pro.version.as_deref(), Some("10.0.19045"));
        assert!(!pro.is_server());
        assert!(pro.languages.is_empty());
        let odd = &editions[2];
        assert_eq!((odd.arch, odd.installation_type, odd.build), (None, None, None));
        assert!(odd.is_windows_pe(), "FLAGS 9 is Windows PE");
    }

    #[test]
    fn a_wim_read_front_to_back_gives_the_same_editions() {
        let mut bytes = wim(XML, 0);
        // Image data between the header and the XML, as in real WIMs: the XML moves back.
        let xml_at = HEADER_LEN as u64 + 5000;
        bytes.splice(HEADER_LEN..HEADER_LEN, std::iter::repeat_n(0xA5, 5000));
        bytes[0x50..0x58].copy_from_slice(&xml_at.to_le_bytes());
        let len = bytes.len() as u64;
        let streamed = wim_editions_streamed(&bytes[..], len).unwrap();
        assert_eq!(streamed, wim_editions(Cursor::new(&bytes)).unwrap());
        assert_eq!(streamed.len(), 3);
        // Shorter than it says: an error, not a hang or a panic.
        assert_eq!(wim_editions_streamed(&bytes[..3000], len).unwrap_err().code, code::INVALID_CONTENT);
        assert_eq!(wim_editions_streamed(&bytes[..len as usize - 4], len).unwrap_err().code, code::INVALID_CONTENT);
        for cut in (0..bytes.len()).step_by(97) {
            let _ = wim_editions_streamed(&bytes[..cut], cut as u64);
        }
    }

    #[test]
    fn arch_numbers_and_names() {
        let all: Vec<_> = [0, 5, 6, 9, 12, 1].iter().map(|&n| WindowsArch::from_wim(n).map(WindowsArch::windows_name)).collect();
        assert_eq!(all, [Some("x86"), Some("arm"), Some("ia64"), Some("amd64"), Some("arm64"), None]);
        assert_eq!(serde_json::to_string(&WindowsArch::X64).unwrap(), "\"x86_64\"");
        assert_eq!(serde_json::to_string(&InstallationType::WindowsPe).unwrap(), "\"windows_pe\"");
    }

    #[test]
    fn broken_headers_are_refused_with_a_code() {
        let good = wim(XML, 0);
        let code_of = |bytes: Vec<u8>| wim_editions(Cursor::new(bytes)).unwrap_err().code;
        assert_eq!(code_of(good[..100].to_vec()), code::INVALID_CONTENT, "a header cut short");
        assert_eq!(code_of(good[..good.len() - 10].to_vec()), code::INVALID_CONTENT, "XML past the end");
        let mut magic = good.clone();
        magic[0] = b'X';
        assert_eq!(code_of(magic), code::INVALID_CONTENT);
        let mut pipable = good.clone();
        pipable[..8].copy_from_slice(b"WLPWM\0\0\0");
        assert_eq!(code_of(pipable), code::FORMAT_UNSUPPORTED);
        assert_eq!(code_of(wim(XML, RESHDR_COMPRESSED)), code::FORMAT_UNSUPPORTED);
        // A size of 2^56 - 1 is refused before anything is allocated.
        let mut huge = good.clone();
        huge[0x48..0x4F].fill(0xFF);
        assert_eq!(code_of(huge), code::INVALID_CONTENT);
        let mut offset = good.clone();
        offset[0x50..0x58].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(code_of(offset), code::INVALID_CONTENT);
        assert_eq!(code_of(wim("<NOTWIM/>", 0)), code::INVALID_CONTENT);
        assert_eq!(code_of(wim("<WIM><IMAGE>", 0)), code::INVALID_CONTENT);
        assert!(wim_editions(Cursor::new(wim("<WIM/>", 0))).unwrap().is_empty());
    }

    #[test]
    fn cut_and_flipped_wims_give_an_answer_never_a_panic() {
        let good = wim(XML, 0);
        for len in 0..good.len() {
            let _ = wim_editions(Cursor::new(&good[..len]));
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut bytes = good.clone();
            let at = (state as usize) % bytes.len();
            bytes[at] ^= 1 << ((state >> 32) % 8);
            let _ = wim_editions(Cursor::new(bytes));
        }
    }
}
