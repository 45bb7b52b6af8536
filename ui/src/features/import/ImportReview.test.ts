import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { ipcError, mockCommands, planItem } from '../../test/fixtures';
import ImportReviewView from './ImportReview.svelte';
import { ImportReview } from './review.svelte';

describe('ImportReview component', () => {
  it('shows the checksum source, the checksum file, and a refused file with its reason', async () => {
    mockCommands({
      plan_import: () => ({
        items: [
          planItem({ os: 'linux', distro: 'debian', expected: { algo: 'sha256', hex: 'd'.repeat(64), source: 'SHA256SUMS', from: 'checksum_file', line: 2 } }),
          planItem({ path: '/d/tool.exe', file_name: 'tool.exe', kind: null, refused: ipcError('unsupported_type', 'tool.exe is not a file Imagesmith imports.') }),
        ],
        checksum_files: [{ path: '/d/SHA256SUMS', file_name: 'SHA256SUMS', format: 'gnu', entries: 1, matched: ['ipxe.iso'], error: null }],
      }),
      list_artifacts: () => [],
    });
    const review = new ImportReview();
    await review.add(['/d/ipxe.iso', '/d/tool.exe', '/d/SHA256SUMS']);
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    expect(await screen.findByText('SHA-256 from SHA256SUMS')).toBeInTheDocument();
    expect(screen.getByTestId('checksum-file')).toHaveTextContent('SHA256SUMS');
    expect(screen.getByTestId('refusal')).toHaveTextContent('tool.exe is not a file Imagesmith imports.');
    expect(screen.getByTestId('start-import')).toHaveTextContent('Import 1 file');
    expect(screen.getByTestId('start-import')).toBeEnabled();
  });

  it('disables Import until a required OS is chosen', async () => {
    mockCommands({ plan_import: () => ({ items: [planItem({ os: null, os_required: true })], checksum_files: [] }), list_artifacts: () => [] });
    const review = new ImportReview();
    await review.add(['/d/ipxe.iso']);
    render(ImportReviewView, { review, onaddfiles: () => {}, onstart: () => {} });
    expect(await screen.findByTestId('start-import')).toBeDisabled();
    expect(screen.getByTestId('review-hint')).toHaveTextContent('Choose the OS');
  });
});
