// Trusted keys (Settings): the OpenPGP public keys signatures are checked against. A key is read
// from a chosen file or pasted text, shown (fingerprint, user ids, validity), and trusted only once
// the person confirms the fingerprint in the native window the shell opens.
import { api, asIpcError, type IpcError, type KeyInfo, type KeySource } from '$lib/ipc/client';

export interface KeyPreview {
  key: KeyInfo;
  source: KeySource;
}

export class TrustedKeys {
  items = $state.raw<KeyInfo[]>([]);
  error = $state<IpcError | null>(null);
  /** The key read and shown, waiting for "Trust…". */
  preview = $state.raw<KeyPreview | null>(null);
  /** Why the key in the paste box or the preview was not read or not trusted. */
  previewError = $state<IpcError | null>(null);
  busy = $state(false);

  async load(): Promise<void> {
    try {
      this.items = await api.listTrustedKeys();
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** The native file dialog, then the key read from the chosen file. */
  async fromFile(): Promise<void> {
    try {
      const path = await api.chooseSigningKey();
      if (path) await this.#read({ type: 'file', path });
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** A pasted armored key; true when it was read and is shown. */
  async fromText(text: string): Promise<boolean> {
    return this.#read({ type: 'text', text });
  }

  async #read(source: KeySource): Promise<boolean> {
    this.busy = true;
    try {
      this.preview = { key: await api.inspectKey(source), source };
      this.previewError = null;
      return true;
    } catch (e) {
      this.previewError = asIpcError(e);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Ask the shell to trust the shown key (it asks for confirmation in a native window). */
  async trust(): Promise<boolean> {
    const p = this.preview;
    if (!p) return false;
    this.busy = true;
    try {
      await api.trustKey(p.source, p.key.fingerprint);
      this.preview = null;
      this.previewError = null;
      await this.load();
      return true;
    } catch (e) {
      const err = asIpcError(e);
      // Declined in the confirmation window: nothing to report, the key stays shown.
      this.previewError = err.code === 'cancelled' ? null : err;
      return false;
    } finally {
      this.busy = false;
    }
  }

  closePreview(): void {
    this.preview = null;
    this.previewError = null;
  }

  async remove(fingerprint: string): Promise<void> {
    try {
      await api.removeTrustedKey(fingerprint);
      this.error = null;
      await this.load();
    } catch (e) {
      this.error = asIpcError(e);
    }
  }
}

/** "4D64 FEC1 19C2 0290 67D6  E791 F8D2 585B 8783 D481", as gpg prints a v4 fingerprint. */
export function groupedFingerprint(fpr: string): string {
  const groups = fpr.match(/.{1,4}/g) ?? [];
  return groups.length === 10 ? `${groups.slice(0, 5).join(' ')}  ${groups.slice(5).join(' ')}` : groups.join(' ');
}
