/* The browser script; uPlot comes from /assets/uPlot.iife.min.js. */
// The kappa dashboard: polls the API every 2 s and draws, per shown version, events per user per
// window. During a recovery the serving version and the newest other one are shown side by side.
(function () {
  'use strict';
  const COLORS = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#e8590c', '#1098ad', '#5c940d', '#c2255c'];
  const charts = new Map();

  async function json(url) {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  function shown(versions) {
    const serving = versions.find((version) => version.serving);
    const others = versions.filter((version) => !version.serving && version.state !== 'retired');
    const newest = others[others.length - 1];
    const picked = [serving, newest].filter(Boolean);
    return picked.length > 0 ? picked : versions.slice(-1);
  }

  function renderVersions(versions) {
    const body = document.querySelector('#versions tbody');
    body.replaceChildren(
      ...versions.map((version) => {
        const row = document.createElement('tr');
        if (version.serving) row.className = 'serving';
        const cells = [
          version.version,
          version.state,
          String(version.lag),
          version.watermark ?? '–',
          String(version.lateEvents),
          `${version.settings.sizeMs / 1000} s / ${version.settings.delayMs / 1000} s`,
        ];
        row.replaceChildren(...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
        return row;
      }),
    );
  }

  /** rows → uPlot data: x = window starts (seconds), one series per user. */
  function toData(rows) {
    const starts = [...new Set(rows.map((row) => Date.parse(row.window_start) / 1000))].sort((a, b) => a - b);
    const users = [...new Set(rows.map((row) => row.key))].sort();
    const index = new Map(starts.map((start, position) => [start, position]));
    const series = users.map(() => starts.map(() => null));
    for (const row of rows) series[users.indexOf(row.key)][index.get(Date.parse(row.window_start) / 1000)] = row.count;
    return { users, data: [starts, ...series] };
  }

  function draw(version, rows) {
    const { users, data } = toData(rows);
    const key = `${version}:${users.join('|')}`;
    let entry = charts.get(version);
    if (entry === undefined || entry.key !== key) {
      entry?.plot.destroy();
      entry?.box.remove();
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.version = version;
      box.append(Object.assign(document.createElement('h2'), { textContent: `events_users_${version}` }));
      document.querySelector('#charts').append(box);
      const options = {
        width: 640,
        height: 300,
        scales: { x: { time: true } },
        series: [
          {},
          ...users.map((user, position) => ({
            label: user,
            stroke: COLORS[position % COLORS.length],
            width: 2,
            points: { show: true },
          })),
        ],
        axes: [{}, { label: 'events per window' }],
      };
      entry = { key, box, plot: new uPlot(options, data, box) };
      charts.set(version, entry);
    } else {
      entry.plot.setData(data);
    }
    entry.box.dataset.points = String(rows.length);
  }

  async function refresh() {
    const status = document.querySelector('#status');
    try {
      const { versions } = await json('/api/versions');
      renderVersions(versions);
      const wanted = shown(versions);
      for (const [version, entry] of charts) {
        if (!wanted.some((shownVersion) => shownVersion.version === version)) {
          entry.plot.destroy();
          entry.box.remove();
          charts.delete(version);
        }
      }
      for (const version of wanted) {
        const { rows } = await json(`/api/windows/users?version=${encodeURIComponent(version.version)}&limit=2000`);
        draw(version.version, rows);
      }
      status.textContent = versions.length === 0 ? 'no job versions yet' : `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      status.textContent = `waiting for the API: ${error.message}`;
    }
  }

  refresh();
  setInterval(refresh, 2000);
})();
