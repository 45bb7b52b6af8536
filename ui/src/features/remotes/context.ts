// The saved file servers as components in other features reach them (the profile export dialog):
// set once by the app shell; null where it is not provided (component tests).
import { getContext, setContext } from 'svelte';
import type { Servers } from './servers.svelte';

export type RemotesContext = { servers: Servers };

const KEY = Symbol('remotes');

export function setRemotesContext(ctx: RemotesContext): void {
  setContext(KEY, ctx);
}

export function remotesContext(): RemotesContext | null {
  return getContext<RemotesContext | undefined>(KEY) ?? null;
}
