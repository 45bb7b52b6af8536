import { describe, expect, it, vi } from 'vitest';
import type { ExportReport, JobProgress, Profile, ProfileMember } from '$lib/ipc/client';
import { artifact, ipcError, job, mockCommands } from '../../test/fixtures';
import { fits, Profiles, roleOf } from './profiles.svelte';

function member(id: number, role: ProfileMember['role'], over: Partial<ProfileMember> = {}): ProfileMember {
  return { artifact: { id, name: `m-${id}` }, kind: role === 'custom' ? 'script' : role, os: 'linux', role, size: 10, sha256: 'c'.repeat(64), state: 'ok', warnings: [], ...over };
}

function profile(id: number, over: Partial<Profile> = {}): Profile {
  return {
    id, name: `p-${id}`, description: '', base: { id: 1, name: 'rhel-9.6-x86_64-dvd.iso' }, base_state: 'ok', os: 'linux', distro: 'rhel', members: [],
    options: {}, edition: null, editions: [], created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', created_by: 'admin@desk', updated_by: null, ...over,
  };
}

function tick(over: Partial<JobProgress>): JobProgress {
  return {
    job_id: 12, state: 'running', phase: 'compressing', item_index: 0, item_count: 1, items_done: 0, item_path: '/out/p-3.tar.gz', item_bytes_done: 5,
    item_bytes_total: 10, bytes_done: 5, bytes_total: 10, rate_bps: 100, eta_seconds: 1, ...over,
  };
}

type Channelish = { onmessage: (m: unknown) => void };

describe('fits (the picker filter)', () => {
  const rhel = profile(1);
  const win = profile(2, { os: 'windows', distro: null });
  it('keeps what fits the base OS and drops what the engine would refuse', () => {
    expect(fits(rhel, artifact(5, { kind: 'driver', os: 'linux' }))).toBe(true);
    expect(fits(rhel, artifact(6, { kind: 'driver', os: 'windows' }))).toBe(false);
    expect(fits(rhel, artifact(7, { kind: 'boot', os: 'windows' }))).toBe(false);
    expect(fits(win, artifact(7, { kind: 'boot', os: 'windows' }))).toBe(true);
    expect(fits(rhel, artifact(8, { kind: 'script', os: null }))).toBe(true);
    expect(fits(rhel, artifact(9, { kind: 'os', os: 'linux' }))).toBe(false);
    expect(roleOf('software')).toBe('custom');
    expect(roleOf('disk_image')).toBeNull();
  });
});

describe('Profiles', () => {
  it('loads the list, opens a profile with its base image', async () => {
    const calls = mockCommands({
      list_profiles: () => [profile(3), profile(4)],
      get_profile: (a) => profile(Number(a.profile), { members: [member(5, 'driver')] }),
      get_artifact: (a) => artifact(Number(a.idOrName), { name: 'rhel-9.6-x86_64-dvd.iso', distro: 'rhel' }),
    });
    const p = new Profiles();
    await p.load();
    expect(p.items.map((x) => x.name)).toEqual(['p-3', 'p-4']);
    await p.select(4);
    expect(p.selected?.members).toHaveLength(1);
    await vi.waitFor(() => expect(p.base?.name).toBe('rhel-9.6-x86_64-dvd.iso'));
    expect(calls.find((c) => c.cmd === 'get_artifact')!.args.idOrName).toBe('1');
    expect(p.items.find((x) => x.id === 4)!.members).toHaveLength(1);
  });

  it('keeps the profile as it was when the engine refuses a member, and says why', async () => {
    mockCommands({
      get_profile: () => profile(3),
      get_artifact: () => artifact(1),
      add_to_profile: () => { throw ipcError('unsupported_type', 'win-nic-driver.zip is for windows, but the profile p-3 is for linux.'); },
    });
    const p = new Profiles();
    await p.select(3);
    const err = await p.add([8]);
    expect(err?.code).toBe('unsupported_type');
    expect(err?.recovery).toBe('fix unsupported_type');
    expect(p.editError).toBeNull(); // the picker shows it
    expect(p.selected?.members).toEqual([]);
  });

  it('adds what fits of several dropped files and names each misfit with its reason', async () => {
    const calls = mockCommands({
      get_profile: () => profile(3),
      get_artifact: () => artifact(1),
      list_profiles: () => [profile(3)],
      add_to_profile: (args) => {
        const [id] = (args as { artifacts: string[] }).artifacts;
        if (id === '8') throw ipcError('unsupported_type', 'win-nic-driver.zip is for windows, but the profile p-3 is for linux.');
        return profile(3, { members: [member(Number(id), 'unattend')] });
      },
    });
    const p = new Profiles();
    await p.select(3);
    const { added, refused } = await p.addEach(3, [{ id: 5, name: 'ks.cfg' }, { id: 8, name: 'win-nic-driver.zip' }, { id: 6, name: 'post.sh' }]);
    expect(added).toEqual(['ks.cfg', 'post.sh']);
    expect(refused.map((r) => [r.name, r.error.code])).toEqual([['win-nic-driver.zip', 'unsupported_type']]);
    expect(calls.filter((c) => c.cmd === 'add_to_profile')).toHaveLength(3);
    expect(p.selected?.members.length).toBeGreaterThan(0);
    expect(p.editError).toBeNull();
  });

  it('adds and removes members; the answer comes back as the open profile', async () => {
    const calls = mockCommands({
      get_profile: () => profile(3),
      get_artifact: () => artifact(1),
      add_to_profile: () => profile(3, { members: [member(5, 'driver'), member(6, 'unattend')] }),
      remove_from_profile: () => profile(3, { members: [member(6, 'unattend')] }),
    });
    const p = new Profiles();
    await p.select(3);
    expect(await p.add([5, 6])).toBeNull();
    expect(calls.find((c) => c.cmd === 'add_to_profile')!.args).toEqual({ profile: '3', artifacts: ['5', '6'] });
    expect(p.selected?.members.map((m) => m.role)).toEqual(['driver', 'unattend']);
    await p.remove(5);
    expect(calls.find((c) => c.cmd === 'remove_from_profile')!.args).toEqual({ profile: '3', artifacts: ['5'] });
    expect(p.selected?.members).toHaveLength(1);
  });

  it('saves options as shown: removed keys are sent empty, names trimmed and lower-cased', async () => {
    const calls = mockCommands({
      get_profile: () => profile(3, { options: { hostname: 'old', ntp: 'pool.ntp.org' } }),
      get_artifact: () => artifact(1),
      set_profile_options: () => profile(3, { options: { hostname: 'web01', timezone: 'UTC' } }),
    });
    const p = new Profiles();
    await p.select(3);
    await p.saveOptions({ hostname: ' web01 ', timezone: 'UTC', locale: '', ' Extra ': 'x' });
    expect(calls.find((c) => c.cmd === 'set_profile_options')!.args).toEqual({
      profile: '3', options: { hostname: 'web01', ntp: '', timezone: 'UTC', locale: '', extra: 'x' },
    });
    expect(p.selected?.options).toEqual({ hostname: 'web01', timezone: 'UTC' });
  });

  it('creates, renames (only what changed), clones under a free name and deletes', async () => {
    const calls = mockCommands({
      create_profile: (a) => profile(3, { name: String(a.name), description: String(a.description) }),
      get_artifact: () => artifact(1),
      update_profile: (a) => profile(3, { name: String(a.name) }),
      free_profile_name: (a) => `${String(a.name)} (2)`,
      clone_profile: (a) => profile(4, { name: String(a.newName) }),
      delete_profile: () => profile(4),
    });
    const p = new Profiles();
    expect(await p.create(' web ', '1', 'RHEL web')).toBeNull();
    expect(calls.find((c) => c.cmd === 'create_profile')!.args).toEqual({ name: 'web', base: '1', description: 'RHEL web', edition: null });
    expect(p.selected?.name).toBe('web');
    await p.rename('web2', 'RHEL web');
    expect(calls.find((c) => c.cmd === 'update_profile')!.args).toEqual({ profile: '3', name: 'web2', description: null });
    expect(await p.cloneName()).toBe('web2 (2)');
    expect(await p.clone('web2 (2)')).toBeNull();
    expect(p.selected?.id).toBe(4);
    expect(p.items.map((x) => x.id)).toEqual([3, 4]);
    expect(await p.deleteProfile()).toBeNull();
    expect(p.selected).toBeNull();
    expect(p.items.map((x) => x.id)).toEqual([3]);
  });

  it('returns a refused create (name taken) for the dialog to show', async () => {
    mockCommands({ create_profile: () => { throw ipcError('name_taken'); } });
    const p = new Profiles();
    expect((await p.create('web', '1', ''))?.code).toBe('name_taken');
    expect(p.selected).toBeNull();
  });

  it('exports as a job: progress goes to the jobs panel, the report shows path and sha256', async () => {
    let progress: Channelish | undefined;
    let report: Channelish | undefined;
    const calls = mockCommands({
      get_profile: () => profile(3),
      get_artifact: () => artifact(1),
      export_profile: (a) => { progress = a.onProgress as Channelish; report = a.onReport as Channelish; return 12; },
    });
    const started = vi.fn();
    const forwarded: JobProgress[] = [];
    const p = new Profiles({ onJobStarted: started, onProgress: (t) => forwarded.push(t) });
    await p.select(3);
    await p.startExport('/out', true);
    expect(calls.find((c) => c.cmd === 'export_profile')!.args.request).toEqual({ profile: '3', dir: '/out', include_os: true, lint_override: null });
    expect(started).toHaveBeenCalledWith(12, 'export');
    progress!.onmessage(tick({}));
    expect(p.exportRun?.progress?.bytes_done).toBe(5);
    expect(forwarded).toHaveLength(1);
    const done: ExportReport = { job: job(12, { kind: 'export' }), file: '/out/p-3.tar.gz', sha256: 'd'.repeat(64), size: 10 };
    progress!.onmessage(tick({ state: 'succeeded', bytes_done: 10 }));
    report!.onmessage(done);
    expect(p.exportRun?.report?.sha256).toBe('d'.repeat(64));
    expect(p.exportRun?.error).toBeNull();
  });

  it('a failed export shows the error the history recorded; a refused one the refusal', async () => {
    let progress: Channelish | undefined;
    mockCommands({
      get_profile: () => profile(3),
      get_artifact: () => artifact(1),
      export_profile: (a) => { progress = a.onProgress as Channelish; return 12; },
      get_job: () => ({ ...job(12, { kind: 'export', state: 'failed', error: ipcError('write_failed') }), items: [] }),
    });
    const p = new Profiles();
    await p.select(3);
    await p.startExport('/out', false);
    progress!.onmessage(tick({ state: 'failed' }));
    await vi.waitFor(() => expect(p.exportRun?.error?.code).toBe('write_failed'));

    mockCommands({ export_profile: () => { throw ipcError('file_not_found'); } });
    await p.startExport('/gone', false);
    expect(p.exportRun?.error?.code).toBe('file_not_found');
    expect(p.exportRun?.jobId).toBeNull();
  });

  it('cancels the running export by its job id', async () => {
    const calls = mockCommands({ get_profile: () => profile(3), get_artifact: () => artifact(1), export_profile: () => 12, cancel_job: () => true });
    const p = new Profiles();
    await p.select(3);
    await p.startExport('/out', false);
    p.cancelExport();
    await vi.waitFor(() => expect(calls.some((c) => c.cmd === 'cancel_job' && c.args.jobId === 12)).toBe(true));
  });

  it('imports a profile archive as a job and opens the profile when it is in', async () => {
    let report: Channelish | undefined;
    const calls = mockCommands({
      import_profile: (a) => { report = a.onReport as Channelish; return 20; },
      list_profiles: () => [profile(9, { name: 'rhel9-web (2)' })],
      get_profile: () => profile(9, { name: 'rhel9-web (2)' }),
      get_artifact: () => artifact(1),
    });
    const started = vi.fn();
    const imported = vi.fn();
    const p = new Profiles({ onJobStarted: started, onImported: imported });
    expect(await p.importArchive('/in/rhel9-web.tar.gz')).toBeNull();
    expect(calls[0]!.args).toMatchObject({ archive: '/in/rhel9-web.tar.gz', name: null });
    expect(started).toHaveBeenCalledWith(20, 'profile_import');
    report!.onmessage({ job: job(20, { kind: 'profile_import' }), profile: profile(9, { name: 'rhel9-web (2)' }), sidecar_verified: true, members: [] });
    await vi.waitFor(() => expect(p.selected?.name).toBe('rhel9-web (2)'));
    expect(imported).toHaveBeenCalled();
  });

  it('returns a refused import (unsafe archive) at once', async () => {
    mockCommands({ import_profile: () => { throw ipcError('unsafe_archive'); } });
    expect((await new Profiles().importArchive('/in/evil.tar.gz'))?.code).toBe('unsafe_archive');
  });
});
