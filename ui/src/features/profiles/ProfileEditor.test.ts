import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { Finding, Profile, ProfileMember, WindowsEdition } from '$lib/ipc/client';
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
  options: {}, edition: null, editions: [], created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', created_by: null, updated_by: null,
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

  it('offers the Windows image\'s editions and saves the one chosen; a Linux profile has no such choice', async () => {
    const ed = (index: number, id: string): WindowsEdition => ({
      index, name: `Windows Server 2022 ${id.toUpperCase()}`, description: null, display_name: `Windows Server 2022 ${id.slice(6)} (Desktop Experience)`,
      edition_id: id, flags: id, arch: 'x86_64', version: '10.0.20348.587', build: 20348, languages: ['en-US'], default_language: 'en-US',
      installation_type: 'server', product_name: null, product_type: 'ServerNT',
    });
    const editions = [ed(1, 'ServerStandard'), ed(2, 'ServerDatacenter')];
    const win: Profile = { ...profile, name: 'win2022', base: { id: 2, name: 'win-server-2022.iso' }, os: 'windows', distro: null, members: [], editions };
    const calls = mockCommands({
      get_profile: () => win,
      get_artifact: () => artifact(2, { name: 'win-server-2022.iso', kind: 'os', os: 'windows', distro: null }),
      set_profile_edition: (args) => ({ ...win, edition: editions.find((e) => e.index === args.edition) ?? null }),
    });
    const profiles = new Profiles();
    await profiles.select(3);
    const user = userEvent.setup();
    const view = render(ProfileEditor, { profiles, catalog: new Catalog() });

    const select = screen.getByTestId('profile-edition') as HTMLSelectElement;
    expect(select.value).toBe('');
    expect([...select.options].map((o) => o.textContent)).toEqual([
      'Not chosen — Setup asks',
      '1 · Windows Server 2022 Standard (Desktop Experience)',
      '2 · Windows Server 2022 Datacenter (Desktop Experience)',
    ]);
    await user.selectOptions(select, '2');
    expect(calls.find((c) => c.cmd === 'set_profile_edition')!.args).toEqual({ profile: '3', edition: 2 });
    await vi.waitFor(() => expect(profiles.selected?.edition?.edition_id).toBe('ServerDatacenter'));
    expect((screen.getByTestId('profile-edition') as HTMLSelectElement).value).toBe('2');
    view.unmount();

    mockCommands({ get_profile: () => profile, get_artifact: () => library[0] });
    const linux = new Profiles();
    await linux.select(3);
    render(ProfileEditor, { profiles: linux, catalog: new Catalog() });
    expect(screen.queryByTestId('profile-edition')).toBeNull();
  });
});

describe('ProfileEditor answer-file lint', () => {
  const ks = member(8, 'web.ks', { kind: 'unattend', role: 'unattend' });
  const withKs: Profile = { ...profile, members: [ks] };
  const findings: Finding[] = [
    { line: 2, column: 1, severity: 'error', code: 'unknown_command', message: 'Unknown command keybaord (for RHEL 9).', fix: 'Did you mean keyboard? Correct the spelling of keybaord.' },
    { line: 4, column: 8, severity: 'warning', code: 'plaintext_password', message: 'rootpw gives a password in plain text.', fix: 'Use a hashed password with --iscrypted.' },
  ];
  const text = 'lang en_US.UTF-8\nkeybaord us\ntimezone UTC --utc\nrootpw changeme\n';

  it('shows the findings next to the answer file, opens it read-only at a finding and asks a reason before exporting over errors', async () => {
    const calls = mockCommands({
      get_profile: () => withKs,
      get_artifact: () => library[0],
      lint_profile: () => [{ artifact: { id: 8, name: 'web.ks' }, report: { checked_as: 'kickstart (RHEL 9)', findings } }],
      answer_file_text: () => text,
      list_servers: () => [],
      choose_folder: () => '/out',
      export_profile: () => 41,
    });
    const profiles = new Profiles();
    await profiles.select(3);
    await vi.waitFor(() => expect(profiles.lint).toHaveLength(1));
    const user = userEvent.setup();
    render(ProfileEditor, { profiles, catalog: new Catalog() });

    const lint = within(screen.getByTestId('member-lint'));
    expect(lint.getByTestId('lint')).toHaveTextContent('Lint (kickstart (RHEL 9)): 1 error, 1 warning');
    const rows = lint.getAllByTestId('lint-finding');
    expect(rows.map((r) => [r.dataset.line, r.dataset.code])).toEqual([['2', 'unknown_command'], ['4', 'plaintext_password']]);
    expect(rows[0]).toHaveTextContent('Did you mean keyboard?');

    await user.click(within(rows[0]!).getByRole('button'));
    const view = await screen.findByTestId('answer-file-view');
    await vi.waitFor(() => expect(view.querySelector('[data-testid="code-line"][data-line="2"]')).not.toBeNull());
    expect(view.dataset.line).toBe('2');
    const line2 = view.querySelector('[data-testid="code-line"][data-line="2"]')!;
    expect(line2).toHaveTextContent('keybaord us');
    expect(line2.getAttribute('aria-current')).toBe('true');
    expect(line2.classList.contains('error')).toBe(true);
    expect(view.querySelector('[data-testid="code-line"][data-line="4"]')!.classList.contains('warning')).toBe(true);
    expect(calls.find((c) => c.cmd === 'answer_file_text')!.args).toEqual({ idOrName: '8' });
    await user.click(screen.getByTestId('close-answer-file'));

    await user.click(screen.getByTestId('export-profile'));
    expect(await screen.findByTestId('export-lint')).toHaveTextContent('1 lint error');
    await user.click(screen.getByTestId('choose-export-folder'));
    await vi.waitFor(() => expect(screen.getByTestId('export-folder')).toHaveTextContent('/out'));
    expect(screen.getByTestId('start-export')).toBeDisabled();
    await user.type(screen.getByTestId('export-lint-reason'), 'the pre script fixes it');
    expect(screen.getByTestId('start-export')).toHaveTextContent('Export anyway');
    await user.click(screen.getByTestId('start-export'));
    await vi.waitFor(() => expect(calls.some((c) => c.cmd === 'export_profile')).toBe(true));
    expect(calls.find((c) => c.cmd === 'export_profile')!.args.request).toEqual({ profile: '3', dir: '/out', include_os: false, lint_override: 'the pre script fixes it' });
  });
});
