// Library state: filtered, sorted pages of artifacts (loaded as the list scrolls), the focused
// artifact and the multi-selection, editing, deleting (one at once, or many after an undo window),
// marking in-use ones deleted instead, and tagging many.
import { api, asIpcError, type Access, type Artifact, type ArtifactPatch, type ArtifactQuery, type IpcError, type Kind, type OsFamily, type OsRelease, type SortKey } from '$lib/ipc/client';

export const PAGE = 300;

/** What a bulk action did: the artifacts it changed, and each that failed with the engine's error. */
export type BulkReport = { done: Artifact[]; failed: Array<{ artifact: Artifact; error: IpcError }> };

/** Why an artifact cannot be deleted along with `others` (the engine refuses it), or null. */
export function deleteBlockers(a: Artifact, others: ReadonlySet<number> = new Set()): string[] {
  return [
    ...a.profiles.map((p) => `the profile ${p}`),
    ...a.used_by.filter((r) => !others.has(r.id)).map((r) => r.name),
  ];
}

/** A bulk delete in its undo window. */
export type PendingDelete = { done: Promise<BulkReport | null>; /** false once the deletes have begun */ undo: () => boolean };

export class Catalog {
  kind = $state<Kind | null>(null);
  os = $state<OsFamily | null>(null);
  search = $state('');
  sort = $state<SortKey>('name');
  descending = $state(false);
  /** Only artifacts with this access (deleted ones are shown when it is "deleted"). */
  access = $state<Access | null>(null);
  /** Deleted artifacts too (hidden unless asked for, as `list` hides them). */
  showDeleted = $state(false);
  /** Only images of this exact OS release (libosinfo short id), from `releases`. */
  osId = $state<string | null>(null);
  /** The exact OS releases the library holds, for the release filter. */
  releases = $state.raw<OsRelease[]>([]);

  items = $state.raw<Artifact[]>([]);
  /** How many artifacts match the filters (less those waiting to be deleted). */
  total = $state(0);
  loading = $state(false);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  /** The focused artifact: the one the details pane shows (the last clicked). */
  selectedId = $state<number | null>(null);
  selected = $state<Artifact | null>(null);
  /** The artifacts chosen for a bulk action, by id (with the focused one when chosen by a plain click). */
  selection = $state.raw<ReadonlyMap<number, Artifact>>(new Map());
  /** Taken out of the list, deleted when the undo window ends (`deleteLater`). */
  pendingDelete = $state.raw<Artifact[]>([]);

  #generation = 0;
  /** Rows the server has handed over for the current filters (the next page's offset). */
  #fetched = 0;
  #serverTotal = 0;
  /** Where the selection's range starts (the last plain or Ctrl click). */
  #anchor: number | null = null;
  #filterKey = '';
  #pendingTimer: ReturnType<typeof setTimeout> | undefined;
  #pendingDone: ((report: BulkReport | null) => void) | null = null;
  #deleting: Promise<void> = Promise.resolve();
  /** Being deleted right now (the undo window is over). */
  #inFlight: Artifact[] = [];

  query(offset: number): ArtifactQuery {
    const search = this.search.trim();
    return {
      kind: this.kind, os: this.os, search: search === '' ? null : search,
      sort: this.sort, descending: this.descending, limit: PAGE, offset,
      access: this.access, all: this.showDeleted, os_id: this.osId,
    };
  }

  get hasMore(): boolean {
    return this.#fetched < this.#serverTotal;
  }

  /** The selection in list order (those not loaded at the moment last). */
  get selectedItems(): Artifact[] {
    const listed = this.items.filter((a) => this.selection.has(a.id));
    const rest = [...this.selection.values()].filter((a) => !listed.some((l) => l.id === a.id));
    return [...listed, ...rest];
  }

  /** Reload from the first page (filters changed, or the catalog changed). */
  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    const filterKey = JSON.stringify([this.kind, this.os, this.search.trim(), this.access, this.showDeleted, this.osId]);
    try {
      const [total, rows, releases] = await Promise.all([
        api.countArtifacts(this.query(0)), api.listArtifacts(this.query(0)), api.listOsReleases().catch(() => this.releases),
      ]);
      this.releases = releases;
      if (generation !== this.#generation) return;
      this.#serverTotal = total;
      this.#fetched = rows.length;
      this.items = this.#visible(rows);
      this.#countVisible();
      this.error = null;
      // Other filters hide part of a selection: a bulk action must not reach what is not shown.
      if (filterKey !== this.#filterKey) this.#collapseSelection();
      this.#filterKey = filterKey;
      this.#refreshSelection(rows);
      if (this.selectedId != null) await this.#show(this.selectedId, true);
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
      const rows = await api.listArtifacts(this.query(this.#fetched));
      if (generation === this.#generation) {
        this.#fetched += rows.length;
        this.items = [...this.items, ...this.#visible(rows)];
        this.#refreshSelection(rows);
      }
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loading = false;
    }
  }

  /** Load every remaining page (End in the list goes to the real end of the library). */
  async loadAll(): Promise<void> {
    while (this.hasMore && !this.error) {
      const before = this.#fetched;
      await this.loadMore();
      if (this.#fetched === before) break; // another load ran, or the library shrank meanwhile
    }
  }

  /** Focus one artifact and make it the whole selection (a plain click, an arrow key, a link). */
  async select(id: number | null, quiet = false): Promise<void> {
    const a = id == null ? undefined : this.items.find((x) => x.id === id);
    this.selection = a ? new Map([[a.id, a]]) : new Map();
    this.#anchor = id;
    await this.#show(id, quiet);
    // not among the rows loaded (a link in the details pane): selected as fetched
    if (id != null && this.selectedId === id && this.selected && this.selection.size === 0) this.selection = new Map([[id, this.selected]]);
  }

  /** Ctrl+click: add the artifact to the selection or take it out; it becomes the focused one. */
  async toggle(id: number): Promise<void> {
    const next = new Map(this.selection);
    const a = this.items.find((x) => x.id === id);
    if (next.has(id)) next.delete(id);
    else if (a) next.set(id, a);
    this.selection = next;
    this.#anchor = id;
    await this.#show(id);
  }

  /** Shift+click, Shift+arrow: select from the anchor to this artifact (added to the selection with `add`). */
  async extendTo(id: number, add = false): Promise<void> {
    const to = this.items.findIndex((x) => x.id === id);
    if (to < 0) return;
    let from = this.items.findIndex((x) => x.id === (this.#anchor ?? this.selectedId));
    if (from < 0) {
      from = to;
      this.#anchor = id;
    }
    const [lo, hi] = from <= to ? [from, to] : [to, from];
    const next = new Map(add ? this.selection : []);
    for (const a of this.items.slice(lo, hi + 1)) next.set(a.id, a);
    this.selection = next;
    await this.#show(id);
  }

  /** Move the focus (the details pane) without changing the selection (Ctrl+arrow). */
  async focus(id: number): Promise<void> {
    await this.#show(id);
  }

  /** Ctrl+A: every artifact that matches the filters (all pages are loaded first). */
  async selectAll(): Promise<void> {
    await this.loadAll();
    this.selection = new Map(this.items.map((a) => [a.id, a]));
  }

  /** Escape, "Clear": back to just the focused artifact. */
  clearSelection(): void {
    this.#collapseSelection();
    this.#anchor = this.selectedId;
  }

  #collapseSelection(): void {
    const focused = this.selectedId == null ? undefined : this.selection.get(this.selectedId) ?? this.items.find((a) => a.id === this.selectedId);
    this.selection = focused ? new Map([[focused.id, focused]]) : new Map();
  }

  /** Show an artifact in the details pane (fetched whole: associations, publications). */
  async #show(id: number | null, quiet = false): Promise<void> {
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
      this.#replace(updated);
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  /** Delete; returns the refusal (e.g. `in_use`) to show, or null when it is gone. */
  async remove(id: number): Promise<IpcError | null> {
    try {
      await api.deleteArtifact(id);
      this.#forget(id);
      if (this.selectedId === id) await this.select(null);
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  /** Mark an artifact deleted instead of deleting it (what the engine's `in_use` refusal offers):
   *  hidden from the list and from new profiles and publishing; what uses it keeps working. It stays
   *  in the details pane, saying so. Returns the error to show, or null. */
  async markDeleted(id: number): Promise<IpcError | null> {
    const err = await this.save(id, { name: null, description: null, version: null, tags: null, access: 'deleted' });
    if (!err) await this.load();
    return err;
  }

  /** Mark each of these deleted (the bulk delete's in-use ones); one update each, then one reload. */
  async markEachDeleted(artifacts: Artifact[]): Promise<BulkReport> {
    const report: BulkReport = { done: [], failed: [] };
    for (const a of artifacts) {
      try {
        const updated = await api.updateArtifact(a.id, { name: null, description: null, version: null, tags: null, access: 'deleted' });
        this.#replace(updated);
        report.done.push(updated);
      } catch (e) {
        report.failed.push({ artifact: a, error: asIpcError(e) });
      }
    }
    if (report.done.length > 0) await this.load();
    return report;
  }

  /** Add tags to each artifact (merged into its own; one update each), e.g. the selection. */
  async addTags(artifacts: Artifact[], tags: string[]): Promise<BulkReport> {
    const report: BulkReport = { done: [], failed: [] };
    for (const a of artifacts) {
      const merged = [...a.tags, ...tags.filter((t) => !a.tags.includes(t))];
      if (merged.length === a.tags.length) {
        report.done.push(a);
        continue;
      }
      try {
        const updated = await api.updateArtifact(a.id, { name: null, description: null, version: null, tags: merged });
        this.#replace(updated);
        report.done.push(updated);
      } catch (e) {
        report.failed.push({ artifact: a, error: asIpcError(e) });
      }
    }
    return report;
  }

  /** Take these artifacts out of the list now and delete them, one after another, once `undoMs` has
   *  passed, unless `undo` puts them back first. Deletes still waiting from an earlier call are done
   *  at once. `done` resolves when these are deleted (with what failed) or undone (null). */
  deleteLater(artifacts: Artifact[], undoMs: number): PendingDelete {
    void this.flushDeletes();
    const ids = new Set(artifacts.map((a) => a.id));
    // dependents first: an OS image can go once the files that name it as their image are gone
    const batch = [...artifacts].sort((a, b) => Number(a.used_by.length > 0) - Number(b.used_by.length > 0));
    // the focus moves on to the next artifact that stays (or the one before, at the end)
    const at = this.items.findIndex((a) => a.id === this.selectedId);
    const next = this.items.slice(at + 1).find((a) => !ids.has(a.id)) ?? this.items.slice(0, Math.max(0, at)).reverse().find((a) => !ids.has(a.id));
    this.pendingDelete = batch;
    this.items = this.items.filter((a) => !ids.has(a.id));
    this.#countVisible();
    this.selection = new Map([...this.selection].filter(([id]) => !ids.has(id)));
    if (this.selectedId != null && ids.has(this.selectedId)) void this.select(next?.id ?? null);
    const done = new Promise<BulkReport | null>((resolve) => { this.#pendingDone = resolve; });
    this.#pendingTimer = setTimeout(() => void this.flushDeletes(), undoMs);
    return { done, undo: () => (this.pendingDelete === batch ? this.#undo() : false) };
  }

  /** Put the artifacts waiting to be deleted back where they were, selected. */
  #undo(): boolean {
    clearTimeout(this.#pendingTimer);
    const back = this.pendingDelete;
    const done = this.#pendingDone;
    this.pendingDelete = [];
    this.#pendingDone = null;
    this.#putBack(back);
    this.selection = new Map(back.map((a) => [a.id, a]));
    done?.(null);
    return true;
  }

  /** Delete what waits for the undo window now (it ended, or another bulk delete starts); resolves
   *  when every delete asked for so far has answered. */
  flushDeletes(): Promise<void> {
    clearTimeout(this.#pendingTimer);
    const batch = this.pendingDelete;
    const done = this.#pendingDone;
    this.pendingDelete = [];
    this.#pendingDone = null;
    if (batch.length === 0) return this.#deleting;
    // still hidden (so a reload does not bring them back) until each delete has answered
    this.#inFlight = [...this.#inFlight, ...batch];
    this.#deleting = this.#deleting.then(async () => {
      const report: BulkReport = { done: [], failed: [] };
      for (const a of batch) {
        try {
          await api.deleteArtifact(a.id);
          report.done.push(a);
          this.#fetched = Math.max(0, this.#fetched - 1);
          this.#serverTotal = Math.max(0, this.#serverTotal - 1);
        } catch (e) {
          report.failed.push({ artifact: a, error: asIpcError(e) });
        }
        this.#inFlight = this.#inFlight.filter((p) => p.id !== a.id);
      }
      this.#putBack(report.failed.map((f) => f.artifact));
      done?.(report);
    });
    return this.#deleting;
  }

  /** Put artifacts back into the list at their place in its order. */
  #putBack(artifacts: Artifact[]): void {
    const items = [...this.items];
    for (const a of artifacts) {
      if (items.some((x) => x.id === a.id)) continue;
      const after = items.findIndex((x) => this.#compare(a, x) < 0);
      items.splice(after < 0 ? items.length : after, 0, a);
    }
    this.items = items;
    this.#countVisible();
  }

  /** The list's order, as the engine sorts (name without case, creation time or size; then id). */
  #compare(a: Artifact, b: Artifact): number {
    const key = (x: Artifact): string | number => (this.sort === 'name' ? x.name.toLowerCase() : this.sort === 'size' ? x.size : x.created_at);
    const order = key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id - b.id;
    return this.descending ? -order : order;
  }

  #visible(rows: Artifact[]): Artifact[] {
    const hidden = new Set([...this.pendingDelete, ...this.#inFlight].map((a) => a.id));
    if (hidden.size === 0) return rows;
    return rows.filter((a) => !hidden.has(a.id));
  }

  /** The total less what waits to be deleted (those that match the filters). */
  #countVisible(): void {
    const matching = [...this.pendingDelete, ...this.#inFlight].filter((a) => this.#matches(a));
    this.total = Math.max(0, this.#serverTotal - matching.length);
  }

  /** Whether the filters take this artifact, as the engine's search does: every word in the name,
   *  description, version, original name or a tag; 6+ hex digits also at the start of a digest. */
  #matches(a: Artifact): boolean {
    if ((this.kind != null && a.kind !== this.kind) || (this.os != null && a.os !== this.os)) return false;
    if (this.access != null ? a.access !== this.access : a.access === 'deleted' && !this.showDeleted) return false;
    if (this.osId != null && a.os_id !== this.osId && !(a.os_id ?? '').startsWith(`${this.osId}.`)) return false;
    const text = [a.name, a.alias ?? '', a.description, a.version, a.original_name, a.os_id ?? '', a.os_name ?? '', ...a.tags].map((t) => t.toLowerCase());
    const digests = [a.sha256, a.md5, a.sha1, a.sha512].filter((d): d is string => typeof d === 'string');
    return this.search.trim().toLowerCase().split(/\s+/).filter((w) => w !== '').every((word) =>
      text.some((t) => t.includes(word)) || (/^[0-9a-f]{6,}$/.test(word) && digests.some((d) => d.startsWith(word))));
  }

  /** Keep the selection's copies as fresh as the rows just loaded. */
  #refreshSelection(rows: Artifact[]): void {
    if (!rows.some((a) => this.selection.has(a.id))) return;
    const next = new Map(this.selection);
    for (const a of rows) if (next.has(a.id)) next.set(a.id, a);
    this.selection = next;
  }

  #replace(updated: Artifact): void {
    if (this.selected?.id === updated.id) this.selected = updated;
    this.items = this.items.map((a) => (a.id === updated.id ? updated : a));
    if (this.selection.has(updated.id)) this.selection = new Map([...this.selection].map(([id, a]) => [id, id === updated.id ? updated : a]));
  }

  #forget(id: number): void {
    if (this.items.some((a) => a.id === id)) this.#fetched = Math.max(0, this.#fetched - 1);
    this.items = this.items.filter((a) => a.id !== id);
    this.#serverTotal = Math.max(0, this.#serverTotal - 1);
    this.#countVisible();
    if (this.selection.has(id)) this.selection = new Map([...this.selection].filter(([k]) => k !== id));
  }
}
