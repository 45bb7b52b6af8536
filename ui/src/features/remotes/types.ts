// The file-servers feature's view of Rust: the generated types (saved servers, their test, SFTP
// host-key probes) and the part of the one IPC client the store takes (a test double in vitest).
import type { AddServerReport, HostKeyProbe, Server, ServerSpec, ServerTestReport } from '$lib/ipc/client';

export type { AddServerReport, HostKeyProbe, KnownHost, Protocol, Server, ServerSpec, ServerTestReport } from '$lib/ipc/client';

/** What the file-servers part of "Clouds & servers" needs from Rust. */
export type ServersApi = {
  listServers: () => Promise<Server[]>;
  addServer: (spec: ServerSpec, secret: string | null) => Promise<AddServerReport>;
  testServer: (name: string, secret: string | null) => Promise<ServerTestReport>;
  removeServer: (name: string) => Promise<Server>;
  probeHostKey: (host: string, port: number) => Promise<HostKeyProbe>;
  trustHostKey: (name: string, fingerprint: string) => Promise<Server>;
  rememberSecret: (owner: 'target' | 'server', name: string, secret: string) => Promise<null>;
};
