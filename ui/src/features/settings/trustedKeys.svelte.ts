// Trusted keys (Settings): the OpenPGP public keys signatures are checked against. A key is read
// from a chosen file or pasted text, shown (fingerprint, user ids, validity), and trusted only once
// the person confirms the fingerprint in the native window the shell opens. The repository's
// signature policy (require a good signature on every import) is switched here too.
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

  /** The repository's policy: every import needs a checksum list signed by a trusted key. */
  requireSignature = $state(false);
  /** Why the policy could not be read or changed (shown under its switch). */
  policyError = $state<IpcError | null>(null);

  async load(): Promise<void> {
    try {
      const [items, policy] = await Promise.all([api.listTrustedKeys(), api.signaturePolicy()]);
      this.items = items;
      this.requireSignature = policy.require_signature;
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    }
  }

  /** Require signatures, or (after the shell's native confirmation) stop requiring them. A "no"
   *  in that window leaves the switch as it was, without an error to show. */
  async setRequireSignature(require: boolean): Promise<void> {
    try {
      this.requireSignature = (await api.setSignaturePolicy({ require_signature: require })).require_signature;
      this.policyError = null;
    } catch (e) {
      const err = asIpcError(e);
      this.policyError = err.code === 'cancelled' ? null : err;
      // Show the policy as it is, whatever the switch was moved to.
      this.requireSignature = !require;
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

export { groupedFingerprint } from '$lib/format';
