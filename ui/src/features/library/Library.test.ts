import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { artifact, mockCommands } from '../../test/fixtures';
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
    const asked: number[] = [];
    const user = userEvent.setup();
    render(Library, { catalog, onaddfiles: () => {}, onverify: (id: number) => asked.push(id) });
    await user.click(await screen.findByTestId('verify-artifact'));
    expect(asked).toEqual([2]);
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
