import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { gold, goldEntry as entry, ipcError, mockCommands } from '../../test/fixtures';
import Gold from './Gold.svelte';
import CaptureReviewView from './CaptureReview.svelte';
import { CaptureReview, GoldImages } from './gold.svelte';

/** jsdom has no layout: a ResizeObserver that reports a 600 px viewport, so the file list renders rows. */
class SizedObserver {
  #report: ResizeObserverCallback;
  constructor(report: ResizeObserverCallback) {
    this.#report = report;
  }
  observe(target: Element) {
    queueMicrotask(() => this.#report([{ target, contentRect: { width: 480, height: 600 } } as unknown as ResizeObserverEntry], this as unknown as ResizeObserver));
  }
  unobserve() {}
  disconnect() {}
}
const noLayout = globalThis.ResizeObserver;
beforeAll(() => { globalThis.ResizeObserver = SizedObserver as unknown as typeof ResizeObserver; });
afterAll(() => { globalThis.ResizeObserver = noLayout; });

const copy = { path: '/srv/copies/db1', image: 'db-19.22', provisioned_at: '2026-11-24T09:00:00Z' };

function library() {
  return [
    gold(1, { name: 'db-19.21', series: 'db19', version: '19.21', state: 'archived', size: 3 * 1024 ** 3, new_bytes: 3 * 1024 ** 3 }),
    gold(2, { name: 'db-19.22', series: 'db19', version: '19.22', state: 'published', current: true, size: 3 * 1024 ** 3, new_bytes: 40 * 1024 ** 2, copies: [copy] }),
    gold(3, { name: 'tools', state: 'testable' }),
  ];
}

async function shown(handlers: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  const calls = mockCommands({
    list_gold: () => library(),
    gold_files: () => [entry('bin', { kind: 'dir', mode: 0o755 }), entry('bin/sqlplus', { mode: 0o755 }), entry('lib/libclntsh.so', { kind: 'symlink', target: 'libclntsh.so.19.1' })],
    ...handlers,
  });
  const gi = new GoldImages();
  await gi.load();
  const capture = new CaptureReview();
  const user = userEvent.setup();
  render(Gold, { gold: gi, capture, onprovision: () => {} });
  return { calls, gi, capture, user };
}

describe('Gold images screen', () => {
  it('lists series as groups of versions with state, current marker, size and the bytes each added', async () => {
    await shown();
    const group = screen.getAllByTestId('series-group').find((g) => g.dataset.series === 'db19')!;
    const rows = within(group).getAllByTestId('gold-row');
    expect(rows.map((r) => r.dataset.name)).toEqual(['db-19.21', 'db-19.22']);
    expect(rows[0]).toHaveTextContent('Archived');
    expect(rows[1]).toHaveTextContent('Published');
    expect(within(rows[1]!).getByTestId('current-marker')).toHaveTextContent('Current');
    expect(rows[1]).toHaveTextContent('3.0 GiB');
    expect(rows[1]).toHaveTextContent('+40.0 MiB new');
    expect(screen.getAllByTestId('series-group').at(-1)).toHaveTextContent('Not in a series');
  });

  it('opens an image with its files, working copies and a search over the files', async () => {
    const { user } = await shown({ check_copy: () => ({ changed: ['bin/sqlplus'], added: ['notes.txt'], removed: [], mode_changed: [] }) });
    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'db-19.22')!);
    expect(screen.getByTestId('gold-details-name')).toHaveTextContent('db-19.22');
    expect(screen.getByTestId('gold-captured-by')).toHaveTextContent('admin@desk');
    expect(await screen.findAllByTestId('gold-file')).toHaveLength(3);
    expect(screen.getAllByTestId('gold-file')[2]).toHaveTextContent('libclntsh.so.19.1');
    await user.type(screen.getByTestId('gold-file-search'), 'sqlplus');
    expect(screen.getAllByTestId('gold-file').map((f) => f.dataset.path)).toEqual(['bin/sqlplus']);

    const card = screen.getByTestId('working-copy');
    expect(card).toHaveTextContent('/srv/copies/db1');
    expect(card).toHaveTextContent('Not checked yet');
    await user.click(within(card).getByRole('button', { name: 'Check now' }));
    expect(await within(card).findByTestId('drift-status')).toHaveTextContent('1 changed, 1 added');
    await user.click(within(card).getByText(/Changed \(1\)/));
    expect(within(card).getByText('bin/sqlplus')).toBeVisible();
  });

  it('promotes with the state select and shows an in_use refusal of Delete with its text', async () => {
    const { user, calls } = await shown({
      promote_gold: () => ({ ...library()[2], state: 'published' }),
      delete_gold: () => { throw ipcError('in_use', 'db-19.22 was not deleted: 1 working copy uses it: /srv/copies/db1.'); },
    });
    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'tools')!);
    await user.selectOptions(screen.getByTestId('promote-state'), 'published');
    expect(calls.find((c) => c.cmd === 'promote_gold')!.args).toEqual({ name: 'tools', to: 'published' });
    expect(await screen.findByTestId('gold-state')).toHaveTextContent('Published');

    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'db-19.22')!);
    await user.click(screen.getByTestId('delete-gold'));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete db-19.22?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText(/1 working copy uses it: \/srv\/copies\/db1/)).toBeInTheDocument();
  });

  it('asks before provisioning an image that is not published', async () => {
    const asked: Array<[string, boolean]> = [];
    mockCommands({ list_gold: () => library(), gold_files: () => [] });
    const gi = new GoldImages();
    await gi.load();
    const user = userEvent.setup();
    render(Gold, { gold: gi, capture: new CaptureReview(), onprovision: (name: string, allow: boolean) => asked.push([name, allow]) });
    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'tools')!);
    await user.click(screen.getByTestId('provision-gold'));
    const dialog = screen.getByTestId('confirm-unpublished');
    expect(dialog).toHaveTextContent('tools is testable, not published');
    expect(asked).toEqual([]);
    await user.click(within(dialog).getByRole('button', { name: 'Provision anyway…' }));
    expect(asked).toEqual([['tools', true]]);

    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'db-19.22')!);
    await user.click(screen.getByTestId('provision-gold'));
    expect(asked).toEqual([['tools', true], ['db-19.22', false]]);
  });

  it('diffs two versions: a summary, then both side by side', async () => {
    const { user } = await shown({
      list_series: () => [],
      diff_gold: () => ({ changed: ['bin/sqlplus'], added: ['lib/new.so'], removed: [], mode_changed: [] }),
      gold_files: (a) => a.name === 'db-19.21' ? [entry('bin/sqlplus', { size: 10 })] : [entry('bin/sqlplus', { size: 12, sha256: 'b'.repeat(64) }), entry('lib/new.so', { size: 7 })],
    });
    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'db-19.22')!);
    expect(screen.getByTestId('side-by-side')).toBeDisabled();
    await user.selectOptions(screen.getByTestId('diff-against'), 'db-19.21');
    const diff = await screen.findByTestId('gold-diff');
    expect(diff).toHaveTextContent('From db-19.21 to db-19.22');
    expect(await within(diff).findByTestId('drift-status')).toHaveTextContent('1 changed, 1 added');
    await user.click(screen.getByTestId('side-by-side'));
    const view = await screen.findByTestId('gold-compare');
    expect(within(view).getByTestId('compare-left')).toHaveTextContent('db-19.21');
    expect(within(view).getByTestId('compare-right')).toHaveTextContent('db-19.22');
    const rows = await within(view).findAllByTestId('compare-row');
    expect(rows.map((r) => [r.dataset.path, r.dataset.tags])).toEqual([['bin/sqlplus', 'changed'], ['lib/new.so', 'added']]);
    expect(within(rows[1]!).getByTestId('cell-left')).toHaveTextContent('—');
    expect(within(rows[1]!).getByTestId('cell-right')).toHaveTextContent('7 B');
  });

  it('exports the open image through the export dialog in the chosen format', async () => {
    const { user, calls } = await shown({ list_series: () => [], choose_folder: () => '/srv/out', start_gold_export: () => 5, get_job: () => ({}) });
    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'db-19.22')!);
    await user.click(screen.getByTestId('export-gold'));
    const dialog = screen.getByRole('dialog', { name: 'Export db-19.22' });
    expect(within(dialog).getByTestId('gold-export-format-tar.gz')).toBeChecked();
    expect(dialog).toHaveTextContent('hardlink becomes a separate copy');
    expect(screen.getByTestId('start-gold-export')).toBeDisabled();
    await user.click(within(dialog).getByTestId('gold-export-format-zip'));
    await user.click(within(dialog).getByTestId('choose-gold-export-folder'));
    expect(within(dialog).getByTestId('gold-export-folder')).toHaveTextContent('/srv/out');
    expect(dialog).toHaveTextContent('db-19.22.zip');
    expect(screen.getByTestId('start-gold-export')).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(calls.find((c) => c.cmd === 'start_gold_export')!.args.request).toEqual({ image: 'db-19.22', dir: '/srv/out', format: 'zip' });
    expect(await within(dialog).findByText('Starting the export…')).toBeInTheDocument();
  });

  it('imports an archive chosen in the native dialog through the import form', async () => {
    const { user, calls } = await shown({
      list_series: () => [{ name: 'db19', current: 'db-19.22', images: [] }],
      choose_gold_archive: () => '/srv/in/db-19.22.tar.gz',
      start_gold_import: () => 8,
    });
    await user.click(screen.getByTestId('import-gold-archive'));
    const form = await screen.findByTestId('gold-import-form');
    expect(within(form).getByTestId('gold-import-archive')).toHaveTextContent('/srv/in/db-19.22.tar.gz');
    expect(within(form).getByTestId('gold-import-name')).toHaveValue('db-19.22-2');
    await within(form).findByRole('option', { name: 'db19' });
    await user.selectOptions(within(form).getByTestId('gold-import-series'), 'db19');
    await user.type(within(form).getByTestId('gold-import-version'), '19.22.1');
    await user.click(screen.getByTestId('start-gold-import'));
    expect(calls.find((c) => c.cmd === 'start_gold_import')!.args.request).toEqual({
      archive: '/srv/in/db-19.22.tar.gz', name: 'db-19.22-2', series: 'db19', version: '19.22.1',
    });
    expect(screen.queryByTestId('gold-import-form')).toBeNull();
  });

  it('puts an image into a series, takes it out, and shows a refusal with its text', async () => {
    const { user, calls } = await shown({
      list_series: () => [{ name: 'db19', current: 'db-19.22', images: [] }],
      create_series: (a) => ({ name: a.name, current: null, images: [] }),
      add_to_series: () => { throw ipcError('not_found', 'There is no series called tools-next.'); },
      remove_from_series: () => ({ name: 'db19', current: 'db-19.22', images: [] }),
    });
    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'tools')!);
    const section = screen.getByTestId('gold-series');
    expect(section).toHaveTextContent('Not in a series');
    await within(section).findByRole('option', { name: 'db19' });
    await user.selectOptions(within(section).getByTestId('series-choice'), ' new');
    await user.type(within(section).getByTestId('new-series-name'), 'tools-next');
    await user.click(within(section).getByTestId('put-in-series'));
    expect(calls.find((c) => c.cmd === 'create_series')!.args).toEqual({ name: 'tools-next' });
    expect(await screen.findByTestId('gold-action-error')).toHaveTextContent('There is no series called tools-next.');

    await user.click(screen.getAllByTestId('gold-row').find((r) => r.dataset.name === 'db-19.22')!);
    expect(screen.getByTestId('gold-series-name')).toHaveTextContent('db19');
    await user.click(screen.getByTestId('remove-from-series'));
    expect(calls.find((c) => c.cmd === 'remove_from_series')!.args).toEqual({ series: 'db19', image: 'db-19.22' });
  });

  it('says what a gold image is when there is none, with New gold image…', async () => {
    mockCommands({ list_gold: () => [], list_series: () => [] });
    const gi = new GoldImages();
    await gi.load();
    const capture = new CaptureReview();
    const user = userEvent.setup();
    render(Gold, { gold: gi, capture, onprovision: () => {} });
    expect(screen.getByText('No gold images yet')).toBeInTheDocument();
    await user.click(screen.getByTestId('new-gold'));
    expect(capture.open).toBe(true);
  });
});

describe('Capture review', () => {
  it('shows the counts of the chosen folder and the fields, and starts the capture', async () => {
    const calls = mockCommands({
      list_series: () => [{ name: 'db19', current: 'db-19.22', images: [] }],
      plan_capture: () => ({ from: '/srv/homes/dbhome_2', files: 1200, dirs: 140, symlinks: 30, size: 3 * 1024 ** 3 }),
      start_capture: () => 9,
    });
    const capture = new CaptureReview();
    const user = userEvent.setup();
    render(CaptureReviewView, { review: capture });
    await capture.use('/srv/homes/dbhome_2');
    const counts = await screen.findByTestId('capture-counts');
    expect(counts).toHaveTextContent('1,200 files');
    expect(counts).toHaveTextContent('140 folders');
    expect(counts).toHaveTextContent('30 links');
    expect(counts).toHaveTextContent('3.0 GiB');
    expect(screen.getByTestId('capture-name')).toHaveValue('dbhome_2');
    await user.selectOptions(screen.getByTestId('capture-type'), 'oracle-db');
    await screen.findByRole('option', { name: 'db19' });
    await user.selectOptions(screen.getByTestId('capture-series'), 'db19');
    await user.type(screen.getByTestId('capture-version'), '19.23');
    await user.click(screen.getByTestId('start-capture'));
    expect(calls.find((c) => c.cmd === 'start_capture')!.args.request).toMatchObject({ name: 'dbhome_2', image_type: 'oracle-db', series: 'db19', version: '19.23' });
  });

  it('takes a free type and a new series name', async () => {
    mockCommands({ list_series: () => [], plan_capture: () => ({ from: '/h', files: 1, dirs: 0, symlinks: 0, size: 1 }) });
    const capture = new CaptureReview();
    const user = userEvent.setup();
    render(CaptureReviewView, { review: capture });
    await capture.use('/h');
    await user.selectOptions(screen.getByTestId('capture-type'), 'other');
    expect(screen.getByTestId('start-capture')).toBeDisabled();
    await user.type(screen.getByTestId('capture-other-type'), 'weblogic');
    await user.selectOptions(screen.getByTestId('capture-series'), CaptureReview.NEW_SERIES);
    await user.type(screen.getByTestId('capture-new-series'), 'wls');
    expect(screen.getByTestId('start-capture')).toBeEnabled();
  });
});
