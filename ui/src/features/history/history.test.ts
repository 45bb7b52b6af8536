import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { job, mockCommands } from '../../test/fixtures';
import { History, PAGE } from './history.svelte';
import HistoryView from './History.svelte';

describe('History', () => {
  it('pages with keyset paging: the next page starts before the last id seen', async () => {
    const total = 100_000;
    const calls = mockCommands({
      count_jobs: () => total,
      list_jobs: (a) => {
        const q = a.query as { before_id: number | null; limit: number };
        const top = q.before_id ?? total + 1;
        return Array.from({ length: q.limit }, (_, i) => job(top - 1 - i));
      },
    });
    const h = new History();
    await h.load();
    expect(h.total).toBe(total);
    expect(h.items[0]!.id).toBe(total);
    expect(h.items).toHaveLength(PAGE);
    await h.loadMore();
    const last = calls.filter((c) => c.cmd === 'list_jobs').at(-1)!.args.query as { before_id: number };
    expect(last.before_id).toBe(total - PAGE + 1);
    expect(h.items).toHaveLength(2 * PAGE);
    expect(h.items[PAGE]!.id).toBe(total - PAGE);
  });

  it('sends the state and kind filters and stops at the end', async () => {
    const calls = mockCommands({ count_jobs: () => 3, list_jobs: () => [job(3, { state: 'interrupted' }), job(2), job(1)] });
    const h = new History();
    h.state = 'interrupted';
    h.kind = 'import';
    await h.load();
    expect(calls.find((c) => c.cmd === 'list_jobs')!.args.query).toMatchObject({ state: 'interrupted', kind: 'import', before_id: null });
    expect(h.exhausted).toBe(true);
    await h.loadMore();
    expect(calls.filter((c) => c.cmd === 'list_jobs')).toHaveLength(1);
  });

  it('opens a job with its items', async () => {
    mockCommands({
      get_job: (a) => ({ ...job(Number(a.jobId), { state: 'failed' }), items: [{ seq: 0, path: '/x/a.iso', size: 1, outcome: 'failed', artifact: null, error: null, verification: [] }] }),
    });
    const h = new History();
    await h.open(7);
    expect(h.detail?.id).toBe(7);
    expect(h.detail?.items[0]!.outcome).toBe('failed');
  });

  it('reads the open job again when the history changes while it runs, and not once it has ended', async () => {
    let state: 'running' | 'succeeded' = 'running';
    const calls = mockCommands({
      count_jobs: () => 1,
      list_jobs: () => [job(3, { state })],
      get_job: () => ({ ...job(3, { state }), items: [] }),
    });
    const h = new History();
    await h.load();
    await h.open(3);
    expect(h.detail?.state).toBe('running');
    // Another desktop's job ends: the change reloads the list, and the open job with it.
    state = 'succeeded';
    await h.load();
    await vi.waitFor(() => expect(h.detail?.state).toBe('succeeded'));
    const reads = calls.filter((c) => c.cmd === 'get_job').length;
    await h.load();
    await Promise.resolve();
    expect(calls.filter((c) => c.cmd === 'get_job')).toHaveLength(reads);
  });

  it('shows what each imported file was checked against, with the file and line', async () => {
    const v = { algo: 'sha256' as const, expected_from: 'checksum_file' as const, source_file: 'SHA256SUMS', line: 2, verified_at: '2026-12-02T05:11:00Z', job_id: 9 };
    mockCommands({
      count_jobs: () => 1,
      list_jobs: () => [job(9)],
      get_job: () => ({
        ...job(9),
        items: [
          { seq: 0, path: '/isos/debian-12.iso', size: 1, outcome: 'imported', artifact: { id: 1, name: 'debian-12.iso' }, error: null, verification: [v] },
          { seq: 1, path: '/isos/notes.txt', size: 1, outcome: 'imported', artifact: { id: 2, name: 'notes.txt' }, error: null, verification: [] },
        ],
      }),
    });
    const h = new History();
    await h.load();
    await h.open(9);
    render(HistoryView, { history: h });
    const shown = await screen.findAllByTestId('item-evidence');
    expect(shown).toHaveLength(1);
    expect(shown[0]).toHaveTextContent('SHA-256 matched SHA256SUMS (line 2)');
  });

  it('says who ran a job, and that older jobs did not record it', async () => {
    mockCommands({ count_jobs: () => 2, list_jobs: () => [job(2, { run_by: 'ana@ws-12' }), job(1, { run_by: null })], get_job: (a) => ({ ...job(Number(a.jobId), { run_by: Number(a.jobId) === 2 ? 'ana@ws-12' : null }), items: [] }) });
    const h = new History();
    await h.load();
    await h.open(2);
    const { unmount } = render(HistoryView, { history: h });
    expect(await screen.findByTestId('job-run-by')).toHaveTextContent('ana@ws-12');
    unmount();
    await h.open(1);
    render(HistoryView, { history: h });
    expect(await screen.findByTestId('job-run-by')).toHaveTextContent('Not recorded');
  });

  it('shows who deleted what, filters by kind and reads the rows again when the history changes', async () => {
    const rows = [
      { id: 2, what: 'profile', name: 'pxe', detail: null, deleted_at: '2026-12-05T04:00:00Z', deleted_by: 'bob@ws-2' },
      { id: 1, what: 'artifact', name: 'debian-12.iso', detail: 'ab'.repeat(32), deleted_at: '2026-12-05T03:00:00Z', deleted_by: null },
    ];
    const calls = mockCommands({
      count_jobs: () => 0,
      list_jobs: () => [],
      list_deletions: (a) => (a.what ? rows.filter((r) => r.what === a.what) : rows),
    });
    const h = new History();
    await h.load();
    render(HistoryView, { history: h });
    await fireEvent.click(screen.getByTestId('show-deletions'));
    const shown = await screen.findAllByTestId('deletion');
    expect(shown).toHaveLength(2);
    expect(shown[0]).toHaveTextContent('Profile');
    expect(shown[0]).toHaveTextContent('bob@ws-2');
    expect(shown[1]).toHaveTextContent('debian-12.iso');
    expect(shown[1]).toHaveTextContent('Not recorded');
    await fireEvent.change(screen.getByTestId('deleted-what'), { target: { value: 'artifact' } });
    await vi.waitFor(() => expect(screen.getAllByTestId('deletion')).toHaveLength(1));
    expect(calls.filter((c) => c.cmd === 'list_deletions').at(-1)!.args).toMatchObject({ what: 'artifact', limit: 500 });
    const before = calls.filter((c) => c.cmd === 'list_deletions').length;
    await h.load();
    expect(calls.filter((c) => c.cmd === 'list_deletions').length).toBe(before + 1);
  });

  it('says when nothing was deleted', async () => {
    mockCommands({ count_jobs: () => 0, list_jobs: () => [], list_deletions: () => [] });
    const h = new History();
    render(HistoryView, { history: h });
    await h.showDeletions();
    expect(await screen.findByText('Nothing has been deleted')).toBeInTheDocument();
  });
});
