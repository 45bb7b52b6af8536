import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { mockCommands } from '../../test/fixtures';
import About from './About.svelte';

describe('About', () => {
  it('shows the version and every component with its license, searchable', async () => {
    mockCommands({
      about: () => ({
        name: 'Imagesmith', version: '0.1.0', license: 'Apache-2.0', tauri_version: '2.12.5',
        components: [
          { name: 'rusqlite', version: '0.37.0', license: 'MIT', ecosystem: 'crate' },
          { name: 'sha2', version: '0.10.9', license: 'MIT OR Apache-2.0', ecosystem: 'crate' },
          { name: 'svelte', version: '5.0.0', license: 'MIT', ecosystem: 'npm' },
        ],
      }),
    });
    const user = userEvent.setup();
    render(About, { open: true, onclose: () => {} });
    expect(await screen.findByText(/Imagesmith 0.1.0/)).toBeInTheDocument();
    expect(screen.getByText(/licensed under Apache-2.0/)).toBeInTheDocument();
    expect(screen.getByTestId('license-counts')).toHaveTextContent('MIT · 2');
    expect(screen.getByTestId('about-components').querySelectorAll('li')).toHaveLength(3);
    await user.type(screen.getByTestId('about-filter'), 'apache');
    expect(screen.getByTestId('about-components')).toHaveTextContent('sha2');
    expect(screen.getByTestId('about-components')).not.toHaveTextContent('rusqlite');
  });
});
