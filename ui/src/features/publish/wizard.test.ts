import { describe, expect, it, vi } from 'vitest';
import type { IpcError, JobProgress } from '$lib/ipc/client';
import { artifact, job, mockCommands } from '../../test/fixtures';
import { SecretPrompt } from '../remotes/secret.svelte';
import { conversion, defaultMinDisk, defaultName, defaultProperties, formatRefusal, storedFormat } from './formats';
import { fail, fakeApi, plan, planItem, publication, target } from './testing';
import type { PublishReport } from './types';
import { itemLines, PublishWizard, targetLines } from './wizard.svelte';

const GIB = 1024 ** 3;
const disk = artifact(5, { name: 'cirros.qcow2', kind: 'disk_image', os: 'linux', distro: 'ubuntu', version: '', detected: { disk_format: 'qcow2', virtual_size: 2.5 * GIB, version: '24.04', arch: 'x86_64' } });
const iso = artifact(6, { name: 'debian-12.iso', kind: 'os', os: 'linux', distro: 'debian', detected: { version: '12.8' } });
const driver = artifact(7, { name: 'nic.rpm', kind: 'driver' });

function library() {
  return mockCommands({
    list_artifacts: (a) => ((a.query as { kind: string }).kind === 'disk_image' ? [disk] : [iso]),
    cancel_job: () => true,
  });
}

function tick(over: Partial<JobProgress>): JobProgress {
  return {
    job_id: 9, state: 'running', phase: 'uploading', item_index: 0, item_count: 1, items_done: 0, item_path: 'cirros.qcow2', item_bytes_done: 5,
    item_bytes_total: 10, bytes_done: 5, bytes_total: 10, rate_bps: 100, eta_seconds: 1, ...over,
  };
}

describe('what the library knows about an image', () => {
  it('stored format, conversion, refusals, name, min disk and properties', () => {
    expect(storedFormat(disk)).toBe('qcow2');
    expect(storedFormat(iso)).toBe('iso');
    expect(storedFormat(artifact(8, { kind: 'disk_image', detected: {} }))).toBe('raw');
    expect(conversion(disk, '')).toBeNull();
    expect(conversion(disk, 'qcow2')).toBeNull();
    expect(conversion(disk, 'raw')).toEqual({ from: 'qcow2', to: 'raw' });
    expect(formatRefusal(iso, 'qcow2')).toMatch(/is an ISO/);
    expect(formatRefusal(disk, 'iso')).toMatch(/cannot be published as an ISO/);
    expect(formatRefusal(iso, 'iso')).toBeNull();
    expect(defaultName(disk)).toBe('cirros');
    expect(defaultMinDisk(disk)).toBe(3);
    expect(defaultMinDisk(iso)).toBe(0);
    expect(defaultProperties(disk)).toEqual([['os_type', 'linux'], ['os_distro', 'ubuntu'], ['os_version', '24.04'], ['architecture', 'x86_64']]);
    expect(defaultProperties(artifact(9, { os: 'windows', distro: null, version: '2022', detected: {} }))).toEqual([['os_type', 'windows'], ['os_distro', 'windows'], ['os_version', '2022']]);
  });
});

describe('PublishWizard', () => {
  it('walks images → target → options → review, prefilled from the library, and builds the request', async () => {
    library();
    const api = fakeApi({ listTargets: async () => [target('lab')], planPublish: async () => plan([planItem()]) });
    const w = new PublishWizard(api, new SecretPrompt());
    await w.start([disk, driver]);
    expect(w.open).toBe(true);
    expect(w.chosen).toEqual([5]);
    expect(w.candidates.map((a) => a.name)).toEqual(['cirros.qcow2', 'debian-12.iso']);
    expect(w.target).toBe('lab'); // the only account is chosen
    w.next();
    expect(w.step).toBe(1);
    w.next();
    expect(w.step).toBe(2);
    expect(w.name).toBe('cirros');
    expect(w.minDisk).toBe(3);
    expect(w.properties.map((p) => p.key)).toEqual(['os_type', 'os_distro', 'os_version', 'architecture']);
    w.diskFormat = 'raw';
    expect(w.conversions).toEqual([{ name: 'cirros.qcow2', from: 'qcow2', to: 'raw' }]);
    w.visibility = 'community';
    w.tags = 'lab, ci ,';
    w.minRam = 512;
    w.properties.push({ key: 'hw_disk_bus', value: 'virtio' });
    w.next();
    expect(w.step).toBe(3);
    await vi.waitFor(() => expect(w.plan).not.toBeNull());
    expect(api.planPublish).toHaveBeenCalledWith({
      artifacts: ['5'], target: 'lab',
      options: {
        name: 'cirros', visibility: 'community', disk_format: 'raw', container_format: 'bare', no_convert: false, min_disk_gb: 3, min_ram_mb: 512,
        tags: ['lab', 'ci'], protected: false,
        properties: { os_type: 'linux', os_distro: 'ubuntu', os_version: '24.04', architecture: 'x86_64', hw_disk_bus: 'virtio' },
      },
    }, null);
    expect(w.planBlocks).toBeNull();
  });

  it('will not go on without an image, a target, or with options that cannot work', async () => {
    library();
    const w = new PublishWizard(fakeApi({ listTargets: async () => [target('a'), target('b')] }), new SecretPrompt());
    await w.start();
    expect(w.problem).toBe('Choose at least one image.');
    w.next();
    expect(w.step).toBe(0);
    w.toggle(6);
    w.toggle(5);
    w.next();
    expect(w.problem).toBe('Choose where to publish.');
    w.chooseTarget('b');
    w.next();
    expect(w.step).toBe(2);
    expect(w.name).toBe(''); // several images keep their library names
    expect(w.properties).toEqual([]);
    expect(w.optionsProblem).toBeNull();
    w.diskFormat = 'qcow2';
    expect(w.optionsProblem).toMatch(/debian-12.iso is an ISO/);
    w.diskFormat = '';
    w.properties.push({ key: 'a', value: '1' }, { key: 'a', value: '2' });
    expect(w.optionsProblem).toBe('A property is set twice.');
    w.properties.splice(1, 1);
    w.minRam = 1.5;
    expect(w.optionsProblem).toMatch(/Min RAM/);
    w.minRam = 0;
    expect(w.request().options).toMatchObject({ name: null, disk_format: null, min_ram_mb: null, min_disk_gb: 3, properties: { a: '1' } }); // the largest virtual size among them
    expect(w.request().artifacts).toEqual(['6', '5']);
  });

  it('keeps edited options when going back, and prefills again when the images change', async () => {
    library();
    const w = new PublishWizard(fakeApi({ listTargets: async () => [target('lab')], planPublish: async () => plan([planItem()]) }), new SecretPrompt());
    await w.start([disk]);
    w.next();
    w.next();
    w.name = 'my cirros';
    w.next();
    await vi.waitFor(() => expect(w.planning).toBe(false));
    w.goTo(1);
    expect(w.step).toBe(1);
    expect(w.plan).toBeNull();
    w.next();
    expect(w.name).toBe('my cirros');
    w.goTo(0);
    w.toggle(5);
    w.toggle(6);
    w.next();
    w.next();
    expect(w.name).toBe('debian-12');
  });

  it('a refused item blocks Publish with its reason; warnings do not', async () => {
    library();
    const taken: IpcError = { code: 'name_taken', text: 'Target "lab" already has 1 image(s) named "cirros".', explanation: '', recovery: 'Choose another display name.' };
    const tooLarge: IpcError = { code: 'too_large', text: 'cirros is larger than the project may still store.', explanation: '', recovery: 'Delete images.' };
    let answer = plan([planItem({ warnings: [taken] })], { storage_left: 10 * GIB });
    const w = new PublishWizard(fakeApi({ listTargets: async () => [target('lab')], planPublish: async () => answer }), new SecretPrompt());
    await w.start([disk]);
    w.next(); w.next(); w.next();
    await vi.waitFor(() => expect(w.plan).not.toBeNull());
    expect(w.planBlocks).toBeNull();
    const lines = itemLines(w.plan!.items[0]!, w.plan!.storage_left);
    expect(lines.map((l) => [l.key, l.level])).toEqual([['format', 'ok'], ['size', 'ok'], ['name-0', 'warn']]);
    expect(lines[1]!.text).toMatch(/fits in the 10.0 GiB/);
    answer = plan([planItem({ problems: [tooLarge] })]);
    await w.runPlan();
    expect(w.planBlocks).toBe(tooLarge.text);
    expect(itemLines(w.plan!.items[0]!, null).find((l) => l.level === 'fail')?.recovery).toBe('Delete images.');
    await w.publish();
    expect(w.run).toBeNull();
  });

  it('says who signed in where, and the conversion the dry run found', () => {
    expect(targetLines(plan([]))[0]!.text).toBe('Signed in as demo to project demo; image endpoint http://127.0.0.1:9294 (image API v2.17).');
    expect(targetLines(plan([], { target: { ...plan([]).target, auth: 'none', user: null, project: null } }))[0]!.text).toMatch(/no sign-in needed/);
    expect(itemLines(planItem({ convert: true, source_format: 'vmdk', disk_format: 'qcow2' }), null)[0]!.text).toMatch(/Converted from vmdk to qcow2 with qemu-img/);
  });

  it('asks for the password when the dry run needs one and shows the cloud’s error otherwise', async () => {
    library();
    const prompt = new SecretPrompt();
    const planPublish = vi.fn(async (_r: unknown, s: string | null) => {
      if (s == null) throw fail('secret_required');
      if (s !== 'demopw') throw fail('auth_failed', 'Keystone refused the password.');
      return plan([planItem()]);
    });
    const api = fakeApi({ listTargets: async () => [target('lab', { auth: 'password' })], planPublish });
    const w = new PublishWizard(api, prompt);
    await w.start([disk]);
    w.next(); w.next(); w.next();
    await vi.waitFor(() => expect(prompt.request).not.toBeNull());
    expect(w.planning).toBe(true);
    prompt.answer({ secret: 'demopw', remember: true });
    await vi.waitFor(() => expect(w.plan).not.toBeNull());
    expect(api.rememberSecret).toHaveBeenCalledWith('target', 'lab', 'demopw');

    const cancelled = w.runPlan();
    await vi.waitFor(() => expect(prompt.request).not.toBeNull());
    prompt.dismiss();
    await cancelled;
    expect(w.error?.code).toBe('secret_required');
    expect(w.planBlocks).toMatch(/needs the password/);
  });

  it('publishes as a job: progress, the report with its publications, cancel through cancel_job', async () => {
    const calls = library();
    let progress: ((p: JobProgress) => void) | undefined;
    let report: ((r: PublishReport) => void) | undefined;
    const started = vi.fn();
    const api = fakeApi({
      listTargets: async () => [target('lab')],
      planPublish: async () => plan([planItem()]),
      publish: async (_req, _s, onProgress, onReport) => { progress = onProgress; report = onReport; onProgress(tick({})); return 9; },
    });
    const onPublished = vi.fn();
    const w = new PublishWizard(api, new SecretPrompt(), { onJobStarted: started, onProgress: vi.fn(), onPublished });
    await w.start([disk]);
    w.next(); w.next(); w.next();
    await vi.waitFor(() => expect(w.plan).not.toBeNull());
    await w.publish();
    expect(started).toHaveBeenCalledWith(9, 'publish');
    expect(w.run?.jobId).toBe(9);
    expect(w.running).toBe(true);
    w.cancel();
    expect(calls.find((c) => c.cmd === 'cancel_job')?.args).toEqual({ jobId: 9 });
    w.back(); // no going back while the job runs
    expect(w.step).toBe(3);
    progress!(tick({ state: 'succeeded', bytes_done: 10 }));
    report!({ job: job(9, { kind: 'publish' }), publications: [publication(1)] });
    expect(w.running).toBe(false);
    expect(w.run?.report?.publications[0]?.verified).toBe(true);
    expect(w.publishedCount).toBe(1);
    expect(onPublished).toHaveBeenCalledTimes(1);
  });

  it('a publish refused before the job existed shows the refusal in the run', async () => {
    library();
    const api = fakeApi({
      listTargets: async () => [target('lab')],
      planPublish: async () => plan([planItem()]),
      publish: async () => { throw fail('remote_unavailable', 'Glance did not answer.'); },
    });
    const w = new PublishWizard(api, new SecretPrompt());
    await w.start([disk]);
    w.next(); w.next(); w.next();
    await vi.waitFor(() => expect(w.plan).not.toBeNull());
    await w.publish();
    expect(w.run?.error?.text).toBe('Glance did not answer.');
    expect(w.running).toBe(false);
  });
});
