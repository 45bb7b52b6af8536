// What the wizard knows about images before asking the cloud: which artifacts can be published,
// their stored format, when qemu-img will convert, and the Glance properties the library can prefill.
import type { Artifact } from '$lib/ipc/client';
import type { Visibility } from './types';

export const VISIBILITIES: Array<[Visibility, string, string]> = [
  ['private', 'Private', 'Only the project that owns it'],
  ['shared', 'Shared', 'The owner and projects it is shared with'],
  ['community', 'Community', 'Every project can use it; not listed by default'],
  ['public', 'Public', 'Every project sees it (admins only, usually)'],
];

/** Disk formats Glance accepts that qemu-img can write (plus iso, which is never converted). */
export const DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vhdx', 'vdi', 'vhd', 'iso'] as const;
export const CONTAINER_FORMATS = ['bare', 'ovf', 'ova', 'compressed'] as const;

const GIB = 1024 ** 3;

/** Kinds the wizard offers: disk images and ISOs. */
export function publishable(a: Pick<Artifact, 'kind'>): boolean {
  return a.kind === 'disk_image' || a.kind === 'os';
}

function fact(a: Artifact, key: string): unknown {
  const d = a.detected;
  return d && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>)[key] : undefined;
}

/** The format the bytes are stored in: `iso` for OS images, what qemu-img found for disk images. */
export function storedFormat(a: Artifact): string {
  if (a.kind === 'os') return 'iso';
  const f = fact(a, 'disk_format');
  return typeof f === 'string' && f !== '' ? f : 'raw';
}

/** The conversion a chosen disk format needs ('' keeps the stored one), null when the bytes go up as they are. */
export function conversion(a: Artifact, diskFormat: string): { from: string; to: string } | null {
  const from = storedFormat(a);
  return diskFormat === '' || from === diskFormat ? null : { from, to: diskFormat };
}

/** Why a disk format cannot be chosen for this image (an ISO stays an ISO, a disk is not an ISO). */
export function formatRefusal(a: Artifact, diskFormat: string): string | null {
  if (diskFormat === '') return null;
  const from = storedFormat(a);
  if (from === 'iso' && diskFormat !== 'iso') return `${a.name} is an ISO: it is published as it is (disk format iso).`;
  if (from !== 'iso' && diskFormat === 'iso') return `${a.name} is a disk image and cannot be published as an ISO.`;
  return null;
}

/** The display name offered first: the file name without its image extension. */
export function defaultName(a: Artifact): string {
  return a.name.replace(/\.(qcow2|img|raw|vmdk|vhdx|vhd|vdi|iso)$/i, '');
}

/** The smallest disk in GiB a server booted from it needs (its virtual size, rounded up). */
export function defaultMinDisk(a: Artifact): number {
  const v = fact(a, 'virtual_size');
  return typeof v === 'number' && v > 0 ? Math.ceil(v / GIB) : 0;
}

/** Glance's os_distro names for the distros the library detects (as the engine maps them). */
const OS_DISTRO: Record<string, string> = {
  rhel: 'rhel', centos: 'centos', rocky: 'rocky', alma: 'almalinux', oracle: 'ol', fedora: 'fedora',
  sles: 'sles', opensuse: 'opensuse', ubuntu: 'ubuntu', debian: 'debian', esxi: 'esxi',
};

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** os_type, os_distro, os_version and architecture as far as the library knows them — what the
 *  engine fills in when publishing, shown in the options so they can be changed. */
export function defaultProperties(a: Artifact): Array<[string, string]> {
  const props: Array<[string, string]> = [];
  if (a.os === 'linux' || a.os === 'windows') props.push(['os_type', a.os]);
  const distro = (a.distro ? OS_DISTRO[a.distro] : undefined) ?? (a.os === 'vmware' ? 'esxi' : a.os === 'windows' ? 'windows' : undefined);
  if (distro) props.push(['os_distro', distro]);
  const version = text(fact(a, 'version')) || a.version.trim();
  if (version) props.push(['os_version', version]);
  const arch = text(fact(a, 'arch'));
  if (arch) props.push(['architecture', arch]);
  return props;
}
