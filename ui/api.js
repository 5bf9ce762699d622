/**
 * The pages' requests to Berth: same origin, the logged-in user's Basic credentials (kept in this
 * tab's sessionStorage, never in a URL), and the X-Berth-UI header that state-changing requests
 * need (a page of another site cannot send it without a CORS preflight Berth never grants).
 */
const KEY = 'berth.credentials';

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

export function logIn(user, password) {
  sessionStorage.setItem(KEY, btoa(String.fromCodePoint(...new TextEncoder().encode(`${user}:${password}`))));
}

export function logOut() {
  sessionStorage.removeItem(KEY);
}

export async function request(method, path, query = {}) {
  const params = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== undefined && value !== ''));
  const headers = { 'X-Berth-UI': '1', Accept: 'application/json' };
  const credentials = sessionStorage.getItem(KEY);
  if (credentials) headers.Authorization = `Basic ${credentials}`;
  const response = await fetch(`/api/v1/${path}${params.size ? `?${params}` : ''}`, { method, headers, credentials: 'omit' });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.errors?.[0];
    throw new ApiError(response.status, error?.message ?? `${response.status} ${response.statusText}`, error?.detail);
  }
  return body;
}

export const get = (path, query) => request('GET', path, query);
