import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { SecretPrompt } from '../remotes/secret.svelte';
import { Publications } from './publications.svelte';
import { fail, fakeApi, publication } from './testing';
import VerifiedBadge from './VerifiedBadge.svelte';

describe('Publications', () => {
  it('lists one artifact’s publications', async () => {
    const api = fakeApi({ listPublications: async () => [publication(1), publication(2, { status: 'failed', verified: false })] });
    const p = new Publications(api, new SecretPrompt(), 5);
    await p.load();
    expect(api.listPublications).toHaveBeenCalledWith('5');
    expect(p.items.map((x) => x.id)).toEqual([1, 2]);
  });

  it('refreshes a status, asking for the target’s password when the keyring has none', async () => {
    const prompt = new SecretPrompt();
    const api = fakeApi({
      listPublications: async () => [publication(1, { target: 'ks' })],
      refreshPublication: async (id, s) => { if (!s) throw fail('secret_required'); return publication(id, { target: 'ks', status: 'deleted', verified: false }); },
    });
    const p = new Publications(api, prompt, 5);
    await p.load();
    const pending = p.refresh(1);
    expect(p.busy[1]).toBe('refresh');
    await vi.waitFor(() => expect(prompt.request?.name).toBe('ks'));
    prompt.answer({ secret: 'pw', remember: false });
    await pending;
    expect(p.busy[1]).toBeUndefined();
    expect(p.items[0]?.status).toBe('deleted');

    api.refreshPublication.mockRejectedValueOnce(fail('remote_unavailable'));
    await p.refresh(1);
    expect(p.errors[1]?.code).toBe('remote_unavailable');
  });

  it('unpublishes: the row stays as deleted; a refusal is handed back for the confirmation', async () => {
    const api = fakeApi({
      listPublications: async () => [publication(1)],
      unpublish: vi.fn().mockRejectedValueOnce(fail('forbidden', 'The image is protected.')).mockResolvedValueOnce(publication(1, { status: 'deleted' })),
    });
    const p = new Publications(api, new SecretPrompt(), 5);
    await p.load();
    expect((await p.unpublish(1))?.text).toBe('The image is protected.');
    expect(p.items[0]?.status).toBe('active');
    expect(await p.unpublish(1)).toBeNull();
    expect(p.items[0]?.status).toBe('deleted');
  });
});

describe('VerifiedBadge', () => {
  it('says verified only for an active image whose digests matched', () => {
    render(VerifiedBadge, { publication: publication(1) });
    expect(screen.getByTestId('publication-status')).toHaveTextContent('Verified');
  });
  it('an unpublished image is not shown as verified', () => {
    render(VerifiedBadge, { publication: publication(1, { status: 'deleted' }) });
    expect(screen.getByTestId('publication-status')).toHaveTextContent('Deleted from the cloud');
  });
  it('active but not matching', () => {
    render(VerifiedBadge, { publication: publication(1, { verified: false }) });
    expect(screen.getByTestId('publication-status')).toHaveTextContent('Active, not verified');
  });
});
