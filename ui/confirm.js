import { h } from './dom.js';

/**
 * A modal confirmation (<dialog>: focus stays inside, Escape cancels). Resolves true when the user
 * presses the confirming button; focus goes back where it was either way.
 */
export function confirmAction({ title, body, confirm }) {
  const before = document.activeElement;
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'confirm-title', class: 'confirm' },
      h('h2', { id: 'confirm-title' }, title),
      body,
      h('form', { method: 'dialog' }, h('button', { value: 'cancel', autofocus: true }, 'Cancel'), h('button', { value: 'confirm', class: 'danger' }, confirm)),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
      before?.focus?.();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
