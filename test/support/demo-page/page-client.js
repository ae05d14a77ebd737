// The demo page's browser side: polls /demo/view, swaps in the HTML the server rendered (escaped there), and sends
// clicks, modal submissions, fired alerts and slash commands back. Text from the server is only ever set with
// textContent/value here; innerHTML receives nothing but the server's rendered HTML.

(() => {
  const POLL_MS = 600;
  const $ = (id) => document.getElementById(id);
  const shown = { channels: '', modalKey: '', runbooks: '', hosts: '', users: '' };
  let user = localStorage.getItem('demo.user') || '';
  let runbooks = [];
  let toastTimer;
  // The conversation (its first message's ts) the person last clicked in: new replies there are scrolled to.
  let reading = '';

  function toast(text) {
    const el = $('toast');
    el.textContent = text;
    el.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => el.classList.remove('show'), 6000);
  }

  async function post(path, body) {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    let answer;
    try {
      answer = await res.json();
    } catch {
      answer = { ok: false, error: `HTTP ${res.status}` };
    }
    if (!answer.ok) throw new Error(answer.error || `HTTP ${res.status}`);
    return answer;
  }

  async function refresh() {
    let view;
    try {
      const res = await fetch(`/demo/view?user=${encodeURIComponent(user)}`, { cache: 'no-store' });
      view = await res.json();
    } catch {
      return; // the stand-in is restarting or gone; the next poll tries again
    }
    user = view.user;
    renderUsers(view.users);
    renderHosts(view.hosts);
    renderRunbooks(view.runbooks);
    $('command-title').textContent = `Slash command ${view.command}`;
    if (view.channelsHtml !== shown.channels) {
      const main = document.querySelector('main');
      const atBottom = main.scrollHeight - main.scrollTop - main.clientHeight < 80;
      const before = new Set([...document.querySelectorAll('#channels article[data-ts]')].map((a) => a.dataset.ts));
      $('channels').innerHTML = view.channelsHtml;
      shown.channels = view.channelsHtml;
      // A new reply (or an answer only you see) in the conversation being read is brought into view; elsewhere the
      // page follows the bottom only if it was there.
      const conversation = reading && document.querySelector(`[data-conversation="${CSS.escape(reading)}"]`);
      const fresh = conversation
        ? [...conversation.querySelectorAll('article[data-ts]')].filter((a) => !before.has(a.dataset.ts))
        : [];
      if (before.size && fresh.length) fresh[fresh.length - 1].scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      else if (atBottom) main.scrollTop = main.scrollHeight;
    }
    const modalKey = view.modal ? view.modal.key : '';
    // Re-rendering an unchanged modal would wipe what the person is typing.
    if (modalKey !== shown.modalKey) {
      $('modal-root').innerHTML = view.modal ? view.modal.html : '';
      shown.modalKey = modalKey;
      const first = document.querySelector('.modal input, .modal textarea, .modal select');
      if (first) first.focus();
    }
  }

  function renderUsers(users) {
    const key = JSON.stringify(users) + user;
    if (key === shown.users) return;
    shown.users = key;
    const select = $('user');
    select.textContent = '';
    for (const u of users) {
      const option = document.createElement('option');
      option.value = u.id;
      option.textContent = `${u.name} (${u.role})`;
      option.selected = u.id === user;
      select.appendChild(option);
    }
  }

  function renderHosts(hosts) {
    const key = JSON.stringify(hosts);
    if (key === shown.hosts) return;
    shown.hosts = key;
    const el = $('hosts');
    el.className = `hosts ${hosts.ready ? 'ready' : 'missing'}`;
    el.textContent = hosts.ready ? '✅ running' : '⚠️ not running';
    if (hosts.message) {
      const pre = document.createElement('pre');
      pre.textContent = hosts.message;
      el.appendChild(pre);
    }
  }

  function renderRunbooks(list) {
    const key = JSON.stringify(list);
    if (key === shown.runbooks) return;
    const first = !shown.runbooks;
    shown.runbooks = key;
    runbooks = list;
    const names = $('runbook-names');
    const ul = $('runbooks');
    names.textContent = '';
    ul.textContent = '';
    for (const r of list) {
      const option = document.createElement('option');
      option.value = r.alertname;
      names.appendChild(option);
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = r.alertname;
      button.title = `labels: ${(r.labels || []).join(', ') || 'none declared'}`;
      button.addEventListener('click', () => chooseRunbook(r.alertname));
      li.appendChild(button);
      ul.appendChild(li);
    }
    if (!list.length) {
      const li = document.createElement('li');
      li.textContent = 'none loaded';
      ul.appendChild(li);
    }
    if (first && list.length && !$('alertname').value) chooseRunbook(list[0].alertname);
  }

  /** Fills the label rows with the runbook's label names and example values. */
  function chooseRunbook(alertname) {
    $('alertname').value = alertname;
    const r = runbooks.find((x) => x.alertname === alertname);
    if (!r) return;
    const example = r.example || {};
    const names = [...new Set([...(r.labels || []), ...Object.keys(example)])].filter((n) => n !== 'alertname');
    $('labels').textContent = '';
    for (const name of names) addLabelRow(name, example[name] || '');
    if (!names.length) addLabelRow('', '');
  }

  function addLabelRow(name, value) {
    const row = document.createElement('div');
    row.className = 'label-row';
    const n = document.createElement('input');
    n.className = 'label-name';
    n.placeholder = 'name';
    n.value = name;
    n.setAttribute('aria-label', 'label name');
    const v = document.createElement('input');
    v.className = 'label-value';
    v.placeholder = 'value';
    v.value = value;
    v.setAttribute('aria-label', name ? `label ${name}` : 'label value');
    n.addEventListener('input', () => v.setAttribute('aria-label', `label ${n.value}`));
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = '×';
    remove.title = 'remove label';
    remove.addEventListener('click', () => row.remove());
    row.append(n, v, remove);
    $('labels').appendChild(row);
  }

  async function clickButton(button) {
    const d = button.dataset;
    const conversation = button.closest('[data-conversation]');
    if (conversation) reading = conversation.dataset.conversation;
    if (d.url) window.open(d.url, '_blank', 'noopener');
    button.classList.add('busy');
    try {
      await post('/demo/click', {
        user,
        channel: d.channel,
        messageTs: d.messageTs,
        actionId: d.actionId,
        blockId: d.blockId,
        value: d.value,
        ephemeral: d.ephemeral === '1',
      });
    } catch (err) {
      toast(`Click not delivered: ${err.message}`);
    } finally {
      button.classList.remove('busy');
      refresh();
    }
  }

  async function submitModal(form) {
    const values = {};
    for (const [name, value] of new FormData(form)) (values[name] = values[name] || []).push(String(value));
    form.querySelectorAll('.bk-error, .modal-error').forEach((el) => (el.textContent = ''));
    try {
      const answer = await post('/demo/submit', { user, viewId: form.dataset.viewId, values });
      for (const [index, message] of Object.entries(answer.errors || {})) {
        const el =
          index === 'form'
            ? form.querySelector('.modal-error')
            : form.querySelector(`[data-error-for="${CSS.escape(index)}"]`);
        if (el) el.textContent = message;
      }
    } catch (err) {
      form.querySelector('.modal-error').textContent = err.message;
    }
    refresh();
  }

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target?.closest('button[data-action-id]');
    if (button) return void clickButton(button);
    const close = target?.closest('[data-modal-close]');
    if (close) {
      const form = close.closest('form');
      post('/demo/close', { viewId: form.dataset.viewId })
        .catch((err) => toast(err.message))
        .finally(refresh);
    }
  });

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    event.preventDefault();
    if (form.classList.contains('modal')) return void submitModal(form);
    if (form.id === 'fire-form') return void fireAlert();
    if (form.id === 'slash-form') return void slashCommand();
  });

  async function fireAlert() {
    const labels = {};
    for (const row of $('labels').querySelectorAll('.label-row')) {
      const name = row.querySelector('.label-name').value.trim();
      if (name) labels[name] = row.querySelector('.label-value').value;
    }
    const status = document.querySelector('input[name=status]:checked').value;
    const alertname = $('alertname').value.trim();
    const result = $('fire-result');
    result.textContent = 'firing…';
    try {
      await post('/demo/fire', { alertname, labels, status });
      result.textContent = `${status === 'firing' ? 'Fired' : 'Resolved'} ${alertname} at ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      result.textContent = `Not fired: ${err.message}`;
    }
    refresh();
  }

  async function slashCommand() {
    try {
      await post('/demo/slash', { user, text: $('slash-text').value });
    } catch (err) {
      toast(`Command not delivered: ${err.message}`);
    }
    refresh();
  }

  $('user').addEventListener('change', (event) => {
    user = event.target.value;
    localStorage.setItem('demo.user', user);
    refresh();
  });
  $('alertname').addEventListener('change', (event) => chooseRunbook(event.target.value));
  $('add-label').addEventListener('click', () => addLabelRow('', ''));

  refresh();
  setInterval(refresh, POLL_MS);
})();
