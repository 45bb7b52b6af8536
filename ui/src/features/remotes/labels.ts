// How a cloud account (target) reads in lists: its kind of sign-in and the URL it talks to.
import type { AuthMethod, Target } from '../publish/types';

export const AUTH_LABELS: Record<AuthMethod, string> = {
  password: 'Keystone v3 · password',
  application_credential: 'Keystone v3 · application credential',
  none: 'Glance · no auth',
};

export function authLabel(t: Pick<Target, 'auth'>): string {
  return AUTH_LABELS[t.auth];
}

/** The URL a target starts from: Keystone's auth URL, or the Glance endpoint itself. */
export function endpointOf(t: Pick<Target, 'auth' | 'auth_url' | 'image_url'>): string {
  return (t.auth === 'none' ? t.image_url : t.auth_url) ?? '';
}
