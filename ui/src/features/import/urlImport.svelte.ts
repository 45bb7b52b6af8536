// "Import from URL…": links pasted (one per line) or dropped from a browser, an optional expected
// checksum for a single file, and the attributes for what is imported. The shell checks the URLs
// again (http and https only) and fetches checksum-file URLs before the download job starts.
import type { UrlImportRequest } from '$lib/ipc/client';
import { Attributes } from '../library/attributes.svelte';
import { JobDialog } from '$lib/jobDialog.svelte';

/** Whether `text` is an http or https URL with a host (what the shell accepts). */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The links in pasted text: one per line (spaces also separate), `#` comment lines left out, each once. */
export function splitUrls(text: string): string[] {
  const words = text.split('\n').filter((l) => !l.trim().startsWith('#')).flatMap((l) => l.split(/\s+/)).map((w) => w.trim()).filter((w) => w !== '');
  return [...new Set(words)];
}

/** Whether dropped text names a link rather than a file (a browser drags http(s) URLs). */
export function looksLikeUrl(text: string): boolean {
  return /^https?:\/\//i.test(text.trim());
}

/** The file name a URL names (its last path segment, decoded). */
export function urlFileName(url: string): string {
  try {
    const u = new URL(url);
    const last = u.pathname.split('/').filter((s) => s !== '').pop();
    return last ? decodeURIComponent(last) : u.hostname;
  } catch {
    return url;
  }
}

/** Extensions of files that are never checksum lists, whatever their name says (the engine's list). */
const OTHER_TYPES = new Set(['sh', 'bash', 'zsh', 'ksh', 'pl', 'pm', 'py', 'rb', 'js', 'cmd', 'bat', 'ps1', 'psm1', 'exe', 'msi', 'json', 'xml', 'inf', 'cfg', 'ks',
  'iso', 'img', 'zip', 'rpm', 'deb', 'gz', 'tgz', 'tar', 'asc', 'sig', 'gpg', 'sign']);

/** Checksum files by name, by the engine's rule (`name_suggests_checksum_file`): a sidecar
 *  (x.iso.sha256, x.md5sum) or a list (SHA256SUMS, CHECKSUM, MD5SUMS.txt). The shell decides; this
 *  only labels the links in the dialog. */
export function isChecksumName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  if (/^(md5|sha1|sha256|sha512)(sum)?$/.test(ext)) return true;
  const base = name.toUpperCase().split('.')[0] ?? '';
  return ['SUMS', 'SUM', 'CHECKSUM', 'CHECKSUMS'].some((s) => base.endsWith(s)) && !OTHER_TYPES.has(ext);
}

/** A detached signature of a checksum list, by the engine's rule (`name_suggests_checksum_signature`):
 *  SHA256SUMS.gpg, SHA512SUMS.sign, CHECKSUM.asc. */
export function isChecksumSignatureName(name: string): boolean {
  const m = /^(.+)\.(asc|sig|gpg|sign)$/i.exec(name);
  return m != null && isChecksumName(m[1]!);
}

export type UrlLine = { url: string; name: string; role: 'file' | 'checksum' | 'signature' | 'invalid' };

export class UrlImport extends JobDialog<UrlImportRequest> {
  text = $state('');
  checksum = $state('');
  attrs = new Attributes();
  /** Import what a checksum list signed by a key not trusted here (or an expired one) vouches for,
   *  as if the list were unsigned. */
  acceptUnverified = $state(false);

  /** Each link with what it is: a file to download, a checksum file, or not an http(s) URL. */
  get lines(): UrlLine[] {
    return splitUrls(this.text).map((url) => {
      const name = urlFileName(url);
      const role = !isHttpUrl(url) ? 'invalid' : isChecksumName(name) ? 'checksum' : isChecksumSignatureName(name) ? 'signature' : 'file';
      return { url, name, role };
    });
  }

  get files(): UrlLine[] {
    return this.lines.filter((l) => l.role === 'file');
  }

  /** Why Import cannot start yet, or null. */
  get blocking(): string | null {
    const lines = this.lines;
    if (lines.length === 0) return 'Paste one or more http or https links, one per line.';
    const bad = lines.filter((l) => l.role === 'invalid');
    if (bad.length > 0) return `Only http and https links can be imported: ${bad.map((l) => l.url).join(', ')}.`;
    const files = this.files.length;
    if (files === 0) return 'Only checksum files: add the link of the file they cover.';
    if (this.checksum.trim() !== '' && files > 1) return 'A checksum is for one file: give one link with it, or a checksum file link for several.';
    if (this.attrs.alias.trim() !== '' && files > 1) return 'An alias names one file: import the others separately or leave it empty.';
    return null;
  }

  /** Open the dialog, with `urls` (dropped from a browser) added to what is there. */
  show(urls: string[] = []): void {
    if (!this.open) this.reset();
    const known = new Set(splitUrls(this.text));
    const fresh = urls.filter((u) => !known.has(u));
    if (fresh.length > 0) this.text = [...splitUrls(this.text), ...fresh].join('\n');
    this.open = true;
  }

  request(): UrlImportRequest {
    return {
      urls: this.lines.map((l) => l.url),
      checksum: this.checksum.trim() === '' ? null : this.checksum.trim(),
      attributes: this.attrs.importPatch(),
      accept_unverified_signatures: this.acceptUnverified,
    };
  }

  reset(): void {
    this.text = '';
    this.checksum = '';
    this.attrs = new Attributes();
    this.acceptUnverified = false;
    this.error = null;
  }
}
