// The publish feature as components deep in other screens reach it (the library's details pane):
// the API, the password prompt and the wizard, set once by the app shell.
import { getContext, setContext } from 'svelte';
import type { SecretPrompt } from '../remotes/secret.svelte';
import type { PublishApi } from './types';
import type { PublishWizard } from './wizard.svelte';

export type PublishContext = { api: PublishApi; prompt: SecretPrompt; wizard: PublishWizard };

const KEY = Symbol('publish');

export function setPublishContext(ctx: PublishContext): void {
  setContext(KEY, ctx);
}

/** The publish feature, or null where the shell did not provide it (e.g. a component test). */
export function publishContext(): PublishContext | null {
  return getContext<PublishContext | undefined>(KEY) ?? null;
}
