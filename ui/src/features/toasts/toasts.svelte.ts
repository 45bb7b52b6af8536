// Toasts: short notices in a corner (job finished, artifact deleted), dismissed by time or by hand.
export type ToastTone = 'success' | 'error' | 'info';
export type Toast = { id: number; tone: ToastTone; title: string; body?: string };

export class Toasts {
  items = $state<Toast[]>([]);
  #next = 1;
  #timeoutMs: number;

  constructor(timeoutMs = 7000) {
    this.#timeoutMs = timeoutMs;
  }

  push(tone: ToastTone, title: string, body?: string): number {
    const id = this.#next++;
    this.items = [...this.items, { id, tone, title, body }];
    if (this.#timeoutMs > 0) setTimeout(() => this.dismiss(id), this.#timeoutMs);
    return id;
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}
