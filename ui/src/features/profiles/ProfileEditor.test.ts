import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { Profile, ProfileMember } from '$lib/ipc/client';
import { artifact, ipcError, mockCommands } from '../../test/fixtures';
import { Catalog } from '../library/catalog.svelte';
import ProfileEditor from './ProfileEditor.svelte';
import { Profiles } from './profiles.svelte';

const KABI = 'It was built for kernel 5.14.0-427.el9, and rhel-9.6-x86_64-dvd.iso boots 5.14.0-570.12.1.el9_6: a later release of the same kernel series.';

function member(id: number, name: string, over: Partial<ProfileMember> = {}): ProfileMember {
  return { artifact: { id, name }, kind: 'driver', os: 'linux', role: 'driver', size: 10, sha256: 'c'.repeat(64), state: 'ok', warnings: [], ...over };
}

const profile: Profile = {
  id: 3, name: 'rhel9-web', description: '', base: { id: 1, name: 'rhel-9.6-x86_64-dvd.iso' }, base_state: 'ok', os: 'linux', distro: 'rhel',
  members: [
    member(5, 'dud-ixgbe-rhel9.4.iso', { warnings: [{ code: 'kernel_other_release', text: KABI }] }),
    member(6, 'kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm'),
  ],
  options: {}, created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z',
};

const library = [
  artifact(1, { name: 'rhel-9.6-x86_64-dvd.iso', kind: 'os', distro: 'rhel', arch: 'x86_64', os_id: 'rhel9.6' }),
  artifact(7, { name: 'kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm', kind: 'driver', os: 'linux', distro: null }),
];

describe('ProfileEditor', () => {
  it('shows a member\'s warnings under it, and a driver that does not fit is refused with its reason and what to do', async () => {
    const calls = mockCommands({
      get_profile: () => profile,
      get_artifact: () => library[0],
      list_artifacts: () => library,
      count_artifacts: () => library.length,
      add_to_profile: () => {
        throw ipcError(
          'incompatible_driver',
          'kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm does not fit rhel-9.6-x86_64-dvd.iso: it is built for aarch64, and rhel-9.6-x86_64-dvd.iso is x86_64.',
        );
      },
    });
    const profiles = new Profiles();
    await profiles.select(3);
    const user = userEvent.setup();
    render(ProfileEditor, { profiles, catalog: new Catalog() });

    const dud = screen.getAllByTestId('member').find((m) => m.dataset.name === 'dud-ixgbe-rhel9.4.iso')!;
    const warning = dud.querySelector('[data-testid="member-warning"]')!;
    expect(warning.getAttribute('data-code')).toBe('kernel_other_release');
    expect(warning).toHaveTextContent('built for kernel 5.14.0-427.el9');
    const kmod = screen.getAllByTestId('member').find((m) => m.dataset.name === 'kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm')!;
    expect(kmod.querySelector('[data-testid="member-warning"]')).toBeNull();

    await user.click(screen.getByTestId('add-from-library'));
    await user.click(await screen.findByTestId('picker-show-all'));
    await user.click(await screen.findByRole('checkbox', { name: /kmod-ixgbe-5.19.6-1.el9_4.aarch64.rpm/ }));
    await user.click(screen.getByTestId('picker-add'));
    const box = await screen.findByTestId('picker-error');
    expect(box.querySelector('[data-code]')?.getAttribute('data-code')).toBe('incompatible_driver');
    expect(box).toHaveTextContent('it is built for aarch64, and rhel-9.6-x86_64-dvd.iso is x86_64');
    expect(box).toHaveTextContent('What to do:');
    expect(calls.find((c) => c.cmd === 'add_to_profile')!.args).toEqual({ profile: '3', artifacts: ['7'] });
    expect(profiles.selected?.members.map((m) => m.artifact.name)).toEqual(['dud-ixgbe-rhel9.4.iso', 'kmod-ixgbe-5.19.6-1.el9_6.x86_64.rpm']);
  });
});
