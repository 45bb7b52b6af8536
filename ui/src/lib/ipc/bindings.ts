// PROVISIONAL: replaced by the file tauri-specta generates (tests/bindings.rs).
import { invoke as TAURI_INVOKE, Channel as TAURI_CHANNEL } from '@tauri-apps/api/core';
import * as TAURI_API_EVENT from '@tauri-apps/api/event';

export type Result<T, E> = { status: 'ok'; data: T } | { status: 'error'; error: E };
async function typedError<T, E>(p: Promise<T>): Promise<Result<T, E>> {
  try {
    return { status: 'ok', data: await p };
  } catch (e) {
    if (e instanceof Error) throw e;
    return { status: 'error', error: e as E };
  }
}

export const commands = {
  repositoryInfo: () => typedError<RepositoryInfo, IpcError>(TAURI_INVOKE('repository_info')),
  revealRepository: () => typedError<null, IpcError>(TAURI_INVOKE('reveal_repository')),
  planImport: (request: PlanRequest) => typedError<ImportPlan, IpcError>(TAURI_INVOKE('plan_import', { request })),
  parseExpected: (text: string) => typedError<ExpectedDigest, IpcError>(TAURI_INVOKE('parse_expected', { text })),
  startImport: (request: ImportRequest, onProgress: TAURI_CHANNEL<JobProgress>) =>
    typedError<number, IpcError>(TAURI_INVOKE('start_import', { request, onProgress })),
  cancelJob: (jobId: number) => typedError<boolean, IpcError>(TAURI_INVOKE('cancel_job', { jobId })),
  listJobs: (query: JobQuery) => typedError<JobSummary[], IpcError>(TAURI_INVOKE('list_jobs', { query })),
  countJobs: (query: JobQuery) => typedError<number, IpcError>(TAURI_INVOKE('count_jobs', { query })),
  getJob: (jobId: number) => typedError<JobDetail, IpcError>(TAURI_INVOKE('get_job', { jobId })),
  listArtifacts: (query: ArtifactQuery) => typedError<Artifact[], IpcError>(TAURI_INVOKE('list_artifacts', { query })),
  countArtifacts: (query: ArtifactQuery) => typedError<number, IpcError>(TAURI_INVOKE('count_artifacts', { query })),
  getArtifact: (idOrName: string) => typedError<Artifact, IpcError>(TAURI_INVOKE('get_artifact', { idOrName })),
  updateArtifact: (id: number, patch: ArtifactPatch) =>
    typedError<Artifact, IpcError>(TAURI_INVOKE('update_artifact', { id, patch })),
  deleteArtifact: (id: number) => typedError<Artifact, IpcError>(TAURI_INVOKE('delete_artifact', { id })),
};

export const events = {
  jobsChanged: { listen: (cb: (e: { payload: JobsChanged }) => void) => TAURI_API_EVENT.listen('jobs-changed', cb) },
  catalogChanged: { listen: (cb: (e: { payload: CatalogChanged }) => void) => TAURI_API_EVENT.listen('catalog-changed', cb) },
};

export type IpcError = { code: string; text: string; explanation: string; recovery: string };
export type Kind = 'os' | 'os_profile' | 'driver' | 'boot' | 'bundle' | 'bundle_sig' | 'config' | 'script' | 'software' | 'unattend' | 'gold_image' | 'disk_image';
export type OsFamily = 'linux' | 'windows' | 'vmware';
export type Algo = 'md5' | 'sha1' | 'sha256' | 'sha512';
export type SortKey = 'name' | 'created';
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export type Outcome = 'pending' | 'imported' | 'duplicate' | 'failed' | 'cancelled';
export type ArtifactRef = { id: number; name: string };
export type ExpectedDigest = { algo: Algo; hex: string; source: string };
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key in string]: JsonValue };
export type Artifact = {
  id: number; name: string; kind: Kind; os: OsFamily | null; distro: string | null; size: number; sha256: string;
  md5?: string | null; sha1?: string | null; sha512?: string | null; image: ArtifactRef | null; used_by: ArtifactRef[];
  original_name: string; description: string; version: string; tags: string[]; detected: JsonValue; created_at: string; updated_at: string;
};
export type ArtifactPatch = { name: string | null; description: string | null; version: string | null; tags: string[] | null };
export type ArtifactQuery = { kind: Kind | null; os: OsFamily | null; search: string | null; sort: SortKey; descending: boolean; limit: number | null; offset: number };
export type JobSummary = {
  id: number; kind: string; state: JobState; created_at: string; started_at: string | null; finished_at: string | null; item_count: number;
  failed_count: number; phase: string; bytes_done: number; bytes_total: number; rate_bps: number; eta_seconds: number | null; summary: string; error: IpcError | null;
};
export type JobItem = { seq: number; path: string; size: number | null; outcome: Outcome; artifact: ArtifactRef | null; error: IpcError | null };
export type JobDetail = JobSummary & { items: JobItem[] };
export type JobQuery = { state: JobState | null; kind: string | null; before_id: number | null; limit: number | null };
export type JobProgress = {
  job_id: number; state: JobState; phase: string; item_index: number; item_count: number; item_path: string; item_bytes_done: number;
  item_bytes_total: number; bytes_done: number; bytes_total: number; rate_bps: number; eta_seconds: number | null;
};
export type PlanRequest = { paths: string[]; checksum_files: string[] };
export type ChecksumFileReport = { path: string; file_name: string; format: string; entries: number; matched: string[]; error: IpcError | null };
export type PlanItem = {
  path: string; file_name: string; size: number; format: string; kind: Kind | null; allowed_kinds: Kind[]; os: OsFamily | null; distro: string | null; allowed_os: OsFamily[];
  os_required: boolean; expected: ExpectedDigest | null; refused: IpcError | null; detected: JsonValue;
};
export type ImportPlan = { items: PlanItem[]; checksum_files: ChecksumFileReport[] };
export type ImportItem = { path: string; kind: Kind | null; os: string | null; image: string | null; name: string | null; expected: ExpectedDigest | null };
export type ImportRequest = { items: ImportItem[]; checksum_files: string[] };
export type RepositoryInfo = { root: string; app_version: string };
export type JobsChanged = { stamp: number };
export type CatalogChanged = { stamp: number };
