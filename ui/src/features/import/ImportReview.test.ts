import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { artifact, ipcError, mockCommands, planItem } from '../../test/fixtures';
import ImportReviewView from './ImportReview.svelte';
import { ImportReview } from './review.svelte';

describe('ImportReview component', () => {
  it('shows the checksum source, the checksum file, and a refused file with its reason', async () => {
    mockCommands({
      plan_import: () => ({
        items: [
          planItem({ os: 'linux', distro: 'debian', expected: { algo: 'sha256', hex: 'd'.repeat(64), source: 'SHA256SUMS', from: 'checksum_file', line: 2 } }),
          planItem({ path: '/d/tool.exe', file_name: 'tool.exe', kind: null, refused: ipcError('unsupported_type', 'tool.exe is not a file Imagesmith imports.') }),
        ],
        checksum_files: [{ path: '/d/SHA256SUMS', file_name: 'SHA256SUMS', format: 'gnu', entries: 1, matched: ['ipxe.iso'], error: null }],
      }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/ipxe.iso', '/d/tool.exe', '/d/SHA256SUMS']);
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    expect(await screen.findByText('SHA-256 from SHA256SUMS')).toBeInTheDocument();
    expect(screen.getByTestId('checksum-file')).toHaveTextContent('SHA256SUMS');
    expect(screen.getByTestId('refusal')).toHaveTextContent('tool.exe is not a file Imagesmith imports.');
    expect(screen.getByTestId('start-import')).toHaveTextContent('Import 1 file');
    expect(screen.getByTestId('start-import')).toBeEnabled();
  });

  it('says the exact OS of each installer ISO, and when an ISO is no installer', async () => {
    mockCommands({
      plan_import: () => ({
        items: [
          planItem({ path: '/d/rhel.iso', file_name: 'rhel.iso', os: 'linux', distro: 'rhel',
            detected: { os_id: 'rhel9.6', os_name: 'Red Hat Enterprise Linux 9.6', arch: 'x86_64', installer: true } }),
          planItem({ path: '/d/rescue.iso', file_name: 'rescue.iso', os: null, detected: { installer: false } }),
        ],
        checksum_files: [],
      }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/rhel.iso', '/d/rescue.iso']);
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    const rows = await screen.findAllByTestId('review-row');
    expect(within(rows[0]!).getByTestId('review-exact-os')).toHaveTextContent('Red Hat Enterprise Linux 9.6 (rhel9.6), x86_64');
    expect(within(rows[1]!).getByTestId('review-exact-os')).toHaveTextContent('Not an OS installer');
  });

  it('lists the editions a Windows installer holds', async () => {
    const ed = (index: number, id: string) => ({ index, name: `Windows Server 2022 ${id.toUpperCase()}`, display_name: `Windows Server 2022 ${id.slice(6)}`, edition_id: id });
    mockCommands({
      plan_import: () => ({
        items: [
          planItem({ path: '/d/win.iso', file_name: 'win.iso', os: 'windows', distro: null,
            detected: { os_id: 'win2k22', os_name: 'Microsoft Windows Server 2022', arch: 'x86_64', editions: [ed(1, 'ServerStandard'), ed(2, 'ServerDatacenter')] } }),
          planItem({ path: '/d/rhel.iso', file_name: 'rhel.iso', os: 'linux', distro: 'rhel', detected: { os_id: 'rhel9.6', installer: true } }),
        ],
        checksum_files: [],
      }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/win.iso', '/d/rhel.iso']);
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    const rows = await screen.findAllByTestId('review-row');
    const win = within(rows[0]!).getByTestId('review-editions');
    expect(win).toHaveTextContent('2 editions: ServerStandard, ServerDatacenter');
    expect(win.title).toBe('1 · Windows Server 2022 Standard\n2 · Windows Server 2022 Datacenter');
    expect(within(rows[1]!).queryByTestId('review-editions')).toBeNull();
  });

  it('disables Import until a required OS is chosen', async () => {
    mockCommands({ plan_import: () => ({ items: [planItem({ os: null, os_required: true })], checksum_files: [] }), list_artifacts: () => [] });
    const review = new ImportReview();
    await review.add(['/d/ipxe.iso']);
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    expect(await screen.findByTestId('start-import')).toBeDisabled();
    expect(screen.getByTestId('review-hint')).toHaveTextContent('Choose the OS');
  });
});

describe('ImportReview of drivers', () => {
  it('checks a driver against the OS image chosen for it: the refusal with its reason, or the warnings', async () => {
    const dud = planItem({ path: '/d/dud-ixgbe-rhel9.4.iso', file_name: 'dud-ixgbe-rhel9.4.iso', kind: 'driver', os: 'linux', detected: { driver: { kernels: ['5.14.0-427.el9.x86_64'] } } });
    const arm = planItem({ path: '/d/kmod-ixgbe.aarch64.rpm', file_name: 'kmod-ixgbe.aarch64.rpm', kind: 'driver', os: 'linux', detected: { driver: { arch: ['aarch64'] } } });
    const calls = mockCommands({
      plan_import: () => ({ items: [dud, arm], checksum_files: [], free_bytes: null }),
      list_artifacts: () => [artifact(1, { name: 'rhel-9.6-x86_64-dvd.iso', kind: 'os', arch: 'x86_64' })],
      check_driver_fit: (args) => (args.name === 'dud-ixgbe-rhel9.4.iso'
        ? { refused: null, warnings: [{ code: 'kernel_other_release', text: 'It was built for kernel 5.14.0-427.el9, and rhel-9.6-x86_64-dvd.iso boots 5.14.0-570.12.1.el9_6.' }] }
        : { refused: ipcError('incompatible_driver', 'kmod-ixgbe.aarch64.rpm does not fit rhel-9.6-x86_64-dvd.iso: it is built for aarch64, and rhel-9.6-x86_64-dvd.iso is x86_64.'), warnings: [] }),
    });
    const review = new ImportReview();
    await review.add(['/d/dud-ixgbe-rhel9.4.iso', '/d/kmod-ixgbe.aarch64.rpm']);
    const user = userEvent.setup();
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    await user.selectOptions(await screen.findByRole('combobox', { name: 'OS image of dud-ixgbe-rhel9.4.iso' }), 'rhel-9.6-x86_64-dvd.iso');
    const warning = await screen.findByTestId('fit-warning');
    expect(warning.dataset.code).toBe('kernel_other_release');
    expect(warning).toHaveTextContent('built for kernel 5.14.0-427.el9');
    expect(calls.find((c) => c.cmd === 'check_driver_fit')!.args).toEqual({ name: 'dud-ixgbe-rhel9.4.iso', detected: dud.detected, image: 'rhel-9.6-x86_64-dvd.iso' });
    await user.selectOptions(screen.getByRole('combobox', { name: 'OS image of kmod-ixgbe.aarch64.rpm' }), 'rhel-9.6-x86_64-dvd.iso');
    const refused = await screen.findByTestId('fit-refused');
    expect(refused.querySelector('[data-code]')?.getAttribute('data-code')).toBe('incompatible_driver');
    expect(refused).toHaveTextContent('it is built for aarch64');
    // the image goes with the import request as chosen
    expect(review.request().items.map((i) => i.image)).toEqual(['rhel-9.6-x86_64-dvd.iso', 'rhel-9.6-x86_64-dvd.iso']);
    // no image, no check
    await user.selectOptions(screen.getByRole('combobox', { name: 'OS image of kmod-ixgbe.aarch64.rpm' }), '');
    expect(screen.queryByTestId('fit-refused')).toBeNull();
  });
});

describe('ImportReview of a dropped folder', () => {
  it('offers to capture one dropped folder as a gold image instead, keeping the recursive import', async () => {
    mockCommands({
      plan_import: () => ({
        items: [planItem({ path: '/srv/app/bin/run.sh', file_name: 'run.sh', kind: 'script' }), planItem({ path: '/srv/app/README', file_name: 'README', kind: 'software' })],
        checksum_files: [], free_bytes: null,
      }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/srv/app']);
    const captured: string[] = [];
    const user = userEvent.setup();
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {}, oncapture: (f: string) => captured.push(f) });
    expect(screen.getByTestId('start-import')).toHaveTextContent('Import 2 files');
    await user.click(screen.getByRole('button', { name: 'Capture this folder as a gold image instead' }));
    expect(captured).toEqual(['/srv/app']);
  });

  it('offers it for a folder too large to import file by file, and not for files or several folders', async () => {
    mockCommands({ plan_import: () => { throw ipcError('invalid_argument', '/srv/dbhome holds more than 10000 files.'); }, list_artifacts: () => [] });
    const review = new ImportReview();
    await review.add(['/srv/dbhome']);
    expect(review.droppedFolder).toBe('/srv/dbhome');
    mockCommands({ plan_import: () => ({ items: [planItem()], checksum_files: [], free_bytes: null }), list_artifacts: () => [] });
    const file = new ImportReview();
    await file.add(['/data/ipxe.iso']);
    expect(file.droppedFolder).toBeNull();
    render(ImportReviewView, { review: file, onaddfiles: () => {}, onstart: () => {}, oncapture: () => {} });
    expect(screen.queryByTestId('capture-offer')).toBeNull();
    const two = new ImportReview();
    await two.add(['/srv/a', '/srv/b']);
    expect(two.droppedFolder).toBeNull();
  });
});

describe('ImportReview apply to all', () => {
  it('after choosing an OS on one row, "Apply to all" gives it to the other rows that can take it', async () => {
    mockCommands({
      plan_import: () => ({
        items: [
          planItem({ path: '/d/a.iso', file_name: 'a.iso', os: null }),
          planItem({ path: '/d/b.iso', file_name: 'b.iso', os: null }),
          planItem({ path: '/d/c.iso', file_name: 'c.iso', os: null, allowed_os: ['linux', 'vmware'] }),
        ],
        checksum_files: [],
      }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/a.iso', '/d/b.iso', '/d/c.iso']);
    const user = userEvent.setup();
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    expect(screen.queryByRole('button', { name: /Apply to all/ })).toBeNull();
    const osOfA = screen.getByRole('combobox', { name: 'OS of a.iso' });
    await user.selectOptions(osOfA, 'vmware');
    const rowA = screen.getAllByTestId('review-row').find((r) => r.dataset.file === 'a.iso')!;
    await user.click(within(rowA).getByRole('button', { name: 'Apply to all (2)' }));
    expect(screen.getByRole('combobox', { name: 'OS of b.iso' })).toHaveValue('vmware');
    expect(screen.getByRole('combobox', { name: 'OS of c.iso' })).toHaveValue('vmware');
    expect(screen.getByTestId('applied')).toHaveTextContent('Set VMware ESXi on 2 more files.');
    expect(screen.getByTestId('start-import')).toBeEnabled();
    expect(osOfA).toHaveFocus();
    await user.selectOptions(osOfA, 'windows');
    await user.click(within(rowA).getByRole('button', { name: 'Apply to all (1)' }));
    expect(screen.getByRole('combobox', { name: 'OS of b.iso' })).toHaveValue('windows');
    expect(screen.getByRole('combobox', { name: 'OS of c.iso' })).toHaveValue('vmware');
    expect(screen.getByTestId('applied')).toHaveTextContent('Set Windows on 1 more file; c.iso cannot be Windows.');
  });

  it('applies a kind chosen on one row to the rest', async () => {
    mockCommands({
      plan_import: () => ({
        items: [
          planItem({ path: '/d/a.iso', file_name: 'a.iso', os: 'linux' }),
          planItem({ path: '/d/b.iso', file_name: 'b.iso', os: 'linux' }),
        ],
        checksum_files: [],
      }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/a.iso', '/d/b.iso']);
    const user = userEvent.setup();
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    await user.selectOptions(screen.getByRole('combobox', { name: 'Kind of b.iso' }), 'driver');
    await user.click(screen.getByTestId('apply-kind-all'));
    expect(screen.getByRole('combobox', { name: 'Kind of a.iso' })).toHaveValue('driver');
    expect(review.request().items.map((i) => i.kind)).toEqual(['driver', 'driver']);
  });
});

describe('ImportReview attributes', () => {
  it('opens a row\'s attributes with the keyboard in its first field, and shows what was set once closed', async () => {
    const calls = mockCommands({
      plan_import: () => ({ items: [planItem({ os: 'linux' })], checksum_files: [], free_bytes: null }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/ipxe.iso']);
    const user = userEvent.setup();
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    const toggle = screen.getByTestId('attrs-toggle');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    toggle.focus();
    await user.keyboard('{Enter}');
    const row = await screen.findByTestId('attrs-row');
    await vi.waitFor(() => expect(within(row).getByTestId('review-attr-alias')).toHaveFocus());
    await user.keyboard('ipxe');
    await user.selectOptions(within(row).getByTestId('review-attr-access'), 'public');
    await user.click(toggle);
    expect(screen.queryByTestId('attrs-row')).toBeNull();
    expect(screen.getByTestId('attrs-summary')).toHaveTextContent('alias ipxe · Public');
    expect(review.request().items[0]!.attributes).toMatchObject({ alias: 'ipxe', access: 'public' });
    expect(calls.length).toBeGreaterThan(0);
  });

  it('shows who signed a checksum list, and offers to accept a list signed by a key not trusted here', async () => {
    const fpr = '4D64FEC119C2029067D6E791F8D2585B8783D481';
    const good = { status: 'good' as const, signer: 'Release Signer <release@example.org>', fingerprint: fpr, signed_at: '2026-12-01T10:00:00Z', signature_file: null };
    const unknown = { status: 'unknown_key' as const, signer: null, fingerprint: 'B'.repeat(40), signed_at: '2026-12-01T10:00:00Z', signature_file: 'SHA256SUMS.gpg' };
    mockCommands({
      plan_import: () => ({
        items: [
          planItem({ os: 'linux', signature: good, expected: { algo: 'sha256', hex: 'd'.repeat(64), source: 'CHECKSUM', from: 'checksum_file', line: 4, signature: good } }),
          planItem({ path: '/d/b.iso', file_name: 'b.iso', os: 'linux', signature: unknown, refused: ipcError('unknown_key', 'SHA256SUMS is signed by a key that is not trusted here') }),
        ],
        checksum_files: [
          { path: '/d/CHECKSUM', file_name: 'CHECKSUM', format: 'gnu', entries: 1, matched: ['ipxe.iso'], signature_path: null, signature: good, error: null },
          { path: '/d/SHA256SUMS', file_name: 'SHA256SUMS', format: 'gnu', entries: 1, matched: ['b.iso'], signature_path: '/d/SHA256SUMS.gpg', signature: unknown, error: null },
        ],
      }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/ipxe.iso', '/d/b.iso', '/d/CHECKSUM', '/d/SHA256SUMS', '/d/SHA256SUMS.gpg']);
    const user = userEvent.setup();
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    const [signed, untrusted] = await screen.findAllByTestId('checksum-signature');
    expect(signed).toHaveTextContent('Signed by Release Signer <release@example.org>');
    expect(signed).toHaveTextContent('4D64 FEC1 19C2 0290 67D6 E791 F8D2 585B 8783 D481');
    expect(untrusted).toHaveTextContent('Signed by a key not trusted here');
    expect(screen.getAllByTestId('checksum-file')[1]).toHaveTextContent('SHA256SUMS with SHA256SUMS.gpg');
    expect(screen.getByTestId('expected-signature')).toHaveTextContent('Signed by Release Signer');
    expect(screen.getByTestId('start-import')).toHaveTextContent('Import 1 file');

    await user.click(within(screen.getByTestId('accept-unverified')).getByRole('checkbox'));
    expect(screen.getByTestId('start-import')).toHaveTextContent('Import 2 files');
  });
});
