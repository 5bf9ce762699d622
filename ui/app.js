import { ApiError, get, logOut } from './api.js';
import { h } from './dom.js';
import { imagePage } from './pages/image.js';
import { loginPage } from './pages/login.js';
import { repositoriesPage } from './pages/repositories.js';
import { repositoryPage } from './pages/repository.js';
import { storagePage } from './pages/storage.js';

const main = () => document.getElementById('main');

/** Routes are in the fragment (`#/repository/<name>`), so any page can be bookmarked and the server serves one file. */
function parseRoute(hash) {
  const [path, search = ''] = hash.replace(/^#/, '').split('?');
  const parts = (path || '/').split('/').slice(1).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(search) };
}

async function showSession() {
  const area = document.getElementById('session');
  let session;
  try {
    session = await get('session');
  } catch {
    logOut();
    session = await get('session');
  }
  document.getElementById('storage-link').hidden = !session.isAdmin;
  if (session.auth === 'none') return area.replaceChildren();
  if (session.user) {
    const out = () => {
      logOut();
      location.hash = '#/login';
      showSession();
    };
    area.replaceChildren(h('span', {}, `Logged in as ${session.user}`), ' ', h('button', { type: 'button', onclick: out }, 'Log out'));
  } else {
    area.replaceChildren(h('a', { href: '#/login' }, 'Log in'));
  }
}

function focusState(container) {
  const active = document.activeElement;
  if (!active || active === container || !container.contains(active)) return undefined;
  return { id: active.id, tag: active.tagName, text: active.textContent, value: active.value };
}

function restoreFocus(container, state) {
  if (!state) return;
  const match = state.id ? document.getElementById(state.id) : [...container.querySelectorAll(state.tag)].find((element) => element.textContent === state.text);
  if (!match) return;
  if (state.value !== undefined) match.value = state.value;
  match.focus();
}

/** Renders started so far: one still waiting on the API when a later one has shown its page must not replace it. */
let renders = 0;

/** The page the route names, built apart and shown once ready, unless a later render has begun. */
async function render(navigated) {
  const hash = location.hash;
  const current = ++renders;
  const { parts, query } = parseRoute(hash);
  const target = main();
  const view = document.createElement('div');
  if (navigated) document.getElementById('errors').replaceChildren();
  // A page that refreshes itself (sizes being computed) does so only while it is still the one shown
  // (no later render has begun), and never under an open dialog; focus (and a search being typed) stays where the user left it.
  const rerender = async () => {
    if (current !== renders || location.hash !== hash || document.querySelector('dialog[open]')) return;
    const focus = focusState(target);
    await render(false);
    restoreFocus(target, focus);
  };
  try {
    if (parts[0] === 'login') {
      loginPage(view, query.get('why'), async () => {
        await showSession();
        location.hash = '#/';
      });
    } else if (parts[0] === 'repository' && parts[1]) await repositoryPage(view, parts[1], query, rerender);
    else if (parts[0] === 'image' && parts[1] && parts[2]) await imagePage(view, parts[1], parts[2], rerender);
    else if (parts[0] === 'storage') await storagePage(view, rerender);
    else await repositoriesPage(view, query, rerender);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      loginPage(view, error.message, async () => {
        await showSession();
        render(true);
      });
    } else {
      view.replaceChildren(
        h('h1', {}, error instanceof ApiError && error.status === 403 ? 'Not allowed' : 'Something went wrong'),
        h('p', { class: 'error' }, error.message),
      );
    }
  }
  if (current !== renders) return;
  target.replaceChildren(view);
  document.title = `${view.querySelector('h1')?.textContent ?? 'Berth'} · Berth`;
  if (navigated) target.focus();
}

window.addEventListener('hashchange', () => render(true));
document.addEventListener('DOMContentLoaded', async () => {
  await showSession();
  await render(false);
});
