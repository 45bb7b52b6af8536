// Human formatting of sizes, rates, durations, dates and domain words.
import type { Algo, ArtifactState, DeletedKind, Finding, JobKind, JobState, Kind, OsFamily, SignatureCheck, Verification, WindowsEdition } from './ipc/client';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]}`;
}

export function rate(bps: number | null | undefined): string {
  return bps != null && bps > 0 ? `${bytes(bps)}/s` : '—';
}

export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  // A date alone (a SimpleStreams serial) is that calendar day wherever the user is, not a UTC midnight.
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (day) {
    const local = new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    return local.toLocaleDateString(undefined, { dateStyle: 'medium' });
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function percent(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, (done / total) * 100));
}

export const KIND_LABELS: Record<Kind, string> = {
  os: 'OS image',
  os_profile: 'OS profile',
  driver: 'Driver',
  boot: 'Boot files',
  bundle: 'Bundle',
  bundle_sig: 'Bundle signature',
  config: 'Configuration',
  script: 'Script',
  software: 'Software',
  unattend: 'Answer file',
  gold_image: 'Gold image',
  disk_image: 'Disk image',
};

export const OS_LABELS: Record<OsFamily, string> = { linux: 'Linux', windows: 'Windows', vmware: 'VMware ESXi' };

/** Whether an artifact's stored copy can be used; `ok` is not shown. */
export const ARTIFACT_STATE_LABELS: Record<ArtifactState, string> = { ok: 'OK', missing: 'Missing', damaged: 'Damaged' };

export const STATE_LABELS: Record<JobState, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  partly_succeeded: 'Partly succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** Every job kind with its name in the panel, toasts and history (a Record: a new kind in the
 * engine's generated `JobKind` fails the type check until it is named here). */
export const JOB_LABELS: Record<JobKind, string> = {
  import: 'Import',
  verify: 'Verify',
  export: 'Export',
  server_export: 'Export to server',
  profile_import: 'Profile import',
  publish: 'Publish',
  recover: 'Recovery',
  capture: 'Capture',
  provision: 'Provision',
  snapshot_image: 'Snapshot image',
  push: 'Push to team',
  pull: 'Pull from team',
};

export const JOB_KINDS = Object.keys(JOB_LABELS) as JobKind[];

/** What a deletion removed, as the History's "Deleted" dialog names it. */
export const DELETED_LABELS: Record<DeletedKind, string> = {
  artifact: 'File',
  profile: 'Profile',
  gold: 'Gold image',
  working_copy: 'Working copy',
  key: 'Trusted key',
  store: 'Image store',
  server: 'File server',
  target: 'Cloud target',
};

/** A job kind as the panel and toasts name it ("Import", "Export", "Profile import"). */
export function jobLabel(kind: JobKind): string {
  return JOB_LABELS[kind] ?? kind;
}

/** The badge tone of a job state. */
export const STATE_TONES: Record<JobState, string> = {
  queued: '', running: 'accent', succeeded: 'ok', partly_succeeded: 'warn', failed: 'err', cancelled: 'warn', interrupted: 'warn',
};

export function isFinished(state: JobState): boolean {
  return state !== 'queued' && state !== 'running';
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

export const ALGO_LABELS: Record<Algo, string> = { md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512' };

/** Where a checked digest came from, as people say it: "SHA256SUMS (line 2)", "the checksum typed at import". */
export function evidenceSource(v: Pick<Verification, 'expected_from' | 'source_file' | 'line'>): string {
  if (v.expected_from === 'typed' || !v.source_file) return 'the checksum typed at import';
  return v.line != null ? `${v.source_file} (line ${v.line})` : v.source_file;
}

/** "SHA-256 matched SHA256SUMS (line 2), signed by Fedora <…>". */
export function evidence(v: Verification): string {
  const signed = signatureText(v.signature);
  if (v.expected_from === 'signature') {
    // A bundle's own detached signature, checked over its bytes.
    return `OpenPGP signature ${v.source_file ?? ''} verified over the file${signed ? `, ${signed.charAt(0).toLowerCase()}${signed.slice(1)}` : ''}`;
  }
  return `${ALGO_LABELS[v.algo]} matched ${evidenceSource(v)}${signed ? `, ${signed.charAt(0).toLowerCase()}${signed.slice(1)}` : ''}`;
}

/** "4D64 FEC1 19C2 0290 67D6  E791 F8D2 585B 8783 D481": a v4 fingerprint grouped as gpg shows it. */
export function groupedFingerprint(fpr: string): string {
  const groups = fpr.match(/.{1,4}/g) ?? [];
  return groups.length === 10 ? `${groups.slice(0, 5).join(' ')}  ${groups.slice(5).join(' ')}` : groups.join(' ');
}

/** What a signature over a checksum list came to, in a few words ("Signed by Fedora <…>"); null
 *  when nothing was signed. */
export function signatureText(s: SignatureCheck | null | undefined): string | null {
  if (!s) return null;
  const who = s.signer ?? 'a trusted key';
  switch (s.status) {
    case 'good': return `Signed by ${who}`;
    case 'expired_key': return `Signed by ${who}, whose key has expired`;
    case 'unknown_key': return 'Signed by a key not trusted here';
    case 'bad': return s.signer ? `Signature by ${who} does not verify` : 'Signature cannot be read';
    default: return null;
  }
}

/** The tone a signature is shown in: ok for good, warn for an unknown or expired key, err for bad. */
export function signatureTone(s: SignatureCheck | null | undefined): 'ok' | 'warn' | 'err' | null {
  if (!s || s.status === 'none') return null;
  return s.status === 'good' ? 'ok' : s.status === 'bad' ? 'err' : 'warn';
}

/** An artifact's exact OS in one line ("Red Hat Enterprise Linux 9.6 (rhel9.6), x86_64"), "Not an OS
 *  installer" for an ISO neither its files nor libosinfo name, or null when there is nothing to say. */
export function exactOs(a: { os_id: string | null; os_name: string | null; arch: string | null; detected: unknown }): string | null {
  if (a.os_id == null && a.os_name == null) {
    const d = a.detected as Record<string, unknown> | null;
    return d != null && d.installer === false ? 'Not an OS installer' : null;
  }
  const id = a.os_id != null && a.os_id !== a.os_name ? ` (${a.os_id})` : '';
  return `${a.os_name ?? a.os_id}${id}${a.arch ? `, ${a.arch}` : ''}`;
}

/** How a Windows edition is offered in a choice: "2 · Windows Server 2022 Datacenter (Desktop Experience)". */
export function editionLabel(e: Pick<WindowsEdition, 'index' | 'name' | 'display_name'>): string {
  return `${e.index} · ${e.display_name ?? e.name}`;
}

/** "2 errors, 1 warning" for an answer file's lint findings; "No findings" when it is clean. */
export function lintSummary(findings: ReadonlyArray<Pick<Finding, 'severity'>>): string {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  if (findings.length === 0) return 'No findings';
  const part = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [errors ? part(errors, 'error') : null, warnings ? part(warnings, 'warning') : null].filter(Boolean).join(', ');
}
