import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { DiskSnapshot, DiskSnapshots, JobProgress, SnapshotImageRequest, VmDisk, VmInfo } from '$lib/ipc/client';
import { artifact, ipcError, job, mockCommands } from '../../test/fixtures';
import { Toasts } from '../toasts/toasts.svelte';
import { JobsStore } from '../jobs/jobs.svelte';
import { snapshotWords, sourceLabel } from '../library/attributes.svelte';
import SnapshotsView from './Snapshots.svelte';
import SnapshotImageDialogView from './SnapshotImageDialog.svelte';
import {
  detectedSnapshots, diskLine, isQcow2, SnapshotBrowser, SnapshotImageDialog, suggestedName, URI_KEY, vmStateTone, type SnapshotsApi,
} from './snapshots.svelte';

function disk(id: number, over: Partial<VmDisk> = {}): VmDisk {
  return { disk_id: id, target: `vd${'abc'[id - 1]}`, file: `/var/lib/libvirt/images/web-vd${'abc'[id - 1]}.qcow2`, format: 'qcow2', virtual_size: 64 << 20, problem: null, ...over };
}

function snap(name: string, over: Partial<DiskSnapshot> = {}): DiskSnapshot {
  return {
    name, created_at: '2026-12-01T10:00:00Z', vm_state: 'shutoff', vm_state_size: 0, location: 'internal', description: null, usable: true, problem: null, ...over,
  };
}

function vm(name: string, over: Partial<VmInfo> = {}): VmInfo {
  return { name, uuid: null, state: 'shut off', disks: [disk(1), disk(2)], snapshot_count: 2, ...over };
}

const webDisks = (): DiskSnapshots[] => [
  { disk: disk(1), snapshots: [snap('s1-installed', { description: 'Fresh install' }), snap('s2-configured')] },
  { disk: disk(2), snapshots: [snap('s1-installed'), snap('gone', { usable: false, problem: 'libvirt lists it, but no file of web-vdb.qcow2 holds a snapshot of that name' })] },
];

function api(over: Partial<SnapshotsApi> = {}) {
  const base: SnapshotsApi = {
    listVms: async () => [vm('web', { state: 'running' }), vm('db')],
    listSnapshots: async () => webDisks(),
    chooseDiskFile: async () => '/home/me/disks/web-disk.qcow2',
    listDiskImages: async () => [
      artifact(1, { name: 'plain.qcow2', kind: 'disk_image', detected: { disk_format: 'qcow2', snapshots: [] } }),
      artifact(2, { name: 'raw.img', kind: 'disk_image', detected: { disk_format: 'raw', snapshots: [] } }),
      artifact(3, { name: 'base.qcow2', kind: 'disk_image', detected: { disk_format: 'qcow2', snapshots: ['first', 'second'] } }),
    ],
    ...over,
  };
  return Object.fromEntries(Object.entries(base).map(([k, f]) => [k, vi.fn(f as (...a: unknown[]) => unknown)])) as unknown as { [K in keyof SnapshotsApi]: ReturnType<typeof vi.fn> & SnapshotsApi[K] };
}

function memory(initial: Record<string, string> = {}) {
  const m = new Map(Object.entries(initial));
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), map: m };
}

describe('helpers', () => {
  it('words for disks, states, library facts and new names', () => {
    expect(diskLine(disk(2, { virtual_size: 32 << 20 }))).toBe('Disk 2 · vdb · qcow2 · 32.0 MiB');
    expect(diskLine({ ...disk(1), target: '', format: null, virtual_size: null })).toBe('Disk 1');
    expect([vmStateTone('running'), vmStateTone('shut off'), vmStateTone('paused')]).toEqual(['ok', '', 'warn']);
    const a = artifact(3, { kind: 'disk_image', detected: { disk_format: 'qcow2', snapshots: ['first', 7, 'second'] } });
    expect([isQcow2(a), detectedSnapshots(a)]).toEqual([true, ['first', 'second']]);
    expect(isQcow2(artifact(1))).toBe(false);
    expect(suggestedName({ type: 'vm', vm: 'web', connect: null }, disk(2), 2, 's1-installed')).toBe('web-vdb-s1-installed');
    expect(suggestedName({ type: 'vm', vm: 'web', connect: null }, disk(1), 1, 's1')).toBe('web-s1');
    expect(suggestedName({ type: 'disk_file', path: '/d/web disk.qcow2' }, disk(1), 1, 'first')).toBe('web-disk-first');
    expect(suggestedName({ type: 'artifact', key: 'base.qcow2' }, disk(1), 1, 'second')).toBe('base-second');
  });

  it('says where a snapshot image came from, with the disk’s device when known', () => {
    const source = { kind: 'snapshot' as const, url: null, manifest_url: null, store: null, remote_id: null, vm: 'web', connect: 'qemu:///system', disk_id: 2, snapshot: 's1', disk_file: '/var/lib/libvirt/images/web-vdb.qcow2', snapshot_at: '2026-12-01T10:00:00Z' };
    const what = snapshotWords(source, { disk_target: 'vdb' });
    expect(what).toMatch(/^Snapshot s1 of disk 2 \(vdb\) of VM web, taken /);
    expect(sourceLabel(source, 'x', { disk_target: 'vdb' })).toEqual({ what, detail: '/var/lib/libvirt/images/web-vdb.qcow2' });
    expect(snapshotWords({ ...source, vm: null, snapshot_at: null, disk_file: '/d/web-disk.qcow2' })).toBe('Snapshot s1 of web-disk.qcow2');
    expect(snapshotWords({ ...source, vm: null, snapshot_at: null, disk_file: null, artifact: 'base.qcow2' })).toBe('Snapshot s1 of the library image base.qcow2');
  });
});

describe('SnapshotBrowser', () => {
  it('connects with the remembered URI, remembers a new one once libvirt answered, and lists a VM’s disks', async () => {
    const a = api();
    const storage = memory({ [URI_KEY]: 'qemu:///session' });
    const b = new SnapshotBrowser(a, storage);
    expect(b.connect).toBe('qemu:///session');
    await b.connectTo();
    expect(a.listVms).toHaveBeenLastCalledWith('qemu:///session');
    expect(b.vms.map((v) => v.name)).toEqual(['web', 'db']);
    expect(b.source).toBeNull();
    await b.connectTo(' qemu:///system ');
    expect(a.listVms).toHaveBeenLastCalledWith('qemu:///system');
    expect(storage.map.get(URI_KEY)).toBe('qemu:///system');
    await b.chooseVm('web');
    expect(a.listSnapshots).toHaveBeenLastCalledWith({ type: 'vm', vm: 'web', connect: 'qemu:///system' }, null);
    expect(b.title).toBe('VM web');
    expect(b.disk?.disk.disk_id).toBe(1);
    b.diskId = 2;
    expect(b.disk?.snapshots.map((s) => s.name)).toEqual(['s1-installed', 'gone']);
    // a refresh keeps the VM and the disk
    await b.connectTo();
    expect([b.vm, b.diskId]).toEqual(['web', 2]);
    // the default connection is the empty URI, sent as none
    await b.connectTo('');
    expect(a.listVms).toHaveBeenLastCalledWith(null);
    expect(b.vm).toBeNull();
  });

  it('a refused connection shows its error and is not remembered; a VM is chosen by the person, even the only one', async () => {
    const a = api();
    const storage = memory();
    const b = new SnapshotBrowser(a, storage);
    a.listVms.mockRejectedValueOnce(ipcError('connection_failed', 'virsh could not be run.'));
    await b.connectTo('qemu:///system');
    expect(b.vmsError?.code).toBe('connection_failed');
    expect(b.connected).toBeNull();
    expect(storage.map.has(URI_KEY)).toBe(false);
    a.listVms.mockResolvedValueOnce([vm('only')]);
    await b.connectTo('qemu:///system');
    expect([b.vmsError, b.vm, b.shownSource]).toEqual([null, null, null]);
    await b.chooseVm('only');
    expect(b.shownSource).toEqual({ type: 'vm', vm: 'only', connect: 'qemu:///system' });
  });

  it('a qcow2 file from the native dialog, a library image, and each mode keeps its own choice', async () => {
    const a = api({ listSnapshots: async (source) => [{ disk: disk(1, { target: '' }), snapshots: [snap(source.type === 'artifact' ? 'first' : 'one')] }] });
    const b = new SnapshotBrowser(a, memory());
    a.chooseDiskFile.mockResolvedValueOnce(null);
    await b.chooseFile();
    expect(b.diskFile).toBeNull();
    await b.chooseFile();
    expect(b.mode).toBe('file');
    expect(b.shownSource).toEqual({ type: 'disk_file', path: '/home/me/disks/web-disk.qcow2' });
    expect(b.title).toBe('web-disk.qcow2');
    b.setMode('library');
    expect(b.shownSource).toBeNull();
    await vi.waitFor(() => expect(b.imagesLoaded).toBe(true));
    expect(b.qcow2Images.map((i) => i.name)).toEqual(['base.qcow2', 'plain.qcow2']);
    await b.useArtifact('base.qcow2');
    expect(b.disk?.snapshots.map((s) => s.name)).toEqual(['first']);
    b.setMode('file');
    await vi.waitFor(() => expect(b.disk?.snapshots.map((s) => s.name)).toEqual(['one']));
    expect(b.shownSource).toEqual({ type: 'disk_file', path: '/home/me/disks/web-disk.qcow2' });
  });

  it('shows the engine’s refusal for the disks, and drops an answer that arrives after a newer question', async () => {
    let answer: (v: DiskSnapshots[]) => void = () => {};
    const a = api();
    const b = new SnapshotBrowser(a, memory());
    await b.connectTo('qemu:///system');
    a.listSnapshots.mockImplementationOnce(() => new Promise<DiskSnapshots[]>((r) => { answer = r; }));
    const first = b.chooseVm('web');
    a.listSnapshots.mockRejectedValueOnce(ipcError('vm_not_found', 'There is no VM db at qemu:///system.'));
    await b.chooseVm('db');
    answer(webDisks());
    await first;
    expect(b.disks).toEqual([]);
    expect(b.disksError?.code).toBe('vm_not_found');
  });
});

describe('SnapshotImageDialog', () => {
  it('suggests a name, defaults to version 1.0 and compressed qcow2, and sends the disk and snapshot', async () => {
    const d = new SnapshotImageDialog();
    const source = { type: 'vm' as const, vm: 'web', connect: 'qemu:///system' };
    d.show(source, disk(2), snap('s1-installed'), 2);
    expect([d.name, d.attrs.version, d.format, d.from]).toEqual(['web-vdb-s1-installed', '1.0', 'qcow2', 'disk 2 (vdb) of VM web']);
    d.name = ' ';
    expect(d.blocking).toMatch(/name/);
    d.name = 'web-base';
    d.format = 'raw';
    d.attrs.tags = 'web, base';
    expect(d.request()).toMatchObject({ source, snapshot: 's1-installed', disk_id: 2, format: 'raw', name: 'web-base', attributes: { version: '1.0', tags: ['web', 'base'] } });
    expect(await d.submit(async () => { throw ipcError('name_taken', 'web-base is taken.'); })).toBeNull();
    expect([d.open, d.error?.code]).toEqual([true, 'name_taken']);
    expect(await d.submit(async () => 4)).toBe(4);
    expect(d.open).toBe(false);
    d.show(source, disk(2), snap('gone', { usable: false, problem: 'it is gone' }));
    expect(d.blocking).toBe('it is gone');
  });
});

describe('the Snapshots screen', () => {
  it('connects on first view; a VM’s disks and snapshots; unusable ones greyed with why; Make image… on a usable one', async () => {
    const a = api();
    const browser = new SnapshotBrowser(a, memory({ [URI_KEY]: 'qemu:///system' }));
    const onmake = vi.fn();
    const user = userEvent.setup();
    render(SnapshotsView, { browser, onmake });
    await vi.waitFor(() => expect(screen.getAllByTestId('vm-row')).toHaveLength(2));
    expect(a.listVms).toHaveBeenCalledWith('qemu:///system');
    const web = screen.getAllByTestId('vm-row')[0]!;
    expect(within(web).getByTestId('vm-state')).toHaveTextContent('running');
    expect(web).toHaveTextContent('2 disks · 2 snapshots');
    await user.click(web);
    await vi.waitFor(() => expect(screen.getByTestId('snapshot-source-title')).toHaveTextContent('VM web'));
    expect(screen.getByTestId('disk-line')).toHaveTextContent('Disk 1 · vda · qcow2 · 64.0 MiB');
    expect(screen.getByTestId('disk-file')).toHaveTextContent('/var/lib/libvirt/images/web-vda.qcow2');
    await user.click(screen.getAllByTestId('disk-tab')[1]!);
    const rows = screen.getAllByTestId('snapshot-row');
    expect(rows.map((r) => r.dataset.name)).toEqual(['s1-installed', 'gone']);
    expect(within(rows[1]!).getByTestId('make-image')).toBeDisabled();
    expect(within(rows[1]!).getByTestId('snapshot-problem')).toHaveTextContent('holds a snapshot of that name');
    await user.click(within(rows[0]!).getByTestId('make-image'));
    expect(onmake).toHaveBeenCalledWith(expect.objectContaining({ name: 's1-installed' }));
  });

  it('quick picks connect; Enter in the URI field connects; a refusal shows the ErrorBox', async () => {
    const a = api();
    a.listVms.mockRejectedValueOnce(ipcError('connection_failed', 'virsh could not be run.'));
    const browser = new SnapshotBrowser(a, memory());
    const user = userEvent.setup();
    render(SnapshotsView, { browser, onmake: () => {} });
    const alert = await screen.findByRole('alert');
    expect(alert.dataset.code).toBe('connection_failed');
    expect(alert).toHaveTextContent('fix connection_failed');
    await user.click(screen.getAllByTestId('libvirt-quick').find((b) => b.dataset.uri === 'qemu:///session')!);
    expect(a.listVms).toHaveBeenLastCalledWith('qemu:///session');
    await vi.waitFor(() => expect(screen.getAllByTestId('vm-row')).toHaveLength(2));
    const field = screen.getByTestId('libvirt-uri');
    await user.clear(field);
    await user.type(field, 'qemu+ssh://admin@kvm1/system{Enter}');
    expect(a.listVms).toHaveBeenLastCalledWith('qemu+ssh://admin@kvm1/system');
  });

  it('a qcow2 file: Choose qcow2 file… reads its one disk', async () => {
    const a = api({ listSnapshots: async () => [{ disk: disk(1, { target: '', file: '/home/me/disks/web-disk.qcow2' }), snapshots: [snap('first')] }] });
    const browser = new SnapshotBrowser(a, memory());
    const user = userEvent.setup();
    render(SnapshotsView, { browser, onmake: () => {} });
    await user.click(screen.getByTestId('snapshot-mode-file'));
    await user.click(screen.getByTestId('choose-disk-file'));
    await vi.waitFor(() => expect(screen.getByTestId('snapshot-source-title')).toHaveTextContent('web-disk.qcow2'));
    expect(screen.queryAllByTestId('disk-tab')).toHaveLength(0);
    expect(screen.getAllByTestId('snapshot-row').map((r) => r.dataset.name)).toEqual(['first']);
  });
});

describe('the Make image dialog', () => {
  it('starts with the name selected; Enter in the name makes the image with the attributes', async () => {
    const d = new SnapshotImageDialog();
    d.show({ type: 'disk_file', path: '/d/web-disk.qcow2' }, disk(1, { target: '' }), snap('first'));
    const started: SnapshotImageRequest[] = [];
    const user = userEvent.setup();
    render(SnapshotImageDialogView, { dialog: d, onstart: () => void d.submit(async (r) => { started.push(r); return 1; }) });
    expect(screen.getByTestId('snapshot-image-what')).toHaveTextContent('Snapshot first of web-disk.qcow2');
    expect(screen.getByTestId('snapshot-image-name')).toHaveFocus();
    expect(screen.getByTestId('snapshot-attr-version')).toHaveValue('1.0');
    await user.click(screen.getByTestId('snapshot-format-raw'));
    await user.type(screen.getByTestId('snapshot-attr-alias'), 'wd1');
    await user.click(screen.getByTestId('snapshot-image-name'));
    await user.keyboard('{Enter}');
    expect(started).toEqual([expect.objectContaining({ name: 'web-disk-first', format: 'raw', snapshot: 'first', disk_id: 1, attributes: expect.objectContaining({ alias: 'wd1', version: '1.0' }) })]);
  });

  it('an empty name blocks; a refusal shows its code, explanation and what to do', async () => {
    const d = new SnapshotImageDialog();
    d.show({ type: 'vm', vm: 'web', connect: null }, disk(1), snap('s1'));
    const user = userEvent.setup();
    render(SnapshotImageDialogView, { dialog: d, onstart: () => void d.submit(async () => { throw ipcError('snapshot_unusable', 'No image can be cut from snapshot s1.'); }) });
    await user.clear(screen.getByTestId('snapshot-image-name'));
    expect(screen.getByTestId('start-snapshot-image')).toBeDisabled();
    expect(screen.getByTestId('snapshot-image-hint')).toHaveTextContent('Give the image a name.');
    await user.type(screen.getByTestId('snapshot-image-name'), 'web-s1');
    await user.click(screen.getByTestId('start-snapshot-image'));
    const alert = await screen.findByRole('alert');
    expect(alert.dataset.code).toBe('snapshot_unusable');
    expect(alert).toHaveTextContent('why snapshot_unusable');
  });
});

describe('the snapshot image job', () => {
  function tick(over: Partial<JobProgress>): JobProgress {
    return {
      job_id: 9, state: 'running', phase: 'extracting', item_index: 0, item_count: 1, items_done: 0, item_path: 'disk 2 (vdb) of VM web, snapshot s1',
      item_bytes_done: 0, item_bytes_total: 100, bytes_done: 0, bytes_total: 100, rate_bps: 0, eta_seconds: null, ...over,
    };
  }

  it('is tracked as a snapshot image; its toast names the artifact and offers to show it in the library', async () => {
    const calls = mockCommands({
      start_snapshot_image: () => 9,
      show_progress: () => null,
      notify_job_finished: () => true,
      list_jobs: () => [job(9, { kind: 'snapshot_image', summary: '1 imported' })],
      get_job: () => ({ ...job(9, { kind: 'snapshot_image' }), items: [{ seq: 0, path: 'disk 2 (vdb) of VM web, snapshot s1', size: 100, outcome: 'imported', artifact: { id: 12, name: 'web-base' }, error: null, verification: [] }] }),
    });
    const toasts = new Toasts(0);
    const shown: number[] = [];
    const jobs = new JobsStore({ toasts, showArtifact: (id) => shown.push(id) });
    const request: SnapshotImageRequest = { source: { type: 'vm', vm: 'web', connect: null }, snapshot: 's1', disk_id: 2, format: 'qcow2', name: 'web-base', attributes: { name: null, description: null, version: '1.0', tags: null } };
    expect(await jobs.startSnapshotImage(request)).toBe(9);
    expect(calls.find((c) => c.cmd === 'start_snapshot_image')!.args).toMatchObject({ request });
    expect(jobs.recent[0]).toMatchObject({ id: 9, kind: 'snapshot_image' });
    jobs.applyProgress(tick({ phase: 'hashing', bytes_done: 50 }));
    jobs.applyProgress(tick({ state: 'succeeded', phase: 'done', bytes_done: 100 }));
    await vi.waitFor(() => expect(toasts.items.length).toBe(1));
    expect(toasts.items[0]!.title).toBe('Snapshot image finished: web-base');
    expect(toasts.items[0]!.action?.label).toBe('Show in library');
    toasts.act(toasts.items[0]!.id);
    expect(shown).toEqual([12]);
  });
});
