import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { ipcError, mockCommands } from '../../test/fixtures';
import TeamUnlock, { SECRETS_NOT_KEPT } from './TeamUnlock.svelte';

describe('TeamUnlock', () => {
  it('asks for the secrets the keyring did not give, says a wrong one in the dialog, then opens the team repository', async () => {
    let wrong = true;
    const calls = mockCommands({
      open_team_here: () => {
        if (wrong) throw ipcError('catalog_failed', 'password authentication failed for user "alice"');
        return null;
      },
    });
    const onopened = vi.fn();
    const user = userEvent.setup();
    render(TeamUnlock, { name: 'lab', onopened });
    await user.click(screen.getByTestId('team-unlock'));
    await user.type(screen.getByTestId('unlock-catalog-password'), 'nope');
    await user.click(screen.getByTestId('team-unlock-open'));
    expect(await screen.findByTestId('team-unlock-error')).toHaveTextContent('password authentication failed');
    expect(onopened).not.toHaveBeenCalled();

    wrong = false;
    await user.clear(screen.getByTestId('unlock-catalog-password'));
    await user.type(screen.getByTestId('unlock-catalog-password'), 'right');
    await user.type(screen.getByTestId('unlock-secret-key'), 'key');
    await user.click(screen.getByTestId('team-unlock-open'));
    await vi.waitFor(() => expect(onopened).toHaveBeenCalledOnce());
    expect(calls.filter((c) => c.cmd === 'open_team_here').at(-1)!.args).toEqual({ name: 'lab', catalogPassword: 'right', secretKey: 'key' });
    expect(sessionStorage.getItem(SECRETS_NOT_KEPT)).toBeNull();
  });

  it('leaves why the keyring did not keep them for the reloaded window', async () => {
    mockCommands({ open_team_here: () => ({ code: 'secret_store_failed', text: 'No OS keyring is running.', explanation: '', recovery: 'Start one.', details: null }) });
    const onopened = vi.fn();
    const user = userEvent.setup();
    render(TeamUnlock, { name: 'lab', onopened });
    await user.click(screen.getByTestId('team-unlock'));
    await user.click(screen.getByTestId('team-unlock-open'));
    await vi.waitFor(() => expect(onopened).toHaveBeenCalledOnce());
    expect(sessionStorage.getItem(SECRETS_NOT_KEPT)).toBe('No OS keyring is running. Start one.');
    sessionStorage.removeItem(SECRETS_NOT_KEPT);
  });
});
