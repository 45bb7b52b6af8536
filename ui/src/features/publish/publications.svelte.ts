// One artifact's publications: where it is published, refreshing a status from the cloud, and
// deleting the image from the cloud (asking for the target's password when the keyring has none).
import { asIpcError, type IpcError } from '$lib/ipc/client';
import { withSecret, type SecretPrompt } from '../remotes/secret.svelte';
import type { Publication, PublishApi } from './types';

export class Publications {
  items = $state.raw<Publication[]>([]);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  /** What is being done to a publication right now. */
  busy = $state.raw<Record<number, 'refresh' | 'delete'>>({});
  /** The last failure of a refresh, per publication. */
  errors = $state.raw<Record<number, IpcError>>({});

  #api: PublishApi;
  #prompt: SecretPrompt;
  #artifact: number;

  constructor(api: PublishApi, prompt: SecretPrompt, artifact: number) {
    this.#api = api;
    this.#prompt = prompt;
    this.#artifact = artifact;
  }

  async load(): Promise<void> {
    try {
      this.items = await this.#api.listPublications(String(this.#artifact));
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loaded = true;
    }
  }

  #set<K extends 'busy' | 'errors'>(key: K, id: number, value: (K extends 'busy' ? 'refresh' | 'delete' : IpcError) | null): void {
    const next = { ...this[key] } as Record<number, unknown>;
    if (value == null) delete next[id];
    else next[id] = value;
    (this as unknown as Record<K, Record<number, unknown>>)[key] = next;
  }

  #target(id: number): string {
    return this.items.find((p) => p.id === id)?.target ?? '';
  }

  /** Ask the cloud for the image's status now. */
  async refresh(id: number): Promise<void> {
    this.#set('busy', id, 'refresh');
    const target = this.#target(id);
    const outcome = await withSecret(this.#prompt, 'target', target, (s) => this.#api.refreshPublication(id, s), (s) => this.#api.rememberSecret('target', target, s));
    this.#set('busy', id, null);
    if (outcome.status === 'ok') {
      this.items = this.items.map((p) => (p.id === id ? outcome.value : p));
      this.#set('errors', id, null);
    } else if (outcome.status === 'error') this.#set('errors', id, outcome.error);
  }

  /** Delete the image from the cloud; returns the refusal to show in the confirmation, or null. */
  async unpublish(id: number): Promise<IpcError | null> {
    this.#set('busy', id, 'delete');
    const target = this.#target(id);
    const outcome = await withSecret(this.#prompt, 'target', target, (s) => this.#api.unpublish(id, s), (s) => this.#api.rememberSecret('target', target, s));
    this.#set('busy', id, null);
    if (outcome.status === 'ok') {
      this.items = this.items.map((p) => (p.id === id ? outcome.value : p));
      return null;
    }
    if (outcome.status === 'cancelled') return { code: 'cancelled', text: 'Not deleted: the password was not entered.', explanation: '', recovery: '' };
    return outcome.error;
  }
}
