import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import App from '../../App.svelte';
import HelpOverlay from './HelpOverlay.svelte';

/** The shell with an empty repository: every list empty, every count 0. */
function emptyApp() {
  clearMocks();
  const calls: string[] = [];
  mockWindows('main'); // the shell listens for file drags on its window
  mockIPC((cmd) => {
    calls.push(cmd);
    if (cmd.startsWith('count_')) return 0;
    if (cmd.startsWith('list_') || cmd === 'choose_files' || cmd === 'opened_files') return [];
    if (cmd.startsWith('plugin:event|')) return 1;
    throw { code: 'internal', text: `not in this test: ${cmd}`, explanation: '', recovery: '' };
  }, { shouldMockEvents: true });
  render(App);
  return calls;
}

describe('Help overlay', () => {
  it('lists every shortcut the app has', () => {
    render(HelpOverlay, { open: true, onclose: () => {} });
    const help = screen.getByTestId('help');
    for (const keys of ['F1', 'Ctrl+O', 'Ctrl+L', 'Ctrl+Enter', 'Ctrl+F', 'Ctrl+Q', 'Ctrl+A', 'Delete', 'Escape', 'Shift+click', 'Home', 'End', 'Shift+F10', 'Ctrl+Z']) {
      expect(within(help).getAllByText(keys, { selector: 'kbd' }).length).toBeGreaterThan(0);
    }
  });
});

describe('App-wide keys and menus', () => {
  it('F1 opens the shortcuts, Escape closes them and the keyboard goes back where it was', async () => {
    emptyApp();
    const user = userEvent.setup();
    const jobs = screen.getByTestId('toggle-jobs');
    jobs.focus();
    await user.keyboard('{F1}');
    expect(await screen.findByRole('dialog', { name: 'Keyboard shortcuts' })).toBeInTheDocument();
    const dialog = screen.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await fireEvent(dialog, new Event('cancel', { cancelable: true })); // what Escape does to a modal <dialog>
    expect(screen.queryByRole('dialog', { name: 'Keyboard shortcuts' })).toBeNull();
    await vi.waitFor(() => expect(jobs).toHaveFocus());
  });

  it('Ctrl+O opens the add-files dialog, as the Add files button does', async () => {
    const calls = emptyApp();
    const user = userEvent.setup();
    await user.keyboard('{Control>}o{/Control}');
    await vi.waitFor(() => expect(calls).toContain('choose_files'));
  });

  it('keeps the webview menu (Back, Reload, Inspect) away, but not from text fields', async () => {
    emptyApp();
    const onNav = new MouseEvent('contextmenu', { bubbles: true, cancelable: true });
    screen.getByTestId('nav-library').dispatchEvent(onNav);
    expect(onNav.defaultPrevented).toBe(true);
    const inField = new MouseEvent('contextmenu', { bubbles: true, cancelable: true });
    (await screen.findByTestId('library-search')).dispatchEvent(inField); // cut, copy, paste
    expect(inField.defaultPrevented).toBe(false);
  });
});
