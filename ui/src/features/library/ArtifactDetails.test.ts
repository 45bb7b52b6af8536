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

  it('names the exact OS of an installer image, and says when an ISO is none', () => {
    const a = artifact(1, { os_id: 'sles15sp6', os_name: 'SUSE Linux Enterprise Server 15 SP6', os_version: '15.6', arch: 'x86_64' });
    const { unmount } = render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    expect(screen.getByTestId('attr-exact-os')).toHaveTextContent('SUSE Linux Enterprise Server 15 SP6 (sles15sp6), x86_64');
    unmount();
    render(ArtifactDetails, { catalog: new Catalog(), artifact: artifact(2, { detected: { installer: false } }) });
    expect(screen.getByTestId('attr-exact-os')).toHaveTextContent('Not an OS installer');
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

describe('ArtifactDetails attributes', () => {
  it('shows alias, access, owner, resize, deploy and the URL it came from', () => {
    const a = artifact(4, { alias: 'deb12', access: 'public', owner: 'ops', resize: true, deploy: false,
      source: { kind: 'url', url: 'https://mirror.example/debian-12.iso', manifest_url: null, store: null, remote_id: null } });
    render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    expect(screen.getByTestId('details-alias')).toHaveTextContent('deb12');
    expect(screen.getByTestId('attr-access')).toHaveTextContent('Public');
    expect(screen.getByTestId('attr-owner')).toHaveTextContent('ops');
    expect(screen.getByTestId('attr-resize')).toHaveTextContent('Yes');
    expect(screen.getByTestId('attr-deploy')).toHaveTextContent('No');
    expect(screen.getByTestId('attr-source')).toHaveTextContent('Downloaded from a URL');
    expect(screen.getByTestId('source-url')).toHaveTextContent('https://mirror.example/debian-12.iso');
  });

  it('edits the attributes, sending only what changed', async () => {
    const a = artifact(5, { alias: null, owner: 'admin' });
    const patches: ArtifactPatch[] = [];
    mockCommands({ update_artifact: (args) => { patches.push(args.patch as ArtifactPatch); return { ...a, alias: 'five', access: 'public' }; } });
    const user = userEvent.setup();
    render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    await user.click(screen.getByTestId('edit-artifact'));
    await user.type(screen.getByTestId('edit-attr-alias'), 'five');
    await user.selectOptions(screen.getByTestId('edit-attr-access'), 'public');
    await user.click(screen.getByTestId('edit-attr-resize'));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(patches[0]).toMatchObject({ name: null, alias: 'five', access: 'public', resize: true, deploy: null, owner: null, tags: null });
  });

  it('a delete refused as in use offers Mark deleted, which sets access deleted', async () => {
    const a = artifact(6, { profiles: ['web'] });
    const patches: ArtifactPatch[] = [];
    mockCommands({
      update_artifact: (args) => { patches.push(args.patch as ArtifactPatch); return { ...a, access: 'deleted' }; },
      count_artifacts: () => 0, list_artifacts: () => [], get_artifact: () => ({ ...a, access: 'deleted' }),
    });
    const user = userEvent.setup();
    const view = render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    await user.click(screen.getByTestId('delete-artifact'));
    expect(screen.getByTestId('confirm-delete')).toBeDisabled();
    expect(screen.getByTestId('mark-deleted-hint')).toHaveTextContent('mark it deleted instead');
    await user.click(screen.getByTestId('mark-deleted'));
    expect(patches).toEqual([expect.objectContaining({ access: 'deleted' })]);
    await view.rerender({ catalog: new Catalog(), artifact: { ...a, access: 'deleted' } });
    expect(screen.getByTestId('deleted-notice')).toHaveTextContent('Marked deleted');
    expect(screen.queryByTestId('mark-deleted')).toBeNull();
  });

  it('offers Mark deleted when the engine refuses with in_use something the pane did not know of', async () => {
    const a = artifact(7);
    mockCommands({ delete_artifact: () => { throw ipcError('in_use', 'artifact-7.iso is used by a working copy.'); } });
    const user = userEvent.setup();
    render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    await user.click(screen.getByTestId('delete-artifact'));
    await user.click(screen.getByTestId('confirm-delete'));
    expect(await screen.findByTestId('mark-deleted')).toBeInTheDocument();
    expect(screen.getByTestId('confirm-delete')).toBeDisabled();
  });
});
