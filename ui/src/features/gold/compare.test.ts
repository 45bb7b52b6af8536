// The side-by-side diff of two versions: rows built from the two manifests and the engine's diff,
// the filters, counts and search, the swap, and the view over thousands of rows (virtualised).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { Drift, GoldEntry } from '$lib/ipc/client';
import { gold, goldEntry as entry, ipcError, mockCommands } from '../../test/fixtures';
import GoldCompare from './GoldCompare.svelte';
import { cell, diffRows, octal, SideBySide, swapRows } from './compare.svelte';

/** jsdom has no layout: a ResizeObserver that reports a 600 px viewport, so the list renders rows. */
class SizedObserver {
  #report: ResizeObserverCallback;
  constructor(report: ResizeObserverCallback) {
    this.#report = report;
  }
  observe(target: Element) {
    queueMicrotask(() => this.#report([{ target, contentRect: { width: 800, height: 600 } } as unknown as ResizeObserverEntry], this as unknown as ResizeObserver));
  }
  unobserve() {}
  disconnect() {}
}
const noLayout = globalThis.ResizeObserver;
beforeAll(() => { globalThis.ResizeObserver = SizedObserver as unknown as typeof ResizeObserver; });
afterAll(() => { globalThis.ResizeObserver = noLayout; });

const sha = (c: string) => c.repeat(64);
const left: GoldEntry[] = [
  entry('README', { size: 31, sha256: sha('a') }),
  entry('bin', { kind: 'dir', mode: 0o755, size: 0, sha256: null }),
  entry('bin/app', { mode: 0o644, size: 24, sha256: sha('b') }),
  entry('conf/app.conf', { size: 12, sha256: sha('c') }),
  entry('lib/libapp.so', { kind: 'symlink', mode: 0o777, size: 0, sha256: null, target: 'libapp.so.1' }),
  entry('old.txt', { size: 4, sha256: sha('d') }),
];
const right: GoldEntry[] = [
  entry('README', { size: 31, sha256: sha('a') }),
  entry('bin', { kind: 'dir', mode: 0o755, size: 0, sha256: null }),
  entry('bin/app', { mode: 0o755, size: 30, sha256: sha('e') }),
  entry('conf/app.conf', { size: 12, sha256: sha('f') }),
  entry('lib/libapp.so', { kind: 'symlink', mode: 0o777, size: 0, sha256: null, target: 'libapp.so.2' }),
  entry('new.txt', { size: 2048, sha256: sha('1') }),
];
const drift: Drift = { changed: ['bin/app', 'conf/app.conf', 'lib/libapp.so'], added: ['new.txt'], removed: ['old.txt'], mode_changed: ['bin/app'] };

describe('diff rows', () => {
  it('puts one row per path with each side, grouped changed, added, removed, mode changed', () => {
    const rows = diffRows(drift, left, right);
    expect(rows.map((r) => [r.path, r.tag, r.tags.join('+')])).toEqual([
      ['bin/app', 'changed', 'changed+mode_changed'],
      ['conf/app.conf', 'changed', 'changed'],
      ['lib/libapp.so', 'changed', 'changed'],
      ['new.txt', 'added', 'added'],
      ['old.txt', 'removed', 'removed'],
    ]);
    const added = rows.find((r) => r.path === 'new.txt')!;
    expect([added.left, added.right?.size]).toEqual([null, 2048]);
    expect(cell(rows[0]!.left)).toEqual({ what: 'file', size: '24 B', mode: '0644', sha: 'bbbbbbbbbbbb', target: null });
    expect(cell(rows[0]!.right)?.mode).toBe('0755');
    expect(cell(rows[2]!.right)).toMatchObject({ what: 'link', target: 'libapp.so.2' });
    expect(cell(null)).toBeNull();
    expect(octal(0o4755)).toBe('4755');
  });

  it('swaps sides: added and removed trade places', () => {
    const swapped = swapRows(diffRows(drift, left, right));
    expect(swapped.map((r) => [r.path, r.tag])).toEqual([
      ['bin/app', 'changed'], ['conf/app.conf', 'changed'], ['lib/libapp.so', 'changed'], ['old.txt', 'added'], ['new.txt', 'removed'],
    ]);
    expect(swapped.find((r) => r.path === 'old.txt')!.right?.size).toBe(4);
  });
});

describe('SideBySide', () => {
  it('loads both manifests and the diff, counts, filters and searches', async () => {
    const calls = mockCommands({ diff_gold: () => drift, gold_files: (a) => (a.name === 'app-1.0' ? left : right) });
    const c = new SideBySide();
    await c.show(gold(1, { name: 'app-1.0' }), gold(2, { name: 'app-1.1' }));
    expect(calls.find((x) => x.cmd === 'diff_gold')!.args).toEqual({ from: 'app-1.0', to: 'app-1.1' });
    expect(c.counts).toEqual({ all: 5, changed: 3, added: 1, removed: 1, mode_changed: 1 });
    expect(c.lines.map((l) => (l.type === 'group' ? `# ${l.tag} ${l.count}` : l.row.path))).toEqual([
      '# changed 3', 'bin/app', 'conf/app.conf', 'lib/libapp.so', '# added 1', 'new.txt', '# removed 1', 'old.txt',
    ]);
    c.filter = 'mode_changed';
    expect(c.lines.map((l) => (l.type === 'row' ? l.row.path : ''))).toEqual(['bin/app']);
    c.filter = 'all';
    c.search = 'TXT';
    expect(c.matching.map((r) => r.path)).toEqual(['new.txt', 'old.txt']);
    c.swap();
    expect([c.left?.name, c.right?.name]).toEqual(['app-1.1', 'app-1.0']);
    expect(c.counts.added).toBe(1);
    expect(c.rows.find((r) => r.path === 'old.txt')?.tag).toBe('added');
  });

  it('shows why the comparison failed', async () => {
    mockCommands({ diff_gold: () => { throw ipcError('not_found', 'There is no gold image called gone.'); }, gold_files: () => [] });
    const c = new SideBySide();
    await c.show(gold(1), gold(2, { name: 'gone' }));
    expect(c.error?.code).toBe('not_found');
    expect(c.loading).toBe(false);
  });
});

describe('GoldCompare view', () => {
  it('heads two columns with the versions and shows what each has at a path, — when absent', async () => {
    mockCommands({ diff_gold: () => drift, gold_files: (a) => (a.name === 'app-1.0' ? left : right) });
    const c = new SideBySide();
    const user = userEvent.setup();
    render(GoldCompare, { compare: c });
    await c.show(gold(1, { name: 'app-1.0', version: '1.0', state: 'published' }), gold(2, { name: 'app-1.1', version: '1.1' }));
    expect(screen.getByTestId('compare-left')).toHaveTextContent('app-1.0');
    expect(screen.getByTestId('compare-left')).toHaveTextContent('Published');
    expect(screen.getByTestId('compare-left')).toHaveTextContent('Version 1.0');
    expect(screen.getByTestId('compare-right')).toHaveTextContent('Testable');
    const rows = await screen.findAllByTestId('compare-row');
    const row = (path: string) => rows.find((r) => r.dataset.path === path)!;
    expect(within(row('bin/app')).getByTestId('cell-left')).toHaveTextContent('24 B 0644 bbbbbbbbbbbb');
    expect(within(row('bin/app')).getByTestId('cell-right')).toHaveTextContent('30 B 0755 eeeeeeeeeeee');
    expect(within(row('new.txt')).getByTestId('cell-left')).toHaveTextContent('—');
    expect(within(row('old.txt')).getByTestId('cell-right')).toHaveTextContent('—');
    expect(within(row('lib/libapp.so')).getByTestId('cell-right')).toHaveTextContent('→ libapp.so.2');
    expect(screen.getAllByTestId('compare-group').map((g) => g.dataset.tag)).toEqual(['changed', 'added', 'removed']);
    expect(screen.getByTestId('compare-summary')).toHaveTextContent('5 paths differ');

    await user.click(screen.getByTestId('compare-filter-removed'));
    expect(screen.getAllByTestId('compare-row').map((r) => r.dataset.path)).toEqual(['old.txt']);
    expect(screen.getByTestId('compare-summary')).toHaveTextContent('5 paths differ; 1 shown');
    await user.click(screen.getByTestId('compare-filter-all'));
    await user.type(screen.getByTestId('compare-search'), 'conf');
    expect(screen.getAllByTestId('compare-row').map((r) => r.dataset.path)).toEqual(['conf/app.conf']);
    await user.click(screen.getByTestId('close-compare'));
    expect(c.open).toBe(false);
  });

  it('stays a short list of rendered rows over thousands of differing paths', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `lib/module-${String(i).padStart(5, '0')}.py`);
    mockCommands({
      diff_gold: () => ({ changed: many, added: [], removed: [], mode_changed: [] }),
      gold_files: (a) => many.map((p) => entry(p, { sha256: sha(a.name === 'a' ? 'a' : 'b') })),
    });
    const c = new SideBySide();
    render(GoldCompare, { compare: c });
    await c.show(gold(1, { name: 'a' }), gold(2, { name: 'b' }));
    const rows = await screen.findAllByTestId('compare-row');
    expect(c.counts.changed).toBe(5000);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(200);
  });
});
