// Deployment profiles state: the list, the open profile and its base image, composing it (add and
// remove members, install options), clone/rename/delete, and export and import as jobs.
import {
  api, asIpcError, type Artifact, type ExportReport, type IpcError, type JobKind, type JobProgress, type Kind, type MemberLint,
  type Profile, type ProfileImportReport, type Role,
} from '$lib/ipc/client';
import { isFinished } from '$lib/format';
import type { SecretOutcome } from '../remotes/secret.svelte';

/** The install options every profile offers as fields (the engine's COMMON_OPTIONS). */
export const COMMON_OPTIONS = ['hostname', 'locale', 'timezone', 'keyboard'] as const;

/** Member groups in the order the editor shows them. */
export const ROLES: Array<[Role, string]> = [
  ['driver', 'Drivers'],
  ['boot', 'Boot files'],
  ['custom', 'Custom files'],
  ['unattend', 'Answer file'],
];

const ROLE_OF: Partial<Record<Kind, Role>> = {
  driver: 'driver', boot: 'boot', unattend: 'unattend',
  script: 'custom', software: 'custom', config: 'custom', bundle: 'custom', bundle_sig: 'custom',
};

/** The role a library artifact would take in a profile, or null when it cannot be a member. */
export function roleOf(kind: Kind): Role | null {
  return ROLE_OF[kind] ?? null;
}

/** Whether an artifact fits the profile's base OS, as the picker filters by default. The engine
 *  still decides (a second answer file, for example, is only refused when added). */
export function fits(profile: Profile, a: Artifact): boolean {
  const role = roleOf(a.kind);
  if (role == null) return false;
  if (role === 'boot' && profile.os !== 'windows') return false;
  return a.os == null || profile.os == null || a.os === profile.os;
}

/** Runs a call against a saved file server, answering the engine's password and host-key questions
 *  (the Servers store's `withLogin`). */
export type ServerLogin = (server: string, call: (secret: string | null) => Promise<number>) => Promise<SecretOutcome<number>>;

export type ExportRun = {
  profile: string;
  jobId: number | null;
  progress: JobProgress | null;
  report: ExportReport | null;
  error: IpcError | null;
};

type Hooks = {
  /** A job was started from here: show it in the jobs panel. */
  onJobStarted?: (id: number, kind: JobKind) => void;
  /** Every progress tick of those jobs (the jobs panel shows them with Cancel). */
  onProgress?: (tick: JobProgress) => void;
  /** A profile archive was imported. */
  onImported?: (report: ProfileImportReport) => void;
};

export class Profiles {
  items = $state.raw<Profile[]>([]);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  selectedId = $state<number | null>(null);
  selected = $state.raw<Profile | null>(null);
  /** The open profile's base OS image as the library knows it (identity, digests). */
  base = $state.raw<Artifact | null>(null);
  /** What lint finds in the open profile's answer files, checked against its base image. */
  lint = $state.raw<MemberLint[]>([]);
  /** The last refusal or failure of an edit of the open profile (shown in the editor). */
  editError = $state<IpcError | null>(null);
  exportRun = $state<ExportRun | null>(null);
  #hooks: Hooks;

  constructor(hooks: Hooks = {}) {
    this.#hooks = hooks;
  }

  async load(): Promise<void> {
    try {
      this.items = await api.listProfiles();
      this.error = null;
      if (this.selectedId != null) {
        const fresh = this.items.find((p) => p.id === this.selectedId) ?? null;
        if (!fresh) this.#show(null);
        else if (fresh.updated_at !== this.selected?.updated_at || fresh.name !== this.selected?.name) this.#show(fresh);
      }
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loaded = true;
    }
  }

  async select(id: number | null): Promise<void> {
    this.editError = null;
    if (id == null) {
      this.#show(null);
      return;
    }
    this.selectedId = id;
    try {
      this.#show(await api.getProfile(String(id)));
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  #show(p: Profile | null): void {
    const baseChanged = p?.base.id !== this.selected?.base.id;
    this.selected = p;
    this.selectedId = p?.id ?? null;
    if (p) this.items = this.items.some((x) => x.id === p.id) ? this.items.map((x) => (x.id === p.id ? p : x)) : [...this.items, p].sort((a, b) => a.name.localeCompare(b.name));
    if (!p) this.base = null;
    else if (baseChanged || !this.base) void this.#loadBase(p.base.id);
    if (!p) this.lint = [];
    else void this.#loadLint(p);
  }

  async #loadLint(p: Profile): Promise<void> {
    try {
      const lint = await api.lintProfile(String(p.id));
      if (this.selected?.id === p.id) this.lint = lint;
    } catch {
      // Lint is advice: a profile whose answer file cannot be read shows none (the export says why).
      if (this.selected?.id === p.id) this.lint = [];
    }
  }

  /** The lint of one answer file of the open profile. */
  lintOf(artifactId: number): MemberLint | undefined {
    return this.lint.find((l) => l.artifact.id === artifactId);
  }

  /** Errors lint finds in the open profile's answer files: an export needs a reason to go ahead. */
  get lintErrors(): number {
    return this.lint.reduce((n, l) => n + l.report.findings.filter((f) => f.severity === 'error').length, 0);
  }

  async #loadBase(id: number): Promise<void> {
    try {
      const a = await api.getArtifact(String(id));
      if (this.selected?.base.id === id) this.base = a;
    } catch {
      this.base = null;
    }
  }

  /** Run an edit of a profile; its result becomes the open profile. A refusal is returned, and
   *  also lands in `editError` (shown in the editor) unless the caller shows it itself. */
  async #edit(work: () => Promise<Profile>, showInEditor = true): Promise<IpcError | null> {
    try {
      this.#show(await work());
      this.editError = null;
      return null;
    } catch (e) {
      const err = asIpcError(e);
      if (showInEditor) this.editError = err;
      return err;
    }
  }

  /** Returns the refusal to show in the create dialog, or null when the new profile is open. */
  async create(name: string, base: string, description: string, edition: number | null = null): Promise<IpcError | null> {
    try {
      this.#show(await api.createProfile(name.trim(), base, description, edition));
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  /** Add library artifacts (ids) to the open profile; all or nothing, refusals say why (the
   *  picker shows them; `inEditor` puts them in the editor, for files dropped onto the profile). */
  add(artifactIds: number[], inEditor = false): Promise<IpcError | null> {
    const p = this.selected;
    if (!p || artifactIds.length === 0) return Promise.resolve(null);
    return this.#edit(() => api.addToProfile(String(p.id), artifactIds.map(String)), inEditor);
  }

  /** Add files dropped onto a profile (imported meanwhile) one by one: what fits is added, what
   *  does not is returned with the engine's reason. The profile, if open, shows the result. */
  async addEach(profileId: number, artifacts: Array<{ id: number; name: string }>): Promise<{ added: string[]; refused: Array<{ name: string; error: IpcError }> }> {
    const added: string[] = [];
    const refused: Array<{ name: string; error: IpcError }> = [];
    let last: Profile | null = null;
    for (const a of artifacts) {
      try {
        last = await api.addToProfile(String(profileId), [String(a.id)]);
        added.push(a.name);
      } catch (e) {
        refused.push({ name: a.name, error: asIpcError(e) });
      }
    }
    if (last && this.selected?.id === profileId) this.#show(last);
    this.editError = null;
    await this.load();
    return { added, refused };
  }

  remove(artifactId: number): Promise<IpcError | null> {
    const p = this.selected;
    if (!p) return Promise.resolve(null);
    return this.#edit(() => api.removeFromProfile(String(p.id), [String(artifactId)]));
  }

  /** Choose the Windows edition (its index in install.wim) the open profile installs; null leaves it to Setup. */
  setEdition(index: number | null): Promise<IpcError | null> {
    const p = this.selected;
    if (!p) return Promise.resolve(null);
    return this.#edit(() => api.setProfileEdition(String(p.id), index));
  }

  /** Save the options as shown: changed keys set, keys no longer present removed (empty value). */
  saveOptions(values: Record<string, string>): Promise<IpcError | null> {
    const p = this.selected;
    if (!p) return Promise.resolve(null);
    const next: Record<string, string> = {};
    for (const key of Object.keys(p.options)) next[key] = '';
    for (const [k, v] of Object.entries(values)) {
      const key = k.trim().toLowerCase();
      if (key !== '') next[key] = v.trim();
    }
    return this.#edit(() => api.setProfileOptions(String(p.id), next));
  }

  async rename(name: string, description: string): Promise<IpcError | null> {
    const p = this.selected;
    if (!p) return null;
    const newName = name.trim() === p.name ? null : name.trim();
    const newDescription = description.trim() === p.description ? null : description;
    if (newName == null && newDescription == null) return null;
    return this.#edit(() => api.updateProfile(String(p.id), newName, newDescription));
  }

  /** A free name for a clone of the open profile ("name (2)", …). */
  async cloneName(): Promise<string> {
    const p = this.selected;
    if (!p) return '';
    try {
      return await api.freeProfileName(p.name);
    } catch {
      return `${p.name} copy`;
    }
  }

  async clone(newName: string): Promise<IpcError | null> {
    const p = this.selected;
    if (!p) return null;
    try {
      this.#show(await api.cloneProfile(String(p.id), newName.trim()));
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  async deleteProfile(): Promise<IpcError | null> {
    const p = this.selected;
    if (!p) return null;
    try {
      await api.deleteProfile(String(p.id));
      this.items = this.items.filter((x) => x.id !== p.id);
      this.#show(null);
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  /** Start exporting the open profile into `dir`; the run (progress, report, error) is `exportRun`.
   *  `lintOverride`: why it goes out although its answer files have lint errors (kept in profile.json). */
  startExport(dir: string, includeOs: boolean, lintOverride: string | null = null): Promise<void> {
    const p = this.selected;
    if (!p) return Promise.resolve();
    const request = { profile: String(p.id), dir, include_os: includeOs, lint_override: lintOverride };
    return this.#runExport(p, (onProgress, onReport) => api.exportProfile(request, onProgress, onReport));
  }

  /** Start exporting the open profile to a saved file server (`path`: a folder below its path, or
   *  null). `login` asks for the password or host-key trust the engine needs before the job starts;
   *  when the user gives up, the dialog goes back to its form. */
  startServerExport(server: string, path: string | null, includeOs: boolean, login: ServerLogin, lintOverride: string | null = null): Promise<void> {
    const p = this.selected;
    if (!p) return Promise.resolve();
    const request = { profile: String(p.id), server, path, include_os: includeOs, lint_override: lintOverride };
    return this.#runExport(p, async (onProgress, onReport) => {
      const outcome = await login(server, (secret) => api.exportProfileToServer(request, secret, onProgress, onReport));
      if (outcome.status === 'ok') return outcome.value;
      if (outcome.status === 'cancelled') return null;
      throw outcome.error;
    });
  }

  /** One export run: `start` begins the job and resolves to its id (null: nothing was started). */
  async #runExport(p: Profile, start: (onProgress: (tick: JobProgress) => void, onReport: (r: ExportReport) => void) => Promise<number | null>): Promise<void> {
    const run: ExportRun = { profile: p.name, jobId: null, progress: null, report: null, error: null };
    this.exportRun = run;
    const current = () => this.exportRun;
    try {
      const id = await start(
        (tick) => {
          this.#hooks.onProgress?.(tick);
          const r = current();
          if (r && (r.jobId == null || r.jobId === tick.job_id)) {
            r.jobId = tick.job_id;
            r.progress = tick;
            if (isFinished(tick.state) && tick.state !== 'succeeded') void this.#exportEnded(r, tick.job_id);
          }
        },
        (report) => {
          const r = current();
          if (r && r.jobId === report.job.id) r.report = report;
        },
      );
      if (id == null) {
        this.exportRun = null;
        return;
      }
      const r = current();
      if (r) r.jobId = id;
      this.#hooks.onJobStarted?.(id, 'export');
    } catch (e) {
      const r = current();
      if (r) r.error = asIpcError(e);
    }
  }

  /** A failed or cancelled export: its error as the history recorded it. */
  async #exportEnded(run: ExportRun, jobId: number): Promise<void> {
    try {
      const detail = await api.getJob(jobId);
      if (detail.state === 'failed') run.error = detail.error ?? detail.items.find((i) => i.error)?.error ?? null;
    } catch (e) {
      run.error = asIpcError(e);
    }
  }

  cancelExport(): void {
    const id = this.exportRun?.jobId;
    if (id != null) void api.cancelJob(id).catch(() => {});
  }

  closeExport(): void {
    this.exportRun = null;
  }

  /** Import an exported profile archive as a job; the profile opens when it is in. */
  async importArchive(path: string): Promise<IpcError | null> {
    try {
      const id = await api.importProfile(
        path, null,
        (tick) => this.#hooks.onProgress?.(tick),
        (report) => {
          void this.load().then(() => this.select(report.profile.id));
          this.#hooks.onImported?.(report);
        },
      );
      this.#hooks.onJobStarted?.(id, 'profile_import');
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }
}
