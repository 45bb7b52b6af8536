// The one door to Rust: the generated commands, unwrapped so failures throw an IpcFailure that
// carries the engine's {code, text, explanation, recovery}. Components never call invoke directly.
import { Channel } from '@tauri-apps/api/core';
import { commands, events } from './bindings';
import type * as T from './bindings';

export type * from './bindings';
export type IpcError = T.Error;

/** A command failed: `error` is the engine's error as it crossed IPC. */
export class IpcFailure extends Error {
  readonly error: IpcError;
  constructor(error: IpcError) {
    super(error.text);
    this.name = 'IpcFailure';
    this.error = error;
  }
}

/** Whatever was thrown, as an engine-shaped error (framework failures arrive as plain strings). */
export function asIpcError(thrown: unknown): IpcError {
  if (thrown instanceof IpcFailure) return thrown.error;
  if (thrown && typeof thrown === 'object' && 'code' in thrown && 'text' in thrown) {
    const e = thrown as Partial<IpcError>;
    return { code: String(e.code) as T.ErrorCode, text: String(e.text), explanation: e.explanation ?? '', recovery: e.recovery ?? '' };
  }
  const text = thrown instanceof Error ? thrown.message : String(thrown);
  return {
    code: 'internal',
    text,
    explanation: 'The window could not talk to the Imagesmith engine as expected.',
    recovery: 'Try again; if it keeps failing, restart Imagesmith.',
  };
}

type Outcome<V> = { status: 'ok'; data: V } | { status: 'error'; error: IpcError };

async function unwrap<V>(pending: Promise<Outcome<V>>): Promise<V> {
  let result: Outcome<V>;
  try {
    result = await pending;
  } catch (thrown) {
    throw new IpcFailure(asIpcError(thrown));
  }
  if (result.status === 'error') throw new IpcFailure(result.error);
  return result.data;
}

export const api = {
  repositoryInfo: () => unwrap(commands.repositoryInfo()),
  about: () => unwrap(commands.about()),
  quit: () => unwrap(commands.quit()),
  showProgress: (percent: number | null, running: number) => unwrap(commands.showProgress(percent, running)),
  notifyJobFinished: (title: string, body: string) => unwrap(commands.notifyJobFinished(title, body)),
  showInFolder: (path: string) => unwrap(commands.showInFolder(path)),
  revealRepository: () => unwrap(commands.revealRepository()),
  useRepository: (name: string) => unwrap(commands.useRepository(name)),
  connectTeam: (request: T.ConnectTeam) => unwrap(commands.connectTeam(request)),
  disconnectTeam: (name: string) => unwrap(commands.disconnectTeam(name)),
  openLogFolder: () => unwrap(commands.openLogFolder()),
  chooseFiles: () => unwrap(commands.chooseFiles()),
  chooseFolder: (title: string) => unwrap(commands.chooseFolder(title)),
  chooseProfileArchive: () => unwrap(commands.chooseProfileArchive()),
  openedFiles: () => unwrap(commands.openedFiles()),
  pathKinds: (paths: string[]) => unwrap(commands.pathKinds(paths)),
  planImport: (request: T.PlanRequest) => unwrap(commands.planImport(request)),
  parseExpected: (text: string) => unwrap(commands.parseExpected(text)),
  checkDriverFit: (name: string, detected: T.Value, image: string) => unwrap(commands.checkDriverFit(name, detected, image)),
  startImport: (request: T.ImportRequest, onProgress: (p: T.JobProgress) => void) => {
    const channel = new Channel<T.JobProgress>();
    channel.onmessage = onProgress;
    return unwrap(commands.startImport(request, channel));
  },
  startUrlImport: (request: T.UrlImportRequest, onProgress: (p: T.JobProgress) => void) => {
    const channel = new Channel<T.JobProgress>();
    channel.onmessage = onProgress;
    return unwrap(commands.startUrlImport(request, channel));
  },
  listStores: () => unwrap(commands.listStores()),
  addStore: (spec: T.StoreSpec) => unwrap(commands.addStore(spec)),
  testStore: (name: string) => unwrap(commands.testStore(name)),
  removeStore: (name: string) => unwrap(commands.removeStore(name)),
  chooseSigningKey: () => unwrap(commands.chooseSigningKey()),
  listTrustedKeys: () => unwrap(commands.listTrustedKeys()),
  inspectKey: (source: T.KeySource) => unwrap(commands.inspectKey(source)),
  trustKey: (source: T.KeySource, fingerprint: string) => unwrap(commands.trustKey(source, fingerprint)),
  removeTrustedKey: (fingerprint: string) => unwrap(commands.removeTrustedKey(fingerprint)),
  signaturePolicy: () => unwrap(commands.signaturePolicy()),
  /** Relaxing the policy asks in a native dialog; a "no" rejects with `cancelled`. */
  setSignaturePolicy: (policy: T.SignaturePolicy) => unwrap(commands.setSignaturePolicy(policy)),
  storeImages: (name: string, search: string | null, os: string | null) => unwrap(commands.storeImages(name, search, os)),
  /** Starts downloading images chosen in a store; resolves to the job id (an unknown id or a store that does not answer rejects instead). */
  startStoreImport: (request: T.StoreImportRequest, onProgress: (p: T.JobProgress) => void) => {
    const channel = new Channel<T.JobProgress>();
    channel.onmessage = onProgress;
    return unwrap(commands.startStoreImport(request, channel));
  },
  /** Starts downloading the image an IMGAPI manifest describes; resolves to the job id (a manifest that cannot be read rejects instead). */
  startManifestImport: (request: T.ManifestImportRequest, onProgress: (p: T.JobProgress) => void) => {
    const channel = new Channel<T.JobProgress>();
    channel.onmessage = onProgress;
    return unwrap(commands.startManifestImport(request, channel));
  },
  listVms: (connect: string | null) => unwrap(commands.listVms(connect)),
  listSnapshots: (source: T.SnapshotSource, diskId: number | null) => unwrap(commands.listSnapshots(source, diskId)),
  chooseDiskFile: () => unwrap(commands.chooseDiskFile()),
  /** Starts cutting a snapshot of a disk into the library; resolves to the job id (vm_not_found, name_taken, invalid_disk, snapshot_unusable reject instead). The new image arrives on `onReport`. */
  startSnapshotImage: (request: T.SnapshotImageRequest, onProgress: (p: T.JobProgress) => void, onReport: (r: T.SnapshotImageReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.SnapshotImageReport>();
    report.onmessage = onReport;
    return unwrap(commands.startSnapshotImage(request, progress, report));
  },
  cancelJob: (jobId: number) => unwrap(commands.cancelJob(jobId)),
  listJobs: (query: T.JobQuery) => unwrap(commands.listJobs(query)),
  countJobs: (query: T.JobQuery) => unwrap(commands.countJobs(query)),
  /** Open the chosen team repository in this window with the typed secrets (empty: from the keyring); resolves to why they could not be kept in the keyring, or null. */
  openTeamHere: (name: string, catalogPassword: string, secretKey: string) => unwrap(commands.openTeamHere(name, catalogPassword, secretKey)),
  /** Keep at most `limit` bytes of the open team repository in this desktop's cache (null: no limit); pruned now. */
  setCacheLimit: (limit: number | null) => unwrap(commands.setCacheLimit(limit)),
  /** Prune this desktop's cache of the open team repository to its limit (or all that is idle). */
  pruneCache: () => unwrap(commands.pruneCache()),
  /** The latest deletions, newest first: what, its name, when and by whom (of one kind when `what` is given). */
  listDeletions: (what: T.DeletedKind | null, limit: number) => unwrap(commands.listDeletions(what, limit)),
  getJob: (jobId: number) => unwrap(commands.getJob(jobId)),
  startVerify: (artifacts: string[], onProgress: (p: T.JobProgress) => void) => {
    const channel = new Channel<T.JobProgress>();
    channel.onmessage = onProgress;
    return unwrap(commands.startVerify(artifacts, channel));
  },
  listArtifacts: (query: T.ArtifactQuery) => unwrap(commands.listArtifacts(query)),
  countArtifacts: (query: T.ArtifactQuery) => unwrap(commands.countArtifacts(query)),
  listOsReleases: () => unwrap(commands.listOsReleases()),
  getArtifact: (idOrName: string) => unwrap(commands.getArtifact(idOrName)),
  answerFileText: (idOrName: string) => unwrap(commands.answerFileText(idOrName)),
  updateArtifact: (id: number, patch: T.ArtifactPatch) => unwrap(commands.updateArtifact(id, patch)),
  deleteArtifact: (id: number) => unwrap(commands.deleteArtifact(id)),
  listProfiles: () => unwrap(commands.listProfiles()),
  getProfile: (profile: string) => unwrap(commands.getProfile(profile)),
  lintProfile: (profile: string) => unwrap(commands.lintProfile(profile)),
  createProfile: (name: string, base: string, description: string, edition: number | null = null) => unwrap(commands.createProfile(name, base, description, edition)),
  setProfileEdition: (profile: string, edition: number | null) => unwrap(commands.setProfileEdition(profile, edition)),
  addToProfile: (profile: string, artifacts: string[]) => unwrap(commands.addToProfile(profile, artifacts)),
  removeFromProfile: (profile: string, artifacts: string[]) => unwrap(commands.removeFromProfile(profile, artifacts)),
  setProfileOptions: (profile: string, options: Record<string, string>) => unwrap(commands.setProfileOptions(profile, options)),
  updateProfile: (profile: string, name: string | null, description: string | null) => unwrap(commands.updateProfile(profile, name, description)),
  cloneProfile: (profile: string, newName: string) => unwrap(commands.cloneProfile(profile, newName)),
  freeProfileName: (name: string) => unwrap(commands.freeProfileName(name)),
  deleteProfile: (profile: string) => unwrap(commands.deleteProfile(profile)),
  /** Starts the export job; resolves to its id. The archive's path and sha256 arrive on `onReport`. */
  exportProfile: (request: T.ExportRequest, onProgress: (p: T.JobProgress) => void, onReport: (r: T.ExportReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.ExportReport>();
    report.onmessage = onReport;
    return unwrap(commands.exportProfile(request, progress, report));
  },
  /** Starts importing a profile archive; resolves to the job id. The recreated profile arrives on `onReport`. */
  importProfile: (archive: string, name: string | null, onProgress: (p: T.JobProgress) => void, onReport: (r: T.ProfileImportReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.ProfileImportReport>();
    report.onmessage = onReport;
    return unwrap(commands.importProfile(archive, name, progress, report));
  },
  listTargets: () => unwrap(commands.listTargets()),
  addTarget: (spec: T.NewTarget, secret: string | null) => unwrap(commands.addTarget(spec, secret)),
  testTarget: (name: string, secret: string | null) => unwrap(commands.testTarget(name, secret)),
  removeTarget: (name: string) => unwrap(commands.removeTarget(name)),
  planPublish: (request: T.PublishRequest, secret: string | null) => unwrap(commands.planPublish(request, secret)),
  /** Starts the publish job; resolves to its id (a sign-in refusal such as `secret_required` rejects instead). */
  publish: (request: T.PublishRequest, secret: string | null, onProgress: (p: T.JobProgress) => void, onReport: (r: T.PublishReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.PublishReport>();
    report.onmessage = onReport;
    return unwrap(commands.publish(request, secret, progress, report));
  },
  listPublications: (artifact: string | null) => unwrap(commands.listPublications(artifact)),
  refreshPublication: (id: number, secret: string | null) => unwrap(commands.refreshPublication(id, secret)),
  unpublish: (id: number, secret: string | null) => unwrap(commands.unpublish(id, secret)),
  rememberSecret: (owner: 'target' | 'server', name: string, secret: string) => unwrap(commands.rememberSecret(owner, name, secret)),
  listServers: () => unwrap(commands.listServers()),
  addServer: (spec: T.ServerSpec, secret: string | null) => unwrap(commands.addServer(spec, secret)),
  testServer: (name: string, secret: string | null) => unwrap(commands.testServer(name, secret)),
  removeServer: (name: string) => unwrap(commands.removeServer(name)),
  probeHostKey: (host: string, port: number) => unwrap(commands.probeHostKey(host, port)),
  trustHostKey: (name: string, fingerprint: string) => unwrap(commands.trustHostKey(name, fingerprint)),
  /** Starts exporting a profile to a saved file server; resolves to the job id (login refusals reject instead). */
  exportProfileToServer: (request: T.ServerExportRequest, secret: string | null, onProgress: (p: T.JobProgress) => void, onReport: (r: T.ExportReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.ExportReport>();
    report.onmessage = onReport;
    return unwrap(commands.exportProfileToServer(request, secret, progress, report));
  },
  chooseGoldFolder: (purpose: T.GoldFolderPurpose) => unwrap(commands.chooseGoldFolder(purpose)),
  planCapture: (from: string) => unwrap(commands.planCapture(from)),
  /** Starts capturing a folder as a gold image; resolves to the job id. The new image arrives on `onReport`. */
  startCapture: (request: T.CaptureRequest, onProgress: (p: T.JobProgress) => void, onReport: (r: T.CaptureReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.CaptureReport>();
    report.onmessage = onReport;
    return unwrap(commands.startCapture(request, progress, report));
  },
  listGold: () => unwrap(commands.listGold()),
  getGold: (name: string) => unwrap(commands.getGold(name)),
  goldFiles: (name: string) => unwrap(commands.goldFiles(name)),
  promoteGold: (name: string, to: T.GoldState) => unwrap(commands.promoteGold(name, to)),
  archiveGold: (name: string) => unwrap(commands.archiveGold(name)),
  unarchiveGold: (name: string) => unwrap(commands.unarchiveGold(name)),
  deleteGold: (name: string) => unwrap(commands.deleteGold(name)),
  listSeries: () => unwrap(commands.listSeries()),
  createSeries: (name: string) => unwrap(commands.createSeries(name)),
  addToSeries: (series: string, image: string) => unwrap(commands.addToSeries(series, image)),
  removeFromSeries: (series: string, image: string) => unwrap(commands.removeFromSeries(series, image)),
  setSeriesCurrent: (series: string, image: string) => unwrap(commands.setSeriesCurrent(series, image)),
  /** Starts provisioning a working copy; resolves to the job id. The copy arrives on `onReport`. */
  startProvision: (request: T.ProvisionRequest, onProgress: (p: T.JobProgress) => void, onReport: (r: T.ProvisionReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.ProvisionReport>();
    report.onmessage = onReport;
    return unwrap(commands.startProvision(request, progress, report));
  },
  forgetCopy: (path: string) => unwrap(commands.forgetCopy(path)),
  checkCopy: (path: string) => unwrap(commands.checkCopy(path)),
  diffGold: (from: string, to: string) => unwrap(commands.diffGold(from, to)),
  /** Starts exporting a gold image as tar.gz or zip; resolves to the job id. The archive's path and sha256 arrive on `onReport`. */
  startGoldExport: (request: T.GoldExportRequest, onProgress: (p: T.JobProgress) => void, onReport: (r: T.ExportReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.ExportReport>();
    report.onmessage = onReport;
    return unwrap(commands.startGoldExport(request, progress, report));
  },
  chooseGoldArchive: () => unwrap(commands.chooseGoldArchive()),
  /** Starts importing a home archive as a new gold image; resolves to the job id. The image arrives on `onReport`. */
  startGoldImport: (request: T.GoldImportRequest, onProgress: (p: T.JobProgress) => void, onReport: (r: T.CaptureReport) => void) => {
    const progress = new Channel<T.JobProgress>();
    progress.onmessage = onProgress;
    const report = new Channel<T.CaptureReport>();
    report.onmessage = onReport;
    return unwrap(commands.startGoldImport(request, progress, report));
  },
};

export type Api = typeof api;

/** Subscribe to the shell's change events; returns an unsubscribe function. */
export async function onChanges(handlers: {
  jobs?: () => void;
  catalog?: () => void;
  profiles?: () => void;
  gold?: () => void;
  /** The repository cannot be read (a team's catalog is away), or can be again. */
  status?: (s: T.RepositoryStatusChanged) => void;
}): Promise<() => void> {
  const offs: Array<() => void> = [];
  if (handlers.status) offs.push(await events.repositoryStatusChanged.listen((e) => handlers.status?.(e.payload)));
  if (handlers.gold) offs.push(await events.goldChanged.listen(() => handlers.gold?.()));
  if (handlers.profiles) offs.push(await events.profilesChanged.listen(() => handlers.profiles?.()));
  if (handlers.jobs) offs.push(await events.jobsChanged.listen(() => handlers.jobs?.()));
  if (handlers.catalog) offs.push(await events.catalogChanged.listen(() => handlers.catalog?.()));
  return () => offs.forEach((off) => off());
}
