// The REST API as the console uses it: the user's bearer token, problem+json errors turned into
// ApiError, one silent token renewal on 401.
import { accessToken, refresh } from './auth.js';

export class ApiError extends Error {
  constructor(status, problem = {}, requestId = '') {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.requestId = problem.request_id || requestId;
  }
}

export async function api(path, { method = 'GET', body, retried = false } = {}) {
  const headers = { Accept: 'application/json' };
  const token = accessToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0);
  }
  if (response.status === 401 && !retried && token) {
    await refresh();
    return api(path, { method, body, retried: true });
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new ApiError(response.status, problem, response.headers.get('X-Request-ID') || '');
  }
  return response.status === 204 ? null : response.json();
}

/** Every page of a list route: `key` names the list in each page. */
export async function listAll(path, key, params = {}) {
  const items = [];
  let token = '';
  do {
    const query = new URLSearchParams({ ...params, page_size: '100' });
    if (token) query.set('page_token', token);
    const page = await api(`${path}?${query}`);
    items.push(...page[key]);
    token = page.next_page_token;
  } while (token);
  return items;
}
