#!/bin/sh
# libvirtd-ns.sh DIR LOGDIR — runs Debian's libvirtd (QEMU driver only) as root in a private mount
# namespace of its own (it re-executes itself under `unshare -m --propagation private`; every step
# is an exec, so the PID that started it is libvirtd's), with every directory it uses mapped into
# DIR:
#
#   /etc/libvirt       -> DIR/etc    libvirtd.conf, qemu.conf (servers.sh writes them), domain XML
#   /var/lib/libvirt   -> DIR/lib    snapshot metadata, per-domain state
#   /run/libvirt       -> DIR/run    sockets, pid files (libvirtd's and each guest's: run/qemu/NAME.pid)
#   /var/cache/libvirt -> DIR/cache  QEMU capabilities cache
#   /var/log/libvirt   -> LOGDIR     guest logs (LOGDIR/qemu/NAME.log)
#
# A privileged libvirtd has these paths compiled in (only the sockets and its own pid file can be
# moved by configuration), so the namespace is what keeps it away from a system libvirt and lets
# two state dirs run at once. The mounts are seen by this process and the guests it starts only.
#
# The QEMU driver looks up its compiled-in `libvirt-qemu` user before it reads qemu.conf (which
# runs the guests as root): scripts/setup.sh creates it. LIBVIRT_DRIVER_DIR holds the QEMU driver alone,
# so the network, nwfilter, nodedev, interface, storage and secret drivers (dnsmasq, firewall, udev,
# D-Bus) are not loaded.
set -eu
DIR="$1" LOGDIR="$2"

if [ -z "${LIBVIRTD_NS_INNER:-}" ]; then
  export LIBVIRTD_NS_INNER=1
  exec unshare -m --propagation private -- "$0" "$@"
fi
for m in etc lib run cache ns/drivers; do
  [ -e "$DIR/$m" ] || { echo "libvirtd-ns: $DIR/$m missing" >&2; exit 1; }
done
# The mount points, as libvirt-daemon-system would leave them: empty directories on the system.
mkdir -p /etc/libvirt /var/lib/libvirt /run/libvirt /var/cache/libvirt /var/log/libvirt

mount --bind "$DIR/etc" /etc/libvirt
mount --bind "$DIR/lib" /var/lib/libvirt
mount --bind "$DIR/run" /run/libvirt
mount --bind "$DIR/cache" /var/cache/libvirt
mount --bind "$LOGDIR" /var/log/libvirt

export LIBVIRT_DRIVER_DIR="$DIR/ns/drivers"
# On one CPU: libvirt 9.0 keeps the host CPUID it read next to the cached QEMU capabilities and
# probes QEMU again (8 s) when they differ, and CPUID leaf 0x1f carries the x2APIC id of the CPU
# that asked. Pinned, every start reads the same; guests are not held by this (libvirt gives each
# QEMU all online CPUs).
cpu="$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')"
exec taskset -c "$cpu" /usr/sbin/libvirtd -f "$DIR/etc/libvirtd.conf" -p "$DIR/run/libvirtd.pid"
