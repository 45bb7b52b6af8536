// Settings state: the theme (system, light, dark; kept in localStorage), where the repository is,
// and opening the log folder for a support request.
import { api, asIpcError, type IpcError, type RepositoryInfo } from '$lib/ipc/client';

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

  /** Make `name` (a team repository, or `local`) the current one; the app starts again on it. */
  async useRepository(name: string): Promise<void> {
    try {
      await api.useRepository(name);
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
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
