// Toasts: short notices in a corner (job finished, artifact deleted), dismissed by time or by hand;
// a toast can carry one action (Undo) and its own timeout.
export type ToastTone = 'success' | 'error' | 'info';
/** A button on the toast; running it also dismisses the toast. */
export type ToastAction = { label: string; run: () => void };
export type Toast = { id: number; tone: ToastTone; title: string; body?: string; action?: ToastAction };
export type ToastOptions = { action?: ToastAction; /** ms until it goes by itself; 0 keeps it until dismissed. */ timeoutMs?: number };

export class Toasts {
  items = $state<Toast[]>([]);
  #next = 1;
  #timeoutMs: number;

  constructor(timeoutMs = 7000) {
    this.#timeoutMs = timeoutMs;
  }

  push(tone: ToastTone, title: string, body?: string, options: ToastOptions = {}): number {
    const id = this.#next++;
    this.items = [...this.items, { id, tone, title, body, action: options.action }];
    const timeout = options.timeoutMs ?? this.#timeoutMs;
    if (timeout > 0) setTimeout(() => this.dismiss(id), timeout);
    return id;
  }

  /** Run the toast's action (once) and dismiss it. */
  act(id: number): void {
    const toast = this.items.find((t) => t.id === id);
    this.dismiss(id);
    toast?.action?.run();
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}
