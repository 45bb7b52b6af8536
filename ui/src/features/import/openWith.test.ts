// "Open with Imagesmith": the files the app was started with are reviewed when the window opens —
// files in the import review, one folder alone in the capture review (which offers the import).
import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import App from '../../App.svelte';
import { planItem } from '../../test/fixtures';

/** The shell on an empty repository, started with `opened` on its command line (`folders`: which of them are folders). */
function appOpenedWith(opened: string[], folders: string[] = []) {
  clearMocks();
  const calls: Array<{ cmd: string; args: Record<string, unknown> }> = [];
  mockWindows('main');
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    if (cmd === 'opened_files') return opened;
    if (cmd === 'path_kinds') return (args.paths as string[]).map((p) => (folders.includes(p) ? 'folder' : 'file'));
    if (cmd === 'plan_capture') return { from: args.from, files: 3, dirs: 1, symlinks: 0, size: 300 };
    if (cmd === 'plan_import') {
      const paths = (args.request as { paths: string[] }).paths;
      return { items: paths.map((path) => planItem({ path, file_name: path.split('/').pop()!, os: 'linux' })), checksum_files: [], free_bytes: null };
    }
    if (cmd.startsWith('count_')) return 0;
    if (cmd.startsWith('list_')) return [];
    if (cmd.startsWith('plugin:event|')) return 1;
    throw { code: 'internal', text: `not in this test: ${cmd}`, explanation: '', recovery: '' };
  }, { shouldMockEvents: true });
  render(App);
  return calls;
}

describe('Open with Imagesmith', () => {
  it('opens the import review with the files the app was started with', async () => {
    const calls = appOpenedWith(['/home/admin/debian-12.iso', '/home/admin/web.qcow2']);
    const review = await screen.findByTestId('import-review');
    await vi.waitFor(() => expect(within(review).getAllByTestId('review-row')).toHaveLength(2));
    expect(within(review).getAllByTestId('review-row').map((r) => r.dataset.file)).toEqual(['debian-12.iso', 'web.qcow2']);
    const plans = calls.filter((c) => c.cmd === 'plan_import');
    expect(plans.map((c) => (c.args.request as { paths: string[] }).paths)).toEqual([['/home/admin/debian-12.iso', '/home/admin/web.qcow2']]);
    expect(calls.filter((c) => c.cmd === 'opened_files')).toHaveLength(1);
    expect(calls.map((c) => c.cmd)).not.toContain('path_kinds');
    expect(screen.getByTestId('start-import')).toHaveTextContent('Import 2 files');
  });

  it('opens no review when it was started without files', async () => {
    const calls = appOpenedWith([]);
    await vi.waitFor(() => expect(calls.map((c) => c.cmd)).toContain('opened_files'));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.map((c) => c.cmd)).not.toContain('plan_import');
    expect(screen.queryByTestId('review-row')).toBeNull();
  });

  it('opens the capture review for one folder alone, offering to import the files inside instead', async () => {
    const calls = appOpenedWith(['/home/admin/app-1.0'], ['/home/admin/app-1.0']);
    const capture = await screen.findByTestId('capture-review');
    expect(within(capture).getByTestId('capture-folder')).toHaveTextContent('/home/admin/app-1.0');
    expect(await within(capture).findByTestId('capture-counts')).toHaveTextContent('3 files');
    expect(screen.getByTestId('capture-name')).toHaveValue('app-1.0');
    expect(calls.map((c) => c.cmd)).not.toContain('plan_import');
    const user = userEvent.setup();
    await user.click(within(capture).getByRole('button', { name: 'Import the files inside instead' }));
    expect(screen.queryByTestId('capture-review')).toBeNull();
    const review = await screen.findByTestId('import-review');
    await vi.waitFor(() => expect(calls.filter((c) => c.cmd === 'plan_import')).toHaveLength(1));
    expect((calls.find((c) => c.cmd === 'plan_import')!.args.request as { paths: string[] }).paths).toEqual(['/home/admin/app-1.0']);
    expect(review).toBeInTheDocument();
  });

  it('keeps the import review for one file (several items are not even asked about, see above)', async () => {
    const calls = appOpenedWith(['/home/admin/debian-12.iso']);
    await screen.findByTestId('import-review');
    expect(calls.find((c) => c.cmd === 'path_kinds')!.args).toEqual({ paths: ['/home/admin/debian-12.iso'] });
    expect(screen.queryByTestId('capture-review')).toBeNull();
  });
});
