// Gold images as archives: the export dialog (format, folder from the native dialog, the job's
// progress, the archive and its sha256, Show in folder) and the import form (an archive chosen in
// the native dialog, the new image's name, series and version).
import {
  api, asIpcError, type ArchiveFormat, type CaptureReport, type ExportReport, type IpcError, type JobKind, type JobProgress,
} from '$lib/ipc/client';
import { baseName, isFinished } from '$lib/format';

/** The select's value for "New series…": a series name is trimmed, so none begins with a space. */
export const NEW_SERIES = ' new';

/** The formats offered, each with what it keeps. */
export const ARCHIVE_FORMATS: Record<ArchiveFormat, { label: string; about: string }> = {
  'tar.gz': { label: 'tar.gz', about: 'Keeps modes, times, symlinks and hardlinks exactly; what Linux tools expect.' },
  zip: { label: 'zip', about: 'For Windows and tools that read only zip; a hardlink becomes a separate copy of its file.' },
};

type Hooks = {
  /** A job was started from here: show it in the jobs panel. */
  onJobStarted?: (id: number, kind: JobKind) => void;
  /** Every progress tick of those jobs. */
  onProgress?: (tick: JobProgress) => void;
};

/** One export: its job, latest progress, and how it ended. */
export type ExportRun = { image: string; file: string; jobId: number | null; progress: JobProgress | null; report: ExportReport | null; error: IpcError | null };

export class GoldExport {
  open = $state(false);
  image = $state<string | null>(null);
  format = $state<ArchiveFormat>('tar.gz');
  /** The folder chosen in this session (the native dialog itself opens in the last export's folder). */
  dir = $state('');
  /** Why the folder dialog did not open. */
  error = $state<IpcError | null>(null);
  run = $state<ExportRun | null>(null);
  revealError = $state<IpcError | null>(null);
  #hooks: Hooks;

  constructor(hooks: Hooks = {}) {
    this.#hooks = hooks;
  }

  /** Open the dialog for `image`: its running export if there is one, else the form. */
  show(image: string): void {
    if (this.run && (this.run.image !== image || !this.running)) this.run = null;
    this.image = image;
    this.error = null;
    this.revealError = null;
    this.open = true;
  }

  /** The archive the form would write. */
  get fileName(): string {
    return `${this.image ?? ''}.${this.format}`;
  }

  get running(): boolean {
    const r = this.run;
    return r != null && r.report == null && r.error == null && !(r.progress != null && isFinished(r.progress.state));
  }

  get cancelled(): boolean {
    return this.run?.progress?.state === 'cancelled';
  }

  /** Why Export cannot be pressed yet (null: it can). */
  get blocking(): string | null {
    if (!this.image) return 'Choose an image to export.';
    if (this.dir === '') return 'Choose the folder the archive goes into.';
    return null;
  }

  /** The native folder dialog (it opens in the folder the last export went to, and remembers this one). */
  async chooseFolder(): Promise<void> {
    this.error = null;
    try {
      const dir = await api.chooseFolder(`Export ${this.image ?? 'the image'} to a folder`);
      if (dir) this.dir = dir;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** Start the export job; the dialog then follows it (the jobs panel shows it too). */
  async start(): Promise<void> {
    if (this.blocking || !this.image) return;
    const image = this.image;
    this.run = { image, file: `${this.dir}/${this.fileName}`, jobId: null, progress: null, report: null, error: null };
    // the proxied run (mutations through it are seen), while it is still this dialog's
    const current = (id: number | null) => {
      const r = this.run;
      return r && r.image === image && (id == null || r.jobId == null || r.jobId === id) ? r : null;
    };
    try {
      const id = await api.startGoldExport(
        { image, dir: this.dir, format: this.format },
        (tick) => {
          this.#hooks.onProgress?.(tick);
          const r = current(tick.job_id);
          if (!r) return;
          r.jobId = tick.job_id;
          r.progress = tick;
          if (isFinished(tick.state) && tick.state !== 'succeeded') void this.#ended(r, tick.job_id);
        },
        (report) => {
          const r = current(report.job.id);
          if (r) r.report = report;
        },
      );
      const r = current(null);
      if (r) r.jobId = id;
      this.#hooks.onJobStarted?.(id, 'export');
    } catch (e) {
      const r = current(null);
      if (r) r.error = asIpcError(e);
    }
  }

  /** A failed or cancelled export: its error as the history recorded it. */
  async #ended(run: ExportRun, jobId: number): Promise<void> {
    try {
      const detail = await api.getJob(jobId);
      if (detail.state === 'failed') run.error = detail.error ?? detail.items.find((i) => i.error)?.error ?? null;
    } catch (e) {
      run.error = asIpcError(e);
    }
  }

  cancel(): void {
    const id = this.run?.jobId;
    if (id != null) void api.cancelJob(id).catch(() => {});
  }

  /** The archive, selected in the file manager. */
  async reveal(): Promise<void> {
    const file = this.run?.report?.file;
    if (!file) return;
    this.revealError = null;
    try {
      await api.showInFolder(file);
    } catch (e) {
      this.revealError = asIpcError(e);
    }
  }

  /** Close the dialog; a running export goes on in the jobs panel. The format and folder are kept. */
  close(): void {
    this.open = false;
    if (!this.running) this.run = null;
  }

  /** Back to the form after an export ended, to write another. */
  again(): void {
    this.run = null;
  }
}

/** The name an archive suggests: its file name without .tar.gz, .tgz or .zip. */
export function archiveStem(path: string): string {
  const name = baseName(path);
  return name.replace(/\.(tar\.gz|tgz|zip)$/i, '') || name;
}

/** `name`, or `name-2`, `name-3`, … — the first not in `taken` (compared ignoring case). */
export function freeName(name: string, taken: string[]): string {
  const used = new Set(taken.map((t) => t.toLowerCase()));
  if (!used.has(name.toLowerCase())) return name;
  for (let i = 2; ; i++) if (!used.has(`${name}-${i}`.toLowerCase())) return `${name}-${i}`;
}

/** The import form: an archive chosen in the native dialog and the new image's fields. */
export class GoldImport {
  open = $state(false);
  archive = $state<string | null>(null);
  name = $state('');
  /** An existing series, '' for none, or NEW_SERIES. */
  series = $state('');
  newSeries = $state('');
  version = $state('');
  seriesNames = $state.raw<string[]>([]);
  /** Why the dialog did not open or the job did not start. */
  error = $state<IpcError | null>(null);
  starting = $state(false);
  #hooks: Hooks & { onImported?: (report: CaptureReport) => void; imageNames?: () => string[] };

  constructor(hooks: Hooks & { onImported?: (report: CaptureReport) => void; imageNames?: () => string[] } = {}) {
    this.#hooks = hooks;
  }

  /** The native file dialog (.tar.gz, .tgz, .zip); the form opens with what was chosen. */
  async choose(): Promise<void> {
    try {
      const path = await api.chooseGoldArchive();
      if (path) this.use(path);
    } catch (e) {
      this.#openEmpty();
      this.error = asIpcError(e);
    }
  }

  /** Review `path` (granted by the shell): the name comes from the file name, free among the images. */
  use(path: string): void {
    if (!this.open) this.#openEmpty();
    const previous = this.archive ? this.#suggest(this.archive) : null;
    this.archive = path;
    if (this.name.trim() === '' || this.name === previous) this.name = this.#suggest(path);
    this.error = null;
  }

  #suggest(path: string): string {
    return freeName(archiveStem(path), this.#hooks.imageNames?.() ?? []);
  }

  #openEmpty(): void {
    this.#reset();
    this.open = true;
    void this.#loadSeries();
  }

  async #loadSeries(): Promise<void> {
    try {
      this.seriesNames = (await api.listSeries()).map((s) => s.name);
    } catch {
      this.seriesNames = [];
    }
  }

  get seriesName(): string | null {
    const s = this.series === NEW_SERIES ? this.newSeries.trim() : this.series;
    return s === '' ? null : s;
  }

  /** Why Import cannot be pressed yet (null: it can). */
  get blocking(): string | null {
    if (!this.archive) return 'Choose the archive to import.';
    const name = this.name.trim();
    if (name === '') return 'Give the image a name.';
    if ((this.#hooks.imageNames?.() ?? []).some((n) => n.toLowerCase() === name.toLowerCase())) return `There is already an image called ${name}.`;
    if (this.series === NEW_SERIES && this.newSeries.trim() === '') return 'Name the new series.';
    return null;
  }

  /** Start the import job; the form closes when it started (the jobs panel shows it). */
  async start(): Promise<boolean> {
    if (this.blocking || !this.archive) return false;
    this.starting = true;
    this.error = null;
    try {
      const version = this.version.trim();
      const id = await api.startGoldImport(
        { archive: this.archive, name: this.name.trim(), series: this.seriesName, version: version === '' ? null : version },
        (tick) => this.#hooks.onProgress?.(tick),
        (report) => this.#hooks.onImported?.(report),
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
    this.archive = null;
    this.name = '';
    this.series = '';
    this.newSeries = '';
    this.version = '';
    this.error = null;
  }
}
