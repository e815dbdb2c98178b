/**
 * The session inspector: a side panel of the bots' sessions, read from gb_kernel/inspector.py's
 * API (`gb/api/sessions` under the Jupyter base URL, with Jupyter's token and XSRF check).
 *
 * The panel lists the most recent sessions (bot, channel, user, last activity, what each waits
 * for), newest first, filtered by bot; the selected session's variables and history show below,
 * with its actions: attach it to the current gb notebook (`%session attach ID` in its kernel),
 * send it a message, end it. It polls every POLL_MS while it is visible, so a turn made in a
 * cell, the web chat or a channel shows within seconds. Every value from the API is put in the
 * page as text (textContent), never as HTML.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Kernel, KernelMessage, ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

/** The gb kernelspec's name (gb_kernel/kernelspec.py KERNEL_NAME): Attach needs this kernel. */
export const KERNEL = 'gb';
/** How often the visible panel reads the sessions again, in milliseconds. */
export const POLL_MS = 2000;
/** How many sessions the list shows and how many messages of the selected one's history. */
const LIMIT = 50;

/** The panel's tab icon: a speech bubble. */
export const sessionsIcon = new LabIcon({
  name: 'jupyterlab-gb:sessions',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5' +
    'a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z"/></svg>'
});

/** What a session's dialog waits for (the API's `waiting`). */
export interface IWaiting {
  variable: string | null;
  type: string | null;
  choices: string[] | null;
  line: number | null;
  kind: string;
  due: string | null;
}

/** A listed session (`GET gb/api/sessions`). */
export interface ISessionRow {
  session_id: string;
  bot: string;
  channel: string;
  status: string;
  created_at: string;
  last_activity: string;
  message_count: number;
  waiting: IWaiting | null;
  address: string | null;
  user_id: string | null;
}

/** One stored message of a session's history. */
export interface IHistoryMessage {
  role: string;
  content: string;
  timestamp: string;
  channel: string;
  id: number | string;
}

/** One session with its variables and history (`GET gb/api/sessions/ID`). */
export interface ISessionDetail extends ISessionRow {
  variables: Record<string, unknown>;
  history: IHistoryMessage[];
}

/** An answer of the API that is not a 2xx: its status and its `message`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

/** The API's calls, under the Jupyter server's base URL and with its authentication. */
export class SessionsApi {
  private readonly settings = ServerConnection.makeSettings();

  /** The most recent sessions (of `bot`, or of every bot), newest first, and the bots' names. */
  async list(bot: string): Promise<{ bots: string[]; sessions: ISessionRow[] }> {
    const query = URLExt.objectToQueryString(bot ? { bot, limit: String(LIMIT) } : { limit: String(LIMIT) });
    return (await this.request('', { method: 'GET' }, query)) as { bots: string[]; sessions: ISessionRow[] };
  }

  /** One session with its variables and its last LIMIT messages. */
  async get(id: string): Promise<ISessionDetail> {
    const query = URLExt.objectToQueryString({ limit: String(LIMIT) });
    return (await this.request(encodeURIComponent(id), { method: 'GET' }, query)) as ISessionDetail;
  }

  /** A message to the session as its user; resolves once the turn is committed. */
  async send(id: string, text: string): Promise<void> {
    await this.request(`${encodeURIComponent(id)}/messages`, { method: 'POST', body: JSON.stringify({ text }) });
  }

  /** End the session. */
  async end(id: string): Promise<void> {
    await this.request(encodeURIComponent(id), { method: 'DELETE' });
  }

  private async request(path: string, init: RequestInit, query = ''): Promise<unknown> {
    const url = URLExt.join(this.settings.baseUrl, 'gb', 'api', 'sessions', path) + query;
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ApiError(0, `the Jupyter server cannot be reached: ${String(error)}`);
    }
    if (response.status === 204) {
      return null;
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const said = body && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
      throw new ApiError(response.status, `${response.status}: ${typeof said === 'string' ? said : text || response.statusText}`);
    }
    return body;
  }
}

/** What a session waits for, for people: `HEAR name (NAME)`, `HEAR topic (Sessions / Channels)`, `WAIT until 12:00:05`. */
export function describeWaiting(row: ISessionRow): string {
  if (row.status !== 'active') {
    return row.status;
  }
  const waiting = row.waiting;
  if (!waiting) {
    return 'nothing';
  }
  if (waiting.kind === 'wait') {
    return waiting.due ? `WAIT until ${new Date(waiting.due).toLocaleTimeString()}` : 'WAIT';
  }
  const what = waiting.choices && waiting.choices.length ? waiting.choices.join(' / ') : waiting.type;
  return `HEAR ${waiting.variable ?? '?'}${what ? ` (${what})` : ''}`;
}

/** How long ago `iso` was: `5 s ago`, `3 min ago`, `2 h ago`, else the local date and time. */
export function ago(iso: string, now: number = Date.now()): string {
  const when = new Date(iso);
  const seconds = Math.max(0, Math.round((now - when.getTime()) / 1000));
  if (seconds < 60) {
    return `${seconds} s ago`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.floor(seconds / 3600)} h ago`;
  }
  return when.toLocaleString();
}

/** A variable's value as text: strings as they are, anything else as JSON. */
function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** An error as one line for the panel. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A new element with these attributes and text (textContent, never HTML). */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    node.setAttribute(name, value);
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** The side panel "gb sessions" (see the module's comment). */
export class SessionsPanel extends Widget {
  private readonly api = new SessionsApi();
  private readonly botSelect = el('select', { 'data-testid': 'gb-session-bot', 'aria-label': 'Bot' });
  private readonly rows = el('tbody');
  private readonly emptyNote = el('p', { class: 'gb-Sessions-empty' }, 'No sessions yet.');
  private readonly status = el('p', { class: 'gb-Sessions-status', role: 'status', 'data-testid': 'gb-session-status' });
  private readonly error = el('p', { class: 'gb-Sessions-error', role: 'alert', 'data-testid': 'gb-sessions-error' });
  private readonly detail = el('section', { class: 'gb-Sessions-detail', 'data-testid': 'gb-session-detail' });
  private readonly heading = el('h3', { 'data-testid': 'gb-session-heading' });
  private readonly facts = el('p', { class: 'gb-Sessions-facts', 'data-testid': 'gb-session-facts' });
  private readonly vars = el('tbody');
  private readonly history = el('ol', { class: 'gb-Sessions-history', 'data-testid': 'gb-session-history' });
  private readonly attachButton = el('button', { type: 'button', class: 'jp-Button jp-mod-styled jp-mod-accept', 'data-testid': 'gb-session-attach' }, 'Attach to this notebook');
  private readonly endButton = el('button', { type: 'button', class: 'jp-Button jp-mod-styled jp-mod-warn', 'data-testid': 'gb-session-end' }, 'End session');
  private readonly input = el('input', { type: 'text', placeholder: 'A message, as the user', 'aria-label': 'Message to send', 'data-testid': 'gb-session-input' });
  private readonly sendButton = el('button', { type: 'submit', class: 'jp-Button jp-mod-styled jp-mod-accept', 'data-testid': 'gb-session-send' }, 'Send');

  private bots: string[] = [];
  private listed: ISessionRow[] = [];
  private listedKey = '';
  private detailKey = '';
  private selected: ISessionDetail | null = null;
  private selectedId: string | null = null;
  private timer: number | null = null;
  private round = 0; // the polling's generation: a read in flight when it stops schedules no more
  private busy = false;
  // The panel's error line: a failed read (cleared by the next read that works) or a failed
  // action (kept until the next action or selection, so a poll does not wipe it at once).
  private readError = '';
  private actionError = '';

  constructor(private readonly notebooks: INotebookTracker) {
    super();
    this.id = 'gb-sessions';
    this.addClass('gb-Sessions');
    this.node.dataset.testid = 'gb-sessions-panel';
    this.title.label = 'gb sessions';
    this.title.caption = 'gb sessions: the bots\' sessions, their variables and history';
    this.title.icon = sessionsIcon;
    this.build();
    notebooks.currentChanged.connect(this.updateActions, this);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.stop();
    this.notebooks.currentChanged.disconnect(this.updateActions, this);
    super.dispose();
  }

  /** Read the sessions (and the selected one) again now. */
  async refresh(): Promise<void> {
    try {
      const { bots, sessions } = await this.api.list(this.botSelect.value);
      this.showBots(bots);
      this.showRows(sessions);
      if (this.selectedId) {
        await this.loadSelected();
      }
      this.readError = '';
    } catch (error) {
      this.readError = describe(error);
    }
    this.showError();
    this.updateActions();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.start();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this.start();
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.stop();
  }

  protected onBeforeDetach(msg: Message): void {
    this.stop();
    super.onBeforeDetach(msg);
  }

  /** Poll: one read now, the next POLL_MS after it ends (reads never overlap); none while the
   * browser tab itself is hidden. */
  private start(): void {
    if (this.timer !== null || this.isDisposed) {
      return;
    }
    const round = ++this.round;
    const tick = async (): Promise<void> => {
      if (!document.hidden) {
        await this.refresh();
      }
      if (round === this.round) { // not stopped (nor stopped and started again) meanwhile
        this.timer = window.setTimeout(tick, POLL_MS);
      }
    };
    this.timer = window.setTimeout(tick, 0);
  }

  private stop(): void {
    this.round++;
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private build(): void {
    const bar = el('div', { class: 'gb-Sessions-bar' });
    const label = el('label', {}, 'Bot ');
    label.appendChild(this.botSelect);
    this.botSelect.appendChild(el('option', { value: '' }, 'all bots'));
    this.botSelect.addEventListener('change', () => void this.refresh());
    const reload = el('button', { type: 'button', class: 'jp-Button jp-mod-styled', 'data-testid': 'gb-session-refresh' }, 'Refresh');
    reload.addEventListener('click', () => void this.refresh());
    bar.append(label, reload);

    const table = el('table', { class: 'gb-Sessions-table', 'data-testid': 'gb-session-list' });
    const head = el('tr');
    for (const name of ['bot', 'channel', 'user', 'last activity', 'waits for']) {
      head.appendChild(el('th', { scope: 'col' }, name));
    }
    table.append(el('thead'), this.rows);
    table.tHead?.appendChild(head);

    const varsTable = el('table', { class: 'gb-Sessions-vars', 'data-testid': 'gb-session-vars' });
    const varsHead = el('tr');
    varsHead.append(el('th', { scope: 'col' }, 'variable'), el('th', { scope: 'col' }, 'value'));
    varsTable.append(el('thead'), this.vars);
    varsTable.tHead?.appendChild(varsHead);

    const form = el('form', { class: 'gb-Sessions-send' });
    form.append(this.input, this.sendButton);
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.send();
    });
    const actions = el('div', { class: 'gb-Sessions-actions' });
    actions.append(this.attachButton, this.endButton);
    this.attachButton.addEventListener('click', () => void this.attach());
    this.endButton.addEventListener('click', () => void this.end());

    this.detail.append(this.heading, this.facts, actions, form, el('h4', {}, 'Variables'), varsTable,
                       el('h4', {}, 'History'), this.history);
    this.detail.hidden = true;
    this.node.append(el('h2', {}, 'gb sessions'), bar, this.error, this.status, table, this.emptyNote, this.detail);
  }

  private showBots(bots: string[]): void {
    if (bots.join('\n') === this.bots.join('\n')) {
      return;
    }
    const chosen = this.botSelect.value;
    this.bots = bots;
    this.botSelect.replaceChildren(el('option', { value: '' }, 'all bots'), ...bots.map(b => el('option', { value: b }, b)));
    this.botSelect.value = bots.includes(chosen) ? chosen : '';
  }

  /** The list: rebuilt when a session changed, else only its relative times move on. */
  private showRows(sessions: ISessionRow[]): void {
    this.listed = sessions;
    const key = JSON.stringify(sessions) + '\n' + this.selectedId;
    if (key === this.listedKey) {
      this.rows.querySelectorAll<HTMLElement>('[data-time]').forEach(cell => {
        cell.textContent = ago(cell.dataset.time!);
      });
      return;
    }
    this.listedKey = key;
    this.rows.replaceChildren(...sessions.map(row => this.rowOf(row)));
    this.emptyNote.hidden = sessions.length > 0;
  }

  private rowOf(row: ISessionRow): HTMLTableRowElement {
    const tr = el('tr', {
      'data-testid': 'gb-session-row', 'data-session-id': row.session_id, 'data-status': row.status,
      tabindex: '0', 'aria-selected': String(row.session_id === this.selectedId), title: row.session_id
    });
    const user = row.address || row.user_id || '—'; // a web chat's session has neither
    const time = el('td', { 'data-time': row.last_activity, title: new Date(row.last_activity).toLocaleString() },
                    ago(row.last_activity));
    tr.append(el('td', {}, row.bot), el('td', {}, row.channel), el('td', { class: 'gb-Sessions-user' }, user), time,
              el('td', { 'data-testid': 'gb-session-waiting' }, describeWaiting(row)));
    if (row.status !== 'active') {
      tr.classList.add('gb-mod-ended');
    }
    if (row.session_id === this.selectedId) {
      tr.classList.add('jp-mod-selected');
    }
    const choose = (): void => void this.select(row.session_id);
    tr.addEventListener('click', choose);
    tr.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        choose();
      }
    });
    return tr;
  }

  private async select(id: string): Promise<void> {
    this.selectedId = id;
    this.detailKey = '';
    this.listedKey = '';
    this.status.textContent = '';
    this.actionError = '';
    this.showRows(this.listed);
    try {
      await this.loadSelected();
      this.readError = '';
    } catch (error) {
      this.readError = describe(error);
    }
    this.showError();
    this.updateActions();
  }

  private async loadSelected(): Promise<void> {
    const id = this.selectedId;
    if (!id) {
      return;
    }
    let detail: ISessionDetail;
    try {
      detail = await this.api.get(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && id === this.selectedId) {
        this.selectedId = null;
        this.selected = null;
        this.detail.hidden = true;
        this.status.textContent = `Session ${id} no longer exists.`;
        return;
      }
      throw error;
    }
    if (id !== this.selectedId) {
      return; // another session was selected meanwhile
    }
    this.selected = detail;
    this.showDetail(detail);
  }

  private showDetail(detail: ISessionDetail): void {
    this.detail.hidden = false;
    this.detail.dataset.sessionId = detail.session_id;
    this.detail.dataset.status = detail.status;
    const key = JSON.stringify(detail);
    if (key === this.detailKey) {
      return;
    }
    this.detailKey = key;
    this.heading.textContent = `${detail.bot} · ${detail.channel} · ${detail.status}`;
    const user = detail.address || detail.user_id;
    this.facts.textContent = `session ${detail.session_id}` + (user ? `, user ${user}` : '') +
      `, ${detail.message_count} messages from the user, waits for: ${describeWaiting(detail)}`;
    const variables = Object.entries(detail.variables).sort(([a], [b]) => a.localeCompare(b));
    this.vars.replaceChildren(...variables.map(([name, value]) => {
      const tr = el('tr', { 'data-variable': name });
      tr.append(el('td', { class: 'gb-Sessions-name' }, name), el('td', { class: 'gb-Sessions-value' }, show(value)));
      return tr;
    }));
    if (!variables.length) {
      const none = el('tr', { class: 'gb-Sessions-empty' });
      none.appendChild(el('td', { colspan: '2' }, 'No variables yet (SET, or a HEAR answered).'));
      this.vars.appendChild(none);
    }
    this.history.replaceChildren(...detail.history.map(message => {
      const li = el('li', { 'data-role': message.role, class: `gb-Sessions-${message.role === 'user' ? 'user' : 'bot'}Line` });
      li.append(el('span', { class: 'gb-Sessions-role', title: new Date(message.timestamp).toLocaleString() }, message.role),
                el('span', { class: 'gb-Sessions-content' }, message.content));
      return li;
    }));
    this.history.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }

  /** The current notebook's kernel, when it is a gb kernel. */
  private gbKernel(): Kernel.IKernelConnection | null {
    const kernel = this.notebooks.currentWidget?.sessionContext.session?.kernel;
    return kernel && kernel.name === KERNEL ? kernel : null;
  }

  /** Enable what the selected session and the current notebook allow. */
  private updateActions(): void {
    const active = this.selected?.status === 'active';
    const kernel = this.gbKernel();
    this.attachButton.disabled = this.busy || !active || !kernel;
    this.attachButton.title = kernel
      ? `Run %session attach in ${this.notebooks.currentWidget?.title.label ?? 'the notebook'}`
      : 'Open a notebook with the gb BASIC kernel to attach the session to it';
    this.endButton.disabled = this.busy || !active;
    this.sendButton.disabled = this.busy || !active;
    this.input.disabled = !active;
  }

  /** Run one action (busy meanwhile), show its outcome or its error, then read again. */
  private async act(action: () => Promise<string>): Promise<void> {
    this.busy = true;
    this.updateActions();
    try {
      this.status.textContent = await action();
      this.actionError = '';
    } catch (error) {
      this.status.textContent = '';
      this.actionError = describe(error);
    } finally {
      this.busy = false;
    }
    await this.refresh();
  }

  private async send(): Promise<void> {
    const id = this.selectedId;
    const text = this.input.value.trim();
    if (!id || !text) {
      return;
    }
    await this.act(async () => {
      await this.api.send(id, text);
      this.input.value = '';
      return `Sent "${text}".`;
    });
  }

  private async end(): Promise<void> {
    const id = this.selectedId;
    if (id) {
      await this.act(async () => {
        await this.api.end(id);
        return `Session ${id} ended.`;
      });
    }
  }

  /** `%session attach ID` in the current gb notebook's kernel; its printed line is the outcome. */
  private async attach(): Promise<void> {
    const id = this.selectedId;
    const kernel = this.gbKernel();
    if (!id || !kernel) {
      return;
    }
    await this.act(async () => {
      let printed = '';
      let failed = '';
      const future = kernel.requestExecute({ code: `%session attach ${id}`, store_history: false });
      future.onIOPub = (msg: KernelMessage.IIOPubMessage): void => {
        if (KernelMessage.isStreamMsg(msg)) {
          printed += msg.content.text;
        } else if (KernelMessage.isErrorMsg(msg)) {
          failed = `${msg.content.ename}: ${msg.content.evalue}`;
        }
      };
      const reply = await future.done;
      if (reply.content.status !== 'ok' || failed) {
        throw new Error(failed || `%session attach ${id} failed`);
      }
      return `${this.notebooks.currentWidget?.title.label ?? 'notebook'}: ${printed.trim() || `attached session ${id}`}`;
    });
  }

  private showError(): void {
    this.error.textContent = this.readError || this.actionError;
  }
}
