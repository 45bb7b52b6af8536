#!/usr/bin/env bash
# libvirt-vm.sh — a test VM with two qcow2 disks and three offline snapshots of known contents, in
# the libvirt daemon of scripts/servers.sh (TS_LIBVIRT_URI in servers.env), for the snapshot-image
# tests.
#
#   scripts/servers/libvirt-vm.sh create URI DIR NAME [--start]
#   scripts/servers/libvirt-vm.sh check DIR NAME
#
# create: makes DIR/NAME-vda.qcow2 (64 MiB) and DIR/NAME-vdb.qcow2 (32 MiB) with qemu-img, defines
# domain NAME (type qemu = TCG, no network, no graphics; disk_id 1 = vda, 2 = vdb, file-backed
# qcow2), and takes three snapshots with `virsh snapshot-create-as` while it is shut off, so
# libvirt makes them internal qcow2 snapshots in both disks (`qemu-img snapshot -c`). Between the
# steps qemu-io writes these patterns (offsets and lengths in bytes; K = KiB, M = MiB):
#
#   step      vda (disk_id 1)                      vdb (disk_id 2)
#   1         0x11 at 0, 1M                        0xa1 at 0, 1M
#             -> snapshot s1-installed  "Fresh install"
#   2         0x22 at 512K, 1M                     0xa2 at 8M, 1M
#             -> snapshot s2-configured "Configured"
#   3         zeroes at 0, 256K; 0x33 at 32M, 1M   0xa3 at 0, 64K
#             -> snapshot s3-updated    "Updated"
#   4         0x44 at 0, 1M                        0xa4 at 0, 1M   (current state only)
#
# A snapshot holds the steps up to its own; everything else reads as zeroes. The snapshots are
# taken within a second or so of each other, so their creation times may be equal: tell them
# apart by name (or by the parent chain s1 <- s2 <- s3). --start then starts the VM under TCG (it
# boots nothing: SeaBIOS finds no bootable disk and idles). Prints KEY=VALUE lines: VM, VM_UUID,
# DISK1, DISK2, SNAPSHOTS (comma-separated, oldest first).
#
# check: extracts every snapshot of both disks with `qemu-img convert -U -l snapshot.name=S` and
# compares it (`qemu-img compare`) with the patterns above; also the current state. Works while
# the VM runs (-U: shared, read-only). Exit 0 when all eight match.
#
# NAME: letters, digits and ._- only. DIR must be visible to the daemon at the same path (any
# directory outside /etc/libvirt, /var/lib/libvirt, /run/libvirt, /var/cache/libvirt and
# /var/log/libvirt, which the test daemon sees as its own). Needs qemu-img, qemu-io, virsh.
set -euo pipefail

die() { printf 'libvirt-vm: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

SNAPSHOTS=(s1-installed s2-configured s3-updated)
DESCRIPTIONS=("Fresh install" "Configured" "Updated")

# The qemu-io commands of step N for disk vda or vdb (one per line).
step_writes() { # STEP DISK
  case "$1:$2" in
    1:vda) echo "write -P 0x11 0 1M" ;;
    1:vdb) echo "write -P 0xa1 0 1M" ;;
    2:vda) echo "write -P 0x22 512K 1M" ;;
    2:vdb) echo "write -P 0xa2 8M 1M" ;;
    3:vda) printf '%s\n' "write -z 0 256K" "write -P 0x33 32M 1M" ;;
    3:vdb) echo "write -P 0xa3 0 64K" ;;
    4:vda) echo "write -P 0x44 0 1M" ;;
    4:vdb) echo "write -P 0xa4 0 1M" ;;
  esac
}

disk_size() { [[ $1 == vda ]] && echo 64M || echo 32M; }

# write_step FILE FORMAT STEP DISK: applies step STEP's writes to FILE.
write_step() {
  local file="$1" fmt="$2" step="$3" disk="$4" c args=()
  while IFS= read -r c; do args+=(-c "$c"); done < <(step_writes "$step" "$disk")
  qemu-io -f "$fmt" "${args[@]}" "$file" >/dev/null || die "qemu-io on $file failed"
}

domain_xml() { # NAME DIR
  cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <description>Imagesmith test VM (scripts/servers/libvirt-vm.sh)</description>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <!-- Without <acpi/>, libvirt 9.0 passes -no-acpi, which QEMU 10 no longer has. -->
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$2/$1-vda.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$2/$1-vdb.qcow2'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

cmd_create() {
  [[ $# -ge 3 && $# -le 4 ]] || usage
  local uri="$1" dir name="$3" start=0
  [[ ${4:-} == --start ]] && start=1
  [[ -z ${4:-} || $start -eq 1 ]] || usage
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "VM name '$name': use letters, digits and ._- only"
  mkdir -p "$2"
  dir="$(realpath -- "$2")"
  [[ $dir != *[\'\"\<\>\&]* ]] || die "directory '$dir': no quotes, < > or & (it goes into XML)"
  local v="virsh -q -c $uri"
  # The name must be free in this daemon (a leftover would keep its old disks and snapshots).
  if virsh -q -c "$uri" dominfo "$name" >/dev/null 2>&1; then die "domain $name already exists"; fi
  local disk
  for disk in vda vdb; do
    qemu-img create -q -f qcow2 "$dir/$name-$disk.qcow2" "$(disk_size "$disk")" \
      || die "qemu-img create $dir/$name-$disk.qcow2 failed"
  done
  domain_xml "$name" "$dir" >"$dir/$name.xml"
  virsh -q -c "$uri" define "$dir/$name.xml" >/dev/null || die "$v define $dir/$name.xml failed"
  local i
  for i in 0 1 2; do
    for disk in vda vdb; do write_step "$dir/$name-$disk.qcow2" qcow2 $((i + 1)) "$disk"; done
    virsh -q -c "$uri" snapshot-create-as "$name" "${SNAPSHOTS[$i]}" \
      --description "${DESCRIPTIONS[$i]}" >/dev/null \
      || die "$v snapshot-create-as $name ${SNAPSHOTS[$i]} failed"
  done
  for disk in vda vdb; do write_step "$dir/$name-$disk.qcow2" qcow2 4 "$disk"; done
  if [[ $start -eq 1 ]]; then
    virsh -q -c "$uri" start "$name" >/dev/null || die "$v start $name failed"
  fi
  echo "VM=$name"
  echo "VM_UUID=$(virsh -q -c "$uri" domuuid "$name")"
  echo "DISK1=$dir/$name-vda.qcow2"
  echo "DISK2=$dir/$name-vdb.qcow2"
  echo "SNAPSHOTS=$(IFS=,; echo "${SNAPSHOTS[*]}")"
}

# expected RAW DISK LAST_STEP: the raw image a disk should read as after steps 1..LAST_STEP.
expected() {
  local raw="$1" disk="$2" last="$3" s
  qemu-img create -q -f raw "$raw" "$(disk_size "$disk")"
  for ((s = 1; s <= last; s++)); do write_step "$raw" raw "$s" "$disk"; done
}

cmd_check() {
  [[ $# -eq 2 ]] || usage
  local dir name="$2" tmp disk i bad=0 n=0
  dir="$(realpath -- "$1")"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/libvirt-vm-check.XXXXXX")"
  trap 'rm -rf "$tmp"' RETURN
  for disk in vda vdb; do
    local file="$dir/$name-$disk.qcow2"
    [[ -f $file ]] || die "$file missing"
    for i in 0 1 2 3; do
      local label="${SNAPSHOTS[$i]:-current}" l=()
      [[ $i -lt 3 ]] && l=(-l "snapshot.name=${SNAPSHOTS[$i]}")
      expected "$tmp/want.raw" "$disk" $((i + 1))
      qemu-img convert -U "${l[@]}" -f qcow2 -O raw "$file" "$tmp/got.raw" \
        || die "qemu-img convert ${l[*]} $file failed"
      n=$((n + 1))
      if qemu-img compare -q -f raw -F raw "$tmp/want.raw" "$tmp/got.raw"; then
        echo "ok   $name $disk $label"
      else
        echo "DIFF $name $disk $label"
        bad=1
      fi
      rm -f "$tmp/want.raw" "$tmp/got.raw"
    done
  done
  [[ $bad -eq 0 ]] || die "contents differ from the patterns"
  echo "all $n states of $name match"
}

case "${1:-}" in
  create) shift; cmd_create "$@" ;;
  check) shift; cmd_check "$@" ;;
  *) usage ;;
esac
