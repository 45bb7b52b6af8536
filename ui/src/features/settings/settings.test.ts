import { describe, expect, it } from 'vitest';
import { mockCommands } from '../../test/fixtures';
import { Settings } from './settings.svelte';

function memory(): Pick<Storage, 'getItem' | 'setItem'> & { data: Record<string, string> } {
  const data: Record<string, string> = {};
  return { data, getItem: (k) => data[k] ?? null, setItem: (k, v) => void (data[k] = v) };
}

describe('Settings', () => {
  it('applies and remembers the theme', () => {
    const store = memory();
    const s = new Settings(store);
    expect(s.theme).toBe('system');
    expect(document.documentElement.dataset.theme).toBeUndefined();
    s.setTheme('dark');
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(new Settings(store).theme).toBe('dark');
    s.setTheme('system');
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it('shows where the repository is', async () => {
    mockCommands({ repository_info: () => ({ root: '/home/a/.local/share/imagesmith', app_version: '0.1.0' }) });
    const s = new Settings(memory());
    await s.loadRepository();
    expect(s.repository?.root).toBe('/home/a/.local/share/imagesmith');
  });
});
