// Library state: filtered, sorted pages of artifacts (loaded as the list scrolls), the selection,
// editing and deleting.
import { api, asIpcError, type Artifact, type ArtifactPatch, type ArtifactQuery, type IpcError, type Kind, type OsFamily, type SortKey } from '$lib/ipc/client';

export const PAGE = 300;

export class Catalog {
  kind = $state<Kind | null>(null);
  os = $state<OsFamily | null>(null);
  search = $state('');
  sort = $state<SortKey>('name');
  descending = $state(false);

  items = $state.raw<Artifact[]>([]);
  total = $state(0);
  loading = $state(false);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  selectedId = $state<number | null>(null);
  selected = $state<Artifact | null>(null);
  #generation = 0;

  query(offset: number): ArtifactQuery {
    const search = this.search.trim();
    return {
      kind: this.kind, os: this.os, search: search === '' ? null : search,
      sort: this.sort, descending: this.descending, limit: PAGE, offset,
    };
  }

  get hasMore(): boolean {
    return this.items.length < this.total;
  }

  /** Reload from the first page (filters changed, or the catalog changed). */
  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    try {
      const [total, rows] = await Promise.all([api.countArtifacts(this.query(0)), api.listArtifacts(this.query(0))]);
      if (generation !== this.#generation) return;
      this.total = total;
      this.items = rows;
      this.error = null;
      if (this.selectedId != null) await this.select(this.selectedId, true);
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
    if (this.loading || !this.hasMore) return;
    const generation = this.#generation;
    this.loading = true;
    try {
      const rows = await api.listArtifacts(this.query(this.items.length));
      if (generation === this.#generation) this.items = [...this.items, ...rows];
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loading = false;
    }
  }

  /** Load every remaining page (End in the list goes to the real end of the library). */
  async loadAll(): Promise<void> {
    while (this.hasMore && !this.error) {
      const before = this.items.length;
      await this.loadMore();
      if (this.items.length === before) break; // another load ran, or the library shrank meanwhile
    }
  }

  async select(id: number | null, quiet = false): Promise<void> {
    this.selectedId = id;
    if (id == null) {
      this.selected = null;
      return;
    }
    try {
      const artifact = await api.getArtifact(String(id));
      if (this.selectedId === id) this.selected = artifact;
    } catch (e) {
      if (this.selectedId === id) {
        this.selected = null;
        this.selectedId = null;
        if (!quiet) this.error = asIpcError(e);
      }
    }
  }

  /** Save edits; returns the error to show beside the form, or null. */
  async save(id: number, patch: ArtifactPatch): Promise<IpcError | null> {
    try {
      const updated = await api.updateArtifact(id, patch);
      this.selected = updated;
      this.items = this.items.map((a) => (a.id === id ? updated : a));
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  /** Delete; returns the refusal (e.g. `in_use`) to show, or null when it is gone. */
  async remove(id: number): Promise<IpcError | null> {
    try {
      await api.deleteArtifact(id);
      this.items = this.items.filter((a) => a.id !== id);
      this.total = Math.max(0, this.total - 1);
      if (this.selectedId === id) await this.select(null);
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }
}
