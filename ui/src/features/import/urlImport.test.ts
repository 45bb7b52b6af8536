import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import App from '../../App.svelte';
import { ipcError } from '../../test/fixtures';
import UrlImportDialog from './UrlImportDialog.svelte';
import { isChecksumName, isChecksumSignatureName, isHttpUrl, looksLikeUrl, splitUrls, UrlImport, urlFileName } from './urlImport.svelte';

describe('Import from URL: the links', () => {
  it('takes one link per line, each once, and tells http(s) links from anything else', () => {
    expect(splitUrls(' https://a.example/x.iso \n\n# a note\nhttps://a.example/SHA256SUMS\nhttps://a.example/x.iso')).toEqual(['https://a.example/x.iso', 'https://a.example/SHA256SUMS']);
    expect(['http://h/x', 'HTTPS://h/x'].map(isHttpUrl)).toEqual([true, true]);
    expect(['ftp://h/x', 'file:///etc/passwd', '/tmp/x.iso', 'javascript:alert(1)', 'http://'].map(isHttpUrl)).toEqual([false, false, false, false, false]);
    expect(looksLikeUrl('https://h/x.iso')).toBe(true);
    expect(looksLikeUrl('/home/a/https.iso')).toBe(false);
    expect(urlFileName('https://h/isos/Rocky%209.iso?x=1')).toBe('Rocky 9.iso');
  });

  it('recognises checksum files by name as the engine does', () => {
    for (const n of ['SHA256SUMS', 'sha256sums.txt', 'CHECKSUM', 'MD5SUMS', 'x.iso.sha256', 'x.iso.md5sum', 'x.iso.sha512']) expect(isChecksumName(n), n).toBe(true);
    for (const n of ['x.iso', 'checksum.sh', 'SHA256SUMS.gpg', 'rocky.qcow2']) expect(isChecksumName(n), n).toBe(false);
  });

  it('tells a checksum list signature from a file to import, and sends the batch acceptance of an untrusted signer', () => {
    for (const n of ['SHA256SUMS.gpg', 'SHA512SUMS.sign', 'CHECKSUM.asc', 'x.iso.sha256.sig']) expect(isChecksumSignatureName(n), n).toBe(true);
    for (const n of ['x.iso.asc', 'bundle.zip.asc', 'SHA256SUMS', 'key.gpg']) expect(isChecksumSignatureName(n), n).toBe(false);
    const d = new UrlImport();
    d.text = 'https://cloud-images.ubuntu.com/noble/current/SHA256SUMS\nhttps://cloud-images.ubuntu.com/noble/current/SHA256SUMS.gpg\nhttps://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img';
    expect(d.lines.map((l) => l.role)).toEqual(['checksum', 'signature', 'file']);
    expect(d.files).toHaveLength(1);
    expect(d.request().accept_unverified_signatures).toBe(false);
    d.acceptUnverified = true;
    expect(d.request().accept_unverified_signatures).toBe(true);
  });

  it('blocks what the shell would refuse: no links, a non-http link, a checksum or an alias for several files', () => {
    const d = new UrlImport();
    expect(d.blocking).toMatch(/Paste one or more/);
    d.text = 'ftp://h/x.iso';
    expect(d.blocking).toMatch(/Only http and https/);
    d.text = 'https://h/SHA256SUMS';
    expect(d.blocking).toMatch(/Only checksum files/);
    d.text = 'https://h/a.iso\nhttps://h/b.iso\nhttps://h/SHA256SUMS';
    expect(d.blocking).toBeNull();
    expect(d.files.map((f) => f.name)).toEqual(['a.iso', 'b.iso']);
    d.checksum = 'sha256:' + 'a'.repeat(64);
    expect(d.blocking).toMatch(/A checksum is for one file/);
    d.checksum = '';
    d.attrs.alias = 'a';
    expect(d.blocking).toMatch(/An alias names one file/);
    d.text = 'https://h/a.iso';
    expect(d.blocking).toBeNull();
    expect(d.request()).toMatchObject({ urls: ['https://h/a.iso'], checksum: null, attributes: { alias: 'a', access: 'private' } });
  });

  it('adds dropped links to what is already pasted, and starts fresh once closed', () => {
    const d = new UrlImport();
    d.show(['https://h/a.iso']);
    d.show(['https://h/a.iso', 'https://h/b.iso']);
    expect(d.text).toBe('https://h/a.iso\nhttps://h/b.iso');
    d.close();
    d.show();
    expect(d.text).toBe('');
  });

  it('keeps the dialog open with the refusal when the shell refuses', async () => {
    const d = new UrlImport();
    d.show(['https://h/a.iso']);
    expect(await d.submit(async () => { throw ipcError('download_failed', 'The server answered 404.'); })).toBeNull();
    expect(d.open).toBe(true);
    expect(d.error?.code).toBe('download_failed');
    expect(await d.submit(async () => 7)).toBe(7);
    expect(d.open).toBe(false);
  });
});

describe('Import from URL dialog', () => {
  it('labels each link, and Import sends the links, the checksum and the attributes', async () => {
    const d = new UrlImport();
    d.show();
    const started: unknown[] = [];
    const user = userEvent.setup();
    render(UrlImportDialog, { dialog: d, onstart: () => void d.submit(async (r) => { started.push(r); return 1; }) });
    const input = screen.getByTestId('url-input');
    expect(input).toHaveFocus();
    await user.type(input, 'https://mirror.example/rocky.iso{Enter}https://mirror.example/CHECKSUM{Enter}ftp://x/y.iso');
    const lines = screen.getAllByTestId('url-line');
    expect(lines.map((l) => l.dataset.role)).toEqual(['file', 'checksum', 'invalid']);
    expect(screen.getByTestId('start-url-import')).toBeDisabled();
    expect(screen.getByTestId('url-hint')).toHaveTextContent('Only http and https links');
    await user.clear(input);
    await user.type(input, 'https://mirror.example/rocky.iso{Enter}https://mirror.example/CHECKSUM');
    await user.type(screen.getByTestId('url-attr-alias'), 'rocky9');
    await user.selectOptions(screen.getByTestId('url-attr-access'), 'public');
    await user.click(screen.getByTestId('url-attr-deploy'));
    expect(screen.getByTestId('start-url-import')).toHaveTextContent('Import 1 file');
    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(started).toEqual([{ urls: ['https://mirror.example/rocky.iso', 'https://mirror.example/CHECKSUM'], checksum: null,
      attributes: expect.objectContaining({ alias: 'rocky9', access: 'public', deploy: true }), accept_unverified_signatures: false }]);
  });
});

describe('Import from URL in the shell', () => {
  function app(opened: string[] = []) {
    clearMocks();
    const calls: Array<{ cmd: string; args: Record<string, unknown> }> = [];
    mockWindows('main');
    mockIPC((cmd, payload) => {
      calls.push({ cmd, args: (payload ?? {}) as Record<string, unknown> });
      if (cmd === 'opened_files') return opened;
      if (cmd === 'start_url_import') return 5;
      if (cmd.startsWith('count_')) return 0;
      if (cmd.startsWith('list_')) return [];
      if (cmd.startsWith('plugin:event|')) return 1;
      throw { code: 'internal', text: `not in this test: ${cmd}`, explanation: '', recovery: '' };
    }, { shouldMockEvents: true });
    render(App);
    return calls;
  }

  it('Ctrl+L opens it; Import starts the download job and the jobs panel shows it', async () => {
    const calls = app();
    const user = userEvent.setup();
    await user.keyboard('{Control>}l{/Control}');
    const dialog = await screen.findByTestId('url-import');
    await user.type(within(dialog).getByTestId('url-input'), 'https://h/debian.iso');
    await user.click(screen.getByTestId('start-url-import'));
    await vi.waitFor(() => expect(calls.some((c) => c.cmd === 'start_url_import')).toBe(true));
    expect(calls.find((c) => c.cmd === 'start_url_import')!.args.request).toMatchObject({ urls: ['https://h/debian.iso'] });
    await vi.waitFor(() => expect(screen.queryByTestId('url-import')).toBeNull());
  });

  it('links that arrive with files (a browser drop, Open with) go to it, not to the file review', async () => {
    const calls = app(['https://h/debian.iso']);
    const dialog = await screen.findByTestId('url-import');
    expect(within(dialog).getByTestId('url-input')).toHaveValue('https://h/debian.iso');
    expect(calls.some((c) => c.cmd === 'plan_import' || c.cmd === 'path_kinds')).toBe(false);
  });
});
