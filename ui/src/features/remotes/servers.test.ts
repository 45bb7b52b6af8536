import { describe, expect, it, vi } from 'vitest';
import { fail } from '../publish/testing';
import { SecretPrompt } from './secret.svelte';
import { emptyServerDraft, HostKeyPrompt, serverDraftProblem, Servers, serverSpecOf } from './servers.svelte';
import type { HostKeyProbe, Server, ServersApi } from './types';

const FP = `SHA256:${'A'.repeat(43)}`;

function server(name: string, over: Partial<Server> = {}): Server {
  return {
    id: 1, name, protocol: 'sftp', host: '127.0.0.1', port: 2222, path: 'exports', user: 'alice', key_file: null, host_key_fingerprint: null,
    secret_in_keyring: true, url: 'sftp://alice@127.0.0.1:2222/exports', created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', created_by: null, ...over,
  };
}

function api(over: Partial<ServersApi> = {}) {
  const base: ServersApi = {
    listServers: async () => [],
    addServer: async (spec) => ({ server: server(spec.name, { protocol: spec.protocol, host_key_fingerprint: spec.host_key_fingerprint }), keyring_error: null }),
    testServer: async (name) => ({ server: name, url: 'sftp://x', path_created: false, writable: true, host_key_fingerprint: FP, banner: 'SSH-2.0-OpenSSH_9.2', tls: null, leftovers_removed: 0 }),
    removeServer: async (name) => server(name),
    probeHostKey: async (): Promise<HostKeyProbe> => ({ fingerprint: FP, key_type: 'ssh-ed25519', known_hosts: 'unknown' }),
    trustHostKey: async (name, fp) => server(name, { host_key_fingerprint: fp }),
    rememberSecret: async () => null,
    ...over,
  };
  return Object.fromEntries(Object.entries(base).map(([k, f]) => [k, vi.fn(f as (...a: unknown[]) => unknown)])) as unknown as { [K in keyof ServersApi]: ReturnType<typeof vi.fn> & ServersApi[K] };
}

const draft = () => ({ ...emptyServerDraft(), name: 'depot', host: '127.0.0.1', port: '2222', path: 'exports', user: 'alice', secret: 'pw' });

describe('the add-server form', () => {
  it('says what is missing and builds the engine’s ServerSpec', () => {
    const d = emptyServerDraft();
    expect(serverDraftProblem(d)).toBe('Give the server a name.');
    expect(serverDraftProblem({ ...draft(), host: 'a b' })).toMatch(/host/);
    expect(serverDraftProblem({ ...draft(), port: '22x' })).toMatch(/port/);
    expect(serverDraftProblem({ ...draft(), useKey: true, keyFile: '~/.ssh/id' })).toMatch(/full path/);
    expect(serverDraftProblem({ ...draft(), useKey: true, keyFile: '/root/.ssh/id_ed25519', secret: '' })).toBeNull();
    expect(serverDraftProblem({ ...draft(), secret: '' })).toMatch(/password to remember/);
    expect(serverSpecOf({ ...draft(), port: '' , protocol: 'webdavs', useKey: true, keyFile: '/k' }, null)).toEqual({
      name: 'depot', protocol: 'webdavs', host: '127.0.0.1', port: null, path: 'exports', user: 'alice', key_file: null, host_key_fingerprint: null,
    });
  });
});

describe('Servers', () => {
  it('an unknown SFTP host key is shown for confirmation and saved with the server when trusted', async () => {
    const hostKeys = new HostKeyPrompt();
    const a = api();
    const s = new Servers(a, new SecretPrompt(), hostKeys);
    const pending = s.add(draft());
    await vi.waitFor(() => expect(hostKeys.request?.probe.fingerprint).toBe(FP));
    expect(a.probeHostKey).toHaveBeenCalledWith('127.0.0.1', 2222);
    expect(a.addServer).not.toHaveBeenCalled();
    hostKeys.answer(true);
    expect(await pending).toBeNull();
    expect(a.addServer.mock.calls[0]![0].host_key_fingerprint).toBe(FP);
    expect(a.addServer.mock.calls[0]![1]).toBe('pw');
    expect(s.items.map((x) => x.name)).toEqual(['depot']);
  });

  it('nothing is saved when the key is not trusted or changed; known keys and other protocols are not asked about', async () => {
    const hostKeys = new HostKeyPrompt();
    const a = api();
    const s = new Servers(a, new SecretPrompt(), hostKeys);
    const pending = s.add(draft());
    await vi.waitFor(() => expect(hostKeys.request).not.toBeNull());
    hostKeys.answer(false);
    expect((await pending)?.code).toBe('host_key_unknown');
    a.probeHostKey.mockResolvedValueOnce({ fingerprint: FP, key_type: 'ssh-ed25519', known_hosts: 'mismatch' });
    expect((await s.add(draft()))?.code).toBe('host_key_mismatch');
    expect(a.addServer).not.toHaveBeenCalled();
    a.probeHostKey.mockResolvedValueOnce({ fingerprint: FP, key_type: 'ssh-ed25519', known_hosts: 'match' });
    expect(await s.add(draft())).toBeNull();
    expect(a.addServer.mock.calls[0]![0].host_key_fingerprint).toBeNull();
    expect(await s.add({ ...draft(), name: 'dav', protocol: 'webdav', remember: false })).toBeNull();
    expect(a.probeHostKey).toHaveBeenCalledTimes(3);
    expect(a.addServer.mock.calls[1]![1]).toBeNull();
  });

  it('test asks for the password, then for trust when the host key became unknown, and tries again', async () => {
    const secrets = new SecretPrompt();
    const hostKeys = new HostKeyPrompt();
    let trusted = false;
    const a = api({
      listServers: async () => [server('depot')],
      testServer: async (name, secret) => {
        if (!secret) throw fail('secret_required');
        if (!trusted) throw fail('host_key_unknown');
        return { server: name, url: 'sftp://alice@127.0.0.1:2222/exports', path_created: true, writable: true, host_key_fingerprint: FP, banner: null, tls: null, leftovers_removed: 0 };
      },
      trustHostKey: async (name, fp) => { trusted = true; return server(name, { host_key_fingerprint: fp }); },
    });
    const s = new Servers(a, secrets, hostKeys);
    await s.load();
    const pending = s.test('depot');
    await vi.waitFor(() => expect(secrets.request?.owner).toBe('server'));
    secrets.answer({ secret: 'pw', remember: false });
    await vi.waitFor(() => expect(hostKeys.request).not.toBeNull());
    hostKeys.answer(true);
    await vi.waitFor(() => expect(secrets.request).not.toBeNull()); // the retry asks again: nothing was kept
    secrets.answer({ secret: 'pw', remember: true });
    await pending;
    expect(s.tests.depot?.result?.path_created).toBe(true);
    expect(a.trustHostKey).toHaveBeenCalledWith('depot', FP);
    expect(s.items[0]?.host_key_fingerprint).toBe(FP);
    expect(a.rememberSecret).toHaveBeenCalledWith('server', 'depot', 'pw');
  });

  it('a failed test shows the error; remove forgets the server', async () => {
    const a = api({ listServers: async () => [server('depot')], testServer: async () => { throw fail('connection_failed', 'Nothing answers on 127.0.0.1:2222.'); } });
    const s = new Servers(a, new SecretPrompt(), new HostKeyPrompt());
    await s.load();
    await s.test('depot');
    expect(s.tests.depot?.error?.text).toBe('Nothing answers on 127.0.0.1:2222.');
    expect(await s.remove('depot')).toBeNull();
    expect(s.items).toEqual([]);
    expect(s.tests.depot).toBeUndefined();
  });
});
