import { describe, expect, it, vi } from 'vitest';
import type { GoldImage } from '$lib/ipc/client';
import { gold, goldEntry as entry, ipcError, mockCommands } from '../../test/fixtures';
import { CaptureReview, driftSummary, GoldImages } from './gold.svelte';

describe('GoldImages', () => {
  it('groups versions by series in their order, the images in no series last', async () => {
    mockCommands({
      list_gold: () => [
        gold(1, { name: 'db-19.21', series: 'db19', version: '19.21' }),
        gold(2, { name: 'db-19.22', series: 'db19', version: '19.22', current: true }),
        gold(3, { name: 'gi-19', series: 'gi19' }),
        gold(4, { name: 'tools' }),
      ],
    });
    const g = new GoldImages();
    await g.load();
    expect(g.groups.map((x) => [x.series, x.images.map((i) => i.name)])).toEqual([
      ['db19', ['db-19.21', 'db-19.22']],
      ['gi19', ['gi-19']],
      [null, ['tools']],
    ]);
    expect(g.ordered.map((i) => i.id)).toEqual([1, 2, 3, 4]);
  });

  it('opens an image with its files and filters them by the search', async () => {
    mockCommands({
      list_gold: () => [gold(1)],
      gold_files: () => [entry('bin', { kind: 'dir' }), entry('bin/sqlplus', { mode: 0o755 }), entry('README'), entry('lib/libclntsh.so')],
    });
    const g = new GoldImages();
    await g.load();
    g.select('img-1');
    await vi.waitFor(() => expect(g.files).toHaveLength(4));
    g.fileSearch = 'BIN';
    expect(g.shownFiles.map((e) => e.path)).toEqual(['bin', 'bin/sqlplus']);
  });

  it('promotes and keeps the list in step; a refusal is kept with its text', async () => {
    const calls = mockCommands({
      list_gold: () => [gold(1)],
      gold_files: () => [],
      promote_gold: (a) => gold(1, { state: a.to as GoldImage['state'] }),
      delete_gold: () => { throw ipcError('in_use', 'img-1 was not deleted: 1 working copy uses it: /srv/copy.'); },
    });
    const g = new GoldImages();
    await g.load();
    g.select('img-1');
    expect(await g.promote('published')).toBeNull();
    expect(calls.find((c) => c.cmd === 'promote_gold')!.args).toEqual({ name: 'img-1', to: 'published' });
    expect(g.selected?.state).toBe('published');
    const err = await g.delete();
    expect(err?.code).toBe('in_use');
    expect(g.actionError?.text).toContain('/srv/copy');
    expect(g.selected?.name).toBe('img-1');
  });

  it('provisions as a job, passing allow_unpublished only when asked', async () => {
    const started: Array<[number, string]> = [];
    const calls = mockCommands({ list_gold: () => [gold(1, { state: 'restricted' })], gold_files: () => [], start_provision: () => 42 });
    const g = new GoldImages({ onJobStarted: (id, kind) => started.push([id, kind]) });
    await g.load();
    g.select('img-1');
    expect(g.needsConfirmation).toBe(true);
    expect(await g.provision('/srv/copy', true)).toBeNull();
    expect(calls.find((c) => c.cmd === 'start_provision')!.args.request).toEqual({ image: 'img-1', to: '/srv/copy', allow_unpublished: true });
    expect(started).toEqual([[42, 'provision']]);
    expect(g.provisioning).toEqual({ image: 'img-1', to: '/srv/copy', jobId: 42 });
  });

  it('checks a working copy and says what drifted', async () => {
    mockCommands({ check_copy: () => ({ changed: ['README'], added: ['NEW', 'x'], removed: [], mode_changed: ['bin/run.sh'] }) });
    const g = new GoldImages();
    await g.check('/srv/copy');
    const c = g.checks['/srv/copy']!;
    expect(c.checking).toBe(false);
    expect(driftSummary(c.drift!)).toBe('1 changed, 2 added, 1 mode changed');
    expect(driftSummary({ changed: [], added: [], removed: [], mode_changed: [] })).toBe('No differences');
  });

  it('diffs the open image against another version, its series first among the candidates', async () => {
    const calls = mockCommands({
      list_gold: () => [gold(1, { name: 'other' }), gold(2, { name: 'a-1', series: 'a' }), gold(3, { name: 'a-2', series: 'a' })],
      gold_files: () => [],
      diff_gold: () => ({ changed: ['README'], added: [], removed: ['old'], mode_changed: [] }),
    });
    const g = new GoldImages();
    await g.load();
    g.select('a-2');
    expect(g.diffCandidates.map((x) => x.name)).toEqual(['a-1', 'other']);
    await g.diffWith('a-1');
    expect(calls.find((c) => c.cmd === 'diff_gold')!.args).toEqual({ from: 'a-1', to: 'a-2' });
    expect(g.diff?.drift?.removed).toEqual(['old']);
  });

  it('diffs from the older version to the newer, whichever is open, and opens them side by side in that order', async () => {
    const calls = mockCommands({
      list_gold: () => [gold(2, { name: 'a-1', series: 'a' }), gold(3, { name: 'a-2', series: 'a' }),
        gold(1, { name: 'loose', created_at: '2026-12-01T00:00:00Z' })],
      gold_files: () => [],
      list_series: () => [],
      diff_gold: () => ({ changed: [], added: ['x'], removed: [], mode_changed: [] }),
    });
    const g = new GoldImages();
    await g.load();
    g.select('a-1');
    await g.diffWith('a-2');
    expect(calls.filter((c) => c.cmd === 'diff_gold').at(-1)!.args).toEqual({ from: 'a-1', to: 'a-2' });
    expect([g.diff?.from, g.diff?.to]).toEqual(['a-1', 'a-2']);
    g.showSideBySide();
    expect([g.compare.left?.name, g.compare.right?.name]).toEqual(['a-1', 'a-2']);
    await vi.waitFor(() => expect(g.compare.rows.map((r) => r.path)).toEqual(['x']));
    // outside a shared series, the one captured first is on the left
    await g.diffWith('loose');
    expect(calls.filter((c) => c.cmd === 'diff_gold').at(-1)!.args).toEqual({ from: 'a-1', to: 'loose' });
  });

  it('puts the open image into an existing or a new series, takes it out, and keeps a refusal', async () => {
    let images = [gold(1, { name: 'app-1.0' })];
    const calls = mockCommands({
      list_gold: () => images,
      gold_files: () => [],
      list_series: () => [{ name: 'app', current: null, images: [] }],
      create_series: (a) => ({ name: a.name, current: null, images: [] }),
      add_to_series: (a) => {
        images = [gold(1, { name: 'app-1.0', series: a.series as string, current: true })];
        return { name: a.series, current: 'app-1.0', images };
      },
      remove_from_series: () => {
        images = [gold(1, { name: 'app-1.0' })];
        return { name: 'app', current: null, images: [] };
      },
    });
    const g = new GoldImages();
    await g.load();
    g.select('app-1.0');
    await vi.waitFor(() => expect(g.seriesNames).toEqual(['app']));
    expect(await g.putInSeries('app', false)).toBeNull();
    expect(calls.filter((c) => c.cmd === 'create_series')).toHaveLength(0);
    expect(calls.find((c) => c.cmd === 'add_to_series')!.args).toEqual({ series: 'app', image: 'app-1.0' });
    expect(g.selected?.series).toBe('app');
    expect(await g.takeOutOfSeries()).toBeNull();
    expect(calls.find((c) => c.cmd === 'remove_from_series')!.args).toEqual({ series: 'app', image: 'app-1.0' });
    expect(g.selected?.series).toBeNull();
    expect(await g.putInSeries(' app-next ', true)).toBeNull();
    expect(calls.find((c) => c.cmd === 'create_series')!.args).toEqual({ name: 'app-next' });
    expect(calls.filter((c) => c.cmd === 'add_to_series').at(-1)!.args).toEqual({ series: 'app-next', image: 'app-1.0' });
    // a name typed as new that already exists is not created twice
    await g.putInSeries('APP', true);
    expect(calls.filter((c) => c.cmd === 'create_series')).toHaveLength(1);

    mockCommands({ list_gold: () => images, list_series: () => [], add_to_series: () => { throw ipcError('invalid_name', '"" cannot be used as a name.'); } });
    const err = await g.putInSeries('x', false);
    expect(err?.code).toBe('invalid_name');
    expect(g.actionError?.code).toBe('invalid_name');
  });
});

describe('CaptureReview', () => {
  it('counts a chosen folder, prefills the name and starts the capture with the fields', async () => {
    const started: Array<[number, string]> = [];
    const calls = mockCommands({
      list_series: () => [{ name: 'db19', current: null, images: [] }],
      choose_gold_folder: () => '/srv/homes/dbhome_1',
      plan_capture: () => ({ from: '/srv/homes/dbhome_1', files: 120, dirs: 14, symlinks: 3, size: 5_000_000 }),
      start_capture: () => 7,
    });
    const r = new CaptureReview({ onJobStarted: (id, kind) => started.push([id, kind]) });
    r.show();
    expect(r.blocking).toBe('Choose the folder to capture.');
    await r.chooseFolder();
    expect(calls.find((c) => c.cmd === 'choose_gold_folder')!.args).toEqual({ purpose: 'capture' });
    expect(r.plan?.files).toBe(120);
    expect(r.name).toBe('dbhome_1');
    await vi.waitFor(() => expect(r.seriesNames).toEqual(['db19']));
    r.imageType = 'other';
    expect(r.blocking).toBe('Say what type of home this is.');
    r.otherType = 'weblogic';
    r.series = CaptureReview.NEW_SERIES;
    expect(r.blocking).toBe('Name the new series.');
    r.newSeries = 'wls14';
    r.version = ' 14.1 ';
    expect(await r.start()).toBe(true);
    expect(calls.find((c) => c.cmd === 'start_capture')!.args.request).toEqual({
      name: 'dbhome_1', from: '/srv/homes/dbhome_1', image_type: 'weblogic', series: 'wls14', version: '14.1', description: null,
    });
    expect(started).toEqual([[7, 'capture']]);
    expect(r.open).toBe(false);
  });

  it('a dropped folder offers importing its files instead; one chosen in the dialog does not', async () => {
    mockCommands({
      list_series: () => [],
      plan_capture: (a) => ({ from: a.from, files: 2, dirs: 1, symlinks: 0, size: 10 }),
      choose_gold_folder: () => '/srv/homes/other',
    });
    const r = new CaptureReview();
    await r.useDropped('/srv/homes/app');
    expect([r.open, r.dropped, r.from, r.name]).toEqual([true, true, '/srv/homes/app', 'app']);
    expect(r.plan?.files).toBe(2);
    await r.chooseFolder();
    expect([r.dropped, r.from, r.name]).toEqual([false, '/srv/homes/other', 'other']);
    r.close();
    expect(r.dropped).toBe(false);
  });

  it('shows why a folder cannot be captured and blocks Capture', async () => {
    mockCommands({ list_series: () => [], plan_capture: () => { throw ipcError('special_file', '/srv/home holds a FIFO: /srv/home/pipe.'); } });
    const r = new CaptureReview();
    await r.use('/srv/home');
    expect(r.open).toBe(true);
    expect(r.error?.code).toBe('special_file');
    expect(r.blocking).toBe('This folder cannot be captured.');
  });
});
