import { describe, expect, it, vi } from 'vitest';
import type { JobProgress } from '$lib/ipc/client';
import { ipcError, job, mockCommands } from '../../test/fixtures';
import { Toasts } from '../toasts/toasts.svelte';
import { JobsStore } from './jobs.svelte';

function tick(over: Partial<JobProgress>): JobProgress {
  return {
    job_id: 5, state: 'running', phase: 'copying', item_index: 0, item_count: 1, items_done: 0, item_path: '/d/ipxe.iso', item_bytes_done: 50,
    item_bytes_total: 100, bytes_done: 50, bytes_total: 100, rate_bps: 1000, eta_seconds: 1, ...over,
  };
}

describe('JobsStore', () => {
  it('puts the running jobs\' progress in the window title and tells the desktop when a job ends', async () => {
    const calls = mockCommands({
      show_progress: () => null,
      notify_job_finished: () => true,
      list_jobs: () => [job(5, { summary: '1 imported' })],
      get_job: () => ({ ...job(5), items: [{ seq: 0, path: '/d/ipxe.iso', size: 100, outcome: 'imported', artifact: null, error: null, verification: [] }] }),
    });
    const jobs = new JobsStore({ toasts: new Toasts(0) });
    jobs.applyProgress(tick({ job_id: 5, bytes_done: 25, bytes_total: 100 }));
    jobs.applyProgress(tick({ job_id: 6, bytes_done: 25, bytes_total: 100 }));
    jobs.applyProgress(tick({ job_id: 6, bytes_done: 25, bytes_total: 100 })); // unchanged: not sent again
    const titles = () => calls.filter((c) => c.cmd === 'show_progress').map((c) => [c.args.percent, c.args.running]);
    expect(titles()).toEqual([[25, 1], [25, 2]]);
    jobs.applyProgress(tick({ job_id: 5, state: 'succeeded', bytes_done: 100 }));
    jobs.applyProgress(tick({ job_id: 6, state: 'succeeded', bytes_done: 100 }));
    expect(titles().at(-1)).toEqual([null, 0]);
    await vi.waitFor(() => expect(calls.some((c) => c.cmd === 'notify_job_finished')).toBe(true));
    expect(calls.find((c) => c.cmd === 'notify_job_finished')!.args).toMatchObject({ title: 'Import finished: ipxe.iso', body: '1 imported' });
  });

  it('names the artifact an image from a store became, not the last part of its URL', async () => {
    const url = 'https://images.example/images/2b683a82-a066-11e3-97ab-2faa44701c5a/file';
    mockCommands({
      list_jobs: () => [job(7, { summary: '1 imported' })],
      get_job: () => ({ ...job(7), items: [{ seq: 0, path: url, size: 100, outcome: 'imported', artifact: { id: 3, name: 'ipxe-1.21.1' }, error: null, verification: [] }] }),
    });
    const toasts = new Toasts(0);
    const jobs = new JobsStore({ toasts });
    jobs.applyProgress(tick({ job_id: 7, item_path: url }));
    jobs.applyProgress(tick({ job_id: 7, item_path: url, state: 'succeeded', bytes_done: 100 }));
    await vi.waitFor(() => expect(toasts.items.length).toBe(1));
    expect(toasts.items[0]!.title).toBe('Import finished: ipxe-1.21.1');
  });

  it('tracks live progress and, when a job fails, loads its items and raises an error toast', async () => {
    const failed = { seq: 0, path: '/d/ipxe.iso', size: 100, outcome: 'failed', artifact: null, error: ipcError('checksum_mismatch') };
    mockCommands({
      list_jobs: () => [job(5, { state: 'failed', failed_count: 1, summary: '1 failed' })],
      get_job: () => ({ ...job(5, { state: 'failed', failed_count: 1 }), items: [failed] }),
    });
    const toasts = new Toasts(0);
    const onFinished = vi.fn();
    const jobs = new JobsStore({ toasts, onFinished });
    jobs.applyProgress(tick({}));
    expect(jobs.live[5]!.bytes_done).toBe(50);
    jobs.applyProgress(tick({ state: 'failed', bytes_done: 100 }));
    await vi.waitFor(() => expect(onFinished).toHaveBeenCalled());
    expect(jobs.details[5]!.items[0]!.error!.code).toBe('checksum_mismatch');
    expect(toasts.items[0]).toMatchObject({ tone: 'error' });
    expect(toasts.items[0]!.title).toBe('Import failed: ipxe.iso');
  });

  it('a batch with one failure is partly succeeded and its toast says how many were done', async () => {
    const item = (seq: number, outcome: 'imported' | 'failed') => ({
      seq, path: `/d/f${seq}.iso`, size: 1, outcome, artifact: null, error: outcome === 'failed' ? ipcError('checksum_mismatch') : null,
    });
    mockCommands({
      list_jobs: () => [job(5, { state: 'partly_succeeded', item_count: 4, failed_count: 1, summary: '3 imported, 1 failed' })],
      get_job: () => ({ ...job(5, { state: 'partly_succeeded' }), items: [item(0, 'imported'), item(1, 'failed'), item(2, 'imported'), item(3, 'imported')] }),
    });
    const toasts = new Toasts(0);
    const jobs = new JobsStore({ toasts });
    jobs.applyProgress(tick({ item_count: 4 }));
    jobs.applyProgress(tick({ state: 'partly_succeeded', item_count: 4 }));
    await vi.waitFor(() => expect(toasts.items).toHaveLength(1));
    expect(toasts.items[0]!.title).toBe('Import partly succeeded: 3 of 4 done, 1 failed');
  });

  it('starts a verify of the whole repository and shows it at once', async () => {
    const calls = mockCommands({ start_verify: () => 11, list_jobs: () => [] });
    const jobs = new JobsStore();
    expect(await jobs.verify([])).toBe(11);
    expect(calls[0]!.cmd).toBe('start_verify');
    expect(calls[0]!.args.artifacts).toEqual([]);
    expect(jobs.recent.find((j) => j.id === 11)?.kind).toBe('verify');
  });

  it('starts an import and shows it at once', async () => {
    const calls = mockCommands({ start_import: () => 9, list_jobs: () => [] });
    const jobs = new JobsStore();
    const id = await jobs.start({ items: [{ path: '/d/a.iso', kind: 'os', os: 'linux', image: null, name: null, expected: null }], checksum_files: [] });
    expect(id).toBe(9);
    expect(calls[0]!.cmd).toBe('start_import');
    expect(jobs.recent.some((j) => j.id === 9)).toBe(true);
    expect(jobs.runningCount).toBe(1);
  });

  it('a succeeded job raises a success toast', async () => {
    mockCommands({ list_jobs: () => [job(5)], get_job: () => ({ ...job(5), items: [{ seq: 0, path: '/d/ipxe.iso', size: 1, outcome: 'imported', artifact: { id: 1, name: 'ipxe.iso' }, error: null }] }) });
    const toasts = new Toasts(0);
    const jobs = new JobsStore({ toasts });
    jobs.applyProgress(tick({ state: 'succeeded' }));
    await vi.waitFor(() => expect(toasts.items).toHaveLength(1));
    expect(toasts.items[0]).toMatchObject({ tone: 'success', title: 'Import finished: ipxe.iso' });
  });

  it('tracks a job started elsewhere in the window and names it by kind when it finishes', async () => {
    mockCommands({
      list_jobs: () => [],
      get_job: () => ({ ...job(12, { kind: 'export', summary: 'exported web.tar.gz' }), items: [{ seq: 0, path: '/out/web.tar.gz', size: 1, outcome: 'imported', artifact: null, error: null }] }),
    });
    const toasts = new Toasts(0);
    const finished: number[] = [];
    const jobs = new JobsStore({ toasts, onFinished: (t) => finished.push(t.job_id) });
    jobs.track(12, 'export');
    expect(jobs.recent[0]).toMatchObject({ id: 12, kind: 'export' });
    jobs.applyProgress(tick({ job_id: 12, state: 'succeeded', item_path: '/out/web.tar.gz' }));
    await vi.waitFor(() => expect(toasts.items).toHaveLength(1));
    expect(toasts.items[0]!.title).toBe('Export finished: web.tar.gz');
    expect(finished).toEqual([12]);
  });
});
