import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { ipcError, job, mockCommands } from '../../test/fixtures';
import JobsPanel from './JobsPanel.svelte';
import { JobsStore } from './jobs.svelte';

describe('JobsPanel', () => {
  it('shows a running job with bytes, rate, ETA and Cancel', async () => {
    mockCommands({ list_jobs: () => [job(3, { state: 'running', finished_at: null })], cancel_job: () => true });
    const jobs = new JobsStore();
    await jobs.refresh();
    jobs.applyProgress({
      job_id: 3, state: 'running', phase: 'copying', item_index: 0, item_count: 1, items_done: 0, item_path: '/d/big.iso', item_bytes_done: 512 * 1024 * 1024,
      item_bytes_total: 1024 * 1024 * 1024, bytes_done: 512 * 1024 * 1024, bytes_total: 1024 * 1024 * 1024, rate_bps: 100 * 1024 * 1024, eta_seconds: 5,
    });
    render(JobsPanel, { jobs, onopen: () => {} });
    expect(await screen.findByTestId('job-progress')).toHaveTextContent('512 MiB of 1.0 GiB');
    expect(screen.getByTestId('job-progress')).toHaveTextContent('100 MiB/s');
    expect(screen.getByTestId('job-progress')).toHaveTextContent('ETA 5 s');
    expect(screen.getByRole('progressbar', { name: 'Progress of job 3' })).toHaveAttribute('aria-valuenow', '50');
    screen.getByTestId('cancel-job').click();
    await vi.waitFor(() => expect(screen.getByTestId('cancel-job')).toBeInTheDocument());
  });

  it('offers Cancel only for jobs this window started (a CLI job is cancelled where it runs)', async () => {
    mockCommands({ list_jobs: () => [job(8, { state: 'running', finished_at: null, bytes_done: 5, bytes_total: 10 })] });
    const jobs = new JobsStore();
    await jobs.refresh();
    render(JobsPanel, { jobs, onopen: () => {} });
    expect(await screen.findByText(/Started by another Imagesmith process/)).toBeInTheDocument();
    expect(screen.queryByTestId('cancel-job')).toBeNull();
  });

  it('shows a failed item with its text, explanation and recovery', async () => {
    mockCommands({
      list_jobs: () => [job(4, { state: 'failed', failed_count: 1, summary: '0 imported, 1 failed' })],
    });
    const jobs = new JobsStore();
    await jobs.refresh();
    jobs.details = { 4: { ...job(4, { state: 'failed' }), items: [{ seq: 0, path: '/d/ipxe.iso', size: 1, outcome: 'failed', artifact: null, verification: [], error: ipcError('checksum_mismatch', 'The SHA-256 of ipxe.iso does not match.') }] } };
    render(JobsPanel, { jobs, onopen: () => {} });
    const item = await screen.findByTestId('item-error');
    expect(item).toHaveTextContent('The SHA-256 of ipxe.iso does not match.');
    expect(item).toHaveTextContent('why checksum_mismatch');
    expect(item).toHaveTextContent('fix checksum_mismatch');
  });

  it('offers to retry the files a partly succeeded import could not take', async () => {
    mockCommands({ list_jobs: () => [job(4, { state: 'partly_succeeded', item_count: 3, failed_count: 2 })] });
    const jobs = new JobsStore();
    await jobs.refresh();
    const item = (seq: number, path: string, failed: boolean) => ({
      seq, path, size: 1, outcome: failed ? ('failed' as const) : ('imported' as const), artifact: null, verification: [],
      error: failed ? ipcError('checksum_mismatch') : null,
    });
    jobs.details = { 4: { ...job(4, { state: 'partly_succeeded' }), items: [item(0, '/d/a.iso', true), item(1, '/d/b.iso', false), item(2, '/d/c.iso', true)] } };
    const retried: string[][] = [];
    render(JobsPanel, { jobs, onopen: () => {}, onretry: (paths: string[]) => retried.push(paths) });
    const retry = await screen.findByTestId('retry-failed');
    expect(retry).toHaveTextContent('Retry 2 failed');
    retry.click();
    expect(retried).toEqual([['/d/a.iso', '/d/c.iso']]);
  });
});
