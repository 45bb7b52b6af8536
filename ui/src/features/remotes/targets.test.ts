import { describe, expect, it, vi } from 'vitest';
import { check, fail, fakeApi, target } from '../publish/testing';
import { authLabel, endpointOf } from './labels';
import { SecretPrompt } from './secret.svelte';
import { draftProblem, emptyDraft, specOf, Targets } from './targets.svelte';

describe('the add-account form', () => {
  it('says what is missing for each kind of sign-in', () => {
    const d = emptyDraft();
    expect(draftProblem(d)).toBe('Give the account a name.');
    d.name = 'lab';
    expect(draftProblem(d)).toMatch(/Keystone URL/);
    d.authUrl = 'http://127.0.0.1:5000/v3';
    expect(draftProblem(d)).toBe('User and project are needed.');
    d.user = 'demo';
    d.project = 'demo';
    expect(draftProblem(d)).toMatch(/Enter the password to remember/);
    d.remember = false;
    expect(draftProblem(d)).toBeNull();
    d.kind = 'application_credential';
    expect(draftProblem(d)).toBe('The application credential ID is needed.');
    d.kind = 'none';
    expect(draftProblem(d)).toMatch(/Glance URL/);
    d.imageUrl = 'ftp://x';
    expect(draftProblem(d)).toMatch(/Glance URL/);
    d.imageUrl = 'http://127.0.0.1:9292';
    expect(draftProblem(d)).toBeNull();
  });

  it('turns into the engine’s NewTarget with only the fields of its kind', () => {
    const d = { ...emptyDraft(), name: ' lab ', authUrl: 'http://k:5000/v3', user: 'demo', project: 'p', region: '', imageUrl: 'http://left-over' };
    expect(specOf(d)).toEqual({
      name: 'lab', auth: 'password', auth_url: 'http://k:5000/v3', image_url: null, region: null, interface: null, username: 'demo',
      user_domain: 'Default', project: 'p', project_domain: 'Default', application_credential_id: null,
    });
    expect(specOf({ ...d, kind: 'none', region: 'R1' })).toMatchObject({ auth: 'none', image_url: 'http://left-over', auth_url: null, username: null, region: null });
    expect(specOf({ ...d, kind: 'application_credential', credentialId: 'c1' })).toMatchObject({ auth: 'application_credential', application_credential_id: 'c1', username: null, project: null });
  });

  it('labels an account by its sign-in and URL', () => {
    expect(authLabel(target('a'))).toBe('Glance · no auth');
    expect(endpointOf(target('a'))).toBe('http://127.0.0.1:9292');
    expect(endpointOf(target('b', { auth: 'password', auth_url: 'http://k/v3', image_url: null }))).toBe('http://k/v3');
  });
});

describe('Targets', () => {
  it('adds an account, passing the secret only when it is to be remembered', async () => {
    const api = fakeApi({
      listTargets: async () => [target('b')],
      addTarget: async (spec) => ({ target: target(spec.name, { auth: spec.auth }), secret_stored: false, secret_error: null }),
    });
    const t = new Targets(api, new SecretPrompt());
    await t.load();
    const draft = { ...emptyDraft(), name: 'a', authUrl: 'http://k/v3', user: 'u', project: 'p', secret: 'pw' };
    expect(await t.add(draft)).toBeNull();
    expect(api.addTarget.mock.calls[0]![1]).toBe('pw');
    expect(t.items.map((x) => x.name)).toEqual(['a', 'b']);
    expect(await t.add({ ...draft, name: 'c', remember: false })).toBeNull();
    expect(api.addTarget.mock.calls[1]![1]).toBeNull();
  });

  it('shows when the keyring did not take the secret, and refusals of the engine', async () => {
    const keyring = { code: 'keyring_unavailable', text: 'The OS keyring could not store the password.', explanation: '', recovery: '' };
    const api = fakeApi({
      addTarget: vi.fn()
        .mockResolvedValueOnce({ target: target('a'), secret_stored: false, secret_error: keyring })
        .mockRejectedValueOnce(fail('name_taken', 'A target named "a" exists.')),
    });
    const t = new Targets(api, new SecretPrompt());
    const draft = { ...emptyDraft(), name: 'a', authUrl: 'http://k/v3', user: 'u', project: 'p', secret: 'pw' };
    expect(await t.add(draft)).toBeNull();
    expect(t.keyringNote).toEqual({ target: 'a', error: keyring });
    expect((await t.add(draft))?.code).toBe('name_taken');
  });

  it('tests a connection (asking for the password when needed) and keeps the result per account', async () => {
    const prompt = new SecretPrompt();
    const api = fakeApi({ testTarget: async (_n, s) => { if (!s) throw fail('secret_required'); return check(); } });
    const t = new Targets(api, prompt);
    const pending = t.test('lab');
    expect(t.tests.lab?.running).toBe(true);
    await vi.waitFor(() => expect(prompt.request?.name).toBe('lab'));
    prompt.answer({ secret: 'demopw', remember: false });
    await pending;
    expect(t.tests.lab).toEqual({ running: false, result: check(), error: null });
    expect(api.rememberSecret).not.toHaveBeenCalled();

    api.testTarget.mockRejectedValueOnce(fail('remote_unavailable', 'Nothing answers.'));
    await t.test('lab');
    expect(t.tests.lab?.error?.text).toBe('Nothing answers.');
    expect(t.tests.lab?.result).toBeNull();
  });

  it('removes an account and forgets its test', async () => {
    const api = fakeApi({ listTargets: async () => [target('a'), target('b')], removeTarget: async (n) => target(n), testTarget: async () => check() });
    const t = new Targets(api, new SecretPrompt());
    await t.load();
    await t.test('a');
    expect(await t.remove('a')).toBeNull();
    expect(t.items.map((x) => x.name)).toEqual(['b']);
    expect(t.tests.a).toBeUndefined();
  });
});
