// Settings state: the theme (system, light, dark; kept in localStorage), where the repository is,
// the team repositories connected here (connect, disconnect, use), and opening the log folder.
import { api, asIpcError, type CachePruned, type Connected, type ConnectTeam, type IpcError, type RepositoryInfo } from '$lib/ipc/client';

/** What the Connect dialog holds while it is filled in. */
export interface TeamDraft {
  name: string;
  catalog: string;
  catalogPassword: string;
  objects: string;
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretKey: string;
}

export function emptyTeamDraft(): TeamDraft {
  return { name: '', catalog: '', catalogPassword: '', objects: '', endpoint: '', region: '', accessKeyId: '', secretKey: '' };
}

/** What keeps the draft from being sent, in words for the dialog's footer; null when it can go
 * (the engine checks the URLs themselves and says what is wrong with them). */
export function teamDraftProblem(d: TeamDraft): string | null {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(d.name.trim())) return 'A name of letters, digits, ".", "_" or "-"';
  if (d.name.trim().toLowerCase() === 'local') return '"local" is the desktop\'s own repository';
  if (!/^postgres(ql)?:\/\//.test(d.catalog.trim())) return 'The catalog is a postgresql:// URL';
  if (d.catalogPassword === '') return "The catalog user's password";
  if (!/^s3:\/\/[^/]+/.test(d.objects.trim())) return 'The files are an s3://BUCKET[/PREFIX] URL';
  if (!/^https?:\/\//.test(d.endpoint.trim())) return 'The S3 endpoint is an https:// URL';
  if (d.accessKeyId.trim() === '') return 'The access key id';
  if (d.secretKey === '') return 'The secret access key';
  return null;
}

export function teamRequest(d: TeamDraft, upgrade = false): ConnectTeam {
  return {
    name: d.name.trim(),
    catalog: d.catalog.trim(),
    objects: d.objects.trim(),
    endpoint: d.endpoint.trim(),
    region: d.region.trim() === '' ? null : d.region.trim(),
    access_key_id: d.accessKeyId.trim(),
    catalog_password: d.catalogPassword,
    secret_key: d.secretKey,
    upgrade,
  };
}

export type Theme = 'system' | 'light' | 'dark';
const KEY = 'imagesmith.theme';

export class Settings {
  theme = $state<Theme>('system');
  repository = $state<RepositoryInfo | null>(null);
  error = $state<IpcError | null>(null);
  /** Why the log folder could not be opened (shown next to its button). */
  logsError = $state<IpcError | null>(null);

  constructor(private storage: Pick<Storage, 'getItem' | 'setItem'> | null = globalThis.localStorage ?? null) {
    const saved = this.storage?.getItem(KEY);
    if (saved === 'light' || saved === 'dark' || saved === 'system') this.theme = saved;
    this.apply();
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.storage?.setItem(KEY, theme);
    this.apply();
  }

  apply(): void {
    if (typeof document === 'undefined') return;
    const root = document.documentElement;
    if (this.theme === 'system') delete root.dataset.theme;
    else root.dataset.theme = this.theme;
  }

  async loadRepository(): Promise<void> {
    try {
      this.repository = await api.repositoryInfo();
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  async reveal(): Promise<void> {
    try {
      await api.revealRepository();
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** The last connection made here, shown under the list until the screen is left. */
  connected = $state<Connected | null>(null);

  /** Connect a team repository (both servers checked, secrets to the keyring); the list is read
   * again. Returns the error to show in the dialog, or null. */
  async connectTeam(draft: TeamDraft, upgrade = false): Promise<IpcError | null> {
    try {
      this.connected = await api.connectTeam(teamRequest(draft, upgrade));
      await this.loadRepository();
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  /** Forget a team repository on this desktop (its data stays on the servers). */
  async disconnectTeam(name: string): Promise<void> {
    try {
      await api.disconnectTeam(name);
      if (this.connected?.status.name.toLowerCase() === name.toLowerCase()) this.connected = null;
      this.error = null;
      await this.loadRepository();
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** Make `name` (a team repository, or `local`) the current one; the app starts again on it. */
  async useRepository(name: string): Promise<void> {
    try {
      await api.useRepository(name);
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** What the last cache prune did, shown beside the cache line. */
  pruned = $state<CachePruned | null>(null);
  cacheError = $state<IpcError | null>(null);

  /** Limit this desktop's cache of the open team repository to `gib` GiB (null: no limit), pruned now. */
  async setCacheLimit(gib: number | null): Promise<void> {
    try {
      this.pruned = await api.setCacheLimit(gib == null ? null : Math.round(gib * 1024 ** 3));
      this.cacheError = null;
      await this.loadRepository();
    } catch (e) {
      this.cacheError = asIpcError(e);
    }
  }

  async pruneCache(): Promise<void> {
    try {
      this.pruned = await api.pruneCache();
      this.cacheError = null;
      await this.loadRepository();
    } catch (e) {
      this.cacheError = asIpcError(e);
    }
  }

  async openLogFolder(): Promise<void> {
    try {
      await api.openLogFolder();
      this.logsError = null;
    } catch (e) {
      this.logsError = asIpcError(e);
    }
  }
}
