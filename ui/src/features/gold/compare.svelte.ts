// The side-by-side diff of two gold image versions: one row per differing path with what each
// version has there (size, mode, short sha256, link target), grouped by what changed, filtered by
// that and by a path search. Built from the two manifests (gold_files) and the engine's diff.
import { api, asIpcError, type Drift, type GoldEntry, type GoldImage, type IpcError } from '$lib/ipc/client';
import { bytes } from '$lib/format';

/** What differs at a path: the engine's Drift lists, by name. */
export type DiffTag = keyof Drift;

/** The groups in the order they are shown. */
export const DIFF_TAGS: DiffTag[] = ['changed', 'added', 'removed', 'mode_changed'];

export const DIFF_TAG_LABELS: Record<DiffTag, string> = { changed: 'Changed', added: 'Added', removed: 'Removed', mode_changed: 'Mode changed' };

/** One differing path: the group it is shown in (its first tag), every tag it has, and each side's entry (null: absent). */
export type DiffRow = { path: string; tag: DiffTag; tags: DiffTag[]; left: GoldEntry | null; right: GoldEntry | null };

/** What the virtual list shows: group headers (when every group is shown) and rows. */
export type DiffLine = { type: 'group'; tag: DiffTag; count: number } | { type: 'row'; row: DiffRow };

/** Permission bits as the shell writes them: 0755. */
export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** The first 12 hex digits of a sha256 (enough to tell contents apart at a glance). */
export function shortSha(sha: string | null): string | null {
  return sha ? sha.slice(0, 12) : null;
}

/** What one side has at a path, as the cells show it (null parts are left out). */
export type Cell = { what: string; size: string | null; mode: string | null; sha: string | null; target: string | null };

export function cell(e: GoldEntry | null): Cell | null {
  if (!e) return null;
  if (e.kind === 'symlink') return { what: 'link', size: null, mode: null, sha: null, target: e.target ?? '' };
  if (e.kind === 'dir') return { what: 'folder', size: null, mode: octal(e.mode), sha: null, target: null };
  return { what: e.link ? `hardlink of ${e.link}` : 'file', size: bytes(e.size), mode: octal(e.mode), sha: shortSha(e.sha256), target: null };
}

/** The full text of a side, for a tooltip and screen readers. */
export function cellText(e: GoldEntry | null): string {
  const c = cell(e);
  if (!c) return 'absent';
  return [c.what, c.size, c.mode, c.sha && `sha256 ${e?.sha256}`, c.target != null && `→ ${c.target}`].filter(Boolean).join(', ');
}

const order = (t: DiffTag) => DIFF_TAGS.indexOf(t);

/** One row per path of `drift`, with each side's manifest entry, in group then path order. */
export function diffRows(drift: Drift, left: GoldEntry[], right: GoldEntry[]): DiffRow[] {
  const l = new Map(left.map((e) => [e.path, e]));
  const r = new Map(right.map((e) => [e.path, e]));
  const rows = new Map<string, DiffRow>();
  for (const tag of DIFF_TAGS) {
    for (const path of drift[tag]) {
      const row = rows.get(path);
      if (row) row.tags.push(tag);
      else rows.set(path, { path, tag, tags: [tag], left: l.get(path) ?? null, right: r.get(path) ?? null });
    }
  }
  return [...rows.values()].sort((a, b) => order(a.tag) - order(b.tag) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const SWAPPED: Record<DiffTag, DiffTag> = { changed: 'changed', added: 'removed', removed: 'added', mode_changed: 'mode_changed' };

/** The same rows seen from the other side: added and removed trade places. */
export function swapRows(rows: DiffRow[]): DiffRow[] {
  const swapped = rows.map((x) => {
    const tags = x.tags.map((t) => SWAPPED[t]).sort((a, b) => order(a) - order(b));
    return { path: x.path, tag: tags[0]!, tags, left: x.right, right: x.left };
  });
  return swapped.sort((a, b) => order(a.tag) - order(b.tag) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export class SideBySide {
  open = $state(false);
  left = $state.raw<GoldImage | null>(null);
  right = $state.raw<GoldImage | null>(null);
  rows = $state.raw<DiffRow[]>([]);
  loading = $state(false);
  error = $state<IpcError | null>(null);
  /** The group shown, or every group. */
  filter = $state<DiffTag | 'all'>('all');
  search = $state('');
  #seq = 0;

  /** Open the view on `left` (the older version) and `right`, and load both manifests and the diff. */
  async show(left: GoldImage, right: GoldImage): Promise<void> {
    this.open = true;
    this.left = left;
    this.right = right;
    this.filter = 'all';
    this.search = '';
    this.rows = [];
    this.error = null;
    this.loading = true;
    const seq = ++this.#seq;
    try {
      const [drift, l, r] = await Promise.all([api.diffGold(left.name, right.name), api.goldFiles(left.name), api.goldFiles(right.name)]);
      if (seq === this.#seq) this.rows = diffRows(drift, l, r);
    } catch (e) {
      if (seq === this.#seq) this.error = asIpcError(e);
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  /** Put the right version on the left (no new request: added and removed trade places). */
  swap(): void {
    [this.left, this.right] = [this.right, this.left];
    this.rows = swapRows(this.rows);
  }

  close(): void {
    this.#seq++;
    this.open = false;
    this.rows = [];
    this.loading = false;
    this.error = null;
  }

  /** Rows having each tag, and every row. */
  get counts(): Record<DiffTag | 'all', number> {
    const c: Record<DiffTag | 'all', number> = { all: this.rows.length, changed: 0, added: 0, removed: 0, mode_changed: 0 };
    for (const row of this.rows) for (const t of row.tags) c[t]++;
    return c;
  }

  /** The rows the filter and the search (a part of the path, ignoring case) let through. */
  get matching(): DiffRow[] {
    const q = this.search.trim().toLowerCase();
    const f = this.filter;
    return this.rows.filter((r) => (f === 'all' || r.tags.includes(f)) && (q === '' || r.path.toLowerCase().includes(q)));
  }

  /** What the list shows: every group under its header, or the one group filtered to. */
  get lines(): DiffLine[] {
    const rows = this.matching;
    if (this.filter !== 'all') return rows.map((row) => ({ type: 'row', row }));
    const lines: DiffLine[] = [];
    const headers = new Map<DiffTag, { type: 'group'; tag: DiffTag; count: number }>();
    for (const row of rows) {
      let header = headers.get(row.tag);
      if (!header) {
        header = { type: 'group', tag: row.tag, count: 0 };
        headers.set(row.tag, header);
        lines.push(header);
      }
      header.count++;
      lines.push({ type: 'row', row });
    }
    return lines;
  }
}
