// Jobs panel state: jobs this window started (live progress over their channel) merged with the
// newest jobs from the catalog (so a CLI import running alongside shows up too).
import { api, asIpcError, type ImportRequest, type ManifestImportRequest, type SnapshotImageReport, type SnapshotImageRequest, type StoreImportRequest, type UrlImportRequest, type IpcError, type JobDetail, type JobKind, type JobProgress, type JobSummary } from '$lib/ipc/client';
import { baseName, isFinished, jobLabel } from '$lib/format';
import type { Toasts, ToastTone } from '../toasts/toasts.svelte';

export const RECENT_LIMIT = 20;

/** The files of an import job that failed, to try again through the import review (where a wrong
 * checksum or OS can be corrected first). Other kinds: none. */
export function failedFiles(detail: JobDetail | null | undefined): string[] {
  if (!detail || detail.kind !== 'import') return [];
  return detail.items.filter((i) => i.outcome === 'failed').map((i) => i.path);
}

export class JobsStore {
  /** Newest jobs from the catalog, newest first. */
  recent = $state.raw<JobSummary[]>([]);
  /** Latest progress tick per job started from this window. */
  live = $state.raw<Record<number, JobProgress>>({});
  /** Items and errors of finished jobs that had failures (loaded when they finish). */
  details = $state.raw<Record<number, JobDetail>>({});
  loadError = $state<IpcError | null>(null);

  #toasts: Toasts | null;
  #onFinished: (tick: JobProgress) => void;
  #showArtifact: ((id: number) => void) | null;
  /** Kinds of jobs started from this window, by id (ticks do not carry the kind). */
  #kinds: Record<number, JobKind> = {};
  /** Jobs whose success toast offers "Show in library" for the artifact they made. */
  #offerShow = new Set<number>();

  constructor(opts: { toasts?: Toasts; onFinished?: (tick: JobProgress) => void; showArtifact?: (id: number) => void } = {}) {
    this.#toasts = opts.toasts ?? null;
    this.#onFinished = opts.onFinished ?? (() => {});
    this.#showArtifact = opts.showArtifact ?? null;
  }

  get runningCount(): number {
    return this.recent.filter((j) => !isFinished(this.stateOf(j))).length;
  }

  stateOf(job: JobSummary): JobSummary['state'] {
    return this.live[job.id]?.state ?? job.state;
  }

  async refresh(): Promise<void> {
    try {
      const rows = await api.listJobs({ state: null, kind: null, before_id: null, limit: RECENT_LIMIT });
      this.recent = rows;
      this.loadError = null;
      for (const job of rows) {
        if (isFinished(job.state) && job.failed_count > 0 && !this.details[job.id] && this.live[job.id]) {
          void this.loadDetail(job.id);
        }
      }
    } catch (e) {
      this.loadError = asIpcError(e);
    }
  }

  async start(request: ImportRequest): Promise<number> {
    const id = await api.startImport(request, (tick) => this.applyProgress(tick));
    this.track(id, 'import', request.items.length);
    return id;
  }

  /** Download http(s) URLs and import them (one item per file URL; checksum-file URLs verify them). */
  async startUrls(request: UrlImportRequest): Promise<number> {
    const id = await api.startUrlImport(request, (tick) => this.applyProgress(tick));
    this.track(id, 'import', request.urls.length);
    return id;
  }

  /** Download images chosen in a store and import them (one item per image). */
  async startStore(request: StoreImportRequest): Promise<number> {
    const id = await api.startStoreImport(request, (tick) => this.applyProgress(tick));
    this.track(id, 'import', request.ids.length);
    return id;
  }

  /** Download the image an IMGAPI manifest describes and import it. */
  async startManifest(request: ManifestImportRequest): Promise<number> {
    const id = await api.startManifestImport(request, (tick) => this.applyProgress(tick));
    this.track(id, 'import', 1);
    return id;
  }

  /** Cut one snapshot of one disk into the library (one item: extracting, hashing, committing);
   *  the success toast offers to show the new image in the library. */
  async startSnapshotImage(request: SnapshotImageRequest, onReport: (report: SnapshotImageReport) => void = () => {}): Promise<number> {
    const id = await api.startSnapshotImage(request, (tick) => this.applyProgress(tick), onReport);
    this.#offerShow.add(id);
    this.track(id, 'snapshot_image', 1);
    return id;
  }

  /** Re-hash stored files (ids or names; none: the whole repository) as a job shown at once. */
  async verify(artifacts: string[]): Promise<number> {
    const id = await api.startVerify(artifacts, (tick) => this.applyProgress(tick));
    this.track(id, 'verify', Math.max(artifacts.length, 1));
    return id;
  }

  /** Show a job this window just started (its ticks come through `applyProgress`) at once. */
  track(id: number, kind: JobKind, itemCount = 1): void {
    this.#kinds[id] = kind;
    if (!this.recent.some((j) => j.id === id)) {
      const now = new Date().toISOString();
      const placeholder: JobSummary = {
        id, kind, state: this.live[id]?.state ?? 'queued', created_at: now, started_at: null, finished_at: null,
        item_count: itemCount, failed_count: 0, phase: 'queued', bytes_done: 0, bytes_total: 0,
        rate_bps: 0, eta_seconds: null, summary: '', error: null, run_by: null,
      };
      this.recent = [placeholder, ...this.recent];
    }
    void this.refresh();
  }

  applyProgress(tick: JobProgress): void {
    const before = this.live[tick.job_id];
    this.live = { ...this.live, [tick.job_id]: tick };
    if (isFinished(tick.state) && (!before || !isFinished(before.state))) void this.#finished(tick);
    this.#showProgress();
  }

  /** How far this window's running jobs are, together: percent of their bytes (null while no
   * byte count is known yet) and how many run. */
  get progress(): { percent: number | null; running: number } {
    const running = Object.values(this.live).filter((t) => !isFinished(t.state));
    const total = running.reduce((n, t) => n + t.bytes_total, 0);
    const done = running.reduce((n, t) => n + t.bytes_done, 0);
    return { percent: total > 0 ? Math.floor((100 * done) / total) : null, running: running.length };
  }

  #shown = '';
  /** Put the progress in the window title (task bar, window switcher) when it changed. */
  #showProgress(): void {
    const { percent, running } = this.progress;
    const key = `${percent}:${running}`;
    if (key === this.#shown) return;
    this.#shown = key;
    api.showProgress(percent, running).catch(() => {});
  }

  async #finished(tick: JobProgress): Promise<void> {
    await this.refresh();
    const job = this.recent.find((j) => j.id === tick.job_id);
    const detail = await this.loadDetail(tick.job_id);
    const failed = detail?.items.filter((i) => i.outcome === 'failed').length ?? job?.failed_count ?? 0;
    // One item: the artifact it made when there is one (a store image's URL ends in …/file), else its file.
    const one = detail?.items.length === 1 ? detail.items[0]! : null;
    const what = one ? (one.artifact?.name ?? baseName(one.path)) : `${tick.item_count} files`;
    const label = jobLabel(detail?.kind ?? job?.kind ?? this.#kinds[tick.job_id] ?? 'import');
    const total = detail?.items.length ?? tick.item_count;
    const [tone, title, body]: [ToastTone, string, string | undefined] =
      tick.state === 'succeeded' && failed === 0 ? ['success', `${label} finished: ${what}`, job?.summary]
      : tick.state === 'cancelled' ? ['info', `${label} cancelled: ${what}`, 'Nothing from the cancelled job was kept.']
      : tick.state === 'partly_succeeded' ? ['error', `${label} partly succeeded: ${total - failed} of ${total} done, ${failed} failed`, job?.summary]
      : total > 1 ? ['error', `${label} failed for all ${total} files`, job?.summary]
      : ['error', `${label} failed: ${what}`, job?.summary];
    const made = tone === 'success' && this.#offerShow.has(tick.job_id) ? one?.artifact : null;
    this.#offerShow.delete(tick.job_id);
    const show = this.#showArtifact;
    const action = made && show ? { label: 'Show in library', run: () => show(made.id) } : undefined;
    this.#toasts?.push(tone, title, body, action ? { action, timeoutMs: 12_000 } : {});
    // The desktop says it too when the person is in another window (the shell checks focus).
    api.notifyJobFinished(title, body ?? '').catch(() => {});
    this.#onFinished(tick);
  }

  async loadDetail(id: number): Promise<JobDetail | null> {
    try {
      const detail = await api.getJob(id);
      this.details = { ...this.details, [id]: detail };
      return detail;
    } catch {
      return null;
    }
  }

  async cancel(id: number): Promise<void> {
    try {
      await api.cancelJob(id);
    } catch (e) {
      this.#toasts?.push('error', 'Could not cancel the job', asIpcError(e).text);
    }
  }
}
