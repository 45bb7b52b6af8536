// The publish wizard's state: (1) images, (2) target, (3) options, (4) review with the engine's dry
// run, then the publish job with progress, cancel and the publications it made.
import { api as client, asIpcError, type Artifact, type IpcError, type JobKind, type JobProgress } from '$lib/ipc/client';
import { bytes, isFinished } from '$lib/format';
import { withSecret, type SecretPrompt } from '../remotes/secret.svelte';
import { conversion, defaultMinDisk, defaultName, defaultProperties, formatRefusal, publishable } from './formats';
import type { PlanItem, PublishApi, PublishPlan, PublishReport, PublishRequest, Target, Visibility } from './types';

export const STEPS = ['Images', 'Target', 'Options', 'Review'] as const;
export type Step = 0 | 1 | 2 | 3;
export type PropertyRow = { key: string; value: string };

export type PublishRun = {
  jobId: number | null;
  progress: JobProgress | null;
  report: PublishReport | null;
  error: IpcError | null;
};

/** One line of the review: what the dry run found, as ok, warning or refusal. */
export type CheckLine = { key: string; level: 'ok' | 'warn' | 'fail'; text: string; recovery?: string };

type Hooks = {
  onJobStarted?: (id: number, kind: JobKind) => void;
  onProgress?: (tick: JobProgress) => void;
  /** The job ended with its publications (verified or not). */
  onPublished?: (report: PublishReport) => void;
};

/** The lines the review shows for the whole run: sign-in, catalog and image endpoint. */
export function targetLines(plan: PublishPlan): CheckLine[] {
  const t = plan.target;
  const version = t.glance_version ? ` (image API ${t.glance_version})` : '';
  const who = t.auth === 'none'
    ? `Glance answers at ${t.image_endpoint}${version}; no sign-in needed.`
    : `Signed in${t.user ? ` as ${t.user}` : ''}${t.project ? ` to project ${t.project}` : ''}; image endpoint ${t.image_endpoint}${version}.`;
  return [{ key: 'auth', level: 'ok', text: who }];
}

/** The lines for one image: format (and conversion), size against the cloud's limit, name clash. */
export function itemLines(item: PlanItem, storageLeft: number | null): CheckLine[] {
  const lines: CheckLine[] = [];
  const refused = (code: string) => item.problems.filter((p) => p.code === code);
  const fail = (e: IpcError, i: number): CheckLine => ({ key: `${e.code}-${i}`, level: 'fail', text: e.text, recovery: e.recovery });
  const formatProblems = refused('format_unsupported');
  if (formatProblems.length > 0) lines.push(...formatProblems.map(fail));
  else if (item.convert) lines.push({ key: 'format', level: 'ok', text: `Converted from ${item.source_format} to ${item.disk_format} with qemu-img, then uploaded as ${item.disk_format}/${item.container_format}.` });
  else lines.push({ key: 'format', level: 'ok', text: `Uploaded as it is stored: ${item.disk_format}/${item.container_format}, formats this cloud takes.` });
  const sizeProblems = refused('too_large');
  if (sizeProblems.length > 0) lines.push(...sizeProblems.map(fail));
  else if (storageLeft != null) lines.push({ key: 'size', level: 'ok', text: `${bytes(item.size)} to upload fits in the ${bytes(storageLeft)} the project may still store.` });
  else lines.push({ key: 'size', level: 'ok', text: `${bytes(item.size)} to upload; the cloud reveals no storage limit.` });
  const nameWarnings = item.warnings.filter((w) => w.code === 'name_taken');
  if (nameWarnings.length > 0) lines.push(...nameWarnings.map((w, i) => ({ key: `name-${i}`, level: 'warn' as const, text: w.text, recovery: w.recovery })));
  else lines.push({ key: 'name', level: 'ok', text: `No image named “${item.name}” there yet.` });
  item.problems.filter((p) => p.code !== 'format_unsupported' && p.code !== 'too_large').forEach((p, i) => lines.push(fail(p, i + 10)));
  item.warnings.filter((w) => w.code !== 'name_taken').forEach((w, i) => lines.push({ key: `warn-${i}`, level: 'warn', text: w.text, recovery: w.recovery }));
  return lines;
}

export class PublishWizard {
  open = $state(false);
  step = $state<Step>(0);
  /** Disk images and ISOs in the library, the choices of step 1. */
  candidates = $state.raw<Artifact[]>([]);
  chosen = $state.raw<number[]>([]);
  targets = $state.raw<Target[]>([]);
  targetsLoaded = $state(false);
  target = $state<string | null>(null);
  /** Display name; only for a single image (several keep their library names). */
  name = $state('');
  visibility = $state<Visibility>('private');
  /** '' keeps each image's stored format; anything else is converted with qemu-img when it differs. */
  diskFormat = $state('');
  containerFormat = $state('bare');
  minDisk = $state(0);
  minRam = $state(0);
  tags = $state('');
  protected = $state(false);
  properties = $state<PropertyRow[]>([]);
  plan = $state.raw<PublishPlan | null>(null);
  planning = $state(false);
  error = $state<IpcError | null>(null);
  run = $state<PublishRun | null>(null);
  starting = $state(false);
  /** Bumped whenever a publish job reports its publications (publication lists reload on it). */
  publishedCount = $state(0);

  #api: PublishApi;
  #prompt: SecretPrompt;
  #hooks: Hooks;
  #planGeneration = 0;
  #runGeneration = 0;
  /** The chosen ids the options were last prefilled for. */
  #optionsFor = '';

  constructor(api: PublishApi, prompt: SecretPrompt, hooks: Hooks = {}) {
    this.#api = api;
    this.#prompt = prompt;
    this.#hooks = hooks;
  }

  /** Open on step 1 with these artifacts chosen (the library's selection, or none). */
  async start(preselected: Artifact[] = []): Promise<void> {
    this.step = 0;
    this.chosen = preselected.filter(publishable).map((a) => a.id);
    this.candidates = preselected.filter(publishable);
    this.#optionsFor = '';
    this.plan = null;
    this.error = null;
    this.run = null;
    this.open = true;
    await Promise.all([this.loadCandidates(preselected), this.loadTargets()]);
  }

  close(): void {
    this.open = false;
    this.#planGeneration++;
    this.#runGeneration++;
    this.planning = false;
  }

  async loadCandidates(keep: Artifact[] = []): Promise<void> {
    try {
      const query = (kind: 'os' | 'disk_image') => ({ kind, os: null, search: null, sort: 'name' as const, descending: false, limit: 1000, offset: 0 });
      const [disks, isos] = await Promise.all([client.listArtifacts(query('disk_image')), client.listArtifacts(query('os'))]);
      const all = [...disks, ...isos];
      for (const a of keep) if (publishable(a) && !all.some((x) => x.id === a.id)) all.push(a);
      this.candidates = all;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  async loadTargets(): Promise<void> {
    try {
      this.targets = await this.#api.listTargets();
      if (this.target == null || !this.targets.some((t) => t.name === this.target)) this.target = this.targets.length === 1 ? this.targets[0]!.name : null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.targetsLoaded = true;
    }
  }

  get chosenArtifacts(): Artifact[] {
    return this.chosen.flatMap((id) => this.candidates.filter((a) => a.id === id));
  }

  toggle(id: number): void {
    this.chosen = this.chosen.includes(id) ? this.chosen.filter((x) => x !== id) : [...this.chosen, id];
  }

  chooseTarget(name: string): void {
    this.target = name;
  }

  /** Prefill the options from what the library knows, when the chosen images changed. */
  #prefill(): void {
    const key = this.chosen.join(',');
    if (key === this.#optionsFor) return;
    this.#optionsFor = key;
    const chosen = this.chosenArtifacts;
    const single = chosen.length === 1 ? chosen[0]! : null;
    this.name = single ? defaultName(single) : '';
    this.diskFormat = '';
    this.minDisk = Math.max(0, ...chosen.map(defaultMinDisk));
    this.properties = single ? defaultProperties(single).map(([key, value]) => ({ key, value })) : [];
  }

  /** Why a chosen image cannot take the chosen disk format, or null. */
  get formatProblem(): string | null {
    for (const a of this.chosenArtifacts) {
      const refused = formatRefusal(a, this.diskFormat);
      if (refused) return refused;
    }
    return null;
  }

  /** The qemu-img conversions the chosen disk format means, per image. */
  get conversions(): Array<{ name: string; from: string; to: string }> {
    if (this.formatProblem) return [];
    return this.chosenArtifacts.flatMap((a) => {
      const c = conversion(a, this.diskFormat);
      return c ? [{ name: a.name, ...c }] : [];
    });
  }

  get optionsProblem(): string | null {
    if (this.chosen.length === 1 && this.name.trim() === '') return 'Give the image a display name.';
    if (this.formatProblem) return this.formatProblem;
    if (!Number.isInteger(this.minDisk) || this.minDisk < 0) return 'Min disk is a whole number of GiB (0 for none).';
    if (!Number.isInteger(this.minRam) || this.minRam < 0) return 'Min RAM is a whole number of MiB (0 for none).';
    const keys = this.properties.map((p) => p.key.trim()).filter((k) => k !== '');
    if (new Set(keys).size !== keys.length) return 'A property is set twice.';
    if (this.properties.some((p) => p.key.trim() === '' && p.value.trim() !== '')) return 'A property has a value but no name.';
    return null;
  }

  /** Why the current step cannot be left forward, or null. */
  get problem(): string | null {
    switch (this.step) {
      case 0: return this.chosen.length === 0 ? 'Choose at least one image.' : null;
      case 1: return this.target == null ? (this.targets.length === 0 ? 'Add a cloud account first (Clouds & servers).' : 'Choose where to publish.') : null;
      case 2: return this.optionsProblem;
      case 3: return this.planBlocks;
    }
  }

  /** What keeps Publish disabled on the review, or null. */
  get planBlocks(): string | null {
    if (this.planning) return 'Checking with the cloud…';
    if (this.error) return this.error.text;
    if (!this.plan) return 'The dry run has not run yet.';
    if (!this.plan.ready) return this.plan.items.flatMap((i) => i.problems)[0]?.text ?? 'An image cannot be published.';
    return null;
  }

  next(): void {
    if (this.problem != null || this.step === 3) return;
    if (this.step === 1) this.#prefill();
    this.step = (this.step + 1) as Step;
    this.error = null;
    if (this.step === 3) void this.runPlan();
  }

  back(): void {
    if (this.step === 0 || this.run != null) return;
    this.#planGeneration++;
    this.planning = false;
    this.plan = null;
    this.error = null;
    this.step = (this.step - 1) as Step;
  }

  /** Jump back to an earlier step from the stepper (never forward past an unfinished one). */
  goTo(step: Step): void {
    while (this.step > step && this.run == null) this.back();
  }

  request(): PublishRequest {
    const properties: Record<string, string> = {};
    for (const p of this.properties) if (p.key.trim() !== '') properties[p.key.trim()] = p.value.trim();
    return {
      artifacts: this.chosen.map(String),
      target: this.target ?? '',
      options: {
        name: this.chosen.length === 1 ? this.name.trim() : null,
        visibility: this.visibility,
        disk_format: this.diskFormat === '' ? null : this.diskFormat,
        container_format: this.containerFormat,
        no_convert: false,
        min_disk_gb: this.minDisk > 0 ? this.minDisk : null,
        min_ram_mb: this.minRam > 0 ? this.minRam : null,
        tags: this.tags.split(',').map((t) => t.trim()).filter((t) => t !== ''),
        protected: this.protected,
        properties,
      },
    };
  }

  /** The dry run: sign-in and catalog, formats, size against the cloud's limit, name clashes. */
  async runPlan(): Promise<void> {
    const generation = ++this.#planGeneration;
    const request = this.request();
    this.planning = true;
    this.plan = null;
    this.error = null;
    const outcome = await withSecret(this.#prompt, 'target', request.target, (secret) => this.#api.planPublish(request, secret), (s) => this.#api.rememberSecret('target', request.target, s));
    if (generation !== this.#planGeneration) return;
    this.planning = false;
    if (outcome.status === 'ok') this.plan = outcome.value;
    else if (outcome.status === 'error') this.error = outcome.error;
    else this.error = { code: 'secret_required', text: 'The dry run needs the password of this cloud account.', explanation: 'No password was entered.', recovery: 'Choose “Check again” and enter it, or save it in the keyring when asked.' };
  }

  /** Start the publish job; progress and the publications land in `run`. */
  async publish(): Promise<void> {
    if (this.step !== 3 || this.planBlocks != null || this.starting) return;
    const request = this.request();
    const generation = ++this.#runGeneration;
    this.starting = true;
    this.run = { jobId: null, progress: null, report: null, error: null };
    const current = () => (generation === this.#runGeneration ? this.run : null);
    const outcome = await withSecret(
      this.#prompt, 'target', request.target,
      (secret) => this.#api.publish(
        request, secret,
        (tick) => {
          this.#hooks.onProgress?.(tick);
          const r = current();
          if (r && (r.jobId == null || r.jobId === tick.job_id)) {
            r.jobId = tick.job_id;
            r.progress = tick;
          }
        },
        (report) => {
          const r = current();
          if (r && (r.jobId == null || r.jobId === report.job.id)) r.report = report;
          this.publishedCount++;
          this.#hooks.onPublished?.(report);
        },
      ),
      (s) => this.#api.rememberSecret('target', request.target, s),
    );
    this.starting = false;
    const r = current();
    if (!r) return;
    if (outcome.status === 'ok') {
      r.jobId = outcome.value;
      this.#hooks.onJobStarted?.(outcome.value, 'publish');
    } else if (outcome.status === 'error') r.error = outcome.error;
    else this.run = null;
  }

  get running(): boolean {
    const r = this.run;
    if (!r || r.error || r.report) return false;
    return !(r.progress && isFinished(r.progress.state));
  }

  cancel(): void {
    const id = this.run?.jobId;
    if (id != null) void client.cancelJob(id).catch(() => {});
  }
}
