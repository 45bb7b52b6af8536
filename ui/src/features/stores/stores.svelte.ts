// Image stores (IMGAPI, SimpleStreams): the saved stores with Add, Test and Remove; browsing one
// store's images (search and OS asked of the store, type filtered here) with a multi-selection;
// the import of the chosen images with shared attributes; and "Import from manifest URL…". The
// shell checks every URL again and reads the signing key file the native dialog returned.
import { api, asIpcError, type ImageStore, type IpcError, type ManifestImportRequest, type RemoteImage, type StoreCheck, type StoreImportRequest, type StoreKind, type StoreSpec } from '$lib/ipc/client';
import { Attributes } from '../library/attributes.svelte';
import { isHttpUrl } from '../import/urlImport.svelte';
import { JobDialog } from '$lib/jobDialog.svelte';

/** The commands this feature uses (the tests pass their own). */
export type StoresApi = {
  listStores: () => Promise<ImageStore[]>;
  addStore: (spec: StoreSpec) => Promise<ImageStore>;
  testStore: (name: string) => Promise<StoreCheck>;
  removeStore: (name: string) => Promise<ImageStore>;
  chooseSigningKey: () => Promise<string | null>;
  storeImages: (name: string, search: string | null, os: string | null) => Promise<RemoteImage[]>;
};

export const storesApi: StoresApi = {
  listStores: () => api.listStores(),
  addStore: (spec) => api.addStore(spec),
  testStore: (name) => api.testStore(name),
  removeStore: (name) => api.removeStore(name),
  chooseSigningKey: () => api.chooseSigningKey(),
  storeImages: (name, search, os) => api.storeImages(name, search, os),
};

export const KIND_LABELS: Record<StoreKind, string> = { imgapi: 'IMGAPI', simplestreams: 'SimpleStreams' };

/** What the kind select offers: asking the address first, or saying which it is. */
export const KIND_CHOICES: Array<['auto' | StoreKind, string]> = [
  ['auto', 'Find out (SimpleStreams index, else IMGAPI)'],
  ['imgapi', 'IMGAPI (SmartOS, Triton, Danube Cloud)'],
  ['simplestreams', 'SimpleStreams (Ubuntu cloud images, LXD, MAAS)'],
];

export type StoreDraft = { name: string; url: string; kind: 'auto' | StoreKind; keyFile: string | null };

export function emptyStoreDraft(): StoreDraft {
  return { name: '', url: '', kind: 'auto', keyFile: null };
}

/** Why the draft cannot be saved yet, or null. */
export function storeDraftProblem(d: StoreDraft): string | null {
  if (d.name.trim() === '') return 'Give the store a name.';
  if (d.url.trim() === '') return 'Give the store’s address (http or https).';
  if (!isHttpUrl(d.url.trim())) return 'The address must be an http or https URL.';
  return null;
}

export function storeSpecOf(d: StoreDraft): StoreSpec {
  return { name: d.name.trim(), url: d.url.trim(), kind: d.kind === 'auto' ? null : d.kind, key_file: d.keyFile };
}

export type StoreTest = { running: boolean; result: StoreCheck | null; error: IpcError | null };

/** The saved stores. */
export class Stores {
  items = $state.raw<ImageStore[]>([]);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  tests = $state<Record<string, StoreTest>>({});
  #api: StoresApi;

  constructor(given: StoresApi = storesApi) {
    this.#api = given;
  }

  async load(): Promise<void> {
    try {
      this.items = await this.#api.listStores();
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loaded = true;
    }
  }

  /** Save a store; the refusal (bad_signature, a URL that answers as neither kind…) or null. */
  async add(draft: StoreDraft): Promise<IpcError | null> {
    try {
      const store = await this.#api.addStore(storeSpecOf(draft));
      this.items = [...this.items.filter((s) => s.name !== store.name), store].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  /** The native dialog for a signing key; its path, or null when cancelled. */
  async chooseKey(): Promise<string | null> {
    return this.#api.chooseSigningKey();
  }

  async test(name: string): Promise<void> {
    this.tests[name] = { running: true, result: null, error: null };
    try {
      const result = await this.#api.testStore(name);
      this.tests[name] = { running: false, result, error: null };
    } catch (e) {
      this.tests[name] = { running: false, result: null, error: asIpcError(e) };
    }
  }

  async remove(name: string): Promise<IpcError | null> {
    try {
      await this.#api.removeStore(name);
      this.items = this.items.filter((s) => s.name !== name);
      delete this.tests[name];
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }
}

/** Words of a sort the filters list: distinct, sorted, empty ones left out. */
function distinct(values: Array<string | null | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => v != null && v.trim() !== ''))].sort((a, b) => a.localeCompare(b));
}

/** One store's images: search and OS are asked of the store, the type is filtered here. */
export class StoreBrowser {
  store = $state<string | null>(null);
  images = $state.raw<RemoteImage[]>([]);
  loading = $state(false);
  error = $state<IpcError | null>(null);
  search = $state('');
  os = $state('');
  type = $state('');
  selection = $state.raw<Set<string>>(new Set());
  /** OS names and types of the store's whole list (the filters keep offering them while filtered). */
  osOptions = $state.raw<string[]>([]);
  typeOptions = $state.raw<string[]>([]);
  #api: StoresApi;
  #asked = 0;

  constructor(given: StoresApi = storesApi) {
    this.#api = given;
  }

  /** Browse `name` from a clean slate. */
  async open(name: string): Promise<void> {
    this.store = name;
    this.search = '';
    this.os = '';
    this.type = '';
    this.selection = new Set();
    this.images = [];
    this.osOptions = [];
    this.typeOptions = [];
    await this.load();
  }

  close(): void {
    this.store = null;
    this.images = [];
    this.selection = new Set();
    this.error = null;
  }

  /** Ask the store again with the search and OS filter (an older answer arriving late is dropped). */
  async load(): Promise<void> {
    const name = this.store;
    if (!name) return;
    const asked = ++this.#asked;
    this.loading = true;
    const search = this.search.trim() === '' ? null : this.search.trim();
    const os = this.os === '' ? null : this.os;
    try {
      const images = await this.#api.storeImages(name, search, os);
      if (asked !== this.#asked) return;
      this.images = images;
      this.error = null;
      if (search == null && os == null) {
        this.osOptions = distinct(images.map((i) => i.os));
        this.typeOptions = distinct(images.map((i) => i.image_type));
      } else {
        this.osOptions = distinct([...this.osOptions, ...images.map((i) => i.os)]);
        this.typeOptions = distinct([...this.typeOptions, ...images.map((i) => i.image_type)]);
      }
      // what is no longer offered cannot stay chosen
      const ids = new Set(images.map((i) => i.id));
      if ([...this.selection].some((id) => !ids.has(id))) this.selection = new Set([...this.selection].filter((id) => ids.has(id)));
    } catch (e) {
      if (asked !== this.#asked) return;
      this.images = [];
      this.error = asIpcError(e);
    } finally {
      if (asked === this.#asked) this.loading = false;
    }
  }

  /** The images the filters let through, newest first (the store's order). */
  get shown(): RemoteImage[] {
    return this.type === '' ? this.images : this.images.filter((i) => i.image_type === this.type);
  }

  get chosen(): RemoteImage[] {
    return this.images.filter((i) => this.selection.has(i.id));
  }

  toggle(id: string): void {
    const next = new Set(this.selection);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.selection = next;
  }

  /** Select every image shown; when all already are, clear the selection. */
  toggleAll(): void {
    const shown = this.shown.map((i) => i.id);
    this.selection = shown.every((id) => this.selection.has(id)) ? new Set() : new Set(shown);
  }

  clearSelection(): void {
    this.selection = new Set();
  }
}

/** The import of the chosen images of a store: shared attributes, then one download job. */
export class StoreImport extends JobDialog<StoreImportRequest> {
  store = $state('');
  images = $state.raw<RemoteImage[]>([]);
  attrs = new Attributes();

  show(store: string, images: RemoteImage[]): void {
    this.store = store;
    this.images = images;
    this.attrs = new Attributes();
    // what the store says stands unless changed: public when every chosen image is public
    this.attrs.access = images.length > 0 && images.every((i) => i.public) ? 'public' : 'private';
    this.error = null;
    this.open = true;
  }

  get blocking(): string | null {
    if (this.images.length === 0) return 'Select one or more images first.';
    if (this.attrs.alias.trim() !== '' && this.images.length > 1) return 'An alias names one image: import the others separately or leave it empty.';
    return null;
  }

  request(): StoreImportRequest {
    return { store: this.store, ids: this.images.map((i) => i.id), attributes: this.attrs.importPatch() };
  }
}

/** "Import from manifest URL…": an IMGAPI manifest, optionally where its file is, attributes. */
export class ManifestImport extends JobDialog<ManifestImportRequest> {
  manifestUrl = $state('');
  fileUrl = $state('');
  attrs = new Attributes();

  show(): void {
    if (!this.open) {
      this.manifestUrl = '';
      this.fileUrl = '';
      this.attrs = new Attributes();
      this.error = null;
    }
    this.open = true;
  }

  get blocking(): string | null {
    const m = this.manifestUrl.trim();
    if (m === '') return 'Paste the manifest’s URL (…/images/UUID on an IMGAPI server).';
    if (!isHttpUrl(m)) return 'The manifest URL must be an http or https link.';
    const f = this.fileUrl.trim();
    if (f !== '' && !isHttpUrl(f)) return 'The file URL must be an http or https link (or empty: …/images/UUID/file).';
    return null;
  }

  request(): ManifestImportRequest {
    const f = this.fileUrl.trim();
    const attributes = this.attrs.importPatch();
    // the form's default (private) leaves the manifest's own access (public: true or false) standing
    if (attributes.access === 'private') attributes.access = null;
    return { manifest_url: this.manifestUrl.trim(), file_url: f === '' ? null : f, attributes };
  }
}
