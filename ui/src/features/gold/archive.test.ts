// Gold images as archives: the export dialog's state (format, folder, job, report) and the import form's.
import { describe, expect, it, vi } from 'vitest';
import type { CaptureReport, ExportReport, JobProgress } from '$lib/ipc/client';
import { gold, ipcError, job, mockCommands } from '../../test/fixtures';
import { archiveStem, freeName, GoldExport, GoldImport, NEW_SERIES } from './archive.svelte';

type Channelish = { onmessage: (m: unknown) => void };

function tick(over: Partial<JobProgress>): JobProgress {
  return {
    job_id: 31, state: 'running', phase: 'compressing', item_index: 0, item_count: 1, items_done: 0, item_path: '/out/app-1.0.zip', item_bytes_done: 5,
    item_bytes_total: 10, bytes_done: 5, bytes_total: 10, rate_bps: 100, eta_seconds: 1, ...over,
  };
}

describe('GoldExport', () => {
  it('asks for a folder, then exports in the chosen format as a job and shows the archive', async () => {
    let progress: Channelish | undefined;
    let report: Channelish | undefined;
    const calls = mockCommands({
      choose_folder: () => '/srv/exports',
      start_gold_export: (a) => { progress = a.onProgress as Channelish; report = a.onReport as Channelish; return 31; },
      show_in_folder: () => null,
    });
    const started = vi.fn();
    const x = new GoldExport({ onJobStarted: started });
    x.show('app-1.0');
    expect(x.open).toBe(true);
    expect(x.format).toBe('tar.gz');
    expect(x.blocking).toBe('Choose the folder the archive goes into.');
    await x.chooseFolder();
    expect(calls.find((c) => c.cmd === 'choose_folder')!.args).toEqual({ title: 'Export app-1.0 to a folder' });
    expect(x.dir).toBe('/srv/exports');
    expect(x.blocking).toBeNull();
    x.format = 'zip';
    expect(x.fileName).toBe('app-1.0.zip');

    await x.start();
    expect(calls.find((c) => c.cmd === 'start_gold_export')!.args.request).toEqual({ image: 'app-1.0', dir: '/srv/exports', format: 'zip' });
    expect(started).toHaveBeenCalledWith(31, 'export');
    expect(x.running).toBe(true);
    progress!.onmessage(tick({}));
    expect(x.run?.progress?.bytes_done).toBe(5);
    progress!.onmessage(tick({ state: 'succeeded', bytes_done: 10 }));
    const done: ExportReport = { job: job(31, { kind: 'export' }), file: '/srv/exports/app-1.0.zip', sha256: 'e'.repeat(64), size: 10 };
    report!.onmessage(done);
    expect(x.running).toBe(false);
    expect(x.run?.report?.file).toBe('/srv/exports/app-1.0.zip');
    await x.reveal();
    expect(calls.find((c) => c.cmd === 'show_in_folder')!.args).toEqual({ path: '/srv/exports/app-1.0.zip' });

    // closed and opened again: the form, with the folder and format of this session kept
    x.close();
    x.show('app-1.1');
    expect(x.run).toBeNull();
    expect([x.dir, x.format, x.fileName]).toEqual(['/srv/exports', 'zip', 'app-1.1.zip']);
  });

  it('keeps a running export when closed and opened again for the same image', async () => {
    mockCommands({ start_gold_export: () => 31 });
    const x = new GoldExport();
    x.show('app-1.0');
    x.dir = '/srv/exports';
    await x.start();
    x.close();
    expect(x.open).toBe(false);
    x.show('app-1.0');
    expect(x.run?.jobId).toBe(31);
    expect(x.running).toBe(true);
  });

  it('shows a refusal before any job, and the recorded error of a failed job', async () => {
    mockCommands({ start_gold_export: () => { throw ipcError('not_chosen', 'The folder /etc was not chosen in this window.'); } });
    const x = new GoldExport();
    x.show('app-1.0');
    x.dir = '/etc';
    await x.start();
    expect(x.run?.error?.code).toBe('not_chosen');
    expect(x.run?.jobId).toBeNull();
    x.again();
    expect(x.run).toBeNull();

    let progress: Channelish | undefined;
    mockCommands({
      start_gold_export: (a) => { progress = a.onProgress as Channelish; return 32; },
      get_job: () => ({ ...job(32, { kind: 'export', state: 'failed', error: ipcError('object_damaged') }), items: [] }),
    });
    await x.start();
    progress!.onmessage(tick({ job_id: 32, state: 'failed' }));
    await vi.waitFor(() => expect(x.run?.error?.code).toBe('object_damaged'));
    expect(x.running).toBe(false);
  });
});

describe('GoldImport', () => {
  it('names the image after the archive, free among the images, and starts the import job', async () => {
    const imported: CaptureReport[] = [];
    const started = vi.fn();
    let report: Channelish | undefined;
    const calls = mockCommands({
      choose_gold_archive: () => '/srv/in/app-1.0.tar.gz',
      list_series: () => [{ name: 'app', current: 'app-1.0', images: [] }],
      start_gold_import: (a) => { report = a.onReport as Channelish; return 44; },
    });
    const f = new GoldImport({ onJobStarted: started, onImported: (r) => imported.push(r), imageNames: () => ['app-1.0'] });
    await f.choose();
    expect(f.open).toBe(true);
    expect(f.archive).toBe('/srv/in/app-1.0.tar.gz');
    expect(f.name).toBe('app-1.0-2');
    await vi.waitFor(() => expect(f.seriesNames).toEqual(['app']));
    f.name = 'APP-1.0';
    expect(f.blocking).toBe('There is already an image called APP-1.0.');
    f.name = 'app-1.0-imported';
    f.series = 'app';
    f.version = ' 1.0 ';
    expect(f.blocking).toBeNull();
    expect(await f.start()).toBe(true);
    expect(calls.find((c) => c.cmd === 'start_gold_import')!.args.request).toEqual({
      archive: '/srv/in/app-1.0.tar.gz', name: 'app-1.0-imported', series: 'app', version: '1.0',
    });
    expect(started).toHaveBeenCalledWith(44, 'capture');
    expect(f.open).toBe(false);
    report!.onmessage({ job: job(44, { kind: 'capture' }), image: gold(9, { name: 'app-1.0-imported' }) });
    expect(imported.map((r) => r.image?.name)).toEqual(['app-1.0-imported']);
  });

  it('opens nothing when the dialog is cancelled; a new series needs its name; a refusal stays in the form', async () => {
    mockCommands({ choose_gold_archive: () => null, list_series: () => [] });
    const f = new GoldImport();
    await f.choose();
    expect(f.open).toBe(false);

    mockCommands({ list_series: () => [], start_gold_import: () => { throw ipcError('unsafe_archive', 'home.zip was refused: ../x leaves the archive.'); } });
    f.use('/srv/in/home.zip');
    expect(f.name).toBe('home');
    f.series = NEW_SERIES;
    expect(f.blocking).toBe('Name the new series.');
    f.newSeries = 'homes';
    expect(f.seriesName).toBe('homes');
    expect(await f.start()).toBe(false);
    expect(f.error?.code).toBe('unsafe_archive');
    expect(f.open).toBe(true);
    // another archive renames a name that was only the suggestion
    f.use('/srv/in/other.tgz');
    expect(f.name).toBe('other');
  });

  it('makes names from archive file names', () => {
    expect(archiveStem('/a/db home 19.tar.gz')).toBe('db home 19');
    expect(archiveStem('/a/x.TGZ')).toBe('x');
    expect(archiveStem('/a/x.zip')).toBe('x');
    expect(archiveStem('/a/.zip')).toBe('.zip');
    expect(freeName('x', ['X', 'x-2'])).toBe('x-3');
    expect(freeName('y', ['x'])).toBe('y');
  });
});
