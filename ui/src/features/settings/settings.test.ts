import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { ipcError, mockCommands } from '../../test/fixtures';
import SettingsView from './Settings.svelte';
import { Settings } from './settings.svelte';

function memory(): Pick<Storage, 'getItem' | 'setItem'> & { data: Record<string, string> } {
  const data: Record<string, string> = {};
  return { data, getItem: (k) => data[k] ?? null, setItem: (k, v) => void (data[k] = v) };
}

const STATS = { artifacts: 3, objects: 2, stored_bytes: 3 * 1024 * 1024, lost: 0, free_bytes: 10 * 1024 ** 3 };

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
    mockCommands({ repository_info: () => ({ root: '/home/a/.local/share/imagesmith', app_version: '0.1.0', read_only: null, stats: STATS, diagnostics: 'Imagesmith 0.1.0', open_team: null, team: {}, team_error: null }) });
    const s = new Settings(memory());
    await s.loadRepository();
    expect(s.repository?.root).toBe('/home/a/.local/share/imagesmith');
  });

  it('opens the log folder from its button, and says why and what to do when it cannot', async () => {
    let fail = false;
    const calls = mockCommands({
      repository_info: () => ({ root: '/home/a/.local/share/imagesmith', app_version: '0.1.0', read_only: null, stats: STATS, diagnostics: 'Imagesmith 0.1.0', open_team: null, team: {}, team_error: null }),
      open_log_folder: () => {
        if (fail) throw ipcError('open_failed', 'Could not open /home/a/.local/state/imagesmith/logs in the file manager.');
        return null;
      },
    });
    const settings = new Settings(memory());
    await settings.loadRepository();
    const user = userEvent.setup();
    render(SettingsView, { settings });
    await user.click(screen.getByRole('button', { name: /Open log folder/ }));
    expect(calls.filter((c) => c.cmd === 'open_log_folder')).toHaveLength(1);
    expect(screen.queryByText(/Could not open/)).toBeNull();

    fail = true;
    await user.click(screen.getByRole('button', { name: /Open log folder/ }));
    expect(await screen.findByText(/Could not open \/home\/a\/.local\/state\/imagesmith\/logs/)).toBeInTheDocument();
    expect(screen.getByText(/fix open_failed/)).toBeInTheDocument();
    expect(settings.error).toBeNull();
  });

  it('says why a repository is open only for browsing, and how to make it writable', async () => {
    const full = ipcError('disk_full', 'The disk holding /srv/repo/catalog.db is full.');
    mockCommands({ repository_info: () => ({ root: '/srv/repo', app_version: '0.1.0', read_only: full, stats: STATS, diagnostics: 'Imagesmith 0.1.0', open_team: null, team: {}, team_error: null }) });
    const settings = new Settings(memory());
    await settings.loadRepository();
    render(SettingsView, { settings });
    expect(screen.getByTestId('read-only-reason')).toHaveTextContent('The disk holding /srv/repo/catalog.db is full.');
    expect(screen.getByText(/can be browsed; nothing can be added/)).toBeInTheDocument();
  });

  it('shows what the repository holds, the room left, and copies the diagnostics', async () => {
    const diagnostics = 'Imagesmith 0.1.0\nrepository: /srv/repo\nlast failed jobs: none';
    mockCommands({ repository_info: () => ({ root: '/srv/repo', app_version: '0.1.0', read_only: null, stats: { ...STATS, lost: 1 }, diagnostics, open_team: null, team: {}, team_error: null }) });
    const settings = new Settings(memory());
    await settings.loadRepository();
    const user = userEvent.setup(); // installs its own clipboard: ours goes in after it
    const written: string[] = [];
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: async (t: string) => void written.push(t) }, configurable: true });
    render(SettingsView, { settings });
    const figures = screen.getByTestId('repository-figures');
    expect(figures).toHaveTextContent('3 artifacts in 2 stored files');
    expect(figures).toHaveTextContent('free on its disk');
    expect(figures).toHaveTextContent('1 missing or damaged');
    await user.click(screen.getByTestId('copy-diagnostics'));
    expect(written).toEqual([diagnostics]);
  });

  it('lists the team repositories connected on this desktop and marks the command line\'s current one', async () => {
    const team = (name: string, prefix: string) => ({
      name, catalog: `postgresql://alice@db.example.net:5432/${name}`, bucket: 'images', prefix, endpoint: 'https://s3.example.net',
      region: 'eu-west-1', access_key_id: 'AKIAEXAMPLE', repository_id: null,
    });
    mockCommands({
      repository_info: () => ({ root: '/srv/repo', app_version: '0.1.0', read_only: null, stats: STATS, diagnostics: '',
        open_team: null, team: { current: 'LAB', team: [team('lab', 'site-a'), team('staging', '')] }, team_error: null }),
    });
    const settings = new Settings(memory());
    await settings.loadRepository();
    render(SettingsView, { settings });
    const rows = screen.getAllByTestId('team-repository');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('lab');
    expect(rows[0]).toHaveTextContent('Current');
    expect(screen.queryByTestId('team-open')).toBeNull();
    expect(screen.queryByTestId('open-team')).toBeNull();
    expect(rows[0]).toHaveTextContent('s3://images/site-a at https://s3.example.net (eu-west-1)');
    expect(rows[1]).not.toHaveTextContent('Current');
    expect(rows[1]).toHaveTextContent('s3://images at');
    expect(screen.queryByTestId('no-team-repositories')).toBeNull();
  });

  it('says which team repository is open and that the folder shown is this desktop\'s part of it', async () => {
    const team = { name: 'lab', catalog: 'postgresql://alice@db.example.net:5432/lab', bucket: 'images', prefix: '', endpoint: 'https://s3.example.net',
      region: 'eu-west-1', access_key_id: 'AKIAEXAMPLE', repository_id: '6f1c1f0e-7d7e-4d55-9a55-0c2f3a1b2c3d' };
    mockCommands({
      repository_info: () => ({ root: '/home/a/.cache/io.imagesmith.desktop/teams/6f1c1f0e', app_version: '0.1.0', read_only: null, stats: STATS,
        diagnostics: '', open_team: { name: 'lab', repository_id: team.repository_id }, team: { current: 'lab', team: [team] }, team_error: null }),
    });
    const settings = new Settings(memory());
    await settings.loadRepository();
    render(SettingsView, { settings });
    expect(screen.getByTestId('open-team')).toHaveTextContent('Team repository lab is open');
    expect(screen.getByTestId('team-open')).toHaveTextContent('Open in this window');
    expect(screen.getByTestId('repository-path')).toHaveTextContent('/home/a/.cache/io.imagesmith.desktop/teams/6f1c1f0e');
  });

  it("shows this desktop's cache of the open team repository, saves a limit in GiB and prunes", async () => {
    const team = { name: 'lab', catalog: 'postgresql://alice@db.example.net:5432/lab', bucket: 'images', prefix: '', endpoint: 'https://s3.example.net',
      region: 'eu-west-1', access_key_id: 'AKIAEXAMPLE', repository_id: '6f1c' };
    let limit: number | null = null;
    const calls = mockCommands({
      repository_info: () => ({ root: '/home/a/.cache/io.imagesmith.desktop/teams/6f1c', app_version: '0.1.0', read_only: null, stats: STATS,
        diagnostics: '', open_team: { name: 'lab', repository_id: '6f1c' }, team: { current: 'lab', team: [team] }, team_error: null,
        cache: { path: '/home/a/.cache/io.imagesmith.desktop/teams/6f1c', objects: 3, bytes: 3 * 1024 ** 3, limit } }),
      set_cache_limit: (a) => {
        limit = a.limit as number | null;
        return { removed: 2, freed: 2 * 1024 ** 3, kept_objects: 1, kept_bytes: 1024 ** 3 };
      },
      prune_cache: () => ({ removed: 0, freed: 0, kept_objects: 1, kept_bytes: 1024 ** 3 }),
    });
    const settings = new Settings(memory());
    await settings.loadRepository();
    const user = userEvent.setup();
    render(SettingsView, { settings });
    expect(screen.getByTestId('team-cache-usage')).toHaveTextContent("This desktop's cache: 3 files · 3.0 GiB · no limit");
    const field = screen.getByTestId('team-cache-limit');
    await user.type(field, 'lots');
    expect(screen.getByTestId('team-cache-save')).toBeDisabled();
    await user.clear(field);
    await user.type(field, '1.5');
    await user.click(screen.getByTestId('team-cache-save'));
    expect(calls.filter((c) => c.cmd === 'set_cache_limit').map((c) => c.args)).toEqual([{ limit: 1.5 * 1024 ** 3 }]);
    expect(await screen.findByTestId('team-cache-pruned')).toHaveTextContent('Pruned 2 files, 2.0 GiB freed');
    expect(screen.getByTestId('team-cache-usage')).toHaveTextContent('of at most 1.5 GiB');
    await user.click(screen.getByTestId('team-cache-prune'));
    expect(calls.filter((c) => c.cmd === 'prune_cache')).toHaveLength(1);
    expect(await screen.findByTestId('team-cache-pruned')).toHaveTextContent('Pruned 0 files, 0 B freed');
    await user.clear(field);
    await user.type(field, 'Infinity');
    expect(screen.getByTestId('team-cache-save')).toBeDisabled();
    // Settings reads the repository again (shown again, back online): what is being typed stays.
    await user.clear(field);
    await user.type(field, '2');
    await settings.loadRepository();
    await Promise.resolve();
    expect(field).toHaveValue('2');
  });

  it('switches to another repository with Use, never while jobs run, and says why it could not', async () => {
    const team = (name: string) => ({ name, catalog: `postgresql://alice@db.example.net:5432/${name}`, bucket: 'images', prefix: '',
      endpoint: 'https://s3.example.net', region: 'eu-west-1', access_key_id: 'AKIAEXAMPLE', repository_id: null });
    let refuse = false;
    const calls = mockCommands({
      repository_info: () => ({ root: '/home/a/.cache/io.imagesmith.desktop/teams/6f1c', app_version: '0.1.0', read_only: null, stats: STATS,
        diagnostics: '', open_team: { name: 'lab', repository_id: '6f1c' }, team: { current: 'lab', team: [team('lab'), team('staging')] }, team_error: null }),
      use_repository: () => {
        if (refuse) throw ipcError('not_found', 'No team repository "staging" is connected on this desktop.');
        return null;
      },
    });
    const settings = new Settings(memory());
    await settings.loadRepository();
    const user = userEvent.setup();
    const { rerender } = render(SettingsView, { settings, busy: true });
    // The open one has no Use button; the other one has, disabled while jobs run.
    const use = screen.getAllByTestId('team-use');
    expect(use).toHaveLength(1);
    expect(use[0]).toBeDisabled();
    expect(use[0]).toHaveAttribute('title', expect.stringContaining('Jobs are running'));
    expect(screen.getByTestId('use-local')).toBeDisabled();

    await rerender({ settings, busy: false });
    await user.click(screen.getByTestId('team-use'));
    expect(calls.filter((c) => c.cmd === 'use_repository').map((c) => c.args)).toEqual([{ name: 'staging' }]);
    await user.click(screen.getByTestId('use-local'));
    expect(calls.filter((c) => c.cmd === 'use_repository').map((c) => c.args)).toEqual([{ name: 'staging' }, { name: 'local' }]);

    refuse = true;
    await user.click(screen.getByTestId('team-use'));
    expect(await screen.findByText(/No team repository "staging" is connected/)).toBeInTheDocument();
  });

  it('says how to connect a team repository when none is, and why the list cannot be read', async () => {
    let broken = false;
    mockCommands({
      repository_info: () => ({ root: '/srv/repo', app_version: '0.1.0', read_only: null, stats: STATS, diagnostics: '', open_team: null, team: {},
        team_error: broken ? ipcError('invalid_content', '/home/a/.config/io.imagesmith.desktop/repositories.json is not a list of team repositories.') : null }),
    });
    const settings = new Settings(memory());
    await settings.loadRepository();
    const { unmount } = render(SettingsView, { settings });
    expect(screen.getByTestId('no-team-repositories')).toHaveTextContent('imagesmith-cli repo connect');
    unmount();
    broken = true;
    await settings.loadRepository();
    render(SettingsView, { settings });
    expect(screen.getByTestId('team-repositories')).toHaveTextContent('is not a list of team repositories');
  });

  it('connects a team repository from its dialog: secrets sent once, an older schema offered an upgrade, the list read again', async () => {
    const lab = { name: 'lab', catalog: 'postgresql://alice@db.example.net/images', bucket: 'images', prefix: 'site-a', endpoint: 'https://s3.example.net',
      region: 'us-east-1', access_key_id: 'AKIAEXAMPLE', repository_id: '6f1c' };
    let connected = false;
    const calls = mockCommands({
      repository_info: () => ({ root: '/srv/repo', app_version: '0.1.0', read_only: null, stats: STATS, diagnostics: '', open_team: null,
        team: connected ? { current: null, team: [lab] } : {}, team_error: null }),
      connect_team: (args) => {
        if (!(args.request as { upgrade: boolean }).upgrade) throw ipcError('team_schema_upgrade_needed', 'Team repository "lab" has schema 4; this Imagesmith writes 5.');
        connected = true;
        return { status: { name: 'lab', catalog: lab.catalog, objects: 's3://images/site-a', endpoint: lab.endpoint, region: 'us-east-1', access_key_id: 'AKIAEXAMPLE',
          repository: { version: 5, id: '6f1c', name: 'lab', created_at: '2026-12-01T10:00:00Z', created_by: 'alice@ws1' }, schema_expected: 5,
          figures: { artifacts: 12, objects: 12, stored_bytes: 5 * 1024 ** 3, jobs: 40 }, postgres_version: '15.10', catalog_tls: true, objects_tls: true, catalog_ms: 12, objects_ms: 30 },
          secrets_not_kept: null, current: false };
      },
    });
    const settings = new Settings(memory());
    await settings.loadRepository();
    const user = userEvent.setup();
    render(SettingsView, { settings });
    await user.click(screen.getByTestId('connect-team'));
    const connect = screen.getByTestId('team-connect');
    expect(connect).toBeDisabled();
    await user.type(screen.getByTestId('team-name'), 'lab');
    expect(screen.getByTestId('team-problem')).toHaveTextContent('postgresql:// URL');
    await user.type(screen.getByTestId('team-catalog-url'), lab.catalog);
    await user.type(screen.getByTestId('team-catalog-password'), 'pg-secret');
    await user.type(screen.getByTestId('team-objects-url'), 's3://images/site-a');
    await user.type(screen.getByTestId('team-endpoint'), lab.endpoint);
    await user.type(screen.getByTestId('team-key-id'), 'AKIAEXAMPLE');
    expect(screen.getByTestId('team-problem')).toHaveTextContent('secret access key');
    await user.type(screen.getByTestId('team-secret-key'), 's3-secret');
    expect(connect).toBeEnabled();
    await user.click(connect);
    // An older schema: said, and offered an upgrade that is asked for only on purpose.
    expect(await screen.findByTestId('team-connect-error')).toHaveTextContent('has schema 4');
    await user.click(screen.getByTestId('team-upgrade'));
    const sent = calls.filter((c) => c.cmd === 'connect_team').map((c) => (c.args as { request: Record<string, unknown> }).request);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual({ name: 'lab', catalog: lab.catalog, objects: 's3://images/site-a', endpoint: lab.endpoint, region: null,
      access_key_id: 'AKIAEXAMPLE', catalog_password: 'pg-secret', secret_key: 's3-secret', upgrade: true });
    expect(sent[0]?.upgrade).toBe(false);
    // The dialog closed; the list has it, with a word on what was found.
    expect(screen.queryByTestId('team-form')).toBeNull();
    expect(await screen.findByTestId('team-repository')).toHaveTextContent('lab');
    expect(screen.getByTestId('team-connected')).toHaveTextContent('PostgreSQL 15.10, 12 artifacts');
    expect(screen.getByTestId('team-connected')).toHaveTextContent('Secrets kept in the OS keyring');
  });

  it('disconnects a team repository after asking, and not the one open in the window', async () => {
    const team = (name: string) => ({ name, catalog: `postgresql://alice@db.example.net/${name}`, bucket: 'images', prefix: '', endpoint: 'https://s3.example.net',
      region: 'us-east-1', access_key_id: 'AKIAEXAMPLE', repository_id: null });
    let teams = [team('lab'), team('staging')];
    const calls = mockCommands({
      repository_info: () => ({ root: '/home/a/.cache/io.imagesmith.desktop/teams/6f1c', app_version: '0.1.0', read_only: null, stats: STATS, diagnostics: '',
        open_team: { name: 'lab', repository_id: '6f1c' }, team: { current: 'lab', team: teams }, team_error: null }),
      disconnect_team: (args) => {
        teams = teams.filter((t) => t.name !== args.name);
        return null;
      },
    });
    const settings = new Settings(memory());
    await settings.loadRepository();
    const user = userEvent.setup();
    render(SettingsView, { settings });
    // Only the one not open has Disconnect…; nothing happens before the confirmation.
    const buttons = screen.getAllByTestId('team-disconnect');
    expect(buttons).toHaveLength(1);
    await user.click(buttons[0]!);
    expect(calls.filter((c) => c.cmd === 'disconnect_team')).toHaveLength(0);
    expect(screen.getByRole('alertdialog')).toHaveTextContent('stay on the servers');
    await user.click(screen.getByTestId('team-disconnect-confirm'));
    expect(calls.filter((c) => c.cmd === 'disconnect_team').map((c) => c.args)).toEqual([{ name: 'staging' }]);
    await vi.waitFor(() => expect(screen.getAllByTestId('team-repository')).toHaveLength(1));
  });
});
