// "Open with Imagesmith": the files the app was started with go into the import review when the window opens.
import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import App from '../../App.svelte';
import { planItem } from '../../test/fixtures';

/** The shell on an empty repository, started with `opened` on its command line. */
function appOpenedWith(opened: string[]) {
  clearMocks();
  const calls: Array<{ cmd: string; args: Record<string, unknown> }> = [];
  mockWindows('main');
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    if (cmd === 'opened_files') return opened;
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
    expect(screen.getByTestId('start-import')).toHaveTextContent('Import 2 files');
  });

  it('opens no review when it was started without files', async () => {
    const calls = appOpenedWith([]);
    await vi.waitFor(() => expect(calls.map((c) => c.cmd)).toContain('opened_files'));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.map((c) => c.cmd)).not.toContain('plan_import');
    expect(screen.queryByTestId('review-row')).toBeNull();
  });
});
