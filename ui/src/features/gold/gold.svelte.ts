// Gold images state: the images grouped by series, the open image with its files, working copies
// and their drift, the lifecycle actions (promote, archive, delete), its series (put in, take out,
// make current), provisioning and the diff of two versions (a summary here, side by side in
// compare.svelte.ts); and the capture review (a folder → counts → name, type, series → job).
import {
  api, asIpcError, type CapturePlan, type CaptureReport, type Drift, type GoldEntry, type GoldImage, type GoldState, type IpcError,
  type JobKind, type JobProgress, type ProvisionReport,
} from '$lib/ipc/client';
import { baseName } from '$lib/format';
import { GoldExport, GoldImport, NEW_SERIES } from './archive.svelte';
import { SideBySide } from './compare.svelte';

/** The states an image can be promoted to, in their order. */
export const PROMOTE_STATES: GoldState[] = ['testable', 'restricted', 'published'];

export const GOLD_STATE_LABELS: Record<GoldState, string> = {
  testable: 'Testable', restricted: 'Restricted', published: 'Published', archived: 'Archived',
};

/** The badge tone of a state. */
export const GOLD_STATE_TONES: Record<GoldState, string> = { testable: 'warn', restricted: 'accent', published: 'ok', archived: '' };

/** The image types offered; "other" takes the admin's own word. */
export const IMAGE_TYPES: Array<[string, string]> = [
  ['software', 'Software'],
  ['oracle-db', 'Oracle Database home'],
  ['oracle-gi', 'Oracle Grid Infrastructure home'],
  ['other', 'Other…'],
];

/** A series with its versions in order (images outside any series form the last group, series null). */
export type SeriesGroup = { series: string | null; images: GoldImage[] };

/** How many paths a drift or diff lists, all kinds together. */
export function driftCount(d: Drift): number {
  return d.changed.length + d.added.length + d.removed.length + d.mode_changed.length;
}

/** "2 changed, 1 added" — what differs, or "No differences". */
export function driftSummary(d: Drift): string {
  const parts: string[] = [];
  if (d.changed.length > 0) parts.push(`${d.changed.length} changed`);
  if (d.added.length > 0) parts.push(`${d.added.length} added`);
  if (d.removed.length > 0) parts.push(`${d.removed.length} removed`);
  if (d.mode_changed.length > 0) parts.push(`${d.mode_changed.length} mode changed`);
  return parts.length > 0 ? parts.join(', ') : 'No differences';
}

/** A working copy's last check: running, its drift and when, or why it failed. */
export type CopyCheck = { checking: boolean; drift: Drift | null; error: IpcError | null; at: Date | null };

type Hooks = {
  /** A job was started from here: show it in the jobs panel. */
  onJobStarted?: (id: number, kind: JobKind) => void;
  /** Every progress tick of those jobs. */
  onProgress?: (tick: JobProgress) => void;
};

export class GoldImages {
  items = $state.raw<GoldImage[]>([]);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  selectedName = $state<string | null>(null);
  /** The open image's manifest (null while it loads). */
  files = $state.raw<GoldEntry[] | null>(null);
  filesError = $state<IpcError | null>(null);
  fileSearch = $state('');
  /** The last refusal of an action on the open image (promote, archive, delete, provision…). */
  actionError = $state<IpcError | null>(null);
  /** Checks of working copies, by path. */
  checks = $state<Record<string, CopyCheck>>({});
  /** The diff of the open image and another version, the older one first. */
  diff = $state<{ against: string; from: string; to: string; drift: Drift | null; error: IpcError | null } | null>(null);
  /** The two versions side by side. */
  readonly compare = new SideBySide();
  /** Every series (offered when the open image is put into one). */
  seriesNames = $state.raw<string[]>([]);
  /** A provision that was started, until its copy is recorded. */
  provisioning = $state<{ image: string; to: string; jobId: number } | null>(null);
  /** The export dialog and the archive import form (their jobs go to the jobs panel too). */
  readonly exporter: GoldExport;
  readonly importer: GoldImport;
  #hooks: Hooks;

  constructor(hooks: Hooks = {}) {
    this.#hooks = hooks;
    this.exporter = new GoldExport(hooks);
    this.importer = new GoldImport({
      ...hooks,
      imageNames: () => this.items.map((g) => g.name),
      // the jobs panel's toast says it finished; open the new image
      onImported: (report) => {
        const name = report.image?.name;
        if (name) void this.load().then(() => this.select(name));
      },
    });
  }

  get selected(): GoldImage | null {
    return this.items.find((g) => g.name === this.selectedName) ?? null;
  }

  /** Series in name order with their versions in series order, then the images in no series. */
  get groups(): SeriesGroup[] {
    const groups: SeriesGroup[] = [];
    for (const g of this.items) {
      const last = groups[groups.length - 1];
      if (last && last.series === g.series) last.images.push(g);
      else groups.push({ series: g.series, images: [g] });
    }
    return groups;
  }

  /** The images in the order the list shows them (for the arrow keys). */
  get ordered(): GoldImage[] {
    return this.groups.flatMap((g) => g.images);
  }

  /** The open image's entries whose path contains the search (ignoring case). */
  get shownFiles(): GoldEntry[] {
    const files = this.files ?? [];
    const q = this.fileSearch.trim().toLowerCase();
    return q === '' ? files : files.filter((e) => e.path.toLowerCase().includes(q));
  }

  /** The other images the open one can be compared with: its series first. */
  get diffCandidates(): GoldImage[] {
    const g = this.selected;
    if (!g) return [];
    const others = this.items.filter((x) => x.name !== g.name);
    return [...others.filter((x) => g.series != null && x.series === g.series), ...others.filter((x) => g.series == null || x.series !== g.series)];
  }

  async load(): Promise<void> {
    try {
      this.items = await api.listGold();
      this.error = null;
      if (this.selectedName != null && !this.selected) this.#open(null);
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loaded = true;
    }
  }

  /** Open an image: its details, files and copies. */
  select(name: string | null): void {
    if (name === this.selectedName) return;
    this.#open(name);
  }

  #open(name: string | null): void {
    this.selectedName = name;
    this.files = null;
    this.filesError = null;
    this.fileSearch = '';
    this.actionError = null;
    this.diff = null;
    if (name != null) {
      void this.#loadFiles(name);
      void this.loadSeries();
    }
  }

  async loadSeries(): Promise<void> {
    try {
      this.seriesNames = (await api.listSeries()).map((s) => s.name);
    } catch {
      // the select then offers only a new series; the list's own error shows elsewhere
    }
  }

  async #loadFiles(name: string): Promise<void> {
    try {
      const files = await api.goldFiles(name);
      if (this.selectedName === name) this.files = files;
    } catch (e) {
      if (this.selectedName === name) this.filesError = asIpcError(e);
    }
  }

  /** Put an image changed by an action in place of the old one. */
  #replace(g: GoldImage): void {
    this.items = this.items.map((x) => (x.id === g.id ? g : x));
  }

  async #act(work: () => Promise<unknown>): Promise<IpcError | null> {
    this.actionError = null;
    try {
      await work();
      return null;
    } catch (e) {
      const err = asIpcError(e);
      this.actionError = err;
      return err;
    }
  }

  promote(to: GoldState): Promise<IpcError | null> {
    const g = this.selected;
    if (!g || g.state === to) return Promise.resolve(null);
    return this.#act(async () => this.#replace(await api.promoteGold(g.name, to)));
  }

  archive(): Promise<IpcError | null> {
    const g = this.selected;
    if (!g) return Promise.resolve(null);
    return this.#act(async () => this.#replace(await api.archiveGold(g.name)));
  }

  unarchive(): Promise<IpcError | null> {
    const g = this.selected;
    if (!g) return Promise.resolve(null);
    return this.#act(async () => this.#replace(await api.unarchiveGold(g.name)));
  }

  /** Delete the open image; a refusal (`in_use`, naming the copies) is returned and kept in `actionError`. */
  delete(): Promise<IpcError | null> {
    const g = this.selected;
    if (!g) return Promise.resolve(null);
    return this.#act(async () => {
      await api.deleteGold(g.name);
      this.items = this.items.filter((x) => x.id !== g.id);
      this.#open(null);
      await this.load();
    });
  }

  /** Put the open image at the end of `series` (out of any other it was in); `create` makes the
   *  series first (a new name typed in the details). */
  putInSeries(series: string, create: boolean): Promise<IpcError | null> {
    const g = this.selected;
    const name = series.trim();
    if (!g || name === '') return Promise.resolve(null);
    const exists = this.seriesNames.some((s) => s.toLowerCase() === name.toLowerCase());
    return this.#act(async () => {
      try {
        if (create && !exists) await api.createSeries(name);
        await api.addToSeries(name, g.name);
        await this.load();
      } finally {
        await this.loadSeries();
      }
    });
  }

  /** Take the open image out of its series (the image stays). */
  takeOutOfSeries(): Promise<IpcError | null> {
    const g = this.selected;
    if (!g?.series) return Promise.resolve(null);
    const series = g.series;
    return this.#act(async () => {
      await api.removeFromSeries(series, g.name);
      await this.load();
    });
  }

  /** Two versions in the order they are compared: by their place in a shared series, else by capture time. */
  olderFirst(a: GoldImage, b: GoldImage): [GoldImage, GoldImage] {
    if (a.series != null && a.series === b.series) {
      const at = (g: GoldImage) => this.items.findIndex((x) => x.id === g.id);
      return at(a) <= at(b) ? [a, b] : [b, a];
    }
    return a.created_at <= b.created_at ? [a, b] : [b, a];
  }

  /** Open the side-by-side view of the open image and the version it is being compared with. */
  showSideBySide(): void {
    const g = this.selected;
    const other = this.items.find((x) => x.name === this.diff?.against);
    if (!g || !other) return;
    const [left, right] = this.olderFirst(other, g);
    void this.compare.show(left, right);
  }

  /** Make the open image its series' current one. */
  makeCurrent(): Promise<IpcError | null> {
    const g = this.selected;
    if (!g?.series) return Promise.resolve(null);
    const series = g.series;
    return this.#act(async () => {
      await api.setSeriesCurrent(series, g.name);
      await this.load();
    });
  }

  /** Whether provisioning the open image needs the person's confirmation first (not published). */
  get needsConfirmation(): boolean {
    const s = this.selected?.state;
    return s === 'testable' || s === 'restricted';
  }

  /** Provision the open image into `to` (a folder chosen in the native dialog) as a job;
   *  `allowUnpublished` once the person confirmed a testable or restricted image. */
  provision(to: string, allowUnpublished: boolean): Promise<IpcError | null> {
    const g = this.selected;
    if (!g) return Promise.resolve(null);
    return this.#act(async () => {
      const id = await api.startProvision(
        { image: g.name, to, allow_unpublished: allowUnpublished },
        (tick) => this.#hooks.onProgress?.(tick),
        (report: ProvisionReport) => {
          if (this.provisioning?.jobId === report.job.id) this.provisioning = null;
          void this.load();
        },
      );
      this.provisioning = { image: g.name, to, jobId: id };
      this.#hooks.onJobStarted?.(id, 'provision');
    });
  }

  /** A provision job ended without a copy (failed or cancelled): stop saying it runs. */
  jobEnded(jobId: number): void {
    if (this.provisioning?.jobId === jobId) this.provisioning = null;
  }

  /** Compare a working copy with its image ("Check now"). */
  async check(path: string): Promise<void> {
    const before = this.checks[path];
    this.checks[path] = { checking: true, drift: before?.drift ?? null, error: null, at: before?.at ?? null };
    try {
      const drift = await api.checkCopy(path);
      this.checks[path] = { checking: false, drift, error: null, at: new Date() };
    } catch (e) {
      this.checks[path] = { checking: false, drift: null, error: asIpcError(e), at: new Date() };
    }
  }

  /** Stop tracking a working copy (the folder stays). */
  forget(path: string): Promise<IpcError | null> {
    return this.#act(async () => {
      await api.forgetCopy(path);
      delete this.checks[path];
      await this.load();
    });
  }

  /** Compare the open image with another version: what changed from the older of the two to the newer. */
  async diffWith(against: string): Promise<void> {
    const g = this.selected;
    const other = this.items.find((x) => x.name === against);
    if (!g || !other) {
      this.diff = null;
      return;
    }
    const [from, to] = this.olderFirst(other, g).map((x) => x.name) as [string, string];
    this.diff = { against, from, to, drift: null, error: null };
    try {
      const drift = await api.diffGold(from, to);
      if (this.diff?.against === against) this.diff = { against, from, to, drift, error: null };
    } catch (e) {
      if (this.diff?.against === against) this.diff = { against, from, to, drift: null, error: asIpcError(e) };
    }
  }
}

/** The capture review: a folder chosen or dropped, what it holds, and the new image's fields. */
export class CaptureReview {
  open = $state(false);
  from = $state<string | null>(null);
  plan = $state.raw<CapturePlan | null>(null);
  planning = $state(false);
  /** Why the folder cannot be captured (a FIFO, an unreadable file…), or why the job did not start. */
  error = $state<IpcError | null>(null);
  name = $state('');
  imageType = $state('software');
  otherType = $state('');
  /** An existing series, '' for none, or NEW_SERIES. */
  series = $state('');
  newSeries = $state('');
  version = $state('');
  description = $state('');
  starting = $state(false);
  /** Series that exist (offered in the select). */
  seriesNames = $state.raw<string[]>([]);
  /** The folder was dropped on the window or opened with the app (not chosen here): importing the
   *  files inside it instead is offered. */
  dropped = $state(false);
  #hooks: Hooks & { onCaptured?: (report: CaptureReport) => void };

  /** The select's value for "New series…": a series name is trimmed, so none begins with a space. */
  static readonly NEW_SERIES = NEW_SERIES;

  constructor(hooks: Hooks & { onCaptured?: (report: CaptureReport) => void } = {}) {
    this.#hooks = hooks;
  }

  /** Open the review empty; the folder is chosen in it. */
  show(): void {
    this.#reset();
    this.open = true;
    void this.#loadSeries();
  }

  /** Review a folder dropped on the window or opened with the app (one folder and nothing else). */
  async useDropped(dir: string): Promise<void> {
    this.#reset();
    this.open = true;
    this.dropped = true;
    void this.#loadSeries();
    await this.use(dir);
  }

  /** Choose the folder in the native dialog, then count it. */
  async chooseFolder(): Promise<void> {
    try {
      const dir = await api.chooseGoldFolder('capture');
      if (dir) {
        this.dropped = false;
        await this.use(dir);
      }
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** Review a folder (chosen or dropped): count what it holds and prefill the name. */
  async use(dir: string): Promise<void> {
    if (!this.open) {
      this.#reset();
      this.open = true;
      void this.#loadSeries();
    }
    const previous = this.from ? baseName(this.from) : null;
    this.from = dir;
    if (this.name.trim() === '' || this.name === previous) this.name = baseName(dir);
    this.plan = null;
    this.error = null;
    this.planning = true;
    try {
      const plan = await api.planCapture(dir);
      if (this.from === dir) this.plan = plan;
    } catch (e) {
      if (this.from === dir) this.error = asIpcError(e);
    } finally {
      this.planning = false;
    }
  }

  async #loadSeries(): Promise<void> {
    try {
      this.seriesNames = (await api.listSeries()).map((s) => s.name);
    } catch {
      this.seriesNames = [];
    }
  }

  /** The type as the engine takes it: the chosen word, or the admin's own. */
  get typeWord(): string {
    return this.imageType === 'other' ? this.otherType.trim() : this.imageType;
  }

  get seriesName(): string | null {
    const s = this.series === CaptureReview.NEW_SERIES ? this.newSeries.trim() : this.series;
    return s === '' ? null : s;
  }

  /** Why Capture cannot be pressed yet (null: it can). */
  get blocking(): string | null {
    if (!this.from) return 'Choose the folder to capture.';
    if (this.planning) return 'Counting the files…';
    if (!this.plan) return 'This folder cannot be captured.';
    if (this.name.trim() === '') return 'Give the image a name.';
    if (this.imageType === 'other' && this.otherType.trim() === '') return 'Say what type of home this is.';
    if (this.series === CaptureReview.NEW_SERIES && this.newSeries.trim() === '') return 'Name the new series.';
    return null;
  }

  /** Start the capture job; the review closes when it started (the jobs panel shows it). */
  async start(): Promise<boolean> {
    if (this.blocking || !this.from) return false;
    this.starting = true;
    this.error = null;
    try {
      const id = await api.startCapture(
        {
          name: this.name.trim(), from: this.from, image_type: this.typeWord, series: this.seriesName,
          version: this.version.trim() === '' ? null : this.version.trim(), description: this.description.trim() === '' ? null : this.description.trim(),
        },
        (tick) => this.#hooks.onProgress?.(tick),
        (report) => this.#hooks.onCaptured?.(report),
      );
      this.#hooks.onJobStarted?.(id, 'capture');
      this.close();
      return true;
    } catch (e) {
      this.error = asIpcError(e);
      return false;
    } finally {
      this.starting = false;
    }
  }

  close(): void {
    this.open = false;
    this.#reset();
  }

  #reset(): void {
    this.from = null;
    this.dropped = false;
    this.plan = null;
    this.error = null;
    this.planning = false;
    this.name = '';
    this.imageType = 'software';
    this.otherType = '';
    this.series = '';
    this.newSeries = '';
    this.version = '';
    this.description = '';
  }
}
