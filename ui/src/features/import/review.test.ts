import { describe, expect, it } from 'vitest';
import { artifact, ipcError, mockCommands, planItem } from '../../test/fixtures';
import { ImportReview } from './review.svelte';

const sha = 'c'.repeat(64);

function planWith(items = [planItem()], freeBytes: number | null = 1 << 40) {
  return mockCommands({
    plan_import: () => ({
      items,
      checksum_files: [{ path: '/data/SHA256SUMS', file_name: 'SHA256SUMS', format: 'gnu', entries: 1, matched: ['ipxe.iso'], error: null }],
      free_bytes: freeBytes,
    }),
    list_artifacts: () => [artifact(1, { name: 'debian-12.iso' })],
    parse_expected: (a) => {
      const t = String(a.text);
      if (t.length !== 64 && !t.includes(':')) throw ipcError('invalid_checksum', 'Not a checksum');
      return { algo: 'sha256', hex: t.split(':').at(-1), source: 'entered' };
    },
  });
}

describe('ImportReview', () => {
  it('warns when the files do not fit on the repository disk, without blocking the import', async () => {
    const linux = { os: 'linux' as const, os_required: false };
    planWith([planItem({ size: 3 * 1024 ** 3, ...linux }), planItem({ path: '/data/b.iso', file_name: 'b.iso', size: 2 * 1024 ** 3, ...linux })], 4 * 1024 ** 3);
    const r = new ImportReview();
    await r.add(['/data/ipxe.iso', '/data/b.iso']);
    expect(r.spaceWarning).toMatch(/need 5(\.0)? GiB.*4(\.0)? GiB free/);
    expect(r.blocking).toBeNull();
    r.rows[1]!.include = false;
    expect(r.spaceWarning).toBeNull();
  });

  it('plans every dropped path (checksum files included) and labels a prefilled checksum with its source', async () => {
    const calls = planWith([planItem({ os: 'linux', os_required: true, expected: { algo: 'sha256', hex: sha, source: 'SHA256SUMS', from: 'checksum_file', line: 1 } })]);
    const r = new ImportReview();
    await r.add(['/data/ipxe.iso', '/data/SHA256SUMS']);
    expect(calls.find((c) => c.cmd === 'plan_import')!.args.request).toEqual({ paths: ['/data/ipxe.iso', '/data/SHA256SUMS'], checksum_files: [] });
    expect(r.open).toBe(true);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]!.expectedLabel).toBe('SHA-256 from SHA256SUMS');
    expect(r.checksumFiles[0]!.file_name).toBe('SHA256SUMS');
    expect(r.images.map((a) => a.name)).toEqual(['debian-12.iso']);
    expect(r.blocking).toBeNull();
  });

  it('blocks the import until a required OS is chosen', async () => {
    planWith([planItem({ os: null, os_required: true })]);
    const r = new ImportReview();
    await r.add(['/data/ipxe.iso']);
    expect(r.blocking).toMatch(/OS/);
    r.rows[0]!.os = 'windows';
    expect(r.blocking).toBeNull();
    expect(r.request().items[0]).toMatchObject({ path: '/data/ipxe.iso', os: 'windows', kind: 'os', expected: null, name: null });
  });

  it('refused files are flagged, left out, and never sent', async () => {
    planWith([planItem(), planItem({ path: '/data/x.exe', file_name: 'x.exe', kind: null, refused: ipcError('unsupported_type', 'x.exe is not importable') })]);
    const r = new ImportReview();
    await r.add(['/data/ipxe.iso', '/data/x.exe']);
    const refused = r.rows.find((x) => x.plan.file_name === 'x.exe')!;
    expect(refused.refused).toBe(true);
    expect(refused.include).toBe(false);
    r.rows[0]!.os = 'linux';
    expect(r.request().items.map((i) => i.path)).toEqual(['/data/ipxe.iso']);
    expect(r.request().checksum_files).toEqual(['/data/SHA256SUMS']);
  });

  it('reads a pasted checksum and shows its algorithm, and flags one it cannot read', async () => {
    planWith([planItem({ os: 'linux' })]);
    const r = new ImportReview();
    await r.add(['/data/ipxe.iso']);
    const row = r.rows[0]!;
    await r.setExpected(row, `sha256:${sha}`);
    expect(row.expected).toEqual({ algo: 'sha256', hex: sha, source: 'entered' });
    expect(row.expectedLabel).toBe('SHA-256, entered by hand');
    await r.setExpected(row, 'nonsense');
    expect(row.expected).toBeNull();
    expect(row.expectedError?.code).toBe('invalid_checksum');
    expect(r.blocking).toMatch(/checksum/);
    await r.setExpected(row, '');
    expect(row.expectedError).toBeNull();
    expect(r.blocking).toBeNull();
  });

  it('adding more files keeps the choices already made', async () => {
    const first = planItem({ os: null });
    mockCommands({ plan_import: () => ({ items: [first], checksum_files: [] }), list_artifacts: () => [] });
    const r = new ImportReview();
    await r.add(['/data/ipxe.iso']);
    r.rows[0]!.os = 'vmware';
    r.rows[0]!.name = 'esxi boot';
    mockCommands({ plan_import: () => ({ items: [first, planItem({ path: '/data/b.iso', file_name: 'b.iso' })], checksum_files: [] }), list_artifacts: () => [] });
    await r.add(['/data/b.iso']);
    expect(r.rows).toHaveLength(2);
    expect(r.rows[0]!.os).toBe('vmware');
    expect(r.request().items[0]!.name).toBe('esxi boot');
  });

  it('sends exported profiles to the profile import, the rest to the artifact import, and remembers the target profile', async () => {
    planWith([
      planItem({ os: 'linux' }),
      planItem({ path: '/data/web.tar.gz', file_name: 'web.tar.gz', kind: 'os_profile', allowed_kinds: ['os_profile'], os_required: false }),
    ]);
    const r = new ImportReview();
    await r.add(['/data/ipxe.iso', '/data/web.tar.gz'], { id: 3, name: 'rhel9-web' });
    expect(r.target).toEqual({ id: 3, name: 'rhel9-web' });
    expect(r.profileArchives).toEqual(['/data/web.tar.gz']);
    expect(r.request().items.map((i) => i.path)).toEqual(['/data/ipxe.iso']);
    r.close();
    expect(r.target).toBeNull();
  });

  it('offers a kind or OS chosen on one row to the others, and applies it only where the file allows it', async () => {
    planWith([
      planItem({ path: '/d/a.iso', file_name: 'a.iso', os: null }),
      planItem({ path: '/d/b.iso', file_name: 'b.iso', os: null }),
      planItem({ path: '/d/esxi.iso', file_name: 'esxi.iso', os: null, allowed_os: ['vmware'] }),
      planItem({ path: '/d/x.exe', file_name: 'x.exe', kind: null, refused: ipcError('unsupported_type') }),
    ]);
    const r = new ImportReview();
    await r.add(['/d/a.iso', '/d/b.iso', '/d/esxi.iso', '/d/x.exe']);
    const [a, b, , exe] = r.rows;
    r.choose(a!, 'os', 'windows');
    expect(a!.os).toBe('windows');
    expect(r.offer).toEqual({ field: 'os', path: '/d/a.iso' });
    expect(r.othersFor(a!, 'os')).toEqual([b]);
    expect(r.applyToAll(a!, 'os')).toEqual({ changed: 1, skipped: ['esxi.iso'] });
    expect(r.rows.map((x) => x.os)).toEqual(['windows', 'windows', '', '']);
    expect(r.applied?.text).toBe('Set Windows on 1 more file; esxi.iso cannot be Windows.');
    expect(r.offer).toBeNull();
    expect(exe!.os).toBe('');

    r.choose(b!, 'kind', 'driver');
    expect(r.offer).toEqual({ field: 'kind', path: '/d/b.iso' });
    r.applyToAll(b!, 'kind');
    expect(r.request().items.map((i) => i.kind)).toEqual(['driver', 'driver', 'driver']);
    r.close();
    expect(r.applied).toBeNull();
  });

  it('offers nothing when no other row could take the value', async () => {
    planWith([planItem({ path: '/d/a.iso', file_name: 'a.iso', os: null }), planItem({ path: '/d/b.iso', file_name: 'b.iso', os: 'linux', allowed_os: ['linux'] })]);
    const r = new ImportReview();
    await r.add(['/d/a.iso', '/d/b.iso']);
    r.choose(r.rows[0]!, 'os', 'windows');
    expect(r.offer).toBeNull();
  });
});

describe('ImportReview attributes', () => {
  it('sends each file its attributes, gives all files one file\'s (but its alias), and refuses one alias for two files', async () => {
    mockCommands({
      plan_import: () => ({ items: [planItem({ path: '/d/a.iso', file_name: 'a.iso', os: 'linux' }), planItem({ path: '/d/b.iso', file_name: 'b.iso', os: 'linux' })], checksum_files: [], free_bytes: null }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/a.iso', '/d/b.iso']);
    const [a, b] = review.rows;
    a!.attrs.alias = 'alpha';
    a!.attrs.access = 'public';
    a!.attrs.owner = 'ops';
    expect(review.applyAttributes(a!)).toBe(1);
    expect(review.applied?.text).toContain('all but its alias');
    expect([b!.attrs.alias, b!.attrs.access, b!.attrs.owner]).toEqual(['', 'public', 'ops']);
    const items = review.request().items;
    expect(items[0]!.attributes).toMatchObject({ alias: 'alpha', access: 'public', owner: 'ops' });
    expect(items[1]!.attributes).toMatchObject({ alias: null, access: 'public', owner: 'ops' });
    b!.attrs.alias = 'Alpha';
    expect(review.blocking).toContain('alpha is given to several');
    // re-planning (Add files…) keeps what was set on the rows already there
    await review.add(['/d/a.iso', '/d/b.iso']);
    expect(review.rows[0]!.attrs.alias).toBe('alpha');
  });

  it('lets the admin import, for this batch, files whose checksum list is signed by a key not trusted here', async () => {
    const signedBy = (status: 'good' | 'unknown_key') => ({
      status, signer: status === 'good' ? 'Release Signer <release@example.org>' : null, fingerprint: 'A'.repeat(40), signed_at: '2026-12-01T10:00:00Z', signature_file: 'SHA256SUMS.gpg',
    });
    const calls = mockCommands({
      plan_import: () => ({
        items: [
          planItem({ os: 'linux', os_required: false, signature: signedBy('unknown_key'), refused: ipcError('unknown_key', 'SHA256SUMS is signed by a key that is not trusted here') }),
          planItem({ path: '/data/b.iso', file_name: 'b.iso', os: 'linux', os_required: false, refused: ipcError('bad_signature', 'does not verify') }),
          // A vendor bundle's own signature by a key not trusted here is never accepted for the batch.
          planItem({ path: '/data/v.zip', file_name: 'v.zip', kind: 'bundle', os: 'windows', refused: ipcError('unknown_key', 'v.zip.asc is signed by a key that is not trusted here') }),
        ],
        checksum_files: [{ path: '/data/SHA256SUMS', file_name: 'SHA256SUMS', format: 'gnu', entries: 2, matched: ['ipxe.iso'], signature_path: '/data/SHA256SUMS.gpg', signature: signedBy('unknown_key'), error: null }],
        free_bytes: null,
      }),
      list_artifacts: () => [],
      start_import: () => 1,
    });
    const r = new ImportReview();
    await r.add(['/data/ipxe.iso', '/data/b.iso', '/data/v.zip', '/data/SHA256SUMS', '/data/SHA256SUMS.gpg']);
    expect(r.unverified.map((row) => row.plan.file_name)).toEqual(['ipxe.iso']);
    expect(r.importable).toHaveLength(0);
    expect(r.blocking).toMatch(/Nothing to import/);

    r.setAcceptUnverified(true);
    expect(r.importable.map((row) => row.plan.file_name)).toEqual(['ipxe.iso']);
    // A bad signature is never accepted, nor a bundle's untrusted one.
    expect(r.rows[1]!.refused).toBe(true);
    expect(r.rows[2]!.refused).toBe(true);
    expect(r.rows[2]!.bundleSignature).toBeNull();
    const req = r.request();
    expect(req.accept_unverified_signatures).toBe(true);
    expect(req.checksum_files).toEqual(['/data/SHA256SUMS', '/data/SHA256SUMS.gpg']);

    r.setAcceptUnverified(false);
    expect(r.importable).toHaveLength(0);
    expect(calls.filter((c) => c.cmd === 'start_import')).toHaveLength(0);
  });

  it('names a bundle signer as it will be checked while the zip is imported', async () => {
    const good = { status: 'good' as const, signer: 'Example Networks <sign@example.org>', fingerprint: 'C'.repeat(40), signed_at: null, signature_file: 'v.zip.asc' };
    mockCommands({
      plan_import: () => ({
        items: [planItem({ path: '/data/v.zip', file_name: 'v.zip', kind: 'bundle', os: 'windows', os_required: false, signature: good })],
        checksum_files: [],
        free_bytes: null,
      }),
      list_artifacts: () => [],
    });
    const r = new ImportReview();
    await r.add(['/data/v.zip', '/data/v.zip.asc']);
    expect(r.rows[0]!.bundleSignature).toBe('Signed by Example Networks <sign@example.org> (v.zip.asc, checked over the zip as it is imported)');
  });
});
