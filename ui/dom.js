/** Replaces an element's content with `children`, as `h` takes them (nested lists, nulls skipped). */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((child) => child !== undefined && child !== null && child !== false));
}

/** Builds an element: attributes (on* as listeners), then children (strings become text, never HTML). */
export function h(tag, attributes = {}, ...children) {
  const svg = ['svg', 'rect', 'text', 'title', 'g'].includes(tag);
  const element = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Says something to screen readers (the status region) without moving focus. */
export function announce(message) {
  const status = document.getElementById('status');
  status.textContent = '';
  status.textContent = message;
}

/** Shows a failed action's reason where it is read out at once (role=alert), until the next page. */
export function showError(message) {
  document.getElementById('errors').replaceChildren(h('p', { class: 'error' }, message));
}
