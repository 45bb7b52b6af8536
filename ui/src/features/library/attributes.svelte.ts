// Image attributes (Danube's image fields: alias, access, owner, description, version, resize,
// deploy, tags) as the import review, "Import from URL…" and the details' edit form set them, and
// the words the library shows for access and source.
import type { Access, Artifact, ArtifactPatch, ArtifactSource } from '$lib/ipc/client';
import { baseName, dateTime } from '$lib/format';

export const ACCESS_LABELS: Record<Access, string> = { public: 'Public', private: 'Private', deleted: 'Deleted' };
export const ACCESS_HELP: Record<Access, string> = {
  public: 'Public: offered to everyone who uses this repository.',
  private: 'Private: for its owner (the default).',
  deleted: 'Deleted: hidden from the library and refused by new profiles and publishing; profiles that use it keep working.',
};
export const ACCESSES = Object.keys(ACCESS_LABELS) as Access[];

/** Comma-separated tags as a list (trimmed, empty ones and repeats left out). */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter((t) => t !== ''))];
}

/** The attributes a form edits. Empty text means "not given" at import (the engine's default: no
 *  alias, the OS user as owner); at edit, an emptied alias removes it. */
export class Attributes {
  alias = $state('');
  access = $state<Access>('private');
  owner = $state('');
  description = $state('');
  version = $state('');
  tags = $state('');
  resize = $state(false);
  deploy = $state(false);

  /** The attributes an artifact has, for its edit form. */
  static of(a: Artifact): Attributes {
    const f = new Attributes();
    f.alias = a.alias ?? '';
    f.access = a.access;
    f.owner = a.owner;
    f.description = a.description;
    f.version = a.version;
    f.tags = a.tags.join(', ');
    f.resize = a.resize;
    f.deploy = a.deploy;
    return f;
  }

  /** Copy everything but the alias (which names one artifact) from `other` ("Apply to all"). */
  copyFrom(other: Attributes): void {
    this.access = other.access;
    this.owner = other.owner;
    this.description = other.description;
    this.version = other.version;
    this.tags = other.tags;
    this.resize = other.resize;
    this.deploy = other.deploy;
  }

  /** Whether anything differs from what an import gives by default. */
  get changed(): boolean {
    return this.summary !== '';
  }

  /** A short line of what was set (the review shows it on a row whose details are closed). */
  get summary(): string {
    const parts: string[] = [];
    if (this.alias.trim()) parts.push(`alias ${this.alias.trim()}`);
    if (this.access !== 'private') parts.push(ACCESS_LABELS[this.access]);
    if (this.owner.trim()) parts.push(`owner ${this.owner.trim()}`);
    if (this.version.trim()) parts.push(`version ${this.version.trim()}`);
    const tags = parseTags(this.tags);
    if (tags.length > 0) parts.push(tags.map((t) => `#${t}`).join(' '));
    if (this.description.trim()) parts.push('description');
    if (this.resize) parts.push('resize');
    if (this.deploy) parts.push('deploy');
    return parts.join(' · ');
  }

  /** What an import sends: only what was given (the engine's defaults stand for the rest). */
  importPatch(): ArtifactPatch {
    const text = (s: string) => (s.trim() === '' ? null : s.trim());
    const tags = parseTags(this.tags);
    return {
      name: null,
      description: this.description.trim() === '' ? null : this.description,
      version: text(this.version),
      tags: tags.length > 0 ? tags : null,
      alias: text(this.alias),
      access: this.access,
      owner: text(this.owner),
      resize: this.resize ? true : null,
      deploy: this.deploy ? true : null,
    };
  }

  /** What an edit of `a` sends: only the fields that changed (an emptied alias removes it; an
   *  emptied owner leaves it as it is, as every artifact has one). */
  editPatch(a: Artifact): ArtifactPatch {
    const tags = parseTags(this.tags);
    const same = (x: string[], y: string[]) => x.length === y.length && x.every((t, i) => t === y[i]);
    return {
      name: null,
      description: this.description !== a.description ? this.description : null,
      version: this.version.trim() !== a.version ? this.version.trim() : null,
      tags: same(tags, a.tags) ? null : tags,
      alias: this.alias.trim() !== (a.alias ?? '') ? this.alias.trim() : null,
      access: this.access !== a.access ? this.access : null,
      owner: this.owner.trim() !== '' && this.owner.trim() !== a.owner ? this.owner.trim() : null,
      resize: this.resize !== a.resize ? this.resize : null,
      deploy: this.deploy !== a.deploy ? this.deploy : null,
    };
  }
}

/** Where an artifact came from, as the details pane says it. `detected` (the artifact's facts)
 *  names the device of a snapshot image's disk ("vdb"). */
export function sourceLabel(source: ArtifactSource, originalName: string, detected?: unknown): { what: string; detail: string | null } {
  if (source.kind === 'snapshot') return { what: snapshotWords(source, detected), detail: source.disk_file ?? null };
  if (source.kind === 'url') return { what: 'Downloaded from a URL', detail: source.url ?? null };
  if (source.kind === 'store') {
    const where = source.store ? `image store ${source.store}` : 'an image store';
    return { what: `Imported from ${where}`, detail: source.remote_id ?? source.url ?? null };
  }
  return { what: 'A local file', detail: originalName };
}

/** "Snapshot s1 of disk 2 (vdb) of VM web, taken 3 Dec 2026, 10:00"; of a disk file by its name,
 *  of a library image by its name. */
export function snapshotWords(source: ArtifactSource, detected?: unknown): string {
  const facts = detected && typeof detected === 'object' && !Array.isArray(detected) ? (detected as Record<string, unknown>) : {};
  const target = typeof facts.disk_target === 'string' && facts.disk_target !== '' ? facts.disk_target : null;
  const disk = `disk ${source.disk_id ?? 1}${target ? ` (${target})` : ''}`;
  const of =
    source.vm ? `${disk} of VM ${source.vm}`
    : source.artifact ? `the library image ${source.artifact}`
    : source.disk_file ? baseName(source.disk_file)
    : disk;
  const at = source.snapshot_at ? `, taken ${dateTime(source.snapshot_at)}` : '';
  return `Snapshot ${source.snapshot ?? '?'} of ${of}${at}`;
}
