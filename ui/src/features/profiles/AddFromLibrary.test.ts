import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { Profile } from '$lib/ipc/client';
import { artifact, ipcError, mockCommands } from '../../test/fixtures';
import AddFromLibrary from './AddFromLibrary.svelte';
import { Profiles } from './profiles.svelte';

const rhel: Profile = {
  id: 3, name: 'rhel9-web', description: '', base: { id: 1, name: 'rhel.iso' }, base_state: 'ok', os: 'linux', distro: 'rhel', members: [],
  options: {}, created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z',
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
});
