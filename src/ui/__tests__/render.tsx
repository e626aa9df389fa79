import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

export interface IRendered {
  container: HTMLElement;
  root: Root;
  rerender(el: React.ReactElement): void;
  unmount(): void;
}

/** Render into a fresh jsdom container (no testing-library in this tree). */
export function render(el: React.ReactElement): IRendered {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  act(() => root.render(el));
  return {
    container,
    root,
    rerender: (e: React.ReactElement) => act(() => root.render(e)),
    unmount: () => {
      act(() => root.unmount());
      container.remove();
    }
  };
}

export function click(el: Element | null): void {
  if (!el) {
    throw new Error('nothing to click');
  }
  act(() => {
    el.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  });
}

export function button(container: HTMLElement, name: string): HTMLButtonElement {
  const b = Array.from(container.querySelectorAll('button')).find(x => x.textContent === name || x.getAttribute('aria-label') === name);
  if (!b) {
    throw new Error(`no button "${name}" in ${container.innerHTML.slice(0, 300)}`);
  }
  return b as HTMLButtonElement;
}

export { act };
