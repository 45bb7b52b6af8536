import { afterEach, describe, expect, it, vi } from 'vitest';
import { artifact, ipcError, mockCommands } from '../../test/fixtures';
import { Catalog, deleteBlockers, PAGE } from './catalog.svelte';

describe('Catalog', () => {
  it('loads the first page with the filters and counts the total', async () => {
    const calls = mockCommands({
      count_artifacts: () => 1000,
      list_artifacts: (a) => {
        const q = a.query as { offset: number };
        return Array.from({ length: PAGE }, (_, i) => artifact(q.offset + i + 1));
      },
    });
    const c = new Catalog();
    c.kind = 'driver';
    c.search = '  intel ';
    await c.load();
    expect(c.total).toBe(1000);
    expect(c.items).toHaveLength(PAGE);
    const q = calls.find((x) => x.cmd === 'list_artifacts')!.args.query;
    expect(q).toMatchObject({ kind: 'driver', search: 'intel', offset: 0, limit: PAGE, sort: 'name' });

    await c.loadMore();
    expect(c.items).toHaveLength(2 * PAGE);
    expect(calls.filter((x) => x.cmd === 'list_artifacts').at(-1)!.args.query).toMatchObject({ offset: PAGE });
  });

  it('offers the exact OS releases the library holds and filters by one', async () => {
    const rhel = artifact(1, { os_id: 'rhel9.6', os_name: 'Red Hat Enterprise Linux 9.6' });
    const calls = mockCommands({
      count_artifacts: () => 1,
      list_artifacts: () => [rhel],
      list_os_releases: () => [{ os_id: 'rhel9.6', os_name: 'Red Hat Enterprise Linux 9.6', count: 1 }, { os_id: 'ubuntu24.04', os_name: 'Ubuntu 24.04', count: 2 }],
    });
    const c = new Catalog();
    await c.load();
    expect(c.releases.map((r) => r.os_id)).toEqual(['rhel9.6', 'ubuntu24.04']);
    c.osId = 'rhel9.6';
    await c.load();
    expect(calls.filter((x) => x.cmd === 'list_artifacts').at(-1)!.args.query).toMatchObject({ os_id: 'rhel9.6' });
  });

  it('keeps an artifact that is in use and returns the refusal', async () => {
    mockCommands({
      count_artifacts: () => 1,
      list_artifacts: () => [artifact(1)],
      delete_artifact: () => { throw ipcError('in_use', 'Artifact 1 is used by driver.rpm'); },
    });
    const c = new Catalog();
    await c.load();
    const err = await c.remove(1);
    expect(err?.code).toBe('in_use');
    expect(err?.recovery).toBe('fix in_use');
    expect(c.items).toHaveLength(1);
  });

  it('removes a deleted artifact and clears the selection', async () => {
    mockCommands({
      count_artifacts: () => 2,
      list_artifacts: () => [artifact(1), artifact(2)],
      get_artifact: (a) => artifact(Number(a.idOrName)),
      delete_artifact: (a) => artifact(Number(a.id)),
    });
    const c = new Catalog();
    await c.load();
    await c.select(2);
    expect(c.selected?.id).toBe(2);
    expect(await c.remove(2)).toBeNull();
    expect(c.items.map((a) => a.id)).toEqual([1]);
    expect(c.total).toBe(1);
    expect(c.selected).toBeNull();
  });

  it('shows a failed load as an engine error', async () => {
    mockCommands({ count_artifacts: () => { throw ipcError('catalog_failed'); }, list_artifacts: () => [] });
    const c = new Catalog();
    await c.load();
    expect(c.error?.code).toBe('catalog_failed');
  });
});

/** A library of `n` artifacts served in pages, with deletes that really remove rows. */
function library(n: number, over: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  let all = Array.from({ length: n }, (_, i) => artifact(i + 1));
  const calls = mockCommands({
    count_artifacts: () => all.length,
    list_artifacts: (a) => {
      const q = a.query as { offset: number; limit: number };
      return all.slice(q.offset, q.offset + q.limit);
    },
    get_artifact: (a) => all.find((x) => String(x.id) === a.idOrName) ?? (() => { throw ipcError('not_found'); })(),
    delete_artifact: (a) => {
      const gone = all.find((x) => x.id === a.id)!;
      all = all.filter((x) => x.id !== a.id);
      return gone;
    },
    ...over,
  });
  return { calls, rows: () => all };
}

const ids = (c: Catalog) => [...c.selection.keys()].sort((a, b) => a - b);

describe('Catalog selection', () => {
  it('a click selects one, Ctrl toggles, Shift selects the range from the last click', async () => {
    library(10);
    const c = new Catalog();
    await c.load();
    await c.select(2);
    expect(ids(c)).toEqual([2]);
    await c.toggle(4);
    expect(ids(c)).toEqual([2, 4]);
    expect(c.selected?.id).toBe(4); // the details pane follows the last click
    await c.extendTo(7);
    expect(ids(c)).toEqual([4, 5, 6, 7]);
    await c.toggle(9);
    await c.extendTo(8, true); // Ctrl+Shift adds the range to what is selected
    expect(ids(c)).toEqual([4, 5, 6, 7, 8, 9]);
    await c.toggle(5);
    expect(ids(c)).toEqual([4, 6, 7, 8, 9]);
    expect(c.selectedId).toBe(5);
    c.clearSelection(); // Escape: back to the one the details pane shows
    expect(ids(c)).toEqual([5]);
    await c.select(3);
    c.clearSelection();
    expect(ids(c)).toEqual([3]);
  });

  it('Ctrl+A selects every artifact, loading the pages not yet scrolled to', async () => {
    library(PAGE + 50);
    const c = new Catalog();
    await c.load();
    expect(c.items).toHaveLength(PAGE);
    await c.selectAll();
    expect(c.selection.size).toBe(PAGE + 50);
    expect(c.selectedItems.at(-1)!.id).toBe(PAGE + 50);
  });

  it('other filters collapse the selection to the focused artifact, a reload of the same keeps it', async () => {
    library(5);
    const c = new Catalog();
    await c.load();
    await c.select(1);
    await c.extendTo(3);
    await c.load();
    expect(ids(c)).toEqual([1, 2, 3]);
    c.search = 'artifact-3';
    await c.load();
    expect(ids(c)).toEqual([3]);
  });
});

describe('Catalog bulk delete with undo', () => {
  afterEach(() => vi.useRealTimers());

  it('takes the artifacts out at once, keeps them out of reloads, and Undo puts them back where they were without deleting', async () => {
    const { calls } = library(6);
    const c = new Catalog();
    await c.load();
    await c.select(2);
    await c.toggle(4);
    const doomed = c.items.filter((a) => a.id === 2 || a.id === 4);
    const pending = c.deleteLater(doomed, 60_000);
    expect(c.items.map((a) => a.id)).toEqual([1, 3, 5, 6]);
    expect(c.selectedId).toBe(5); // the focus moves on to the next row that stays
    expect(ids(c)).toEqual([5]);
    expect(c.total).toBe(4);
    await c.load(); // e.g. another process changed the catalog meanwhile
    expect(c.items.map((a) => a.id)).toEqual([1, 3, 5, 6]);
    expect(c.total).toBe(4);
    expect(pending.undo()).toBe(true);
    expect(await pending.done).toBeNull();
    expect(c.items.map((a) => a.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ids(c)).toEqual([2, 4]);
    expect(c.total).toBe(6);
    expect(calls.filter((x) => x.cmd === 'delete_artifact')).toHaveLength(0);
  });

  it('deletes one after another when the undo window ends, and puts back (and reports) what the engine refused', async () => {
    vi.useFakeTimers();
    let inFlight = 0;
    const deleted: number[] = [];
    library(5, {
      delete_artifact: async (a) => {
        inFlight++;
        expect(inFlight).toBe(1); // one at a time
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        if (a.id === 3) throw ipcError('in_use', 'artifact-3.iso is in use');
        deleted.push(Number(a.id));
        return artifact(Number(a.id));
      },
    });
    const c = new Catalog();
    await c.load();
    const pending = c.deleteLater(c.items.filter((a) => a.id >= 2 && a.id <= 4), 10_000);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(c.items.map((a) => a.id)).toEqual([1, 5]);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    const report = await pending.done;
    expect(report!.done.map((a) => a.id)).toEqual([2, 4]);
    expect(deleted).toEqual([2, 4]);
    expect(report!.failed.map((f) => [f.artifact.name, f.error.text])).toEqual([['artifact-3.iso', 'artifact-3.iso is in use']]);
    expect(c.items.map((a) => a.id)).toEqual([1, 3, 5]);
    expect(pending.undo()).toBe(false);
  });

  it('starting another bulk delete first deletes what is still waiting', async () => {
    const { calls } = library(5);
    const c = new Catalog();
    await c.load();
    const first = c.deleteLater([c.items[0]!], 60_000);
    const second = c.deleteLater([c.items[0]!], 60_000); // artifact 2, now first in the list
    expect((await first.done)!.done.map((a) => a.id)).toEqual([1]);
    expect(calls.filter((x) => x.cmd === 'delete_artifact').map((x) => x.args.id)).toEqual([1]);
    expect(first.undo()).toBe(false);
    expect(second.undo()).toBe(true);
    expect(c.items.map((a) => a.id)).toEqual([2, 3, 4, 5]);
  });

  it('deletes the files that name an OS image before the image itself', async () => {
    const image = artifact(1, { used_by: [{ id: 2, name: 'driver.rpm' }] });
    const driver = artifact(2, { name: 'driver.rpm', kind: 'driver' });
    const calls = mockCommands({ count_artifacts: () => 2, list_artifacts: () => [image, driver], delete_artifact: (a) => artifact(Number(a.id)) });
    const c = new Catalog();
    await c.load();
    expect(deleteBlockers(image)).toEqual(['driver.rpm']);
    expect(deleteBlockers(image, new Set([2]))).toEqual([]);
    const pending = c.deleteLater([image, driver], 60_000);
    await c.flushDeletes();
    await pending.done;
    expect(calls.filter((x) => x.cmd === 'delete_artifact').map((x) => x.args.id)).toEqual([2, 1]);
  });
});

describe('Catalog bulk tags', () => {
  it('merges a tag into each artifact and reports each update that failed', async () => {
    const calls = mockCommands({
      count_artifacts: () => 3,
      list_artifacts: () => [artifact(1, { tags: ['lab'] }), artifact(2, { tags: ['prod'] }), artifact(3)],
      update_artifact: (a) => {
        if (a.id === 3) throw ipcError('invalid_argument', 'no tags today');
        return artifact(Number(a.id), { tags: (a.patch as { tags: string[] }).tags });
      },
    });
    const c = new Catalog();
    await c.load();
    const report = await c.addTags(c.items, ['lab']);
    const updates = calls.filter((x) => x.cmd === 'update_artifact');
    expect(updates.map((x) => x.args)).toEqual([
      { id: 2, patch: { name: null, description: null, version: null, tags: ['prod', 'lab'] } },
      { id: 3, patch: { name: null, description: null, version: null, tags: ['lab'] } },
    ]);
    expect(report.done.map((a) => a.id)).toEqual([1, 2]);
    expect(report.failed.map((f) => f.artifact.id)).toEqual([3]);
    expect(c.items.find((a) => a.id === 2)!.tags).toEqual(['prod', 'lab']);
  });
});

describe('Catalog access', () => {
  it('asks for the access filter and for deleted ones only when shown, and sorts by size', async () => {
    const calls = mockCommands({ count_artifacts: () => 0, list_artifacts: () => [] });
    const c = new Catalog();
    await c.load();
    expect(calls.find((x) => x.cmd === 'list_artifacts')!.args.query).toMatchObject({ access: null, all: false });
    c.access = 'public';
    c.showDeleted = true;
    c.sort = 'size';
    c.descending = true;
    await c.load();
    expect(calls.filter((x) => x.cmd === 'list_artifacts').at(-1)!.args.query).toMatchObject({ access: 'public', all: true, sort: 'size', descending: true });
  });

  it('marks an in-use artifact deleted instead and reloads, so it leaves the list', async () => {
    let deleted = false;
    const patches: unknown[] = [];
    mockCommands({
      count_artifacts: () => (deleted ? 1 : 2),
      list_artifacts: () => (deleted ? [artifact(2)] : [artifact(1, { profiles: ['web'] }), artifact(2)]),
      get_artifact: () => artifact(1, { profiles: ['web'], access: deleted ? 'deleted' : 'private' }),
      update_artifact: (a) => {
        patches.push(a.patch);
        deleted = true;
        return artifact(1, { profiles: ['web'], access: 'deleted' });
      },
    });
    const c = new Catalog();
    await c.load();
    await c.select(1);
    expect(await c.markDeleted(1)).toBeNull();
    expect(patches).toEqual([{ name: null, description: null, version: null, tags: null, access: 'deleted' }]);
    expect(c.items.map((a) => a.id)).toEqual([2]);
    expect(c.selected?.access).toBe('deleted'); // the details pane still shows it, saying so
  });
});
