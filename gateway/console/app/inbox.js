// The user's notification inbox: GET /v1/notifications (newest first, paged) and
// POST /v1/notifications/{id}/read.
import { api } from './api.js';
import { emptyState, errorState, h, loading } from './dom.js';
import { formatDateTime, formatNumber, t } from './i18n.js';

export async function renderInbox(section, { isCurrent }) {
  const heading = h('h1', { tabindex: '-1' }, t('inbox.title'));
  const summary = h('p', { class: 'muted', id: 'unread-count', 'aria-live': 'polite' });
  const list = h('ul', { class: 'inbox', 'aria-labelledby': 'inbox-heading' });
  heading.id = 'inbox-heading';
  const body = h('div', {}, loading());
  section.replaceChildren(heading, summary, body);
  let unread = 0;

  const showUnread = () => {
    summary.textContent = t('inbox.unread', { count: formatNumber(unread) });
  };

  function item(n) {
    const li = h('li', { class: n.read_time ? 'read' : 'unread', 'data-id': n.id },
      h('h2', {}, n.title),
      h('p', { class: 'meta' },
        `${n.read_time ? t('inbox.read') : t('inbox.unreadMark')} · ${t('inbox.received')} `,
        h('time', { datetime: n.create_time }, formatDateTime(n.create_time))),
      n.body ? h('p', {}, n.body) : '');
    if (!n.read_time) {
      const button = h('button', { type: 'button', class: 'secondary mark-read',
        'aria-label': t('inbox.markReadOf', { title: n.title }) }, t('inbox.markRead'));
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          const updated = await api(`/v1/notifications/${encodeURIComponent(n.id)}/read`, { method: 'POST' });
          unread = Math.max(unread - 1, 0);
          showUnread();
          const replacement = item(updated);
          li.replaceWith(replacement);
          replacement.querySelector('h2').setAttribute('tabindex', '-1');
          replacement.querySelector('h2').focus();
        } catch (error) {
          button.disabled = false;
          li.append(errorState(error, () => button.click()));
        }
      });
      li.append(button);
    }
    return li;
  }

  async function load(pageToken = '') {
    const query = new URLSearchParams({ page_size: '20' });
    if (pageToken) query.set('page_token', pageToken);
    const page = await api(`/v1/notifications?${query}`);
    if (!isCurrent()) return;
    unread = page.unread_count;
    showUnread();
    list.append(...page.notifications.map(item));
    body.replaceChildren(list.children.length ? list : emptyState(t('inbox.empty')));
    if (page.next_page_token) {
      const more = h('button', { type: 'button', class: 'secondary', id: 'inbox-more' }, t('inbox.more'));
      more.addEventListener('click', () => { more.remove(); load(page.next_page_token).catch(fail); });
      body.append(more);
    }
  }

  function fail(error) {
    if (isCurrent()) body.replaceChildren(errorState(error, () => renderInbox(section, { isCurrent })));
  }

  await load().catch(fail);
}
