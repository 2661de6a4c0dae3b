// Sign-in through the platform's OIDC issuer (Keycloak-shaped routes): authorization code + PKCE (S256) for the public
// client `prevention-console`. Tokens live in this module's memory only (never in storage): a
// reload signs in again. Only the PKCE verifier and state wait in sessionStorage across the
// redirect, and are removed as soon as the callback reads them.
const CLIENT_ID = 'prevention-console';
// The issuer the gateway names: its own embedded one, or Keycloak in distributed mode.
const ISSUER = document.querySelector('meta[name="prevention-oidc-issuer"]')?.content || '/realms/prevention';
const OIDC = `${ISSUER}/protocol/openid-connect`;
const PENDING_KEY = 'prevention-console-pkce';
const REFRESH_MARGIN_SECONDS = 60;
const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart'];

let session = null;        // { accessToken, refreshToken, claims }
let refreshTimer = null;
let idleTimer = null;
let refreshing = null;
const listeners = new Set();

export const redirectUri = () => `${window.location.origin}/console/callback`;

export function idleSeconds() {
  const value = Number(document.querySelector('meta[name="prevention-idle-seconds"]')?.content);
  return Number.isFinite(value) && value > 0 ? value : 900;
}

/** Called with (reason) when the session ends: 'logout', 'idle', 'expired'. */
export function onSignedOut(listener) { listeners.add(listener); }

export const current = () => session;
export const accessToken = () => session?.accessToken ?? null;

function base64url(bytes) {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function decodeClaims(jwt) {
  const payload = jwt.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** Sends the browser to the issuer's login page; `returnTo` is the hash to come back to. */
export async function signIn(returnTo = '') {
  const verifier = randomString(48);
  const state = randomString(16);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, returnTo }));
  const query = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri(), scope: 'openid',
    code_challenge: base64url(digest), code_challenge_method: 'S256', state,
  });
  window.location.assign(`${OIDC}/auth?${query}`);
}

async function tokenRequest(fields) {
  const response = await fetch(`${OIDC}/token`, {
    method: 'POST', body: new URLSearchParams({ client_id: CLIENT_ID, ...fields }), cache: 'no-store',
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error_description || body.error || `HTTP ${response.status}`);
    error.oauth = body.error || 'server_error';
    throw error;
  }
  return body;
}

function accept(body) {
  session = { accessToken: body.access_token, refreshToken: body.refresh_token || '',
              claims: decodeClaims(body.access_token) };
  clearTimeout(refreshTimer);
  const lifetime = Number(body.expires_in) || 300;
  const wait = Math.max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2, 5);
  // With a refresh token the session is renewed before the access token expires; without one
  // the user signs in again when it does.
  refreshTimer = setTimeout(() => {
    if (session?.refreshToken) refresh().catch(() => {});
    else end('expired');
  }, wait * 1000);
}

/** Finishes the redirect from the issuer; returns the hash to show, or throws with a reason. */
export async function completeSignIn() {
  const params = new URLSearchParams(window.location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
  sessionStorage.removeItem(PENDING_KEY);
  window.history.replaceState(null, '', '/console');
  if (params.get('error')) throw new Error(params.get('error_description') || params.get('error'));
  if (!pending || !params.get('code') || params.get('state') !== pending.state) {
    throw new Error('state mismatch');
  }
  accept(await tokenRequest({
    grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri(),
    code_verifier: pending.verifier,
  }));
  armIdle();  // renewals do not count as activity: only the user's input does
  return pending.returnTo || '';
}

/** Renews the tokens with the (rotating) refresh token; one renewal at a time. */
export function refresh() {
  if (!session?.refreshToken) return Promise.reject(new Error('no refresh token'));
  refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: session.refreshToken })
    .then(accept)
    .catch((error) => { end('expired'); throw error; })
    .finally(() => { refreshing = null; });
  return refreshing;
}

function end(reason) {
  const ended = session;
  session = null;
  clearTimeout(refreshTimer);
  clearTimeout(idleTimer);
  if (ended?.refreshToken) {
    // Ends the session at the issuer too: the refresh token stops working.
    fetch(`${OIDC}/logout`, { method: 'POST', keepalive: true,
      body: new URLSearchParams({ client_id: CLIENT_ID, refresh_token: ended.refreshToken }) }).catch(() => {});
  }
  if (ended) listeners.forEach((listener) => listener(reason));
}

export const signOut = () => end('logout');

function armIdle() {
  clearTimeout(idleTimer);
  if (session) idleTimer = setTimeout(() => end('idle'), idleSeconds() * 1000);
}

ACTIVITY_EVENTS.forEach((name) => window.addEventListener(name, () => { if (session) armIdle(); },
  { passive: true, capture: true }));
