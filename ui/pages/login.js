import { get, logIn, logOut } from '../api.js';
import { fill, h } from '../dom.js';

/** The login form: the credentials are checked by asking who they are, and kept for this tab only. */
export function loginPage(main, message, done) {
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'login',
      'aria-describedby': 'login-error',
      onsubmit: async (event) => {
        event.preventDefault();
        logIn(user.value, password.value);
        try {
          await get('session');
          done();
        } catch (failure) {
          logOut();
          error.textContent = failure.message;
          password.focus();
        }
      },
    },
    h('label', { for: 'login-user' }, 'User name'),
    user,
    h('label', { for: 'login-password' }, 'Password'),
    password,
    h('button', { type: 'submit' }, 'Log in'),
  );
  fill(main, h('h1', {}, 'Log in'), message ? h('p', {}, message) : null, form, error);
  user.focus();
}
