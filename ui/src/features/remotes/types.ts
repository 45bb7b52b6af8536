// The shapes of saved file servers, their connection test and SFTP host-key probes as the app uses
// them. PROVISIONAL: copied from the engine's remote module (crates/engine/src/remote on the
// `remote-servers` branch) before it is on main; replaced by re-exports from the generated bindings
// as soon as it lands.
import type { IpcError } from '$lib/ipc/client';

export type Protocol = 'sftp' | 'ftp' | 'ftps' | 'webdav' | 'webdavs';

export type Server = {
  id: number; name: string; protocol: Protocol; host: string; port: number; path: string; user: string;
  key_file: string | null; host_key_fingerprint: string | null; secret_in_keyring: boolean; url: string;
  created_at: string; updated_at: string;
};

export type ServerSpec = {
  name: string; protocol: Protocol; host: string; port: number | null; path: string; user: string;
  key_file: string | null; host_key_fingerprint: string | null;
};

export type AddServerReport = { server: Server; keyring_error: IpcError | null };

export type ServerTestReport = {
  server: string; url: string; path_created: boolean; writable: boolean; host_key_fingerprint: string | null;
  banner: string | null; tls: string | null; leftovers_removed: number;
};

export type KnownHost = 'match' | 'mismatch' | 'unknown';
export type HostKeyProbe = { fingerprint: string; key_type: string; known_hosts: KnownHost };

/** What the file-servers part of "Clouds & servers" needs from Rust. */
export type ServersApi = {
  listServers: () => Promise<Server[]>;
  addServer: (spec: ServerSpec, secret: string | null) => Promise<AddServerReport>;
  testServer: (name: string, secret: string | null) => Promise<ServerTestReport>;
  removeServer: (name: string) => Promise<Server>;
  probeHostKey: (host: string, port: number) => Promise<HostKeyProbe>;
  trustHostKey: (name: string, fingerprint: string) => Promise<Server>;
  rememberSecret: (owner: 'target' | 'server', name: string, secret: string) => Promise<void>;
};
