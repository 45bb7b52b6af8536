// Test doubles for the publish feature: a PublishApi whose methods are vitest mocks, and engine-shaped
// targets, plans and publications.
import { vi } from 'vitest';
import type { ErrorCode, IpcError } from '$lib/ipc/client';
import { IpcFailure } from '$lib/ipc/client';
import type { PlanItem, Publication, PublishApi, PublishPlan, Target, TargetCheck } from './types';

export function fakeApi(over: Partial<PublishApi> = {}): { [K in keyof PublishApi]: ReturnType<typeof vi.fn> & PublishApi[K] } {
  const api: PublishApi = {
    listTargets: async () => [],
    addTarget: async () => { throw new Error('unexpected addTarget'); },
    testTarget: async () => { throw new Error('unexpected testTarget'); },
    removeTarget: async () => { throw new Error('unexpected removeTarget'); },
    planPublish: async () => { throw new Error('unexpected planPublish'); },
    publish: async () => { throw new Error('unexpected publish'); },
    listPublications: async () => [],
    refreshPublication: async () => { throw new Error('unexpected refreshPublication'); },
    unpublish: async () => { throw new Error('unexpected unpublish'); },
    rememberSecret: async () => null,
    ...over,
  };
  return Object.fromEntries(Object.entries(api).map(([k, f]) => [k, vi.fn(f as (...a: unknown[]) => unknown)])) as never;
}

export function fail(code: ErrorCode, text = `failed: ${code}`): IpcFailure {
  const error: IpcError = { code, text, explanation: `why ${code}`, recovery: `fix ${code}` };
  return new IpcFailure(error);
}

export function target(name: string, over: Partial<Target> = {}): Target {
  return {
    id: 1, name, auth: 'none', auth_url: null, image_url: 'http://127.0.0.1:9292', region: null, interface: 'public',
    username: null, user_domain: null, project: null, project_domain: null, application_credential_id: null,
    created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', created_by: null, ...over,
  };
}

export function check(over: Partial<TargetCheck> = {}): TargetCheck {
  return {
    target: 'lab', auth: 'password', user: 'demo', user_id: 'u1', project: 'demo', project_id: 'p1', roles: ['member'],
    image_endpoint: 'http://127.0.0.1:9294', glance_version: 'v2.17', token_expires_at: null, ...over,
  };
}

export function planItem(over: Partial<PlanItem> = {}): PlanItem {
  return {
    artifact: { id: 5, name: 'cirros.qcow2' }, name: 'cirros', source_format: 'qcow2', disk_format: 'qcow2', container_format: 'bare',
    convert: false, size: 1024 * 1024, properties: { os_type: 'linux' }, problems: [], warnings: [], ...over,
  };
}

export function plan(items: PlanItem[], over: Partial<PublishPlan> = {}): PublishPlan {
  return {
    target: check(), disk_formats: ['qcow2', 'raw', 'iso'], container_formats: ['bare'], storage_left: null, items,
    ready: items.every((i) => i.problems.length === 0), ...over,
  };
}

export function publication(id: number, over: Partial<Publication> = {}): Publication {
  return {
    id, artifact: { id: 5, name: 'cirros.qcow2' }, target: 'lab', job_id: 3, image_url: 'http://127.0.0.1:9292',
    remote_id: `img-${id}`, name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'private', size: 100,
    md5: 'a'.repeat(32), sha512: 'b'.repeat(128), status: 'active', remote_status: 'active', verified: true, error: null,
    created_at: '2026-11-23T10:00:00Z', updated_at: '2026-11-23T10:00:00Z', artifact_state: 'ok', ...over,
  };
}
