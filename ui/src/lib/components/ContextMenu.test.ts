import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import ContextMenu, { wantsNativeMenu, type MenuItem } from './ContextMenu.svelte';

const realRect = HTMLElement.prototype.getBoundingClientRect;
afterEach(() => {
  HTMLElement.prototype.getBoundingClientRect = realRect;
  window.getSelection()?.removeAllRanges();
  document.body.innerHTML = '';
});

function items(ran: string[]): MenuItem[] {
  return [
    { label: 'Show details', run: () => ran.push('details') },
    { label: 'Copy SHA-256', run: () => ran.push('copy') },
    { label: 'Publish…', run: () => ran.push('publish'), disabled: true },
    { label: 'Delete…', run: () => ran.push('delete'), danger: true },
  ];
}

describe('ContextMenu', () => {
  it('focuses the first action, moves with the arrow keys past disabled ones, and runs the chosen one', async () => {
    const ran: string[] = [];
    const onclose = vi.fn();
    const user = userEvent.setup();
    render(ContextMenu, { items: items(ran), x: 10, y: 10, label: 'Artifact actions', onclose });
    expect(screen.getByRole('menu', { name: 'Artifact actions' })).toBeInTheDocument();
    expect(screen.getByRole('menuitem', { name: 'Show details' })).toHaveFocus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(screen.getByRole('menuitem', { name: 'Delete…' })).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByRole('menuitem', { name: 'Show details' })).toHaveFocus();
    await user.keyboard('{ArrowUp}{Enter}');
    expect(ran).toEqual(['delete']);
    expect(onclose).toHaveBeenCalled();
  });

  it('closes on Escape and on a click outside, not on a click inside', async () => {
    const onclose = vi.fn();
    const user = userEvent.setup();
    render(ContextMenu, { items: items([]), x: 10, y: 10, label: 'Actions', onclose });
    await user.keyboard('{Escape}');
    expect(onclose).toHaveBeenCalledTimes(1);
    await fireEvent.pointerDown(screen.getByRole('menu'));
    expect(onclose).toHaveBeenCalledTimes(1);
    await fireEvent.pointerDown(document.body);
    expect(onclose).toHaveBeenCalledTimes(2);
  });

  it('stays inside a 900×560 window when opened near its corner', async () => {
    Object.assign(window, { innerWidth: 900, innerHeight: 560 });
    HTMLElement.prototype.getBoundingClientRect = function (this: HTMLElement) {
      return this.getAttribute('role') === 'menu' ? ({ width: 220, height: 200, x: 0, y: 0, top: 0, left: 0, right: 220, bottom: 200, toJSON() {} } as DOMRect) : realRect.call(this);
    };
    render(ContextMenu, { items: items([]), x: 880, y: 540, label: 'Actions', onclose: () => {} });
    const menu = screen.getByRole('menu');
    await vi.waitFor(() => expect(menu.style.left).not.toBe('0px'));
    const left = parseFloat(menu.style.left);
    const top = parseFloat(menu.style.top);
    expect(left + 220).toBeLessThanOrEqual(900);
    expect(top + 200).toBeLessThanOrEqual(560);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(top).toBeGreaterThanOrEqual(0);
  });
});

describe('wantsNativeMenu', () => {
  it('keeps the webview menu in text fields and on selected text, nowhere else', () => {
    document.body.innerHTML = '<input type="search" id="s"><input type="checkbox" id="c"><textarea id="t"></textarea><p id="p">some text</p><div id="d">row</div>';
    const at = (id: string) => ({ target: document.getElementById(id) }) as unknown as Event;
    expect(wantsNativeMenu(at('s'))).toBe(true);
    expect(wantsNativeMenu(at('t'))).toBe(true);
    expect(wantsNativeMenu(at('c'))).toBe(false);
    expect(wantsNativeMenu(at('p'))).toBe(false);
    const range = document.createRange();
    range.selectNodeContents(document.getElementById('p')!);
    window.getSelection()!.addRange(range);
    expect(wantsNativeMenu(at('p'))).toBe(true);
    expect(wantsNativeMenu(at('d'))).toBe(false);
  });
});
