/** Arrow keys (and Home/End) move between the links of a list or table, as in a list box; Tab still leaves it. */
export function arrowNavigation(container, selector = 'a') {
  container.addEventListener('keydown', (event) => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(event.key)) return;
    const links = [...container.querySelectorAll(selector)];
    const at = links.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowDown: Math.min(at + 1, links.length - 1), ArrowUp: Math.max(at - 1, 0), Home: 0, End: links.length - 1 }[event.key];
    links[to].focus();
    event.preventDefault();
  });
}
