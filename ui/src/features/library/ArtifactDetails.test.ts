import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { artifact, ipcError, mockCommands } from '../../test/fixtures';
import ArtifactDetails from './ArtifactDetails.svelte';
import { Catalog } from './catalog.svelte';
import type { ArtifactPatch } from '$lib/ipc/client';

describe('ArtifactDetails', () => {
  it('shows the proof of every check: which digest matched which file and line, and the last verify', async () => {
    const a = artifact(1, {
      verification: [
        { algo: 'sha256', expected_from: 'checksum_file', source_file: 'SHA256SUMS', line: 2, verified_at: '2026-12-02T05:11:00Z', job_id: 7 },
        { algo: 'md5', expected_from: 'typed', source_file: null, line: null, verified_at: '2026-12-02T05:11:00Z', job_id: 7 },
      ],
      last_verified_at: '2026-12-03T08:00:00Z',
    });
    render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    const list = screen.getByTestId('evidence');
    expect(list).toHaveTextContent('SHA-256 matched SHA256SUMS (line 2)');
    expect(list).toHaveTextContent('job #7');
    expect(list).toHaveTextContent('MD5 matched the checksum typed at import');
    expect(screen.getByTestId('last-verified')).toHaveTextContent('Stored copy re-hashed intact');
  });

  it('says plainly when nothing was checked at import and the copy was never re-hashed', () => {
    render(ArtifactDetails, { catalog: new Catalog(), artifact: artifact(1), onverify: () => {} });
    expect(screen.getByTestId('evidence')).toHaveTextContent('No expected checksum was given at import');
    expect(screen.getByTestId('last-verified')).toHaveTextContent('Not re-hashed since import — Verify checks the stored copy');
  });

  it('corrects kind and OS, sending only what changed, and shows a refusal from the support matrix', async () => {
    const script = artifact(3, { name: 'setup.ps1', kind: 'script', os: 'linux', distro: null });
    const patches: ArtifactPatch[] = [];
    let refuse = true;
    mockCommands({
      update_artifact: (args) => {
        patches.push(args.patch as ArtifactPatch);
        if (refuse) throw ipcError('in_use', 'The kind and OS of setup.ps1 were not changed: the profile(s) web use it.');
        return { ...script, os: 'windows' };
      },
    });
    const user = userEvent.setup();
    render(ArtifactDetails, { catalog: new Catalog(), artifact: script });
    await user.click(screen.getByTestId('edit-artifact'));
    await user.selectOptions(screen.getByTestId('edit-os'), 'windows');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(patches[0]).toMatchObject({ kind: null, os: 'windows' });
    expect(await screen.findByText(/profile\(s\) web use it/)).toBeInTheDocument();

    refuse = false;
    await user.selectOptions(screen.getByTestId('edit-os'), 'rhel');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(patches[1]).toMatchObject({ kind: null, os: 'rhel' });
    // Renaming alone does not ask the engine to re-check kind and OS.
    await user.click(screen.getByTestId('edit-artifact'));
    const name = screen.getByLabelText(/^Name/);
    await user.clear(name);
    await user.type(name, 'renamed.ps1');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(patches[2]).toMatchObject({ name: 'renamed.ps1', kind: null, os: null });
  });
});
