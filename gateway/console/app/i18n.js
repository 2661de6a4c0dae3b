// The console's words in zh-CN (default) and English, and locale formats through Intl.
const WORDS = {
  'zh-CN': {
    app: '工伤预防平台 · 运营控制台',
    skip: '跳到主要内容',
    nav: '主导航',
    'nav.inbox': '通知',
    'nav.accidents': '事故统计',
    language: 'English',
    'language.label': 'Switch to English',
    signOut: '退出登录',
    signIn: '登录',
    loading: '正在加载…',
    retry: '重试',
    'signedOut.title': '请登录',
    'signedOut.body': '使用平台账号和动态口令登录后即可查看通知和统计。',
    'signedOut.loggedOut': '您已退出登录。',
    'signedOut.idle': '由于 {minutes} 分钟无操作，您已被自动退出。请重新登录。',
    'signedOut.expired': '登录已过期，请重新登录。',
    'signedOut.failed': '登录未完成：{detail}。请重新登录。',
    'error.title': '无法加载数据',
    'error.network': '无法连接到平台。请检查网络后点击“重试”。',
    'error.forbidden': '您的账号无权查看此页面。如需访问，请联系本单位的平台管理员。',
    'error.server': '平台暂时无法处理请求（{status}）。请稍后点击“重试”；如果持续出现，请联系运维并提供请求编号 {requestId}。',
    'inbox.title': '通知',
    'inbox.unread': '{count} 条未读',
    'inbox.empty': '暂无通知。有新的提醒（如截止日期、整改逾期）时会显示在这里。',
    'inbox.markRead': '标为已读',
    'inbox.markReadOf': '将“{title}”标为已读',
    'inbox.read': '已读',
    'inbox.unreadMark': '未读',
    'inbox.more': '加载更多',
    'inbox.received': '收到时间',
    'accidents.title': '事故统计：按年份和严重程度',
    'accidents.scope': '统计范围',
    'accidents.national': '全国（所有省份）',
    'accidents.subtitle': '{from} 年至 {to} 年发生的有效事故记录数（不含已作废记录）',
    'accidents.empty': '所选范围内暂无事故记录。省级运营人员上报事故后，统计会显示在这里。',
    'accidents.year': '年份',
    'accidents.count': '事故数',
    'accidents.total': '合计',
    'accidents.table': '数据表：各年份按严重程度的事故数',
    'accidents.chartLabel': '按年份和严重程度堆叠的事故数柱状图；下方数据表列出相同数字',
    'severity.minor': '轻伤',
    'severity.serious': '重伤',
    'severity.fatal': '死亡',
    'role.ministry_operator': '部级运营人员',
    'role.provincial_operator': '省级运营人员',
    'notOperator': '统计页面仅向部级和省级运营人员开放。',
  },
  en: {
    app: 'Work-Injury Prevention Platform · Operator console',
    skip: 'Skip to main content',
    nav: 'Main navigation',
    'nav.inbox': 'Notifications',
    'nav.accidents': 'Accident statistics',
    language: '中文',
    'language.label': '切换到中文',
    signOut: 'Sign out',
    signIn: 'Sign in',
    loading: 'Loading…',
    retry: 'Retry',
    'signedOut.title': 'Please sign in',
    'signedOut.body': 'Sign in with your platform account and one-time code to see notifications and statistics.',
    'signedOut.loggedOut': 'You have signed out.',
    'signedOut.idle': 'You were signed out after {minutes} minutes without activity. Please sign in again.',
    'signedOut.expired': 'Your session has expired. Please sign in again.',
    'signedOut.failed': 'Sign-in did not complete: {detail}. Please sign in again.',
    'error.title': 'Could not load the data',
    'error.network': 'The platform cannot be reached. Check your network, then press “Retry”.',
    'error.forbidden': 'Your account may not see this page. Ask your organisation’s platform administrator for access.',
    'error.server': 'The platform could not handle the request ({status}). Press “Retry” in a moment; if it keeps happening, contact operations with request id {requestId}.',
    'inbox.title': 'Notifications',
    'inbox.unread': '{count} unread',
    'inbox.empty': 'No notifications yet. Reminders such as deadlines or overdue rectifications will appear here.',
    'inbox.markRead': 'Mark as read',
    'inbox.markReadOf': 'Mark “{title}” as read',
    'inbox.read': 'Read',
    'inbox.unreadMark': 'Unread',
    'inbox.more': 'Load more',
    'inbox.received': 'Received',
    'accidents.title': 'Accidents by year and severity',
    'accidents.scope': 'Scope',
    'accidents.national': 'National (all provinces)',
    'accidents.subtitle': 'Active accident records that occurred {from}–{to} (voided records excluded)',
    'accidents.empty': 'No accident records in this scope. Figures appear here once provincial operators report accidents.',
    'accidents.year': 'Year',
    'accidents.count': 'Accidents',
    'accidents.total': 'Total',
    'accidents.table': 'Data table: accidents per year by severity',
    'accidents.chartLabel': 'Stacked bar chart of accidents per year by severity; the table below lists the same figures',
    'severity.minor': 'Minor',
    'severity.serious': 'Serious',
    'severity.fatal': 'Fatal',
    'role.ministry_operator': 'Ministry operator',
    'role.provincial_operator': 'Provincial operator',
    'notOperator': 'Statistics are open to ministry and provincial operators only.',
  },
};

const STORAGE_KEY = 'prevention-console-locale';  // a preference, never a credential
let current = 'zh-CN';
try {
  const saved = window.localStorage.getItem(STORAGE_KEY);
  if (saved && saved in WORDS) current = saved;
} catch { /* storage may be disabled; zh-CN stays */ }

export const locale = () => current;

export function setLocale(value) {
  current = value in WORDS ? value : 'zh-CN';
  document.documentElement.lang = current;
  try { window.localStorage.setItem(STORAGE_KEY, current); } catch { /* not kept */ }
}

export function t(key, vars = {}) {
  const text = WORDS[current][key] ?? WORDS['zh-CN'][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

export const formatNumber = (n) => new Intl.NumberFormat(current).format(n);

export const formatDateTime = (iso) => new Intl.DateTimeFormat(current, {
  dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Shanghai',
}).format(new Date(iso));

// Years as plain labels: grouping separators would read "2,025".
export const formatYear = (year) => new Intl.NumberFormat(current, { useGrouping: false }).format(year);
