// Saved file servers (SFTP, FTP, FTPS, WebDAV): the list, adding one (an SFTP host key unknown to
// ~/.ssh/known_hosts is confirmed by its SHA256 fingerprint first), "Test connection" (asking for
// the password, or for trust in a host key, when the engine needs it), removing one.
import { asIpcError, type IpcError } from '$lib/ipc/client';
import { withSecret, type SecretOutcome, type SecretPrompt } from './secret.svelte';
import type { HostKeyProbe, Protocol, Server, ServersApi, ServerSpec, ServerTestReport } from './types';

export const PROTOCOLS: Array<[Protocol, string, number]> = [
  ['sftp', 'SFTP (SSH)', 22],
  ['ftps', 'FTPS (explicit TLS)', 21],
  ['ftp', 'FTP (unencrypted)', 21],
  ['webdavs', 'WebDAV over HTTPS', 443],
  ['webdav', 'WebDAV over HTTP', 80],
];

export function defaultPort(p: Protocol): number {
  return PROTOCOLS.find(([x]) => x === p)![2];
}

/** One host-key confirmation at a time: resolves true when the user trusts the fingerprint. */
export class HostKeyPrompt {
  request = $state.raw<{ server: string; host: string; port: number; probe: HostKeyProbe } | null>(null);
  #resolve: ((trusted: boolean) => void) | null = null;

  ask(server: string, host: string, port: number, probe: HostKeyProbe): Promise<boolean> {
    this.#resolve?.(false);
    this.request = { server, host, port, probe };
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  answer(trusted: boolean): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.request = null;
    resolve?.(trusted);
  }
}

export type ServerDraft = {
  name: string;
  protocol: Protocol;
  host: string;
  port: string;
  path: string;
  user: string;
  /** SFTP: log in with a private key file instead of a password. */
  useKey: boolean;
  keyFile: string;
  secret: string;
  remember: boolean;
};

export function emptyServerDraft(): ServerDraft {
  return { name: '', protocol: 'sftp', host: '', port: '', path: '', user: '', useKey: false, keyFile: '', secret: '', remember: true };
}

export function serverDraftProblem(d: ServerDraft): string | null {
  if (d.name.trim() === '') return 'Give the server a name.';
  if (d.host.trim() === '' || /[\s/]/.test(d.host.trim())) return 'The host is a name or an address, without spaces or slashes.';
  if (d.port.trim() !== '' && !/^\d{1,5}$/.test(d.port.trim())) return 'The port is a number (empty for the protocol’s default).';
  if (d.user.trim() === '') return 'The user name is needed.';
  const key = d.protocol === 'sftp' && d.useKey;
  if (key && !d.keyFile.trim().startsWith('/')) return 'Give the full path of the private key file.';
  if (!key && d.remember && d.secret === '') return 'Enter the password to remember, or untick “Remember”.';
  return null;
}

export function serverSpecOf(d: ServerDraft, fingerprint: string | null): ServerSpec {
  const key = d.protocol === 'sftp' && d.useKey;
  return {
    name: d.name.trim(), protocol: d.protocol, host: d.host.trim(), port: d.port.trim() === '' ? null : Number(d.port.trim()),
    path: d.path.trim(), user: d.user.trim(), key_file: key ? d.keyFile.trim() : null, host_key_fingerprint: fingerprint,
  };
}

export type ServerTestState = { running: boolean; result: ServerTestReport | null; error: IpcError | null };

function notTrusted(host: string): IpcError {
  return {
    code: 'host_key_unknown', text: `The host key of ${host} was not trusted; nothing was saved.`,
    explanation: 'Imagesmith only talks to an SSH server whose key you confirmed.',
    recovery: 'Compare the fingerprint with the one the server’s administrator reads on the server, then try again.',
  };
}

export class Servers {
  items = $state.raw<Server[]>([]);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  tests = $state.raw<Record<string, ServerTestState>>({});
  keyringNote = $state<{ server: string; error: IpcError } | null>(null);

  #api: ServersApi;
  #secrets: SecretPrompt;
  #hostKeys: HostKeyPrompt;

  constructor(api: ServersApi, secrets: SecretPrompt, hostKeys: HostKeyPrompt) {
    this.#api = api;
    this.#secrets = secrets;
    this.#hostKeys = hostKeys;
  }

  async load(): Promise<void> {
    try {
      this.items = await this.#api.listServers();
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loaded = true;
    }
  }

  /** The fingerprint to save for an SFTP host: null when known_hosts already has it; an error
   *  when the key changed or the user did not trust it. */
  async #confirmHostKey(server: string, host: string, port: number): Promise<{ fingerprint: string | null } | IpcError> {
    const probe = await this.#api.probeHostKey(host, port);
    if (probe.known_hosts === 'match') return { fingerprint: null };
    if (probe.known_hosts === 'mismatch') {
      return {
        code: 'host_key_mismatch', text: `The SSH host key of ${host}:${port} differs from the one in ~/.ssh/known_hosts (it is now ${probe.fingerprint}).`,
        explanation: 'The server was reinstalled, or someone is intercepting the connection. Imagesmith never trusts a changed key by itself.',
        recovery: 'Ask the server’s administrator whether the key changed; if it did, remove the old entry (ssh-keygen -R HOST) and add the server again.',
      };
    }
    return (await this.#hostKeys.ask(server, host, port, probe)) ? { fingerprint: probe.fingerprint } : notTrusted(host);
  }

  /** Save a new server; returns the refusal to show in the form, or null. */
  async add(draft: ServerDraft): Promise<IpcError | null> {
    try {
      let fingerprint: string | null = null;
      if (draft.protocol === 'sftp') {
        const port = draft.port.trim() === '' ? 22 : Number(draft.port.trim());
        const confirmed = await this.#confirmHostKey(draft.name.trim(), draft.host.trim(), port);
        if ('code' in confirmed) return confirmed;
        fingerprint = confirmed.fingerprint;
      }
      // the password, or an SFTP key's passphrase; only sent to be kept in the keyring
      const secret = draft.remember && draft.secret !== '' ? draft.secret : null;
      const added = await this.#api.addServer(serverSpecOf(draft, fingerprint), secret);
      this.items = [...this.items.filter((s) => s.name !== added.server.name), added.server].sort((a, b) => a.name.localeCompare(b.name));
      this.keyringNote = added.keyring_error ? { server: added.server.name, error: added.keyring_error } : null;
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  #setTest(name: string, state: ServerTestState): void {
    this.tests = { ...this.tests, [name]: state };
  }

  /**
   * Run `call` against a saved server the way the engine wants to be answered: its password asked
   * for on `secret_required` / `auth_failed`, an unknown SFTP host key shown for trust (then trusted
   * and the call made again). Used by "Test connection" and by exports to the server.
   */
  async withLogin<T>(name: string, call: (secret: string | null) => Promise<T>): Promise<SecretOutcome<T>> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await withSecret(this.#secrets, 'server', name, call, (s) => this.#api.rememberSecret('server', name, s));
      if (outcome.status !== 'error' || outcome.error.code !== 'host_key_unknown' || attempt > 0) return outcome;
      const server = this.items.find((s) => s.name === name);
      if (!server) return outcome;
      try {
        const confirmed = await this.#confirmHostKey(name, server.host, server.port);
        if ('code' in confirmed) return { status: 'error', error: confirmed };
        if (confirmed.fingerprint) {
          const trusted = await this.#api.trustHostKey(name, confirmed.fingerprint);
          this.items = this.items.map((s) => (s.name === name ? trusted : s));
        }
      } catch (e) {
        return { status: 'error', error: asIpcError(e) };
      }
    }
  }

  /** Connect, log in, make sure the folder is writable; asks for a password or host-key trust. */
  async test(name: string): Promise<void> {
    this.#setTest(name, { running: true, result: null, error: null });
    const outcome = await this.withLogin(name, (s) => this.#api.testServer(name, s));
    if (outcome.status === 'ok') this.#setTest(name, { running: false, result: outcome.value, error: outcome.rememberError });
    else if (outcome.status === 'cancelled') this.#setTest(name, { running: false, result: null, error: null });
    else this.#setTest(name, { running: false, result: null, error: outcome.error });
  }

  async remove(name: string): Promise<IpcError | null> {
    try {
      await this.#api.removeServer(name);
      this.items = this.items.filter((s) => s.name !== name);
      const { [name]: _gone, ...rest } = this.tests;
      this.tests = rest;
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }
}
