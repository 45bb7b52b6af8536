import { describe, expect, it, vi } from 'vitest';
import { fail } from '../publish/testing';
import { SecretPrompt, withSecret } from './secret.svelte';

describe('withSecret', () => {
  it('calls once without a secret when the keyring has one, and never asks', async () => {
    const prompt = new SecretPrompt();
    const call = vi.fn(async (s: string | null) => `ok with ${s}`);
    const remember = vi.fn(async () => {});
    const out = await withSecret(prompt, 'target', 'lab', call, remember);
    expect(out).toEqual({ status: 'ok', value: 'ok with null', rememberError: null });
    expect(call).toHaveBeenCalledTimes(1);
    expect(prompt.request).toBeNull();
    expect(remember).not.toHaveBeenCalled();
  });

  it('asks on secret_required, passes the answer to the one retry, and remembers it only when ticked', async () => {
    const prompt = new SecretPrompt();
    const call = vi.fn(async (s: string | null) => {
      if (s == null) throw fail('secret_required', 'The password for target "lab" is needed.');
      return s.length;
    });
    const remember = vi.fn(async () => {});
    const pending = withSecret(prompt, 'target', 'lab', call, remember);
    await vi.waitFor(() => expect(prompt.request?.name).toBe('lab'));
    expect(prompt.request).toMatchObject({ owner: 'target', retry: false, reason: { code: 'secret_required' } });
    prompt.answer({ secret: 's3cret', remember: true });
    expect(prompt.request).toBeNull();
    expect(await pending).toEqual({ status: 'ok', value: 6, rememberError: null });
    expect(call.mock.calls).toEqual([[null], ['s3cret']]);
    expect(remember).toHaveBeenCalledWith('s3cret');

    const again = withSecret(prompt, 'target', 'lab', call, remember);
    await vi.waitFor(() => expect(prompt.request).not.toBeNull());
    prompt.answer({ secret: 'x', remember: false });
    await again;
    expect(remember).toHaveBeenCalledTimes(1);
  });

  it('asks again after a wrong password, showing the refusal, until cancelled', async () => {
    const prompt = new SecretPrompt();
    const call = vi.fn(async (s: string | null) => {
      throw s == null ? fail('secret_required') : fail('auth_failed', 'Keystone refused the password.');
    });
    const pending = withSecret(prompt, 'target', 'lab', call, async () => {});
    await vi.waitFor(() => expect(prompt.request).not.toBeNull());
    prompt.answer({ secret: 'wrong', remember: true });
    await vi.waitFor(() => expect(prompt.request?.retry).toBe(true));
    expect(prompt.request?.reason.text).toBe('Keystone refused the password.');
    prompt.dismiss();
    expect(await pending).toEqual({ status: 'cancelled' });
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('hands other errors back without asking, and reports a keyring that refused to remember', async () => {
    const prompt = new SecretPrompt();
    const out = await withSecret(prompt, 'target', 'lab', async () => { throw fail('remote_unavailable'); }, async () => {});
    expect(out).toMatchObject({ status: 'error', error: { code: 'remote_unavailable' } });
    expect(prompt.request).toBeNull();

    const pending = withSecret(prompt, 'server', 'dav', async (s) => { if (!s) throw fail('secret_required'); return 1; }, async () => { throw fail('keyring_unavailable'); });
    await vi.waitFor(() => expect(prompt.request?.owner).toBe('server'));
    prompt.answer({ secret: 'pw', remember: true });
    expect(await pending).toMatchObject({ status: 'ok', value: 1, rememberError: { code: 'keyring_unavailable' } });
  });

  it('an empty answer counts as cancel', async () => {
    const prompt = new SecretPrompt();
    const pending = withSecret(prompt, 'target', 'lab', async (s) => { if (!s) throw fail('secret_required'); return 1; }, async () => {});
    await vi.waitFor(() => expect(prompt.request).not.toBeNull());
    prompt.answer({ secret: '', remember: true });
    expect(await pending).toEqual({ status: 'cancelled' });
  });
});
