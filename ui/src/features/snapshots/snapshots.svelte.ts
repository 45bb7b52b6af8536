// Images from VM disk snapshots: where the snapshots are read from (a libvirt connection and one of
// its VMs, a qcow2 file chosen in the native dialog, or a qcow2 disk image of the library), that
// source's disks and each disk's snapshots, and the "Make image…" dialog that starts the
// snapshot_image job. The last connection URI is remembered in localStorage (as the theme is).
import {
  api, asIpcError, type Artifact, type DiskSnapshot, type DiskSnapshots, type IpcError, type SnapshotFormat, type SnapshotImageReport,
  type SnapshotImageRequest, type SnapshotSource, type VmDisk, type VmInfo,
} from '$lib/ipc/client';
import { baseName, bytes } from '$lib/format';
import { Attributes } from '../library/attributes.svelte';
import { JobDialog } from '$lib/jobDialog.svelte';

/** The commands this feature uses (the tests pass their own). */
export type SnapshotsApi = {
  listVms: (connect: string | null) => Promise<VmInfo[]>;
  listSnapshots: (source: SnapshotSource, diskId: number | null) => Promise<DiskSnapshots[]>;
  chooseDiskFile: () => Promise<string | null>;
  /** The library's disk images (the qcow2 ones are offered as sources). */
  listDiskImages: () => Promise<Artifact[]>;
};

export const snapshotsApi: SnapshotsApi = {
  listVms: (connect) => api.listVms(connect),
  listSnapshots: (source, diskId) => api.listSnapshots(source, diskId),
  chooseDiskFile: () => api.chooseDiskFile(),
  listDiskImages: () =>
    api.listArtifacts({ kind: 'disk_image', os: null, search: null, sort: 'name', descending: false, limit: 1000, offset: 0, access: null, all: false }),
};

export type SourceMode = 'vm' | 'file' | 'library';

export const SOURCE_MODES: Array<[SourceMode, string]> = [['vm', 'libvirt VM'], ['file', 'qcow2 file'], ['library', 'Library image']];

/** Connections offered with one click (besides libvirt's default, the empty URI). */
export const QUICK_URIS = ['qemu:///system', 'qemu:///session'];

export const URI_KEY = 'imagesmith.snapshots.connect';

/** The badge tone of a VM state (libvirt's words: running, shut off, paused, …). */
export function vmStateTone(state: string): string {
  const s = state.toLowerCase();
  if (s === 'running') return 'ok';
  if (s === 'shut off' || s === 'shutoff' || s === '') return '';
  return 'warn';
}

/** The snapshot names a library artifact's detected facts list (a qcow2 disk image's). */
export function detectedSnapshots(a: Pick<Artifact, 'detected'>): string[] {
  const d = a.detected;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return [];
  const list = (d as Record<string, unknown>).snapshots;
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
}

/** Whether a library artifact is a qcow2 disk image (the kind that can hold snapshots). */
export function isQcow2(a: Pick<Artifact, 'kind' | 'detected'>): boolean {
  const d = a.detected;
  return a.kind === 'disk_image' && !!d && typeof d === 'object' && !Array.isArray(d) && (d as Record<string, unknown>).disk_format === 'qcow2';
}

/** "disk 2 (vdb)", or "disk 1" when the device is not known. */
export function diskWords(disk: Pick<VmDisk, 'disk_id' | 'target'>): string {
  return disk.target ? `disk ${disk.disk_id} (${disk.target})` : `disk ${disk.disk_id}`;
}

/** Disk id, device, format and virtual size in one line: "Disk 2 · vdb · qcow2 · 32.0 MiB". */
export function diskLine(disk: VmDisk): string {
  const parts = [`Disk ${disk.disk_id}`];
  if (disk.target) parts.push(disk.target);
  if (disk.format) parts.push(disk.format);
  if (disk.virtual_size != null) parts.push(bytes(disk.virtual_size));
  return parts.join(' · ');
}

/** Where the chosen snapshots come from, and the disks and snapshots read from it. */
export class SnapshotBrowser {
  mode = $state<SourceMode>('vm');
  /** The URI field ('' = libvirt's default connection). */
  connect = $state('');
  /** The URI the VM list was read from (null: not asked yet). */
  connected = $state<string | null>(null);
  vms = $state.raw<VmInfo[]>([]);
  vmsLoading = $state(false);
  vmsError = $state<IpcError | null>(null);
  /** The chosen VM (name). */
  vm = $state<string | null>(null);
  /** The qcow2 file chosen in the native dialog. */
  diskFile = $state<string | null>(null);
  /** The library's qcow2 disk images, and the one chosen (its name). */
  images = $state.raw<Artifact[]>([]);
  imagesLoaded = $state(false);
  imagesError = $state<IpcError | null>(null);
  image = $state<string | null>(null);
  /** The disks of the chosen source with their snapshots, and the disk shown. */
  disks = $state.raw<DiskSnapshots[]>([]);
  disksLoading = $state(false);
  disksError = $state<IpcError | null>(null);
  diskId = $state<number | null>(null);
  /** The source whose disks are shown (what "Make image…" cuts from). */
  shownSource = $state.raw<SnapshotSource | null>(null);

  #api: SnapshotsApi;
  #storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  #askedVms = 0;
  #askedDisks = 0;

  constructor(given: SnapshotsApi = snapshotsApi, storage: Pick<Storage, 'getItem' | 'setItem'> | null = globalThis.localStorage ?? null) {
    this.#api = given;
    this.#storage = storage;
    this.connect = storage?.getItem(URI_KEY) ?? '';
  }

  /** The source chosen in the current mode, or null. */
  get source(): SnapshotSource | null {
    if (this.mode === 'vm') return this.vm != null ? { type: 'vm', vm: this.vm, connect: this.connected || null } : null;
    if (this.mode === 'file') return this.diskFile != null ? { type: 'disk_file', path: this.diskFile } : null;
    return this.image != null ? { type: 'artifact', key: this.image } : null;
  }

  /** The chosen VM's facts from the list. */
  get vmInfo(): VmInfo | null {
    return this.vms.find((v) => v.name === this.vm) ?? null;
  }

  /** The disk shown and its snapshots. */
  get disk(): DiskSnapshots | null {
    return this.disks.find((d) => d.disk.disk_id === this.diskId) ?? this.disks[0] ?? null;
  }

  /** The library images offered: qcow2 disk images, those with snapshots first. */
  get qcow2Images(): Artifact[] {
    const q = this.images.filter(isQcow2);
    return [...q.filter((a) => detectedSnapshots(a).length > 0), ...q.filter((a) => detectedSnapshots(a).length === 0)];
  }

  /** How the shown source is named in titles: "VM web", "web-disk.qcow2", "ubuntu.qcow2 (library)". */
  get title(): string {
    const s = this.shownSource;
    if (!s) return '';
    if (s.type === 'vm') return `VM ${s.vm}`;
    if (s.type === 'disk_file') return baseName(s.path);
    return s.key;
  }

  setMode(mode: SourceMode): void {
    if (this.mode === mode) return;
    this.mode = mode;
    this.#showSource();
    if (mode === 'library' && !this.imagesLoaded) void this.loadImages();
  }

  /** List the VMs of `uri` (the field's when not given; '' = the default connection). The URI is
   *  remembered once libvirt answered on it. */
  async connectTo(uri: string = this.connect): Promise<void> {
    const wanted = uri.trim();
    this.connect = wanted;
    const asked = ++this.#askedVms;
    this.vmsLoading = true;
    try {
      const vms = await this.#api.listVms(wanted === '' ? null : wanted);
      if (asked !== this.#askedVms) return;
      const same = this.connected === wanted;
      this.vms = vms;
      this.connected = wanted;
      this.vmsError = null;
      this.#storage?.setItem(URI_KEY, wanted);
      // the chosen VM stays when it is still there (a refresh); otherwise the person picks one
      // (not chosen for them: a narrow window would jump past the list to its disks)
      if (!same || !vms.some((v) => v.name === this.vm)) this.vm = null;
      if (this.vm != null && this.mode === 'vm') await this.loadDisks();
      else if (this.mode === 'vm') this.#showSource();
    } catch (e) {
      if (asked !== this.#askedVms) return;
      this.vms = [];
      this.vm = null;
      this.connected = null;
      this.vmsError = asIpcError(e);
      if (this.mode === 'vm') this.#showSource();
    } finally {
      if (asked === this.#askedVms) this.vmsLoading = false;
    }
  }

  async chooseVm(name: string): Promise<void> {
    this.mode = 'vm';
    if (this.vm !== name) this.diskId = null;
    this.vm = name;
    await this.loadDisks();
  }

  /** The native dialog for a qcow2 file; its snapshots are read at once. */
  async chooseFile(): Promise<void> {
    try {
      const path = await this.#api.chooseDiskFile();
      if (!path) return;
      this.mode = 'file';
      this.diskFile = path;
      this.diskId = null;
      await this.loadDisks();
    } catch (e) {
      this.disksError = asIpcError(e);
    }
  }

  async loadImages(): Promise<void> {
    try {
      this.images = await this.#api.listDiskImages();
      this.imagesError = null;
    } catch (e) {
      this.imagesError = asIpcError(e);
    } finally {
      this.imagesLoaded = true;
    }
  }

  /** Read the snapshots of a library image (id or name): the library's "Image from snapshot…". */
  async useArtifact(key: string): Promise<void> {
    this.mode = 'library';
    this.image = key;
    this.diskId = null;
    void this.loadImages();
    await this.loadDisks();
  }

  /** Read the disks and snapshots of the chosen source again (an older answer arriving late is dropped). */
  async loadDisks(): Promise<void> {
    const source = this.source;
    this.shownSource = source;
    if (!source) {
      this.disks = [];
      this.disksError = null;
      return;
    }
    const asked = ++this.#askedDisks;
    this.disksLoading = true;
    try {
      const disks = await this.#api.listSnapshots(source, null);
      if (asked !== this.#askedDisks) return;
      this.disks = disks;
      this.disksError = null;
      if (!disks.some((d) => d.disk.disk_id === this.diskId)) {
        // the first disk that has a usable snapshot, else the first
        this.diskId = (disks.find((d) => d.snapshots.some((s) => s.usable)) ?? disks[0])?.disk.disk_id ?? null;
      }
    } catch (e) {
      if (asked !== this.#askedDisks) return;
      this.disks = [];
      this.disksError = asIpcError(e);
    } finally {
      if (asked === this.#askedDisks) this.disksLoading = false;
    }
  }

  /** Back to the list of sources (narrow windows show one pane at a time). */
  clearSource(): void {
    if (this.mode === 'vm') this.vm = null;
    else if (this.mode === 'file') this.diskFile = null;
    else this.image = null;
    this.#showSource();
  }

  /** Show what the mode has chosen (switching modes keeps each mode's choice). */
  #showSource(): void {
    const source = this.source;
    if (JSON.stringify(source) === JSON.stringify(this.shownSource)) return;
    this.disks = [];
    this.disksError = null;
    this.diskId = null;
    if (source) void this.loadDisks();
    else this.shownSource = null;
  }
}

/** A name for the image that does not exist yet: the VM's or file's name, the disk when a VM has
 *  several, and the snapshot ("web-vdb-s1-installed"). */
export function suggestedName(source: SnapshotSource, disk: VmDisk, disks: number, snapshot: string): string {
  const stem = (name: string) => name.replace(/\.(qcow2?|img|raw)$/i, '');
  const base = source.type === 'vm' ? source.vm : source.type === 'disk_file' ? stem(baseName(source.path)) : stem(source.key);
  const parts = [base];
  if (source.type === 'vm' && disks > 1) parts.push(disk.target || `disk${disk.disk_id}`);
  parts.push(snapshot);
  return parts.join('-').replace(/[^A-Za-z0-9._-]+/g, '-');
}

export const FORMAT_CHOICES: Array<[SnapshotFormat, string, string]> = [
  ['qcow2', 'qcow2, compressed', 'Small, and what clouds and virt tools take; only the data the snapshot holds is stored.'],
  ['raw', 'raw', 'Byte for byte the disk at its full virtual size; for tools that do not read qcow2.'],
];

/** "Make image…" on a snapshot: name, format and attributes, then one snapshot_image job. */
export class SnapshotImageDialog extends JobDialog<SnapshotImageRequest> {
  source = $state.raw<SnapshotSource | null>(null);
  /** "disk 2 (vdb) of VM web", "web-disk.qcow2". */
  from = $state('');
  disk = $state.raw<VmDisk | null>(null);
  snapshot = $state.raw<DiskSnapshot | null>(null);
  name = $state('');
  format = $state<SnapshotFormat>('qcow2');
  attrs = new Attributes();

  show(source: SnapshotSource, disk: VmDisk, snapshot: DiskSnapshot, disks = 1): void {
    this.source = source;
    this.disk = disk;
    this.snapshot = snapshot;
    this.from =
      source.type === 'vm' ? `${diskWords(disk)} of VM ${source.vm}`
      : source.type === 'disk_file' ? baseName(source.path)
      : `the library image ${source.key}`;
    this.name = suggestedName(source, disk, disks, snapshot.name);
    this.format = 'qcow2';
    this.attrs = new Attributes();
    this.attrs.version = '1.0';
    this.error = null;
    this.open = true;
  }

  get blocking(): string | null {
    if (!this.source || !this.snapshot || !this.disk) return 'Choose a snapshot first.';
    if (!this.snapshot.usable) return this.snapshot.problem ?? 'This snapshot cannot be read.';
    if (this.name.trim() === '') return 'Give the image a name.';
    return null;
  }

  request(): SnapshotImageRequest {
    return {
      source: this.source!,
      snapshot: this.snapshot!.name,
      disk_id: this.disk!.disk_id,
      format: this.format,
      name: this.name.trim(),
      attributes: this.attrs.importPatch(),
    };
  }
}

export type { SnapshotImageReport };
