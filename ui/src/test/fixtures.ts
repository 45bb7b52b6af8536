// Test data shaped like the engine's IPC types, and a mocked IPC that records calls.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import type { Artifact, ErrorCode, GoldEntry, GoldImage, IpcError, JobSummary, PlanItem, SignatureCheck } from '$lib/ipc/client';

export type Call = { cmd: string; args: Record<string, unknown> };

/** Route commands to handlers; a handler that throws an IpcError makes the command fail with it. */
export function mockCommands(handlers: Record<string, (args: Record<string, unknown>) => unknown>): Call[] {
  clearMocks();
  const calls: Call[] = [];
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    const handler = handlers[cmd];
    if (!handler) throw new Error(`unmocked command ${cmd}`);
    return handler(args);
  });
  return calls;
}

export function ipcError(code: ErrorCode, text = `failed: ${code}`): IpcError {
  return { code, text, explanation: `why ${code}`, recovery: `fix ${code}` };
}

/** A signature check over nothing signed. */
export const UNSIGNED = { status: 'none', signer: null, fingerprint: null, signed_at: null, signature_file: null } as const satisfies SignatureCheck;

export function artifact(id: number, over: Partial<Artifact> = {}): Artifact {
  return {
    id, name: `artifact-${id}.iso`, kind: 'os', os: 'linux', distro: 'debian', size: 1024 * id, sha256: 'a'.repeat(64), state: 'ok',
    md5: 'b'.repeat(32), sha1: null, sha512: null, image: null, used_by: [], profiles: [], published_to: [], original_name: `artifact-${id}.iso`,
    description: '', version: '', tags: [], detected: { volume_id: 'DEBIAN' }, driver: null, editions: [], warnings: [], verification: [],
    signature: UNSIGNED, media_check: null, lint: null, last_verified_at: null,
    os_id: null, os_name: null, os_version: null, arch: null,
    alias: null, access: 'private', owner: 'admin', created_by: 'admin@desk', updated_by: 'admin@desk', resize: false, deploy: false,
    source: { kind: 'file', url: null, manifest_url: null, store: null, remote_id: null },
    created_at: '2026-11-23T10:00:00Z',
    updated_at: '2026-11-23T10:00:00Z', ...over,
  };
}

export function job(id: number, over: Partial<JobSummary> = {}): JobSummary {
  return {
    id, kind: 'import', state: 'succeeded', created_at: '2026-11-23T10:00:00Z', started_at: '2026-11-23T10:00:01Z',
    finished_at: '2026-11-23T10:00:05Z', item_count: 1, failed_count: 0, phase: 'done', bytes_done: 10, bytes_total: 10,
    rate_bps: 0, eta_seconds: null, summary: '1 imported', error: null, run_by: 'admin@desk', ...over,
  };
}

export function planItem(over: Partial<PlanItem> = {}): PlanItem {
  return {
    path: '/data/ipxe.iso', file_name: 'ipxe.iso', size: 2_000_000, format: 'iso9660', kind: 'os', allowed_kinds: ['os', 'driver'],
    os: null, distro: null, allowed_os: ['linux', 'windows', 'vmware'], os_required: true, expected: null, refused: null,
    signature: UNSIGNED, detected: {}, lint: null, ...over,
  };
}

export function gold(id: number, over: Partial<GoldImage> = {}): GoldImage {
  return {
    id, name: `img-${id}`, image_type: 'software', series: null, version: '', description: '', state: 'testable', files: 3, size: 4096,
    new_bytes: 1024, source: '/srv/homes/app', copies: [], current: false, created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', created_by: 'admin@desk',
    updated_by: null, ...over,
  };
}

export function goldEntry(path: string, over: Partial<GoldEntry> = {}): GoldEntry {
  return { path, kind: 'file', mode: 0o644, size: 10, sha256: 'a'.repeat(64), target: null, link: null, mtime: 0, ...over };
}
