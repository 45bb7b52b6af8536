import { describe, expect, it, vi } from 'vitest';
import type { Profile } from '$lib/ipc/client';
import { artifact, mockCommands } from '../../test/fixtures';
import { Profiles } from '../profiles/profiles.svelte';
import { SecretPrompt } from './secret.svelte';
import { HostKeyPrompt, Servers } from './servers.svelte';
import type { Server, ServersApi } from './types';

function profile(): Profile {
  return {
    id: 3, name: 'rhel9-web', description: '', base: { id: 1, name: 'rhel.iso' }, base_state: 'ok', os: 'linux', distro: 'rhel', members: [], edition: null, editions: [],
    options: {}, created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', created_by: null, updated_by: null,
  };
}

const dav: Server = {
  id: 1, name: 'dav', protocol: 'webdav', host: '127.0.0.1', port: 8080, path: '/exports', user: 'davuser', key_file: null,
  host_key_fingerprint: null, secret_in_keyring: false, url: 'http://davuser@127.0.0.1:8080/exports', created_at: '', updated_at: '', created_by: null,
};

function serversApi(): ServersApi {
  const no = async () => { throw new Error('not used'); };
  return { listServers: async () => [dav], addServer: no, testServer: no, removeServer: no, probeHostKey: no, trustHostKey: no, rememberSecret: async () => null };
}

describe('export to a saved file server', () => {
  it('asks for the password the engine needs, then runs the export job with the one given', async () => {
    const calls = mockCommands({
      get_profile: () => profile(),
      get_artifact: () => artifact(1),
      export_profile_to_server: (a) => {
        if (a.secret == null) throw { code: 'secret_required', text: 'The password for server "dav" is needed.', explanation: '', recovery: '' };
        return 21;
      },
    });
    const secrets = new SecretPrompt();
    const servers = new Servers(serversApi(), secrets, new HostKeyPrompt());
    await servers.load();
    const started = vi.fn();
    const p = new Profiles({ onJobStarted: started });
    await p.select(3);
    const pending = p.startServerExport('dav', 'rhel9', false, (name, call) => servers.withLogin(name, call));
    await vi.waitFor(() => expect(secrets.request?.name).toBe('dav'));
    expect(p.exportRun?.jobId).toBeNull();
    secrets.answer({ secret: 'davpass', remember: false });
    await pending;
    const exports = calls.filter((c) => c.cmd === 'export_profile_to_server');
    expect(exports.map((c) => c.args.secret)).toEqual([null, 'davpass']);
    expect(exports[1]!.args.request).toEqual({ profile: '3', server: 'dav', path: 'rhel9', include_os: false, lint_override: null });
    expect(p.exportRun?.jobId).toBe(21);
    expect(started).toHaveBeenCalledWith(21, 'export');
  });

  it('giving up on the password goes back to the form; a refusal shows in the run', async () => {
    mockCommands({
      get_profile: () => profile(),
      get_artifact: () => artifact(1),
      export_profile_to_server: (a) => {
        if (a.secret == null) throw { code: 'secret_required', text: 'needed', explanation: '', recovery: '' };
        throw { code: 'auth_failed', text: 'The WebDAV server refused davuser.', explanation: '', recovery: '' };
      },
    });
    const secrets = new SecretPrompt();
    const servers = new Servers(serversApi(), secrets, new HostKeyPrompt());
    const p = new Profiles();
    await p.select(3);
    const gaveUp = p.startServerExport('dav', null, false, (name, call) => servers.withLogin(name, call));
    await vi.waitFor(() => expect(secrets.request).not.toBeNull());
    secrets.dismiss();
    await gaveUp;
    expect(p.exportRun).toBeNull();

    const refused = p.startServerExport('dav', null, false, async (_name, call) => {
      try {
        return { status: 'ok', value: await call('wrong'), rememberError: null };
      } catch (e) {
        return { status: 'error', error: e as never };
      }
    });
    await refused;
    expect(p.exportRun?.error?.text).toBe('The WebDAV server refused davuser.');
  });
});
