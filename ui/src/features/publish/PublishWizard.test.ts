import { describe, expect, it, vi } from 'vitest';
import type { IpcError } from '$lib/ipc/client';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { artifact, mockCommands } from '../../test/fixtures';
import { SecretPrompt } from '../remotes/secret.svelte';
import SecretPromptView from '../remotes/SecretPrompt.svelte';
import PublishWizardView from './PublishWizard.svelte';
import { fail, fakeApi, plan, planItem, target } from './testing';
import { PublishWizard } from './wizard.svelte';

const disk = artifact(5, { name: 'cirros.qcow2', kind: 'disk_image', distro: 'ubuntu', detected: { disk_format: 'qcow2', virtual_size: 1 << 30 } });

describe('PublishWizard component', () => {
  it('submitting a step goes on (Enter in the real window; the e2e presses it), the review shows every dry-run line', async () => {
    mockCommands({ list_artifacts: (a) => ((a.query as { kind: string }).kind === 'disk_image' ? [disk] : []) });
    const taken: IpcError = { code: 'name_taken', text: 'Target "lab" already has 1 image(s) named "cirros".', explanation: '', recovery: 'Choose another display name.' };
    const api = fakeApi({ listTargets: async () => [target('lab')], planPublish: async () => plan([planItem({ warnings: [taken] })]) });
    const wizard = new PublishWizard(api, new SecretPrompt());
    await wizard.start([disk]);
    render(PublishWizardView, { wizard, onmanagetargets: () => {} });
    const user = userEvent.setup();

    expect(screen.getByTestId('step-1').closest('li')).toHaveAttribute('aria-current', 'step');
    await user.click(screen.getByTestId('wizard-next'));
    expect(screen.getByTestId('publish-target')).toBeChecked();
    await user.click(screen.getByTestId('wizard-next'));
    const name = await screen.findByTestId('publish-name');
    expect(name).toHaveValue('cirros');
    await user.clear(name);
    expect(screen.getByTestId('wizard-next')).toBeDisabled();
    expect(screen.getByTestId('wizard-problem')).toHaveTextContent('Give the image a display name.');
    await user.type(name, 'cirros 0.6');
    (name as HTMLInputElement).form!.requestSubmit(); // jsdom does not submit implicitly through a form="…" button
    expect(await screen.findByTestId('publish-review')).toBeInTheDocument();
    const checks = await screen.findAllByTestId('plan-check');
    expect(checks.map((c) => c.dataset.level)).toEqual(['ok', 'ok', 'ok', 'warn']);
    expect(checks[3]).toHaveTextContent('already has 1 image(s)');
    expect(checks[3]).toHaveTextContent('Choose another display name.');
    expect(screen.getByTestId('wizard-publish')).toBeEnabled();
    expect(api.planPublish.mock.calls[0]![0].options.name).toBe('cirros 0.6');

    // the stepper goes back to a finished step
    await user.click(screen.getByTestId('step-3'));
    expect(await screen.findByTestId('publish-name')).toHaveValue('cirros 0.6');
  });

  it('asks for the password in the prompt and shows the refusal of a wrong one', async () => {
    mockCommands({ list_artifacts: () => [] });
    const prompt = new SecretPrompt();
    const planPublish = vi.fn(async (_r: unknown, s: string | null) => {
      if (s == null) throw fail('secret_required');
      if (s !== 'demopw') throw fail('auth_failed', 'Keystone refused the password of demo.');
      return plan([planItem()]);
    });
    const wizard = new PublishWizard(fakeApi({ listTargets: async () => [target('ks', { auth: 'password' })], planPublish }), prompt);
    await wizard.start([disk]);
    render(PublishWizardView, { wizard, onmanagetargets: () => {} });
    render(SecretPromptView, { prompt });
    const user = userEvent.setup();
    wizard.next();
    wizard.next();
    wizard.next();
    const input = await screen.findByTestId('secret-input');
    expect(screen.getByTestId('secret-prompt')).toHaveTextContent('the cloud account “ks”');
    await user.type(input, 'wrong');
    (input as HTMLInputElement).form!.requestSubmit();
    const refusal = await screen.findByText('Keystone refused the password of demo.');
    expect(screen.getByTestId('secret-prompt')).toContainElement(refusal);
    expect(screen.getByTestId('secret-input')).toHaveValue('');
    await user.type(screen.getByTestId('secret-input'), 'demopw');
    await user.click(screen.getByTestId('secret-submit'));
    expect(await screen.findByTestId('plan-item')).toBeInTheDocument();
    expect(planPublish.mock.calls.map((c) => c[1])).toEqual([null, 'wrong', 'demopw']);
  });
});
