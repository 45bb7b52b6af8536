#!/usr/bin/env bash
# fixtures.sh OUT_DIR — builds the real test fixtures Imagesmith's tests import: OS installer ISOs
# (bootable ones from Debian packages, RHEL/Ubuntu/Windows/ESXi-like ones made with xorriso,
# Windows and WinPE UDF media with genisoimage holding WIMs/ESDs made by wimlib, empty UDF 2.01 and
# 2.50 file systems made by mkudffs), a driver update disk and its RPM (rpmbuild + createrepo_c),
# Windows driver/WinPE/vendor zips (with real WIMs from wimlib and a gpg signature), answer files,
# scripts, JSON, software archives, deliberately broken inputs, and checksum files in every common
# layout, each checked with the real tool. Sources live in scripts/fixtures/. Tests find the result
# through $IMAGESMITH_FIXTURES.
#
# Deterministic: fixed clocks (SOURCE_DATE_EPOCH, faketime), fixed modes and owners, sorted
# archive members, pinned Debian package versions checked by sha256; a rebuild gives byte-identical
# files except the few listed under NON_REPRODUCIBLE below.
# Idempotent: OUT_DIR/.stamp holds FIXTURES_VERSION and a hash of the sources; when it matches,
# the script exits at once. It builds into a temporary sibling directory and renames it into place,
# so a killed run leaves the previous fixtures (or none), never half of them. Concurrent runs take
# a lock; the second waits and then finds the stamp.
set -euo pipefail
umask 022
export LC_ALL=C TZ=UTC

FIXTURES_VERSION=1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/scripts/fixtures"
OUT="$(realpath -m "${1:-$ROOT/target/fixtures}")"

# One clock for everything: 2024-04-23 00:00:00 UTC.
export SOURCE_DATE_EPOCH=1713830400
FIXED_DATE="2024-04-23 00:00:00"
ISO_DATE=2024042300000000 # YYYYMMDDhhmmsscc for xorriso

# Debian packages the bootable ISOs come from. Pinned to the versions Debian 12 ships; the sha256 is
# of the extracted ISO. A new Debian point release may drop a pinned version from the mirror: then
# update the version and the sha256 together, after looking at the new file.
IPXE_VERSION="1.0.0+git-20190125.36a4c85-5.1"
IPXE_ISO_SHA256="d3934ddd42ded2879e41cd9667614ec15294b9a3a3a75cb4a4320a3346b168d7"
GRUB_RESCUE_VERSION="2.06-13+deb12u2"
GRUB_RESCUE_ISO_SHA256="895e963832b7bf6c9cf20cf608e2f2fca7540f1ccaf46e31048c7b299b8c3566"

# NON_REPRODUCIBLE: the only files that differ between builds, and why:
# - vendor-bundle.zip.asc, vendor-signing-key.gpg: a fresh throwaway key and signature per build.
# - win-server-2022-udf.iso, win11-arm64-udf.iso, winpe-amd64.iso: genisoimage derives its UDF
#   volume set id (and so the descriptor tag checksums) from a clock faketime does not fix.
#   win-server-2022.iso is the reproducible twin of the first.

log() { printf 'fixtures: %s\n' "$*"; }
die() { printf 'fixtures: ERROR: %s\n' "$*" >&2; exit 1; }

# Runs "$@" quietly; on failure shows its output and fails.
run() {
  local out
  if ! out="$("$@" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "command failed: $*"
  fi
}

for tool in xorriso genisoimage isoinfo mkudffs rpmbuild createrepo_c wimlib-imagex faketime zip unzip file \
  gpg gpgv dpkg-deb apt-get openssl iconv sha256sum sha512sum md5sum flock python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/setup.sh"
done

stamp_text() {
  local src_hash
  src_hash="$(cd "$ROOT" && { find scripts/fixtures -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum scripts/fixtures.sh; } | sha256sum | cut -c1-16)"
  printf 'imagesmith-fixtures version %s sources %s\n' "$FIXTURES_VERSION" "$src_hash"
}
STAMP="$(stamp_text)"
stamp_ok() { [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$STAMP" ]]; }

stamp_ok && exit 0
mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
flock 9
stamp_ok && exit 0 # another run built them while we waited

START=$SECONDS
rm -rf "$OUT".tmp.* # left by a run that was killed (we hold the lock: nobody else is using them)
WORK="$(mktemp -d "$OUT.tmp.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP # run the EXIT trap on these too
F="$WORK/out"       # the fixtures, renamed to OUT at the end
S="$WORK/scratch"   # trees and intermediate files
mkdir -p "$F" "$S"
log "building into $OUT"

# --- helpers -------------------------------------------------------------------------------------

# Fixed modes (0755 for directories and executables, 0644 otherwise) and the fixed mtime, so
# archives and Rock Ridge records do not depend on the umask or the clock of the build.
normalize() {
  find "$1" -type d -exec chmod 0755 {} +
  find "$1" -type f -perm /111 -exec chmod 0755 {} +
  find "$1" -type f ! -perm /111 -exec chmod 0644 {} +
  find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# Deterministic bytes: AES-256-CTR keystream under a fixed key, named by a label.
fixed_bytes() { # LABEL COUNT
  local key
  key="$(printf '%s' "$1" | sha256sum | cut -c1-64)"
  head -c "$2" /dev/zero | openssl enc -aes-256-ctr -K "$key" -iv 00000000000000000000000000000000 -nosalt
}

# A PE-looking blob: "MZ", e_lfanew at 0x3c pointing to "PE\0\0", then fixed bytes.
pe_file() { # PATH LABEL SIZE
  {
    printf 'MZ'
    head -c 58 /dev/zero
    printf '\x80\x00\x00\x00'
    head -c 64 /dev/zero
    printf 'PE\0\0\x64\x86'
    fixed_bytes "$2" "$(($3 - 134))"
  } >"$1"
}

# ISO 9660 + Joliet + Rock Ridge with xorriso; SOURCE_DATE_EPOCH fixes every date it writes.
make_iso() { # OUT VOLID PUBLISHER TREE [more xorriso -as mkisofs args]
  local out=$1 volid=$2 publisher=$3 tree=$4
  shift 4
  normalize "$tree"
  run xorriso -as mkisofs -quiet -o "$out" -iso-level 3 -J -joliet-long -r \
    -V "$volid" -publisher "$publisher" -sysid LINUX -volset "$volid" \
    --modification-date="$ISO_DATE" --set_all_file_dates "$ISO_DATE" "$@" "$tree"
}

utf16_inf() { # SRC OUT: an .inf as Windows tools write it, UTF-16LE with a BOM and CRLF lines
  { printf '\xff\xfe'; sed 's/$/\r/' "$1" | iconv -f UTF-8 -t UTF-16LE; } >"$2"
}
catalog_file() { # OUT LABEL: a security catalog's shape (a PKCS#7 SignedData header, fixed filler)
  { printf '\x30\x82\x10\x00\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02'; fixed_bytes "$2" 2033; } >"$1"
}
# Zip with sorted members, no extra fields (-X), fixed DOS times (TZ=UTC), no directory entries.
make_zip() { # OUT TREE
  normalize "$2"
  (cd "$2" && find . -type f | sed 's|^\./||' | sort | zip -X -D -q -9 "$1" -@)
}

# Adds an image to a real WIM made by wimlib (captures it when the file does not exist yet), then
# sets its XML properties (NAME=VALUE after "--"). faketime fixes the image times in the XML.
wim_add_image() { # WIM INDEX TREE NAME DESC [--boot] [-- PROPERTY=VALUE...]
  local wim=$1 index=$2 tree=$3 name=$4 desc=$5
  shift 5
  local args=()
  while [[ $# -gt 0 && $1 != -- ]]; do args+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  local verb=append
  [[ -e $wim ]] || { verb=capture; args+=(--compress=LZX); }
  normalize "$tree"
  run env NO_FAKE_STAT=1 faketime -f "$FIXED_DATE" wimlib-imagex "$verb" "$tree" "$wim" \
    "$name" "$desc" "${args[@]}" --threads=1 --no-acls
  local p
  for p in "$@"; do
    run env NO_FAKE_STAT=1 faketime -f "$FIXED_DATE" wimlib-imagex info "$wim" "$index" --image-property "$p"
  done
}

# The WIM header's GUID (offset 24, 16 bytes) is random per capture and covered by no hash
# (we write no integrity table): set it from the file name instead.
wim_fix_guid() { # WIM
  local guid
  guid="$(printf '%s' "$(basename "$1")" | md5sum | cut -c1-32 | sed 's/../\\x&/g')"
  # shellcheck disable=SC2059
  printf "$guid" | dd of="$1" bs=1 seek=24 conv=notrunc status=none
}

# Downloads a pinned Debian package (the apt cache first) and extracts it into DIR.
fetch_deb() { # PACKAGE VERSION DIR
  local pkg=$1 version=$2 dir=$3 deb
  mkdir -p "$dir/deb"
  deb="$(find /var/cache/apt/archives -maxdepth 1 -name "${pkg}_${version//:/%3a}_*.deb" 2>/dev/null | head -n1)"
  if [[ -z $deb ]]; then
    if ! (cd "$dir/deb" && apt-get download -q "$pkg=$version" >/dev/null 2>&1); then
      # Stale or missing package lists: refresh once and retry.
      local sudo=()
      [[ $(id -u) -ne 0 ]] && sudo=(sudo)
      "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
      (cd "$dir/deb" && apt-get download -q "$pkg=$version" >/dev/null 2>&1) || return 1
    fi
    deb="$(find "$dir/deb" -name '*.deb' | head -n1)"
  fi
  dpkg-deb -x "$deb" "$dir/x"
}

check_sha256() { # FILE EXPECTED
  local actual
  actual="$(sha256sum "$1" | cut -d' ' -f1)"
  [[ $actual == "$2" ]] || die "$(basename "$1"): sha256 $actual, pinned $2 — the Debian package changed; look at it, then update the pin"
}

# Builds an RPM from SPEC with fixed build host and time; prints the path of the result.
build_rpm() { # SPEC TARGET [--define "NAME VALUE"...]
  local top="$S/rpmbuild" spec=$1 target=$2
  shift 2
  mkdir -p "$top"
  run rpmbuild -bb --target "$target" --nodeps --quiet \
    --define "_topdir $top" --define "_buildhost imagesmith" \
    --define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1" \
    --define "_dbpath $top/rpmdb" "$@" "$spec"
}

make_repodata() { # DIR
  run createrepo_c --quiet --no-database --workers 1 --revision "$SOURCE_DATE_EPOCH" \
    --set-timestamp-to-revision "$1"
}

# --- ISOs from Debian packages -------------------------------------------------------------------

fetch_deb ipxe "$IPXE_VERSION" "$S/ipxe" || die "cannot download ipxe=$IPXE_VERSION (apt-get download)"
cp "$S/ipxe/x/usr/lib/ipxe/ipxe.iso" "$F/ipxe.iso"
check_sha256 "$F/ipxe.iso" "$IPXE_ISO_SHA256"

if fetch_deb grub-rescue-pc "$GRUB_RESCUE_VERSION" "$S/grub"; then
  cp "$S/grub/x/usr/lib/grub-rescue/grub-rescue-cdrom.iso" "$F/grub-rescue-cdrom.iso"
  check_sha256 "$F/grub-rescue-cdrom.iso" "$GRUB_RESCUE_ISO_SHA256"
else
  log "WARNING: grub-rescue-pc=$GRUB_RESCUE_VERSION cannot be downloaded; grub-rescue-cdrom.iso is left out"
fi

# --- RPMs ----------------------------------------------------------------------------------------

build_rpm "$SRC/kmod-example.spec" x86_64
KMOD_RPM="$S/rpmbuild/RPMS/x86_64/kmod-example-1.0-1.el9.x86_64.rpm"
build_rpm "$SRC/example-release.spec" noarch
RELEASE_RPM="$S/rpmbuild/RPMS/noarch/example-release-9.6-1.el9.noarch.rpm"
cp "$KMOD_RPM" "$F/kmod-example-1.0-1.el9.x86_64.rpm"

# --- RHEL-like installer DVD ---------------------------------------------------------------------

T="$S/rhel"
mkdir -p "$T/images/pxeboot" "$T/Packages" "$T/EFI/BOOT"
# vmlinuz: a bzImage-shaped blob with the setup header fields a real one has (Linux
# Documentation/arch/x86/boot.rst): boot signature 55 AA at 0x1fe, "HdrS" at 0x202, boot protocol
# 2.15 at 0x206, and at 0x20e kernel_version, a pointer (less 0x200) to the version string — here
# RHEL 9.6 GA's kernel, as `file` prints it from the real one.
fixed_bytes rhel-vmlinuz 16384 >"$T/images/pxeboot/vmlinuz"
printf '\x55\xaaHdrS' | dd of="$T/images/pxeboot/vmlinuz" bs=1 seek=510 conv=notrunc status=none
printf '\x00\x00' | dd of="$T/images/pxeboot/vmlinuz" bs=1 seek=512 conv=notrunc status=none
printf 'HdrS\x0f\x02' | dd of="$T/images/pxeboot/vmlinuz" bs=1 seek=514 conv=notrunc status=none
printf '\x00\x30' | dd of="$T/images/pxeboot/vmlinuz" bs=1 seek=$((0x20e)) conv=notrunc status=none
RHEL96_KERNEL="5.14.0-570.12.1.el9_6.x86_64"
printf '%s (mockbuild@x86-64-01.build.eng.rdu2.redhat.com) #1 SMP PREEMPT_DYNAMIC Tue Apr 8 08:53:25 EDT 2025\0' \
  "$RHEL96_KERNEL" | dd of="$T/images/pxeboot/vmlinuz" bs=1 seek=$((0x3200)) conv=notrunc status=none
fixed_bytes rhel-initrd 8192 | gzip -n -9 >"$T/images/pxeboot/initrd.img"
pe_file "$T/EFI/BOOT/BOOTX64.EFI" rhel-bootx64 4096
cp "$RELEASE_RPM" "$T/Packages/"
normalize "$T/Packages"
make_repodata "$T"
vmlinuz_sum="$(sha256sum "$T/images/pxeboot/vmlinuz" | cut -d' ' -f1)"
initrd_sum="$(sha256sum "$T/images/pxeboot/initrd.img" | cut -d' ' -f1)"
cat >"$T/.treeinfo" <<EOF
[header]
type = productmd.treeinfo
version = 1.2

[release]
name = Red Hat Enterprise Linux
short = RHEL
version = 9.6
is_layered = false

[tree]
arch = x86_64
build_timestamp = $SOURCE_DATE_EPOCH
platforms = x86_64,xen
variants = BaseOS

[variant-BaseOS]
id = BaseOS
name = BaseOS
packages = Packages
repository = .
type = variant
uid = BaseOS

[general]
; WARNING.0 = This section provides compatibility with pre-productmd treeinfos.
; WARNING.1 = Read productmd documentation for details about new format.
arch = x86_64
family = Red Hat Enterprise Linux
name = Red Hat Enterprise Linux 9.6
packagedir = Packages
platforms = x86_64,xen
repository = .
timestamp = $SOURCE_DATE_EPOCH
variant = BaseOS
variants = BaseOS
version = 9.6

[images-x86_64]
initrd = images/pxeboot/initrd.img
kernel = images/pxeboot/vmlinuz

[images-xen]
initrd = images/pxeboot/initrd.img
kernel = images/pxeboot/vmlinuz

[checksums]
images/pxeboot/initrd.img = sha256:$initrd_sum
images/pxeboot/vmlinuz = sha256:$vmlinuz_sum
EOF
printf '%s.000000\n9.6\nx86_64\nALL\n' "$SOURCE_DATE_EPOCH" >"$T/.discinfo"
printf 'Red Hat Enterprise Linux release 9.6 (Plow) — Imagesmith test fixture, not a real DVD.\n' >"$T/EULA"
make_iso "$F/rhel-9.6-x86_64-dvd.iso" "RHEL-9-6-0-BaseOS-x86_64" "Red Hat, Inc." "$T" \
  -A "RHEL-9.6 BaseOS x86_64"

# --- Ubuntu-like server ISO ----------------------------------------------------------------------

T="$S/ubuntu"
mkdir -p "$T/.disk" "$T/dists/noble/main/binary-amd64" "$T/casper" "$T/boot/grub" "$T/pool/main"
printf 'Ubuntu-Server 24.04 LTS "Noble Numbat" - Release amd64 (20240423)' >"$T/.disk/info"
printf 'full_cd/single\n' >"$T/.disk/cd_type"
printf 'Archive: noble\nVersion: 24.04\nComponent: main\nOrigin: Ubuntu\nLabel: Ubuntu\nArchitecture: amd64\n' \
  >"$T/dists/noble/main/binary-amd64/Release"
: >"$T/dists/noble/main/binary-amd64/Packages"
gzip -n -9 <"$T/dists/noble/main/binary-amd64/Packages" >"$T/dists/noble/main/binary-amd64/Packages.gz"
{
  printf 'Origin: Ubuntu\nLabel: Ubuntu\nSuite: noble\nVersion: 24.04\nCodename: noble\n'
  printf 'Date: Tue, 23 Apr 2024 00:00:00 UTC\nArchitectures: amd64\nComponents: main restricted\n'
  printf 'Description: Ubuntu Noble 24.04\nSHA256:\n'
  for f in main/binary-amd64/Packages main/binary-amd64/Packages.gz main/binary-amd64/Release; do
    printf ' %s %16d %s\n' "$(sha256sum "$T/dists/noble/$f" | cut -d' ' -f1)" \
      "$(stat -c %s "$T/dists/noble/$f")" "$f"
  done
} >"$T/dists/noble/Release"
ln -s noble "$T/dists/stable"
fixed_bytes ubuntu-vmlinuz 16384 >"$T/casper/vmlinuz"
fixed_bytes ubuntu-initrd 8192 >"$T/casper/initrd"
cat >"$T/boot/grub/grub.cfg" <<'EOF'
set timeout=30
menuentry "Try or Install Ubuntu Server" {
	set gfxpayload=keep
	linux	/casper/vmlinuz  ---
	initrd	/casper/initrd
}
EOF
(cd "$T" && find . -type f ! -name md5sum.txt ! -path './boot/*' | sort | xargs md5sum) >"$T/md5sum.txt"
make_iso "$F/ubuntu-24.04-server-amd64.iso" "Ubuntu-Server 24.04 LTS amd64" "Canonical Ltd." "$T" \
  -A "Ubuntu-Server 24.04 LTS amd64"

# --- Windows Server 2022-like ISO ----------------------------------------------------------------

W="$S/install-wim"
mkdir -p "$W/Windows/System32/config" "$W/Program Files" "$W/Users/Public"
pe_file "$W/Windows/System32/ntoskrnl.exe" win-ntoskrnl 8192
fixed_bytes win-software-hive 4096 >"$W/Windows/System32/config/SOFTWARE"
printf 'regf' | dd of="$W/Windows/System32/config/SOFTWARE" bs=1 conv=notrunc status=none
printf 'Imagesmith test fixture\r\n' >"$W/Users/Public/desktop.ini"
T="$S/windows"
mkdir -p "$T/sources" "$T/boot" "$T/efi/boot" "$T/support"
WIN_PROPS=("WINDOWS/ARCH=9" "WINDOWS/PRODUCTNAME=Microsoft® Windows® Operating System"
  "WINDOWS/INSTALLATIONTYPE=Server" "WINDOWS/PRODUCTTYPE=ServerNT" "WINDOWS/VERSION/MAJOR=10"
  "WINDOWS/VERSION/MINOR=0" "WINDOWS/VERSION/BUILD=20348" "WINDOWS/VERSION/SPBUILD=587"
  "WINDOWS/LANGUAGES/LANGUAGE=en-US" "WINDOWS/LANGUAGES/DEFAULT=en-US")
wim_add_image "$T/sources/install.wim" 1 "$W" "Windows Server 2022 SERVERSTANDARD" \
  "Windows Server 2022 Standard" -- "${WIN_PROPS[@]}" "WINDOWS/EDITIONID=ServerStandard" \
  "FLAGS=ServerStandard" "DISPLAYNAME=Windows Server 2022 Standard (Desktop Experience)"
wim_add_image "$T/sources/install.wim" 2 "$W" "Windows Server 2022 SERVERDATACENTER" \
  "Windows Server 2022 Datacenter" -- "${WIN_PROPS[@]}" "WINDOWS/EDITIONID=ServerDatacenter" \
  "FLAGS=ServerDatacenter" "DISPLAYNAME=Windows Server 2022 Datacenter (Desktop Experience)"
wim_fix_guid "$T/sources/install.wim"
# Setup's boot.wim: Windows PE (FLAGS 9) and Windows Setup (FLAGS 2), both INSTALLATIONTYPE WindowsPE.
W="$S/setup-boot-wim"
mkdir -p "$W/Windows/System32" "$W/sources"
pe_file "$W/Windows/System32/winpeshl.exe" setup-winpeshl 2048
pe_file "$W/sources/setup.exe" setup-setup 2048
WINPE_PROPS=("WINDOWS/ARCH=9" "WINDOWS/EDITIONID=WindowsPE" "WINDOWS/INSTALLATIONTYPE=WindowsPE"
  "WINDOWS/PRODUCTTYPE=WinNT" "WINDOWS/VERSION/MAJOR=10" "WINDOWS/VERSION/MINOR=0"
  "WINDOWS/VERSION/BUILD=20348" "WINDOWS/VERSION/SPBUILD=1" "WINDOWS/LANGUAGES/LANGUAGE=en-US")
wim_add_image "$T/sources/boot.wim" 1 "$W" "Microsoft Windows PE (amd64)" "Microsoft Windows PE (amd64)" \
  -- "${WINPE_PROPS[@]}" "FLAGS=9"
wim_add_image "$T/sources/boot.wim" 2 "$W" "Microsoft Windows Setup (amd64)" "Microsoft Windows Setup (amd64)" \
  --boot -- "${WINPE_PROPS[@]}" "FLAGS=2"
wim_fix_guid "$T/sources/boot.wim"
pe_file "$T/bootmgr" win-bootmgr 4096
pe_file "$T/bootmgr.efi" win-bootmgr-efi 4096
pe_file "$T/setup.exe" win-setup 2048
pe_file "$T/sources/setup.exe" win-sources-setup 2048
pe_file "$T/efi/boot/bootx64.efi" win-bootx64 4096
fixed_bytes win-bcd 8192 >"$T/boot/bcd"
printf 'regf' | dd of="$T/boot/bcd" bs=1 conv=notrunc status=none
printf '[AutoRun.Amd64]\r\nopen=setup.exe\r\nicon=setup.exe,0\r\n' >"$T/autorun.inf"
make_iso "$F/win-server-2022.iso" "SSS_X64FREE_EN-US_DV9" "MICROSOFT CORPORATION" "$T" \
  -A "CDIMAGE 2.56 (01/01/2005 TM)"
# The same tree as a UDF bridge (ISO 9660 + UDF 1.02), the shape real Windows media have.
normalize "$T"
run faketime -f "$FIXED_DATE" genisoimage -quiet -udf -J -joliet-long -r -iso-level 3 \
  -V "SSS_X64FREE_EN-US_DV9" -publisher "MICROSOFT CORPORATION" -sysid LINUX \
  -o "$F/win-server-2022-udf.iso" "$T"

# --- Windows 11-like arm64 ISO: install.esd, sources/ in UDF only ------------------------------------
# As oscdimg -u2 writes Windows media: the ISO 9660 and Joliet trees show only README.TXT (cut by
# fixtures/iso9660-readme-only.py after genisoimage, whose -hide would hide files from UDF as well);
# the rest is reachable through UDF. install.esd is a solid (LZMS) WIM, as Microsoft's ESDs are.

W="$S/install-esd"
mkdir -p "$W/Windows/System32/config" "$W/Users/Public"
pe_file "$W/Windows/System32/ntoskrnl.exe" win11-ntoskrnl 8192
fixed_bytes win11-software-hive 4096 >"$W/Windows/System32/config/SOFTWARE"
printf 'regf' | dd of="$W/Windows/System32/config/SOFTWARE" bs=1 conv=notrunc status=none
T="$S/win11"
mkdir -p "$T/sources" "$T/boot" "$T/efi/boot"
WIN11_PROPS=("WINDOWS/ARCH=12" "WINDOWS/PRODUCTNAME=Microsoft® Windows® Operating System"
  "WINDOWS/INSTALLATIONTYPE=Client" "WINDOWS/PRODUCTTYPE=WinNT" "WINDOWS/VERSION/MAJOR=10"
  "WINDOWS/VERSION/MINOR=0" "WINDOWS/VERSION/BUILD=22631" "WINDOWS/VERSION/SPBUILD=2428"
  "WINDOWS/LANGUAGES/LANGUAGE=en-US" "WINDOWS/LANGUAGES/LANGUAGE[2]=de-DE" "WINDOWS/LANGUAGES/DEFAULT=en-US")
index=0
for edition in Core:Home Professional:Pro Education:Education; do
  index=$((index + 1))
  wim_add_image "$T/sources/install.esd" "$index" "$W" "Windows 11 ${edition#*:}" "Windows 11 ${edition#*:}" \
    --solid -- "${WIN11_PROPS[@]}" "WINDOWS/EDITIONID=${edition%%:*}" "FLAGS=${edition%%:*}" \
    "DISPLAYNAME=Windows 11 ${edition#*:}"
done
wim_fix_guid "$T/sources/install.esd"
pe_file "$T/bootmgr.efi" win11-bootmgr-efi 4096
pe_file "$T/setup.exe" win11-setup 2048
pe_file "$T/efi/boot/bootaa64.efi" win11-bootaa64 4096
fixed_bytes win11-bcd 8192 >"$T/boot/bcd"
printf 'regf' | dd of="$T/boot/bcd" bs=1 conv=notrunc status=none
printf 'This disc contains a "UDF" file system and requires an operating system\r\nthat supports the ISO-13346 "UDF" file system specification.\r\n' >"$T/README.TXT"
normalize "$T"
run faketime -f "$FIXED_DATE" genisoimage -quiet -udf -J -joliet-long -r -iso-level 3 \
  -V "CCCOMA_A64FRE_EN-US_DV9" -publisher "MICROSOFT CORPORATION" -sysid LINUX \
  -o "$F/win11-arm64-udf.iso" "$T"
run python3 "$SRC/iso9660-readme-only.py" "$F/win11-arm64-udf.iso" README.TXT

# Empty UDF file systems of the other revisions, made by mkudffs (udftools): 2.01 on a plain
# partition, as hard disks and DVD-ROMs use it, and 2.50 for BD-R, whose virtual (VAT) partition
# Imagesmith refuses as not installer media. (No tool here writes files into UDF 2.50's metadata
# partition without mounting it.)
for rev in 2.01:hd 2.50:bdr; do
  img="$F/udf-${rev%%:*}-${rev#*:}.img"
  truncate -s 2M "$img"
  run faketime -f "$FIXED_DATE" mkudffs --media-type="${rev#*:}" --udfrev="${rev%%:*}" --blocksize=2048 \
    --uuid=0123456789abcdef --vid="UDF${rev%%:*}" "$img"
done

# --- ESXi-like installer ISO ---------------------------------------------------------------------

T="$S/esxi"
mkdir -p "$T/efi/boot" "$T/upgrade"
cat >"$T/boot.cfg" <<'EOF'
bootstate=0
title=Loading ESXi installer
timeout=5
prefix=
kernel=/b.b00
kernelopt=runweasel cdromBoot
modules=/jumpstrt.gz --- /useropts.gz --- /features.gz --- /k.b00 --- /s.v00
build=8.0.2-0.0.22380479
updated=0
EOF
cp "$T/boot.cfg" "$T/efi/boot/boot.cfg"
cat >"$T/vmware-esx-base-osl.txt" <<'EOF'
Open Source Licenses

VMware ESXi 8.0 Update 2 (build 22380479)

This file is an Imagesmith test fixture standing in for the open source license notices that
VMware ESXi installer media carry.
EOF
fixed_bytes esxi-b00 16384 >"$T/b.b00"
fixed_bytes esxi-jumpstrt 2048 | gzip -n -9 >"$T/jumpstrt.gz"
fixed_bytes esxi-useropts 512 | gzip -n -9 >"$T/useropts.gz"
fixed_bytes esxi-features 512 | gzip -n -9 >"$T/features.gz"
fixed_bytes esxi-k 8192 >"$T/k.b00"
fixed_bytes esxi-s 8192 >"$T/s.v00"
pe_file "$T/efi/boot/bootx64.efi" esxi-bootx64 4096
make_iso "$F/esxi-8.0.iso" "ESXI-8.0U2-22380479-STANDARD" "VMware, Inc." "$T" -A "ESXIMAGE"

# --- Debian, SUSE and Fedora installer ISOs: the exact OS from .disk/info, media.1/products, and ---
# --- (Fedora, no tree files) libosinfo's volume-id rule alone ------------------------------------

T="$S/debian"
mkdir -p "$T/.disk" "$T/install.amd" "$T/dists/bookworm"
printf 'Debian GNU/Linux 12.7.0 "Bookworm" - Official amd64 DVD Binary-1 20240831-10:40' >"$T/.disk/info"
printf 'Origin: Debian\nSuite: stable\nVersion: 12.7\nCodename: bookworm\nArchitectures: amd64\n' >"$T/dists/bookworm/Release"
fixed_bytes debian-vmlinuz 8192 >"$T/install.amd/vmlinuz"
make_iso "$F/debian-12.7.0-amd64-DVD-1.iso" "Debian 12.7.0 amd64 1" "Debian" "$T" -A "Debian GNU/Linux 12.7.0"

T="$S/sles"
mkdir -p "$T/media.1" "$T/boot/x86_64/loader"
printf '/Module-Basesystem sle-module-basesystem 15.6-0\n/Product-SLES sles 15.6-0\n' >"$T/media.1/products"
printf 'SUSE - SLE-15-SP6-Full-x86_64-GM-Media1\n20240614\n1\n' >"$T/media.1/media"
fixed_bytes sles-linux 8192 >"$T/boot/x86_64/loader/linux"
make_iso "$F/sle-15-sp6-full-x86_64.iso" "SLE-15-SP6-Full-x86_64135.1.000" "SUSE LLC" "$T"

T="$S/fedora"
mkdir -p "$T/isolinux"
fixed_bytes fedora-vmlinuz 8192 >"$T/isolinux/vmlinuz"
make_iso "$F/fedora-server-dvd-x86_64-37.iso" "Fedora-S-dvd-x86_64-37" "Fedora Project" "$T"

# --- RHEL driver update disk ---------------------------------------------------------------------

T="$S/dud"
mkdir -p "$T/rpms/x86_64" "$T/src"
printf 'Example network driver update disk for RHEL 9.4 (kmod-example 1.0)\n' >"$T/rhdd3"
cp "$KMOD_RPM" "$T/rpms/x86_64/"
normalize "$T/rpms"
make_repodata "$T/rpms/x86_64"
make_iso "$F/dud-kmod-example.iso" "OEMDRV" "Example Networks" "$T"

# --- Drivers to describe: a kmod RPM, a plain RPM, a DUD of the kmod, a zip of two .inf files -----
# kmod-ixgbe: an xz-compressed module under /lib/modules/5.14.0-427.el9.x86_64/extra, kernel-modules
# and kmod(ixgbe.ko) provides. example-release: no kernel module, so not a driver (software).
build_rpm "$SRC/kmod-ixgbe.spec" x86_64
IXGBE_RPM="$S/rpmbuild/RPMS/x86_64/kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm"
cp "$IXGBE_RPM" "$F/"
# The same driver for aarch64, for RHEL 9.6's kernel, and for RHEL 8.10's: what a driver that does
# not fit an image (another architecture or kernel series) and one that does look like.
build_rpm "$SRC/kmod-ixgbe.spec" aarch64
cp "$S/rpmbuild/RPMS/aarch64/kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm" "$F/"
build_rpm "$SRC/kmod-ixgbe.spec" x86_64 --define "kernel_base ${RHEL96_KERNEL%.x86_64}" --define "pkg_release 1.el9_6"
cp "$S/rpmbuild/RPMS/x86_64/kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm" "$F/"
build_rpm "$SRC/kmod-ixgbe.spec" x86_64 --define "kernel_base 4.18.0-553.el8_10" --define "pkg_release 1.el8_10"
cp "$S/rpmbuild/RPMS/x86_64/kmod-ixgbe-5.19.6-1.el8_10.x86_64.rpm" "$F/"
cp "$RELEASE_RPM" "$F/example-release-9.6-1.el9.noarch.rpm"

T="$S/dud-ixgbe"
mkdir -p "$T/rpms/x86_64"
printf 'Intel ixgbe 5.19.6 driver update disk for RHEL 9.4\n' >"$T/rhdd3"
cp "$IXGBE_RPM" "$T/rpms/x86_64/"
normalize "$T/rpms"
make_repodata "$T/rpms/x86_64"
make_iso "$F/dud-ixgbe-rhel9.4.iso" "OEMDRV" "Example Networks" "$T"

# Two .inf files as vendors ship them: i40ea.inf in UTF-16LE with a BOM and CRLF lines (amd64,
# Server 2019 and 2022 decorations), i40eb.inf in UTF-8 without a BOM (arm64 and x86); both
# catalogs are there, i40eb64.sys that i40eb.inf names is not.
T="$S/win-intel-nic"
mkdir -p "$T"
utf16_inf "$SRC/i40ea.inf" "$T/i40ea.inf"
cp "$SRC/i40eb.inf" "$T/i40eb.inf"
catalog_file "$T/i40ea.cat" i40ea-cat
catalog_file "$T/i40eb.cat" i40eb-cat
pe_file "$T/i40ea68.sys" i40ea-sys 8192
make_zip "$F/win-intel-nic-driver.zip" "$T"

# A driver for Windows 11 / Server 2025-era builds only (NTamd64.10.0...22000): it does not fit
# Windows Server 2022 (build 20348).
T="$S/win11-nic"
mkdir -p "$T"
utf16_inf "$SRC/netw11.inf" "$T/netw11.inf"
catalog_file "$T/netw11.cat" netw11-cat
pe_file "$T/netw11.sys" netw11-sys 8192
make_zip "$F/win11-nic-driver.zip" "$T"

# --- Windows driver package, WinPE, vendor bundle ------------------------------------------------

T="$S/win-nic-driver"
mkdir -p "$T"
utf16_inf "$SRC/netexample.inf" "$T/netexample.inf"
catalog_file "$T/netexample.cat" nic-cat
pe_file "$T/netexample.sys" nic-sys 8192
make_zip "$F/win-nic-driver.zip" "$T"

W="$S/boot-wim"
mkdir -p "$W/Windows/System32"
pe_file "$W/Windows/System32/winpeshl.exe" winpe-shl 2048
pe_file "$W/Windows/System32/ntoskrnl.exe" winpe-ntoskrnl 8192
T="$S/winpe"
mkdir -p "$T/boot" "$T/efi/boot" "$T/sources"
wim_add_image "$T/sources/boot.wim" 1 "$W" "Microsoft Windows PE (amd64)" "Microsoft Windows PE (amd64)" \
  --boot -- "WINDOWS/ARCH=9" "WINDOWS/EDITIONID=WindowsPE" "WINDOWS/INSTALLATIONTYPE=WindowsPE" \
  "WINDOWS/VERSION/MAJOR=10" "WINDOWS/VERSION/MINOR=0" "WINDOWS/VERSION/BUILD=20348"
wim_fix_guid "$T/sources/boot.wim"
pe_file "$T/bootmgr" winpe-bootmgr 4096
pe_file "$T/bootmgr.efi" winpe-bootmgr-efi 4096
pe_file "$T/efi/boot/bootx64.efi" winpe-bootx64 4096
fixed_bytes winpe-bcd 8192 >"$T/boot/bcd"
printf 'regf' | dd of="$T/boot/bcd" bs=1 conv=notrunc status=none
{ printf '\x24SDI0001'; fixed_bytes winpe-sdi 4088; } >"$T/boot/boot.sdi"
make_zip "$F/winpe-amd64.zip" "$T"
# The same tree as a bootable-media ISO (what MakeWinPEMedia /ISO makes): boot.wim, no install.wim.
run faketime -f "$FIXED_DATE" genisoimage -quiet -udf -J -joliet-long -r -iso-level 3 \
  -V "WINPE_AMD64" -publisher "MICROSOFT CORPORATION" -sysid LINUX -o "$F/winpe-amd64.iso" "$T"
# Boot files whose boot.wim is a full Windows (an install image renamed boot.wim), not Windows PE:
# a profile refuses them as boot files.
T2="$S/boot-not-winpe"
cp -a "$T" "$T2"
rm "$T2/sources/boot.wim"
wim_add_image "$T2/sources/boot.wim" 1 "$W" "Windows Server 2022 SERVERSTANDARD" "Windows Server 2022 SERVERSTANDARD" \
  --boot -- "WINDOWS/ARCH=9" "WINDOWS/EDITIONID=ServerStandard" "WINDOWS/INSTALLATIONTYPE=Server" \
  "WINDOWS/VERSION/MAJOR=10" "WINDOWS/VERSION/MINOR=0" "WINDOWS/VERSION/BUILD=20348"
wim_fix_guid "$T2/sources/boot.wim"
make_zip "$F/boot-not-winpe.zip" "$T2"

T="$S/vendor-bundle"
mkdir -p "$T/bin" "$T/docs"
pe_file "$T/bin/vendortool.exe" vendor-tool 4096
printf '@echo off\r\n"%%~dp0bin\\vendortool.exe" /install /quiet\r\n' >"$T/install.cmd"
printf '{"vendor": "Example Networks", "bundle": "firmware-tools", "version": "4.2.0"}\n' >"$T/manifest.json"
printf 'Example Networks firmware tools 4.2.0 (Imagesmith test fixture)\n' >"$T/docs/README.txt"
make_zip "$F/vendor-bundle.zip" "$T"
# Detached signature with a throwaway key. Not reproducible: the key and the signature's creation
# time are new each build (the public key is kept as vendor-signing-key.gpg for gpgv).
GNUPGHOME="$(mktemp -d "${TMPDIR:-/tmp}/imagesmith-gpg.XXXXXX")"
export GNUPGHOME
run gpg --batch --passphrase '' --quick-gen-key "Example Networks Fixture Signing <signing@example.invalid>" ed25519 sign never
run gpg --batch --armor --detach-sign --output "$F/vendor-bundle.zip.asc" "$F/vendor-bundle.zip"
run gpg --batch --export --output "$F/vendor-signing-key.gpg"
gpgconf --kill gpg-agent >/dev/null 2>&1 || true
rm -rf "$GNUPGHOME"
unset GNUPGHOME
run gpgv --keyring "$F/vendor-signing-key.gpg" "$F/vendor-bundle.zip.asc" "$F/vendor-bundle.zip"

# --- answer files, scripts, JSON, text -----------------------------------------------------------

cp "$SRC"/files/* "$F/"
chmod 0755 "$F/post-install.sh" "$F/collect.py"
KSVALIDATOR="$(command -v ksvalidator || true)"
[[ -z $KSVALIDATOR && -x "${KS_VENV:-$ROOT/target/ks-venv}/bin/ksvalidator" ]] &&
  KSVALIDATOR="${KS_VENV:-$ROOT/target/ks-venv}/bin/ksvalidator"
if [[ -n $KSVALIDATOR ]]; then
  run "$KSVALIDATOR" -v RHEL9 "$F/ks.cfg"
  log "ks.cfg passes ksvalidator -v RHEL9"
fi

# --- software archives ---------------------------------------------------------------------------

T="$S/software/monitoring-agent-2.1"
mkdir -p "$T/bin" "$T/etc" "$T/lib" "$T/share/doc"
cat >"$T/bin/monitoring-agent" <<'EOF'
#!/bin/sh
# monitoring-agent 2.1 — reports load and disk use every 60 s (Imagesmith test fixture)
exec /usr/bin/env python3 "$(dirname "$0")/../lib/collector.py" "$@"
EOF
cat >"$T/lib/collector.py" <<'EOF'
"""Collects load and disk figures (Imagesmith test fixture)."""
import os
import shutil

print(os.getloadavg(), shutil.disk_usage("/"))
EOF
printf 'interval = 60\nserver = https://monitor.example.invalid\n' >"$T/etc/monitoring-agent.conf"
cat >"$T/install.sh" <<'EOF'
#!/bin/sh
set -e
install -d /opt/monitoring-agent
cp -R bin etc lib /opt/monitoring-agent/
EOF
printf 'monitoring-agent 2.1\n\nRun ./install.sh as root.\n' >"$T/README"
printf 'MIT License (Imagesmith test fixture)\n' >"$T/share/doc/LICENSE"
chmod +x "$T/bin/monitoring-agent" "$T/install.sh"
normalize "$S/software"
tar -C "$S/software" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
  -cf - monitoring-agent-2.1 | gzip -n -9 >"$F/monitoring-agent-2.1.tar.gz"
(cd "$S/software" && find monitoring-agent-2.1 -type f | sort | zip -X -D -q -9 "$F/monitoring-agent-2.1.zip" -@)

# --- broken ISOs ---------------------------------------------------------------------------------

head -c 20480 "$F/ipxe.iso" >"$F/truncated.iso"          # ends before the volume descriptors
{ head -c 32768 /dev/zero; fixed_bytes random-vd 8192; } >"$F/random-vd.iso" # random bytes where they start

# --- checksum files ------------------------------------------------------------------------------

SUMMED=(ipxe.iso rhel-9.6-x86_64-dvd.iso ks.cfg)
(
  cd "$F"
  sha256sum "${SUMMED[@]}" >SHA256SUMS
  sha256sum -c --strict --quiet SHA256SUMS
  sha256sum -b "${SUMMED[@]}" >SHA256SUMS.binary
  sha256sum -c --strict --quiet SHA256SUMS.binary
  sha512sum --tag "${SUMMED[@]}" >SHA512SUMS.tag
  sha512sum -c --strict --quiet SHA512SUMS.tag
  {
    printf '# MD5 checksums of the Imagesmith fixtures\n# written with CRLF line endings\n'
    md5sum "${SUMMED[@]}"
  } | sed 's/$/\r/' >MD5SUMS.crlf
  # coreutils 9.1 (Debian 12) reads CRLF lines itself: no tr -d '\r' needed.
  md5sum -c --strict --quiet MD5SUMS.crlf
  {
    printf '# Imagesmith fixtures, Fedora-style CHECKSUM\n'
    for f in "${SUMMED[@]}"; do
      printf '# %s: %s bytes\n' "$f" "$(stat -c %s "$f")"
      sha256sum --tag "$f"
    done
  } >CHECKSUM
  sha256sum -c --strict --quiet CHECKSUM
  sha256sum ipxe.iso | cut -d' ' -f1 >ipxe.iso.sha256
  printf '%s  ipxe.iso\n' "$(cat ipxe.iso.sha256)" | sha256sum -c --strict --quiet
  md5sum ks.cfg >ks.cfg.md5
  md5sum -c --strict --quiet ks.cfg.md5
  sha256sum "${SUMMED[@]}" | awk '{ $1 = toupper($1); print $1 "  " $2 }' >SHA256SUMS.upper
  sha256sum -c --strict --quiet SHA256SUMS.upper
  # The ipxe.iso entry's first hex digit is flipped (0<->1, a<->b, ...).
  sha256sum "${SUMMED[@]}" | awk '$2 == "ipxe.iso" {
      d = index("0123456789abcdef", substr($1, 1, 1)) - 1
      $1 = substr("1032547698badcfe", d + 1, 1) substr($1, 2)
    } { print $1 "  " $2 }' >SHA256SUMS.wrong
  if sha256sum -c --quiet SHA256SUMS.wrong >/dev/null 2>&1; then
    echo "SHA256SUMS.wrong verifies, but must not" >&2
    exit 1
  fi
) || die "a checksum file does not verify"

# --- software homes for gold images --------------------------------------------------------------
# Real homes as Debian installs them: the Python 3.11 library with its test suite (~2,000 files in
# ~200 folders, the packages' own modes and times) and a Java 17 runtime (executables, ~100 symlinks,
# a 40 MB module image).
PYTHON_VERSION="3.11.2-6+deb12u9"
for pkg in libpython3.11-minimal libpython3.11-stdlib libpython3.11-testsuite; do
  fetch_deb "$pkg" "$PYTHON_VERSION" "$S/python" || die "cannot download $pkg=$PYTHON_VERSION (apt-get download)"
  rm -rf "$S/python/deb"
done
JDK_VERSION="17.0.21.1+2-1~deb12u1"
fetch_deb openjdk-17-jre-headless "$JDK_VERSION" "$S/jdk" || die "cannot download openjdk-17-jre-headless=$JDK_VERSION"
mkdir -p "$F/homes"
cp -a "$S/python/x/usr/lib/python3.11" "$F/homes/python3.11"
cp -a "$S/jdk/x/usr/lib/jvm/java-17-openjdk-amd64" "$F/homes/jdk17"
[[ $(find "$F/homes/python3.11" -type f | wc -l) -gt 1500 ]] || die "the Python home has too few files"
[[ $(find "$F/homes/jdk17" -type l | wc -l) -gt 10 ]] || die "the Java home has too few links"

# --- self-checks ---------------------------------------------------------------------------------

check_volid() { # ISO EXPECTED
  local v
  v="$(isoinfo -d -i "$F/$1" | sed -n 's/^Volume id: //p')"
  [[ $v == "$2" ]] || die "$1: volume id '$v', expected '$2'"
}
check_volid ipxe.iso ISOIMAGE
check_volid rhel-9.6-x86_64-dvd.iso RHEL-9-6-0-BaseOS-x86_64
check_volid ubuntu-24.04-server-amd64.iso "Ubuntu-Server 24.04 LTS amd64"
check_volid win-server-2022.iso SSS_X64FREE_EN-US_DV9
check_volid win-server-2022-udf.iso SSS_X64FREE_EN-US_DV9
check_volid win11-arm64-udf.iso CCCOMA_A64FRE_EN-US_DV9
check_volid winpe-amd64.iso WINPE_AMD64
# Windows media show sources/ only through UDF: their ISO 9660 and Joliet trees hold only the README.
[[ "$(isoinfo -f -i "$F/win11-arm64-udf.iso")" == "/README.TXT;1" ]] || die "win11-arm64-udf.iso: ISO 9660 shows more than README.TXT"
[[ "$(isoinfo -J -f -i "$F/win11-arm64-udf.iso")" == "/README.TXT" ]] || die "win11-arm64-udf.iso: Joliet shows more than README.TXT"
[[ "$(wimlib-imagex info "$S/win11/sources/install.esd" 3 | sed -n 's/^Edition ID: *//p')" == Education ]] ||
  die "install.esd: image 3 is not Education"
check_volid esxi-8.0.iso ESXI-8.0U2-22380479-STANDARD
check_volid dud-kmod-example.iso OEMDRV
check_volid dud-ixgbe-rhel9.4.iso OEMDRV
rpm -qp --provides "$F/kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm" 2>/dev/null |
  grep -qx 'kernel-modules >= 5.14.0-427.el9' || die "kmod-ixgbe RPM lacks its kernel-modules provide"
rpm -qpl "$F/kmod-ixgbe-5.19.6-1.el9_4.x86_64.rpm" 2>/dev/null |
  grep -qx '/lib/modules/5.14.0-427.el9.x86_64/extra/ixgbe.ko.xz' || die "kmod-ixgbe RPM lacks ixgbe.ko.xz"
rpm -qpl "$F/example-release-9.6-1.el9.noarch.rpm" 2>/dev/null | grep -q '\.ko' && die "example-release carries a module"
[[ "$(head -c 2 "$S/win-intel-nic/i40ea.inf" | od -An -tx1 | tr -d ' ')" == fffe ]] || die "i40ea.inf is not UTF-16LE with a BOM"
[[ "$(head -c 4 "$F/kmod-example-1.0-1.el9.x86_64.rpm" | od -An -tx1 | tr -d ' ')" == edabeedb ]] ||
  die "kmod-example RPM has no RPM lead"
rpm -qp --provides "$F/kmod-example-1.0-1.el9.x86_64.rpm" 2>/dev/null |
  grep -qx 'kernel-modules >= 5.14.0-427.el9.x86_64' || die "kmod-example RPM lacks its kernel-modules provide"
[[ "$(file -b "$S/rhel/images/pxeboot/vmlinuz")" == *"version $RHEL96_KERNEL "* ]] ||
  die "the RHEL vmlinuz does not name its kernel the way file(1) reads bzImages: $(file -b "$S/rhel/images/pxeboot/vmlinuz")"
rpm -qpl "$F/kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm" 2>/dev/null |
  grep -qx '/lib/modules/5.14.0-427.el9.aarch64/extra/ixgbe.ko.xz' || die "the aarch64 kmod-ixgbe lacks its module"
rpm -qp --provides "$F/kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm" 2>/dev/null |
  grep -qx "kernel-modules >= ${RHEL96_KERNEL%.x86_64}" || die "the RHEL 9.6 kmod-ixgbe lacks its kernel-modules provide"
for z in win-nic-driver.zip win-intel-nic-driver.zip win11-nic-driver.zip winpe-amd64.zip boot-not-winpe.zip vendor-bundle.zip monitoring-agent-2.1.zip; do
  run unzip -tq "$F/$z"
done
run gzip -t "$F/monitoring-agent-2.1.tar.gz"

# --- manifest, stamp, rename into place ----------------------------------------------------------

(cd "$F" && for f in $(find . -maxdepth 1 -type f ! -name MANIFEST.txt -printf '%f\n' | sort); do
  printf '%s %s %s\n' "$f" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"
done) >"$F/MANIFEST.txt"
find "$F" -maxdepth 1 -type f -exec chmod 0644 {} +
chmod 0755 "$F/post-install.sh" "$F/collect.py"
printf '%s\n' "$STAMP" >"$F/.stamp"

if [[ -e $OUT ]]; then mv "$OUT" "$WORK/previous"; fi
mv "$F" "$OUT"
log "$(wc -l <"$OUT/MANIFEST.txt") files in $OUT ($((SECONDS - START)) s)"
