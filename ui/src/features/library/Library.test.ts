import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { Artifact, Profile } from '$lib/ipc/client';
import { Profiles } from '../profiles/profiles.svelte';
import { artifact, ipcError, mockCommands, UNSIGNED } from '../../test/fixtures';
import Toasts from '../toasts/Toasts.svelte';
import { Toasts as ToastStore } from '../toasts/toasts.svelte';
import Library from './Library.svelte';
import StateBadge from './StateBadge.svelte';
import { Catalog } from './catalog.svelte';

describe('Library', () => {
  it('renders only a window of a 10,000-artifact list', async () => {
    const all = Array.from({ length: 10_000 }, (_, i) => artifact(i + 1));
    mockCommands({ count_artifacts: () => all.length, list_artifacts: () => all });
    const catalog = new Catalog();
    await catalog.load();
    const started = performance.now();
    render(Library, { catalog, onaddfiles: () => {} });
    expect(await screen.findByTestId('library-count')).toHaveTextContent('10000 artifacts');
    expect(screen.getByTestId('library-list')).toBeInTheDocument();
    expect(screen.queryAllByTestId('artifact-row').length).toBeLessThan(200);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('says what to do when the repository is empty', async () => {
    mockCommands({ count_artifacts: () => 0, list_artifacts: () => [] });
    const catalog = new Catalog();
    await catalog.load();
    render(Library, { catalog, onaddfiles: () => {} });
    expect(await screen.findByText('The repository is empty')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Add files…' })).toBeInTheDocument();
  });

  it('shows every digest of the selected artifact with copy buttons', async () => {
    const a = artifact(1, { sha512: 'e'.repeat(128), sha1: 'f'.repeat(40) });
    mockCommands({ count_artifacts: () => 1, list_artifacts: () => [a], get_artifact: () => a });
    const catalog = new Catalog();
    await catalog.load();
    await catalog.select(1);
    render(Library, { catalog, onaddfiles: () => {} });
    expect(await screen.findByTestId('digest-SHA-256')).toHaveTextContent('a'.repeat(64));
    expect(screen.getByTestId('digest-SHA-512')).toBeInTheDocument();
    expect(screen.getByTestId('digest-SHA-1')).toBeInTheDocument();
    expect(screen.getByTestId('digest-MD5')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Copy SHA-256' })).toBeInTheDocument();
  });

  it('names the profiles that use an artifact and says before the delete that it cannot go', async () => {
    const ks = artifact(2, { name: 'ks.cfg', profiles: ['rhel9-web', 'rhel9-db'] });
    mockCommands({ count_artifacts: () => 1, list_artifacts: () => [ks], get_artifact: () => ks });
    const catalog = new Catalog();
    await catalog.load();
    await catalog.select(2);
    const user = userEvent.setup();
    render(Library, { catalog, onaddfiles: () => {} });
    const usedBy = await screen.findByTestId('used-by');
    expect(usedBy).toHaveTextContent('profile rhel9-web');
    expect(usedBy).toHaveTextContent('profile rhel9-db');
    expect(usedBy).not.toHaveTextContent('Nothing');
    await user.click(screen.getByRole('button', { name: /Delete/ }));
    expect(await screen.findByTestId('delete-blocked')).toHaveTextContent('the profile rhel9-web, the profile rhel9-db use it');
    expect(screen.getByTestId('confirm-delete')).toBeDisabled();
  });

  it('End goes to the real end of a paged library, and Delete asks before deleting', async () => {
    const all = Array.from({ length: 700 }, (_, i) => artifact(i + 1, { name: `a-${String(i + 1).padStart(4, '0')}.iso` }));
    mockCommands({
      count_artifacts: () => all.length,
      list_artifacts: (args) => {
        const q = args.query as { limit: number; offset: number };
        return all.slice(q.offset, q.offset + q.limit);
      },
      get_artifact: (args) => all.find((a) => String(a.id) === String(args.idOrName))!,
    });
    const catalog = new Catalog();
    await catalog.load();
    expect(catalog.items.length).toBeLessThan(700);
    await catalog.select(1);
    const user = userEvent.setup();
    render(Library, { catalog, onaddfiles: () => {} });
    screen.getByTestId('library-list').focus();
    await user.keyboard('{End}');
    await vi.waitFor(() => expect(catalog.selectedId).toBe(700));
    expect(catalog.items).toHaveLength(700);
    await screen.findByTestId('details-name');
    await user.keyboard('{Delete}');
    expect(await screen.findByRole('alertdialog')).toHaveTextContent('Delete a-0700.iso?');
  });

  it('offers Verify for the selected artifact and hands its id over', async () => {
    const ks = artifact(2, { name: 'ks.cfg' });
    mockCommands({ count_artifacts: () => 1, list_artifacts: () => [ks], get_artifact: () => ks });
    const catalog = new Catalog();
    await catalog.load();
    await catalog.select(2);
    const asked: number[][] = [];
    const user = userEvent.setup();
    render(Library, { catalog, onaddfiles: () => {}, onverify: (ids: number[]) => asked.push(ids) });
    await user.click(await screen.findByTestId('verify-artifact'));
    expect(asked).toEqual([[2]]);
  });

  it('says in the details pane that an artifact is missing and what to do', async () => {
    const lost = artifact(2, { name: 'ks.cfg', state: 'missing' });
    mockCommands({ count_artifacts: () => 2, list_artifacts: () => [artifact(1), lost], get_artifact: () => lost });
    const catalog = new Catalog();
    await catalog.load();
    await catalog.select(2);
    render(Library, { catalog, onaddfiles: () => {} });
    const notice = await screen.findByTestId('state-notice');
    expect(screen.getByTestId('details-state')).toHaveTextContent('Missing');
    expect(notice).toHaveTextContent('The stored copy of this file is gone.');
    expect(notice).toHaveTextContent('Import the original file again');
  });

  it('says a damaged artifact no longer matches its checksum, and nothing for an intact one', async () => {
    const bad = artifact(1, { state: 'damaged' });
    const good = artifact(2);
    mockCommands({ count_artifacts: () => 2, list_artifacts: () => [bad, good], get_artifact: (a) => (a.idOrName === '1' ? bad : good) });
    const catalog = new Catalog();
    await catalog.load();
    await catalog.select(1);
    const { unmount } = render(Library, { catalog, onaddfiles: () => {} });
    expect(await screen.findByTestId('state-notice')).toHaveTextContent('no longer matches its SHA-256');
    expect(screen.getByTestId('details-state')).toHaveTextContent('Damaged');
    unmount();
    await catalog.select(2);
    render(Library, { catalog, onaddfiles: () => {} });
    expect(await screen.findByTestId('details-name')).toHaveTextContent('artifact-2.iso');
    expect(screen.queryByTestId('state-notice')).toBeNull();
  });
});

describe('StateBadge (the list rows, profile members and base image show it)', () => {
  it('names a missing or damaged copy and shows nothing for an intact one', () => {
    const { unmount } = render(StateBadge, { state: 'missing' });
    expect(screen.getByTestId('artifact-state')).toHaveTextContent('Missing');
    unmount();
    render(StateBadge, { state: 'ok' });
    expect(screen.queryByTestId('artifact-state')).toBeNull();
  });
});

describe('Library with a laid-out list', () => {
/** jsdom has no layout: a ResizeObserver that reports a 600 px viewport, so the virtual list renders rows. */
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

/** A library served in pages, whose deletes and updates change it, as the engine's would. */
function serve(rows: Artifact[], over: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  let all = [...rows];
  const calls = mockCommands({
    count_artifacts: () => all.length,
    list_artifacts: (args) => {
      const q = args.query as { limit: number; offset: number };
      return all.slice(q.offset, q.offset + q.limit);
    },
    get_artifact: (args) => all.find((a) => String(a.id) === String(args.idOrName)) ?? rows.find((a) => String(a.id) === String(args.idOrName)),
    delete_artifact: (args) => {
      all = all.filter((a) => a.id !== args.id);
      return rows.find((a) => a.id === args.id);
    },
    ...over,
  });
  return calls;
}

const row = (name: string) => screen.getAllByTestId('artifact-row').find((r) => r.dataset.name === name)!;
const selectedNames = () => screen.getAllByTestId('artifact-row').filter((r) => r.getAttribute('aria-selected') === 'true').map((r) => r.dataset.name);
const named = (n: number) => `artifact-${n}.iso`;

async function shown(rows: Artifact[], props: Record<string, unknown> = {}, over: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  const calls = serve(rows, over);
  const catalog = new Catalog();
  await catalog.load();
  const toasts = new ToastStore(0);
  const user = userEvent.setup();
  render(Library, { catalog, onaddfiles: () => {}, toasts, ...props });
  render(Toasts, { toasts });
  await screen.findAllByTestId('artifact-row');
  return { calls, catalog, toasts, user };
}

describe('Library multi-select', () => {
  it('Ctrl+click adds, Shift+click selects the range, Shift+arrows extend, Escape clears; details follow the last click', async () => {
    const { user } = await shown(Array.from({ length: 10 }, (_, i) => artifact(i + 1)));
    expect(screen.getByRole('listbox', { name: 'Artifacts' })).toHaveAttribute('aria-multiselectable', 'true');
    await user.click(row(named(2)));
    expect(selectedNames()).toEqual([named(2)]);
    expect(screen.queryByTestId('selection-bar')).toBeNull();
    await user.keyboard('{Control>}');
    await user.click(row(named(4)));
    await user.keyboard('{/Control}');
    expect(selectedNames()).toEqual([named(2), named(4)]);
    expect(screen.getByTestId('selection-count')).toHaveTextContent('2 selected');
    await user.keyboard('{Shift>}');
    await user.click(row(named(6)));
    await user.keyboard('{/Shift}');
    expect(selectedNames()).toEqual([named(4), named(5), named(6)]);
    expect(await screen.findByTestId('details-name')).toHaveTextContent(named(6));
    expect(screen.getByTestId('library-list')).toHaveFocus();
    await user.keyboard('{Shift>}{ArrowDown}{ArrowDown}{/Shift}');
    expect(selectedNames()).toEqual([named(4), named(5), named(6), named(7), named(8)]);
    expect(screen.getByTestId('selection-count')).toHaveTextContent('5 selected');
    await vi.waitFor(() => expect(screen.getByTestId('details-name')).toHaveTextContent(named(8)));
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('selection-bar')).toBeNull();
    expect(selectedNames()).toEqual([named(8)]);
    expect(screen.getByTestId('details-name')).toHaveTextContent(named(8));
  });

  it('from the keyboard alone: Ctrl+arrows move without selecting, Space adds or takes out the focused row', async () => {
    const { user } = await shown(Array.from({ length: 5 }, (_, i) => artifact(i + 1)));
    await user.click(row(named(1)));
    await user.keyboard('{Control>}{ArrowDown}{ArrowDown}{/Control}');
    expect(selectedNames()).toEqual([named(1)]);
    await vi.waitFor(() => expect(screen.getByTestId('details-name')).toHaveTextContent(named(3)));
    await user.keyboard(' ');
    expect(selectedNames()).toEqual([named(1), named(3)]);
    await user.keyboard('{Control>}{ArrowDown}{/Control} ');
    expect(screen.getByTestId('selection-count')).toHaveTextContent('3 selected');
    await user.keyboard(' ');
    expect(selectedNames()).toEqual([named(1), named(3)]);
  });

  it('Ctrl+A selects every artifact of a paged library, not just the pages loaded', async () => {
    const { user, catalog } = await shown(Array.from({ length: 700 }, (_, i) => artifact(i + 1)));
    expect(catalog.items.length).toBeLessThan(700);
    await user.click(row(named(1)));
    await user.keyboard('{Control>}a{/Control}');
    expect(await screen.findByTestId('selection-count')).toHaveTextContent('700 selected');
  });

  it('Verify in the selection bar hands every selected id over at once', async () => {
    const asked: number[][] = [];
    const { user } = await shown([artifact(1), artifact(2), artifact(3)], { onverify: (ids: number[]) => asked.push(ids) });
    await user.click(row(named(1)));
    await user.keyboard('{Shift>}');
    await user.click(row(named(3)));
    await user.keyboard('{/Shift}');
    await user.click(screen.getByTestId('bulk-verify'));
    expect(asked).toEqual([[1, 2, 3]]);
  });
});

describe('Library bulk delete', () => {
  // sorted by name, as the engine lists them
  const rows = () => [
    artifact(1, { name: 'a.iso', size: 1024 ** 3 }),
    artifact(2, { name: 'b-ks.cfg', kind: 'unattend', profiles: ['rhel9-web'] }),
    artifact(3, { name: 'c.iso', size: 2 * 1024 ** 3, published_to: ['lab: debian-12'] }),
    artifact(4, { name: 'd-keep.iso' }),
  ];
  const listed = () => screen.getAllByTestId('artifact-row').map((r) => r.dataset.name);

  async function selectFirstThree(user: ReturnType<typeof userEvent.setup>) {
    await user.click(row('a.iso'));
    await user.keyboard('{Shift>}');
    await user.click(row('c.iso'));
    await user.keyboard('{/Shift}');
  }

  it('asks once, names what is in use, hides the rest at once and deletes nothing until the undo window ends; Undo puts them back', async () => {
    const { user, calls, toasts } = await shown(rows());
    await selectFirstThree(user);
    expect(selectedNames()).toEqual(['a.iso', 'b-ks.cfg', 'c.iso']);
    await user.keyboard('{Delete}');
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog).toHaveTextContent('Delete 2 artifacts?');
    expect(screen.getByTestId('bulk-delete-summary')).toHaveTextContent('2 artifacts, 3.0 GiB in all');
    expect(screen.getByTestId('bulk-delete-blocked')).toHaveTextContent('b-ks.cfg — used by the profile rhel9-web');
    expect(screen.getByTestId('bulk-delete-published')).toBeInTheDocument();
    expect(dialog).toHaveTextContent('c.iso — lab: debian-12');
    await user.click(screen.getByTestId('confirm-bulk-delete'));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(listed()).toEqual(['b-ks.cfg', 'd-keep.iso']);
    expect(screen.getByTestId('library-count')).toHaveTextContent('2 artifacts');
    expect(screen.getByTestId('toast')).toHaveTextContent('Deleted 2 artifacts');
    expect(screen.getByTestId('library-list')).toHaveFocus();
    expect(selectedNames()).toEqual(['d-keep.iso']); // the keyboard carries on from the next row
    expect(await screen.findByTestId('details-name')).toHaveTextContent('d-keep.iso');
    expect(calls.filter((c) => c.cmd === 'delete_artifact')).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Undo' }));
    expect(listed()).toEqual(['a.iso', 'b-ks.cfg', 'c.iso', 'd-keep.iso']);
    expect(selectedNames()).toEqual(['a.iso', 'c.iso']);
    expect(screen.getByTestId('library-count')).toHaveTextContent('4 artifacts');
    expect(toasts.items).toHaveLength(0);
    expect(calls.filter((c) => c.cmd === 'delete_artifact')).toHaveLength(0);
  });

  it('Ctrl+Z in the list undoes the bulk delete too', async () => {
    const { user, calls } = await shown(rows());
    await user.click(row('c.iso'));
    await user.keyboard('{Shift>}{ArrowDown}{/Shift}{Delete}');
    await user.click(await screen.findByTestId('confirm-bulk-delete'));
    expect(listed()).toEqual(['a.iso', 'b-ks.cfg']);
    await user.keyboard('{Control>}z{/Control}');
    expect(listed()).toEqual(['a.iso', 'b-ks.cfg', 'c.iso', 'd-keep.iso']);
    expect(screen.queryByTestId('toast')).toBeNull();
    expect(calls.filter((c) => c.cmd === 'delete_artifact')).toHaveLength(0);
  });

  it('deletes one by one when the undo window ends, and names an artifact whose delete failed with the error', async () => {
    const { user, calls } = await shown(rows(), { undoMs: 40 }, {
      delete_artifact: (args) => {
        if (args.id === 3) throw ipcError('in_use', 'c.iso is in use and was not deleted.');
        return artifact(Number(args.id));
      },
    });
    await selectFirstThree(user);
    await user.click(screen.getByTestId('bulk-delete'));
    await user.click(await screen.findByTestId('confirm-bulk-delete'));
    await vi.waitFor(() => expect(calls.filter((c) => c.cmd === 'delete_artifact').map((c) => c.args.id)).toEqual([1, 3]));
    const failed = await screen.findByText('c.iso was not deleted');
    expect(failed.closest('[data-testid=toast]')).toHaveTextContent('c.iso is in use and was not deleted.');
    expect(screen.queryByText('Deleted 2 artifacts')).toBeNull();
    expect(listed()).toEqual(['b-ks.cfg', 'c.iso', 'd-keep.iso']);
  });

  it('a second bulk delete first does the deletes still waiting from the first', async () => {
    const { user, calls } = await shown([artifact(1), artifact(2), artifact(3), artifact(4)]);
    await user.click(row(named(1)));
    await user.keyboard('{Shift>}{ArrowDown}{/Shift}{Delete}');
    await user.click(await screen.findByTestId('confirm-bulk-delete'));
    expect(calls.filter((c) => c.cmd === 'delete_artifact')).toHaveLength(0);
    await user.click(row(named(3)));
    await user.keyboard('{Shift>}{ArrowDown}{/Shift}{Delete}');
    await user.click(await screen.findByTestId('confirm-bulk-delete'));
    await vi.waitFor(() => expect(calls.filter((c) => c.cmd === 'delete_artifact').map((c) => c.args.id)).toEqual([1, 2]));
    expect(screen.getAllByText(/^Deleted 2 artifacts$/)).toHaveLength(1);
  });
});

describe('Library bulk tag and add to profile', () => {
  it('adds a tag to each selected artifact (merged with its own) and lists the ones that failed', async () => {
    const rows = [artifact(1, { tags: ['lab'] }), artifact(2, { tags: ['old'] }), artifact(3)];
    const { user, calls } = await shown(rows, {}, {
      update_artifact: (args) => {
        if (args.id === 3) throw ipcError('invalid_argument', 'That tag is too long.');
        return artifact(Number(args.id), { tags: (args.patch as { tags: string[] }).tags });
      },
    });
    await user.click(row(named(1)));
    await user.keyboard('{Control>}a{/Control}');
    await user.click(screen.getByTestId('bulk-tag'));
    expect(await screen.findByRole('dialog', { name: 'Add a tag to 3 artifacts' })).toBeInTheDocument();
    await user.type(screen.getByTestId('bulk-tag-input'), 'lab{Enter}');
    const updates = calls.filter((c) => c.cmd === 'update_artifact');
    expect(updates.map((c) => [c.args.id, (c.args.patch as { tags: string[] }).tags])).toEqual([[2, ['old', 'lab']], [3, ['lab']]]);
    expect(await screen.findByTestId('bulk-tag-failed')).toHaveTextContent('artifact-3.iso — That tag is too long.');
    expect(screen.getByText('Tagged 2 artifacts “lab”')).toBeInTheDocument();
  });

  it('Escape closes a bulk dialog and gives the keyboard back to the list', async () => {
    const { user } = await shown([artifact(1), artifact(2)]);
    await user.click(row(named(1)));
    await user.keyboard('{Shift>}{ArrowDown}{/Shift}');
    await user.click(screen.getByTestId('bulk-tag'));
    const dialog = await screen.findByRole('dialog', { name: 'Add a tag to 2 artifacts' });
    await fireEvent(dialog, new Event('cancel', { cancelable: true })); // what Escape does to a modal <dialog>
    expect(screen.queryByRole('dialog', { name: 'Add a tag to 2 artifacts' })).toBeNull();
    await vi.waitFor(() => expect(screen.getByTestId('library-list')).toHaveFocus());
    expect(screen.getByTestId('selection-count')).toHaveTextContent('2 selected');
  });

  it('adds the selection to a chosen profile: what fits goes in, each misfit is listed with its reason', async () => {
    const web: Profile = {
      id: 7, name: 'rhel9-web', description: '', base: { id: 90, name: 'rhel.iso' }, base_state: 'ok', os: 'linux', distro: 'rhel', members: [], edition: null, editions: [],
      options: {}, created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', created_by: null, updated_by: null,
    };
    const rows = [artifact(1, { name: 'ks.cfg', kind: 'unattend' }), artifact(2, { name: 'win.zip', kind: 'driver', os: 'windows' })];
    const profiles = new Profiles();
    const { user, calls } = await shown(rows, { profiles }, {
      list_profiles: () => [web],
      add_to_profile: (args) => {
        const [id] = args.artifacts as string[];
        if (id === '2') throw ipcError('unsupported_type', 'win.zip is for windows, but the profile rhel9-web is for linux.');
        return web;
      },
    });
    await user.click(row('ks.cfg'));
    await user.keyboard('{Shift>}{ArrowDown}{/Shift}');
    await user.click(screen.getByTestId('bulk-profile'));
    const choice = await screen.findByRole('radio', { name: /rhel9-web/ });
    expect(screen.getByTestId('bulk-profile-choice')).toHaveTextContent('1 of 2 fit');
    await user.click(choice);
    await user.click(screen.getByTestId('bulk-profile-apply'));
    expect(calls.filter((c) => c.cmd === 'add_to_profile').map((c) => c.args)).toEqual([
      { profile: '7', artifacts: ['1'] },
      { profile: '7', artifacts: ['2'] },
    ]);
    expect(await screen.findByTestId('bulk-profile-added')).toHaveTextContent('Added to rhel9-web: ks.cfg');
    expect(screen.getByTestId('bulk-profile-refused')).toHaveTextContent('win.zip — win.zip is for windows, but the profile rhel9-web is for linux.');
  });
});

describe('Library context menu', () => {
  it('a right click on a row offers its actions; Copy SHA-256 copies its digest', async () => {
    const rows = [artifact(1, { sha256: '1'.repeat(64) }), artifact(2, { sha256: '2'.repeat(64) })];
    const { user } = await shown(rows, { onverify: () => {} });
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await user.pointer({ keys: '[MouseRight]', target: row(named(2)) });
    const menu = await screen.findByRole('menu', { name: `Actions for ${named(2)}` });
    expect([...menu.querySelectorAll('[role=menuitem]')].map((m) => m.textContent)).toEqual(['Show details', 'Copy SHA-256', 'Verify', 'Delete…']);
    expect(selectedNames()).toEqual([named(2)]);
    await user.click(screen.getByRole('menuitem', { name: 'Copy SHA-256' }));
    expect(writeText).toHaveBeenCalledWith('2'.repeat(64));
    expect(screen.queryByRole('menu')).toBeNull();
    expect(screen.getByTestId('library-list')).toHaveFocus();
  });

  it('on a row of a multi-selection it acts on the whole selection', async () => {
    const asked: number[][] = [];
    const rows = [artifact(1, { sha256: '1'.repeat(64) }), artifact(2, { sha256: '2'.repeat(64) }), artifact(3)];
    const { user } = await shown(rows, { onverify: (ids: number[]) => asked.push(ids) });
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await user.click(row(named(1)));
    await user.keyboard('{Shift>}{ArrowDown}{/Shift}');
    await user.pointer({ keys: '[MouseRight]', target: row(named(1)) });
    await screen.findByRole('menu', { name: 'Actions for 2 artifacts' });
    await user.click(screen.getByRole('menuitem', { name: 'Copy SHA-256 of 2' }));
    expect(writeText).toHaveBeenCalledWith(`${'1'.repeat(64)}  ${named(1)}\n${'2'.repeat(64)}  ${named(2)}\n`);
    await user.pointer({ keys: '[MouseRight]', target: row(named(2)) });
    await user.click(await screen.findByRole('menuitem', { name: 'Verify 2 artifacts' }));
    expect(asked).toEqual([[1, 2]]);
    await user.pointer({ keys: '[MouseRight]', target: row(named(2)) });
    await user.click(await screen.findByRole('menuitem', { name: 'Delete 2 artifacts…' }));
    expect(await screen.findByRole('alertdialog')).toHaveTextContent('Delete 2 artifacts?');
  });

  it('Shift+F10 opens the menu of the focused row from the keyboard; Escape closes it and the list keeps the focus', async () => {
    const { user } = await shown([artifact(1), artifact(2)]);
    await user.click(row(named(1)));
    await user.keyboard('{ArrowDown}{Shift>}{F10}{/Shift}');
    const menu = await screen.findByRole('menu', { name: `Actions for ${named(2)}` });
    expect(screen.getByRole('menuitem', { name: 'Show details' })).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByRole('menuitem', { name: 'Copy SHA-256' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(menu).not.toBeInTheDocument();
    await vi.waitFor(() => expect(screen.getByTestId('library-list')).toHaveFocus());
    expect(selectedNames()).toEqual([named(2)]); // Escape closed the menu only
  });
});

  it('marks the artifacts whose checksum was verified at import, saying against what', async () => {
    const checked = artifact(1, {
      name: 'debian-12.iso',
      verification: [{ algo: 'sha256', expected_from: 'checksum_file', source_file: 'SHA256SUMS', line: 4, verified_at: '2026-12-02T05:11:00Z', job_id: 1, signature: UNSIGNED }],
    });
    mockCommands({ count_artifacts: () => 2, list_artifacts: () => [checked, artifact(2, { name: 'notes.iso' })] });
    const catalog = new Catalog();
    await catalog.load();
    render(Library, { catalog, onaddfiles: () => {} });
    const badges = await screen.findAllByTestId('verified-badge');
    expect(badges).toHaveLength(1);
    expect(badges[0]).toHaveAttribute('title', 'SHA-256 matched SHA256SUMS (line 4)');
  });

describe('Library access', () => {
  it('shows the alias beside the name and a Deleted badge; Show deleted and the access filter ask the engine', async () => {
    const rows = [artifact(1, { alias: 'deb12', access: 'public' }), artifact(2, { access: 'deleted' })];
    const calls = mockCommands({ count_artifacts: () => rows.length, list_artifacts: () => rows });
    const catalog = new Catalog();
    await catalog.load();
    const user = userEvent.setup();
    render(Library, { catalog, onaddfiles: () => {} });
    const [first, second] = await screen.findAllByTestId('artifact-row');
    expect(first!.querySelector('[data-testid=row-alias]')).toHaveTextContent('deb12');
    expect(first!.querySelector('[data-testid=public-badge]')).toBeInTheDocument();
    expect(second!.querySelector('[data-testid=deleted-badge]')).toHaveTextContent('Deleted');
    await user.click(screen.getByTestId('show-deleted'));
    await vi.waitFor(() => expect(calls.filter((c) => c.cmd === 'list_artifacts').at(-1)!.args.query).toMatchObject({ all: true }));
    await user.selectOptions(screen.getByTestId('filter-access'), 'deleted');
    await vi.waitFor(() => expect(calls.filter((c) => c.cmd === 'list_artifacts').at(-1)!.args.query).toMatchObject({ access: 'deleted' }));
    expect(screen.getByTestId('show-deleted')).toBeChecked();
    await user.selectOptions(screen.getByTestId('sort'), 'size:desc');
    await vi.waitFor(() => expect(calls.filter((c) => c.cmd === 'list_artifacts').at(-1)!.args.query).toMatchObject({ sort: 'size', descending: true }));
  });

  it('the bulk delete offers to mark the in-use ones deleted and deletes the others', async () => {
    const rows = [artifact(1, { profiles: ['web'] }), artifact(2)];
    const calls = mockCommands({
      count_artifacts: () => rows.length, list_artifacts: () => rows, get_artifact: (a) => rows.find((r) => String(r.id) === a.idOrName)!,
      update_artifact: (a) => ({ ...rows[0]!, access: (a.patch as { access: string }).access }),
    });
    const catalog = new Catalog();
    await catalog.load();
    const user = userEvent.setup();
    render(Library, { catalog, onaddfiles: () => {} });
    await catalog.selectAll();
    await user.click(await screen.findByTestId('bulk-delete'));
    expect(screen.getByTestId('bulk-mark-hint')).toHaveTextContent('marked deleted instead');
    await user.click(screen.getByTestId('mark-blocked-deleted'));
    await vi.waitFor(() => expect(calls.some((c) => c.cmd === 'update_artifact' && c.args.id === 1)).toBe(true));
    expect(await screen.findByTestId('bulk-delete-summary')).toHaveTextContent('1 artifact');
    expect(screen.queryByTestId('mark-blocked-deleted')).toBeNull();
  });
});
});
