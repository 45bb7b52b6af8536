import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { ImageStore, RemoteImage } from '$lib/ipc/client';
import { ipcError } from '../../test/fixtures';
import ManifestImportDialog from './ManifestImportDialog.svelte';
import StoreImportDialog from './StoreImportDialog.svelte';
import StoresView from './Stores.svelte';
import { emptyStoreDraft, ManifestImport, StoreBrowser, StoreImport, Stores, storeDraftProblem, storeSpecOf, type StoresApi } from './stores.svelte';

/** jsdom has no layout: a ResizeObserver that reports a 600 px viewport, so the virtual list renders rows. */
class SizedObserver {
  #report: ResizeObserverCallback;
  constructor(report: ResizeObserverCallback) {
    this.#report = report;
  }
  observe(target: Element) {
    queueMicrotask(() => this.#report([{ target, contentRect: { width: 480, height: 600 } } as unknown as ResizeObserverEntry], this as unknown as ResizeObserver));
  }
  unobserve() {}
  disconnect() {}
}
const noLayout = globalThis.ResizeObserver;
beforeAll(() => { globalThis.ResizeObserver = SizedObserver as unknown as typeof ResizeObserver; });
afterAll(() => { globalThis.ResizeObserver = noLayout; });

function store(name: string, over: Partial<ImageStore> = {}): ImageStore {
  return { name, url: `http://127.0.0.1:38090/${name}`, kind: 'imgapi', key_fingerprint: null, created_at: '2026-12-01T10:00:00Z', created_by: null, ...over };
}

function image(id: string, over: Partial<RemoteImage> = {}): RemoteImage {
  return {
    id, name: `img-${id}`, version: '1.0', description: `image ${id}`, os: 'linux', image_type: 'zvol', arch: 'x86_64', size: 1024 * 1024,
    published_at: '2026-11-20T10:00:00Z', public: true, tags: [], file_url: `http://h/images/${id}/file`, manifest_url: `http://h/images/${id}`,
    digest_algo: 'sha1', digest: 'a'.repeat(40), compression: 'none', in_library: null, ...over,
  };
}

function api(over: Partial<StoresApi> = {}) {
  const base: StoresApi = {
    listStores: async () => [store('danube')],
    addStore: async (spec) => store(spec.name, { url: spec.url, kind: spec.kind ?? 'imgapi' }),
    testStore: async (name) => ({ store: store(name), images: 3 }),
    removeStore: async (name) => store(name),
    chooseSigningKey: async () => '/home/me/keys/ubuntu.asc',
    storeImages: async () => [image('a'), image('b', { os: 'smartos', image_type: 'zone-dataset', in_library: 'img-b-1.0' })],
    ...over,
  };
  return Object.fromEntries(Object.entries(base).map(([k, f]) => [k, vi.fn(f as (...a: unknown[]) => unknown)])) as unknown as { [K in keyof StoresApi]: ReturnType<typeof vi.fn> & StoresApi[K] };
}

describe('the add-store form', () => {
  it('says what is missing and builds the StoreSpec (auto: no kind)', () => {
    expect(storeDraftProblem(emptyStoreDraft())).toMatch(/name/);
    expect(storeDraftProblem({ ...emptyStoreDraft(), name: 'x' })).toMatch(/address/);
    expect(storeDraftProblem({ ...emptyStoreDraft(), name: 'x', url: 'ftp://h/' })).toMatch(/http or https/);
    const d = { name: ' danube ', url: ' https://images.example/ ', kind: 'auto' as const, keyFile: null };
    expect(storeDraftProblem(d)).toBeNull();
    expect(storeSpecOf(d)).toEqual({ name: 'danube', url: 'https://images.example/', kind: null, key_file: null });
    expect(storeSpecOf({ ...d, kind: 'simplestreams', keyFile: '/k.asc' })).toMatchObject({ kind: 'simplestreams', key_file: '/k.asc' });
  });
});

describe('Stores', () => {
  it('loads, adds in name order, tests and removes; refusals come back with their code', async () => {
    const a = api();
    const s = new Stores(a);
    await s.load();
    expect(s.items.map((x) => x.name)).toEqual(['danube']);
    expect(await s.add({ name: 'Alpha', url: 'http://h/', kind: 'imgapi', keyFile: null })).toBeNull();
    expect(s.items.map((x) => x.name)).toEqual(['Alpha', 'danube']);
    await s.test('danube');
    expect(s.tests.danube).toMatchObject({ running: false, result: { images: 3 }, error: null });
    a.testStore.mockRejectedValueOnce(ipcError('bad_signature', 'The signature of index.sjson does not verify.'));
    await s.test('danube');
    expect(s.tests.danube?.error?.code).toBe('bad_signature');
    expect(await s.remove('danube')).toBeNull();
    expect(s.items.map((x) => x.name)).toEqual(['Alpha']);
    a.addStore.mockRejectedValueOnce(ipcError('name_taken'));
    expect((await s.add({ name: 'Alpha', url: 'http://h/', kind: 'auto', keyFile: null }))?.code).toBe('name_taken');
  });
});

describe('StoreBrowser', () => {
  it('asks the store with search and OS, filters the type here and keeps the filter choices', async () => {
    const a = api();
    const b = new StoreBrowser(a);
    await b.open('danube');
    expect(a.storeImages).toHaveBeenLastCalledWith('danube', null, null);
    expect(b.osOptions).toEqual(['linux', 'smartos']);
    expect(b.typeOptions).toEqual(['zone-dataset', 'zvol']);
    b.type = 'zvol';
    expect(b.shown.map((i) => i.id)).toEqual(['a']);
    b.type = '';
    a.storeImages.mockResolvedValueOnce([image('a')]);
    b.search = ' ubuntu ';
    b.os = 'linux';
    await b.load();
    expect(a.storeImages).toHaveBeenLastCalledWith('danube', 'ubuntu', 'linux');
    expect(b.osOptions).toEqual(['linux', 'smartos']);
  });

  it('selects one, all shown, or none; what is no longer offered leaves the selection', async () => {
    const a = api();
    const b = new StoreBrowser(a);
    await b.open('danube');
    b.toggle('b');
    expect(b.chosen.map((i) => i.id)).toEqual(['b']);
    b.toggleAll();
    expect([...b.selection]).toEqual(['a', 'b']);
    b.toggleAll();
    expect(b.selection.size).toBe(0);
    b.toggleAll();
    a.storeImages.mockResolvedValueOnce([image('a')]);
    await b.load();
    expect([...b.selection]).toEqual(['a']);
  });

  it('shows the store’s refusal and drops answers that arrive after a newer question', async () => {
    let answer: (v: RemoteImage[]) => void = () => {};
    const a = api();
    const b = new StoreBrowser(a);
    a.storeImages.mockImplementationOnce(() => new Promise<RemoteImage[]>((r) => { answer = r; }));
    const first = b.open('danube');
    a.storeImages.mockRejectedValueOnce(ipcError('not_found', 'http://h/images answered 404.'));
    await b.load();
    answer([image('late')]);
    await first;
    expect(b.images).toEqual([]);
    expect(b.error?.code).toBe('not_found');
  });
});

describe('StoreImport and ManifestImport', () => {
  it('an alias is for one image; access starts as the store says; the request names store and ids', async () => {
    const d = new StoreImport();
    d.show('danube', [image('a'), image('b', { public: false })]);
    expect(d.attrs.access).toBe('private');
    d.attrs.alias = 'x';
    expect(d.blocking).toMatch(/An alias names one image/);
    d.show('danube', [image('a')]);
    expect(d.attrs.access).toBe('public');
    d.attrs.tags = 'lab, kvm';
    expect(d.request()).toMatchObject({ store: 'danube', ids: ['a'], attributes: { access: 'public', tags: ['lab', 'kvm'], version: null } });
    expect(await d.submit(async () => { throw ipcError('not_found'); })).toBeNull();
    expect(d.open).toBe(true);
    expect(d.error?.code).toBe('not_found');
    expect(await d.submit(async () => 9)).toBe(9);
    expect(d.open).toBe(false);
  });

  it('the manifest URL must be http(s); an empty file URL is left to the engine; private leaves the manifest’s access', () => {
    const m = new ManifestImport();
    m.show();
    expect(m.blocking).toMatch(/manifest’s URL/);
    m.manifestUrl = 'file:///etc/passwd';
    expect(m.blocking).toMatch(/http or https/);
    m.manifestUrl = 'http://h/images/u';
    m.fileUrl = 'ftp://h/f';
    expect(m.blocking).toMatch(/file URL/);
    m.fileUrl = ' ';
    expect(m.blocking).toBeNull();
    expect(m.request()).toMatchObject({ manifest_url: 'http://h/images/u', file_url: null, attributes: { access: null } });
    m.attrs.access = 'public';
    expect(m.request().attributes.access).toBe('public');
  });
});

describe('the Image stores screen', () => {
  it('lists stores with kind, URL and key; Browse lists images with the In library marker; Import gets the chosen', async () => {
    const a = api({ listStores: async () => [store('danube'), store('ubuntu', { kind: 'simplestreams', key_fingerprint: 'ABCD1234' })] });
    const stores = new Stores(a);
    await stores.load();
    const browser = new StoreBrowser(a);
    const onimport = vi.fn();
    const user = userEvent.setup();
    render(StoresView, { stores, browser, onimport, onmanifest: () => {} });
    const rows = screen.getAllByTestId('store-row');
    expect(rows.map((r) => r.dataset.name)).toEqual(['danube', 'ubuntu']);
    expect(within(rows[1]!).getByTestId('store-kind')).toHaveTextContent('SimpleStreams');
    expect(within(rows[1]!).getByTestId('store-key')).toHaveTextContent('ABCD1234');
    await user.click(within(rows[0]!).getByTestId('browse-store'));
    await vi.waitFor(() => expect(screen.getByTestId('store-browse')).toBeInTheDocument());
    expect(await screen.findByText('In library: img-b-1.0')).toBeInTheDocument();
    expect(screen.getByTestId('store-import')).toBeDisabled();
    const check = screen.getAllByTestId('store-image-check')[0]!;
    check.focus();
    await user.keyboard('{Enter}');
    expect(browser.chosen.map((i) => i.id)).toEqual(['a']);
    await user.click(screen.getByTestId('store-import'));
    expect(onimport).toHaveBeenCalled();
  });

  it('Remove asks first; Test shows the refusal with code, explanation and what to do', async () => {
    const a = api({ testStore: async () => { throw ipcError('bad_signature', 'The signature does not verify.'); } });
    const stores = new Stores(a);
    await stores.load();
    const user = userEvent.setup();
    render(StoresView, { stores, browser: new StoreBrowser(a), onimport: () => {}, onmanifest: () => {} });
    await user.click(screen.getByTestId('test-store'));
    const alert = await screen.findByRole('alert');
    expect(alert.dataset.code).toBe('bad_signature');
    expect(alert).toHaveTextContent('fix bad_signature');
    await user.click(screen.getByTestId('remove-store'));
    expect(a.removeStore).not.toHaveBeenCalled();
    await user.click(screen.getByTestId('confirm-remove-store'));
    expect(a.removeStore).toHaveBeenCalledWith('danube');
    await vi.waitFor(() => expect(screen.queryAllByTestId('store-row')).toHaveLength(0));
  });

  it('Add store…: the key comes from the native dialog, the store joins the list', async () => {
    const a = api();
    const stores = new Stores(a);
    await stores.load();
    const user = userEvent.setup();
    render(StoresView, { stores, browser: new StoreBrowser(a), onimport: () => {}, onmanifest: () => {} });
    await user.click(screen.getByTestId('add-store'));
    expect(screen.getByTestId('store-name')).toHaveFocus();
    await user.type(screen.getByTestId('store-name'), 'ubuntu');
    await user.type(screen.getByTestId('store-url-input'), 'https://cloud-images.example');
    await user.selectOptions(screen.getByTestId('store-kind-select'), 'simplestreams');
    await user.click(screen.getByTestId('store-choose-key'));
    expect(await screen.findByTestId('store-key-file')).toHaveTextContent('/home/me/keys/ubuntu.asc');
    await user.click(screen.getByTestId('save-store'));
    await vi.waitFor(() => expect(a.addStore).toHaveBeenCalledWith({ name: 'ubuntu', url: 'https://cloud-images.example', kind: 'simplestreams', key_file: '/home/me/keys/ubuntu.asc' }));
    await vi.waitFor(() => expect(screen.getAllByTestId('store-row').map((r) => r.dataset.name)).toEqual(['danube', 'ubuntu']));
  });
});

describe('the import dialogs', () => {
  it('the store import lists the images and Ctrl+Enter starts it with the attributes', async () => {
    const d = new StoreImport();
    d.show('danube', [image('a', { compression: 'xz' })]);
    const started: unknown[] = [];
    const user = userEvent.setup();
    render(StoreImportDialog, { dialog: d, onstart: () => void d.submit(async (r) => { started.push(r); return 1; }) });
    expect(screen.getByTestId('store-import-image')).toHaveTextContent('xz, stored decompressed');
    await user.type(screen.getByTestId('store-attr-alias'), 'a1');
    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(started).toEqual([{ store: 'danube', ids: ['a'], attributes: expect.objectContaining({ alias: 'a1', access: 'public' }) }]);
  });

  it('the manifest import starts on Enter in a URL field, and shows a refusal', async () => {
    const m = new ManifestImport();
    m.show();
    const user = userEvent.setup();
    render(ManifestImportDialog, { dialog: m, onstart: () => void m.submit(async () => { throw ipcError('checksum_mismatch', 'The file does not match the manifest.'); }) });
    expect(screen.getByTestId('manifest-url')).toHaveFocus();
    expect(screen.getByTestId('start-manifest-import')).toBeDisabled();
    await user.type(screen.getByTestId('manifest-url'), 'http://h/images/u{Enter}');
    expect((await screen.findByRole('alert')).dataset.code).toBe('checksum_mismatch');
  });
});
