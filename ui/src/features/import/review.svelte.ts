// Import review state: the files dropped or chosen, what the engine detected for each, and the
// admin's choices (kind, OS, OS image, name, expected checksum, the image attributes, "apply to
// all") before the import job starts.
import { bytes, KIND_LABELS, OS_LABELS, signatureText } from '$lib/format';
import {
  api, asIpcError, type Artifact, type ChecksumFileReport, type DriverFit, type ExpectedDigest, type ImportRequest, type IpcError,
  type Kind, type OsFamily, type PlanItem,
} from '$lib/ipc/client';
import { Attributes } from '../library/attributes.svelte';

/** Kinds that belong to an OS image (the image select is offered for them). */
export const BELONGS_TO_IMAGE: ReadonlySet<Kind> = new Set<Kind>(['driver', 'boot', 'script', 'unattend', 'software', 'config']);

/** The choices "Apply to all" can copy from one row to the others. */
export type ApplyField = 'kind' | 'os';

export class ReviewRow {
  readonly plan: PlanItem;
  include = $state(true);
  kind = $state<Kind | ''>('');
  os = $state<OsFamily | ''>('');
  image = $state('');
  name = $state('');
  expectedText = $state('');
  expected = $state<ExpectedDigest | null>(null);
  expectedError = $state<IpcError | null>(null);
  /** Alias, access, owner, description, version, resize, deploy, tags for the new artifact. */
  attrs = new Attributes();
  /** Whether the row's attributes are open under it. */
  showAttrs = $state(false);
  /** For a driver with an OS image chosen: what the engine's compatibility check says (the
   *  refusal the import would give, or warnings such as another kernel release of the image). */
  fit = $state<DriverFit | null>(null);

  constructor(plan: PlanItem) {
    this.plan = plan;
    this.include = plan.refused == null;
    this.kind = plan.kind ?? '';
    this.os = plan.os ?? '';
    this.name = plan.file_name;
    this.expected = plan.expected;
    this.expectedText = plan.expected?.hex ?? '';
  }

  /** The admin accepted, for this batch, that the file's checksum list is signed by a key not
   *  trusted here or an expired one (see `ImportReview.acceptUnverified`). */
  accepted = $state(false);

  /** Refused by a signature the admin may accept for the batch (unknown or expired key). */
  /** A checksum list signed by a key not trusted here (or an expired one): the admin may accept
   *  that for the batch. Not a vendor bundle: its own signature must verify (XClarity's rule). */
  get unverifiedSignature(): boolean {
    const code = this.plan.refused?.code;
    return (code === 'unknown_key' || code === 'expired_key') && this.plan.kind !== 'bundle';
  }

  get refused(): boolean {
    return this.plan.refused != null && !(this.unverifiedSignature && this.accepted);
  }

  get osOptions(): OsFamily[] {
    return this.plan.allowed_os.length > 0 ? this.plan.allowed_os : ['linux', 'windows', 'vmware'];
  }

  get needsOs(): boolean {
    return this.include && this.plan.os_required && this.os === '';
  }

  get offersImage(): boolean {
    return this.kind !== '' && BELONGS_TO_IMAGE.has(this.kind);
  }

  get kindOptions(): Kind[] {
    const kinds = this.plan.allowed_kinds.length > 0 ? [...this.plan.allowed_kinds] : [];
    if (this.plan.kind && !kinds.includes(this.plan.kind)) kinds.unshift(this.plan.kind);
    return kinds;
  }

  /** Whether this row can be given this kind or OS (within what detection allows for the file). */
  takes(field: ApplyField, value: string): boolean {
    if (this.refused) return false;
    if (field === 'kind') return value !== '' && this.kindOptions.length > 1 && this.kindOptions.includes(value as Kind);
    return value === '' ? !this.plan.os_required : this.osOptions.includes(value as OsFamily);
  }

  /** Where the expected checksum came from, as the review labels it. */
  get expectedLabel(): string {
    if (!this.expected) return '';
    const algo = this.expected.algo.toUpperCase().replace('SHA', 'SHA-');
    return this.expected.source === 'entered' ? `${algo}, entered by hand` : `${algo} from ${this.expected.source}`;
  }

  /** The signature over its checksum list, when there is one to show. */
  get signature(): string | null {
    return this.expected?.source === 'entered' ? null : signatureText(this.plan.signature);
  }

  /** A vendor bundle's own signature as it will be checked while the zip is imported. */
  get bundleSignature(): string | null {
    if (this.plan.kind !== 'bundle' || this.refused) return null;
    const who = signatureText(this.plan.signature);
    const file = this.plan.signature.signature_file ?? `${this.plan.file_name}.asc`;
    return who ? `${who} (${file}, checked over the zip as it is imported)` : null;
  }
}

export class ImportReview {
  open = $state(false);
  /** Files dropped onto an open profile: once imported they are added to it. */
  target = $state<{ id: number; name: string } | null>(null);
  rows = $state<ReviewRow[]>([]);
  checksumFiles = $state.raw<ChecksumFileReport[]>([]);
  images = $state.raw<Artifact[]>([]);
  /** Bytes free on the repository's disk when the files were planned (null: unknown). */
  freeBytes = $state<number | null>(null);
  planning = $state(false);
  starting = $state(false);
  error = $state<IpcError | null>(null);
  /** A kind or OS just chosen on one row, offered to the others ("Apply to all"). */
  offer = $state<{ field: ApplyField; path: string } | null>(null);
  /** What the last "Apply to all" did (said above the table). */
  applied = $state<{ field: ApplyField | 'attributes'; path: string; text: string } | null>(null);
  /** Import the files whose checksum list is signed by a key not trusted here (or an expired one)
   *  as if it were not signed, for this batch. */
  acceptUnverified = $state(false);
  #paths: string[] = [];

  /** Files refused only because their checksum list's signer is not trusted (or expired). */
  get unverified(): ReviewRow[] {
    return this.rows.filter((r) => r.unverifiedSignature);
  }

  setAcceptUnverified(accept: boolean): void {
    this.acceptUnverified = accept;
    for (const r of this.unverified) {
      r.accepted = accept;
      r.include = accept;
    }
  }

  /** The one folder dropped or opened, when that is what is under review: it may be captured as a
   *  gold image instead of imported file by file. (A path the plan lists neither as a file nor as a
   *  checksum file is a folder; so is one the plan refused as a whole, such as a home too large.) */
  get droppedFolder(): string | null {
    if (this.#paths.length !== 1 || this.planning) return null;
    const only = this.#paths[0]!;
    if (this.rows.some((r) => r.plan.path === only) || this.checksumFiles.some((c) => c.path === only)) return null;
    return only;
  }

  get importable(): ReviewRow[] {
    return this.rows.filter((r) => r.include && !r.refused);
  }

  /** Exported profiles among the files: imported as profiles (import_profile), not as artifacts. */
  get profileArchives(): string[] {
    return this.importable.filter((r) => r.kind === 'os_profile').map((r) => r.plan.path);
  }

  /** Said (not blocking: files already stored take no room again) when what is to be imported is
   *  larger than the room left on the repository's disk. */
  get spaceWarning(): string | null {
    const need = this.importable.reduce((sum, r) => sum + r.plan.size, 0);
    if (this.freeBytes == null || need <= this.freeBytes) return null;
    return `These files need ${bytes(need)}; the repository's disk has ${bytes(this.freeBytes)} free. Files already in the library take no room again.`;
  }

  get blocking(): string | null {
    if (this.importable.length === 0) return 'Nothing to import: every file is refused or left out.';
    if (this.importable.some((r) => r.needsOs)) return 'Choose the OS for every file marked “OS required”.';
    if (this.importable.some((r) => r.expectedError)) return 'Fix or clear the expected checksums marked invalid.';
    const dup = this.duplicateAliases;
    if (dup.length > 0) return `An alias names one file: ${dup.join(', ')} is given to several.`;
    return null;
  }

  /** Plan the given paths (added to what is under review), then show the review. With `target`,
   *  what is imported is then added to that profile. */
  async add(paths: string[], target?: { id: number; name: string }): Promise<void> {
    if (target) this.target = target;
    const fresh = paths.filter((p) => !this.#paths.includes(p));
    if (fresh.length === 0 && this.open) return;
    this.#paths = [...this.#paths, ...fresh];
    this.open = true;
    this.planning = true;
    this.error = null;
    try {
      const [plan, images] = await Promise.all([
        api.planImport({ paths: this.#paths, checksum_files: [] }),
        api.listArtifacts({ kind: 'os', os: null, search: null, sort: 'name', descending: false, limit: 1000, offset: 0 }).catch(() => []),
      ]);
      const previous = new Map(this.rows.map((r) => [r.plan.path, r]));
      this.rows = plan.items.map((item) => {
        const row = new ReviewRow(item);
        if (row.unverifiedSignature && this.acceptUnverified) {
          row.accepted = true;
          row.include = true;
        }
        const old = previous.get(item.path);
        if (old) {
          row.include = old.include;
          row.kind = old.kind;
          row.os = old.os;
          row.image = old.image;
          row.fit = old.fit;
          row.name = old.name;
          row.attrs = old.attrs;
          row.showAttrs = old.showAttrs;
          if (old.expected?.source === 'entered' || old.expectedError) {
            row.expectedText = old.expectedText;
            row.expected = old.expected;
            row.expectedError = old.expectedError;
          }
        }
        return row;
      });
      this.checksumFiles = plan.checksum_files;
      this.freeBytes = plan.free_bytes;
      this.images = images;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.planning = false;
    }
  }

  /** The admin chose a kind or OS on a row: when other rows could take it too, offer it to them. */
  choose(row: ReviewRow, field: ApplyField, value: string): void {
    if (field === 'kind') row.kind = value as Kind | '';
    else row.os = value as OsFamily | '';
    this.applied = null;
    this.offer = this.othersFor(row, field).length > 0 ? { field, path: row.plan.path } : null;
  }

  /** The other rows that can take this row's kind or OS and do not have it yet. */
  othersFor(row: ReviewRow, field: ApplyField): ReviewRow[] {
    const value = row[field];
    return this.rows.filter((r) => r !== row && r[field] !== value && r.takes(field, value));
  }

  /** Give every other row this row's kind or OS where the file allows it; returns what changed and
   *  the files that cannot take it (refused files are left alone). */
  applyToAll(row: ReviewRow, field: ApplyField): { changed: number; skipped: string[] } {
    const value = row[field];
    const others = this.rows.filter((r) => r !== row && !r.refused && r[field] !== value);
    let changed = 0;
    const skipped: string[] = [];
    for (const r of others) {
      if (!r.takes(field, value)) {
        skipped.push(r.plan.file_name);
        continue;
      }
      if (field === 'kind') r.kind = value as Kind;
      else r.os = value as OsFamily | '';
      changed++;
    }
    const label = value === '' ? (field === 'os' ? 'Any OS' : 'no kind') : field === 'kind' ? KIND_LABELS[value as Kind] : OS_LABELS[value as OsFamily];
    const set = `Set ${label} on ${changed} more ${changed === 1 ? 'file' : 'files'}`;
    this.offer = null;
    this.applied = { field, path: row.plan.path, text: skipped.length > 0 ? `${set}; ${skipped.join(', ')} cannot be ${label}.` : `${set}.` };
    return { changed, skipped };
  }

  /** Give every other importable row this row's attributes (all but the alias, which names one
   *  artifact); returns how many rows took them. */
  applyAttributes(row: ReviewRow): number {
    const others = this.rows.filter((r) => r !== row && !r.refused);
    for (const r of others) r.attrs.copyFrom(row.attrs);
    const n = others.length;
    this.offer = null;
    this.applied = { field: 'attributes', path: row.plan.path, text: `Gave ${n} more ${n === 1 ? 'file' : 'files'} the attributes of ${row.plan.file_name} (all but its alias).` };
    return n;
  }

  /** Aliases given to more than one file (an alias names one artifact; the import would refuse the second). */
  get duplicateAliases(): string[] {
    const seen = new Map<string, number>();
    for (const r of this.importable) {
      const a = r.attrs.alias.trim().toLowerCase();
      if (a) seen.set(a, (seen.get(a) ?? 0) + 1);
    }
    return [...seen].filter(([, n]) => n > 1).map(([a]) => a);
  }

  /** The admin chose the OS image a row belongs to: a driver is checked against it at once. */
  async chooseImage(row: ReviewRow, image: string): Promise<void> {
    row.image = image;
    row.fit = null;
    if (image === '' || row.kind !== 'driver') return;
    try {
      const fit = await api.checkDriverFit(row.plan.file_name, row.plan.detected, image);
      if (row.image === image) row.fit = fit;
    } catch (e) {
      if (row.image === image) row.fit = { refused: asIpcError(e), warnings: [] };
    }
  }

  /** The admin typed or pasted an expected checksum (bare hex or ALGO:HEX). */
  async setExpected(row: ReviewRow, text: string): Promise<void> {
    row.expectedText = text;
    const trimmed = text.trim();
    if (trimmed === '') {
      row.expected = null;
      row.expectedError = null;
      return;
    }
    if (row.expected && trimmed.toLowerCase() === row.expected.hex.toLowerCase()) return;
    try {
      const parsed = await api.parseExpected(trimmed);
      if (row.expectedText.trim() !== trimmed) return;
      row.expected = { ...parsed, source: 'entered' };
      row.expectedError = null;
    } catch (e) {
      row.expected = null;
      row.expectedError = asIpcError(e);
    }
  }

  /** The artifact import for everything but profile archives. */
  request(): ImportRequest {
    return {
      items: this.importable.filter((r) => r.kind !== 'os_profile').map((r) => ({
        path: r.plan.path,
        kind: r.kind === '' ? null : r.kind,
        os: r.os === '' ? null : r.os === r.plan.os && r.plan.distro ? r.plan.distro : r.os,
        image: r.offersImage && r.image !== '' ? r.image : null,
        name: r.name.trim() === '' || r.name === r.plan.file_name ? null : r.name.trim(),
        expected: r.expected,
        attributes: r.attrs.importPatch(),
      })),
      // Each checksum list with the detached signature found beside it.
      checksum_files: this.checksumFiles.flatMap((c) => (c.signature_path ? [c.path, c.signature_path] : [c.path])),
      require_signature: false,
      accept_unverified_signatures: this.acceptUnverified && this.unverified.some((r) => r.include),
    };
  }

  close(): void {
    this.open = false;
    this.rows = [];
    this.checksumFiles = [];
    this.error = null;
    this.target = null;
    this.offer = null;
    this.applied = null;
    this.acceptUnverified = false;
    this.#paths = [];
  }
}
