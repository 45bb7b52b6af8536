//! Windows installer media read from real images: genisoimage UDF bridges and ISO 9660-only ones,
//! WIMs and ESDs made by wimlib-imagex with several editions, and Windows PE boot.wims.

mod common;

use common::fixture;

use imagesmith_engine::udf::Udf;
use imagesmith_engine::wim::{wim_editions, InstallationType, WindowsArch};
use imagesmith_engine::windows::{is_windows_pe, windows_media, MediaFileSystem};
use std::fs::File;
use std::io::Read;
use std::path::Path;

fn open(name: &str) -> File {
    File::open(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn windows_server_2022_editions_are_read_through_udf() {
    let file = open("win-server-2022-udf.iso");
    let media = windows_media(&file).expect("Windows media");
    assert_eq!(media.file_system, MediaFileSystem::Udf);
    assert_eq!(media.wim_path, "sources/install.wim");
    assert_eq!(media.os_id.as_deref(), Some("win2k22"));
    assert_eq!(media.os_name.as_deref(), Some("Microsoft Windows Server 2022"));
    assert_eq!(media.os_version.as_deref(), Some("10.0.20348"));
    assert_eq!(media.build, Some(20348));
    assert_eq!(media.arch, Some(WindowsArch::X64));
    assert!(!media.windows_pe);
    let ids: Vec<_> = media.editions.iter().map(|e| (e.index, e.edition_id.as_deref().unwrap_or(""))).collect();
    assert_eq!(ids, [(1, "ServerStandard"), (2, "ServerDatacenter")]);
    let standard = &media.editions[0];
    assert_eq!(standard.name, "Windows Server 2022 SERVERSTANDARD");
    assert_eq!(standard.description.as_deref(), Some("Windows Server 2022 Standard"));
    assert_eq!(standard.display_name.as_deref(), Some("Windows Server 2022 Standard (Desktop Experience)"));
    assert_eq!(standard.version.as_deref(), Some("10.0.20348.587"));
    assert_eq!(standard.languages, ["en-US"]);
    assert_eq!(standard.default_language.as_deref(), Some("en-US"));
    assert_eq!(standard.installation_type, Some(InstallationType::Server));
    assert_eq!(standard.product_name.as_deref(), Some("Microsoft® Windows® Operating System"));
    assert_eq!(standard.product_type.as_deref(), Some("ServerNT"));
}

#[test]
fn an_iso_9660_only_image_is_read_through_its_iso_9660_tree() {
    // win-server-2022.iso is made by xorriso: ISO 9660 + Joliet + Rock Ridge, no UDF.
    let file = open("win-server-2022.iso");
    assert!(Udf::open(&file).is_err(), "xorriso writes no UDF");
    let media = windows_media(&file).expect("Windows media");
    assert_eq!(media.file_system, MediaFileSystem::Iso9660);
    assert_eq!(media.os_id.as_deref(), Some("win2k22"));
    assert_eq!(media.editions.len(), 2);
}

#[test]
fn udf_lookup_is_case_insensitive_and_reads_the_same_bytes_as_iso_9660() {
    let file = open("win-server-2022-udf.iso");
    let udf = Udf::open(&file).unwrap();
    let lower = udf.read("sources/install.wim", 1 << 20).unwrap();
    let upper = udf.read("/SOURCES/Install.WIM", 1 << 20).unwrap();
    assert_eq!(lower, upper);
    assert_eq!(&lower[..8], b"MSWIM\0\0\0");
    let autorun = udf.read("autorun.inf", 4096).unwrap();
    assert!(String::from_utf8_lossy(&autorun).starts_with("[AutoRun.Amd64]"));
    let e = udf.open_file("sources/missing.wim").err().unwrap();
    assert_eq!(e.code, "file_not_found");
    assert!(udf.open_file("sources").is_err(), "a folder is not a file");
    let e = udf.read("sources/install.wim", 100).err().unwrap();
    assert_eq!(e.code, "too_large");
}

#[test]
fn no_windows_media_in_other_isos() {
    for name in ["rhel-9.6-x86_64-dvd.iso", "ubuntu-24.04-server-amd64.iso", "esxi-8.0.iso", "ipxe.iso", "truncated.iso", "random-vd.iso"] {
        assert!(windows_media(&open(name)).is_none(), "{name}");
    }
}

#[test]
fn a_winpe_boot_zip_holds_a_windows_pe_boot_wim() {
    let mut zip = zip::ZipArchive::new(open("winpe-amd64.zip")).unwrap();
    let mut wim = Vec::new();
    zip.by_name("sources/boot.wim").unwrap().read_to_end(&mut wim).unwrap();
    let editions = wim_editions(std::io::Cursor::new(&wim)).unwrap();
    assert_eq!(editions.len(), 1);
    assert!(is_windows_pe(&editions));
    assert_eq!(editions[0].arch, Some(WindowsArch::X64));
    assert_eq!(editions[0].installation_type, Some(InstallationType::WindowsPe));
    // An install image is not Windows PE.
    let file = open("win-server-2022-udf.iso");
    let install = wim_editions(Udf::open(&file).unwrap().open_file("sources/install.wim").unwrap()).unwrap();
    assert!(!is_windows_pe(&install));
    assert!(!is_windows_pe(&[]));
}

#[test]
fn windows_11_arm64_editions_come_from_an_esd_seen_only_through_udf() {
    // The ISO 9660 and Joliet trees hold only README.TXT, as on Microsoft's media.
    let file = open("win11-arm64-udf.iso");
    let media = windows_media(&file).expect("Windows media");
    assert_eq!(media.file_system, MediaFileSystem::Udf);
    assert_eq!(media.wim_path, "sources/install.esd");
    assert_eq!(media.os_id.as_deref(), Some("win11"));
    assert_eq!(media.os_name.as_deref(), Some("Microsoft Windows 11"));
    assert_eq!(media.os_version.as_deref(), Some("10.0.22631"));
    assert_eq!(media.arch, Some(WindowsArch::Arm64));
    assert_eq!(media.arch.map(WindowsArch::windows_name), Some("arm64"));
    let editions: Vec<_> = media.editions.iter().map(|e| (e.index, e.name.as_str(), e.edition_id.as_deref().unwrap_or(""))).collect();
    assert_eq!(editions, [(1, "Windows 11 Home", "Core"), (2, "Windows 11 Pro", "Professional"), (3, "Windows 11 Education", "Education")]);
    for e in &media.editions {
        assert_eq!(e.languages, ["en-US", "de-DE"]);
        assert_eq!(e.installation_type, Some(InstallationType::Client));
        assert!(!e.is_server());
    }
}

#[test]
fn setup_boot_wim_on_the_server_media_is_windows_pe() {
    let file = open("win-server-2022-udf.iso");
    let boot = wim_editions(Udf::open(&file).unwrap().open_file("sources/boot.wim").unwrap()).unwrap();
    let flags: Vec<_> = boot.iter().map(|e| (e.name.as_str(), e.flags.as_deref().unwrap_or(""))).collect();
    assert_eq!(flags, [("Microsoft Windows PE (amd64)", "9"), ("Microsoft Windows Setup (amd64)", "2")]);
    assert!(is_windows_pe(&boot));
}

#[test]
fn windows_pe_media_have_boot_wim_alone() {
    let media = windows_media(&open("winpe-amd64.iso")).expect("Windows PE media");
    assert_eq!(media.wim_path, "sources/boot.wim");
    assert!(media.windows_pe);
    assert_eq!(media.os_id, None);
    assert_eq!(media.os_name.as_deref(), Some("Windows PE"));
    assert_eq!(media.os_version.as_deref(), Some("10.0.20348"));
    assert_eq!(media.arch, Some(WindowsArch::X64));
}

/// Caps this test process's address space, so a parser that sized an allocation from a damaged
/// length field fails the test instead of taking the machine's memory.
fn cap_memory(bytes: u64) {
    let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
    // SAFETY: setrlimit reads the struct we pass; lowering our own limit is always allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
}

/// Look up and read what `windows_media` would, on bytes in memory.
fn read_all(image: &[u8]) {
    if let Ok(udf) = Udf::open(image) {
        for path in ["sources/install.wim", "sources/install.esd", "sources/boot.wim", "autorun.inf"] {
            if let Ok(file) = udf.open_file(path) {
                let _ = wim_editions(file);
            }
        }
        let _ = udf.read("autorun.inf", 1 << 20);
    }
}

#[test]
fn truncated_and_corrupted_udf_images_give_an_error_never_a_panic_or_a_huge_allocation() {
    cap_memory(4 << 30);
    let mut image = std::fs::read(fixture("win-server-2022-udf.iso")).unwrap();
    for sectors in 0..image.len() / 2048 {
        read_all(&image[..sectors * 2048]);
    }
    // The sectors that hold something: descriptors, directories, file entries, file data.
    let busy: Vec<usize> = (16..image.len() / 2048).filter(|s| image[s * 2048..(s + 1) * 2048].iter().any(|&b| b != 0)).collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..2500 {
        let sector = busy[next() as usize % busy.len()];
        // Structures sit at the start of their sector: aim there more often.
        let span = if round % 2 == 0 { 256 } else { 2048 };
        let at = sector * 2048 + next() as usize % (span - 4);
        let saved: [u8; 4] = image[at..at + 4].try_into().unwrap();
        match round % 3 {
            0 => image[at] ^= 1 << (next() % 8),
            1 => image[at..at + 4].copy_from_slice(&[0xff; 4]),
            _ => image[at..at + 4].copy_from_slice(&(next() as u32).to_le_bytes()),
        }
        read_all(&image);
        image[at..at + 4].copy_from_slice(&saved);
    }
    // Undamaged again: still read.
    read_all(&image);
    let udf = Udf::open(&image[..]).unwrap();
    assert_eq!(wim_editions(udf.open_file("sources/install.wim").unwrap()).unwrap().len(), 2);
}

#[test]
fn windows_media_gives_none_for_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(fixture("win-server-2022-udf.iso")).unwrap();
    // No UDF recognition sequence (NSR02 at sector 20): the ISO 9660 tree is the way in.
    let mut damaged = original.clone();
    assert_eq!(&damaged[20 * 2048 + 1..20 * 2048 + 6], b"NSR02");
    damaged[20 * 2048..21 * 2048].fill(0);
    let path = dir.path().join("damaged.iso");
    std::fs::write(&path, &damaged).unwrap();
    let through_iso = windows_media(&File::open(&path).unwrap()).expect("the ISO 9660 tree still leads to install.wim");
    assert_eq!(through_iso.file_system, MediaFileSystem::Iso9660);
    // install.wim damaged (its magic gone, in the data both file systems share): not Windows PE
    // media because boot.wim still reads, but nothing.
    let mut damaged = original.clone();
    let at = Udf::open(&original[..]).unwrap().open_file("sources/install.wim").unwrap().extents()[0].disk.unwrap() as usize;
    damaged[at..at + 5].copy_from_slice(b"XXXXX");
    std::fs::write(&path, &damaged).unwrap();
    assert_eq!(windows_media(&File::open(&path).unwrap()), None);
    for cut in [0, 2048, 16 * 2048, 300 * 2048, original.len() / 2] {
        std::fs::write(&path, &original[..cut]).unwrap();
        let _ = windows_media(&File::open(&path).unwrap());
    }
}

#[test]
fn udf_2_01_from_mkudffs_opens_and_udf_2_50_bdr_is_refused() {
    let file = open("udf-2.01-hd.img");
    let udf = Udf::open(&file).unwrap();
    assert_eq!(udf.revision(), 0x0201);
    assert_eq!(udf.open_file("sources/install.wim").err().unwrap().code, "file_not_found");
    assert!(windows_media(&file).is_none());
    // BD-R: a virtual (VAT) partition, packet-written media rather than installer media.
    let e = Udf::open(&open("udf-2.50-bdr.img")).err().unwrap();
    assert_eq!(e.code, "format_unsupported", "{}", e.text);
}

#[test]
fn the_windows_media_fuzz_seed_is_a_readable_udf_image() {
    let seed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/windows_media/udf-install-wim.sectors")).unwrap();
    let image = imagesmith_engine::fuzzing::sparse_image(&seed);
    let udf = Udf::open(&image[..]).unwrap();
    let editions = wim_editions(udf.open_file("sources/install.wim").unwrap()).unwrap();
    assert_eq!(editions[0].edition_id.as_deref(), Some("ServerStandard"));
}
