import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { KeyInfo } from '$lib/ipc/client';
import { ipcError, mockCommands } from '../../test/fixtures';
import TrustedKeysView from './TrustedKeys.svelte';
import { groupedFingerprint, TrustedKeys } from './trustedKeys.svelte';

const FPR = '4D64FEC119C2029067D6E791F8D2585B8783D481';
const key = (over: Partial<KeyInfo> = {}): KeyInfo => ({
  fingerprint: FPR, user_ids: ['Debian Stable Release Key (12/bookworm) <debian-release@lists.debian.org>'], algorithm: 'EdDSALegacy', subkeys: 0,
  created_at: '2023-01-21T21:16:14.000Z', expires_at: '2031-01-19T21:16:14.000Z', expired: false, revoked: false, added_at: null, added_by: null, ...over,
});

describe('TrustedKeys', () => {
  it('groups a fingerprint as gpg prints it', () => {
    expect(groupedFingerprint(FPR)).toBe('4D64 FEC1 19C2 0290 67D6  E791 F8D2 585B 8783 D481');
  });

  it('shows a pasted key before trusting it, trusts it through the shell with the fingerprint shown, and removes it', async () => {
    let trusted: KeyInfo[] = [];
    const calls = mockCommands({
      list_trusted_keys: () => trusted,
      signature_policy: () => ({ require_signature: false }),
      inspect_key: () => key(),
      trust_key: () => { trusted = [key({ added_at: '2026-12-03T10:00:00.000Z', added_by: 'carol@desk' })]; return trusted[0]; },
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
    expect(within(row).getByTestId('key-added').textContent).toMatch(/^Trusted \S.*\S by carol@desk$/);
    expect(screen.queryByTestId('key-preview')).toBeNull();

    await user.click(within(row).getByTestId('remove-key'));
    await user.click(screen.getByTestId('confirm-remove-key'));
    expect(calls.find((c) => c.cmd === 'remove_trusted_key')!.args).toEqual({ fingerprint: FPR });
    expect(await screen.findByTestId('no-keys')).toBeInTheDocument();
  });

  it('keeps the key shown when the confirmation is declined, and says why a text is no key', async () => {
    mockCommands({
      list_trusted_keys: () => [],
      signature_policy: () => ({ require_signature: false }),
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

  it('requires signatures at once, and stops requiring them only when the shell confirmation says yes', async () => {
    let required = false;
    let confirm = false;
    const calls = mockCommands({
      list_trusted_keys: () => [],
      signature_policy: () => ({ require_signature: required }),
      set_signature_policy: (a) => {
        const want = (a.policy as { require_signature: boolean }).require_signature;
        if (required && !want && !confirm) throw ipcError('cancelled', 'Signatures are still required.');
        required = want;
        return { require_signature: required };
      },
    });
    const keys = new TrustedKeys();
    const user = userEvent.setup();
    render(TrustedKeysView, { keys });
    const box = within(await screen.findByTestId('require-signature')).getByRole('checkbox');
    expect(box).not.toBeChecked();

    await user.click(box);
    expect(calls.filter((c) => c.cmd === 'set_signature_policy').at(-1)!.args).toEqual({ policy: { require_signature: true } });
    await vi.waitFor(() => expect(box).toBeChecked());

    // "No" in the native window: still required, and no error to show.
    await user.click(box);
    await vi.waitFor(() => expect(calls.filter((c) => c.cmd === 'set_signature_policy')).toHaveLength(2));
    await vi.waitFor(() => expect(box).toBeChecked());
    expect(keys.policyError).toBeNull();
    expect(required).toBe(true);

    confirm = true;
    await user.click(box);
    await vi.waitFor(() => expect(box).not.toBeChecked());
    expect(required).toBe(false);
  });
});
