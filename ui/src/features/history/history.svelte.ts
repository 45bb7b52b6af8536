// History state: every job newest first, filtered by state and kind, fetched a page at a time with
// keyset paging (before the last id seen), so 100,000 jobs open as fast as 10; and who deleted what.
import {
  api, asIpcError, type DeletedKind, type Deletion, type IpcError, type JobDetail, type JobKind, type JobQuery, type JobState, type JobSummary,
} from '$lib/ipc/client';
import { isFinished } from '$lib/format';

export const PAGE = 200;
/** The deletions dialog shows this many, newest first. */
export const DELETIONS_SHOWN = 500;

export class History {
  state = $state<JobState | null>(null);
  kind = $state<JobKind | null>(null);
  items = $state.raw<JobSummary[]>([]);
  total = $state(0);
  exhausted = $state(false);
  loading = $state(false);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  openId = $state<number | null>(null);
  detail = $state<JobDetail | null>(null);
  detailError = $state<IpcError | null>(null);
  /** The "Deleted" dialog: open, its kind filter, its rows (read again with the history while open). */
  deletionsOpen = $state(false);
  deletedWhat = $state<DeletedKind | null>(null);
  deletions = $state.raw<Deletion[]>([]);
  deletionsLoaded = $state(false);
  deletionsError = $state<IpcError | null>(null);
  #generation = 0;
  #deletionsGeneration = 0;

  async showDeletions(): Promise<void> {
    this.deletionsOpen = true;
    await this.loadDeletions();
  }

  async loadDeletions(): Promise<void> {
    const generation = ++this.#deletionsGeneration;
    try {
      const rows = await api.listDeletions(this.deletedWhat, DELETIONS_SHOWN);
      if (generation !== this.#deletionsGeneration) return;
      this.deletions = rows;
      this.deletionsError = null;
    } catch (e) {
      if (generation === this.#deletionsGeneration) this.deletionsError = asIpcError(e);
    } finally {
      if (generation === this.#deletionsGeneration) this.deletionsLoaded = true;
    }
  }

  query(beforeId: number | null): JobQuery {
    return { state: this.state, kind: this.kind, before_id: beforeId, limit: PAGE };
  }

  async load(): Promise<void> {
    const generation = ++this.#generation;
    if (this.deletionsOpen) void this.loadDeletions();
    this.loading = true;
    try {
      const [total, rows] = await Promise.all([api.countJobs(this.query(null)), api.listJobs(this.query(null))]);
      if (generation !== this.#generation) return;
      this.total = total;
      this.items = rows;
      this.exhausted = rows.length < PAGE;
      this.error = null;
      // The open job, when it was still running (another desktop's ends here too): read again,
      // kept on screen meanwhile. An ended job does not change.
      if (this.detail && !isFinished(this.detail.state)) void this.#read(this.detail.id);
    } catch (e) {
      if (generation === this.#generation) this.error = asIpcError(e);
    } finally {
      if (generation === this.#generation) {
        this.loading = false;
        this.loaded = true;
      }
    }
  }

  async loadMore(): Promise<void> {
    if (this.loading || this.exhausted || this.items.length === 0) return;
    const generation = this.#generation;
    this.loading = true;
    try {
      const last = this.items[this.items.length - 1]!;
      const rows = await api.listJobs(this.query(last.id));
      if (generation !== this.#generation) return;
      this.items = [...this.items, ...rows];
      this.exhausted = rows.length < PAGE;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loading = false;
    }
  }

  /** Job `id`'s details, unless another job was opened meanwhile. */
  async #read(id: number): Promise<void> {
    try {
      const detail = await api.getJob(id);
      if (this.openId === id) this.detail = detail;
    } catch (e) {
      if (this.openId === id) this.detailError = asIpcError(e);
    }
  }

  async open(id: number | null): Promise<void> {
    this.openId = id;
    this.detail = null;
    this.detailError = null;
    if (id != null) await this.#read(id);
  }
}
