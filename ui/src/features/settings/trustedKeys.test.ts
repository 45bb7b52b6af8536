import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { KeyInfo } from '$lib/ipc/client';
import { ipcError, mockCommands } from '../../test/fixtures';
import TrustedKeysView from './TrustedKeys.svelte';
import { groupedFingerprint, TrustedKeys } from './trustedKeys.svelte';

const FPR = '4D64FEC119C2029067D6E791F8D2585B8783D481';
const key = (over: Partial<KeyInfo> = {}): KeyInfo => ({
  fingerprint: FPR, user_ids: ['Debian Stable Release Key (12/bookworm) <debian-release@lists.debian.org>'], algorithm: 'EdDSALegacy', subkeys: 0,
  created_at: '2023-01-21T21:16:14.000Z', expires_at: '2031-01-19T21:16:14.000Z', expired: false, added_at: null, ...over,
});

describe('TrustedKeys', () => {
  it('groups a fingerprint as gpg prints it', () => {
    expect(groupedFingerprint(FPR)).toBe('4D64 FEC1 19C2 0290 67D6  E791 F8D2 585B 8783 D481');
  });

  it('shows a pasted key before trusting it, trusts it through the shell with the fingerprint shown, and removes it', async () => {
    let trusted: KeyInfo[] = [];
    const calls = mockCommands({
      list_trusted_keys: () => trusted,
      inspect_key: () => key(),
      trust_key: () => { trusted = [key({ added_at: '2026-12-03T10:00:00.000Z' })]; return trusted[0]; },
      remove_trusted_key: () => { const k = trusted[0]; trusted = []; return k; },
    });
    const keys = new TrustedKeys();
    const user = userEvent.setup();
    render(TrustedKeysView, { keys });
    expect(await screen.findByTestId('no-keys')).toBeInTheDocument();

    await user.click(screen.getByTestId('paste-key'));
    await user.type(screen.getByTestId('pasted-key'), '-----BEGIN PGP PUBLIC KEY BLOCK-----');
    await user.click(screen.getByTestId('show-pasted-key'));
    const preview = await screen.findByTestId('key-preview');
    expect(within(preview).getByTestId('preview-fingerprint')).toHaveTextContent('4D64 FEC1 19C2 0290 67D6 E791 F8D2 585B 8783 D481');
    expect(preview).toHaveTextContent('Debian Stable Release Key (12/bookworm)');
    expect(calls.find((c) => c.cmd === 'inspect_key')!.args).toEqual({ source: { type: 'text', text: '-----BEGIN PGP PUBLIC KEY BLOCK-----' } });

    await user.click(screen.getByTestId('trust-key'));
    expect(calls.find((c) => c.cmd === 'trust_key')!.args).toEqual({ source: { type: 'text', text: '-----BEGIN PGP PUBLIC KEY BLOCK-----' }, fingerprint: FPR });
    const row = await screen.findByTestId('trusted-key');
    expect(row.dataset.fingerprint).toBe(FPR);
    expect(screen.queryByTestId('key-preview')).toBeNull();

    await user.click(within(row).getByTestId('remove-key'));
    await user.click(screen.getByTestId('confirm-remove-key'));
    expect(calls.find((c) => c.cmd === 'remove_trusted_key')!.args).toEqual({ fingerprint: FPR });
    expect(await screen.findByTestId('no-keys')).toBeInTheDocument();
  });

  it('keeps the key shown when the confirmation is declined, and says why a text is no key', async () => {
    mockCommands({
      list_trusted_keys: () => [],
      inspect_key: (args) => {
        const source = args.source as { text: string };
        if (source.text === 'nonsense') throw ipcError('invalid_content', 'This is not an OpenPGP public key: no armor header.');
        return key({ expired: true });
      },
      trust_key: () => { throw ipcError('cancelled', `The key ${FPR} was not trusted.`); },
    });
    const keys = new TrustedKeys();
    expect(await keys.fromText('nonsense')).toBe(false);
    expect(keys.previewError?.code).toBe('invalid_content');
    expect(await keys.fromText('armored')).toBe(true);
    expect(keys.preview?.key.expired).toBe(true);
    expect(await keys.trust()).toBe(false);
    expect(keys.preview?.key.fingerprint).toBe(FPR);
    expect(keys.previewError).toBeNull();
  });
});
