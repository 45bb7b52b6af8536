import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { Profile } from '$lib/ipc/client';
import { artifact, ipcError, mockCommands } from '../../test/fixtures';
import AddFromLibrary from './AddFromLibrary.svelte';
import { Profiles } from './profiles.svelte';

const rhel: Profile = {
  id: 3, name: 'rhel9-web', description: '', base: { id: 1, name: 'rhel.iso' }, base_state: 'ok', os: 'linux', distro: 'rhel', members: [],
  options: {}, edition: null, editions: [], created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', created_by: null, updated_by: null,
};

const library = [
  artifact(1, { name: 'rhel.iso', kind: 'os' }),
  artifact(2, { name: 'ks.cfg', kind: 'unattend', os: 'linux' }),
  artifact(3, { name: 'autoyast.xml', kind: 'unattend', os: 'linux' }),
  artifact(4, { name: 'win-nic-driver.zip', kind: 'driver', os: 'windows' }),
  artifact(5, { name: 'winpe.zip', kind: 'boot', os: 'windows' }),
];

describe('AddFromLibrary', () => {
  it('offers what fits the base OS, shows the rest on request, and shows a refusal with its code and what to do', async () => {
    const calls = mockCommands({
      get_profile: () => rhel,
      get_artifact: () => library[0],
      list_artifacts: () => library,
      count_artifacts: () => library.length,
      add_to_profile: () => { throw ipcError('unsupported_type', 'win-nic-driver.zip is for windows, but the profile rhel9-web is for linux.'); },
    });
    const profiles = new Profiles();
    await profiles.select(3);
    const user = userEvent.setup();
    render(AddFromLibrary, { open: true, profiles, onclose: () => {} });
    await screen.findByText('ks.cfg');
    expect(screen.queryAllByTestId('picker-row').map((r) => r.dataset.name)).toEqual(['ks.cfg', 'autoyast.xml']);
    await user.click(screen.getByTestId('picker-show-all'));
    expect(screen.queryAllByTestId('picker-row').map((r) => r.dataset.name)).toEqual(['ks.cfg', 'autoyast.xml', 'win-nic-driver.zip', 'winpe.zip']);
    await user.click(screen.getByRole('checkbox', { name: /win-nic-driver.zip/ }));
    await user.click(screen.getByTestId('picker-add'));
    const box = await screen.findByTestId('picker-error');
    expect(box.querySelector('[data-code]')?.getAttribute('data-code')).toBe('unsupported_type');
    expect(box).toHaveTextContent('is for windows');
    expect(box).toHaveTextContent('What to do: fix unsupported_type');
    expect(calls.find((c) => c.cmd === 'add_to_profile')!.args).toEqual({ profile: '3', artifacts: ['4'] });
  });

  it('keeps what is typed, ticked and toggled while searching the whole library in the engine, a page at a time', async () => {
    // 1,200 files: a driver disk and answer files among scripts, more than a page
    const big = Array.from({ length: 1200 }, (_, i) => artifact(100 + i, { name: `script-${String(i).padStart(4, '0')}.sh`, kind: 'script', os: 'linux' }));
    const all = [...library, ...big];
    const calls = mockCommands({
      get_profile: () => rhel,
      get_artifact: () => library[0],
      list_artifacts: (args) => {
        const q = args.query as { search: string | null; kind: string | null; limit: number; offset: number };
        const hit = all.filter((a) => (!q.search || a.name.includes(q.search)) && (!q.kind || a.kind === q.kind));
        return hit.slice(q.offset, q.offset + q.limit);
      },
      count_artifacts: (args) => {
        const q = args.query as { search: string | null; kind: string | null };
        return all.filter((a) => (!q.search || a.name.includes(q.search)) && (!q.kind || a.kind === q.kind)).length;
      },
    });
    const profiles = new Profiles();
    await profiles.select(3);
    const user = userEvent.setup();
    render(AddFromLibrary, { open: true, profiles, onclose: () => {} });
    await screen.findByText('ks.cfg');
    await user.click(screen.getByRole('checkbox', { name: /ks.cfg/ }));
    await user.click(screen.getByTestId('picker-show-all'));
    expect(screen.getByTestId('picker-more')).toBeInTheDocument();

    // typing: the search reaches the engine, and nothing the user did is wiped
    await user.type(screen.getByTestId('picker-search'), 'script-1199');
    await vi.waitFor(() => expect(screen.queryAllByTestId('picker-row').map((r) => r.dataset.name)).toEqual(['script-1199.sh']));
    expect(screen.getByTestId('picker-search')).toHaveValue('script-1199');
    expect(screen.getByTestId('picker-show-all')).toBeChecked();
    expect(screen.getByText('1 chosen')).toBeInTheDocument();
    const searched = calls.filter((c) => c.cmd === 'list_artifacts').at(-1)!.args.query as { search: string };
    expect(searched.search).toBe('script-1199');

    // the kind filter runs in the engine too; the tick on ks.cfg is still there
    await user.clear(screen.getByTestId('picker-search'));
    await user.selectOptions(screen.getByTestId('picker-kind'), 'unattend');
    await vi.waitFor(() => expect(screen.queryAllByTestId('picker-row').map((r) => r.dataset.name)).toEqual(['ks.cfg', 'autoyast.xml']));
    expect(screen.getByRole('checkbox', { name: /ks.cfg/ })).toBeChecked();

    // all kinds again: more than a page, the next page on request
    await user.selectOptions(screen.getByTestId('picker-kind'), '');
    await vi.waitFor(() => expect(screen.queryAllByTestId('picker-row').length).toBeGreaterThan(150));
    const before = screen.queryAllByTestId('picker-row').length;
    await user.click(screen.getByTestId('picker-more'));
    await vi.waitFor(() => expect(screen.queryAllByTestId('picker-row').length).toBeGreaterThan(before));
  });
});
