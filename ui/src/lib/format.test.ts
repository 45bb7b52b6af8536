import { describe, expect, it } from 'vitest';
import type { SignatureCheck, Verification } from './ipc/client';
import { dateTime, evidence, lintSummary } from './format';

describe('format', () => {
  it('says how many lint errors and warnings an answer file has, or that it is clean', () => {
    const f = (severity: 'error' | 'warning') => ({ severity });
    expect(lintSummary([])).toBe('No findings');
    expect(lintSummary([f('error')])).toBe('1 error');
    expect(lintSummary([f('error'), f('warning'), f('error')])).toBe('2 errors, 1 warning');
    expect(lintSummary([f('warning'), f('warning')])).toBe('2 warnings');
  });

  it('names a bundle signature checked over the file as that, not as a matched checksum', () => {
    const good: SignatureCheck = { status: 'good', signer: 'Example Networks <sign@example.org>', fingerprint: 'AB'.repeat(20), signed_at: null, signature_file: 'vendor-bundle.zip.asc' };
    const v: Verification = { algo: 'sha256', expected_from: 'signature', source_file: 'vendor-bundle.zip.asc', line: null, verified_at: '2026-12-04T10:00:00Z', job_id: 3, signature: good };
    expect(evidence(v)).toBe('OpenPGP signature vendor-bundle.zip.asc verified over the file, signed by Example Networks <sign@example.org>');
    expect(evidence({ ...v, expected_from: 'checksum_file', source_file: 'SHA256SUMS', line: 2 })).toBe('SHA-256 matched SHA256SUMS (line 2), signed by Example Networks <sign@example.org>');
  });

  it('shows a publish date without a time as that day, and a date with a time with its time', () => {
    expect(dateTime('2026-12-01')).toBe(new Date(2026, 11, 1).toLocaleDateString(undefined, { dateStyle: 'medium' }));
    expect(dateTime('2026-12-01')).toContain('2026');
    expect(dateTime('2026-12-01')).not.toContain(':');
    expect(dateTime('2026-12-01T07:42:00Z')).toContain(':');
    expect(dateTime(null)).toBe('—');
    expect(dateTime('next week')).toBe('next week');
  });
});
