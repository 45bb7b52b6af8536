// Asking for a password when the engine answers `secret_required`: one prompt at a time, the secret
// handed to the one call that needs it and then dropped. The webview never stores it; "remember in
// keyring" asks the engine to put it in the OS keyring after the call worked.
import { asIpcError, type IpcError } from '$lib/ipc/client';

export type SecretOwner = 'target' | 'server';
export type SecretAnswer = { secret: string; remember: boolean };
export type SecretRequest = {
  owner: SecretOwner;
  name: string;
  /** Why it is asked: the engine's `secret_required`, or the refusal of the last one entered. */
  reason: IpcError;
  /** True when the last secret entered was refused (wrong password). */
  retry: boolean;
};

/** Codes after which asking again makes sense: no secret, or the one given was refused. */
export const ASK_AGAIN = new Set(['secret_required', 'auth_failed']);

export class SecretPrompt {
  request = $state.raw<SecretRequest | null>(null);
  #resolve: ((answer: SecretAnswer | null) => void) | null = null;

  /** Show the prompt; resolves to what was entered, or null when the user cancelled. */
  ask(owner: SecretOwner, name: string, reason: IpcError, retry = false): Promise<SecretAnswer | null> {
    this.#resolve?.(null);
    this.request = { owner, name, reason, retry };
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  answer(answer: SecretAnswer): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.request = null;
    resolve?.(answer.secret === '' ? null : answer);
  }

  dismiss(): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.request = null;
    resolve?.(null);
  }
}

export type SecretOutcome<T> =
  | { status: 'ok'; value: T; rememberError: IpcError | null }
  | { status: 'cancelled' }
  | { status: 'error'; error: IpcError };

/**
 * Run `call` with no secret first (the engine uses the keyring's). When the engine says a secret is
 * needed, or the one entered was refused, ask and call again with what was entered. After a
 * success with "remember" ticked, hand the secret to the keyring through `remember`.
 */
export async function withSecret<T>(
  prompt: SecretPrompt,
  owner: SecretOwner,
  name: string,
  call: (secret: string | null) => Promise<T>,
  remember: (secret: string) => Promise<unknown>,
): Promise<SecretOutcome<T>> {
  let answer: SecretAnswer | null = null;
  for (;;) {
    try {
      const value = await call(answer?.secret ?? null);
      let rememberError: IpcError | null = null;
      if (answer?.remember) {
        try {
          await remember(answer.secret);
        } catch (e) {
          rememberError = asIpcError(e);
        }
      }
      return { status: 'ok', value, rememberError };
    } catch (e) {
      const error = asIpcError(e);
      if (!ASK_AGAIN.has(error.code)) return { status: 'error', error };
      answer = await prompt.ask(owner, name, error, answer != null);
      if (answer == null) return { status: 'cancelled' };
    }
  }
}
