// A dialog whose one button starts a job (Import from URL…, a store's Import…, From manifest URL…,
// Make image…): open, starting and the refusal, and the submit they all share.
import { asIpcError, type IpcError } from '$lib/ipc/client';

export abstract class JobDialog<Request> {
  open = $state(false);
  starting = $state(false);
  error = $state<IpcError | null>(null);

  /** Why the button is disabled now (shown beside it), or null. */
  abstract get blocking(): string | null;

  /** The request the dialog's fields make. */
  abstract request(): Request;

  /** Start the job through `start` (the jobs store's); closes on success, shows the refusal otherwise. */
  async submit(start: (request: Request) => Promise<number>): Promise<number | null> {
    if (this.blocking || this.starting) return null;
    this.starting = true;
    this.error = null;
    try {
      const id = await start(this.request());
      this.close();
      return id;
    } catch (e) {
      this.error = asIpcError(e);
      return null;
    } finally {
      this.starting = false;
    }
  }

  close(): void {
    this.open = false;
  }
}
