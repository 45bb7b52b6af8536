import { describe, expect, it } from 'vitest';
import { artifact, ipcError, mockCommands } from '../../test/fixtures';
import { Catalog, PAGE } from './catalog.svelte';

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
