// Window-level services: files dragged onto the window, and the native open-file and folder dialogs.
// The dialogs are opened by the shell (the page has no dialog permission), which remembers what the
// person chose: commands that read or write paths refuse any other (`not_chosen`).
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { api } from './ipc/client';

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
  return api.chooseFiles();
}

/** True when running inside the Tauri shell (false in unit tests and a plain browser). */
export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** The native "choose a folder" dialog; resolves to the folder, or null when cancelled. */
export async function chooseFolder(title: string): Promise<string | null> {
  return api.chooseFolder(title);
}

/** The native folder dialog for a gold image: the home to capture, or the folder a working copy goes
 *  into (new or empty); resolves to the folder, or null when cancelled. */
export async function chooseGoldFolder(purpose: 'capture' | 'provision'): Promise<string | null> {
  return api.chooseGoldFolder(purpose);
}

/** The native dialog for one exported profile (.tar.gz); resolves to its path, or null. */
export async function chooseProfileArchive(): Promise<string | null> {
  return api.chooseProfileArchive();
}

/** The files and folders the app was started with ("Open with Imagesmith" in a file manager),
 *  granted by the shell like dropped files; handed over once (empty afterwards). */
export async function openedFiles(): Promise<string[]> {
  return api.openedFiles();
}
