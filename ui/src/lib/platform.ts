// Window-level services: files dragged onto the window, and the native open-file and folder dialogs.
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { open } from '@tauri-apps/plugin-dialog';

export type DragState = { kind: 'over'; count: number } | { kind: 'drop'; paths: string[] } | { kind: 'leave' };

/** Follow drags over the window; returns an unsubscribe function. */
export async function onFileDrag(handler: (state: DragState) => void): Promise<() => void> {
  let count = 0;
  return getCurrentWebview().onDragDropEvent((event) => {
    const p = event.payload;
    if (p.type === 'enter') {
      count = p.paths.length;
      handler({ kind: 'over', count });
    } else if (p.type === 'over') {
      handler({ kind: 'over', count });
    } else if (p.type === 'drop') {
      handler({ kind: 'drop', paths: p.paths });
    } else {
      handler({ kind: 'leave' });
    }
  });
}

/** The native "open files" dialog; resolves to the chosen paths (empty when cancelled). */
export async function chooseFiles(): Promise<string[]> {
  const chosen = await open({ multiple: true, directory: false, title: 'Add files to the repository' });
  if (!chosen) return [];
  return Array.isArray(chosen) ? chosen : [chosen];
}

/** True when running inside the Tauri shell (false in unit tests and a plain browser). */
export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** The native "choose a folder" dialog; resolves to the folder, or null when cancelled. */
export async function chooseFolder(title: string): Promise<string | null> {
  const chosen = await open({ multiple: false, directory: true, title });
  return typeof chosen === 'string' ? chosen : null;
}

/** The native dialog for one exported profile (.tar.gz); resolves to its path, or null. */
export async function chooseProfileArchive(): Promise<string | null> {
  const chosen = await open({
    multiple: false, directory: false, title: 'Import a profile',
    filters: [{ name: 'Profile archives', extensions: ['tar.gz', 'gz'] }],
  });
  return typeof chosen === 'string' ? chosen : null;
}
