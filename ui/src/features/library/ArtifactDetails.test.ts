import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { artifact, ipcError, mockCommands, UNSIGNED } from '../../test/fixtures';
import ArtifactDetails from './ArtifactDetails.svelte';
import { Catalog } from './catalog.svelte';
import type { ArtifactPatch, WindowsEdition } from '$lib/ipc/client';

describe('ArtifactDetails', () => {
  it('shows the proof of every check: which digest matched which file and line, and the last verify', async () => {
    const a = artifact(1, {
      verification: [
        { algo: 'sha256', expected_from: 'checksum_file', source_file: 'SHA256SUMS', line: 2, verified_at: '2026-12-02T05:11:00Z', job_id: 7, signature: UNSIGNED },
        { algo: 'md5', expected_from: 'typed', source_file: null, line: null, verified_at: '2026-12-02T05:11:00Z', job_id: 7, signature: UNSIGNED },
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

  it('says who signed the list that vouched for an image, and what its embedded media check came to', async () => {
    const signed = { status: 'good' as const, signer: 'Fedora (42) <fedora-42-primary@fedoraproject.org>', fingerprint: 'B0F4950458F69E1150C6C5EDC8AC4916105EF944', signed_at: '2026-04-14T12:00:00Z', signature_file: null };
    const a = artifact(1, {
      signature: signed,
      media_check: { status: 'passed', md5: '158d7759a257275f267e3e6fd246a147' },
      verification: [{ algo: 'sha256', expected_from: 'checksum_file', source_file: 'CHECKSUM', line: 4, verified_at: '2026-12-02T05:11:00Z', job_id: 7, signature: signed }],
    });
    render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    const sig = screen.getByTestId('signature');
    expect(sig.dataset.status).toBe('good');
    expect(sig).toHaveTextContent('Signed by Fedora (42) <fedora-42-primary@fedoraproject.org>');
    expect(sig).toHaveTextContent('B0F4 9504 58F6 9E11 50C6 C5ED C8AC 4916 105E F944');
    expect(screen.getByTestId('evidence')).toHaveTextContent('SHA-256 matched CHECKSUM (line 4), signed by Fedora (42)');
    expect(screen.getByTestId('media-check')).toHaveTextContent('Embedded media checksum (isomd5sum) passed');
  });

  it('shows an answer file\'s lint and a bundle without a verified signature as what they are', () => {
    const ks = artifact(2, {
      name: 'web.ks', kind: 'unattend',
      lint: [{ line: 3, column: 1, severity: 'error', code: 'unknown_command', message: 'Unknown command keybaord (for RHEL 9).', fix: 'Did you mean keyboard?' }],
    });
    const { unmount } = render(ArtifactDetails, { catalog: new Catalog(), artifact: ks });
    expect(screen.getByTestId('artifact-lint')).toHaveTextContent('Lint: 1 error');
    expect(screen.getByTestId('lint-finding').dataset.line).toBe('3');
    unmount();
    const bundle = artifact(3, {
      name: 'vendor.zip', kind: 'bundle',
      warnings: [{ code: 'unsigned_bundle', text: 'No verified signature vouches for this bundle' }],
    });
    render(ArtifactDetails, { catalog: new Catalog(), artifact: bundle });
    expect(screen.getByTestId('artifact-warning').dataset.code).toBe('unsigned_bundle');
    expect(screen.queryByTestId('artifact-lint')).toBeNull();
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
    expect(screen.getByTestId('attr-created-by')).toHaveTextContent('admin@desk');
    expect(screen.queryByTestId('attr-updated-by'), 'not changed by anyone else').toBeNull();
    expect(screen.getByTestId('attr-resize')).toHaveTextContent('Yes');
    expect(screen.getByTestId('attr-deploy')).toHaveTextContent('No');
    expect(screen.getByTestId('attr-source')).toHaveTextContent('Downloaded from a URL');
    expect(screen.getByTestId('source-url')).toHaveTextContent('https://mirror.example/debian-12.iso');
  });

  it('says who changed it when someone other than who added it did', () => {
    render(ArtifactDetails, { catalog: new Catalog(), artifact: artifact(6, { updated_by: 'bob@ws2' }) });
    expect(screen.getByTestId('attr-created-by')).toHaveTextContent('admin@desk');
    expect(screen.getByTestId('attr-updated-by')).toHaveTextContent('bob@ws2');
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

  it('shows what a driver holds: architectures, Windows versions, catalog, missing files, every hardware ID', async () => {
    const driver = {
      arch: ['amd64', 'arm64'], hardware_ids: Array.from({ length: 60 }, (_, i) => `PCI\\VEN_8086&DEV_${1500 + i}`), class: 'Net',
      class_guid: '{4d36e972-e325-11ce-bfc1-08002be10318}', provider: 'Intel', version: '1.16.202.10', date: '2023-07-21', catalog: 'i40ea.cat',
      catalog_present: true, kernels: [], kmods: [], os_versions: ['10.0.17763', '10.0.22000'], package: null, packages: [],
      infs: ['i40ea.inf', 'i40eb.inf'], missing_files: ['i40eb64.sys'],
      targets: [{ arch: 'amd64', version: '10.0.17763', product_type: null }, { arch: 'arm64', version: '10.0.22000', product_type: null }],
    };
    const a = artifact(8, { name: 'intel.zip', kind: 'driver', os: 'windows', distro: null, detected: { entries: 5, driver }, driver });
    const user = userEvent.setup();
    render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    const section = screen.getByTestId('driver');
    expect(section).toHaveTextContent('Net');
    expect(section).toHaveTextContent('1.16.202.10 (2023-07-21)');
    expect(screen.getByTestId('driver-arch')).toHaveTextContent('amd64, arm64');
    expect(screen.getByTestId('driver-os-versions')).toHaveTextContent('10.0.17763, 10.0.22000');
    expect(screen.getByTestId('driver-catalog')).toHaveTextContent('i40ea.cat');
    expect(screen.getByTestId('driver-missing')).toHaveTextContent('i40eb64.sys — named by an .inf but not in the package');
    expect(screen.getByTestId('driver-hwids').querySelectorAll('li')).toHaveLength(50);
    await user.click(screen.getByRole('button', { name: 'Show all 60' }));
    expect(screen.getByTestId('driver-hwids').querySelectorAll('li')).toHaveLength(60);
    // Shown once, as a section, not again as raw JSON under Detected.
    expect(screen.queryByText(/"hardware_ids"/)).toBeNull();
    expect(screen.getByText('entries')).toBeInTheDocument();
  });

  it('shows a Linux driver by its kernels and modules, and a missing catalog as a warning', () => {
    const driver = {
      arch: ['x86_64'], hardware_ids: [], class: null, class_guid: null, provider: 'Example Networks', version: '5.19.6', date: '2024-04-23',
      catalog: null, catalog_present: false, kernels: ['5.14.0-427.el9.x86_64'], kmods: ['ixgbe.ko'], os_versions: [],
      package: 'kmod-ixgbe-5.19.6-1.el9_4', packages: [], infs: [], missing_files: [], targets: [],
    };
    const warnings = [{ code: 'kernel_other_release' as const, text: 'It was built for kernel 5.14.0-427.el9, and rhel-9.6-x86_64-dvd.iso boots 5.14.0-570.12.1.el9_6.' }];
    render(ArtifactDetails, { catalog: new Catalog(), artifact: artifact(9, { kind: 'driver', detected: { driver }, driver, warnings }) });
    expect(screen.getByTestId('driver-warning')).toHaveTextContent('boots 5.14.0-570.12.1.el9_6');
    expect(screen.getByTestId('driver-warning').dataset.code).toBe('kernel_other_release');
    expect(screen.getByTestId('driver-kernels')).toHaveTextContent('5.14.0-427.el9.x86_64');
    expect(screen.getByTestId('driver')).toHaveTextContent('ixgbe.ko');
    expect(screen.getByTestId('driver')).toHaveTextContent('kmod-ixgbe-5.19.6-1.el9_4');
    expect(screen.queryByTestId('driver-catalog')).toBeNull();
    expect(screen.queryByTestId('driver-hwids')).toBeNull();
  });

  it('lists the editions of a Windows image as a table, once, and none for other files', () => {
    const edition = (index: number, name: string, edition_id: string): WindowsEdition => ({
      index, name, description: null, display_name: `${name} (Desktop Experience)`, edition_id, flags: edition_id, arch: 'x86_64',
      version: '10.0.20348.587', build: 20348, languages: ['en-US', 'de-DE'], default_language: 'en-US', installation_type: 'server',
      product_name: null, product_type: 'ServerNT',
    });
    const editions = [edition(1, 'Windows Server 2022 SERVERSTANDARD', 'ServerStandard'), edition(2, 'Windows Server 2022 SERVERDATACENTER', 'ServerDatacenter')];
    const a = artifact(10, {
      name: 'win2022.iso', os: 'windows', distro: null, os_id: 'win2k22', os_name: 'Microsoft Windows Server 2022',
      detected: { volume_id: 'SSS_X64FREE_EN-US_DV9', identified_by: 'sources/install.wim', editions }, editions,
    });
    const { unmount } = render(ArtifactDetails, { catalog: new Catalog(), artifact: a });
    const table = screen.getByRole('table', { name: 'Editions' });
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['Index', 'Name', 'Edition ID', 'Build', 'Arch', 'Languages']);
    const rows = within(table).getAllByTestId('edition');
    expect(rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent))).toEqual([
      ['1', 'Windows Server 2022 SERVERSTANDARD', 'ServerStandard', '20348', 'x86_64', 'en-US, de-DE'],
      ['2', 'Windows Server 2022 SERVERDATACENTER', 'ServerDatacenter', '20348', 'x86_64', 'en-US, de-DE'],
    ]);
    expect(within(rows[0]!).getByText('Windows Server 2022 SERVERSTANDARD')).toHaveAttribute('title', 'Windows Server 2022 SERVERSTANDARD (Desktop Experience)');
    // Not again as raw JSON under Detected; the other facts stay there.
    expect(screen.queryByText(/"edition_id"/)).toBeNull();
    expect(screen.getByText('identified by')).toBeInTheDocument();
    unmount();

    render(ArtifactDetails, { catalog: new Catalog(), artifact: artifact(11) });
    expect(screen.queryByTestId('editions')).toBeNull();
  });

  it('says which snapshot of which disk of which VM an image was cut from, and offers images from a qcow2 image’s snapshots', async () => {
    const cut = artifact(8, {
      name: 'web-base', kind: 'disk_image', os: null, distro: null, detected: { disk_format: 'qcow2', snapshots: [], disk_target: 'vdb' },
      source: { kind: 'snapshot', url: null, manifest_url: null, store: null, remote_id: null, vm: 'web', connect: 'qemu:///system', disk_id: 2,
        snapshot: 's1-installed', disk_file: '/var/lib/libvirt/images/web-vdb.qcow2', snapshot_at: '2026-12-01T10:00:00Z' },
    });
    const onsnapshot = vi.fn();
    render(ArtifactDetails, { catalog: new Catalog(), artifact: cut, onsnapshot });
    expect(screen.getByTestId('source-snapshot')).toHaveTextContent(/^Snapshot s1-installed of disk 2 \(vdb\) of VM web, taken /);
    expect(screen.getByTestId('source-connection')).toHaveTextContent('on qemu:///system');
    expect(screen.getByTestId('source-disk-file')).toHaveTextContent('/var/lib/libvirt/images/web-vdb.qcow2');
    expect(screen.queryByTestId('image-from-snapshot')).toBeNull();
    screen.getByTestId('artifact-details').remove();

    const base = artifact(9, { name: 'base.qcow2', kind: 'disk_image', detected: { disk_format: 'qcow2', snapshots: ['first', 'second'] } });
    const user = userEvent.setup();
    render(ArtifactDetails, { catalog: new Catalog(), artifact: base, onsnapshot });
    expect(screen.getByTestId('artifact-snapshots')).toHaveTextContent('Holds 2 internal snapshots: first, second');
    await user.click(screen.getByTestId('image-from-snapshot'));
    expect(onsnapshot).toHaveBeenCalledWith(base);
  });
});
