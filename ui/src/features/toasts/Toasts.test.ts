import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Toasts from './Toasts.svelte';
import { Toasts as ToastStore } from './toasts.svelte';

afterEach(() => vi.useRealTimers());

describe('Toasts', () => {
  it('shows an action button that runs once and dismisses its toast', async () => {
    const toasts = new ToastStore(0);
    const run = vi.fn();
    toasts.push('info', 'Deleted 3 artifacts', 'Undo brings them back.', { action: { label: 'Undo', run } });
    const user = userEvent.setup();
    render(Toasts, { toasts });
    await user.click(screen.getByRole('button', { name: 'Undo' }));
    expect(run).toHaveBeenCalledTimes(1);
    expect(screen.queryByText('Deleted 3 artifacts')).toBeNull();
  });

  it('gives each toast its own timeout, and 0 keeps it until dismissed', () => {
    vi.useFakeTimers();
    const toasts = new ToastStore(7000);
    toasts.push('info', 'short', undefined, { timeoutMs: 1000 });
    toasts.push('info', 'default');
    toasts.push('info', 'sticky', undefined, { timeoutMs: 0 });
    vi.advanceTimersByTime(1500);
    expect(toasts.items.map((t) => t.title)).toEqual(['default', 'sticky']);
    vi.advanceTimersByTime(10_000);
    expect(toasts.items.map((t) => t.title)).toEqual(['sticky']);
  });
});
