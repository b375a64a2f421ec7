// Focus helpers for inline forms: they take focus when they open and Escape closes them.

/** Svelte action: focus the first field of the node when it appears. */
export function takeFocus(node: HTMLElement): void {
  node.querySelector<HTMLElement>('input:not([type="hidden"]), select, textarea')?.focus();
}

/** Svelte action: Escape inside the node calls `close` (which should put focus back on the opener). */
export function escapeCloses(node: HTMLElement, close: () => void): { destroy(): void } {
  const onkey = (e: KeyboardEvent) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    close();
  };
  node.addEventListener('keydown', onkey);
  return { destroy: () => node.removeEventListener('keydown', onkey) };
}
