// Cloud accounts (targets): the list, adding one (its secret handed to the engine once, and to the
// keyring when asked), "Test connection" with who you are, which project and the image endpoint,
// and removing one.
import { asIpcError, type IpcError } from '$lib/ipc/client';
import type { NewTarget, PublishApi, Target, TargetCheck } from '../publish/types';
import { withSecret, type SecretPrompt } from './secret.svelte';

export type TestState = { running: boolean; result: TargetCheck | null; error: IpcError | null };

/** The form's fields, whatever the kind of authentication (unused ones are ignored). */
export type TargetDraft = {
  name: string;
  kind: 'password' | 'application_credential' | 'none';
  authUrl: string;
  region: string;
  user: string;
  userDomain: string;
  project: string;
  projectDomain: string;
  credentialId: string;
  imageUrl: string;
  secret: string;
  remember: boolean;
};

export function emptyDraft(): TargetDraft {
  return {
    name: '', kind: 'password', authUrl: '', region: '', user: '', userDomain: 'Default', project: '', projectDomain: 'Default',
    credentialId: '', imageUrl: '', secret: '', remember: true,
  };
}

/** What is missing from the form, or null when it can be saved. */
export function draftProblem(d: TargetDraft): string | null {
  if (d.name.trim() === '') return 'Give the account a name.';
  if (d.kind === 'none') return /^https?:\/\/\S+$/.test(d.imageUrl.trim()) ? null : 'The Glance URL starts with http:// or https://.';
  if (!/^https?:\/\/\S+$/.test(d.authUrl.trim())) return 'The Keystone URL starts with http:// or https://.';
  if (d.kind === 'password' && (d.user.trim() === '' || d.project.trim() === '')) return 'User and project are needed.';
  if (d.kind === 'application_credential' && d.credentialId.trim() === '') return 'The application credential ID is needed.';
  if (d.remember && d.secret === '') return `Enter the ${d.kind === 'password' ? 'password' : 'secret'} to remember, or untick “Remember”.`;
  return null;
}

export function specOf(d: TargetDraft): NewTarget {
  const opt = (v: string) => (v.trim() === '' ? null : v.trim());
  const base: NewTarget = {
    name: d.name.trim(), auth: d.kind, auth_url: null, image_url: null, region: opt(d.region), interface: null,
    username: null, user_domain: null, project: null, project_domain: null, application_credential_id: null,
  };
  if (d.kind === 'none') return { ...base, region: null, image_url: opt(d.imageUrl) };
  if (d.kind === 'application_credential') return { ...base, auth_url: opt(d.authUrl), application_credential_id: opt(d.credentialId) };
  return {
    ...base, auth_url: opt(d.authUrl), username: opt(d.user), user_domain: opt(d.userDomain) ?? 'Default',
    project: opt(d.project), project_domain: opt(d.projectDomain) ?? 'Default',
  };
}

export class Targets {
  items = $state.raw<Target[]>([]);
  loaded = $state(false);
  error = $state<IpcError | null>(null);
  tests = $state.raw<Record<string, TestState>>({});

  #api: PublishApi;
  #prompt: SecretPrompt;

  constructor(api: PublishApi, prompt: SecretPrompt) {
    this.#api = api;
    this.#prompt = prompt;
  }

  async load(): Promise<void> {
    try {
      this.items = await this.#api.listTargets();
      this.error = null;
    } catch (e) {
      this.error = asIpcError(e);
    } finally {
      this.loaded = true;
    }
  }

  /** Why the keyring did not take the secret of a newly added account (it is then asked for). */
  keyringNote = $state<{ target: string; error: IpcError } | null>(null);

  /**
   * Save a new account; returns the refusal to show in the form, or null. The secret goes to the
   * engine only when it is to be remembered (the engine puts it in the keyring); otherwise it is
   * asked for when needed. Nothing here keeps it.
   */
  async add(draft: TargetDraft): Promise<IpcError | null> {
    const secret = draft.kind !== 'none' && draft.remember && draft.secret !== '' ? draft.secret : null;
    try {
      const added = await this.#api.addTarget(specOf(draft), secret);
      this.items = [...this.items.filter((t) => t.name !== added.target.name), added.target].sort((a, b) => a.name.localeCompare(b.name));
      this.keyringNote = added.secret_error ? { target: added.target.name, error: added.secret_error } : null;
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }

  #setTest(name: string, state: TestState): void {
    this.tests = { ...this.tests, [name]: state };
  }

  /** Sign in and find the image endpoint; the result (or why it failed) shows under the account. */
  async test(name: string): Promise<void> {
    this.#setTest(name, { running: true, result: null, error: null });
    const outcome = await withSecret(this.#prompt, 'target', name, (s) => this.#api.testTarget(name, s), (s) => this.#api.rememberSecret('target', name, s));
    if (outcome.status === 'ok') this.#setTest(name, { running: false, result: outcome.value, error: outcome.rememberError });
    else if (outcome.status === 'error') this.#setTest(name, { running: false, result: null, error: outcome.error });
    else this.#setTest(name, { running: false, result: null, error: null });
  }

  async remove(name: string): Promise<IpcError | null> {
    try {
      await this.#api.removeTarget(name);
      this.items = this.items.filter((t) => t.name !== name);
      const { [name]: _gone, ...rest } = this.tests;
      this.tests = rest;
      return null;
    } catch (e) {
      return asIpcError(e);
    }
  }
}
